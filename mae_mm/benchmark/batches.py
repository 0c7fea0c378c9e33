"""Synthetic training batches for the train-step benchmark: one batch per task, made once, fed repeatedly."""
import numpy as np
import torch


# where each kind of model states its input size: the MAE encoder's is its pretraining size, a task
# backbone's its img_size (the ViTDet backbone's pretrain_img_size is only its position grid)
SIZE_KEYS = (('encoder', 'pretrain_img_size'), ('backbone', 'img_size'))


def image_size(cfg):
    """(H, W) of the config's model input: ``model.encoder.pretrain_img_size`` (MAE) or
    ``model.backbone.img_size``; a KeyError naming the key when the config does not state it."""
    model = cfg.model.get('module', cfg.model)  # a test-time-augmentation wrapper's model
    for part, key in SIZE_KEYS:
        sub = model.get(part)
        if sub is not None:
            if key not in sub:
                raise KeyError(f'model.{part}.{key} is not set in the config: the benchmark reads the input size '
                               f'from it (no default)')
            size = sub[key]
            return (size, size) if isinstance(size, int) else tuple(size)
    raise KeyError('the config has neither model.encoder nor model.backbone to read the input size from')


def task_of(cfg):
    """'pretrain', 'classify', 'segment' or 'detect', from the config's model type."""
    model_type = cfg.model.get('module', cfg.model).type.split('.')[-1]
    if model_type == 'MaskedAutoencoder':
        return 'pretrain'
    if model_type == 'EncoderDecoder':
        return 'segment'
    if model_type in ('MaskRCNN', 'CascadeRCNN', 'FasterRCNN'):
        return 'detect'
    return 'classify'


def synthetic_batches(cfg, batch, device):
    """One batch on the device, repeated: uint8 images and the labels the config's task trains on.

    pretrain / classify: ``inputs`` (B, 3, H, W) and a class per image; segment and detect: ``inputs``
    a list of B (3, H, W) images, as mmseg's and mmdet's data preprocessors take them.
    """
    h, w = image_size(cfg)
    gen = torch.Generator().manual_seed(0)
    imgs = torch.randint(0, 256, (batch, 3, h, w), dtype=torch.uint8, generator=gen).to(device)
    make_sample = dict(segment=seg_sample, detect=det_sample).get(task_of(cfg))
    if make_sample is not None:
        data = dict(inputs=list(imgs), data_samples=[make_sample(cfg, h, w, gen, device) for _ in range(batch)])
    else:
        from mmpretrain.structures import DataSample
        num_classes = cfg.model.get('head', {}).get('num_classes', 1000)
        samples = [DataSample().set_gt_label(int(torch.randint(num_classes, (1,), generator=gen)))
                   for _ in range(batch)]
        data = dict(inputs=imgs, data_samples=samples)
    while True:
        yield data


def seg_sample(cfg, h, w, gen, device):
    """A SegDataSample whose (1, H, W) class map is made of 32 x 32-pixel blocks of random classes."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    num_classes = cfg.model.decode_head.num_classes
    blocks = torch.randint(num_classes, (1, -(-h // 32), -(-w // 32)), generator=gen)
    seg_map = blocks.repeat_interleave(32, 1).repeat_interleave(32, 2)[:, :h, :w]
    sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    sample.gt_sem_seg = PixelData(data=seg_map.to(device))
    return sample


def det_sample(cfg, h, w, gen, device, num_objects=8):
    """A DetDataSample with ``num_objects`` boxes (from 1/8 to 1/2 of the image side), their classes
    and rectangular masks (mmdet's BitmapMasks, which stay on the host as in a real batch)."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    num_classes = cfg.model.roi_head.bbox_head.num_classes
    size = torch.rand(num_objects, 2, generator=gen) * 0.375 + 0.125  # (N, 2) box side / image side
    corner = torch.rand(num_objects, 2, generator=gen) * (1 - size)
    scale = torch.tensor([w, h], dtype=torch.float32)
    boxes = torch.cat([corner * scale, (corner + size) * scale], dim=1)  # (N, 4) x1, y1, x2, y2
    masks = np.zeros((num_objects, h, w), dtype=np.uint8)
    for mask, (x1, y1, x2, y2) in zip(masks, boxes.round().int().tolist()):
        mask[y1:y2, x1:x2] = 1
    sample = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                                         scale_factor=(1.0, 1.0), flip=False))
    sample.gt_instances = InstanceData(bboxes=boxes.to(device), masks=BitmapMasks(masks, h, w),
                                       labels=torch.randint(num_classes, (num_objects,), generator=gen).to(device))
    return sample
