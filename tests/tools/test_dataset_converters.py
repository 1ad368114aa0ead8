"""The benchmark converters on small archives built here with the official names and structure
(docs/datasets.md lists the structures and where they were taken from), and check.py."""
import io
import os.path as osp
import runpy
import subprocess
import sys
import tarfile
import zipfile

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOLS = osp.join(REPO, 'tools/dataset_converters')
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)

import sod_archives  # noqa: E402

from salbox.datasets.sod_benchmarks import (DUTOMRONDataset, DUTSDataset,  # noqa: E402
                                            ECSSDDataset, HKUISDataset, MSRA10KDataset,
                                            PASCALSDataset, SODDataset)


def _encode(ext: str, array: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(ext, array)
    assert ok
    return buf.tobytes()


def _pair(seed: int, size=(12, 16)):
    """A tiny colour image and a soft (non-binary) mask of the same size."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (*size, 3), dtype=np.uint8)
    mask = np.zeros(size, np.uint8)
    mask[3:9, 4:12] = 255
    mask[3, 4:12] = 128  # a soft boundary row: must survive the conversion
    return image, mask


def _members(img_dir, mask_dir, stems, img_ext='.jpg', seed=0):
    files = {}
    for i, stem in enumerate(stems):
        image, mask = _pair(seed + i)
        files[f'{img_dir}/{stem}{img_ext}'] = _encode(img_ext, image)
        files[f'{mask_dir}/{stem}.png'] = _encode('.png', mask)
    return files


def _zip(path, files):
    with zipfile.ZipFile(path, 'w') as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return str(path)


def _tar_gz(path, files):
    with tarfile.open(path, 'w:gz') as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return str(path)


def _folder(root, files):
    for name, data in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return str(root)


def _run(tool, argv, capsys):
    """Run a converter's command line in this process (as ``python tools/...`` would)."""
    bench = runpy.run_path(osp.join(TOOLS, tool), run_name='converter')['BENCHMARK']
    code = sod_archives.run(bench, 'test', argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


MACOS_JUNK = {'__MACOSX/DUT-OMRON-image/._im1.jpg': b'junk'}


def _msra(tmp):
    files = _members('MSRA10K_Imgs_GT/Imgs', 'MSRA10K_Imgs_GT/Imgs', ['75', '99', '1022'])
    files['MSRA10K_Imgs_GT/Readme.txt'] = b'MSRA10K'
    return [_zip(tmp / 'MSRA10K_Imgs_GT.zip', files)], files


def _duts(tmp):
    tr = _members('DUTS-TR/DUTS-TR-Image', 'DUTS-TR/DUTS-TR-Mask',
                  ['ILSVRC2012_test_00000004', 'n01532829_13482'])
    tr['DUTS-TR/DUTS-TR-Mask/n01532829_13482.jpg'] = b'stray jpg mask'  # as in some copies
    te = _members('DUTS-TE/DUTS-TE-Image', 'DUTS-TE/DUTS-TE-Mask',
                  ['ILSVRC2012_test_00000003', 'sun_aaalbzqrimafwbiv', 'sun_abkqztqoczvrvnyt'],
                  seed=10)
    return [_zip(tmp / 'DUTS-TR.zip', tr), _zip(tmp / 'DUTS-TE.zip', te)], {**tr, **te}


def _ecssd(tmp):
    files = _members('images', 'ground_truth_mask', ['0001', '0002', '0003'])
    imgs = {k: v for k, v in files.items() if k.startswith('images/')}
    masks = {k: v for k, v in files.items() if k.startswith('ground_truth_mask/')}
    return [_zip(tmp / 'images.zip', imgs), _zip(tmp / 'ground_truth_mask.zip', masks)], files


def _hku_is(tmp):
    # HKU-IS.rar extracted (no RAR writer here): HKU-IS/imgs/*.png + HKU-IS/gt/*.png
    files = _members('HKU-IS/imgs', 'HKU-IS/gt', ['0004', '0005', '0006'], img_ext='.png')
    return [_folder(tmp / 'extracted', files)], files


def _pascal_s(tmp):
    files = _members('datasets/imgs/pascal', 'datasets/masks/pascal', ['1', '2', '10'])
    other = _members('datasets/imgs/bsds', 'datasets/masks/bsds', ['100075'], seed=20)
    extra = {'algmaps/pascal/aim/1.png': b'x', 'code/readme.txt': b'salObj',
             'tips_for_matlab.txt': b'tips'}
    return [_zip(tmp / 'salObj.zip', {**files, **other, **extra})], files


def _sod(tmp):
    files = _members('SOD/images', 'SOD/GT', ['100007', '100039'])
    # members named './SOD/...', as `tar -czf SOD.tar.gz -C dir .` writes them
    return [_tar_gz(tmp / 'SOD.tar.gz', {f'./{k}': v for k, v in files.items()})], files


def _dut_omron(tmp):
    imgs = _members('DUT-OMRON-image', 'pixelwiseGT-new-PNG', ['im005', 'sun_aaadbvlmmbgrhnhy'])
    masks = {k: v for k, v in imgs.items() if k.startswith('pixelwiseGT-new-PNG/')}
    images = {k: v for k, v in imgs.items() if k.startswith('DUT-OMRON-image/')}
    images.update(MACOS_JUNK)
    return [_zip(tmp / 'DUT-OMRON-image.zip', images),
            _zip(tmp / 'DUT-OMRON-gt-pixelwise.zip.zip', masks)], imgs


# tool, archive builder, {source folder: salbox folder}, dataset class builders, split sizes
CASES = {
    'msra10k': ('msra10k.py', _msra, {'MSRA10K_Imgs_GT/Imgs': 'Imgs'},
                [lambda r: MSRA10KDataset(data_root=r)], [3]),
    'duts': ('duts.py', _duts, {'DUTS-TR/DUTS-TR-Image': 'DUTS-TR/DUTS-TR-Image',
                                'DUTS-TR/DUTS-TR-Mask': 'DUTS-TR/DUTS-TR-Mask',
                                'DUTS-TE/DUTS-TE-Image': 'DUTS-TE/DUTS-TE-Image',
                                'DUTS-TE/DUTS-TE-Mask': 'DUTS-TE/DUTS-TE-Mask'},
             [lambda r: DUTSDataset(split='TR', data_root=r),
              lambda r: DUTSDataset(split='TE', data_root=r)], [2, 3]),
    'ecssd': ('ecssd.py', _ecssd, {'images': 'images', 'ground_truth_mask': 'ground_truth_mask'},
              [lambda r: ECSSDDataset(data_root=r)], [3]),
    'hku_is': ('hku_is.py', _hku_is, {'HKU-IS/imgs': 'imgs', 'HKU-IS/gt': 'gt'},
               [lambda r: HKUISDataset(data_root=r)], [3]),
    'pascal_s': ('pascal_s_salobj.py', _pascal_s, {'datasets/imgs/pascal': 'images',
                                                    'datasets/masks/pascal': 'masks'},
                 [lambda r: PASCALSDataset(data_root=r)], [3]),
    'sod': ('sod.py', _sod, {'SOD/images': 'images', 'SOD/GT': 'masks'},
            [lambda r: SODDataset(data_root=r)], [2]),
    'dut_omron': ('dut_omron.py', _dut_omron, {'DUT-OMRON-image': 'DUT-OMRON-image',
                                               'pixelwiseGT-new-PNG': 'pixelwiseGT-new-PNG'},
                  [lambda r: DUTOMRONDataset(data_root=r)], [2]),
}


@pytest.mark.parametrize('case', sorted(CASES))
def test_converter_writes_the_documented_layout_idempotently(case, tmp_path, capsys):
    tool, build, folders, datasets, sizes = CASES[case]
    inputs, files = build(tmp_path)
    out = tmp_path / 'out'
    code, stdout, stderr = _run(tool, [*inputs, '-o', str(out)], capsys)
    assert code == 0, stderr
    # every image and mask arrives byte for byte (soft mask values kept) where docs say
    for name, data in files.items():
        folder, base = name.rsplit('/', 1)
        if folder in folders and data != b'stray jpg mask':
            assert (out / folders[folder] / base).read_bytes() == data, name
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file())
    assert len(written) == 2 * sum(sizes), written  # nothing else (no junk, no other subsets)
    # salbox reads the result with the benchmark's own dataset class and defaults
    for make, size in zip(datasets, sizes):
        assert len(make(str(out))) == size
    assert f'{sizes[0]} image/mask pairs' in stdout
    # second run: same result, nothing rewritten, and it says so
    code, stdout, _ = _run(tool, [*inputs, '-o', str(out)], capsys)
    assert code == 0 and '(0 files written' in stdout
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob('*') if p.is_file()) == written


def test_duts_reports_stray_files_and_accepts_one_archive(tmp_path, capsys):
    inputs, _ = _duts(tmp_path)
    code, stdout, _ = _run('duts.py', [inputs[0], '-o', str(tmp_path / 'o')], capsys)
    assert code == 0
    assert 'DUTS-TR: 2 image/mask pairs' in stdout and 'DUTS-TE' not in stdout
    assert '1 files with other endings ignored: DUTS-TR/DUTS-TR-Mask/n01532829_13482.jpg' in stdout
    assert 'the official release has 10553 pairs' in stdout


@pytest.mark.parametrize('tool,wrong', [
    ('ecssd.py', 'DUTS-TR.zip'), ('duts.py', 'images.zip'), ('msra10k.py', 'salObj.zip'),
    ('dut_omron.py', 'MSRA10K_Imgs_GT.zip')])
def test_wrong_archive_is_one_clear_error(tool, wrong, tmp_path, capsys):
    builders = {'DUTS-TR.zip': _duts, 'images.zip': _ecssd, 'salObj.zip': _pascal_s,
                'MSRA10K_Imgs_GT.zip': _msra}
    inputs, _ = builders[wrong](tmp_path)
    path = [p for p in inputs if p.endswith(wrong)][0]
    code, stdout, stderr = _run(tool, [path, '-o', str(tmp_path / 'o')], capsys)
    assert code == 1 and stdout == ''
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f'error: {path} is not the official')
    assert 'no folder' in lines[0] and 'found ' in lines[0]
    assert not (tmp_path / 'o').exists()


def test_half_an_archive_pair_is_an_error(tmp_path, capsys):
    inputs, _ = _ecssd(tmp_path)  # images.zip without ground_truth_mask.zip
    code, _, stderr = _run('ecssd.py', [inputs[0], '-o', str(tmp_path / 'o')], capsys)
    assert code == 1 and 'no folder ground_truth_mask/ with .png masks' in stderr


def test_sod_authors_zip_is_explained(tmp_path, capsys):
    path = _zip(tmp_path / 'SOD.zip', {'SOD/SO100007.mat': b'm', 'SOD/DBidx.mat': b'm'})
    code, _, stderr = _run('sod.py', [path, '-o', str(tmp_path / 'o')], capsys)
    assert code == 1 and "authors' SOD.zip" in stderr and 'PNG masks' in stderr


def test_rar_without_extractor_says_how_to_proceed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sod_archives.shutil, 'which', lambda name: None)
    path = tmp_path / 'HKU-IS.rar'
    path.write_bytes(b'Rar!\x1a\x07\x00')
    code, _, stderr = _run('hku_is.py', [str(path), '-o', str(tmp_path / 'o')], capsys)
    assert code == 1 and 'no RAR extractor' in stderr and 'unrar x HKU-IS.rar' in stderr


def test_converter_and_check_from_the_command_line(tmp_path):
    """The user's path: convert DUT-OMRON with the script, damage a copy, run check.py."""
    inputs, _ = _dut_omron(tmp_path)
    data = tmp_path / 'data'
    result = subprocess.run([sys.executable, osp.join(TOOLS, 'dut_omron.py'), *inputs, '-o',
                             str(data / 'DUT-OMRON')], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert 'DUT-OMRON: 2 image/mask pairs' in result.stdout
    # break it: an unpaired image, a truncated mask, a mask of the wrong size
    root = data / 'DUT-OMRON'
    image, mask = _pair(5)
    (root / 'DUT-OMRON-image/lonely.jpg').write_bytes(_encode('.jpg', image))
    (root / 'DUT-OMRON-image/trunc.jpg').write_bytes(_encode('.jpg', image))
    (root / 'pixelwiseGT-new-PNG/trunc.png').write_bytes(_encode('.png', mask)[:40])
    (root / 'DUT-OMRON-image/small.jpg').write_bytes(_encode('.jpg', image))
    (root / 'pixelwiseGT-new-PNG/small.png').write_bytes(_encode('.png', mask[:6, :7]))
    result = subprocess.run([sys.executable, osp.join(TOOLS, 'check.py'), str(data)],
                            capture_output=True, text=True)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert 'DUT-OMRON: 4 pairs, 1 images without a mask, 0 masks without an image, ' \
           '1 unreadable files, 1 size disagreements' in out
    assert 'images without a mask: lonely.jpg' in out
    assert 'unreadable: pixelwiseGT-new-PNG/trunc.png' in out
    assert 'small (image 16x12, mask 7x6)' in out


def test_check_counts_good_sets_and_skips_absent_splits(tmp_path, capsys):
    import check
    inputs, _ = _duts(tmp_path)
    assert _run('duts.py', [inputs[1], '-o', str(tmp_path / 'data/DUTS')], capsys)[0] == 0
    inputs, _ = _ecssd(tmp_path)
    assert _run('ecssd.py', [*inputs, '-o', str(tmp_path / 'data/ECSSD')], capsys)[0] == 0
    assert check.main([str(tmp_path / 'data')]) == 0
    out = capsys.readouterr().out
    assert 'DUTS-TR: not present, skipped' in out
    assert 'DUTS-TE: 3 pairs, 0 images without a mask' in out and 'ECSSD: 3 pairs' in out
    assert '2 splits, 6 pairs: all good' in out
    # one data set, given as its own folder
    assert check.main([str(tmp_path / 'data/ECSSD'), '--dataset', 'ECSSD']) == 0
    assert check.main([str(tmp_path / 'data'), '--dataset', 'SOD']) == 1
    assert 'error: no benchmark folder (SOD)' in capsys.readouterr().err
