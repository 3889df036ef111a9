"""Separation power: eq. 15 of arXiv:2009.03796 and the official CaloChallenge binnings."""

from __future__ import annotations

import numpy as np
import pytest

from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.metrics.showers.hlf import apply_threshold, high_level_features
from cern_ai_bench.metrics.showers.separation import (
    OFFICIAL_HIST_FAMILIES,
    family_means,
    feature_histograms,
    histogram_family,
    histogram_separation,
    separation_power,
    separation_powers,
    summarize,
)
from tests.metrics.shower_samples import synthetic_showers


def test_identical_histograms_have_zero_separation():
    h = np.array([0.1, 0.4, 0.0, 0.5])
    assert separation_power(h, h) == 0.0


def test_disjoint_histograms_have_separation_one():
    assert separation_power([0.5, 0.5, 0, 0], [0, 0, 0.25, 0.75]) == pytest.approx(1.0)


def test_hand_computed_case():
    # 1/2 [(1/4)^2 / (3/4) * 2 + (1/2)^2 / (1/2)] = 1/2 [1/6 + 1/2] = 1/3
    assert separation_power([0.5, 0.5, 0.0], [0.25, 0.25, 0.5]) == pytest.approx(1 / 3)


def test_histograms_follow_the_official_density_recipe():
    rng = np.random.default_rng(0)
    edges = np.linspace(0.5, 1.5, 101)
    a = rng.normal(1.0, 0.1, 5000).astype(np.float32)
    b = rng.normal(1.05, 0.1, 4000).astype(np.float32)
    value, h_a, h_b = histogram_separation(a, b, edges)
    assert h_b.shape == (100,)
    # evaluate_plotting_helper: counts from hist(density=True), times the bin widths.
    d_a = np.histogram(a, edges, density=True)[0] * np.diff(edges)
    d_b = np.histogram(b, edges, density=True)[0] * np.diff(edges)
    expected = 0.5 * ((d_a - d_b) ** 2 / (d_a + d_b + 1e-16)).sum()
    assert value == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(h_a, d_a, rtol=1e-12)
    assert h_a.sum() == pytest.approx(1.0)


def test_counts_on_bin_edges_match_numpy_histogram():
    edges = np.logspace(np.log10(0.0151), np.log10(2345.6), 50)
    on_edges = edges.astype(np.float32)
    values = np.concatenate(
        [
            on_edges,
            np.nextafter(on_edges, np.float32(0)),
            np.nextafter(on_edges, np.float32(1e9)),
            np.float32([0.0, 1e6]),  # outside: dropped
        ]
    )
    other = np.float32([1.0, 10.0])
    _, h, _ = histogram_separation(values, other, edges)
    counts = np.histogram(values, edges)[0]
    np.testing.assert_allclose(h, counts / counts.sum(), rtol=1e-12)


def test_empty_histograms_count_as_disjoint_or_identical():
    edges = np.linspace(0.0, 1.0, 11)
    inside, outside = np.array([0.2, 0.5]), np.array([3.0, 4.0])
    assert histogram_separation(inside, outside, edges)[0] == 1.0
    assert histogram_separation(outside, outside + 1, edges)[0] == 0.0


def _features(name: str, seed: int, n: int = 1500, **kwargs):
    geometry = get_geometry(name)
    energy, showers = synthetic_showers(geometry, n, np.random.default_rng(seed), **kwargs)
    return geometry, high_level_features(apply_threshold(showers, geometry), energy, geometry)


def test_one_entry_per_official_histogram_with_stable_names():
    geometry, ref = _features("ds2", 0, n=300)
    powers = separation_powers(ref, ref, geometry)
    layers = range(45)
    expected = {"E_ratio", "voxel_energy"}
    for family in ("E_layer", "EC_eta", "EC_phi", "W_eta", "W_phi", "EC_r", "W_r", "sparsity"):
        expected |= {f"{family}_{i}" for i in layers}
    assert set(powers) == expected
    assert all(v == 0.0 for v in powers.values())  # a sample against itself


def test_dataset1_adds_per_energy_response_and_uses_its_ranges():
    geometry, ref = _features("ds1_pions", 1, energy_range=(256, 4.2e6), discrete=True)
    _, gen = _features("ds1_pions", 2, energy_range=(256, 4.2e6), discrete=True)
    hists = {h.name: h for h in feature_histograms(ref, gen, geometry)}
    per_energy = sorted(n for n in hists if n.startswith("E_ratio_E"))
    assert "E_ratio_E256" in per_energy and len(per_energy) == 15
    assert hists["E_ratio_E256"].edges[[0, -1]].tolist() == [0.4, 1.4]
    assert hists["EC_eta_12"].edges[[0, -1]].tolist() == [-500.0, 500.0]
    assert hists["EC_eta_1"].edges[[0, -1]].tolist() == [-100.0, 100.0]
    assert hists["W_phi_13"].edges[[0, -1]].tolist() == [0.0, 400.0]
    assert hists["W_r_14"].edges[[0, -1]].tolist() == [0.0, 1500.0]
    assert hists["EC_r_2"].edges[[0, -1]].tolist() == [0.0, 500.0]
    assert len(hists["E_layer_0"].edges) == 40 and len(hists["voxel_energy"].edges) == 50
    assert hists["E_layer_0"].edges[0] == pytest.approx(1.0)  # from the 1 MeV threshold
    assert len(hists["sparsity_3"].edges) == 21
    assert "EC_eta_0" not in hists  # layer 0 is not binned in angle


def test_photons_narrow_the_response_binning_from_4096_mev():
    geometry, ref = _features("ds1_photons", 1, energy_range=(256, 4.2e6), discrete=True)
    hists = {h.name: h for h in feature_histograms(ref, ref, geometry)}
    assert hists["E_ratio_E2048"].edges[[0, -1]].tolist() == [0.4, 1.4]
    assert hists["E_ratio_E4096"].edges[[0, -1]].tolist() == [0.9, 1.1]


def test_a_different_sample_separates_where_it_differs():
    geometry, ref = _features("ds2", 0, n=600)
    _, same = _features("ds2", 1, n=600)
    _, low = _features("ds2", 1, n=600, response=0.8)
    _, wide = _features("ds2", 1, n=600, spread=1.6)
    same_p = separation_powers(ref, same, geometry)
    assert separation_powers(ref, low, geometry)["E_ratio"] > 5 * same_p["E_ratio"] + 0.1
    wide_p = family_means(separation_powers(ref, wide, geometry))
    assert wide_p["W_r"] > 5 * family_means(same_p)["W_r"]


def test_summary_helpers():
    powers = {"E_ratio": 0.1, "E_layer_0": 0.3, "E_layer_1": 0.2, "sparsity_0": 0.0}
    s = summarize(powers)
    assert s == {"mean": pytest.approx(0.15), "max": 0.3, "worst": "E_layer_0", "count": 4}
    assert summarize(powers, OFFICIAL_HIST_FAMILIES)["count"] == 3
    assert family_means(powers)["E_layer"] == pytest.approx(0.25)
    assert histogram_family("E_ratio_E4096") == "E_ratio_E"
    assert histogram_family("W_eta_12") == "W_eta"
    assert histogram_family("voxel_energy") == "voxel_energy"
