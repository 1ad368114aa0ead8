"""Bad image files, generated on the fly (nothing is stored in the repository)."""
import importlib.util
import os
import os.path as osp
import shutil

import cv2
import numpy as np
from PIL import Image

H, W = 24, 32  # every good test image is 24 x 32 (H x W)


def picture(seed: int = 0) -> np.ndarray:
    """An RGB picture with distinct rows and columns (so flips and rotations show)."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    rgb[:, :, 0] = np.arange(W, dtype=np.uint8)[None] * 8
    return rgb


def mask_array() -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[4:18, 6:20] = 255
    return mask


def write_bad_files(folder) -> dict:
    """{kind: path} of every hostile image kind; sizes are 24 x 32 unless the kind says."""
    folder = str(folder)
    os.makedirs(folder, exist_ok=True)
    rgb = picture()
    image = Image.fromarray(rgb)
    files = {}

    def path(name):
        return osp.join(folder, name)

    image.save(path('good.jpg'), quality=95)
    files['good'] = path('good.jpg')
    data = open(files['good'], 'rb').read()
    with open(path('truncated.jpg'), 'wb') as f:
        f.write(data[:len(data) * 2 // 3])
    files['truncated_jpeg'] = path('truncated.jpg')
    image.save(path('full.png'))
    png = open(path('full.png'), 'rb').read()
    with open(path('truncated_png.png'), 'wb') as f:
        f.write(png[:len(png) // 2])
    files['truncated_png'] = path('truncated_png.png')
    open(path('zero.jpg'), 'wb').close()
    files['zero_bytes'] = path('zero.jpg')
    with open(path('text.png'), 'w') as f:
        f.write('this is not an image\n')
    files['not_an_image'] = path('text.png')
    image.save(path('png_named.jpg'), format='PNG')
    files['png_named_jpg'] = path('png_named.jpg')
    image.convert('P', palette=Image.ADAPTIVE, colors=16).save(path('palette.png'))
    files['palette'] = path('palette.png')
    Image.fromarray(rgb[:, :, 1].astype(np.uint16) * 257 + 3).save(path('sixteen.png'))
    files['16bit'] = path('sixteen.png')
    image.convert('CMYK').save(path('cmyk.jpg'), quality=95)
    files['cmyk'] = path('cmyk.jpg')
    rgba = np.dstack([rgb, np.full((H, W), 100, np.uint8)])
    Image.fromarray(rgba).save(path('rgba.png'))
    files['rgba'] = path('rgba.png')
    image.convert('L').save(path('grey.png'))
    files['grey'] = path('grey.png')
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display: the upright image is 32 x 24
    image.save(path('exif_rotated.jpg'), quality=95, exif=exif)
    files['exif_rotated'] = path('exif_rotated.jpg')
    Image.fromarray(rgb[:20, :20]).save(path('small.png'))
    files['other_size'] = path('small.png')
    return files


REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TEST_PIPELINE = [dict(type='LoadSalImageFromFile'), dict(type='LoadSalAnnotation'),
                 dict(type='PackSalInputs', keep_ori_img=True)]
TINY_CONFIG = '''
_base_ = '{repo}/configs/r3net/r3net_resnet18_synthetic.py'
model = dict(neck=dict(channels=8), head=dict(in_channels=8, channels=8, num_steps=1),
             postprocessors=[])
test_dataloader = dict(batch_size=1, dataset=dict(
    _delete_=True, type='SalientObjectDataset', data_root='{data}',
    data_prefix=dict(img_path='images', gt_path='masks'), img_suffix=['.jpg', '.png'],
    test_mode=True, pipeline={pipeline}))
'''


def tool(name: str):
    """``tools/<name>.py`` loaded by path (``test`` is also a standard-library package)."""
    spec = importlib.util.spec_from_file_location(f'salbox_tools_{name}',
                                                  osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dataset_folder(root, kinds, files):
    """images/<kind>.<ext> + masks/<kind>.png (24 x 32, or 32 x 24 for the EXIF image)."""
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'masks'), exist_ok=True)
    for kind in kinds:
        src = files[kind]
        ext = '.jpg' if src.endswith('.jpg') else '.png'
        shutil.copy(src, osp.join(root, 'images', kind + ext))
        mask = mask_array()
        if kind == 'exif_rotated':
            mask = np.ascontiguousarray(np.rot90(mask, -1))  # drawn on the upright image
        cv2.imwrite(osp.join(root, 'masks', kind + '.png'), mask)
    return root
