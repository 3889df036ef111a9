"""Substructure features against an independent NumPy implementation of their definitions.

Reference formulas: energy correlation functions in the pT-R measure (Larkoski, Salam, Thaler,
JHEP 06 (2013) 108; generalised ECFs: Moult, Necib, Thaler, JHEP 12 (2016) 153), with
``theta_ij`` the (rapidity, azimuth) distance and ``z_i = pT_i / sum_j pT_j``:

- ECF(N, beta) = sum_{i1 < ... < iN} prod pT_i * (prod_{pairs} theta)^beta;
- C1 = ECF2 / ECF1^2, C2 = ECF3 ECF1 / ECF2^2, D2 = ECF3 ECF1^3 / ECF2^3;
- v_e_3^(beta) = sum_{i<j<k} z_i z_j z_k * (product of the v smallest of the three angles)^beta;
  M2 = 1e3 / 1e2, N2 = 2e3 / (1e2)^2, D2^(alpha, beta) = 3e3^(alpha) / (1e2^(beta))^(3 alpha/beta).
"""

from __future__ import annotations

import itertools

import awkward as ak
import fastjet
import numpy as np
import pytest

from cern_ai_bench.data.hls4ml_columns import JET_FEATURE_NAMES
from cern_ai_bench.generate.substructure import (
    ECF_RATIOS,
    EXPENSIVE_UNGROOMED,
    as_jagged_constituents,
    energy_correlator,
    jet_features,
    silence_fastjet_banner,
)

COLUMN = {name.removeprefix("j_"): index for index, name in enumerate(JET_FEATURE_NAMES)}


def random_jet(rng: np.random.Generator, n: int = 25) -> np.ndarray:
    """``(n, 4)`` (px, py, pz, E) of pion-mass particles around (eta, phi) = (0.3, 1.0)."""
    pt = rng.exponential(40.0, n) + 1.0
    eta = 0.3 + rng.normal(0.0, 0.25, n)
    phi = 1.0 + rng.normal(0.0, 0.25, n)
    px, py, pz = pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta)
    energy = np.sqrt(px**2 + py**2 + pz**2 + 0.1396**2)
    return np.stack([px, py, pz, energy], axis=1)


def reference_ratios(p4: np.ndarray) -> dict[str, float]:
    """Energy-correlation ratios of one jet from their definitions (O(n^3) loops)."""
    pt = np.hypot(p4[:, 0], p4[:, 1])
    rapidity = 0.5 * np.log((p4[:, 3] + p4[:, 2]) / (p4[:, 3] - p4[:, 2]))
    phi = np.arctan2(p4[:, 1], p4[:, 0])
    dphi = np.abs(phi[:, None] - phi[None, :])
    dphi = np.minimum(dphi, 2 * np.pi - dphi)
    theta = np.hypot(rapidity[:, None] - rapidity[None, :], dphi)
    z = pt / pt.sum()
    n = len(pt)
    pairs = list(itertools.combinations(range(n), 2))
    triples = list(itertools.combinations(range(n), 3))

    def ecf(order: int, beta: float) -> float:
        if order == 1:
            return float(pt.sum())
        if order == 2:
            return float(sum(pt[i] * pt[j] * theta[i, j] ** beta for i, j in pairs))
        return float(
            sum(
                pt[i] * pt[j] * pt[k] * (theta[i, j] * theta[i, k] * theta[j, k]) ** beta
                for i, j, k in triples
            )
        )

    def generalized3(angles: int, beta: float) -> float:
        total = 0.0
        for i, j, k in triples:
            smallest = np.sort([theta[i, j], theta[i, k], theta[j, k]])[:angles]
            total += z[i] * z[j] * z[k] * np.prod(smallest**beta)
        return total

    def e2(beta: float) -> float:
        return float(sum(z[i] * z[j] * theta[i, j] ** beta for i, j in pairs))

    out: dict[str, float] = {}
    for beta in (0.0, 1.0, 2.0):
        out[f"c1_b{beta:.0f}"] = ecf(2, beta) / ecf(1, beta) ** 2
    for beta in (1.0, 2.0):
        e1, e2_, e3 = ecf(1, beta), ecf(2, beta), ecf(3, beta)
        out[f"c2_b{beta:.0f}"] = e3 * e1 / e2_**2
        out[f"d2_b{beta:.0f}"] = e3 * e1**3 / e2_**3
        out[f"m2_b{beta:.0f}"] = generalized3(1, beta) / e2(beta)
        out[f"n2_b{beta:.0f}"] = generalized3(2, beta) / e2(beta) ** 2
        out[f"d2_a1_b{beta:.0f}"] = generalized3(3, 1.0) / e2(beta) ** (3.0 / beta)
    return out


@pytest.fixture(scope="module")
def jet() -> np.ndarray:
    return random_jet(np.random.default_rng(7))


def test_energy_correlators_match_numpy_definitions(jet: np.ndarray) -> None:
    silence_fastjet_banner()
    events = as_jagged_constituents(jet[None])
    sequence = fastjet.ClusterSequence(
        events, fastjet.JetDefinition(fastjet.cambridge_algorithm, 1000.0)
    )
    expected = reference_ratios(jet)
    assert set(expected) == set(ECF_RATIOS)
    for name, kwargs in ECF_RATIOS.items():
        (value,) = energy_correlator(sequence, **kwargs)
        assert value == pytest.approx(expected[name], rel=1e-9), name


def test_jet_features_ungroomed_columns(jet: np.ndarray) -> None:
    table = jet_features(jet[None], expensive_ungroomed=True)
    assert table.shape == (1, 53)
    expected = reference_ratios(jet)
    for name, value in expected.items():
        assert table[0, COLUMN[name]] == pytest.approx(value, rel=1e-9), name
    energy = jet[:, 3]
    z = energy / energy.sum()
    assert table[0, COLUMN["zlogz"]] == pytest.approx(np.sum(z * np.log(z)), rel=1e-12)
    assert table[0, COLUMN["multiplicity"]] == len(jet)
    total = jet.sum(axis=0)
    assert table[0, COLUMN["pt"]] == pytest.approx(np.hypot(total[0], total[1]))
    assert table[0, COLUMN["mass"]] == pytest.approx(
        np.sqrt(total[3] ** 2 - np.sum(total[:3] ** 2))
    )
    assert table[0, COLUMN["ptfrac"]] == 1.0
    # Identity: the generalised D2 with alpha = beta = 1 is D2.
    assert table[0, COLUMN["d2_a1_b1"]] == pytest.approx(table[0, COLUMN["d2_b1"]], rel=1e-9)


def test_groomed_columns_are_features_of_the_groomed_jet(jet: np.ndarray) -> None:
    """``*_mmdt`` = the ungroomed observables recomputed on the mMDT constituents."""
    table = jet_features(jet[None])
    sequence = fastjet.ClusterSequence(
        as_jagged_constituents(jet[None]),
        fastjet.JetDefinition(fastjet.cambridge_algorithm, 1000.0),
    )
    groomed = sequence.exclusive_jets_softdrop_grooming(njets=1, beta=0.0, symmetry_cut=0.1, R0=0.8)
    again = jet_features(groomed.constituents, expensive_ungroomed=True)
    for name in COLUMN:
        if name.endswith("_mmdt") and name != "mass_mmdt":
            plain = name.removesuffix("_mmdt")
            assert table[0, COLUMN[name]] == pytest.approx(again[0, COLUMN[plain]]), name
    assert table[0, COLUMN["mass_mmdt"]] == pytest.approx(again[0, COLUMN["mass"]])
    assert table[0, COLUMN["mass_mmdt"]] <= table[0, COLUMN["mass"]]


def test_expensive_ungroomed_columns_are_nan_by_default(jet: np.ndarray) -> None:
    table = jet_features(jet[None])
    for name in COLUMN:
        assert np.isnan(table[0, COLUMN[name]]) == (name in EXPENSIVE_UNGROOMED), name


def test_padded_and_jagged_inputs_agree() -> None:
    rng = np.random.default_rng(3)
    jets = [random_jet(rng, n) for n in (5, 12, 30)]
    padded = np.zeros((3, 40, 4))
    for row, jet in enumerate(jets):
        padded[row, : len(jet)] = jet
    jagged = ak.Array(
        [[dict(zip(["px", "py", "pz", "E"], p, strict=True)) for p in j] for j in jets]
    )
    np.testing.assert_array_equal(jet_features(padded), jet_features(jagged))
    np.testing.assert_array_equal(jet_features(padded)[:, COLUMN["multiplicity"]], [5, 12, 30])


def test_groomers_order(jet: np.ndarray) -> None:
    table = jet_features(jet[None])[0]
    for name in ("mass_trim", "mass_prun", "mass_sdb2", "mass_sdm1", "mass_mmdt"):
        assert 0 <= table[COLUMN[name]] <= table[COLUMN["mass"]] * (1 + 1e-9), name


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (np.zeros((2, 3)), "expected shape"),
        (np.zeros((2, 3, 4)), "jet 0 has no constituents"),
        (ak.Array([[{"px": 1.0, "py": 0.0, "pz": 0.0}]]), "missing fields"),
    ],
)
def test_bad_input_is_rejected(bad: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        jet_features(bad)  # type: ignore[arg-type]


def test_unknown_correlator_name_is_rejected_before_fastjet(jet: np.ndarray) -> None:
    sequence = fastjet.ClusterSequence(
        as_jagged_constituents(jet[None]),
        fastjet.JetDefinition(fastjet.cambridge_algorithm, 1000.0),
    )
    with pytest.raises(ValueError, match="unknown energy-correlator func"):
        energy_correlator(sequence, func="bogus", beta=1.0)
