"""The weakly supervised dijet protocol: signal injection, signal region, sidebands, splits.

Classification without labels (CWoLa; Metodiev, Nachman, Thaler, JHEP 10 (2017) 174,
arXiv:1708.02949) as used in CWoLa hunting (Collins, Howe, Nachman, PRL 121 (2018) 241803,
arXiv:1805.02664) and benchmarked on the LHC Olympics R&D data (CATHODE, Hallin et al., PRD 106
(2022) 055006, arXiv:2109.00546):

1. Background and signal events are permuted separately with ``default_rng([seed, 0])`` and
   ``default_rng([seed, 1])``; the first ``round(test_fraction * N)`` of each are held out as
   the test set (truth labels kept for the metrics only).
2. The "data" are the remaining background plus ``n_inject = round(f / (1 - f) * N_bkg)``
   signal events of the remaining signal (``f`` = ``task.anomaly.signal_fraction``, the signal
   fraction S / (S + B) of the data).
3. Data events in the signal region (SR, ``low < mjj < high``) get label 1, those in the
   sidebands (SB, ``[low - w, low]`` and ``[high, high + w]``, or every event outside the SR
   when ``w`` is None) label 0, the fuller sideband (below the SR, on a falling spectrum)
   randomly thinned to the size of the other (``default_rng([seed, 4])``) so that a feature
   trend with mjj cancels; other events are dropped. CWoLa trains SR vs SB on the features
   without mjj, so only a signal should make SR and SB differ.
4. The supervised reference is the same network trained on the SR events with truth labels:
   the data's SR background against every non-test SR signal event (injected or not), the
   "fully supervised" line of the LHC Olympics comparisons.
5. Each training set is split into train and val (``val_fraction``, ``default_rng([seed, 2])``
   and ``[seed, 3]``); the test set keeps the SR and SB events of the held-out ones.

Test metrics (AUC, SIC) use the held-out SR events with their truth labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cern_ai_bench.data.anomaly_schema import DijetAnomalyDataset
from cern_ai_bench.data.lhco_features import in_signal_region
from cern_ai_bench.tasks.trigger import TaskError

__all__ = ["CWoLaSplits", "LabelledSplit", "cwola_splits", "sideband_mask"]


@dataclass(frozen=True)
class LabelledSplit:
    """Events of one split.

    Attributes:
        features: ``(n, 5)`` float32 ``[mjj, mj_min, dmj, tau21_min, tau21_max]`` (TeV).
        labels: ``(n,)`` float32 training label (1 = SR for CWoLa, 1 = signal for supervised).
        truth: ``(n,)`` int8 truth (1 = signal).
        in_sr: ``(n,)`` bool, the event lies in the signal region.
    """

    features: np.ndarray
    labels: np.ndarray
    truth: np.ndarray
    in_sr: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, rows: np.ndarray) -> LabelledSplit:
        return LabelledSplit(
            self.features[rows], self.labels[rows], self.truth[rows], self.in_sr[rows]
        )


@dataclass(frozen=True)
class CWoLaSplits:
    """Everything the dijet task trains and evaluates on (see the module doc)."""

    cwola_train: LabelledSplit
    cwola_val: LabelledSplit
    supervised_train: LabelledSplit
    supervised_val: LabelledSplit
    test: LabelledSplit
    #: Counts and fractions for the record (injection, SR / SB sizes, S/B in the SR).
    summary: dict[str, Any]


def sideband_mask(mjj: np.ndarray, region: tuple[float, float], width: float | None) -> np.ndarray:
    """``(n,)`` bool: ``mjj`` (TeV) in a sideband of ``region`` (see the module doc)."""
    low, high = region
    if width is None:
        return np.isfinite(mjj) & ~in_signal_region(mjj, region)
    return ((mjj >= low - width) & (mjj <= low)) | ((mjj >= high) & (mjj <= high + width))


def _balanced_sidebands(
    rows: np.ndarray, mjj: np.ndarray, region: tuple[float, float], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The sideband ``rows`` below and above the signal region, the larger side randomly
    thinned (``default_rng([seed, 4])``) to the size of the smaller one.

    On a falling mjj spectrum the lower sideband holds several times more events than the
    upper one, so an unbalanced sideband class sits at lower mjj than the signal region on
    average, and any feature that grows with mjj (jet masses do) separates SR from SB without
    any signal: CWoLa then finds "signal" in pure background. With equal halves on both sides
    of the SR, a linear trend cancels.
    """
    lower = rows[mjj[rows] <= region[0]]
    upper = rows[mjj[rows] >= region[1]]
    n = min(len(lower), len(upper))
    rng = np.random.default_rng([seed, 4])
    return (
        np.sort(rng.choice(lower, n, replace=False)),
        np.sort(rng.choice(upper, n, replace=False)),
    )


def _split(events: LabelledSplit, val_fraction: float, rng: np.random.Generator, what: str):
    if len(events) < 2:
        raise TaskError(f"the {what} training set has {len(events)} event(s); need at least 2")
    order = rng.permutation(len(events))
    n_val = min(max(round(val_fraction * len(events)), 1), len(events) - 1)
    return events.subset(np.sort(order[n_val:])), events.subset(np.sort(order[:n_val]))


def _events(features: np.ndarray, truth: np.ndarray, in_sr: np.ndarray, labels: np.ndarray):
    return LabelledSplit(features, labels.astype(np.float32), truth.astype(np.int8), in_sr)


def cwola_splits(
    dataset: DijetAnomalyDataset,
    *,
    signal_fraction: float,
    signal_region: tuple[float, float],
    sideband_width: float | None,
    test_fraction: float,
    val_fraction: float,
    seed: int,
) -> CWoLaSplits:
    """Inject signal, select SR and SB, and split (see the module doc).

    Raises:
        TaskError: the dataset holds too little signal for ``signal_fraction``, or a split
            would lack SR events, SB events or test signal; the message names the setting.
    """
    features, truth = dataset.features, dataset.labels
    mjj = features[:, 0]
    in_sr = in_signal_region(mjj, signal_region)
    in_sb = sideband_mask(mjj, signal_region, sideband_width)
    background = np.random.default_rng([seed, 0]).permutation(np.flatnonzero(truth == 0))
    signal = np.random.default_rng([seed, 1]).permutation(np.flatnonzero(truth == 1))
    n_bkg_test = min(max(round(test_fraction * len(background)), 1), len(background) - 1)
    n_sig_test = min(max(round(test_fraction * len(signal)), 1), max(len(signal) - 1, 1))
    data_bkg, pool = background[n_bkg_test:], signal[n_sig_test:]
    n_inject = round(signal_fraction / (1.0 - signal_fraction) * len(data_bkg))
    if n_inject > len(pool):
        raise TaskError(
            f"task.anomaly.signal_fraction={signal_fraction} needs {n_inject} signal events "
            f"injected into {len(data_bkg)} background events, but {dataset.name} has only "
            f"{len(pool)} signal events outside the test set; lower the fraction (at most "
            f"{len(pool) / (len(pool) + len(data_bkg)):.4g}) or use more signal"
        )
    data = np.sort(np.concatenate([data_bkg, pool[:n_inject]]))
    lower, upper = _balanced_sidebands(data[in_sb[data]], mjj, signal_region, seed)
    window = np.sort(np.concatenate([data[in_sr[data]], lower, upper]))
    cwola = _events(features[window], truth[window], in_sr[window], in_sr[window])
    sup_rows = np.sort(np.concatenate([data_bkg, pool]))
    sup_rows = sup_rows[in_sr[sup_rows]]
    supervised = _events(features[sup_rows], truth[sup_rows], in_sr[sup_rows], truth[sup_rows])
    test_rows = np.sort(np.concatenate([background[:n_bkg_test], signal[:n_sig_test]]))
    test_rows = test_rows[in_sr[test_rows] | in_sb[test_rows]]
    test = _events(features[test_rows], truth[test_rows], in_sr[test_rows], in_sr[test_rows])

    n_sr, n_sb = int(cwola.in_sr.sum()), int((~cwola.in_sr).sum())
    sig_sr = int((cwola.in_sr & (cwola.truth == 1)).sum())
    test_sr_truth = test.truth[test.in_sr]
    problems = [
        (n_sr == 0, "no data event in the signal region (task.anomaly.signal_region_tev)"),
        (n_sb == 0, "no data event in the sidebands (task.anomaly.sideband_width_tev)"),
        (not (supervised.truth == 1).any(), "no training signal in the signal region"),
        (not (test_sr_truth == 1).any(), "no test signal in the signal region"),
        (not (test_sr_truth == 0).any(), "no test background in the signal region"),
    ]
    for failed, message in problems:
        if failed:
            raise TaskError(f"{dataset.name}: {message}; check the settings or use more events")
    cwola_train, cwola_val = _split(cwola, val_fraction, np.random.default_rng([seed, 2]), "CWoLa")
    sup_train, sup_val = _split(
        supervised, val_fraction, np.random.default_rng([seed, 3]), "supervised"
    )
    bkg_sr = n_sr - sig_sr
    summary = {
        "signal_region_tev": list(signal_region),
        "sideband_width_tev": sideband_width,
        "signal_fraction": signal_fraction,
        "n_background_data": len(data_bkg),
        "n_signal_injected": int(n_inject),
        "n_signal_available": len(pool),
        "n_sr": n_sr,
        "n_sb": n_sb,
        "n_signal_sr": sig_sr,
        "s_over_b_sr": sig_sr / bkg_sr if bkg_sr else None,
        "significance_sr": float(sig_sr / np.sqrt(bkg_sr)) if bkg_sr else None,
        "n_supervised": len(supervised),
        "n_supervised_signal": int((supervised.truth == 1).sum()),
        "n_test_background_sr": int((test_sr_truth == 0).sum()),
        "n_test_signal_sr": int((test_sr_truth == 1).sum()),
    }
    return CWoLaSplits(cwola_train, cwola_val, sup_train, sup_val, test, summary)
