"""Training-side components: hooks, optimizer wrappers and constructors, the atomic checkpoint
backend. Importing registers them; the process-wide checkpoint adjustments are applied by
:func:`mae_mm.runtime.setup_runtime`, not here."""
from .atomic_backend import ATOMIC_BACKEND, AtomicLocalBackend
from .checkpoint_hook import CheckpointWriteError, WriteFirstCheckpointHook, save_checkpoint_or_explain
from .checkpoint_match_hook import CheckpointMatchHook
from .classifier_classes_hook import ClassifierClassesHook
from .data_position_hook import DataPositionHook
from mae_mm.checkpoint.weights_only import allow_mmengine_checkpoints, mmengine_checkpoint_globals  # moved; kept here
from .knn_probe_hook import KNNProbeHook
from .layer_decay import ViTLayerDecayOptimWrapperConstructor, infer_num_layers, vit_layer_id
from .nonfinite_loss_hook import NonFiniteLossHook
from .optimizer_step_scheduler_hook import OptimizerStepParamSchedulerHook
from .optim_wrapper import AutocastOptimWrapper, LeanOptimWrapper, SkipNonFiniteOptimWrapper, build_amp_optim_wrapper
from .preemption import PREEMPTED_EXIT_CODE, SaveOnSignalHook, TrainingPreempted
from .random_state_hook import RandomStateHook
from .reconstruction_vis_hook import ReconstructionVisHook
from .schedule_resume_check_hook import ScheduleResumeCheckHook
from .sharded_state_hook import ShardedStateHook
from .skipped_images_hook import SkippedImagesHook
from .step_schedule import FractionalMultiStepLR
from .train_loop import ResumableEpochBasedTrainLoop, ResumableIterBasedTrainLoop, RollbackRequested

__all__ = ['ATOMIC_BACKEND', 'AtomicLocalBackend', 'allow_mmengine_checkpoints', 'mmengine_checkpoint_globals',
           'ViTLayerDecayOptimWrapperConstructor', 'infer_num_layers', 'vit_layer_id', 'AutocastOptimWrapper',
           'SkipNonFiniteOptimWrapper', 'LeanOptimWrapper', 'build_amp_optim_wrapper',
           'NonFiniteLossHook', 'OptimizerStepParamSchedulerHook', 'RandomStateHook',
           'CheckpointMatchHook', 'CheckpointWriteError', 'WriteFirstCheckpointHook', 'save_checkpoint_or_explain',
           'ClassifierClassesHook', 'DataPositionHook', 'SkippedImagesHook', 'PREEMPTED_EXIT_CODE', 'SaveOnSignalHook', 'TrainingPreempted',
           'ResumableEpochBasedTrainLoop', 'ResumableIterBasedTrainLoop', 'RollbackRequested', 'KNNProbeHook',
           'ReconstructionVisHook', 'ScheduleResumeCheckHook', 'ShardedStateHook', 'FractionalMultiStepLR']
