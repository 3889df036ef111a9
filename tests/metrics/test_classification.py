"""Classification metrics against their published definitions and brute-force references."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from cern_ai_bench.metrics.classification import (
    accuracy,
    background_rejection,
    classification_report,
    macro_auc,
    rejection_per_class,
    roc_auc_per_class,
    weighted_auc,
)

# Three classes, two jets each; AUCs counted by hand (Mann-Whitney, pairs signal > background):
# class 0: {0.8, 0.6} beat all of {0.2, 0.5, 0.1, 0.3} -> 8/8
# class 1: 0.7 beats all four of {0.1, 0.3, 0.3, 0.5}, 0.2 beats only 0.1 -> 5/8
# class 2: 0.6 beats all four of {0.1, 0.1, 0.1, 0.3}, 0.2 beats three -> 7/8
PROBS_3 = np.array(
    [
        [0.8, 0.1, 0.1],
        [0.6, 0.3, 0.1],
        [0.2, 0.7, 0.1],
        [0.5, 0.2, 0.3],
        [0.1, 0.3, 0.6],
        [0.3, 0.5, 0.2],
    ]
)
LABELS_3 = np.array([0, 0, 1, 1, 2, 2])


def _mann_whitney(signal: np.ndarray, background: np.ndarray) -> float:
    """P(score_signal > score_background) + P(equal) / 2, by counting all pairs."""
    diff = signal[:, None] - background[None, :]
    return float(((diff > 0) + 0.5 * (diff == 0)).mean())


def test_binary_auc_textbook_example() -> None:
    scores = np.array([0.1, 0.4, 0.35, 0.8])  # 3 of 4 signal-background pairs ordered correctly
    probs = np.stack([1 - scores, scores], 1)
    labels = np.array([0, 0, 1, 1])
    np.testing.assert_allclose(roc_auc_per_class(probs, labels), [0.75, 0.75])
    assert macro_auc(probs, labels) == pytest.approx(0.75)
    assert weighted_auc(probs, labels) == pytest.approx(0.75)


def test_ties_count_one_half() -> None:
    probs = np.array([[0.5, 0.5], [0.5, 0.5], [0.9, 0.1]])
    assert macro_auc(probs, np.array([0, 1, 0])) == pytest.approx(0.75)  # one tie, one win


def test_three_class_hand_counted_values() -> None:
    np.testing.assert_allclose(roc_auc_per_class(PROBS_3, LABELS_3), [1.0, 5 / 8, 7 / 8])
    assert macro_auc(PROBS_3, LABELS_3) == pytest.approx((1 + 5 / 8 + 7 / 8) / 3)
    assert weighted_auc(PROBS_3, LABELS_3) == pytest.approx((1 + 5 / 8 + 7 / 8) / 3)
    assert accuracy(PROBS_3, LABELS_3) == pytest.approx(4 / 6)  # rows 3 and 5 are wrong


def test_auc_matches_pair_counting_on_random_scores() -> None:
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=300).round(2)  # rounding makes ties
    labels = rng.integers(0, 4, size=300)
    want = [_mann_whitney(probs[labels == c, c], probs[labels != c, c]) for c in range(4)]
    np.testing.assert_allclose(roc_auc_per_class(probs, labels), want)
    support = np.bincount(labels, minlength=4)
    assert weighted_auc(probs, labels) == pytest.approx(np.average(want, weights=support))


def test_rejection_uniform_background_uniform_signal_is_analytic() -> None:
    # Background uniform on [0, 1], signal uniform on [0.5, 1]: eps_S(t) = 2 (1 - t),
    # eps_B(t) = 1 - t, so eps_B = eps_S / 2 and 1/eps_B = 2 / eps_S.
    n = 200_000
    background = (np.arange(n) + 0.5) / n
    signal = 0.5 + (np.arange(n) + 0.5) / (2 * n)
    scores = np.concatenate([background, signal])
    truth = np.concatenate([np.zeros(n, bool), np.ones(n, bool)])
    for eps in (0.3, 0.5, 0.9):
        assert background_rejection(scores, truth, eps) == pytest.approx(2 / eps, rel=1e-4)


def test_rejection_step_function_signal() -> None:
    # All signal at one score (a step in the signal CDF): any eps_S in (0, 1] is reached only
    # at threshold 0.9, where eps_B = P(uniform >= 0.9) = 0.1 exactly.
    n = 1000
    background = (np.arange(n) + 0.5) / n
    scores = np.concatenate([background, np.full(50, 0.9)])
    truth = np.arange(n + 50) >= n
    for eps in (0.3, 0.5, 1.0):
        assert background_rejection(scores, truth, eps) == pytest.approx(10.0, rel=1e-12)


def test_perfect_separation_gives_infinite_rejection() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.95])
    truth = np.array([0, 0, 0, 1, 1])
    assert background_rejection(scores, truth, 0.5) == math.inf
    assert background_rejection(scores, truth, 1.0) == math.inf


def _brute_force_rejection(
    scores: np.ndarray, truth: np.ndarray, eps: float
) -> tuple[float, float, float]:
    """Scan every threshold; return (interpolated eps_B, eps_B just below, eps_B just above).

    Vertices: threshold +inf, then each distinct score t (tag if score >= t), descending.
    """
    sig, bkg = scores[truth], scores[~truth]
    vertices = [(0.0, 0.0)]
    for t in sorted(set(scores.tolist()), reverse=True):
        vertices.append((float(np.mean(sig >= t)), float(np.mean(bkg >= t))))
    for (s0, b0), (s1, b1) in itertools.pairwise(vertices):
        if s1 == eps:
            return b1, b0, b1
        if s0 < eps < s1:
            return b0 + (eps - s0) / (s1 - s0) * (b1 - b0), b0, b1
    raise AssertionError("target efficiency not bracketed")


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eps", [0.3, 0.5, 0.77])
def test_rejection_matches_brute_force_threshold_scan(seed, eps) -> None:
    rng = np.random.default_rng(seed)
    truth = rng.random(400) < 0.3
    scores = np.where(truth, rng.normal(1.0, 1.0, 400), rng.normal(0.0, 1.0, 400)).round(1)
    want, below, above = _brute_force_rejection(scores, truth, eps)
    got = 1 / background_rejection(scores, truth, eps)
    assert got == pytest.approx(want, rel=1e-12)
    assert below <= got <= above  # the ROC is monotonic between the bracketing working points


def test_rejection_per_class_is_one_vs_rest() -> None:
    got = rejection_per_class(PROBS_3, LABELS_3, 0.5)
    for c in range(3):
        assert got[c] == background_rejection(PROBS_3[:, c], np.equal(LABELS_3, c), 0.5)
    # class 0: its best jet (0.8) beats every background score -> eps_B = 0 at eps_S = 0.5.
    assert got[0] == math.inf


def test_report_keys_multiclass_and_json() -> None:
    report = classification_report(PROBS_3, LABELS_3, ("g", "q", "t"))
    assert set(report) == {
        "accuracy",
        "auc_macro",
        "auc_weighted",
        *(f"auc/{c}" for c in "gqt"),
        *(f"rejection_at_{e}/{c}" for e in ("0.3", "0.5") for c in "gqt"),
    }
    assert report["auc/q"] == pytest.approx(5 / 8)
    assert all(type(v) is float for v in report.values())
    assert json.loads(json.dumps(report)) == report


def test_report_binary_reports_positive_class_only() -> None:
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    probs = np.stack([1 - scores, scores], 1)
    report = classification_report(probs, np.array([0, 0, 1, 1]), ("QCD", "t"))
    assert set(report) == {
        "accuracy",
        "auc_macro",
        "auc_weighted",
        "auc/t",
        "rejection_at_0.3/t",
        "rejection_at_0.5/t",
    }
    assert report["auc/t"] == report["auc_macro"] == pytest.approx(0.75)


def test_class_order_follows_the_columns() -> None:
    names = ("g", "q", "t")
    perm = np.array([2, 0, 1])  # new column j holds old class perm[j]
    inverse = np.argsort(perm)
    permuted = classification_report(PROBS_3[:, perm], inverse[LABELS_3], [names[i] for i in perm])
    original = classification_report(PROBS_3, LABELS_3, names)
    assert permuted.keys() == original.keys()
    for key, value in original.items():
        assert permuted[key] == pytest.approx(value), key


def test_validation_messages() -> None:
    bad = PROBS_3.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match=r"probs: non-finite value nan .* at row 2, column 1"):
        classification_report(bad, LABELS_3, "gqt")
    with pytest.raises(ValueError, match=r"labels: expected shape \(6,\) to match probs"):
        accuracy(PROBS_3, LABELS_3[:5])
    with pytest.raises(ValueError, match=r"probs: expected shape \(N, C\)"):
        macro_auc(PROBS_3[:, 0], LABELS_3)
    with pytest.raises(ValueError, match=r"class indices must lie in \[0, 3\)"):
        accuracy(PROBS_3, LABELS_3 + 1)
    with pytest.raises(ValueError, match="expected integer class indices"):
        accuracy(PROBS_3, LABELS_3.astype(float))
    with pytest.raises(ValueError, match="class 2: no signal samples"):
        roc_auc_per_class(PROBS_3, np.array([0, 0, 1, 1, 0, 1]))
    with pytest.raises(ValueError, match="class_names: expected 3 distinct names"):
        classification_report(PROBS_3, LABELS_3, ("g", "q"))
    with pytest.raises(ValueError, match=r"signal_efficiency must lie in \(0, 1\]"):
        background_rejection(PROBS_3[:, 0], LABELS_3 == 0, 0.0)
    with pytest.raises(ValueError, match="no background samples"):
        background_rejection(np.ones(3), np.ones(3, bool), 0.5)
    with pytest.raises(ValueError, match="expected two"):
        background_rejection(np.ones(3), np.ones(4, bool), 0.5)
