# The example project's refiner (example_project/refiners.py, ResidualRefiner) trained as the
# second stage of salbox's RefinedDetector on generated data. The first stage is salbox's
# GroundTruthDegrader (the ground truth blurred with sigma 5 px: a stand-in that needs no
# checkpoint, as configs/dgrl/dgrl_brn_synthetic.py uses); put any trained detector config there
# with first_stage_checkpoint=... for real data. Run from projects/example_project with the
# project on PYTHONPATH (README.md).
_base_ = [
    '../../../configs/_base_/datasets/synthetic.py',
    '../../../configs/_base_/schedules/synthetic_cpu.py',
    '../../../configs/_base_/default_runtime.py',
]
# Importing the package registers ResidualRefiner in salbox's MODELS.
custom_imports = dict(imports=['example_project'], allow_failed_imports=False)

model = dict(
    type='RefinedDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    first_stage=dict(type='GroundTruthDegrader', sigma=5.0),
    refiner=dict(type='ResidualRefiner', channels=16, num_convs=3),
    loss=dict(type='DeepSupervisionBCELoss', loss_name='loss_refine'),
)
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='RandomCropOrResize', size=80),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))

max_iters = 200
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=3e-3))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
# No --tta: the stand-in first stage reads the ground truth, which TestTimeAug loads unflipped.
tta_model = None
tta_pipeline = None
