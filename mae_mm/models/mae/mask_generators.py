"""Mask generators (MAE Table 1f): the per-sample noise whose one argsort picks the masked patches.

A generator returns noise (B, L); :func:`random_masking` keeps the ``num_visible(L, ratio)`` patches
with the smallest noise, so every generator masks exactly ``L - int(L * (1 - ratio))`` patches per
sample. Generators draw from the ``torch.Generator`` they are handed (``None``: torch's default
generator, which :class:`~mae_mm.engine.RandomStateHook` saves with each checkpoint) and hold no
random state of their own, so a resumed run draws the masks of the uninterrupted one.

The encoder builds its generator from ``model.encoder.mask_generator`` (:func:`build_mask_generator`)
with its patch grid and mask ratio, which each generator checks when it is built.
"""
import inspect
import math
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

from mae_mm.registry import MODELS
from .masking import num_visible

CONFIG_KEY = 'model.encoder.mask_generator'
BEIT_ATTEMPTS = 10  # tries to place one block before BEiT's loop gives up


class MaskGenerator:
    """The interface: built with the encoder's patch grid and ratio, called once per batch.

    Args:
        grid_size (tuple[int, int]): (h, w) patches, row-major; L = h * w.
        mask_ratio (float): Fraction of patches masked, in (0, 1).
    """

    def __init__(self, grid_size: Tuple[int, int], mask_ratio: float):
        self.grid_size = tuple(grid_size)
        self.mask_ratio = mask_ratio
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.num_masked = self.num_patches - num_visible(self.num_patches, mask_ratio)

    def __call__(self, batch_size: int, device, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """(B, L) noise on ``device``; the patches with the largest noise are masked. ``generator``: a CPU
        ``torch.Generator`` to draw from, or ``None`` for torch's default one."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{type(self).__name__}(grid_size={self.grid_size}, mask_ratio={self.mask_ratio})'


@MODELS.register_module()
class RandomMasking(MaskGenerator):
    """MAE's per-sample uniform masking (the default): noise ~ U[0, 1) per patch.

    Without a generator it makes the call the encoder always made, ``torch.rand(B, L, device=device)``,
    bit for bit; with one, ``torch.rand(B, L, generator=generator)`` on the generator's device,
    then moved to ``device``.
    """

    def __call__(self, batch_size: int, device, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        if generator is None:
            return torch.rand(batch_size, self.num_patches, device=device)
        return torch.rand(batch_size, self.num_patches, generator=generator, device=generator.device).to(device)


@MODELS.register_module()
class BlockwiseMasking(MaskGenerator):
    """BEiT's blockwise masking (Bao et al. 2022, Algorithm 1; microsoft/unilm beit/masking_generator.py).

    Per sample, with N = the masked count: while fewer than N patches are masked, one round makes up
    to 10 attempts to place a rectangle; the round ends at the first rectangle that masks new patches.
    An attempt draws an area ``s ~ U(min_num_patches, r)`` (r = min(N - masked so far, max_num_patches);
    with r < ``min_num_patches`` the interval is [r, min_num_patches], as Python's ``random.uniform``
    gives), an aspect ``a = exp(U(log min_aspect, log max_aspect))``, ``h = round(sqrt(s a))``,
    ``w = round(sqrt(s / a))``; only if ``h < H`` and ``w < W``, a top-left corner uniform over every
    position that fits, ``[0, H - h] x [0, W - w]`` (the last row and column are reachable), and
    accepts it when it masks between 1 and r new patches. The sample stops when N is reached or a round
    places nothing (so the loop ends: every round adds a patch or retires the sample). The draws come
    from the given generator (:meth:`block_masks` says in which order).

    Exact count: the blocks never mask more than N (each accepted rectangle adds at most what remains).
    The noise is ``block_mask + U[0, 1)``: block patches sort after all others, so all of them are masked,
    and a sample whose blocks stopped short is topped up with the N - (block count) other patches of
    largest noise, uniformly at random. (Were a sample to hold more than N block patches, its block
    patches of smallest noise would stay visible.)

    mmpretrain's ``BEiTMaskGenerator`` differs: its corners are drawn with numpy's exclusive ``randint``
    (never the last row or column) and its loop runs until the count is met exactly, which it may never be.

    Args:
        min_num_patches (int): Smallest block area drawn (BEiT pretraining: 16).
        max_num_patches (int, optional): Largest block area drawn; ``None``: the masked count.
        min_aspect (float): Smallest aspect ratio h / w; ``max_aspect`` defaults to ``1 / min_aspect``.
        max_aspect (float, optional): Largest aspect ratio.

    Refused when built: a grid on which not even the smallest first block BEiT draws can fit
    (``h < H`` and ``w < W`` for no aspect of the range): the mask would be all top-up, random
    masking under another name.
    """

    def __init__(self, grid_size: Tuple[int, int], mask_ratio: float, min_num_patches: int = 16,
                 max_num_patches: Optional[int] = None, min_aspect: float = 0.3, max_aspect: Optional[float] = None):
        super().__init__(grid_size, mask_ratio)
        if not (isinstance(min_num_patches, int) and min_num_patches >= 1):
            raise ValueError(f'{CONFIG_KEY}.min_num_patches must be an int >= 1, got {min_num_patches!r}')
        if not (max_num_patches is None or isinstance(max_num_patches, int) and max_num_patches >= min_num_patches):
            raise ValueError(f'{CONFIG_KEY}.max_num_patches must be None or an int >= min_num_patches '
                             f'({min_num_patches}), got {max_num_patches!r}')
        if not min_aspect > 0 or (max_aspect is not None and not max_aspect >= min_aspect):
            raise ValueError(f'{CONFIG_KEY}: the aspect range must satisfy 0 < min_aspect <= max_aspect, got '
                             f'min_aspect={min_aspect}, max_aspect={max_aspect}')
        max_aspect = 1 / min_aspect if max_aspect is None else max_aspect
        self.min_num_patches = min_num_patches
        self.max_num_patches = self.num_masked if max_num_patches is None else max_num_patches
        self.log_aspect = (math.log(min_aspect), math.log(max_aspect))
        first = max(1, min(self.min_num_patches, self.num_masked, self.max_num_patches))  # smallest first area
        (height, width), (low, high) = self.grid_size, (min_aspect, max_aspect)
        # round(sqrt(first * a)) < H and round(sqrt(first / a)) < W for some a in [low, high]
        if not max(low, first / (width - 0.5) ** 2) < min(high, (height - 0.5) ** 2 / first):
            raise ValueError(
                f'{CONFIG_KEY} BlockwiseMasking cannot reach mask_ratio={mask_ratio} ({self.num_masked} of '
                f'{self.num_patches} patches) on a {height} x {width} grid: no block of {first} patches with an '
                f'aspect in [{low:.3g}, {high:.3g}] fits (a block must be shorter and narrower than the grid); '
                'use a larger grid, a smaller min_num_patches or a wider aspect range')

    def block_masks(self, batch_size: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """(B, H, W) bool on the CPU: each sample's blocks before the top-up, drawn from ``generator``.

        The samples run BEiT's rounds side by side. A round's attempts all see the same mask (only a
        success, which ends the round, changes it), so all 10 are drawn at once, (n, 10, 4) uniforms in
        float64 (area, aspect, top, left) for the n samples still placing blocks, and the first that
        succeeds is taken: the same law as BEiT's one-at-a-time loop. A summed-area table gives each
        rectangle's already-masked count.
        """
        height, width = self.grid_size
        mask = torch.zeros(batch_size, height, width, dtype=torch.bool)
        masked = torch.zeros(batch_size, dtype=torch.long)
        active = torch.arange(batch_size)  # the samples still placing blocks
        rows, cols = torch.arange(height).view(1, -1, 1), torch.arange(width).view(1, 1, -1)
        (log_low, log_high), least = self.log_aspect, self.min_num_patches
        while active.numel():  # each round masks >= 1 new patch of every active sample, or retires it
            budget = (self.num_masked - masked[active]).clamp(max=self.max_num_patches)[:, None]  # (n, 1)
            draws = torch.rand(active.numel(), BEIT_ATTEMPTS, 4, dtype=torch.float64, generator=generator)
            area = least + (budget - least) * draws[..., 0]  # U(least, budget), either order
            aspect = torch.exp(log_low + (log_high - log_low) * draws[..., 1])
            h, w = (area * aspect).sqrt().round().long(), (area / aspect).sqrt().round().long()
            fits = (h < height) & (w < width)
            h, w = h * fits, w * fits  # an attempt that does not fit becomes an empty block: it masks nothing
            top = (draws[..., 2] * (height - h + 1)).long()  # uniform over [0, H - h], both ends included
            left = (draws[..., 3] * (width - w + 1)).long()
            current = mask[active]  # (n, H, W)
            table = F.pad(current.cumsum(1, dtype=torch.int32).cumsum(2, dtype=torch.int32), (1, 0, 1, 0))

            def corner(r, c):
                return table.flatten(1).gather(1, r * (width + 1) + c)

            covered = corner(top + h, left + w) - corner(top, left + w) - corner(top + h, left) + corner(top, left)
            new = h * w - covered  # (n, 10) patches each attempt would add
            success = (new > 0) & (new <= budget)
            placed = success.any(1)
            first = success.long().argmax(1, keepdim=True)  # the first attempt that succeeds
            top, left, h, w, new = (t.gather(1, first).view(-1, 1, 1) for t in (top, left, h, w, new))
            block = ((rows >= top) & (rows < top + h)) & ((cols >= left) & (cols < left + w))  # (n, H, W)
            mask[active] = current | (block & placed.view(-1, 1, 1))
            masked[active] += new.view(-1) * placed
            active = active[placed & (masked[active] < self.num_masked)]
        return mask

    @torch.compiler.disable  # a loop of data-dependent length: no graph to trace
    def __call__(self, batch_size: int, device, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        blocks = self.block_masks(batch_size, generator).flatten(1).float()
        return (blocks + torch.rand(batch_size, self.num_patches, generator=generator)).to(device)

    def __repr__(self) -> str:
        return (f'{super().__repr__()[:-1]}, min_num_patches={self.min_num_patches}, max_num_patches='
                f'{self.max_num_patches}, aspect=[{math.exp(self.log_aspect[0]):.3g}, '
                f'{math.exp(self.log_aspect[1]):.3g}])')


@MODELS.register_module()
class GridMasking(MaskGenerator):
    """MAE's grid-wise sampling: keeps one patch of every 2 x 2 cell (mask ratio 0.75).

    The kept patch is the top-left one of each cell, or, with ``random_offset``, the same position of
    the four drawn per sample from the generator (``randint(0, 2)`` for the row, then the column). The
    noise is ``index / L``, plus 1 on masked patches: no ties, and the visible tokens come in raster order.

    Args:
        random_offset (bool): Draw the kept position within the cells per sample.

    Refused when built: a ratio other than 0.75, or an odd grid side.
    """

    def __init__(self, grid_size: Tuple[int, int], mask_ratio: float, random_offset: bool = False):
        super().__init__(grid_size, mask_ratio)
        if mask_ratio != 0.75 or any(side % 2 for side in self.grid_size):
            raise ValueError(f'{CONFIG_KEY} GridMasking keeps one patch of every 2 x 2: it needs mask_ratio=0.75 '
                             f'and even grid sides, got mask_ratio={mask_ratio} on a {self.grid_size[0]} x '
                             f'{self.grid_size[1]} grid')
        self.random_offset = random_offset

    def __call__(self, batch_size: int, device, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        height, width = self.grid_size
        if self.random_offset:
            offsets = torch.randint(0, 2, (batch_size, 2), generator=generator).to(device)
        else:
            offsets = torch.zeros(batch_size, 2, dtype=torch.long, device=device)
        rows = torch.arange(height, device=device).view(1, height, 1) % 2
        cols = torch.arange(width, device=device).view(1, 1, width) % 2
        kept = (rows == offsets[:, 0, None, None]) & (cols == offsets[:, 1, None, None])  # (B, H, W)
        order = torch.arange(self.num_patches, device=device) / self.num_patches  # (L,), in [0, 1)
        return order + (~kept).flatten(1).float()

    def __repr__(self) -> str:
        return f'{super().__repr__()[:-1]}, random_offset={self.random_offset})'


def mask_generator_names() -> list:
    """The registered mask generators' names."""
    return sorted(name for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, MaskGenerator))


def build_mask_generator(cfg: Optional[dict], grid_size: Tuple[int, int], mask_ratio: float) -> MaskGenerator:
    """Builds ``model.encoder.mask_generator`` (``None``: :class:`RandomMasking`) for the encoder's grid
    and ratio; a ValueError naming the key and the allowed values for an unknown type or argument."""
    cfg = dict(cfg or dict(type='RandomMasking'))
    kind = cfg.pop('type', None)
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if not (isinstance(cls, type) and issubclass(cls, MaskGenerator)):
        raise ValueError(f'{CONFIG_KEY}.type={kind!r} is not a mask generator; allowed: {mask_generator_names()}')
    accepted = set(inspect.signature(cls).parameters) - {'grid_size', 'mask_ratio'}
    unknown = sorted(set(cfg) - accepted)
    if unknown:
        raise ValueError(f'{CONFIG_KEY}: {cls.__name__} takes no {unknown}; its arguments: {sorted(accepted)}')
    return cls(grid_size=grid_size, mask_ratio=mask_ratio, **cfg)
