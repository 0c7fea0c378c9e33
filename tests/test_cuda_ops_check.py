"""A run on CUDA whose config needs mmcv ops stops before the Runner is built when mmcv has no CUDA
ops, naming the keys, the mmcv and the install command; the device check is faked (no GPU here)."""
import os.path as osp

import mmcv.ops
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from conftest import DEMO_PRETRAIN, ROOT
from mae_mm.launch.cuda_ops_check import check_cuda_ops, mmcv_ops_needed

DEMO_COCO = osp.join(ROOT, 'configs', 'demo', 'mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py')
DEMO_ADE20K = osp.join(ROOT, 'configs', 'demo', 'upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py')


@pytest.fixture
def on_cuda(monkeypatch):
    """torch sees one GPU; mmcv answers as a build without CUDA ops does (unless a test says otherwise)."""
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)
    monkeypatch.setattr(mmcv.ops, 'get_compiling_cuda_version', lambda: 'not available')
    return monkeypatch


def test_mask_rcnn_names_every_op_key_it_needs():
    needed = dict(mmcv_ops_needed(Config.fromfile(DEMO_COCO).model))
    assert needed == {'model.roi_head.bbox_roi_extractor.roi_layer.type': 'RoIAlign',
                      'model.roi_head.mask_roi_extractor.roi_layer.type': 'RoIAlign',
                      'model.train_cfg.rpn_proposal.nms.type': 'nms',
                      'model.test_cfg.rpn.nms.type': 'nms',
                      'model.test_cfg.rcnn.nms.type': 'nms'}


def test_cuda_run_of_mask_rcnn_without_cuda_ops_is_refused(on_cuda):
    with pytest.raises(RuntimeError) as err:
        check_cuda_ops(Config.fromfile(DEMO_COCO))
    message = str(err.value)
    assert 'this run is on CUDA (torch sees 1 GPU(s))' in message
    assert f'its config ({DEMO_COCO}) builds mmcv ops' in message
    assert "model.roi_head.bbox_roi_extractor.roi_layer.type = 'RoIAlign'" in message
    assert "model.test_cfg.rcnn.nms.type = 'nms'" in message
    assert f'mmcv {mmcv.__version__} ({mmcv.__file__}) was built without CUDA ops' in message
    assert 'Fix: `bash tools/install.sh --cuda`' in message


@pytest.mark.parametrize('config,cuda,built', [
    (DEMO_COCO, False, 'not available'),  # CPU run: the CPU kernels serve it
    (DEMO_COCO, True, '13.0'),  # mmcv built with CUDA ops
    (DEMO_PRETRAIN, True, 'not available'),  # MAE needs no mmcv op
    (DEMO_ADE20K, True, 'not available'),  # nor does UperNet
], ids=['coco-on-cpu', 'coco-with-cuda-ops', 'pretrain-on-cuda', 'upernet-on-cuda'])
def test_runs_that_can_run_pass(on_cuda, config, cuda, built):
    on_cuda.setattr(torch.cuda, 'is_available', lambda: cuda)
    on_cuda.setattr(mmcv.ops, 'get_compiling_cuda_version', lambda: built)
    check_cuda_ops(Config.fromfile(osp.join(ROOT, config)))


def test_an_mmcv_without_compiled_ops_is_named(on_cuda):
    on_cuda.delattr(mmcv.ops, 'get_compiling_cuda_version')  # as mmcv-lite: `from mmcv.ops import ...` fails
    with pytest.raises(RuntimeError, match=r'has no compiled ops at all \(import mmcv.ops: '):
        check_cuda_ops(Config.fromfile(DEMO_COCO))


def run_tool_here(monkeypatch, tool, *args):
    """tools/TOOL.py's main (mae_mm.launch.train / .evaluate) in this process; building the Runner
    fails the test."""
    from mae_mm.launch import evaluate, train

    def no_runner(*_, **__):
        raise AssertionError(f'tools/{tool}.py built the Runner')
    monkeypatch.setattr(Runner, 'from_cfg', no_runner)
    dict(train=train, test=evaluate)[tool].main(list(args))


@pytest.mark.parametrize('tool', ['train', 'test'])
def test_train_and_test_stop_before_the_runner(on_cuda, demo_data, tmp_path, tool):
    args = [DEMO_COCO, '--work-dir', str(tmp_path)]
    if tool == 'test':
        checkpoint = tmp_path / 'never_read.pth'
        checkpoint.write_bytes(b'')
        args.insert(1, str(checkpoint))
    with pytest.raises(RuntimeError, match=r'(?s)builds mmcv ops:.*Fix: `bash tools/install.sh --cuda`'):
        run_tool_here(on_cuda, tool, *args)
