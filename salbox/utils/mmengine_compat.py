"""Every salbox dependency on how mmengine works inside, in one module, behind one version check.

salbox supports mmengine ``>=0.10.0, <0.11`` (tested with 0.10.7). :func:`check_version` says
once, in one warning line, when another version is installed: the facts below are read from
0.10.x and may not hold elsewhere.

Nothing here runs on import, and ``import salbox`` changes nothing in mmengine or torch. The
tools switch it on with :func:`enable` (``tools/train.py``, ``tools/test.py`` and every Runner
salbox builds, ``salbox.apis.init_model``); it is idempotent. It does two things, both through
public extension points:

* adds the few types mmengine's Runner checkpoints contain to torch's safe-unpickling
  allow-list (``torch.serialization.add_safe_globals``; ``salbox.utils.checkpoint``), so a
  Runner resumes under ``torch.load(weights_only=True)`` (open-mmlab/mmengine#1655);
* registers salbox's checked loader (:func:`salbox.utils.checkpoint.load_checkpoint_file`)
  with ``CheckpointLoader.register_scheme`` for plain paths (Runner resume and ``load_from``,
  ``init_cfg=dict(type='Pretrained')``, ``mmengine.runner.load_checkpoint``) and for the
  download schemes (http(s)://, torchvision:// / modelzoo://, open-mmlab:// / openmmlab://,
  mmcls://). mmengine's own ``load_url`` (torch.hub, ``weights_only=False``) is left as it is
  for any other caller: salbox's loaders download with :func:`salbox.utils.checkpoint.load_url`
  and name the models with mmengine's public ``get_torchvision_models`` /
  ``get_external_models`` / ``get_mmcls_models`` / ``get_deprecated_model_names``.

The other version-dependent facts salbox relies on:

* :func:`build_from_cfg_frames` / :data:`UNKNOWN_TYPE`: where mmengine builds a config object
  (``build_from_cfg`` in ``mmengine/registry/build_functions.py``) and the wording of its
  "not in the registry" error (``salbox.apis.build_errors``);
* :func:`pop_test_losses`: a test step may end its outputs with a data element holding only
  ``loss``, which mmengine's ``TestLoop`` logs instead of evaluating
  (``salbox.engine.resume_maps_loop``);
* ``CheckpointHook._save_checkpoint_with_step`` and ``_save_best_checkpoint`` (their arguments
  and the bookkeeping they do), overridden by ``salbox.engine.hooks.AtomicCheckpointHook`` to
  order a save so that a crash cannot lose the run; the hook calls :func:`check_version`.
"""
import os
import os.path as osp
import re
import traceback
import warnings
from typing import List, Tuple

SUPPORTED = '>=0.10.0, <0.11'
_MIN, _MAX = (0, 10, 0), (0, 11, 0)

_CHECKED = None
_ENABLED = False


def _parse(version: str) -> Tuple[int, ...]:
    parts = []
    for part in version.split('.')[:3]:
        digits = re.match(r'\d+', part)
        parts.append(int(digits.group()) if digits else 0)
    return tuple(parts + [0] * (3 - len(parts)))


def check_version() -> bool:
    """True when the installed mmengine is in :data:`SUPPORTED`; otherwise warn once, in one
    line, and return False (salbox still runs, its mmengine-specific parts may not)."""
    global _CHECKED
    if _CHECKED is None:
        import mmengine
        version = getattr(mmengine, '__version__', '0')
        _CHECKED = _MIN <= _parse(version) < _MAX
        if not _CHECKED:
            warnings.warn(f'salbox supports mmengine {SUPPORTED}, found {version}: checkpoint '
                          'loading, config error messages and the --resume test loop may not '
                          'work (salbox/utils/mmengine_compat.py)', stacklevel=2)
    return _CHECKED


def is_enabled() -> bool:
    return _ENABLED


def enable() -> None:
    """Switch salbox's safe checkpoint loading on in mmengine (see the module docstring)."""
    global _ENABLED
    if _ENABLED:
        return
    check_version()
    from mmengine.runner import CheckpointLoader

    from .checkpoint import register_safe_globals
    register_safe_globals()
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'), loader=load_from_http,
                                     force=True)
    CheckpointLoader.register_scheme(prefixes=('modelzoo://', 'torchvision://'),
                                     loader=load_from_torchvision, force=True)
    CheckpointLoader.register_scheme(prefixes=('open-mmlab://', 'openmmlab://'),
                                     loader=load_from_openmmlab, force=True)
    CheckpointLoader.register_scheme(prefixes='mmcls://', loader=load_from_mmcls, force=True)
    _ENABLED = True


# ------------------------------------------------------------------------- checkpoint loaders
def load_from_local(filename: str, map_location=None):
    """``CheckpointLoader`` entry for plain paths: salbox's checked, weights-only loader."""
    from .checkpoint import load_checkpoint_file
    return load_checkpoint_file(osp.expanduser(filename), map_location=map_location)


def load_from_http(filename: str, map_location=None, model_dir=None, progress=False):
    """http(s):// through salbox's downloader; rank 0 downloads first, as mmengine does."""
    from mmengine.dist import get_dist_info

    from .checkpoint import load_url
    rank, world_size = get_dist_info()
    checkpoint = None
    if rank == 0:
        checkpoint = load_url(filename, model_dir=model_dir, map_location=map_location,
                              progress=progress)
    if world_size > 1:
        import torch.distributed
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = load_url(filename, model_dir=model_dir, map_location=map_location,
                                  progress=progress)
    return checkpoint


def load_from_torchvision(filename: str, map_location=None):
    from mmengine.runner.checkpoint import get_torchvision_models
    name = filename.split('://', 1)[1]
    return load_from_http(_model_url(get_torchvision_models(), name, filename),
                          map_location=map_location)


def _mmengine_home() -> str:
    cache = os.getenv('XDG_CACHE_HOME', osp.join('~', '.cache'))
    return osp.expanduser(os.getenv('MMENGINE_HOME', osp.join(cache, 'mmengine')))


def load_from_openmmlab(filename: str, map_location=None):
    from mmengine.runner.checkpoint import get_deprecated_model_names, get_external_models
    name = filename.split('://', 1)[1]
    name = get_deprecated_model_names().get(name, name)
    url = _model_url(get_external_models(), name, filename)
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location=map_location)
    return load_from_local(osp.join(_mmengine_home(), url), map_location=map_location)


def load_from_mmcls(filename: str, map_location=None):
    """mmcls:// checkpoints hold a classifier: keep its backbone, without the prefix."""
    from collections import OrderedDict

    from mmengine.runner.checkpoint import get_mmcls_models
    name = filename.split('://', 1)[1]
    checkpoint = load_from_http(_model_url(get_mmcls_models(), name, filename),
                                map_location=map_location)
    state_dict = checkpoint.get('state_dict', checkpoint)
    backbone = OrderedDict((key[len('backbone.'):], value) for key, value in state_dict.items()
                           if key.startswith('backbone.'))
    return dict(state_dict=backbone)


def _model_url(urls: dict, name: str, filename: str) -> str:
    if name not in urls:
        from .errors import SalboxError
        raise SalboxError(f'unknown model name in {filename}: mmengine knows no {name!r}')
    return urls[name]


# ------------------------------------------------------------------------------ build errors
# mmengine 0.10.x builds every config object in this function of this file.
_BUILD_FUNCTION = ('mmengine/registry/build_functions.py', 'build_from_cfg')
# The KeyError build_from_cfg raises for an unknown type: "<type> is not in the
# <scope>::<registry name> registry. Please check ...".
UNKNOWN_TYPE = re.compile(r"^'?(\S+) is not in the (\w+)::([\w ]+?) registry\.")
NO_TYPE = 'must contain the key "type"'
TYPE_NOT_STR = 'type must be a str'


def build_from_cfg_frames(err: BaseException) -> Tuple[List[int], list]:
    """For the traceback of ``err``, outermost first: the indices of mmengine's
    ``build_from_cfg`` frames, and each frame's (qualified function name, code object). Only
    code objects are read, never a frame's local variables."""
    builds, frames = [], []
    for index, (frame, _) in enumerate(traceback.walk_tb(err.__traceback__)):
        code = frame.f_code
        path = code.co_filename.replace('\\', '/')
        if code.co_name == _BUILD_FUNCTION[1] and path.endswith(_BUILD_FUNCTION[0]):
            builds.append(index)
        frames.append((getattr(code, 'co_qualname', code.co_name), code))
    return builds, frames


# --------------------------------------------------------------------------------- test loop
def pop_test_losses(outputs: list, losses: dict) -> list:
    """mmengine 0.10's test-step convention: when the last output is a data element holding
    only ``loss`` (a dict of tensors or lists of tensors), take it off the outputs and add its
    values to ``losses`` (``HistoryBuffer`` per name), which ``TestLoop.run`` logs. Returns
    the outputs to evaluate."""
    import torch
    from mmengine.logging import HistoryBuffer
    from mmengine.structures import BaseDataElement
    if not outputs or not isinstance(outputs[-1], BaseDataElement) \
            or list(outputs[-1].keys()) != ['loss']:
        return outputs
    for name, value in outputs[-1].loss.items():
        buffer = losses.setdefault(name, HistoryBuffer())
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            if isinstance(item, torch.Tensor):
                buffer.update(item.item())
    return outputs[:-1]
