# DGRL's two stages on generated data: a BRN (the small one of dgrl_brn_synthetic.py) trained
# on the maps of the frozen synthetic RLN, with the prior binarised as in the official code.
# Train the RLN first, then this config (first_stage_checkpoint is where that run saves):
#   python tools/train.py configs/dgrl/dgrl_rln_r18_synthetic.py
#   python tools/train.py configs/dgrl/dgrl_rln_r18_brn_synthetic.py
#   python tools/test.py configs/dgrl/dgrl_rln_r18_brn_synthetic.py \
#       work_dirs/dgrl_rln_r18_brn_synthetic/iter_300.pth
# Test pipeline: the RLN config's (images resized to 128 for the first stage, GT at 160); the
# BRN refines the first stage's map at the original 160x160.
_base_ = ['./dgrl_rln_r18_synthetic.py']
model = dict(
    _delete_=True,
    type='RefinedDetector',
    first_stage=_base_.model,
    first_stage_checkpoint='work_dirs/dgrl_rln_r18_synthetic/iter_300.pth',
    first_stage_input_size=(128, 128),
    refiner=dict(
        type='BoundaryRefinementNet',
        kernel_size=5,
        channels=(16, 16, 16, 32, 32, 32),
        binarize_prior=True,
        test_size=None,
        minmax_normalize=True),
    loss=dict(type='DeepSupervisionBCELoss', loss_name='loss_refine'),
)
# The BRN trains at the RLN's input size, like the official fixed-size (480) training.
train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadSalAnnotation'),
    dict(type='Resize', scale=(128, 128)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackSalInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(_delete_=True, type='OptimWrapper', optimizer=dict(type='Adam', lr=3e-3))
