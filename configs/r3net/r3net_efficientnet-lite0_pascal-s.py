# R3Net on the pip-installed ImageNet EfficientNet-Lite0, trained on PASCAL-S's 680-image split
# and tested on its 170 held-out images: real photos, real weights, 2 CPU cores.
# Architecture as R3Net (L/H integration + ASPP, initial map from H, six unshared residual
# refinement blocks alternating L,H, seven-way deep supervision); sizes and recipe chosen for
# CPU (configs/r3net/README.md, "EfficientNet-Lite0 configs", lists each choice and its source).
# Data: tools/dataset_converters/pascal_s_saliency_matlab.py writes data/PASCAL-S/ with
# images/, masks/, train.txt and test.txt.
_base_ = [
    '../_base_/models/r3net_efficientnet-lite0.py',
    '../_base_/default_runtime.py',
]
data_root = 'data/PASCAL-S'
max_iters = 300
val_interval = 100

model = dict(
    neck=dict(channels=96),
    head=dict(in_channels=96, channels=48),
    # DenseCRF (R3Net's test step): r3net_efficientnet-lite0_pascal-s_crf.py.
    postprocessors=[],
)

# Whole photo resized to 256x256, then R3Net's augmentation: random 224 crop, flip, +-10 deg.
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=(256, 256)),
    dict(type='RandomCropOrResize', size=224),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', max_angle=10),
    dict(type='PackSalInputs'),
]
# Tested at the training scale (256x256); the map is resized back to the photo's size and scored
# against the original mask (LoadSalAnnotation after Resize keeps it at full size).
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=(256, 256)),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='PASCALSDataset', data_root=data_root, ann_file='train.txt',
                 pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PASCALSDataset', data_root=data_root, ann_file='test.txt',
                 test_mode=True, pipeline=test_pipeline))
# A development-set config: validation watches the held-out 170 (the test set) during the run and
# selects nothing (no save_best below); tests/configs/test_config_rules.py checks that a config
# whose validation and test sets overlap never selects a checkpoint on them.
val_dataloader = test_dataloader
test_evaluator = dict(type='SODMetric')
val_evaluator = test_evaluator

# AdamW 3e-4 with the ImageNet backbone at 0.3x, poly decay (power 0.9, R3Net's schedule shape).
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.01),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.3)}),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # No save_best: validation runs on the held-out 170, which are also the reported test set,
    # so picking a checkpoint on them would leak; report the last checkpoint.
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=val_interval,
                    max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=2018)
