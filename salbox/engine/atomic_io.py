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

from salbox.utils.atomic_file import TMP_MARK, atomic_write_bytes, temp_path  # noqa: F401

PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
PNG_END = b'IEND\xaeB`\x82'  # the IEND chunk type and its CRC: the last 8 bytes of every PNG


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
