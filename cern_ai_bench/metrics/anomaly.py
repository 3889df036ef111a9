"""Anomaly-detection metrics: ROC AUC and signal efficiency at a fixed background rate.

Pure functions on NumPy arrays of anomaly scores, **higher = more anomalous**: background scores
``bkg`` ``(Nb,)`` and signal scores ``sig`` ``(Ns,)``. An event *passes* (is selected, fires the
trigger) when its score is **strictly above** the threshold.

The figures of merit follow the public benchmarks: TPR at FPR = 1e-2, 1e-3, 1e-4 (Dark Machines
unsupervised challenge, Aarrestad et al., SciPost Phys. 12, 043 (2022), arXiv:2105.14027) and
1e-5 (ADC2021, Govorkova et al., Sci. Data 9, 118 (2022), arXiv:2107.02157). At 1e-5 a test
background of 800k events leaves about 8 events above the threshold, so every operating point
reports that count, a flag saying whether it reaches a minimum, and interval estimates.

Trigger rates are in :mod:`cern_ai_bench.metrics.anomaly_rates`, SIC curves in
:mod:`cern_ai_bench.metrics.anomaly_sic`, the record dict in
:mod:`cern_ai_bench.metrics.anomaly_report`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta
from sklearn.metrics import roc_auc_score

__all__ = [
    "DEFAULT_MIN_BACKGROUND",
    "ONE_SIGMA",
    "OperatingPoint",
    "Threshold",
    "background_needed",
    "clopper_pearson",
    "operating_point",
    "roc_auc",
    "threshold_at_fpr",
    "tpr_at_fpr",
    "validate_scores",
]

#: Background events above the threshold below which an operating point is flagged unreliable
#: (relative statistical uncertainty of the achieved FPR ~ 1 / sqrt(10) ~ 30 %).
DEFAULT_MIN_BACKGROUND = 10
#: Coverage of a central 1-sigma Gaussian interval, erf(1 / sqrt 2) = 0.6827.
ONE_SIGMA = math.erf(1.0 / math.sqrt(2.0))


def validate_scores(values: ArrayLike, name: str) -> np.ndarray:
    """``values`` as a float64 ``(N,)`` array, or ValueError naming ``name`` and the problem.

    Raises:
        ValueError: not 1-D, empty, not numeric, or holding NaN / inf (the first bad index is
            named).
    """
    a = np.asarray(values)
    if a.ndim != 1:
        raise ValueError(f"{name}: expected a 1-D array of scores (N,), got shape {a.shape}")
    if a.size == 0:
        raise ValueError(f"{name}: no scores (N = 0)")
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected numeric scores, got dtype {a.dtype}")
    bad = ~np.isfinite(a)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name}: non-finite score {a[i]} at index {i}")
    return a.astype(np.float64, copy=False)


def _check_fpr(fpr: float) -> float:
    f = float(fpr)
    if not (math.isfinite(f) and 0.0 < f < 1.0):
        raise ValueError(f"fpr: expected a false-positive rate in (0, 1), got {fpr!r}")
    return f


def _check_min_background(min_background: int) -> int:
    if isinstance(min_background, bool) or int(min_background) != min_background:
        raise ValueError(f"min_background: expected an integer >= 0, got {min_background!r}")
    if min_background < 0:
        raise ValueError(f"min_background: expected an integer >= 0, got {min_background}")
    return int(min_background)


def _allowed_background(fpr: float, n_background: int) -> int:
    """``k = floor(fpr * Nb)``, computed exactly on the decimal ``fpr`` prints as.

    Plain float arithmetic gives ``0.29 * 100 = 28.999...``; ``Fraction(repr(fpr))`` is the
    decimal the user wrote, so the product of a "round" rate and count is exact.
    """
    return math.floor(Fraction(repr(fpr)) * n_background)


def clopper_pearson(k: int, n: int, cl: float = ONE_SIGMA) -> tuple[float, float]:
    """Central Clopper-Pearson interval on a binomial proportion ``k / n``.

    Clopper & Pearson, Biometrika 26, 404 (1934): the bounds are quantiles of Beta
    distributions, ``lower = B^-1(a/2; k, n-k+1)``, ``upper = B^-1(1-a/2; k+1, n-k)`` with
    ``a = 1 - cl``; ``lower = 0`` when ``k = 0`` and ``upper = 1`` when ``k = n``. The interval
    always contains ``k / n`` and covers the true proportion with probability >= ``cl``.

    Args:
        k: successes, ``0 <= k <= n``.
        n: trials, ``n >= 1``.
        cl: confidence level in (0, 1); default 1 sigma (0.6827).
    """
    if not (0 <= k <= n and n >= 1):
        raise ValueError(f"clopper_pearson: expected 0 <= k <= n and n >= 1, got k={k}, n={n}")
    if not 0.0 < cl < 1.0:
        raise ValueError(f"cl: expected a confidence level in (0, 1), got {cl!r}")
    tail = (1.0 - cl) / 2.0
    lower = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    upper = 1.0 if k == n else float(beta.ppf(1.0 - tail, k + 1, n - k))
    return lower, upper


def background_needed(fpr: float, min_background: int = DEFAULT_MIN_BACKGROUND) -> int:
    """Smallest background sample for which an operating point at ``fpr`` can be reliable.

    That is the smallest ``Nb`` with ``floor(fpr * Nb) >= min_background``: 1,000,000 events
    for FPR = 1e-5 with 10 events above the threshold.
    """
    f = _check_fpr(fpr)
    m = _check_min_background(min_background)
    return max(1, math.ceil(m / Fraction(repr(f))))


@dataclass(frozen=True)
class Threshold:
    """A score threshold chosen on the background alone for a target FPR.

    Attributes:
        target_fpr: requested false-positive rate.
        threshold: the score threshold; events with score > threshold pass.
        n_background: background events ``Nb``.
        n_background_above: background events strictly above the threshold.
        achieved_fpr: ``n_background_above / Nb``, never above ``target_fpr``.
        fpr_low, fpr_high: Clopper-Pearson interval (level ``cl``) on the true FPR of this
            threshold, from ``n_background_above`` out of ``Nb``.
        cl: confidence level of the intervals.
        min_background: count required for ``reliable``.
        reliable: ``n_background_above >= min_background``.
    """

    target_fpr: float
    threshold: float
    n_background: int
    n_background_above: int
    achieved_fpr: float
    fpr_low: float
    fpr_high: float
    cl: float
    min_background: int
    reliable: bool

    def to_dict(self) -> dict[str, Any]:
        """Plain Python floats, ints and bools, for JSON records."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class OperatingPoint(Threshold):
    """A :class:`Threshold` applied to a signal sample: the signal efficiency (TPR) there.

    Attributes (beyond :class:`Threshold`):
        n_signal: signal events ``Ns``.
        n_signal_above: signal events strictly above the threshold.
        tpr: ``n_signal_above / Ns``.
        tpr_err: binomial standard error ``sqrt(tpr (1 - tpr) / Ns)`` (0 at tpr = 0 or 1, where
            the interval below is the useful number).
        tpr_low, tpr_high: Clopper-Pearson interval (level ``cl``) on the TPR.

    The TPR uncertainties are those of the signal sample at this fixed threshold; how well the
    threshold itself is known is told by ``n_background_above`` and ``fpr_low`` / ``fpr_high``.
    """

    n_signal: int
    n_signal_above: int
    tpr: float
    tpr_err: float
    tpr_low: float
    tpr_high: float


def threshold_at_fpr(
    bkg: ArrayLike,
    fpr: float,
    *,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    cl: float = ONE_SIGMA,
) -> Threshold:
    """The lowest threshold that keeps at most a fraction ``fpr`` of the background.

    Definition: with ``k = floor(fpr * Nb)`` (exact on the decimal value of ``fpr``), the
    threshold is the ``(k+1)``-th largest background score. At most ``k`` background events lie
    strictly above it, so the achieved FPR never exceeds the target; when background scores tie
    across that rank all the tied events stay below, and fewer than ``k`` pass (conservative).
    No lower threshold meets the target, so the signal efficiency is the largest possible.

    When ``fpr * Nb < 1`` (``k = 0``) the point is not measurable on this sample: the threshold
    is the largest background score, ``n_background_above = 0``, ``achieved_fpr = 0`` and
    ``reliable`` is False (for ``min_background >= 1``). Use :func:`background_needed` to ask
    beforehand how many background events a point needs.

    Args:
        bkg: ``(Nb,)`` background scores.
        fpr: target false-positive rate in (0, 1).
        min_background: background count above the threshold required for ``reliable``.
        cl: confidence level of the FPR interval.
    """
    b = validate_scores(bkg, "bkg")
    f = _check_fpr(fpr)
    m = _check_min_background(min_background)
    n = b.size
    k = _allowed_background(f, n)  # k <= n - 1 because fpr < 1
    rank = n - 1 - k  # ascending index of the (k+1)-th largest score
    threshold = float(np.partition(b, rank)[rank])
    n_above = int(np.count_nonzero(b > threshold))
    fpr_low, fpr_high = clopper_pearson(n_above, n, cl)
    return Threshold(
        target_fpr=f,
        threshold=threshold,
        n_background=n,
        n_background_above=n_above,
        achieved_fpr=n_above / n,
        fpr_low=fpr_low,
        fpr_high=fpr_high,
        cl=float(cl),
        min_background=m,
        reliable=n_above >= m,
    )


def operating_point(threshold: Threshold, sig: ArrayLike) -> OperatingPoint:
    """Signal efficiency of ``sig`` at a threshold chosen on a background sample.

    Lets one threshold (for instance "the score at 1 kHz" on a reference background) be applied
    to several signals, or to a sample other than the one it was chosen on.
    """
    s = validate_scores(sig, "sig")
    n = s.size
    n_above = int(np.count_nonzero(s > threshold.threshold))
    tpr = n_above / n
    tpr_low, tpr_high = clopper_pearson(n_above, n, threshold.cl)
    return OperatingPoint(
        **{f.name: getattr(threshold, f.name) for f in dataclasses.fields(Threshold)},
        n_signal=n,
        n_signal_above=n_above,
        tpr=tpr,
        tpr_err=math.sqrt(tpr * (1.0 - tpr) / n),
        tpr_low=tpr_low,
        tpr_high=tpr_high,
    )


def tpr_at_fpr(
    bkg: ArrayLike,
    sig: ArrayLike,
    fpr: float,
    *,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    cl: float = ONE_SIGMA,
) -> OperatingPoint:
    """Signal efficiency at a fixed background efficiency: ADC2021's figure of merit at 1e-5.

    The threshold is chosen on ``bkg`` alone by :func:`threshold_at_fpr` (see there for the
    exact rank, ties and the ``fpr * Nb < 1`` case) and applied to ``sig``.

    Args:
        bkg: ``(Nb,)`` background scores.
        sig: ``(Ns,)`` signal scores.
        fpr: target false-positive rate in (0, 1).
        min_background: background count above the threshold required for ``reliable``.
        cl: confidence level of the Clopper-Pearson intervals (default 1 sigma).
    """
    return operating_point(threshold_at_fpr(bkg, fpr, min_background=min_background, cl=cl), sig)


def roc_auc(bkg: ArrayLike, sig: ArrayLike) -> float:
    """Area under the ROC curve of signal against background (ties count one half).

    Equals the probability that a random signal event scores above a random background event
    (Mann-Whitney); computed with :func:`sklearn.metrics.roc_auc_score`. Blind to the low-FPR
    tail that a trigger works in, so always report it beside :func:`tpr_at_fpr`.
    """
    b = validate_scores(bkg, "bkg")
    s = validate_scores(sig, "sig")
    labels = np.concatenate([np.zeros(b.size, dtype=np.int8), np.ones(s.size, dtype=np.int8)])
    return float(roc_auc_score(labels, np.concatenate([b, s])))
