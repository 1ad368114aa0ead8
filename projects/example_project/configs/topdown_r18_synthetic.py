# The example plugin project: ResNet-18 + the project's TopDownHead, the project's
# LargestComponent post-processor at test time, on salbox's generated data (160x160, created
# under data/synthetic on first use). Run from projects/example_project with the project on
# PYTHONPATH (README.md). Sized for a CPU: 200 iterations of batch 8, validation every 100.
_base_ = [
    '../../../configs/_base_/datasets/synthetic.py',
    '../../../configs/_base_/schedules/synthetic_cpu.py',
    '../../../configs/_base_/default_runtime.py',
]
# Importing the package registers TopDownHead and LargestComponent in salbox's MODELS.
custom_imports = dict(imports=['example_project'], allow_failed_imports=False)

model = dict(
    type='SaliencyDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=18),  # stem, layer1..layer4
    head=dict(type='TopDownHead', in_channels=(64, 64, 128, 256, 512), channels=32),
    loss=dict(type='DeepSupervisionBCELoss'),
    postprocessors=[dict(type='LargestComponent', threshold=0.5)],
)
test_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='PackSalInputs', keep_ori_img=True),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
val_dataloader = dict(  # validate on the synthetic test split
    batch_size=8,
    num_workers=0,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SyntheticSalDataset',
        data_root='data/synthetic',
        split='test',
        num_images=100,
        img_size=(160, 160),
        seed=1,
        test_mode=True,
        pipeline=test_pipeline))
val_evaluator = dict(type='SODMetric')
val_cfg = dict(type='ValLoop')

# tools/test.py --show-dir panels: image | truth | prediction | overlay, with captions.
visualizer = dict(overlay=True, with_titles=True)

max_iters = 200
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=100)
default_hooks = dict(
    checkpoint=dict(interval=100, save_best='maxF', rule='greater'))
