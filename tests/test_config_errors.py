"""Bad configs and wrong checkpoints fail before any training step, naming the key or file."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.runner import Runner

from reliability_utils import DEMO_PRETRAIN, ROOT, run

DEMO_FINETUNE = osp.join(ROOT, 'configs', 'demo', 'vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py')


@pytest.mark.parametrize('config, options, error, message', [
    (DEMO_PRETRAIN, {'model.encoder.arch': 'gigantic'}, KeyError, "unknown ViT arch 'gigantic'"),
    (DEMO_PRETRAIN, {'model.encoder.mask_ratio': 1.0}, ValueError, r'mask_ratio must lie in \(0, 1\), got 1.0'),
    (DEMO_PRETRAIN, {'model.encoder.mask_ratio': 0.0}, ValueError, r'mask_ratio must lie in \(0, 1\), got 0.0'),
    (DEMO_PRETRAIN, {'model.encoder.pretrain_img_size': 60}, ValueError,
     r'pretrain_img_size \(60, 60\) is not divisible by patch_size 8'),
    (DEMO_PRETRAIN, {'model.encoder.img_size': 64}, TypeError,
     r"MAEEncoder: 'img_size' is no longer an argument: the stored position grid is set by pretrain_img_size"),
    (DEMO_PRETRAIN, {'model.decoder.in_dim': 256}, ValueError,
     r'model.decoder.in_dim=256 is inconsistent with the encoder \(in_dim=192\)'),
    (DEMO_FINETUNE, {'model.backbone.img_size': 60}, ValueError, r'img_size \(60, 60\) is not divisible by patch_size 8'),
])
def test_bad_config_fails_when_the_runner_is_built(tmp_path, config, options, error, message):
    """The Runner builds the model in its constructor and the data only when training starts."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(options)
    cfg.work_dir = str(tmp_path)
    cfg.train_dataloader.dataset.data_root = str(tmp_path / 'never_read')
    with pytest.raises(error, match=message):
        Runner.from_cfg(cfg)


@pytest.mark.slow
def test_missing_data_root_is_named_before_anything_is_built(tmp_path):
    proc = run('tools/train.py', DEMO_PRETRAIN, '--work-dir', str(tmp_path),
               '--cfg-options', 'train_dataloader.dataset.data_root=data/not_here/', check=False)
    assert proc.returncode != 0
    assert 'FileNotFoundError: dataset paths not found in' in proc.stderr
    assert 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py' in proc.stderr
    assert 'train_dataloader.dataset.data_root -> data/not_here/' in proc.stderr
    assert 'train_dataloader.dataset.data_prefix -> data/not_here/train' in proc.stderr


def _fails_before_training(proc, *expected):
    assert proc.returncode != 0
    for text in expected:
        assert text in proc.stderr, proc.stderr[-3000:]
    assert 'Epoch(train)' not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_checkpoint_of_another_width_fails_before_training(demo_pretrain, tmp_path):
    ckpt = osp.join(demo_pretrain, 'epoch_40.pth')
    proc = run('tools/train.py', DEMO_PRETRAIN, '--work-dir', str(tmp_path),
               '--cfg-options', f'load_from={ckpt}', 'model.encoder.arch=base', check=False)
    _fails_before_training(proc, f'{ckpt} does not fit the model of this config (load_from)',
                           'encoder.patch_embed.proj.weight: checkpoint (192, 3, 8, 8) vs model (768, 3, 8, 8)')


@pytest.mark.slow
def test_resume_with_another_patch_size_or_decoder_fails_before_training(demo_pretrain, tmp_path):
    ckpt = osp.join(demo_pretrain, 'epoch_40.pth')
    proc = run('tools/train.py', DEMO_PRETRAIN, '--work-dir', str(tmp_path), '--resume', ckpt,
               '--cfg-options', 'model.encoder.patch_size=16', 'model.decoder.embed_dim=96', check=False)
    _fails_before_training(proc, f'{ckpt} does not fit the model of this config (resume)',
                           'encoder.patch_embed.proj.weight: checkpoint (192, 3, 8, 8) vs model (192, 3, 16, 16)',
                           'decoder.mask_token: checkpoint (1, 1, 128) vs model (1, 1, 96)')
