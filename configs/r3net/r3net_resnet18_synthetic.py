# R3Net on generated data, sized to train on 2 CPU cores in a few minutes (the quick start).
# Same architecture as the paper (L/H integration + ASPP, initial map from H, six unshared
# residual refinement blocks alternating L,H, seven-way deep supervision, DenseCRF at test),
# scaled down where noted (all "chosen", for CPU time; see configs/r3net/README.md):
#   backbone ResNet-18 from scratch (no ImageNet weights can be downloaded here),
#   neck 64 channels (paper 256), RRB 32 channels (paper 128), 160x160 images, 144 crops,
#   SGD lr 0.01 (paper 1e-3 with an ImageNet backbone), 400 iterations (maxF ~0.96 on the
#   synthetic test split; 200 iterations already give ~0.95).
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SaliencyDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18),
    neck=dict(type='R3NetNeck', in_channels=(64, 64, 128, 256, 512), channels=64),
    head=dict(type='R3NetHead', in_channels=64, channels=32, num_steps=6),
    loss=dict(type='DeepSupervisionBCELoss'),
    postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')],
)
max_iters = 400
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'.bias': dict(lr_mult=2.0, decay_mult=0.0)}),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
