"""Synthetic dijet events in the published LHCO features-file layout, for the anomaly task tests.

Background: mjj uniform in 2.8-4.2 TeV, jet masses (30-400 GeV) and tau21 (0.3-0.9)
independent of mjj, so only a signal can make the signal region differ from the sidebands.
Signal: a narrow 3.5 TeV resonance with heavier jets (about 450 and 150 GeV) and lower tau21
(0.2-0.7), a loose stand-in for the LHC Olympics R&D W' -> X Y. The jets are back to back along x with pz = 0; their momentum follows from
two-body kinematics, so the loader's mjj (E = sqrt(p^2 + m^2) per jet) returns the drawn mjj.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cern_ai_bench.data.lhco import LHCO_RND_FOLDER
from cern_ai_bench.data.lhco_features import DijetFeatures
from cern_ai_bench.data.lhco_features_file import write_lhco_features_file
from cern_ai_bench.data.sources import LHCO_RND_FEATURES


def dijet_table(mjj: np.ndarray, m1: np.ndarray, m2: np.ndarray, tau21: np.ndarray) -> np.ndarray:
    """``(n, 14)`` jet columns (GeV) of back-to-back jets with these masses and tau21 values."""
    M, n = mjj * 1000.0, len(mjj)
    p = np.sqrt((M**2 - (m1 + m2) ** 2) * (M**2 - (m1 - m2) ** 2)) / (2 * M)
    table = np.zeros((n, 14))
    for j, (sign, mass, t21) in enumerate(((1.0, m1, tau21[:, 0]), (-1.0, m2, tau21[:, 1]))):
        block = table[:, 7 * j : 7 * j + 7]
        block[:, 0] = sign * p
        block[:, 3] = mass
        block[:, 4] = 1.0  # tau1
        block[:, 5] = t21 * (1.0 + 1e-5)  # tau2, so tau2 / (tau1 + 1e-5) = t21
        block[:, 6] = 0.5 * t21
    return table


def synthetic_dijets(n_background: int, n_signal: int, seed: int = 0):
    """``(DijetFeatures, labels)``, background first then signal, then shuffled."""
    rng = np.random.default_rng(seed)
    bkg = dijet_table(
        rng.uniform(2.8, 4.2, n_background),
        rng.uniform(30, 400, n_background),
        rng.uniform(30, 400, n_background),
        rng.uniform(0.3, 0.9, (n_background, 2)),
    )
    # Overlapping with the background in every feature, so no classifier is perfect.
    sig = dijet_table(
        rng.normal(3.5, 0.05, n_signal),
        np.clip(rng.normal(450, 80, n_signal), 30, None),
        np.clip(rng.normal(150, 60, n_signal), 30, None),
        rng.uniform(0.2, 0.7, (n_signal, 2)),
    )
    table = np.concatenate([bkg, sig])
    labels = np.concatenate([np.zeros(n_background), np.ones(n_signal)]).astype(np.int8)
    order = rng.permutation(len(table))
    return DijetFeatures(table[order]), labels[order]


def place_lhco_features(data_dir: Path, n_background: int, n_signal: int, seed: int = 0) -> Path:
    """Write the synthetic sample where ``dataset=lhco_rnd`` looks for the features file."""
    folder = Path(data_dir) / LHCO_RND_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    features, labels = synthetic_dijets(n_background, n_signal, seed)
    return write_lhco_features_file(folder / LHCO_RND_FEATURES, features, labels)
