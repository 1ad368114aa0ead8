# DGRL stage 2: the BRN trained on DUTS-TR at 480x480 on the maps of the trained (frozen) RLN
# (official stage2/train/*.prototxt, generate_train.m, stage2/test/test.m of the official code).
# Train the RLN first (configs/dgrl/dgrl_rln_r50_duts.py) and point first_stage_checkpoint at it.
_base_ = ['./dgrl_rln_r50_duts.py']
brn_size = (480, 480)

model = dict(
    _delete_=True,
    type='RefinedDetector',
    first_stage=_base_.model,
    first_stage_checkpoint='work_dirs/dgrl_rln_r50_duts/iter_190000.pth',
    # The RLN runs at its own 384 during training (the official maps were made at 384).
    first_stage_input_size=(384, 384),
    refiner=dict(
        type='BoundaryRefinementNet',
        kernel_size=5,
        channels=(64, 64, 64, 128, 128, 128),
        init_std=0.01,  # official prototxt (the paper text says 0.1)
        binarize_prior=True,  # official: stage-1 maps are {0, 1}
        coeff_norm='none',  # official: unnormalised coefficients
        test_size=brn_size,  # official test.m: nearest resize to 480 and back
        test_interpolation='nearest',
        minmax_normalize=True),
    loss=dict(type='DeepSupervisionBCELoss', loss_name='loss_refine'),
)

# Official: image, stage-1 map and GT pre-resized to 480x480 with nearest, batch 1, no aug.
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=brn_size, img_interpolation='nearest',
         mask_interpolation='nearest'),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
# Test: the test pipeline of the RLN config (384) feeds the first stage; the BRN resizes the
# original-size image and map to 480 itself (BoundaryRefinementNet.test_size).

# Official solver: SGD, base_lr 1e-8 fixed, momentum 0.99, wd 5e-4, 300k iterations, loss summed
# over 480*480 pixels -> pixel-mean lr 2.304e-3 and wd 5e-4 / 480^2 (chosen: exact translation).
brn_pixels = brn_size[0] * brn_size[1]
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-8 * brn_pixels, momentum=0.99,
                   weight_decay=5e-4 / brn_pixels),
)
param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False, begin=0, end=300000)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=300000)
