# DGRL's Recurrent Localization Network on the pip-installed ImageNet EfficientNet-Lite2, trained
# on DUTS-TR under the one recipe and CPU budget of the DUTS-TR comparison
# (r3net_efficientnet-lite2_duts-tr_structure-320.py: input 320, resize 352 + random 320 crop +
# flip, F3Net's structure loss on every output, AdamW 3e-4 with the backbone at 0.3x, poly decay,
# bfloat16 autocast, batch 8, about 47 minutes of one CPU thread); tested on DUTS-TE, ECSSD and
# PASCAL-S. configs/dgrl/README.md, "DUTS-TR recipe", has the numbers.
#
# What is DGRL's (official stage1/train/train.prototxt, TiantianWang/CVPR18_detect_globally_
# refine_locally): the backbone unrolled 3 times with shared weights and one shared set of 3x3
# feedback convs (RecurrentEfficientNetLite), one CWM head per pass on the three deepest levels
# (here the stride 8/16/32 taps, as res3-res5 of the ResNet-50; 128-ch features, 3/5/7 context
# filters of 32 ch, L2 norm x10, 3x3 weight conv), a supervision per pass with equal weights,
# every BatchNorm frozen (norm_eval, as the official frozen-statistics BN; it also keeps the three
# passes, whose features differ, from sharing batch statistics).
# What is the comparison's (chosen for a like-for-like table): backbone, input, augmentation,
# loss, optimiser and budget. The feedback convs are new, so they train at the full lr like the
# head (the backbone's ImageNet weights at 0.3x).
_base_ = ['../r3net/r3net_efficientnet-lite2_duts-tr_structure-320.py']
lite2_channels = (48, 120, 352)  # stride 8, 16, 32
model = dict(
    backbone=dict(
        type='RecurrentEfficientNetLite',
        num_passes=3,
        share_feedback=True,
        out_indices=(2, 3, 4),
        norm_eval=True),
    neck=None,
    head=dict(
        _delete_=True,
        type='RLNHead',
        in_channels=lite2_channels,
        num_passes=3,
        channels=128,
        context_channels=32,
        context_kernels=(3, 5, 7),
        weight_kernel=3,
        norm_scale=10.0),
)
max_iters = 450
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'backbone': dict(lr_mult=0.3),
    'backbone.feedback_convs': dict(lr_mult=1.0),
}))
