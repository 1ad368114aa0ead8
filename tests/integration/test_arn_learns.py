"""ARN (the synthetic config's architecture: VGG16 layout, RCLs, self-attention at every stage)
learns on generated data: the loss falls over a few dozen iterations and the maps beat a
centre-prior predictor on held-out images by a margin."""
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from _learning import scores_and_centre_prior, train_steps
from salbox.models.layers import SelfAttention2d
from salbox.registry import DATASETS, MODELS

CONFIG = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                  'configs/arn/arn_vgg16_synthetic.py')
SIZE = 64


def _dataset(cfg, root, split, num, seed, test_mode):
    loader = cfg.test_dataloader if test_mode else cfg.train_dataloader
    dataset_cfg = loader.dataset.copy()
    dataset_cfg.update(data_root=str(root), split=split, num_images=num, img_size=(SIZE, SIZE),
                       seed=seed)
    for step in dataset_cfg.pipeline:
        if step['type'] == 'Resize':
            step['scale'] = (SIZE, SIZE)
    return DATASETS.build(dataset_cfg)



def test_arn_loss_falls_and_maps_beat_a_centre_prior(tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    init_default_scope('salbox')
    model = MODELS.build(cfg.model)
    train_set = _dataset(cfg, tmp_path, 'train', 32, 0, False)
    test_set = _dataset(cfg, tmp_path, 'test', 8, 1, True)
    losses = train_steps(model, train_set, 25)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    # the attention blocks left the identity: every gamma moved away from 0
    gammas = [m.gamma.item() for m in model.modules() if isinstance(m, SelfAttention2d)]
    assert len(gammas) == 4 and all(abs(g) > 1e-4 for g in gammas), gammas

    scores, prior = scores_and_centre_prior(model, test_set)
    print(scores, prior)
    assert scores['maxF'] > prior['maxF'] + 0.05, (scores, prior)
    assert scores['MAE'] < prior['MAE'] - 0.02, (scores, prior)
