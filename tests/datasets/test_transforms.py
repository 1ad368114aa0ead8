"""Loading, joint geometric transforms (image/mask alignment) and packing."""
import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from PIL import Image

from salbox.datasets.transforms import (LoadSalAnnotation, LoadSalImageFromFile, PackSalInputs,
                                        RandomCropOrResize, RandomFlip, RandomRotate, Resize)
from salbox.registry import TRANSFORMS
from salbox.structures import SalDataSample
from salbox.utils.errors import DataError, SalboxError


# ----------------------------------------------------------------------------------- loading
def _load(tmp_path, mask_array, img_shape=None):
    h, w = mask_array.shape[:2]
    img_path = str(tmp_path / 'a.png')
    gt_path = str(tmp_path / 'a_gt.png')
    cv2.imwrite(img_path, np.zeros(img_shape or (h, w, 3), np.uint8))
    cv2.imwrite(gt_path, mask_array)
    results = LoadSalImageFromFile()(dict(img_path=img_path, gt_path=gt_path))
    return LoadSalAnnotation()(results)


def test_soft_mask_is_float_never_binarised(tmp_path):
    mask = np.array([[0, 37, 128, 255]], np.uint8).repeat(3, 0)
    out = _load(tmp_path, mask)
    gt = out['gt_sal_map']
    assert gt.dtype == np.float32 and gt.shape == (3, 4)
    np.testing.assert_allclose(gt[0], [0, 37 / 255, 128 / 255, 1.0], rtol=1e-6)
    assert out['img'].dtype == np.uint8 and out['img'].shape == (3, 4, 3)
    assert out['ori_shape'] == (3, 4) and out['img_shape'] == (3, 4)


def test_16bit_and_colour_masks(tmp_path):
    mask16 = np.array([[0, 32768, 65535]], np.uint16).repeat(2, 0)
    gt = _load(tmp_path, mask16)['gt_sal_map']
    np.testing.assert_allclose(gt[0], [0, 32768 / 65535, 1.0], rtol=1e-6)
    bgr = np.zeros((2, 3, 3), np.uint8)
    bgr[:, 1] = 255  # white
    bgr[:, 2] = (0, 0, 255)  # pure red
    gt = _load(tmp_path, bgr)['gt_sal_map']
    expected_red = np.asarray(Image.new('RGB', (1, 1), (255, 0, 0)).convert('L'))[0, 0] / 255
    np.testing.assert_allclose(gt[0], [0, 1.0, expected_red], atol=1 / 255)
    bgra = np.dstack([bgr, np.full((2, 3), 7, np.uint8)])
    np.testing.assert_allclose(_load(tmp_path, bgra)['gt_sal_map'], gt)


def test_01_label_masks_are_refused_unless_declared(tmp_path):
    mask = np.array([[0, 1, 1]], np.uint8)
    with pytest.raises(DataError, match='a_gt.png holds only 0/1 values'):
        _load(tmp_path, mask)
    results = LoadSalImageFromFile()(dict(img_path=str(tmp_path / 'a.png'),
                                          gt_path=str(tmp_path / 'a_gt.png')))
    gt = LoadSalAnnotation(binary_01_masks=True)(results)['gt_sal_map']
    np.testing.assert_array_equal(gt, [[0, 1, 1]])


def test_size_mismatch_names_both_files(tmp_path):
    with pytest.raises(DataError, match=r'mask .*a_gt\.png is 3x4 .* image .*a\.png is 5x4'):
        _load(tmp_path, np.zeros((3, 4), np.uint8), img_shape=(5, 4, 3))


def test_unreadable_and_missing_files_are_named(tmp_path):
    bad = tmp_path / 'broken.jpg'
    bad.write_bytes(b'not an image at all')
    with pytest.raises(DataError, match=r'cannot decode image file .*broken\.jpg'):
        LoadSalImageFromFile()(dict(img_path=str(bad)))
    with pytest.raises(DataError, match=r'image file not found: .*nothere\.jpg'):
        LoadSalImageFromFile()(dict(img_path=str(tmp_path / 'nothere.jpg')))
    with pytest.raises(DataError, match=r'cannot decode mask file .*broken\.jpg'):
        LoadSalAnnotation()(dict(gt_path=str(bad)))


def test_gray_image_becomes_bgr(tmp_path):
    path = str(tmp_path / 'g.png')
    cv2.imwrite(path, np.full((4, 5), 77, np.uint8))
    img = LoadSalImageFromFile()(dict(img_path=path))['img']
    assert img.shape == (4, 5, 3) and (img == 77).all()


def _exif_jpeg(path, rgb, orientation):
    """Write ``rgb`` (H, W, 3) as a JPEG whose EXIF orientation tag is ``orientation``."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, quality=100, subsampling=0, exif=exif.tobytes())


def _quadrants(height=16, width=24):
    """Four flat colour blocks: orientation is unambiguous, JPEG keeps the colours."""
    rgb = np.zeros((height, width, 3), np.uint8)
    rgb[:height // 2, :width // 2] = (250, 0, 0)
    rgb[:height // 2, width // 2:] = (0, 250, 0)
    rgb[height // 2:, :width // 2] = (0, 0, 250)
    rgb[height // 2:, width // 2:] = (250, 250, 250)
    return rgb


@pytest.mark.parametrize('orientation,undo', [(3, lambda a: np.rot90(a, 2)),
                                              (6, lambda a: np.rot90(a, -1)),
                                              (8, lambda a: np.rot90(a, 1))])
def test_exif_orientation_is_applied_as_a_viewer_does(tmp_path, orientation, undo):
    """The pixels as a viewer shows them: PIL's ``ImageOps.exif_transpose`` is the reference."""
    from PIL import ImageOps
    path = str(tmp_path / 'photo.jpg')
    stored = _quadrants()
    _exif_jpeg(path, stored, orientation)
    results = LoadSalImageFromFile()(dict(img_path=path))
    viewer = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert('RGB'))
    assert results['img'].shape == viewer.shape == undo(stored).shape
    assert np.abs(results['img'][:, :, ::-1].astype(int) - viewer).max() <= 3
    assert np.abs(viewer.astype(int) - undo(stored)).max() <= 8
    assert results['ori_shape'] == viewer.shape[:2]
    assert results['ori_img'] is results['img']  # the decoded array, not a copy


def test_mask_drawn_on_unrotated_pixels_is_reported(tmp_path):
    path, gt_path = str(tmp_path / 'photo.jpg'), str(tmp_path / 'photo.png')
    _exif_jpeg(path, _quadrants(16, 24), 6)  # viewer: 24 x 16
    cv2.imwrite(gt_path, np.zeros((16, 24), np.uint8))  # drawn on the stored 16 x 24 grid
    results = LoadSalImageFromFile()(dict(img_path=path, gt_path=gt_path))
    with pytest.raises(DataError, match='transposed image'):
        LoadSalAnnotation()(results)


def test_pack_keeps_the_original_image_as_rgb_when_asked(tmp_path):
    path = str(tmp_path / 'photo.jpg')
    _exif_jpeg(path, _quadrants(), 3)
    results = LoadSalImageFromFile()(dict(img_path=path))
    results = Resize(scale=(8, 8))(results)
    packed = PackSalInputs(keep_ori_img=True)(results)
    ori = packed['data_samples'].ori_img.data
    assert ori.dtype == torch.uint8 and ori.shape == (3, 16, 24)
    assert torch.equal(ori, torch.from_numpy(results['ori_img'][:, :, ::-1].copy())
                       .permute(2, 0, 1))
    assert packed['inputs'].shape == (3, 8, 8)
    assert 'ori_img' not in PackSalInputs()(results)['data_samples']
    del results['ori_img']
    with pytest.raises(SalboxError, match='no ori_img'):
        PackSalInputs(keep_ori_img=True)(results)


# --------------------------------------------------------------------------------- alignment
def _blocky_image(height, width, block=12, seed=0):
    """Piecewise-constant image: interpolation changes only pixels near block edges."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (height // block + 1, width // block + 1, 3), dtype=np.uint8)
    return np.ascontiguousarray(small.repeat(block, 0).repeat(block, 1)[:height, :width])


def _derived(img):
    """A mask derived from the image (green channel / 255)."""
    return img[:, :, 1].astype(np.float32) / 255.0


def _interior(img):
    """Pixels whose 3x3 neighbourhood in ``img`` is constant (away from block edges)."""
    green = img[:, :, 1]
    return (cv2.dilate(green, np.ones((3, 3), np.uint8)) == green) & \
        (cv2.erode(green, np.ones((3, 3), np.uint8)) == green)


def _assert_mask_follows_image(results, exact=True):
    mask, img = results['gt_sal_map'], results['img']
    assert mask.shape == img.shape[:2]
    if exact:
        np.testing.assert_array_equal(mask, _derived(img))
        return
    inside = _interior(img)
    assert inside.mean() > 0.5
    np.testing.assert_allclose(mask[inside], _derived(img)[inside], atol=1 / 255 + 1e-6)


def _sample(height, width, seed=0):
    img = _blocky_image(height, width, seed=seed)
    return dict(img=img, gt_sal_map=_derived(img), img_shape=(height, width),
                ori_shape=(height, width))


def test_random_crop_keeps_alignment_and_is_a_window():
    np.random.seed(0)
    offsets = set()
    for seed in range(12):
        results = _sample(60, 80, seed)
        original = results['img'].copy()
        out = RandomCropOrResize(size=(40, 50))(results)
        assert out['img'].shape == (40, 50, 3) and out['img_shape'] == (40, 50)
        _assert_mask_follows_image(out)
        hits = [(y, x) for y in range(21) for x in range(31)
                if np.array_equal(original[y:y + 40, x:x + 50], out['img'])]
        assert hits
        offsets.add(hits[0])
    assert len(offsets) > 6  # the window moves


def test_crop_or_resize_resizes_small_images_and_keeps_exact_size():
    np.random.seed(1)
    out = RandomCropOrResize(size=300)(_sample(240, 360))  # height < 300: resize, not crop
    assert out['img'].shape == (300, 300, 3) and out['gt_sal_map'].shape == (300, 300)
    _assert_mask_follows_image(out, exact=False)
    # nearest mask: no new values appear (the official code resizes the mask with NEAREST)
    assert set(np.unique(out['gt_sal_map'])) <= set(np.unique(_derived(_blocky_image(240, 360))))
    same = _sample(300, 300)
    before = same['img'].copy()
    assert np.array_equal(RandomCropOrResize(size=300)(same)['img'], before)


@pytest.mark.parametrize('direction', ['horizontal', 'vertical', 'diagonal'])
def test_flip_keeps_alignment(direction):
    results = _sample(30, 40)
    original = results['img'].copy()
    out = RandomFlip(prob=1.0, direction=direction)(results)
    assert out['flip'] is True and out['flip_direction'] == direction
    axes = dict(horizontal=(1, ), vertical=(0, ), diagonal=(0, 1))[direction]
    np.testing.assert_array_equal(out['img'], np.flip(original, axes))
    _assert_mask_follows_image(out)


def test_flip_probability():
    np.random.seed(0)
    out = RandomFlip(prob=0.0)(_sample(10, 12))
    assert out['flip'] is False and out['flip_direction'] is None
    flips = [RandomFlip(prob=0.5)(_sample(10, 12))['flip'] for _ in range(200)]
    assert 60 < sum(flips) < 140


def test_rotate_keeps_alignment_and_black_fill():
    np.random.seed(3)
    out = RandomRotate(max_angle=10)(_sample(96, 128))
    assert 0 < abs(out['rotate_angle']) <= 10
    _assert_mask_follows_image(out, exact=False)
    assert out['img'][0, 0].sum() == 0 and out['gt_sal_map'][0, 0] == 0  # corners are black


def test_rotate_matches_pil_direction_and_centre():
    """Same geometry as R3Net's ``PIL.Image.rotate(angle, NEAREST)`` on the mask."""
    mask = (_blocky_image(90, 120, block=10)[:, :, 1] > 127).astype(np.uint8) * 255
    angle = 8.0
    matrix = RandomRotate.rotation_matrix(90, 120, angle)
    ours = cv2.warpAffine(mask, matrix, (120, 90), flags=cv2.INTER_NEAREST)
    pil = np.asarray(Image.fromarray(mask).rotate(angle, Image.NEAREST))
    assert (ours == pil).mean() > 0.99
    flipped = np.asarray(Image.fromarray(mask).rotate(-angle, Image.NEAREST))
    assert (ours == flipped).mean() < 0.95  # the direction matters, and is right


def test_resize_keeps_alignment_and_ratio():
    out = Resize(scale=(64, 48))(_sample(30, 40))  # scale is (width, height)
    assert out['img'].shape == (48, 64, 3) and out['img_shape'] == (48, 64)
    assert out['scale_factor'] == (64 / 40, 48 / 30)
    np.testing.assert_allclose(out['gt_sal_map'], _derived(out['img']), atol=1 / 255 + 1e-6)
    kept = Resize(scale=(200, 100), keep_ratio=True)(_sample(60, 40))
    assert kept['img'].shape[:2] == (150, 100)  # long edge 60 -> 150 <= 200, short 40 -> 100
    image_only = Resize(scale=(20, 10))(dict(img=_blocky_image(30, 40)))
    assert image_only['img'].shape == (10, 20, 3) and 'gt_sal_map' not in image_only


# ---------------------------------------------------------------------------------- packing
def test_pack_sal_inputs_types_and_shapes():
    img = _blocky_image(20, 30)
    results = dict(img=img, gt_sal_map=_derived(img), img_path='a.jpg', gt_path='a.png',
                   dataset_name='ECSSD', ori_shape=(20, 30), img_shape=(20, 30), flip=False,
                   flip_direction=None, unrelated='x')
    packed = PackSalInputs()(results)
    inputs, sample = packed['inputs'], packed['data_samples']
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 20, 30)
    assert torch.equal(inputs[0], torch.from_numpy(img[:, :, 0]))  # BGR order kept
    assert isinstance(sample, SalDataSample) and isinstance(sample.gt_sal_map, PixelData)
    gt = sample.gt_sal_map.data
    assert gt.dtype == torch.float32 and gt.shape == (1, 20, 30)
    assert torch.allclose(gt[0], torch.from_numpy(_derived(img)))
    meta = sample.metainfo
    assert meta['dataset_name'] == 'ECSSD' and meta['ori_shape'] == (20, 30)
    assert meta['img_path'] == 'a.jpg' and meta['gt_path'] == 'a.png' and meta['flip'] is False
    assert 'unrelated' not in meta and 'scale_factor' not in meta
    no_gt = PackSalInputs(meta_keys=('img_path', ))(dict(img=img, img_path='b.jpg'))
    assert 'gt_sal_map' not in no_gt['data_samples']
    assert no_gt['data_samples'].metainfo == dict(img_path='b.jpg')


def test_transforms_build_from_registry():
    for cfg in [dict(type='LoadSalImageFromFile'), dict(type='LoadSalAnnotation'),
                dict(type='RandomCropOrResize', size=300), dict(type='RandomFlip', prob=0.5),
                dict(type='RandomRotate', max_angle=10), dict(type='Resize', scale=(320, 320)),
                dict(type='PackSalInputs')]:
        transform = TRANSFORMS.build(cfg)
        assert type(transform).__name__ == cfg['type']
        assert type(transform).__module__.startswith('salbox.datasets.transforms')
