"""Top-level config keys nobody reads: a misspelt ``trian_cfg`` would otherwise be ignored.

mmengine's ``Runner.from_cfg`` reads a fixed set of top-level keys (``mmengine/runner/
runner.py``, ``Runner.from_cfg`` plus the ``self.cfg.get(...)`` calls of ``Runner``: compile,
sync_bn, model_wrapper_cfg, ...) and silently ignores any other, so a typo in a key name
trains with the default instead. :func:`unknown_key_warnings` names such keys, with the
closest known key (``difflib``), when

* a known key is close (similarity >= 0.8: ``trian_cfg`` -> ``train_cfg``,
  ``val_evaluater`` -> ``val_evaluator``), or
* the key looks like a Runner option (ends with ``_cfg``, ``_dataloader``, ``_evaluator``,
  ``_hooks``, ``_scheduler``), or
* it is an MMCV 1.x runner key that MMEngine no longer reads (``lr_config``, ``optimizer``,
  ``runner``, ``data``, ...; the replacement is named, as in MMEngine's migration guide
  "Migrate Runner from MMCV to MMEngine").

A name the config's own files read (``test_pipeline`` in ``dict(pipeline=test_pipeline)``,
``_base_.max_iters``; :func:`config_variables`) is a variable of that config, as OpenMMLab
configs commonly define, and never reported; other unknown keys that match none of the rules
above are not reported either. The result is a warning, not an error (the run goes on): see
docs/bad_input.md.
"""
import ast
import difflib
import os.path as osp
import sys
from typing import Iterable, List, Optional, Set

# Read by mmengine 0.10.7's Runner (from_cfg and Runner's own cfg.get calls) and Config.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler',
    'val_evaluator', 'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor',
    'load_from', 'resume', 'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
    'default_scope', 'randomness', 'experiment_name', 'model_wrapper_cfg', 'sync_bn',
    'find_unused_parameters', 'activation_checkpointing', 'efficient_conv_bn_eval', 'compile',
    'runner_type', 'custom_imports',
})
# Read by salbox's tools and rules (TTA, MI promoter, config checks).
SALBOX_KEYS = frozenset({
    'tta_model', 'tta_pipeline', 'online_cfg', 'weak_detector', 'promoter_checkpoint',
    'inference_max_pixels',
})
KNOWN_KEYS = RUNNER_KEYS | SALBOX_KEYS

# MMCV 1.x top-level keys and where MMEngine expects them.
LEGACY_KEYS = {
    'optimizer': 'optim_wrapper.optimizer', 'optimizer_config': 'optim_wrapper',
    'lr_config': 'param_scheduler', 'momentum_config': 'param_scheduler',
    'runner': 'train_cfg', 'workflow': 'train_cfg', 'total_epochs': 'train_cfg.max_epochs',
    'total_iters': 'train_cfg.max_iters', 'checkpoint_config': 'default_hooks.checkpoint',
    'log_config': 'default_hooks.logger', 'evaluation': 'val_evaluator and train_cfg.val_interval',
    'data': 'train_dataloader / val_dataloader / test_dataloader',
    'dist_params': 'env_cfg.dist_cfg', 'cudnn_benchmark': 'env_cfg.cudnn_benchmark',
    'resume_from': 'resume=True with load_from', 'custom_hooks_config': 'custom_hooks',
}
RUNNER_SUFFIXES = ('_cfg', '_dataloader', '_evaluator', '_hooks', '_scheduler')
CUTOFF = 0.8


def config_variables(filename: Optional[str]) -> Set[str]:
    """The names a config file and its ``_base_`` files read: every ``name`` loaded in their
    Python code and every ``_base_.name`` (mmengine's base-variable reference). A top-level key
    that one of them reads is a variable of the config, not a misspelt Runner key. Files that
    cannot be read or parsed (and ``package::`` bases) add nothing; the config itself has
    already been loaded by mmengine, which reports those.
    """
    names: Set[str] = set()
    todo = [filename] if filename else []
    seen = set()
    while todo:
        path = osp.abspath(todo.pop())
        if path in seen:
            continue
        seen.add(path)
        try:
            with open(path, encoding='utf-8') as f:
                tree = ast.parse(f.read(), filename=path)
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.add(node.id)
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                  and node.value.id == '_base_'):
                names.add(node.attr)
            elif isinstance(node, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id == '_base_'
                    for target in node.targets):
                todo.extend(osp.join(osp.dirname(path), base)
                            for base in _base_files(node.value) if '::' not in base)
    return names


def _base_files(value: ast.expr) -> List[str]:
    """The file names of a ``_base_ = 'a.py'`` or ``_base_ = ['a.py', ...]`` assignment."""
    try:
        bases = ast.literal_eval(value)
    except ValueError:
        return []
    bases = [bases] if isinstance(bases, str) else bases
    return [base for base in bases if isinstance(base, str)] if isinstance(bases, (list, tuple)) \
        else []


def unknown_key_warnings(keys: Iterable[str], where: str = 'config',
                         variables: Iterable[str] = ()) -> List[str]:
    """One message per suspicious top-level key (see the module docstring), in key order.
    ``variables``: names the config reads itself (:func:`config_variables`), never reported."""
    keys = list(keys)
    variables = set(variables)
    candidates = sorted(KNOWN_KEYS | (variables & set(keys)))
    messages = []
    for key in keys:
        if key in KNOWN_KEYS or key in variables or key.startswith('_'):
            continue
        if key in LEGACY_KEYS:
            messages.append(f'{where}: top-level key {key!r} is an MMCV 1.x setting that '
                            f'MMEngine ignores; use {LEGACY_KEYS[key]}')
            continue
        close = difflib.get_close_matches(key, candidates, n=1, cutoff=CUTOFF)
        if close:
            messages.append(f'{where}: unknown top-level key {key!r} is ignored; did you mean '
                            f'{close[0]!r}?')
        elif key.endswith(RUNNER_SUFFIXES):
            nearest = difflib.get_close_matches(key, sorted(RUNNER_KEYS), n=1, cutoff=0)
            hint = f' (closest known key: {nearest[0]!r})' if nearest else ''
            messages.append(f'{where}: unknown top-level key {key!r} is not read by the '
                            f'Runner or salbox{hint}')
    return messages


def warn_unknown_keys(cfg, where: str = 'config') -> None:
    """Print each :func:`unknown_key_warnings` message as one ``warning:`` line on stderr
    (``tools/train.py``, ``tools/test.py`` and ``tools/infer.py``)."""
    variables = config_variables(getattr(cfg, 'filename', None))
    for message in unknown_key_warnings(cfg.keys(), where, variables):
        print(f'warning: {message}', file=sys.stderr)
