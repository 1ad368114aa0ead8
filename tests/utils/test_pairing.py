"""One pairing rule and one size helper pair for every data set and evaluator."""
import cv2
import numpy as np
import pytest
from PIL import Image

from salbox.datasets import SalientObjectDataset
from salbox.datasets.prior_dataset import pair_images_and_priors
from salbox.evaluation.folder_eval import match_folder
from salbox.utils.errors import DataError
from salbox.utils.image_io import image_size_oriented, image_size_raw
from salbox.utils.pairing import files_by_stem, pair_by_stem


def _touch(folder, *names):
    folder.mkdir(exist_ok=True)
    for name in names:
        cv2.imwrite(str(folder / name), np.zeros((4, 6, 3), np.uint8))


def test_pair_by_stem_reports_leftovers_on_both_sides(tmp_path):
    _touch(tmp_path / 'a', 'x.jpg', 'y.JPG', 'z.jpg')
    _touch(tmp_path / 'b', 'x_sal.png', 'y_sal.png', 'w_sal.png')
    found = pair_by_stem(str(tmp_path / 'a'), '.jpg', str(tmp_path / 'b'), '_sal.png')
    assert [p[0] for p in found.pairs] == ['x', 'y']
    assert found.pairs[1][1:] == (str(tmp_path / 'a' / 'y.JPG'), str(tmp_path / 'b' / 'y_sal.png'))
    assert (found.first_only, found.second_only, found.not_found) == (['z'], ['w'], [])
    found = pair_by_stem(str(tmp_path / 'a'), '.jpg', str(tmp_path / 'b'), '_sal.png',
                         stems=['y', 'q', 'z'])
    assert ([p[0] for p in found.pairs], found.first_only, found.not_found) == (['y'], ['z'], ['q'])
    assert found.second_only == []  # with a stem list, extra files are not leftovers


def test_one_duplicate_name_rule_everywhere(tmp_path):
    """Two files with one stem raise one error naming both, in every caller."""
    _touch(tmp_path / 'img', 'a.jpg', 'a.png')
    _touch(tmp_path / 'gt', 'a.png')
    message = r'two files for the same name in .*img: a\.jpg and a\.png; keep one'
    with pytest.raises(DataError, match=message):
        files_by_stem(str(tmp_path / 'img'), ('.jpg', '.png'))
    with pytest.raises(DataError, match=message):
        pair_images_and_priors(str(tmp_path / 'img'), str(tmp_path / 'gt'))
    with pytest.raises(DataError, match=message):
        SalientObjectDataset(data_prefix=dict(img_path=str(tmp_path / 'img'),
                                              gt_path=str(tmp_path / 'gt')),
                             img_suffix=('.jpg', '.png'))
    _touch(tmp_path / 'maps', 'a.png', 'a.PNG')
    if len(list((tmp_path / 'maps').iterdir())) == 2:  # a case-sensitive file system
        with pytest.raises(DataError, match=r'two files for the same name in .*maps: a\.PNG and '
                                            r'a\.png'):
            match_folder(str(tmp_path / 'maps'), str(tmp_path / 'gt'))


def _orientation6_jpeg(path, height=40, width=60):
    exif = Image.Exif()
    exif[0x0112] = 6
    rgb = np.random.default_rng(0).integers(0, 255, (height, width, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(path, quality=95, exif=exif.tobytes())


def test_sizes_are_height_width_raw_and_oriented(tmp_path):
    _orientation6_jpeg(tmp_path / 'r.jpg')
    assert image_size_raw(str(tmp_path / 'r.jpg')) == (40, 60)  # stored grid, (H, W)
    assert image_size_oriented(str(tmp_path / 'r.jpg')) == (60, 40)  # as it decodes


def test_orientation6_photo_pairs_with_its_upright_mask(tmp_path):
    """SalientObjectDataset checks the image's oriented size against the mask's raw size."""
    (tmp_path / 'img').mkdir()
    _orientation6_jpeg(tmp_path / 'img' / 'r.jpg')
    (tmp_path / 'gt').mkdir()
    cv2.imwrite(str(tmp_path / 'gt' / 'r.png'), np.zeros((60, 40), np.uint8))  # upright H x W
    prefix = dict(img_path=str(tmp_path / 'img'), gt_path=str(tmp_path / 'gt'))
    assert len(SalientObjectDataset(data_prefix=prefix)) == 1
    cv2.imwrite(str(tmp_path / 'gt' / 'r.png'), np.zeros((40, 60), np.uint8))  # raw grid
    with pytest.raises(DataError, match=r'r\.jpg 40x60 vs r\.png 60x40'):
        SalientObjectDataset(data_prefix=prefix)
