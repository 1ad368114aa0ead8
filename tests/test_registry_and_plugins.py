"""Configs resolve salbox types without manual imports; a user's own head plugs in by
``custom_imports`` with no salbox file changed (docs/add_module.md)."""
import subprocess
import sys
import textwrap

REPO = __file__.rsplit('/tests/', 1)[0]


def _run(code: str, cwd: str, extra_path: str = '') -> subprocess.CompletedProcess:
    env_path = f'{REPO}:{extra_path}' if extra_path else REPO
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)], cwd=cwd,
                          capture_output=True, text=True, env={'PYTHONPATH': env_path,
                                                               'PATH': '/usr/bin:/bin'})


def test_types_resolve_from_a_fresh_interpreter_by_scope(tmp_path):
    """Only salbox.registry is imported: locations pull in the modules on first use."""
    result = _run('''
        from mmengine.registry import init_default_scope
        init_default_scope('salbox')
        from salbox.registry import MODELS, METRICS, TRANSFORMS, DATASETS
        print(MODELS.get('SaliencyDetector').__name__, MODELS.get('R3NetHead').__name__,
              MODELS.get('DenseCRF').__name__, MODELS.get('DeepSupervisionBCELoss').__name__)
    ''', str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['SaliencyDetector', 'R3NetHead', 'DenseCRF',
                                     'DeepSupervisionBCELoss']


def test_user_head_registered_by_custom_imports(tmp_path):
    plugin = tmp_path / 'my_project'
    plugin.mkdir()
    (plugin / '__init__.py').write_text('')
    (plugin / 'heads.py').write_text(textwrap.dedent('''
        import torch.nn as nn
        from salbox.registry import MODELS

        @MODELS.register_module()
        class OneConvHead(nn.Module):
            def __init__(self, in_channels):
                super().__init__()
                self.conv = nn.Conv2d(in_channels, 1, 1)

            def forward(self, feats):
                return [self.conv(feats[-1])]
    '''))
    (tmp_path / 'my_config.py').write_text(textwrap.dedent('''
        custom_imports = dict(imports=['my_project.heads'], allow_failed_imports=False)
        default_scope = 'salbox'
        model = dict(type='SaliencyDetector',
                     backbone=dict(type='ResNet', depth=18),
                     head=dict(type='OneConvHead', in_channels=512))
    '''))
    result = _run('''
        import torch
        from mmengine.config import Config
        from mmengine.registry import init_default_scope
        cfg = Config.fromfile('my_config.py')
        init_default_scope(cfg.default_scope)
        from salbox.registry import MODELS
        model = MODELS.build(cfg.model).eval()
        out = model(torch.zeros(1, 3, 64, 64), mode='tensor')
        print(type(model.head).__name__, tuple(out[-1].shape))
    ''', str(tmp_path), extra_path=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['OneConvHead', '(1,', '1,', '64,', '64)']
