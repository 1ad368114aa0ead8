# R3Net, paper recipe (Deng et al., IJCAI 2018; official zijundeng/R3Net train.py / infer.py) with
# the backbone swapped for the pip-installed ImageNet EfficientNet-Lite0: MSRA10K, batch 14,
# 300x300 crops with flip and +-10 deg rotation, 6000 iterations of SGD (lr 1e-3, momentum 0.9,
# wd 5e-4, biases 2x lr without decay, poly 0.9), full-resolution testing with DenseCRF on
# ECSSD, HKU-IS, PASCAL-S, SOD and DUT-OMRON. Neck and refinement widths are the paper's (256,
# 128), so only the backbone differs from r3net_resnext101_msra10k.py. Validation: 500 DUTS-TE
# images, as r3net_resnext101_msra10k.py (never one of the five reported test sets).
_base_ = [
    '../_base_/models/r3net_efficientnet-lite0.py',
    '../_base_/datasets/msra10k.py',
    '../_base_/datasets/sod_testsets.py',
    '../_base_/datasets/val_duts_te.py',
    '../_base_/schedules/r3net_6k.py',
    '../_base_/default_runtime.py',
]
train_cfg = dict(val_interval=1000)
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2,
                    save_best='maxF', rule='greater'))
