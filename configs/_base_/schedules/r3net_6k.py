# R3Net's official recipe (zijundeng/R3Net train.py): SGD lr 1e-3, momentum 0.9, weight decay 5e-4;
# every parameter whose name ends in "bias" (conv *and* BN biases) at 2x lr without decay;
# poly decay with power 0.9 to zero over 6000 iterations, counted from 0.
# custom_keys (not bias_lr_mult, which skips norm-layer biases) matches the official split.
optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'.bias': dict(lr_mult=2.0, decay_mult=0.0)}),
)
# Official: lr_i = lr * (1 - i / 6000) ** 0.9 for iterations i = 0..5999. mmengine's PolyLR
# decays over end - begin - 1 steps, so end=6001 gives exactly that curve (end=6000 would give
# (1 - i / 5999) ** 0.9 and a last iteration at lr 0); tests/test_r3net_schedule.py checks it.
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=6001, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=6000)
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # The official code saves only at 6000; saving every 1000 loses nothing on a crash.
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=1000, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# torch.manual_seed(2018) in the official train.py.
randomness = dict(seed=2018)
