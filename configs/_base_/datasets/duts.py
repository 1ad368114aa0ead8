# DUTS: DUTS-TR (10553 images) for training, DUTS-TE (5019) for testing.
# data/DUTS/DUTS-TR/DUTS-TR-Image/*.jpg + DUTS-TR-Mask/*.png, same for DUTS-TE (docs/datasets.md).
# Training uses R3Net's augmentation (R3Net:joint_transforms.py) at 300.
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='RandomCropOrResize', size=300),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', max_angle=10),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(
    batch_size=14,  # R3Net's official batch size
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='DUTSDataset', split='TR', data_root='data/DUTS', pipeline=train_pipeline))

duts_te_test_dataset = dict(
    type='DUTSDataset',
    split='TE',
    data_root='data/DUTS',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
