"""Images and prior maps paired for the MI promoter: sizes compared as the files decode."""
import cv2
import numpy as np
from PIL import Image

from salbox.datasets.prior_dataset import pair_images_and_priors, read_pair


def _exif_jpeg(path, rgb, orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(rgb).save(path, quality=95, exif=exif.tobytes())


def test_exif_rotated_photo_pairs_with_the_prior_of_its_upright_view(tmp_path):
    """A 60x40 (W x H) JPEG with EXIF orientation 6 shows as 40x60; its prior is 40x60 too.
    The pairing checks the size the image decodes to (oriented), so it is accepted and
    read_pair gives aligned arrays; a prior of the raw header size is the mismatch."""
    images, priors = tmp_path / 'images', tmp_path / 'priors'
    images.mkdir()
    priors.mkdir()
    rgb = np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8)
    _exif_jpeg(images / 'rotated.jpg', rgb, 6)
    assert Image.open(images / 'rotated.jpg').size == (60, 40)  # raw header: W 60, H 40
    cv2.imwrite(str(priors / 'rotated.png'), np.full((60, 40), 200, np.uint8))  # H 60, W 40

    pairs, problems = pair_images_and_priors(str(images), str(priors))
    assert not any(problems.values()), problems
    assert [p[1] for p in pairs] == [str(images / 'rotated.jpg')]
    image, prior = read_pair(*pairs[0][1:])
    assert image.shape == (3, 60, 40) and prior.shape == (1, 60, 40)

    cv2.imwrite(str(priors / 'rotated.png'), np.full((40, 60), 200, np.uint8))  # raw size
    _, problems = pair_images_and_priors(str(images), str(priors))
    assert problems['size mismatch'] == ['rotated.png 60x40 vs rotated.jpg 40x60']
