# Synthetic SOD data (salbox.datasets.synthetic), generated under data/synthetic/<split> on
# first use: 160x160 images, train and test splits with different seeds. R3Net's augmentation
# (R3Net:joint_transforms.py) with the crop scaled to the image size (144 of 160, chosen).
synthetic_data_root = 'data/synthetic'
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='RandomCropOrResize', size=144),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', max_angle=10),
    dict(type='PackSalInputs'),
]
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,  # 160x160 samples load in about a millisecond: workers cost more than they save
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SyntheticSalDataset',
        data_root=synthetic_data_root,
        split='train',
        num_images=500,
        img_size=(160, 160),
        seed=0,
        pipeline=train_pipeline))
test_dataloader = dict(
    batch_size=8,  # all test images are 160x160, so they stack
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SyntheticSalDataset',
        data_root=synthetic_data_root,
        split='test',
        num_images=100,
        img_size=(160, 160),
        seed=1,
        test_mode=True,
        pipeline=test_pipeline))
test_evaluator = dict(type='SODMetric')
