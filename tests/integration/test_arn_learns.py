"""ARN (the synthetic config's architecture: VGG16 layout, RCLs, self-attention at every stage)
learns on generated data: the loss falls over a few dozen iterations and the maps beat a
centre-prior predictor on held-out images by a margin."""
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope

from salbox.evaluation import evaluate_pairs
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


def _centre_prior(height, width):
    yy, xx = np.mgrid[:height, :width]
    return np.exp(-(((yy - height / 2) / (height / 4)) ** 2 + ((xx - width / 2) / (width / 4)) ** 2)
                  ).astype(np.float32)


def test_arn_loss_falls_and_maps_beat_a_centre_prior(tmp_path):
    torch.manual_seed(0)
    cfg = Config.fromfile(CONFIG)
    init_default_scope('salbox')
    model = MODELS.build(cfg.model)
    train_set = _dataset(cfg, tmp_path, 'train', 32, 0, False)
    test_set = _dataset(cfg, tmp_path, 'test', 8, 1, True)
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(25):
        indices = torch.randperm(len(train_set), generator=generator)[:8].tolist()
        batch = model.data_preprocessor(pseudo_collate([train_set[i] for i in indices]), True)
        loss = sum(model(**batch, mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    # the attention blocks left the identity: every gamma moved away from 0
    gammas = [m.gamma.item() for m in model.modules() if isinstance(m, SelfAttention2d)]
    assert len(gammas) == 4 and all(abs(g) > 1e-4 for g in gammas), gammas

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
    print(scores, prior)
    assert scores['maxF'] > prior['maxF'] + 0.05, (scores, prior)
    assert scores['MAE'] < prior['MAE'] - 0.02, (scores, prior)
