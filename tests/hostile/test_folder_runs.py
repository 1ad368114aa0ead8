"""tools/infer.py on the folders real users have: outputs never collide or vanish, bad entries
are skipped with their reason and the run goes on (docs/bad_input.md, "Folders and runs")."""
import errno
import io
import os
import shutil

import cv2
import numpy as np
import pytest
from hostile_files import picture, tool
from PIL import Image

from salbox.utils.errors import DataError
from salbox.utils.image_io import decode_image


def _photo(path, seed=0, size=None):
    rgb = picture(seed) if size is None else np.full(size + (3, ), 90, np.uint8)
    Image.fromarray(rgb).save(path, quality=95)
    return str(path)


def damaged_jpeg(path) -> str:
    """A JPEG whose entropy-coded data is overwritten but which still ends with FFD9: libjpeg
    decodes it to garbage with a warning, Pillow refuses it."""
    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3)).astype(np.uint8), (9, 9), 3)
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, 'JPEG', quality=90)
    data = bytearray(buffer.getvalue())
    start = len(data) // 3
    data[start:start + 64] = rng.integers(0, 256, 64, dtype=np.uint8).tobytes()
    assert data.endswith(b'\xff\xd9') and cv2.imdecode(np.frombuffer(data, np.uint8), 1) is not None
    with open(path, 'wb') as f:
        f.write(bytes(data))
    return str(path)


def _infer(config, checkpoint, *args):
    """Run tools/infer.py's main; its exit code (0 when it returns)."""
    try:
        tool('infer').main([config, checkpoint, *map(str, args)])
    except SystemExit as exit_:
        return exit_.code
    return 0


# --- decoding ---------------------------------------------------------------------------------

def test_damaged_jpeg_is_refused(tmp_path):
    path = damaged_jpeg(tmp_path / 'damaged.jpg')
    with pytest.raises(DataError, match=r'cannot decode image file .*damaged\.jpg: a corrupt JPEG '
                       r'\(its compressed data is damaged; Pillow: broken data stream'):
        decode_image(path)


def test_links_and_unreadable_files_are_named(tmp_path, monkeypatch):
    os.symlink(tmp_path / 'nowhere.jpg', tmp_path / 'broken.jpg')
    os.symlink(tmp_path / 'loop.jpg', tmp_path / 'loop.jpg')
    with pytest.raises(DataError, match=r'image file .*broken\.jpg is a broken symbolic link '
                       r'\(to .*nowhere\.jpg\)'):
        decode_image(str(tmp_path / 'broken.jpg'))
    with pytest.raises(DataError, match=r'image file .*loop\.jpg is a symbolic link loop'):
        decode_image(str(tmp_path / 'loop.jpg'))
    locked = _photo(tmp_path / 'locked.jpg')
    _deny(monkeypatch, locked)
    with pytest.raises(DataError, match=r'image file .*locked\.jpg cannot be read: Permission '
                       'denied'):
        decode_image(locked)


def _deny(monkeypatch, path):
    """Reading ``path`` raises PermissionError (chmod 000 does not stop root, who runs CI)."""
    real = np.fromfile

    def fromfile(file, *args, **kwargs):
        if str(file) == str(path):
            raise PermissionError(errno.EACCES, 'Permission denied', str(file))
        return real(file, *args, **kwargs)
    monkeypatch.setattr(np, 'fromfile', fromfile)


# --- tools/infer.py ---------------------------------------------------------------------------

def test_bad_entries_are_skipped_with_reasons(tmp_path, tiny_model, capsys, monkeypatch):
    config, checkpoint, _ = tiny_model
    photos = tmp_path / 'photos'
    photos.mkdir()
    for i in range(3):
        _photo(photos / f'ok{i}.jpg', seed=i)
    os.symlink(tmp_path / 'gone.jpg', photos / 'broken.jpg')
    os.symlink(photos / 'loop.jpg', photos / 'loop.jpg')
    locked = _photo(photos / 'locked.jpg')
    _deny(monkeypatch, locked)
    damaged_jpeg(photos / 'damaged.jpg')
    _photo(photos / 'zz_one_pixel.png', size=(1, 1))  # last: TTA used to stop the run here
    out = tmp_path / 'out'
    code = _infer(config, checkpoint, photos, '--out-dir', out, '--tta')
    captured = capsys.readouterr()
    assert code == 1
    maps = sorted(os.listdir(out / 'maps'))
    assert maps == ['ok0.png', 'ok1.png', 'ok2.png', 'zz_one_pixel.png']
    assert cv2.imread(str(out / 'maps' / 'zz_one_pixel.png'), 0).shape == (1, 1)
    assert '4 of 8 images have their outputs' in captured.out
    err = captured.err
    assert '4 image(s) skipped:' in err
    for line in (f'image file {photos}/broken.jpg is a broken symbolic link (to '
                 f'{tmp_path}/gone.jpg)',
                 f'image file {photos}/loop.jpg is a symbolic link loop',
                 f'image file {photos}/locked.jpg cannot be read: Permission denied',
                 f'cannot decode image file {photos}/damaged.jpg: a corrupt JPEG'):
        assert line in err, (line, err)
    assert (out / 'failed.txt').read_text().count('\n') == 4


def test_stem_collisions_keep_every_output(tmp_path, tiny_model, capsys):
    config, checkpoint, _ = tiny_model
    photos = tmp_path / 'photos'
    photos.mkdir()
    _photo(photos / 'dup.jpg', seed=1)
    Image.fromarray(picture(2)[::-1].copy()).save(photos / 'dup.png')
    _photo(photos / 'single.jpg', seed=3)
    out = tmp_path / 'out'
    assert _infer(config, checkpoint, photos, '--out-dir', out, '--cutout') == 0
    assert sorted(os.listdir(out / 'maps')) == ['dup.jpg.png', 'dup.png.png', 'single.png']
    assert sorted(os.listdir(out / 'cutouts')) == ['dup.jpg.png', 'dup.png.png', 'single.png']
    a, b = (cv2.imread(str(out / 'cutouts' / n), -1) for n in ('dup.jpg.png', 'dup.png.png'))
    assert not np.array_equal(a[..., :3], b[..., :3])  # two photos, two cut-outs
    assert '3 of 3 images have their outputs' in capsys.readouterr().out


def test_failed_writes_are_reported(tmp_path, tiny_model, capsys, monkeypatch):
    """A full disk: every write is checked, nothing partial is left, the count is true."""
    import salbox.utils.atomic_file as atomic_file
    config, checkpoint, _ = tiny_model
    photos = tmp_path / 'photos'
    photos.mkdir()
    for i in range(2):
        _photo(photos / f'p{i}.jpg', seed=i)
    real_open = open

    def full_disk_for_cutouts(path, mode='r', *args, **kwargs):
        if 'cutouts' in str(path) and 'w' in mode:
            return real_open('/dev/full', mode, *args, **kwargs)  # ENOSPC on flush
        return real_open(path, mode, *args, **kwargs)
    monkeypatch.setattr(atomic_file, 'open', full_disk_for_cutouts, raising=False)
    out = tmp_path / 'out'
    assert _infer(config, checkpoint, photos, '--out-dir', out, '--cutout') == 1
    captured = capsys.readouterr()
    assert '0 of 2 images have their outputs' in captured.out
    assert f'{photos}/p0.jpg: No space left on device' in captured.err
    assert os.listdir(out / 'cutouts') == []  # no partial or temporary file
    monkeypatch.undo()
    assert _infer(config, checkpoint, photos, '--out-dir', out, '--cutout') == 0  # resumes
    assert sorted(os.listdir(out / 'cutouts')) == ['p0.png', 'p1.png']


def test_output_folder_inside_the_input_is_not_scanned(tmp_path, tiny_model, capsys,
                                                       monkeypatch):
    config, checkpoint, _ = tiny_model
    photos = tmp_path / 'photos'
    photos.mkdir()
    for i in range(3):
        _photo(photos / f'p{i}.jpg', seed=i)
    monkeypatch.chdir(photos)
    for run in range(3):  # the documented resume-by-rerun
        assert _infer(config, checkpoint, '.', '--out-dir', 'outputs', '--cutout') == 0
        assert sorted(os.listdir('outputs/maps')) == ['p0.png', 'p1.png', 'p2.png']
    assert '3 of 3 images have their outputs in outputs (0 written now, 3 already there)' \
        in capsys.readouterr().out


def test_user_errors_are_one_line(tmp_path, tiny_model, capsys, monkeypatch):
    import torch
    config, checkpoint, _ = tiny_model
    photo = _photo(tmp_path / 'p.jpg')
    with pytest.raises(SystemExit) as info:
        tool('infer').parse_args([config, checkpoint, photo, '--threshold', '1.5'])
    assert info.value.code == 2
    assert 'argument --threshold: 1.5 is not in [0, 1]' in capsys.readouterr().err
    # '~' is the home folder, not a folder named '~'
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.chdir(tmp_path)
    assert _infer(config, checkpoint, photo, '--out-dir', '~/x') == 0
    assert (tmp_path / 'home' / 'x' / 'maps' / 'p.png').exists()
    assert not (tmp_path / '~').exists()
    # an output folder that cannot be written
    (tmp_path / 'afile').write_text('')
    from salbox.utils.errors import SalboxError
    with pytest.raises(SalboxError, match=r'cannot write to --out-dir .*afile/out: Not a '
                       'directory'):
        tool('infer').main([config, checkpoint, photo, '--out-dir', str(tmp_path / 'afile/out')])
    if not torch.cuda.is_available():
        with pytest.raises(SalboxError, match=r'--device cuda: torch sees no CUDA GPU .*; use '
                           '--device cpu'):
            tool('infer').main([config, checkpoint, photo, '--device', 'cuda'])


def test_read_only_folders_are_named(tmp_path, monkeypatch):
    import tempfile

    from salbox.apis.runner_utils import check_writable_dir
    from salbox.utils.errors import SalboxError

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, 'Permission denied')
    monkeypatch.setattr(tempfile, 'NamedTemporaryFile', denied)
    with pytest.raises(SalboxError, match=r'cannot write to the work dir .*ro: Permission '
                       'denied'):
        check_writable_dir(str(tmp_path / 'ro'), 'the work dir')


def test_unknown_files_are_untouched(tmp_path, tiny_model):
    """Only the output folders are excluded: a sibling folder named like one is scanned."""
    config, checkpoint, _ = tiny_model
    photos = tmp_path / 'photos'
    (photos / 'maps').mkdir(parents=True)
    _photo(photos / 'maps' / 'inner.jpg')
    assert _infer(config, checkpoint, photos, '--out-dir', tmp_path / 'out') == 0
    assert os.listdir(tmp_path / 'out' / 'maps' / 'maps') == ['inner.png']
    shutil.rmtree(tmp_path / 'out')
