# DUT-OMRON: one of R3Net's five test sets (R3Net:config.py).
# Layout: data/DUT-OMRON/DUT-OMRON-image/*.jpg + pixelwiseGT-new-PNG/*.png (docs/datasets.md).
# Tested at the original resolution, one image at a time (R3Net:infer.py).
dut_omron_test_dataset = dict(
    type='DUTOMRONDataset',
    data_root='data/DUT-OMRON',
    test_mode=True,
    pipeline=[
        dict(type='LoadSalImageFromFile'),
        dict(type='LoadSalAnnotation'),
        dict(type='PackSalInputs', keep_ori_img=True),
    ])
