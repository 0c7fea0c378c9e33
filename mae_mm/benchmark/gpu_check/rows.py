"""gpu_check's rows in their order of importance, each with its time cap on a GPU and under --smoke."""
from dataclasses import dataclass
from typing import Callable, List, Optional

from .cuda_ops import row_cuda_ops
from .demo_tasks import row_demo_tasks
from .speed import row_eager, row_finetune_b, row_jpeg, row_mae_b, row_mae_l, row_mask_rcnn_b, row_upernet_b


@dataclass(frozen=True)
class Row:
    name: str
    title: str
    cap: float  # seconds on the GPU
    smoke_cap: float  # seconds under --smoke on a 2-core CPU
    run: Callable  # (Context) -> its parts, one at a time


ROWS = [
    Row('cuda_ops', "mmcv's CUDA ops: RoIAlign and NMS", 45, 30, row_cuda_ops),
    Row('demo_tasks', 'each demo task, a few iterations, mixed precision', 120, 90, row_demo_tasks),
    Row('mae_vit-b', 'MAE ViT-B/16 b512 compiled vs mmpretrain', 150, 40, row_mae_b),
    Row('mae_vit-l', 'MAE ViT-L/16 b256 compiled vs mmpretrain', 150, 40, row_mae_l),
    Row('finetune_vit-b', 'ViT-B/16 fine-tune b256 compiled vs mmpretrain', 120, 40, row_finetune_b),
    Row('mask-rcnn_vit-b', 'Mask R-CNN ViT-B 1024 fp16', 90, 40, row_mask_rcnn_b),
    Row('upernet_vit-b', 'UperNet ViT-B 512 bf16 vs mmseg', 90, 40, row_upernet_b),
    Row('jpeg_pipeline', 'JPEG pipeline, CPU and GPU decode, vs synthetic', 150, 40, row_jpeg),
    Row('eager', 'eager ViT-B, ViT-L, fine-tune vs mmpretrain', 150, 40, row_eager),
]
BY_NAME = {row.name: row for row in ROWS}


def chosen_rows(spec: Optional[str]) -> List[str]:
    """The names of the rows ``--rows`` picks (numbers from 1 or names, comma-separated); all without it."""
    if not spec:
        return [row.name for row in ROWS]
    names = []
    for item in spec.split(','):
        item = item.strip()
        name = ROWS[int(item) - 1].name if item.isdigit() and 1 <= int(item) <= len(ROWS) else item
        if name not in BY_NAME:
            raise SystemExit(f'--rows: unknown row {item!r} (rows: 1-{len(ROWS)} or '
                             f'{", ".join(BY_NAME)})')
        names.append(name)
    return names
