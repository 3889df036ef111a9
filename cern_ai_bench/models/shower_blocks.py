"""Layers shared by the shower models: Fourier embeddings of scalars and a conditioned ResNet.

The residual blocks are pre-norm MLP blocks whose normalised input is scaled and shifted by the
condition (FiLM, Perez et al., arXiv:1709.07871; the adaptive layer norm of DiT, Peebles & Xie,
arXiv:2212.09748), the usual velocity / score network for vectors in flow-matching and
diffusion models.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["ConditionalResNet", "FourierFeatures", "ResidualBlock", "mlp"]


class FourierFeatures(nn.Module):
    """``u -> [u, sin(2^k pi u), cos(2^k pi u)]`` for ``k < n_frequencies``: ``(B,) -> (B, 2n + 1)``.

    Meant for scalars in about [0, 1] (diffusion time, normalised log energy); the frequencies
    double from pi, as NeRF's positional encoding (Mildenhall et al., arXiv:2003.08934).
    """

    def __init__(self, n_frequencies: int) -> None:
        super().__init__()
        if n_frequencies < 1:
            raise ValueError(f"n_frequencies must be >= 1, got {n_frequencies}")
        freqs = math.pi * 2.0 ** torch.arange(n_frequencies, dtype=torch.float32)
        self.register_buffer("freqs", freqs, persistent=False)

    @property
    def out_dim(self) -> int:
        return 2 * self.freqs.numel() + 1

    def forward(self, u: Tensor) -> Tensor:
        angles = u.float()[:, None] * self.freqs  # (B, n)
        return torch.cat([u.float()[:, None], torch.sin(angles), torch.cos(angles)], dim=1)


def mlp(in_dim: int, dims: tuple[int, ...], out_dim: int) -> nn.Sequential:
    """``Linear -> SiLU`` for each of ``dims``, then a final ``Linear`` to ``out_dim``."""
    layers: list[nn.Module] = []
    for dim in dims:
        layers += [nn.Linear(in_dim, dim), nn.SiLU()]
        in_dim = dim
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class ResidualBlock(nn.Module):
    """``h + W2 SiLU(W1 (LN(h) (1 + scale(c)) + shift(c)))``; starts as the identity modulation."""

    def __init__(self, width: int, cond_dim: int, hidden: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.film = nn.Linear(cond_dim, 2 * width)
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, h: Tensor, cond: Tensor) -> Tensor:
        scale, shift = self.film(cond).chunk(2, dim=-1)  # (B, W) each
        y = self.norm(h) * (1 + scale) + shift
        return h + self.fc2(nn.functional.silu(self.fc1(y)))


class ConditionalResNet(nn.Module):
    """``(x (B, in_dim), cond (B, cond_dim)) -> (B, out_dim)``.

    Input projection, ``n_blocks`` conditioned residual blocks of hidden width ``width``, layer
    norm and a linear output.
    """

    def __init__(self, in_dim: int, out_dim: int, cond_dim: int, width: int, n_blocks: int) -> None:
        super().__init__()
        self.inp = nn.Linear(in_dim, width)
        self.blocks = nn.ModuleList(
            ResidualBlock(width, cond_dim, hidden=width) for _ in range(n_blocks)
        )
        self.norm = nn.LayerNorm(width, elementwise_affine=False)
        self.out = nn.Linear(width, out_dim)

    def forward(self, x: Tensor, cond: Tensor) -> Tensor:
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, cond)
        return self.out(self.norm(h))
