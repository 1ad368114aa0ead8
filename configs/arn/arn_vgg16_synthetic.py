# ARN (Sun, Li & Guan, arXiv 1808.01634) on generated data, sized to train on 2 CPU cores in a
# few minutes. Same architecture as configs/arn/arn_vgg16_msra10k-dutomron.py (VGG16 layout;
# RCL with T = 3 and LRN on conv2_2/conv3_3/conv4_3; self-attention on conv5_3 and after every
# transposed-conv fusion stage down to S_att2; one deep-supervised 1x1 prediction per stage),
# scaled down where noted (all "chosen", for CPU time; see configs/arn/README.md):
#   VGG16 at a quarter of the width (16-32-64-128-128) with BatchNorm, from scratch (no ImageNet
#   weights can be downloaded here); 96x96 inputs (paper 224); Adam lr 1e-3 (paper 1e-4 with
#   an ImageNet backbone), betas (0.9, 0.999) as the paper; 200 iterations of batch 8.
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
arn_size = (96, 96)
vgg_widths = (16, 32, 64, 128, 128)
model = dict(
    type='SaliencyDetector',
    # VGG mean subtraction (paper §4.3), BGR as the Caffe VGG16 (kept for the same code path).
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[103.939, 116.779, 123.68],
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False),
    backbone=dict(
        type='VGG',
        depth=16,
        with_bn=True,
        widths=vgg_widths,
        out_indices=(1, 2, 3, 4)),  # conv2_2, conv3_3, conv4_3, conv5_3 = L2, L3, L4, S5
    neck=dict(
        type='ARNNeck',
        in_channels=vgg_widths[1:],
        channels=vgg_widths[1:4],
        num_convs=2,
        rcl=dict(num_steps=3, lrn_alpha=1e-3, lrn_beta=0.75),
        attention=dict(reduction=8, impl='fused')),
    head=dict(type='ARNHead', in_channels=(128, 128, 64, 32)),  # S_att5 .. S_att2
    loss=dict(type='DeepSupervisionBCELoss'),
    postprocessors=[],
)
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=arn_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=arn_size),
    dict(type='LoadSalAnnotation'),  # after the resize: metrics at the original 160x160
    dict(type='PackSalInputs', keep_ori_img=True),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

max_iters = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999)),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
