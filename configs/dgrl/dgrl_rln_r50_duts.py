# DGRL stage 1: the RLN on DUTS-TR at 384x384 (official stage1/train/*.prototxt, solver.prototxt,
# stage1/test/test.m of TiantianWang/CVPR18_detect_globally_refine_locally). Tested on ECSSD, PASCAL-S, DUT-OMRON, HKU-IS, SOD
# and DUTS-TE (the sets of the DGRL evaluation, A.7).
_base_ = [
    '../_base_/models/dgrl_rln_r50.py',
    '../_base_/datasets/duts.py',
    '../_base_/datasets/val_msra10k.py',
    '../_base_/default_runtime.py',
]
rln_size = (384, 384)

# Official data layer: image and GT resized to 384x384, batch 1, no flip/crop/rotation.
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=rln_size),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(batch_size=1, num_workers=2, dataset=dict(pipeline=train_pipeline))

# Official test.m: imresize (bicubic) to 384, pass-3 map back to the original size. The GT is
# loaded after the resize, so metrics are at the original resolution.
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=rln_size, img_interpolation='bicubic'),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
# --tta (not part of DGRL's protocol): the RLN input at 288, 384 and 480 (chosen: 0.75, 1, 1.25
# of its size) x horizontal flip, averaged by SalTTAModel.
tta_model = dict(type='SalTTAModel')
tta_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(s, s), img_interpolation='bicubic')
             for s in (288, 384, 480)],
            [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='horizontal')],
            [dict(type='LoadSalAnnotation')],
            [dict(type='PackSalInputs', keep_ori_img=True)],
        ]),
]
dgrl_test_sets = [
    dict(type='ECSSDDataset', data_root='data/ECSSD'),
    dict(type='PASCALSDataset', data_root='data/PASCAL-S'),
    dict(type='DUTOMRONDataset', data_root='data/DUT-OMRON'),
    dict(type='HKUISDataset', data_root='data/HKU-IS'),
    dict(type='SODDataset', data_root='data/SOD'),
    dict(type='DUTSDataset', split='TE', data_root='data/DUTS'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[dict(d, test_mode=True, pipeline=test_pipeline) for d in dgrl_test_sets]))
test_evaluator = dict(type='SODMetric')
# Validation on 500 MSRA10K images (configs/_base_/datasets/val_msra10k.py) with the test
# pipeline, every 10000 iterations; the best max F-measure checkpoint is kept.
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# Official solver: SGD, base_lr 1e-10 fixed, momentum 0.99, weight_decay 5e-4, 190k iterations,
# on a loss *summed* over the 384*384 pixels. salbox's BCE is a pixel mean, so the update is the
# same with lr x 384^2 and weight decay / 384^2 (Caffe adds wd * w to the gradient before the
# lr multiplies it): lr = 1.47456e-5, weight_decay = 3.39e-9 (chosen: exact translation).
# Head (CWM + classifier) weights at 10x lr, head biases at 20x lr without decay (official).
rln_pixels = rln_size[0] * rln_size[1]
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='SGD', lr=1e-10 * rln_pixels, momentum=0.99,
                   weight_decay=5e-4 / rln_pixels),
    paramwise_cfg=dict(custom_keys={
        'head': dict(lr_mult=10.0),
        'fuse_conv.bias': dict(lr_mult=20.0, decay_mult=0.0),
        'cls_conv.bias': dict(lr_mult=20.0, decay_mult=0.0),
    }),
)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=190000)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=190000, val_interval=10000)
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=10000, max_keep_ckpts=2,
                    save_best='maxF', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=2018)  # chosen (the official solver sets no seed)
