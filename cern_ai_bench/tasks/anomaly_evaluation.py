"""Test evaluation of anomaly detectors: reports per score, flat record metrics, repeats.

- L1 (:func:`l1_reports`, :func:`baseline_reports`): one
  :func:`~cern_ai_bench.metrics.anomaly_report.anomaly_report` per model score (AE ``mse``;
  VAE ``mse``, ``kl``, ``mu2``, ``total``) and per standard-trigger score (HT, leading electron,
  muon and jet pT, MET; :mod:`cern_ai_bench.metrics.trigger_baselines`), all with thresholds
  set on the same background test events, at the same FPRs and rates: AUC, TPR with the
  background count above the threshold and Clopper-Pearson intervals, max SIC.
- Dijet (:func:`dijet_report`): ROC AUC and the SIC curve of a classifier's score on the
  held-out signal-region events (truth labels), its max SIC restricted to thresholds keeping
  ``sic_min_background`` background events.
- :func:`flat_metrics` picks the headline numbers of the reports for ``quality.test``
  (``"<signal>/<score>/auc"``, ``"<signal>/<score>/tpr@1e-04"``); :func:`repeat_summary`
  gives their median and 16-84 % band over independent trainings
  (:func:`~cern_ai_bench.metrics.anomaly_report.summarise_over_seeds`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cern_ai_bench.config import AnomalyConfig
from cern_ai_bench.metrics.anomaly import roc_auc
from cern_ai_bench.metrics.anomaly_report import anomaly_report, summarise_over_seeds
from cern_ai_bench.metrics.anomaly_sic import SICCurve, sic_curve
from cern_ai_bench.metrics.trigger_baselines import baseline_report

__all__ = [
    "baseline_reports",
    "dijet_report",
    "flat_metrics",
    "fpr_label",
    "l1_reports",
    "repeat_summary",
]


def fpr_label(fpr: float) -> str:
    """Flat-metric label of a working point: ``1e-04``."""
    return f"{fpr:.0e}"


def _report_key(x: float) -> str:
    """Key of a working point inside an ``anomaly_report`` dict (``0.0001``, ``1e-05``)."""
    return f"{x:g}"


def _settings(settings: AnomalyConfig) -> dict[str, Any]:
    return {
        "fprs": [float(f) for f in settings.fprs],
        "rates_khz": [float(r) for r in settings.rates_khz],
        "min_background": int(settings.min_background),
        "sic_min_background": int(settings.sic_min_background),
    }


def l1_reports(
    background: Mapping[str, np.ndarray],
    signals: Mapping[str, Mapping[str, np.ndarray]],
    settings: AnomalyConfig,
) -> dict[str, dict[str, Any]]:
    """One anomaly report per model score.

    Args:
        background: score name -> ``(Nb,)`` scores of the background test events.
        signals: score name -> signal name -> ``(Ns,)`` scores.
        settings: working points and background-count floors.
    """
    return {
        score: anomaly_report(background[score], signals[score], **_settings(settings))
        for score in background
    }


def baseline_reports(
    background: np.ndarray, signals: Mapping[str, np.ndarray], settings: AnomalyConfig
) -> dict[str, dict[str, Any]]:
    """One anomaly report per standard-trigger score of ``task.anomaly.trigger_baselines``,
    on ``(N, 19, 4)`` background test events and signal events."""
    return {
        name: baseline_report(background, signals, baseline=name, **_settings(settings))
        for name in settings.trigger_baselines
    }


def flat_metrics(
    reports: Mapping[str, Mapping[str, Any]], fprs: Sequence[float]
) -> dict[str, float]:
    """``"<signal>/<score>/auc"`` and ``"<signal>/<score>/tpr@<fpr>"`` of every report."""
    flat: dict[str, float] = {}
    for score, report in reports.items():
        for signal, result in report["signals"].items():
            flat[f"{signal}/{score}/auc"] = result["auc"]
            for fpr in fprs:
                point = result["tpr_at_fpr"][_report_key(fpr)]
                flat[f"{signal}/{score}/tpr@{fpr_label(fpr)}"] = point["tpr"]
    return flat


def dijet_report(
    background: np.ndarray, signal: np.ndarray, settings: AnomalyConfig
) -> tuple[dict[str, Any], SICCurve]:
    """AUC and max SIC of one classifier on held-out signal-region events.

    Args:
        background: ``(Nb,)`` scores of the background events.
        signal: ``(Ns,)`` scores of the signal events.
        settings: ``sic_min_background`` is the background floor of the max SIC.

    Returns:
        ``({"auc", "max_sic", "n_background", "n_signal"}, curve)``; ``max_sic`` is the
        :class:`~cern_ai_bench.metrics.anomaly_sic.MaxSIC` dict, or None when no threshold keeps
        enough background.
    """
    curve = sic_curve(background, signal, min_background=int(settings.sic_min_background))
    report = {
        "auc": roc_auc(background, signal),
        "max_sic": curve.maximum().to_dict() if curve.sic.size else None,
        "n_background": int(background.size),
        "n_signal": int(signal.size),
    }
    return report, curve


def repeat_summary(per_repeat: Sequence[Mapping[str, float | None]]) -> dict[str, Any]:
    """Median, 16th / 84th percentiles, min, max of each flat metric over the repeats.

    Metrics that are None in some repeat (no max SIC) are summarised over the others and
    report their count ``n``; a metric None everywhere is left out.
    """
    keys = dict.fromkeys(key for metrics in per_repeat for key in metrics)
    summary: dict[str, Any] = {}
    for key in keys:
        values = [m[key] for m in per_repeat if m.get(key) is not None]
        if values:
            summary[key] = summarise_over_seeds(np.asarray(values, dtype=np.float64))
    return summary
