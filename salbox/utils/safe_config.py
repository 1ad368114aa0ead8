"""Configs that come from a file the user was handed are data: parsed, never executed.

mmengine stores a Runner's whole config in a checkpoint as Python text (``meta['cfg']``,
``Config.pretty_text``) and ``Config.fromstring`` would *execute* it. salbox only reads such
text with :func:`literal_assignment`, which evaluates one top-level assignment
(``model = dict(...)``) from its syntax tree, accepting nothing but literals, ``dict(k=v)``,
lists, tuples and negative numbers; every other statement of the text is ignored, never run.

A config dict is not harmless either: mmengine's ``Registry.get`` falls back to importing any
dotted name (``type='os.system'`` would be called with the other keys as arguments,
``mmengine/registry/registry.py``). :func:`check_registered_types` accepts only ``type`` names
that a salbox or mmengine registry holds. :func:`plain_data` turns a config into the plain
containers ``torch.load(weights_only=True)`` accepts, for storing in checkpoints.
"""
import ast
from typing import Any

from .errors import SalboxError


class UnsafeConfigError(SalboxError, ValueError):
    """A config read from a file is not plain data, or names a type no registry holds."""


def _literal(node: ast.AST, source: str) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = [_literal(item, source) for item in node.elts]
        return tuple(items) if isinstance(node, ast.Tuple) else \
            set(items) if isinstance(node, ast.Set) else items
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise _not_data(node, source, '** unpacking')
        return {_literal(k, source): _literal(v, source) for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id == 'dict' and not node.args \
            and all(kw.arg is not None for kw in node.keywords):
        return {kw.arg: _literal(kw.value, source) for kw in node.keywords}
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand, source)
        if isinstance(value, (int, float, complex)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    raise _not_data(node, source, ast.unparse(node)[:60])


def _not_data(node: ast.AST, source: str, what: str) -> UnsafeConfigError:
    line = getattr(node, 'lineno', '?')
    return UnsafeConfigError(f'{source}: the stored config is not plain data (line {line}: '
                             f'{what}); it is never executed, pass the config file instead')


def literal_assignment(text: str, name: str = 'model', source: str = 'config text') -> Any:
    """The value of the top-level ``name = ...`` in Python config ``text``, as data.

    ``None`` when there is no such assignment. Raises :class:`UnsafeConfigError` (one line
    naming ``source``) when the text does not parse or the value is not plain data.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as err:
        raise UnsafeConfigError(f'{source}: the stored config does not parse ({err})') from None
    value = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in statement.targets):
            value = _literal(statement.value, source)
    return value


def plain_data(value: Any) -> Any:
    """``value`` (a ``Config``/``ConfigDict`` or nested containers) as dicts, lists, tuples,
    strings, numbers, booleans and ``None``; anything else becomes its ``repr``."""
    if hasattr(value, 'to_dict'):
        value = value.to_dict()
    if isinstance(value, dict):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(plain_data(v) for v in value)
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def registered_type_names() -> set:
    """Every name held by a salbox registry or its mmengine parent (all kinds of registry)."""
    import salbox.registry as registries
    from mmengine.registry import Registry
    names = set()
    for registry in vars(registries).values():
        if not isinstance(registry, Registry):
            continue
        registry.import_from_location()
        node = registry
        while node is not None:
            names.update(node.module_dict)
            node = node.parent
    return names


def check_registered_types(cfg: Any, source: str, key: str = 'model') -> None:
    """Refuse (one line naming ``source`` and the key) any ``type`` that is not a registered
    name: ``type`` values from a file must never reach mmengine's import-by-name fallback."""
    known = None
    stack = [(key, cfg)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            if 'type' in node:
                name = node['type']
                if known is None:
                    known = registered_type_names()
                bare = name.split('.', 1)[1] if isinstance(name, str) and \
                    name.startswith(('salbox.', 'mmengine.')) else name
                if not isinstance(bare, str) or bare not in known:
                    raise UnsafeConfigError(
                        f'{source}: {where}.type={name!r} is not a registered salbox or '
                        'mmengine module; refusing to build it from a stored config')
            stack.extend((f'{where}.{k}', v) for k, v in node.items())
        elif isinstance(node, (list, tuple)):
            stack.extend((f'{where}.{i}', v) for i, v in enumerate(node))
