"""The pretraining model: shapes, gradients, repeatability, clear config errors."""
import pytest
import torch

import mae_mm  # noqa: F401
from mae_mm.models import MaskedAutoencoder
from mae_mm.models.vit import patchify


def tiny_mae(**encoder):
    enc = dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8, mask_ratio=0.75)
    enc.update(encoder)
    return MaskedAutoencoder(encoder=enc, decoder=dict(type='MAEDecoder', embed_dim=64, depth=2, num_heads=4),
                             loss=dict(type='MaskedPixelLoss', norm_pix=True))


def test_reconstruct_shapes_and_mask():
    model = tiny_mae()
    pred, mask = model.reconstruct(torch.randn(2, 3, 32, 32))
    assert pred.shape == (2, 16, 8 * 8 * 3)
    assert mask.shape == (2, 16)
    assert torch.all(mask.sum(1) == 12)


def test_every_trainable_parameter_gets_a_gradient_and_position_tables_stay_frozen():
    torch.manual_seed(0)
    model = tiny_mae()
    model.loss(torch.randn(2, 3, 32, 32))['loss'].backward()
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {'encoder.pos_embed', 'decoder.pos_embed'}
    for name, param in trainable.items():
        assert param.grad is not None and param.grad.abs().sum() > 0, f'{name} got no gradient'
    assert 'decoder.pos_embed' in model.state_dict() and 'encoder.pos_embed' in model.state_dict()


def test_same_weights_and_noise_give_the_same_loss_and_noise_decides_the_mask():
    model = tiny_mae()
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    a = model.loss(imgs, noise)['loss']
    b = model.loss(imgs, noise)['loss']
    assert a.item() == b.item()
    _, mask = model.reconstruct(imgs, noise)
    expected = torch.ones(2, 16)
    expected.scatter_(1, noise.argsort(1)[:, :4], 0)
    assert torch.equal(mask, expected)


def test_loss_equals_masked_mse_computed_by_hand():
    model = tiny_mae()
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    pred, mask = model.reconstruct(imgs, noise)
    target = patchify(imgs, 8)
    target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
    by_hand = (((pred - target) ** 2).mean(-1) * mask).sum() / mask.sum()
    torch.testing.assert_close(model.loss(imgs, noise)['loss'], by_hand)
    torch.testing.assert_close(model.per_sample_loss(imgs, noise).mean(), by_hand)  # equal masked counts


def test_predict_mode_is_repeatable():
    model = tiny_mae().eval()
    imgs = torch.randn(3, 3, 32, 32)
    first = [s.recon_loss for s in model(imgs, mode='predict')]
    torch.manual_seed(123)
    second = [s.recon_loss for s in model(imgs, mode='predict')]
    assert first == second


def test_the_model_learns_a_fixed_batch():
    torch.manual_seed(0)
    model = tiny_mae()
    imgs = torch.randn(4, 3, 32, 32)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    first = None
    for _ in range(30):
        loss = model.loss(imgs)['loss']
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.7 * first


def test_inconsistent_decoder_and_bad_ratio_fail_at_build():
    with pytest.raises(ValueError, match=r'model.decoder.in_dim=768 is inconsistent with the encoder'):
        MaskedAutoencoder(encoder=dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8),
                          decoder=dict(type='MAEDecoder', in_dim=768))
    with pytest.raises(ValueError, match=r'mask_ratio must lie in \(0, 1\), got 1.5'):
        tiny_mae(mask_ratio=1.5)


def test_wrong_input_resolution_is_refused():
    with pytest.raises(ValueError, match=r'expects \(32, 32\) inputs'):
        tiny_mae().loss(torch.randn(1, 3, 48, 48))
