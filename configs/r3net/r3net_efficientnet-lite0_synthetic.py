# The quick start: R3Net on the pip-installed ImageNet EfficientNet-Lite0, trained on generated
# data on 2 CPU cores in a few minutes, so the first command on a fresh machine loads real
# ImageNet weights. Architecture as R3Net (L/H integration + ASPP, initial map from H, six
# unshared residual refinement blocks alternating L,H, seven-way deep supervision, DenseCRF at
# test), scaled down as r3net_resnet18_synthetic.py (neck 64 channels, RRB 32, 160x160 images,
# 144 crops); optimiser as r3net_efficientnet-lite0_pascal-s.py. Choices and sources:
# configs/r3net/README.md, "EfficientNet-Lite0 configs".
_base_ = [
    '../_base_/models/r3net_efficientnet-lite0.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(
    neck=dict(channels=64),
    head=dict(in_channels=64, channels=32),
    postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')],
)
max_iters = 200
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.3)}),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
