"""The MAE pretraining model: encode the visible patches, decode all, loss on the masked."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.model import BaseModel
from mmengine.optim import OptimWrapper
from mmengine.structures import BaseDataElement

from mae_mm.registry import MODELS, build_model
from ..vit.renamed import refuse_renamed, renamed_alias
from .target import DEFAULT_TARGET, build_target


@MODELS.register_module()
class MaskedAutoencoder(BaseModel):
    """He et al., "Masked Autoencoders Are Scalable Vision Learners" (CVPR 2022).

    Args:
        encoder (dict): An :class:`MAEEncoder` config.
        decoder (dict): An :class:`MAEDecoder` config; its ``in_dim``, ``patch_size``, ``grid_size``
            and ``takes_all_tokens`` (the encoder's ``with_mask_token``) are taken from the encoder,
            its ``pred_dim`` from the target (stating a different one is an error). A ``num_patches``
            that configs written before ``grid_size`` may state is checked against the encoder's L,
            then left out.
        target (dict): The reconstruction target and its loss (:class:`ReconstructionTarget`):
            ``NormalizedPixelTarget`` (default), ``PixelTarget``, ``HOGTarget``, or the old
            ``MaskedPixelLoss``. ``loss``, its old name, is accepted (stored configs use it).
        data_preprocessor (dict, optional): Normalises and batches images (B, 3, H, W).
        eval_seed (int): Seed of the masking noise in ``predict`` mode, so evaluation is repeatable.
    """

    def __init__(self, encoder: dict, decoder: dict, target: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None, eval_seed: int = 0, init_cfg=None, **kwargs):
        target = renamed_alias(type(self).__name__, kwargs, 'loss', 'target', target, None)
        refuse_renamed(type(self).__name__, kwargs, {})
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.encoder = build_model(encoder)
        self.target = build_target(target or dict(type=DEFAULT_TARGET))
        enc = self.encoder
        try:
            pred_dim = self.target.out_dim(enc.patch_size, enc.patch_embed.proj.in_channels)
        except ValueError as err:
            raise ValueError(f'model.target: {err}') from None
        derived = dict(in_dim=(enc.embed_dim, 'encoder', 'in_dim'),
                       patch_size=(enc.patch_size, 'encoder', 'patch_size'),
                       grid_size=(tuple(enc.grid_size), 'encoder', 'grid_size'),
                       num_patches=(enc.num_patches, 'encoder', 'num_patches'),
                       takes_all_tokens=(enc.with_mask_token, 'encoder', 'with_mask_token'),
                       pred_dim=(pred_dim, 'target', 'out_dim'))
        decoder = dict(decoder)
        for key, (value, source, name) in derived.items():
            stated = decoder.get(key, value)
            if (tuple(stated) if isinstance(stated, (list, tuple)) else stated) != value:
                raise ValueError(f'model.decoder.{key}={stated} is inconsistent with the {source} '
                                 f'({name}={value}); leave it out and it is taken from the {source}')
            decoder[key] = value
        del decoder['num_patches']  # grid_size says it
        self.decoder = build_model(decoder)
        self.eval_seed = eval_seed

    @property
    def patch_size(self) -> int:
        return self.encoder.patch_size

    def reconstruct(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None, partial: bool = False
                    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Masks, encodes and decodes a batch.

        Args:
            imgs: (B, 3, H, W), normalised as the data preprocessor hands them over.
            noise: Optional (B, L); the patches with the smallest noise stay visible.
            partial: Decode only the visible patches and M random masked ones per sample
                (:class:`MAEDecoder`'s ``decode_fraction``; nothing changes at 1.0), as the
                training loss does. Off: every patch.

        Returns:
            pred: (B, L, T) in the target's space, T its ``out_dim`` (pixel targets: p*p*3 values
                ordered row, column, channel, per-patch normalised by ``NormalizedPixelTarget``);
                with ``partial`` the rows of the patches not decoded are 0.
            mask: (B, L), 1 = masked; with ``partial``, 1 = masked and decoded, the M patches
                per sample the loss covers (``MAEDecoder.num_decoded``).
        """
        latent, mask, ids_restore = self.encoder(imgs, noise)
        if not partial or self.decoder.decode_fraction == 1.0:
            return self.decoder(latent, ids_restore), mask
        ids = self.decoder.decoded_ids(ids_restore, self.encoder.num_visible)  # (B, K + M)
        return self.decoder(latent, ids_restore, ids), mask * torch.zeros_like(mask).scatter_(1, ids, 1.0)

    def loss(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """(B, 3, H, W) -> ``{'loss': scalar}``, the masked-patch reconstruction loss (in training
        with ``decode_fraction`` < 1, over the decoded masked patches only)."""
        pred, mask = self.reconstruct(imgs, noise, partial=self.training)
        return dict(loss=self.target.loss(pred, self.target.targets(imgs, self.patch_size), mask))

    def per_sample_loss(self, imgs: torch.Tensor, noise: Optional[torch.Tensor] = None) -> torch.Tensor:
        """(B, 3, H, W) -> (B,), each sample's loss over all its masked patches (every patch decoded)."""
        pred, mask = self.reconstruct(imgs, noise)
        return self.target.per_sample_loss(pred, self.target.targets(imgs, self.patch_size), mask)

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
