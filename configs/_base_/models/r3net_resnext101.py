# R3Net (Deng et al., IJCAI 2018) as the official code builds it (zijundeng/R3Net
# model.py, resnext/, infer.py; configs/r3net/README.md).
# ImageNet weights: the converted ResNeXt-101 32x4d file the R3Net README points to, turned into
# torchvision names by tools/model_converters/resnext101_32x4d2torchvision.py.
model = dict(
    type='SaliencyDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='ResNeXt',
        depth=101,
        groups=32,
        width_per_group=4,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnext101_32x4d_torchvision.pth')),
    neck=dict(type='R3NetNeck', in_channels=(64, 256, 512, 1024, 2048), channels=256),
    head=dict(type='R3NetHead', in_channels=256, channels=128, num_steps=6),
    loss=dict(type='DeepSupervisionBCELoss'),
    # R3Net's infer.py: crf_refine=True with sxy 3 / compat 3 and sxy 60 / srgb 5 / compat 5.
    postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')],
)
