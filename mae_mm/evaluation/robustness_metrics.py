"""Robustness metrics of a classifier, each on the samples of one data set of the robustness
evaluation (``domain``, set by :mod:`mae_mm.datasets.robustness`), so that one evaluator over the
concatenated sets reports them all.

- :class:`DomainTop1`: top-1 (%) over the classifier's classes, or over a subset of them, the
  scores of the other classes dropped before the argmax: ImageNet-A and ImageNet-R are scored on
  their 200 classes this way (Hendrycks et al., "Natural Adversarial Examples", CVPR 2021, and
  "The Many Faces of Robustness", ICCV 2021). The subset's indices are looked up in the
  classifier's own class list (the data set's ``classes``).
- :class:`CorruptionError`: ImageNet-C's top-1 error per corruption and severity, the corruption
  error CE and the mCE (:mod:`.imagenet_c_reference`), or plain mean errors without a normaliser.
"""
import math
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmpretrain.evaluation import Accuracy

from mae_mm.registry import METRICS
from .imagenet_c_reference import ALEXNET_TOP1_ERROR, BENCHMARK_CORRUPTIONS, EXTRA_CORRUPTIONS, SEVERITIES


def subset_indices(classes: Sequence[str], subset: Sequence[str]) -> List[int]:
    """The positions of ``subset`` in the classifier's ``classes``; refuses names it lacks."""
    index = {name: i for i, name in enumerate(classes)}
    missing = [name for name in subset if name not in index]
    if missing:
        raise ValueError(f'the classifier\'s {len(classes)} classes lack {len(missing)} of the subset\'s: '
                         f'{missing[:5]}{" ..." if len(missing) > 5 else ""}')
    return [index[name] for name in subset]


def restricted_top1(scores: torch.Tensor, labels: torch.Tensor, indices: Optional[Sequence[int]]) -> float:
    """Top-1 (%) of ``scores`` (N, C) against ``labels`` (N,) (indices into the C classes), the
    argmax taken over the columns ``indices`` only (all C when None). Every label must be one of them."""
    if indices is None:
        return float(Accuracy.calculate(scores, labels, topk=(1,))[0][0])  # [top-k][threshold]
    columns = torch.as_tensor(list(indices), dtype=torch.long)
    position = torch.full((scores.shape[1],), -1, dtype=torch.long)
    position[columns] = torch.arange(len(columns))
    targets = position[labels]
    if (targets < 0).any():
        raise ValueError(f'labels {labels[targets < 0].unique().tolist()} are outside the scored subset')
    return float(Accuracy.calculate(scores[:, columns], targets, topk=(1,))[0][0])


class _DomainMetric(BaseMetric):
    """Keeps the samples whose ``domain`` is this metric's; reports under ``prefix`` (the domain)."""

    def __init__(self, domain: str, prefix: Optional[str] = None, collect_device: str = 'cpu') -> None:
        super().__init__(collect_device=collect_device, prefix=prefix or domain)
        self.domain = domain

    def _mine(self, data_samples: Sequence[dict]) -> List[dict]:
        return [s for s in data_samples if s.get('domain') == self.domain]


@METRICS.register_module()
class DomainTop1(_DomainMetric):
    """Top-1 (%) on the samples of ``domain``, over the classes named by ``subset`` (None: all).

    Args:
        domain: The data set's name (``imagenet-a``, ``imagenet-r``, ``imagenet-sketch``, ...).
        subset: Class names (e.g. wnids) the argmax runs over, or a published list's name
            (:func:`mae_mm.datasets.class_lists.class_list`); None for all the classifier's classes.
    """

    def __init__(self, domain: str, subset=None, prefix: Optional[str] = None, collect_device: str = 'cpu') -> None:
        super().__init__(domain, prefix, collect_device)
        from mae_mm.datasets.class_lists import class_list
        self.subset = None if subset is None else class_list(subset)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in self._mine(data_samples):
            self.results.append(dict(score=sample['pred_score'].cpu(), label=int(sample['gt_label'][0])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        if not results:
            return {'top1': math.nan}
        indices = None if self.subset is None else subset_indices(self.dataset_meta['classes'], self.subset)
        scores = torch.stack([r['score'] for r in results])
        labels = torch.tensor([r['label'] for r in results])
        return {'top1': restricted_top1(scores, labels, indices)}


def corruption_summary(errors: Dict[tuple, float], benchmark: Sequence[str], extra: Sequence[str],
                       severities: Sequence[int], normalizer: Optional[Dict[str, Sequence[float]]]) -> Dict:
    """ImageNet-C's summary from ``errors`` ({(corruption, severity): top-1 error in %}).

    Returns ``error/<c>/<s>`` for each measured pair; ``mean_error/<c>`` (the mean over
    ``severities``) for each corruption measured at all of them; with a ``normalizer`` (fractions
    per severity, e.g. AlexNet's) ``CE/<c> = 100 * sum_s E_{s,c} / sum_s A_{s,c}`` for the
    benchmark corruptions and ``mCE``, their mean; ``mean_error``, the mean of the benchmark's
    ``mean_error/<c>``; ``extra_mean_error``, the extras'; and ``missing``, the corruptions and
    severities not measured ('' when none). An average whose parts are not all measured is NaN:
    nothing is averaged over a partial copy.
    """
    out: Dict = {f'error/{c}/{s}': e for (c, s), e in sorted(errors.items())}
    missing = []
    complete = {}
    for corruption in list(benchmark) + list(extra):
        absent = [s for s in severities if (corruption, s) not in errors]
        if len(absent) == len(severities):
            missing.append(corruption)
        elif absent:
            missing.append(f'{corruption} severity {",".join(map(str, absent))}')
        if not absent:
            complete[corruption] = [errors[corruption, s] for s in severities]
            out[f'mean_error/{corruption}'] = sum(complete[corruption]) / len(severities)

    def mean_of(values: List[Optional[float]]) -> float:
        return math.nan if not values or any(v is None for v in values) else sum(values) / len(values)

    if normalizer is not None:
        ce = {}
        for corruption in benchmark:
            if corruption in complete:
                reference = [normalizer[corruption][s - 1] * 100 for s in severities]
                ce[corruption] = 100 * sum(complete[corruption]) / sum(reference)
                out[f'CE/{corruption}'] = ce[corruption]
        out['mCE'] = mean_of([ce.get(c) for c in benchmark])
    out['mean_error'] = mean_of([out.get(f'mean_error/{c}') for c in benchmark])
    out['extra_mean_error'] = mean_of([out.get(f'mean_error/{c}') for c in extra]) if extra else math.nan
    out['missing'] = '; '.join(missing)
    return out


@METRICS.register_module()
class CorruptionError(_DomainMetric):
    """ImageNet-C: top-1 error (%) per corruption and severity, CE and mCE (:func:`corruption_summary`).

    Args:
        domain: The corrupted set's name (its samples carry ``corruption`` and ``severity``).
        benchmark: The corruptions the mCE averages (ImageNet-C's 15).
        extra: The corruptions reported apart (ImageNet-C's 4 extra ones).
        severities: The severities each corruption must have.
        normalizer: ``'alexnet'`` (:data:`~.imagenet_c_reference.ALEXNET_TOP1_ERROR`) or None for
            plain errors (a data set where AlexNet's figures mean nothing, such as the demo's).
    """

    def __init__(self, domain: str = 'imagenet-c', benchmark: Sequence[str] = BENCHMARK_CORRUPTIONS,
                 extra: Sequence[str] = EXTRA_CORRUPTIONS, severities: Sequence[int] = SEVERITIES,
                 normalizer: Optional[str] = 'alexnet', prefix: Optional[str] = None,
                 collect_device: str = 'cpu') -> None:
        super().__init__(domain, prefix, collect_device)
        if normalizer not in ('alexnet', None):
            raise ValueError(f'CorruptionError: normalizer={normalizer!r}; use \'alexnet\' or None')
        unknown = [c for c in benchmark if normalizer and c not in ALEXNET_TOP1_ERROR]
        if unknown:
            raise ValueError(f'CorruptionError: no AlexNet errors for {unknown}: use normalizer=None')
        self.benchmark, self.extra, self.severities = tuple(benchmark), tuple(extra), tuple(severities)
        self.normalizer = ALEXNET_TOP1_ERROR if normalizer else None

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in self._mine(data_samples):
            correct = int(sample['pred_score'].argmax()) == int(sample['gt_label'][0])
            self.results.append((sample['corruption'], int(sample['severity']), correct))

    def compute_metrics(self, results: List[tuple]) -> Dict:
        counts: Dict[tuple, List[int]] = {}
        for corruption, severity, correct in results:
            counts.setdefault((corruption, severity), []).append(correct)
        errors = {key: 100.0 * (1 - sum(v) / len(v)) for key, v in counts.items()}
        return corruption_summary(errors, self.benchmark, self.extra, self.severities, self.normalizer)
