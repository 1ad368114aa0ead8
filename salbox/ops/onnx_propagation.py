"""DGRL's local propagation in standard ONNX operators (Pad, Slice, Concat, Mul, ReduceSum).

:func:`salbox.ops.local_propagation` runs a compiled kernel (an autograd Function no exporter can
trace) or ``F.unfold`` (``Im2Col``, which ONNX has no operator for). For export it switches to
:func:`local_propagation_onnx` automatically when ``torch.onnx.is_in_onnx_export()`` is true.

The formulation is the one of DGRL's Caffe deploy graph (``stage2/test/deploy.prototxt``: a fixed
one-hot 5x5 conv with pad 2 gathers the n*n neighbours s_i^d), written without a convolution:
the map is zero-padded by r = n // 2 once, and the neighbour at offset d = ky * n + kx (row-major,
the order of ``F.unfold``) is the slice ``padded[..., ky:ky+H, kx:kx+W]``. The n*n slices are
concatenated to (B, n*n, H, W), multiplied by the coefficients and summed over the channel axis:

    fg = sum_d v^d * s^d,        bg = sum_d v^d * (1 - s^d) = sum_d v^d - fg.

Slice ends are written relative to the padded size (``ky - (n - 1)``, a constant), so the graph
holds for any H and W (dynamic axes). Everything is elementwise or a sum over d, so values equal
the unfold reference up to float summation order (tests: within 1e-5 of the C++ kernel and of
:func:`~salbox.ops.local_propagation.local_propagation_reference`).
"""
import math

import torch
import torch.nn.functional as F

PROPAGATION_MODES = ('foreground', 'background', 'both', 'logit')


def neighbours(saliency: torch.Tensor, size: int) -> torch.Tensor:
    """(B, 1, H, W) -> (B, n*n, H, W): s at the n x n neighbours, zero outside the image."""
    radius = size // 2
    padded = F.pad(saliency, (radius, radius, radius, radius))
    last = size - 1
    shifted = []
    for ky in range(size):
        rows = padded[:, :, ky:(ky - last) or None]
        for kx in range(size):
            shifted.append(rows[:, :, :, kx:(kx - last) or None])
    return torch.cat(shifted, dim=1)


def local_propagation_onnx(coeffs: torch.Tensor, saliency: torch.Tensor,
                           mode: str = 'foreground') -> torch.Tensor:
    """Same contract as :func:`salbox.ops.local_propagation`, traceable by both ONNX exporters.

    Shapes are checked with plain ints here (under the TorchScript exporter a traced size is a
    tensor, which ``window_size`` cannot take the square root of)."""
    if mode not in PROPAGATION_MODES:
        raise ValueError(f'local_propagation: mode must be one of {PROPAGATION_MODES}, '
                         f'got {mode!r}')
    channels = int(coeffs.shape[1])
    size = math.isqrt(channels)
    if size * size != channels or size % 2 == 0 or saliency.dim() != 4 or \
            int(saliency.shape[1]) != 1:
        raise ValueError(f'local_propagation: coeffs must be (B, n*n, H, W) with n odd and '
                         f'saliency (B, 1, H, W), got {tuple(coeffs.shape)} and '
                         f'{tuple(saliency.shape)}')
    fg = (coeffs * neighbours(saliency, size)).sum(dim=1, keepdim=True)
    if mode == 'foreground':
        return fg
    bg = coeffs.sum(dim=1, keepdim=True) - fg
    if mode == 'background':
        return bg
    if mode == 'both':
        return torch.cat([bg, fg], dim=1)
    return fg - bg  # 'logit'
