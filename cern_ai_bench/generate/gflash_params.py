"""Grindhammer-Peters (GFlash) parameterisation of electromagnetic showers in sampling calorimeters.

Materials, the effective parameters of a two-material sampling calorimeter, and the longitudinal,
radial and spot formulas of G. Grindhammer and S. Peters, "The parameterized simulation of
electromagnetic showers in homogeneous and sampling calorimeters", hep-ex/0001020 (Appendix A).
The paper's appendix was not read directly; the formulas are taken from its two public
transcriptions, which agree except where noted:

- Geant4 GFlash: ``source/parameterisations/gflash/`` (``GVFlashHomoShowerTuning.hh``,
  ``GFlashSamplingShowerTuning.hh``, ``GFlashSamplingShowerParameterisation.cc``);
- CMSSW ``FastSimulation/ShowerDevelopment/interface/EMECALShowerParametrization.h``.

Every formula is a small pure function over NumPy arrays. Units: depths in radiation lengths X0,
radii in Moliere radii R_M, energies in GeV where the formula says ``e_gev`` (the radial and spot
formulas), ``lny = ln(E / E_c)`` for the longitudinal ones.

Deliberate differences from Geant4 (its sampling class loads the homogeneous constants for the
spread and correlation of (T, alpha) and for the spots, and evaluates E_c with X0 in mm): here the
sampling constants are used throughout, E_c comes from the PDG tables, and the material mixing is
done in g/cm^2.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: A scalar or an array of any shape; the formulas broadcast like NumPy ufuncs.
Values = np.ndarray | float

#: Scale energy E_s = m_e sqrt(4 pi / alpha) (PDG, "Passage of particles through matter"), MeV.
SCALE_ENERGY_MEV = 21.2052


@dataclass(frozen=True)
class Material:
    """A pure material (PDG "Atomic and nuclear properties of materials").

    Attributes:
        z, a: atomic number and mass (g/mol).
        density: g/cm^3.
        x0_g_cm2: radiation length in g/cm^2.
        critical_energy_mev: electron critical energy (Rossi definition, PDG table), MeV.
    """

    name: str
    z: float
    a: float
    density: float
    x0_g_cm2: float
    critical_energy_mev: float

    @property
    def x0_mm(self) -> float:
        return 10.0 * self.x0_g_cm2 / self.density


TUNGSTEN = Material("W", 74, 183.84, 19.3, 6.76, 7.97)
SILICON = Material("Si", 14, 28.0855, 2.329, 21.82, 40.19)
LEAD = Material("Pb", 82, 207.2, 11.35, 6.37, 7.43)
LIQUID_ARGON = Material("LAr", 18, 39.948, 1.396, 19.55, 32.84)


@dataclass(frozen=True)
class SamplingMedium:
    """Effective parameters of a sampling calorimeter (absorber ``d1`` + active ``d2`` per cell).

    Attributes:
        z_eff: mass-weighted atomic number.
        x0_mm: effective radiation length.
        critical_energy_mev: effective critical energy E_c.
        moliere_radius_mm: effective Moliere radius R_M.
        f_s: sampling frequency F_S = X0_eff / (d1 + d2) (cells per radiation length).
        e_hat: e/mip ratio estimate 1 / (1 + 0.007 (Z_absorber - Z_active)).
    """

    name: str
    z_eff: float
    x0_mm: float
    critical_energy_mev: float
    moliere_radius_mm: float
    f_s: float
    e_hat: float


def mix_sampling_calorimeter(
    absorber: Material, d_absorber_mm: float, active: Material, d_active_mm: float, name: str
) -> SamplingMedium:
    """Effective medium of alternating absorber and active layers (hep-ex/0001020 section 4).

    Weights are mass fractions w_i = d_i rho_i / sum(d_j rho_j); X0 and the critical-energy
    combination E_c/X0 are mixed in g/cm^2 and converted back to mm with the mean density. (Geant4
    ``ComputeZAX0EFFetc`` applies the same mass weights to X0 in mm, which gives a 10 % shorter
    X0 for Par04.)
    """
    if d_absorber_mm <= 0 or d_active_mm <= 0:
        raise ValueError(f"layer thicknesses must be positive, got {d_absorber_mm}, {d_active_mm}")
    mass = np.array([d_absorber_mm * absorber.density, d_active_mm * active.density])
    w = mass / mass.sum()
    x0 = np.array([absorber.x0_g_cm2, active.x0_g_cm2])
    ec = np.array([absorber.critical_energy_mev, active.critical_energy_mev])
    x0_eff_g_cm2 = 1.0 / float(np.sum(w / x0))
    ec_over_x0 = float(np.sum(w * ec / x0))  # MeV per g/cm^2
    mean_density = float(mass.sum()) / (d_absorber_mm + d_active_mm)  # g/cm^3
    x0_mm = 10.0 * x0_eff_g_cm2 / mean_density
    return SamplingMedium(
        name=name,
        z_eff=float(w[0] * absorber.z + w[1] * active.z),
        x0_mm=x0_mm,
        critical_energy_mev=x0_eff_g_cm2 * ec_over_x0,
        moliere_radius_mm=10.0 * SCALE_ENERGY_MEV / ec_over_x0 / mean_density,
        f_s=x0_mm / (d_absorber_mm + d_active_mm),
        e_hat=1.0 / (1.0 + 0.007 * (absorber.z - active.z)),
    )


#: Geant4 example Par04 (CaloChallenge datasets 2 and 3): 1.4 mm W + 0.3 mm Si per physical layer.
PAR04_SIW = mix_sampling_calorimeter(TUNGSTEN, 1.4, SILICON, 0.3, "Par04 SiW")

#: ATLAS EM barrel accordion at |eta| < 0.8, simplified to 1.53 mm Pb + 2 x 2.1 mm LAr per cell
#: (steel cladding, glue and electrodes left out; ATLAS, JINST 3 (2008) S08003, section 5).
ATLAS_PB_LAR = mix_sampling_calorimeter(LEAD, 1.53, LIQUID_ARGON, 4.2, "ATLAS Pb/LAr accordion")


def gflash_critical_energy_mev(z: float, a: float, x0_g_cm2: float) -> float:
    """The paper's critical-energy fit E_c = 2.66 (X0 Z / A)^1.1 MeV, X0 in g/cm^2.

    Only for comparison with the PDG values used by the media above (Geant4 evaluates it with X0
    in mm, which gives a different number).
    """
    return 2.66 * (x0_g_cm2 * z / a) ** 1.1


# --- Longitudinal profile: Gamma(alpha, beta) in t [X0], beta = (alpha - 1) / T -------------------
# Average profile, sampling calorimeter (CMSSW meanTSam / meanAlphaSam).


def mean_t_max(lny: Values, medium: SamplingMedium) -> Values:
    """Depth of maximum of the average profile, T_sam = ln y - 0.858 - 0.59/F_S - 0.53 (1 - e_hat)."""
    return lny - 0.858 - 0.59 / medium.f_s - 0.53 * (1.0 - medium.e_hat)


def mean_alpha(lny: Values, medium: SamplingMedium) -> Values:
    """Shape of the average profile, alpha_sam = 0.21 + (0.492 + 2.38/Z) ln y - 0.444/F_S."""
    return 0.21 + (0.492 + 2.38 / medium.z_eff) * lny - 0.444 / medium.f_s


# Fluctuated profiles: (ln T, ln alpha) bivariate normal per shower (CMSSW meanLnTSam ...,
# Geant4 GFlashSamplingShowerTuning).


def mean_ln_t_max(lny: Values, medium: SamplingMedium) -> Values:
    """<ln T_sam> = ln(exp<ln T_hom> - 0.55/F_S - 0.69 (1 - e_hat)), exp<ln T_hom> = ln y - 0.812."""
    return np.log(lny - 0.812 - 0.55 / medium.f_s - 0.69 * (1.0 - medium.e_hat))


def mean_ln_alpha(lny: Values, medium: SamplingMedium) -> Values:
    """<ln alpha_sam> = ln(0.81 + (0.458 + 2.26/Z) ln y - 0.476/F_S).

    Geant4 subtracts 0.476/F_S; CMSSW writes 0.476/Z_eff, taken here as a typo (the sampling
    correction of every other parameter scales with 1/F_S).
    """
    return np.log(0.81 + (0.458 + 2.26 / medium.z_eff) * lny - 0.476 / medium.f_s)


def sigma_ln_t_max(lny: Values) -> Values:
    """sigma(ln T_sam) = 1 / (-2.5 + 1.25 ln y); positive for y > e^2 (E > ~0.1 GeV here)."""
    return 1.0 / (-2.5 + 1.25 * lny)


def sigma_ln_alpha(lny: Values) -> Values:
    """sigma(ln alpha_sam) = 1 / (-0.82 + 0.79 ln y)."""
    return 1.0 / (-0.82 + 0.79 * lny)


def correlation_ln_t_alpha(lny: Values) -> Values:
    """rho(ln T_sam, ln alpha_sam) = 0.784 - 0.023 ln y."""
    return 0.784 - 0.023 * lny


# --- Spots (energy quanta that carry the radial fluctuations) -------------------------------------


def spot_count_homogeneous(e_gev: Values, medium: SamplingMedium) -> Values:
    """Spots per shower of the homogeneous parameterisation, N = 93 ln(Z) E^0.876."""
    return 93.0 * np.log(medium.z_eff) * np.power(e_gev, 0.876)


def spot_count_sampling(e_gev: Values, sampling_resolution: float) -> Values:
    """Spots per shower in a sampling calorimeter, N = 10.3 / c E^0.959 (c in sqrt(GeV)).

    With c ~ 0.1 this is ~E/c^2 spots: the paper's spots then carry the sampling fluctuations
    themselves (Poisson statistics of ~E/c^2 equal quanta).
    """
    return 10.3 / sampling_resolution * np.power(e_gev, 0.959)


def spot_t_max(t_max: Values, medium: SamplingMedium) -> Values:
    """Maximum of the spot profile, T_s = T (0.698 + 0.00212 Z)(0.813 + 0.0019 Z) (CMSSW)."""
    z = medium.z_eff
    return t_max * (0.698 + 0.00212 * z) * (0.813 + 0.0019 * z)


def spot_alpha(alpha: Values, medium: SamplingMedium) -> Values:
    """Shape of the spot profile, alpha_s = alpha (0.639 + 0.00334 Z)(0.844 + 0.0026 Z) (CMSSW)."""
    z = medium.z_eff
    return alpha * (0.639 + 0.00334 * z) * (0.844 + 0.0026 * z)


# --- Radial profile at tau = t/T: p f_core + (1 - p) f_tail, f(r) = 2 r R^2 / (r^2 + R^2)^2 -------


def core_radius(tau: Values, e_gev: Values, medium: SamplingMedium) -> Values:
    """R_C = 0.0251 + 0.00319 ln E + (0.1162 - 0.000381 Z) tau
    - 0.0203 (1 - e_hat) + 0.0397/F_S exp(-tau), in R_M."""
    hom = 0.0251 + 0.00319 * np.log(e_gev) + (0.1162 - 0.000381 * medium.z_eff) * tau
    return hom - 0.0203 * (1.0 - medium.e_hat) + 0.0397 / medium.f_s * np.exp(-tau)


def tail_radius(tau: Values, e_gev: Values, medium: SamplingMedium) -> Values:
    """R_T = k1 [exp(k3 (tau - k2)) + exp(k4 (tau - k2))] - 0.14 (1 - e_hat) - 0.495/F_S exp(-tau),
    k1 = 0.659 - 0.00309 Z, k2 = 0.645, k3 = -2.59, k4 = 0.3585 + 0.0421 ln E, in R_M.

    k4's slope is 0.0421 in CMSSW and 0.0412 in Geant4; the CMSSW value is used.
    """
    k1 = 0.659 - 0.00309 * medium.z_eff
    k4 = 0.3585 + 0.0421 * np.log(e_gev)
    hom = k1 * (np.exp(-2.59 * (tau - 0.645)) + np.exp(k4 * (tau - 0.645)))
    return hom - 0.14 * (1.0 - medium.e_hat) - 0.495 / medium.f_s * np.exp(-tau)


def core_probability(tau: Values, e_gev: Values, medium: SamplingMedium) -> Values:
    """p = p1 exp((p2 - tau)/p3 - exp((p2 - tau)/p3)) + (1 - e_hat)(0.348 - 0.642/F_S exp(-(tau-1)^2)),
    p1 = 2.632 - 0.00094 Z, p2 = 0.401 + 0.00187 Z, p3 = 1.313 - 0.0686 ln E.

    Not clipped here; the simulator clips it to [0, 1].
    """
    z = medium.z_eff
    arg = (0.401 + 0.00187 * z - tau) / (1.313 - 0.0686 * np.log(e_gev))
    hom = (2.632 - 0.00094 * z) * np.exp(arg - np.exp(arg))
    return hom + (1.0 - medium.e_hat) * (0.348 - 0.642 / medium.f_s * np.exp(-((tau - 1.0) ** 2)))


#: Mean depth of the first pair conversion of a high-energy photon, 9/7 X0 (mean free path of pair
#: production; Geant4 ``GFlashSamplingShowerParameterisation::GenerateExponential``).
PHOTON_CONVERSION_MEAN_X0 = 9.0 / 7.0


__all__ = [
    "ATLAS_PB_LAR",
    "LEAD",
    "LIQUID_ARGON",
    "PAR04_SIW",
    "PHOTON_CONVERSION_MEAN_X0",
    "SCALE_ENERGY_MEV",
    "SILICON",
    "TUNGSTEN",
    "Material",
    "SamplingMedium",
    "core_probability",
    "core_radius",
    "correlation_ln_t_alpha",
    "gflash_critical_energy_mev",
    "mean_alpha",
    "mean_ln_alpha",
    "mean_ln_t_max",
    "mean_t_max",
    "mix_sampling_calorimeter",
    "sigma_ln_alpha",
    "sigma_ln_t_max",
    "spot_alpha",
    "spot_count_homogeneous",
    "spot_count_sampling",
    "spot_t_max",
    "tail_radius",
]
