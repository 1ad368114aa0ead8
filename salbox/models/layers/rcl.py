"""Recurrent convolutional layer (RCL; Liang & Hu, CVPR 2015), as ARN paper §3.4 Eq. 5-8 uses it.

At every position (i, j) and feature map k, time step t::

    z(t) = w_f * u + w_r * x(t-1) + b            (Eq. 6; the w_r term is absent at t = 0)
    x(t) = g(f(z(t))),  f = ReLU (Eq. 7),  g = LRN (Eq. 8)

with u the layer's feed-forward input, constant over time, and one recurrent kernel w_r shared by
every step (so its gradient is the sum of the per-step gradients). The output is x(T).
"""
import torch
import torch.nn.functional as F
from torch import nn


def local_response_norm(x: torch.Tensor, size: int, alpha: float = 1e-3, beta: float = 0.75,
                        k: float = 1.0) -> torch.Tensor:
    """ARN paper Eq. 8: ``x / (k + alpha / N * sum_{k'} x_{k'}^2) ** beta`` over channels
    ``k' = max(0, c - N//2) .. min(K - 1, c + N//2)`` (zero-padded at the ends), ``N = size``.

    For an odd ``size`` this is exactly ``torch.nn.functional.local_response_norm`` (which also
    divides alpha by ``size``); for an even one Eq. 8's window has ``N + 1`` channels while torch's
    has ``N``, so the window is built here rather than borrowed.
    """
    half = size // 2
    # Sliding channel-window sum of squares as a difference of cumulative sums (O(C), not O(CN)).
    squares = F.pad(x * x, (0, 0, 0, 0, half + 1, half))  # zero channels: the clipped ends
    cumulative = squares.cumsum(dim=1)
    window_sum = cumulative[:, 2 * half + 1:] - cumulative[:, :-(2 * half + 1)]
    return x / (k + alpha / size * window_sum).pow(beta)


class RecurrentConvLayer(nn.Module):
    """RCL with ``num_steps`` recurrent iterations (T; depth T + 1), ReLU then LRN per step.

    Defaults (ARN does not state them; chosen after Liang & Hu, CVPR 2015): T = 3, 3x3 feed-forward
    and recurrent kernels, LRN with N = K // 8 + 1, alpha = 0.001, beta = 0.75, k = 1. The bias b of
    Eq. 6 sits on the feed-forward conv; the recurrent conv has none. Weights: He init
    (fan_in, ReLU), zero bias (ARN paper §4.3).

    Args:
        in_channels: channels of u.
        out_channels: channels K of x (default: ``in_channels``).
        num_steps: T; ``0`` is a plain conv -> ReLU -> LRN.
        kernel_size, recurrent_kernel_size: odd kernel sizes of w_f and w_r ("same" padding).
        lrn_size: N of Eq. 8 (default ``K // 8 + 1``).
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = None,
                 num_steps: int = 3,
                 kernel_size: int = 3,
                 recurrent_kernel_size: int = 3,
                 lrn_size: int = None,
                 lrn_alpha: float = 1e-3,
                 lrn_beta: float = 0.75,
                 lrn_k: float = 1.0):
        super().__init__()
        out_channels = out_channels or in_channels
        if num_steps < 0:
            raise ValueError(f'RecurrentConvLayer: num_steps must be >= 0, got {num_steps}')
        if kernel_size % 2 == 0 or recurrent_kernel_size % 2 == 0:
            raise ValueError('RecurrentConvLayer: kernel sizes must be odd ("same" padding), got '
                             f'{kernel_size} and {recurrent_kernel_size}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.num_steps = num_steps
        self.lrn_size = lrn_size or out_channels // 8 + 1
        self.lrn_alpha = lrn_alpha
        self.lrn_beta = lrn_beta
        self.lrn_k = lrn_k
        self.feedforward = nn.Conv2d(in_channels, out_channels, kernel_size,
                                     padding=kernel_size // 2)
        self.recurrent = nn.Conv2d(out_channels, out_channels, recurrent_kernel_size,
                                   padding=recurrent_kernel_size // 2, bias=False)
        for conv in (self.feedforward, self.recurrent):
            nn.init.kaiming_normal_(conv.weight, mode='fan_in', nonlinearity='relu')
        nn.init.zeros_(self.feedforward.bias)

    def activation(self, z: torch.Tensor) -> torch.Tensor:
        """g(f(z)): ReLU (Eq. 7) then LRN (Eq. 8)."""
        return local_response_norm(F.relu(z), self.lrn_size, self.lrn_alpha, self.lrn_beta,
                                   self.lrn_k)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        feedforward = self.feedforward(u)  # w_f * u + b: computed once, constant over t
        x = self.activation(feedforward)
        for _ in range(self.num_steps):
            x = self.activation(feedforward + self.recurrent(x))
        return x

    def extra_repr(self) -> str:
        return (f'num_steps={self.num_steps}, lrn_size={self.lrn_size}, '
                f'lrn_alpha={self.lrn_alpha}, lrn_beta={self.lrn_beta}, lrn_k={self.lrn_k}')
