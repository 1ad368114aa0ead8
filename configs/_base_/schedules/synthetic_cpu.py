# Loop and hooks shared by the `_synthetic` configs (CPU runs of a few hundred iterations):
# log every 20 iterations, keep only the newest checkpoint. Each config sets its own
# optimiser, max_iters and (when it differs) the checkpoint interval.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=400)
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=1),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=2018)
