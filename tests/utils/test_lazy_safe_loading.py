"""``import salbox`` stays free of torch and changes nothing in mmengine; once a tool calls
``salbox.utils.mmengine_compat.enable()``, mmengine's checkpoint loading is salbox's safe
loader, in either import order. Each case runs in a fresh interpreter, since this test session
has imported torch (and switched salbox on) already."""
import os
import os.path as osp
import subprocess
import sys
import textwrap

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

SAFE_LOADING = '''
import os, sys
sys.path.insert(0, {repo!r})
{first}
from salbox.utils import mmengine_compat
mmengine_compat.enable()
import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.runner.checkpoint import _load_checkpoint

from salbox.utils.checkpoint import UnsafeCheckpointError


class RunsCode:
    def __reduce__(self):
        return (os.system, ('touch ' + {marker!r},))


hub = MessageHub.get_instance('lazy_hook')
hub.update_scalar('train/loss', 0.5)
torch.save(dict(meta=dict(iter=1, seed=np.int64(3)), message_hub=hub.state_dict()), {good!r})
torch.save(dict(state_dict=dict(w=RunsCode())), {evil!r})
# mmengine's own loading path (Runner resume / load_from, init_cfg Pretrained)
loaded = _load_checkpoint({good!r}, map_location='cpu')
assert loaded['message_hub']['log_scalars']['train/loss'].mean() == 0.5
try:
    _load_checkpoint({evil!r}, map_location='cpu')
except UnsafeCheckpointError as err:
    print('refused:', err)
'''


def _run(script):
    return subprocess.run([sys.executable, '-c', textwrap.dedent(script)], capture_output=True,
                          text=True, cwd=REPO, env=dict(os.environ, OMP_NUM_THREADS='1'))


def test_import_salbox_does_not_import_torch():
    result = _run(f'''
        import sys
        sys.path.insert(0, {REPO!r})
        import salbox, salbox.utils, salbox.evaluation, salbox.evaluation.functional
        import salbox.visualization
        heavy = sorted(m for m in ('torch', 'mmengine', 'scipy') if m in sys.modules)
        print(heavy)
    ''')
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '[]'


def test_eval_maps_import_path_is_torch_free():
    """tools/eval_maps.py imports and its curve plotting module, as ``main`` uses them."""
    result = _run(f'''
        import sys
        sys.path.insert(0, {osp.join(REPO, 'tools')!r})
        import eval_maps
        from salbox.visualization import plot_curves
        from salbox.evaluation.functional import weighted_fmeasure
        print('torch' in sys.modules, 'mmengine' in sys.modules)
    ''')
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ['False', 'False']


def test_mmengine_loads_through_salbox_once_enabled_after_importing_salbox(tmp_path):
    first = 'import salbox\nassert "torch" not in sys.modules'
    _check_safe_loading(tmp_path, first)


def test_mmengine_loads_through_salbox_once_enabled_after_importing_mmengine(tmp_path):
    _check_safe_loading(tmp_path, 'import mmengine.runner\nimport salbox')


def test_importing_salbox_changes_nothing_in_mmengine():
    """No import-time patching: mmengine's loaders and ``load_url`` stay its own until
    ``enable()``, which replaces loaders through ``CheckpointLoader.register_scheme`` only."""
    result = _run(f'''
        import sys
        sys.path.insert(0, {REPO!r})
        import salbox, salbox.registry, salbox.utils.checkpoint
        import mmengine.runner.checkpoint as ckpt
        from mmengine.runner import CheckpointLoader
        def owners():
            return [CheckpointLoader._get_checkpoint_loader(p).__module__
                    for p in ('x.pth', 'https://h/x.pth', 'torchvision://resnet18')]
        before = owners() + [ckpt.load_url.__module__]
        from salbox.utils import mmengine_compat
        mmengine_compat.enable()
        print(repr((before, owners() + [ckpt.load_url.__module__])))
    ''')
    assert result.returncode == 0, result.stderr
    before, after = eval(result.stdout.strip().splitlines()[-1])
    assert before == ['mmengine.runner.checkpoint'] * 3 + [before[3]]
    assert 'salbox' not in before[3]  # mmengine's load_url (torch.hub's)
    assert after == ['salbox.utils.mmengine_compat'] * 3 + [before[3]]


def _check_safe_loading(tmp_path, first):
    marker = tmp_path / 'pwned'
    result = _run(SAFE_LOADING.format(repo=REPO, first=first, marker=str(marker),
                                      good=str(tmp_path / 'iter_1.pth'),
                                      evil=str(tmp_path / 'evil.pth')))
    assert result.returncode == 0, result.stderr
    assert 'refused:' in result.stdout and 'evil.pth' in result.stdout
    assert not marker.exists()


def test_sod_metric_is_registered_when_a_config_names_it():
    """The registry imports salbox.evaluation.sod_metric itself (``locations``)."""
    result = _run(f'''
        import sys
        sys.path.insert(0, {REPO!r})
        from mmengine.registry import init_default_scope
        from salbox.registry import METRICS, VISUALIZERS
        init_default_scope('salbox')
        metric = METRICS.build(dict(type='SODMetric'))
        print(type(metric).__module__, VISUALIZERS.get('SalLocalVisualizer').__module__)
    ''')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ['salbox.evaluation.sod_metric',
                                     'salbox.visualization.visualizer']
