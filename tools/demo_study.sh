#!/usr/bin/env bash
# The CPU demo study, a second and optional command (not part of tools/demo.sh): the demo
# pretraining for 200 epochs at mask ratios 0.5, 0.75 and 0.9, each point with SEEDS seeds (default
# 2), each checkpoint through its evaluation, a 10-epoch fine-tune and the demo linear probe, and
# the same two transfers from no checkpoint (the random-init row), in one tools/transfer.py study.
# About 30 minutes per seed on a 2-core CPU machine (README, "The demo study").
# Ends with work_dirs/demo_study/{results.json,results.md,results.png,curves.png}; the same command
# again resumes what was interrupted and skips what is done.
#   bash tools/demo_study.sh            # SEEDS=3 bash tools/demo_study.sh for three
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=$(bash tools/install.sh | tail -n 1)
"$PY" tools/make_demo_data.py --out data/demo
"$PY" tools/transfer.py --pretrain configs/demo/mae_vit-tiny-p8_1xb32-coslr-200e_demo-study-pretrain.py \
  --pretrain-sweep model.encoder.mask_ratio=0.5,0.75,0.9 --seeds "${SEEDS:-2}" --random-init \
  --suite configs/suites/demo-study.py --work-dir work_dirs/demo_study
echo "== done: work_dirs/demo_study/results.md, results.json, results.png, curves.png"
