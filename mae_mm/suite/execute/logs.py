"""What a point's log says: where a running training is (mmengine's ETA), why a failed one failed."""
import os
import re
from typing import Optional

# mmengine LoggerHook lines: "Epoch(train)  [3][ 8/13]  ... eta: 0:00:41 ..." or "Iter(train) [ 40/300] ..."
TRAIN_LINE = re.compile(r'(Epoch|Iter)\(train\)\s*(?:\[(\d+)\])?\s*\[\s*(\d+)/(\d+)\].*?eta:\s*(\S+)')
ERROR_LINE = re.compile(r'^\s*(\w+\.)*\w*(Error|Exception|Interrupt)\b.*')


def tail(path: str, size: int = 1 << 16) -> str:
    """The last ``size`` bytes of the file as text ('' when it cannot be read)."""
    try:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - size))
            return f.read().decode('utf-8', 'replace')
    except OSError:
        return ''


def train_progress(log_path: str) -> Optional[str]:
    """'epoch 3, iter 8/13, eta 0:00:41' (or 'iter 40/300, eta ...') from the log's last train line."""
    last = None
    for match in TRAIN_LINE.finditer(tail(log_path)):
        last = match
    if last is None:
        return None
    kind, epoch, done, total, eta = last.groups()
    where = f'epoch {epoch}, iter {done}/{total}' if kind == 'Epoch' else f'iter {done}/{total}'
    return f'{where}, eta {eta}'


def failure_reason(log_path: str, returncode=None) -> str:
    """The log's last error line (a Python exception's message), else its last line."""
    lines = [line.strip() for line in tail(log_path).splitlines() if line.strip()]
    errors = [line for line in lines if ERROR_LINE.match(line)]
    text = (errors or lines or ['(empty log)'])[-1][:300]
    return f'exit {returncode}: {text}' if returncode is not None else text
