# R3Net, paper recipe (Deng et al., IJCAI 2018; official zijundeng/R3Net train.py / infer.py):
# ResNeXt-101 32x4d, MSRA10K, batch 14, 300x300 crops with flip and +-10 deg rotation,
# 6000 iterations of SGD (lr 1e-3, momentum 0.9, wd 5e-4, biases 2x lr without decay, poly 0.9),
# then full-resolution testing with DenseCRF on ECSSD, HKU-IS, PASCAL-S, SOD and DUT-OMRON.
_base_ = [
    '../_base_/models/r3net_resnext101.py',
    '../_base_/datasets/msra10k.py',
    '../_base_/datasets/sod_testsets.py',
    '../_base_/datasets/val_duts_te.py',
    '../_base_/schedules/r3net_6k.py',
    '../_base_/default_runtime.py',
]
# Validation every 1000 iterations (with the checkpoint); the best max F-measure is kept as
# best_maxF_iter_*.pth beside the last checkpoints (chosen: the official code only saves at 6000).
train_cfg = dict(val_interval=1000)
default_hooks = dict(checkpoint=dict(save_best='maxF', rule='greater'))
