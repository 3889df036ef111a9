"""Invertible voxel transform shared by the shower models: total, layer and voxel energies.

A shower of V voxel energies (MeV) at incident energy E becomes D = 1 + L + V standardised
features, L the number of layers with voxels:

1. **Dequantisation.** Empty voxels get an energy well below the readout threshold t (the
   smallest non-zero voxel energy of the training split): ``E_v -> 0.1 t (1 - u)``,
   u ~ U[0, 1), as CaloFlow adds uniform noise below 1 keV (Krause & Shih, arXiv:2106.05285),
   so the models see a continuous distribution instead of a point mass at zero. The factor 0.1
   leaves a gap of a decade below t, so that generated empty voxels do not leak above t. Every
   energy is then positive and the logs below need no regulariser (CaloDiffusion's logit
   alpha, arXiv:2308.03876).
2. **Total energy.** ``log(E_tot / E)``, one dimension: the response and resolution, to which
   the classifier and the high-level features are most sensitive, are modelled directly instead
   of as a sum of hundreds of noisy voxels (CaloFlow's u_0 = E_tot / E).
3. **Layer energies.** Per layer l, ``log(E_l / E_tot)`` (CaloFlow's first stage, with its
   normalisation to the total); the inverse is a softmax over the layers, so the layers always
   add up to the generated total whatever the correlations the model learnt.
4. **In-layer shapes.** Per voxel v in layer l, ``log(E_v / E_l)`` (CaloFlow's second stage,
   energies normalised within their layer), inverted by a softmax within each layer.
5. **Energy-dependent standardisation.** Every feature is standardised with a mean and a
   standard deviation that depend on the incident energy: a local linear regression of each
   feature on the normalised log energy c (Gaussian kernel, bandwidth one knot spacing) and
   the kernel-weighted spread of its residuals, at evenly spaced knots in c, interpolated
   linearly between knots. CaloDiffusion standardises with one global mean and deviation;
   here the conditional spreads shrink with energy (E_tot / E by ~10x from 1 GeV to 1 TeV), so
   with global constants the networks would have to produce ever narrower distributions at
   high energy. With per-energy constants every conditional distribution has about unit spread.
6. **Marginal Gaussianisation.** Each standardised feature goes through its empirical CDF in
   its energy bin and then the inverse normal CDF
   (:class:`~cern_ai_bench.models.shower_quantiles.BinnedQuantileMap`): the models see normal
   marginals, and the inverse cannot leave the training range of any feature, so an error of
   the network in a tail cannot turn into orders of magnitude too much energy in an outer voxel.

All parts form one joint vector, so one model (not two stages) learns them together. The
inverse clamps ``log(E_tot / E)`` below its training maximum plus 10 % (a guard against rare
far-out generated values blowing up through the exponential) and the fractions at 0 (a part
cannot exceed its whole), rebuilds the voxel energies and zeroes those below t, which restores
the sparsity. The training transform draws fresh dequantisation noise each call;
:meth:`ShowerPreprocessing.fit` uses a fixed seed, so fitting is deterministic. All fitted
numbers are buffers and travel with the checkpoint.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.models.shower_quantiles import BinnedQuantileMap

__all__ = ["ShowerPreprocessing"]

#: Generated voxels below this fraction of the smallest non-zero training voxel are zeroed
#: (the margin keeps the smallest training voxel through a float32 round trip).
_THRESHOLD_MARGIN = 0.999
#: Empty voxels are filled up to this fraction of the threshold (a decade below it).
_FILL = 0.1
#: Generated log(E_tot / E) is clamped at its training maximum plus this (+10 %).
_CLAMP_MARGIN = math.log(1.1)
#: Showers per chunk when fitting: bounds the float64 working memory (DS3: 40,500 voxels).
_FIT_CHUNK = 2048
#: Seed of the dequantisation noise used by :meth:`ShowerPreprocessing.fit`.
_FIT_SEED = 0
#: Feature values held at once to fit the quantile tables (1 GiB of float32): DS3 showers
#: have 40,500 voxels, so the quantiles there come from an evenly spaced subset.
_QUANTILE_FIT_ELEMENTS = 1 << 28


class ShowerPreprocessing(nn.Module):
    """Voxel energies <-> Gaussianised (log total, log layer fractions, log shapes) features.

    Args:
        geometry: the voxel geometry (layers with voxels, voxel order).
        n_knots: energy knots of the standardisation (>= 2; the bandwidth is their spacing).
        n_quantile_bins: energy bins of the marginal Gaussianisation.
        n_quantiles: quantile levels per feature and bin.

    Call :meth:`fit` on the training split before using the transform.
    """

    def __init__(
        self,
        geometry: CaloGeometry,
        *,
        n_knots: int = 17,
        n_quantile_bins: int = 12,
        n_quantiles: int = 129,
    ) -> None:
        super().__init__()
        if n_knots < 2:
            raise ValueError(f"n_knots must be >= 2, got {n_knots}")
        self.n_knots = n_knots
        self.n_voxels = geometry.n_voxels
        self.n_layers = len(geometry.relevant_layers)
        if self.n_voxels == 0:
            raise ValueError(f"geometry {geometry.name!r} has no voxels")
        layer_of_voxel = torch.cat(
            [
                torch.full((geometry.layers[i].n_voxels,), k, dtype=torch.long)
                for k, i in enumerate(geometry.relevant_layers)
            ]
        )
        # Derived from the geometry, so not part of the state dict.
        self.register_buffer("layer_of_voxel", layer_of_voxel, persistent=False)
        n_features = 1 + self.n_layers + self.n_voxels
        # Standardisation tables at the energy knots c = k / (n_knots - 1).
        self.register_buffer("mean", torch.zeros(n_knots, n_features))
        self.register_buffer("std", torch.ones(n_knots, n_features))
        # Upper bound of log(E_tot / E) (clamp of the inverse).
        self.register_buffer("log_total_max", torch.full((), math.inf))
        self.register_buffer("log_energy_range", torch.tensor([0.0, 1.0]))
        self.register_buffer("threshold_mev", torch.zeros(()))
        self.register_buffer("fitted", torch.zeros((), dtype=torch.bool))
        self.gaussianise = BinnedQuantileMap(
            n_features, n_bins=n_quantile_bins, n_quantiles=n_quantiles
        )

    @property
    def n_features(self) -> int:
        """D = 1 (total) + layers with voxels + voxels."""
        return 1 + self.n_layers + self.n_voxels

    def layer_sums(self, showers: Tensor) -> Tensor:
        """Energy per layer, ``(B, V) -> (B, L)``."""
        out = showers.new_zeros(showers.shape[0], self.n_layers)
        return out.index_add(1, self.layer_of_voxel, showers)

    def raw_features(self, showers: Tensor, energy: Tensor, noise: Tensor) -> Tensor:
        """Unstandardised features ``(B, 1 + L + V)``.

        Args:
            showers: ``(B, V)`` voxel energies, MeV.
            energy: ``(B,)`` incident energies, MeV.
            noise: ``(B, V)`` uniform on [0, 1), the dequantisation of the empty voxels.
        """
        # Empty voxels -> (0, 0.1 t]: every energy is positive, so the logs are finite.
        filled = torch.where(showers > 0, showers, (_FILL * self.threshold_mev) * (1 - noise))
        log_layers = torch.log(self.layer_sums(filled))  # (B, L)
        log_total = torch.logsumexp(log_layers, dim=1, keepdim=True)  # (B, 1)
        log_response = log_total - torch.log(energy)[:, None]
        log_layer_fraction = log_layers - log_total  # (B, L) <= 0
        log_shape = torch.log(filled) - log_layers[:, self.layer_of_voxel]  # (B, V) <= 0
        return torch.cat([log_response, log_layer_fraction, log_shape], dim=1)

    def forward(self, showers: Tensor, energy: Tensor) -> Tensor:
        """Standardised features ``(B, 1 + L + V)`` float32, with fresh dequantisation noise."""
        showers = showers.float()
        energy = energy.float()
        raw = self.raw_features(showers, energy, torch.rand_like(showers))
        mean, std = self.moments(energy)
        return self.gaussianise((raw - mean) / std, self.condition(energy))

    def inverse(self, features: Tensor, energy: Tensor) -> Tensor:
        """Voxel energies ``(B, V)`` float32 MeV >= 0 from standardised features ``(B, 1 + L + V)``.

        ``log(E_tot / E)`` is clamped below its training maximum (plus 10 %), the log fractions
        at 0; voxels below the threshold are zeroed.
        """
        energy = energy.float()
        mean, std = self.moments(energy)
        raw = self.gaussianise.inverse(features, self.condition(energy)) * std + mean
        n_layers = self.n_layers
        total = torch.exp(torch.minimum(raw[:, 0], self.log_total_max)) * energy  # (B,)
        # Softmaxes over the layers and within each layer; the clamps bound the exponents.
        layer_weights = torch.exp(raw[:, 1 : 1 + n_layers].clamp_max(0))  # (B, L)
        layer_energy = layer_weights * (total[:, None] / layer_weights.sum(dim=1, keepdim=True))
        weights = torch.exp(raw[:, 1 + n_layers :].clamp_max(0))  # (B, V)
        norm = self.layer_sums(weights)  # (B, L) > 0
        showers = weights * (layer_energy / norm)[:, self.layer_of_voxel]
        return torch.where(showers >= self.threshold_mev, showers, torch.zeros_like(showers))

    def condition(self, energy: Tensor) -> Tensor:
        """log E normalised to [0, 1] over the fitted training range, ``(B,) -> (B,)`` float32."""
        lo, hi = self.log_energy_range[0], self.log_energy_range[1]
        return (torch.log(energy.float()) - lo) / (hi - lo)

    def moments(self, energy: Tensor) -> tuple[Tensor, Tensor]:
        """Standardisation mean and deviation ``(B, D)`` at ``energy`` (B,) MeV.

        Linear interpolation between the knots; constant beyond the fitted range.
        """
        pos = self.condition(energy).clamp(0, 1) * (self.n_knots - 1)  # (B,)
        lo = pos.detach().floor().clamp_max(self.n_knots - 2).long()
        w = (pos - lo)[:, None]  # (B, 1)
        mean = self.mean[lo] * (1 - w) + self.mean[lo + 1] * w
        std = self.std[lo] * (1 - w) + self.std[lo + 1] * w
        return mean, std

    @torch.no_grad()
    def fit(self, showers: Tensor, energy: Tensor) -> None:
        """Fit threshold, energy range, standardisation tables and E_tot maximum on the training split.

        Deterministic: fixed-seed dequantisation, float64 sums over fixed chunks, in order.

        Args:
            showers: ``(N, V)`` voxel energies in MeV (>= 0).
            energy: ``(N,)`` incident energies in MeV (> 0).

        Raises:
            ValueError: wrong shapes, fewer than two showers, non-positive incident energies or
                no non-zero voxel at all.
        """
        if showers.ndim != 2 or showers.shape[1] != self.n_voxels:
            raise ValueError(
                f"showers must be (N, {self.n_voxels}) for this geometry, got {tuple(showers.shape)}"
            )
        if energy.shape != (showers.shape[0],) or showers.shape[0] < 2:
            raise ValueError(
                f"need >= 2 showers and energies of shape (N,), got showers {tuple(showers.shape)}"
                f" and energies {tuple(energy.shape)}"
            )
        if not bool((energy > 0).all()):
            raise ValueError("incident energies must be positive")
        device = self.mean.device
        showers, energy = showers.detach(), energy.detach().double()
        log_e = torch.log(energy)
        lo, hi = float(log_e.min()), float(log_e.max())
        if hi - lo < 1e-6:  # one incident energy: any unit range will do
            lo, hi = lo - 0.5, hi + 0.5
        smallest = math.inf
        for start in range(0, showers.shape[0], _FIT_CHUNK):
            part = showers[start : start + _FIT_CHUNK]
            smallest = min(smallest, float(torch.where(part > 0, part, math.inf).min()))
        if not math.isfinite(smallest):
            raise ValueError("every training voxel is zero: nothing to fit")
        self.threshold_mev.fill_(smallest * _THRESHOLD_MARGIN)

        self.log_energy_range.copy_(torch.tensor([lo, hi]))

        # Local linear regression at each knot (Gaussian kernel weights w, d = c - knot):
        # weighted sums of 1, d, d^2 (K,) and of x, d x, x^2 (K, D).
        n_features = self.n_features
        knots = torch.linspace(0, 1, self.n_knots, dtype=torch.float64, device=device)
        bandwidth = 1.0 / (self.n_knots - 1)
        s0, s1, s2 = (
            torch.zeros(self.n_knots, 1, dtype=torch.float64, device=device) for _ in range(3)
        )
        t0, t1, q = (
            torch.zeros(self.n_knots, n_features, dtype=torch.float64, device=device)
            for _ in range(3)
        )
        total_max = -math.inf
        generator = torch.Generator(device=device).manual_seed(_FIT_SEED)
        for start in range(0, showers.shape[0], _FIT_CHUNK):
            part = showers[start : start + _FIT_CHUNK].to(device, torch.float64)
            part_energy = energy[start : start + _FIT_CHUNK].to(device)
            noise = torch.rand(part.shape, generator=generator, device=device, dtype=part.dtype)
            # The training transform itself, in float64, so fit and use cannot disagree.
            x = self.raw_features(part, part_energy, noise)  # (n, D)
            d = (torch.log(part_energy) - lo) / (hi - lo)
            d = d[:, None] - knots  # (n, K)
            w = torch.exp(-0.5 * (d / bandwidth) ** 2)  # (n, K)
            s0 += w.sum(dim=0)[:, None]
            s1 += (w * d).sum(dim=0)[:, None]
            s2 += (w * d * d).sum(dim=0)[:, None]
            t0 += w.T @ x
            t1 += (w * d).T @ x
            q += w.T @ (x * x)
            total_max = max(total_max, float(x[:, 0].max()))
        det = s0 * s2 - s1 * s1
        # Slope 0 (a kernel mean) where the energies near a knot are (nearly) all equal.
        ok = det > 1e-9 * s0 * s0
        slope = torch.where(ok, (s0 * t1 - s1 * t0) / torch.where(ok, det, 1.0), 0.0)
        mean = (t0 - slope * s1) / s0  # intercept: the local mean at the knot
        residual = q - 2 * mean * t0 - 2 * slope * t1 + mean**2 * s0 + 2 * mean * slope * s1
        residual = residual + slope**2 * s2
        std = (residual / s0).clamp_min(0).sqrt()
        # A constant feature (a voxel that is always empty) is only shifted.
        std = torch.where(std > 1e-6, std, torch.ones_like(std))
        self.mean.copy_(mean.float())
        self.std.copy_(std.float())
        self.log_total_max.fill_(total_max + _CLAMP_MARGIN)
        self._fit_quantiles(showers, energy.float())
        self.fitted.fill_(True)

    def _fit_quantiles(self, showers: Tensor, energy: Tensor) -> None:
        """Quantile tables of the standardised features (fixed-seed dequantisation)."""
        device = self.mean.device
        n = showers.shape[0]
        n_fit = min(n, max(_QUANTILE_FIT_ELEMENTS // self.n_features, 4 * self.gaussianise.n_bins))
        rows = torch.linspace(0, n - 1, n_fit).round().long()  # evenly spaced, deterministic
        generator = torch.Generator(device=device).manual_seed(_FIT_SEED + 1)
        parts = []
        for start in range(0, n_fit, _FIT_CHUNK):
            idx = rows[start : start + _FIT_CHUNK]
            part = showers[idx].to(device, torch.float32)
            part_energy = energy[idx].to(device)
            noise = torch.rand(part.shape, generator=generator, device=device)
            raw = self.raw_features(part, part_energy, noise)
            mean, std = self.moments(part_energy)
            parts.append((raw - mean) / std)
        z = torch.cat(parts)
        self.gaussianise.fit(z, self.condition(energy[rows].to(device)))

    def check_fitted(self) -> None:
        """RuntimeError unless :meth:`fit` has run (or a fitted state dict was loaded)."""
        if not bool(self.fitted):
            raise RuntimeError(
                "shower preprocessing is not fitted: call fit_preprocessing(showers, energy) on "
                "the training split (or load a checkpoint) first"
            )

    def extra_repr(self) -> str:
        return f"layers={self.n_layers}, voxels={self.n_voxels}"
