"""The pixel loss: masked patches only, norm_pix by its formula."""
import torch

from mae_mm.models import MaskedPixelLoss


def test_only_masked_patches_count():
    pred = torch.zeros(2, 4, 3)
    patches = torch.zeros(2, 4, 3)
    patches[:, 0] = 100.0  # a huge error on patch 0, which is visible
    patches[:, 2] = 2.0    # error 4 per value on patch 2, masked
    mask = torch.tensor([[0., 0., 1., 1.], [0., 1., 1., 0.]])
    loss = MaskedPixelLoss(norm_pix=False)(pred, patches, mask)
    # per patch MSE: patch 2 -> 4, others masked -> 0; masked patches: 4 in total, two of error 4
    torch.testing.assert_close(loss, torch.tensor(8.0 / 4))


def test_norm_pix_matches_its_formula():
    torch.manual_seed(0)
    pred, patches = torch.randn(2, 5, 12), torch.rand(2, 5, 12) * 255
    mask = torch.tensor([[1., 0., 1., 0., 1.], [0., 1., 1., 1., 0.]])
    loss = MaskedPixelLoss(norm_pix=True)(pred, patches, mask)
    n = patches.shape[-1]
    total, count = 0.0, 0
    for b in range(2):
        for i in range(5):
            if mask[b, i]:
                t = patches[b, i]
                mean = t.sum() / n
                var = ((t - mean) ** 2).sum() / (n - 1)  # unbiased, as the paper's code
                target = (t - mean) / torch.sqrt(var + 1e-6)
                total += ((pred[b, i] - target) ** 2).mean()
                count += 1
    torch.testing.assert_close(loss, total / count)


def test_to_pixels_inverts_the_target():
    patches = torch.rand(3, 7, 48)
    loss = MaskedPixelLoss(norm_pix=True)
    torch.testing.assert_close(loss.to_pixels(loss.target(patches), patches), patches, atol=1e-5, rtol=1e-5)
    plain = MaskedPixelLoss(norm_pix=False)
    assert plain.target(patches) is patches
