# R3Net-V of R3Net's Table 1 (Deng et al., IJCAI 2018, §3.3): the R3Net recipe with VGG-16
# (Simonyan & Zisserman, ICLR 2015) instead of ResNeXt-101. Table 1 (Fβ / MAE): ECSSD .913/.049,
# HKU-IS .891/.047, PASCAL-S .814/.105, SOD .818/.121, DUT-OMRON .746/.089.
# The official code (zijundeng/R3Net) has only the ResNeXt model, so the VGG taps are chosen
# (configs/r3net/README.md, "R3Net-V"): F1..F5 = conv1_2, conv2_2, conv3_3, conv4_3, conv5_3
# (the last conv of each of VGG's five stages, strides 1, 2, 4, 8, 16), L = F1-F3 and H = F4-F5
# as in §2.2, and L (then H) resized to conv3_3's stride 4, "a quarter of the size of the input
# image" (§2.2), with R3NetNeck's low_size_index=2.
# Everything else as configs/r3net/r3net_resnext101_msra10k.py (official train.py / infer.py).
_base_ = [
    '../_base_/datasets/msra10k.py',
    '../_base_/datasets/sod_testsets.py',
    '../_base_/datasets/val_duts_te.py',
    '../_base_/schedules/r3net_6k.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='SaliencyDetector',
    # torchvision's ImageNet VGG-16 (vgg16-397923af.pth) expects RGB with ImageNet mean/std.
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='VGG',
        depth=16,
        with_bn=False,
        out_indices=(0, 1, 2, 3, 4),  # conv1_2, conv2_2, conv3_3, conv4_3, conv5_3
        # torchvision's vgg16-397923af.pth saved under this name; loads with no key mapping.
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/vgg16_torchvision.pth')),
    neck=dict(
        type='R3NetNeck',
        in_channels=(64, 128, 256, 512, 512),
        channels=256,
        low_indices=(0, 1, 2),
        high_indices=(3, 4),
        low_size_index=2,  # conv3_3, stride 4
        aspp=True),
    head=dict(type='R3NetHead', in_channels=256, channels=128, num_steps=6),
    loss=dict(type='DeepSupervisionBCELoss'),
    # R3Net's infer.py: crf_refine=True with sxy 3 / compat 3 and sxy 60 / srgb 5 / compat 5.
    postprocessors=[dict(type='DenseCRF', uint8_rule='truncate')],
)
# Validation on 500 DUTS-TE images, as r3net_resnext101_msra10k.py (never one of the five
# reported test sets); R3Net itself validates on nothing and keeps iteration 6000, which is what
# Table 1 reports (use the last checkpoint for Table 1 numbers).
train_cfg = dict(val_interval=1000)
default_hooks = dict(
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2,
                    save_best='maxF', rule='greater'))
