# ECSSD: one of R3Net's five test sets (R3Net:config.py).
# Layout: data/ECSSD/images/*.jpg + ground_truth_mask/*.png (docs/datasets.md).
# Tested at the original resolution, one image at a time (R3Net:infer.py).
ecssd_test_dataset = dict(
    type='ECSSDDataset',
    data_root='data/ECSSD',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
