"""End to end through the tools: train -> checkpoint -> resume -> test (maps, tables), on a tiny
version of the quick-start config. The learning check (loss falls, beats a trivial predictor)
lives in tests/integration/test_r3net_learns.py."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
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


def _exif_folder(root, size=64):
    """``rotated.jpg``: a JPEG whose stored pixels are upside down, with EXIF orientation 3
    (180 degrees), so a viewer shows it upright; ``upright.png``: exactly the pixels salbox
    decodes from it (EXIF applied), losslessly. Both masks are drawn on the upright picture."""
    from PIL import Image
    from salbox.datasets.synthetic import render_sample
    (root / 'images').mkdir(parents=True)
    (root / 'masks').mkdir()
    image, mask = render_sample(0, 7, (size, size))
    exif = Image.Exif()
    exif[0x0112] = 3
    stored = np.ascontiguousarray(image[::-1, ::-1, ::-1])  # upside down, RGB for PIL
    Image.fromarray(stored).save(root / 'images' / 'rotated.jpg', quality=95, exif=exif.tobytes())
    decoded = cv2.imread(str(root / 'images' / 'rotated.jpg'), cv2.IMREAD_COLOR)
    assert np.abs(decoded.astype(int) - image).mean() < 8  # upright after EXIF
    cv2.imwrite(str(root / 'images' / 'upright.png'), decoded)
    for stem in ('rotated', 'upright'):
        cv2.imwrite(str(root / 'masks' / f'{stem}.png'), mask)
    return decoded


def _exif_config(tmp, root):
    path = tmp / 'exif_config.py'
    path.write_text(f'''_base_ = [{CONFIG!r}]
test_dataloader = dict(batch_size=1, dataset=dict(
    _delete_=True, type='SalientObjectDataset', data_root={str(root)!r},
    data_prefix=dict(img_path='images', gt_path='masks'), img_suffix=['.jpg', '.png'],
    dataset_name='EXIF', test_mode=True, pipeline=_base_.test_pipeline))
''')
    return str(path)


def test_exif_rotated_jpeg_is_aligned_through_test_and_infer(trained):
    """With DenseCRF (the config's post-processor, which uses the image): the map of the
    EXIF-rotated JPEG equals the map of its upright pixels, panel and cut-out show the upright
    image, and the cut-out's alpha is the map."""
    tmp, work, data, _, _ = trained
    root = tmp / 'exif_data'
    upright = _exif_folder(root)
    config = _exif_config(tmp, root)
    maps, panels = tmp / 'exif_maps', tmp / 'exif_panels'
    result = _tool('test.py', config, str(work / 'iter_4.pth'), '--work-dir', str(tmp / 'ew'),
                   '--out', str(maps), '--show-dir', str(panels), cwd=tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    a = cv2.imread(str(maps / 'EXIF' / 'upright.png'), cv2.IMREAD_UNCHANGED)
    b = cv2.imread(str(maps / 'EXIF' / 'rotated.png'), cv2.IMREAD_UNCHANGED)
    assert a.shape == (64, 64) and np.array_equal(a, b)
    assert not np.array_equal(b, b[::-1, ::-1])  # a 180-degree turn would show
    panel = cv2.imread(str(panels / 'EXIF' / 'rotated.png'))
    assert np.array_equal(panel[:, :64], upright)
    out = tmp / 'exif_infer'
    result = _tool('infer.py', CONFIG, str(work / 'iter_4.pth'), str(root / 'images'),
                   '--out-dir', str(out), '--cutout', cwd=tmp)
    assert result.returncode == 0, result.stderr[-3000:]
    cut = cv2.imread(str(out / 'cutouts' / 'rotated.png'), cv2.IMREAD_UNCHANGED)
    sal = cv2.imread(str(out / 'maps' / 'rotated.png'), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(cut[..., :3], upright) and np.array_equal(cut[..., 3], sal)
    assert np.array_equal(sal, b)  # infer.py and test.py --out agree


@pytest.mark.parametrize('tool', ['test.py', 'infer.py'])
def test_tta_through_the_tools(trained, tool):
    tmp, work, data, _, _ = trained
    if tool == 'test.py':
        result = _tool('test.py', CONFIG, str(work / 'iter_4.pth'), '--tta', '--work-dir',
                       str(tmp / 'tta_work'), '--out', str(tmp / 'tta_maps'), '--cfg-options',
                       *_tiny_options(data, 4), cwd=tmp)
        assert result.returncode == 0, result.stderr[-3000:]
        assert len(list((tmp / 'tta_maps' / 'Synthetic').iterdir())) == 4
    else:
        image = sorted((data / 'test' / 'images').iterdir())[0]
        out = tmp / 'tta_infer'
        result = _tool('infer.py', CONFIG, str(work / 'iter_4.pth'), str(image), '--tta',
                       '--out-dir', str(out), cwd=tmp)
        assert result.returncode == 0, result.stderr[-3000:]
        tta_map = cv2.imread(str(out / 'maps' / f'{image.stem}.png'), cv2.IMREAD_UNCHANGED)
        from salbox.apis import inference_model, init_model
        from salbox.evaluation.functional import to_uint8
        model = init_model(CONFIG, str(work / 'iter_4.pth'))
        plain_map = to_uint8(inference_model(model, str(image)).pred_sal_map.data[0].numpy())
        assert tta_map.shape == plain_map.shape == (64, 64)
        assert not np.array_equal(tta_map, plain_map)  # six views were merged
