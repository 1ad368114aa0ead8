"""The MI promoter's label-free fit on a user's own images and priors, as a Runner config.

A fit is the promoter's config with its training set replaced: a ``PriorMapDataset`` over the
folders given, with the official prior filter (LDPS ``SaliencyDataset._prior_check``: a prior
must have an anchor pixel >= ``theta_fg`` and a negative pixel <= ``theta_abg``), the config's
own ``train_pipeline`` (augmentation included), ``optim_wrapper``, ``param_scheduler``,
``train_cfg`` and ``randomness``: the schedule is written once, in the config, and
``tools/train.py`` and ``tools/promote.py`` run the same training system (mmengine's Runner).
No ground truth is opened: validation and test are switched off.
"""
import copy
import inspect
import os.path as osp
from typing import Optional

from mmengine.config import Config, ConfigDict

from salbox.models.promoters.mi_relation_net import MIRelationNet
from salbox.utils.errors import SalboxError

REQUIRED_KEYS = ('model', 'train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg')


def _default(name: str):
    return inspect.signature(MIRelationNet).parameters[name].default


def set_max_iters(cfg: Config, max_iters: int) -> None:
    """``train_cfg.max_iters = max_iters``; every iteration-based scheduler that ended at the
    old length is stretched to the new one (its ``begin`` kept)."""
    if max_iters < 1:
        raise SalboxError(f'the fit needs at least 1 iteration, got {max_iters}')
    old = cfg.train_cfg.get('max_iters')
    cfg.train_cfg.max_iters = max_iters
    schedulers = cfg.param_scheduler
    for scheduler in (schedulers if isinstance(schedulers, (list, tuple)) else [schedulers]):
        if not scheduler.get('by_epoch', True) and scheduler.get('end') in (old, None):
            scheduler['end'] = max_iters


def label_free_fit_config(cfg: Config, images: str, priors: str, *,
                          stems_file: Optional[str] = None, prior_suffix: str = '.png',
                          resize_priors: bool = False, skip_missing: bool = False,
                          max_iters: Optional[int] = None) -> Config:
    """A copy of the promoter config ``cfg`` that fits on ``images`` + ``priors``.

    ``stems_file`` lists the stems to use (default every image); ``resize_priors`` resizes a
    prior of another size to its image (``LoadPriorMap(resize=True)``, as the official loader);
    ``skip_missing`` trains on the complete pairs when some are missing; ``max_iters``
    overrides ``train_cfg.max_iters`` (:func:`set_max_iters`). A ``model.first_stage`` is
    dropped: the priors are given."""
    missing = [key for key in REQUIRED_KEYS if not cfg.get(key)]
    if missing:
        raise SalboxError(f'{cfg.filename}: no {", ".join(missing)}: the label-free fit takes '
                          'its model, pipeline and schedule from the config (start from a '
                          'configs/mi_promoter/*.py file with _base_)')
    cfg = copy.deepcopy(cfg)
    model = cfg.model
    model.pop('first_stage', None)
    if model.get('type') != 'MIRelationNet':
        raise SalboxError(f'{cfg.filename}: model.type is {model.get("type")!r}; tools/promote.py '
                          'fits an MIRelationNet')
    old_dataset = cfg.train_dataloader.get('dataset') or {}
    pipeline = copy.deepcopy(old_dataset.get('pipeline') or cfg.get('train_pipeline') or [])
    for transform in pipeline:
        if transform.get('type') == 'LoadPriorMap':
            transform['resize'] = bool(resize_priors)
    if not any(t.get('type') == 'LoadPriorMap' for t in pipeline):
        raise SalboxError(f'{cfg.filename}: the training pipeline has no LoadPriorMap, so the '
                          'prior files would never be read')
    cfg.train_dataloader.dataset = ConfigDict(
        type='PriorMapDataset',
        data_root='',
        data_prefix=dict(img_path=images, prior_path=priors),
        ann_file=stems_file or '',
        prior_suffix=prior_suffix,
        on_missing='warn' if skip_missing else 'error',
        filter_cfg=dict(theta_fg=model.get('theta_fg', _default('theta_fg')),
                        theta_abg=model.get('theta_abg', _default('theta_abg'))),
        dataset_name=osp.basename(osp.normpath(images)),
        pipeline=pipeline)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    for key in ('val_dataloader', 'val_cfg', 'val_evaluator', 'test_dataloader', 'test_cfg',
                'test_evaluator'):
        cfg[key] = None
    checkpoint_hook = (cfg.get('default_hooks') or {}).get('checkpoint')
    if checkpoint_hook:  # no validation, so no best checkpoint
        checkpoint_hook.pop('save_best', None)
        checkpoint_hook.pop('rule', None)
    if max_iters is not None:
        set_max_iters(cfg, int(max_iters))
    return cfg
