"""Loading of the compiled extension ``salbox._ext`` (built from ``csrc/`` by ``setup.py``).

Ops ask :func:`get_extension` for the extension that can run on a device. When it is missing
(not built, or built without CUDA for a CUDA tensor) they fall back to their pure-PyTorch
reference, and the user sees exactly one warning per reason that says how to build it.
"""
import importlib
import warnings
from typing import Optional

import torch

BUILD_HINT = 'build it with `pip install --no-build-isolation -e .` from the salbox root'

_extension = None
_import_error: Optional[str] = None
_loaded = False
_warned = set()


def _load():
    global _extension, _import_error, _loaded
    if not _loaded:
        _loaded = True
        try:
            _extension = importlib.import_module('salbox._ext')
        except ImportError as err:  # not built, or built against another torch
            _import_error = f'{type(err).__name__}: {err}'
    return _extension


def _warn_once(key: str, message: str) -> None:
    if key not in _warned:
        _warned.add(key)
        warnings.warn(message, RuntimeWarning, stacklevel=4)


def extension_available(device: torch.device = torch.device('cpu')) -> bool:
    """Whether ``salbox._ext`` is importable and has kernels for ``device``."""
    extension = _load()
    if extension is None:
        return False
    if torch.device(device).type == 'cuda':
        return bool(getattr(extension, 'with_cuda', False))
    return torch.device(device).type == 'cpu'


def get_extension(op_name: str, device: torch.device):
    """Return ``salbox._ext`` if it can run ``op_name`` on ``device``, else None (warns once)."""
    extension = _load()
    if extension is None:
        _warn_once('missing', f'salbox.ops.{op_name}: the C++ extension salbox._ext could not '
                   f'be imported ({_import_error}); using the pure-PyTorch reference instead '
                   f'(slower, more memory). To use the compiled kernels, {BUILD_HINT}.')
        return None
    if not hasattr(extension, f'{op_name}_forward'):
        _warn_once(f'stale:{op_name}', f'salbox.ops.{op_name}: salbox._ext has no '
                   f'{op_name} kernel (built from older sources?); using the pure-PyTorch '
                   f'reference instead. To rebuild, {BUILD_HINT}.')
        return None
    if not extension_available(device):
        _warn_once(f'device:{torch.device(device).type}',
                   f'salbox.ops.{op_name}: salbox._ext has no kernels for device '
                   f'{torch.device(device).type!r} (CUDA kernels are built only against a CUDA '
                   f'build of torch); using the pure-PyTorch reference instead.')
        return None
    return extension
