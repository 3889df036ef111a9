"""Shower metrics of the CaloChallenge 2022 evaluation: high-level features, separation power
of their histograms, the DNN classifier test, FPD/KPD, feature plots, and a parity check
against the official code."""

from __future__ import annotations

from cern_ai_bench.metrics.showers.classifier import ClassifierResult, classifier_test
from cern_ai_bench.metrics.showers.frechet import fpd, frechet_distance, kpd
from cern_ai_bench.metrics.showers.hlf import (
    ShowerFeatures,
    apply_threshold,
    cls_high_features,
    high_level_features,
)
from cern_ai_bench.metrics.showers.plots import plot_feature_histograms
from cern_ai_bench.metrics.showers.separation import (
    separation_power,
    separation_powers,
    summarize,
)

__all__ = [
    "ClassifierResult",
    "ShowerFeatures",
    "apply_threshold",
    "classifier_test",
    "cls_high_features",
    "fpd",
    "frechet_distance",
    "high_level_features",
    "kpd",
    "plot_feature_histograms",
    "separation_power",
    "separation_powers",
    "summarize",
]
