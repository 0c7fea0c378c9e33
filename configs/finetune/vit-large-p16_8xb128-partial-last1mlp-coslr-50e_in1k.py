# Fig. 9's "half" of the last block (79.1 cited): only the MLP sub-block (norm2, mlp) of block 23
# trains, with fc_norm and the head; its attention sub-block is frozen as the earlier blocks. The
# epochs are a sweep ({50, 100, 200}): see vit-large-p16_8xb128-partial-last1blk-coslr-50e_in1k.py.
_base_ = './vit-large-p16_8xb128-partial-last1blk-coslr-50e_in1k.py'

model = dict(backbone=dict(trainable_block_parts='mlp'))
