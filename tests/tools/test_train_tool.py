"""tools/train.py on the paper config: clear one-line errors without data or weights, and a
real start of the paper recipe on a generated folder in MSRA10K's layout."""
import os
import os.path as osp
import re
import subprocess
import sys

from salbox.datasets import write_synthetic_folder

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PAPER_CONFIG = osp.join(REPO, 'configs/r3net/r3net_resnext101_msra10k.py')


def _train(cwd, *args):
    return subprocess.run([sys.executable, osp.join(REPO, 'tools/train.py'), PAPER_CONFIG,
                           '--work-dir', str(cwd / 'work'), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=900)


def test_without_data_one_line_says_where_and_how(tmp_path):
    result = _train(tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(tmp_path / 'data' / 'MSRA10K') in lines[0] and 'docs/datasets.md' in lines[0]


def test_without_pretrained_weights_one_line_names_the_file(tmp_path):
    write_synthetic_folder(str(tmp_path / 'data' / 'MSRA10K'), num_images=3,
                           img_size=(64, 64), seed=0, layout='msra10k')
    result = _train(tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert 'resnext101_32x4d_torchvision.pth' in lines[0] and 'init_cfg=None' in lines[0]


def test_paper_recipe_starts_on_an_msra10k_layout(tmp_path):
    write_synthetic_folder(str(tmp_path / 'data' / 'MSRA10K'), num_images=4,
                           img_size=(320, 360), seed=0, layout='msra10k')
    # The recipe validates on DUTS-TE (configs/_base_/datasets/val_duts_te.py): lay out a tiny one.
    duts = write_synthetic_folder(str(tmp_path / 'duts_te'), num_images=2, img_size=(64, 64),
                                  seed=1)
    (tmp_path / 'data' / 'DUTS' / 'DUTS-TE').mkdir(parents=True)
    os.rename(osp.join(duts, 'images'), tmp_path / 'data' / 'DUTS' / 'DUTS-TE' / 'DUTS-TE-Image')
    os.rename(osp.join(duts, 'masks'), tmp_path / 'data' / 'DUTS' / 'DUTS-TE' / 'DUTS-TE-Mask')
    result = _train(tmp_path, '--cfg-options', 'model.backbone.init_cfg=None',
                    'train_cfg.max_iters=1', 'train_dataloader.batch_size=2',
                    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                    'default_hooks.logger.interval=1', 'default_hooks.checkpoint.interval=1')
    assert result.returncode == 0, result.stderr[-3000:]
    log = result.stdout + result.stderr
    # The recipe as it reached the optimiser: base lr 1e-3, biases at 2x without decay.
    assert 'Iter(train) [1/1]' in log and 'lr: 1.0000e-03' in log
    # SalOptimWrapperConstructor logs one line per parameter group, not per parameter.
    groups = re.findall(r'param group \d+: (\d+) parameters \(([^)]*)\): (.*)', log)
    assert len(groups) == 2, log[-3000:]
    biases = [(owners, opts) for _, owners, opts in groups
              if 'lr=0.002' in opts.split(', ') and 'weight_decay=0.0' in opts.split(', ')]
    assert len(biases) == 1 and 'backbone' in biases[0][0], groups
    assert 'paramwise_options --' not in log
    assert osp.isfile(tmp_path / 'work' / 'iter_1.pth')


def _load_train_tool():
    import importlib.util
    spec = importlib.util.spec_from_file_location('salbox_train_tool',
                                                  osp.join(REPO, 'tools/train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_amp_dtype_sets_the_amp_wrapper(monkeypatch):
    """--amp-dtype bfloat16 -> AmpOptimWrapper(dtype='bfloat16') with the optimizer kept; on a
    machine without CUDA, --amp is refused in one line (tools/gpu_check.sh runs it on a GPU)."""
    import pytest
    from mmengine.config import Config

    from salbox.utils.errors import SalboxError
    train = _load_train_tool()
    args = train.parse_args([PAPER_CONFIG, '--amp-dtype', 'bfloat16'])
    assert args.amp_dtype == 'bfloat16' and not args.amp
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=1))))
    monkeypatch.setattr(train.torch.cuda, 'is_available', lambda: False)
    with pytest.raises(SalboxError, match='--amp needs a GPU'):
        train.set_amp(cfg, 'bfloat16')
    monkeypatch.setattr(train.torch.cuda, 'is_available', lambda: True)
    train.set_amp(cfg, 'bfloat16')
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16' and cfg.optim_wrapper.loss_scale == 'dynamic'
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=1)
