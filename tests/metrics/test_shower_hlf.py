"""High-level shower features against hand-computed values and a per-voxel loop."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.metrics.showers.hlf import (
    apply_threshold,
    cls_high_dimension,
    cls_high_features,
    cls_high_names,
    high_level_features,
)
from tests.metrics.shower_samples import synthetic_showers

DS2 = get_geometry("ds2")
DR = 4.65  # DS2 radial bin (mm)


def _voxel(layer: int, alpha: int, r: int) -> int:
    """DS2 voxel index: layer-major, then angle, radius fastest (9 radii, 16 angles)."""
    return layer * 144 + alpha * 9 + r


def _alpha_centre(alpha: int, n_alpha: int = 16) -> float:
    return -math.pi + (alpha + 0.5) * 2 * math.pi / n_alpha


def test_single_voxel_has_its_own_position_and_zero_width():
    showers = np.zeros((1, DS2.n_voxels), dtype=np.float32)
    showers[0, _voxel(3, 2, 4)] = 10.0
    f = high_level_features(showers, np.array([100.0], dtype=np.float32), DS2)
    r = 4.5 * DR  # centre of radial bin 4
    alpha = _alpha_centre(2)
    assert f.E_tot[0] == 10.0
    assert f.E_layer[3][0] == 10.0 and f.E_layer[4][0] == 0.0
    assert f.EC_r[3][0] == pytest.approx(r, rel=1e-12)
    assert f.EC_eta[3][0] == pytest.approx(r * math.cos(alpha), rel=1e-12)
    assert f.EC_phi[3][0] == pytest.approx(r * math.sin(alpha), rel=1e-12)
    for width in (f.W_r, f.W_eta, f.W_phi):
        assert width[3][0] == pytest.approx(0.0, abs=1e-6)
    assert f.sparsity[3][0] == pytest.approx(1 - 1 / 144)
    # An empty layer: everything 0 (0 / (0 + 1e-16)), sparsity 1.
    assert f.EC_r[4][0] == 0.0 and f.W_eta[4][0] == 0.0 and f.sparsity[4][0] == 1.0


def test_two_voxels_radial_centre_and_width_by_hand():
    showers = np.zeros((1, DS2.n_voxels))
    showers[0, _voxel(0, 0, 0)] = 1.0
    showers[0, _voxel(0, 0, 1)] = 3.0
    f = high_level_features(showers, np.array([4.0]), DS2)
    r0, r1 = 0.5 * DR, 1.5 * DR
    assert f.EC_r[0][0] == pytest.approx((r0 + 3 * r1) / 4, rel=1e-12)
    # Two points with weights 1/4, 3/4: sigma = sqrt(p (1 - p)) |r1 - r0|.
    assert f.W_r[0][0] == pytest.approx(math.sqrt(3 / 16) * (r1 - r0), rel=1e-9)
    assert f.sparsity[0][0] == pytest.approx(1 - 2 / 144)


def test_two_opposite_voxels_centre_on_the_axis():
    showers = np.zeros((1, DS2.n_voxels))
    showers[0, _voxel(5, 0, 2)] = 5.0
    showers[0, _voxel(5, 8, 2)] = 5.0  # half a turn further round
    f = high_level_features(showers, np.array([10.0]), DS2)
    r, alpha = 2.5 * DR, _alpha_centre(0)
    assert f.EC_eta[5][0] == pytest.approx(0.0, abs=1e-12)
    assert f.EC_phi[5][0] == pytest.approx(0.0, abs=1e-12)
    assert f.W_eta[5][0] == pytest.approx(r * abs(math.cos(alpha)), rel=1e-9)
    assert f.W_phi[5][0] == pytest.approx(r * abs(math.sin(alpha)), rel=1e-9)
    assert f.EC_r[5][0] == pytest.approx(r, rel=1e-12)


def _naive_features(showers: np.ndarray, geometry) -> dict[str, np.ndarray]:
    """The definitions voxel by voxel, from the layer binning alone."""
    out: dict[str, list[float]] = {}
    for n, shower in enumerate(showers):
        index = 0
        for i, layer in enumerate(geometry.layers):
            if layer.n_voxels == 0:
                continue
            sums = dict.fromkeys(("e", "r", "rr", "x", "xx", "y", "yy", "hit"), 0.0)
            for a in range(layer.n_alpha):
                alpha = -math.pi + (a + 0.5) * 2 * math.pi / layer.n_alpha
                for k in range(layer.n_r):
                    r = (layer.r_edges[k] + layer.r_edges[k + 1]) / 2
                    e = float(shower[index])
                    x, y = r * math.cos(alpha), r * math.sin(alpha)
                    for key, value in (
                        ("e", e),
                        ("r", r * e),
                        ("rr", r * r * e),
                        ("x", x * e),
                        ("xx", x * x * e),
                        ("y", y * e),
                        ("yy", y * y * e),
                        ("hit", float(e > 0)),
                    ):
                        sums[key] += value
                    index += 1
            e = sums["e"] + 1e-16
            values = {
                "E_layer": sums["e"],
                "EC_r": sums["r"] / e,
                "W_r": math.sqrt(max(sums["rr"] / e - (sums["r"] / e) ** 2, 0.0)),
                "sparsity": 1 - sums["hit"] / layer.n_voxels,
            }
            if layer.n_alpha > 1:
                values |= {
                    "EC_eta": sums["x"] / e,
                    "EC_phi": sums["y"] / e,
                    "W_eta": math.sqrt(max(sums["xx"] / e - (sums["x"] / e) ** 2, 0.0)),
                    "W_phi": math.sqrt(max(sums["yy"] / e - (sums["y"] / e) ** 2, 0.0)),
                }
            for key, value in values.items():
                out.setdefault(f"{key}_{i}", [0.0] * len(showers))[n] = value
    return {k: np.array(v) for k, v in out.items()}


@pytest.mark.parametrize("name", ["ds1_photons", "ds1_pions"])
def test_vectorised_features_equal_a_per_voxel_loop(name):
    geometry = get_geometry(name)
    energy, showers = synthetic_showers(geometry, 12, np.random.default_rng(3), dtype=np.float64)
    f = high_level_features(showers, energy, geometry)
    naive = _naive_features(showers, geometry)
    assert sorted(f.EC_eta) == [
        i for i in geometry.relevant_layers if geometry.layers[i].n_alpha > 1
    ]
    for key, expected in naive.items():
        family, _, layer = key.rpartition("_")
        got = getattr(f, family)[int(layer)]
        # Widths subtract two nearly equal numbers: compare them on the scale of the radius.
        atol = 1e-9 * max(geometry.layers[int(layer)].r_edges) if family.startswith("W") else 0
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=atol, err_msg=key)
    np.testing.assert_allclose(f.E_tot, showers.sum(axis=1), rtol=1e-12)


def test_sums_keep_the_voxel_dtype_like_the_official_code():
    energy, showers = synthetic_showers(DS2, 5, np.random.default_rng(0))
    f = high_level_features(showers, energy, DS2)
    assert f.E_tot.dtype == np.float32 and f.E_layer[0].dtype == np.float32
    assert f.EC_r[0].dtype == np.float64 and f.sparsity[0].dtype == np.float64
    np.testing.assert_array_equal(f.E_tot, showers.sum(axis=-1))
    assert f.voxels is showers
    assert high_level_features(showers, energy, DS2, keep_voxels=False).voxels is None


def test_threshold_zeroes_only_voxels_below_it():
    t = DS2.eval_threshold_mev
    assert t == pytest.approx(0.5e-3 / 0.033)
    showers = np.zeros((2, DS2.n_voxels), dtype=np.float32)
    showers[0, :4] = [t * 0.99, t, t * 1.01, 5.0]
    out = apply_threshold(showers, DS2)
    np.testing.assert_array_equal(out[0, :4], np.float32([0.0, t, t * 1.01, 5.0]))
    assert out.dtype == np.float32 and showers[0, 0] > 0  # input untouched
    ds1 = get_geometry("ds1_photons")
    x = np.full((1, ds1.n_voxels), 0.999, dtype=np.float32)
    assert not apply_threshold(x, ds1).any()  # 1 MeV for dataset 1


@pytest.mark.parametrize(
    ("name", "dimension"), [("ds2", 362), ("ds3", 362), ("ds1_photons", 30), ("ds1_pions", 46)]
)
def test_cls_high_dimension_per_geometry(name, dimension):
    geometry = get_geometry(name)
    assert cls_high_dimension(geometry) == dimension
    energy, showers = synthetic_showers(geometry, 3, np.random.default_rng(1))
    features = high_level_features(apply_threshold(showers, geometry), energy, geometry)
    assert cls_high_features(features).shape == (3, dimension)


def test_cls_high_column_order_and_transforms():
    showers = np.zeros((1, DS2.n_voxels), dtype=np.float32)
    showers[0, _voxel(3, 2, 4)] = 10.0
    x = cls_high_features(high_level_features(showers, np.float32([100.0]), DS2))[0]
    names = cls_high_names(DS2)
    r, alpha = 4.5 * DR, _alpha_centre(2)
    # evaluate.py order: E_inc, E_layer x45, EC_eta x45, EC_phi x45, W_eta x45, W_phi x45,
    # E_tot, sparsity x45, EC_r x45, W_r x45.
    assert names.index("log10_E_layer_3") == 4
    assert names.index("EC_eta_3/100") == 1 + 45 + 3
    assert names.index("EC_phi_3/100") == 1 + 90 + 3
    assert names.index("log10_E_tot") == 226
    assert names.index("EC_r_3/100") == 227 + 45 + 3
    assert x[0] == pytest.approx(2.0)
    assert x[4] == pytest.approx(1.0)
    assert x[5] == pytest.approx(-8.0)  # log10(0 + 1e-8)
    assert x[names.index("EC_eta_3/100")] == pytest.approx(r * math.cos(alpha) / 100)
    assert x[names.index("EC_phi_3/100")] == pytest.approx(r * math.sin(alpha) / 100)
    assert x[226] == pytest.approx(1.0)
    assert x[names.index("sparsity_3")] == pytest.approx(1 - 1 / 144)
    assert x[names.index("EC_r_3/100")] == pytest.approx(r / 100)


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r"expected shape \(N, 6480\)"):
        high_level_features(np.zeros((2, 368)), np.ones(2), DS2)
    with pytest.raises(ValueError, match="incident_energy: expected 2 values"):
        high_level_features(np.zeros((2, 6480)), np.ones(3), DS2)
    with pytest.raises(ValueError, match="float32 or float64"):
        apply_threshold(np.zeros((2, 6480), dtype=np.int32), DS2)
