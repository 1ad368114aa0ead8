"""salbox's one module of mmengine internals: its version check and test-loss convention."""
import warnings

import mmengine
import pytest
import torch
from mmengine.structures import BaseDataElement

from salbox.utils import mmengine_compat


def test_installed_mmengine_is_supported_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert mmengine_compat.check_version()


def test_an_unsupported_version_is_one_warning_line_once(monkeypatch):
    monkeypatch.setattr(mmengine, '__version__', '0.11.2')
    monkeypatch.setattr(mmengine_compat, '_CHECKED', None)
    with pytest.warns(UserWarning) as record:
        assert not mmengine_compat.check_version()
        assert not mmengine_compat.check_version()
    assert len(record) == 1
    message = str(record[0].message)
    assert '\n' not in message
    assert mmengine_compat.SUPPORTED in message and '0.11.2' in message


def test_pop_test_losses_takes_the_trailing_loss_element():
    samples = [BaseDataElement(metainfo=dict(i=0)), BaseDataElement(metainfo=dict(i=1))]
    losses = {}
    loss = BaseDataElement(loss=dict(loss_a=torch.tensor(0.5),
                                     loss_b=[torch.tensor(1.0), torch.tensor(3.0)]))
    assert mmengine_compat.pop_test_losses(samples + [loss], losses) == samples
    assert losses['loss_a'].mean() == 0.5 and losses['loss_b'].mean() == 2.0
    assert mmengine_compat.pop_test_losses(samples, losses) == samples
