"""Distributed options without starting processes: the backend follows the device, SyncBN
converts every BatchNorm of every backbone, --sync-bn / --diff-rank-seed reach the config.
The 2-process runs are in tests/integration/test_distributed_and_resume.py."""
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.model import convert_sync_batchnorm
from torch import nn

import salbox.models.backbones as backbones
from salbox.apis.runner_utils import load_config, prepare_distributed, resolve_dist_backend
from salbox.registry import MODELS
from salbox.utils.errors import SalboxError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')
# Constructor arguments for backbones without usable defaults (smallest variant).
BACKBONE_ARGS = {'ResNet': dict(depth=18), 'ResNeXt': dict(depth=50),
                 'RecurrentResNet': dict(depth=18),
                 'VGG': dict(depth=11, with_bn=True, widths=(8, 8, 16, 16, 16))}


def _train_tool():
    spec = importlib.util.spec_from_file_location('salbox_train_tool',
                                                  osp.join(REPO, 'tools', 'train.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_auto_backend_is_gloo_on_cpu_and_nccl_with_cuda(monkeypatch):
    assert load_config(CONFIG).env_cfg.dist_cfg.backend == 'auto'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    assert resolve_dist_backend(load_config(CONFIG)) == 'gloo'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    assert resolve_dist_backend(load_config(CONFIG)) == 'nccl'


def test_nccl_without_gpu_is_refused_in_one_line(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = load_config(CONFIG, {'env_cfg.dist_cfg.backend': 'nccl'})
    with pytest.raises(SalboxError, match="backend='nccl' needs CUDA"):
        resolve_dist_backend(cfg)
    cfg = load_config(CONFIG, {'env_cfg.dist_cfg.backend': 'gloo'})
    assert resolve_dist_backend(cfg) == 'gloo'


def test_cpu_runs_get_a_ddp_wrapper_without_device_ids(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    monkeypatch.setattr(torch.distributed, 'is_initialized', lambda: True)
    cfg = load_config(CONFIG, launcher='pytorch')
    prepare_distributed(cfg)
    assert cfg.model_wrapper_cfg.type == 'MMDistributedDataParallel'
    assert cfg.model_wrapper_cfg.device_ids is None
    cfg.sync_bn = 'torch'
    with pytest.raises(SalboxError, match='sync_bn needs GPUs'):
        prepare_distributed(cfg)


def test_train_flags_set_sync_bn_and_per_rank_seeds():
    train = _train_tool()
    args = train.parse_args([CONFIG, '--sync-bn', '--diff-rank-seed'])
    cfg = load_config(CONFIG)
    train.set_distributed_options(cfg, args)
    assert cfg.sync_bn == 'torch'
    assert cfg.randomness == dict(seed=2018, diff_rank_seed=True)
    plain = load_config(CONFIG)
    train.set_distributed_options(plain, train.parse_args([CONFIG]))
    assert 'sync_bn' not in plain and not plain.randomness.get('diff_rank_seed', False)


@pytest.mark.parametrize('name', backbones.__all__)
def test_sync_bn_converts_every_batchnorm_of_every_backbone(name):
    """What ``sync_bn='torch'`` makes Runner.wrap_model do (mmengine convert_sync_batchnorm):
    no BatchNorm is left, the weights keep their names, and eval outputs are unchanged."""
    model = MODELS.build(dict(type=name, **BACKBONE_ARGS.get(name, {}))).eval()
    bn_names = [n for n, m in model.named_modules()
                if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert bn_names, f'{name} has no BatchNorm to convert'
    for module in model.modules():  # non-trivial statistics so a lost buffer would show
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        expected = model(x)
    keys = list(model.state_dict())
    synced = convert_sync_batchnorm(model, 'torch').eval()
    converted = dict(synced.named_modules())
    assert all(type(converted[n]) is nn.SyncBatchNorm for n in bn_names)
    assert not any(type(m) in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
                   for m in synced.modules())
    assert list(synced.state_dict()) == keys
    with torch.no_grad():
        got = synced(x)
    expected, got = _flat(expected), _flat(got)
    assert len(expected) == len(got) and all(torch.equal(a, b) for a, b in zip(expected, got))


def _flat(outputs):
    if isinstance(outputs, torch.Tensor):
        return [outputs]
    return [t for item in outputs for t in _flat(item)]


@pytest.mark.parametrize('script,nargs', [('dist_train.sh', 2), ('dist_test.sh', 3)])
def test_dist_scripts_print_usage_without_their_arguments(script, nargs):
    """The launchers themselves run in tests/integration/test_distributed_and_resume.py."""
    import subprocess
    result = subprocess.run(['bash', osp.join(REPO, 'tools', script)] + ['x'] * (nargs - 1),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith('usage: bash ') and 'NPROC_PER_NODE' in result.stderr
