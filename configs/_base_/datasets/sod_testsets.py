# R3Net's five test sets (R3Net:config.py) in one ConcatDataset; every sample carries its own
# dataset_name, so the metric reports one row per set. Original resolution, batch 1
# (R3Net:infer.py). To test on one set only, override in your config, e.g.
#   test_dataloader = dict(dataset=dict(datasets=[_base_.ecssd_test_dataset]))
_base_ = ['./ecssd.py', './hku_is.py', './pascal_s.py', './sod.py', './dut_omron.py']

test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            _base_.ecssd_test_dataset,
            _base_.hku_is_test_dataset,
            _base_.pascal_s_test_dataset,
            _base_.sod_test_dataset,
            _base_.dut_omron_test_dataset,
        ]))
test_evaluator = dict(type='SODMetric')

# Test-time augmentation (tools/test.py --tta, tools/infer.py --tta; not part of R3Net's
# protocol): three scales (chosen: 0.75, 1, 1.25 of the original size) x no flip / horizontal
# flip, averaged by SalTTAModel before DenseCRF runs once on the merged map.
tta_model = dict(type='SalTTAModel')
tta_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale_factor=r) for r in (0.75, 1.0, 1.25)],
            [dict(type='RandomFlip', prob=0.0, direction='horizontal'),
             dict(type='RandomFlip', prob=1.0, direction='horizontal')],
            [dict(type='LoadSalAnnotation')],
            [dict(type='PackSalInputs', keep_ori_img=True)],
        ]),
]
