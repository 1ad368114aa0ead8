"""Rules every shipped config follows: validation with save_best in the paper-scale configs, the
original image packed in every test pipeline, TTA settings that build, no R3Net class."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from salbox.registry import MODELS, TRANSFORMS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ALL = sorted(glob.glob(osp.join(REPO, 'configs', '*', '*.py')))
ALL = [p for p in ALL if '_base_' not in p]
PAPER = [p for p in ALL if not p.endswith('_synthetic.py')]


def _name(path):
    return osp.relpath(path, REPO)


def _datasets(dataset):
    if 'datasets' in dataset:
        for member in dataset['datasets']:
            yield from _datasets(member)
    else:
        yield dataset


def _pack_steps(pipeline):
    for step in pipeline:
        if isinstance(step, (list, tuple)):
            yield from _pack_steps(step)
        elif step['type'] == 'TestTimeAug':
            yield from _pack_steps(step['transforms'])
        elif step['type'] in ('PackSalInputs', 'PackPriorInputs'):
            yield step


@pytest.mark.parametrize('path', PAPER, ids=_name)
def test_paper_configs_validate_and_keep_the_best_checkpoint(path):
    cfg = Config.fromfile(path)
    if cfg.get('report_last_checkpoint'):
        # No validation at all (the data a run could validate on are the reported test sets, or
        # the budget has no room for it): the last, annealed checkpoint is the one reported.
        assert cfg.get('val_cfg') is None and cfg.get('val_dataloader') is None
        assert cfg.default_hooks.checkpoint.get('save_best') is None
        assert cfg.train_cfg.get('val_interval') is None
        return
    assert cfg.val_cfg.type == 'ValLoop'
    assert cfg.val_evaluator.type == 'SODMetric'
    assert cfg.train_cfg.val_interval > 0
    assert cfg.train_cfg.val_interval <= cfg.train_cfg.max_iters
    hook = cfg.default_hooks.checkpoint
    val_sets = list(_datasets(cfg.val_dataloader.dataset))
    for dataset in val_sets:
        assert dataset.get('pipeline')
    test_sets = list(_datasets(cfg.test_dataloader.dataset))
    if any(_overlap(val, test) for val in val_sets for test in test_sets):
        # A development-set config may watch its held-out test set, but never selects on it.
        assert hook.get('save_best') is None
        return
    assert (hook.save_best, hook.rule) == ('maxF', 'greater')


def _overlap(a, b):
    """Whether two data set entries may share images: same type, root and split, and the same
    list file or a whole set (no list file) on either side."""
    same_set = all(a.get(key) == b.get(key) for key in ('type', 'data_root', 'split'))
    lists = a.get('ann_file'), b.get('ann_file')
    return same_set and (None in lists or lists[0] == lists[1])


@pytest.mark.parametrize('path', ALL, ids=_name)
def test_test_and_val_pipelines_pack_the_original_image(path):
    cfg = Config.fromfile(path)
    init_default_scope('salbox')
    assert cfg.model.type != 'R3Net'
    MODELS.get(cfg.model.type)
    for loader in ('test_dataloader', 'val_dataloader'):
        if cfg.get(loader) is None:
            continue
        for dataset in _datasets(cfg[loader].dataset):
            packs = list(_pack_steps(dataset['pipeline']))
            assert packs and all(p.get('keep_ori_img') for p in packs), (loader, dataset['type'])
    if cfg.get('tta_pipeline') is not None:
        assert cfg.tta_model.type == 'SalTTAModel'
        assert all(p.get('keep_ori_img') for p in _pack_steps(cfg.tta_pipeline))
        for step in cfg.tta_pipeline:
            TRANSFORMS.build(step)
