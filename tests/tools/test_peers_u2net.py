"""benchmarks/peers_u2net.py: U²-Net's official test step around the network (no ONNX file
needed): input scaling and normalisation, min-max output back at the photo's size."""
import os.path as osp
import sys

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'benchmarks'))

import peers_u2net as peers  # noqa: E402


def test_input_is_320_divided_by_its_max_then_imagenet_normalised():
    image = np.full((50, 70, 3), 100, np.uint8)
    image[0, 0] = 200
    x = peers.official_input(image)
    assert x.shape == (1, 3, 320, 320) and x.dtype == np.float32
    # a flat region of value 100 next to a max of ~200 -> about 0.5 before mean/std
    centre = x[0, :, 160, 160] * peers.STD + peers.MEAN
    assert np.all(np.abs(centre - centre[0]) < 1e-6)
    assert 0.45 < centre[0] < 0.55


def test_output_is_min_max_normalised_8_bit_at_the_photo_size():
    d0 = np.linspace(0.2, 0.6, 320 * 320, dtype=np.float32).reshape(320, 320)
    out = peers.official_output(d0, 48, 64)
    assert out.shape == (48, 64) and out.dtype == np.uint8
    assert out.min() <= 2 and out.max() >= 250
    assert np.all(peers.official_output(np.zeros((320, 320), np.float32), 10, 12) == 0)


def test_image_lists_are_sorted_and_limited(tmp_path):
    for name in ('b.jpg', 'a.jpg', 'c.png', 'notes.txt'):
        (tmp_path / name).write_bytes(b'')
    assert peers.list_images(str(tmp_path)) == ['a.jpg', 'b.jpg', 'c.png']
    assert peers.list_images(str(tmp_path), 2) == ['a.jpg', 'b.jpg']
