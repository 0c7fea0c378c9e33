"""The package's own registries (scope ``mae_mm``), children of mmengine's.

A config of any host toolbox builds our classes as ``type='mae_mm.<Name>'``; with
``default_scope='mae_mm'`` the bare names resolve, and anything not found here falls
back to mmengine's root registries.

mmengine imports every ``locations`` entry at a registry's first lookup; ``import mae_mm`` is
lazy (it registers nothing by itself), so every registry we register into names its modules
here. The locations name only modules that import no toolbox (``mae_mm.models`` leaves out ``models.det`` and
``models.seg``). The classes of those, and of the GPU decode path, are registered when a config
lists their module in ``custom_imports``.
"""
from mmengine import registry as root
from mmengine.registry import Registry

SCOPE = 'mae_mm'


def _child(parent: Registry, locations=()) -> Registry:
    return Registry(parent.name, parent=parent, scope=SCOPE, locations=list(locations))


MODELS = _child(root.MODELS, ['mae_mm.models'])
METRICS = _child(root.METRICS, ['mae_mm.evaluation'])
HOOKS = _child(root.HOOKS, ['mae_mm.engine'])
OPTIM_WRAPPERS = _child(root.OPTIM_WRAPPERS, ['mae_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = _child(root.OPTIM_WRAPPER_CONSTRUCTORS, ['mae_mm.engine'])
DATASETS = _child(root.DATASETS, ['mae_mm.datasets'])
TRANSFORMS = _child(root.TRANSFORMS, ['mae_mm.datasets'])
# The rest of mmengine's tree, so that every lookup under default_scope='mae_mm' finds its
# registry here (and falls back to mmengine's) instead of warning about a missing scope.
RUNNERS = _child(root.RUNNERS)
RUNNER_CONSTRUCTORS = _child(root.RUNNER_CONSTRUCTORS)
LOOPS = _child(root.LOOPS, ['mae_mm.engine'])
LOG_PROCESSORS = _child(root.LOG_PROCESSORS)
OPTIMIZERS = _child(root.OPTIMIZERS)
PARAM_SCHEDULERS = _child(root.PARAM_SCHEDULERS, ['mae_mm.engine'])
DATA_SAMPLERS = _child(root.DATA_SAMPLERS, ['mae_mm.datasets'])
MODEL_WRAPPERS = _child(root.MODEL_WRAPPERS, ['mae_mm.parallel'])
WEIGHT_INITIALIZERS = _child(root.WEIGHT_INITIALIZERS)
EVALUATOR = _child(root.EVALUATOR)
VISUALIZERS = _child(root.VISUALIZERS)
VISBACKENDS = _child(root.VISBACKENDS)
TASK_UTILS = _child(root.TASK_UTILS)
FUNCTIONS = _child(root.FUNCTIONS)


def build_model(cfg):
    """Builds a sub-module from ``cfg`` in this package's scope, whatever the default scope.

    mmengine resolves string types through the *current* default scope, so a module of ours
    built inside an mmdet or mmseg model would otherwise look its children up there. Types
    written with another scope prefix (``'mmdet.X'``) still resolve to that toolbox.
    """
    cfg = dict(cfg)
    cfg.setdefault('_scope_', SCOPE)
    return MODELS.build(cfg)
