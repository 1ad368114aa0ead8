"""SalientObjectDataset: layouts, pairing errors, size checks, benchmark subclasses."""
import os
import os.path as osp

import pytest

from salbox.datasets import (DUTOMRONDataset, DUTSDataset, ECSSDDataset, HKUISDataset,
                             MSRA10KDataset, PASCALSDataset, SalientObjectDataset, SODDataset)
from salbox.registry import DATASETS
from salbox.utils.errors import DataError, DatasetNotFoundError

SEPARATE = dict(img_path='images', gt_path='masks')


def test_separate_layout_entries(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['b', 'a', 'c'])
    ds = SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)
    assert len(ds) == 3
    info = ds.get_data_info(0)
    assert info['img_path'] == osp.join(str(tmp_path), 'images', 'a.jpg')
    assert info['gt_path'] == osp.join(str(tmp_path), 'masks', 'a.png')
    assert info['dataset_name'] == tmp_path.name  # base class: the data root's folder name
    assert [ds.get_data_info(i)['img_path'][-5:] for i in range(3)] == ['a.jpg', 'b.jpg', 'c.jpg']


def test_side_by_side_layout_ignores_masks_as_images(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['x', 'y'], img_dir='Imgs', gt_dir='Imgs')
    ds = DATASETS.build(dict(type='MSRA10KDataset', data_root=str(tmp_path)))
    assert len(ds) == 2
    assert ds.get_data_info(1)['gt_path'].endswith(osp.join('Imgs', 'y.png'))
    assert ds.get_data_info(1)['dataset_name'] == 'MSRA10K'


def test_same_folder_same_suffix_is_refused(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['x'], img_dir='d', gt_dir='d', img_suffix='.png')
    with pytest.raises(DataError, match='cannot be told apart'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=dict(img_path='d', gt_path='d'),
                             img_suffix='.png')


def test_same_folder_distinct_mask_suffix(tmp_path, sal_files):
    sal_files.write_image(str(tmp_path / 'd' / 'p.png'))
    sal_files.write_mask(str(tmp_path / 'd' / 'p_mask.png'))
    ds = SalientObjectDataset(data_root=str(tmp_path), data_prefix=dict(img_path='d', gt_path='d'),
                              img_suffix='.png', mask_suffix='_mask.png')
    assert len(ds) == 1 and ds.get_data_info(0)['img_path'].endswith('p.png')


def test_image_without_mask_names_the_file(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a', 'b'])
    sal_files.write_image(str(tmp_path / 'images' / 'lonely.jpg'))
    with pytest.raises(DataError) as err:
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)
    message = str(err.value)
    assert '1 image without a mask' in message and 'lonely.jpg' in message
    assert '\n' not in message


def test_mask_without_image_names_the_file(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a'])
    sal_files.write_mask(str(tmp_path / 'masks' / 'orphan.png'))
    with pytest.raises(DataError, match=r'1 mask without an image .*orphan\.png'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)


def test_both_kinds_in_one_error_with_counts(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a'])
    for i in range(7):
        sal_files.write_image(str(tmp_path / 'images' / f'img{i}.jpg'))
    sal_files.write_mask(str(tmp_path / 'masks' / 'm1.png'))
    sal_files.write_mask(str(tmp_path / 'masks' / 'm2.png'))
    with pytest.raises(DataError) as err:
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE, dataset_name='Mine')
    message = str(err.value)
    assert message.startswith('Mine: 7 images without a mask')
    assert '2 masks without an image' in message and 'm1.png, m2.png' in message
    assert 'and 2 more' in message  # five names shown, the rest counted


def test_on_missing_warn_keeps_complete_pairs(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a', 'b'])
    sal_files.write_image(str(tmp_path / 'images' / 'lonely.jpg'))
    with pytest.warns(UserWarning, match='lonely.jpg'):
        ds = SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE,
                                  on_missing='warn')
    assert len(ds) == 2


def test_on_missing_rejects_unknown_value(tmp_path):
    with pytest.raises(ValueError, match='on_missing'):
        SalientObjectDataset(data_root=str(tmp_path), on_missing='skip')


def test_missing_folder_is_one_clear_line(tmp_path):
    with pytest.raises(DatasetNotFoundError) as err:
        ECSSDDataset(data_root=str(tmp_path / 'ECSSD'))
    message = str(err.value)
    assert '\n' not in message
    assert osp.join(str(tmp_path), 'ECSSD', 'images') in message
    assert 'download' in message and 'docs/datasets.md' in message
    assert isinstance(err.value, FileNotFoundError)


def test_missing_mask_folder(tmp_path, sal_files):
    sal_files.write_image(str(tmp_path / 'images' / 'a.jpg'))
    with pytest.raises(DatasetNotFoundError, match='mask folder not found: .*masks'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)


def test_empty_folder(tmp_path):
    os.makedirs(tmp_path / 'images')
    os.makedirs(tmp_path / 'masks')
    with pytest.raises(DatasetNotFoundError, match=r'no \.jpg images in .*images'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)


def test_size_mismatch_at_load_names_both_files(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['ok'])
    sal_files.write_image(str(tmp_path / 'images' / 'bad.jpg'), height=12, width=16)
    sal_files.write_mask(str(tmp_path / 'masks' / 'bad.png'), height=10, width=16)
    with pytest.raises(DataError, match=r'bad\.jpg 16x12 vs bad\.png 16x10'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)
    ds = SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE, check_sizes=False)
    assert len(ds) == 2


def test_ann_file_selects_and_reports_missing(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a', 'b', 'c'])
    (tmp_path / 'list.txt').write_text('c\nb.jpg\n\n')
    ds = SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE, ann_file='list.txt')
    assert [ds.get_data_info(i)['img_path'][-5:] for i in range(len(ds))] == ['c.jpg', 'b.jpg']
    (tmp_path / 'bad.txt').write_text('a\nzz\n')
    with pytest.raises(DataError, match=r'1 name of .*bad\.txt with no image .*zz\.jpg'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE, ann_file='bad.txt')
    with pytest.raises(DatasetNotFoundError, match='ann_file not found'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE, ann_file='no.txt')


def test_suffix_case_and_several_suffixes(tmp_path, sal_files):
    sal_files.write_image(str(tmp_path / 'images' / 'a.JPG'))
    sal_files.write_image(str(tmp_path / 'images' / 'b.png'))
    sal_files.write_mask(str(tmp_path / 'masks' / 'a.png'))
    sal_files.write_mask(str(tmp_path / 'masks' / 'b.png'))
    ds = SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE,
                              img_suffix=('.jpg', '.png'))
    assert sorted(osp.basename(ds.get_data_info(i)['img_path']) for i in range(2)) == \
        ['a.JPG', 'b.png']
    sal_files.write_image(str(tmp_path / 'images' / 'b.jpg'))
    with pytest.raises(DataError, match=r'two files for the same name in .*: b\.jpg and b\.png'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE,
                             img_suffix=('.jpg', '.png'))


@pytest.mark.parametrize('cfg, img_dir, gt_dir, img_suffix, name', [
    (dict(type='MSRA10KDataset'), 'Imgs', 'Imgs', '.jpg', 'MSRA10K'),
    (dict(type='DUTSDataset', split='TR'), 'DUTS-TR/DUTS-TR-Image', 'DUTS-TR/DUTS-TR-Mask',
     '.jpg', 'DUTS-TR'),
    (dict(type='DUTSDataset'), 'DUTS-TE/DUTS-TE-Image', 'DUTS-TE/DUTS-TE-Mask', '.jpg',
     'DUTS-TE'),
    (dict(type='ECSSDDataset'), 'images', 'ground_truth_mask', '.jpg', 'ECSSD'),
    (dict(type='HKUISDataset'), 'imgs', 'gt', '.png', 'HKU-IS'),
    (dict(type='PASCALSDataset'), 'images', 'masks', '.jpg', 'PASCAL-S'),
    (dict(type='SODDataset'), 'images', 'masks', '.jpg', 'SOD'),
    (dict(type='DUTOMRONDataset'), 'DUT-OMRON-image', 'pixelwiseGT-new-PNG', '.jpg', 'DUT-OMRON'),
])
def test_benchmark_subclasses_default_layouts(tmp_path, sal_files, cfg, img_dir, gt_dir,
                                              img_suffix, name):
    sal_files.make_pairs(str(tmp_path), ['0001', '0002'], img_dir=img_dir, gt_dir=gt_dir,
                         img_suffix=img_suffix)
    ds = DATASETS.build(dict(cfg, data_root=str(tmp_path)))
    assert len(ds) == 2
    info = ds.get_data_info(0)
    assert info['dataset_name'] == name
    assert info['img_path'] == osp.join(str(tmp_path), img_dir, '0001' + img_suffix)
    assert info['gt_path'] == osp.join(str(tmp_path), gt_dir, '0001.png')


def test_subclass_overrides_and_names(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a'], img_dir='datasets/imgs/pascal',
                         gt_dir='datasets/masks/pascal')
    ds = PASCALSDataset(data_root=str(tmp_path), dataset_name='PASCAL-S (salObj)',
                        data_prefix=dict(img_path='datasets/imgs/pascal',
                                         gt_path='datasets/masks/pascal'))
    assert ds.get_data_info(0)['dataset_name'] == 'PASCAL-S (salObj)'
    with pytest.raises(ValueError, match="'TR' or 'TE'"):
        DUTSDataset(split='VAL', data_root=str(tmp_path))
    for cls in (MSRA10KDataset, HKUISDataset, SODDataset, DUTOMRONDataset):
        assert cls.__doc__ and cls.SOURCE_HINT


def test_unreadable_header_names_the_file(tmp_path, sal_files):
    sal_files.make_pairs(str(tmp_path), ['a'])
    (tmp_path / 'images' / 'a.jpg').write_bytes(b'garbage')
    with pytest.raises(DataError, match=r'cannot read the image header of .*a\.jpg'):
        SalientObjectDataset(data_root=str(tmp_path), data_prefix=SEPARATE)
