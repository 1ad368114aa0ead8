"""Crash-safe file writes: a killed process never leaves a truncated file under the final name.

:func:`atomic_write_bytes` writes to a temporary file in the destination folder, flushes and
``fsync``s it, then ``os.replace``s it over the destination (atomic on POSIX and Windows when
both are on one file system) and ``fsync``s the folder so the rename itself survives a power
cut. :class:`AtomicLocalBackend` is mmengine's ``LocalBackend`` with ``put``/``put_text`` done
that way; salbox's checkpoint hook saves through it (``backend_args=dict(backend='local_atomic')``).
"""
import os
import os.path as osp

from mmengine.fileio import LocalBackend, register_backend

TMP_MARK = '.tmp-'
PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
PNG_END = b'IEND\xaeB`\x82'  # the IEND chunk type and its CRC: the last 8 bytes of every PNG


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


def remove_stale_temp_files(folder: str) -> list:
    """Delete the temporary files a killed writer left in ``folder``; return their paths."""
    removed = []
    if not osp.isdir(folder):
        return removed
    for name in os.listdir(folder):
        if name.startswith('.') and TMP_MARK in name:
            path = osp.join(folder, name)
            if osp.isfile(path):
                os.remove(path)
                removed.append(path)
    return removed


def png_is_complete(path: str) -> bool:
    """True when ``path`` is a PNG that was written to the end (signature and final IEND chunk
    present), so a map cut short by a crash is redone rather than kept."""
    try:
        size = osp.getsize(path)
        if size < len(PNG_SIGNATURE) + 12:
            return False
        with open(path, 'rb') as f:
            head = f.read(len(PNG_SIGNATURE))
            f.seek(size - len(PNG_END))
            tail = f.read()
    except OSError:
        return False
    return head == PNG_SIGNATURE and tail == PNG_END


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes go through :func:`atomic_write_bytes`."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(str(filepath), obj)

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(str(filepath), obj.encode(encoding))


register_backend('local_atomic', AtomicLocalBackend, force=True)
