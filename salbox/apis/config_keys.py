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

Other unknown keys are taken for variables used inside the config (``crop_size = ...``), as
OpenMMLab configs commonly define, and are not reported. The result is a warning, not an
error (the run goes on): see docs/bad_input.md.
"""
import difflib
import sys
from typing import Iterable, List

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
    'validation_watches_test_set', 'inference_max_pixels',
})
# Variables salbox's own configs define and reuse (configs/, projects/*/configs/).
CONFIG_VARIABLES = frozenset({
    'data_root', 'synthetic_data_root', 'train_pipeline', 'val_pipeline', 'test_pipeline',
    'max_iters', 'val_interval', 'vis_backends', 'arn_size', 'arn_test_datasets',
    'arn_test_pipeline', 'arn_train_pipeline', 'brn_pixels', 'brn_size', 'rln_pixels',
    'rln_size', 'dgrl_test_sets', 'lite0_channels', 'vgg_widths', 'sod_test_dataset',
    'dut_omron_test_dataset', 'duts_te_test_dataset', 'ecssd_test_dataset',
    'hku_is_test_dataset', 'msra10k_test_dataset', 'pascal_s_test_dataset',
})
KNOWN_KEYS = RUNNER_KEYS | SALBOX_KEYS | CONFIG_VARIABLES

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


def unknown_key_warnings(keys: Iterable[str], where: str = 'config') -> List[str]:
    """One message per suspicious top-level key (see the module docstring), in key order."""
    messages = []
    for key in keys:
        if key in KNOWN_KEYS or key.startswith('_'):
            continue
        if key in LEGACY_KEYS:
            messages.append(f'{where}: top-level key {key!r} is an MMCV 1.x setting that '
                            f'MMEngine ignores; use {LEGACY_KEYS[key]}')
            continue
        close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=CUTOFF)
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
    for message in unknown_key_warnings(cfg.keys(), where):
        print(f'warning: {message}', file=sys.stderr)
