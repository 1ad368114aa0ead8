"""Fixtures for the hostile-input tests: bad files written on the fly."""
import pytest
from hostile_files import write_bad_files
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
