"""``use_tta``: the model is wrapped in ``tta_model`` and every test data set (ConcatDataset
members included) gets ``tta_pipeline``; a config without them is one clear error."""
import os.path as osp

import pytest
from mmengine.config import Config

from salbox.apis import use_tta
from salbox.utils.errors import SalboxError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_paper_config_with_five_test_sets():
    cfg = Config.fromfile(osp.join(REPO, 'configs/r3net/r3net_resnext101_msra10k.py'))
    model = cfg.model.copy()
    use_tta(cfg)
    assert cfg.model.type == 'SalTTAModel' and cfg.model.module == model
    members = cfg.test_dataloader.dataset.datasets
    assert len(members) == 5
    assert all(m.pipeline == cfg.tta_pipeline for m in members)


def test_missing_tta_settings_are_named():
    cfg = Config.fromfile(osp.join(REPO, 'configs/dgrl/dgrl_brn_synthetic.py'))
    with pytest.raises(SalboxError, match='no tta_model and no tta_pipeline'):
        use_tta(cfg)
