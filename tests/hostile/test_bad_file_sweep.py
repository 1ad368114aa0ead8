"""A sweep of bad files through every entry point that reads them: the dataset scan and loader,
tools/eval_maps.py, tools/infer.py and tools/test.py (their ``main(argv)``, in-process), plus
bad configs (unknown registry type, misspelt key). Folder runs must name EVERY bad file at the
end, not stop at the first; documented conversions must give aligned, correctly sized output."""
import json
import os
import os.path as osp
import shutil
import sys

import cv2
import numpy as np
import pytest
from hostile_files import H, W, dataset_folder, mask_array

from salbox.datasets import SalientObjectDataset
from salbox.utils.errors import DataError, DatasetNotFoundError

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools'))

import eval_maps  # noqa: E402
import infer  # noqa: E402

SEPARATE = dict(img_path='images', gt_path='masks')
# kinds that are refused when read, and the ones converted
UNREADABLE = ('truncated_jpeg', 'truncated_png', 'zero_bytes', 'not_an_image')
CONVERTED = ('good', 'png_named_jpg', 'palette', '16bit', 'cmyk', 'rgba', 'grey')
TEST_PIPELINE = [dict(type='LoadSalImageFromFile'), dict(type='LoadSalAnnotation'),
                 dict(type='PackSalInputs', keep_ori_img=True)]


_dataset_folder = dataset_folder


# --- datasets --------------------------------------------------------------------------------

def test_dataset_scan_lists_every_bad_file(tmp_path, bad_files, huge_png):
    root = _dataset_folder(str(tmp_path / 'data'), ('good', 'zero_bytes', 'not_an_image',
                                                    'other_size', 'exif_rotated'), bad_files)
    shutil.copy(huge_png, osp.join(root, 'images', 'huge.png'))
    cv2.imwrite(osp.join(root, 'masks', 'huge.png'), np.zeros((4, 4), np.uint8))
    with pytest.raises(DataError) as info:
        SalientObjectDataset(data_root=root, data_prefix=SEPARATE,
                             img_suffix=['.jpg', '.png'])
    text = str(info.value)
    for name in ('zero_bytes.jpg', 'not_an_image.png', 'other_size.png', 'huge.png'):
        assert name in text, (name, text)
    assert 'exif_rotated' not in text and 'good' not in text  # an oriented size matches
    assert text.splitlines()[0].startswith('data: 6 pairs scanned')


def test_dataset_loads_converted_kinds_aligned_and_names_truncated_files(tmp_path, bad_files):
    kinds = CONVERTED + ('exif_rotated', 'truncated_jpeg', 'truncated_png')
    root = _dataset_folder(str(tmp_path / 'data'), kinds, bad_files)
    dataset = SalientObjectDataset(data_root=root, data_prefix=SEPARATE,
                                   img_suffix=['.jpg', '.png'], pipeline=TEST_PIPELINE,
                                   test_mode=True)
    failures = []
    for index in range(len(dataset)):
        path = dataset.get_data_info(index)['img_path']
        try:
            sample = dataset[index]['data_samples']
        except DataError as error:
            assert path in str(error)
            failures.append(osp.basename(path))
            continue
        shape = (W, H) if 'exif' in path else (H, W)
        assert tuple(sample.ori_img.data.shape[1:]) == shape
        assert tuple(sample.gt_sal_map.data.shape[1:]) == shape
    assert sorted(failures) == ['truncated_jpeg.jpg', 'truncated_png.png']


def test_missing_and_empty_folders(tmp_path):
    with pytest.raises(DatasetNotFoundError, match='image folder not found: .*nowhere/images'):
        SalientObjectDataset(data_root=str(tmp_path / 'nowhere'), data_prefix=SEPARATE)
    os.makedirs(tmp_path / 'empty' / 'images')
    os.makedirs(tmp_path / 'empty' / 'masks')
    with pytest.raises(DatasetNotFoundError, match=r'no \.jpg images in .*empty/images'):
        SalientObjectDataset(data_root=str(tmp_path / 'empty'), data_prefix=SEPARATE)


# --- tools/eval_maps.py ------------------------------------------------------------------------

def _map_folders(tmp_path, bad_files):
    gt_dir, pred_dir = tmp_path / 'gt', tmp_path / 'pred'
    gt_dir.mkdir()
    pred_dir.mkdir()
    for i in range(3):
        cv2.imwrite(str(gt_dir / f'ok{i}.png'), mask_array())
        cv2.imwrite(str(pred_dir / f'ok{i}.png'), cv2.GaussianBlur(mask_array(), (5, 5), 2))
    for kind in ('palette', '16bit', 'rgba'):  # colour / deep maps: converted to 8-bit grey
        cv2.imwrite(str(gt_dir / f'{kind}.png'), mask_array())
        shutil.copy(bad_files[kind], pred_dir / f'{kind}.png')
    for kind in ('zero_bytes', 'truncated_png', 'not_an_image'):
        cv2.imwrite(str(gt_dir / f'{kind}.png'), mask_array())
        shutil.copy(bad_files[kind], pred_dir / f'{kind}.png')
    shutil.copy(bad_files['truncated_png'], gt_dir / 'bad_mask.png')
    cv2.imwrite(str(pred_dir / 'bad_mask.png'), mask_array())
    return str(gt_dir), str(pred_dir)


def test_eval_maps_lists_every_unreadable_file(tmp_path, bad_files, capsys):
    gt_dir, pred_dir = _map_folders(tmp_path, bad_files)
    out = tmp_path / 'out'
    argv = ['--gt', f'D={gt_dir}', '--pred', f'M=D:{pred_dir}', '--out', str(out),
            '--no-progress', '--no-plot']
    assert eval_maps.main(argv) == 2
    err = capsys.readouterr().err
    bad = [osp.join(pred_dir, f'{k}.png') for k in ('zero_bytes', 'truncated_png',
                                                     'not_an_image')]
    bad.append(osp.join(gt_dir, 'bad_mask.png'))
    for path in bad:
        assert path in err, (path, err)
    assert '4 unreadable files' in err
    problems = json.loads((out / 'problems.json').read_text())
    assert len(problems[0]['unreadable']) == 4
    # --skip-missing evaluates the 6 readable pairs and still names the bad files.
    assert eval_maps.main(argv + ['--skip-missing']) == 0
    err = capsys.readouterr().err
    assert all(path in err for path in bad)
    assert json.loads((out / 'results.json').read_text())['D']['M']['MAE'] >= 0


def test_eval_maps_missing_and_empty_folders(tmp_path, capsys):
    (tmp_path / 'empty').mkdir()
    (tmp_path / 'gt').mkdir()
    cv2.imwrite(str(tmp_path / 'gt' / 'a.png'), mask_array())
    base = ['--out', str(tmp_path / 'o'), '--no-progress']
    assert eval_maps.main(['--gt', f'D={tmp_path}/nope', '--pred', f'M=D:{tmp_path}/gt']
                          + base) == 2
    assert 'folder not found' in capsys.readouterr().err
    assert eval_maps.main(['--gt', f'D={tmp_path}/gt', '--pred', f'M=D:{tmp_path}/empty']
                          + base) == 2
    assert "no map ending with '.png'" in capsys.readouterr().err


# --- tools/infer.py and tools/test.py with a tiny model ------------------------------------------

def test_infer_writes_converted_kinds_and_lists_every_bad_image(tmp_path, bad_files, huge_png,
                                                                tiny_model, capsys):
    config, checkpoint, _ = tiny_model
    folder = tmp_path / 'photos'
    folder.mkdir()
    for kind in CONVERTED + ('exif_rotated', ) + UNREADABLE:
        shutil.copy(bad_files[kind], folder / osp.basename(bad_files[kind]))
    shutil.copy(huge_png, folder / 'huge.png')
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as info:
        infer.main([config, checkpoint, str(folder), '--out-dir', str(out), '--cutout'])
    assert info.value.code == 1
    err = capsys.readouterr().err
    for kind in UNREADABLE:
        assert str(folder / osp.basename(bad_files[kind])) in err, (kind, err)
    assert str(folder / 'huge.png') in err
    for kind in CONVERTED + ('exif_rotated', ):
        stem = osp.splitext(osp.basename(bad_files[kind]))[0]
        saliency = cv2.imread(str(out / 'maps' / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert saliency is not None, kind
        assert saliency.shape == ((W, H) if kind == 'exif_rotated' else (H, W)), kind
        cut = cv2.imread(str(out / 'cutouts' / f'{stem}.png'), cv2.IMREAD_UNCHANGED)
        assert cut.shape[:2] == saliency.shape and cut.shape[2] == 4


def _run_test_tool(argv):
    """tools/test.py's main, loaded by path (``test`` is also a standard-library package)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location('salbox_tools_test',
                                                  osp.join(REPO, 'tools', 'test.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


def test_test_tool_names_the_bad_files(tmp_path, bad_files, tiny_model):
    config, checkpoint, data = tiny_model
    if osp.isdir(data):
        shutil.rmtree(data)
    _dataset_folder(data, ('good', 'zero_bytes', 'other_size'), bad_files)
    with pytest.raises(DataError) as info:
        _run_test_tool([config, checkpoint, '--work-dir', str(tmp_path / 'work')])
    assert 'zero_bytes.jpg' in str(info.value) and 'other_size.png' in str(info.value)
    shutil.rmtree(data)
    _dataset_folder(data, ('good', 'cmyk', 'truncated_jpeg'), bad_files)
    with pytest.raises(DataError, match=r'truncated_jpeg\.jpg: a corrupt or truncated JPEG'):
        _run_test_tool([config, checkpoint, '--work-dir', str(tmp_path / 'work')])


@pytest.mark.parametrize('option, error, line', [
    ('model.backbone.type=ResNett', KeyError,
     "error: unknown type 'ResNett' in the salbox::model registry (config key type=...); "
     "did you mean 'ResNet', 'ResNeXt'?"),
    ('model.backbone.depht=18', TypeError,
     "error: ResNet (salbox::model registry) got an unknown config key 'depht'; "
     "did you mean 'depth'?"),
])
def test_bad_config_is_named(tmp_path, bad_files, tiny_model, capsys, monkeypatch, option,
                             error, line):
    """tools/test.py through run_friendly (as ``python tools/test.py`` runs it): one line
    naming the type and registry / the class and key, with the closest valid names; the
    mmengine exception and its traceback with SALBOX_DEBUG=1."""
    from salbox.apis.runner_utils import run_friendly
    config, checkpoint, data = tiny_model
    if osp.isdir(data):
        shutil.rmtree(data)
    _dataset_folder(data, ('good', ), bad_files)
    argv = [config, checkpoint, '--work-dir', str(tmp_path / 'work'), '--cfg-options', option]
    monkeypatch.delenv('SALBOX_DEBUG', raising=False)
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run_friendly(lambda: _run_test_tool(argv))
    assert info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == line + ' (SALBOX_DEBUG=1 shows the traceback)'
    assert not any(text.startswith(error.__name__) for text in err), err  # no traceback
    monkeypatch.setenv('SALBOX_DEBUG', '1')
    with pytest.raises(error):
        run_friendly(lambda: _run_test_tool(argv))
