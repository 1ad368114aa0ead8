"""Run a function right after a module is imported, without importing it now.

``import salbox`` must stay cheap (``tools/eval_maps.py`` and the plain metric functions need
neither torch nor mmengine), yet mmengine's checkpoint loader has to be replaced before any
checkpoint is opened. :func:`when_imported` does that with a finder on ``sys.meta_path``
(the mechanism of PEP 302 / PEP 451 import hooks, see the ``importlib`` documentation,
"Finders and loaders"): when the named module is imported for the first time, its normal
loader runs, then the callback. If the module is already imported, the callback runs at once.
"""
import importlib.abc
import sys
import threading
from typing import Callable, Dict, List

_LOCK = threading.RLock()
_PENDING: Dict[str, List[Callable[[], None]]] = {}


class _CallbackLoader(importlib.abc.Loader):
    """Wraps the module's real loader; runs the callbacks after the module has executed."""

    def __init__(self, loader, name: str):
        self.loader, self.name = loader, name

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        # Put the real loader back first, so the module looks as if imported normally.
        module.__loader__ = self.loader
        if getattr(module, '__spec__', None) is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        _run_callbacks(self.name)

    def __getattr__(self, attr):  # is_package, get_resource_reader, get_code, ...
        return getattr(self.loader, attr)


class _PostImportFinder(importlib.abc.MetaPathFinder):
    """Finds nothing itself: for a watched name it asks the other finders and wraps the loader."""

    def find_spec(self, fullname, path, target=None):
        if fullname not in _PENDING:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, 'exec_module'):
            spec.loader = _CallbackLoader(spec.loader, fullname)
        return spec


_FINDER = _PostImportFinder()


def _run_callbacks(name: str) -> None:
    with _LOCK:
        callbacks = _PENDING.pop(name, [])
        if not _PENDING and _FINDER in sys.meta_path:
            sys.meta_path.remove(_FINDER)
    for callback in callbacks:
        callback()


def when_imported(name: str, callback: Callable[[], None]) -> None:
    """Call ``callback()`` once ``name`` (a full module name) has been imported: now if it
    already is, else right after its first import completes."""
    with _LOCK:
        if name not in sys.modules:
            _PENDING.setdefault(name, []).append(callback)
            if _FINDER not in sys.meta_path:
                sys.meta_path.insert(0, _FINDER)
            return
    callback()
