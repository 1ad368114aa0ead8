"""Test-only hooks for tests/integration/test_distributed_and_resume.py, loaded by the tiny
config through ``custom_imports`` (this folder is put on PYTHONPATH / sys.path)."""
import json
import os
import os.path as osp

from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm


def _dump(runner, name, value):
    path = osp.join(runner.work_dir, f'{name}_rank{get_rank()}.json')
    with open(path + '.part', 'w') as f:  # whole or absent, even when the run is killed
        json.dump(value, f)
    os.replace(path + '.part', path)


@HOOKS.register_module()
class FreezeBNHook(Hook):
    """Every BatchNorm in eval mode: per-rank batch statistics (2 ranks x B images) then equal
    the one-process statistics (2B images), which only SyncBN gives otherwise (GPU only)."""

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        for module in runner.model.modules():
            if isinstance(module, _BatchNorm):
                module.eval()


@HOOKS.register_module()
class LossRecordHook(Hook):
    """Writes this rank's loss of every iteration to ``losses_rank<r>.json``."""

    def before_train(self, runner):
        self.losses = []

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        self.losses.append(float(outputs['loss']))
        _dump(runner, 'losses', self.losses)


@HOOKS.register_module()
class ModelRecordHook(Hook):
    """Writes the wrapper type and the BatchNorm classes of the model under test."""

    def before_test(self, runner):
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        _dump(runner, 'model', dict(
            wrapper=type(runner.model).__name__,
            sync_bn=sum(isinstance(m, nn.SyncBatchNorm) for m in model.modules()),
            plain_bn=sum(type(m) in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
                         for m in model.modules())))
