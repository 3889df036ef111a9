"""Particle Flow Network (Deep Sets) jet classifier.

Komiske, Metodiev, Thaler, "Energy Flow Networks: Deep Sets for Particle Jets",
JHEP 01 (2019) 121, arXiv:1810.05165; Deep Sets: Zaheer et al., NeurIPS 2017.
``logits = F( sum_i Phi(x_i) )`` over the real constituents i, with Phi and F small ReLU MLPs.
The per-particle inputs x_i are the seven ParT "kin" features of
:func:`cern_ai_bench.models.kinematics.particle_features`, computed inside the model from the
canonical four-momenta. The paper uses Phi (100, 100, 256) and F (100, 100, 100); the Particle
Transformer repository's PFN uses (128, 128, 128) for both. Presets live in
:mod:`cern_ai_bench.models.builders`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor, nn

from cern_ai_bench.models.kinematics import PARTICLE_FEATURES, particle_features

__all__ = ["PFNConfig", "ParticleFlowNetwork"]


@dataclass(frozen=True)
class PFNConfig:
    """Sizes of the Particle Flow Network.

    Attributes:
        n_classes: output logits.
        phi_dims: widths of the per-particle network Phi; the last is the latent dimension.
        f_dims: widths of the hidden layers of the jet-level network F (a final linear layer to
            ``n_classes`` follows).
    """

    n_classes: int = 5
    phi_dims: tuple[int, ...] = (64, 64, 64)
    f_dims: tuple[int, ...] = (64, 64)

    def __post_init__(self) -> None:
        if self.n_classes < 2 or not self.phi_dims:
            raise ValueError(f"PFNConfig: need n_classes >= 2 and a non-empty phi_dims, got {self}")


def _relu_mlp(in_dim: int, dims: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for dim in dims:
        layers += [nn.Linear(in_dim, dim), nn.ReLU()]
        in_dim = dim
    return nn.Sequential(*layers)


class ParticleFlowNetwork(nn.Module):
    """Deep Sets classifier on canonical constituents, invariant to order and padding."""

    #: Which canonical input ``forward`` takes (see :mod:`cern_ai_bench.models.builders`).
    inputs: ClassVar[str] = "constituents"

    def __init__(self, config: PFNConfig) -> None:
        super().__init__()
        self.config = config
        self.phi = _relu_mlp(len(PARTICLE_FEATURES), config.phi_dims)
        self.f = _relu_mlp(config.phi_dims[-1], config.f_dims)
        self.head = nn.Linear((config.f_dims or config.phi_dims)[-1], config.n_classes)

    def forward(self, constituents: Tensor, mask: Tensor) -> Tensor:
        """Class logits.

        Args:
            constituents: ``(B, P, 4)`` four-momenta ``(px, py, pz, E)`` in GeV, zero-padded.
            mask: ``(B, P)`` bool, True for real constituents.

        Returns:
            ``(B, n_classes)`` logits.
        """
        x = particle_features(constituents, mask)  # (B, P, 7), float32
        latent = self.phi(x)  # (B, P, L)
        # Masked sum pooling: padded particles contribute exactly zero.
        pooled = (latent * mask.unsqueeze(-1).to(latent.dtype)).sum(dim=1)  # (B, L)
        return self.head(self.f(pooled))
