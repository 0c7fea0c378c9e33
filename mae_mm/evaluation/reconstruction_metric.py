"""The masked reconstruction loss as an mmengine metric, for evaluating pretraining checkpoints."""
from typing import Sequence

import torch
from mmengine.evaluator import BaseMetric

from mae_mm.registry import METRICS


@METRICS.register_module()
class MaskedReconstructionMetric(BaseMetric):
    """Averages the per-image ``recon_loss`` that :class:`MaskedAutoencoder` predicts.

    The model masks with noise from a fixed seed in ``predict`` mode, so the figure is
    repeatable for a given checkpoint and data set; lower is better. Reported as ``recon/mse``
    (in the loss's target space): mmengine's log processor would smooth any val metric whose
    name contains "loss" over past evaluations.
    """

    default_prefix = 'recon'

    def process(self, data_batch, data_samples: Sequence) -> None:
        for sample in data_samples:
            value = sample['recon_loss'] if isinstance(sample, dict) else sample.recon_loss
            self.results.append(float(torch.as_tensor(value)))

    def compute_metrics(self, results: list) -> dict:
        return dict(mse=sum(results) / max(len(results), 1))
