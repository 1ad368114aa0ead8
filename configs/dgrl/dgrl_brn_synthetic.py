# DGRL stage 2 (the BRN) on generated data, on top of a deliberately blurred first stage:
# GroundTruthDegrader returns the ground truth blurred with a Gaussian of sigma 5 px, so the
# refiner has to recover the boundaries from the image. No first-stage checkpoint is needed.
# Chosen for CPU time (configs/dgrl/README.md): BRN widths 16,16,16,32,32,32 (paper 64..128),
# 80x80 random crops of the 160x160 images, Adam lr 3e-3, 300 iterations; the prior is used as
# a soft map (binarize_prior=False): binarising a blurred map throws away the ranking it still
# has. For a BRN on the synthetic RLN see dgrl_rln_r18_brn_synthetic.py.
_base_ = [
    '../_base_/datasets/synthetic.py',
    '../_base_/schedules/synthetic_cpu.py',
    '../_base_/default_runtime.py',
]
model = dict(
    type='RefinedDetector',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    first_stage=dict(type='GroundTruthDegrader', sigma=5.0),
    refiner=dict(
        type='BoundaryRefinementNet',
        kernel_size=5,
        channels=(16, 16, 16, 32, 32, 32),
        binarize_prior=False,
        test_size=None,  # refine at the original 160x160
        minmax_normalize=True),
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

max_iters = 300
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=3e-3))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters)
default_hooks = dict(checkpoint=dict(interval=max_iters))
