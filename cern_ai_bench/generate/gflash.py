"""GFlash-style parameterised electromagnetic showers, voxelised in CaloChallenge geometries.

A physics-motivated stand-in for Geant4 showers (not a replacement), following the
Grindhammer-Peters parameterisation for sampling calorimeters (hep-ex/0001020; formulas in
:mod:`cern_ai_bench.generate.gflash_params`). For each shower:

1. **Longitudinal profile.** (ln T, ln alpha) are drawn from a correlated bivariate normal (the
   fluctuated sampling-calorimeter formulas); the energy deposited between depths t1 and t2 (X0,
   from the shower start) is E [P(alpha, beta t2) - P(alpha, beta t1)], beta = (alpha - 1)/T,
   P the regularised lower incomplete gamma function. Photons (dataset 1) start at a conversion
   depth drawn from an exponential of mean 9/7 X0 and then shower as one electron of the full
   energy (as GFlash's photon code does); electrons start at depth 0.
2. **Spots.** The shower's energy is carried by N = 93 ln(Z) E^0.876 spots (E in GeV; or the
   sampling-calorimeter count 10.3/a E^0.959, see :class:`GFlashOptions`), capped at
   ``max_spots_per_shower``. Each longitudinal step gets
   N x (its share of the spot profile, a gamma distribution with T_s, alpha_s) spots, rounded
   stochastically and at least one where the step receives energy; the step's energy is shared
   equally among its spots, so capping only makes spots heavier and conserves energy.
3. **Radial profile** (:mod:`cern_ai_bench.generate.gflash_voxelise`). Each spot lands at
   r = R_M R sqrt(u / (1 - u)) with R = R_C (probability p) or R_T, evaluated at the step's
   middle tau = t/T (per-shower tau as in Geant4/CMSSW), and at a uniform azimuth (so its angular
   bin is uniform whatever the bin convention; the shower axis is the voxel grid's origin); spots
   beyond the outermost radial edge are lost, as is energy deposited in depths without a readout
   layer.
4. **Sampling fluctuations.** Each voxel's energy E_v is replaced by Gamma(E_v / q) q with
   q = a^2 x 1 GeV: the mean is kept, the shower total fluctuates as a / sqrt(E / GeV) exactly
   (a sum of gammas with a common scale is a gamma), and every layer and voxel fluctuates with the
   same stochastic law. (Geant4's ``ApplySampling`` does this with dE in MeV, i.e. a 30x smaller
   effect.) Voxels below the raw readout threshold are then zeroed.

Stored energies follow the CaloChallenge convention: active-layer deposit divided by the sampling
fraction, i.e. the simulated shower energy itself, so sum(voxels)/E_inc ~ 1 less leakage.

Vectorised over spots with NumPy; the only Python loops run over chunks of showers (bounded by
``spots_per_chunk`` and ``voxels_per_chunk``) and over groups of layers with the same binning.
The output depends only on the energies, the options and the state of ``rng``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc

from cern_ai_bench.data.calo_geometry import CaloGeometry, GeometryError
from cern_ai_bench.generate.gflash_geometry import LongitudinalLayout, layout_for
from cern_ai_bench.generate.gflash_params import (
    PHOTON_CONVERSION_MEAN_X0,
    SamplingMedium,
    correlation_ln_t_alpha,
    mean_ln_alpha,
    mean_ln_t_max,
    sigma_ln_alpha,
    sigma_ln_t_max,
    spot_alpha,
    spot_count_homogeneous,
    spot_count_sampling,
    spot_t_max,
)
from cern_ai_bench.generate.gflash_voxelise import RadialBins, deposit_spots

#: Version of the simulator's physics, read into the cache key of the embedded shower dataset:
#: bump it whenever a change alters the showers produced from a given seed.
GFLASH_VERSION = 1

#: Validity range of the GFlash e+- parameterisation (Geant4 ``GFlashParticleBounds``), MeV.
MIN_ENERGY_MEV = 100.0
MAX_ENERGY_MEV = 1.0e7

#: Guards that keep the fluctuated profile well defined at the lowest energies: the spread
#: formulas 1/(c0 + c1 ln y) diverge near y = e^2, and alpha must exceed 1 for beta > 0. Both
#: also appear in Geant4 GFlash; sigma reaches 0.5 only below ~0.3 GeV in Par04.
MAX_SIGMA_LN = 0.5
MIN_ALPHA = 1.1


@dataclass(frozen=True)
class GFlashOptions:
    """Settings of :func:`simulate_showers`.

    Attributes:
        stochastic_term: sampling term a of the energy resolution, in sqrt(GeV): sigma/E =
            a / sqrt(E/GeV). Default 0.10, the sampling term measured for the ATLAS EM barrel
            (NIM A568 (2006) 601) and an estimate for Par04 (2.7% sqrt(d_Si / f_samp) = 8% for
            0.3 mm Si, f_samp 0.033, rounded up for Landau fluctuations in thin silicon).
        sampling_fluctuations: apply the per-voxel gamma smearing (off: diagnostics only).
        spot_formula: ``"homogeneous"`` (default), N = 93 ln(Z) E^0.876 (~400 per GeV in Par04),
            or ``"sampling"``, N = 10.3/a E^0.959 (~100 per GeV). The paper's sampling count
            makes the spots themselves carry the sampling fluctuations (~E/a^2 quanta); since the
            gamma smearing already does that, the sampling count would double the voxel-level
            variance (2 a^2 GeV x E_v instead of ~1.25), so the spots here carry only the shower
            shape fluctuations, as in the homogeneous parameterisation.
        max_spots_per_shower: cap on spots per shower (None: uncapped); capped showers keep
            their energy with heavier spots, whose placement adds voxel-level noise of variance
            (E / cap) x E_v. The default 100,000 binds above ~550 GeV in Par04 and adds at most
            ~12 % to the voxel-level sigma at 1 TeV; a log-uniform 1 GeV - 1 TeV sample then costs
            ~1.5 ms of CPU per shower (uncapped ~1.6, capped at 20,000 ~0.8).
        readout_threshold_mev: raw readout threshold in the stored convention; None takes the
            geometry's (0.5 keV / 0.033 for datasets 2 and 3, 0.5 keV / 0.22 for dataset 1).
        max_step_x0: longest longitudinal step (X0) at which the radial profile is evaluated;
            layers are split into equal steps no longer than this.
        spots_per_chunk: showers are processed in chunks of about this many spots (memory:
            ~100 bytes per spot).
        voxels_per_chunk: bound on showers x voxels per chunk (float64 accumulator).
    """

    stochastic_term: float = 0.10
    sampling_fluctuations: bool = True
    spot_formula: str = "homogeneous"
    max_spots_per_shower: int | None = 100_000
    readout_threshold_mev: float | None = None
    max_step_x0: float = 1.0
    spots_per_chunk: int = 1_000_000
    voxels_per_chunk: int = 4_000_000

    def __post_init__(self) -> None:
        if not (math.isfinite(self.stochastic_term) and self.stochastic_term > 0):
            raise ValueError(
                f"GFlashOptions.stochastic_term must be a positive number (sqrt(GeV)), "
                f"got {self.stochastic_term}"
            )
        if self.spot_formula not in ("homogeneous", "sampling"):
            raise ValueError(
                f"GFlashOptions.spot_formula must be 'homogeneous' or 'sampling', "
                f"got {self.spot_formula!r}"
            )
        if self.max_spots_per_shower is not None and self.max_spots_per_shower < 1:
            raise ValueError(
                f"GFlashOptions.max_spots_per_shower must be >= 1 or None, "
                f"got {self.max_spots_per_shower}"
            )
        threshold = self.readout_threshold_mev
        if threshold is not None and not (math.isfinite(threshold) and threshold >= 0):
            raise ValueError(
                f"GFlashOptions.readout_threshold_mev must be >= 0 or None, got {threshold}"
            )
        if not (math.isfinite(self.max_step_x0) and self.max_step_x0 > 0):
            raise ValueError(f"GFlashOptions.max_step_x0 must be positive, got {self.max_step_x0}")
        for name in ("spots_per_chunk", "voxels_per_chunk"):
            if getattr(self, name) < 1:
                raise ValueError(f"GFlashOptions.{name} must be >= 1, got {getattr(self, name)}")


def simulate_showers(
    incident_energy_mev: np.ndarray,
    geometry: CaloGeometry,
    rng: np.random.Generator,
    *,
    options: GFlashOptions | None = None,
) -> np.ndarray:
    """Simulate electromagnetic showers voxelised in a CaloChallenge geometry.

    Args:
        incident_energy_mev: (N,) incident energies in MeV, within 100 MeV - 10 TeV ((N, 1), as
            stored in the HDF5 files, is accepted too).
        geometry: ``ds2`` or ``ds3`` (Par04 electrons) or ``ds1_photons`` (ATLAS photons), embedded
            or parsed from the binning files.
        rng: the only source of randomness; the same state gives the same showers.
        options: physics and performance settings (defaults: :class:`GFlashOptions`).

    Returns:
        (N, geometry.n_voxels) float32 energies in MeV, >= 0, official voxel order.

    Raises:
        GeometryError: a geometry the simulator cannot place in depth (e.g. ``ds1_pions``).
        ValueError: energies not 1-D, not finite or outside the validity range.
        TypeError: ``rng`` is not a ``numpy.random.Generator``.
    """
    opts = options if options is not None else GFlashOptions()
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    layout = layout_for(geometry)
    energy = _checked_energies(incident_energy_mev)
    threshold = (
        layout.readout_threshold_mev
        if opts.readout_threshold_mev is None
        else opts.readout_threshold_mev
    )
    steps = layout.steps(opts.max_step_x0)
    bins = RadialBins.from_geometry(geometry)
    n_voxels = geometry.n_voxels
    out = np.zeros((len(energy), n_voxels), dtype=np.float32)
    expected_spots = _spots_per_shower(energy, layout.medium, opts)
    for start, stop in _chunks(expected_spots, len(steps[0]), n_voxels, opts):
        chunk = energy[start:stop]
        step_energy, counts, tau = _longitudinal_cells(chunk, layout, steps, opts, rng)
        deposit = deposit_spots(
            chunk, step_energy, counts, tau, layout.medium, steps[2], bins, n_voxels, rng
        )
        if opts.sampling_fluctuations:
            _smear_sampling(deposit, opts.stochastic_term, rng)
        deposit[deposit < threshold] = 0.0
        out[start:stop] = deposit
    return out


def supports_geometry(geometry: CaloGeometry) -> bool:
    """Whether :func:`simulate_showers` can fill this geometry (False for ``ds1_pions``)."""
    try:
        layout_for(geometry)
    except GeometryError:
        return False
    return True


def _checked_energies(incident_energy_mev: np.ndarray) -> np.ndarray:
    energy = np.asarray(incident_energy_mev, dtype=np.float64)
    if energy.ndim == 2 and energy.shape[1] == 1:
        energy = energy[:, 0]
    if energy.ndim != 1:
        raise ValueError(f"incident_energy_mev must have shape (N,) or (N, 1), got {energy.shape}")
    bad = ~np.isfinite(energy) | (energy < MIN_ENERGY_MEV) | (energy > MAX_ENERGY_MEV)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"incident_energy_mev[{i}] = {energy[i]!r} MeV is outside the GFlash range "
            f"[{MIN_ENERGY_MEV:g}, {MAX_ENERGY_MEV:g}] MeV ({int(bad.sum())} bad value(s))"
        )
    return energy


def _spots_per_shower(
    energy_mev: np.ndarray, medium: SamplingMedium, opts: GFlashOptions
) -> np.ndarray:
    """Expected spots per shower (before the per-step rounding), capped."""
    e_gev = energy_mev / 1000.0
    if opts.spot_formula == "sampling":
        n = spot_count_sampling(e_gev, opts.stochastic_term)
    else:
        n = spot_count_homogeneous(e_gev, medium)
    if opts.max_spots_per_shower is not None:
        n = np.minimum(n, opts.max_spots_per_shower)
    return n


def _chunks(
    expected_spots: np.ndarray, n_steps: int, n_voxels: int, opts: GFlashOptions
) -> list[tuple[int, int]]:
    """Consecutive shower ranges of at most ~spots_per_chunk spots and voxels_per_chunk cells."""
    cost = np.cumsum(expected_spots + n_steps)
    max_showers = max(1, opts.voxels_per_chunk // n_voxels)
    bounds, start = [], 0
    while start < len(cost):
        done = cost[start - 1] if start else 0.0
        stop = int(np.searchsorted(cost, done + opts.spots_per_chunk, side="right"))
        stop = min(max(stop, start + 1), start + max_showers, len(cost))
        bounds.append((start, stop))
        start = stop
    return bounds


def _longitudinal(
    lny: np.ndarray, layout: LongitudinalLayout, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Per-shower (T, alpha): correlated lognormal, sampling-calorimeter formulas."""
    medium = layout.medium
    z = rng.standard_normal((2, len(lny)))
    rho = correlation_ln_t_alpha(lny)
    c1, c2 = np.sqrt((1 + rho) / 2), np.sqrt((1 - rho) / 2)
    s_t = np.minimum(sigma_ln_t_max(lny), MAX_SIGMA_LN)
    s_a = np.minimum(sigma_ln_alpha(lny), MAX_SIGMA_LN)
    t_max = np.exp(mean_ln_t_max(lny, medium) + s_t * (c1 * z[0] + c2 * z[1]))
    alpha = np.exp(mean_ln_alpha(lny, medium) + s_a * (c1 * z[0] - c2 * z[1]))
    return t_max, np.maximum(alpha, MIN_ALPHA)


def _step_fractions(
    alpha: np.ndarray, t_max: np.ndarray, rel_lo: np.ndarray, rel_hi: np.ndarray
) -> np.ndarray:
    """Share of a gamma profile (per shower alpha, T) in each step, (n, K)."""
    beta = ((alpha - 1) / t_max)[:, None]
    a = alpha[:, None]
    return np.maximum(gammainc(a, beta * rel_hi) - gammainc(a, beta * rel_lo), 0.0)


def _longitudinal_cells(
    energy: np.ndarray,
    layout: LongitudinalLayout,
    steps: tuple[np.ndarray, np.ndarray, np.ndarray],
    opts: GFlashOptions,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per (shower, step): deposited energy (MeV), spot count and tau at the step middle, (n, K)."""
    medium = layout.medium
    lo, hi, _ = steps
    n = len(energy)
    lny = np.log(energy / medium.critical_energy_mev)
    t_max, alpha = _longitudinal(lny, layout, rng)
    # Photons: one conversion to a pair, which then showers as one electron of the full energy.
    start = rng.exponential(PHOTON_CONVERSION_MEAN_X0, n) if layout.photon else np.zeros(n)
    rel_lo = np.maximum(lo[None, :] - start[:, None], 0.0)  # depth from the shower start
    rel_hi = np.maximum(hi[None, :] - start[:, None], 0.0)
    step_energy = energy[:, None] * _step_fractions(alpha, t_max, rel_lo, rel_hi)
    alpha_s = np.maximum(spot_alpha(alpha, medium), MIN_ALPHA)
    spot_share = _step_fractions(alpha_s, spot_t_max(t_max, medium), rel_lo, rel_hi)

    # Spots per step: stochastic rounding of the expectation, >= 1 wherever energy is deposited.
    expected = _spots_per_shower(energy, medium, opts)[:, None] * spot_share
    counts = np.floor(expected + rng.random(expected.shape)).astype(np.int64)
    counts = np.where(step_energy > 0, np.maximum(counts, 1), 0)

    # tau = t/T rescaled per shower so that it follows the centre of gravity (Geant4 ComputeTau,
    # CMSSW EMShower: t / [T_i alpha_i/(alpha_i - 1) (alpha_bar - 1)/alpha_bar]).
    alpha_bar = np.maximum(np.exp(mean_ln_alpha(lny, medium)), MIN_ALPHA)
    tau_scale = (alpha - 1) / alpha * alpha_bar / (alpha_bar - 1) / t_max
    tau = 0.5 * (rel_lo + rel_hi) * tau_scale[:, None]
    return step_energy, counts, tau


def _smear_sampling(deposit: np.ndarray, stochastic_term: float, rng: np.random.Generator) -> None:
    """In place: E_v -> Gamma(E_v / q) q, q = a^2 GeV (variance q E_v, mean E_v)."""
    quantum = stochastic_term**2 * 1000.0
    hit = deposit > 0
    deposit[hit] = rng.gamma(deposit[hit] / quantum) * quantum
