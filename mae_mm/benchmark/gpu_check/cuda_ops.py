"""Row 1: mmcv's RoIAlign (forward, backward, fp16 on CUDA) and NMS on the device's tensors, against
torchvision's on the same tensors."""
from .parts import Context, attempt, part


def row_cuda_ops(ctx: Context):
    """Parts: the mmcv build (CUDA ops or not), RoIAlign, NMS."""
    import mmcv
    import torch
    import torchvision
    from mmcv.ops import get_compiling_cuda_version, nms, roi_align

    built = get_compiling_cuda_version()
    has_cuda = built != 'not available'
    yield part('mmcv build', has_cuda or not ctx.cuda,
               f'mmcv {mmcv.__version__}, CUDA ops: {"CUDA " + built if has_cuda else "none (CPU only)"}',
               mmcv_cuda=built)
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 16, 64, 64, generator=gen)
    xy = torch.rand(128, 2, generator=gen) * 200
    wh = torch.rand(128, 2, generator=gen) * 50 + 4
    # (K, 5): image index, x1, y1, x2, y2 on a 256 px image (features at stride 4)
    rois = torch.cat([torch.randint(2, (128, 1), generator=gen).float(), xy, xy + wh], dim=1)

    def align():
        x = feats.to(ctx.device).requires_grad_()
        r = rois.to(ctx.device)
        ours = roi_align(x, r, (7, 7), 0.25, 2, 'avg', True)
        ours.square().sum().backward()
        x_ref = feats.to(ctx.device).requires_grad_()
        ref = torchvision.ops.roi_align(x_ref, r, (7, 7), 0.25, 2, True)
        ref.square().sum().backward()
        fwd = (ours - ref).abs().max().item()
        bwd = (x.grad - x_ref.grad).abs().max().item()
        ok = ours.device.type == x.device.type and fwd < 1e-4 and bwd < 1e-4
        figures = dict(forward_max_diff=fwd, backward_max_diff=bwd)
        summary = (f'RoIAlign on {ours.device}, 128 rois: largest difference to torchvision {fwd:.1e} forward, '
                   f'{bwd:.1e} backward')
        if ctx.cuda:  # Mask R-CNN's fp16 path (there is no bf16 kernel)
            half = roi_align(x.detach().half(), r.half(), (7, 7), 0.25, 2, 'avg', True)
            figures['fp16_max_diff'] = (half.float() - ref.detach()).abs().max().item()
            ok = ok and half.dtype == torch.float16 and figures['fp16_max_diff'] < 5e-2
            summary += f', fp16 {figures["fp16_max_diff"]:.1e}'
        return part('RoIAlign', ok, summary, **figures)

    def suppress():
        boxes = torch.cat([xy, xy + wh], dim=1).to(ctx.device)
        scores = torch.rand(128, generator=gen).to(ctx.device)
        _, keep = nms(boxes, scores, 0.5)
        ref = torchvision.ops.nms(boxes, scores, 0.5)
        ok = keep.device.type == boxes.device.type and torch.equal(keep.sort().values, ref.sort().values)
        return part('NMS', ok, f'NMS on {keep.device}: keeps {len(keep)} of 128 boxes, torchvision {len(ref)}'
                    + (' (the same)' if ok else ' (they differ)'), kept=len(keep), kept_torchvision=len(ref))

    if ctx.cuda and not has_cuda:
        yield part('RoIAlign / NMS', False, 'not run: this mmcv has no CUDA ops (bash tools/install.sh --cuda)')
        return
    yield attempt('RoIAlign', align)
    yield attempt('NMS', suppress)
