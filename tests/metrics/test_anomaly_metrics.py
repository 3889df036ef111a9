"""Anomaly metrics against their definitions, hand-counted cases and statistical sanity."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from cern_ai_bench.metrics.anomaly import (
    ONE_SIGMA,
    background_needed,
    clopper_pearson,
    operating_point,
    roc_auc,
    threshold_at_fpr,
    tpr_at_fpr,
    validate_scores,
)
from cern_ai_bench.metrics.anomaly_rates import fpr_for_rate, rate_khz, threshold_for_rate
from cern_ai_bench.metrics.anomaly_report import anomaly_report, summarise_over_seeds
from cern_ai_bench.metrics.anomaly_sic import max_sic, sic_curve

# --- input validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (np.zeros((3, 2)), r"bkg: expected a 1-D array"),
        (np.zeros(0), r"bkg: no scores"),
        (np.array(["a", "b"]), r"bkg: expected numeric scores"),
        (np.array([True, False]), r"bkg: expected numeric scores"),
        (np.array([0.1, 0.2, 0.3, np.nan, np.inf]), r"bkg: non-finite score nan .* index 3"),
        (np.array([0.1, -np.inf]), r"bkg: non-finite score -inf .* index 1"),
    ],
)
def test_validate_scores_names_argument_and_index(values: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        validate_scores(values, "bkg")


def test_metric_functions_name_the_bad_argument() -> None:
    good = np.arange(10.0)
    bad = np.array([1.0, np.nan])
    with pytest.raises(ValueError, match=r"^sig: .* index 1"):
        roc_auc(good, bad)
    with pytest.raises(ValueError, match=r"^bkg: .* index 1"):
        tpr_at_fpr(bad, good, 0.1)
    with pytest.raises(ValueError, match=r"^sig: "):
        max_sic(good, bad)
    for fpr in (0.0, 1.0, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"fpr: expected a false-positive rate in \(0, 1\)"):
            tpr_at_fpr(good, good, fpr)
    with pytest.raises(ValueError, match=r"min_background"):
        tpr_at_fpr(good, good, 0.1, min_background=-1)


# --- ROC AUC -----------------------------------------------------------------------------------


def test_auc_hand_counted_with_ties() -> None:
    # pairs (sig > bkg): 0.35 beats 0.1 only; 0.8 beats both -> 3 of 4
    assert roc_auc([0.1, 0.4], [0.35, 0.8]) == pytest.approx(0.75)
    # one win (0.9 > 0.5) and one tie (0.5 = 0.5) over 2 pairs -> (1 + 0.5) / 2
    assert roc_auc([0.5], [0.5, 0.9]) == pytest.approx(0.75)


def test_auc_equals_mann_whitney_count() -> None:
    rng = np.random.default_rng(1)
    b = rng.integers(0, 20, 300).astype(float)  # many ties
    s = rng.integers(3, 25, 200).astype(float)
    diff = s[:, None] - b[None, :]
    expected = ((diff > 0) + 0.5 * (diff == 0)).mean()
    assert roc_auc(b, s) == pytest.approx(expected, abs=1e-12)


# --- thresholds and operating points -------------------------------------------------------------


def test_threshold_hand_computed() -> None:
    bkg = np.arange(10.0)[::-1]  # order must not matter
    op = tpr_at_fpr(bkg, [5.5, 6.0, 6.5, 10.0], 0.3, min_background=3)
    # k = floor(0.3 * 10) = 3; threshold = 4th largest = 6; above: 7, 8, 9
    assert op.threshold == 6.0
    assert op.n_background_above == 3
    assert op.achieved_fpr == pytest.approx(0.3)
    # signal strictly above 6: 6.5 and 10 (6.0 itself does not pass)
    assert (op.n_signal_above, op.n_signal, op.tpr) == (2, 4, 0.5)
    assert op.tpr_err == pytest.approx(math.sqrt(0.5 * 0.5 / 4))
    assert op.reliable
    assert not tpr_at_fpr(bkg, [1.0], 0.3, min_background=4).reliable


def test_fpr_times_nb_is_floored_exactly() -> None:
    assert math.floor(0.29 * 100) == 28  # the float product falls just below 29
    t = threshold_at_fpr(np.arange(100.0), 0.29)
    assert t.n_background_above == 29
    assert t.achieved_fpr == pytest.approx(0.29)


def test_ties_at_the_boundary_stay_below() -> None:
    # k = floor(0.4 * 5) = 2; 3rd largest = 2, tied with two more: only the 3 passes
    t = threshold_at_fpr([1.0, 2.0, 2.0, 2.0, 3.0], 0.4, min_background=1)
    assert (t.threshold, t.n_background_above, t.achieved_fpr) == (2.0, 1, 0.2)
    # all background tied: nothing can pass without exceeding the target
    t = threshold_at_fpr(np.zeros(50), 0.5, min_background=1)
    assert (t.threshold, t.n_background_above, t.reliable) == (0.0, 0, False)


def test_threshold_is_the_lowest_meeting_the_target() -> None:
    rng = np.random.default_rng(2)
    bkg = rng.integers(0, 40, 1000).astype(float)  # heavy ties
    for fpr in (0.5, 0.1, 0.03, 0.011, 0.002):
        t = threshold_at_fpr(bkg, fpr)
        k = math.floor(round(fpr * 1000, 9))
        assert t.n_background_above == np.count_nonzero(bkg > t.threshold) <= k
        assert t.achieved_fpr <= fpr
        # any lower threshold lets the events at t.threshold through as well: too many
        assert np.count_nonzero(bkg >= t.threshold) > k


def test_not_measurable_point_is_flagged_not_raised() -> None:
    bkg = np.linspace(0.0, 1.0, 1000)
    op = tpr_at_fpr(bkg, [0.5, 2.0], 1e-4)  # 1e-4 * 1000 = 0.1 < 1
    assert op.threshold == 1.0  # the largest background score
    assert (op.n_background_above, op.achieved_fpr, op.reliable) == (0, 0.0, False)
    assert op.tpr == 0.5  # the event above every background still counts
    assert background_needed(1e-4, 10) == 100_000
    assert background_needed(1e-5, 10) == 1_000_000
    assert background_needed(2.5e-5, 10) == 400_000


def test_background_needed_is_the_smallest_sample() -> None:
    for fpr, m in ((1e-5, 10), (3e-4, 7), (0.3, 1), (1e-3, 0)):
        n = background_needed(fpr, m)
        assert threshold_at_fpr(np.arange(float(n)), fpr, min_background=m).reliable
        if n > 1:
            assert not threshold_at_fpr(np.arange(n - 1.0), fpr, min_background=m).reliable


def test_one_threshold_applies_to_several_signals() -> None:
    t = threshold_at_fpr(np.arange(100.0), 0.1)
    assert t.threshold == 89.0
    a, b = operating_point(t, [95.0, 50.0]), operating_point(t, [89.0, 89.5, 99.0, 1.0])
    assert (a.tpr, b.tpr) == (0.5, 0.5)
    assert a.threshold == b.threshold == t.threshold
    assert json.loads(json.dumps(a.to_dict())) == a.to_dict()


# --- Clopper-Pearson -----------------------------------------------------------------------------


def test_clopper_pearson_closed_forms_and_containment() -> None:
    tail = (1 - ONE_SIGMA) / 2
    n = 40
    # k = 0: P(0 successes) = (1 - p)^n = tail at the upper bound; k = n by symmetry
    assert clopper_pearson(0, n) == pytest.approx((0.0, 1 - tail ** (1 / n)))
    assert clopper_pearson(n, n) == pytest.approx((tail ** (1 / n), 1.0))
    for k in range(n + 1):
        lo, hi = clopper_pearson(k, n)
        assert lo <= k / n <= hi
        assert (lo, hi) == pytest.approx(
            (1 - clopper_pearson(n - k, n)[1], 1 - clopper_pearson(n - k, n)[0])
        )
    # wider at higher confidence, and for fewer events
    assert clopper_pearson(5, 10, 0.95)[1] > clopper_pearson(5, 10)[1]
    assert np.diff(clopper_pearson(50, 100)) < np.diff(clopper_pearson(5, 10))
    with pytest.raises(ValueError, match="0 <= k <= n"):
        clopper_pearson(3, 2)


def test_operating_point_intervals_contain_the_estimates() -> None:
    rng = np.random.default_rng(3)
    bkg, sig = rng.normal(0, 1, 5000), rng.normal(1, 1, 300)
    for fpr in (0.3, 1e-2, 1e-3):
        op = tpr_at_fpr(bkg, sig, fpr)
        assert op.tpr_low <= op.tpr <= op.tpr_high
        assert op.fpr_low <= op.achieved_fpr <= op.fpr_high
        # for a mid-range TPR the 1-sigma exact interval is about +- the binomial error
        if 0.2 < op.tpr < 0.8:
            assert op.tpr_high - op.tpr_low == pytest.approx(2 * op.tpr_err, rel=0.1)


# --- trigger rates -------------------------------------------------------------------------------


def test_rate_conversions() -> None:
    assert rate_khz(1e-5) == pytest.approx(0.4, rel=1e-12)  # ADC2021 working point at 40 MHz
    assert rate_khz(1e-5, input_rate_hz=30e6) == pytest.approx(0.3, rel=1e-12)
    assert fpr_for_rate(1.0) == pytest.approx(2.5e-5, rel=1e-12)
    assert fpr_for_rate(100.0) == pytest.approx(2.5e-3, rel=1e-12)
    assert rate_khz(fpr_for_rate(7.3)) == pytest.approx(7.3, rel=1e-12)
    with pytest.raises(ValueError, match="rate_khz: expected a rate in"):
        fpr_for_rate(40e3)  # 40 MHz out of 40 MHz in
    with pytest.raises(ValueError, match="rate_khz"):
        fpr_for_rate(0.0)
    with pytest.raises(ValueError, match="input_rate_hz"):
        rate_khz(1e-5, input_rate_hz=0.0)


def test_threshold_for_rate_hand_computed() -> None:
    bkg = np.random.default_rng(4).permutation(400_000).astype(float)
    t = threshold_for_rate(bkg, 1.0)  # FPR 2.5e-5 -> k = 10
    assert (t.n_background_above, t.threshold) == (10, 399_989.0)
    assert t.target_fpr == pytest.approx(2.5e-5)
    assert t.achieved_rate_khz == pytest.approx(1.0)
    assert t.reliable
    assert not threshold_for_rate(bkg, 0.4).reliable  # 1e-5 x 400k = 4 events
    assert operating_point(t, [399_990.0, 399_989.0]).tpr == 0.5


# --- SIC ----------------------------------------------------------------------------------------

# Background scores 0..99; four signal events. SIC by hand at threshold v (pass: score > v):
#   v = 98: 1 bkg (99), 1 sig (98.5)        -> 0.25 / sqrt(0.01) = 2.5
#   v = 97: 2 bkg, 2 sig (98.5, 97.5)        -> 0.50 / sqrt(0.02) = 3.536  (max, 2 bkg events)
#   v = 94: 5 bkg, 2 sig                     -> 0.50 / sqrt(0.05) = 2.236  (max with >= 5)
#   v = 10: 89 bkg, 4 sig                    -> 1.00 / sqrt(0.89) = 1.060
SIC_BKG = np.arange(100.0)
SIC_SIG = np.array([98.5, 97.5, 10.5, 10.5])


def test_min_background_changes_max_sic() -> None:
    loose = max_sic(SIC_BKG, SIC_SIG, min_background=1)
    assert loose.value == pytest.approx(0.5 / math.sqrt(0.02))
    assert (loose.threshold, loose.n_background_above, loose.n_signal_above) == (97.0, 2, 2)
    strict = max_sic(SIC_BKG, SIC_SIG, min_background=5)
    assert strict.value == pytest.approx(0.5 / math.sqrt(0.05))
    assert (strict.threshold, strict.n_background_above, strict.tpr, strict.fpr) == (
        94.0,
        5,
        0.5,
        0.05,
    )


def test_sic_curve_points_match_tpr_at_fpr() -> None:
    curve = sic_curve(SIC_BKG, SIC_SIG, min_background=5)
    assert curve.threshold.size == 95  # thresholds 94 down to 0
    assert np.all(np.diff(curve.fpr) > 0)
    np.testing.assert_allclose(curve.sic, curve.tpr / np.sqrt(curve.fpr))
    for i in (0, 30, 94):
        op = tpr_at_fpr(SIC_BKG, SIC_SIG, float(curve.fpr[i]))
        assert (op.threshold, op.tpr) == (curve.threshold[i], curve.tpr[i])


def test_sic_without_enough_background() -> None:
    curve = sic_curve(np.ones(100), [2.0])  # all background tied: no FPR > 0 below FPR = 1
    assert curve.sic.size == 0
    with pytest.raises(ValueError, match="min_background=20 of the 100 background"):
        curve.maximum()
    with pytest.raises(ValueError, match="min_background: expected an integer >= 1"):
        sic_curve(SIC_BKG, SIC_SIG, min_background=0)


# --- statistical sanity --------------------------------------------------------------------------


def test_random_scores_give_chance_performance() -> None:
    rng = np.random.default_rng(5)
    n = 200_000
    bkg, sig = rng.random(n), rng.random(n)
    assert roc_auc(bkg, sig) == pytest.approx(0.5, abs=0.005)  # sigma ~ 0.0009
    for fpr in (1e-2, 1e-3):
        op = tpr_at_fpr(bkg, sig, fpr)
        assert abs(op.tpr - fpr) < 5 * math.sqrt(2 * fpr / n)
    curve = sic_curve(bkg, sig)
    wide = curve.fpr >= 1e-2
    np.testing.assert_allclose(curve.sic[wide], np.sqrt(curve.fpr[wide]), atol=0.025)
    best = curve.maximum()  # sqrt(FPR) is largest at FPR -> 1
    assert best.value == pytest.approx(1.0, abs=0.02)
    assert best.fpr > 0.9


def test_perfect_separation() -> None:
    bkg = np.linspace(-1.0, 0.0, 1000)
    sig = np.linspace(0.1, 1.0, 500)
    assert roc_auc(bkg, sig) == 1.0
    for fpr in (1e-1, 1e-2, 1e-3, 1e-5):
        assert tpr_at_fpr(bkg, sig, fpr).tpr == 1.0
    best = max_sic(bkg, sig, min_background=20)  # TPR 1 at the smallest admitted FPR
    assert best.value == pytest.approx(1 / math.sqrt(20 / 1000))
    assert (best.n_background_above, best.tpr) == (20, 1.0)


# --- seeds and report ---------------------------------------------------------------------------


def test_summarise_over_seeds_hand_computed() -> None:
    # linear interpolation: position 0.16 * 4 = 0.64 -> 1.64; 0.84 * 4 = 3.36 -> 4.36
    assert summarise_over_seeds([5.0, 1.0, 3.0, 2.0, 4.0]) == pytest.approx(
        {"median": 3.0, "p16": 1.64, "p84": 4.36, "min": 1.0, "max": 5.0, "n": 5}
    )
    assert summarise_over_seeds([7.0]) == {
        "median": 7.0,
        "p16": 7.0,
        "p84": 7.0,
        "min": 7.0,
        "max": 7.0,
        "n": 1,
    }
    with pytest.raises(ValueError, match="values: non-finite score nan at index 1"):
        summarise_over_seeds([1.0, float("nan")])


def test_report_shape_values_and_strict_json() -> None:
    rng = np.random.default_rng(6)
    bkg = rng.normal(0, 1, 50_000)
    signals = {"A4l": rng.normal(2, 1, 2000), "flat": np.full(100, 0.5)}
    report = anomaly_report(bkg, signals, fprs=(1e-2, 1e-4, 1e-5), rates_khz=(1.0, 100.0))
    text = json.dumps(report, allow_nan=False)  # plain numbers only, no NaN / inf
    assert json.loads(text) == report
    assert report["n_background"] == 50_000
    assert set(report["thresholds"]["fpr"]) == {"0.01", "0.0001", "1e-05"}
    assert set(report["thresholds"]["rate_khz"]) == {"1", "100"}

    a = report["signals"]["A4l"]
    assert a["auc"] == pytest.approx(roc_auc(bkg, signals["A4l"]))
    direct = tpr_at_fpr(bkg, signals["A4l"], 1e-4)
    assert a["tpr_at_fpr"]["0.0001"] == direct.to_dict()
    assert a["tpr_at_fpr"]["0.0001"]["n_background_above"] == 5
    assert not a["tpr_at_fpr"]["0.0001"]["reliable"]
    assert a["tpr_at_fpr"]["1e-05"]["n_background_above"] == 0  # 0.5 event: not measurable
    assert a["tpr_at_rate_khz"]["100"]["target_fpr"] == pytest.approx(2.5e-3)
    assert a["tpr_at_rate_khz"]["100"]["achieved_rate_khz"] <= 100.0
    assert a["max_sic"] == max_sic(bkg, signals["A4l"]).to_dict()
    assert report["signals"]["flat"]["tpr_at_fpr"]["0.01"]["tpr"] == 0.0


def test_report_errors_and_empty_sic() -> None:
    with pytest.raises(ValueError, match=r"signals\['bad'\]: non-finite score nan at index 0"):
        anomaly_report(np.arange(100.0), {"ok": [1.0], "bad": [float("nan")]})
    with pytest.raises(ValueError, match="signals: expected at least one"):
        anomaly_report(np.arange(100.0), {})
    report = anomaly_report(np.zeros(30), {"s": [1.0]}, fprs=(0.1,), rates_khz=())
    assert report["signals"]["s"]["max_sic"] is None
