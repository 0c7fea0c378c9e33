"""The AMP choice: one builder for the configs, and tools/train.py --amp {bf16,fp16} through our autocast wrapper."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import AmpOptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope

from mae_mm.engine import AutocastOptimWrapper, SkipNonFiniteOptimWrapper
from mae_mm.launch.prepare import apply_command_line
from mae_mm.launch.train import parse_args
from reliability_utils import DEMO_PRETRAIN


def built_optim_wrapper(tmp_path, *argv, options=None):
    """The demo pretraining's optimizer wrapper as tools/train.py ``argv`` configures it, on a
    small linear model."""
    cfg = Config.fromfile(DEMO_PRETRAIN)
    cfg.merge_from_dict(options or {})
    cfg = apply_command_line(cfg, parse_args([DEMO_PRETRAIN, '--work-dir', str(tmp_path), *argv]))
    init_default_scope('mae_mm')
    torch.manual_seed(0)
    model = torch.nn.Linear(8, 4)
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


def test_without_amp_the_builder_gives_fp32_on_a_cpu_machine(tmp_path):
    assert not torch.cuda.is_available()
    _, wrapper = built_optim_wrapper(tmp_path)
    assert type(wrapper) is SkipNonFiniteOptimWrapper


@pytest.mark.parametrize('amp, dtype, scaled', [('bf16', torch.bfloat16, False), ('fp16', torch.float16, True)])
def test_amp_flag_builds_our_autocast_wrapper(tmp_path, amp, dtype, scaled):
    model, wrapper = built_optim_wrapper(tmp_path, '--amp', amp)
    assert type(wrapper) is AutocastOptimWrapper and not isinstance(wrapper, AmpOptimWrapper)
    assert wrapper.cast_dtype is dtype
    assert (wrapper.loss_scaler is not None) == scaled
    if scaled:  # dynamic: starts at 2 ** 16 and grows
        assert wrapper.loss_scaler.get_scale() == 2.0 ** 16 and wrapper.loss_scaler.get_growth_interval() == 2000
    if amp == 'bf16':  # and it trains here: autocast to bf16 on CPU, no scaler
        before = model.weight.detach().clone()
        with wrapper.optim_context(model):
            out = model(torch.randn(2, 8))
        assert out.dtype is torch.bfloat16
        wrapper.update_params(out.float().pow(2).mean())
        assert not torch.equal(before, model.weight)


def test_amp_bf16_drops_a_configured_loss_scale_and_fp16_keeps_it(tmp_path):
    options = {'optim_wrapper.loss_scale': 512.0}
    _, bf16 = built_optim_wrapper(tmp_path, '--amp', 'bf16', options=options)
    _, fp16 = built_optim_wrapper(tmp_path, '--amp', 'fp16', options=options)
    assert bf16.loss_scaler is None
    assert fp16.loss_scaler.get_scale() == 512.0


def test_the_old_builder_name_names_the_new_one():
    init_default_scope('mae_mm')
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="'AmpIfAvailableOptimWrapper' was renamed: write "
                                         "type='mae_mm.build_amp_optim_wrapper'"):
        build_optim_wrapper(model, dict(type='AmpIfAvailableOptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
