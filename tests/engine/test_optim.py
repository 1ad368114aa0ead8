"""AutocastOptimWrapper's choice logic and context, SalOptimWrapperConstructor's groups and log
(salbox/engine/optim.py). No timing asserts."""
import logging

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor

from salbox.engine.optim import AutocastOptimWrapper, SalOptimWrapperConstructor, choose_autocast
from salbox.registry import OPTIM_WRAPPER_CONSTRUCTORS, OPTIM_WRAPPERS


def test_cpu_with_bf16_units_autocasts_bfloat16():
    choice = choose_autocast(False, ['avx512_bf16'])
    assert (choice.device_type, choice.dtype, choice.grad_scaler) == ('cpu', torch.bfloat16, False)
    assert 'avx512_bf16' in choice.reason


@pytest.mark.parametrize('units', [[], None])
def test_cpu_without_bf16_units_stays_float32(units):
    choice = choose_autocast(False, units)
    assert choice.dtype is None and not choice.grad_scaler
    assert 'float32' in choice.reason


def test_cpu_always_and_never():
    assert choose_autocast(False, [], cpu_bf16='always').dtype == torch.bfloat16
    assert choose_autocast(False, ['amx_bf16'], cpu_bf16='never').dtype is None


def test_cuda_float16_scales_the_loss_and_bfloat16_does_not():
    fp16 = choose_autocast(True, None)
    assert (fp16.device_type, fp16.dtype, fp16.grad_scaler) == ('cuda', torch.float16, True)
    bf16 = choose_autocast(True, None, dtype='bfloat16')
    assert (bf16.dtype, bf16.grad_scaler) == (torch.bfloat16, False)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match='bfloat16 only'):
        choose_autocast(False, ['avx512_bf16'], dtype='float16')
    with pytest.raises(ValueError, match='cpu_bf16'):
        choose_autocast(False, [], cpu_bf16='yes')
    with pytest.raises(ValueError, match='dtype'):
        choose_autocast(True, None, dtype='int8')



class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def _capture():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    return logger, handler


@pytest.mark.parametrize('cpu_bf16,expected', [('always', True), ('never', False)])
def test_wrapper_runs_the_forward_under_its_choice_and_logs_it(cpu_bf16, expected):
    model = nn.Linear(4, 1)
    logger, handler = _capture()
    try:
        wrapper = OPTIM_WRAPPERS.build(dict(
            type='AutocastOptimWrapper', device='cpu', cpu_bf16=cpu_bf16,
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    finally:
        logger.removeHandler(handler)
    assert isinstance(wrapper, AutocastOptimWrapper)
    assert [m for m in handler.messages if m.startswith('AutocastOptimWrapper: ')]
    x = torch.randn(8, 4)
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        assert torch.is_autocast_enabled('cpu') is expected
        out = model(x)
    assert (out.dtype == torch.bfloat16) is expected
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
    assert not torch.is_autocast_enabled('cpu')
    state = wrapper.state_dict()
    wrapper.load_state_dict(state)


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))
        self.head = nn.Sequential(nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4), nn.Conv2d(4, 1, 1))


def _build(constructor, model, paramwise_cfg):
    return OPTIM_WRAPPER_CONSTRUCTORS.build(dict(
        type=constructor,
        optim_wrapper_cfg=dict(type='OptimWrapper',
                               optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.01)),
        paramwise_cfg=paramwise_cfg))(model)


@pytest.mark.parametrize('paramwise_cfg', [
    dict(custom_keys={'backbone': dict(lr_mult=0.3)}),
    dict(custom_keys={'backbone': dict(lr_mult=0.3)}, norm_decay_mult=0.0, bias_lr_mult=2.0),
])
def test_constructor_merges_groups_with_mmengines_per_parameter_options(paramwise_cfg):
    model = _Net()
    logger, handler = _capture()
    try:
        merged = _build('SalOptimWrapperConstructor', model, paramwise_cfg)
    finally:
        logger.removeHandler(handler)
    reference = _build('DefaultOptimWrapperConstructor', model, paramwise_cfg)

    def options(optimizer):
        return {id(p): (g['lr'], g['weight_decay']) for g in optimizer.param_groups
                for p in g['params']}

    assert options(merged.optimizer) == options(reference.optimizer)
    params = [p for g in merged.optimizer.param_groups for p in g['params']]
    assert len(params) == len(set(map(id, params))) == len(list(model.parameters()))
    distinct = {(g['lr'], g['weight_decay']) for g in reference.optimizer.param_groups}
    assert len(merged.optimizer.param_groups) == len(distinct) < len(reference.optimizer.param_groups)
    group_lines = [m for m in handler.messages if m.startswith('param group ')]
    assert len(group_lines) == len(merged.optimizer.param_groups)
    assert not [m for m in handler.messages if m.startswith('paramwise_options')]
    assert isinstance(OPTIM_WRAPPER_CONSTRUCTORS.get('SalOptimWrapperConstructor'),
                      type) and issubclass(SalOptimWrapperConstructor,
                                           DefaultOptimWrapperConstructor)


def test_constructor_leaves_the_logger_quiet_filter_removed():
    _build('SalOptimWrapperConstructor', _Net(), dict(custom_keys={'backbone': dict(lr_mult=0.3)}))
    logger, handler = _capture()
    try:
        logger.info('paramwise_options -- still shown outside the constructor')
    finally:
        logger.removeHandler(handler)
    assert handler.messages == ['paramwise_options -- still shown outside the constructor']
