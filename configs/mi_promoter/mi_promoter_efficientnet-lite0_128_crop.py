# mi_promoter_efficientnet-lite0_128.py with the fit augmented by a random crop (each side 50-100 %
# of the image's) and a horizontal flip, applied alike to image and prior (train_pipeline below;
# not in the official recipe). For classic priors that do not come from a learned detector -- the
# centre prior, spectral residual: without it the relation network fits such priors from
# position alone (PASCAL-S, README.md "Real data": with it, both priors gain max-F and lose
# MAE; without it, max-F falls). For a learned detector's maps use the config without crop: the
# crop lowered R3Net-Lite0's max-F from 0.803 to 0.754 on the same photos.
#
#   python tools/promote.py configs/mi_promoter/mi_promoter_efficientnet-lite0_128_crop.py \
#       --images IMAGES --priors CENTRE_OR_SPECTRAL_RESIDUAL_MAPS --out OUT
_base_ = ['./mi_promoter_efficientnet-lite0_128.py']
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadPriorMap'),
    dict(type='RandomRelativeCrop', min_scale=0.5),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackPriorInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
