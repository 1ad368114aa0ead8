"""Crash-safe file writes without mmengine or torch (the metric tools use them too).

:func:`atomic_write_bytes` writes to a hidden temporary file in the destination folder, flushes
and ``fsync``s it, then ``os.replace``s it over the destination and ``fsync``s the folder: a
killed process or a full disk never leaves a partial file under the final name, and every
failure (``OSError``: no space left, permission denied) reaches the caller.
:func:`atomic_write_image` encodes with OpenCV and checks the result.
"""
import os
import os.path as osp

TMP_MARK = '.tmp-'


def temp_path(path: str) -> str:
    """The hidden temporary name ``path`` is written under before the rename."""
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}{TMP_MARK}{os.getpid()}')


def _fsync_dir(folder: str) -> None:
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str, data: bytes) -> str:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    folder = osp.dirname(path)
    if folder:
        os.makedirs(folder, exist_ok=True)
    tmp = temp_path(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(folder)
    return path


def atomic_write_image(path: str, image) -> str:
    """Encode ``image`` by ``path``'s extension (OpenCV) and write it atomically; an encoder
    failure or a failed write raises ``OSError`` naming ``path``."""
    import cv2
    ok, encoded = cv2.imencode(osp.splitext(path)[1] or '.png', image)
    if not ok:
        raise OSError(f'cannot encode {path}')
    return atomic_write_bytes(path, encoded.tobytes())
