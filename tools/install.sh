#!/usr/bin/env bash
# Installs mae_mm and its whole stack into a cached virtual environment; idempotent.
#
#   bash tools/install.sh            # runtime stack + mae_mm (editable)
#   bash tools/install.sh --tests    # also the test extras (pytest, timm)
#
# The venv lives at $MAE_MM_VENV (default ~/.cache/mae_mm/venv-<python>-torch<version>) and
# mmcv's compiled wheel at $MAE_MM_CACHE/wheels/torch-<version>/: a second run rebuilds nothing.
# Prints the venv's python path on its last line; callers use it via tools/env.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TORCH_VERSION=${MAE_MM_TORCH:-2.14.1}
TORCHVISION_VERSION=${MAE_MM_TORCHVISION:-0.29.1}
MMCV_VERSION=2.1.0
PYTHON=${MAE_MM_PYTHON:-python3}
PY_TAG=$("$PYTHON" -c 'import sys; print(f"py{sys.version_info[0]}{sys.version_info[1]}")')
CACHE=${MAE_MM_CACHE:-$HOME/.cache/mae_mm}
VENV=${MAE_MM_VENV:-$CACHE/venv-$PY_TAG-torch$TORCH_VERSION}
WHEELS=$CACHE/wheels/$PY_TAG-torch$TORCH_VERSION
WANT_TESTS=0
[ "${1:-}" = "--tests" ] && WANT_TESTS=1

log() { echo "[install] $*" >&2; }

if [ ! -x "$VENV/bin/python" ]; then
  log "creating venv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY=$VENV/bin/python
PIP=(pip_quiet)
# pip warns once per package that the machine's local index folders lack it; that is noise.
pip_quiet() { "$PY" -m pip --disable-pip-version-check -q "$@" 2> >(grep -v "is ignored: it is neither" >&2); }

# The stamp records what this venv was installed from; unchanged inputs skip pip entirely.
stamp_key=$(cat "$ROOT/requirements.txt" "$ROOT/requirements/tests.txt" "$ROOT/setup.py" "$0" \
            | sha1sum | cut -c1-16)-$WANT_TESTS
stamp=$VENV/.mae_mm_stamp
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$stamp_key" ] \
   && (cd / && "$PY" -c "import mae_mm, os, sys; sys.exit(0 if os.path.realpath(os.path.dirname(mae_mm.__file__)) == os.path.realpath('$ROOT/mae_mm') else 1)") 2>/dev/null; then
  log "environment up to date ($VENV)"
  echo "$PY"; exit 0
fi

if ! "$PY" -c "import torch, torchvision; assert torch.__version__.split('+')[0] == '$TORCH_VERSION'" 2>/dev/null; then
  log "installing torch $TORCH_VERSION + torchvision $TORCHVISION_VERSION"
  "${PIP[@]}" install "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
fi

# mmcv 2.1.0 ships only an sdist; build it once with CPU ops and keep the wheel (see ENVIRONMENT.md).
mmcv_wheel=$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$mmcv_wheel" ]; then
  log "building mmcv $MMCV_VERSION with compiled ops (about 10 minutes on 2 cores)"
  build=$(mktemp -d)
  "${PIP[@]}" install "setuptools<70" wheel ninja            # mmcv's setup.py imports pkg_resources
  "${PIP[@]}" download --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
  tar -xzf "$build"/mmcv-$MMCV_VERSION.tar.gz -C "$build"
  src=$build/mmcv-$MMCV_VERSION
  sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"       # torch >= 2.14 headers need C++20
  mkdir -p "$WHEELS"
  (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS=${MAX_JOBS:-2} \
      "$PY" -m pip wheel --no-build-isolation --no-deps -w "$WHEELS" . >"$build/build.log" 2>&1) \
    || { tail -n 50 "$build/build.log" >&2; exit 1; }
  rm -rf "$build"
  mmcv_wheel=$(ls "$WHEELS"/mmcv-$MMCV_VERSION-*.whl | head -n1)
fi
if ! "$PY" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '$MMCV_VERSION'" 2>/dev/null; then
  log "installing $mmcv_wheel"
  "${PIP[@]}" install "$mmcv_wheel"
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
