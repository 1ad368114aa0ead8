"""R3Net (synthetic config's architecture) learns on generated data: the loss falls over a few
dozen iterations and the maps beat a trivial centre-prior predictor on held-out images."""
import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from salbox.evaluation import evaluate_pairs
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


def _centre_prior(height, width):
    yy, xx = np.mgrid[:height, :width]
    return np.exp(-(((yy - height / 2) / (height / 4)) ** 2 + ((xx - width / 2) / (width / 4)) ** 2)
                  ).astype(np.float32)


def test_loss_falls_and_maps_beat_a_centre_prior(tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    init_default_scope('salbox')
    model_cfg = cfg.model.copy()
    model_cfg['postprocessors'] = []  # the learned map itself, not the CRF
    model = MODELS.build(model_cfg)
    train_set = _dataset(cfg, tmp_path, 'train', 32, 0, False)
    test_set = _dataset(cfg, tmp_path, 'test', 12, 1, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(60):
        indices = torch.randperm(len(train_set), generator=generator)[:8].tolist()
        batch = model.data_preprocessor(pseudo_collate([train_set[i] for i in indices]), True)
        loss = sum(model(**batch, mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])

    model.eval()
    pairs, prior_pairs = [], []
    with torch.no_grad():
        for i in range(len(test_set)):
            sample = model.test_step(pseudo_collate([test_set[i]]))[0]
            pred = sample.pred_sal_map.data[0].numpy()
            gt = sample.gt_sal_map.data[0].numpy()
            pairs.append((pred, gt))
            prior_pairs.append((_centre_prior(*gt.shape), gt))
    scores, _ = evaluate_pairs(pairs, metrics=['maxF', 'MAE'])
    prior, _ = evaluate_pairs(prior_pairs, metrics=['maxF', 'MAE'])
    assert scores['maxF'] > prior['maxF'] + 0.05, (scores, prior)
