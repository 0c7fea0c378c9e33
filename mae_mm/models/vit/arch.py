"""ViT size presets; every task looks its size up here by name."""

VIT_ARCHS = {
    # for tests and the CPU demo
    'tiny': dict(embed_dim=192, depth=6, num_heads=3, mlp_ratio=4.0, patch_size=16),
    'base': dict(embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0, patch_size=16),
    'large': dict(embed_dim=1024, depth=24, num_heads=16, mlp_ratio=4.0, patch_size=16),
    'huge': dict(embed_dim=1280, depth=32, num_heads=16, mlp_ratio=4.0, patch_size=14),
}


def resolve_arch(arch) -> dict:
    """Returns the preset named ``arch``, or a full dict of the same keys given directly."""
    if isinstance(arch, str):
        if arch not in VIT_ARCHS:
            raise KeyError(f'unknown ViT arch {arch!r}; choose one of {sorted(VIT_ARCHS)} '
                           f'or pass a dict with keys {sorted(VIT_ARCHS["base"])}')
        return dict(VIT_ARCHS[arch])
    arch = dict(arch)
    missing = set(VIT_ARCHS['base']) - set(arch) - {'mlp_ratio'}
    if missing:
        raise KeyError(f'custom ViT arch {arch} lacks keys {sorted(missing)}')
    arch.setdefault('mlp_ratio', 4.0)
    return arch
