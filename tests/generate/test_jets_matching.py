"""Truth matching on small hand-built Pythia-like event records."""

from __future__ import annotations

import numpy as np
import pytest

from cern_ai_bench.generate.jets_matching import (
    EventRecord,
    TruthObject,
    daughters,
    delta_r,
    match_jets,
    truth_objects,
)


def p4(pt: float, eta: float, phi: float, mass: float = 0.0) -> list[float]:
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    return [px, py, pz, float(np.sqrt(px**2 + py**2 + pz**2 + mass**2))]


def record(lines: list[tuple[int, int, int, int, list[float]]]) -> EventRecord:
    """Lines (id, status, daughter1, daughter2, p4) after a system line at index 0."""
    rows = [(90, -11, 0, 0, [0.0, 0.0, 0.0, 13000.0]), *lines]
    return EventRecord(
        pid=np.array([r[0] for r in rows]),
        status=np.array([r[1] for r in rows]),
        daughter1=np.array([r[2] for r in rows]),
        daughter2=np.array([r[3] for r in rows]),
        p4=np.array([r[4] for r in rows]),
    )


def w_plus_jet_event() -> EventRecord:
    """qqbar -> W g; the W is recoil-copied, radiates a photon, then decays to u dbar."""
    return record(
        [
            (2, -21, 5, 6, p4(0, 5, 0)),  # 1 incoming
            (-1, -21, 5, 6, p4(0, -5, 0)),  # 2 incoming
            (3, -61, 0, 0, p4(0, 4, 0)),  # 3 beam remnant (unused)
            (4, -61, 0, 0, p4(0, -4, 0)),  # 4
            (24, -22, 7, 7, p4(1000, 0.5, 1.0, 80.4)),  # 5 hard W
            (21, -23, 0, 0, p4(1000, -0.5, 1.0 + np.pi)),  # 6 recoiling gluon
            (24, -52, 8, 9, p4(1001, 0.5, 1.0, 80.4)),  # 7 recoil copy, radiates
            (24, -51, 10, 11, p4(990, 0.51, 1.0, 80.4)),  # 8 W after the photon
            (22, 51, 0, 0, p4(11, 0.3, 1.2)),  # 9 photon
            (2, 23, 0, 0, p4(600, 0.55, 1.05)),  # 10 decay quark
            (-1, 23, 0, 0, p4(390, 0.45, 0.92)),  # 11 decay antiquark
        ]
    )


def top_event() -> EventRecord:
    """One hadronic top: t -> W b, W -> c sbar."""
    return record(
        [
            (6, -22, 2, 3, p4(1000, 0.2, -1.0, 173.0)),  # 1 top (decaying copy)
            (24, -22, 4, 5, p4(700, 0.25, -1.05, 80.4)),  # 2 W
            (5, 23, 0, 0, p4(300, 0.1, -0.9)),  # 3 b
            (4, 23, 0, 0, p4(400, 0.3, -1.0)),  # 4 c
            (-3, 23, 0, 0, p4(300, 0.2, -1.1)),  # 5 sbar
        ]
    )


def qcd_event() -> EventRecord:
    return record(
        [
            (21, -23, 0, 0, p4(1000, 0.4, 0.2)),  # 1 gluon
            (2, -23, 0, 0, p4(1000, -0.4, 0.2 + np.pi)),  # 2 up quark
            (5, -23, 0, 0, p4(900, 1.0, 2.0)),  # 3 b quark (not "q" with max id 4)
            (21, 51, 0, 0, p4(50, 0.0, 0.0)),  # 4 shower gluon, not a hard parton
        ]
    )


def test_w_is_followed_through_photon_emission() -> None:
    (obj,) = truth_objects(w_plus_jet_event(), "W", light_quark_max_id=4)
    assert obj.eta == pytest.approx(0.51) and obj.phi == pytest.approx(1.0)
    assert obj.daughters_eta == pytest.approx((0.55, 0.45))
    assert obj.daughters_phi == pytest.approx((1.05, 0.92))
    assert truth_objects(w_plus_jet_event(), "Z", light_quark_max_id=4) == []


def test_top_needs_b_and_both_w_quarks() -> None:
    (obj,) = truth_objects(top_event(), "t", light_quark_max_id=4)
    assert obj.eta == pytest.approx(0.2)
    assert obj.daughters_eta == pytest.approx((0.1, 0.3, 0.2))


def test_hard_partons_by_flavour() -> None:
    gluons = truth_objects(qcd_event(), "g", light_quark_max_id=4)
    quarks = truth_objects(qcd_event(), "q", light_quark_max_id=4)
    assert [o.eta for o in gluons] == pytest.approx([0.4])
    assert [o.eta for o in quarks] == pytest.approx([-0.4])
    assert len(truth_objects(qcd_event(), "q", light_quark_max_id=5)) == 2


def test_match_takes_nearest_contained_jet() -> None:
    w = TruthObject(0.5, 1.0, (0.55, 0.45), (1.05, 0.92))
    jet_eta = np.array([-0.5, 0.52, 0.9])
    jet_phi = np.array([1.0 + np.pi, 1.01, 1.0])
    assert match_jets([w], jet_eta, jet_phi, radius=0.8) == [1]
    # A decay quark outside the jet: no match (and no fallback to another jet).
    wide = TruthObject(0.5, 1.0, (0.55, 1.45), (1.05, 0.92))
    assert match_jets([wide], jet_eta, jet_phi, radius=0.8) == []
    # Nearest jet too far away.
    assert match_jets([TruthObject(-2.0, -2.0)], jet_eta, jet_phi, radius=0.8) == []
    # Two objects claiming the same jet: the first wins.
    a, b = TruthObject(0.5, 1.0), TruthObject(0.55, 1.0)
    assert match_jets([a, b], jet_eta, jet_phi, radius=0.8) == [1]
    assert match_jets([a], np.array([]), np.array([]), radius=0.8) == []


def test_delta_r_wraps_azimuth() -> None:
    assert delta_r(np.array(0.0), np.array(np.pi - 0.1), 0.0, -np.pi + 0.1) == pytest.approx(0.2)


#: (daughter1, daughter2) -> daughters, the cases of Pythia 8's Particle::daughterList().
DAUGHTER_CASES = [
    ((0, 0), []),  # none
    ((5, 5), [5]),  # one daughter
    ((5, 0), [5]),  # one daughter (d2 unset)
    ((5, 8), [5, 6, 7, 8]),  # a range
    ((8, 5), [5, 8]),  # two separate daughters
]


def _line_with_daughters(d1: int, d2: int) -> EventRecord:
    """Entry 1 has daughters (d1, d2); entries 2..9 are plain final-state gluons."""
    gluons = [(21, 23, 0, 0, p4(10, 0, 0)) for _ in range(8)]
    return record([(23, -22, d1, d2, p4(100, 0, 0, 91.2)), *gluons])


@pytest.mark.parametrize(("pair", "expected"), DAUGHTER_CASES)
def test_daughters_follow_pythia_convention(pair: tuple[int, int], expected: list[int]) -> None:
    assert daughters(_line_with_daughters(*pair), 1) == expected


@pytest.mark.parametrize(("pair", "expected"), DAUGHTER_CASES)
def test_daughters_agree_with_pythia_daughter_list(
    pair: tuple[int, int], expected: list[int]
) -> None:
    pythia8mc = pytest.importorskip("pythia8mc")
    event = pythia8mc.Event()
    for _ in range(10):
        event.append(pythia8mc.Particle(21, 23, 0, 0, 0, 0, 0, 0, pythia8mc.Vec4(1, 0, 0, 1), 0))
    event[1].daughters(*pair)
    assert sorted(event[1].daughterList()) == expected


def test_top_with_two_separate_daughters() -> None:
    """daughter2 < daughter1: the W (entry 2) and the b (entry 5) stored apart."""
    event = record(
        [
            (6, -22, 5, 2, p4(1000, 0.2, -1.0, 173.0)),  # 1 top: daughters 2 and 5
            (24, -22, 3, 4, p4(700, 0.25, -1.05, 80.4)),  # 2 W
            (4, 23, 0, 0, p4(400, 0.3, -1.0)),  # 3 c
            (-3, 23, 0, 0, p4(300, 0.2, -1.1)),  # 4 sbar
            (5, 23, 0, 0, p4(300, 0.1, -0.9)),  # 5 b
        ]
    )
    (obj,) = truth_objects(event, "t", light_quark_max_id=4)
    assert obj.eta == pytest.approx(0.2)
    assert obj.daughters_eta == pytest.approx((0.1, 0.3, 0.2))  # b, then the W's quarks
