"""Our registries: own scope, no clashes with the host toolboxes, buildable from their scopes."""
import pytest
import torch
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
import mae_mm.datasets.gpu_decode  # noqa: F401  (the modules configs import on demand: their names too)
import mae_mm.models.det  # noqa: F401
import mae_mm.models.mae.jpeg_decode_preprocessor  # noqa: F401
import mae_mm.models.seg  # noqa: F401
from mae_mm import registry as ours


def host_registry_names():
    """Every name mmpretrain, mmdet and mmseg register, per registry kind."""
    import mmdet.registry
    import mmpretrain.registry
    import mmseg.registry
    names = {}
    for module, scope in ((mmpretrain.registry, 'mmpretrain'), (mmdet.registry, 'mmdet'), (mmseg.registry, 'mmseg')):
        for attr in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'HOOKS', 'OPTIM_WRAPPERS',
                     'OPTIM_WRAPPER_CONSTRUCTORS'):
            reg = getattr(module, attr, None)
            if reg is None:
                continue
            reg.import_from_location()
            names.setdefault(attr, set()).update(reg.module_dict)
    return names


def test_our_registries_are_children_of_mmengine_in_our_scope():
    assert ours.MODELS.scope == 'mae_mm'
    assert ours.MODELS.parent.scope == 'mmengine'
    for name in ('MaskedAutoencoder', 'MAEEncoder', 'MAEDecoder', 'MaskedPixelLoss', 'PlainViT'):
        assert ours.MODELS.get(name) is not None, name


def test_renamed_registered_names_still_build_the_same_class():
    """The README and older configs name the optimizer wrapper ``LeanOptimWrapper``."""
    from mae_mm.engine import SkipNonFiniteOptimWrapper
    assert ours.OPTIM_WRAPPERS.get('LeanOptimWrapper') is SkipNonFiniteOptimWrapper
    assert ours.OPTIM_WRAPPERS.get('mae_mm.SkipNonFiniteOptimWrapper') is SkipNonFiniteOptimWrapper


def test_no_name_clashes_with_host_toolboxes():
    host = host_registry_names()
    assert ours.MODELS.module_dict and ours.METRICS.module_dict and ours.OPTIM_WRAPPERS.module_dict
    for attr in host:
        mine = set(getattr(ours, attr).module_dict)
        clash = mine & host[attr]
        assert not clash, f'{attr}: {sorted(clash)} also registered by a host toolbox'


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg', 'mmpretrain'])
def test_host_scopes_build_our_model_and_its_string_built_children(scope):
    from mmengine.registry import MODELS as ROOT
    init_default_scope(scope)
    try:
        model = ROOT.build(dict(
            type='mae_mm.MaskedAutoencoder',
            encoder=dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8),
            decoder=dict(type='MAEDecoder', embed_dim=32, depth=1, num_heads=2)))
        assert type(model).__module__.startswith('mae_mm')
        assert model.loss(torch.randn(1, 3, 32, 32))['loss'].isfinite()
    finally:
        DefaultScope._instance_dict.clear()
