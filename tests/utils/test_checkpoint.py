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


class _RunsCode:
    """Pickles as ``os.system('touch MARKER')``: unpickling it unsafely creates the marker."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}',))


@pytest.fixture
def malicious(tmp_path, monkeypatch):
    monkeypatch.delenv('SALBOX_TRUST_CHECKPOINTS', raising=False)
    marker = tmp_path / 'pwned'
    path = tmp_path / 'evil_resnet18.pth'
    torch.save({'state_dict': {'conv1.weight': _RunsCode(marker)}}, path)
    return path, marker


def _assert_refused(err, path, marker):
    message = str(err.value)
    assert str(path) in message and 'SALBOX_TRUST_CHECKPOINTS=1' in message
    assert 'posix.system' in message and '\n' not in message
    assert not marker.exists()


def test_code_running_pickle_is_refused_and_never_runs(malicious):
    from salbox.utils.checkpoint import UnsafeCheckpointError
    path, marker = malicious
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint_file(str(path))
    _assert_refused(err, path, marker)


def test_pretrained_init_cfg_and_mmengine_load_checkpoint_refuse_it(malicious):
    """mmengine's own loading paths (init_cfg Pretrained, load_checkpoint, Runner load_from /
    resume) reach salbox's loader through CheckpointLoader's scheme for plain paths, once a
    tool has called ``mmengine_compat.enable()``."""
    from mmengine.runner import load_checkpoint

    from salbox.models.backbones import ResNet
    from salbox.utils import mmengine_compat
    from salbox.utils.checkpoint import UnsafeCheckpointError
    mmengine_compat.enable()
    path, marker = malicious
    model = ResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises(UnsafeCheckpointError) as err:
        model.init_weights()
    _assert_refused(err, path, marker)
    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint(model, str(path), map_location='cpu')
    _assert_refused(err, path, marker)


def test_trusting_a_legacy_file_is_an_explicit_opt_in(tmp_path, monkeypatch):
    from argparse import Namespace

    from salbox.utils.checkpoint import UnsafeCheckpointError
    path = tmp_path / 'legacy.pth'
    torch.save({'meta': Namespace(lr=2)}, path)  # old trainers pickled their args like this
    monkeypatch.delenv('SALBOX_TRUST_CHECKPOINTS', raising=False)
    with pytest.raises(UnsafeCheckpointError, match='legacy.pth'):
        load_checkpoint_file(str(path))
    monkeypatch.setenv('SALBOX_TRUST_CHECKPOINTS', '1')
    with pytest.warns(UserWarning, match='weights_only=False'):
        assert load_checkpoint_file(str(path))['meta'] == Namespace(lr=2)


def test_truncated_checkpoint_is_named_as_incomplete(tmp_path):
    from salbox.utils.checkpoint import CorruptCheckpointError
    path = tmp_path / 'iter_4.pth'
    torch.save({'state_dict': {'w': torch.zeros(1000)}}, path)
    path.write_bytes(path.read_bytes()[:2000])  # what a save killed half way leaves
    with pytest.raises(CorruptCheckpointError, match='iter_4.pth is not a complete checkpoint'):
        load_checkpoint_file(str(path))


def test_downloaded_checkpoints_are_loaded_safely_too(malicious, tmp_path, monkeypatch):
    """mmengine's http(s)/torchvision/open-mmlab/mmcls loaders download through torch.hub with
    ``weights_only=False``: once enabled, salbox's loaders serve those schemes (mmengine's own
    ``load_url`` stays as it is for other callers). The download copies a local file."""
    import shutil

    import mmengine.runner.checkpoint as mmengine_checkpoint
    from mmengine.runner import CheckpointLoader

    from salbox.utils import mmengine_compat
    from salbox.utils.checkpoint import UnsafeCheckpointError
    path, marker = malicious
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.ones(3)}}, good)
    sources = {'https://example.invalid/evil.pth': path, 'https://example.invalid/good.pth': good}
    monkeypatch.setattr(torch.hub, 'download_url_to_file',
                        lambda url, dst, progress=True: shutil.copy(sources[url], dst))
    hub = tmp_path / 'hub'
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(hub))
    mmengine_compat.enable()
    assert 'salbox' not in mmengine_checkpoint.load_url.__module__
    with pytest.raises(UnsafeCheckpointError) as err:
        CheckpointLoader.load_checkpoint('https://example.invalid/evil.pth')
    assert str(hub / 'checkpoints' / 'evil.pth') in str(err.value) and not marker.exists()
    loaded = CheckpointLoader.load_checkpoint('https://example.invalid/good.pth')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(3))


def test_audit_every_torch_load_in_salbox_and_tools_is_weights_only():
    """Source audit: each ``torch.load`` / hub download call in salbox/ and tools/ passes
    ``weights_only=True``; the one ``weights_only=False`` is the SALBOX_TRUST_CHECKPOINTS
    opt-in in salbox/utils/checkpoint.py."""
    import ast
    import pathlib
    repo = pathlib.Path(__file__).resolve().parents[2]
    loaders = {'load', 'load_state_dict_from_url', 'load_url'}
    unsafe = []
    files = list((repo / 'salbox').rglob('*.py')) + list((repo / 'tools').rglob('*.py'))
    for path in sorted(files):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in loaders and isinstance(node.func.value, (ast.Name,
                                                                                ast.Attribute))):
                continue
            owner = ast.unparse(node.func.value)
            if owner not in ('torch', 'torch.hub', 'model_zoo', 'torch.utils.model_zoo'):
                continue
            flag = next((k.value for k in node.keywords if k.arg == 'weights_only'), None)
            value = flag.value if isinstance(flag, ast.Constant) else None
            where = f'{path.relative_to(repo)}:{node.lineno}'
            if value is True or (value is False and where.startswith('salbox/utils/checkpoint')):
                continue
            unsafe.append(where)
    assert not unsafe, f'torch.load without weights_only=True: {unsafe}'
