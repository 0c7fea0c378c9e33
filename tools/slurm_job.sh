#!/usr/bin/env bash
# The batch script of a tools/slurm_train.sh job (run by sbatch; not meant to be run by hand):
#   slurm_job.sh [--eval CHECKPOINT] CONFIG WORK_DIR [tool args...]
# Runs training through srun with --resume. On USR1 or TERM (Slurm's warning before the time
# limit, scancel --signal, preemption) it passes the signal on to the training tasks, which save
# the iteration they are at and exit with the preempted code (PREEMPTED in mae_mm/exit_codes.py,
# read from there); the job then requeues itself (scontrol requeue) unless it has already
# restarted MAE_MM_MAX_RESTARTS times, and exits with that code in that case.
# With MAE_MM_EVAL_OUT set (tools/transfer.py), a finished training is then evaluated by
# tools/test.py on WORK_DIR's newest checkpoint, the metrics written to MAE_MM_EVAL_OUT. With
# --eval CHECKPOINT, tools/test.py evaluates CHECKPOINT (into MAE_MM_EVAL_OUT when set) and
# nothing is trained. The extra arguments go to both tools (tools/transfer.py passes only
# --cfg-options); a relative MAE_MM_EVAL_OUT is a file in WORK_DIR. In a job array
# (MAE_MM_POINTS_FILE) task i takes line i + 1 of that file: its WORK_DIR, then its own args,
# before the command line's.
set -uo pipefail
EVAL_CHECKPOINT=
if [ "${1:-}" = --eval ]; then
  EVAL_CHECKPOINT=$2
  shift 2
fi
CONFIG=$1
WORK_DIR=$2
shift 2
if [ -n "${MAE_MM_POINTS_FILE:-}" ]; then
  IFS=$'\t' read -r -a point < <(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" "$MAE_MM_POINTS_FILE")
  [ "${#point[@]}" -gt 0 ] || { echo "slurm_job.sh: no line $((SLURM_ARRAY_TASK_ID + 1)) in $MAE_MM_POINTS_FILE" >&2; exit 2; }
  WORK_DIR=${point[0]}
  set -- "${point[@]:1}" "$@"
fi
case "${MAE_MM_EVAL_OUT:-/}" in /*) ;; *) MAE_MM_EVAL_OUT=$WORK_DIR/$MAE_MM_EVAL_OUT ;; esac
ROOT=${MAE_MM_ROOT:?set by tools/slurm_train.sh}
MAX_RESTARTS=${MAE_MM_MAX_RESTARTS:-20}
PREEMPTED=$(sed -n 's/^PREEMPTED = \([0-9]*\).*/\1/p' "$ROOT/mae_mm/exit_codes.py")
[ -n "$PREEMPTED" ] || { echo "slurm_job.sh: no 'PREEMPTED = N' line in $ROOT/mae_mm/exit_codes.py" >&2; exit 2; }
restarts=${SLURM_RESTART_COUNT:-0}
log() { echo "[slurm_job $(date '+%F %T')] job $SLURM_JOB_ID (restart $restarts): $*"; }

evaluate() {  # evaluate CHECKPOINT [test.py args...]: tools/test.py (into MAE_MM_EVAL_OUT when set)
  local checkpoint=$1 out=()
  shift
  [ -n "${MAE_MM_EVAL_OUT:-}" ] && out=(--out="$MAE_MM_EVAL_OUT")
  log "evaluating $checkpoint with $CONFIG"
  # shellcheck disable=SC2086
  PYTHONPATH="$ROOT:${PYTHONPATH:-}" srun --kill-on-bad-exit=1 ${MAE_MM_SRUN_ARGS:-} \
    "${PYTHON:-python}" -u "$ROOT/tools/test.py" "$CONFIG" "$checkpoint" --work-dir="$WORK_DIR" --launcher=slurm \
    "${out[@]}" "$@"
}
if [ -n "$EVAL_CHECKPOINT" ]; then
  evaluate "$EVAL_CHECKPOINT" "$@"
  exit $?
fi

log "training $CONFIG in $WORK_DIR"
# shellcheck disable=SC2086  # MAE_MM_SRUN_ARGS is a list of words
PYTHONPATH="$ROOT:${PYTHONPATH:-}" srun --kill-on-bad-exit=1 ${MAE_MM_SRUN_ARGS:-} \
  "${PYTHON:-python}" -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm --resume "$@" &
train=$!
signalled=0
trap 'signalled=1; log "got a signal: asking training to save"; kill -USR1 "$train" 2>/dev/null' USR1 TERM
# wait returns early (status > 128) when a trapped signal arrives; wait again for the real status
while true; do
  wait "$train"; rc=$?
  kill -0 "$train" 2>/dev/null || break
done
# a signal before training could catch it (still starting up) ends it another way: resumable too
if [ "$rc" = "$PREEMPTED" ] || { [ "$signalled" = 1 ] && [ "$rc" != 0 ]; }; then
  if [ "$restarts" -lt "$MAX_RESTARTS" ]; then
    log "training saved and stopped: requeueing"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
  log "training saved and stopped, but the job has restarted $restarts times (MAX_RESTARTS=$MAX_RESTARTS): not requeueing"
fi
log "training exited with $rc"
if [ "$rc" = 0 ] && [ -n "${MAE_MM_EVAL_OUT:-}" ]; then
  evaluate "$(cat "$WORK_DIR/last_checkpoint")" "$@"
  rc=$?
fi
exit "$rc"
