"""The optimizer wrappers of a run, one list whether the runner has one or an ``OptimWrapperDict``,
and the accumulation they step with."""


def optim_wrappers(optim_wrapper) -> list:
    """The members of an ``OptimWrapperDict`` (``runner.optim_wrapper`` of a model with several
    optimizers), or ``[optim_wrapper]``."""
    return list(optim_wrapper.values()) if hasattr(optim_wrapper, 'optim_wrappers') else [optim_wrapper]


def accumulation(runner) -> int:
    """``optim_wrapper.accumulative_counts`` of ``runner``'s (first) optimizer wrapper; 1 without one."""
    wrappers = optim_wrappers(runner.optim_wrapper) if getattr(runner, 'optim_wrapper', None) is not None else []
    return int(getattr(wrappers[0], '_accumulative_counts', 1)) if wrappers else 1
