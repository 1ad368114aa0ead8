# R3Net (Deng et al., IJCAI 2018) at the paper's widths (neck 256, refinement 128, DenseCRF at
# test) on the pip-installed ImageNet EfficientNet-Lite0 instead of ResNeXt-101. The CPU configs
# (r3net_efficientnet-lite0_{pascal-s,synthetic}.py) narrow the neck and head.
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
    # L from the stride-4/8 taps, H from stride 16/32 (R3Net: F1-F3 / F4-F5 of ResNeXt).
    neck=dict(
        type='R3NetNeck',
        in_channels=(24, 40, 112, 320),
        channels=256,
        low_indices=(0, 1),
        high_indices=(2, 3),
        aspp=True),
    head=dict(type='R3NetHead', in_channels=256, channels=128, num_steps=6, feature_order='LH'),
    loss=dict(type='DeepSupervisionBCELoss'),
    # R3Net's infer.py: crf_refine=True with sxy 3 / compat 3 and sxy 60 / srgb 5 / compat 5.
    postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')],
)
