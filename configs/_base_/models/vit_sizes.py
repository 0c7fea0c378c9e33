# The ViT sizes, each stated once. A stage's root config inherits this table; every leaf picks
# its size by name (vit = _base_.vit_sizes.large_p16) and takes from it the backbone's arch and
# the widths its necks and heads read, so editing an entry here changes every stage of that size.
# arch names a preset of mae_mm/models/vit/arch.py; embed_dim and depth restate that preset for
# the config's derived widths, and patch_size is the preset's except where the configs pass it
# (the demo's 8 x 8 patches); tests/test_configs.py pins both.
vit_sizes = dict(
    tiny_p8=dict(arch='tiny', patch_size=8, embed_dim=192, depth=6),  # the CPU demo
    base_p16=dict(arch='base', patch_size=16, embed_dim=768, depth=12),
    large_p16=dict(arch='large', patch_size=16, embed_dim=1024, depth=24),
    huge_p14=dict(arch='huge', patch_size=14, embed_dim=1280, depth=32),
)
