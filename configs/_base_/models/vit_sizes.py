# The ViT sizes the configs use. A stage's root config inherits this table; every leaf picks its
# size by name (vit = _base_.vit_sizes.large_p16) and takes from it the backbone's arch and the
# widths its necks and heads read, so a size changes in one place for every stage.
# Each entry is derived from the one size table, mae_mm/models/vit/arch.py (VIT_ARCHS), which the
# models read: arch names the preset, embed_dim is the preset's, and patch_size is the preset's
# except where an entry sets its own (the demo's 8 x 8 patches, which the configs then pass on).
# mmengine takes a config with an `import` statement for a new-style (lazy) config and refuses it
# in an old-style `_base_` chain, so the table comes in through the __import__ function instead.
_archs = __import__('mae_mm.models.vit.arch', fromlist=['VIT_ARCHS']).VIT_ARCHS


def _size(arch, mae_checkpoint, patch_size=None):
    return dict(arch=arch, patch_size=patch_size or _archs[arch]['patch_size'], embed_dim=_archs[arch]['embed_dim'],
                mae_checkpoint=mae_checkpoint)


# mae_checkpoint: the one place naming the pretraining checkpoint a transfer config of that size
# starts from by default (the 1600-epoch run's last; override with
# --cfg-options model.backbone.init_cfg.checkpoint=PATH, as tools/transfer.py does)
vit_sizes = dict(
    tiny_p8=_size('tiny', 'work_dirs/demo/pretrain/epoch_40.pth', patch_size=8),  # the CPU demo
    small_p16=_size('small', 'work_dirs/mae_vit-small-p16_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth'),
    base_p16=_size('base', 'work_dirs/mae_vit-base-p16_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth'),
    large_p16=_size('large', 'work_dirs/mae_vit-large-p16_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth'),
    huge_p14=_size('huge', 'work_dirs/mae_vit-huge-p14_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth'),
    # past ViT-H, pretrained sharded (no transfer configs yet); an arch name that is no identifier
    # gets 'vit' in front and '_' for '.' ('6.5b' -> vit6_5b_p14)
    giant_p14=_size('giant', 'work_dirs/mae_vit-giant-p14_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth'),
    vit2b_p14=_size('2b', 'work_dirs/mae_vit-2b-p14_8xb512-amp-coslr-1600e_in1k/epoch_1600.pth'),
    vit6_5b_p14=_size('6.5b', 'work_dirs/mae_vit-6.5b-p14_64xb64-amp-coslr-1600e_in1k/epoch_1600.pth'),
)
del _archs, _size  # not config keys
