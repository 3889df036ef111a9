"""The anomaly-detection block of a run record, and the spread of a metric over seeds.

:func:`anomaly_report` gathers, per signal, the ROC AUC, the signal efficiency at fixed FPRs and
at fixed trigger rates (with background counts and uncertainties) and the max SIC, as one
JSON-serialisable dict of plain floats, ints, bools, strings and None (no NaN or inf).

:func:`summarise_over_seeds` gives the median and the central 68 % band (16th and 84th
percentiles) of a metric over independent trainings, as the LHC Olympics weakly supervised
results are shown (CATHODE, Hallin et al., PRD 106, 055006 (2022), arXiv:2109.00546).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cern_ai_bench.metrics.anomaly import (
    DEFAULT_MIN_BACKGROUND,
    operating_point,
    roc_auc,
    threshold_at_fpr,
    validate_scores,
)
from cern_ai_bench.metrics.anomaly_rates import LHC_BUNCH_CROSSING_RATE_HZ, threshold_for_rate
from cern_ai_bench.metrics.anomaly_sic import DEFAULT_SIC_MIN_BACKGROUND, sic_curve

__all__ = [
    "DEFAULT_FPRS",
    "DEFAULT_RATES_KHZ",
    "anomaly_report",
    "summarise_over_seeds",
]

#: Dark Machines (1e-3, 1e-4) and ADC2021 (1e-5) working points.
DEFAULT_FPRS: tuple[float, ...] = (1e-3, 1e-4, 1e-5)
#: Output rates at 40 MHz: 1 kHz (2.5e-5, about an HLT-scale budget), 10 kHz (2.5e-4), 100 kHz
#: (2.5e-3, the whole CMS L1 accept budget).
DEFAULT_RATES_KHZ: tuple[float, ...] = (1.0, 10.0, 100.0)


def summarise_over_seeds(values: ArrayLike) -> dict[str, float | int]:
    """Median, 16th / 84th percentiles, min, max and count of one metric over seeds.

    Percentiles use NumPy's default linear interpolation between order statistics, as
    CATHODE's evaluation code does (``np.percentile(..., 16)`` and ``84``).

    Args:
        values: ``(n,)`` one value per seed (e.g. max SIC of each training).

    Returns:
        ``{"median", "p16", "p84", "min", "max", "n"}``, Python floats and an int.
    """
    v = validate_scores(values, "values")
    p16, median, p84 = np.percentile(v, [16.0, 50.0, 84.0])
    return {
        "median": float(median),
        "p16": float(p16),
        "p84": float(p84),
        "min": float(v.min()),
        "max": float(v.max()),
        "n": int(v.size),
    }


def _key(x: float) -> str:
    """Record key of a working point: ``1e-05``, ``0.001``, ``100``."""
    return f"{x:g}"


def anomaly_report(
    bkg: ArrayLike,
    signals: Mapping[str, ArrayLike],
    *,
    fprs: Sequence[float] = DEFAULT_FPRS,
    rates_khz: Sequence[float] = DEFAULT_RATES_KHZ,
    input_rate_hz: float = LHC_BUNCH_CROSSING_RATE_HZ,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    sic_min_background: int = DEFAULT_SIC_MIN_BACKGROUND,
) -> dict[str, Any]:
    """All anomaly metrics of one score on one background and several signals.

    Thresholds are chosen once on ``bkg`` (see
    :func:`~cern_ai_bench.metrics.anomaly.threshold_at_fpr`) and applied to every signal.

    Args:
        bkg: ``(Nb,)`` background scores (higher = more anomalous).
        signals: signal name -> ``(Ns,)`` scores.
        fprs: target FPRs of the operating points.
        rates_khz: target trigger rates, kHz, converted with ``input_rate_hz``.
        input_rate_hz: input rate for the rate conversions, Hz (default 40 MHz).
        min_background: background count an operating point needs to be ``reliable``.
        sic_min_background: background count a threshold needs to enter the max SIC.

    Returns:
        ``{"n_background", "input_rate_hz", "min_background", "sic_min_background",
        "thresholds": {"fpr": {key: Threshold dict}, "rate_khz": {key: RateThreshold dict}},
        "signals": {name: {"n_signal", "auc", "tpr_at_fpr": {key: OperatingPoint dict},
        "tpr_at_rate_khz": {key: OperatingPoint dict + target_rate_khz, achieved_rate_khz},
        "max_sic": MaxSIC dict or None}}}``, keys formatted ``f"{x:g}"`` (``"1e-05"``,
        ``"0.001"``, ``"100"``). ``max_sic`` is None when no threshold keeps
        ``sic_min_background`` background events.

    Raises:
        ValueError: invalid scores (the signal is named), no signals, or invalid settings.
    """
    b = validate_scores(bkg, "bkg")
    if not signals:
        raise ValueError("signals: expected at least one signal name -> scores")
    at_fpr = {_key(f): threshold_at_fpr(b, f, min_background=min_background) for f in fprs}
    at_rate = {
        _key(r): threshold_for_rate(
            b, r, input_rate_hz=input_rate_hz, min_background=min_background
        )
        for r in rates_khz
    }
    per_signal: dict[str, Any] = {}
    for name, scores in signals.items():
        s = validate_scores(scores, f"signals[{name!r}]")
        curve = sic_curve(b, s, min_background=sic_min_background)
        rate_points = {}
        for key, t in at_rate.items():
            point = operating_point(t, s).to_dict()
            point |= {
                "target_rate_khz": t.target_rate_khz,
                "input_rate_hz": t.input_rate_hz,
                "achieved_rate_khz": t.achieved_rate_khz,
            }
            rate_points[key] = point
        per_signal[str(name)] = {
            "n_signal": int(s.size),
            "auc": roc_auc(b, s),
            "tpr_at_fpr": {key: operating_point(t, s).to_dict() for key, t in at_fpr.items()},
            "tpr_at_rate_khz": rate_points,
            "max_sic": curve.maximum().to_dict() if curve.sic.size else None,
        }
    return {
        "n_background": int(b.size),
        "input_rate_hz": float(input_rate_hz),
        "min_background": int(min_background),
        "sic_min_background": int(sic_min_background),
        "thresholds": {
            "fpr": {key: t.to_dict() for key, t in at_fpr.items()},
            "rate_khz": {key: t.to_dict() for key, t in at_rate.items()},
        },
        "signals": per_signal,
    }
