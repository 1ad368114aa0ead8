"""R3Net (synthetic config's architecture) learns on generated data: the loss falls over a few
dozen iterations and the maps beat a trivial centre-prior predictor on held-out images."""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from _learning import scores_and_centre_prior, train_steps
from salbox.registry import DATASETS, MODELS

import os.path as osp

CONFIG = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                  'configs/r3net/r3net_resnet18_synthetic.py')


def _dataset(cfg, root, split, num, seed, test_mode):
    dataset_cfg = cfg.train_dataloader.dataset.copy() if not test_mode \
        else cfg.test_dataloader.dataset.copy()
    dataset_cfg.update(data_root=str(root), split=split, num_images=num, img_size=(64, 64),
                       seed=seed)
    if not test_mode:
        dataset_cfg.pipeline[2]['size'] = 56
    return DATASETS.build(dataset_cfg)



def test_loss_falls_and_maps_beat_a_centre_prior(tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    init_default_scope('salbox')
    model_cfg = cfg.model.copy()
    model_cfg['postprocessors'] = []  # the learned map itself, not the CRF
    model = MODELS.build(model_cfg)
    train_set = _dataset(cfg, tmp_path, 'train', 32, 0, False)
    test_set = _dataset(cfg, tmp_path, 'test', 12, 1, True)
    losses = train_steps(model, train_set, 60)
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])
    scores, prior = scores_and_centre_prior(model, test_set)
    assert scores['maxF'] > prior['maxF'] + 0.05, (scores, prior)
