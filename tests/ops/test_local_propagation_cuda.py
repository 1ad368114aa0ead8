"""salbox.ops.local_propagation on CUDA: the CUDA kernels against the CPU kernel and the unfold
formula, values and gradients.

Skipped where torch sees no CUDA device (every CPU machine, CI included); ``tools/gpu_check.sh``
runs them on a GPU after building the extension with CUDA. Where a GPU is present, a missing CUDA
build of ``salbox._ext`` FAILS (test_extension_has_cuda_kernels) instead of silently testing the
fallback.
"""
import pytest
import torch

from salbox.ops import (PROPAGATION_MODES, extension_available, local_propagation,
                        local_propagation_reference)

from test_local_propagation import SHAPES, make_inputs

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason='no CUDA device (tools/gpu_check.sh runs these on a GPU)')
needs_cuda_kernels = pytest.mark.skipif(
    not torch.cuda.is_available() or not extension_available(torch.device('cuda')),
    reason='salbox._ext has no CUDA kernels (test_extension_has_cuda_kernels says why)')

# Odd sizes and batch > 1 (DGRL's 480 test size among them).
CUDA_SHAPES = SHAPES + [(3, 5, 481, 479), (2, 3, 97, 1)]


def on_cuda(*tensors):
    return tuple(t.cuda() for t in tensors)


def test_extension_has_cuda_kernels():
    assert extension_available(torch.device('cuda')), (
        'torch sees a GPU but salbox._ext has no CUDA kernels: rebuild with a CUDA build of torch '
        'and nvcc on the PATH (pip install --no-build-isolation -e .)')


@needs_cuda_kernels
@pytest.mark.parametrize('shape', CUDA_SHAPES)
@pytest.mark.parametrize('mode', PROPAGATION_MODES)
def test_forward_matches_cpu_kernel_and_reference(shape, mode):
    coeffs, saliency = make_inputs(*shape)
    cpu = local_propagation(coeffs, saliency, mode)
    out = local_propagation(*on_cuda(coeffs, saliency), mode)
    assert out.is_cuda and out.dtype == torch.float32
    torch.testing.assert_close(out.cpu(), cpu, atol=1e-5, rtol=1e-5)
    reference = local_propagation_reference(*on_cuda(coeffs, saliency), mode)
    torch.testing.assert_close(out, reference, atol=1e-5, rtol=1e-5)


@needs_cuda_kernels
def test_more_pixels_than_one_grid():
    """4100 x 4100 = 16.8 M pixels: more than the 65,535 blocks x 256 threads the launcher
    starts, so the grid-stride loop runs twice in some threads."""
    coeffs, saliency = make_inputs(1, 3, 4100, 4100)
    out = local_propagation(*on_cuda(coeffs, saliency), 'both')
    torch.testing.assert_close(out.cpu(), local_propagation(coeffs, saliency, 'both'),
                               atol=1e-5, rtol=1e-5)


@needs_cuda_kernels
@pytest.mark.parametrize('shape', SHAPES + [(3, 5, 481, 479)])
@pytest.mark.parametrize('mode', ['foreground', 'both', 'logit'])
def test_backward_matches_cpu_kernel(shape, mode):
    """Both gradients, float64, against the CPU kernel (which the CPU tests check by gradcheck)."""
    coeffs, saliency = make_inputs(*shape, dtype=torch.float64)
    weights = torch.randn_like(local_propagation_reference(coeffs, saliency, mode))
    grads = {}
    for device in ('cpu', 'cuda'):
        v = coeffs.to(device, copy=True).requires_grad_()  # leaves on both devices
        s = saliency.to(device, copy=True).requires_grad_()
        (local_propagation(v, s, mode) * weights.to(device)).sum().backward()
        grads[device] = (v.grad.cpu(), s.grad.cpu())
    for ours, theirs in zip(grads['cuda'], grads['cpu']):
        torch.testing.assert_close(ours, theirs, atol=1e-10, rtol=1e-10)


@needs_cuda_kernels
@pytest.mark.parametrize('shape', [(1, 3, 5, 6), (2, 5, 4, 5), (1, 7, 5, 6), (1, 5, 2, 3)])
@pytest.mark.parametrize('mode', PROPAGATION_MODES)
def test_gradcheck_float64_cuda(shape, mode):
    coeffs, saliency = make_inputs(*shape, dtype=torch.float64)
    inputs = tuple(t.cuda().requires_grad_() for t in (coeffs, saliency))
    assert torch.autograd.gradcheck(lambda v, s: local_propagation(v, s, mode), inputs)


@needs_cuda_kernels
@pytest.mark.parametrize('dtype', [torch.bfloat16, torch.float16])
def test_reduced_precision_on_cuda(dtype):
    """bfloat16/float16 run the float32 kernel (reduced_precision_dtype): the CPU's numbers."""
    coeffs, saliency = make_inputs(2, 5, 33, 47)
    coeffs, saliency = coeffs.to(dtype), saliency.to(dtype)
    out = local_propagation(*on_cuda(coeffs, saliency), 'both')
    assert out.dtype == dtype
    torch.testing.assert_close(out.cpu().float(), local_propagation(coeffs, saliency, 'both')
                               .float(), atol=0.05, rtol=0.01)


@needs_cuda_kernels
def test_autocast_training_step_of_the_op():
    """Under torch.autocast(bfloat16) a conv gives bfloat16 coefficients beside a float32 prior:
    the op returns float32 and gradients reach the conv's weights."""
    conv = torch.nn.Conv2d(3, 25, 3, padding=1).cuda()
    image, prior = torch.randn(2, 3, 40, 36).cuda(), torch.rand(2, 1, 40, 36).cuda()
    with torch.autocast('cuda', dtype=torch.bfloat16):
        coeffs = conv(image)
        assert coeffs.dtype == torch.bfloat16
        out = local_propagation(coeffs, prior, 'logit')
    assert out.dtype == torch.float32
    out.sum().backward()
    assert conv.weight.grad is not None and torch.isfinite(conv.weight.grad).all()


@needs_cuda_kernels
def test_non_contiguous_and_second_stream():
    coeffs, saliency = make_inputs(2, 5, 20, 30)
    coeffs_t = coeffs.cuda().transpose(2, 3).contiguous().transpose(2, 3)  # same values
    saliency_t = saliency.cuda()[:, :, :, :]
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        out = local_propagation(coeffs_t, saliency_t, 'both')
    stream.synchronize()
    torch.testing.assert_close(out.cpu(), local_propagation(coeffs, saliency, 'both'),
                               atol=1e-5, rtol=1e-5)


@needs_cuda_kernels
def test_mixed_devices_are_reported():
    coeffs, saliency = make_inputs(1, 3, 4, 4)
    with pytest.raises(ValueError, match='coeffs on cuda'):
        local_propagation(coeffs.cuda(), saliency)
