"""Helpers shared by ``tools/train.py`` and ``tools/test.py``: config loading, runner building,
test outputs, and turning user mistakes into one clear line instead of a traceback."""
import copy
import os
import os.path as osp
import re
import sys
import zipfile
from typing import Callable, Optional

from mmengine.config import Config
from mmengine.runner import Runner

from salbox.utils.errors import SalboxError
from .build_errors import describe_build_error
from .config_keys import warn_unknown_keys


def add_runner_arguments(parser) -> None:
    """The arguments train.py and test.py share (MMSegmentation's): ``--cfg-options``,
    ``--launcher`` and ``--local-rank``."""
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings, e.g. train_cfg.max_iters=100')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_arguments(parser, argv=None):
    """Parse, and export ``LOCAL_RANK`` for distributed launchers that do not set it."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def load_config(path: str, cfg_options: Optional[dict] = None, launcher: str = 'none',
                work_dir: Optional[str] = None) -> Config:
    """Read a config, apply ``--cfg-options KEY=VALUE`` overrides and fix the work dir
    (command line > config > ``./work_dirs/<config name>``)."""
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise SalboxError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    warn_unknown_keys(cfg, path)  # a misspelt key is never read
    cfg.launcher = launcher
    if cfg_options:
        check_option_keys(cfg_options, cfg)
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(path))[0])
    cfg.work_dir = osp.expanduser(cfg.work_dir)
    cfg.setdefault('default_scope', 'salbox')
    return cfg


def check_option_keys(cfg_options: dict, cfg: Config) -> None:
    """Refuse ``--cfg-options`` whose top-level key the config lacks and the Runner would not
    read (a typo such as ``trian_cfg.max_iters=3``), in one line per key
    (``salbox.apis.config_keys``); keys the config already has are always accepted."""
    from .config_keys import unknown_key_warnings
    tops = list(dict.fromkeys(key.split('.')[0] for key in cfg_options))
    messages = unknown_key_warnings([key for key in tops if key not in cfg], '--cfg-options')
    if messages:
        raise SalboxError('\n'.join(m.replace(' is ignored;', ' would be ignored;')
                                     for m in messages))


def _pretrained_paths(node, key: str = 'model'):
    """Yield (config key, checkpoint path) for every weight file training starts from: each
    ``init_cfg`` of type ``Pretrained``, and a ``RefinedDetector``'s ``first_stage_checkpoint``
    (whose first stage then needs none of its own init_cfgs, so those are not visited)."""
    if isinstance(node, dict):
        if node.get('type') == 'Pretrained' and isinstance(node.get('checkpoint'), str):
            yield key, node['checkpoint']
        skip = set()
        if isinstance(node.get('first_stage_checkpoint'), str):
            yield f'{key}.first_stage_checkpoint', node['first_stage_checkpoint']
            skip.add('first_stage')
        for name, value in node.items():
            if name not in skip:
                yield from _pretrained_paths(value, f'{key}.{name}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            yield from _pretrained_paths(value, f'{key}.{i}')


def check_pretrained_weights(cfg: Config) -> None:
    """Fail before training starts when a local weight file training starts from is missing."""
    for key, path in _pretrained_paths(cfg.get('model', {})):
        if '://' in path or osp.isfile(path):
            continue
        if key.endswith('first_stage_checkpoint'):
            raise SalboxError(
                f'first-stage checkpoint not found: {path} ({key}). Train the first stage '
                f'first, or point --cfg-options {key}=PATH at its checkpoint')
        owner = key.rsplit('.init_cfg', 1)[0]
        raise SalboxError(
            f'pretrained weights not found: {path} ({key}). Get and convert them as the '
            f"method's configs README says (tools/model_converters/), or train from scratch "
            f'with --cfg-options {owner}.init_cfg=None')


def check_train_data(cfg: Config) -> None:
    """Build the training data set once before the Runner starts, so a missing or broken data
    set is reported in one line before any logging (pairing checks run at build time)."""
    from mmengine.registry import init_default_scope

    from salbox.registry import DATASETS
    dataset_cfg = (cfg.get('train_dataloader') or {}).get('dataset')
    if dataset_cfg is None:
        return
    init_default_scope(cfg.get('default_scope', 'salbox'))
    DATASETS.build(copy.deepcopy(dataset_cfg))


def check_writable_dir(folder: str, what: str = 'output folder') -> None:
    """Create ``folder`` and try a write there, so that a read-only (or otherwise unusable)
    location is one line naming it before any work is done."""
    import tempfile
    try:
        os.makedirs(folder, exist_ok=True)
        tempfile.NamedTemporaryFile(dir=folder, prefix='.salbox-write-test-').close()
    except OSError as err:
        raise SalboxError(f'cannot write to {what} {folder}: {err.strerror or err}') from None


def check_device(device: str) -> None:
    """Refuse ``--device cuda`` (or ``cuda:N``) in one line when torch sees no such GPU."""
    if not str(device).startswith('cuda'):
        return
    import torch
    if not torch.cuda.is_available():
        raise SalboxError(f'--device {device}: torch sees no CUDA GPU (torch '
                          f'{torch.__version__}, CUDA available: no); use --device cpu')
    index = str(device).partition(':')[2]
    if index.isdigit() and int(index) >= torch.cuda.device_count():
        raise SalboxError(f'--device {device}: torch sees {torch.cuda.device_count()} CUDA '
                          'GPU(s)')


def resolve_dist_backend(cfg: Config) -> str:
    """Fill in ``env_cfg.dist_cfg.backend``: ``'auto'`` (the salbox default) or unset becomes
    ``'nccl'`` when torch sees a CUDA GPU and ``'gloo'`` otherwise. An explicit ``'nccl'``
    without a GPU is refused in one line instead of failing inside torch.distributed."""
    import torch
    env_cfg = cfg.setdefault('env_cfg', {})
    dist_cfg = env_cfg.setdefault('dist_cfg', {})
    backend = dist_cfg.get('backend', 'auto')
    has_cuda = torch.cuda.is_available()
    if backend in (None, 'auto'):
        backend = 'nccl' if has_cuda else 'gloo'
    elif backend == 'nccl' and not has_cuda:
        raise SalboxError("env_cfg.dist_cfg.backend='nccl' needs CUDA GPUs and torch sees none: "
                          "use 'auto' or 'gloo' to run distributed on CPUs")
    dist_cfg['backend'] = backend
    return backend


def prepare_distributed(cfg: Config) -> None:
    """Make mmengine's distributed setup work on CPUs as well as GPUs.

    mmengine 0.10.7 assumes GPUs in two places: ``init_dist`` always calls
    ``torch.cuda.set_device`` (``mmengine/dist/utils.py``, ``_init_dist_pytorch``) and
    ``Runner.wrap_model`` passes ``device_ids=[LOCAL_RANK]`` to DistributedDataParallel, which
    torch refuses for a CPU module. Without CUDA this initialises the process group itself
    (the Runner then skips ``init_dist``) and asks for a DDP wrapper with ``device_ids=None``.
    """
    if cfg.get('launcher', 'none') == 'none':
        return
    import datetime

    import torch
    import torch.distributed as dist
    backend = resolve_dist_backend(cfg)
    if torch.cuda.is_available():
        return
    if cfg.get('sync_bn'):
        raise SalboxError('sync_bn needs GPUs: torch DistributedDataParallel refuses '
                          'SyncBatchNorm layers in a CPU model')
    if cfg.launcher != 'pytorch':
        raise SalboxError(f'--launcher {cfg.launcher} needs CUDA GPUs in mmengine 0.10.7; on '
                          'CPUs launch with torchrun (tools/dist_train.sh, --launcher pytorch)')
    if not dist.is_initialized():
        kwargs = {k: v for k, v in cfg.env_cfg.dist_cfg.items() if k != 'backend'}
        if isinstance(kwargs.get('timeout'), (int, float)):
            kwargs['timeout'] = datetime.timedelta(seconds=kwargs['timeout'])
        dist.init_process_group(backend=backend, **kwargs)
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None:
        cfg.model_wrapper_cfg = dict(
            type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    elif wrapper.get('type', 'MMDistributedDataParallel') == 'MMDistributedDataParallel':
        wrapper.setdefault('device_ids', None)


def build_runner(cfg: Config) -> Runner:
    """The config's Runner, with salbox's safe checkpoint loading switched on in mmengine
    (``salbox.utils.mmengine_compat.enable``)."""
    from salbox.registry import RUNNERS
    from salbox.utils import mmengine_compat
    mmengine_compat.enable()
    check_writable_dir(cfg.work_dir, 'the work dir')
    prepare_distributed(cfg)
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


_CHECKPOINT_NAME = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def checkpoint_is_complete(path: str) -> bool:
    """True when ``path`` is a whole torch zip checkpoint (its central directory, written last,
    is present); a save cut short by a crash fails this check without reading the file."""
    return osp.isfile(path) and zipfile.is_zipfile(path)


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``tools/train.py --resume`` (no path) continues from.

    The one ``work_dir/last_checkpoint`` names when it is complete; otherwise the newest
    complete ``iter_N.pth`` / ``epoch_N.pth`` in ``work_dir``, with a warning naming the file
    skipped. ``None`` when the work dir has no checkpoint at all (training starts afresh);
    a one-line :class:`SalboxError` when checkpoints exist but none is complete.
    """
    named = None
    marker = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(marker):
        with open(marker) as f:
            named = f.read().strip() or None
    if named is not None and checkpoint_is_complete(named):
        return named
    found = []
    if osp.isdir(work_dir):
        for name in os.listdir(work_dir):
            match = _CHECKPOINT_NAME.match(name)
            if match:
                found.append((int(match.group(1)), osp.join(work_dir, name)))
    found.sort(reverse=True)
    bad = [path for _, path in found if not checkpoint_is_complete(path)]
    if named is not None and named not in bad:
        bad.insert(0, named)
    for _, path in found:
        if checkpoint_is_complete(path):
            if bad:
                print(f'warning: resuming from {path}: skipped {", ".join(bad)} (missing or '
                      'truncated)', file=sys.stderr)
            return path
    if bad:
        raise SalboxError(f'cannot resume: {", ".join(bad)} missing or truncated and no complete '
                          f'checkpoint in {work_dir}')
    return None


def _evaluators(cfg: Config):
    evaluator = cfg.get('test_evaluator')
    if evaluator is None:
        return []
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        evaluator = evaluator['metrics']
    return evaluator if isinstance(evaluator, (list, tuple)) else [evaluator]


def set_test_outputs(cfg: Config, out_dir: Optional[str] = None,
                     show_dir: Optional[str] = None, method_name: Optional[str] = None) -> None:
    """Point the saliency metric at the map folder (``--out``) and the results tables at the
    work dir (rows named ``method_name``), and add the panel-writing hook for ``--show-dir``."""
    metrics = [m for m in _evaluators(cfg) if m.get('type', '').endswith('SODMetric')]
    if out_dir is not None and not metrics:
        raise SalboxError('--out needs an SODMetric in test_evaluator to write the maps')
    for metric in metrics:
        if out_dir is not None:
            metric['output_dir'] = out_dir
        metric.setdefault('results_dir', osp.join(cfg.work_dir, 'results'))
        if method_name is not None:
            metric.setdefault('method_name', method_name)
    if show_dir is not None:
        hooks = list(cfg.get('custom_hooks') or [])
        hooks.append(dict(type='SalVisualizationHook', out_dir=show_dir))
        cfg.custom_hooks = hooks


MAX_ERROR_LINES = 20


def error_text(err: BaseException, max_lines: int = MAX_ERROR_LINES) -> str:
    """An error's whole message (a multi-line one lists several problems: its first line and
    up to ``max_lines`` more, then how many were left out); an ``OSError`` as ``reason: path``."""
    if isinstance(err, OSError) and err.strerror and not isinstance(err, SalboxError):
        return f'{err.strerror}: {err.filename}' if err.filename else err.strerror
    lines = [line.rstrip() for line in str(err).strip().splitlines() if line.strip()]
    if not lines:
        return repr(err)
    if len(lines) > max_lines + 1:
        left = len(lines) - 1 - max_lines
        lines = lines[:max_lines + 1] + [f'  ... and {left} more line(s) (SALBOX_DEBUG=1 '
                                         'shows the whole error)']
    return '\n'.join(lines)


def run_friendly(main: Callable) -> None:
    """Run a tool's ``main``; user-facing errors become one ``error: ...`` message (a multi-line
    one whole, up to ``MAX_ERROR_LINES`` lines, :func:`error_text`) and exit 1.

    User-facing: ``SalboxError``, ``FileNotFoundError``, ``PermissionError`` and other errors
    of a named path, and the config mistakes mmengine
    raises while building an object from a config (unknown ``type``, misspelt keyword;
    recognised from the traceback by ``salbox.apis.build_errors``). Any other exception keeps
    its traceback. Set ``SALBOX_DEBUG=1`` to see the full traceback of every error.
    """
    debug = os.environ.get('SALBOX_DEBUG', '0') == '1'
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
    except (SalboxError, FileNotFoundError, PermissionError, NotADirectoryError,
            IsADirectoryError) as err:
        if debug:
            raise
        print(f'error: {error_text(err)}', file=sys.stderr)
        sys.exit(1)
    except (KeyError, TypeError) as err:
        message = None if debug else describe_build_error(err)
        if message is None:
            raise
        print(f'error: {message} (SALBOX_DEBUG=1 shows the traceback)', file=sys.stderr)
        sys.exit(1)
