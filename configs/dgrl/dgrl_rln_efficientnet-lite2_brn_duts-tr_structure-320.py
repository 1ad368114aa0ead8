# DGRL's second stage on the Lite2 RLN: the Boundary Refinement Network trained on DUTS-TR on the
# maps of the frozen dgrl_rln_efficientnet-lite2_duts-tr_structure-320.py, under the recipe of the
# DUTS-TR comparison (input 320, resize 352 + random 320 crop + flip, F3Net's structure loss,
# AdamW 3e-4, poly decay, bfloat16 autocast, batch 8, one CPU thread). DGRL's budget in the
# table is the RLN's run plus this one. Train the RLN first, then:
#   OMP_NUM_THREADS=1 python tools/train.py configs/dgrl/dgrl_rln_efficientnet-lite2_brn_duts-tr_structure-320.py
# (first_stage_checkpoint below is where the RLN's run saves its last checkpoint).
#
# What is DGRL's (official stage2/train/train.prototxt, stage2/test/test.m): the BRN's seven 3x3
# convs (64, 64, 64, 128, 128, 128 channels, then 5x5 = 25 coefficients), its identity-start
# initialisation (std 0.01, centre bias 1), the binarised stage-1 map as its prior, the
# unnormalised coefficients, the nearest resize around the refinement at test time and the
# min-max normalised output. Chosen: the BRN runs at 320 (the comparison's input) instead of 480,
# in training and at test time, and the RLN gives its maps at 320 as it was trained; and it trains
# on one random 128x128 window per photo of the 320 input (refiner_crop_size, RefinedDetector):
# its output at a pixel depends on a 19x19 neighbourhood only, and a whole 320 input cost 30 s per
# iteration on one thread here against 6.7 s for the window (measured with
# benchmarks/bench_cpu_training.py), which would have left under 100 iterations in the budget.
_base_ = ['./dgrl_rln_efficientnet-lite2_duts-tr_structure-320.py']
size = 320
rln_checkpoint = 'work_dirs/dgrl_rln_efficientnet-lite2_duts-tr_structure-320/iter_450.pth'

model = dict(
    _delete_=True,
    type='RefinedDetector',
    first_stage=_base_.model,
    first_stage_checkpoint=rln_checkpoint,
    first_stage_input_size=(size, size),
    refiner_crop_size=128,
    refiner=dict(
        type='BoundaryRefinementNet',
        kernel_size=5,
        channels=(64, 64, 64, 128, 128, 128),
        init_std=0.01,
        binarize_prior=True,
        coeff_norm='none',
        test_size=(size, size),
        test_interpolation='nearest',
        minmax_normalize=True),
    loss=dict(type='DeepSupervisionLoss', loss_name='loss_refine',
              losses=[dict(type='WeightedBCELoss'), dict(type='WeightedIoULoss')]),
)
# Only the BRN trains (the first stage is frozen by RefinedDetector): no backbone group.
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True))
max_iters = 300
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
