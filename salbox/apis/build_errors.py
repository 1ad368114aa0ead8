"""One clear line for the two config mistakes mmengine reports with a long traceback.

mmengine 0.10.7 builds every object of a config in ``mmengine/registry/build_functions.py``
``build_from_cfg``: it looks the ``type`` up in the registry (``KeyError: 'X is not in the
salbox::model registry ...'`` when missing) and calls ``obj_cls(**args)`` (Python's
``TypeError: ResNet.__init__() got an unexpected keyword argument 'depht'`` for a misspelt
key). :func:`describe_build_error` recognises exactly these shapes from where they were raised (the
functions of the traceback, ``salbox.utils.mmengine_compat.build_from_cfg_frames``), not from
the message alone, and without reading any frame's local variables:

* the innermost frame is ``build_from_cfg`` itself (the type lookup failed, the config
  entry has no ``type``, or the class refused the keywords at the call), or
* the innermost frame, right below ``build_from_cfg``, is the ``__init__`` of the class being
  built, takes ``**kwargs`` and passed the keyword on to a base class's ``__init__``
  (``SaliencyDetector(**kwargs) -> BaseModel``).

The type, registry scope and name come from mmengine's message; the class is found in the
registries (the one whose ``__init__`` refused the call, or whose ``__init__`` is the
innermost frame's code), preferring the default scope. A ``KeyError``/``TypeError`` raised
anywhere else is a programming error and keeps its traceback. The line names the type and its
registry, or the class and the bad keyword, and the closest valid names (``difflib``).
"""
import difflib
import inspect
import re
from typing import Iterator, List, Optional, Tuple

from salbox.utils import mmengine_compat

_UNEXPECTED = re.compile(r"^([\w.<>]+)\(\) got an unexpected keyword argument '(\w+)'")
_MISSING = re.compile(r'^([\w.<>]+)\(\) missing \d+ required (?:positional|keyword-only) '
                      r'arguments?: (.+)$')


def registry_names(registry) -> List[str]:
    """Every type name ``registry.get`` can resolve in its scope: its own and its parents'."""
    names, seen = [], set()
    while registry is not None and id(registry) not in seen:
        seen.add(id(registry))
        names.extend(registry.module_dict)
        registry = registry.parent
    return sorted(set(names))


def _registries() -> Iterator:
    """mmengine's root registries and all their children (salbox's, plugins')."""
    import mmengine.registry as roots
    from mmengine.registry import Registry
    todo = [value for value in vars(roots).values() if isinstance(value, Registry)]
    seen = set()
    while todo:
        registry = todo.pop()
        if id(registry) in seen:
            continue
        seen.add(id(registry))
        yield registry
        todo.extend(registry.children.values())


def _default_scope() -> Optional[str]:
    from mmengine.registry import DefaultScope
    current = DefaultScope.get_current_instance()
    return current.scope_name if current is not None else None


def _registered(matches) -> Optional[Tuple[type, object]]:
    """The (class, registry) registered under the given test, the default scope's first."""
    found = [(cls, registry) for registry in _registries()
             for cls in registry.module_dict.values() if matches(cls)]
    if not found:
        return None
    scope = _default_scope()
    found.sort(key=lambda item: item[1].scope != scope)
    return found[0]


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


def _init_qualname(cls) -> str:
    init = getattr(cls, '__init__', None)
    return getattr(init, '__qualname__', '')


def _describe_unknown_type(err: KeyError) -> Optional[str]:
    match = mmengine_compat.UNKNOWN_TYPE.match(str(err))
    if match is None:
        return None
    obj_type, scope, name = match.groups()
    registry = next((r for r in _registries() if r.scope == scope and r.name == name), None)
    if registry is None:
        return None
    close = _closest(obj_type, registry_names(registry))
    hint = (f'did you mean {close}?' if close else
            'is the module that registers it imported (custom_imports in the config)?')
    return (f'unknown type {obj_type!r} in the {scope}::{name} registry (config key '
            f'type=...); {hint}')


def _describe_bad_keyword(err: TypeError, builds: List[int], frames) -> Optional[str]:
    """``frames``: (qualified name, code object) from the outermost to the innermost."""
    message = str(err)
    unexpected, missing = _UNEXPECTED.match(message), _MISSING.match(message)
    if not (unexpected or missing):
        return None
    refused = (unexpected or missing).group(1)  # the function that refused the call
    at_call = builds[-1] == len(frames) - 1  # build_from_cfg's obj_cls(**args) itself
    if at_call:
        found = _registered(lambda cls: inspect.isclass(cls) and _init_qualname(cls) == refused)
    elif unexpected and builds[-1] == len(frames) - 2:
        # The built class's __init__ (taking **kwargs) passed the keyword on to a base class.
        qualname, code = frames[-1]
        if not (qualname.endswith('.__init__') and code.co_flags & inspect.CO_VARKEYWORDS):
            return None
        found = _registered(lambda cls: inspect.isclass(cls) and getattr(
            getattr(cls, '__init__', None), '__code__', None) is code)
        if found is None or not any(_init_qualname(base) == refused
                                    for base in found[0].__mro__[1:]):
            return None
    else:
        return None
    if found is None:
        return None
    cls, registry = found
    where = f' ({registry.scope}::{registry.name} registry)'
    if unexpected:
        key = unexpected.group(2)
        close = _closest(key, _parameters(cls))
        hint = f'; did you mean {close}?' if close else ''
        return f'{cls.__name__}{where} got an unknown config key {key!r}{hint}'
    return f'{cls.__name__}{where} needs config key(s) {missing.group(2)}'


def describe_build_error(err: BaseException) -> Optional[str]:
    """A one-line description of a config mistake found while mmengine built an object, or
    ``None`` when ``err`` is anything else (which should keep its traceback)."""
    if not isinstance(err, (KeyError, TypeError)):
        return None
    builds, frames = mmengine_compat.build_from_cfg_frames(err)
    if not builds:
        return None
    innermost = builds[-1] == len(frames) - 1
    if isinstance(err, KeyError):
        if not innermost:
            return None
        text = str(err)
        if mmengine_compat.NO_TYPE in text:
            entry = text.split('but got ', 1)[-1].split('\\n', 1)[0].split('\n', 1)[0]
            return f'a config entry has no type=...: {entry[:200]}'
        return _describe_unknown_type(err)
    if innermost and mmengine_compat.TYPE_NOT_STR in str(err):
        return f'config key type= must be a class name string: {err}'
    return _describe_bad_keyword(err, builds, frames)
