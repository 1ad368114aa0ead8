"""Config mistakes: misspelt top-level keys are named, mmengine's build errors become one line,
and other exceptions keep their traceback."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config

from salbox.apis.build_errors import describe_build_error
from salbox.apis.config_keys import config_variables, unknown_key_warnings
from salbox.apis.runner_utils import load_config, run_friendly
from salbox.registry import MODELS
from salbox.utils import register_all_modules

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
                 + glob.glob(osp.join(REPO, 'projects', '*', 'configs', '**', '*.py'),
                             recursive=True))


def test_every_shipped_config_has_only_known_top_level_keys():
    assert len(CONFIGS) > 20
    for path in CONFIGS:
        cfg = Config.fromfile(path, import_custom_modules=False)  # projects' own packages
        assert unknown_key_warnings(cfg.keys(), path, config_variables(path)) == [], path


@pytest.mark.parametrize('key, expected', [
    ('trian_cfg', "unknown top-level key 'trian_cfg' is ignored; did you mean 'train_cfg'?"),
    ('val_evaluater',
     "unknown top-level key 'val_evaluater' is ignored; did you mean 'val_evaluator'?"),
    ('lr_config', "'lr_config' is an MMCV 1.x setting that MMEngine ignores; use "
                  'param_scheduler'),
    ('my_loop_cfg', "unknown top-level key 'my_loop_cfg' is not read by the Runner or salbox"),
])
def test_misspelt_top_level_key_is_named_with_the_closest_known_key(tmp_path, capsys, key,
                                                                    expected):
    config = tmp_path / 'typo.py'
    config.write_text(f"_base_ = '{REPO}/configs/r3net/r3net_resnet18_synthetic.py'\n"
                      f'{key} = dict(max_iters=3)\ncrop_size = 224\n')
    load_config(str(config))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f'warning: {config}: ') and expected in err[0]


def test_inference_api_names_a_misspelt_top_level_key(tmp_path, capsys):
    """tools/infer.py builds its model through ``init_model``, not ``load_config``."""
    from salbox.apis.inference import init_model
    config = tmp_path / 'typo.py'
    config.write_text(f"_base_ = '{REPO}/configs/r3net/r3net_resnet18_synthetic.py'\n"
                      'tset_pipeline = []\n')
    init_model(str(config))
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"warning: {config}: unknown top-level key 'tset_pipeline' is ignored; "
                   "did you mean 'test_pipeline'?"]


def test_names_the_config_reads_are_its_variables(tmp_path, capsys):
    """A key read by the config's own files (here or through ``_base_.name``) is a variable;
    an unread key that looks like a Runner option is still named."""
    base = tmp_path / 'base.py'
    base.write_text(f"_base_ = '{REPO}/configs/r3net/r3net_resnet18_synthetic.py'\n"
                    'crop_cfg = dict(size=64)\nslide_cfg = dict(stride=32)\n'
                    'model = dict(test_cfg=slide_cfg)\n')
    config = tmp_path / 'child.py'
    config.write_text("_base_ = './base.py'\nsize_cfg = _base_.crop_cfg\nextra_cfg = 3\n"
                      'model = dict(test_cfg=size_cfg)\n')
    assert {'crop_cfg', 'slide_cfg', 'size_cfg', 'test_pipeline'} <= config_variables(
        str(config))
    load_config(str(config))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown top-level key 'extra_cfg' is not read" in err[0], err


def _error_of(build):
    with pytest.raises(Exception) as info:
        build()
    return info.value


def _model_cfg(**changes):
    register_all_modules()
    cfg = Config.fromfile(osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')).model
    for dotted, value in changes.items():
        node = cfg
        *path, last = dotted.split('__')
        for name in path:
            node = node[name]
        node[last] = value
    return cfg


def test_build_errors_name_type_registry_class_and_key():
    error = _error_of(lambda: MODELS.build(_model_cfg(neck__type='R3NetNek')))
    assert describe_build_error(error) == (
        "unknown type 'R3NetNek' in the salbox::model registry (config key type=...); "
        "did you mean 'R3NetNeck', 'R3NetHead'?")
    # A keyword passed on through SaliencyDetector(**kwargs) to mmengine's BaseModel.
    error = _error_of(lambda: MODELS.build(_model_cfg(nek=dict(type='R3NetNeck'))))
    assert describe_build_error(error) == (
        "SaliencyDetector (salbox::model registry) got an unknown config key 'nek'; "
        "did you mean 'neck'?")


def _takes_nothing():
    pass


class _BuggyModule:
    """Raises a TypeError and a KeyError of its own: programming errors, not config ones."""

    def __init__(self, kind='type', extra=None, **kwargs):
        if kind == 'type':
            len(5)
        if kind == 'key':
            {}['missing']
        if kind == 'call':
            dict(**kwargs).update(1, 2)
        if kind == 'keyword':  # a bad keyword in the code, not in the config
            _takes_nothing(bogus=1)


@pytest.mark.parametrize('kind', ['type', 'key', 'call', 'keyword'])
def test_programming_errors_keep_their_traceback(kind, capsys):
    cfg = dict(type=_BuggyModule, kind=kind, extra=1, more=2)  # by class: no registration
    error = _error_of(lambda: MODELS.build(cfg))
    assert describe_build_error(error) is None
    with pytest.raises(type(error)):
        run_friendly(lambda: MODELS.build(cfg))
    assert 'error:' not in capsys.readouterr().err


def test_run_friendly_prints_one_line_and_debug_reraises(capsys, monkeypatch):
    cfg = _model_cfg(backbone__depht=18)
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)
    with pytest.raises(SystemExit) as info:
        run_friendly(lambda: MODELS.build(cfg))
    assert info.value.code == 1
    assert capsys.readouterr().err == (
        "error: ResNet (salbox::model registry) got an unknown config key 'depht'; did you "
        "mean 'depth'? (SALBOX_DEBUG=1 shows the traceback)\n")
    monkeypatch.setenv('SALBOX_DEBUG', '1')
    with pytest.raises(TypeError, match='depht'):
        run_friendly(lambda: MODELS.build(cfg))
