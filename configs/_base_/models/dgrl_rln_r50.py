# DGRL's Recurrent Localization Network (Wang et al., CVPR 2018, Sec. 3.1-3.2) as the official
# Caffe code builds it (stage1/train/train.prototxt): ResNet-50 unrolled 3 times with shared
# weights and shared 3x3 feedback convs (256->64, 512->256, 1024->512, 2048->1024), one CWM head
# per pass on res3-res5 (128-ch features, 3/5/7 context filters of 32 ch with L2 norm x10,
# 3x3 weight conv, spatial softmax), fused at 1/8, one supervision per pass (equal weights).
# Chosen (see configs/dgrl/README.md): torchvision's post-activation ResNet-50 with ImageNet
# mean/std instead of the Caffe pre-activation ResNet-50 with its frozen data_bn; one logit +
# sigmoid instead of the equivalent 2-class softmax.
model = dict(
    type='SaliencyDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='RecurrentResNet',
        depth=50,
        num_passes=3,
        share_feedback=True,
        out_indices=(2, 3, 4),  # res3, res4, res5 (layer2..4) feed the CWMs
        norm_eval=True,  # official: every BN uses frozen global statistics
        # torchvision's ImageNet ResNet-50 file (resnet50-*.pth), saved under this name; its keys
        # load with no mapping (torchvision is not a salbox dependency, so no download here).
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/resnet50_torchvision.pth')),
    head=dict(
        type='RLNHead',
        in_channels=(512, 1024, 2048),
        num_passes=3,
        channels=128,
        context_channels=32,
        context_kernels=(3, 5, 7),
        weight_kernel=3,
        norm_scale=10.0),
    loss=dict(type='DeepSupervisionBCELoss'),  # 3 outputs, unit weights
)
