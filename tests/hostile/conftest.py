"""Fixtures for the hostile-input tests: bad files written on the fly."""
import pytest
import torch
from hostile_files import REPO, TEST_PIPELINE, TINY_CONFIG, write_bad_files
from mmengine.registry import init_default_scope
from PIL import Image


@pytest.fixture(scope='session')
def huge_png(tmp_path_factory):
    """A real 12000 x 9000 (W x H) PNG: 1-bit, so 13 kB on disk but 324 MB decoded as BGR."""
    path = tmp_path_factory.mktemp('huge') / 'huge.png'
    Image.new('1', (12000, 9000)).save(path)
    return str(path)


@pytest.fixture
def bad_files(tmp_path):
    return write_bad_files(tmp_path / 'files')


@pytest.fixture(autouse=True)
def salbox_scope():
    init_default_scope('salbox')


@pytest.fixture(scope='module')
def tiny_model(tmp_path_factory):
    """(config, checkpoint, data folder) of a tiny R3Net (ResNet-18, 8-channel neck/head)."""
    from mmengine.config import Config

    from salbox.registry import MODELS
    from salbox.utils import register_all_modules
    register_all_modules()
    tmp = tmp_path_factory.mktemp('tiny')
    data = str(tmp / 'data')
    config = tmp / 'tiny.py'
    config.write_text(TINY_CONFIG.format(repo=REPO, data=data, pipeline=TEST_PIPELINE))
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(config)).model)
    checkpoint = str(tmp / 'tiny.pth')
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, checkpoint)
    return str(config), checkpoint, data
