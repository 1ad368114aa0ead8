# The quick start: R3Net on the pip-installed ImageNet EfficientNet-Lite0, trained on generated
# data on 2 CPU cores in a few minutes, so the first command on a fresh machine loads real
# ImageNet weights. Architecture as R3Net (L/H integration + ASPP, initial map from H, six
# unshared residual refinement blocks alternating L,H, seven-way deep supervision, DenseCRF at
# test), scaled down as r3net_resnet18_synthetic.py (neck 64 channels, RRB 32, 160x160 images,
# 144 crops); optimiser as r3net_efficientnet-lite0_pascal-s.py. Choices and sources:
# configs/r3net/README.md, "EfficientNet-Lite0 configs".
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SaliencyDetector',
    # Lite inputs: RGB, (x - 127) / 128 (efficientnet_lite_builder.py MEAN_RGB / STDDEV_RGB).
    data_preprocessor=dict(
        type='SalDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3, bgr_to_rgb=True),
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(1, 2, 3, 4),  # stride 4, 8, 16, 32: 24, 40, 112, 320 channels
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')),
    neck=dict(
        type='R3NetNeck',
        in_channels=(24, 40, 112, 320),
        channels=64,
        low_indices=(0, 1),
        high_indices=(2, 3),
        aspp=True),
    head=dict(type='R3NetHead', in_channels=64, channels=32, num_steps=6, feature_order='LH'),
    loss=dict(type='DeepSupervisionBCELoss'),
    postprocessors=[dict(type='DenseCRF')],
)
max_iters = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.3)}),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
