# MSRA10K: R3Net's training set (R3Net:train.py). Images and soft masks side by side:
# data/MSRA10K/Imgs/<name>.jpg + <name>.png (docs/datasets.md).
# Training augmentation as R3Net:joint_transforms.py, in this order: random 300x300 crop (resize
# to 300x300 when a side is smaller), horizontal flip p=0.5, rotation in [-10, 10] degrees.
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='RandomCropOrResize', size=300),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', max_angle=10),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(
    batch_size=14,  # official code
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='MSRA10KDataset', data_root='data/MSRA10K', pipeline=train_pipeline))

# MSRA10K has no official test split; this dict is here to test on it (e.g. a sanity check).
msra10k_test_dataset = dict(
    type='MSRA10KDataset',
    data_root='data/MSRA10K',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
