"""Does a checkpoint fit the model? Refuse a wrong architecture in one line.

mmengine loads weights with ``strict=False`` and only logs the keys that differ, so a
checkpoint of another architecture (or another config's channel widths) tests and infers with
random weights. :func:`check_state_dict` compares the checkpoint's keys and shapes with the
model's and raises :class:`CheckpointMismatchError` naming the first mismatches.

Tolerated (documented in ``docs/bad_input.md``): ``num_batches_tracked`` counters (BatchNorm
bookkeeping, absent from some exporters' files) and everything under a detector's
``postprocessors`` (post-processors such as ``MIPromoter`` load their own weights and are often
added at test time only). A leading ``module.`` (DDP) is stripped from checkpoint keys, as
mmengine does. ``strict=False`` (``--strict off``) turns the refusal into a warning.
"""
import sys
from typing import Dict, List, Tuple

import torch

from .errors import SalboxError

SHOWN = 3  # mismatches named in the message


class CheckpointMismatchError(SalboxError, RuntimeError):
    """The checkpoint's weights do not fit the model the config builds."""


def _tolerated(key: str) -> bool:
    return key.endswith('num_batches_tracked') or key.startswith('postprocessors.') \
        or '.postprocessors.' in key


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The model inside DDP / test-time-augmentation wrappers (their ``module``)."""
    while isinstance(getattr(model, 'module', None), torch.nn.Module):
        model = model.module
    return model


def compare(model: torch.nn.Module, state_dict: Dict[str, object]
            ) -> Tuple[List[str], List[str], List[str]]:
    """(missing, unexpected, shape mismatches) of ``state_dict`` against ``model``, each a list
    of descriptions in the model's key order, tolerated keys left out."""
    own = unwrap(model).state_dict()
    given = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state_dict.items()}
    missing = [k for k in own if k not in given and not _tolerated(k)]
    unexpected = [k for k in given if k not in own and not _tolerated(k)]
    shapes = []
    for key, value in own.items():
        other = given.get(key)
        if isinstance(other, torch.Tensor) and isinstance(value, torch.Tensor) \
                and other.shape != value.shape and not _tolerated(key):
            shapes.append(f'{key} {tuple(other.shape)} in the checkpoint, '
                          f'{tuple(value.shape)} in the model')
    return missing, unexpected, shapes


def _listed(items: List[str], what: str) -> str:
    shown = '; '.join(items[:SHOWN]) + ('; ...' if len(items) > SHOWN else '')
    return f'{len(items)} {what} ({shown})'


def describe(missing, unexpected, shapes) -> str:
    parts = []
    if missing:
        parts.append(_listed(missing, 'missing keys'))
    if unexpected:
        parts.append(_listed(unexpected, 'unexpected keys'))
    if shapes:
        parts.append(_listed(shapes, 'shape mismatches'))
    return ', '.join(parts)


def check_state_dict(model: torch.nn.Module, state_dict: Dict[str, object], path: str,
                     what: str = 'the model of the config', strict: bool = True) -> bool:
    """Raise :class:`CheckpointMismatchError` (one line) when ``state_dict`` does not fit
    ``model``; with ``strict=False`` print the same line as a warning instead. True if it
    fits."""
    problems = compare(model, state_dict)
    if not any(problems):
        return True
    message = f'{path} does not fit {what}: {describe(*problems)}'
    if strict:
        raise CheckpointMismatchError(message + '; is it the checkpoint of another config? '
                                      '(--strict off loads it anyway)')
    print(f'warning: {message}; loading it anyway (--strict off)', file=sys.stderr)
    return False


def load_checked_state_dict(model: torch.nn.Module, source: str,
                            what: str = 'the model of the config', strict: bool = True
                            ) -> Dict[str, object]:
    """The state dict of ``source`` after :func:`check_state_dict`: a checkpoint file (loaded
    safely, its hash verified) or ``pip://NAME`` (weights a pip package ships, through the
    mmengine loader salbox registers for that scheme)."""
    if source.startswith('pip://'):
        from mmengine.runner import CheckpointLoader
        checkpoint = CheckpointLoader.load_checkpoint(source, map_location='cpu')
    else:
        from .checkpoint import load_checkpoint_file
        checkpoint = load_checkpoint_file(source)
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) \
        else checkpoint
    if not isinstance(state, dict):
        raise CheckpointMismatchError(f'{source} holds no state dict (a {type(state).__name__})')
    check_state_dict(model, state, source, what, strict)
    return state
