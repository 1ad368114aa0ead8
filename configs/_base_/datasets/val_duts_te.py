# Validation during training for the R3Net recipe (chosen): the first 500 images of DUTS-TE, a
# benchmark that is NOT one of R3Net's five test sets, so picking the best checkpoint on it does
# not look at the reported test data. Same pipeline as testing (original resolution), DenseCRF
# included (it is part of the model). Layout: data/DUTS/DUTS-TE/... (docs/datasets.md).
# To train without it: --cfg-options val_cfg=None val_dataloader=None val_evaluator=None
# default_hooks.checkpoint.save_best=None
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='DUTSDataset',
        split='TE',
        data_root='data/DUTS',
        test_mode=True,
        indices=500,
        pipeline=[
            dict(type='LoadSalImageFromFile'),
            dict(type='LoadSalAnnotation'),
            dict(type='PackSalInputs', keep_ori_img=True),
        ]))
val_evaluator = dict(type='SODMetric')
val_cfg = dict(type='ValLoop')
