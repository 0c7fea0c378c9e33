"""The COCO configs carry ViTDet's recipe, and their optimizer groups decay what ViTDet decays."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope

import mae_mm  # noqa: F401
from mae_mm.demo_data.coco import CLASSES
from mae_mm.engine.step_schedule import milestones_at
from mae_mm.models.det import LayerNorm2d, ViTDetBackbone
from mae_mm.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
COCO = {osp.basename(p).split('_')[1]: p for p in sorted(glob.glob(osp.join(ROOT, 'configs', 'coco', '*.py')))}
DEMO = [p for p in glob.glob(osp.join(ROOT, 'configs', 'demo', 'mask-rcnn_*.py')) if 'own-data' not in p]  # own: test_own_data

# size -> (arch, global blocks, drop path, layer decay, iterations, lr steps, no weight decay)
RECIPE = {
    'vit-base-p16': ('base', (2, 5, 8, 11), 0.1, 0.7, 184375, [163889, 177546], ('norm', 'pos_embed')),
    'vit-large-p16': ('large', (5, 11, 17, 23), 0.4, 0.8, 184375, [163889, 177546], ('norm', 'pos_embed')),
    'vit-huge-p14': ('huge', (7, 15, 23, 31), 0.5, 0.9, 138281, [122916, 133159], ()),  # ViTDet-H decays all
}


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def test_one_config_per_size():
    assert sorted(COCO) == sorted(RECIPE)
    assert len(DEMO) == 1


@pytest.mark.parametrize('size', sorted(RECIPE))
def test_coco_configs_carry_the_vitdet_recipe(size):
    cfg = Config.fromfile(COCO[size])
    arch, global_blocks, drop_path, decay, iters, steps, no_decay = RECIPE[size]
    backbone, neck = cfg.model.backbone, cfg.model.neck
    assert (backbone.type, backbone.arch) == ('mae_mm.ViTDetBackbone', arch)
    assert neck.in_channels == dict(base=768, large=1024, huge=1280)[arch]  # the pyramid reads the ViT's width
    assert backbone.get('patch_size', 16 if arch != 'huge' else 14) == 16  # ViT-H/14 runs with 16 x 16 patches
    assert (tuple(backbone.global_blocks), backbone.drop_path_rate, backbone.window_size) == \
        (global_blocks, drop_path, 14)
    assert backbone.rel_pos_bias and backbone.img_size == (1024, 1024) and backbone.pretrain_img_size == 224
    assert (backbone.init_cfg.type, backbone.init_cfg.prefix) == ('Pretrained', 'encoder.')
    assert (neck.type, neck.out_channels, tuple(neck.scale_factors), neck.num_outs) == \
        ('mae_mm.SimpleFeaturePyramid', 256, (4.0, 2.0, 1.0, 0.5), 5)
    heads = cfg.model.roi_head
    assert cfg.model.type == 'MaskRCNN' and cfg.model.rpn_head.num_convs == 2
    assert heads.bbox_head.type == 'Shared4Conv1FCBBoxHead'
    assert heads.bbox_head.norm_cfg.type == heads.mask_head.norm_cfg.type == 'mae_mm.LayerNorm2d'

    ow = cfg.optim_wrapper
    assert (ow.type, ow.dtype, ow.constructor) == \
        ('mae_mm.build_amp_optim_wrapper', 'float16', 'mae_mm.ViTLayerDecayOptimWrapperConstructor')
    assert (ow.optimizer.type, ow.optimizer.lr, tuple(ow.optimizer.betas), ow.optimizer.weight_decay) == \
        ('AdamW', 1e-4, (0.9, 0.999), 0.1)
    assert ow.paramwise_cfg.layer_decay_rate == decay and tuple(ow.paramwise_cfg.no_decay) == no_decay

    assert (cfg.train_cfg.type, cfg.train_cfg.max_iters) == ('mae_mm.ResumableIterBasedTrainLoop', iters)
    warmup, steps_cfg = cfg.param_scheduler
    assert (warmup.type, warmup.by_epoch, warmup.end) == ('LinearLR', False, 250)
    assert (steps_cfg.type, steps_cfg.by_epoch, steps_cfg.gamma, 'end' in steps_cfg) == \
        ('mae_mm.FractionalMultiStepLR', False, 0.1, False)  # the steps follow train_cfg.max_iters
    assert milestones_at(steps_cfg.milestone_fractions, begin=0, end=iters) == steps
    assert cfg.train_dataloader.batch_size * 16 == 64 and cfg.auto_scale_lr.base_batch_size == 64

    types = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    assert types == ['mae_mm.LoadCheckedImage', 'mae_mm.IgnoreInstancesWithoutMask', 'LoadAnnotations', 'RandomFlip', 'RandomResize', 'RandomCrop',
                     'FilterAnnotations', 'Pad', 'PackDetInputs']
    resize, crop, pad = (cfg.train_dataloader.dataset.pipeline[i] for i in (4, 5, 7))
    assert (resize.scale, resize.ratio_range, crop.crop_size, crop.crop_type, pad.size) == \
        ((1024, 1024), (0.1, 2.0), (1024, 1024), 'absolute_range', (1024, 1024))
    test_types = [t.type for t in cfg.test_dataloader.dataset.pipeline]
    assert test_types[:3] == ['mae_mm.LoadCheckedImage', 'Resize', 'Pad']
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.type == 'CocoMetric' and list(evaluator.metric) == ['bbox', 'segm']


def test_optimizer_groups_follow_vit_layers_and_spare_only_norms_and_the_position_table():
    cfg = Config.fromfile(COCO['vit-base-p16'])
    cfg.model.backbone.update(arch='tiny', global_blocks=(2, 5), init_cfg=None)  # the B config, shrunk
    cfg.model.neck.update(in_channels=192)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    assert isinstance(model.backbone, ViTDetBackbone)
    groups = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    group_of = {id(p): g for g in groups for p in g['params']}
    modules = dict(model.named_modules())
    norms = 0
    for name, p in model.named_parameters():
        group = group_of[id(p)]
        owner = modules[name.rsplit('.', 1)[0]]
        is_norm = isinstance(owner, (LayerNorm2d, type(model.backbone.blocks[0].norm1)))
        norms += isinstance(owner, LayerNorm2d)
        expected_wd = 0.0 if is_norm or name.endswith('pos_embed') else 0.1
        assert group['weight_decay'] == expected_wd, name
        if name.startswith('backbone.blocks.'):
            layer = int(name.split('.')[2]) + 1
        elif name.startswith(('backbone.patch_embed', 'backbone.pos_embed')):
            layer = 0
        else:
            layer = 7  # neck and heads: after the 6 blocks
        assert group['lr'] == pytest.approx(1e-4 * 0.7 ** (7 - layer)), name
    assert norms > 20  # the pyramid's, the box head's and the mask head's LayerNorm2d
    rel = [n for n, _ in model.named_parameters() if n.endswith('rel_pos_h')]
    assert len(rel) == 6 and all(group_of[id(dict(model.named_parameters())[n])]['weight_decay'] == 0.1 for n in rel)


def test_demo_config_inherits_the_vit_b_recipe_and_the_demo_classes():
    cfg = Config.fromfile(DEMO[0])
    base = Config.fromfile(COCO['vit-base-p16'])
    assert tuple(cfg.train_dataloader.dataset.metainfo.classes) == CLASSES
    assert cfg.model.roi_head.bbox_head.num_classes == cfg.model.roi_head.mask_head.num_classes == len(CLASSES)
    assert cfg.model.backbone.init_cfg.checkpoint == 'work_dirs/demo/pretrain/epoch_40.pth'
    assert cfg.work_dir == 'work_dirs/demo/coco'
    for key in ('type', 'dtype', 'constructor', 'paramwise_cfg'):
        assert cfg.optim_wrapper[key] == base.optim_wrapper[key], key
    assert cfg.model.backbone.type == base.model.backbone.type and cfg.model.backbone.rel_pos_bias
    # the real configs keep ViTDet's LayerNorm in the pyramid; the 300-iteration demo leaves it out
    assert 'norm_cfg' not in base.model.neck and cfg.model.neck.norm_cfg is None
