"""salbox.ops.local_propagation: the csrc kernels against the F.unfold reference.

The reference itself is checked against a direct loop over DGRL's formula, so the oracle does
not rest on the code under test. Kernel tests need the built extension (`pip install
--no-build-isolation -e .`) and are skipped, with that reason, without it.
"""
import os.path as osp
import subprocess
import sys
import warnings

import pytest
import torch

from salbox.ops import (PROPAGATION_MODES, LocalPropagationFunction, extension_available,
                        local_propagation, local_propagation_reference)
from salbox.ops import extension as extension_module

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
needs_extension = pytest.mark.skipif(
    not extension_available(),
    reason='salbox._ext is not built: pip install --no-build-isolation -e .')

# (batch, n, height, width): n in {3, 5, 7}, images smaller than the window, odd sizes, and
# 480 x 96 whose planes are multiples of 4 KiB apart (the CPU loop's cache-set case).
SHAPES = [(1, 3, 8, 8), (2, 5, 13, 9), (3, 7, 11, 17), (1, 5, 3, 2), (2, 3, 1, 1),
          (1, 7, 5, 4), (1, 5, 48, 96), (2, 1, 4, 6), (1, 9, 10, 12)]


@pytest.fixture
def single_thread():
    """gradcheck makes thousands of tiny calls: keep them off the shared thread pool, which
    only adds scheduling noise on a loaded machine (the parallel path is covered by the
    larger shapes of the forward/backward comparisons)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_inputs(batch, size, height, width, dtype=torch.float32, seed=0):
    generator = torch.Generator().manual_seed(seed)
    coeffs = torch.randn(batch, size * size, height, width, generator=generator, dtype=dtype)
    saliency = torch.rand(batch, 1, height, width, generator=generator, dtype=dtype)
    return coeffs, saliency


def loop_propagation(coeffs, saliency):
    """DGRL's formula written out: fg_i = sum_d v_i^d s_{i+d}, bg_i = sum_d v_i^d (1 - s_{i+d})."""
    batch, channels, height, width = coeffs.shape
    size = int(round(channels ** 0.5))
    radius = size // 2
    fg = torch.zeros(batch, 1, height, width, dtype=torch.float64)
    bg = torch.zeros_like(fg)
    for ky in range(size):
        for kx in range(size):
            d = ky * size + kx
            for y in range(height):
                for x in range(width):
                    yy, xx = y + ky - radius, x + kx - radius
                    inside = 0 <= yy < height and 0 <= xx < width
                    zero = torch.zeros(batch, dtype=torch.float64)
                    s = saliency[:, 0, yy, xx].double() if inside else zero
                    v = coeffs[:, d, y, x].double()
                    fg[:, 0, y, x] += v * s
                    bg[:, 0, y, x] += v * (1 - s)
    return fg, bg


@pytest.mark.parametrize('shape', [(2, 3, 4, 5), (1, 5, 3, 6)])
def test_reference_matches_dgrl_formula(shape):
    coeffs, saliency = make_inputs(*shape, dtype=torch.float64)
    fg, bg = loop_propagation(coeffs, saliency)
    torch.testing.assert_close(local_propagation_reference(coeffs, saliency), fg)
    torch.testing.assert_close(local_propagation_reference(coeffs, saliency, 'background'), bg)
    both = local_propagation_reference(coeffs, saliency, 'both')
    torch.testing.assert_close(both, torch.cat([bg, fg], dim=1))
    torch.testing.assert_close(local_propagation_reference(coeffs, saliency, 'logit'), fg - bg)


def test_centre_one_coefficients_reproduce_the_map():
    """DGRL's BRN init: centre coefficient 1, others 0, so the output is the input map."""
    coeffs, saliency = make_inputs(2, 5, 7, 9)
    coeffs.zero_()[:, 12] = 1
    for op in (local_propagation, local_propagation_reference):
        torch.testing.assert_close(op(coeffs, saliency), saliency)
        probability = torch.softmax(op(coeffs, saliency, 'both'), dim=1)[:, 1:]
        torch.testing.assert_close(probability, torch.sigmoid(2 * saliency - 1))


@needs_extension
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('mode', PROPAGATION_MODES)
def test_forward_matches_reference_float32(shape, mode):
    coeffs, saliency = make_inputs(*shape)
    expected = local_propagation_reference(coeffs, saliency, mode)
    torch.testing.assert_close(local_propagation(coeffs, saliency, mode), expected,
                               atol=1e-5, rtol=1e-5)


@needs_extension
@pytest.mark.parametrize('shape', SHAPES)
@pytest.mark.parametrize('mode', ['foreground', 'both'])
def test_backward_matches_reference_float32(shape, mode):
    coeffs, saliency = make_inputs(*shape)
    weights = torch.randn_like(local_propagation_reference(coeffs, saliency, mode))
    grads = []
    for op in (local_propagation, local_propagation_reference):
        v, s = coeffs.clone().requires_grad_(), saliency.clone().requires_grad_()
        (op(v, s, mode) * weights).sum().backward()
        grads.append((v.grad, s.grad))
    for ours, theirs in zip(grads[0], grads[1]):
        torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)


@needs_extension
@pytest.mark.parametrize('shape', [(1, 3, 5, 6), (2, 5, 4, 5), (1, 7, 5, 6), (1, 5, 2, 3)])
@pytest.mark.parametrize('mode', PROPAGATION_MODES)
def test_gradcheck_float64(shape, mode, single_thread):
    coeffs, saliency = make_inputs(*shape, dtype=torch.float64)
    inputs = (coeffs.requires_grad_(), saliency.requires_grad_())
    assert torch.autograd.gradcheck(lambda v, s: local_propagation(v, s, mode), inputs)
    assert torch.autograd.gradcheck(lambda v, s: local_propagation_reference(v, s, mode), inputs)


@needs_extension
@pytest.mark.parametrize('with_background', [False, True])
@pytest.mark.parametrize('shape', [(2, 3, 4, 5), (1, 5, 6, 4), (1, 7, 5, 5), (1, 9, 3, 4)])
def test_gpu_code_path_on_cpu(shape, with_background, single_thread):
    """pixelwise=True runs forward_element/backward_element, the routines a CUDA thread runs."""
    from salbox import _ext
    coeffs, saliency = make_inputs(*shape, dtype=torch.float64)
    inputs = (coeffs.requires_grad_(), saliency.requires_grad_())

    def pixelwise(v, s):
        return LocalPropagationFunction.apply(v, s, with_background, _ext, True)

    mode = 'both' if with_background else 'foreground'
    torch.testing.assert_close(pixelwise(*inputs), local_propagation_reference(*inputs, mode))
    assert torch.autograd.gradcheck(pixelwise, inputs)


@needs_extension
def test_only_requested_gradients_are_computed():
    coeffs, saliency = make_inputs(2, 5, 6, 6)
    coeffs.requires_grad_()
    local_propagation(coeffs, saliency).sum().backward()
    assert coeffs.grad is not None and saliency.grad is None
    expected = torch.nn.functional.unfold(saliency, 5, padding=2).view_as(coeffs)
    torch.testing.assert_close(coeffs.grad, expected)


@needs_extension
def test_non_contiguous_inputs():
    coeffs, saliency = make_inputs(2, 3, 6, 8)
    coeffs_t, saliency_t = coeffs.transpose(2, 3), saliency.transpose(2, 3)
    assert not coeffs_t.is_contiguous()
    torch.testing.assert_close(local_propagation(coeffs_t, saliency_t),
                               local_propagation_reference(coeffs_t, saliency_t))


@pytest.mark.parametrize('coeffs_shape, saliency_shape, message', [
    ((1, 24, 4, 4), (1, 1, 4, 4), 'n\\*n channels with n odd'),
    ((1, 16, 4, 4), (1, 1, 4, 4), 'n\\*n channels with n odd'),
    ((1, 9, 4, 4), (1, 2, 4, 4), 'saliency must be \\(B, 1, H, W\\)'),
    ((1, 9, 4, 4), (2, 1, 4, 4), 'must share batch, height and width'),
    ((9, 4, 4), (1, 1, 4, 4), 'coeffs must be \\(B, n\\*n, H, W\\)'),
])
def test_bad_shapes_are_reported(coeffs_shape, saliency_shape, message):
    coeffs, saliency = torch.zeros(coeffs_shape), torch.zeros(saliency_shape)
    for op in (local_propagation, local_propagation_reference):
        with pytest.raises(ValueError, match=message):
            op(coeffs, saliency)


def test_bad_dtype_and_mode_are_reported():
    coeffs, saliency = make_inputs(1, 3, 4, 4)
    with pytest.raises(TypeError, match='float32 or both float64'):
        local_propagation(coeffs.double(), saliency)
    with pytest.raises(TypeError, match='float32 or both float64'):
        local_propagation(coeffs.double(), saliency.half())
    with pytest.raises(TypeError, match='float32 or both float64'):
        local_propagation(coeffs.int(), saliency.half())
    with pytest.raises(ValueError, match='mode must be one of'):
        local_propagation(coeffs, saliency, 'fg')


@pytest.mark.parametrize('coeffs_dtype,saliency_dtype,out_dtype', [
    (torch.bfloat16, torch.bfloat16, torch.bfloat16),
    (torch.float16, torch.float16, torch.float16),
    (torch.bfloat16, torch.float32, torch.float32),  # a BRN under autocast, float32 prior
])
@pytest.mark.parametrize('mode', PROPAGATION_MODES)
def test_reduced_precision_is_computed_in_float32(coeffs_dtype, saliency_dtype, out_dtype, mode):
    """float16/bfloat16 inputs: the float32 result of the rounded inputs, in the promoted dtype,
    with gradients in each input's dtype (what autocast training of the BRN needs)."""
    coeffs, saliency = make_inputs(2, 5, 9, 11)
    coeffs = coeffs.to(coeffs_dtype).requires_grad_()
    saliency = saliency.to(saliency_dtype).requires_grad_()
    out = local_propagation(coeffs, saliency, mode)
    assert out.dtype == out_dtype
    in_float32 = (coeffs.detach().float(), saliency.detach().float())
    torch.testing.assert_close(out, local_propagation(*in_float32, mode).to(out_dtype),
                               rtol=0, atol=0)
    torch.testing.assert_close(out.float(), local_propagation_reference(*in_float32, mode),
                               rtol=0, atol=1e-5 if out_dtype == torch.float32 else 0.05)
    out.float().square().sum().backward()
    assert coeffs.grad.dtype == coeffs_dtype and saliency.grad.dtype == saliency_dtype
    assert coeffs.grad.abs().sum() > 0 and saliency.grad.abs().sum() > 0


@needs_extension
def test_extension_reports_bad_arguments_without_throwing():
    """The C++ side checks its arguments itself and reports them in-band (None / [] and a
    message), never by a C++ exception: on one GPU image, where another toolchain's g++ built
    the extension, an exception thrown through torch killed the process (SIGSEGV). Run in a
    child process so that such a crash fails this test instead of killing pytest."""
    code = ('import torch\n'
            'from salbox import _ext\n'
            'bad = torch.zeros(1, 8, 3, 3), torch.zeros(1, 1, 3, 3)\n'
            'print(_ext.local_propagation_forward(*bad))\n'
            'print(_ext.local_propagation_forward_error(*bad))\n'
            'good = torch.zeros(1, 9, 3, 3), torch.zeros(1, 1, 3, 3)\n'
            'print(len(_ext.local_propagation_backward(torch.zeros(1, 2, 3, 3), *good)))\n'
            'print(_ext.local_propagation_backward_error(torch.zeros(1, 2, 3, 3), *good))\n'
            'print(repr(_ext.local_propagation_forward_error(*good)))\n'
            'print(tuple(_ext.local_propagation_forward(*good).shape))\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, (
        f'the extension process ended with {result.returncode} (a negative code is a signal): '
        f'{result.stderr[-500:]}')
    lines = result.stdout.splitlines()
    assert lines[0] == 'None'
    assert 'n*n channels with n odd, got 8' in lines[1]
    assert lines[2] == '0'
    assert 'grad_out has shape [1, 2, 3, 3], expected [1, 1, 3, 3]' in lines[3]
    assert lines[4] == "''"
    assert lines[5] == '(1, 1, 3, 3)'


@needs_extension
def test_autograd_function_raises_the_extension_message():
    """A call that bypasses the Python checks still gets a Python error with the C++ reason
    (in a child process, for the reason above)."""
    code = ('import torch\n'
            'from salbox.ops import LocalPropagationFunction\n'
            'from salbox.ops.extension import get_extension\n'
            'ext = get_extension("local_propagation", torch.device("cpu"))\n'
            'try:\n'
            '    LocalPropagationFunction.apply(torch.zeros(1, 8, 3, 3), torch.zeros(1, 1, 3, 3),'
            ' False, ext)\n'
            'except RuntimeError as err:\n'
            '    print(err)\n')
    result = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                            cwd=REPO, timeout=120)
    assert result.returncode == 0, f'ended with {result.returncode}: {result.stderr[-500:]}'
    assert 'n*n channels with n odd, got 8' in result.stdout


def test_fallback_warns_once_and_matches_reference(monkeypatch):
    monkeypatch.setattr(extension_module, '_loaded', True)
    monkeypatch.setattr(extension_module, '_extension', None)
    monkeypatch.setattr(extension_module, '_import_error', 'ImportError: test')
    monkeypatch.setattr(extension_module, '_warned', set())
    coeffs, saliency = make_inputs(1, 3, 5, 5)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        first = local_propagation(coeffs, saliency)
        local_propagation(coeffs, saliency, 'both')
    messages = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(messages) == 1 and 'pip install --no-build-isolation -e .' in messages[0]
    torch.testing.assert_close(first, local_propagation_reference(coeffs, saliency))
