"""Significance improvement characteristic (SIC) and its maximum, with a background-count floor.

SIC = TPR / sqrt(FPR): the factor by which a cut on the score multiplies the significance
S / sqrt(B) of a signal (Gallicchio & Schwartz, PRL 107, 172001 (2011), arXiv:1106.3076). The
weakly supervised LHC Olympics methods quote its maximum (CATHODE, Hallin et al., PRD 106,
055006 (2022), arXiv:2109.00546). At the far tail a handful of background events leave FPR tiny
and noisy, and TPR / sqrt(FPR) spikes; CATHODE's evaluation therefore takes the maximum only
where the background count keeps the relative FPR error small. Here the same idea is an explicit
floor: only thresholds with at least ``min_background`` background events above them count.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cern_ai_bench.metrics.anomaly import validate_scores

__all__ = ["DEFAULT_SIC_MIN_BACKGROUND", "MaxSIC", "SICCurve", "max_sic", "sic_curve"]

#: Background events above the threshold required for a SIC point (relative FPR error
#: 1 / sqrt(20) ~ 22 %).
DEFAULT_SIC_MIN_BACKGROUND = 20


@dataclass(frozen=True)
class MaxSIC:
    """The best point of a SIC curve.

    Attributes:
        value: max TPR / sqrt(FPR) over the admitted thresholds.
        tpr, fpr: efficiencies at that threshold.
        threshold: the score threshold (events with score > threshold pass).
        n_background_above, n_signal_above: counts above the threshold.
        min_background: the floor that restricted the scan.
    """

    value: float
    tpr: float
    fpr: float
    threshold: float
    n_background_above: int
    n_signal_above: int
    min_background: int

    def to_dict(self) -> dict[str, Any]:
        """Plain Python floats and ints, for JSON records."""
        return asdict(self)


@dataclass(frozen=True)
class SICCurve:
    """SIC at every admitted threshold, ordered by increasing FPR (decreasing threshold).

    Attributes:
        threshold: ``(M,)`` thresholds, the distinct background scores with at least
            ``min_background`` background events strictly above them.
        n_background_above, n_signal_above: ``(M,)`` int64 counts strictly above each threshold.
        fpr, tpr, sic: ``(M,)`` float64, ``sic = tpr / sqrt(fpr)``.
        n_background, n_signal, min_background: sample sizes and the floor used.
    """

    threshold: np.ndarray
    n_background_above: np.ndarray
    n_signal_above: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    sic: np.ndarray
    n_background: int
    n_signal: int
    min_background: int

    def maximum(self) -> MaxSIC:
        """The point of largest SIC (the lowest FPR among equal maxima).

        Raises:
            ValueError: the curve is empty (no threshold keeps ``min_background`` events).
        """
        if self.sic.size == 0:
            raise ValueError(
                f"max SIC: no threshold keeps min_background={self.min_background} of the "
                f"{self.n_background} background events above it (too few events, or ties)"
            )
        i = int(np.argmax(self.sic))
        return MaxSIC(
            value=float(self.sic[i]),
            tpr=float(self.tpr[i]),
            fpr=float(self.fpr[i]),
            threshold=float(self.threshold[i]),
            n_background_above=int(self.n_background_above[i]),
            n_signal_above=int(self.n_signal_above[i]),
            min_background=self.min_background,
        )


def sic_curve(
    bkg: ArrayLike,
    sig: ArrayLike,
    *,
    min_background: int = DEFAULT_SIC_MIN_BACKGROUND,
) -> SICCurve:
    """SIC = TPR / sqrt(FPR) over thresholds keeping at least ``min_background`` background.

    The thresholds are the distinct background scores ``t``, passing meaning score > t, as in
    :func:`~cern_ai_bench.metrics.anomaly.threshold_at_fpr`. Between two neighbouring
    background scores the background count is constant and the signal count is largest at the
    lower one, so these points are the whole upper envelope of the ROC curve. Points whose
    background count is below ``min_background`` (including FPR = 0) are dropped.

    Args:
        bkg: ``(Nb,)`` background scores.
        sig: ``(Ns,)`` signal scores.
        min_background: background events above a threshold required for it to count (>= 1).

    Returns:
        A :class:`SICCurve`, possibly empty (then :meth:`SICCurve.maximum` raises).
    """
    b = validate_scores(bkg, "bkg")
    s = np.sort(validate_scores(sig, "sig"))
    if isinstance(min_background, bool) or int(min_background) != min_background:
        raise ValueError(f"min_background: expected an integer >= 1, got {min_background!r}")
    if min_background < 1:
        raise ValueError(
            f"min_background: expected an integer >= 1 (FPR = 0 makes SIC infinite), "
            f"got {min_background}"
        )
    values, counts = np.unique(b, return_counts=True)  # ascending distinct background scores
    n_b_above = b.size - np.cumsum(counts)  # background strictly above each value
    keep = n_b_above >= min_background
    values, n_b_above = values[keep][::-1], n_b_above[keep][::-1]  # increasing FPR
    n_s_above = s.size - np.searchsorted(s, values, side="right")
    fpr = n_b_above / b.size
    tpr = n_s_above / s.size
    return SICCurve(
        threshold=values,
        n_background_above=n_b_above.astype(np.int64),
        n_signal_above=n_s_above.astype(np.int64),
        fpr=fpr,
        tpr=tpr,
        sic=tpr / np.sqrt(fpr),
        n_background=int(b.size),
        n_signal=int(s.size),
        min_background=int(min_background),
    )


def max_sic(
    bkg: ArrayLike,
    sig: ArrayLike,
    *,
    min_background: int = DEFAULT_SIC_MIN_BACKGROUND,
) -> MaxSIC:
    """Maximum of :func:`sic_curve` over thresholds with >= ``min_background`` background above.

    Raises:
        ValueError: invalid input, or no threshold keeps ``min_background`` background events.
    """
    return sic_curve(bkg, sig, min_background=min_background).maximum()
