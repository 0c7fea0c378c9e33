"""The reference toolboxes' counterparts of our configs, and the optimizer wrapper each side runs under.

mmpretrain's MAE for a pretraining config, our classifier with mmpretrain's VisionTransformer for a
fine-tuning config, our UperNet with mmseg's MAE backbone and ``Feature2Pyramid`` for an ADE20K config:
each at the config's sizes, so that only the implementation differs.
"""
from mae_mm.models.vit import resolve_arch
from mae_mm.registry import MODELS

from .batches import image_size, task_of


def optim_wrapper_cfg(cfg, amp: str, ours: bool = True) -> dict:
    """The config's optimizer under our wrappers (``AutocastOptimWrapper``; ``SkipNonFiniteOptimWrapper``
    for ``amp='none'``), or (``ours=False``) under mmengine's (``AmpOptimWrapper``, ``OptimWrapper``) with the
    reference toolbox's layer-decay constructor."""
    wrapper = cfg.optim_wrapper.copy()
    if amp == 'none':
        wrapper.type = 'mae_mm.SkipNonFiniteOptimWrapper' if ours else 'OptimWrapper'
        for key in ('dtype', 'loss_scale'):
            wrapper.pop(key, None)
    else:
        wrapper.type = 'mae_mm.AutocastOptimWrapper' if ours else 'AmpOptimWrapper'
        wrapper.dtype = dict(bf16='bfloat16', fp16='float16')[amp]
    if not ours and 'ViTLayerDecay' in wrapper.get('constructor', ''):
        # ours reads our ViT's parameter names; the reference toolboxes' configs use their own
        decay = wrapper.paramwise_cfg.get('layer_decay_rate', 0.65)
        if task_of(cfg) == 'segment':
            depth = resolve_arch(cfg.model.backbone.arch)['depth']
            wrapper.constructor = 'mmseg.LayerDecayOptimizerConstructor'
            wrapper.paramwise_cfg = dict(num_layers=depth, layer_decay_rate=decay)
        else:
            wrapper.constructor = 'mmpretrain.LearningRateDecayOptimWrapperConstructor'
            wrapper.paramwise_cfg = dict(layer_decay_rate=decay, custom_keys={
                key: dict(decay_mult=0.0) for key in ('.ln', '.bias', '.cls_token', '.pos_embed')})
    return wrapper


def mmpretrain_mae(cfg):
    """mmpretrain's MAE at our config's sizes."""
    enc, dec = cfg.model.encoder, cfg.model.decoder
    arch = resolve_arch(enc.arch)
    patch = enc.get('patch_size') or arch['patch_size']
    size = image_size(cfg)
    grid = (size[0] // patch) * (size[1] // patch)
    return MODELS.build(dict(
        type='mmpretrain.MAE',
        data_preprocessor=dict(type='mmpretrain.SelfSupDataPreprocessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], to_rgb=True),
        backbone=dict(type='mmpretrain.MAEViT', img_size=size, patch_size=patch, mask_ratio=enc.get('mask_ratio', 0.75),
                      arch=dict(embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
                                feedforward_channels=int(arch['embed_dim'] * arch['mlp_ratio']))),
        neck=dict(type='mmpretrain.MAEPretrainDecoder', patch_size=patch, in_chans=3, embed_dim=arch['embed_dim'],
                  decoder_embed_dim=dec.get('embed_dim', 512), decoder_depth=dec.get('depth', 8),
                  decoder_num_heads=dec.get('num_heads', 16), mlp_ratio=4.0, num_patches=grid),
        head=dict(type='mmpretrain.MAEPretrainHead', norm_pix=True, patch_size=patch,
                  loss=dict(type='mmpretrain.PixelReconstructionLoss', criterion='L2'))))


def mmpretrain_classifier(cfg):
    """The fine-tuning config's classifier with mmpretrain's ViT in place of ours (same sizes)."""
    model = cfg.model.copy()
    ours = model.backbone
    arch = resolve_arch(ours.arch)
    model.backbone = dict(
        type='mmpretrain.VisionTransformer', img_size=image_size(cfg),
        patch_size=ours.get('patch_size') or arch['patch_size'], drop_path_rate=ours.get('drop_path_rate', 0.0),
        out_type=ours.get('out_type', 'avg_featmap'), final_norm=False,  # avg pool + fc_norm, as the paper
        arch=dict(embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
                  feedforward_channels=int(arch['embed_dim'] * arch['mlp_ratio'])))
    return MODELS.build(model)


def mmseg_upernet(cfg):
    """The UperNet config's segmentor with mmseg's MAE backbone and Feature2Pyramid (same sizes)."""
    model = cfg.model.copy()
    ours = model.backbone
    arch = resolve_arch(ours.arch)
    model.backbone = dict(
        type='mmseg.MAE', img_size=image_size(cfg), patch_size=ours.get('patch_size') or arch['patch_size'],
        embed_dims=arch['embed_dim'], num_layers=arch['depth'], num_heads=arch['num_heads'],
        mlp_ratio=int(arch['mlp_ratio']), out_indices=list(ours.out_indices),
        drop_path_rate=ours.get('drop_path_rate', 0.0), norm_cfg=dict(type='LN', eps=1e-6), init_values=1.0)
    model.neck = dict(type='mmseg.Feature2Pyramid', embed_dim=model.neck.embed_dim, rescales=model.neck.rescales,
                      norm_cfg=model.neck.get('norm_cfg', dict(type='SyncBN', requires_grad=True)))
    return MODELS.build(model)


def reference(cfg):
    """(toolbox, builder) of the config's counterpart in mmpretrain or mmseg, or (None, None)."""
    task = task_of(cfg)
    if task == 'pretrain':
        return 'mmpretrain', lambda: mmpretrain_mae(cfg)
    if task == 'classify' and 'ViTClsBackbone' in cfg.model.backbone.type:
        return 'mmpretrain', lambda: mmpretrain_classifier(cfg)
    if task == 'segment' and 'SegViTBackbone' in cfg.model.backbone.type:
        return 'mmseg', lambda: mmseg_upernet(cfg)
    return None, None
