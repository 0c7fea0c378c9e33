"""A step schedule whose milestones are fractions of its span, so it follows the run's length.

mmengine's ``MultiStepLR`` takes absolute milestones: Mask R-CNN's 100-epoch LSJ schedule decays at
iterations 163,889 and 177,546 of 184,375. A run made shorter or longer by overriding
``train_cfg.max_iters`` alone would keep them, and decay late or never. Here the config gives
``milestone_fractions``; the milestones are placed at ``begin + floor((end - begin) * f)`` once
``end`` is known: the config's, or, when the config leaves it out, the Runner's default (the train
loop's ``max_iters`` / ``max_epochs``). Flooring reproduces the published milestones: 163,889 and
177,546 of 184,375 for ViT-B/L, 122,916 and 133,159 of the 75-epoch ViT-H run's 138,281.
"""
import math
from typing import Sequence

from mmengine.optim.scheduler.lr_scheduler import MultiStepLR
from mmengine.optim.scheduler.param_scheduler import INF

from mae_mm.registry import PARAM_SCHEDULERS

# (end - begin) * f is computed in floating point: 184375 * (163889 / 184375) may land a hair
# below 163889; a milestone is never meant to sit this close below an integer otherwise.
_ROUNDING_SLACK = 1e-9


def milestones_at(fractions: Sequence[float], begin: int, end: int) -> list:
    """The absolute milestones of ``fractions`` of the span ``[begin, end)``, in order."""
    return [begin + math.floor((end - begin) * f + _ROUNDING_SLACK) for f in fractions]


@PARAM_SCHEDULERS.register_module()
class FractionalMultiStepLR(MultiStepLR):
    """``MultiStepLR`` with ``milestone_fractions`` (each in (0, 1), increasing) instead of milestones.

    Args:
        optimizer: the optimizer wrapper (or optimizer) whose lr is scheduled.
        milestone_fractions: where the lr is multiplied by ``gamma``, as fractions of ``end - begin``.
        gamma: the factor at each milestone.
        begin, end, by_epoch, last_step, verbose: as mmengine's ``MultiStepLR``; ``end`` must be
            finite (leave it out of the config and the Runner sets it to the run's length).
    """

    def __init__(self, optimizer, milestone_fractions: Sequence[float], gamma: float = 0.1, begin: int = 0,
                 end: int = INF, by_epoch: bool = True, last_step: int = -1, verbose: bool = False):
        fractions = [float(f) for f in milestone_fractions]
        if not fractions or any(not 0 < f < 1 for f in fractions) or fractions != sorted(fractions):
            raise ValueError(f'FractionalMultiStepLR: milestone_fractions must be increasing fractions in (0, 1), '
                             f'got {list(milestone_fractions)}')
        if end == INF:
            raise ValueError('FractionalMultiStepLR needs a finite end: leave `end` out of the config (the Runner '
                             'then sets it to train_cfg.max_iters / max_epochs) or give it')
        self.milestone_fractions = fractions
        super().__init__(optimizer, milestones=milestones_at(fractions, begin, end), gamma=gamma, begin=begin,
                         end=end, by_epoch=by_epoch, last_step=last_step, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, begin=0, end=INF, by_epoch=True, epoch_length=None, **kwargs):
        """The iteration-based instance of an epoch-based config (``convert_to_iter_based=True``):
        the span is converted, the fractions stay."""
        if not by_epoch or not epoch_length or epoch_length <= 0:
            raise ValueError(f'convert_to_iter_based needs by_epoch=True and a positive epoch_length, '
                             f'got by_epoch={by_epoch}, epoch_length={epoch_length}')
        end = end if end == INF else int(end * epoch_length)
        return cls(*args, begin=int(begin * epoch_length), end=end, by_epoch=False, **kwargs)
