"""Resamples a patch-embedding kernel to another patch size (ViT-H/14 used with 16 x 16 patches)."""
from typing import Tuple

import torch
import torch.nn.functional as F


def resample_patch_kernel(weight: torch.Tensor, new_size: Tuple[int, int]) -> torch.Tensor:
    """(D, C, p, p) -> (D, C, P, P) such that a patch resized from p to P pixels embeds as before.

    FlexiViT's pseudo-inverse resize: with ``B`` the bilinear resize of a p x p patch to P x P
    (a (P*P, p*p) matrix), the new kernel is ``pinv(B^T) w``, so ``<w', B x> = <w, x>`` for every
    patch ``x`` when P >= p. (A plain interpolation of the kernel would change the token's scale
    by about (P/p)^2.)
    """
    old = tuple(weight.shape[-2:])
    new_size = tuple(new_size)
    if old == new_size:
        return weight
    n_old = old[0] * old[1]
    basis = torch.eye(n_old, dtype=torch.float64).reshape(n_old, 1, *old)
    resize = F.interpolate(basis, size=new_size, mode='bilinear', align_corners=False).reshape(n_old, -1).T
    flat = weight.reshape(-1, n_old).double()  # (D*C, p*p), one kernel per row
    new = flat @ torch.linalg.pinv(resize.T).T  # row form of pinv(B^T) w
    return new.reshape(*weight.shape[:-2], *new_size).to(weight.dtype)
