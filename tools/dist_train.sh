#!/usr/bin/env bash
# Distributed training on one machine: tools/dist_train.sh CONFIG GPUS [train.py args...]
# NNODES, NODE_RANK, MASTER_ADDR and PORT configure multi-node runs. A SIGTERM (or SIGUSR1) to this
# script reaches every training process as SIGUSR1: they finish the iteration, save it and stop;
# the script then exits with the preempted code (PREEMPTED in mae_mm/exit_codes.py; resumable: run it
# again with --resume).
set -uo pipefail
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PREEMPTED=$(sed -n 's/^PREEMPTED = \([0-9]*\).*/\1/p' "$ROOT/mae_mm/exit_codes.py")
[ -n "$PREEMPTED" ] || { echo "$0: no 'PREEMPTED = N' line in $ROOT/mae_mm/exit_codes.py" >&2; exit 2; }
# torchrun reports a failed worker as 1 whatever its exit code, so the save on a signal is
# reported through this file (SaveOnSignalHook writes the checkpoint's path into it)
if [ -z "${MAE_MM_PREEMPTED_FILE:-}" ]; then
  MAE_MM_PREEMPTED_FILE=$(mktemp)
  trap 'rm -f "$MAE_MM_PREEMPTED_FILE"' EXIT
fi
export MAE_MM_PREEMPTED_FILE
: > "$MAE_MM_PREEMPTED_FILE"

PYTHONPATH="$ROOT:${PYTHONPATH:-}" "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$GPUS" --master_port="$PORT" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@" &
train=$!
# SIGUSR1 to the training processes (torchrun's children) rather than torchrun's own SIGTERM to
# their process groups, which would also end their DataLoader workers before the save
trap 'pkill -USR1 -P "$train"' TERM USR1
while true; do
  wait "$train"; rc=$?
  kill -0 "$train" 2>/dev/null || break
done
if [ "$rc" != 0 ] && [ -s "$MAE_MM_PREEMPTED_FILE" ]; then
  echo "[dist_train] saved $(cat "$MAE_MM_PREEMPTED_FILE") on a signal; resume with --resume" >&2
  rc=$PREEMPTED
fi
exit "$rc"
