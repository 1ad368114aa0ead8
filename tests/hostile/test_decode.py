"""salbox.utils.image_io.decode_image on every kind of hostile file: a one-line DataError naming
the file, or a documented conversion checked against Pillow (an independent decoder)."""
import numpy as np
import pytest
from hostile_files import H, W, picture
from PIL import Image, ImageOps

from salbox.utils.errors import DataError
from salbox.utils.image_io import (apply_orientation, decode_image, image_size_oriented,
                                   image_size_raw)


def _pil_bgr(path):
    return np.asarray(Image.open(path).convert('RGB'))[:, :, ::-1]


@pytest.mark.parametrize('kind, message', [
    ('zero_bytes', r'is empty \(0 bytes\)'),
    ('truncated_jpeg', 'truncated JPEG'),
    ('truncated_png', 'truncated PNG'),
    ('not_an_image', 'corrupt or not an image'),
])
def test_unreadable_files_raise_one_line_naming_the_file(bad_files, kind, message):
    path = bad_files[kind]
    for mode in ('color', 'grey', 'unchanged'):
        with pytest.raises(DataError, match=message) as info:
            decode_image(path, mode, what='image')
        text = str(info.value)
        assert path in text and '\n' not in text


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match=f'mask file not found: {tmp_path}/nope.png'):
        decode_image(str(tmp_path / 'nope.png'), what='mask')


def test_every_truncation_point_of_a_jpeg_is_refused(bad_files, tmp_path):
    data = open(bad_files['good'], 'rb').read()
    for cut in (20, len(data) // 4, len(data) // 2, len(data) - 40, len(data) - 2):
        path = tmp_path / f'cut{cut}.jpg'
        path.write_bytes(data[:cut])
        with pytest.raises(DataError, match=f'{path}'):
            decode_image(str(path))


def test_conversions_match_pillow(bad_files):
    rgb = picture()
    # Decoded by content: a PNG named .jpg is the lossless PNG.
    np.testing.assert_array_equal(decode_image(bad_files['png_named_jpg']), rgb[:, :, ::-1])
    # Palette: expanded to its colours.
    np.testing.assert_array_equal(decode_image(bad_files['palette']),
                                  _pil_bgr(bad_files['palette']))
    # 16-bit: 'color' and 'grey' keep the high byte; 'unchanged' keeps 16 bits.
    sixteen = np.asarray(Image.open(bad_files['16bit'])).astype(np.uint16)
    assert decode_image(bad_files['16bit'], 'unchanged').dtype == np.uint16
    np.testing.assert_array_equal(decode_image(bad_files['16bit'], 'unchanged'), sixteen)
    colour = decode_image(bad_files['16bit'])
    assert colour.dtype == np.uint8 and colour.shape == (H, W, 3)
    np.testing.assert_array_equal(colour[:, :, 0], sixteen >> 8)
    np.testing.assert_array_equal(decode_image(bad_files['16bit'], 'grey'), sixteen >> 8)
    # RGBA: alpha dropped ('color'), kept ('unchanged').
    np.testing.assert_array_equal(decode_image(bad_files['rgba']), rgb[:, :, ::-1])
    assert decode_image(bad_files['rgba'], 'unchanged').shape == (H, W, 4)
    # Grey: three equal channels.
    grey = np.asarray(Image.open(bad_files['grey']))
    np.testing.assert_array_equal(decode_image(bad_files['grey']), np.dstack([grey] * 3))
    # CMYK JPEG: converted to BGR; Pillow's conversion of the same file agrees to rounding.
    cmyk = decode_image(bad_files['cmyk'])
    assert cmyk.shape == (H, W, 3) and cmyk.dtype == np.uint8
    assert np.abs(cmyk.astype(int) - _pil_bgr(bad_files['cmyk']).astype(int)).max() <= 3


@pytest.mark.parametrize('orientation', range(1, 9))
def test_exif_orientation_flag(tmp_path, orientation):
    path = str(tmp_path / f'o{orientation}.png')
    exif = Image.Exif()
    exif[0x0112] = orientation
    image = Image.fromarray(picture())
    image.save(path, exif=exif)  # PNG: lossless, so the comparison is exact
    upright = np.asarray(ImageOps.exif_transpose(Image.open(path)))[:, :, ::-1]
    stored = picture()[:, :, ::-1]
    np.testing.assert_array_equal(decode_image(path, apply_exif_orientation=True), upright)
    np.testing.assert_array_equal(decode_image(path, apply_exif_orientation=False), stored)
    np.testing.assert_array_equal(apply_orientation(stored, orientation), upright)
    assert image_size_oriented(path) == upright.shape[:2]  # (height, width)
    assert image_size_raw(path) == (H, W)


def test_exif_rotated_jpeg_header_size(bad_files):
    assert image_size_raw(bad_files['exif_rotated']) == (H, W)
    assert image_size_oriented(bad_files['exif_rotated']) == (W, H)
    assert decode_image(bad_files['exif_rotated'], apply_exif_orientation=True).shape == (W, H, 3)


def test_huge_image_is_refused_from_its_header(huge_png, monkeypatch):
    with pytest.raises(DataError, match=r'huge.png is 12000x9000 \(108 MP\), above the 40 MP '
                                        r'limit .* SALBOX_MAX_IMAGE_PIXELS'):
        decode_image(huge_png)
    monkeypatch.setenv('SALBOX_MAX_IMAGE_PIXELS', '200e6')
    assert decode_image(huge_png, 'grey').shape == (9000, 12000)
    monkeypatch.setenv('SALBOX_MAX_IMAGE_PIXELS', '1e6')
    with pytest.raises(DataError, match=r'above the 1 MP limit'):
        decode_image(huge_png, 'grey')
