# PASCAL-S: one of R3Net's five test sets (R3Net:config.py).
# Layout: data/PASCAL-S/images/*.jpg + masks/*.png (docs/datasets.md).
# Tested at the original resolution, one image at a time (R3Net:infer.py).
pascal_s_test_dataset = dict(
    type='PASCALSDataset',
    data_root='data/PASCAL-S',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
