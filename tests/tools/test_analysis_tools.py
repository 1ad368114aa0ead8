"""The analysis tools run as a user runs them (subprocess, generated data), checked against
independent computations: parameter and convolution counts from the built model, dataset panels
against the files on disk, log statistics against the numbers written into the log."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
R18 = osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')
BRN = osp.join(REPO, 'configs/dgrl/dgrl_brn_synthetic.py')
ENV = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PATH': '/usr/bin:/bin',
       'PYTHONPATH': REPO}


def _tool(path, *args, cwd=None):
    result = subprocess.run([sys.executable, osp.join(REPO, path), *map(str, args)],
                            cwd=cwd, capture_output=True, text=True, timeout=300, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def _load_tool(path):
    """A tool's module, for the variations checked in-process (one subprocess per tool is
    enough to show it runs as a user runs it; interpreter start-up is the slow part)."""
    import importlib.util
    name = 'tool_' + osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, path))
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, osp.dirname(osp.join(REPO, path)))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
    return module


def _r18_model():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from salbox.registry import MODELS
    init_default_scope('salbox')
    return MODELS.build(Config.fromfile(R18).model).eval()


def _conv_macs(model, size):
    """Multiply-adds of the convolutions, from each layer's output shape (independent of the
    tools' own counter)."""
    total = []
    hooks = [m.register_forward_hook(lambda m, a, out: total.append(
        out.numel() * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]))
        for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size), mode='tensor')
    for hook in hooks:
        hook.remove()
    return sum(total)


def test_benchmark_counts_parameters_and_flops(tmp_path):
    out = tmp_path / 'rows.json'
    result = _tool('tools/analysis_tools/benchmark.py', R18, '--shape', 64, 64,
                   '--batch-size', 2, '--warmup', 1, '--iters', 1, '--out-json', out)
    row = json.loads(out.read_text())[0]
    model = _r18_model()
    assert row['params'] == sum(p.numel() for p in model.parameters()) == 12_084_478
    macs = _conv_macs(model, 64)
    # Convolutions dominate; BN, bilinear resizes and pooling add a few per cent on top.
    assert row['flops_exact'] and macs <= row['flops'] <= 1.1 * macs
    assert row['fps_1'] > 0 and row['fps_n'] > 0
    lines = result.stdout.splitlines()
    assert '| config | input | params | FLOPs | img/s (batch 1) | img/s (batch 2) |' in lines
    assert any(line.startswith('| `configs/r3net/r3net_resnet18_synthetic.py` | 64x64 | '
                               '12.08 M |') for line in lines)


def test_get_flops_falls_back_when_tracing_fails():
    """The BRN's propagation op cannot be JIT-traced: the hook counter gives a lower bound."""
    result = _tool('tools/analysis_tools/get_flops.py', BRN, '--shape', 48)
    assert 'Input shape: (3, 48, 48)' in result.stdout
    assert 'Flops: >= ' in result.stdout and 'Conv2d/Linear layers are counted' in result.stdout
    params = [line for line in result.stdout.splitlines() if line.startswith('Params: ')][0]
    from mmengine.config import Config
    from salbox.registry import MODELS
    brn = MODELS.build(Config.fromfile(BRN).model)
    assert f'{sum(p.numel() for p in brn.parameters()):,}' in params


def test_flop_counter_counts_baddbmm_like_bmm():
    """The MI promoter's factored fusion sums its resized projections with ``baddbmm_``."""
    class Products(nn.Module):
        def forward(self, x):
            out = torch.bmm(x, x.transpose(1, 2))  # (4, 6, 6): 4*6*5*6 = 720
            out.baddbmm_(x, x.transpose(1, 2))  # + 720
            return torch.baddbmm(out, x, x.transpose(1, 2))  # + 720

    tool = _load_tool('tools/analysis_tools/benchmark.py')
    tool.count_extra_ops()
    from mmengine.analysis import FlopAnalyzer
    analyzer = FlopAnalyzer(Products(), (torch.randn(4, 6, 5), ))
    assert analyzer.total() == 3 * 720


def test_flop_counter_counts_fused_attention_as_it_runs():
    """ARN's fused self-attention is counted with its two products; the fused path pads query
    and key from C1 to C channels (salbox/models/layers/self_attention.py), so it counts
    B N^2 (C - C1) more than the explicit form."""
    from salbox.models.layers.self_attention import SelfAttention2d
    tool = _load_tool('tools/analysis_tools/benchmark.py')
    tool.count_extra_ops()
    from mmengine.analysis import FlopAnalyzer
    batch, channels, positions = 2, 16, 6 * 5
    x = torch.randn(batch, channels, 6, 5)
    totals = {}
    for impl in ('fused', 'explicit'):
        layer = SelfAttention2d(channels, reduction=8, impl=impl).eval()
        totals[impl] = FlopAnalyzer(layer, (x, )).total()
    assert totals['fused'] - totals['explicit'] == batch * positions ** 2 * (channels - 2)


def test_all_configs_mode_updates_only_the_marked_table(tmp_path, capsys):
    configs = tmp_path / 'configs'
    configs.mkdir()
    (configs / 'small.py').write_text(f"_base_ = ['{R18}']\n")
    (configs / 'broken.py').write_text("_base_ = ['does_not_exist.py']\n")
    (configs / 'needs_weights.py').write_text(
        f"_base_ = ['{R18}']\nmodel = dict(postprocessors=[dict(type='NeedsWeightsStub')])\n")
    from salbox.models.postprocessors.base import BasePostProcessor
    from salbox.registry import MODELS
    from salbox.utils.errors import SalboxError

    @MODELS.register_module()
    class NeedsWeightsStub(BasePostProcessor):  # a learned post-processor not trained yet
        def __init__(self):
            raise SalboxError('checkpoint not found: promoter.pth')

    doc = tmp_path / 'zoo.md'
    doc.write_text('# Zoo\nbefore\n<!-- benchmark-table:start -->\nold\n'
                   '<!-- benchmark-table:end -->\nafter\n')
    try:
        _load_tool('tools/analysis_tools/benchmark.py').main(
            ['--all-configs', str(configs), '--shape', '32', '--flops-only', '--update-doc',
             str(doc)])
    finally:  # leave the global registry as it was
        MODELS._module_dict.pop('NeedsWeightsStub')
    text = doc.read_text()
    assert text.startswith('# Zoo\nbefore\n<!-- benchmark-table:start -->\nMeasured with')
    assert text.endswith('<!-- benchmark-table:end -->\nafter\n') and '\nold\n' not in text
    small = [line for line in text.splitlines() if 'small.py' in line][0]
    broken = [line for line in text.splitlines() if 'broken.py' in line][0]
    assert '| 32x32 | 12.08 M |' in small and '| - | - |' in small
    assert 'error:' in broken
    stub = [line for line in text.splitlines() if 'needs_weights.py' in line][0]
    assert '| 12.08 M (no post-processors) |' in stub  # tensor mode never runs them


def test_print_config_applies_options_and_saves(tmp_path):
    saved = tmp_path / 'full.py'
    result = _tool('tools/misc/print_config.py', R18, '--cfg-options', 'train_cfg.max_iters=7',
                   'model.head.channels=16', '--save-path', saved)
    assert 'max_iters=7' in result.stdout and "type='R3NetHead'" in result.stdout
    from mmengine.config import Config
    cfg = Config.fromfile(str(saved))
    assert cfg.train_cfg.max_iters == 7 and cfg.model.head.channels == 16
    assert cfg.train_dataloader.dataset.type == 'SyntheticSalDataset'  # inherited


def test_browse_dataset_panels_match_the_files(tmp_path):
    """Test phase (no augmentation): the panel's halves are the image (RGB) and the mask."""
    options = ['--cfg-options', 'test_dataloader.dataset.num_images=3',
               'train_dataloader.dataset.num_images=3']
    _tool('tools/analysis_tools/browse_dataset.py', R18, '--phase', 'test', '--num', 2,
          '--output-dir', tmp_path / 'test_panels', *options, cwd=tmp_path)
    panels = sorted((tmp_path / 'test_panels').iterdir())
    assert [p.name for p in panels] == ['0000_000000.png', '0001_000001.png']
    image = cv2.imread(str(tmp_path / 'data/synthetic/test/images/000000.jpg'))
    mask = cv2.imread(str(tmp_path / 'data/synthetic/test/masks/000000.png'), 0)
    panel = cv2.imread(str(panels[0]))  # BGR on disk, like the image file
    h, w = mask.shape
    assert panel.shape == (h, 2 * w, 3)  # image | ground truth
    assert np.array_equal(panel[:, :w], image)
    assert np.abs(panel[:, w:, 0].astype(int) - mask).max() <= 1
    # Train phase: the configured 144-pixel crops, augmented.
    _load_tool('tools/analysis_tools/browse_dataset.py').main(
        [R18, '--num', '3', '--output-dir', str(tmp_path / 'train_panels'), *options,
         f'train_dataloader.dataset.data_root={tmp_path}/data/synthetic'])
    train = [cv2.imread(str(p)) for p in sorted((tmp_path / 'train_panels').iterdir())]
    assert len(train) == 3 and all(p.shape == (144, 288, 3) for p in train)


def _write_log(path, records):
    path.parent.mkdir(parents=True)
    path.write_text(''.join(json.dumps(r) + '\n' for r in records))


def test_analyze_logs_plots_and_times(tmp_path, capsys):
    train = [dict(lr=0.01, loss=1.0 / (i + 1), time=0.5 + 0.1 * i, iter=10 * (i + 1),
                  step=10 * (i + 1)) for i in range(6)]
    val = [dict(maxF=0.5, step=30), dict(maxF=0.7, step=60)]
    log = tmp_path / 'work' / '20260101_000000' / 'vis_data' / 'scalars.json'
    _write_log(log, train[:3] + val[:1] + train[3:] + val[1:])
    figure = tmp_path / 'curves.png'
    result = _tool('tools/analysis_tools/analyze_logs.py', 'plot_curve', tmp_path / 'work',
                   '--keys', 'loss', 'maxF', '--out', figure)
    assert 'saved the curves' in result.stdout
    image = cv2.imread(str(figure))
    assert image is not None and image.shape[1] > image.shape[0]  # two panels side by side
    tool = _load_tool('tools/analysis_tools/analyze_logs.py')
    tool.main(['cal_train_time', str(log)])
    out = capsys.readouterr().out
    times = [r['time'] for r in train[1:]]  # the first interval is start-up
    assert f'average iteration time: {np.mean(times):.4f} s/iter' in out
    assert 'slowest iteration: 60, 1.0000 s/iter' in out
    from salbox.utils.errors import SalboxError
    with pytest.raises(SalboxError, match="no log has the key 'mIoU'; keys found: iter, loss"):
        tool.main(['plot_curve', str(log), '--keys', 'mIoU', '--out', str(figure)])
