# SOD: one of R3Net's five test sets (R3Net:config.py).
# Layout: data/SOD/images/*.jpg + masks/*.png (docs/datasets.md).
# Tested at the original resolution, one image at a time (R3Net:infer.py).
sod_test_dataset = dict(
    type='SODDataset',
    data_root='data/SOD',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
