#!/usr/bin/env bash
# The main job on the embedded demo: installs the stack (cached after the first run), makes
# the demo data, pretrains a tiny MAE through tools/train.py, evaluates it with tools/test.py
# and draws work_dirs/demo/reconstruction.png.
#   bash tools/demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=$(bash tools/install.sh | tail -n 1)
PRETRAIN=configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py
WORK=work_dirs/demo

"$PY" tools/make_demo_data.py --out data/demo
echo "== pretraining (tools/train.py $PRETRAIN)"
"$PY" tools/train.py "$PRETRAIN" --work-dir "$WORK/pretrain"
CKPT=$(cat "$WORK/pretrain/last_checkpoint")
echo "== evaluating $CKPT (tools/test.py)"
"$PY" tools/test.py "$PRETRAIN" "$CKPT" --work-dir "$WORK/pretrain" --out "$WORK/pretrain_metrics.json"
echo "== drawing reconstructions"
"$PY" tools/visualize_reconstruction.py "$PRETRAIN" "$CKPT" \
  data/demo/imagenet/val/photo/photo_0000.JPEG data/demo/imagenet/val/disks/disks_0000.JPEG \
  data/demo/imagenet/val/stripes/stripes_0000.JPEG data/demo/imagenet/val/checkers/checkers_0000.JPEG \
  data/demo/imagenet/val/triangles/triangles_0000.JPEG \
  --out "$WORK/reconstruction.png"
echo "== done: loss curve in $WORK/pretrain/*/vis_data/scalars.json, picture in $WORK/reconstruction.png"
