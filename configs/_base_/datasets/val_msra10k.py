# Validation during training for DGRL (chosen): the first 500 images of MSRA10K, a data set that
# is neither DGRL's training set (DUTS-TR) nor one of its six test sets, so picking the best
# checkpoint on it does not look at the reported test data. Layout: data/MSRA10K/Imgs/
# (docs/datasets.md). The pipeline is set by the config that uses it (its test pipeline).
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MSRA10KDataset', data_root='data/MSRA10K', test_mode=True, indices=500))
val_evaluator = dict(type='SODMetric')
val_cfg = dict(type='ValLoop')
