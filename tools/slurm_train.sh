#!/usr/bin/env bash
# Submits a training job to Slurm that survives preemption and time limits:
#   tools/slurm_train.sh [--test-only] [--eval CHECKPOINT] PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args...]
# Prints the job id and returns at once (sbatch). The job runs tools/train.py through srun with
# --resume (from scratch when WORK_DIR holds no checkpoint). Slurm sends USR1 SIGNAL_LEAD seconds
# before the time limit (and `scancel --signal=USR1 --batch JOBID` sends it by hand), and a
# preemption sends TERM to the tasks: training saves the iteration it is at, exits with the
# preempted code (PREEMPTED in mae_mm/exit_codes.py: resumable), and the job requeues itself and
# resumes exactly, up to MAX_RESTARTS times; so does a lost peer or a task killed by a signal, from
# the newest whole checkpoint. A plain `scancel JOBID` saves and stays cancelled: submitting the same
# command again resumes it (tools/slurm_job.sh says what each signal does). The log
# appends to WORK_DIR/slurm-<jobid>.out. With --eval CHECKPOINT the job trains nothing: it runs
# tools/test.py CONFIG CHECKPOINT (the args then go to test.py; tools/transfer.py evaluates a
# pretraining checkpoint so); CHECKPOINT must exist unless SBATCH_ARGS holds --dependency= (a study
# submits the evaluation behind the pretraining job that writes it).
#
# Environment: GPUS (processes in all, default 8), GPUS_PER_NODE (default: the partition's GPUs
# from sinfo, 0 on CPU-only nodes: then no --gres request and training runs on gloo),
# CPUS_PER_TASK (10), SIGNAL_LEAD (300 s; a ViT-B checkpoint saves in seconds, see README),
# MAX_RESTARTS (20), TIME (the job's --time, default the partition's), SBATCH_ARGS, SRUN_ARGS,
# PYTHON (default python).
#
# A job array, one task per point of a sweep: POINTS_FILE names a file of one line per task, its
# work dir then its train.py args, tab-separated (appended to the command line's args). Each task
# trains CONFIG in its own work dir and requeues itself alone; WORK_DIR then only holds the tasks'
# logs, slurm-<array job>_<task>.out. ARRAY_LIMIT caps how many tasks run at once.
#
# Before submitting, Slurm is asked whether the request can ever run (sbatch --test-only, through
# mae_mm/launch/slurm_request.py): one that no node of the partition can hold (CPUS_PER_TASK x tasks
# per node, GPUS_PER_NODE, more nodes than there are), or a partition or account that does not
# exist, is refused with exit status 2 and one message naming the numbers and the variable to
# change. --test-only as the first argument: all the checks, nothing submitted.
set -euo pipefail
TEST_ONLY=
if [ "${1:-}" = --test-only ]; then
  TEST_ONLY=1
  shift
fi
EVAL=()
if [ "${1:-}" = --eval ]; then
  # a checkpoint that a job this one depends on (SBATCH_ARGS --dependency=) is still to write may not exist yet
  case " ${SBATCH_ARGS:-} " in
    *" --dependency="*) [ $# -ge 2 ] && [ -n "$2" ] || { echo "$0: --eval needs a checkpoint" >&2; exit 2; } ;;
    *) [ $# -ge 2 ] && [ -f "$2" ] || { echo "$0: --eval needs an existing checkpoint, not '${2:-}'" >&2; exit 2; } ;;
  esac
  EVAL=(--eval "$2")
  shift 2
fi
if [ $# -lt 3 ]; then
  echo "usage: $0 [--test-only] [--eval CHECKPOINT] PARTITION JOB_NAME CONFIG [WORK_DIR] [train.py args...]" >&2; exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=${4:-work_dirs/$(basename "$CONFIG" .py)}
shift $(( $# > 3 ? 4 : 3 ))
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v sbatch >/dev/null || { echo "$0: sbatch not found: this needs a Slurm client on PATH" >&2; exit 2; }
[ -f "$CONFIG" ] || { echo "$0: config not found: $CONFIG" >&2; exit 2; }

GPUS=${GPUS:-8}
if [ -z "${GPUS_PER_NODE:-}" ]; then  # e.g. "gpu:8" or "gpu:a100:8(S:0-1)"; "(null)" without GPUs
  gres=$(sinfo -h -p "$PARTITION" -o %G 2>/dev/null | head -n1)
  GPUS_PER_NODE=$(echo "$gres" | sed -n 's/.*gpu:\([^,(]*:\)\{0,1\}\([0-9]\{1,\}\).*/\2/p')
  GPUS_PER_NODE=${GPUS_PER_NODE:-0}
fi
CPUS_PER_TASK=${CPUS_PER_TASK:-10}
SIGNAL_LEAD=${SIGNAL_LEAD:-300}

resources=(--ntasks="$GPUS" --cpus-per-task="$CPUS_PER_TASK")
if [ "$GPUS_PER_NODE" -gt 0 ]; then
  resources+=(--gres=gpu:"$GPUS_PER_NODE" --ntasks-per-node="$GPUS_PER_NODE")
fi
[ -n "${TIME:-}" ] && resources+=(--time="$TIME")

log_name=slurm-%j.out
if [ -n "${POINTS_FILE:-}" ]; then
  [ -s "$POINTS_FILE" ] || { echo "$0: POINTS_FILE is empty or missing: $POINTS_FILE" >&2; exit 2; }
  tasks=$(grep -c . "$POINTS_FILE")
  resources+=(--array="0-$((tasks - 1))${ARRAY_LIMIT:+%$ARRAY_LIMIT}")
  log_name=slurm-%A_%a.out
  POINTS_FILE=$(cd "$(dirname "$POINTS_FILE")" && pwd)/$(basename "$POINTS_FILE")
fi

# shellcheck disable=SC2086  # SBATCH_ARGS is a list of words
PYTHONPATH="$ROOT:${PYTHONPATH:-}" "${PYTHON:-python}" -m mae_mm.launch.slurm_request -p "$PARTITION" \
  "${resources[@]}" ${SBATCH_ARGS:-}  # exit 2 with its message when the request can never run
[ -z "$TEST_ONLY" ] || exit 0
mkdir -p "$WORK_DIR"
WORK_DIR=$(cd "$WORK_DIR" && pwd)

# what a cancelled job's log tells the user to run again (tools/transfer.py sets its own command)
if [ -z "${MAE_MM_RESUME_WITH:-}" ]; then
  MAE_MM_RESUME_WITH="$(printf '%q ' "$0" "${EVAL[@]}" "$PARTITION" "$JOB_NAME" "$CONFIG" "$WORK_DIR" "$@")"
  MAE_MM_RESUME_WITH=${MAE_MM_RESUME_WITH% }
fi
export MAE_MM_RESUME_WITH
# shellcheck disable=SC2086  # SBATCH_ARGS is a list of words
MAE_MM_ROOT=$ROOT MAE_MM_MAX_RESTARTS=${MAX_RESTARTS:-20} MAE_MM_SRUN_ARGS=${SRUN_ARGS:-} \
  MAE_MM_POINTS_FILE=${POINTS_FILE:-} sbatch --parsable -p "$PARTITION" --job-name="$JOB_NAME" "${resources[@]}" \
  --requeue --signal=B:USR1@"$SIGNAL_LEAD" --open-mode=append --output="$WORK_DIR/$log_name" \
  --export=ALL ${SBATCH_ARGS:-} \
  "$ROOT/tools/slurm_job.sh" "${EVAL[@]}" "$CONFIG" "$WORK_DIR" "$@"
