"""Crash-safe checkpoints: atomic writes, delete-after-save rotation, and --resume picking a
complete checkpoint. The SIGKILL of a real tools/train.py run is in
tests/integration/test_distributed_and_resume.py."""
import os

import cv2
import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from salbox.apis.runner_utils import checkpoint_is_complete, find_resume_checkpoint
from salbox.utils import mmengine_compat
from salbox.engine import atomic_io
from salbox.engine.atomic_io import atomic_write_bytes, png_is_complete
from salbox.engine.hooks import AtomicCheckpointHook
from salbox.utils.errors import SalboxError


class _Killed(BaseException):
    """Stands in for SIGKILL arriving in the middle of a write."""


def _kill_in_fsync(monkeypatch):
    def killed(fd):
        raise _Killed()
    monkeypatch.setattr(atomic_io.os, 'fsync', killed)


def test_a_write_killed_half_way_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / 'last_checkpoint'
    atomic_write_bytes(str(path), b'old')
    _kill_in_fsync(monkeypatch)
    with pytest.raises(_Killed):
        atomic_write_bytes(str(path), b'new content')
    assert path.read_bytes() == b'old'
    assert os.listdir(tmp_path) == ['last_checkpoint']


def test_png_is_complete_only_for_a_whole_png(tmp_path):
    path = str(tmp_path / 'map.png')
    cv2.imwrite(path, np.arange(64, dtype=np.uint8).reshape(8, 8))
    assert png_is_complete(path)
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:-5])
    assert not png_is_complete(path)
    open(path, 'wb').write(b'not a png' * 10)
    assert not png_is_complete(path)
    assert not png_is_complete(str(tmp_path / 'missing.png'))


class _Toy(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 1)
        self.drop = nn.Dropout(0.5)  # draws from torch's generator at every training step

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(self.drop(torch.stack(inputs)))
        return {'loss': out.pow(2).mean()} if mode == 'loss' else out


def _runner(work_dir, max_iters, resume=False, hook_type='AtomicCheckpointHook', **hook_args):
    mmengine_compat.enable()  # as the tools do: Runner checkpoints load under weights_only
    torch.manual_seed(0)  # the same initial weights in every run
    return Runner(
        resume=resume, randomness=dict(seed=0),
        model=_Toy(), work_dir=str(work_dir), default_scope='salbox', log_level='WARNING',
        experiment_name=f'toy_{os.path.basename(work_dir)}_{max_iters}',
        train_dataloader=dict(dataset=[dict(inputs=torch.ones(8))] * 4, batch_size=2,
                              sampler=dict(type='InfiniteSampler', shuffle=False),
                              collate_fn=dict(type='pseudo_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type=hook_type, by_epoch=False, interval=1,
                                           max_keep_ckpts=1, **hook_args)))


def test_the_hook_names_mean_what_they_say(tmp_path):
    """salbox's hook is AtomicCheckpointHook; a config naming CheckpointHook gets mmengine's."""
    from mmengine.hooks import CheckpointHook
    plain = _runner(tmp_path / 'plain', 1, hook_type='CheckpointHook')
    hooks = [h for h in plain.hooks if isinstance(h, CheckpointHook)]
    assert len(hooks) == 1 and type(hooks[0]) is CheckpointHook
    atomic = _runner(tmp_path / 'atomic', 1)
    assert any(type(h) is AtomicCheckpointHook for h in atomic.hooks)


def test_config_checkpoint_hook_is_atomic_and_rotation_deletes_after_saving(tmp_path,
                                                                            monkeypatch):
    runner = _runner(tmp_path, 3)
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    assert sorted(p for p in os.listdir(tmp_path) if p.endswith('.pth')) == ['iter_3.pth']
    last = str(tmp_path / 'iter_3.pth')
    assert (tmp_path / 'last_checkpoint').read_text() == last
    # A kill while iter_4 is being written: mmengine's hook has already deleted iter_3 at this
    # point (rotation before saving), leaving nothing to resume; here iter_3 stays the latest.
    _kill_in_fsync(monkeypatch)
    with pytest.raises(_Killed):
        hook._save_checkpoint_with_step(runner, 4, dict(epoch=0, iter=4))
    monkeypatch.undo()
    assert not (tmp_path / 'iter_4.pth').exists()
    assert (tmp_path / 'last_checkpoint').read_text() == last
    assert checkpoint_is_complete(last) and find_resume_checkpoint(str(tmp_path)) == last


def test_unfinished_temp_files_are_removed_before_training(tmp_path):
    leftover = tmp_path / f'.iter_2.pth{atomic_io.TMP_MARK}12345'
    leftover.write_bytes(b'half a checkpoint')
    _runner(tmp_path, 1).train()
    assert not leftover.exists() and (tmp_path / 'iter_1.pth').exists()


def _save(path):
    torch.save({'state_dict': {'w': torch.zeros(100)}}, path)


def test_resume_skips_a_truncated_checkpoint_for_the_newest_complete_one(tmp_path, capsys):
    _save(tmp_path / 'iter_2.pth')
    _save(tmp_path / 'iter_4.pth')
    broken = tmp_path / 'iter_4.pth'
    broken.write_bytes(broken.read_bytes()[:300])  # e.g. written by a non-atomic saver
    (tmp_path / 'last_checkpoint').write_text(str(broken))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'iter_2.pth')
    assert 'skipped ' + str(broken) in capsys.readouterr().err


def test_resume_with_only_truncated_checkpoints_is_one_clear_error(tmp_path):
    _save(tmp_path / 'iter_2.pth')
    (tmp_path / 'iter_2.pth').write_bytes((tmp_path / 'iter_2.pth').read_bytes()[:300])
    with pytest.raises(SalboxError, match='iter_2.pth missing or truncated'):
        find_resume_checkpoint(str(tmp_path))
    assert find_resume_checkpoint(str(tmp_path / 'empty')) is None


def test_previous_best_checkpoint_is_deleted_only_after_the_new_one_is_saved(tmp_path,
                                                                            monkeypatch):
    runner = _runner(tmp_path, 3, save_best='acc', rule='greater')
    runner.train()
    hook = next(h for h in runner.hooks if isinstance(h, AtomicCheckpointHook))
    hook._save_best_checkpoint(runner, {'acc': 0.5})
    runner.train_loop._iter = 4
    hook._save_best_checkpoint(runner, {'acc': 0.6})  # a better one replaces it
    best = tmp_path / 'best_acc_iter_4.pth'
    assert not (tmp_path / 'best_acc_iter_3.pth').exists() and checkpoint_is_complete(str(best))
    runner.train_loop._iter = 5
    _kill_in_fsync(monkeypatch)
    with pytest.raises(_Killed):
        hook._save_best_checkpoint(runner, {'acc': 0.7})
    monkeypatch.undo()
    # mmengine would have deleted best_acc_iter_4.pth before writing iter 5's.
    assert checkpoint_is_complete(str(best))
    assert not (tmp_path / 'best_acc_iter_5.pth').exists()


def test_resume_continues_the_model_random_stream(tmp_path):
    """A model with dropout: 2 iterations, resume, 2 more == 4 uninterrupted iterations
    (with mmengine's own CheckpointHook torch's generator restarts from the seed at resume, the
    dropout masks differ and so do the weights)."""
    straight = _runner(tmp_path / 'straight', 4)
    straight.train()
    _runner(tmp_path / 'split', 2).train()
    resumed = _runner(tmp_path / 'split', 4, resume=True)
    resumed.train()
    assert torch.equal(resumed.model.fc.weight, straight.model.fc.weight)
