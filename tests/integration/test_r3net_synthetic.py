"""End to end through the tools: train -> checkpoint -> resume -> test (maps, tables), on a tiny
version of the quick-start config. The learning check (loss falls, beats a trivial predictor)
lives in tests/integration/test_r3net_learns.py."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs/r3net/r3net_resnet18_synthetic.py')


def _tiny_options(data_root, iters):
    return [
        f'train_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}',
        'train_dataloader.dataset.num_images=8', 'test_dataloader.dataset.num_images=4',
        'train_dataloader.dataset.img_size=[64,64]', 'test_dataloader.dataset.img_size=[64,64]',
        'train_dataloader.dataset.pipeline.2.size=56', 'train_dataloader.batch_size=2',
        'test_dataloader.batch_size=2',
        f'train_cfg.max_iters={iters}', f'param_scheduler.0.end={iters}',
        'default_hooks.checkpoint.interval=2', 'default_hooks.checkpoint.max_keep_ckpts=3',
        'default_hooks.logger.interval=1',
    ]


def _tool(name, *args, cwd):
    result = subprocess.run([sys.executable, osp.join(REPO, 'tools', name), *args], cwd=cwd,
                            capture_output=True, text=True, timeout=600)
    return result


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('r3net_e2e')
    work, data = tmp / 'work', tmp / 'data'
    first = _tool('train.py', CONFIG, '--work-dir', str(work), '--cfg-options',
                  *_tiny_options(data, 2), cwd=tmp)
    assert first.returncode == 0, first.stderr[-3000:]
    assert osp.isfile(work / 'iter_2.pth')
    resumed = _tool('train.py', CONFIG, '--work-dir', str(work), '--resume', '--cfg-options',
                    *_tiny_options(data, 4), cwd=tmp)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    return tmp, work, data, first.stdout + first.stderr, resumed.stdout + resumed.stderr


def test_resume_continues_from_the_saved_iteration(trained):
    _, work, _, _, resumed_log = trained
    assert 'resumed epoch: 0, iter: 2' in resumed_log
    assert 'Iter(train) [3/4]' in resumed_log and 'Iter(train) [1/4]' not in resumed_log
    assert osp.isfile(work / 'iter_4.pth')


def test_test_tool_writes_maps_tables_and_panels(trained):
    tmp, work, data, _, _ = trained
    maps, panels = tmp / 'maps', tmp / 'panels'
    result = _tool('test.py', CONFIG, str(work / 'iter_4.pth'), '--work-dir', str(work),
                   '--out', str(maps), '--show-dir', str(panels), '--cfg-options',
                   *_tiny_options(data, 4), cwd=tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    written = sorted(p.name for p in (maps / 'Synthetic').iterdir())
    images = sorted(p.stem + '.png' for p in (data / 'test' / 'images').iterdir())
    assert written == images and len(written) == 4
    saved = cv2.imread(str(maps / 'Synthetic' / written[0]), cv2.IMREAD_UNCHANGED)
    assert saved.dtype == 'uint8' and saved.shape == (64, 64)
    panel = cv2.imread(str(panels / 'Synthetic' / written[0]))
    assert panel.shape == (64, 64 * 3, 3)
    table = json.loads((work / 'results' / 'results.json').read_text())
    assert 'Synthetic' in json.dumps(table) and 'maxF' in json.dumps(table)


def test_missing_checkpoint_is_one_clear_line(tmp_path):
    result = _tool('test.py', CONFIG, str(tmp_path / 'nope.pth'), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f'error: checkpoint not found: '
                                                  f'{tmp_path / "nope.pth"}']


def test_infer_tool_writes_maps_and_cutouts_and_resumes(trained):
    tmp, work, data, _, _ = trained
    out = tmp / 'infer_out'
    images = data / 'test' / 'images'
    args = [CONFIG, str(work / 'iter_4.pth'), str(images), '--out-dir', str(out), '--cutout']
    result = _tool('infer.py', *args, cwd=tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    names = sorted(p.stem for p in images.iterdir())
    assert sorted(p.stem for p in (out / 'maps').iterdir()) == names
    cut = cv2.imread(str(out / 'cutouts' / f'{names[0]}.png'), cv2.IMREAD_UNCHANGED)
    sal = cv2.imread(str(out / 'maps' / f'{names[0]}.png'), cv2.IMREAD_UNCHANGED)
    photo = cv2.imread(str(images / f'{names[0]}.jpg'))
    assert cut.shape == (64, 64, 4)
    assert (cut[..., :3] == photo).all() and (cut[..., 3] == sal).all()
    # A second run finds everything done and writes nothing new.
    before = {p: p.stat().st_mtime_ns for p in (out / 'maps').iterdir()}
    again = _tool('infer.py', *args, cwd=tmp)
    assert again.returncode == 0
    assert {p: p.stat().st_mtime_ns for p in (out / 'maps').iterdir()} == before


def test_inference_api_gives_the_same_map_for_a_path_and_an_array(trained):
    from salbox.apis import inference_model, init_model
    tmp, work, data, _, _ = trained
    path = sorted((data / 'test' / 'images').iterdir())[0]
    model = init_model(CONFIG, str(work / 'iter_4.pth'))
    from_path = inference_model(model, str(path)).pred_sal_map.data
    from_array = inference_model(model, cv2.imread(str(path))).pred_sal_map.data
    assert from_path.shape == (1, 64, 64)
    assert torch.allclose(from_path, from_array, atol=1e-6)
