#!/usr/bin/env bash
# Installs mae_mm and its whole stack into a cached virtual environment; idempotent.
#
#   bash tools/install.sh              # runtime stack + mae_mm (editable)
#   bash tools/install.sh --tests      # also the test extras (pytest, timm)
#   bash tools/install.sh --cuda       # build mmcv's CUDA ops even where no GPU is visible
#   bash tools/install.sh --cpu        # build mmcv's CPU ops even where a GPU is visible
#   bash tools/install.sh --print-plan # print which mmcv build and cache it would use; change nothing
#
# mmcv is built with CUDA ops (FORCE_CUDA=1) when the venv's torch sees a GPU or --cuda is given;
# a CUDA toolkit alone (nvcc on PATH) is no reason. TORCH_CUDA_ARCH_LIST comes from the visible
# GPUs, else from the environment, else DEFAULT_ARCH_LIST below.
# The venv lives at $MAE_MM_VENV (default ~/.cache/mae_mm/venv-<python>-torch<version>) and
# mmcv's compiled wheel at $MAE_MM_CACHE/wheels/<python>-torch<version>/ (CPU ops) or
# .../<python>-torch<version>-cu<torch's CUDA version>-sm<arch list>/ (CUDA ops): a second run rebuilds nothing.
# Prints the venv's python path on its last line; callers use it via tools/env.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TORCH_VERSION=${MAE_MM_TORCH:-2.14.1}
TORCHVISION_VERSION=${MAE_MM_TORCHVISION:-0.29.1}
MMCV_VERSION=2.1.0
# Turing (T4), Ampere (A100, A10/RTX 30xx), Ada (L4/L40/RTX 40xx), Hopper (H100/H200); the PTX of 9.0
# lets newer GPUs JIT-compile the kernels. CUDA 13's nvcc no longer targets anything below 7.5.
DEFAULT_ARCH_LIST="7.5;8.0;8.6;8.9;9.0+PTX"
PYTHON=${MAE_MM_PYTHON:-python3}
PY_TAG=$("$PYTHON" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')
CACHE=${MAE_MM_CACHE:-$HOME/.cache/mae_mm}
VENV=${MAE_MM_VENV:-$CACHE/venv-$PY_TAG-torch$TORCH_VERSION}
WANT_TESTS=0
MODE=auto
PRINT_PLAN=0
for arg in "$@"; do
  case "$arg" in
    --tests) WANT_TESTS=1 ;;
    --cuda|--cpu) [ "$MODE" = auto ] || [ "$MODE" = "${arg#--}" ] \
                    || { echo "[install] --cuda and --cpu contradict each other; give one" >&2; exit 2; }
                  MODE=${arg#--} ;;
    --print-plan) PRINT_PLAN=1 ;;
    *) echo "[install] unknown argument '$arg' (known: --tests, --cuda, --cpu, --print-plan)" >&2; exit 2 ;;
  esac
done

log() { echo "[install] $*" >&2; }
die() { log "$*"; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
  [ "$PRINT_PLAN" = 0 ] || die "--print-plan needs an installed venv: $VENV/bin/python does not exist (run bash tools/install.sh first)"
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY=$VENV/bin/python
PIP=(pip_quiet)
# pip warns once per package that the machine's local index folders lack it; that is noise.
pip_quiet() { "$PY" -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

# What the plan depends on, read from the venv in one python start (it imports torch anyway for the
# mae_mm check): torch's version and CUDA build, the visible GPUs' compute capabilities, and
# whether mae_mm is installed from this checkout. Sets TORCH_SEEN, TORCH_CUDA, GPU_ARCHS, MAE_MM_HERE.
probe_venv() {
  TORCH_SEEN= TORCH_CUDA= GPU_ARCHS= MAE_MM_HERE=0
  local facts
  facts=$(cd / && "$PY" - "$ROOT/mae_mm" 2>/dev/null <<'EOF'
import os, sys
try:
    import torch
except Exception:
    sys.exit(0)
print("TORCH_SEEN=" + torch.__version__.split("+")[0])
print("TORCH_CUDA=" + (torch.version.cuda or ""))
n = torch.cuda.device_count() if torch.cuda.is_available() else 0
print("GPU_ARCHS=" + ";".join(sorted({"%d.%d" % torch.cuda.get_device_capability(i) for i in range(n)})))
try:
    import mae_mm
    here = os.path.realpath(os.path.dirname(mae_mm.__file__)) == os.path.realpath(sys.argv[1])
except Exception:
    here = False
print("MAE_MM_HERE=%d" % here)
EOF
  ) || true
  local line
  while IFS= read -r line; do
    case "$line" in
      TORCH_SEEN=*) TORCH_SEEN=${line#*=} ;;
      TORCH_CUDA=*) TORCH_CUDA=${line#*=} ;;
      GPU_ARCHS=*) GPU_ARCHS=${line#*=} ;;
      MAE_MM_HERE=*) MAE_MM_HERE=${line#*=} ;;
    esac
  done <<<"$facts"
}

# The toolkit torch's build would use: $CUDA_HOME, else nvcc on PATH, else /usr/local/cuda (torch's
# own order). Sets NVCC, CUDA_HOME_FOUND and NVCC_VERSION (e.g. 13.0); returns 1 when there is none.
find_toolkit() {
  NVCC= CUDA_HOME_FOUND= NVCC_VERSION=
  local home=${CUDA_HOME:-${CUDA_PATH:-}}
  if [ -n "$home" ]; then
    NVCC=$home/bin/nvcc
  else
    NVCC=$(command -v nvcc || true)
    [ -n "$NVCC" ] || NVCC=/usr/local/cuda/bin/nvcc
  fi
  [ -x "$NVCC" ] || return 1
  # nvcc may be a wrapper script: ask it where its own bin/ is (torch needs the real include/ and lib/).
  local here
  here=$("$NVCC" --dryrun -x cu -c /dev/null -o /dev/null 2>&1 | sed -n 's/^#\$ _HERE_=//p' | head -n1 || true)
  CUDA_HOME_FOUND=${home:-$(dirname "${here:-$(dirname "$(readlink -f "$NVCC")")}")}
  NVCC_VERSION=$("$NVCC" --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p' | head -n1)
  [ -n "$NVCC_VERSION" ]
}

# Decides the mmcv build from MODE, the probed facts and the environment. Sets FLAVOR (cpu|cuda),
# REASON, WHEELS (the cache key: for CUDA ops Python, torch, torch's CUDA and the arch list; the
# toolkit is looked for only when that wheel has to be built), and for cuda ARCH_LIST, ARCH_SOURCE.
plan_mmcv() {
  ARCH_LIST= ARCH_SOURCE=
  case "$MODE" in
    cpu)  FLAVOR=cpu;  REASON="--cpu given" ;;
    cuda) FLAVOR=cuda; REASON="--cuda given" ;;
    *) if [ -n "$GPU_ARCHS" ]; then FLAVOR=cuda; REASON="torch sees a GPU (compute capability $GPU_ARCHS)"
       else FLAVOR=cpu; REASON="torch sees no GPU (a CUDA toolkit alone is no reason to build CUDA ops)"; fi ;;
  esac
  if [ "$FLAVOR" = cpu ]; then
    WHEELS=$CACHE/wheels/$PY_TAG-torch$TORCH_VERSION            # the key CPU wheels always had
    return 0
  fi
  [ -n "$TORCH_CUDA" ] || die "mmcv with CUDA ops needs a CUDA build of torch, but torch ${TORCH_SEEN:-?} in \
$VENV has none (torch.version.cuda is None); install a CUDA torch into it or use --cpu"
  if [ -n "$GPU_ARCHS" ]; then ARCH_LIST=$GPU_ARCHS; ARCH_SOURCE="visible GPUs"
  elif [ -n "${TORCH_CUDA_ARCH_LIST:-}" ]; then ARCH_LIST=$TORCH_CUDA_ARCH_LIST; ARCH_SOURCE="TORCH_CUDA_ARCH_LIST"
  else ARCH_LIST=$DEFAULT_ARCH_LIST; ARCH_SOURCE="default list"; fi
  # "8.6;9.0+PTX" (or space separated) -> "sm86-90ptx"
  local archs
  archs=$(echo "$ARCH_LIST" | tr ' ;' '\n\n' | sed '/^$/d; s/\.//; s/+PTX$/ptx/I' | paste -sd- -)
  WHEELS=$CACHE/wheels/$PY_TAG-torch$TORCH_VERSION-cu${TORCH_CUDA/./}-sm$archs
}

# The toolkit that builds the CUDA wheel, of torch's CUDA major, or a message naming the fix.
# Sets NVCC, NVCC_VERSION, CUDA_HOME_FOUND.
need_toolkit() {
  local torch_major=${TORCH_CUDA%%.*}
  if ! find_toolkit; then
    die "no CUDA toolkit found to build mmcv's CUDA ops ($REASON): looked for ${NVCC:-nvcc} \
(\$CUDA_HOME/bin/nvcc, nvcc on PATH, /usr/local/cuda). Fix: install the CUDA $torch_major.x toolkit and put its \
bin/ on PATH (or set CUDA_HOME), or \`$PY -m pip install \"nvidia-cuda-nvcc==$torch_major.*\"\` (torch here is \
built with CUDA $TORCH_CUDA) and set CUDA_HOME to the folder holding its bin/nvcc (README: On a GPU machine); \
--cpu builds without CUDA ops"
  fi
  [ "${NVCC_VERSION%%.*}" = "$torch_major" ] \
    || die "nvcc $NVCC ($CUDA_HOME_FOUND) is CUDA $NVCC_VERSION but torch ${TORCH_SEEN:-?} is built with CUDA \
$TORCH_CUDA; torch refuses to build extensions across CUDA majors. Fix: a CUDA $torch_major.x toolkit on PATH or in \
CUDA_HOME, or \`$PY -m pip install \"nvidia-cuda-nvcc==$torch_major.*\"\`"
}

cached_wheel() { ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true; }

print_plan() {
  echo "flavor=$FLAVOR"
  echo "reason=$REASON"
  echo "force_cuda=$([ "$FLAVOR" = cuda ] && echo 1 || echo 0)"
  echo "torch=$TORCH_SEEN torch_cuda=${TORCH_CUDA:-none} gpus=${GPU_ARCHS:-none}"
  if [ "$FLAVOR" = cuda ]; then
    echo "arch_list=$ARCH_LIST"
    echo "arch_source=$ARCH_SOURCE"
  fi
  local wheel
  wheel=$(cached_wheel)
  if [ -n "$wheel" ]; then
    echo "mmcv_wheel=cached: $wheel"
  else
    echo "mmcv_wheel=to build (about 10 minutes on 2 cores for CPU ops, far longer for CUDA ops)"
    if [ "$FLAVOR" = cuda ]; then need_toolkit; echo "nvcc=$NVCC (CUDA $NVCC_VERSION, CUDA_HOME=$CUDA_HOME_FOUND)"; fi
  fi
  echo "wheel_cache=$WHEELS"
}

probe_venv
if [ "$PRINT_PLAN" = 1 ]; then
  [ -n "$TORCH_SEEN" ] || die "--print-plan needs torch in $VENV (run bash tools/install.sh first)"
  plan_mmcv; print_plan; exit 0
fi

# The stamp records what this venv was installed from; unchanged inputs skip pip entirely.
# A CPU build keeps the stamp's old shape; a CUDA build adds its wheel key.
stamp_for() {
  local key
  key=$(cat "$ROOT/requirements.txt" "$ROOT/requirements/tests.txt" "$ROOT/setup.py" "$0" \
        | sha1sum | cut -c1-16)-$WANT_TESTS
  [ "$FLAVOR" = cpu ] || key=$key-$(basename "$WHEELS")
  echo "$key"
}
stamp=$VENV/.mae_mm_stamp
if [ "$TORCH_SEEN" = "$TORCH_VERSION" ]; then
  plan_mmcv
  stamp_key=$(stamp_for)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_key" ] && [ "$MAE_MM_HERE" = 1 ]; then
    log "environment up to date ($VENV)"
    echo "$PY"; exit 0
  fi
fi

if ! "$PY" -c "import torch, torchvision; assert torch.__version__.split('+')[0] == '$TORCH_VERSION'" 2>/dev/null; then
  log "installing torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION"
  "${PIP[@]}" install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
  probe_venv
fi
plan_mmcv
stamp_key=$(stamp_for)
log "mmcv $MMCV_VERSION: $FLAVOR ops ($REASON)${ARCH_LIST:+, TORCH_CUDA_ARCH_LIST=$ARCH_LIST from $ARCH_SOURCE}"

# mmcv 2.1.0 ships only an sdist; build it once and keep the wheel (see ENVIRONMENT.md).
mmcv_wheel=$(cached_wheel)
if [ -z "$mmcv_wheel" ]; then
  build=$(mktemp -d)
  build_env=(MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-2})
  if [ "$FLAVOR" = cuda ]; then
    need_toolkit
    log "building mmcv $MMCV_VERSION with CUDA ops for $ARCH_LIST with $NVCC (CUDA $NVCC_VERSION); \
35 minutes for one arch measured on 2 cores, each more arch adds device code (log: $build/build.log)"
    # pip's nvidia-* wheels carry headers (cublas, cusparse, ...) that a minimal toolkit may lack;
    # CPATH comes after the toolkit's own -I, so a full toolkit still wins.
    nv_includes=$("$PY" -c 'import glob, os, sysconfig
print(":".join(sorted(glob.glob(os.path.join(sysconfig.get_paths()["purelib"], "nvidia", "*", "include")))))')
    build_env+=(FORCE_CUDA=1 "TORCH_CUDA_ARCH_LIST=$ARCH_LIST" "CUDA_HOME=$CUDA_HOME_FOUND"
                "PATH=$CUDA_HOME_FOUND/bin:$PATH" "CPATH=${CPATH:+$CPATH:}$nv_includes")
  else
    log "building mmcv $MMCV_VERSION with compiled ops (about 10 minutes on 2 cores)"
    # mmcv's setup.py builds CUDA ops whenever torch sees a GPU; hide it so --cpu means CPU.
    build_env+=(FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=)
  fi
  "${PIP[@]}" install "setuptools<70" wheel ninja            # mmcv's setup.py imports pkg_resources
  "${PIP[@]}" download --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
  tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
  src=$build/mmcv-$MMCV_VERSION
  sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"       # torch >= 2.14 headers need C++20
  mkdir -p "$WHEELS"
  (cd "$src" && env "${build_env[@]}" \
      "$PY" -m pip wheel --no-build-isolation --no-deps -w "$WHEELS" . >"$build/build.log" 2>&1) \
    || { tail -n 50 "$build/build.log" >&2; exit 1; }
  rm -rf "$build"
  mmcv_wheel=$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl | head -n1)
fi
# A CPU plan accepts any mmcv $MMCV_VERSION with ops; a CUDA plan also needs them compiled with CUDA.
mmcv_check="import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'"
[ "$FLAVOR" = cpu ] || mmcv_check="$mmcv_check; assert mmcv.ops.get_compiling_cuda_version() != 'not available'"
if ! (cd / && "$PY" -c "$mmcv_check") 2>/dev/null; then
  log "installing $mmcv_wheel"
  if [ "$FLAVOR" = cuda ] && (cd / && "$PY" -c "import mmcv") 2>/dev/null; then
    "${PIP[@]}" install --force-reinstall --no-deps "$mmcv_wheel"   # same version, other build
  else
    "${PIP[@]}" install "$mmcv_wheel"
  fi
fi

log "installing requirements"
"${PIP[@]}" install -r "$ROOT/requirements.txt"
if [ "$WANT_TESTS" = 1 ]; then
  "${PIP[@]}" install -r "$ROOT/requirements/tests.txt"
fi
"${PIP[@]}" install --no-build-isolation --no-deps -e "$ROOT"
(cd / && "$PY" -c "import mmcv.ops, mmdet, mmseg, mmpretrain, mae_mm.runtime, mae_mm.models.det, mae_mm.models.seg, mmdet.models") \
  || { log "import check failed"; exit 1; }
echo "$stamp_key" > "$stamp"
log "environment ready ($VENV)"
echo "$PY"
