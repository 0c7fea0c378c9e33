#!/usr/bin/env bash
# The batch script of a tools/slurm_train.sh job (run by sbatch; not meant to be run by hand):
#   slurm_job.sh [--eval CHECKPOINT] CONFIG WORK_DIR [tool args...]
# Runs training through srun with --resume. What each signal means is what Slurm means by it:
# - USR1 to the batch shell (--signal=B:USR1@LEAD before the time limit, scancel --signal=USR1 --batch):
#   passed on to the training tasks, which save the iteration they are at and exit with the preempted
#   code (PREEMPTED in mae_mm/exit_codes.py, read from there); the job requeues itself;
# - a preemption (PreemptMode=REQUEUE or CANCEL, with a GraceTime): Slurm sends TERM to the step's
#   tasks only, DataLoader workers included, and the job still RUNNING; the tasks save and exit, and
#   the job requeues itself at once (one that simply exited would end COMPLETED, not requeued);
# - a plain scancel: TERM to the batch shell and every task, the job COMPLETING, then CANCELLED: the
#   tasks save if they can within KillWait, the job stays cancelled, and the log says where it saved
#   and how to resume (MAE_MM_RESUME_WITH, set by tools/slurm_train.sh or tools/transfer.py).
# A save is reported only from the file rank 0 writes once the checkpoint is whole (MAE_MM_PREEMPTED_FILE).
# Also requeued: a lost peer (LOST_PEER in mae_mm/exit_codes.py) and a task killed by a signal
# (srun's 128 + N), from the newest whole checkpoint; never another failure (a config error, a refused
# checkpoint). Requeues stop after MAE_MM_MAX_RESTARTS; the job then exits with that code.
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
LOST_PEER=$(sed -n 's/^LOST_PEER = \([0-9]*\).*/\1/p' "$ROOT/mae_mm/exit_codes.py")
NOT_WRITTEN=$(sed -n 's/^CHECKPOINT_NOT_WRITTEN = \([0-9]*\).*/\1/p' "$ROOT/mae_mm/exit_codes.py")
[ -n "$PREEMPTED" ] && [ -n "$LOST_PEER" ] && [ -n "$NOT_WRITTEN" ] || {
  echo "slurm_job.sh: no 'PREEMPTED = N', 'LOST_PEER = N' or 'CHECKPOINT_NOT_WRITTEN = N' line in $ROOT/mae_mm/exit_codes.py" >&2; exit 2; }
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
mkdir -p "$WORK_DIR"
# rank 0 writes the checkpoint's path here once a save on a signal is whole on disk (SaveOnSignalHook):
# a save is reported from this file only, never from an exit code or a signal
SAVED_FILE=$WORK_DIR/.saved-on-signal-$SLURM_JOB_ID
: > "$SAVED_FILE"
# shellcheck disable=SC2086  # MAE_MM_SRUN_ARGS is a list of words
MAE_MM_PREEMPTED_FILE=$SAVED_FILE PYTHONPATH="$ROOT:${PYTHONPATH:-}" srun --kill-on-bad-exit=1 ${MAE_MM_SRUN_ARGS:-} \
  "${PYTHON:-python}" -u "$ROOT/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher=slurm --resume "$@" &
train=$!
signalled=
job_state() { scontrol -o show job "$SLURM_JOB_ID" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
cancelled() { case "$(job_state)" in CANCELLED|COMPLETING) return 0 ;; *) return 1 ;; esac; }
on_signal() {  # $1: USR1 (the time limit's warning, scancel --signal=USR1 --batch) or TERM
  signalled=$1
  if [ "$1" = TERM ] && cancelled; then  # a plain scancel: every task has its own TERM already
    log "got TERM: the job is cancelled (scancel); training saves the iteration it is at if it can within KillWait"
  else
    log "got $1: asking training to save"
  fi
  kill -USR1 "$train" 2>/dev/null
}
trap 'on_signal USR1' USR1
trap 'on_signal TERM' TERM
# wait returns early (status > 128) when a trapped signal arrives; wait again for the real status
while true; do
  wait "$train"; rc=$?
  kill -0 "$train" 2>/dev/null || break
done
saved=$(cat "$SAVED_FILE" 2>/dev/null)
rm -f "$SAVED_FILE"
newest() { PYTHONPATH="$ROOT:${PYTHONPATH:-}" "${PYTHON:-python}" -c 'import sys
from mae_mm.engine.resume import find_resumable_checkpoint
print(find_resumable_checkpoint(sys.argv[1]) or "none")' "$WORK_DIR" 2>/dev/null; }
RESUME_WITH=${MAE_MM_RESUME_WITH:-the same tools/slurm_train.sh command (WORK_DIR $WORK_DIR)}
if cancelled; then  # scancel: stays cancelled, whatever training managed
  if [ -n "$saved" ]; then
    log "cancelled (scancel): training saved $saved; not requeueing. To resume from there: $RESUME_WITH"
  else
    log "cancelled (scancel) before training saved (exit $rc); not requeueing. Newest whole checkpoint: $(newest). To resume: $RESUME_WITH"
  fi
  exit "$rc"
fi
# what may be requeued: a save on a signal (the time limit, a preemption's TERM to the tasks while
# the job still runs), a signal before training could catch it, a lost peer (LOST_PEER), a task
# killed by a signal (srun: 128 + the signal); never a config error, a refused checkpoint or a full
# disk (CHECKPOINT_NOT_WRITTEN: it does not empty itself)
why=
if [ -n "$saved" ]; then
  if [ -n "$signalled" ]; then
    why="training saved $saved on $signalled to the batch shell"
  else
    why="training saved $saved on a signal to the tasks (a preemption: the job still runs)"
  fi
elif [ "$rc" = "$PREEMPTED" ]; then
  why="training stopped on a signal before its first iteration (nothing to save)"
elif [ "$rc" = "$LOST_PEER" ]; then
  why="training lost a peer process (exit $LOST_PEER); newest whole checkpoint: $(newest)"
elif [ "$rc" -gt 128 ]; then
  why="a training process died by signal $((rc - 128)); newest whole checkpoint: $(newest)"
elif [ -n "$signalled" ] && [ "$rc" != 0 ] && [ "$rc" != "$NOT_WRITTEN" ]; then
  why="got $signalled before training could catch it (exit $rc)"
fi
if [ -n "$why" ]; then
  if [ "$restarts" -lt "$MAX_RESTARTS" ]; then
    log "$why: requeueing"
    scontrol requeue "$SLURM_JOB_ID"
    exit 0
  fi
  log "$why, but the job has restarted $restarts times (MAX_RESTARTS=$MAX_RESTARTS): not requeueing"
  [ "$rc" = 0 ] && rc=$PREEMPTED
fi
log "training exited with $rc"
if [ "$rc" = 0 ] && [ -n "${MAE_MM_EVAL_OUT:-}" ]; then
  evaluate "$(cat "$WORK_DIR/last_checkpoint")" "$@"
  rc=$?
fi
exit "$rc"
