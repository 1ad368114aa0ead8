# HKU-IS: one of R3Net's five test sets (R3Net:config.py).
# Layout: data/HKU-IS/imgs/*.png + gt/*.png (docs/datasets.md).
# Tested at the original resolution, one image at a time (R3Net:infer.py).
hku_is_test_dataset = dict(
    type='HKUISDataset',
    data_root='data/HKU-IS',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
