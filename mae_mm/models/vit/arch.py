"""ViT size presets, the one size table: every model looks its size up here by name, and the
configs read it too (``configs/_base_/models/vit_sizes.py`` derives their entries from it)."""
from typing import Optional

VIT_ARCHS = {
    # for tests and the CPU demo
    'tiny': dict(embed_dim=192, depth=6, num_heads=3, mlp_ratio=4.0, patch_size=16),
    # ViT-S/16 as timm's vit_small_patch16_224 and DeiT-S (mmpretrain's 'deit-small'); mmpretrain's
    # 'small' is another model: the original ViT code's 768 wide, 8 deep, 8 heads, MLP ratio 3
    'small': dict(embed_dim=384, depth=12, num_heads=6, mlp_ratio=4.0, patch_size=16),
    'base': dict(embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0, patch_size=16),
    'large': dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0, patch_size=16),
    'huge': dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4.0, patch_size=14),
    # Past ViT-H, for sharded (FSDP2) training. Block's MLP is int(embed_dim * mlp_ratio) wide: 6144 / 1408 gives 6144
    # ViT-g/14 of Zhai et al., "Scaling Vision Transformers" (CVPR 2022): MLP 6144 (timm's vit_giant_patch14_224)
    'giant': dict(embed_dim=1408, depth=40, num_heads=16, mlp_ratio=6144 / 1408, patch_size=14),
    # ViT-2B/14 of Singh et al., "The effectiveness of MAE pre-pretraining for billion-scale pretraining" (ICCV 2023)
    '2b': dict(embed_dim=2560, depth=24, num_heads=32, mlp_ratio=4.0, patch_size=14),
    # ViT-6.5B/14 of the same paper; '6.5b' is not an identifier, so its vit_sizes entry is vit6_5b_p14
    '6.5b': dict(embed_dim=4096, depth=32, num_heads=32, mlp_ratio=4.0, patch_size=14),
}


def resolve_arch(arch, patch_size: Optional[int] = None) -> dict:
    """Returns the preset named ``arch``, or a full dict of the same keys given directly, with
    ``patch_size`` in place of its own when given."""
    if isinstance(arch, str):
        if arch not in VIT_ARCHS:
            raise KeyError(f'unknown ViT arch {arch!r}; choose one of {sorted(VIT_ARCHS)} '
                           f'or pass a dict with keys {sorted(VIT_ARCHS["base"])}')
        arch = dict(VIT_ARCHS[arch])
    else:
        arch = dict(arch)
        missing = set(VIT_ARCHS['base']) - set(arch) - {'mlp_ratio'}
        if missing:
            raise KeyError(f'custom ViT arch {arch} lacks keys {sorted(missing)}')
        arch.setdefault('mlp_ratio', 4.0)
    if patch_size is not None:
        arch['patch_size'] = patch_size
    return arch
