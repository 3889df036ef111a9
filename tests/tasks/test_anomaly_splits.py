"""The CWoLa protocol: injection count, signal region and sidebands, disjoint splits."""

from __future__ import annotations

import numpy as np
import pytest

from cern_ai_bench.config import AnomalyConfig
from cern_ai_bench.data.anomaly_schema import DijetAnomalyDataset
from cern_ai_bench.tasks.anomaly_evaluation import dijet_report, flat_metrics, repeat_summary
from cern_ai_bench.tasks.anomaly_splits import cwola_splits, sideband_mask
from cern_ai_bench.tasks.trigger import TaskError


def dataset(n_bkg: int = 2000, n_sig: int = 200, seed: int = 0) -> DijetAnomalyDataset:
    """Background with mjj uniform in 2.9-4.1 TeV, signal at 3.5 TeV; column 1 = event id."""
    rng = np.random.default_rng(seed)
    n = n_bkg + n_sig
    features = rng.uniform(0, 1, (n, 5)).astype(np.float32)
    features[:n_bkg, 0] = rng.uniform(2.9, 4.1, n_bkg)
    features[n_bkg:, 0] = rng.normal(3.5, 0.03, n_sig)
    features[:, 1] = np.arange(n)  # unique id per event
    labels = np.r_[np.zeros(n_bkg), np.ones(n_sig)].astype(np.int8)
    return DijetAnomalyDataset("toy", features, labels)


def splits(data: DijetAnomalyDataset, **overrides):
    settings = {
        "signal_fraction": 0.05,
        "signal_region": (3.3, 3.7),
        "sideband_width": 0.2,
        "test_fraction": 0.25,
        "val_fraction": 0.2,
        "seed": 3,
    } | overrides
    return cwola_splits(data, **settings)


def ids(split) -> set[int]:
    return set(split.features[:, 1].astype(int))


def test_sidebands_touch_the_signal_region_and_have_the_given_width():
    mjj = np.array([3.09, 3.1, 3.2, 3.3, 3.31, 3.69, 3.7, 3.9, 3.91, np.nan])
    assert sideband_mask(mjj, (3.3, 3.7), 0.2).tolist() == [
        *(False, True, True, True),
        *(False, False),
        *(True, True, False, False),
    ]
    # No width: everything outside the (open) signal region, NaN excluded.
    assert sideband_mask(mjj, (3.3, 3.7), None).tolist() == [
        *(True, True, True, True, False, False, True, True, True, False)
    ]


def test_injection_count_regions_and_disjoint_splits():
    data = dataset()
    s = splits(data)
    summary = s.summary
    # 25 % of the 2000 background and of the 200 signal events are held out.
    assert summary["n_background_data"] == 1500
    assert summary["n_signal_available"] == 150
    assert summary["n_signal_injected"] == round(0.05 / 0.95 * 1500) == 79
    cwola = [s.cwola_train, s.cwola_val]
    assert sum((x.truth == 1).sum() for x in cwola) == summary["n_signal_sr"] <= 79
    for x in cwola:  # CWoLa labels are the region, not the truth
        np.testing.assert_array_equal(x.labels == 1, x.in_sr)
        mjj = x.features[:, 0]
        assert np.all(x.in_sr == ((mjj > 3.3) & (mjj < 3.7)))
        assert np.all((mjj >= 3.1) & (mjj <= 3.9))
    assert sum(len(x) for x in cwola) == summary["n_sr"] + summary["n_sb"]
    for x in (s.supervised_train, s.supervised_val):  # truth labels, signal region only
        np.testing.assert_array_equal(x.labels, x.truth)
        assert x.in_sr.all()
    assert (
        sum((x.truth == 1).sum() for x in (s.supervised_train, s.supervised_val))
        == (summary["n_supervised_signal"])
    )
    training = (
        ids(s.cwola_train) | ids(s.cwola_val) | ids(s.supervised_train) | ids(s.supervised_val)
    )
    assert not ids(s.test) & training  # held-out events are never trained on
    assert not ids(s.cwola_train) & ids(s.cwola_val)
    assert summary["s_over_b_sr"] == pytest.approx(
        summary["n_signal_sr"] / (summary["n_sr"] - summary["n_signal_sr"])
    )
    # Deterministic in the seed, different with another.
    assert ids(splits(data).test) == ids(s.test)
    assert ids(splits(data, seed=4).test) != ids(s.test)


def test_zero_fraction_trains_on_background_only():
    s = splits(dataset(), signal_fraction=0.0)
    assert s.summary["n_signal_injected"] == 0
    assert (s.cwola_train.truth == 0).all() and (s.cwola_val.truth == 0).all()
    assert (s.supervised_train.truth == 1).any()  # the reference still sees signal


def test_too_large_a_fraction_names_the_setting_and_the_maximum():
    with pytest.raises(TaskError, match=r"task.anomaly.signal_fraction=0.2 needs 375 .* 150"):
        splits(dataset(), signal_fraction=0.2)


def test_empty_sidebands_are_refused():
    with pytest.raises(TaskError, match="no data event in the sidebands"):
        splits(dataset(), signal_region=(2.0, 4.5))


def test_dijet_report_of_a_perfect_and_a_random_classifier():
    rng = np.random.default_rng(0)
    background = rng.normal(size=2000)
    report, curve = dijet_report(background, background.max() + 1 + rng.random(100), _settings())
    assert report["auc"] == 1.0
    # Best point: every signal event above, 20 background events (the floor): 1 / sqrt(0.01).
    assert report["max_sic"]["value"] == pytest.approx(10.0)
    assert report["max_sic"]["n_background_above"] == 20
    assert curve.n_background_above.min() == 20 and curve.sic.max() == report["max_sic"]["value"]
    report, _ = dijet_report(background, rng.normal(size=2000), _settings())
    assert 0.45 < report["auc"] < 0.55 and report["max_sic"]["value"] < 1.5


def test_flat_metrics_and_the_spread_over_repeats():
    report = {
        "signals": {
            "a": {"auc": 0.9, "tpr_at_fpr": {"0.0001": {"tpr": 0.2}, "1e-05": {"tpr": 0.1}}}
        }
    }
    assert flat_metrics({"mse": report}, [1e-4, 1e-5]) == {
        "a/mse/auc": 0.9,
        "a/mse/tpr@1e-04": 0.2,
        "a/mse/tpr@1e-05": 0.1,
    }
    summary = repeat_summary([{"x": 1.0, "y": None}, {"x": 3.0, "y": 2.0}, {"x": 2.0, "y": None}])
    assert summary["x"]["median"] == 2.0 and summary["x"]["n"] == 3
    assert summary["y"]["n"] == 1  # None (no max SIC in that repeat) is left out


def _settings() -> AnomalyConfig:
    return AnomalyConfig()  # sic_min_background = 20


def test_sideband_halves_are_balanced_on_a_falling_spectrum():
    """A falling mjj spectrum fills the lower sideband more; CWoLa gets equal halves."""
    rng = np.random.default_rng(4)
    n_bkg, n_sig = 20000, 200
    features = rng.uniform(0, 1, (n_bkg + n_sig, 5)).astype(np.float32)
    features[:n_bkg, 0] = 2.9 + rng.exponential(0.4, n_bkg)
    features[n_bkg:, 0] = rng.normal(3.5, 0.03, n_sig)
    labels = np.r_[np.zeros(n_bkg), np.ones(n_sig)].astype(np.int8)
    data = DijetAnomalyDataset("falling", features, labels)
    mjj = features[:, 0]
    available = (mjj >= 3.1) & (mjj <= 3.3), (mjj >= 3.7) & (mjj <= 3.9)
    assert available[0].sum() > 2 * available[1].sum()  # the imbalance being corrected
    s = splits(data, signal_fraction=0.005)
    sidebands = [split.features[split.labels == 0, 0] for split in (s.cwola_train, s.cwola_val)]
    sb = np.concatenate(sidebands)
    assert (sb <= 3.3).sum() == (sb >= 3.7).sum() == s.summary["n_sb"] // 2
    # The same seed thins the same events.
    again = splits(data, signal_fraction=0.005).cwola_train.features[:, 1]
    np.testing.assert_array_equal(again, s.cwola_train.features[:, 1])
