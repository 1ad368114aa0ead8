# ARN, paper recipe (Sun, Li & Guan, "Self-attention Recurrent Network for Saliency Detection",
# arXiv 1808.01634, §3-4.3): VGG16 pre-trained on ImageNet; RCL (Liang & Hu, CVPR 2015) on
# conv2_2/conv3_3/conv4_3; SAGAN self-attention (Zhang et al. 2019) on conv5_3 and at every
# transposed-conv fusion stage down to S_att2, which gives the final map; 224x224 inputs with
# VGG mean subtraction; Adam lr 1e-4, betas (0.9, 0.999); He init for new layers, zero biases;
# 6000 random MSRA10K + 3500 random DUT-OMRON training images with horizontal flips; tested on
# the rest of DUT-OMRON, PASCAL-S, HKU-IS and ECSSD (Table 1: MAE / F .0714/.7750, .0815/.8591,
# .0451/.9163, .0637/.9133). What the paper leaves open is chosen and listed, with its source,
# in configs/arn/README.md (widths, T, LRN constants, prediction layers, loss, batch, schedule).
_base_ = [
    '../_base_/datasets/arn_msra10k_dutomron.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SaliencyDetector',
    # "subtracted a mean pixel value of VGG16" (§4.3): the Caffe VGG16's BGR mean, BGR order,
    # 0-255, no division. These are the inputs of the original Caffe VGG16 weights, e.g. in
    # torchvision layout jcjohnson/pytorch-vgg's vgg16-00b39a1b.pth. With torchvision's own
    # vgg16-397923af.pth use RGB and ImageNet mean/std instead (mean=[123.675, 116.28, 103.53],
    # std=[58.395, 57.12, 57.375], bgr_to_rgb=True).
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[103.939, 116.779, 123.68],
        std=[1.0, 1.0, 1.0],
        bgr_to_rgb=False),
    backbone=dict(
        type='VGG',
        depth=16,
        with_bn=False,
        out_indices=(1, 2, 3, 4),  # conv2_2, conv3_3, conv4_3, conv5_3 = L2, L3, L4, S5 (§3.2)
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vgg16_caffe_torchvision.pth')),
    neck=dict(
        type='ARNNeck',
        in_channels=(128, 256, 512, 512),
        channels=(128, 256, 512),  # S_att2, S_att3, S_att4 widths (chosen: the side outputs')
        num_convs=2,  # 3x3 conv + ReLU after each concat (chosen)
        # T = 3, LRN N = K // 8 + 1, alpha 1e-3, beta 0.75 (Liang & Hu, CVPR 2015; chosen)
        rcl=dict(num_steps=3, lrn_alpha=1e-3, lrn_beta=0.75),
        attention=dict(reduction=8, impl='fused')),  # C1 = C / 8 (§3.3, after SAGAN)
    head=dict(type='ARNHead', in_channels=(512, 512, 256, 128)),  # S_att5 .. S_att2
    loss=dict(type='DeepSupervisionBCELoss'),  # BCE on every stage map, unit weights (chosen)
    postprocessors=[],  # the paper reports no post-processing
)

# Adam 1e-4 (0.9, 0.999) (§4.3). The paper gives no schedule, batch or length: constant lr,
# batch 8, 40k iterations (about 34 epochs of the 9500 images) (chosen).
max_iters = 40000
val_interval = 2000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.0),
)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=max_iters)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=val_interval,
                    max_keep_ckpts=2, save_best='maxF', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=2018)  # chosen
