"""Safe checkpoint loading: mmengine's own checkpoint types load, anything else is refused."""
import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from salbox.utils.checkpoint import history_buffer_getattr, load_checkpoint_file


def test_runner_style_checkpoint_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('test_checkpoint_hub')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    state = dict(meta=dict(iter=2, seed=np.int64(3)), state_dict={'w': torch.ones(2)},
                 message_hub=hub.state_dict())
    path = tmp_path / 'iter_2.pth'
    torch.save(state, path)
    loaded = load_checkpoint_file(str(path))
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.375)
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))


class _Payload:
    """Pickles as getattr('text', 'upper'): a stand-in for reaching an arbitrary attribute."""

    def __reduce__(self):
        return (getattr, ('text', 'upper'))


def test_getattr_outside_history_buffer_is_refused(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'x': _Payload()}, path)
    with pytest.raises(RuntimeError, match='cannot be loaded safely'):
        load_checkpoint_file(str(path))


def test_restricted_getattr_only_serves_statistics_methods():
    assert history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(HistoryBuffer, '__init__')
    with pytest.raises(pickle.UnpicklingError):
        history_buffer_getattr(os, 'system')


def test_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match='nothing_here.pth'):
        load_checkpoint_file(str(tmp_path / 'nothing_here.pth'))
