# CPU demo: partial fine-tuning (the paper's Fig. 9) of the tiny demo ViT: its last block, fc_norm
# and the head train; the rest stays frozen. Sweep the number of blocks with
#   --cfg-options model.backbone.trainable_blocks=K   (tools/transfer.py: --sweep partial:KEY=...)
_base_ = './vit-tiny-p8_1xb32-coslr-30e_demo-finetune.py'

model = dict(backbone=dict(trainable_blocks=1))
work_dir = 'work_dirs/demo/partial'
