"""projects/example_project as a user runs it: its config (custom head and post-processor
registered from outside salbox through custom_imports) goes through tools/train.py and
tools/test.py --show-dir with TensorBoard enabled; the panels, the TensorBoard events and the
JSON log are then checked (and the log fed to analyze_logs.py)."""
import glob
import importlib.util
import json
import os.path as osp
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(REPO, 'projects', 'example_project')
CONFIG = osp.join(PROJECT, 'configs', 'topdown_r18_synthetic.py')
ENV = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1', 'PATH': '/usr/bin:/bin',
       'PYTHONPATH': f'{PROJECT}:{REPO}'}
SMALL = ['train_cfg.max_iters=4', 'train_cfg.val_interval=2', 'train_dataloader.batch_size=2',
         'train_dataloader.dataset.num_images=6', 'val_dataloader.dataset.num_images=3',
         'test_dataloader.dataset.num_images=3', 'default_hooks.logger.interval=1',
         'default_hooks.checkpoint.interval=2']


def _run(cwd, tool, *args):
    result = subprocess.run([sys.executable, osp.join(REPO, 'tools', tool), *map(str, args)],
                            cwd=cwd, capture_output=True, text=True, timeout=600, env=ENV)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    return result


@pytest.fixture(scope='module')
def project_run(tmp_path_factory):
    root = tmp_path_factory.mktemp('example_project')
    # A user's config on top of the project's: TensorBoard next to the local files.
    (root / 'with_tensorboard.py').write_text(textwrap.dedent(f'''
        _base_ = ['{CONFIG}']
        visualizer = dict(vis_backends=[dict(type='LocalVisBackend'),
                                        dict(type='TensorboardVisBackend')])
    '''))
    config = root / 'with_tensorboard.py'
    _run(root, 'train.py', config, '--work-dir', root / 'train', '--cfg-options', *SMALL)
    _run(root, 'test.py', config, root / 'train' / 'iter_4.pth', '--work-dir', root / 'test',
         '--out', root / 'maps', '--show-dir', root / 'panels', '--cfg-options', *SMALL)
    return root


def test_training_uses_the_plugin_head(project_run):
    checkpoint = torch.load(project_run / 'train' / 'iter_4.pth', map_location='cpu',
                            weights_only=False)
    keys = checkpoint['state_dict'].keys()
    assert {'head.laterals.4.weight', 'head.classifiers.0.weight'} <= set(keys)
    assert glob.glob(str(project_run / 'train' / 'best_maxF_iter_*.pth'))


def test_show_dir_panels_hold_image_truth_and_prediction(project_run):
    panels = sorted(glob.glob(str(project_run / 'panels' / '*' / '*.png')))
    assert len(panels) == 3
    dataset, stem = panels[0].split(osp.sep)[-2], osp.splitext(osp.basename(panels[0]))[0]
    image = cv2.imread(glob.glob(str(project_run / 'data/synthetic/test/images' /
                                     f'{stem}.*'))[0])
    mask = cv2.imread(str(project_run / 'data/synthetic/test/masks' / f'{stem}.png'), 0)
    prediction = cv2.imread(str(project_run / 'maps' / dataset / f'{stem}.png'), 0)
    panel = cv2.imread(panels[0])
    h, w = mask.shape
    assert panel.shape == (16 + h, 4 * w, 3)  # captions; image | truth | prediction | overlay
    assert np.array_equal(panel[16:, :w], image)
    assert np.abs(panel[16:, w:2 * w, 0].astype(int) - mask).max() <= 1
    assert np.array_equal(panel[16:, 2 * w:3 * w, 0], prediction)  # == tools/test.py --out


def test_plugin_postprocessor_ran(project_run):
    """LargestComponent leaves at most one region at or above its 0.5 threshold."""
    maps = glob.glob(str(project_run / 'maps' / '*' / '*.png'))
    assert len(maps) == 3
    for path in maps:
        count, _ = cv2.connectedComponents((cv2.imread(path, 0) >= 128).astype(np.uint8))
        assert count <= 2, path


def test_tensorboard_gets_losses_metrics_and_panels(project_run):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    def events(work_dir):
        folder = glob.glob(str(project_run / work_dir / '*' / 'vis_data'))[0]
        accumulator = EventAccumulator(folder, size_guidance={'images': 0, 'scalars': 0})
        accumulator.Reload()
        return accumulator

    train = events('train')
    assert [e.step for e in train.Scalars('loss')] == [1, 2, 3, 4]
    assert [e.step for e in train.Scalars('maxF')] == [2, 4]
    test = events('test')
    assert len(test.Tags()['images']) == 3
    assert {'test/maxF', 'test/MAE'} <= set(test.Tags()['scalars'])
    log = glob.glob(str(project_run / 'test' / '[0-9]*' / '[0-9]*.json'))[0]  # mmengine's
    metrics = json.loads(open(log).read())
    assert test.Scalars('test/maxF')[0].value == pytest.approx(metrics['maxF'], abs=1e-6)


def test_analyze_logs_reads_the_training_log(project_run, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        'analyze_logs', osp.join(REPO, 'tools/analysis_tools/analyze_logs.py'))
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    log = tool.resolve_log(str(project_run / 'train'))
    records = tool.load_log(log)
    assert tool.series(records, 'maxF')['step'].tolist() == [2, 4]
    tool.main(['plot_curve', str(project_run / 'train'), '--keys', 'loss', 'maxF',
               '--out', str(tmp_path / 'curves.png')])
    assert cv2.imread(str(tmp_path / 'curves.png')) is not None
    tool.main(['cal_train_time', log])
    assert 'average iteration time:' in capsys.readouterr().out


def test_plugin_modules_directly():
    sys.path.insert(0, PROJECT)
    try:
        from example_project import LargestComponent, TopDownHead
    finally:
        sys.path.remove(PROJECT)
    head = TopDownHead(in_channels=(8, 16), channels=4)
    logits = head([torch.zeros(1, 8, 16, 16), torch.zeros(1, 16, 8, 8)])
    assert [tuple(x.shape) for x in logits] == [(1, 1, 8, 8), (1, 1, 16, 16)]
    sal = torch.zeros(1, 10, 10)
    sal[0, 1:5, 1:5] = 0.9   # 16 pixels: kept
    sal[0, 7:9, 7:9] = 0.8   # 4 pixels, separate: removed
    sal[0, 0, 9] = 0.3       # below the threshold: left alone
    out = LargestComponent(threshold=0.5).postprocess(torch.zeros(3, 10, 10, dtype=torch.uint8),
                                                      sal)
    expected = torch.zeros(1, 10, 10)
    expected[0, 1:5, 1:5] = 0.9
    expected[0, 0, 9] = 0.3
    assert torch.equal(out, expected)


REFINER_CONFIG = osp.join(PROJECT, 'configs', 'residual_refiner_synthetic.py')


def test_plugin_refiner_through_its_config(tmp_path):
    """configs/residual_refiner_synthetic.py: custom_imports registers ResidualRefiner, the
    RefinedDetector trains it (only the refiner gets gradients) and tests with refine(); in a
    fresh interpreter, so salbox's registry here stays as it was."""
    script = textwrap.dedent(f'''
        import torch
        from mmengine.config import Config
        from mmengine.dataset import pseudo_collate
        from mmengine.registry import init_default_scope
        from mmengine.utils import import_modules_from_strings
        from salbox.registry import DATASETS, MODELS
        from salbox.models.refiners import BaseRefiner
        cfg = Config.fromfile({REFINER_CONFIG!r})
        import_modules_from_strings(**cfg.custom_imports)
        init_default_scope('salbox')
        torch.manual_seed(0)
        model = MODELS.build(cfg.model)
        model.init_weights()
        assert type(model.refiner).__name__ == 'ResidualRefiner'
        assert isinstance(model.refiner, BaseRefiner)
        train = dict(cfg.train_dataloader.dataset, num_images=2, data_root='data')
        test = dict(cfg.test_dataloader.dataset, num_images=1, data_root='data')
        batch = pseudo_collate([DATASETS.build(train)[i] for i in range(2)])
        model.train()
        losses = model(**model.data_preprocessor(batch, True), mode='loss')
        loss = sum(losses.values())
        loss.backward()
        assert model.refiner.correction.weight.grad.abs().sum() > 0
        model.eval()
        with torch.no_grad():
            out = model.test_step(pseudo_collate([DATASETS.build(test)[0]]))[0]
        prior, refined = out.prior_sal_map.data, out.pred_sal_map.data
        # an untrained ResidualRefiner returns its prior (the correction starts at zero)
        assert torch.allclose(refined, prior.clamp(1e-4, 1 - 1e-4), atol=1e-5)
        print('ok', refined.shape[-2:])
    ''')
    result = subprocess.run([sys.executable, '-c', script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600, env=ENV)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == 'ok torch.Size([160, 160])'
