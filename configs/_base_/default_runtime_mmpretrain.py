# The shared runtime under mmpretrain's scope: mmpretrain's ImageClassifier builds its head,
# losses and batch augments by bare name in the current scope. Our own types are written
# 'mae_mm.<Name>' in these configs.
_base_ = './default_runtime.py'

default_scope = 'mmpretrain'
