"""GFlash parameter formulas and the effective sampling media (hep-ex/0001020 via Geant4 / CMSSW)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cern_ai_bench.generate.gflash_params import (
    ATLAS_PB_LAR,
    PAR04_SIW,
    SILICON,
    TUNGSTEN,
    core_probability,
    core_radius,
    correlation_ln_t_alpha,
    gflash_critical_energy_mev,
    mean_alpha,
    mean_ln_alpha,
    mean_ln_t_max,
    mean_t_max,
    mix_sampling_calorimeter,
    sigma_ln_alpha,
    sigma_ln_t_max,
    spot_alpha,
    spot_count_homogeneous,
    spot_count_sampling,
    spot_t_max,
    tail_radius,
)


def test_par04_effective_medium_matches_hand_mixing_in_g_cm2() -> None:
    # Mass fractions: W 1.4 mm x 19.3 = 2.702, Si 0.3 mm x 2.329 = 0.0699 g/cm^2.
    w_w = 2.702 / (2.702 + 0.06987)
    x0_g = 1 / (w_w / 6.76 + (1 - w_w) / 21.82)
    rho = (2.702 + 0.06987) / 0.17
    assert PAR04_SIW.z_eff == pytest.approx(74 * w_w + 14 * (1 - w_w), rel=1e-4)
    assert PAR04_SIW.x0_mm == pytest.approx(10 * x0_g / rho, rel=1e-4)
    # The prototype's numbers (fastsim.md 2.4): Z 72.5, X0 4.22 mm, E_c 8.23 MeV, R_M 10.9 mm,
    # F_S 2.48, e_hat 0.704.
    assert PAR04_SIW.z_eff == pytest.approx(72.5, abs=0.05)
    assert PAR04_SIW.x0_mm == pytest.approx(4.22, abs=0.005)
    assert PAR04_SIW.critical_energy_mev == pytest.approx(8.23, abs=0.01)
    assert PAR04_SIW.moliere_radius_mm == pytest.approx(10.9, abs=0.05)
    assert PAR04_SIW.f_s == pytest.approx(2.48, abs=0.005)
    assert PAR04_SIW.e_hat == pytest.approx(1 / 1.42, rel=1e-9)


def test_geant4_style_mixing_would_differ() -> None:
    # Guards the g/cm^2 choice: Geant4 applies mass weights to X0 in mm, which shortens X0.
    w_mass = 2.702 / (2.702 + 0.06987)
    x0_geant4_mm = 1 / (w_mass / TUNGSTEN.x0_mm + (1 - w_mass) / SILICON.x0_mm)
    assert x0_geant4_mm < PAR04_SIW.x0_mm * 0.9
    # Volume fractions with lengths are the same physics as mass fractions in g/cm^2.
    w_len = 1.4 / 1.7
    x0_len_mm = 1 / (w_len / TUNGSTEN.x0_mm + (1 - w_len) / SILICON.x0_mm)
    assert x0_len_mm == pytest.approx(PAR04_SIW.x0_mm, rel=1e-3)


def test_atlas_medium_is_lead_dominated_and_wider() -> None:
    assert 60 < ATLAS_PB_LAR.z_eff < 82
    assert 15 < ATLAS_PB_LAR.x0_mm < 25  # ATLAS quotes > 22 X0 in ~47 cm of accordion
    assert ATLAS_PB_LAR.moliere_radius_mm > PAR04_SIW.moliere_radius_mm
    assert ATLAS_PB_LAR.e_hat == pytest.approx(1 / (1 + 0.007 * 64))


def test_mixing_rejects_bad_thickness() -> None:
    with pytest.raises(ValueError, match="positive"):
        mix_sampling_calorimeter(TUNGSTEN, 0.0, SILICON, 0.3, "bad")


def test_paper_critical_energy_fit_close_to_pdg_for_tungsten() -> None:
    assert gflash_critical_energy_mev(74, 183.84, 6.76) == pytest.approx(7.97, rel=0.03)


def test_longitudinal_formulas_against_hand_values_at_10_gev() -> None:
    m = PAR04_SIW
    lny = math.log(10_000 / m.critical_energy_mev)
    fs, dz = m.f_s, 1 - m.e_hat
    assert mean_t_max(lny, m) == pytest.approx(lny - 0.858 - 0.59 / fs - 0.53 * dz)
    assert mean_alpha(lny, m) == pytest.approx(0.21 + (0.492 + 2.38 / m.z_eff) * lny - 0.444 / fs)
    assert mean_ln_t_max(lny, m) == pytest.approx(math.log(lny - 0.812 - 0.55 / fs - 0.69 * dz))
    assert mean_ln_alpha(lny, m) == pytest.approx(
        math.log(0.81 + (0.458 + 2.26 / m.z_eff) * lny - 0.476 / fs)
    )
    assert sigma_ln_t_max(lny) == pytest.approx(1 / (-2.5 + 1.25 * lny))
    assert sigma_ln_alpha(lny) == pytest.approx(1 / (-0.82 + 0.79 * lny))
    assert correlation_ln_t_alpha(lny) == pytest.approx(0.784 - 0.023 * lny)
    # The prototype's mean T at 10 GeV was 5.79 X0 (fastsim.md 2.4, fluctuated draws).
    assert math.exp(mean_ln_t_max(lny, m)) == pytest.approx(5.8, abs=0.9)


def test_shower_max_depth_grows_by_one_x0_per_e_fold() -> None:
    lny = np.log(np.array([1e3, 1e6]) / PAR04_SIW.critical_energy_mev)
    t = mean_t_max(lny, PAR04_SIW)
    assert (t[1] - t[0]) / math.log(1000) == pytest.approx(1.0)


def test_spot_formulas() -> None:
    assert spot_count_homogeneous(1.0, PAR04_SIW) == pytest.approx(93 * math.log(72.4876), rel=1e-4)
    assert spot_count_sampling(1.0, 0.1) == pytest.approx(103.0)
    assert spot_count_sampling(1000.0, 0.1) / spot_count_sampling(1.0, 0.1) == pytest.approx(
        1000**0.959
    )
    z = PAR04_SIW.z_eff
    assert spot_t_max(1.0, PAR04_SIW) == pytest.approx((0.698 + 0.00212 * z) * (0.813 + 0.0019 * z))
    assert spot_alpha(1.0, PAR04_SIW) == pytest.approx((0.639 + 0.00334 * z) * (0.844 + 0.0026 * z))
    assert spot_t_max(5.0, PAR04_SIW) < 5.0  # spots peak before the energy


@pytest.mark.parametrize("e_gev", [0.1, 1.0, 100.0, 10_000.0])
def test_radial_profile_sane_over_depth(e_gev: float) -> None:
    tau = np.linspace(0.0, 4.0, 81)
    for medium in (PAR04_SIW, ATLAS_PB_LAR):
        rc = core_radius(tau, e_gev, medium)
        rt = tail_radius(tau, e_gev, medium)
        p = core_probability(tau, e_gev, medium)
        assert np.all(rc > 0)
        assert np.all(rt > rc)  # the tail is wider than the core at every depth
        assert np.all(np.diff(rc) > 0)  # the core widens with depth
        assert np.all((p > 0) & (p <= 1.05))
        assert p[0] > p[-1]  # the core dominates early, the tail late
