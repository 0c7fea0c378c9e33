"""The optimizer wrappers of a run, one list whether the runner has one or an ``OptimWrapperDict``."""


def optim_wrappers(optim_wrapper) -> list:
    """The members of an ``OptimWrapperDict`` (``runner.optim_wrapper`` of a model with several
    optimizers), or ``[optim_wrapper]``."""
    return list(optim_wrapper.values()) if hasattr(optim_wrapper, 'optim_wrappers') else [optim_wrapper]
