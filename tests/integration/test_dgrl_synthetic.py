"""End to end through mmengine's Runner: DGRL's synthetic configs train, save, load and test.

Stage 1 (RLN) trains a few iterations and is tested from its checkpoint (the Runner's metrics
equal an independent evaluation of the inference API's maps; TTA runs through the Runner);
stage 2 (BRN) trains on the frozen RLN loaded from that checkpoint and is tested from the
wrapper's checkpoint alone (its metrics equal the RLN's maps refined by the BRN's post-processor
interface); the BRN on a blurred first stage beats the blurred maps it refines. Everything is shrunk (few
small images, few iterations) to keep the whole file well under a minute on a CPU.
"""
import copy
import glob
import itertools
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config

from salbox.apis import inference_model, init_model, use_tta
from salbox.apis.runner_utils import build_runner  # the tools' Runner (safe loading on)
from salbox.evaluation import evaluate_pairs
from salbox.registry import MODELS
from salbox.models.detectors.demo_gt_degrader import gaussian_blur
from salbox.utils import load_checkpoint_file

CONFIG_DIR = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'dgrl')
IMG = 64  # synthetic image size for these tests
_names = itertools.count()


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
    runner = build_runner(cfg)
    runner.train()
    history = runner.message_hub.get_scalar('train/loss').data[0]
    return osp.join(cfg.work_dir, f'iter_{cfg.train_cfg.max_iters}.pth'), history


def _test(cfg, checkpoint):
    cfg = cfg.copy()
    cfg.load_from = checkpoint
    cfg.experiment_name = cfg.experiment_name + '_test'
    cfg.visualizer.name = cfg.experiment_name
    return build_runner(cfg).test()


def _test_files(data_root):
    images = sorted(glob.glob(str(data_root / 'test' / 'images' / '*.jpg')))
    masks = [cv2.imread(p.replace('/images/', '/masks/')[:-4] + '.png',
                        cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255 for p in images]
    return images, masks


def test_rln_then_brn_on_it_train_and_test_through_the_runner(tmp_path, one_thread):
    data_root = tmp_path / 'data'
    rln_cfg = _config('dgrl_rln_r18_synthetic.py', tmp_path / 'rln', data_root, iters=6,
                      input_size=(48, 48))
    rln_ckpt, losses = _train(rln_cfg)
    assert osp.isfile(rln_ckpt) and len(losses) == 6 and np.all(np.isfinite(losses))
    rln_metrics = _test(rln_cfg, rln_ckpt)
    # Independent path: the inference API on each test image, scored by evaluate_pairs.
    images, masks = _test_files(data_root)
    rln = init_model(rln_cfg, rln_ckpt)
    rln_maps = [inference_model(rln, path).pred_sal_map.data[0].numpy() for path in images]
    expected, _ = evaluate_pairs(list(zip(rln_maps, masks)), None, ('MAE', 'maxF'))
    assert rln_metrics['MAE'] == pytest.approx(expected['MAE'], abs=1e-6)
    assert rln_metrics['maxF'] == pytest.approx(expected['maxF'], abs=1e-6)
    # TTA: flips and scales through the same runner (the RLN config's tta_pipeline).
    tta_cfg = use_tta(copy.deepcopy(rln_cfg))
    for step in tta_cfg.test_dataloader.dataset.pipeline[1]['transforms'][0]:
        step['scale'] = (48, 48)
    tta_metrics = _test(tta_cfg, rln_ckpt)
    assert 0 < tta_metrics['maxF'] <= 1 and tta_metrics['MAE'] != rln_metrics['MAE']

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
    # Independent composition: the RLN's own prediction refined by the trained BRN through its
    # post-processor interface, on the decoded upright image.
    brn = MODELS.build(brn_cfg.model.refiner)
    brn.load_state_dict({k[len('refiner.'):]: v for k, v in saved.items()
                         if k.startswith('refiner.')})
    brn.eval()
    refined = []
    for path, prior in zip(images, rln_maps):
        rgb = torch.from_numpy(cv2.imread(path)[:, :, ::-1].copy()).permute(2, 0, 1)
        refined.append(brn.refine(rgb, torch.from_numpy(prior)[None])[1][0].numpy())
    expected, _ = evaluate_pairs(list(zip(refined, masks)), None, ('MAE', 'maxF'))
    assert brn_metrics['MAE'] == pytest.approx(expected['MAE'], abs=1e-5)
    assert brn_metrics['maxF'] == pytest.approx(expected['maxF'], abs=1e-5)


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
