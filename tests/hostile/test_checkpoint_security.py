"""Checkpoints a user is handed: no path from a file to code, wrong architectures and damaged
files refused in one line (docs/bad_input.md, "Checkpoints")."""
import ast
import os
import os.path as osp

import pytest
import torch
from hostile_files import REPO, dataset_folder, tool

from salbox.models.promoters import build_promoter, load_promoter, save_promoter
from salbox.utils.checkpoint import (CorruptCheckpointError, load_checkpoint_file,
                                     stamp_checkpoint)
from salbox.utils.checkpoint_match import CheckpointMismatchError
from salbox.utils.errors import SalboxError
from salbox.utils.safe_config import UnsafeConfigError

SMALL_PROMOTER = dict(type='MIRelationNet', backbone=dict(type='MobileNetV2'),
                      input_size=(32, 32))


def _promoter_state():
    torch.manual_seed(0)
    return build_promoter(SMALL_PROMOTER).state_dict()


def _crafted(path, meta, state=None):
    """A checkpoint that passes ``weights_only=True``: only its meta is hostile."""
    torch.save(dict(state_dict=state if state is not None else _promoter_state(), meta=meta),
               str(path))
    return str(path)


def test_stored_config_text_is_never_executed(tmp_path):
    marker = tmp_path / 'PWNED'
    code = f"__import__('os').system('touch {marker}')"
    # The report's file: the command sits in another statement, the model is plain data.
    ckpt = _crafted(tmp_path / 'a.pth', {'cfg': f"_x = {code}\nmodel = dict(type='MIRelationNet',"
                                         " backbone=dict(type='MobileNetV2'),"
                                         " input_size=(32, 32))\n"})
    assert load_promoter(ckpt) is not None
    assert not marker.exists()
    # The command inside the model's value: refused in one line, nothing run.
    ckpt = _crafted(tmp_path / 'b.pth', {'cfg': f'model = dict(type={code})\n'})
    with pytest.raises(UnsafeConfigError, match=r"b\.pth \(meta\['cfg'\]\): the stored config "
                       r'is not plain data \(line 1: __import__'):
        load_promoter(ckpt)
    assert not marker.exists()


@pytest.mark.parametrize('key', ['promoter_cfg', 'model_cfg'])
def test_stored_config_dict_cannot_name_an_importable_function(tmp_path, key):
    marker = tmp_path / 'PWNED'
    hostile = dict(SMALL_PROMOTER, backbone=dict(type='os.system', command=f'touch {marker}'))
    ckpt = _crafted(tmp_path / 'c.pth', {key: hostile})
    with pytest.raises(UnsafeConfigError, match=r"c\.pth: model\.backbone\.type='os\.system' "
                       'is not a registered salbox or mmengine module'):
        load_promoter(ckpt)
    assert not marker.exists()


def test_promote_tool_with_crafted_checkpoint_runs_nothing(tmp_path, monkeypatch):
    """tools/promote.py --checkpoint, the report's reproduction."""
    import cv2
    import numpy as np
    monkeypatch.chdir(tmp_path)
    for folder in ('img', 'pri'):
        os.makedirs(folder)
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 3), np.uint8)
    prior = np.zeros((32, 32), np.uint8)
    prior[8:24, 8:24] = 255
    cv2.imwrite('img/a.jpg', image)
    cv2.imwrite('pri/a.png', prior)
    _crafted(tmp_path / 'evil.pth', {'cfg': "_x = __import__('os').system('touch PWNED')\n"
                                     "model = dict(type='MIRelationNet', backbone=dict("
                                     "type='MobileNetV2'), input_size=(32, 32))\n"})
    config = osp.join(REPO, 'configs/mi_promoter/mi_promoter_mobilenetv2_synthetic.py')
    tool('promote').main([config, '--images', 'img', '--priors', 'pri', '--out', 'out',
                          '--checkpoint', 'evil.pth'])
    assert not (tmp_path / 'PWNED').exists()
    assert (tmp_path / 'out' / 'a.png').exists()


def test_mi_promoter_in_a_config_runs_nothing(tmp_path):
    """A config's ``MIPromoter(checkpoint=...)`` (tools/infer.py, tools/test.py) loads the
    same way."""
    from salbox.models.promoters import MIPromoter
    marker = tmp_path / 'PWNED'
    ckpt = _crafted(tmp_path / 'm.pth', {'cfg': f"_x = __import__('os').system('touch {marker}')"
                                         "\nmodel = dict(type='MIRelationNet', backbone=dict("
                                         "type='MobileNetV2'), input_size=(32, 32))\n"})
    MIPromoter(checkpoint=ckpt)
    assert not marker.exists()


def test_resume_config_text_is_dropped(tmp_path):
    """mmengine's Runner.resume runs Config.fromstring on meta['config']: salbox's loader
    (every path mmengine opens once the tools enable it) drops it."""
    from mmengine.runner.checkpoint import _load_checkpoint  # what Runner.resume calls

    from salbox.utils import mmengine_compat
    mmengine_compat.enable()
    ckpt = _crafted(tmp_path / 'r.pth', {'config': "__import__('os').system('touch X')"})
    assert 'config' not in load_checkpoint_file(ckpt)['meta']
    assert 'config' not in _load_checkpoint(ckpt, map_location='cpu')['meta']


# Every call that could turn a file into code, where it is, and why it is safe.
AUDIT = {
    'Config.fromfile': {'salbox/apis/runner_utils.py', 'salbox/apis/inference.py',
                        'benchmarks/bench_arn.py', 'benchmarks/bench_gpu.py',
                        'benchmarks/bench_r3net.py', 'benchmarks/bench_r3net_lite.py',
                        'benchmarks/bench_cpu_training.py', 'benchmarks/peers_u2net.py',
                        'salbox/models/promoters/first_stage.py'},
    # ^ the user's own config file, or the repository's (first_stage.py: the file a config's
    # model.first_stage.config names; build_promoter drops first_stage from a checkpoint's
    # stored model config, so no checkpoint can name one)
    'Config.fromstring': set(),
    'eval': set(), 'exec': set(), 'compile': set(),
    '__import__': {'tools/deployment/pytorch2onnx.py'},  # a fixed list of package names
    'pickle.load': set(), 'pickle.loads': set(), 'np.load': set(), 'yaml.load': set(),
    'torch.load': {'salbox/utils/checkpoint.py',  # weights_only=True + allow-list
                   'salbox/models/backbones/efficientnet_lite.py'},  # weights_only=True
    'weights_only=False': {'salbox/utils/checkpoint.py'},  # SALBOX_TRUST_CHECKPOINTS=1 only
}


def _calls(path: str):
    """The dotted names called in a file, and ``weights_only=False`` where it is passed."""
    with open(path, encoding='utf-8') as f:
        tree = ast.parse(f.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            yield name.replace('mmengine.Config', 'Config').replace('numpy.', 'np.')
            for keyword in node.keywords:
                if keyword.arg == 'weights_only' and isinstance(keyword.value, ast.Constant) \
                        and keyword.value.value is False:
                    yield 'weights_only=False'


def test_audit_of_code_paths_from_files():
    found = {name: set() for name in AUDIT}
    for top in ('salbox', 'tools', 'benchmarks', 'projects'):
        for root, _, names in os.walk(osp.join(REPO, top)):
            for name in names:
                if name.endswith('.py'):
                    path = osp.join(root, name)
                    for call in _calls(path):
                        if call in found:
                            found[call].add(osp.relpath(path, REPO))
    assert found == AUDIT


# --- integrity -----------------------------------------------------------------------------

def test_corrupt_bytes_are_detected(tmp_path):
    path = tmp_path / 'w.pth'
    torch.save(stamp_checkpoint(dict(state_dict={'w': torch.randn(256, 256)}, meta={})), path)
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 256] = bytes(256)  # inside the tensor's bytes
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError, match=r'w\.pth is corrupt: its part .*data/0 '
                       'fails the zip CRC check'):
        load_checkpoint_file(str(path))


def test_content_hash_is_verified(tmp_path):
    """A well-formed file whose weights were changed after salbox saved them."""
    checkpoint = stamp_checkpoint(dict(state_dict={'w': torch.ones(3)}, meta={}))
    checkpoint['state_dict']['w'][0] = 2
    torch.save(checkpoint, tmp_path / 'h.pth')
    with pytest.raises(CorruptCheckpointError, match=r'h\.pth is corrupt: its weights do not '
                       'match the SHA-256 saved with them'):
        load_checkpoint_file(str(tmp_path / 'h.pth'))


def test_text_file_as_checkpoint(tmp_path):
    (tmp_path / 'notes.pth').write_text('hello world\n')
    with pytest.raises(CorruptCheckpointError, match=r"notes\.pth is not a checkpoint: neither "
                       r"a torch zip file nor a pickle \(starts with b'hello world"):
        load_checkpoint_file(str(tmp_path / 'notes.pth'))


def test_salbox_checkpoints_carry_hash_and_model(tmp_path):
    from types import SimpleNamespace

    from salbox.engine.hooks.atomic_checkpoint_hook import AtomicCheckpointHook
    hook = AtomicCheckpointHook(interval=1)
    checkpoint = dict(state_dict={'w': torch.ones(2)}, meta={})
    runner = SimpleNamespace(cfg=dict(model=dict(type='SaliencyDetector', size=(3, 4))))
    hook.before_save_checkpoint(runner, checkpoint)
    assert checkpoint['meta']['model_cfg'] == dict(type='SaliencyDetector', size=(3, 4))
    assert len(checkpoint['meta']['salbox_sha256']) == 64
    promoter = build_promoter(SMALL_PROMOTER)
    saved = load_checkpoint_file(save_promoter(promoter, str(tmp_path / 'p.pth'),
                                               SMALL_PROMOTER))
    assert len(saved['meta']['salbox_sha256']) == 64


# --- architecture -------------------------------------------------------------------------

def _other_architecture(tmp_path, config):
    """A checkpoint of the tiny config with a 16-channel neck and a ResNet-34 backbone."""
    from mmengine.config import Config

    from salbox.registry import MODELS
    cfg = Config.fromfile(config)
    cfg.model.backbone.depth = 34
    cfg.model.neck.channels = 16
    path = str(tmp_path / 'other.pth')
    torch.save({'state_dict': MODELS.build(cfg.model).state_dict()}, path)
    return path


MISMATCH = (r'other\.pth does not fit the model of the config: \d+ unexpected keys '
            r'\(backbone\.layer1\.2\..*\), \d+ shape mismatches '
            r'\(neck\..* in the checkpoint, .* in the model.*\); is it the checkpoint of '
            r'another config\? \(--strict off loads it anyway\)')


def test_test_tool_refuses_another_architecture(tmp_path, bad_files, tiny_model, capsys):
    config, _, data = tiny_model
    if not osp.isdir(data):
        dataset_folder(data, ('good', ), bad_files)
    other = _other_architecture(tmp_path, config)
    argv = [config, other, '--work-dir', str(tmp_path / 'work')]
    with pytest.raises(CheckpointMismatchError, match=MISMATCH):
        tool('test').main(argv)
    tool('test').main(argv + ['--strict', 'off'])  # the escape hatch
    assert 'loading it anyway (--strict off)' in capsys.readouterr().err


def test_infer_refuses_another_architecture(tmp_path, bad_files, tiny_model, capsys):
    config, _, _ = tiny_model
    other = _other_architecture(tmp_path, config)
    argv = [config, other, bad_files['good'], '--out-dir', str(tmp_path / 'out')]
    with pytest.raises(CheckpointMismatchError, match=MISMATCH):
        tool('infer').main(argv)
    assert not (tmp_path / 'out').exists()
    tool('infer').main(argv + ['--strict', 'off'])
    assert (tmp_path / 'out' / 'maps' / 'good.png').exists()


def test_promoter_of_another_shape_is_refused(tmp_path):
    state = _promoter_state()
    state['aspp.fuse.conv.weight'] = state['aspp.fuse.conv.weight'][:1]
    ckpt = _crafted(tmp_path / 'p.pth', {'promoter_cfg': SMALL_PROMOTER}, state)
    with pytest.raises(SalboxError, match=r'p\.pth does not fit the promoter model: 1 shape '
                       r'mismatches \(aspp\.fuse\.conv\.weight \(1,'):
        load_promoter(ckpt)
