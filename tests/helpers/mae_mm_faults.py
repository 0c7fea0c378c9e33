"""Fault injection for the reliability tests, loaded into a training run with
``custom_imports=dict(imports=['mae_mm_faults'])`` (tests/helpers on PYTHONPATH)."""
import os

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.model import BaseModel, is_model_wrapper

from mae_mm.models.mae import MaskedAutoencoder
from mae_mm.registry import HOOKS, MODELS


@HOOKS.register_module()
class KillDuringCheckpointWriteHook(Hook):
    """Kills the process (``os._exit``, no clean-up, like SIGKILL) in the middle of writing the
    checkpoint of epoch ``at_epoch``: after its bytes are written, before the file is in place."""

    def __init__(self, at_epoch: int):
        self.at_epoch = at_epoch

    def before_save_checkpoint(self, runner, checkpoint):
        if checkpoint['meta']['epoch'] == self.at_epoch:
            def die(fd):
                os._exit(137)
            os.fsync = die


@HOOKS.register_module()
class InjectNonFiniteLossHook(Hook):
    """Multiplies the model's loss by NaN at training iteration ``at_iter`` (1-based)."""

    def __init__(self, at_iter: int):
        self.at_iter = at_iter
        self._saved = None

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if runner.iter + 1 != self.at_iter:
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        loss = model.loss
        model.loss = lambda *args, **kwargs: {k: v * float('nan') for k, v in loss(*args, **kwargs).items()}
        self._saved = (model, loss)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        if self._saved is not None:
            model, loss = self._saved
            model.loss = loss
            self._saved = None


@MODELS.register_module()
class SampleSeededMaskedAutoencoder(MaskedAutoencoder):
    """Masking noise drawn from each sample's dataset index, and the logged loss averaged over
    ranks: so a 1-process and a 2-process run see the same masks and log comparable losses."""

    # mmengine's plain step (preprocess, forward(mode='loss'), update), which keeps the data
    # samples that carry each image's index; DDP's wrapper takes the same path
    train_step = BaseModel.train_step

    def forward(self, inputs, data_samples=None, mode='tensor'):
        if mode != 'loss':
            return super().forward(inputs, data_samples, mode)
        noise = torch.stack([
            torch.rand(self.encoder.num_patches, generator=torch.Generator().manual_seed(s.sample_idx))
            for s in data_samples]).to(inputs.device)
        return self.loss(inputs, noise)

    def parse_losses(self, losses):
        loss, log_vars = super().parse_losses(losses)
        for key, value in log_vars.items():
            value = value.detach().clone()
            all_reduce(value, op='mean')
            log_vars[key] = value
        return loss, log_vars
