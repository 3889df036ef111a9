"""FPD and KPD (arXiv:2211.10295) against closed forms and brute-force computations."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import linalg

from cern_ai_bench.metrics.showers.frechet import (
    fpd,
    frechet_distance,
    kpd,
    mmd_poly_unbiased,
    normalise_features,
)

FAST_FPD = {"min_samples": 1000, "max_samples": 5000, "num_batches": 5}


def _random_spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.normal(size=(d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_frechet_distance_of_diagonal_gaussians_is_the_closed_form():
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([0.5, 1.0, 0.0])
    a, b = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, rel=1e-12)
    # One dimension: (m1 - m2)^2 + (s1 - s2)^2.
    assert frechet_distance(1.0, 4.0, 3.0, 9.0) == pytest.approx(4.0 + 1.0, rel=1e-12)


def test_frechet_distance_equals_the_matrix_square_root_formula():
    rng = np.random.default_rng(0)
    s1, s2 = _random_spd(rng, 6), _random_spd(rng, 6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    root = linalg.sqrtm(s1 @ s2).real
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * root)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_fpd_extrapolates_to_the_distance_of_the_generating_gaussians():
    rng = np.random.default_rng(1)
    cov1, cov2 = np.diag([1.0, 2.0, 0.5]), np.diag([1.5, 2.0, 0.5])
    real = rng.multivariate_normal([0, 0, 0], cov1, size=20000)
    gen = rng.multivariate_normal([0.3, 0, 0], cov2, size=20000)
    expected = frechet_distance(np.zeros(3), cov1, np.array([0.3, 0, 0]), cov2)  # 0.09 + 0.0505
    value, error = fpd(real, gen, normalise=False, **FAST_FPD)
    assert value == pytest.approx(expected, abs=0.02)
    assert 0 < error < 0.02
    same, _ = fpd(
        real, rng.multivariate_normal([0, 0, 0], cov1, size=20000), normalise=False, **FAST_FPD
    )
    assert 0.0 <= same < 0.01


def test_fpd_normalises_by_the_largest_real_value():
    rng = np.random.default_rng(2)
    real = rng.normal(size=(3000, 4)) * [1, 10, 100, 0.1]
    gen = real[::-1] * 1.1
    scaled = fpd(real * [2, 3, 4, 5], gen * [2, 3, 4, 5], **FAST_FPD)
    assert fpd(real, gen, **FAST_FPD) == pytest.approx(scaled, rel=1e-6)  # fit tolerance
    a, b = normalise_features(np.array([[1.0, 0.0], [-4.0, 0.0]]), np.array([[2.0, 3.0]]))
    np.testing.assert_array_equal(a, [[0.25, 0.0], [-1.0, 0.0]])
    np.testing.assert_array_equal(b, [[0.5, 3.0]])  # an all-zero feature is left alone


def test_unbiased_mmd_equals_a_brute_force_sum():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(30, 4)), rng.normal(0.5, 1.0, size=(25, 4))

    def k(a, b):
        return (a @ b / 4 + 1.0) ** 4

    xx = sum(k(x[i], x[j]) for i in range(30) for j in range(30) if i != j) / (30 * 29)
    yy = sum(k(y[i], y[j]) for i in range(25) for j in range(25) if i != j) / (25 * 24)
    xy = sum(k(a, b) for a in x for b in y) / (30 * 25)
    assert mmd_poly_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_kpd_is_near_zero_for_one_distribution_and_positive_for_two():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(6000, 5))
    same_value, same_error = kpd(real, rng.normal(size=(6000, 5)), batch_size=1000)
    shifted_value, _ = kpd(real, rng.normal(0.3, 1.0, size=(6000, 5)), batch_size=1000)
    assert abs(same_value) < 3 * same_error + 1e-4
    assert shifted_value > 20 * max(abs(same_value), same_error)


def test_kpd_error_is_half_the_central_68_percent_range():
    rng = np.random.default_rng(5)
    real, gen = rng.normal(size=(2000, 3)), rng.normal(0.1, 1.0, size=(2000, 3))
    value, error = kpd(real, gen, batch_size=500, num_batches=10)
    draws = []
    for i in range(10):
        r = np.random.default_rng(42 + 1000 * i)
        a, b = normalise_features(real, gen)
        draws.append(mmd_poly_unbiased(a[r.choice(2000, 500)], b[r.choice(2000, 500)]))
    assert value == pytest.approx(np.median(draws), rel=1e-12)
    spread = np.percentile(draws, 83.725) - np.percentile(draws, 16.275)
    assert error == pytest.approx(spread / 2, rel=1e-12)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="same D"):
        fpd(np.zeros((10, 3)), np.zeros((10, 4)))
    with pytest.raises(ValueError, match="real features: non-finite value in row 1"):
        kpd(np.array([[0.0], [math.nan]]), np.zeros((3, 1)))


def test_agrees_with_jetnet_when_installed():
    jetnet = pytest.importorskip("jetnet.evaluation")
    rng = np.random.default_rng(6)
    real = rng.normal(size=(6000, 8)) * rng.uniform(0.5, 3.0, 8)
    gen = real[rng.permutation(6000)] * 1.05 + rng.normal(0, 0.1, size=(6000, 8))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jetnet warns below 50,000 samples
        expected_fpd = jetnet.fpd(real, gen, **FAST_FPD)
        expected_kpd = jetnet.kpd(real, gen, batch_size=1000)
    np.testing.assert_allclose(fpd(real, gen, **FAST_FPD), expected_fpd, rtol=1e-6)
    np.testing.assert_allclose(kpd(real, gen, batch_size=1000), expected_kpd, rtol=1e-6)
