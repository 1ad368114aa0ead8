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
