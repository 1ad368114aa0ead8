# U²-Netp trained from scratch on generated data on a CPU in about a minute: the official recipe
# (u2netp_duts-tr.py: Adam lr 1e-3, BCE on all 7 outputs, resize + random crop + flips, image
# max scaling and ImageNet statistics, min-max at test) scaled to the 160x160 synthetic images
# (chosen: resize to 96, crop 80, batch 4, 200 iterations). Sources: configs/u2net/README.md.
_base_ = [
    '../_base_/models/u2net.py',
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(backbone=dict(arch='small'), head=dict(in_channels=(64, ) * 6))
size = 96
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=(size, size), mask_interpolation='nearest'),
    dict(type='RandomCropOrResize', size=80),
    dict(type='RandomFlip', prob=0.5, direction='vertical'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=(size, size)),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
max_iters = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0))
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
