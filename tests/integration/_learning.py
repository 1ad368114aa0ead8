"""Shared by the "does it learn" integration tests: a plain training loop on a built model and
its held-out scores next to a centre-prior predictor's."""
import numpy as np
import torch
from mmengine.dataset import pseudo_collate

from salbox.evaluation import evaluate_pairs


def centre_prior(height, width):
    """A Gaussian blob in the image centre (std a quarter of each side)."""
    yy, xx = np.mgrid[:height, :width]
    return np.exp(-(((yy - height / 2) / (height / 4)) ** 2 + ((xx - width / 2) / (width / 4)) ** 2)
                  ).astype(np.float32)


def train_steps(model, dataset, steps, lr=2e-3, batch_size=8, seed=0):
    """``steps`` Adam steps on random batches of ``dataset``; returns the summed losses."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(seed)
    losses = []
    model.train()
    for _ in range(steps):
        indices = torch.randperm(len(dataset), generator=generator)[:batch_size].tolist()
        batch = model.data_preprocessor(pseudo_collate([dataset[i] for i in indices]), True)
        loss = sum(model(**batch, mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def scores_and_centre_prior(model, dataset, metrics=('maxF', 'MAE')):
    """(model scores, centre-prior scores) on every image of ``dataset``."""
    model.eval()
    pairs, prior_pairs = [], []
    with torch.no_grad():
        for i in range(len(dataset)):
            sample = model.test_step(pseudo_collate([dataset[i]]))[0]
            gt = sample.gt_sal_map.data[0].numpy()
            pairs.append((sample.pred_sal_map.data[0].numpy(), gt))
            prior_pairs.append((centre_prior(*gt.shape), gt))
    return evaluate_pairs(pairs, metrics=list(metrics))[0], \
        evaluate_pairs(prior_pairs, metrics=list(metrics))[0]
