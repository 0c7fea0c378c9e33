"""mmengine's visualiser backends by name, for ``tools/train.py --vis``."""
import importlib
from typing import Dict, List

# name -> (mmengine backend, the module it imports, the extra of setup.py that installs it)
VIS_BACKENDS = {
    'local': (None, None, None),
    'tensorboard': ('TensorboardVisBackend', 'torch.utils.tensorboard', 'tensorboard'),
    'wandb': ('WandbVisBackend', 'wandb', 'wandb'),
}


def vis_backend_configs(name: str) -> List[Dict]:
    """The ``visualizer.vis_backends`` list for ``name``: mmengine's LocalVisBackend (scalars.json
    and the PNGs under vis_data/ are always written) plus the named one.

    Raises:
        ValueError: ``name`` is not one of :data:`VIS_BACKENDS`.
        ImportError: the backend's package is missing, naming the ``pip install -e .[extra]`` that
            installs it (mmengine would only fail at the first scalar, after the model is built).
    """
    if name not in VIS_BACKENDS:
        raise ValueError(f'--vis {name!r}: expected one of {sorted(VIS_BACKENDS)}')
    backend, module, extra = VIS_BACKENDS[name]
    backends = [dict(type='LocalVisBackend')]
    if backend is None:
        return backends
    try:
        importlib.import_module(module)
    except ImportError as err:
        raise ImportError(f'--vis {name} needs the {extra} package, which does not import here ({err}); '
                          f'install it with: pip install -e .[{extra}]') from err
    return backends + [dict(type=backend)]
