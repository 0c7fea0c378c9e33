"""After setup_runtime(), mmengine checkpoints load under torch's weights_only; other pickled
objects still do not. (That a bare `import mae_mm` changes none of this: test_import_side_effects.)"""
import numpy as np
import pytest
import torch
from mmengine.logging import MessageHub

from mae_mm.runtime import setup_runtime

setup_runtime()  # installs the allowlist (idempotent: conftest has called it already)


class NotAllowed:
    pass


def mmengine_like_checkpoint():
    hub = MessageHub.get_instance('test_checkpoint_safety')
    hub.update_scalar('train/loss', 0.5)
    hub.update_info('iter', 3)
    return dict(meta=dict(epoch=1, iter=3, seed=np.int64(7), hook_msgs=dict(best=np.float64(0.1)),
                          dataset_meta=dict(classes=('a', 'b')), np_array=np.arange(3)),
                state_dict={'w': torch.ones(2)}, message_hub=hub.state_dict(),
                optimizer={'state': {}, 'param_groups': [{'lr': 0.1, 'params': [0]}]})


def test_mmengine_checkpoint_loads_with_weights_only(tmp_path):
    path = tmp_path / 'ckpt.pth'
    torch.save(mmengine_like_checkpoint(), path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta']['seed'] == 7
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 0.5


def test_unknown_objects_are_still_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': NotAllowed()}, path)
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path, weights_only=True)


def test_history_buffers_round_trip_with_their_statistics(tmp_path):
    from mmengine.logging.history_buffer import HistoryBuffer
    buf = HistoryBuffer()
    for v in (1.0, 3.0):
        buf.update(v)
    path = tmp_path / 'buf.pth'
    torch.save({'b': buf}, path)
    loaded = torch.load(path, weights_only=True)['b']
    assert (loaded.mean(), loaded.max(), loaded.current()) == (2.0, 3.0, 3.0)
    assert loaded.statistics('min') == 1.0
    assert 'statistics_methods' not in buf.__dict__, 'pickling leaves the buffer as it was'
