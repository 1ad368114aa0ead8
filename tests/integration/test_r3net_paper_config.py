"""``configs/r3net/r3net_resnext101_msra10k.py`` (the paper recipe, full ResNeXt-101 32x4d R3Net)
starts training on a converted official-layout ImageNet file: a file with the keys and shapes of
R3Net's ``resnext_101_32x4d.pth`` (random values: the real weights cannot be downloaded here) is
converted by ``tools/model_converters/resnext101_32x4d2torchvision.py`` and loaded through the
config's ``init_cfg``; two iterations on tiny inputs from a generated MSRA10K-layout folder."""
import importlib.util
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import torch

from salbox.datasets.synthetic import render_sample, write_synthetic_folder

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools'))
from official_layouts import imagenet_resnext101_32x4d_layout, random_state_dict  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/r3net/r3net_resnext101_msra10k.py')


def _duts_te(root, num=2, size=48):
    """A tiny DUTS-TE layout for the config's validation set (never run: val_interval > 2)."""
    for sub in ('DUTS-TE-Image', 'DUTS-TE-Mask'):
        (root / 'DUTS-TE' / sub).mkdir(parents=True)
    for i in range(num):
        image, mask = render_sample(i, 3, (size, size))
        cv2.imwrite(str(root / 'DUTS-TE' / 'DUTS-TE-Image' / f'{i}.jpg'), image)
        cv2.imwrite(str(root / 'DUTS-TE' / 'DUTS-TE-Mask' / f'{i}.png'), mask)


def test_paper_config_trains_on_a_converted_official_layout_imagenet_file(tmp_path):
    official = tmp_path / 'resnext_101_32x4d.pth'
    converted = tmp_path / 'resnext101_32x4d_torchvision.pth'
    torch.save(random_state_dict(imagenet_resnext101_32x4d_layout()), official)
    spec = importlib.util.spec_from_file_location(
        'resnext_converter', osp.join(REPO, 'tools/model_converters/resnext101_32x4d2torchvision.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main([str(official), str(converted)])
    msra = write_synthetic_folder(str(tmp_path / 'MSRA10K'), 4, (48, 48), seed=0,
                                  layout='msra10k')
    _duts_te(tmp_path / 'DUTS')
    work = tmp_path / 'work'
    train = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools/train.py'), CONFIG, '--work-dir', str(work),
         '--cfg-options', f'model.backbone.init_cfg.checkpoint={converted}',
         f'train_dataloader.dataset.data_root={msra}', 'train_dataloader.batch_size=2',
         'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
         'train_dataloader.dataset.pipeline.2.size=40',
         f'val_dataloader.dataset.data_root={tmp_path / "DUTS"}',
         'val_dataloader.num_workers=0', 'train_cfg.max_iters=2',
         'default_hooks.logger.interval=1', 'default_hooks.checkpoint.save_last=False'],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=900,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    log = train.stdout + train.stderr
    assert train.returncode == 0, log[-3000:]
    # mmengine's Pretrained init loaded the converted file; only its classifier was left over
    assert f'load model from: {converted}' in log
    assert 'missing keys in source state_dict' not in log
    assert 'unexpected key in source state_dict: fc.weight, fc.bias' in log
    assert 'Iter(train) [2/2]' in log
    losses = [float(line.split('loss: ')[1].split()[0]) for line in log.splitlines()
              if 'Iter(train)' in line and 'loss: ' in line]
    assert len(losses) == 2 and all(np.isfinite(losses))
