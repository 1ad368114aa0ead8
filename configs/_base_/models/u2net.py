# U²-Net (Qin et al., Pattern Recognition 2020), full size: official model/u2net.py U2NET split
# into the RSU encoder-decoder (backbone) and the six side outputs + 1x1 fusion (head); the head
# returns seven logit maps [d1..d6, d0], the fused d0 last (the prediction). U²-Netp configs set
# backbone.arch='small' and head.in_channels=(64,) * 6. Sources: configs/u2net/README.md.
model = dict(
    type='SaliencyDetector',
    # Official data_loader.py ToTensorLab(flag=0): image / max(image), then ImageNet mean/std;
    # here in 0-255 units after scaling each image to a maximum of 255 (scale_by_max).
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        scale_by_max=True),
    backbone=dict(type='U2Net', arch='full'),
    head=dict(type='U2NetHead', in_channels=(64, 64, 128, 256, 512, 512)),
    # Official u2net_train.py muti_bce_loss_fusion: BCE (mean) on each of the 7 maps, summed.
    loss=dict(type='DeepSupervisionBCELoss'),
    # Official u2net_test.py normPRED: min-max normalisation of the fused map.
    postprocessors=[dict(type='MinMaxNormalize')],
)
