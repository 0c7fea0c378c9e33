"""Every config parses and builds its model and optimizer wrapper on a CPU-only machine."""
import glob
import os.path as osp
import re
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.models.vit.arch import VIT_ARCHS
from mae_mm.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
                 if '_base_' not in p and osp.join('configs', 'suites') not in p)  # suites: tests/test_transfer.py
PRETRAIN = sorted(glob.glob(osp.join(ROOT, 'configs', 'pretrain', '*.py')))
# the sizes and their file-name tags ('vit-6.5b-p14'); past ViT-H they train sharded (FSDP2)
ARCHS = ('tiny', 'small', 'base', 'large', 'huge', 'giant', '2b', '6.5b')
PAST_HUGE = ('giant', '2b', '6.5b')
ARCH_TAG = r'vit-(' + '|'.join(re.escape(a) for a in ARCHS) + r')-p(\d+)_'
# the checkpoint of a ViT-2B or -6.5B takes rank 0 longer to write than the 600 s every other config waits
TIMEOUT = {'mae_vit-2b-p14_8xb512-amp-coslr-1600e_in1k.py': 1200,
           'mae_vit-6.5b-p14_64xb64-amp-coslr-1600e_in1k.py': 3600}


def config_id(path):
    return osp.relpath(path, osp.join(ROOT, 'configs'))


def arch_of(path):
    """'mae_vit-6.5b-p14_64xb64-...' -> '6.5b'; None for a name without a size tag."""
    found = re.search(ARCH_TAG, osp.basename(path))
    return found.group(1) if found else None


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def build(cfg):
    init_default_scope(cfg.get('default_scope', 'mae_mm'))
    model = MODELS.build(cfg.model)
    return model, build_optim_wrapper(model, cfg.optim_wrapper)


@pytest.mark.parametrize('path', CONFIGS, ids=config_id)
def test_config_builds_model_and_optim_wrapper_on_cpu(path):
    cfg = Config.fromfile(path)
    if arch_of(path) in ('large', 'huge') + PAST_HUGE:
        with torch.device('meta'):  # full shapes, no memory or init time
            model, wrapper = build(cfg)
    else:
        model, wrapper = build(cfg)
    assert isinstance(wrapper, OptimWrapper)
    assert sum(p.numel() for p in model.parameters()) > 0
    for key in ('train_dataloader', 'train_cfg', 'param_scheduler', 'default_scope'):
        assert cfg.get(key) is not None, f'{config_id(path)} lacks {key}'
    # the faults of a multi-process run (issue 30): a bounded wait for a lost peer, the checkpoint
    # hook that writes before it removes, the save-on-signal hook
    assert cfg.env_cfg.dist_cfg.get('timeout') == TIMEOUT.get(osp.basename(path), 600), config_id(path)
    assert cfg.default_hooks.checkpoint.type == 'mae_mm.WriteFirstCheckpointHook', config_id(path)
    assert any(h['type'] == 'mae_mm.SaveOnSignalHook' for h in cfg.custom_hooks), config_id(path)


def test_file_names_carry_the_model_tag_and_stage():
    for path in CONFIGS:
        name = osp.basename(path)
        folder = osp.basename(osp.dirname(path))
        if folder == 'demo':
            assert 'pretrain' in name or 'finetune' in name or 'linprobe' in name \
                or 'mask-rcnn' in name or 'upernet' in name or 'robustness' in name, name
            assert 'vit-tiny-p8' in name, name
        else:
            assert any(tag in name for tag in ('vit-small-p16', 'vit-base-p16', 'vit-large-p16', 'vit-huge-p14',
                                               'vit-giant-p14', 'vit-2b-p14', 'vit-6.5b-p14')), name


@pytest.mark.parametrize('path', PRETRAIN, ids=config_id)
def test_pretrain_configs_carry_the_paper_recipe(path):
    cfg = Config.fromfile(path)
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, tuple(opt.betas), opt.weight_decay) == ('AdamW', 1.5e-4, (0.9, 0.95), 0.05)
    assert cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)
    gpus, per_gpu = map(int, re.search(r'_(\d+)xb(\d+)-', osp.basename(path)).groups())  # as the name states
    assert cfg.train_dataloader.batch_size == per_gpu and gpus * per_gpu == 4096
    epochs = 1600 if '1600e' in path else 800
    assert cfg.train_cfg.max_epochs == epochs
    warmup, cosine = cfg.param_scheduler
    # the cosine ends with the run: no `end`, the Runner sets it to max_epochs (tests/test_schedules.py)
    assert (warmup.type, warmup.end, cosine.type, cosine.begin, 'end' in cosine) == \
        ('LinearLR', 40, 'CosineAnnealingLR', 40, False)
    assert warmup.convert_to_iter_based and cosine.convert_to_iter_based
    if '-aug-' not in path:  # Table 1e's other pipelines: tests/test_pretrain_augmentation.py
        # the CPU pipeline's loader that decodes only what the crop needs, or the GPU decode path's draws
        pipeline = cfg.train_dataloader.dataset.pipeline
        crop = pipeline[1] if 'gpudecode' in path else pipeline[0]
        assert crop.type == ('RandomResizedCropParams' if 'gpudecode' in path else 'DecodeRandomResizedCrop')
        assert (crop.scale, tuple(crop.crop_ratio_range), crop.interpolation) == (224, (0.2, 1.0), 'bicubic')
        assert crop.get('reduced_decode', True)
    assert cfg.model.encoder.mask_ratio == 0.75 and cfg.model.target == dict(type='NormalizedPixelTarget')
    assert cfg.model.encoder.mask_generator == dict(type='RandomMasking')  # Table 1f: random sampling
    assert cfg.optim_wrapper.dtype == 'bfloat16'
    assert cfg.model.encoder.arch == arch_of(path)


def test_sizes_past_vit_h_have_pretraining_configs():
    assert sorted({arch_of(p) for p in PRETRAIN if arch_of(p) in PAST_HUGE}) == sorted(PAST_HUGE)


@pytest.mark.parametrize('path', [p for p in PRETRAIN if arch_of(p) in PAST_HUGE], ids=config_id)
def test_sizes_past_vit_h_train_sharded_with_a_checkpointed_encoder(path):
    from mae_mm.registry import MODEL_WRAPPERS
    cfg = Config.fromfile(path)
    assert cfg.model_wrapper_cfg == dict(type='mae_mm.ShardedDataParallel')  # its defaults: Block units, no FSDP2 casts
    init_default_scope('mae_mm')
    assert MODEL_WRAPPERS.get(cfg.model_wrapper_cfg.type) is not None
    assert cfg.optim_wrapper.dtype == 'bfloat16'  # the base's autocast stays the mixed precision
    assert cfg.model.encoder.with_checkpoint is True
    assert cfg.model.decoder.with_checkpoint is False  # the paper's 8 x 512 decoder, as ViT-H's config


def test_pretrain_weight_decay_skips_exactly_the_one_dimensional_parameters():
    cfg = Config.fromfile(PRETRAIN[0])
    cfg.model.encoder.update(arch='tiny', pretrain_img_size=32, patch_size=8)
    cfg.model.decoder.update(embed_dim=32, depth=1, num_heads=2)
    model, wrapper = build(cfg)
    decay_of = {}
    for group in wrapper.optimizer.param_groups:
        for p in group['params']:
            decay_of[id(p)] = group['weight_decay']
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        expected = 0.0 if p.ndim == 1 else 0.05  # cls and mask tokens (3-D) are decayed, as in the paper's code
        assert decay_of[id(p)] == expected, name


# --- model sizes: each stated once, in mae_mm/models/vit/arch.py; configs/_base_/models/vit_sizes.py
# names the ones the configs use ---------------------------------------------------------------------
SIZED = [p for p in CONFIGS if osp.basename(osp.dirname(p)) in ('pretrain', 'finetune', 'coco', 'ade20k', 'demo')]
WIDTH_KEYS = (('head', 'in_channels'), ('neck', 'input_features'), ('neck', 'embed_dim'), ('neck', 'in_channels'),
              ('decode_head', 'in_channels'), ('auxiliary_head', 'in_channels'))


def sizes_key(arch, patch):
    """vit_sizes' entry of a preset at a patch size: '<arch>_p<patch>', made an identifier where the arch
    name is none (a leading digit gets 'vit' in front, '.' becomes '_': '6.5b' -> 'vit6_5b_p14')."""
    key = f'{arch}_p{patch}'.replace('.', '_')
    return f'vit{key}' if key[0].isdigit() else key


def size_key(path):
    """'vit-large-p16' in the file name -> 'large_p16', the config's entry in vit_sizes."""
    name, patch = re.search(ARCH_TAG, osp.basename(path)).groups()
    return sizes_key(name, patch)


def sized_parts(cfg):
    """The backbone (or MAE encoder) and the width-reading modules of a config's model."""
    model = cfg.model.get('module', cfg.model)  # the ADE20K test-time-augmentation wrapper
    backbone = model.get('encoder', model.get('backbone'))
    widths = {}
    for module, key in WIDTH_KEYS:
        if model.get(module) and key in model[module]:
            value = model[module][key]
            for i, w in enumerate(value if isinstance(value, (list, tuple)) else [value]):
                widths[f'{module}.{key}[{i}]'] = w
    return backbone, widths, model


def test_vit_sizes_are_read_from_the_model_presets(monkeypatch):
    sizes_file = osp.join(ROOT, 'configs', '_base_', 'models', 'vit_sizes.py')
    cfg = Config.fromfile(sizes_file)
    assert set(cfg) == {'vit_sizes'}  # the loader's helpers are not config keys
    sizes = cfg.vit_sizes
    assert set(sizes) == {'tiny_p8', 'small_p16', 'base_p16', 'large_p16', 'huge_p14', 'giant_p14', 'vit2b_p14',
                          'vit6_5b_p14'}
    for key, size in sizes.items():
        preset = VIT_ARCHS[size.arch]
        assert key == sizes_key(size.arch, size.patch_size)
        assert size == dict(arch=size.arch, patch_size=size.patch_size, embed_dim=preset['embed_dim'],
                            mae_checkpoint=size.mae_checkpoint), key
        assert size.patch_size == (8 if key == 'tiny_p8' else preset['patch_size']), key
    monkeypatch.setitem(VIT_ARCHS, 'large', dict(VIT_ARCHS['large'], embed_dim=1088))  # one edit in arch.py
    assert Config.fromfile(sizes_file).vit_sizes.large_p16.embed_dim == 1088


@pytest.mark.parametrize('path', SIZED, ids=config_id)
def test_every_stage_takes_its_size_and_widths_from_vit_sizes(path):
    cfg = Config.fromfile(path)
    vit = cfg.vit
    assert vit == cfg.vit_sizes[size_key(path)]
    backbone, widths, model = sized_parts(cfg)
    assert backbone.arch == vit.arch
    # ViT-H/14 runs its dense-prediction transfer with 16 x 16 patches (the kernel is resampled)
    dense = '/ade20k/' in path or '/coco/' in path
    patch = 16 if (dense and vit.arch == 'huge') else vit.patch_size
    assert backbone.get('patch_size', VIT_ARCHS[vit.arch]['patch_size']) == patch
    if 'encoder' not in model:  # (MAE's decoder takes its input width from the encoder)
        assert widths and set(widths.values()) == {vit.embed_dim}, widths
    if 'out_indices' in backbone:  # the last feature is the last block's
        assert max(backbone.out_indices) == VIT_ARCHS[vit.arch]['depth'] - 1


def test_every_transfer_config_starts_from_its_sizes_one_default_checkpoint():
    for path in SIZED:
        cfg = Config.fromfile(path)
        init = (cfg.model.get('backbone') or {}).get('init_cfg') or {}
        if 'checkpoint' in init:  # the transfer stages; pretraining has none
            assert init.checkpoint == cfg.vit.mae_checkpoint, config_id(path)
            assert init.checkpoint.endswith('epoch_40.pth' if cfg.vit.arch == 'tiny' else 'epoch_1600.pth')


def test_changing_a_size_in_vit_sizes_changes_every_stage(tmp_path):
    """Rewrite the large entry as a ViT-H/14 in a copy of configs/: every ViT-L config follows."""
    shutil.copytree(osp.join(ROOT, 'configs'), tmp_path / 'configs')
    sizes_file = tmp_path / 'configs' / '_base_' / 'models' / 'vit_sizes.py'
    text, n = re.subn(r"large_p16=_size\('large'", "large_p16=_size('huge'", sizes_file.read_text())
    assert n == 1
    sizes_file.write_text(text)
    stages = set()
    for path in SIZED:
        copy = str(tmp_path / osp.relpath(path, ROOT))
        backbone, widths, model = sized_parts(Config.fromfile(copy))
        if size_key(path) == 'large_p16':
            assert backbone.arch == 'huge', config_id(path)
            assert 'encoder' in model or set(widths.values()) == {1280}, (config_id(path), widths)
            stages.add(('linprobe' if 'linprobe' in path else osp.basename(osp.dirname(path))))
        else:  # the other sizes, the ViT-H leaves that inherit the ViT-L ones included, stay
            assert backbone.arch == Config.fromfile(path).vit.arch, config_id(path)
    assert stages == {'pretrain', 'finetune', 'linprobe', 'coco', 'ade20k'}
