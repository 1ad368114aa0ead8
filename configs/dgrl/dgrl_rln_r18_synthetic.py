# DGRL stage 1 (the RLN) on generated data, sized to train on 2 CPU cores in a few minutes.
# Same architecture as configs/dgrl/dgrl_rln_r50_duts.py (recurrent ResNet with shared feedback
# convs, 3 passes, one CWM head per pass on res3-res5, one supervision per pass), scaled down
# where noted (all "chosen", for CPU time; see configs/dgrl/README.md): ResNet-18 from scratch
# (no ImageNet weights here) with trainable BN, CWM width 32 (paper 128) and context width 8
# (paper 32), 128x128 inputs (paper 384), SGD lr 0.01 / momentum 0.9 with poly decay
# (the paper's 1e-10 belongs to a summed loss and an ImageNet backbone), 300 iterations.
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
rln_size = (128, 128)
model = dict(
    type='SaliencyDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='RecurrentResNet', depth=18, num_passes=3, out_indices=(2, 3, 4)),
    head=dict(type='RLNHead', in_channels=(128, 256, 512), num_passes=3, channels=32,
              context_channels=8),
    loss=dict(type='DeepSupervisionBCELoss'),
)
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=rln_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=rln_size),
    dict(type='LoadSalAnnotation'),  # after the resize: metrics at the original 160x160
    dict(type='PackSalInputs', keep_ori_img=True),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# --tta: the RLN input at 96, 128 and 160 (chosen: 0.75, 1, 1.25 of its size) x flip.
tta_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=(s, s)) for s in (96, 128, 160)],
            [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='horizontal')],
            [dict(type='LoadSalAnnotation')],
            [dict(type='PackSalInputs', keep_ori_img=True)],
        ]),
]

max_iters = 300
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    # The official head multipliers (weights 10x, biases 20x without decay).
    paramwise_cfg=dict(custom_keys={
        'head': dict(lr_mult=10.0),
        'fuse_conv.bias': dict(lr_mult=20.0, decay_mult=0.0),
        'cls_conv.bias': dict(lr_mult=20.0, decay_mult=0.0),
    }),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
