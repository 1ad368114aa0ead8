"""SAGAN self-attention (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks",
Eq. 1-4 there; ARN paper §3.3 Eq. 1-4) for 2-D feature maps, computed with
``torch.nn.functional.scaled_dot_product_attention`` so that the (HW)^2 attention matrix is not
stored when a fused kernel runs, with the explicit formula kept as the reference.

For x of shape (B, C, H, W) and N = H * W positions::

    f(x) = W_f x,  g(x) = W_g x   (1x1 convs to C1 = C // 8 channels)          Eq. 1
    s_ij = f(x_i)^T g(x_j),  beta_ji = exp(s_ij) / sum_i exp(s_ij)              Eq. 2
    o_j = sum_i beta_ji h(x_i),  h(x) = W_h x (1x1 conv, C channels)            Eq. 3
    y = gamma * o + x,  gamma a learnable scalar initialised to 0               Eq. 4

i.e. attention with query g(x_j), key f(x_i), value h(x_i), softmax over all N positions and no
temperature (scale 1).

Fused path: ``scaled_dot_product_attention`` picks a backend. On the CPU, torch's flash kernel
(``_scaled_dot_product_flash_attention_for_cpu``, float32/bf16, forward and backward) works in
blocks and never holds the N x N matrix, but it needs query, key and value to have the same last
dimension; C1 = C / 8 != C would fall back to the "math" backend, which materialises it. So query
and key are padded with zero channels to C: the scores are unchanged, the multiply-adds of
query . key grow from N^2 C1 to N^2 C (about 2 N^2 C in all instead of 1.125 N^2 C), and memory
stays linear in N. (Splitting the value into C / C1 heads that share query and key is also exact,
but the kernel runs slower on such narrow heads.)
"""

import torch
import torch.nn.functional as F
from torch import nn

IMPLEMENTATIONS = ('fused', 'explicit')


def attention_explicit(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor
                       ) -> torch.Tensor:
    """Eq. 2-3 written out: softmax(query key^T) value with the full (N, N) matrix.

    query, key: (B, N, C1); value: (B, N, C); returns (B, N, C).
    """
    scores = torch.bmm(query, key.transpose(1, 2))  # s^T: (B, N_query, N_key), no temperature
    return torch.bmm(scores.softmax(dim=-1), value)


def attention_fused(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    """The same result through ``scaled_dot_product_attention`` (scale 1), shaped for the fused
    kernels, which need one common last dimension and contiguous channels: query and key are
    padded with zero channels to the value's width (zero channels add nothing to query . key), or
    the value to theirs (the extra output channels are dropped)."""
    qk_dim, channels = query.shape[-1], value.shape[-1]
    width = max(qk_dim, channels)
    if qk_dim < width:
        query = F.pad(query, (0, width - qk_dim))
        key = F.pad(key, (0, width - qk_dim))
    if channels < width:
        value = F.pad(value, (0, width - channels))
    # The CPU flash kernel also needs unit stride along channels (else: the math fallback).
    query, key, value = (t.contiguous().unsqueeze(1) for t in (query, key, value))
    out = F.scaled_dot_product_attention(query, key, value, scale=1.0).squeeze(1)
    return out[..., :channels] if channels < width else out


class SelfAttention2d(nn.Module):
    """SAGAN self-attention block ``y = gamma * o + x`` (ARN paper §3.3, Eq. 1-4).

    Args:
        channels: C, channels of x (and of h(x) and y).
        reduction: C1 = max(1, C // reduction); 8 as in SAGAN and ARN (paper §3.3).
        bias: biases on f, g, h. Default False: Eq. 1 and 3 are plain 1x1 kernels (chosen).
        impl: ``'fused'`` (``scaled_dot_product_attention``, default) or ``'explicit'`` (the
            (HW)^2 matrix; the reference, and the benchmark's comparison point).
        gamma_init: initial gamma; 0 as in SAGAN and ARN, so the block starts as the identity.

    The 1x1 convs are He-initialised (fan_in; ARN paper §4.3) with zero biases.
    """

    def __init__(self, channels: int, reduction: int = 8, bias: bool = False,
                 impl: str = 'fused', gamma_init: float = 0.0):
        super().__init__()
        if impl not in IMPLEMENTATIONS:
            raise ValueError(f'SelfAttention2d: impl must be one of {IMPLEMENTATIONS}, '
                             f'got {impl!r}')
        self.channels = channels
        self.qk_channels = max(1, channels // reduction)
        self.impl = impl
        self.f = nn.Conv2d(channels, self.qk_channels, 1, bias=bias)  # key
        self.g = nn.Conv2d(channels, self.qk_channels, 1, bias=bias)  # query
        self.h = nn.Conv2d(channels, channels, 1, bias=bias)  # value
        self.gamma = nn.Parameter(torch.tensor(float(gamma_init)))
        for conv in (self.f, self.g, self.h):
            nn.init.kaiming_normal_(conv.weight, mode='fan_in', nonlinearity='relu')
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)

    def attend(self, x: torch.Tensor) -> torch.Tensor:
        """o of Eq. 3, shaped like x."""
        batch, channels, height, width = x.shape
        query = self.g(x).flatten(2).transpose(1, 2)  # (B, N, C1)
        key = self.f(x).flatten(2).transpose(1, 2)
        value = self.h(x).flatten(2).transpose(1, 2)  # (B, N, C)
        attention = attention_fused if self.impl == 'fused' else attention_explicit
        out = attention(query, key, value)
        return out.transpose(1, 2).reshape(batch, channels, height, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.gamma * self.attend(x) + x

    def extra_repr(self) -> str:
        return f'channels={self.channels}, qk_channels={self.qk_channels}, impl={self.impl!r}'
