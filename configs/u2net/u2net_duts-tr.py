# U²-Net trained from scratch on DUTS-TR with the official recipe (u2net_train.py,
# data_loader.py; paper Sec. 4.3): RescaleT(320) -> RandomCrop(288) (which flips vertically with
# p 0.5) -> ToTensorLab(flag=0); Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8, no weight decay,
# batch 12, BCE on the 7 outputs summed. Tested at 320x320 (u2net_test.py) on the paper's six
# sets. Choices where the official code is silent: configs/u2net/README.md.
_base_ = [
    '../_base_/models/u2net.py',
    '../_base_/datasets/duts.py',
    '../_base_/datasets/val_msra10k.py',
    '../_base_/default_runtime.py',
]
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    # official: skimage resize, bilinear image / nearest (order=0) label
    dict(type='Resize', scale=(320, 320), mask_interpolation='nearest'),
    dict(type='RandomCropOrResize', size=288),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),  # official RandomCrop: image[::-1]
    # chosen: stands in for the horizontally flipped copies of DUTS-TR (the official list reads
    # DUTS-TR/im_aug, an offline-augmented folder salbox does not ship)
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(batch_size=12, num_workers=4, dataset=dict(pipeline=train_pipeline))

# u2net_test.py: RescaleT(320) -> the fused map d0 -> normPRED -> bilinear to the photo's size.
# The ground truth is loaded after the resize, so metrics are at the original resolution.
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=(320, 320)),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
u2net_test_sets = [  # paper Table 2: the six benchmarks
    dict(type='DUTOMRONDataset', data_root='data/DUT-OMRON'),
    dict(type='DUTSDataset', split='TE', data_root='data/DUTS'),
    dict(type='HKUISDataset', data_root='data/HKU-IS'),
    dict(type='ECSSDDataset', data_root='data/ECSSD'),
    dict(type='PASCALSDataset', data_root='data/PASCAL-S'),
    dict(type='SODDataset', data_root='data/SOD'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[dict(d, test_mode=True, pipeline=test_pipeline) for d in u2net_test_sets]))
test_evaluator = dict(type='SODMetric')
# Validation (chosen; the official code trains without one): 500 MSRA10K images, neither the
# training set nor a test set, with the test pipeline; the best max F-measure is kept.
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0))
# Paper Sec. 4.3: the loss converges after about 600k iterations at batch 12; constant lr.
max_iters = 600000
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=20000)
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=20000, max_keep_ckpts=2,
                    save_best='maxF', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=2020)  # chosen (the official script sets no seed)
