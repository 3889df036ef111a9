"""The toy L1 detector on hand-built particle lists: objects, isolation, acceptance, slots, MET,
the lepton filter, and the resolutions and efficiencies it documents."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from cern_ai_bench.data.l1_events import first_problem
from cern_ai_bench.generate.l1_detector import DETECTOR, ParticleBatch, reconstruct

IDEAL = dataclasses.replace(DETECTOR, smear=False)
E, MU, PHOTON, PION, NU = 11, 13, 22, 211, 12

Particle = tuple[int, float, float, float]  # (pid, pT, eta, phi), massless


def batch(*events: list[Particle]) -> ParticleBatch:
    """Massless particles given by (pid, pT, eta, phi)."""
    rows = [particle for event in events for particle in event]
    pid = np.array([row[0] for row in rows], dtype=np.int64)
    pt, eta, phi = (np.array([row[k] for row in rows], dtype=np.float64) for k in (1, 2, 3))
    p4 = np.stack([pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], 1)
    return ParticleBatch(np.array([len(event) for event in events]), pid, p4.reshape(-1, 4))


def run(*events: list[Particle], detector=IDEAL, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return reconstruct(batch(*events), np.random.default_rng(seed), detector)


def slots(out: np.ndarray, event: int, first: int, last: int) -> np.ndarray:
    """(pT, eta, phi, class) of the filled slots first..last of one event."""
    rows = out[event, first : last + 1]
    return rows[rows[:, 0] > 0]


def test_isolated_electron_and_muon_fill_their_slots_and_pass() -> None:
    out, passed = run([(E, 40.0, 0.5, 1.0), (MU, 30.0, -1.0, -2.0), (NU, 50.0, 0.0, 0.0)])
    assert passed.tolist() == [True]
    np.testing.assert_allclose(slots(out, 0, 1, 4), [[40.0, 0.5, 1.0, 2.0]], rtol=1e-6)
    np.testing.assert_allclose(slots(out, 0, 5, 8), [[30.0, -1.0, -2.0, 3.0]], rtol=1e-6)
    assert len(slots(out, 0, 9, 18)) == 0  # isolated leptons are not clustered into jets
    assert first_problem(out) is None


def test_electron_isolation_in_a_cone_of_0p3_with_ratio_0p12() -> None:
    # A 10 GeV pion at dR 0.2 from a 50 GeV electron: 0.2 > 0.12, not isolated. At dR 0.4 it is
    # outside the cone. The non-isolated electron ends up in a jet with the pion.
    near = [(E, 50.0, 0.0, 0.0), (PION, 10.0, 0.2, 0.0)]
    far = [(E, 50.0, 0.0, 0.0), (PION, 10.0, 0.4, 0.0)]
    out, passed = run(near, far)
    assert passed.tolist() == [False, True]
    assert len(slots(out, 0, 1, 4)) == 0
    np.testing.assert_allclose(slots(out, 0, 9, 18)[:, 0], [60.0], rtol=1e-6)
    np.testing.assert_allclose(slots(out, 1, 1, 4)[:, 0], [50.0], rtol=1e-6)
    # Just below and above the ratio: 5.9 and 6.1 GeV around 50 GeV.
    out, _ = run(
        [(E, 50.0, 0.0, 0.0), (PION, 5.9, 0.1, 0.0)], [(E, 50.0, 0.0, 0.0), (PION, 6.1, 0.1, 0.0)]
    )
    assert [len(slots(out, k, 1, 4)) for k in (0, 1)] == [1, 0]


def test_muon_isolation_ratio_is_0p25_and_soft_particles_do_not_count() -> None:
    # 10 GeV around a 50 GeV muon: 0.2 < 0.25 passes; 13 GeV (0.26) fails.
    # Forty 0.4 GeV pions (16 GeV in all) lie below the 0.5 GeV particle threshold.
    soft = [(PION, 0.4, 0.05 * math.cos(k), 0.05 * math.sin(k)) for k in range(40)]
    out, _ = run(
        [(MU, 50.0, 0.0, 0.0), (PION, 10.0, 0.1, 0.1)],
        [(MU, 50.0, 0.0, 0.0), (PION, 13.0, 0.1, 0.1)],
        [(MU, 50.0, 0.0, 0.0), *soft],
    )
    assert [len(slots(out, k, 5, 8)) for k in range(3)] == [1, 0, 1]


def test_lepton_isolation_switch_keeps_non_isolated_leptons() -> None:
    event = [(E, 50.0, 0.0, 0.0), (PION, 20.0, 0.1, 0.0)]
    loose = dataclasses.replace(IDEAL, lepton_isolation=False)
    out, passed = run(event, detector=loose)
    assert passed.tolist() == [True]
    np.testing.assert_allclose(slots(out, 0, 1, 4)[:, 0], [50.0], rtol=1e-6)
    np.testing.assert_allclose(slots(out, 0, 9, 18)[:, 0], [20.0], rtol=1e-6)


def test_photons_within_0p1_dress_the_lepton_and_leave_isolation_and_jets() -> None:
    # 15 GeV photon at dR 0.05: added to the electron (pT 45), not an isolation nor a jet input.
    # At dR 0.2 it is not dressing: 15/30 fails isolation.
    out, passed = run(
        [(E, 30.0, 0.0, 0.0), (PHOTON, 15.0, 0.05, 0.0)],
        [(E, 30.0, 0.0, 0.0), (PHOTON, 15.0, 0.2, 0.0)],
    )
    assert passed.tolist() == [True, False]
    electron = slots(out, 0, 1, 4)
    assert len(electron) == 1 and electron[0, 0] == pytest.approx(45.0, rel=1e-6)
    assert 0.0 < electron[0, 1] < 0.05  # the pT-weighted direction of the pair
    assert len(slots(out, 0, 9, 18)) == 0


@pytest.mark.parametrize(
    ("pid", "eta", "group", "kept"),
    [
        (E, 2.9, (1, 4), True),
        (E, 3.1, (1, 4), False),
        (MU, 2.0, (5, 8), True),
        (MU, 2.2, (5, 8), False),
        (PION, 3.9, (9, 18), True),
        (PION, 4.1, (9, 18), False),
    ],
)
def test_acceptance(pid: int, eta: float, group: tuple[int, int], kept: bool) -> None:
    out, _ = run([(pid, 40.0, eta, 0.3)])
    assert len(slots(out, 0, *group)) == int(kept)


@pytest.mark.parametrize(
    ("pid", "pt", "group", "kept"),
    [
        (E, 9.5, (1, 4), False),
        (E, 10.5, (1, 4), True),
        (PION, 14.5, (9, 18), False),
        (PION, 15.5, (9, 18), True),
    ],
)
def test_object_pt_thresholds(pid: int, pt: float, group: tuple[int, int], kept: bool) -> None:
    out, _ = run([(pid, pt, 0.0, 0.0)])
    assert len(slots(out, 0, *group)) == int(kept)


def test_lepton_filter_at_23_gev() -> None:
    _, passed = run(
        [(MU, 22.0, 0.0, 0.0), (E, 22.9, 1.0, 2.0), (PION, 200.0, 0.0, 3.0)],
        [(MU, 23.5, 0.0, 0.0)],
        [(E, 23.5, 0.0, 0.0)],
        [(NU, 100.0, 0.0, 0.0), (PION, 100.0, 0.0, 3.1)],
        [],
    )
    assert passed.tolist() == [False, True, True, False, False]


def test_slots_are_pt_ordered_and_capped() -> None:
    # Six isolated electrons (well separated) and twelve jets (single pions), shuffled.
    electrons = [(E, pt, -2.0 + 0.8 * k, 0.0) for k, pt in enumerate([15, 60, 25, 40, 12, 33])]
    jets = [
        (PION, 20.0 + 5 * k, 0.0, -3.0 + 0.5 * k) for k in (3, 7, 0, 11, 5, 9, 1, 10, 2, 6, 4, 8)
    ]
    out, passed = run([*jets, *electrons])
    assert passed.tolist() == [True]
    np.testing.assert_allclose(out[0, 1:5, 0], [60, 40, 33, 25], rtol=1e-6)
    np.testing.assert_allclose(out[0, 9:19, 0], [75, 70, 65, 60, 55, 50, 45, 40, 35, 30], rtol=1e-6)
    assert out[0, 1:5, 3].tolist() == [2] * 4 and out[0, 9:19, 3].tolist() == [4] * 10
    assert not out[0, 5:9].any()  # no muon: the slots stay zero, class 0 included
    assert first_problem(out) is None


def test_met_is_minus_the_visible_sum_with_eta_zero() -> None:
    # Visible: a 40 GeV electron along +x and a 100 GeV pion along +y; a neutrino and a particle
    # beyond |eta| = 5 are invisible. MET = (-40, -100).
    out, _ = run(
        [
            (E, 40.0, 0.0, 0.0),
            (PION, 100.0, 1.0, math.pi / 2),
            (NU, 70.0, 0.0, 2.0),
            (PION, 30.0, 5.5, 0.0),
        ]
    )
    met = out[0, 0]
    assert met[0] == pytest.approx(math.hypot(40.0, 100.0), rel=1e-6)
    assert met[1] == 0.0
    assert met[2] == pytest.approx(math.atan2(-100.0, -40.0), abs=1e-6)
    assert met[3] == 1.0


def test_met_follows_the_smeared_jet() -> None:
    # One jet and nothing else: MET balances the *smeared* jet exactly.
    events = [[(PION, 100.0, 0.0, 0.0)]] * 200
    out, _ = run(*events, detector=DETECTOR, seed=4)
    jets = out[:, 9, 0]
    assert jets.std() > 5.0  # smeared
    np.testing.assert_allclose(out[:, 0, 0], jets, rtol=1e-5)


def test_documented_resolutions_and_efficiencies() -> None:
    n = 4000
    muons = [[(MU, 50.0, 0.2, 0.0)]] * n
    out, _ = run(*muons, detector=DETECTOR, seed=1)
    pt = out[:, 5, 0]
    kept = pt > 0
    # Muon efficiency 0.95 (binomial sigma 0.0034) and sigma/pT = sqrt(0.01^2 + (1e-4 x 50)^2).
    assert kept.mean() == pytest.approx(0.95, abs=0.015)
    assert pt[kept].std() / 50.0 == pytest.approx(math.hypot(0.01, 5e-3), rel=0.08)
    assert pt[kept].mean() == pytest.approx(50.0, rel=2e-3)
    # Jets: sigma/E = sqrt(0.05^2 + 1.5^2 / E) for a 100 GeV jet at eta 0 (E = pT).
    out, _ = run(*[[(PION, 100.0, 0.0, 0.0)]] * n, detector=DETECTOR, seed=2)
    assert out[:, 9, 0].std() / 100.0 == pytest.approx(math.sqrt(0.05**2 + 1.5**2 / 100), rel=0.08)
    # Electrons in the endcap: efficiency 0.85.
    out, _ = run(*[[(E, 50.0, 2.0, 0.0)]] * n, detector=DETECTOR, seed=3)
    assert (out[:, 1, 0] > 0).mean() == pytest.approx(0.85, abs=0.02)


def test_same_generator_state_same_events() -> None:
    events = [[(E, 30.0, 0.1, 0.2), (PION, 40.0, -1.0, 2.0), (PION, 25.0, 2.5, -1.0)]] * 50
    first, _ = run(*events, detector=DETECTOR, seed=9)
    second, _ = run(*events, detector=DETECTOR, seed=9)
    np.testing.assert_array_equal(first, second)
    third, _ = run(*events, detector=DETECTOR, seed=10)
    assert not np.array_equal(first, third)


def test_batch_shape_mismatch_is_refused() -> None:
    with pytest.raises(ValueError, match="counts sum to 3"):
        ParticleBatch(np.array([1, 2]), np.zeros(2, np.int64), np.zeros((2, 4)))
