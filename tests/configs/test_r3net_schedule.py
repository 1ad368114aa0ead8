"""R3Net's learning-rate schedule against the official formula (zijundeng/R3Net train.py:
``lr * (1 - curr_iter / iter_num) ** lr_decay`` with iter_num 6000, lr_decay 0.9, curr_iter from
0), with the config's optimiser and scheduler built by mmengine as the Runner builds them."""
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS, init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_poly_schedule_follows_the_official_curve():
    init_default_scope('salbox')
    cfg = Config.fromfile(osp.join(REPO, 'configs/r3net/r3net_resnext101_msra10k.py'))
    model = torch.nn.Conv2d(1, 1, 1)  # one weight group and one bias group (2x lr)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = [PARAM_SCHEDULERS.build(dict(s, optimizer=wrapper))
                  for s in cfg.param_scheduler]
    iters = cfg.train_cfg.max_iters
    assert iters == 6000
    lrs = []
    for _ in range(iters):
        lrs.append([group['lr'] for group in wrapper.optimizer.param_groups])
        wrapper.optimizer.step()  # no gradients: nothing changes, the order is the Runner's
        for scheduler in schedulers:
            scheduler.step()
    lrs = np.array(lrs)
    i = np.arange(iters)
    official = 1e-3 * (1 - i / 6000) ** 0.9
    weight_lr = lrs.min(axis=1)  # the weight group; biases run at 2x lr
    np.testing.assert_allclose(weight_lr, official, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(lrs.max(axis=1), 2 * official, rtol=1e-9, atol=1e-15)
    assert weight_lr[-1] > 0  # the last official iteration still learns
