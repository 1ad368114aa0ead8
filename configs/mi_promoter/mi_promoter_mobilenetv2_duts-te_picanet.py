# The LDPS recipe (Chen et al., AAAI 2020, Sec. 5.3; official code ouc-ocean-group/LDPS at
# 81a609d, README.md train command and lib/cfg.py): MobileNetV2 (ImageNet) taps 0/3/13/17 fused
# at 1/2 resolution (472 ch) -> ASPP (32 ch) -> two 3-block residual transformers -> 2-layer pair
# discriminator; theta_fg 0.9, theta_afg 0.8, theta_abg 0.3; trained label-free on the DUTS-TE
# images with PiCANet's maps as priors (no masks are read); SGD momentum 0.9, weight decay 5e-3,
# lr 5e-4 backbone / 5e-3 rest, poly (power 0.9), 20k iterations, batch 1, native resolution.
# Validation: ECSSD images with SRM priors, scored against the ECSSD masks (evaluation only).
#
# Train:   python tools/train.py configs/mi_promoter/mi_promoter_mobilenetv2_duts-te_picanet.py
# Or fit on any folders of images and priors + promote them in one go (the same Runner
# training, on this config's pipeline and schedule):
#          python tools/promote.py configs/mi_promoter/mi_promoter_mobilenetv2_duts-te_picanet.py \
#              --images data/DUTS-TE/images --priors data/priors/PiCANet/DUTS-TE --out out/
# ImageNet weights: torchvision's mobilenet_v2-b0353104.pth (names load as they are).
_base_ = ['../_base_/default_runtime.py']
max_iters = 20000
model = dict(
    type='MIRelationNet',
    data_preprocessor=dict(
        type='SalDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        type='MobileNetV2',
        out_indices=(0, 3, 13, 17),
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/mobilenet_v2-b0353104.pth')),
    channels=32,
    num_blocks=3,
    discriminator_layers=2,  # the released code; 5 = the paper's count (Sec. 5.3)
    theta_fg=0.9,
    theta_afg=0.8,
    theta_abg=0.3,
    random_pair_order=True,
    max_pairs=None,  # every valid pixel is a pair (the code)
    input_size=None,  # native resolution (the code); (256, 256) = the paper's speed setting
    test_bn_stats='running',
)
# tools/promote.py --online: a fresh relation head fitted to each image (Sec. 5.4).
online_cfg = dict(iters=10, lr=0.2, momentum=0.9)

train_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadPriorMap'),
    dict(type='PackPriorInputs'),
]
val_pipeline = [
    dict(type='LoadSalImageFromFile'),
    dict(type='LoadPriorMap'),
    dict(type='LoadSalAnnotation'),  # evaluation only
    dict(type='PackPriorInputs', keep_ori_img=True),
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='PriorMapDataset',
        data_root='data/DUTS-TE',
        data_prefix=dict(img_path='images', prior_path='../priors/PiCANet/DUTS-TE'),
        dataset_name='DUTS-TE',
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='PriorMapDataset',
        data_root='data/ECSSD',
        data_prefix=dict(img_path='images', prior_path='../priors/SRM/ECSSD'),
        gt_dir='masks',
        dataset_name='ECSSD',
        test_mode=True,
        pipeline=val_pipeline))
# Test: the paper's protocol promotes the very images it was fitted on (label-free), so the test
# set is DUTS-TE with its PiCANet priors, now with masks for scoring; validation (checkpoint
# selection) uses ECSSD above, never the reported set.
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        val_dataloader['dataset'],
        data_root='data/DUTS-TE',
        data_prefix=dict(img_path='images', prior_path='../priors/PiCANet/DUTS-TE'),
        dataset_name='DUTS-TE'))
val_evaluator = dict(type='SODMetric')
test_evaluator = val_evaluator

optim_wrapper = dict(
    type='OptimWrapper',
    constructor='SalOptimWrapperConstructor',  # one log line per parameter group
    optimizer=dict(type='SGD', lr=5e-3, momentum=0.9, weight_decay=5e-3),
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=500)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', by_epoch=False, interval=500, max_keep_ckpts=3,
                    save_best='maxF', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
randomness = dict(seed=219)  # lib/cfg.py --seed
