# ARN's data (paper §4.3, after DHSNet): 6000 random MSRA10K + 3500 random DUT-OMRON images for
# training, resized to 224x224 with horizontal flips; the rest of DUT-OMRON plus ECSSD, PASCAL-S
# and HKU-IS for testing (Table 1). The lists come from
#   python tools/dataset_converters/arn_split.py --msra10k data/MSRA10K --dut-omron data/DUT-OMRON
# which writes arn_train.txt / arn_test.txt into each data root (ann_file is relative to it).
# Validation (model selection) uses the 4000 MSRA10K images left out of training: held out, and
# not one of Table 1's sets (chosen).
arn_size = (224, 224)
arn_train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=arn_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
# Resize the image only: the ground truth is loaded after, so metrics are at the original size.
arn_test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='Resize', scale=arn_size),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
train_dataloader = dict(
    batch_size=8,  # not in the paper (chosen)
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='ConcatDataset',
        datasets=[
            dict(type='MSRA10KDataset', data_root='data/MSRA10K', ann_file='arn_train.txt',
                 pipeline=arn_train_pipeline),
            dict(type='DUTOMRONDataset', data_root='data/DUT-OMRON', ann_file='arn_train.txt',
                 pipeline=arn_train_pipeline),
        ]))

arn_test_datasets = [
    dict(type='DUTOMRONDataset', data_root='data/DUT-OMRON', ann_file='arn_test.txt'),
    dict(type='PASCALSDataset', data_root='data/PASCAL-S'),
    dict(type='HKUISDataset', data_root='data/HKU-IS'),
    dict(type='ECSSDDataset', data_root='data/ECSSD'),
]
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='ConcatDataset',
        datasets=[dict(d, test_mode=True, pipeline=arn_test_pipeline)
                  for d in arn_test_datasets]))
test_evaluator = dict(type='SODMetric')

val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='MSRA10KDataset', data_root='data/MSRA10K', ann_file='arn_test.txt',
                 test_mode=True, pipeline=arn_test_pipeline))
val_evaluator = dict(type='SODMetric')
