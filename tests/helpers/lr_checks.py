"""The lr a run trained with, read back from its scalars.json, against closed forms.

Logged at step k (1-based) is the lr iteration k trained with, i.e. the schedule at 0-based step k - 1.
"""
import pytest

from conftest import read_scalars, scalars_by_step

EVERY_ITERATION = 'default_hooks.logger.interval=1'  # a --cfg-options item: log each lr (the schedule is unchanged)


def logged_lr(work_dir, key='lr'):
    """{0-based step: lr it trained with} from the run's scalars.json: ``'lr'``, the first parameter
    group's, or ``'base_lr'``, the schedule's before any per-group scale (layer-wise lr decay)."""
    return {step - 1: lr for step, lr in scalars_by_step(read_scalars(work_dir), key).items()}


def check_warmup(lr, warmup_steps, start_factor):
    """The warmup ramps linearly from start_factor x peak to the peak at its last step; returns the peak."""
    peak = lr[warmup_steps - 1]
    assert lr[0] == pytest.approx(start_factor * peak, rel=1e-5)
    mid = warmup_steps // 2
    assert lr[mid] == pytest.approx(peak * (start_factor + (1 - start_factor) * mid / (warmup_steps - 1)), rel=1e-5)
    return peak


def check_points(lr, expected, steps):
    """lr[step] == expected(step) at each of ``steps``."""
    for step in steps:
        assert lr[step] == pytest.approx(expected(step), rel=1e-4, abs=1e-12), f'step {step}'
