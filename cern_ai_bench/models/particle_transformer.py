"""A small Particle Transformer (ParT) jet classifier.

Qu, Li, Qian, "Particle Transformer for Jet Tagging", ICML 2022, arXiv:2202.03772.
Architecture as in the paper: a particle-embedding MLP on per-particle features, a pairwise-
feature embedding (ParT eq. 3: ln kT, ln z, ln Delta, ln m^2) turned into one attention bias per
head and added to every particle-attention block, a stack of pre-LN particle-attention blocks,
class-attention blocks in which a learned class token attends to the particles (as in CaiT,
Touvron et al. 2021), and a linear classifier on the class token.

Simplifications with respect to the reference implementation (jet-universe/particle_transformer):
no input batch norm (the particle features carry the published fixed standardisation instead, and
the raw log pair features feed the pair MLP), plain pre-LN blocks without the extra LayerNorms
and residual scaling of NormFormer, the pair MLP uses Linear + GELU in place of Conv1d + BN +
GELU, and self-pairs (a, a) get zero bias (each unordered pair is embedded once and mirrored).
The published full model has embed (128, 512, 128), pair embed (64, 64, 64), 8 heads, 8 particle
and 2 class blocks.

Attention uses ``torch.nn.functional.scaled_dot_product_attention`` with an additive float mask
that combines the pair bias with the padding mask, so the model has static shapes and no
data-dependent control flow (``torch.compile`` and CUDA graphs apply). Padded particles are never
attended to, so appending padding does not change the output, and the model is invariant under
permutations of the real particles (the pair bias moves with them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from cern_ai_bench.models.kinematics import (
    PAIR_FEATURES,
    PARTICLE_FEATURES,
    pair_features,
    particle_features,
)

__all__ = ["ParticleTransformer", "ParticleTransformerConfig"]

# Additive attention-mask value for padded keys: exp() of it underflows to exactly 0 after the
# softmax, and it stays finite in float16 and bfloat16 (an all-padded jet gives a uniform, finite
# softmax instead of NaN).
_MASKED = -3.0e4


@dataclass(frozen=True)
class ParticleTransformerConfig:
    """Sizes of the Particle Transformer.

    Attributes:
        n_classes: output logits.
        embed_dims: widths of the particle-embedding MLP; the last is the model width.
        pair_embed_dims: widths of the pair-embedding MLP (a final linear layer to ``n_heads``
            follows); empty disables the pair bias (plain transformer).
        n_heads: attention heads; must divide the model width.
        n_particle_blocks: particle self-attention blocks.
        n_class_blocks: class-attention blocks.
        mlp_ratio: hidden width of each block's MLP relative to the model width.
        dropout: dropout on attention weights and residual branches (0 disables).
    """

    n_classes: int = 5
    embed_dims: tuple[int, ...] = (64, 64)
    pair_embed_dims: tuple[int, ...] = (32, 32)
    n_heads: int = 4
    n_particle_blocks: int = 3
    n_class_blocks: int = 1
    mlp_ratio: int = 4
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.n_classes < 2 or not self.embed_dims or self.n_class_blocks < 1:
            raise ValueError(
                f"ParticleTransformerConfig: need n_classes >= 2, non-empty embed_dims and "
                f"n_class_blocks >= 1, got {self}"
            )
        if self.embed_dims[-1] % self.n_heads:
            raise ValueError(
                f"ParticleTransformerConfig: n_heads={self.n_heads} must divide the model width "
                f"embed_dims[-1]={self.embed_dims[-1]}"
            )

    @property
    def width(self) -> int:
        return self.embed_dims[-1]


class Attention(nn.Module):
    """Multi-head attention of queries ``x`` over a context, with an additive float mask."""

    def __init__(self, config: ParticleTransformerConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.dropout = config.dropout
        self.q = nn.Linear(config.width, config.width)
        self.kv = nn.Linear(config.width, 2 * config.width)
        self.proj = nn.Linear(config.width, config.width)

    def forward(self, x: Tensor, context: Tensor, attn_mask: Tensor) -> Tensor:
        b, n_q, c = x.shape  # (B, Q, C)
        n_k = context.shape[1]
        h = self.n_heads
        q = self.q(x).view(b, n_q, h, c // h).transpose(1, 2)  # (B, H, Q, C/H)
        k, v = self.kv(context).split(c, dim=-1)
        k = k.view(b, n_k, h, c // h).transpose(1, 2)  # (B, H, K, C/H)
        v = v.view(b, n_k, h, c // h).transpose(1, 2)  # (B, H, K, C/H)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attn_mask.to(q.dtype),  # (B, H or 1, Q, K), broadcast over heads
            dropout_p=self.dropout if self.training else 0.0,
        )  # (B, H, Q, C/H)
        y = y.transpose(1, 2).reshape(b, n_q, c)  # (B, Q, C)
        return self.proj(y)


class FeedForward(nn.Module):
    def __init__(self, config: ParticleTransformerConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(config.width, config.mlp_ratio * config.width)
        self.proj = nn.Linear(config.mlp_ratio * config.width, config.width)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class ParticleBlock(nn.Module):
    """Pre-LN self-attention block over the particles, with the pair bias in the mask."""

    def __init__(self, config: ParticleTransformerConfig) -> None:
        super().__init__()
        self.ln_attn = nn.LayerNorm(config.width)
        self.attn = Attention(config)
        self.ln_mlp = nn.LayerNorm(config.width)
        self.mlp = FeedForward(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, attn_mask: Tensor) -> Tensor:
        h = self.ln_attn(x)
        x = x + self.dropout(self.attn(h, h, attn_mask))
        return x + self.mlp(self.ln_mlp(x))


class ClassBlock(nn.Module):
    """Pre-LN class-attention block: the class token attends to itself and the particles."""

    def __init__(self, config: ParticleTransformerConfig) -> None:
        super().__init__()
        self.ln_attn = nn.LayerNorm(config.width)
        self.attn = Attention(config)
        self.ln_mlp = nn.LayerNorm(config.width)
        self.mlp = FeedForward(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, cls: Tensor, x: Tensor, attn_mask: Tensor) -> Tensor:
        h = self.ln_attn(torch.cat([cls, x], dim=1))  # (B, 1 + P, C)
        cls = cls + self.dropout(self.attn(h[:, :1], h, attn_mask))  # (B, 1, C)
        return cls + self.mlp(self.ln_mlp(cls))


class ParticleTransformer(nn.Module):
    """Particle Transformer classifier on canonical constituents."""

    #: Which canonical input ``forward`` takes (see :mod:`cern_ai_bench.models.builders`).
    inputs: ClassVar[str] = "constituents"

    def __init__(self, config: ParticleTransformerConfig) -> None:
        super().__init__()
        self.config = config
        embed: list[nn.Module] = []
        width = len(PARTICLE_FEATURES)
        for dim in config.embed_dims:  # ParT's Embed: LayerNorm -> Linear -> GELU per layer
            embed += [nn.LayerNorm(width), nn.Linear(width, dim), nn.GELU()]
            width = dim
        self.embed = nn.Sequential(*embed)

        pair: list[nn.Module] = []
        width = len(PAIR_FEATURES)
        for dim in config.pair_embed_dims:
            pair += [nn.Linear(width, dim), nn.GELU()]
            width = dim
        self.pair_embed = (
            nn.Sequential(*pair, nn.Linear(width, config.n_heads))
            if config.pair_embed_dims
            else None
        )

        self.blocks = nn.ModuleList(ParticleBlock(config) for _ in range(config.n_particle_blocks))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, config.width))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.cls_blocks = nn.ModuleList(ClassBlock(config) for _ in range(config.n_class_blocks))
        self.ln_f = nn.LayerNorm(config.width)
        self.head = nn.Linear(config.width, config.n_classes)

    def forward(self, constituents: Tensor, mask: Tensor) -> Tensor:
        """Class logits.

        Args:
            constituents: ``(B, P, 4)`` four-momenta ``(px, py, pz, E)`` in GeV, zero-padded.
            mask: ``(B, P)`` bool, True for real constituents.

        Returns:
            ``(B, n_classes)`` logits.
        """
        mask = mask.bool()
        b, p = mask.shape
        keep = mask.unsqueeze(-1)  # (B, P, 1)
        x = self.embed(particle_features(constituents, mask))  # (B, P, C)
        x = x * keep.to(x.dtype)  # padded tokens are zero vectors

        # Additive mask of the particle blocks: pair bias per head, _MASKED for padded keys.
        key_ok = mask[:, None, None, :]  # (B, 1, 1, P)
        if self.pair_embed is not None:
            # Embed each unordered pair once (the features are symmetric) and mirror it; self-
            # pairs get no bias. Halves the cost of the pair MLP, which dominates at small width.
            rows, cols = torch.tril_indices(p, p, offset=-1, device=mask.device)  # (P(P-1)/2,)
            pairs = pair_features(constituents, mask)[:, rows, cols]  # (B, P(P-1)/2, 4)
            embedded = self.pair_embed(pairs).float()  # (B, P(P-1)/2, H)
            bias = embedded.new_zeros(b, p, p, self.config.n_heads)  # (B, P, P, H)
            bias[:, rows, cols] = embedded
            bias[:, cols, rows] = embedded
            bias = bias.permute(0, 3, 1, 2)  # (B, H, P, P)
        else:
            bias = torch.zeros(b, 1, p, p, device=mask.device)  # (B, 1, P, P)
        attn_mask = torch.where(key_ok, bias, torch.full_like(bias, _MASKED))
        for block in self.blocks:
            x = block(x, attn_mask)

        # Class attention over [cls, particles]; the class token itself is always a valid key.
        cls_ok = torch.cat([mask.new_ones(b, 1), mask], dim=1)[:, None, None, :]  # (B,1,1,1+P)
        cls_mask = torch.zeros(cls_ok.shape, device=mask.device).masked_fill(~cls_ok, _MASKED)
        cls = self.cls_token.expand(b, -1, -1)  # (B, 1, C)
        for block in self.cls_blocks:
            cls = block(cls, x, cls_mask)
        return self.head(self.ln_f(cls.squeeze(1)))  # (B, n_classes)
