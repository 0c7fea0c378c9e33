#!/usr/bin/env bash
# The main job on the embedded demo. Installs the stack (cached after the first run), makes the
# demo data, pretrains MAE through the one runner (tools/train.py), draws the reconstructions, then
# benchmarks the checkpoint's transfer with tools/transfer.py and the demo suite: fine-tuning,
# linear probing, COCO Mask R-CNN and ADE20K UperNet, each through tools/train.py + tools/test.py,
# then the fine-tuned classifier on the demo's ImageNet-R and ImageNet-C stand-ins (tools/test.py).
# Ends with work_dirs/demo/{results.json,results.md,results.png,curves.png,reconstruction.png}.
#   bash tools/demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=$(bash tools/install.sh | tail -n 1)
WORK=work_dirs/demo
PRETRAIN=configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py

"$PY" tools/make_demo_data.py --out data/demo

echo "== pretrain: tools/train.py $PRETRAIN"
"$PY" tools/train.py "$PRETRAIN" --work-dir "$WORK/pretrain"
PRETRAINED=$(cat "$WORK/pretrain/last_checkpoint")
"$PY" tools/visualize_reconstruction.py "$PRETRAIN" "$PRETRAINED" \
  data/demo/imagenet/val/{photo/photo,disks/disks,stripes/stripes,checkers/checkers,triangles/triangles}_0000.JPEG \
  --out "$WORK/reconstruction.png"

# A new pretraining gives a new checkpoint: --replace starts the demo's suite run afresh (and says
# so) instead of refusing to mix it with the previous run's stages.
echo "== transfer: tools/transfer.py $PRETRAINED --suite configs/suites/demo.py"
"$PY" tools/transfer.py "$PRETRAINED" --suite configs/suites/demo.py --work-dir "$WORK" --replace
echo "== done: $WORK/results.md, results.json, results.png, curves.png, reconstruction.png"
