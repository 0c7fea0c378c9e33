"""Hugging Face checkpoints in and out: transformers' own ViTMAE is the reference.

Random tiny ``ViTMAEForPreTraining`` models, in transformers 5.x's key layout (``model.state_dict()``)
and in the 4.x one (which 5.x's ``save_pretrained`` still writes), go HF -> ours -> HF; with equal
masking noise both compute the same mask, predictions and loss.
"""
import json
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

import mae_mm  # noqa: F401
from mae_mm.registry import MODELS

from reliability_utils import run

transformers = pytest.importorskip('transformers', reason='transformers is a test extra (requirements/tests.txt)')
safetensors_torch = pytest.importorskip('safetensors.torch')

TINY = dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256, patch_size=8,
            image_size=32, decoder_hidden_size=32, decoder_num_hidden_layers=2, decoder_num_attention_heads=4,
            decoder_intermediate_size=128, layer_norm_eps=1e-6, mask_ratio=0.75, norm_pix_loss=True)
L = (32 // 8) ** 2
# transformers 5.x in-memory names -> the 4.x names (written here independently of mae_mm)
LEGACY = ((r'^vit\.layers\.', 'vit.encoder.layer.'), (r'^layers\.', 'encoder.layer.'),
          (r'\.attention\.q_proj\.', '.attention.attention.query.'),
          (r'\.attention\.k_proj\.', '.attention.attention.key.'),
          (r'\.attention\.v_proj\.', '.attention.attention.value.'),
          (r'\.attention\.o_proj\.', '.attention.output.dense.'),
          (r'\.mlp\.fc1\.', '.intermediate.dense.'), (r'\.mlp\.fc2\.', '.output.dense.'))


def legacy_names(state):
    def rename(key):
        for pattern, new in LEGACY:
            key = re.sub(pattern, new, key)
        return key
    return {rename(k): v for k, v in state.items()}


def perturbed(model, seed=0):
    """Every tensor random, so that a mis-mapped bias, norm or q/k/v row cannot hide behind its init."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.state_dict().values():
            if p.is_floating_point():
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    return model.eval()


def hf_mae(**overrides):
    return perturbed(transformers.ViTMAEForPreTraining(transformers.ViTMAEConfig(**{**TINY, **overrides})))


OUR_CONFIG = """model = dict(
    type='MaskedAutoencoder',
    encoder=dict(type='MAEEncoder', arch=dict(embed_dim=64, depth=2, num_heads=4, patch_size=8),
                 pretrain_img_size=32, mask_ratio=0.75),
    decoder=dict(type='MAEDecoder', embed_dim=32, depth=2, num_heads=4),
    loss=dict(type='MaskedPixelLoss', norm_pix=True))
"""


def ours_mae():
    """Ours with TINY's sizes, built from the config the tool is given."""
    return MODELS.build(Config.fromstring(OUR_CONFIG, '.py').model).eval()


def convert(*args, check=True):
    return run('tools/convert_checkpoint.py', *map(str, args), check=check)


def write_hf_dir(model, directory, layout):
    """``layout``: 'current' (5.x names, model.safetensors), 'legacy' (4.x names, pytorch_model.bin)
    or 'save_pretrained' (whatever the installed transformers writes)."""
    if layout == 'save_pretrained':
        model.save_pretrained(directory)
        return directory
    model.config.save_pretrained(directory)
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if layout == 'current':
        safetensors_torch.save_file(state, osp.join(directory, 'model.safetensors'), metadata={'format': 'pt'})
    else:
        torch.save(legacy_names(state), osp.join(directory, 'pytorch_model.bin'))
    return directory


def inputs(batch=3, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 3, 32, 32, generator=gen), torch.rand(batch, L, generator=gen)


def test_the_two_layouts_are_transformers_own(tmp_path):
    """The 4.x names of this test are what transformers itself reads (and 5.x's save_pretrained writes)."""
    model = hf_mae()
    current, legacy = model.state_dict(), legacy_names(model.state_dict())
    assert 'vit.layers.0.attention.q_proj.weight' in current
    assert 'vit.encoder.layer.0.attention.attention.query.weight' in legacy
    assert 'decoder.decoder_layers.1.intermediate.dense.bias' in legacy
    write_hf_dir(model, tmp_path / 'legacy', 'legacy')
    fresh, info = transformers.ViTMAEForPreTraining.from_pretrained(str(tmp_path / 'legacy'), output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys']
    for key, value in current.items():
        torch.testing.assert_close(fresh.state_dict()[key], value, rtol=0, atol=0, msg=key)
    model.save_pretrained(tmp_path / 'saved')
    saved = safetensors_torch.load_file(str(tmp_path / 'saved' / 'model.safetensors'))
    # 5.x's reverse renaming (layers. -> encoder.layer.) also hits the decoder's decoder_layers.
    assert {k.replace('decoder.decoder_encoder.layer.', 'decoder.decoder_layers.') for k in saved} == set(legacy)


@pytest.mark.parametrize('layout', ['current', 'legacy', 'save_pretrained'])
def test_hf_round_trip_gives_the_same_mask_predictions_and_loss(tmp_path, layout):
    ref = hf_mae()
    src = write_hf_dir(ref, tmp_path / 'hf', layout)
    convert(src, tmp_path / 'ours.pth', '--from', 'hf', '--model', 'pretraining')
    ours = ours_mae()
    result = ours.load_state_dict(torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict'])
    assert not result.missing_keys and not result.unexpected_keys

    imgs, noise = inputs()
    with torch.no_grad():
        out = ref(pixel_values=imgs, noise=noise)
        pred, mask = ours.reconstruct(imgs, noise)
        loss = ours.loss(imgs, noise)['loss']
    torch.testing.assert_close(mask, out.mask, rtol=0, atol=0)
    assert mask.sum(1).tolist() == [L - int(L * 0.25)] * 3
    torch.testing.assert_close(pred, out.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(loss, out.loss, rtol=1e-5, atol=1e-5)

    convert(tmp_path / 'ours.pth', tmp_path / 'back', '--to', 'hf')  # heads etc. from the meta's hf_config
    back, info = transformers.ViTMAEForPreTraining.from_pretrained(str(tmp_path / 'back'), output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys']
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(back.state_dict()[key], value, rtol=0, atol=0, msg=key)
    for key in TINY:
        assert getattr(back.config, key) == getattr(ref.config, key), key


def test_export_loads_with_from_pretrained_and_reproduces_our_outputs(tmp_path):
    ours = perturbed(ours_mae())
    torch.save(dict(state_dict=ours.state_dict(), meta=dict()), tmp_path / 'ours.pth')
    (tmp_path / 'mae_tiny.py').write_text(OUR_CONFIG)
    convert(tmp_path / 'ours.pth', tmp_path / 'hf', '--to', 'hf', '--config', tmp_path / 'mae_tiny.py')
    config = json.loads((tmp_path / 'hf' / 'config.json').read_text())
    assert config['architectures'] == ['ViTMAEForPreTraining'] and config['layer_norm_eps'] == 1e-6
    assert (config['mask_ratio'], config['norm_pix_loss'], config['decoder_num_attention_heads']) == (0.75, True, 4)
    hf, info = transformers.ViTMAEForPreTraining.from_pretrained(str(tmp_path / 'hf'), output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys']
    imgs, noise = inputs(seed=5)
    with torch.no_grad():
        out = hf.eval()(pixel_values=imgs, noise=noise)
        pred, mask = ours.reconstruct(imgs, noise)
        loss = ours.loss(imgs, noise)['loss']
    torch.testing.assert_close(out.mask, mask, rtol=0, atol=0)
    torch.testing.assert_close(out.logits, pred, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.loss, loss, rtol=1e-5, atol=1e-5)


def test_encoder_export_is_a_vitmae_model_with_our_features(tmp_path):
    ours = perturbed(ours_mae())
    encoder = {k: v for k, v in ours.state_dict().items() if k.startswith('encoder.')}
    torch.save(dict(state_dict=encoder, meta=dict()), tmp_path / 'enc.pth')
    (tmp_path / 'mae_tiny.py').write_text(OUR_CONFIG)
    convert(tmp_path / 'enc.pth', tmp_path / 'hf', '--to', 'hf', '--config', tmp_path / 'mae_tiny.py')
    config = json.loads((tmp_path / 'hf' / 'config.json').read_text())
    assert config['architectures'] == ['ViTMAEModel'] and 'decoder_hidden_size' not in config
    hf, info = transformers.ViTMAEModel.from_pretrained(str(tmp_path / 'hf'), output_loading_info=True)
    assert not info['missing_keys'] and not info['unexpected_keys']
    imgs, noise = inputs(seed=6)
    with torch.no_grad():
        out = hf.eval()(pixel_values=imgs, noise=noise)
        latent, mask, ids_restore = ours.encoder(imgs, noise)
    torch.testing.assert_close(out.last_hidden_state, latent, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.ids_restore, ids_restore, rtol=0, atol=0)


def test_hf_classifier_becomes_a_cls_token_classifier_with_its_logits(tmp_path):
    from mmengine.registry import DefaultScope, init_default_scope
    from mmpretrain.registry import MODELS as MMPRETRAIN
    cfg = transformers.ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                                 patch_size=8, image_size=32, num_labels=5, layer_norm_eps=1e-6)
    ref = perturbed(transformers.ViTForImageClassification(cfg))
    ref.save_pretrained(tmp_path / 'hf')
    convert(tmp_path / 'hf', tmp_path / 'ours.pth', '--from', 'hf')
    init_default_scope('mmpretrain')
    try:
        clf = MMPRETRAIN.build(dict(
            type='ImageClassifier',
            backbone=dict(type='mae_mm.ViTClsBackbone', arch=dict(embed_dim=64, depth=2, num_heads=4, patch_size=8),
                          img_size=32, out_type='cls_token'),
            head=dict(type='LinearClsHead', num_classes=5, in_channels=64))).eval()
    finally:
        DefaultScope._instance_dict.clear()
    result = clf.load_state_dict(torch.load(tmp_path / 'ours.pth', weights_only=True)['state_dict'], strict=False)
    assert not result.missing_keys and not result.unexpected_keys
    imgs, _ = inputs(seed=7)
    with torch.no_grad():
        torch.testing.assert_close(clf(imgs, mode='tensor'), ref(pixel_values=imgs).logits, rtol=1e-5, atol=1e-5)


# -- bad input ---------------------------------------------------------------------------------
def test_a_plain_vit_without_decoder_is_refused_as_a_pretraining_model(tmp_path):
    cfg = transformers.ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
                                 patch_size=8, image_size=32)
    transformers.ViTModel(cfg).save_pretrained(tmp_path / 'vit')
    proc = convert(tmp_path / 'vit', tmp_path / 'ours.pth', '--from', 'hf', '--model', 'pretraining', check=False)
    assert proc.returncode != 0 and not osp.exists(tmp_path / 'ours.pth')
    assert 'decoder.decoder_embed.weight' in proc.stderr and 'decoder.mask_token' in proc.stderr
    assert '--model encoder' in proc.stderr
    convert(tmp_path / 'vit', tmp_path / 'enc.pth', '--from', 'hf', '--model', 'encoder')  # what it is, it converts
    state = torch.load(tmp_path / 'enc.pth', weights_only=True)['state_dict']
    assert all(k.startswith('encoder.') for k in state) and 'encoder.blocks.1.attn.qkv.weight' in state


def test_another_activation_is_refused_naming_hidden_act(tmp_path):
    write_hf_dir(hf_mae(hidden_act='relu'), tmp_path / 'hf', 'save_pretrained')
    proc = convert(tmp_path / 'hf', tmp_path / 'ours.pth', '--from', 'hf', check=False)
    assert proc.returncode != 0 and not osp.exists(tmp_path / 'ours.pth')
    assert "hidden_act='relu'" in proc.stderr and 'config.json' in proc.stderr


def test_a_config_that_contradicts_the_weights_or_the_requested_model_is_refused(tmp_path):
    write_hf_dir(hf_mae(), tmp_path / 'hf', 'save_pretrained')
    eight_heads = OUR_CONFIG.replace('depth=2, num_heads=4, patch_size', 'depth=2, num_heads=8, patch_size')
    (tmp_path / 'mae_tiny.py').write_text(eight_heads)
    proc = convert(tmp_path / 'hf', tmp_path / 'ours.pth', '--from', 'hf', '--config', tmp_path / 'mae_tiny.py',
                   check=False)
    assert proc.returncode != 0 and 'num_attention_heads=4, but the requested model has 8' in proc.stderr
    config = json.loads((tmp_path / 'hf' / 'config.json').read_text())
    (tmp_path / 'hf' / 'config.json').write_text(json.dumps({**config, 'decoder_num_hidden_layers': 3}))
    proc = convert(tmp_path / 'hf', tmp_path / 'ours.pth', '--from', 'hf', check=False)
    assert proc.returncode != 0 and 'decoder_num_hidden_layers=3, but the weights have 2' in proc.stderr


@pytest.mark.parametrize('change, message', [
    (dict(model_type='vit_msn'), "model_type='vit_msn'"),
    (dict(qkv_bias=False), 'qkv_bias=False'),
    (dict(hidden_size=96), 'hidden_size=96, but the weights have 64'),
    (dict(patch_size=16), 'patch_size=16, but the weights have 8'),
    (dict(patch_size=[8, 16]), 'patch_size=[8, 16]: mae_mm converts a square patch_size only'),
    (dict(num_attention_heads=3), 'hidden_size=64 is not divisible by num_attention_heads=3'),
])
def test_config_json_of_another_architecture_is_refused_naming_the_key(change, message):
    from mae_mm.checkpoint.hf_config import check_hf_config
    state = {k: v for k, v in TINY.items() if k in ('hidden_size', 'num_hidden_layers', 'intermediate_size',
                                                    'patch_size', 'decoder_hidden_size')}
    config = dict(transformers.ViTMAEConfig(**TINY).to_dict(), **change)
    assert check_hf_config(dict(transformers.ViTMAEConfig(**TINY).to_dict()), 'hf/config.json', state) == []
    with pytest.raises(ValueError, match='hf/config.json describes a model mae_mm does not compute') as err:
        check_hf_config(config, 'hf/config.json', state)
    assert message in str(err.value)


def test_another_layer_norm_eps_only_warns_and_says_what_it_changes(tmp_path):
    write_hf_dir(hf_mae(layer_norm_eps=1e-12), tmp_path / 'hf', 'save_pretrained')
    proc = convert(tmp_path / 'hf' / 'model.safetensors', tmp_path / 'ours.pth', '--from', 'hf')
    assert 'layer_norm_eps=1e-12' in proc.stderr and 'sqrt(var + 1e-06)' in proc.stderr
    assert osp.exists(tmp_path / 'ours.pth')


def test_a_truncated_safetensors_file_is_named(tmp_path):
    path = write_hf_dir(hf_mae(), tmp_path / 'hf', 'save_pretrained') / 'model.safetensors'
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    proc = convert(tmp_path / 'hf', tmp_path / 'ours.pth', '--from', 'hf', check=False)
    assert proc.returncode != 0 and 'Traceback' not in proc.stderr
    assert f'{path} is not a readable .safetensors file' in proc.stderr


def test_export_takes_the_heads_from_the_training_config_mmengine_stores(tmp_path):
    ours = perturbed(ours_mae())
    text = Config.fromstring(OUR_CONFIG, '.py').pretty_text  # what mmengine's runner puts in meta['cfg']
    torch.save(dict(state_dict=ours.state_dict(), meta=dict(cfg=text)), tmp_path / 'epoch_1.pth')
    convert(tmp_path / 'epoch_1.pth', tmp_path / 'hf', '--to', 'hf')
    config = json.loads((tmp_path / 'hf' / 'config.json').read_text())
    assert {key: config[key] for key in TINY if key != 'layer_norm_eps'} == \
        {key: value for key, value in TINY.items() if key != 'layer_norm_eps'}


def test_export_without_a_source_for_the_heads_is_refused(tmp_path):
    torch.save(dict(state_dict=perturbed(ours_mae()).state_dict(), meta=dict()), tmp_path / 'ours.pth')
    proc = convert(tmp_path / 'ours.pth', tmp_path / 'hf', '--to', 'hf', check=False)
    assert proc.returncode != 0 and not osp.exists(tmp_path / 'hf' / 'config.json')
    assert 'num_attention_heads, decoder_num_attention_heads' in proc.stderr and '--config' in proc.stderr
