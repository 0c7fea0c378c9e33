"""What a row works with: its context, and the parts (records of figures) it yields."""
import gc
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

from .. import ROOT


@dataclass
class Context:
    """What a row needs to know: the device, smoke or not, where to write, earlier rows' parts."""
    device: str
    smoke: bool
    out: str
    earlier: Dict[str, List[dict]] = field(default_factory=dict)

    @property
    def cuda(self) -> bool:
        return self.device.startswith('cuda')

    def config(self, real: str, smoke: Optional[str], toy_body: Optional[str] = None) -> str:
        """``real`` on the GPU; under --smoke ``smoke``, or ``real`` shrunk by ``toy_body`` (written
        under DIR/configs). Paths relative to the repository, or absolute."""
        if not self.smoke:
            return real
        if toy_body is None:
            return smoke
        folder = osp.join(self.out, 'configs')
        os.makedirs(folder, exist_ok=True)
        path = osp.join(folder, 'toy_' + osp.basename(real))
        with open(path, 'w') as f:
            f.write(toy_body.format(base=osp.join(ROOT, real)))
        return path


def part(name: str, ok: bool, summary: str, **figures) -> dict:
    """One part of a row: passed or not, a one-line summary, and its figures (JSON-able)."""
    return dict(name=name, ok=bool(ok), summary=summary, **figures)


def attempt(name: str, fn: Callable[[], dict]) -> dict:
    """``fn()``'s part, or a failed part naming the exception (a row's other parts still run)."""
    try:
        return fn()
    except (Exception, SystemExit) as err:  # argparse and the toolboxes may exit
        return part(name, False, f'{type(err).__name__}: {err}'.strip(), error=True)


def free_memory(ctx: Context) -> None:
    """Drops what a part left behind: compiled graphs, cached CUDA blocks, mmengine scopes."""
    import torch
    from mmengine.registry import DefaultScope
    gc.collect()
    torch._dynamo.reset()
    DefaultScope._instance_dict.clear()
    if ctx.cuda:
        torch.cuda.empty_cache()
