"""A ``CheckpointHook`` that a crash (SIGKILL, power cut, full disk) cannot corrupt.

Registered under its own name, ``AtomicCheckpointHook`` (every salbox config names it in
``default_hooks.checkpoint``); a config that names ``CheckpointHook`` gets mmengine's hook.

mmengine 0.10.7's ``CheckpointHook`` (``mmengine/hooks/checkpoint_hook.py``,
``_save_checkpoint_with_step``) has two windows where a kill loses the run: it writes the
checkpoint in place with ``open(path, 'wb')`` (a kill mid-write leaves a truncated file under the
final name, and ``last_checkpoint`` may already point at it on the next save), and with
``max_keep_ckpts`` it deletes the oldest checkpoint *before* writing the new one (a kill in
between leaves ``last_checkpoint`` pointing at a deleted file and nothing to resume from).

This hook keeps mmengine's behaviour and arguments but orders the steps so that every moment
has a complete checkpoint named by ``last_checkpoint``:

1. the new checkpoint is written to a temporary file in the same folder, fsync'ed and renamed
   into place (:mod:`salbox.engine.atomic_io`);
2. ``last_checkpoint`` is then replaced the same way;
3. only then are checkpoints beyond ``max_keep_ckpts`` deleted.

``save_best`` has the same window in mmengine (the previous ``best_*.pth`` is deleted before
the new one is written; after a kill there the restored ``best_score`` keeps it from ever being
written again): here the previous best is deleted only after the new one is complete.

The hook also makes ``--resume`` reproduce a model that draws random numbers (dropout):
mmengine saves no generator state, and its ``IterBasedTrainLoop`` replays the data loader
for the iterations already done (re-drawing ``np.random`` augmentations), but the model's
draws from torch's generator are lost. The torch CPU (and CUDA) generator state is saved in
the checkpoint's ``meta['torch_rng_state']`` and restored at the first training iteration
after a resume, i.e. after the replay. Rank 0's state is saved; it is restored on every rank
unless ``randomness.diff_rank_seed`` gave the ranks different streams.

Every checkpoint it saves is stamped (``salbox.utils.checkpoint.stamp_checkpoint``) with the
SHA-256 of its weights, verified when it is loaded, and the config's ``model`` as plain data.
A custom ``backend_args`` (e.g. a remote store) is used unchanged.

mmengine has no public hook for the order of a save, so two of ``CheckpointHook``'s own
methods are overridden (``_save_checkpoint_with_step`` and ``_save_best_checkpoint``, as they
are in mmengine 0.10.x); the hook calls :func:`salbox.utils.mmengine_compat.check_version`
when it is built, so another mmengine version is named in one warning line
(``salbox/utils/mmengine_compat.py`` lists every such dependency).
"""
import os.path as osp

import torch
from mmengine.dist import get_world_size, is_main_process
from mmengine.hooks import CheckpointHook

from salbox.registry import HOOKS
from salbox.utils import mmengine_compat
from salbox.utils.checkpoint import stamp_checkpoint
from ..atomic_io import atomic_write_bytes, remove_stale_temp_files


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` with atomic saves and delete-after-save rotation."""

    def __init__(self, *args, **kwargs):
        mmengine_compat.check_version()  # the two overridden methods follow mmengine 0.10.x
        super().__init__(*args, **kwargs)
        self._rng_to_restore = None
        self._local_atomic = self.backend_args is None and self.file_client_args is None
        if self._local_atomic:
            self.backend_args = dict(backend='local_atomic')

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if runner.iter == 0:  # a load_from (weights only), not a resume: keep the seeded RNG
            self._rng_to_restore = None
        if self._local_atomic and is_main_process():
            for path in remove_stale_temp_files(self.out_dir):
                runner.logger.warning(f'removed {path}: an unfinished checkpoint save')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        state = dict(cpu=torch.get_rng_state())
        if torch.cuda.is_available():
            state['cuda'] = torch.cuda.get_rng_state_all()
        checkpoint.setdefault('meta', {})['torch_rng_state'] = state
        stamp_checkpoint(checkpoint, runner.cfg.get('model'))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self._rng_to_restore = None
        state = checkpoint.get('meta', {}).get('torch_rng_state')
        randomness = runner.cfg.get('randomness') or {}
        if state is not None and (  # used only if before_train sees a resumed iteration
                get_world_size() == 1 or not randomness.get('diff_rank_seed', False)):
            self._rng_to_restore = state

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        state = self._rng_to_restore
        if state is not None:  # first iteration after a resume, after the data replay
            torch.set_rng_state(state['cpu'])
            if 'cuda' in state and torch.cuda.is_available() \
                    and len(state['cuda']) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(state['cuda'])
            self._rng_to_restore = None
        super().before_train_iter(runner, batch_idx, data_batch)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's logic, with the deletion of the previous best deferred until the new
        best checkpoint is saved (the file backend's ``remove``/``rmtree`` are queued)."""
        backend = self.file_backend
        queued = []
        backend.remove = lambda path: queued.append((type(backend).remove, path))
        backend.rmtree = lambda path: queued.append((type(backend).rmtree, path))
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            del backend.remove, backend.rmtree
        current = {str(getattr(self, 'best_ckpt_path', None))}
        current |= {str(p) for p in getattr(self, 'best_ckpt_path_dict', {}).values()}
        for remove, path in queued:
            if str(path) not in current:
                remove(backend, path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        stale = []
        if self.max_keep_ckpts > 0:
            # Same bookkeeping as mmengine (the saved message hub lists the kept steps), but
            # the files leaving the list are deleted after the new checkpoint is complete.
            if not (len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    stale.append(self.keep_ckpt_ids.popleft())
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write_bytes(osp.join(runner.work_dir, 'last_checkpoint'),
                           str(self.last_ckpt).encode('utf-8'))
        for old_step in stale:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
                self.file_backend.rmtree(path)
