"""One clear line for the two config mistakes mmengine reports with a long traceback.

mmengine 0.10.7 builds every object of a config in ``mmengine/registry/build_functions.py``
``build_from_cfg``: it looks the ``type`` up in the registry (``KeyError: 'X is not in the
salbox::model registry ...'`` when missing) and calls ``obj_cls(**args)`` (Python's
``TypeError: ResNet.__init__() got an unexpected keyword argument 'depht'`` for a misspelt
key). :func:`describe_build_error` recognises exactly these shapes from the traceback, not
from the message alone:

* the innermost frame is ``build_from_cfg`` itself (the type lookup failed, the config
  entry has no ``type``, or the class refused the keywords at the call), or
* the innermost frame is an ``__init__`` that received the refused keyword through its
  ``**kwargs`` and passed it on (``SaliencyDetector(**kwargs) -> BaseModel``), below a
  ``build_from_cfg`` frame.

A ``KeyError``/``TypeError`` raised anywhere else is a programming error and keeps its
traceback. The line names the type and its registry, or the class and the bad keyword, and
the closest valid names (``difflib``).
"""
import difflib
import inspect
import re
from typing import List, Optional

_UNEXPECTED = re.compile(r"got an unexpected keyword argument '(\w+)'")
_BUILD_FUNCTIONS = 'mmengine/registry/build_functions.py'
_MISSING = re.compile(r'missing \d+ required (?:positional|keyword-only) arguments?: (.+)$')


def _frames(tb) -> List:
    frames = []
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    return frames


def _is_build_from_cfg(frame) -> bool:
    code = frame.f_code
    path = code.co_filename.replace('\\', '/')
    return code.co_name == 'build_from_cfg' and path.endswith(_BUILD_FUNCTIONS)


def _forwarded_kwargs(frame) -> dict:
    """The ``**kwargs`` dict of a function frame (empty if it has none)."""
    code = frame.f_code
    if not code.co_flags & inspect.CO_VARKEYWORDS:
        return {}
    index = code.co_argcount + code.co_kwonlyargcount
    if code.co_flags & inspect.CO_VARARGS:
        index += 1
    value = frame.f_locals.get(code.co_varnames[index])
    return value if isinstance(value, dict) else {}


def registry_names(registry) -> List[str]:
    """Every type name ``registry.get`` can resolve in its scope: its own and its parents'."""
    names, seen = [], set()
    while registry is not None and id(registry) not in seen:
        seen.add(id(registry))
        names.extend(registry.module_dict)
        registry = registry.parent
    return sorted(set(names))


def _closest(word: str, candidates, n: int = 3) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=n, cutoff=0.6)
    return ', '.join(repr(c) for c in close)


def _parameters(cls) -> List[str]:
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [p.name for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _describe_unknown_type(frame, err: KeyError) -> Optional[str]:
    registry, obj_type = frame.f_locals.get('registry'), frame.f_locals.get('obj_type')
    if registry is None or not isinstance(obj_type, str) or 'registry' not in str(err):
        return None
    where = f'{registry.scope}::{registry.name}'
    close = _closest(obj_type, registry_names(registry))
    hint = (f'did you mean {close}?' if close else
            'is the module that registers it imported (custom_imports in the config)?')
    return f'unknown type {obj_type!r} in the {where} registry (config key type=...); {hint}'


def _describe_bad_keyword(frames, err: TypeError) -> Optional[str]:
    builds = [i for i, frame in enumerate(frames) if _is_build_from_cfg(frame)]
    if not builds:
        return None
    build, innermost = frames[builds[-1]], frames[-1]
    obj_cls, registry = build.f_locals.get('obj_cls'), build.f_locals.get('registry')
    if obj_cls is None:
        return None
    name = getattr(obj_cls, '__name__', repr(obj_cls))
    where = f' ({registry.scope}::{registry.name} registry)' if registry is not None else ''
    message = str(err)
    unexpected = _UNEXPECTED.search(message)
    if unexpected:
        key = unexpected.group(1)
        at_call = innermost is build
        forwarded = (innermost.f_code.co_name == '__init__'
                     and key in _forwarded_kwargs(innermost)
                     and key in (build.f_locals.get('args') or {}))
        if not (at_call or forwarded):
            return None
        close = _closest(key, _parameters(obj_cls))
        hint = f'; did you mean {close}?' if close else ''
        return f'{name}{where} got an unknown config key {key!r}{hint}'
    missing = _MISSING.search(message)
    if missing and innermost is build:
        return f'{name}{where} needs config key(s) {missing.group(1)}'
    return None


def describe_build_error(err: BaseException) -> Optional[str]:
    """A one-line description of a config mistake found while mmengine built an object, or
    ``None`` when ``err`` is anything else (which should keep its traceback)."""
    if not isinstance(err, (KeyError, TypeError)):
        return None
    frames = _frames(err.__traceback__)
    if not frames:
        return None
    if isinstance(err, KeyError):
        if not _is_build_from_cfg(frames[-1]):
            return None
        if 'must contain the key "type"' in str(err):
            cfg = frames[-1].f_locals.get('cfg')
            text = repr(dict(cfg)) if cfg is not None else ''
            return f'a config entry has no type=...: {text[:200]}'
        return _describe_unknown_type(frames[-1], err)
    if _is_build_from_cfg(frames[-1]) and 'type must be a str' in str(err):
        return f'config key type= must be a class name string: {err}'
    return _describe_bad_keyword(frames, err)
