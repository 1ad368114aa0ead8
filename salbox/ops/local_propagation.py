"""Local propagation of DGRL's Boundary Refinement Network (Wang et al., CVPR 2018, Sec. 3.3).

For every pixel i the BRN predicts n x n propagation coefficients v_i^d and refines the coarse
saliency map s by a weighted sum over the n x n neighbourhood of i:

    fg_i = sum_d v_i^d * s_i^d            (foreground form)
    bg_i = sum_d v_i^d * (1 - s_i^d)      (background form)

where s_i^d is s at the d-th neighbour of i, d = ky * n + kx in row-major order (the order of
``F.unfold``), and s = 0 outside the image (zero padding). This is how DGRL's released Caffe
code does it (``stage2/test/deploy.prototxt``): a fixed one-hot 5x5 conv with pad 2 extracts
s_i^d ("data_transpose"), a Power layer forms 1 - s_i^d from those padded values
("data_transpose_back"), each is multiplied by the 25 predicted coefficients and summed by a
fixed 1x1 conv, and the two sums are concatenated as [bg, fg] into a 2-class softmax. So an
out-of-image neighbour counts as background (1 - 0 = 1), and bg_i = sum_d v_i^d - fg_i. The
coefficients are not normalised (they may be negative). DGRL uses n = 5.

``mode`` selects what :func:`local_propagation` returns, shape (B, C, H, W):

* ``'foreground'`` (C = 1): fg (DGRL Eq. 4, foreground term).
* ``'background'`` (C = 1): bg.
* ``'both'`` (C = 2): [bg, fg] in DGRL's channel order; softmax over dim 1 gives the
  salient probability in channel 1.
* ``'logit'`` (C = 1): fg - bg, one logit with sigmoid(fg - bg) = softmax([bg, fg])[1], the
  salbox head convention (heads return single-channel logits; sigmoid happens in predict()).

The compiled kernels (``csrc/local_propagation``) are used when ``salbox._ext`` is built;
otherwise :func:`local_propagation_reference` runs, after one warning.
"""
import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .extension import get_extension

PROPAGATION_MODES = ('foreground', 'background', 'both', 'logit')
REDUCED_PRECISION = (torch.float16, torch.bfloat16)


def window_size(coeffs: torch.Tensor, saliency: torch.Tensor) -> int:
    """Check the inputs of the operator and return the window size n."""
    if not isinstance(coeffs, torch.Tensor) or not isinstance(saliency, torch.Tensor):
        raise TypeError('local_propagation: coeffs and saliency must be tensors, got '
                        f'{type(coeffs).__name__} and {type(saliency).__name__}')
    if coeffs.dim() != 4:
        raise ValueError('local_propagation: coeffs must be (B, n*n, H, W), got shape '
                         f'{tuple(coeffs.shape)}')
    if saliency.dim() != 4 or saliency.shape[1] != 1:
        raise ValueError('local_propagation: saliency must be (B, 1, H, W), got shape '
                         f'{tuple(saliency.shape)}')
    if (coeffs.shape[0], *coeffs.shape[2:]) != (saliency.shape[0], *saliency.shape[2:]):
        raise ValueError(f'local_propagation: coeffs {tuple(coeffs.shape)} and saliency '
                         f'{tuple(saliency.shape)} must share batch, height and width')
    if coeffs.dtype != saliency.dtype or coeffs.dtype not in (torch.float32, torch.float64):
        raise TypeError('local_propagation: coeffs and saliency must both be float32 or both '
                        f'float64, got {coeffs.dtype} and {saliency.dtype}')
    if coeffs.device != saliency.device:
        raise ValueError(f'local_propagation: coeffs on {coeffs.device} but saliency on '
                         f'{saliency.device}')
    channels = coeffs.shape[1]
    size = round(channels ** 0.5)
    if size * size != channels or size % 2 == 0:
        raise ValueError('local_propagation: coeffs must have n*n channels with n odd '
                         f'(9, 25, 49, ...), got {channels}')
    return size


def _check_mode(mode: str) -> None:
    if mode not in PROPAGATION_MODES:
        raise ValueError(f'local_propagation: mode must be one of {PROPAGATION_MODES}, '
                         f'got {mode!r}')


def _select(fg_bg: torch.Tensor, mode: str) -> torch.Tensor:
    """Pick the requested output from the [bg, fg] pair (B, 2, H, W)."""
    if mode == 'both':
        return fg_bg
    if mode == 'background':
        return fg_bg[:, :1]
    return fg_bg[:, 1:] - fg_bg[:, :1]  # 'logit'


def local_propagation_reference(coeffs: torch.Tensor, saliency: torch.Tensor,
                                mode: str = 'foreground') -> torch.Tensor:
    """Pure-PyTorch local propagation (``F.unfold``): the fallback and the test oracle.

    Follows DGRL's Caffe graph literally: unfold s with zero padding, then
    fg = sum(v * s_unf) and bg = sum(v * (1 - s_unf)) over the n*n neighbours.

    Args:
        coeffs: (B, n*n, H, W) propagation coefficients, n odd, neighbour d = ky * n + kx.
        saliency: (B, 1, H, W) coarse saliency map, same dtype and device.
        mode: one of ``PROPAGATION_MODES`` (see the module docstring).
    """
    size = window_size(coeffs, saliency)
    _check_mode(mode)
    batch, channels, height, width = coeffs.shape
    neighbours = F.unfold(saliency, size, padding=size // 2).view(batch, channels, height, width)
    fg = (coeffs * neighbours).sum(dim=1, keepdim=True)
    if mode == 'foreground':
        return fg
    bg = (coeffs * (1 - neighbours)).sum(dim=1, keepdim=True)
    return _select(torch.cat([bg, fg], dim=1), mode)


class LocalPropagationFunction(torch.autograd.Function):
    """Autograd wrapper of the ``salbox._ext`` kernels (first-order gradients only).

    Forward returns fg (B, 1, H, W), or [bg, fg] (B, 2, H, W) when ``with_background``.
    Backward is gather-style in both kernels (no atomics) and computes only the gradients
    that autograd asks for. ``pixelwise=True`` (CPU only, for tests) runs the per-pixel
    routines a CUDA thread runs instead of the row-vectorised CPU loop.
    """

    @staticmethod
    def forward(ctx, coeffs, saliency, with_background, extension, pixelwise=False):
        ctx.with_background = with_background
        ctx.extension = extension
        ctx.pixelwise = pixelwise
        ctx.save_for_backward(coeffs, saliency)
        out = extension.local_propagation_forward(coeffs, saliency, with_background, pixelwise)
        if out is None:  # the extension reports bad arguments in-band, never by a C++ throw
            raise RuntimeError(extension.local_propagation_forward_error(coeffs, saliency))
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        coeffs, saliency = ctx.saved_tensors
        grad_out = grad_out.contiguous()
        grads = ctx.extension.local_propagation_backward(
            grad_out, coeffs, saliency, ctx.with_background,
            ctx.needs_input_grad[0], ctx.needs_input_grad[1], ctx.pixelwise)
        if not grads:
            raise RuntimeError(ctx.extension.local_propagation_backward_error(
                grad_out, coeffs, saliency, ctx.with_background))
        grad_coeffs, grad_saliency = grads
        return grad_coeffs, grad_saliency, None, None, None


def reduced_precision_dtype(coeffs: torch.Tensor, saliency: torch.Tensor):
    """The output dtype when an input is float16 or bfloat16, else None.

    The kernels accumulate in their input type, and 25 products summed in bfloat16 keep about
    two significant digits, so reduced-precision inputs (what a BRN's convolutions give under
    ``torch.autocast``, beside a float32 prior) are computed in float32, as autocast does for
    its float32 ops, and returned in the wider of the two input types (float32 when mixed).
    float64 beside a reduced type is refused like any other float64/float32 mix.
    """
    dtypes = {getattr(coeffs, 'dtype', None), getattr(saliency, 'dtype', None)}
    if not dtypes & set(REDUCED_PRECISION) or torch.float64 in dtypes:
        return None
    if not dtypes <= set(REDUCED_PRECISION + (torch.float32, )):
        return None  # not floating point: window_size() names the problem
    return torch.float32 if len(dtypes) > 1 else dtypes.pop()


def local_propagation(coeffs: torch.Tensor, saliency: torch.Tensor,
                      mode: str = 'foreground') -> torch.Tensor:
    """DGRL local propagation: out_i = sum over the n x n window d of v_i^d * s_i^d.

    Runs the compiled C++ (OpenMP) or CUDA kernel of ``salbox._ext``; falls back to
    :func:`local_propagation_reference` with one warning when the extension is missing.
    Differentiable w.r.t. both inputs; float32 and float64 kernels, float16 / bfloat16 inputs
    computed in float32 (:func:`reduced_precision_dtype`); any batch size and odd n.

    Args:
        coeffs: (B, n*n, H, W) per-pixel coefficients v (unnormalised, as in DGRL's code).
        saliency: (B, 1, H, W) coarse map s (zero outside the image).
        mode: ``'foreground'`` (default) -> fg; ``'background'`` -> bg; ``'both'`` ->
            [bg, fg] (B, 2, H, W), DGRL's 2-class scores; ``'logit'`` -> fg - bg.

    Returns:
        (B, 1, H, W), or (B, 2, H, W) for ``mode='both'``.
    """
    if torch.onnx.is_in_onnx_export():  # standard ONNX ops (salbox/ops/onnx_propagation.py)
        from .onnx_propagation import local_propagation_onnx
        return local_propagation_onnx(coeffs, saliency, mode)
    out_dtype = reduced_precision_dtype(coeffs, saliency)
    if out_dtype is not None:  # float16 / bfloat16: compute in float32, return out_dtype
        return local_propagation(coeffs.float(), saliency.float(), mode).to(out_dtype)
    window_size(coeffs, saliency)
    _check_mode(mode)
    extension = get_extension('local_propagation', coeffs.device)
    if extension is None:
        return local_propagation_reference(coeffs, saliency, mode)
    with_background = mode != 'foreground'
    out = LocalPropagationFunction.apply(coeffs, saliency, with_background, extension)
    return out if mode == 'foreground' else _select(out, mode)
