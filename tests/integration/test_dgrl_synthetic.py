"""End to end through mmengine's Runner: DGRL's synthetic configs train, save, load and test.

Stage 1 (RLN) trains a few iterations and is tested from its checkpoint; stage 2 (BRN) trains
on the frozen RLN loaded from that checkpoint and is tested from the wrapper's checkpoint alone;
the BRN on a blurred first stage beats the blurred maps it refines. Everything is shrunk (few
small images, few iterations) to keep the whole file well under a minute on a CPU.
"""
import glob
import itertools
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from salbox.evaluation import evaluate_pairs
from salbox.models.detectors.demo_gt_degrader import gaussian_blur
from salbox.utils import load_checkpoint_file

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'dgrl')
IMG = 64  # synthetic image size for these tests
_names = itertools.count()


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _config(name, work_dir, data_root, iters, input_size=None, batch=4):
    cfg = Config.fromfile(osp.join(CONFIG_DIR, name))
    run = f'{osp.splitext(name)[0]}_{next(_names)}'
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = run
    cfg.visualizer.name = run
    cfg.launcher = 'none'
    for loader, split, num, seed in ((cfg.train_dataloader, 'train', 8, 0),
                                     (cfg.test_dataloader, 'test', 4, 1)):
        loader.dataset.update(data_root=str(data_root), split=split, num_images=num,
                              img_size=(IMG, IMG), seed=seed)
        if input_size is not None:
            for step in loader.dataset.pipeline:
                if step['type'] == 'Resize':
                    step['scale'] = input_size
    cfg.train_dataloader.batch_size = batch
    cfg.train_cfg.max_iters = iters
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0, by_epoch=False)]
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint.interval = iters
    return cfg


def _train(cfg):
    runner = Runner.from_cfg(cfg)
    runner.train()
    history = runner.message_hub.get_scalar('train/loss').data[0]
    return osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth'), history


def _test(cfg, checkpoint):
    cfg = cfg.copy()
    cfg.load_from = checkpoint
    cfg.experiment_name = cfg.experiment_name + '_test'
    cfg.visualizer.name = cfg.experiment_name
    return Runner.from_cfg(cfg).test()


def test_rln_then_brn_on_it_train_and_test_through_the_runner(tmp_path, one_thread):
    data_root = tmp_path / 'data'
    rln_cfg = _config('dgrl_rln_r18_synthetic.py', tmp_path / 'rln', data_root, iters=6,
                      input_size=(48, 48))
    rln_ckpt, losses = _train(rln_cfg)
    assert osp.isfile(rln_ckpt) and len(losses) == 6 and np.all(np.isfinite(losses))
    rln_metrics = _test(rln_cfg, rln_ckpt)
    assert 0 <= rln_metrics['MAE'] <= 1 and 0 <= rln_metrics['maxF'] <= 1

    brn_cfg = _config('dgrl_rln_r18_brn_synthetic.py', tmp_path / 'brn', data_root, iters=4,
                      input_size=(48, 48))
    brn_cfg.model.first_stage_checkpoint = rln_ckpt
    brn_cfg.model.first_stage_input_size = (48, 48)
    brn_ckpt, _ = _train(brn_cfg)
    saved = load_checkpoint_file(brn_ckpt)['state_dict']
    rln_saved = load_checkpoint_file(rln_ckpt)['state_dict']
    # The first stage is frozen: the wrapper saved exactly the RLN it loaded.
    for key, value in rln_saved.items():
        assert torch.equal(saved['first_stage.' + key], value)
    # Test time needs the wrapper's checkpoint only.
    brn_cfg.model.first_stage_checkpoint = str(tmp_path / 'deleted.pth')
    brn_metrics = _test(brn_cfg, brn_ckpt)
    assert 0 <= brn_metrics['MAE'] <= 1 and 0 <= brn_metrics['maxF'] <= 1


def test_brn_on_a_blurred_first_stage_beats_its_input(tmp_path, one_thread):
    data_root = tmp_path / 'data'
    cfg = _config('dgrl_brn_synthetic.py', tmp_path / 'blur', data_root, iters=30, batch=8)
    cfg.train_dataloader.dataset.num_images = 16
    cfg.train_dataloader.dataset.pipeline[2]['size'] = 48  # crops of the 64x64 images
    sigma = cfg.model.first_stage.sigma
    ckpt, losses = _train(cfg)
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    metrics = _test(cfg, ckpt)
    masks = [cv2.imread(p, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255
             for p in sorted(glob.glob(str(data_root / 'test' / 'masks' / '*.png')))]
    assert len(masks) == 4
    blurred = [gaussian_blur(torch.from_numpy(m)[None, None], sigma)[0, 0].numpy()
               for m in masks]
    baseline, _ = evaluate_pairs(list(zip(blurred, masks)), None, ('MAE', 'maxF'))
    assert metrics['MAE'] < baseline['MAE']
