"""Helpers of the ``salbox serve`` tests: scikit-image's photos, PNG decoding, a free port."""
import os.path as osp
import socket
import uuid

import cv2
import numpy as np

try:
    import skimage
    PHOTOS = osp.join(osp.dirname(skimage.__file__), 'data')
except ImportError:  # the tests that need photos skip
    PHOTOS = None


def photo_path(name: str) -> str:
    return osp.join(PHOTOS, f'{name}.png')


def photo_bytes(name: str) -> bytes:
    with open(photo_path(name), 'rb') as f:
        return f.read()


def decode_png(data: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None, 'the answer is not a PNG'
    return image


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def multipart(name: str, **fields) -> tuple:
    """A multipart body with the photo ``name`` as field ``file`` (and text ``fields``), and
    its content type."""
    boundary = uuid.uuid4().hex
    body = b''.join(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'
                    f'{value}\r\n'.encode() for key, value in fields.items())
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{name}.png"\r\nContent-Type: image/png\r\n\r\n').encode()
    body += photo_bytes(name) + f'\r\n--{boundary}--\r\n'.encode()
    return body, f'multipart/form-data; boundary={boundary}'
