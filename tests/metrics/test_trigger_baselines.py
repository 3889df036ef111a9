"""Standard-trigger baseline scores on hand-built ADC2021 events, and their anomaly report."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cern_ai_bench.data.l1_layout import CLASS_IDS, N_SLOTS, SLOTS
from cern_ai_bench.metrics.anomaly_report import anomaly_report
from cern_ai_bench.metrics.trigger_baselines import (
    BASELINES,
    baseline_report,
    baseline_scores,
    ht_score,
    leading_pt_score,
    met_score,
)


def _event(
    met: float = 0.0,
    electrons: tuple[float, ...] = (),
    muons: tuple[float, ...] = (),
    jets: tuple[tuple[float, float], ...] = (),
) -> np.ndarray:
    """One ``(19, 4)`` event; jets given as (pT, eta); a jet pT of 0 is an empty slot."""
    ev = np.zeros((N_SLOTS, 4))
    ev[0] = (met, 0.0, 0.3, CLASS_IDS["met"])
    for group, pts in (("electrons", electrons), ("muons", muons)):
        for slot, pt in zip(SLOTS[group], pts, strict=False):
            ev[slot] = (pt, 0.5, 1.0, CLASS_IDS[group])
    for slot, (pt, eta) in zip(SLOTS["jets"], jets, strict=False):
        ev[slot] = (pt, eta, -1.0, CLASS_IDS["jets"] if pt > 0 else 0)
    return ev


# Event 0: two jets, then a slot zeroed by the public export's |eta| > 4 cut (pT = eta = 0 but
# phi and class kept), then a softer jet behind the gap; a forward jet at |eta| = 3.
# Event 1: muon only, no jets. Event 2: electron and one jet.
EVENTS = np.stack(
    [
        _event(
            met=50.0,
            electrons=(30.0, 10.0),
            jets=((100.0, 0.1), (40.0, -3.0), (0.0, 0.0), (20.0, 1.0)),
        ),
        _event(met=5.0, muons=(25.0,)),
        _event(met=12.5, electrons=(60.0,), jets=((35.0, 2.0),)),
    ]
)
EVENTS[0, 11, 2:] = (2.2, CLASS_IDS["jets"])  # the export quirk: phi and class survive


def test_ht_hand_computed() -> None:
    np.testing.assert_array_equal(ht_score(EVENTS), [160.0, 0.0, 35.0])
    np.testing.assert_array_equal(ht_score(EVENTS, min_jet_pt=30.0), [140.0, 0.0, 35.0])
    np.testing.assert_array_equal(ht_score(EVENTS, max_abs_eta=2.5), [120.0, 0.0, 35.0])
    np.testing.assert_array_equal(ht_score(EVENTS[:, :, :3]), [160.0, 0.0, 35.0])  # no class


def test_leading_object_and_met() -> None:
    np.testing.assert_array_equal(leading_pt_score(EVENTS, "electrons"), [30.0, 0.0, 60.0])
    np.testing.assert_array_equal(leading_pt_score(EVENTS, "muons"), [0.0, 25.0, 0.0])
    np.testing.assert_array_equal(leading_pt_score(EVENTS, "jets"), [100.0, 0.0, 35.0])
    np.testing.assert_array_equal(met_score(EVENTS), [50.0, 5.0, 12.5])
    # the leading jet is found by value even when the slots are not in pT order
    shuffled = EVENTS.copy()
    shuffled[0, SLOTS["jets"]] = shuffled[0, SLOTS["jets"]][::-1]
    assert leading_pt_score(shuffled, "jets")[0] == 100.0
    np.testing.assert_array_equal(baseline_scores(EVENTS, "leading_muon_pt"), [0.0, 25.0, 0.0])
    assert set(BASELINES) == {
        "ht",
        "met",
        "leading_electron_pt",
        "leading_muon_pt",
        "leading_jet_pt",
    }


def test_bad_particles() -> None:
    with pytest.raises(
        ValueError, match=r"particles: expected ADC2021 objects of shape \(N, 19, 4\)"
    ):
        ht_score(np.zeros((3, 57)))
    with pytest.raises(ValueError, match="particles: no events"):
        met_score(np.zeros((0, 19, 4)))
    bad = EVENTS.copy()
    bad[2, 10, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite value nan at event 2, slot 10, column 1"):
        ht_score(bad)
    bad = EVENTS.copy()
    bad[1, 5, 0] = -3.0
    with pytest.raises(ValueError, match=r"negative pT -3\.0 at event 1, slot 5"):
        leading_pt_score(bad, "muons")
    with pytest.raises(ValueError, match="group: expected one of"):
        leading_pt_score(EVENTS, "taus")
    with pytest.raises(ValueError, match="baseline: expected one of"):
        baseline_scores(EVENTS, "HT")


def _jets_only(hts: np.ndarray) -> np.ndarray:
    """Events with one central jet of pT = HT each (HT = 0: no jet)."""
    return np.stack([_event(met=1.0, muons=(30.0,), jets=((h, 0.0),)) for h in hts])


def test_baseline_report_ties_and_consistency() -> None:
    # 900 events without jets (HT = 0) and 100 with HT = 1..100
    background = _jets_only(np.concatenate([np.zeros(900), np.arange(1.0, 101.0)]))
    signals = {"hard": _jets_only(np.arange(51.0, 151.0)), "soft": _jets_only(np.zeros(20))}
    report = baseline_report(
        background, signals, fprs=(0.5, 0.05), rates_khz=(400.0,), min_background=10
    )
    assert report["score"] == "ht"
    json.dumps(report, allow_nan=False)
    # FPR 0.5: k = 500, but the 501st largest HT is one of the 900 zeros -> only 100 pass
    loose = report["signals"]["hard"]["tpr_at_fpr"]["0.5"]
    assert (loose["threshold"], loose["n_background_above"], loose["achieved_fpr"]) == (
        0.0,
        100,
        0.1,
    )
    # FPR 0.05: k = 50, threshold = 51st largest HT = 50; the signal has HT 51..150: all pass
    tight = report["signals"]["hard"]["tpr_at_fpr"]["0.05"]
    assert (tight["threshold"], tight["n_background_above"], tight["tpr"]) == (50.0, 50, 1.0)
    # 400 kHz at 40 MHz is FPR 1e-2: 10 of 1000 background events
    assert report["signals"]["hard"]["tpr_at_rate_khz"]["400"]["n_background_above"] == 10
    assert report["signals"]["soft"]["tpr_at_fpr"]["0.5"]["tpr"] == 0.0
    same = anomaly_report(
        ht_score(background),
        {k: ht_score(v) for k, v in signals.items()},
        fprs=(0.5, 0.05),
        rates_khz=(400.0,),
        min_background=10,
    )
    assert {k: v for k, v in report.items() if k != "score"} == same


def test_baseline_report_names_the_bad_sample() -> None:
    bad = _jets_only(np.array([1.0, 2.0]))
    bad[1, 0, 0] = np.inf
    with pytest.raises(
        ValueError, match=r"signals\['x'\]: non-finite value inf at event 1, slot 0"
    ):
        baseline_report(_jets_only(np.arange(100.0)), {"x": bad})
    with pytest.raises(ValueError, match=r"background: expected ADC2021 objects"):
        baseline_report(np.zeros((5, 19)), {"x": bad})
