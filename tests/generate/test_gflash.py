"""GFlash shower simulator: output format per geometry, determinism, options, bad input."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from cern_ai_bench.data.calo_geometry import (
    CaloGeometry,
    GeometryError,
    LayerBinning,
    get_geometry,
)
from cern_ai_bench.generate.gflash import GFlashOptions, simulate_showers, supports_geometry


def _energies(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.exp(rng.uniform(math.log(1e3), math.log(1e6), n))


@pytest.mark.parametrize("name", ["ds2", "ds3", "ds1_photons"])
def test_shape_dtype_and_sign(name: str) -> None:
    geometry = get_geometry(name)
    energy = _energies(12)
    showers = simulate_showers(energy, geometry, np.random.default_rng(1))
    assert showers.shape == (12, geometry.n_voxels)
    assert showers.dtype == np.float32
    assert np.all(np.isfinite(showers)) and np.all(showers >= 0)
    response = showers.sum(axis=1) / energy
    assert np.all((response > 0.6) & (response < 1.4))  # a/sqrt(E) = 10 % at 1 GeV
    # Every voxelised layer receives energy in a typical shower sample.
    for index in geometry.relevant_layers:
        assert showers[:, geometry.layer_slice(index)].sum() > 0


def test_readout_threshold_applied() -> None:
    geometry = get_geometry("ds2")
    showers = simulate_showers(_energies(8), geometry, np.random.default_rng(2))
    hits = showers[showers > 0]
    assert hits.min() >= 0.5e-3 / 0.033 * (1 - 1e-6)
    high = GFlashOptions(readout_threshold_mev=1.0)
    showers = simulate_showers(_energies(8), geometry, np.random.default_rng(2), options=high)
    assert showers[showers > 0].min() >= 1.0


def test_seeded_reproducibility() -> None:
    geometry = get_geometry("ds1_photons")
    energy = _energies(30)
    a = simulate_showers(energy, geometry, np.random.default_rng(42))
    b = simulate_showers(energy, geometry, np.random.default_rng(42))
    c = simulate_showers(energy, geometry, np.random.default_rng(43))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_chunking_does_not_change_the_physics() -> None:
    # Smaller chunks draw the random numbers in another order but keep every shower valid.
    geometry = get_geometry("ds2")
    energy = np.full(40, 2e4)
    tiny = GFlashOptions(spots_per_chunk=1, voxels_per_chunk=1)
    showers = simulate_showers(energy, geometry, np.random.default_rng(3), options=tiny)
    response = showers.sum(axis=1) / energy
    assert response.mean() == pytest.approx(0.99, abs=0.01)


def _wide_par04() -> CaloGeometry:
    """Par04 layers with radial bins out to 10 m: nothing leaks sideways."""
    layers = tuple(LayerBinning(i, (0.0, 5.0, 20.0, 1e4), 4) for i in range(45))
    return CaloGeometry("wide", "electron", 11, layers, 0.0)


def test_spot_cap_conserves_energy_shower_by_shower() -> None:
    # The longitudinal draws come first from the rng, so the per-shower deposited energy is the
    # same with any spot cap; only its transverse spread changes.
    geometry = _wide_par04()
    energy = np.array([1e3, 5e4, 8e5])
    exact = GFlashOptions(sampling_fluctuations=False, readout_threshold_mev=0.0)
    capped = dataclasses.replace(exact, max_spots_per_shower=30)
    uncapped = dataclasses.replace(exact, max_spots_per_shower=None)
    a = simulate_showers(energy, geometry, np.random.default_rng(5), options=capped)
    b = simulate_showers(energy, geometry, np.random.default_rng(5), options=uncapped)
    np.testing.assert_allclose(a.sum(axis=1), b.sum(axis=1), rtol=1e-5)
    assert np.all(a.sum(axis=1) / energy > 0.998)  # 36 X0 contain the shower longitudinally
    assert np.count_nonzero(a) < np.count_nonzero(b)  # fewer, heavier spots


def test_sampling_fluctuations_keep_the_mean() -> None:
    geometry = _wide_par04()
    energy = np.full(300, 5e3)
    plain = GFlashOptions(sampling_fluctuations=False, readout_threshold_mev=0.0)
    smeared = dataclasses.replace(plain, sampling_fluctuations=True)
    a = simulate_showers(energy, geometry, np.random.default_rng(6), options=plain).sum(axis=1)
    b = simulate_showers(energy, geometry, np.random.default_rng(6), options=smeared).sum(axis=1)
    assert a.std() / a.mean() < 0.005  # without smearing only longitudinal leakage fluctuates
    assert b.std() / b.mean() == pytest.approx(0.1 / math.sqrt(5), rel=0.15)
    assert b.mean() == pytest.approx(a.mean(), rel=3 * 0.045 / math.sqrt(300))


def test_sampling_spot_formula_uses_fewer_spots() -> None:
    # 10.3/a E^0.959 (~100 per GeV) against 93 ln(Z) E^0.876 (~400 per GeV at 1-10 GeV).
    geometry = get_geometry("ds2")
    energy = np.full(20, 5e3)
    sampling = GFlashOptions(spot_formula="sampling", sampling_fluctuations=False)
    homogeneous = dataclasses.replace(sampling, spot_formula="homogeneous")
    a = simulate_showers(energy, geometry, np.random.default_rng(4), options=sampling)
    b = simulate_showers(energy, geometry, np.random.default_rng(4), options=homogeneous)
    assert np.count_nonzero(a) < 0.6 * np.count_nonzero(b)
    np.testing.assert_allclose(a.sum(axis=1), b.sum(axis=1), rtol=0.02)  # same longitudinal draws


def test_showers_are_azimuthally_uniform() -> None:
    geometry = get_geometry("ds2")
    showers = simulate_showers(np.full(40, 1e5), geometry, np.random.default_rng(8))
    per_alpha = showers.reshape(40, 45, 16, 9).sum(axis=(0, 1, 3))
    assert per_alpha.std() / per_alpha.mean() < 0.05


def test_unsupported_geometry_is_a_clear_error() -> None:
    assert [supports_geometry(get_geometry(n)) for n in ("ds1_photons", "ds1_pions", "ds2")] == [
        True,
        False,
        True,
    ]
    with pytest.raises(GeometryError, match="pions"):
        simulate_showers(np.array([1e4]), get_geometry("ds1_pions"), np.random.default_rng(0))


@pytest.mark.parametrize(
    ("energy", "match"),
    [
        (np.array([[1e4, 2e4]]), "shape"),
        (np.array([1e4, np.nan]), r"incident_energy_mev\[1\]"),
        (np.array([-5.0]), "outside the GFlash range"),
        (np.array([50.0]), "outside the GFlash range"),
        (np.array([2e7]), "outside the GFlash range"),
    ],
)
def test_bad_energies(energy: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        simulate_showers(energy, get_geometry("ds2"), np.random.default_rng(0))


def test_column_energies_and_empty_input() -> None:
    geometry = get_geometry("ds2")
    column = simulate_showers(np.array([[1e4], [2e4]]), geometry, np.random.default_rng(0))
    assert column.shape == (2, 6480)
    empty = simulate_showers(np.zeros(0), geometry, np.random.default_rng(0))
    assert empty.shape == (0, 6480) and empty.dtype == np.float32


def test_rng_must_be_a_generator() -> None:
    with pytest.raises(TypeError, match="Generator"):
        simulate_showers(np.array([1e4]), get_geometry("ds2"), 42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("stochastic_term", 0.0),
        ("stochastic_term", float("nan")),
        ("spot_formula", "spots"),
        ("max_spots_per_shower", 0),
        ("readout_threshold_mev", -1.0),
        ("max_step_x0", 0.0),
        ("spots_per_chunk", 0),
    ],
)
def test_bad_options(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        GFlashOptions(**{field: value})
