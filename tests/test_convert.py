"""Checkpoint conversion reproduces the source model's outputs (mmpretrain, official/timm)."""
import pytest
import torch
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.models import MaskedAutoencoder
from mae_mm.models.cls import ViTClsBackbone
from mae_mm.models.vit import PlainViT

from conftest import run_tool

timm = pytest.importorskip('timm', reason='timm is a test extra (requirements/tests.txt)')

ARCH = dict(embed_dim=192, depth=2, num_heads=3, patch_size=8)
POSITION_GRID = dict(pretrain_img_size=32)  # the encoder's stored position grid, as its constructor names it


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def perturbed(module):
    """Every tensor random, so that a mis-mapped bias or norm cannot hide behind its init."""
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.state_dict().values():
            if p.is_floating_point():
                p.add_(torch.randn_like(p) * 0.1)
    return module.eval()


def ours_mae():
    return MaskedAutoencoder(encoder=dict(type='MAEEncoder', arch=ARCH, **POSITION_GRID),
                             decoder=dict(type='MAEDecoder', embed_dim=64, depth=1, num_heads=4)).eval()


def timm_vit(**kwargs):
    return timm.models.vision_transformer.VisionTransformer(
        img_size=32, patch_size=8, embed_dim=192, depth=2, num_heads=3, mlp_ratio=4.0, qkv_bias=True, **kwargs)


def test_mmpretrain_mae_converts_to_the_same_features_and_reconstruction(tmp_path):
    from mmpretrain.registry import MODELS as MMPRETRAIN
    init_default_scope('mmpretrain')
    ref = perturbed(MMPRETRAIN.build(dict(
        type='MAE',
        backbone=dict(type='MAEViT', arch=dict(embed_dims=192, num_layers=2, num_heads=3, feedforward_channels=768),
                      img_size=32, patch_size=8, mask_ratio=0.75),
        neck=dict(type='MAEPretrainDecoder', patch_size=8, in_chans=3, embed_dim=192, decoder_embed_dim=64,
                  decoder_depth=1, decoder_num_heads=4, mlp_ratio=4., num_patches=16),
        head=dict(type='MAEPretrainHead', norm_pix=True, patch_size=8,
                  loss=dict(type='PixelReconstructionLoss', criterion='L2')))))
    torch.save(dict(state_dict=ref.state_dict(), meta=dict()), tmp_path / 'mmpretrain.pth')
    out = run_tool('tools/convert_checkpoint.py', str(tmp_path / 'mmpretrain.pth'), str(tmp_path / 'ours.pth'),
                   '--from', 'mmpretrain')
    assert 'could not place 0' in out

    ours = ours_mae()
    result = ours.load_state_dict(torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict'])
    assert not result.missing_keys and not result.unexpected_keys

    imgs = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.manual_seed(7)  # mmpretrain draws its masking noise as torch.rand(B, L)
        ref_latent, ref_mask, ref_restore = ref.backbone(imgs)
        ref_pred = ref.neck(ref_latent, ref_restore)
        torch.manual_seed(7)
        noise = torch.rand(3, 16)
        latent, mask, restore = ours.encoder(imgs, noise)
        pred, mask2 = ours.reconstruct(imgs, noise)
    torch.testing.assert_close(mask, ref_mask)
    torch.testing.assert_close(latent, ref_latent, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pred, ref_pred, atol=1e-5, rtol=1e-5)


def test_official_encoder_gives_timms_features(tmp_path):
    ref = perturbed(timm_vit(num_classes=0, global_pool='token'))
    torch.save(dict(model=ref.state_dict()), tmp_path / 'mae_pretrain_vit_tiny.pth')
    out = run_tool('tools/convert_checkpoint.py', str(tmp_path / 'mae_pretrain_vit_tiny.pth'),
                   str(tmp_path / 'ours.pth'), '--from', 'official')
    assert 'could not place 0' in out
    state = torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict']
    assert all(k.startswith('encoder.') for k in state)
    vit = PlainViT(arch=ARCH, **POSITION_GRID,
                   init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'ours.pth'), prefix='encoder.'))
    vit.init_weights()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(vit.eval()(x), ref.forward_features(x), atol=1e-5, rtol=1e-5)


def test_official_finetuned_classifier_gives_timms_logits(tmp_path):
    from mmpretrain.registry import MODELS as MMPRETRAIN
    ref = perturbed(timm_vit(num_classes=5, global_pool='avg', fc_norm=True))
    torch.save(dict(model=ref.state_dict()), tmp_path / 'mae_finetuned.pth')
    run_tool('tools/convert_checkpoint.py', str(tmp_path / 'mae_finetuned.pth'), str(tmp_path / 'ours.pth'),
             '--from', 'official')
    init_default_scope('mmpretrain')
    clf = MMPRETRAIN.build(dict(type='ImageClassifier',
                                backbone=dict(type='mae_mm.ViTClsBackbone', arch=ARCH, img_size=32),
                                head=dict(type='LinearClsHead', num_classes=5, in_channels=192))).eval()
    result = clf.load_state_dict(torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict'], strict=False)
    assert not result.missing_keys and not result.unexpected_keys
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(clf(x, mode='tensor'), ref(x), atol=1e-5, rtol=1e-5)


def test_official_visualize_checkpoint_fills_the_whole_pretraining_model(tmp_path):
    ours = perturbed(ours_mae())
    official_name = [('encoder.', ''), ('decoder.mask_token', 'mask_token'), ('decoder.pos_embed', 'decoder_pos_embed'),
                     ('decoder.embed.', 'decoder_embed.'), ('decoder.blocks.', 'decoder_blocks.'),
                     ('decoder.norm.', 'decoder_norm.'), ('decoder.pred.', 'decoder_pred.')]

    def rename(key):
        for new, old in official_name:
            if key.startswith(new):
                return old + key[len(new):]
        raise KeyError(key)

    official = {rename(k): v for k, v in ours.state_dict().items()}
    assert 'decoder_blocks.0.attn.qkv.weight' in official and 'blocks.1.mlp.fc2.bias' in official
    torch.save(dict(model=official), tmp_path / 'mae_visualize.pth')
    run_tool('tools/convert_checkpoint.py', str(tmp_path / 'mae_visualize.pth'), str(tmp_path / 'ours.pth'),
             '--from', 'official')
    fresh = ours_mae()
    fresh.load_state_dict(torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict'])
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    with torch.no_grad():
        torch.testing.assert_close(fresh.reconstruct(imgs, noise)[0], ours.reconstruct(imgs, noise)[0])


def test_export_to_timm_reproduces_our_features(tmp_path):
    ours = perturbed(ours_mae())
    torch.save(dict(state_dict=ours.state_dict(), meta=dict()), tmp_path / 'ours.pth')
    out = run_tool('tools/convert_checkpoint.py', str(tmp_path / 'ours.pth'), str(tmp_path / 'timm.pth'),
                   '--to', 'timm')
    assert 'decoder.pred.weight' in out.split('dropped')[1]
    ref = timm_vit(num_classes=0, global_pool='token')
    ref.load_state_dict(torch.load(tmp_path / 'timm.pth', weights_only=True))
    vit = PlainViT(arch=ARCH, **POSITION_GRID)
    vit.load_state_dict({k[len('encoder.'):]: v for k, v in ours.state_dict().items() if k.startswith('encoder.')})
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(ref.eval().forward_features(x), vit.eval()(x), atol=1e-5, rtol=1e-5)


def test_untrusted_pickles_are_refused_with_advice(tmp_path):
    torch.save(dict(model={'w': torch.ones(1)}, extra=ViTClsBackbone), tmp_path / 'odd.pth')
    with pytest.raises(AssertionError, match='--trust-source'):
        run_tool('tools/convert_checkpoint.py', str(tmp_path / 'odd.pth'), str(tmp_path / 'x.pth'),
                 '--from', 'official')


def test_safetensors_in_and_out_give_the_same_weights_as_torch_files(tmp_path):
    """--from official writing .safetensors, then --to timm reading it and writing .safetensors,
    loads into timm's ViT with the same features as the .pth path."""
    safetensors_torch = pytest.importorskip('safetensors.torch')
    ref = perturbed(timm_vit(num_classes=0, global_pool='token'))
    torch.save(dict(model=ref.state_dict()), tmp_path / 'mae_pretrain_vit_tiny.pth')
    run_tool('tools/convert_checkpoint.py', str(tmp_path / 'mae_pretrain_vit_tiny.pth'),
             str(tmp_path / 'ours.safetensors'), '--from', 'official')
    ours = safetensors_torch.load_file(str(tmp_path / 'ours.safetensors'))
    assert set(ours) == {'encoder.' + k for k in ref.state_dict()}
    run_tool('tools/convert_checkpoint.py', str(tmp_path / 'ours.safetensors'), str(tmp_path / 'timm.safetensors'),
             '--to', 'timm')
    back = timm_vit(num_classes=0, global_pool='token')
    back.load_state_dict(safetensors_torch.load_file(str(tmp_path / 'timm.safetensors')))
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(back.eval().forward_features(x), ref.forward_features(x), rtol=0, atol=0)


def test_our_safetensors_checkpoint_keeps_its_meta(tmp_path):
    from mae_mm.checkpoint.file_io import read_checkpoint, write_checkpoint
    state = {'encoder.cls_token': torch.randn(1, 1, 8), 'decoder.mask_token': torch.randn(1, 1, 4)}
    write_checkpoint(str(tmp_path / 'x.safetensors'), state, dict(converted_from='official', source='/a/b.pth'))
    back = read_checkpoint(str(tmp_path / 'x.safetensors'))
    assert back['meta'] == dict(converted_from='official', source='/a/b.pth')
    assert set(back['state_dict']) == set(state)
    for key, value in state.items():
        torch.testing.assert_close(back['state_dict'][key], value, rtol=0, atol=0)
