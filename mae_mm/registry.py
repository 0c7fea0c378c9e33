"""The package's own registries (scope ``mae_mm``), children of mmengine's.

A config of any host toolbox builds our classes as ``type='mae_mm.<Name>'``; with
``default_scope='mae_mm'`` the bare names resolve, and anything not found here falls
back to mmengine's root registries.
"""
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry

SCOPE = 'mae_mm'

MODELS = Registry('model', parent=MMENGINE_MODELS, scope=SCOPE, locations=['mae_mm.models'])
DATASETS = Registry('dataset', parent=MMENGINE_DATASETS, scope=SCOPE, locations=['mae_mm.datasets'])
TRANSFORMS = Registry('transform', parent=MMENGINE_TRANSFORMS, scope=SCOPE, locations=['mae_mm.datasets'])
METRICS = Registry('metric', parent=MMENGINE_METRICS, scope=SCOPE, locations=['mae_mm.evaluation'])
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope=SCOPE, locations=['mae_mm.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope=SCOPE, locations=['mae_mm.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor', parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS, scope=SCOPE,
    locations=['mae_mm.engine'])


def build_model(cfg):
    """Builds a sub-module from ``cfg`` in this package's scope, whatever the default scope.

    mmengine resolves string types through the *current* default scope, so a module of ours
    built inside an mmdet or mmseg model would otherwise look its children up there. Types
    written with another scope prefix (``'mmdet.X'``) still resolve to that toolbox.
    """
    cfg = dict(cfg)
    cfg.setdefault('_scope_', SCOPE)
    return MODELS.build(cfg)
