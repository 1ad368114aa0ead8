# R3Net, paper recipe (Deng et al., IJCAI 2018; official zijundeng/R3Net train.py / infer.py) with
# the backbone swapped for the pip-installed ImageNet EfficientNet-Lite0: MSRA10K, batch 14,
# 300x300 crops with flip and +-10 deg rotation, 6000 iterations of SGD (lr 1e-3, momentum 0.9,
# wd 5e-4, biases 2x lr without decay, poly 0.9), full-resolution testing with DenseCRF on
# ECSSD, HKU-IS, PASCAL-S, SOD and DUT-OMRON. Neck and refinement widths are the paper's (256,
# 128), so only the backbone differs from r3net_resnext101_msra10k.py. Validation: the 680-image
# PASCAL-S development split (train.txt of tools/dataset_converters/pascal_s_saliency_matlab.py),
# see configs/r3net/README.md, "EfficientNet-Lite0 configs".
_base_ = [
    '../_base_/datasets/msra10k.py',
    '../_base_/datasets/sod_testsets.py',
    '../_base_/schedules/r3net_6k.py',
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
    postprocessors=[dict(type='DenseCRF')],
)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PASCALSDataset',
        data_root='data/PASCAL-S',
        ann_file='train.txt',
        test_mode=True,
        pipeline=[
            dict(type='LoadSalImageFromFile'),
            dict(type='LoadSalAnnotation'),
            dict(type='PackSalInputs'),
        ]))
val_evaluator = dict(type='SODMetric')
val_cfg = dict(type='ValLoop')
train_cfg = dict(val_interval=1000)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2,
                    save_best='maxF', rule='greater'))
