"""The CaloChallenge classifier test protocol: split, repeats, calibrated AUC and JSD."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.metrics.showers.classifier import (
    calibrated_scores,
    classifier_test,
    split_indices,
)
from tests.metrics.shower_samples import synthetic_showers

PHOTONS = get_geometry("ds1_photons")
#: Small and fast settings for CI (the official network is 2048 wide, 3 deep, 50 epochs).
FAST = {"epochs": 8, "width": 64, "depth": 2, "batch_size": 200}


def _sample(seed: int, n: int = 4000, **kwargs) -> tuple[np.ndarray, np.ndarray]:
    return synthetic_showers(PHOTONS, n, np.random.default_rng(seed), **kwargs)


def test_split_is_a_shuffled_partition_with_ttv_split_counts():
    train, test, val = split_indices(1003, np.random.default_rng(0))
    assert (len(train), len(test), len(val)) == (601, 200, 202)  # int(0.6 n), int(0.2 n), rest
    assert sorted(np.concatenate([train, test, val]).tolist()) == list(range(1003))
    assert not np.array_equal(train, np.arange(601))


def test_calibrated_scores_follow_the_official_formulas():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000).astype(np.float64)
    # Perfect separation: calibrated probabilities hit the clip values, JSD -> 1.
    perfect = calibrated_scores(y * 0.8 + 0.1, y, y * 0.8 + 0.1, y)
    assert perfect["auc"] == 1.0
    assert perfect["jsd"] == pytest.approx(1 + math.log(1 - 1e-6) / math.log(2), rel=1e-9)
    # No information: JSD ~ 0 (slightly negative: the isotonic steps fit noise of the test set).
    noise = rng.random(4000)
    blind = calibrated_scores(noise[:2000], y[:2000], noise[2000:], y[2000:])
    assert abs(blind["auc"] - 0.5) < 0.05 and -0.1 < blind["jsd"] < 0.01
    # BCE of the calibrated probabilities by hand.
    p_val = np.array([0.2, 0.8])
    scores = calibrated_scores(
        np.array([0.2, 0.8, 0.2, 0.8]), np.array([0, 1, 1, 1]), p_val, [0, 1]
    )
    p = np.array([0.5, 1 - 1e-6])  # isotonic fit on the test pairs
    bce = -np.mean([math.log(1 - p[0]), math.log(p[1])])
    assert scores["jsd"] == pytest.approx((math.log(2) - bce) / math.log(2), rel=1e-12)


def test_independent_draws_of_one_distribution_are_indistinguishable():
    """The issue's calibration criterion: same distribution -> AUC <= 0.52."""
    e1, s1 = _sample(1)
    e2, s2 = _sample(2)
    result = classifier_test(
        s1, s2, e1, PHOTONS, mode="low", generated_energy=e2, repeats=3, seed=0, **FAST
    )
    assert len(result.auc) == 3 and len(set(result.auc)) == 3  # reshuffled per repeat
    assert result.auc_mean <= 0.52
    assert abs(result.jsd_mean) < 0.05
    assert result.n_train == 4800 and result.n_test == 1600 and result.n_val == 1600


@pytest.mark.parametrize(
    ("mode", "change"), [("low", {"response": 0.6}), ("high", {"spread": 2.0})]
)
def test_clearly_different_samples_are_separated(mode, change):
    e1, s1 = _sample(1)
    e2, s2 = _sample(3, **change)
    result = classifier_test(s1, s2, e1, PHOTONS, mode=mode, generated_energy=e2, seed=0, **FAST)
    assert result.auc_mean > 0.9
    assert result.jsd_mean > 0.3
    assert 1 <= result.best_epoch[0] <= FAST["epochs"]


def test_result_is_reproducible_for_a_seed_and_exports_plain_values():
    e1, s1 = _sample(1, n=1000)
    e2, s2 = _sample(2, n=1000)
    kwargs = {"mode": "high", "generated_energy": e2, "seed": 5, **FAST}
    a = classifier_test(s1, s2, e1, PHOTONS, **kwargs)
    b = classifier_test(s1, s2, e1, PHOTONS, **kwargs)
    assert a.auc == b.auc and a.jsd == b.jsd
    d = a.as_dict()
    assert d["auc_mean"] == a.auc_mean and d["auc"] == list(a.auc) and d["mode"] == "high"


def test_samples_of_different_size_are_refused():
    e1, s1 = _sample(1, n=100)
    with pytest.raises(ValueError, match="as many generated as reference"):
        classifier_test(s1, s1[:50], e1, PHOTONS)
