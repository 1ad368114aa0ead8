# ARN (Sun, Li & Guan, arXiv 1808.01634) on the pip-installed ImageNet EfficientNet-Lite2, trained
# on DUTS-TR with the recipe of configs/r3net/r3net_efficientnet-lite2_duts-tr_structure-320.py:
# same backbone, data, loss (F3Net's structure loss on every output), 320 input, augmentation,
# optimiser, bfloat16 autocast and one-CPU-thread budget, so the two methods compare as in SALOD
# (same backbone, same budget). configs/arn/README.md, "DUTS-TR recipe", has the numbers.
#
# ARN's own parts are those of arn_vgg16_msra10k-dutomron.py (RCL with T = 3 and LRN on the side
# outputs, SAGAN self-attention with C1 = C / 8 on the deepest tap and after every fusion stage,
# one deep-supervised 1x1 prediction per stage). Chosen for the backbone swap:
# - taps: Lite2's stride 4, 8, 16, 32 outputs (24, 48, 120, 352 channels) take the roles of
#   VGG16's conv2_2, conv3_3, conv4_3 (side outputs) and conv5_3 (S5): three fusion stages as in
#   the paper. The stride-2 tap is not used: self-attention over its 160 x 160 positions at 320
#   costs 16x the stride-4 stage's (25,600^2 pairs per image), which no CPU budget allows; the
#   final map comes from stride 4 (80 x 80 positions) and is upsampled, as R3Net's.
# - stage widths = side-output widths (24, 48, 120), as for VGG16.
_base_ = ['../r3net/r3net_efficientnet-lite2_duts-tr_structure-320.py']
lite2_channels = (24, 48, 120, 352)  # stride 4, 8, 16, 32
model = dict(
    backbone=dict(out_indices=(1, 2, 3, 4)),
    neck=dict(
        _delete_=True,
        type='ARNNeck',
        in_channels=lite2_channels,
        channels=lite2_channels[:3],
        num_convs=2,
        rcl=dict(num_steps=3, lrn_alpha=1e-3, lrn_beta=0.75),
        attention=dict(reduction=8, impl='fused')),
    head=dict(_delete_=True, type='ARNHead', in_channels=lite2_channels[::-1]),  # S_att5..S_att2
)
# Same CPU budget as the R3Net recipe's 750 iterations: ARN's bf16 iteration (batch 8 at 320, one
# thread) took 1.57x R3Net's, measured side by side (6.24 vs 3.97 s,
# benchmarks/bench_cpu_training.py), so 480 iterations (3,840 photos, 0.36 epoch).
max_iters = 480
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
