"""Safe checkpoint loading on torch >= 2.6.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; since torch 2.6 that means
``weights_only=True`` and the Runner's own checkpoints fail to load (they pickle
``HistoryBuffer`` objects and numpy arrays in ``message_hub``; open-mmlab/mmengine#1655).
salbox does not turn safe loading off: it adds the few types mmengine saves to torch's
allow-list of safe globals (``torch.serialization.add_safe_globals``), so loading an untrusted
file still never runs code. A user who trusts a legacy pickle may opt in with
``SALBOX_TRUST_CHECKPOINTS=1``, which only affects files that fail the safe load.

mmengine's own loading (``Runner`` resume and ``load_from``, ``init_cfg=dict(type='Pretrained')``,
``mmengine.runner.load_checkpoint``, its download schemes) goes through
:func:`load_checkpoint_file` once a tool has called ``salbox.utils.mmengine_compat.enable()``,
which registers it with mmengine's ``CheckpointLoader``; ``import salbox`` changes nothing in
mmengine or torch. Code that calls ``torch.load(weights_only=True)`` on a Runner checkpoint
itself calls :func:`register_safe_globals` first (or uses :func:`load_checkpoint_file`, which
does).

Every file is also checked before and after unpickling (:func:`load_checkpoint_file`): a file
that is neither a torch zip archive nor a pickle is refused as "not a checkpoint"; a zip
archive must pass its own CRC-32 checks (torch does not verify them, so bytes overwritten inside
a tensor would load silently); and a checkpoint salbox saved carries the SHA-256 of its weights
(``meta['salbox_sha256']``, :func:`stamp_checkpoint`), which must match. ``meta['config']``,
which mmengine's ``Runner.resume`` would execute with ``Config.fromstring``, is dropped.
"""
import collections
import hashlib
import os
import pickle
import warnings
import zipfile

import numpy as np
import torch

from .errors import SalboxError

_REGISTERED = False


class UnsafeCheckpointError(SalboxError, RuntimeError):
    """A checkpoint needs unpickling beyond the allow-list (it could run code) and
    ``SALBOX_TRUST_CHECKPOINTS=1`` is not set."""


class CorruptCheckpointError(SalboxError, RuntimeError):
    """A checkpoint file is truncated or not a torch checkpoint at all."""


HASH_KEY = 'salbox_sha256'
MODEL_CFG_KEY = 'model_cfg'
_ZIP_MAGIC = b'PK\x03\x04'


def state_dict_sha256(state_dict) -> str:
    """SHA-256 over every entry of a state dict: its key, dtype, shape and bytes (in key order)."""
    digest = hashlib.sha256()
    for key in sorted(state_dict):
        value = state_dict[key]
        digest.update(str(key).encode('utf-8'))
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu().contiguous()
            digest.update(f'{tensor.dtype}{tuple(tensor.shape)}'.encode())
            digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
        else:
            digest.update(repr(value).encode('utf-8'))
    return digest.hexdigest()


def stamp_checkpoint(checkpoint: dict, model_cfg=None) -> dict:
    """Add the weights' SHA-256 and (as plain data) the model config to ``checkpoint['meta']``;
    :func:`load_checkpoint_file` verifies the hash, ``load_promoter`` rebuilds from the config."""
    from .safe_config import plain_data
    meta = checkpoint.setdefault('meta', {})
    meta[HASH_KEY] = state_dict_sha256(checkpoint['state_dict'])
    if model_cfg is not None:
        meta[MODEL_CFG_KEY] = plain_data(model_cfg)
    return checkpoint


def _check_container(path: str) -> None:
    """Refuse files that are not torch checkpoints, and zip archives whose CRC fails."""
    with open(path, 'rb') as f:
        head = f.read(16)
    if head.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
        except (zipfile.BadZipFile, OSError, EOFError) as err:
            raise CorruptCheckpointError(
                f'{path} is not a complete checkpoint (truncated or corrupt; {err})') from None
        if bad is not None:
            raise CorruptCheckpointError(
                f'{path} is corrupt: its part {bad} fails the zip CRC check (the file was '
                'changed or damaged after it was saved)')
    elif not head.startswith(b'\x80'):  # legacy torch files are pickles (protocol 2+)
        kind = 'empty' if not head else f'starts with {head[:12]!r}'
        raise CorruptCheckpointError(f'{path} is not a checkpoint: neither a torch zip file nor '
                                     f'a pickle ({kind})')


def _verify(path: str, checkpoint):
    """Check the stored weights' hash and drop ``meta['config']`` (executable text)."""
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get('meta'), dict):
        return checkpoint
    meta = checkpoint['meta']
    meta.pop('config', None)  # mmengine's Runner.resume runs Config.fromstring on it
    expected = meta.get(HASH_KEY)
    if expected is not None and isinstance(checkpoint.get('state_dict'), dict):
        if state_dict_sha256(checkpoint['state_dict']) != expected:
            raise CorruptCheckpointError(
                f'{path} is corrupt: its weights do not match the SHA-256 saved with them '
                '(the file was changed or damaged after it was saved)')
    return checkpoint


def history_buffer_getattr(owner, name: str):
    """A restricted stand-in for ``builtins.getattr`` during safe unpickling.

    ``HistoryBuffer`` keeps its statistics methods in a class-level dict, so pickle writes
    them as ``getattr(HistoryBuffer, 'min')``. Allowing the real ``getattr`` would let a
    crafted file reach any attribute of any allowed object; this stand-in only returns the
    public statistics methods of ``HistoryBuffer`` and refuses everything else.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    is_buffer = owner is HistoryBuffer or isinstance(owner, HistoryBuffer)
    if is_buffer and not name.startswith('_') and callable(getattr(HistoryBuffer, name, None)):
        return getattr(owner, name)
    raise pickle.UnpicklingError(
        f'refusing getattr({type(owner).__name__}, {name!r}) while loading a checkpoint')


def mmengine_safe_globals() -> list:
    """The types an mmengine Runner checkpoint contains besides tensors and builtins."""
    from mmengine.logging.history_buffer import HistoryBuffer

    safe = [HistoryBuffer, collections.OrderedDict, collections.defaultdict, np.ndarray,
            np.dtype, (history_buffer_getattr, 'builtins.getattr'),
            (history_buffer_getattr, '__builtin__.getattr')]
    # numpy's array and scalar reconstructors moved between numpy 1.x and 2.x.
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    safe += [_reconstruct, scalar]
    # Concrete dtype classes (numpy >= 1.25 pickles them by class).
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in dir(dtypes):
            obj = getattr(dtypes, name)
            if isinstance(obj, type) and name.endswith('DType'):
                safe.append(obj)
    return safe


def register_safe_globals() -> None:
    """Add mmengine's checkpoint types to torch's safe-unpickling allow-list (idempotent)."""
    global _REGISTERED
    if _REGISTERED:
        return
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(mmengine_safe_globals())
    _REGISTERED = True


def load_url(url: str, model_dir=None, map_location=None, progress: bool = False):
    """Download ``url`` once into torch's hub cache (``model_dir`` or
    ``$TORCH_HOME/hub/checkpoints``) and load it with :func:`load_checkpoint_file`."""
    from urllib.parse import urlparse
    if model_dir is None:
        model_dir = os.path.join(torch.hub.get_dir(), 'checkpoints')
    os.makedirs(model_dir, exist_ok=True)
    cached = os.path.join(model_dir, os.path.basename(urlparse(url).path))
    if not os.path.isfile(cached):
        torch.hub.download_url_to_file(url, cached, progress=progress)  # writes via a temp file
    return load_checkpoint_file(cached, map_location=map_location)


def _refusal_reason(err: Exception) -> str:
    """The one line of torch's weights-only refusal that says what was refused."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if 'GLOBAL' in line or 'Unsupported' in line or 'unsupported' in line:
            return line
    return lines[-1] if lines else type(err).__name__


def load_checkpoint_file(path: str, map_location='cpu'):
    """Load a checkpoint with ``weights_only=True`` and salbox's allow-list.

    Raises (each a one-line message naming ``path``) a ``FileNotFoundError`` when it does not
    exist, an :class:`UnsafeCheckpointError` explaining the opt-in when the file needs
    unpickling beyond the allow-list (nothing from the file has run at that point), and a
    :class:`CorruptCheckpointError` when it is truncated (e.g. a save that was killed).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'checkpoint not found: {path}')
    register_safe_globals()
    _check_container(path)
    try:
        return _verify(path, torch.load(path, map_location=map_location, weights_only=True))
    except SalboxError:
        raise
    except pickle.UnpicklingError as err:  # refused by the weights-only unpickler
        if os.environ.get('SALBOX_TRUST_CHECKPOINTS', '0') == '1':
            warnings.warn(f'{path}: loading with weights_only=False because '
                          'SALBOX_TRUST_CHECKPOINTS=1 (this can run code from the file)')
            return _verify(path, torch.load(path, map_location=map_location,  # noqa
                                            weights_only=False))
        raise UnsafeCheckpointError(
            f'{path} cannot be loaded safely, refused by torch.load(weights_only=True): '
            f'{_refusal_reason(err)} If you trust this file, set SALBOX_TRUST_CHECKPOINTS=1 '
            'to allow unsafe unpickling.') from err
    except (RuntimeError, EOFError, ValueError, KeyError, IndexError,
            AttributeError) as err:  # zip reader / legacy format / damaged pickle errors
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CorruptCheckpointError(
            f'{path} is not a complete checkpoint (truncated or corrupt; torch.load: '
            f'{first})') from err
