"""The test evaluation of generated showers, as the CaloChallenge 2022 evaluation runs it.

Both samples are thresholded at the dataset's readout threshold, then compared through the
high-level features (separation power per histogram), the DNN classifier test on voxels
(``low``) and on high-level features (``high``), and FPD/KPD on the high-level feature vector.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cern_ai_bench.config import ShowerEvaluationConfig
from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.data.shower_schema import ShowerArrays
from cern_ai_bench.metrics.showers.classifier import classifier_test
from cern_ai_bench.metrics.showers.frechet import fpd, kpd
from cern_ai_bench.metrics.showers.hlf import (
    apply_threshold,
    cls_high_features,
    high_level_features,
)
from cern_ai_bench.metrics.showers.plots import plot_feature_histograms
from cern_ai_bench.metrics.showers.separation import separation_powers

log = logging.getLogger(__name__)


def evaluate_generated(
    reference: ShowerArrays,
    generated: np.ndarray,
    geometry: CaloGeometry,
    evaluation: ShowerEvaluationConfig,
    *,
    device: torch.device,
    plot_dir: Path | None = None,
) -> tuple[dict[str, float], dict[str, Any]]:
    """Metrics of ``generated`` showers against the ``reference`` showers at the same energies.

    Returns:
        The flat metrics (floats, for the record's ``quality.test``) and the details
        (separation power per feature, per-repeat classifier scores, plot files).
    """
    energy = reference.incident_energy
    ref_showers = apply_threshold(reference.showers, geometry)
    gen_showers = apply_threshold(generated, geometry)
    ref_features = high_level_features(ref_showers, energy, geometry)
    gen_features = high_level_features(gen_showers, energy, geometry)
    powers = separation_powers(ref_features, gen_features, geometry)
    values = np.array(list(powers.values()))
    metrics: dict[str, float] = {
        "sep_power_mean": float(values.mean()),
        "sep_power_max": float(values.max()),
        "sep_power_E_ratio": float(powers["E_ratio"]),
        "response_reference": float(np.mean(ref_features.E_tot / energy)),
        "response_generated": float(np.mean(gen_features.E_tot / energy)),
    }
    details: dict[str, Any] = {"separation_powers": powers}

    for mode in evaluation.classifier_modes:
        log.info("classifier test (%s), %d repeats", mode, evaluation.classifier_repeats)
        result = classifier_test(
            ref_showers,
            gen_showers,
            energy,
            geometry,
            mode=mode,
            repeats=evaluation.classifier_repeats,
            epochs=evaluation.classifier_epochs,
            width=evaluation.classifier_width,
            depth=evaluation.classifier_depth,
            seed=evaluation.classifier_seed,
            device=device,
        )
        metrics |= {
            f"cls_{mode}_auc_mean": result.auc_mean,
            f"cls_{mode}_auc_std": result.auc_std,
            f"cls_{mode}_jsd_mean": result.jsd_mean,
            f"cls_{mode}_jsd_std": result.jsd_std,
        }
        details[f"classifier_{mode}"] = result.as_dict()

    if evaluation.fpd_kpd:
        ref_vector = cls_high_features(ref_features)
        gen_vector = cls_high_features(gen_features)
        fpd_value, fpd_error = fpd(
            ref_vector,
            gen_vector,
            min_samples=evaluation.fpd_min_samples,
            max_samples=evaluation.fpd_max_samples,
        )
        kpd_value, kpd_error = kpd(ref_vector, gen_vector, batch_size=evaluation.kpd_batch_size)
        # The CaloChallenge tables quote both x 1e3.
        metrics |= {
            "fpd_x1e3": 1e3 * fpd_value,
            "fpd_x1e3_err": 1e3 * fpd_error,
            "kpd_x1e3": 1e3 * kpd_value,
            "kpd_x1e3_err": 1e3 * kpd_error,
        }

    if evaluation.plots and plot_dir is not None:
        paths = plot_feature_histograms(ref_features, gen_features, geometry, plot_dir)
        details["plots"] = [str(p) for p in paths]
    return metrics, details
