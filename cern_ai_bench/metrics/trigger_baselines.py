"""Standard Level-1 trigger quantities as anomaly scores: the baseline beside a learned detector.

A conventional L1 seed fires when one quantity of the event passes a threshold: the scalar sum of
jet pT (HT), the pT of the leading electron, muon or jet, or the missing transverse energy. Used
as an anomaly score ("higher = more anomalous"), choosing the threshold at a given FPR with
:func:`~cern_ai_bench.metrics.anomaly.threshold_at_fpr` is exactly such a seed's logic,
``quantity > threshold``, tuned to the same rate as the learned trigger, so the two can be
compared at equal bandwidth.

Inputs are ADC2021 arrays ``(N, 19, 4)`` (pT, eta, phi, class; GeV, radians) with the slot layout
of :mod:`cern_ai_bench.data.l1_layout`, or ``(N, 19, 3)`` without the class column. A slot is
filled when its pT is positive; the public files do not always pack filled jet slots first, so
the leading object is found with a max, not by slot position.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from cern_ai_bench.data.l1_layout import N_SLOTS, SLOTS, filled_mask
from cern_ai_bench.metrics.anomaly import DEFAULT_MIN_BACKGROUND
from cern_ai_bench.metrics.anomaly_rates import LHC_BUNCH_CROSSING_RATE_HZ
from cern_ai_bench.metrics.anomaly_report import DEFAULT_FPRS, DEFAULT_RATES_KHZ, anomaly_report
from cern_ai_bench.metrics.anomaly_sic import DEFAULT_SIC_MIN_BACKGROUND

__all__ = [
    "BASELINES",
    "baseline_report",
    "baseline_scores",
    "ht_score",
    "leading_pt_score",
    "met_score",
]

_OBJECT_GROUPS = ("electrons", "muons", "jets")


def _check_particles(particles: ArrayLike, name: str = "particles") -> np.ndarray:
    """Validated ``(N, 19, >=3)`` float array: finite, pT >= 0; ValueError naming the event."""
    p = np.asarray(particles)
    if p.ndim != 3 or p.shape[1] != N_SLOTS or p.shape[2] < 3:
        raise ValueError(
            f"{name}: expected ADC2021 objects of shape (N, {N_SLOTS}, 4) (pT, eta, phi, class) "
            f"or (N, {N_SLOTS}, 3), got {p.shape}"
        )
    if p.shape[0] == 0:
        raise ValueError(f"{name}: no events (N = 0)")
    if p.dtype.kind not in "fiu":
        raise ValueError(f"{name}: expected a numeric array, got dtype {p.dtype}")
    bad = ~np.isfinite(p)
    if bad.any():
        event, slot, col = np.argwhere(bad)[0]
        raise ValueError(
            f"{name}: non-finite value {p[event, slot, col]} at event {event}, slot {slot}, "
            f"column {col}"
        )
    negative = p[..., 0] < 0
    if negative.any():
        event, slot = np.argwhere(negative)[0]
        raise ValueError(
            f"{name}: negative pT {p[event, slot, 0]} at event {event}, slot {slot} "
            "(expected pT >= 0, empty slots 0)"
        )
    return p.astype(np.float64, copy=False)


def ht_score(
    particles: ArrayLike, *, min_jet_pt: float = 0.0, max_abs_eta: float | None = None
) -> np.ndarray:
    """Scalar sum of jet pT (HT), GeV: jets are slots 9-18 with pT > ``min_jet_pt``.

    By default every filled jet slot counts. The CMS L1 HT sum uses only jets above a pT
    threshold and inside a central |eta| range; pass them as ``min_jet_pt`` / ``max_abs_eta``
    (the values depend on the trigger menu and are not fixed here).

    Returns:
        ``(N,)`` float64 HT; 0 for events without jets.
    """
    p = _check_particles(particles)
    jets = p[:, SLOTS["jets"], :]
    use = filled_mask(jets) & (jets[..., 0] > min_jet_pt)
    if max_abs_eta is not None:
        use &= np.abs(jets[..., 1]) < max_abs_eta
    return np.where(use, jets[..., 0], 0.0).sum(axis=1)


def leading_pt_score(particles: ArrayLike, group: str) -> np.ndarray:
    """pT of the leading object of one group, GeV (the single-object seed's quantity).

    Args:
        particles: ``(N, 19, 4)`` ADC2021 objects.
        group: ``"electrons"`` (slots 1-4), ``"muons"`` (5-8) or ``"jets"`` (9-18).

    Returns:
        ``(N,)`` float64 largest pT in the group; 0 for events without such an object.
    """
    if group not in _OBJECT_GROUPS:
        raise ValueError(f"group: expected one of {_OBJECT_GROUPS}, got {group!r}")
    p = _check_particles(particles)
    return p[:, SLOTS[group], 0].max(axis=1)  # empty slots are 0 and pT >= 0


def met_score(particles: ArrayLike) -> np.ndarray:
    """Missing transverse energy (slot 0 pT), GeV."""
    return _check_particles(particles)[:, SLOTS["met"].start, 0].copy()


#: Baseline name -> score function of ``(N, 19, 4)`` objects.
BASELINES: Mapping[str, Callable[[ArrayLike], np.ndarray]] = {
    "ht": ht_score,
    "met": met_score,
    "leading_electron_pt": partial(leading_pt_score, group="electrons"),
    "leading_muon_pt": partial(leading_pt_score, group="muons"),
    "leading_jet_pt": partial(leading_pt_score, group="jets"),
}


def baseline_scores(particles: ArrayLike, baseline: str) -> np.ndarray:
    """Scores of one named baseline (a key of :data:`BASELINES`) on ``(N, 19, 4)`` objects."""
    if baseline not in BASELINES:
        raise ValueError(f"baseline: expected one of {sorted(BASELINES)}, got {baseline!r}")
    return BASELINES[baseline](particles)


def baseline_report(
    background: ArrayLike,
    signals: Mapping[str, ArrayLike],
    *,
    baseline: str = "ht",
    fprs: Sequence[float] = DEFAULT_FPRS,
    rates_khz: Sequence[float] = DEFAULT_RATES_KHZ,
    input_rate_hz: float = LHC_BUNCH_CROSSING_RATE_HZ,
    min_background: int = DEFAULT_MIN_BACKGROUND,
    sic_min_background: int = DEFAULT_SIC_MIN_BACKGROUND,
) -> dict[str, Any]:
    """:func:`~cern_ai_bench.metrics.anomaly_report.anomaly_report` of a standard-trigger score.

    Scores the background and every signal with ``baseline`` and reports them at the same FPRs
    and rates as a learned score, so e.g. "HT trigger" sits beside the autoencoder in the
    record. Many events share a score (0 without jets, identical sums): the conservative tie
    rule of ``threshold_at_fpr`` then keeps the achieved FPR at or below the target.

    Args:
        background: ``(Nb, 19, 4)`` background objects.
        signals: signal name -> ``(Ns, 19, 4)`` objects.
        baseline: a key of :data:`BASELINES` (default ``"ht"``).
        fprs, rates_khz, input_rate_hz, min_background, sic_min_background: as in
            ``anomaly_report``.

    Returns:
        The ``anomaly_report`` dict plus ``"score": baseline``.
    """
    if baseline not in BASELINES:
        raise ValueError(f"baseline: expected one of {sorted(BASELINES)}, got {baseline!r}")
    # validate here so an error names the sample, not just "particles"
    background_scores = baseline_scores(_check_particles(background, "background"), baseline)
    signal_scores = {
        name: baseline_scores(_check_particles(p, f"signals[{name!r}]"), baseline)
        for name, p in signals.items()
    }
    report = anomaly_report(
        background_scores,
        signal_scores,
        fprs=fprs,
        rates_khz=rates_khz,
        input_rate_hz=input_rate_hz,
        min_background=min_background,
        sic_min_background=sic_min_background,
    )
    return {"score": baseline, **report}
