"""Reconstruction targets (MAE Table 1d, MaskFeat's HOG): HOG pinned to mmpretrain's HOGGenerator
where that one works and to its own definition where it does not, the pixel targets to today's
loss, a token target with cross-entropy through the same interface, the HOG panel, clear errors,
and the demo pretraining through tools/train.py with each target."""
import math
import os
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from PIL import Image

from conftest import DEMO_PRETRAIN, ROOT, read_scalars, scalars_by_step
from mae_mm.models import (HOGTarget, MaskedAutoencoder, MaskedPixelLoss, NormalizedPixelTarget, PixelTarget,
                           ReconstructionTarget)
from mae_mm.models.vit import patchify
from mae_mm.visualization import HOG_TITLES, hog_glyphs, hog_images, reconstruction_panel
from reliability_utils import run

MEAN = torch.tensor([123.675, 116.28, 103.53]).view(1, 3, 1, 1)
STD = torch.tensor([58.395, 57.12, 57.375]).view(1, 3, 1, 1)


@pytest.fixture(autouse=True)
def _one_thread():
    """Small tensors: on a shared machine more threads only wait for each other."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def photo_like(b, h, w, seed=0):
    """(B, 3, H, W) normalised images with edges at every scale: smoothed noise plus a few discs."""
    gen = torch.Generator().manual_seed(seed)
    raw = F.avg_pool2d(torch.rand(b, 3, h + 4, w + 4, generator=gen) * 255, 5, stride=1)
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    for _ in range(4):
        cy, cx, r = (torch.rand(3, generator=gen) * torch.tensor([h, w, min(h, w) / 3])).tolist()
        raw[:, 1] += 80 * (((yy - cy) ** 2 + (xx - cx) ** 2) < r ** 2)
    return (raw - MEAN) / STD


def mmpretrain_hog(**kwargs):
    from mmpretrain.models.selfsup import HOGGenerator
    return HOGGenerator(nbins=9, pool=8, **kwargs)


def tiny_mae(target=None, size=64, patch=8, **encoder):
    enc = dict(type='MAEEncoder', arch='tiny', pretrain_img_size=size, patch_size=patch, mask_ratio=0.75, **encoder)
    preprocessor = dict(type='mae_mm.MAEDataPreprocessor', mean=MEAN.flatten().tolist(), std=STD.flatten().tolist())
    return MaskedAutoencoder(encoder=enc, decoder=dict(type='MAEDecoder', embed_dim=32, depth=1, num_heads=2),
                             target=target, data_preprocessor=preprocessor)


def stripes(size, period):
    """(1, 3, size, size) horizontal stripes of whole numbers (0-255), so that each Sobel sum along a
    row is exactly 0 whatever the order of its terms."""
    return torch.arange(float(size)).mul(2 * math.pi / period).sin().mul(100).add(128).round().view(
        1, 1, size, 1).expand(1, 3, size, size)


# --- HOG against mmpretrain and its definition ---------------------------------------------------------------------

def test_hog_matches_mmpretrain_at_224_px_with_16_px_patches_value_for_value():
    imgs = photo_like(2, 224, 224)
    ours = HOGTarget().targets(imgs, 16)
    theirs = mmpretrain_hog(gaussian_window=16)(imgs)
    assert ours.shape == theirs.shape == (2, 196, 108)  # 14 x 14 patches, 3 channels x 9 bins x 2 x 2 cells
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)  # elementwise: the per-patch order too
    assert (ours.abs().sum(-1) > 0).all(), 'every patch has gradients'


def test_hog_on_a_non_square_image_is_mmpretrains_of_its_mirrored_square_extension():
    # mmpretrain fails on 224 x 320 (its Gaussian tiling assumes a square image); a 320 x 320 image whose
    # rows 224.. mirror rows 222.. has, under reflect padding, the same gradients in its first 224 rows
    imgs = photo_like(1, 224, 320, seed=1)
    square = torch.cat([imgs, imgs.flip(2)[:, :, 1:97]], dim=2)  # row 224 + i = row 222 - i
    with pytest.raises(RuntimeError):
        mmpretrain_hog(gaussian_window=16)(imgs)
    ours = HOGTarget().targets(imgs, 16)
    theirs = mmpretrain_hog(gaussian_window=16)(square).view(1, 20, 20, 108)[:, :14]
    assert ours.shape == (1, 14 * 20, 108)
    torch.testing.assert_close(ours.view(1, 14, 20, 108), theirs, atol=1e-5, rtol=1e-5)


def test_hog_at_64_px_with_8_px_patches_has_mmpretrains_cell_histograms():
    from mmpretrain.models.selfsup import HOGGenerator

    class Cells(HOGGenerator):
        def _reshape(self, hog):  # the cells before mmpretrain's grouping, which needs 14 patches a side
            return hog

    imgs = photo_like(2, 64, 64, seed=2)
    with pytest.raises(RuntimeError):
        mmpretrain_hog(gaussian_window=8)(imgs)  # 8 cells // 14 = 0 cells per patch
    target = HOGTarget()
    ours = target.targets(imgs, 8)
    assert ours.shape == (2, 64, 27) and target.out_dim(8, 3) == 27  # one 8-px cell per patch
    cells = Cells(nbins=9, pool=8, gaussian_window=8)(imgs)  # (B, 3, 9, 8, 8), the window = the 8-px patch
    torch.testing.assert_close(target.cell_histograms(ours, 8, (8, 8)), cells, atol=1e-5, rtol=1e-5)


def test_hog_bins_orientations_and_ignores_the_preprocessor_normalisation():
    horizontal = stripes(32, period=25)
    target = HOGTarget()
    for raw, lit in ((horizontal, 0), (horizontal.transpose(2, 3), 4)):  # bin 4 spans 80-100 degrees
        cells = target.cell_histograms(target.targets(raw, 16), 16, (2, 2))  # (1, 3, 9, 4, 4)
        expected = torch.zeros(9)
        expected[lit] = 1
        torch.testing.assert_close(cells.permute(0, 1, 3, 4, 2).reshape(-1, 9), expected.expand(48, 9))
    # the stated input domain: normalised or raw 0-255 pixels give the same targets
    raw = photo_like(2, 32, 32, seed=3) * STD + MEAN
    torch.testing.assert_close(target.targets(raw, 16), target.targets((raw - MEAN) / STD, 16), atol=1e-5, rtol=1e-4)


# --- the interface: pixel targets keep today's loss, a token target uses cross-entropy ----------------------------

def test_pixel_targets_are_the_old_loss_and_the_old_key_builds_the_same_model():
    pred, imgs = torch.randn(2, 16, 192), torch.randn(2, 3, 32, 32)
    patches = patchify(imgs, 8)
    mask = torch.tensor([[1.] * 12 + [0.] * 4, [0.] * 6 + [1.] * 10])  # unequal masked counts
    for new, old in ((NormalizedPixelTarget(), MaskedPixelLoss(norm_pix=True)),
                     (PixelTarget(), MaskedPixelLoss(norm_pix=False))):
        targets = new.targets(imgs, 8)
        assert torch.equal(targets, old.target(patches))
        assert torch.equal(new.loss(pred, targets, mask), old(pred, patches, mask))
        per_patch = ((pred - targets) ** 2).mean(-1)
        by_hand = torch.stack([per_patch[b][mask[b] > 0].mean() for b in range(2)])
        torch.testing.assert_close(new.per_sample_loss(pred, targets, mask), by_hand)
    enc = dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8)
    dec = dict(type='MAEDecoder', embed_dim=32, depth=1, num_heads=2)
    old_model = MaskedAutoencoder(encoder=enc, decoder=dec, loss=dict(type='MaskedPixelLoss', norm_pix=True))
    new_model = MaskedAutoencoder(encoder=enc, decoder=dec, target=dict(type='NormalizedPixelTarget'))
    new_model.load_state_dict(old_model.state_dict())
    noise = torch.rand(2, 16)
    assert torch.equal(old_model.loss(imgs, noise)['loss'], new_model.loss(imgs, noise)['loss'])
    assert type(old_model.target) is MaskedPixelLoss and type(new_model.target) is NormalizedPixelTarget


class MeanTokens(ReconstructionTarget):
    """A toy tokenizer: each patch's mean value quantised to one of 4 tokens."""

    def out_dim(self, patch_size, in_chans):
        return 4

    def targets(self, imgs, patch_size):
        return torch.bucketize(patchify(imgs, patch_size).mean(-1), torch.tensor([-0.5, 0.0, 0.5]))  # (B, L)

    def per_patch_loss(self, pred, targets):
        return F.cross_entropy(pred.flatten(0, 1), targets.flatten(), reduction='none').view(targets.shape)


def test_a_token_target_with_cross_entropy_plugs_into_the_model():
    torch.manual_seed(0)
    model = tiny_mae(target=dict(type=MeanTokens), size=32)
    assert model.decoder.pred.out_features == 4  # the decoder predicts logits over the vocabulary
    imgs, noise = torch.randn(2, 3, 32, 32), torch.rand(2, 16)
    pred, mask = model.reconstruct(imgs, noise)
    tokens = MeanTokens().targets(imgs, 8)
    picked = mask.bool()
    by_hand = F.cross_entropy(pred[picked], tokens[picked])
    torch.testing.assert_close(model.loss(imgs, noise)['loss'], by_hand)
    model.loss(imgs, noise)['loss'].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters() if p.requires_grad)


def test_the_hog_model_predicts_hog_and_its_loss_is_the_masked_mse():
    torch.manual_seed(0)
    model = tiny_mae(target=dict(type='HOGTarget'))
    assert model.decoder.pred.out_features == 27
    imgs, noise = photo_like(2, 64, 64), torch.rand(2, 64)
    pred, mask = model.reconstruct(imgs, noise)
    per_patch = ((pred - HOGTarget().targets(imgs, 8)) ** 2).mean(-1)
    torch.testing.assert_close(model.loss(imgs, noise)['loss'], per_patch[mask.bool()].mean())
    model.loss(imgs, noise)['loss'].backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters() if p.requires_grad)
    assert tiny_mae(target=dict(type='HOGTarget'), size=224, patch=16).decoder.pred.out_features == 108


def test_bad_targets_are_refused_naming_the_key_and_the_allowed_values():
    with pytest.raises(ValueError, match=r"model.target.type='Pixels' is not a reconstruction target; registered "
                                         r'targets: HOGTarget, MaskedPixelLoss, NormalizedPixelTarget, PixelTarget'):
        tiny_mae(target=dict(type='Pixels'))
    with pytest.raises(ValueError, match=r"model.target: HOGTarget computes MaskFeat's HOG of RGB images: "
                                         r'in_chans=1; allowed: 3'):
        tiny_mae(target=dict(type='HOGTarget'), in_chans=1)
    with pytest.raises(ValueError, match=r'in_chans=1; allowed: 3'):  # called directly, on the first batch
        HOGTarget().targets(torch.randn(1, 1, 64, 64), 8)
    with pytest.raises(ValueError, match=r'model.target: HOGTarget: patch_size=12 is not a multiple of cell_size=8'):
        tiny_mae(target=dict(type='HOGTarget'), size=48, patch=12)
    with pytest.raises(ValueError, match=r'gaussian_window=24 does not divide the image size 64 x 64'):
        HOGTarget(gaussian_window=24).targets(torch.randn(1, 3, 64, 64), 8)
    with pytest.raises(ValueError, match=r'the image size 64 x 60 is not a multiple of patch_size=8'):
        HOGTarget().targets(torch.randn(1, 3, 64, 60), 8)
    with pytest.raises(ValueError, match=r'model.decoder.pred_dim=192 is inconsistent with the target \(out_dim=27\)'):
        MaskedAutoencoder(encoder=dict(type='MAEEncoder', arch='tiny', pretrain_img_size=64, patch_size=8),
                          decoder=dict(type='MAEDecoder', pred_dim=192), target=dict(type='HOGTarget'))
    with pytest.raises(TypeError, match=r"'loss' is the old name of 'target'; pass only 'target'"):
        MaskedAutoencoder(encoder=dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8),
                          decoder=dict(type='MAEDecoder'), target=dict(type='PixelTarget'),
                          loss=dict(type='MaskedPixelLoss'))


def test_transformers_norm_pix_loss_is_read_from_the_target_and_a_hog_decoder_is_not_exported():
    from mae_mm.checkpoint.hf_config import facts_from_model_config, facts_from_state, hf_config_for
    model = dict(encoder=dict(type='MAEEncoder', arch='tiny', pretrain_img_size=32, patch_size=8),
                 decoder=dict(type='MAEDecoder', embed_dim=32, depth=1, num_heads=2))
    for key, target, norm_pix in (('target', dict(type='PixelTarget'), False), ('target', None, True),
                                  ('target', dict(type='NormalizedPixelTarget'), True),
                                  ('loss', dict(type='MaskedPixelLoss', norm_pix=False), False)):
        assert facts_from_model_config(dict(model, **{key: target}))['norm_pix_loss'] is norm_pix, (key, target)
    with pytest.raises(ValueError, match=r"model.target='HOGTarget': transformers' ViTMAE decoder predicts pixels"):
        facts_from_model_config(dict(model, target=dict(type='HOGTarget')))
    assert 'norm_pix_loss' not in facts_from_model_config(dict(backbone=model['encoder']))  # an encoder converts
    # without a config: the decoder's head width tells (p * p * 3 = 192 for pixels)
    heads = dict(num_attention_heads=3, decoder_num_attention_heads=2)
    with pytest.raises(ValueError, match=r'the decoder predicts 27 values per patch, not the 192 pixels'):
        hf_config_for(dict(facts_from_state(tiny_mae(target=dict(type='HOGTarget'), size=32).state_dict()), **heads))
    assert hf_config_for(dict(facts_from_state(tiny_mae(size=32).state_dict()), **heads))['patch_size'] == 8


# --- the HOG panel ---------------------------------------------------------------------------------------------

def test_the_hog_panel_draws_the_images_hog_and_the_prediction_on_the_masked_patches():
    torch.manual_seed(0)
    model = tiny_mae(target=dict(type='HOGTarget')).eval()
    imgs, noise = stripes(64, period=19).expand(2, 3, 64, 64), torch.rand(2, 64)
    original, masked, image_hog, pasted_hog, mask = hog_images(model, imgs, noise, cell_px=24)
    assert image_hog.shape == pasted_hog.shape == (2, 192, 192)
    # horizontal stripes: each cell of the image's HOG is one near-horizontal line (bin 0, 10 degrees)
    cell = image_hog[0, :24, :24]
    rows, cols = torch.nonzero(cell > 0.5, as_tuple=True)
    assert cols.max() - cols.min() >= 20 and rows.max() - rows.min() <= 5
    assert torch.equal(image_hog[0, :24, :24], image_hog[1, 24:48, 48:72])
    # visible patches show the image's HOG, masked ones the prediction (which differs)
    cells = mask.view(2, 8, 8).repeat_interleave(24, 1).repeat_interleave(24, 2).bool()
    assert torch.equal(pasted_hog[~cells], image_hog[~cells])
    assert not torch.equal(pasted_hog[cells], image_hog[cells])
    pred, _ = model.reconstruct(imgs, noise)
    pred_cells = model.target.cell_histograms(pred, 8, (8, 8)).mean(1)
    scale = model.target.cell_histograms(HOGTarget().targets(imgs, 8), 8, (8, 8)).mean(1).flatten(1).amax(1)
    expected = hog_glyphs(pred_cells / scale[:, None, None, None], 24)
    assert torch.equal(pasted_hog[cells], expected[cells])
    # the panel: four columns of the enlarged size, the two right ones these pictures
    panel = reconstruction_panel(model, imgs, noise)
    assert panel.shape == (2 * (192 + 4) + 18, 4 * (192 + 4), 3)
    np.testing.assert_array_equal(panel[18:18 + 192, 2 * 196:2 * 196 + 192, 0],
                                  (255 * image_hog[0]).round().byte().numpy())
    assert HOG_TITLES[2:] == ('HOG of the image', 'predicted HOG + visible')


# --- the demo pretraining through the tools -------------------------------------------------------------------------

# tools/train.py's main() in this process (the tool is `sys.exit(main())`): 8 images,
# batch 8, one iteration per epoch for 4 epochs at the recipe's lr (auto-scaled to batch 8: 2.5e-4),
# constant; no validation, kNN or signal handlers; the demo's reconstruction panel drawn at the end
SHORT = """
train_cfg = dict(max_epochs=4, val_interval=100)
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False, dataset=dict(indices=8))
val_dataloader = None
val_cfg = None
val_evaluator = None
param_scheduler = []
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=4))
log_processor = dict(window_size=1)
"""


@pytest.mark.slow
@pytest.mark.parametrize('target', ['PixelTarget', 'NormalizedPixelTarget', 'HOGTarget'])
def test_demo_pretraining_learns_with_each_target_and_draws_its_panel(target, demo_data, tmp_path):
    from mmengine.registry import DefaultScope

    from mae_mm.launch.train import main as train
    hooks = [dict(h) for h in Config.fromfile(osp.join(ROOT, DEMO_PRETRAIN)).custom_hooks
             if h['type'] not in ('mae_mm.KNNProbeHook', 'mae_mm.SaveOnSignalHook')]
    cfg = tmp_path / f'short_{target}.py'  # its own name: the Runner names its logger and visualiser after it
    cfg.write_text(f'_base_ = {osp.join(ROOT, DEMO_PRETRAIN)!r}\ncustom_hooks = {hooks!r}\n' + SHORT)
    work_dir = str(tmp_path / 'run')
    try:
        assert train([str(cfg), '--work-dir', work_dir, '--cfg-options', f'model.target.type={target}']) == 0
    finally:
        DefaultScope._instance_dict.clear()
    dumped = osp.join(work_dir, cfg.name)  # the run's config, with the override
    assert Config.fromfile(dumped).model.target.type == target
    losses = scalars_by_step(read_scalars(work_dir), 'loss')
    assert sorted(losses) == [1, 2, 3, 4] and all(math.isfinite(v) for v in losses.values())
    assert losses[4] < 0.9 * losses[1] and losses[3] < 0.9 * losses[1], f'{target}: the loss did not fall: {losses}'
    # the demo's ReconstructionVisHook drew its panel (tools/visualize_reconstruction.py's drawing)
    [panel] = [osp.join(dp, f) for dp, _, fs in os.walk(work_dir) for f in fs if f == 'reconstruction_4.png']
    with Image.open(panel) as img:
        assert img.size == (4 * (192 + 4), 4 * (192 + 4) + 18)
    if target == 'HOGTarget':
        images = [osp.join(demo_data, 'imagenet', 'val', c, f'{c}_0000.JPEG') for c in ('photo', 'stripes')]
        out = str(tmp_path / 'hog.png')
        run('tools/visualize_reconstruction.py', dumped, osp.join(work_dir, 'epoch_4.pth'), *images, '--out', out,
            threads=1)
        with Image.open(out) as img:
            assert img.size == (4 * (192 + 4), 2 * (192 + 4) + 18)
