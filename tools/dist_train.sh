#!/usr/bin/env bash
# Distributed training: tools/dist_train.sh CONFIG GPUS [train.py args...]
# NNODES, NODE_RANK, MASTER_ADDR and PORT configure multi-node runs (run the script once per node,
# NODE_RANK 0 on the machine at MASTER_ADDR). A SIGTERM (or SIGUSR1) to this script reaches every
# training process as SIGUSR1: they finish the iteration, save it and stop; the script then exits
# with the preempted code (PREEMPTED in mae_mm/exit_codes.py; resumable: run it again with --resume).
# A lost peer (a node that died or stopped answering for env_cfg.dist_cfg.timeout seconds) ends the
# training processes with one message naming what was lost and the newest whole checkpoint; the
# script then exits with LOST_PEER (mae_mm/exit_codes.py).
# MAX_RESTARTS=N (default 0: no restarts, torchrun's static rendezvous) restarts the run up to N
# times after a failure, a lost peer included, each time from the newest whole checkpoint (the
# script passes --resume; with no checkpoint yet a run starts from scratch): torchrun with
# --max-restarts=N and a c10d rendezvous at MASTER_ADDR:PORT (id RDZV_ID, default mae_mm), hosted by
# NODE_RANK 0. A lost node must be started again (the same command) within RDZV_JOIN_TIMEOUT
# seconds (default 600) for the others to go on; losing NODE_RANK 0 loses the rendezvous itself,
# which ends every node's job (LOST_PEER). A preempted run is not restarted.
set -uo pipefail
CONFIG=$1
GPUS=$2
shift 2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
MAX_RESTARTS=${MAX_RESTARTS:-0}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exit_code() {  # the number of 'NAME = N' in mae_mm/exit_codes.py
  local code
  code=$(sed -n "s/^$1 = \([0-9]*\).*/\1/p" "$ROOT/mae_mm/exit_codes.py")
  [ -n "$code" ] || { echo "$0: no '$1 = N' line in $ROOT/mae_mm/exit_codes.py" >&2; exit 2; }
  echo "$code"
}
PREEMPTED=$(exit_code PREEMPTED) || exit 2
LOST_PEER=$(exit_code LOST_PEER) || exit 2
[[ "$MAX_RESTARTS" =~ ^[0-9]+$ ]] || { echo "$0: MAX_RESTARTS=$MAX_RESTARTS is not a number of restarts" >&2; exit 2; }
# torchrun reports a failed worker as 1 whatever its exit code, so the save on a signal and a lost
# peer are reported through files (SaveOnSignalHook writes the checkpoint's path into the first,
# mae_mm/launch/lost_peer.py its message into the second)
made=()
for var in MAE_MM_PREEMPTED_FILE MAE_MM_LOST_PEER_FILE; do
  if [ -z "${!var:-}" ]; then
    printf -v "$var" '%s' "$(mktemp)"
    made+=("${!var}")
  fi
  export "${var?}"
  : > "${!var}"
done
trap 'rm -f "${made[@]}"' EXIT

if [ "$MAX_RESTARTS" -gt 0 ]; then
  [ "$NODE_RANK" = 0 ] && is_host=1 || is_host=0
  rendezvous=(--max-restarts="$MAX_RESTARTS" --rdzv-backend=c10d --rdzv-endpoint="$MASTER_ADDR:$PORT"
              --rdzv-id="${RDZV_ID:-mae_mm}" --rdzv-conf="is_host=$is_host,join_timeout=${RDZV_JOIN_TIMEOUT:-600}")
  resume=(--resume)
  # torchrun's shared TCPStore breaks restarts with a node started again: the restarted agent waits
  # forever for keys the survivor never writes again (pytorch/pytorch#135712); a store per round
  export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1
  args=("$@")
  for i in "${!args[@]}"; do  # an explicit checkpoint would be resumed again on every restart
    next=${args[$((i + 1))]:-}
    if [[ "${args[$i]}" == --resume=* ]] \
       || { [ "${args[$i]}" = --resume ] && [ -n "$next" ] && [[ "$next" != -* ]]; }; then
      echo "$0: MAX_RESTARTS=$MAX_RESTARTS resumes from the newest whole checkpoint in the work dir on every" \
           "restart: leave out --resume's checkpoint (copy it into the work dir)" >&2
      exit 2
    fi
  done
else
  rendezvous=(--node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" --master_port="$PORT")
  resume=()
fi
PYTHONPATH="$ROOT:${PYTHONPATH:-}" "${PYTHON:-python}" -m torch.distributed.run \
  --nnodes="$NNODES" --nproc_per_node="$GPUS" "${rendezvous[@]}" \
  "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@" "${resume[@]}" &
train=$!
# SIGUSR1 to the training processes (torchrun's children, with either rendezvous) rather than
# torchrun's own SIGTERM to their process groups, which would also end their DataLoader workers
# before the save. With restarts torchrun would start the saved and stopped run again: once the
# save is reported, torchrun is stopped itself.
on_signal() {
  pkill -USR1 -P "$train"
  if [ "$MAX_RESTARTS" -gt 0 ] && [ -z "${stopper:-}" ]; then
    ( while kill -0 "$train" 2>/dev/null && [ ! -s "$MAE_MM_PREEMPTED_FILE" ]; do sleep 0.2; done
      kill -TERM "$train" 2>/dev/null ) &
    stopper=$!
  fi
}
trap on_signal TERM USR1
while true; do
  wait "$train"; rc=$?
  kill -0 "$train" 2>/dev/null || break
done
if [ "$rc" != 0 ] && [ -s "$MAE_MM_PREEMPTED_FILE" ]; then
  echo "[dist_train] saved $(cat "$MAE_MM_PREEMPTED_FILE") on a signal; resume with --resume" >&2
  rc=$PREEMPTED
elif [ "$rc" != 0 ] && [ -s "$MAE_MM_LOST_PEER_FILE" ]; then
  echo "[dist_train] node $NODE_RANK of $NNODES: $(tail -n 1 "$MAE_MM_LOST_PEER_FILE")" \
       "(restarts: MAX_RESTARTS=$MAX_RESTARTS, none left)" >&2
  rc=$LOST_PEER
fi
exit "$rc"
