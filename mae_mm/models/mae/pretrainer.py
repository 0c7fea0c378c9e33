"""The MAE pretraining model: encode the visible patches, decode all, loss on the masked."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.structures import BaseDataElement

from mae_mm.registry import MODELS, build_model
from ..vit import patchify


@MODELS.register_module()
class MaskedAutoencoder(BaseModel):
    """He et al., "Masked Autoencoders Are Scalable Vision Learners" (CVPR 2022).

    Args:
        encoder (dict): An :class:`MAEEncoder` config.
        decoder (dict): An :class:`MAEDecoder` config; its ``in_dim``, ``patch_size`` and
            ``num_patches`` are taken from the encoder (stating a different one is an error).
        loss (dict): The pixel loss, :class:`MaskedPixelLoss` by default.
        data_preprocessor (dict, optional): Normalises and batches images (B, 3, H, W).
        eval_seed (int): Seed of the masking noise in ``predict`` mode, so evaluation is repeatable.
    """

    def __init__(self, encoder: dict, decoder: dict, loss: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, eval_seed: int = 0, init_cfg=None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.encoder = build_model(encoder)
        derived = dict(in_dim=self.encoder.embed_dim, patch_size=self.encoder.patch_size,
                       num_patches=self.encoder.num_patches)
        decoder = dict(decoder)
        for key, value in derived.items():
            if key in decoder and decoder[key] != value:
                raise ValueError(f'model.decoder.{key}={decoder[key]} is inconsistent with the encoder '
                                 f'({key}={value}); leave it out and it is taken from the encoder')
            decoder[key] = value
        self.decoder = build_model(decoder)
        self.pixel_loss = build_model(loss or dict(type='MaskedPixelLoss'))
        self.eval_seed = eval_seed

    @property
    def patch_size(self) -> int:
        return self.encoder.patch_size

    def reconstruct(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Masks, encodes and decodes a batch.

        Args:
            imgs: (B, 3, H, W), normalised as the data preprocessor hands them over.
            noise: Optional (B, L); the patches with the smallest noise stay visible.

        Returns:
            pred: (B, L, p*p*3) in the loss's target space (per-patch normalised when
                ``norm_pix`` is on), patch values ordered row, column, channel.
            mask: (B, L), 1 = masked.
        """
        latent, mask, ids_restore = self.encoder(imgs, noise)
        return self.decoder(latent, ids_restore), mask

    def loss(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """(B, 3, H, W) -> ``{'loss': scalar}``, the masked-patch reconstruction loss."""
        pred, mask = self.reconstruct(imgs, noise)
        return dict(loss=self.pixel_loss(pred, patchify(imgs, self.patch_size), mask))

    def per_sample_loss(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, 3, H, W) -> (B,), each sample's loss over its own masked patches."""
        pred, mask = self.reconstruct(imgs, noise)
        target = self.pixel_loss.target(patchify(imgs, self.patch_size))
        per_patch = ((pred - target) ** 2).mean(dim=-1)
        return (per_patch * mask).sum(1) / mask.sum(1)

    def eval_noise(self, imgs: torch.Tensor) -> torch.Tensor:
        """(B, L) masking noise of the encoder's mask generator, drawn from a generator seeded with
        ``eval_seed``: the same every call."""
        gen = torch.Generator(device='cpu').manual_seed(self.eval_seed)
        return self.encoder.masking_noise(imgs.shape[0], imgs.device, gen)

    def train_step(self, data: dict, optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """One optimisation step, shaped for ``torch.compile`` (mmengine's ``compile`` key).

        mmengine compiles ``model.train_step`` whole. Here the traced part is one graph:
        preprocessing of the image batch (in training the preprocessor leaves the per-sample
        labels alone: pretraining reads none), forward and loss. The backward and the
        optimizer step run in :meth:`_update`, which dynamo leaves alone, so the graph ends
        at the loss and AOTAutograd compiles its backward; tracing into them would split the
        graph at ``backward()`` and then trace the optimizer step, which fails on torch 2.14
        (an internal dynamo error on mmengine's param groups).

        Under DDP mmengine calls its wrapper's ``train_step``, not this one.
        """
        with optim_wrapper.optim_context(self):
            imgs = self.data_preprocessor(data, True)['inputs']
            losses = self.loss(imgs)
        parsed_loss, log_vars = self.parse_losses(losses)
        self._update(optim_wrapper, parsed_loss)
        return log_vars

    @staticmethod
    @torch.compiler.disable
    def _update(optim_wrapper: OptimWrapper, loss: torch.Tensor) -> None:
        """Backward and optimizer step, outside any compiled graph."""
        optim_wrapper.update_params(loss)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[List] = None, mode: str = 'tensor'
                ) -> Union[Dict[str, torch.Tensor], Tuple[torch.Tensor, torch.Tensor], List]:
        """mmengine's entry point.

        ``mode='loss'`` returns the loss dict; ``'tensor'`` returns :meth:`reconstruct`'s
        ``(pred, mask)``; ``'predict'`` returns one data element per image carrying its
        ``recon_loss`` under the repeatable evaluation noise.
        """
        if mode == 'loss':
            return self.loss(inputs)
        if mode == 'tensor':
            return self.reconstruct(inputs)
        if mode == 'predict':
            losses = self.per_sample_loss(inputs, self.eval_noise(inputs))
            samples = data_samples if data_samples is not None else [BaseDataElement() for _ in losses]
            for sample, value in zip(samples, losses):
                sample.set_field(value.detach(), 'recon_loss')
            return samples
        raise ValueError(f'invalid mode {mode!r}; expected "loss", "tensor" or "predict"')
