# MI promoter on generated data: promotes the maps of a deliberately weakened detector, the
# synthetic R3Net (configs/r3net/r3net_resnet18_synthetic.py) stopped after 60 of its 400
# iterations and without its DenseCRF: the promoter's frozen first stage (model.first_stage,
# saved inside the promoter's checkpoints), which makes the priors (no prior folder needed;
# the datasets list the images only, priors_from_model=True). Fitted
# label-free on the synthetic *test* images (the paper's protocol of training on the test
# images' priors, Sec. 5.3); their masks are read only by the evaluation.
#
#   python tools/train.py configs/r3net/r3net_resnet18_synthetic.py \
#       --work-dir work_dirs/r3net_resnet18_synthetic_weak --cfg-options train_cfg.max_iters=60
#   python tools/train.py configs/mi_promoter/mi_promoter_mobilenetv2_synthetic.py
#   python tools/test.py configs/mi_promoter/mi_promoter_mobilenetv2_synthetic.py \
#       work_dirs/mi_promoter_mobilenetv2_synthetic/iter_300.pth
#
# Scaled down for 2 CPU cores (chosen; README.md): MobileNetV2 from scratch with the taps
# 0 and 3 only (strides 2/4: colour and texture are what separates synthetic objects), 300
# iterations at lr 1e-2 for every part, each image's BatchNorm statistics at inference.
_base_ = ['./mi_promoter_mobilenetv2_duts-te_picanet.py']
max_iters = 300
weak_detector = dict(
    config='configs/r3net/r3net_resnet18_synthetic.py',
    checkpoint='work_dirs/r3net_resnet18_synthetic_weak/iter_60.pth',
    cfg_options={'model.postprocessors': []})  # no DenseCRF: the raw, weaker maps
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV2', out_indices=(0, 3)),
    test_bn_stats='image',
    first_stage=weak_detector)
train_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='PriorMapDataset',
        data_root='data/synthetic/test',
        data_prefix=dict(img_path='images'),
        priors_from_model=True,
        dataset_name='synthetic',
        pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(
        _delete_=True,
        type='PriorMapDataset',
        data_root='data/synthetic/test',
        data_prefix=dict(img_path='images'),
        priors_from_model=True,
        gt_dir='masks',
        dataset_name='synthetic',
        test_mode=True,
        pipeline={{_base_.val_pipeline}}))
test_dataloader = val_dataloader
optim_wrapper = dict(optimizer=dict(lr=1e-2),
                     paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=1.0)}))
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, begin=0, end=max_iters, by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=max_iters, max_keep_ckpts=1))
