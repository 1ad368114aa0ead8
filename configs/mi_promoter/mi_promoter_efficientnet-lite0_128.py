# The pip-weights promoter for CPUs: mi_promoter_efficientnet-lite0_224.py with the network at
# 128x128 (the confidence merge stays at the prior's resolution) and a 2000-iteration label-free
# fit. On PASCAL-S (README.md, "Real data") it scores as the 224x224 network does after the same
# fit, fits 2.6x faster, and promotes a 256x256 photo at about DenseCRF's speed on one core
# (benchmarks/bench_mi_promoter.py). 2000 iterations: the relation alone went from maxF 0.67
# (250 iterations) to 0.80 (2000) on R3Net-Lite0's maps; 6000 lowered MAE slightly more but
# lowered maxF (README.md).
#
#   python tools/promote.py configs/mi_promoter/mi_promoter_efficientnet-lite0_128.py \
#       --images IMAGES --priors MAPS --out OUT
_base_ = ['./mi_promoter_efficientnet-lite0_224.py']
max_iters = 2000
model = dict(input_size=(128, 128))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=500)
