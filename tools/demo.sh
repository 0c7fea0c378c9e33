#!/usr/bin/env bash
# The main job on the embedded demo. Installs the stack (cached after the first run), makes the
# demo data, then runs the whole chain through the one runner (tools/train.py + tools/test.py):
# MAE pretraining, fine-tuning, linear probing, COCO Mask R-CNN and ADE20K UperNet, each transfer
# starting from the demo pretraining checkpoint. Ends with work_dirs/demo/reconstruction.png,
# work_dirs/demo/curves.png, a results table and work_dirs/demo/results.json.
#   bash tools/demo.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=$(bash tools/install.sh | tail -n 1)
WORK=work_dirs/demo
PRETRAIN=configs/demo/mae_vit-tiny-p8_1xb32-coslr-40e_demo-pretrain.py

"$PY" tools/make_demo_data.py --out data/demo

# stage name, config; each trains into $WORK/<stage> and is evaluated into $WORK/<stage>_metrics.json
run_stage() {
  local stage=$1 config=$2
  echo "== $stage: tools/train.py $config"
  "$PY" tools/train.py "$config" --work-dir "$WORK/$stage" "${@:3}"
  local ckpt
  ckpt=$(cat "$WORK/$stage/last_checkpoint")
  echo "== $stage: tools/test.py $config $ckpt"
  "$PY" tools/test.py "$config" "$ckpt" --work-dir "$WORK/$stage" --out "$WORK/${stage}_metrics.json"
}

run_stage pretrain "$PRETRAIN"
PRETRAINED=$(cat "$WORK/pretrain/last_checkpoint")
"$PY" tools/visualize_reconstruction.py "$PRETRAIN" "$PRETRAINED" \
  data/demo/imagenet/val/{photo/photo,disks/disks,stripes/stripes,checkers/checkers,triangles/triangles}_0000.JPEG \
  --out "$WORK/reconstruction.png"
FROM_PRETRAINED=(--cfg-options "model.backbone.init_cfg.checkpoint=$PRETRAINED")
run_stage finetune configs/demo/vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py "${FROM_PRETRAINED[@]}"
run_stage linprobe configs/demo/vit-tiny-p8_1xb64-coslr-30e_demo-linprobe.py "${FROM_PRETRAINED[@]}"
run_stage coco configs/demo/mask-rcnn_vit-tiny-p8_1xb8-lsj-300it_demo-coco.py "${FROM_PRETRAINED[@]}"
run_stage ade20k configs/demo/upernet_vit-tiny-p8_1xb8-200it_demo-ade20k-64x64.py "${FROM_PRETRAINED[@]}"

"$PY" tools/plot_curves.py "$WORK"/{pretrain,finetune,linprobe,coco,ade20k} \
  --keys loss,lr,knn/top1,recon/mse,accuracy/top1,coco/bbox_mAP,mIoU --out "$WORK/curves.png"
"$PY" tools/demo_results.py "$WORK"
echo "== done: reconstructions in $WORK/reconstruction.png, curves in $WORK/curves.png (numbers in $WORK/*/*/vis_data/scalars.json)"
