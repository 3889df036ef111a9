"""Conditional variational autoencoder shower generator (fast baseline).

Kingma & Welling, arXiv:1312.6114, conditioned on the incident energy (Sohn et al., NeurIPS
2015), after the Geant4 example Par04's CVAE (``Par04/training_vae``: fully connected encoder
and decoder, condition concatenated to both inputs, latent 10, generation = decoder(z ~ N(0, 1),
condition)). Differences: the data space is
:class:`~cern_ai_bench.models.shower_preprocessing.ShowerPreprocessing` (standardised log layer
energies and log in-layer shapes) instead of Par04's sigmoid/BCE on E_v / E, and the decoder
is Gaussian with a learned standard deviation per feature (the calibrated decoder of Rybkin et
al., "Simple and Effective VAE Training with Calibrated Decoders", arXiv:2006.13202), so the
reconstruction and KL terms are balanced without tuning and generation can add the decoder's
noise. The loss is the negative ELBO per feature: ``[NLL(x | z) + beta KL(q(z | x) || N(0, I))]
/ D``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.models.shower_blocks import FourierFeatures, mlp
from cern_ai_bench.models.shower_preprocessing import ShowerPreprocessing

__all__ = ["CVAEConfig", "ShowerCVAE", "cvae_default"]

#: Lower bound of the decoder's log standard deviation (in standardised units), for stability.
_MIN_LOG_SIGMA = -7.0


@dataclass(frozen=True)
class CVAEConfig:
    """Sizes and loss settings of :class:`ShowerCVAE`.

    Attributes:
        hidden_dims: encoder widths (the decoder mirrors them).
        latent_dim: latent dimension.
        kl_weight: beta, the weight of the KL term (1 = the ELBO).
        n_frequencies: Fourier frequencies of the energy embedding.
        decoder_noise: generate ``mean + sigma * N(0, 1)`` from the Gaussian decoder (True) or
            its mean only (False, Par04's practice).
    """

    hidden_dims: tuple[int, ...] = (512, 256)
    latent_dim: int = 32
    kl_weight: float = 1.0
    n_frequencies: int = 8
    decoder_noise: bool = True

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or not self.hidden_dims or min(self.hidden_dims) < 1:
            raise ValueError(f"CVAEConfig: need latent_dim >= 1 and hidden layers, got {self}")
        if self.kl_weight < 0:
            raise ValueError(f"CVAEConfig: kl_weight must be >= 0, got {self.kl_weight}")


class ShowerCVAE(nn.Module):
    """Conditional VAE on the voxels of one geometry.

    Args:
        geometry: the voxel geometry; the model's size follows from it.
        config: network and loss settings.
    """

    def __init__(self, geometry: CaloGeometry, config: CVAEConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or CVAEConfig()
        self.preprocessing = ShowerPreprocessing(geometry)
        dim = self.preprocessing.n_features
        self.energy_features = FourierFeatures(config.n_frequencies)
        n_cond = self.energy_features.out_dim
        self.encoder = mlp(dim + n_cond, config.hidden_dims, 2 * config.latent_dim)
        self.decoder = mlp(config.latent_dim + n_cond, config.hidden_dims[::-1], dim)
        self.log_sigma = nn.Parameter(torch.zeros(dim))

    def fit_preprocessing(self, showers: Tensor, energy: Tensor) -> None:
        """Fit the voxel transform on the training split ``(N, V)`` MeV, ``(N,)`` MeV."""
        self.preprocessing.fit(showers, energy)

    def _sigma_log(self) -> Tensor:
        return self.log_sigma.clamp_min(_MIN_LOG_SIGMA)

    def forward(self, showers: Tensor, energy: Tensor) -> Tensor:
        """Negative ELBO per feature (scalar float32) of showers ``(B, V)`` MeV at ``energy``."""
        x = self.preprocessing(showers, energy)  # (B, D)
        cond = self.energy_features(self.preprocessing.condition(energy))  # (B, C)
        mu, logvar = self.encoder(torch.cat([x, cond], dim=1)).float().chunk(2, dim=1)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)  # (B, latent)
        mean = self.decoder(torch.cat([z, cond], dim=1)).float()
        log_sigma = self._sigma_log()
        # Gaussian NLL per feature: 0.5 ((x - mean) / sigma)^2 + log sigma + 0.5 log 2 pi.
        nll = 0.5 * ((x - mean) * torch.exp(-log_sigma)).square() + log_sigma
        kl = 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(dim=1)  # (B,)
        dim = x.shape[1]
        return (
            nll.sum(dim=1).mean() / dim
            + 0.5 * math.log(2 * math.pi)
            + (self.config.kl_weight * kl.mean() / dim)
        )

    @torch.no_grad()
    def generate(self, energy: Tensor, *, generator: torch.Generator | None = None) -> Tensor:
        """Showers ``(B, V)`` float32 MeV >= 0 for incident energies ``energy`` (B,) MeV.

        ``decoder(z ~ N(0, I), E)`` (plus the decoder's Gaussian noise when
        ``config.decoder_noise``), on the module's device.
        """
        self.preprocessing.check_fitted()
        device = self.log_sigma.device
        energy = energy.to(device=device, dtype=torch.float32)
        n = energy.shape[0]
        cond = self.energy_features(self.preprocessing.condition(energy))
        z = torch.randn(n, self.config.latent_dim, device=device, generator=generator)
        x = self.decoder(torch.cat([z, cond], dim=1)).float()  # (B, D)
        if self.config.decoder_noise:
            noise = torch.randn(x.shape, device=device, generator=generator)
            x = x + torch.exp(self._sigma_log()) * noise
        return self.preprocessing.inverse(x, energy)


def cvae_default(geometry: CaloGeometry) -> ShowerCVAE:
    """Conditional VAE, encoder [D+17 -> 512 -> 256 -> 2x32], mirrored decoder, Gaussian decoder."""
    return ShowerCVAE(geometry, CVAEConfig())
