"""Optimisation pieces registered under salbox's own names (mmengine's are left untouched).

``AutocastOptimWrapper``: mixed precision on the CPU as well as on GPUs. mmengine 0.10.7's
``AmpOptimWrapper`` asserts a CUDA (or NPU/MLU/MUSA) device, so a CPU run cannot use it. This
wrapper picks, once, when it is built (:func:`choose_autocast`):

- a CUDA device: CUDA autocast, float16 with a ``GradScaler`` (bfloat16 needs none);
- a CPU with bfloat16 units (``avx512_bf16`` or ``amx_bf16`` in ``/proc/cpuinfo``):
  ``torch.autocast('cpu', torch.bfloat16)``;
- a CPU without them: no autocast (float32), because oneDNN emulates bfloat16 there, usually
  slower than float32; ``cpu_bf16='always'`` forces it anyway.

and logs its choice in one line. One config switch::

    optim_wrapper = dict(type='AutocastOptimWrapper', optimizer=...)

``SalOptimWrapperConstructor``: mmengine's ``DefaultOptimWrapperConstructor`` with the same
``paramwise_cfg`` rules, but the parameters that end up with identical options share one
parameter group, and it logs one line per group instead of one ``paramwise_options`` line per
parameter and option (about 300 lines for R3Net on EfficientNet-Lite0). Fewer groups also make
the optimiser step cheaper (``foreach`` kernels run per group)::

    optim_wrapper = dict(constructor='SalOptimWrapperConstructor', ...)
"""
import logging
from contextlib import contextmanager
from typing import List, NamedTuple, Optional

import torch
import torch.nn as nn
from mmengine.logging import MMLogger, print_log
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper

from salbox.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS
from salbox.utils.cpu_features import bf16_units

_DTYPES = {'float16': torch.float16, 'bfloat16': torch.bfloat16,
           torch.float16: torch.float16, torch.bfloat16: torch.bfloat16}


class AutocastChoice(NamedTuple):
    """What :class:`AutocastOptimWrapper` does: ``dtype`` None means no autocast (float32)."""
    device_type: str
    dtype: Optional[torch.dtype]
    grad_scaler: bool
    reason: str


def choose_autocast(cuda: bool, cpu_units: Optional[List[str]], dtype: Optional[str] = None,
                    cpu_bf16: str = 'auto') -> AutocastChoice:
    """The autocast a run gets.

    Args:
        cuda: whether the model trains on a CUDA device.
        cpu_units: :func:`salbox.utils.cpu_features.bf16_units` (None: unknown, not Linux).
        dtype: 'float16' or 'bfloat16' (None: float16 on CUDA, bfloat16 on the CPU). The CPU
            runs bfloat16 only (float16 autocast on the CPU is not a speed-up).
        cpu_bf16: 'auto' (bfloat16 only with bfloat16 units), 'always', or 'never'.
    """
    if cpu_bf16 not in ('auto', 'always', 'never'):
        raise ValueError(f"cpu_bf16 must be 'auto', 'always' or 'never', got {cpu_bf16!r}")
    if dtype is not None and dtype not in _DTYPES:
        raise ValueError(f"dtype must be 'float16' or 'bfloat16', got {dtype!r}")
    if cuda:
        dt = _DTYPES[dtype or 'float16']
        return AutocastChoice('cuda', dt, dt == torch.float16,
                              f'CUDA autocast {dt} ({"with" if dt == torch.float16 else "no"} '
                              'loss scaling)')
    if dtype is not None and _DTYPES[dtype] != torch.bfloat16:
        raise ValueError('CPU autocast runs bfloat16 only; got dtype=float16 on a CPU run')
    if cpu_bf16 == 'never':
        return AutocastChoice('cpu', None, False, "float32 (cpu_bf16='never')")
    if cpu_bf16 == 'always':
        return AutocastChoice('cpu', torch.bfloat16, False,
                              "CPU autocast bfloat16 (cpu_bf16='always')")
    if cpu_units:
        return AutocastChoice('cpu', torch.bfloat16, False,
                              f'CPU autocast bfloat16 (this CPU has {", ".join(cpu_units)})')
    why = ('the CPU flags cannot be read' if cpu_units is None
           else 'this CPU has no avx512_bf16/amx_bf16 units: bfloat16 would be emulated')
    return AutocastChoice('cpu', None, False, f'float32, no autocast ({why})')


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under the autocast :func:`choose_autocast` picks.

    Args:
        dtype: 'float16' / 'bfloat16' / None (float16 on CUDA, bfloat16 on the CPU).
        cpu_bf16: 'auto' (default), 'always' or 'never' (see :func:`choose_autocast`).
        device: 'cuda' or 'cpu'; None: CUDA when torch sees a GPU.
        **kwargs: ``OptimWrapper``'s (optimizer, accumulative_counts, clip_grad).
    """

    def __init__(self, dtype: Optional[str] = None, cpu_bf16: str = 'auto',
                 device: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        cuda = torch.cuda.is_available() if device is None else device == 'cuda'
        self.choice = choose_autocast(cuda, None if cuda else bf16_units(), dtype, cpu_bf16)
        self.loss_scaler = (torch.amp.GradScaler('cuda') if self.choice.grad_scaler else None)
        print_log(f'AutocastOptimWrapper: {self.choice.reason}', logger='current')

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is not None:
            loss = self.loss_scaler.scale(loss)
        loss.backward(**kwargs)
        self._inner_count += 1

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            return super().step(**kwargs)
        if self.clip_grad_kwargs:
            self.loss_scaler.unscale_(self.optimizer)
            self._clip_grad()
        self.loss_scaler.step(self.optimizer, **kwargs)
        self.loss_scaler.update()

    def state_dict(self) -> dict:
        state = self.optimizer.state_dict()
        if self.loss_scaler is not None:
            state['loss_scaler'] = self.loss_scaler.state_dict()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state_dict = dict(state_dict)
        scaler_state = state_dict.pop('loss_scaler', None)
        if scaler_state is not None and self.loss_scaler is not None:
            self.loss_scaler.load_state_dict(scaler_state)
        self.optimizer.load_state_dict(state_dict)

    @contextmanager
    def optim_context(self, model: nn.Module):
        with super().optim_context(model):
            if self.choice.dtype is None:
                yield
            else:
                with torch.autocast(device_type=self.choice.device_type,
                                    dtype=self.choice.dtype):
                    yield


def _short(value):
    """A float without the rounding noise of lr x lr_mult (9e-05, not 8.999999999999999e-05)."""
    return round(value, 12) if isinstance(value, float) else value


class _DropParamwiseLines(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith('paramwise_options -- ')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SalOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """``DefaultOptimWrapperConstructor`` with merged parameter groups and one log line per
    group (see the module docstring). The rules (``custom_keys``, ``bias_lr_mult``,
    ``norm_decay_mult``...) are mmengine's, applied per parameter as before; only parameters
    whose resulting options are identical are then put in the same group, in first-seen order.
    """

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module=None) -> None:
        if prefix:  # the recursion: mmengine's rules, one group per parameter
            return super().add_params(params, module, prefix, is_dcn_module)
        logger = MMLogger.get_current_instance()
        quiet = _DropParamwiseLines()
        logger.addFilter(quiet)
        try:
            per_param: List[dict] = []
            super().add_params(per_param, module, prefix, is_dcn_module)
        finally:
            logger.removeFilter(quiet)
        names = {id(p): n for n, p in module.named_parameters()}
        merged = {}
        for group in per_param:
            options = tuple(sorted((k, repr(v)) for k, v in group.items() if k != 'params'))
            if options not in merged:
                merged[options] = dict(group, params=[], _names=[])
            merged[options]['params'].extend(group['params'])
            merged[options]['_names'].extend(names.get(id(p), '?') for p in group['params'])
        for i, group in enumerate(merged.values()):
            group_names = group.pop('_names')
            options = ', '.join(f'{k}={_short(v)}' for k, v in group.items()
                                if k != 'params') or 'the optimizer defaults'
            prefixes = sorted({n.split('.')[0] for n in group_names})
            print_log(f'param group {i}: {len(group["params"])} parameters '
                      f'({", ".join(prefixes)}): {options}', logger='current')
            params.append(group)
