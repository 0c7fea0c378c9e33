"""The recipe points of issue 13, each pinned against its source (named in each test).

Numbers come from what mmengine builds (optimizer groups from the real constructor, pipelines
from the real transforms, the lr from mmengine's own Runner.scale_lr), not from config text only.
"""
import glob
import os.path as osp
import re

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope, init_default_scope
from PIL import Image

import mae_mm  # noqa: F401
from mae_mm.launch.config_checks import count_accumulation_in_auto_scale_lr
from mae_mm.registry import MODELS, build_model

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = osp.join(ROOT, 'configs')
ADE20K = {size: osp.join(CONFIGS, 'ade20k', f'upernet_vit-{size}_8xb2-amp-160k_ade20k-512x512.py')
          for size in ('base-p16', 'large-p16', 'huge-p14')}
FINETUNE_BASE = osp.join(CONFIGS, '_base_', 'datasets', 'imagenet_finetune.py')
FINETUNE_B = osp.join(CONFIGS, 'finetune', 'vit-base-p16_8xb128-coslr-100e_in1k.py')
FINETUNE_H448 = osp.join(CONFIGS, 'finetune', 'vit-huge-p14_32xb32-coslr-50e_in1k-448px.py')
COCO_H = osp.join(CONFIGS, 'coco', 'mask-rcnn_vit-huge-p14_16xb4-amp-lsj-75e_coco.py')
IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)  # timm's IMAGENET_DEFAULT_MEAN, as the official code uses


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


def groups_by_name(model, optim_wrapper_cfg):
    """{parameter name: its optimizer group}, from the real constructor."""
    wrapper = build_optim_wrapper(model, optim_wrapper_cfg)
    return {n: g for g in wrapper.optimizer.param_groups for n in g['param_names']}


# ---- 1. ADE20K ViT-L / ViT-H: layer decay, drop path, lr per size ---------------------------------

class _Segmentor(nn.Module):
    """The backbone under its segmentor name, and one parameter after it (a head's)."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone
        self.head = nn.Linear(4, 4)


# size -> (layer decay, drop path, depth): B mmseg's MAE recipe; L and H detectron2's ViTDet decay
# (mask_rcnn_vitdet_l_100ep.py 0.8, mask_rcnn_vitdet_h_75ep.py 0.9) and MAE FINETUNE.md's drop path
ADE20K_RECIPE = {'base-p16': (0.65, 0.1, 12), 'large-p16': (0.8, 0.2, 24), 'huge-p14': (0.9, 0.3, 32)}


@pytest.mark.parametrize('size', sorted(ADE20K_RECIPE))
def test_ade20k_block0_lr_scale_is_trainable_at_every_size(size):
    """Issue 13 (1): block 0's lr scale at least about 1e-4 for L and H (ViT-B's 0.65 gave 3e-5 / 1e-6).

    Read from the groups the real ViTLayerDecayOptimWrapperConstructor builds over the real-depth
    backbone (on the meta device: full shapes, no memory)."""
    decay, drop_path, depth = ADE20K_RECIPE[size]
    cfg = Config.fromfile(ADE20K[size])
    assert cfg.model.backbone.drop_path_rate == drop_path
    assert cfg.optim_wrapper.optimizer.lr == 1e-4  # ViTDet keeps 1e-4 from B to H
    init_default_scope(cfg.default_scope)
    with torch.device('meta'):
        model = _Segmentor(build_model(dict(cfg.model.backbone, init_cfg=None)))
    assert len(model.backbone.blocks) == depth
    groups = groups_by_name(model, cfg.optim_wrapper)
    block0 = groups['backbone.blocks.0.attn.qkv.weight']
    assert block0['lr_scale'] == pytest.approx(decay ** depth)
    assert block0['lr'] == pytest.approx(1e-4 * decay ** depth)
    assert groups['backbone.patch_embed.proj.weight']['lr_scale'] == pytest.approx(decay ** (depth + 1))
    assert groups['head.weight']['lr_scale'] == 1.0
    assert block0['lr_scale'] >= 1e-4 * 0.99  # FINETUNE.md's 0.75 over 32 blocks: 1.0e-4, the floor
    if size != 'base-p16':
        assert block0['lr_scale'] > 1e-3, 'L and H: within an order of magnitude of ViT-B 0.65^12 = 5.7e-3'


def test_readme_ade20k_table_carries_the_chosen_values():
    readme = open(osp.join(ROOT, 'README.md')).read()
    section = readme[readme.index('## ADE20K'):]
    section = section[:section.index('\n## ', 1)]
    for size, (decay, drop_path, _) in ADE20K_RECIPE.items():
        row = next(line for line in section.splitlines() if line.startswith('|') and f'vit-{size}' in line)
        cells = [c.strip() for c in row.strip('|').split('|')]
        assert str(decay) in cells and str(drop_path) in cells, row
    assert 'mask_rcnn_vitdet_h_75ep.py' in section and 'FINETUNE.md' in section


# ---- 2. fine-tune and linear-probe defaults: the 1600-epoch checkpoints ---------------------------

def last_checkpoint_of(pretrain_config):
    """Where tools/train.py writes a pretraining config's last epoch (work_dirs/<name>/epoch_<max>.pth)."""
    cfg = Config.fromfile(pretrain_config)
    name = osp.splitext(osp.basename(pretrain_config))[0]
    return f'work_dirs/{name}/epoch_{cfg.train_cfg.max_epochs}.pth'


@pytest.mark.parametrize('path', sorted(glob.glob(osp.join(CONFIGS, 'finetune', '*.py'))),
                         ids=osp.basename)
def test_transfer_configs_default_to_the_1600_epoch_checkpoint(path):
    """Issue 13 (2): the cited 83.6 / 85.9 / 86.9 fine-tune and 68.0 / 75.8 linear-probe numbers
    (FINETUNE.md; the paper's Table 3) are for 1600-epoch pretraining."""
    size = re.search(r'vit-(small-p16|base-p16|large-p16|huge-p14)', osp.basename(path)).group(1)
    pretrain = osp.join(CONFIGS, 'pretrain', f'mae_vit-{size}_8xb512-amp-coslr-1600e_in1k.py')
    expected = last_checkpoint_of(pretrain)
    assert expected.endswith('epoch_1600.pth')
    assert Config.fromfile(path).model.backbone.init_cfg.checkpoint == expected


# ---- 3. ViT-H at 448: resize 448, crop 448 --------------------------------------------------------

def run_transforms(transforms, img):
    init_default_scope('mmpretrain')
    return Compose(transforms)(dict(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2]))


@pytest.mark.parametrize('path,short,crop', [(FINETUNE_B, 256, 224), (FINETUNE_H448, 448, 448)],
                         ids=['224', '448'])
def test_eval_resize_then_crop_follows_the_official_crop_pct(path, short, crop):
    """Issue 13 (3): the official util/datasets.py takes crop_pct = 224 / 256 up to 224 and 1.0
    above, so 448 evaluates at resize 448 -> centre crop 448 (not 512 -> 448)."""
    pipeline = Config.fromfile(path).test_dataloader.dataset.pipeline
    assert [t.type for t in pipeline] == ['mae_mm.LoadCheckedImage', 'ResizeEdge', 'CenterCrop', 'PackInputs']
    img = np.random.RandomState(0).randint(0, 256, (300, 400, 3), dtype=np.uint8)
    resized = run_transforms(pipeline[1:2], img.copy())['img']
    assert min(resized.shape[:2]) == short
    cropped = run_transforms(pipeline[1:3], img.copy())['img']
    assert cropped.shape[:2] == (crop, crop)
    # at 448 the crop keeps the whole short side
    assert (crop == short) == (cropped.shape[0] == resized.shape[0])


# ---- 4. COCO ViT-H: norms and pos_embed decayed, as detectron2's ViTDet-H ------------------------

def test_coco_vit_h_decays_every_parameter_as_vitdet_h():
    """Issue 13 (4): detectron2's mask_rcnn_vitdet_h_75ep.py sets optimizer.params.overrides = {}
    and weight_decay_norm = None: norms and pos_embed take weight decay 0.1 like the rest.

    The real ViT-H config's optimizer and model, with the backbone shrunk to the tiny ViT."""
    cfg = Config.fromfile(COCO_H)
    cfg.model.backbone.update(arch='tiny', global_blocks=(2, 5), init_cfg=None)
    cfg.model.neck.update(in_channels=192)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model)
    groups = groups_by_name(model, cfg.optim_wrapper)
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    assert set(groups) == set(names)
    norm_params = [f'{owner}.{leaf}' for owner, m in model.named_modules() if 'Norm' in type(m).__name__
                   for leaf, _ in m.named_parameters(recurse=False)]
    assert len(norm_params) > 40  # the ViT's, the pyramid's and the heads' norms
    for name in names:
        assert groups[name]['weight_decay'] == 0.1, name
    assert 'backbone.pos_embed' in groups and groups['backbone.pos_embed']['lr_scale'] == pytest.approx(0.9 ** 7)
    assert groups['backbone.blocks.0.norm1.weight']['lr_scale'] == pytest.approx(0.9 ** 6)


# ---- 5. RandAugment's fill: the mean in the image's channel order (BGR) ---------------------------

@pytest.mark.parametrize('path', [FINETUNE_BASE, FINETUNE_B, FINETUNE_H448], ids=osp.basename)
def test_randaugment_fills_with_the_mean_in_the_images_bgr_order(path, tmp_path):
    """Issue 13 (5): the official code fills RandAugment's rotate / shear / translate with timm's
    rounded ImageNet mean, (124, 116, 104) in RGB. mmcv decodes BGR and the channels are swapped
    only by the data preprocessor (to_rgb), so at RandAugment the fill must be (104, 116, 124)."""
    cfg = Config.fromfile(path)
    pipeline = cfg.train_dataloader.dataset.pipeline
    types = [t.type for t in pipeline]
    i = types.index('RandAugment')
    assert types[:i] == ['mae_mm.DecodeRandomResizedCrop', 'RandomFlip']
    # what reaches RandAugment: a pure-red file arrives as BGR (0, 0, 255)
    Image.fromarray(np.full((64, 80, 3), (255, 0, 0), np.uint8)).save(tmp_path / 'red.png')
    init_default_scope('mmpretrain')
    before = Compose(pipeline[:i])(dict(img_path=str(tmp_path / 'red.png')))['img']
    assert before.shape[2] == 3 and (before.reshape(-1, 3) == (0, 0, 255)).all()
    if 'model' in cfg:  # the swap to RGB happens after, on the batch
        assert cfg.model.data_preprocessor.to_rgb is True

    expected_bgr = tuple(round(255 * m) for m in IMAGENET_MEAN_RGB)[::-1]
    assert expected_bgr == (104, 116, 124)
    randaug = Compose([pipeline[i]]).transforms[0]
    filled = [t for t in randaug.transforms if hasattr(t, 'pad_val')]
    assert {type(t).__name__ for t in filled} >= {'Rotate', 'Shear', 'Translate'}
    for t in filled:
        assert tuple(t.pad_val) == expected_bgr, type(t).__name__
    # and the fill as drawn: rotate the red image with the configured fill; its corners take it
    rotate = next(t for t in filled if type(t).__name__ == 'Rotate')
    from mmpretrain.datasets.transforms import Rotate
    out = Rotate(angle=30.0, prob=1.0, random_negative_prob=0.0, pad_val=rotate.pad_val,
                 interpolation='nearest')(dict(img=before.copy()))['img']
    assert tuple(out[0, 0]) == expected_bgr and tuple(out[0, 0][::-1]) == (124, 116, 104)
    assert tuple(out[out.shape[0] // 2, out.shape[1] // 2]) == (0, 0, 255)  # the centre stays red
    # RandomErasing's colour is the BGR mean too
    erasing = pipeline[types.index('RandomErasing')]
    assert erasing.fill_color == pytest.approx([255 * m for m in IMAGENET_MEAN_RGB][::-1])


# ---- 6. auto_scale_lr counts gradient accumulation ------------------------------------------------

class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 2)

    def forward(self, inputs=None, data_samples=None, mode='tensor'):
        return self.fc(inputs)


def scaled_lr(cfg, tmp_path):
    """The lr after mmengine's own Runner.scale_lr, for ``cfg``'s optim_wrapper, batch and auto_scale_lr."""
    from mmengine.runner import Runner
    runner = Runner(model=_Toy(), work_dir=str(tmp_path),
                    train_dataloader=dict(batch_size=cfg.train_dataloader.batch_size, dataset=[], sampler=None),
                    train_cfg=dict(by_epoch=True, max_epochs=1),
                    optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=cfg.optim_wrapper.optimizer.lr),
                                       accumulative_counts=cfg.optim_wrapper.get('accumulative_counts', 1)),
                    auto_scale_lr=cfg.auto_scale_lr, default_scope='mmengine')
    runner.optim_wrapper = runner.build_optim_wrapper(runner.optim_wrapper)
    runner.scale_lr(runner.optim_wrapper, runner.auto_scale_lr)
    return runner.optim_wrapper.optimizer.param_groups[0]['lr']


@pytest.mark.parametrize('counts', [1, 4])
def test_auto_scale_lr_counts_accumulation_as_the_official_code(counts, tmp_path):
    """Issue 13 (6): the official rule is lr = blr x batch_size x accum_iter x world_size / 256
    (main_finetune.py / main_pretrain.py, eff_batch_size); mmengine alone leaves out accum_iter."""
    cfg = Config.fromfile(FINETUNE_B)
    cfg.train_dataloader.batch_size = 32
    cfg.optim_wrapper.accumulative_counts = counts
    blr = cfg.optim_wrapper.optimizer.lr
    count_accumulation_in_auto_scale_lr(cfg)
    assert scaled_lr(cfg, tmp_path) == pytest.approx(blr * 32 * counts * 1 / 256)  # world size 1
    if counts == 1:
        assert cfg.auto_scale_lr == dict(base_batch_size=256, enable=True)  # untouched
        return
    # idempotent, and the dumped config (the work dir's copy) gives the same lr again
    again = Config.fromstring(cfg.pretty_text, '.py')
    count_accumulation_in_auto_scale_lr(cfg)
    count_accumulation_in_auto_scale_lr(again)
    assert cfg.auto_scale_lr.base_batch_size == again.auto_scale_lr.base_batch_size == 256 / counts
    # accumulation changed on the dumped config: counted from the per-step base again
    again.optim_wrapper.accumulative_counts = 2
    count_accumulation_in_auto_scale_lr(again)
    assert scaled_lr(again, tmp_path) == pytest.approx(blr * 32 * 2 / 256)


def test_mmengine_alone_would_not_count_accumulation(tmp_path):
    """What the rule is for (if mmengine starts counting it, the rule must go)."""
    cfg = Config.fromfile(FINETUNE_B)
    cfg.train_dataloader.batch_size = 32
    cfg.optim_wrapper.accumulative_counts = 4
    assert scaled_lr(cfg, tmp_path) == pytest.approx(cfg.optim_wrapper.optimizer.lr * 32 / 256)


@pytest.mark.parametrize('counts', [0, 2.5, '4', True])
def test_a_bad_accumulation_count_is_refused_naming_the_key(counts):
    cfg = Config.fromfile(FINETUNE_B)
    cfg.optim_wrapper.accumulative_counts = counts
    with pytest.raises(ValueError, match=r'optim_wrapper\.accumulative_counts must be a positive integer'):
        count_accumulation_in_auto_scale_lr(cfg)


def test_auto_scale_lr_off_leaves_the_config_alone():
    cfg = Config.fromfile(osp.join(CONFIGS, 'coco', 'mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'))
    cfg.optim_wrapper.accumulative_counts = 4
    before = dict(cfg.auto_scale_lr)
    count_accumulation_in_auto_scale_lr(cfg)
    assert dict(cfg.auto_scale_lr) == before


def test_tools_train_applies_the_rule_before_building_the_runner(demo_data, tmp_path):
    from mae_mm.launch.prepare import prepare_run
    from mae_mm.launch.train import parse_args
    demo = osp.join(CONFIGS, 'demo', 'mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py')
    cfg = prepare_run(parse_args([demo, '--work-dir', str(tmp_path), '--cfg-options',
                                  'optim_wrapper.accumulative_counts=4']))  # the config the Runner gets
    assert (cfg.auto_scale_lr.base_batch_size, cfg.auto_scale_lr.counted_accumulative_counts) == (256 / 4, 4)


# ---- 7. the smaller points: matched (drop_last) or argued in the config ---------------------------

def test_finetune_loader_drops_the_last_partial_batch():
    """Issue 13 (7): the official fine-tuning loader uses drop_last=True."""
    for path in (FINETUNE_BASE, FINETUNE_B, FINETUNE_H448):
        assert Config.fromfile(path).train_dataloader.drop_last is True, path


@pytest.mark.parametrize('path,phrases', [
    (ADE20K['base-p16'], ('layer scale', 'init_values=1.0', 'backbone.pos_embed', "no_decay=['1d']")),
    (osp.join(CONFIGS, 'coco', 'mask-rcnn_vit-base-p16_16xb4-amp-lsj-100e_coco.py'),
     ('Kaiming-uniform with a=1', "PyTorch's default", 'LayerNorm')),
    (FINETUNE_B, ('bf16', 'loss scaler', 'ZeroDivisionError', 'accumulative_counts')),
    (osp.join(CONFIGS, '_base_', 'schedules', 'mae_adamw-coslr-800e.py'), ('GradScaler', 'ZeroDivisionError')),
], ids=['ade20k-layer-scale-decay', 'coco-pyramid-init', 'finetune-bf16-warmup', 'pretrain-bf16-warmup'])
def test_unmatched_points_are_argued_where_they_live(path, phrases):
    text = open(path).read()
    for phrase in phrases:
        assert phrase in text, (osp.basename(path), phrase)
