"""Random masking: counts, order, and the noise contract."""
import pytest
import torch

from mae_mm.models import random_masking


@pytest.mark.parametrize('length,ratio', [(196, 0.75), (64, 0.75), (49, 0.6), (10, 0.5)])
def test_keeps_exactly_the_right_count_per_sample(length, ratio):
    x = torch.randn(4, length, 8)
    visible, mask, ids_restore = random_masking(x, ratio)
    keep = int(length * (1 - ratio))
    assert visible.shape == (4, keep, 8)
    assert mask.shape == (4, length)
    assert torch.all(mask.sum(1) == length - keep)
    assert set(mask.unique().tolist()) <= {0.0, 1.0}


def test_visible_tokens_are_the_unmasked_ones_and_restore_undoes_the_shuffle():
    b, length, d = 3, 16, 5
    x = torch.arange(b * length * d, dtype=torch.float32).reshape(b, length, d)
    visible, mask, ids_restore = random_masking(x, 0.75)
    for i in range(b):
        kept = x[i][mask[i] == 0]
        # the visible set is exactly the unmasked tokens (order: ascending noise)
        assert sorted(visible[i, :, 0].tolist()) == sorted(kept[:, 0].tolist())
    # shuffling by argsort(noise) then gathering with ids_restore gives back the original order
    ids_shuffle = torch.argsort(ids_restore, dim=1)
    shuffled = x.gather(1, ids_shuffle.unsqueeze(-1).expand(-1, -1, d))
    torch.testing.assert_close(shuffled.gather(1, ids_restore.unsqueeze(-1).expand(-1, -1, d)), x)
    torch.testing.assert_close(shuffled[:, :visible.shape[1]], visible)


def test_given_noise_keeps_the_smallest_and_is_deterministic():
    x = torch.randn(2, 8, 4)
    noise = torch.tensor([[0.9, 0.1, 0.8, 0.2, 0.7, 0.3, 0.6, 0.4],
                          [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]])
    visible, mask, _ = random_masking(x, 0.75, noise)
    assert mask.tolist() == [[1, 0, 1, 0, 1, 1, 1, 1], [0, 0, 1, 1, 1, 1, 1, 1]]
    torch.testing.assert_close(visible[0], x[0, [1, 3]])
    torch.testing.assert_close(visible[1], x[1, [0, 1]])
    again = random_masking(x, 0.75, noise)
    torch.testing.assert_close(again[0], visible)


def test_noise_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r'noise must be \(B, L\)'):
        random_masking(torch.randn(2, 8, 4), 0.75, torch.rand(2, 7))
