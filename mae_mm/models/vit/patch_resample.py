"""Resamples a patch-embedding kernel to another patch size (ViT-H/14 used with 16 x 16 patches)."""
from typing import Tuple

import torch
import torch.nn.functional as F
from mmengine.logging import print_log

PATCH_KERNEL_MODES = ('bicubic', 'pinv')


def checked_patch_kernel_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`PATCH_KERNEL_MODES`, else a ValueError naming it."""
    if mode not in PATCH_KERNEL_MODES:
        raise ValueError(f'patch kernel resampling mode {mode!r} is not one of {PATCH_KERNEL_MODES}')
    return mode


def resample_patch_kernel(weight: torch.Tensor, new_size: Tuple[int, int], mode: str = 'bicubic') -> torch.Tensor:
    """(D, C, p, p) -> (D, C, P, P); the same tensor when the size already matches.

    Modes:
        ``'bicubic'``: the kernel itself interpolated bicubically, as ViTDet turns ViT-H/14's
            projection into a 16 x 16 one (the COCO and ADE20K transfers' default). It does not
            keep a token's scale: the kernel sums over (P / p)^2 times as many pixels.
        ``'pinv'``: FlexiViT's pseudo-inverse resize. With ``B`` the bilinear resize of a p x p
            patch to P x P (a (P*P, p*p) matrix) the new kernel is ``pinv(B^T) w``, so
            ``<w', B x> = <w, x>`` for every patch ``x`` when P >= p: a patch resized to P pixels
            embeds exactly as the original did.
    """
    checked_patch_kernel_mode(mode)
    old, new_size = tuple(weight.shape[-2:]), tuple(new_size)
    if old == new_size:
        return weight
    if mode == 'bicubic':
        return F.interpolate(weight.float(), size=new_size, mode='bicubic', align_corners=False).to(weight.dtype)
    n_old = old[0] * old[1]
    basis = torch.eye(n_old, dtype=torch.float64).reshape(n_old, 1, *old)
    resize = F.interpolate(basis, size=new_size, mode='bilinear', align_corners=False).reshape(n_old, -1).T
    flat = weight.reshape(-1, n_old).double()  # (D*C, p*p), one kernel per row
    new = flat @ torch.linalg.pinv(resize.T).T  # row form of pinv(B^T) w
    return new.reshape(*weight.shape[:-2], *new_size).to(weight.dtype)


def fit_patch_kernel_in_state_dict(state_dict: dict, key: str, model_weight: torch.Tensor, mode: str) -> None:
    """Replaces ``state_dict[key]`` (a checkpoint's patch kernel) by its resampling to the model's
    kernel size when only the kernel size differs. A width or channel mismatch is left as it is, for
    :meth:`PlainViT._load_from_state_dict <mae_mm.models.vit.PlainViT>`'s shape check to refuse, naming the key."""
    kernel = state_dict.get(key)
    if kernel is None or kernel.shape[-2:] == model_weight.shape[-2:] or kernel.shape[:2] != model_weight.shape[:2]:
        return
    print_log(f'{key}: resampling the {tuple(kernel.shape[-2:])} patch kernel to {tuple(model_weight.shape[-2:])} '
              f'({mode})', 'current')
    state_dict[key] = resample_patch_kernel(kernel, model_weight.shape[-2:], mode)
