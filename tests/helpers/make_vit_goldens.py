"""Records every task model's numerics and state-dict layout, for tests/test_goldens.py.

Each case builds a small model, loads weights drawn from a seeded generator for its state-dict
layout (:func:`seeded_state`: every tensor random, the relative position tables included, so
that they matter), runs it on a fixed input and saves the layout, the input and the output to
``tests/data/vit_goldens.pt``; the layout (every state-dict key and shape) of each real
config's backbone, built on the ``meta`` device, goes to ``tests/data/vit_state_layouts.json``.
The test builds the same cases with the code of the day, loads the same weights strictly and
compares, so a refactoring that changes a name, a shape or a number fails it.

The goldens in the repository were recorded with the code before the one-ViT refactoring
(issue 12), whose keyword names differ; the cases are written in today's names and translated
when the old API is detected, so the script runs on either::

    PYTHONPATH=/path/to/old/checkout python tests/helpers/make_vit_goldens.py
"""
import glob
import hashlib
import inspect
import json
import os.path as osp
import sys

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
GOLDENS = osp.join(ROOT, 'tests', 'data', 'vit_goldens.pt')
LAYOUTS = osp.join(ROOT, 'tests', 'data', 'vit_state_layouts.json')

# a ViT small enough for kilobyte goldens: width 16, 2 heads, 3 blocks, 8-pixel patches
ARCH = dict(embed_dim=16, depth=3, num_heads=2, mlp_ratio=2.0, patch_size=8)

# name -> (class, constructor arguments in today's names, input shape)
CASES = {
    'plain_vit': ('PlainViT', dict(arch=ARCH, pretrain_img_size=32), (2, 3, 32, 48)),
    'cls_avg_featmap': ('ViTClsBackbone', dict(arch=ARCH, img_size=32, out_type='avg_featmap'), (2, 3, 32, 48)),
    'cls_cls_token': ('ViTClsBackbone', dict(arch=ARCH, img_size=32, out_type='cls_token'), (2, 3, 32, 32)),
    # 6 x 8 tokens: 3-token windows (padded), a global block whose 8 x 8 tables are resampled, a
    # 4 x 4 stored position grid resampled too
    'det': ('ViTDetBackbone', dict(arch=ARCH, img_size=64, pretrain_img_size=32, window_size=3, global_blocks=(1,),
                                   rel_pos_bias=True), (1, 3, 48, 64)),
    'det_no_rel_pos': ('ViTDetBackbone', dict(arch=ARCH, img_size=64, pretrain_img_size=32, window_size=4,
                                              global_blocks=(2,), rel_pos_bias=False), (1, 3, 48, 64)),
    # a 4 x 4 crop grid: a 6 x 5 input resamples the BEiT tables bicubically, a 3 x 4 one crops them
    'seg_larger_input': ('SegViTBackbone', dict(arch=ARCH, img_size=32, out_indices=(0, 2)), (1, 3, 48, 40)),
    'seg_smaller_input': ('SegViTBackbone', dict(arch=ARCH, img_size=32, out_indices=(1, 2)), (1, 3, 24, 32)),
}
MAE = dict(encoder=dict(type='MAEEncoder', arch=ARCH, pretrain_img_size=32),
           decoder=dict(type='MAEDecoder', embed_dim=16, depth=2, num_heads=2))
PYRAMID = dict(in_channels=16, out_channels=4)  # on the 'det' case's map

# the configs whose model layouts are pinned: (config, the model sub-dicts to build)
# (None: the whole model, without its data preprocessor)
LAYOUT_PARTS = dict(pretrain=(None,), finetune=('backbone',), coco=('backbone', 'neck'), ade20k=('backbone',))


def layout_configs(root: str):
    """(config path, model parts) of every pinned config under ``root``, the tree of the loaded code."""
    for task, parts in LAYOUT_PARTS.items():
        for path in sorted(glob.glob(osp.join(root, 'configs', task, '*.py'))):
            if not path.endswith('ms-flip.py'):  # the single-scale model, wrapped
                yield path, parts


def old_api() -> bool:
    from mae_mm.models.vit import PlainViT
    return 'img_size' in inspect.signature(PlainViT).parameters


def translated(kind: str, kwargs: dict) -> dict:
    """Today's constructor arguments in the old code's names, when the old code is loaded."""
    kwargs = dict(kwargs)
    if not old_api():
        return kwargs
    if kind in ('PlainViT', 'MAEEncoder'):
        kwargs['img_size'] = kwargs.pop('pretrain_img_size')
    if kind == 'ViTDetBackbone':
        kwargs['use_rel_pos'] = kwargs.pop('rel_pos_bias')
    if kind == 'SimpleFeaturePyramid':
        assert kwargs.pop('in_channels') == ARCH['embed_dim']
        kwargs['vit_arch'] = ARCH
    return kwargs


def import_models():
    import mae_mm.models.det  # noqa: F401  (registers the detection parts)
    import mae_mm.models.seg  # noqa: F401
    from mae_mm.registry import MODELS
    return MODELS


def build(kind: str, kwargs: dict):
    return import_models().get(kind)(**translated(kind, kwargs))


def layout_of(module: torch.nn.Module) -> list:
    """[(key, shape), ...] of the module's state dict, in its order."""
    return [(k, tuple(v.shape)) for k, v in module.state_dict().items()]


def seeded_state(layout: list, seed: int) -> dict:
    """Weights for a state-dict layout, drawn key by key from one seeded generator.

    Matrices and kernels N(0, 1 / fan_in), norm weights 1 + N(0, 0.1^2), every other vector,
    table and token N(0, 0.5^2): a model like a trained one, its bias tables far from zero.
    Independent of the order in which a model builds (and initialises) its modules.
    """
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for key, shape in layout:
        noise = torch.randn(shape, generator=gen) if shape else torch.randn((), generator=gen)
        if key.endswith('num_batches_tracked'):
            state[key] = torch.zeros(shape, dtype=torch.long)
        elif len(shape) >= 2 and not key.endswith(('pos_embed', 'cls_token', 'mask_token', 'rel_pos_h', 'rel_pos_w',
                                                   'relative_position_bias_table')):
            state[key] = noise / (torch.Size(shape[1:]).numel() ** 0.5)
        elif key.endswith('weight') and len(shape) == 1:
            state[key] = 1 + 0.1 * noise
        else:
            state[key] = 0.5 * noise
    return state


def load_seeded(module: torch.nn.Module, seed: int) -> list:
    """Loads :func:`seeded_state` of the module's own layout into it; returns the layout."""
    layout = layout_of(module)
    module.load_state_dict(seeded_state(layout, seed), strict=True)
    return layout


def outputs_of(model, x):
    with torch.no_grad():
        out = model(x)
    return list(out) if isinstance(out, (tuple, list)) else [out]


def record_numerics() -> dict:
    goldens = {}
    for i, (name, (kind, kwargs, shape)) in enumerate(CASES.items()):
        model = build(kind, kwargs).eval()
        layout = load_seeded(model, seed=i)
        goldens[name] = dict(layout=layout, seed=i, outputs=outputs_of(model, case_input(name)))
    neck = build('SimpleFeaturePyramid', PYRAMID).eval()
    goldens['pyramid'] = dict(layout=load_seeded(neck, seed=50), seed=50,
                              outputs=outputs_of(neck, (pyramid_input(),)))
    mae = build_mae().eval()
    goldens['mae'] = dict(layout=load_seeded(mae, seed=7), seed=7, outputs=mae_outputs(mae, *mae_inputs()))
    return goldens


def case_input(name: str) -> torch.Tensor:
    """The fixed input of a case of :data:`CASES`, from a generator seeded by its position."""
    seed = 100 + list(CASES).index(name)
    return torch.randn(CASES[name][2], generator=torch.Generator().manual_seed(seed))


def pyramid_input() -> torch.Tensor:
    """A (1, 16, 6, 8) map, the 'det' case's output shape."""
    return torch.randn(1, ARCH['embed_dim'], 6, 8, generator=torch.Generator().manual_seed(150))


def mae_inputs():
    """Images (2, 3, 32, 32) and masking noise (2, 16)."""
    gen = torch.Generator().manual_seed(107)
    return torch.randn(2, 3, 32, 32, generator=gen), torch.rand(2, 16, generator=gen)


def build_mae():
    cfg = dict(MAE, encoder=translated('MAEEncoder', MAE['encoder']))
    return import_models().build(dict(type='MaskedAutoencoder', **cfg))


def mae_outputs(mae, imgs, noise) -> list:
    """[pred, mask, loss] of :meth:`MaskedAutoencoder.reconstruct` and ``loss`` on fixed noise."""
    with torch.no_grad():
        pred, mask = mae.reconstruct(imgs, noise)
        return [pred, mask, mae.loss(imgs, noise)['loss']]


def compact_layout(layout) -> dict:
    """{key pattern: {shape: block indices}} of [(key, shape), ...], every ``blocks.N`` written
    ``blocks.*``: a ViT-H backbone's 500 keys in about 20 lines, and a readable diff when one differs.
    The key order (which the optimizer's state follows on resume) is kept as the SHA-1 of the keys."""
    table = {'key order sha1': {hashlib.sha1('\n'.join(k for k, _ in layout).encode()).hexdigest(): ''}}
    for key, shape in layout:
        parts = key.split('.')
        index = ''
        if 'blocks' in parts[:-1]:
            at = parts.index('blocks') + 1
            index, parts[at] = parts[at], '*'
        shapes = table.setdefault('.'.join(parts), {})
        shapes.setdefault('x'.join(map(str, shape)) or 'scalar', []).append(index)
    return {pattern: {shape: ranges(indices) for shape, indices in shapes.items()} for pattern, shapes in table.items()}


def ranges(indices: list) -> str:
    """['0', '1', '2', '5'] -> '0-2,5'; [''] -> ''."""
    if indices == ['']:
        return ''
    nums, spans = sorted(int(i) for i in indices), []
    for n in nums:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ','.join(f'{a}-{b}' if b > a else f'{a}' for a, b in spans)


def config_layout(path: str, parts) -> dict:
    """{part: :func:`compact_layout`} of the config's model parts, built on the meta device."""
    from mmengine.config import Config
    models = import_models()
    model_cfg = Config.fromfile(path).model
    entry = {}
    for part in parts:
        cfg = dict(model_cfg if part is None else model_cfg[part])
        for key in ('init_cfg', 'data_preprocessor'):  # no checkpoint to read, no data
            cfg.pop(key, None)
        with torch.device('meta'):
            module = models.build(dict(cfg, _scope_='mae_mm'))
        entry[part or 'model'] = compact_layout(layout_of(module))
    return entry


def record_layouts() -> dict:
    import mae_mm
    root = osp.dirname(osp.dirname(osp.abspath(mae_mm.__file__)))
    return {osp.relpath(path, root): config_layout(path, parts) for path, parts in layout_configs(root)}


def setup_process():
    """The process-wide adjustments a run needs (mmpretrain importable under transformers >= 5):
    :func:`mae_mm.runtime.setup_runtime` today; the code before the one-ViT refactoring has no
    ``mae_mm.runtime`` and made them on ``import mae_mm``. (The tests get them from conftest.)"""
    try:
        from mae_mm.runtime import setup_runtime
    except ModuleNotFoundError as err:  # the old code: importing mae_mm on the way here made them
        if err.name != 'mae_mm.runtime':
            raise
        return
    setup_runtime()


def main():
    setup_process()
    import mae_mm
    print(f'recording with {mae_mm.__file__} ({"old" if old_api() else "new"} API)', file=sys.stderr)
    torch.save(record_numerics(), GOLDENS)
    with open(LAYOUTS, 'w') as f:
        json.dump(record_layouts(), f, indent=1, sort_keys=True)
    print(f'wrote {GOLDENS} ({osp.getsize(GOLDENS) // 1024} KB) and {LAYOUTS} '
          f'({osp.getsize(LAYOUTS) // 1024} KB)', file=sys.stderr)


if __name__ == '__main__':
    main()
