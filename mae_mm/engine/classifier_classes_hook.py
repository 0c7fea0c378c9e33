"""Refuses to evaluate a classifier on test sets labelled in classes other than its own."""
from typing import Sequence, Tuple

from mmengine.hooks import Hook

from mae_mm.registry import HOOKS


def _as_wnids(classes: Sequence[str]) -> Tuple[str, ...]:
    """mmpretrain's ImageNet class names (what an ImageNet fine-tune checkpoint records) as the
    1000 wnids of the same indices; any other list as it is."""
    from mmpretrain.datasets.categories import IMAGENET_CATEGORIES
    from mae_mm.datasets.class_lists import class_list

    return class_list('imagenet-1k') if tuple(classes) == tuple(IMAGENET_CATEGORIES) else tuple(classes)


def classes_mismatch(trained: Sequence[str], labelled: Sequence[str]) -> str:
    """'' when the test sets' class list ``labelled`` is the classifier's ``trained`` one, index
    for index; else what differs: the classes it lacks, or the first index where they disagree."""
    trained, labelled = _as_wnids(trained), tuple(labelled)
    if trained == labelled:
        return ''
    lacking = [c for c in labelled if c not in set(trained)]
    if lacking:
        shown = ', '.join(lacking[:5]) + (f' ... ({len(lacking)} in all)' if len(lacking) > 5 else '')
        return f'the classifier\'s {len(trained)} classes do not cover the test sets\' {len(labelled)}: it lacks {shown}'
    first = next((i for i, (a, b) in enumerate(zip(trained, labelled)) if a != b), min(len(trained), len(labelled)))
    return (f'the classifier\'s {len(trained)} classes and the test sets\' {len(labelled)} differ from index {first} '
            f'({trained[first] if first < len(trained) else "-"} vs {labelled[first] if first < len(labelled) else "-"})')


@HOOKS.register_module()
class ClassifierClassesHook(Hook):
    """Once the checkpoint is loaded and before any image is evaluated, compares the classes the
    classifier was trained on (the checkpoint's ``meta.dataset_meta.classes``, which mmengine
    records from the training set) with the test set's ``classes``, the list the robustness sets
    label their images in (:mod:`mae_mm.datasets.robustness`); stops the run naming the difference.
    A checkpoint that records no classes (a converted one) is evaluated with a warning."""

    priority = 'VERY_HIGH'

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = getattr(runner, '_test_loop', None)
        dataset = getattr(getattr(loop, 'dataloader', None), 'dataset', None)
        if dataset is None:
            return
        trained = (checkpoint.get('meta') or {}).get('dataset_meta', {}).get('classes')
        if not trained:
            runner.logger.warning('the checkpoint records no classes: cannot check that the classifier\'s classes '
                                  'are the ones the test sets are labelled in')
            return
        problem = classes_mismatch(trained, dataset.metainfo['classes'])
        if problem:
            raise ValueError(f'{runner._load_from}: {problem}; the test sets\' class list is the config\'s `classes` '
                             '(configs/_base_/datasets/imagenet_robustness.py)')
