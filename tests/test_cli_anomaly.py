"""task=anomaly end to end through the runner and the command line, on tiny samples.

L1 (ae, vae): a tiny embedded L1 sample generated once for the module. Dijet (cwola): a
synthetic sample in the published LHC Olympics features-file layout placed where
``dataset=lhco_rnd`` finds it (tests/tasks/dijet_samples.py), and a tiny generated
``dataset=embedded_lhco`` sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_module

from cern_ai_bench.bench.record import read_record
from cern_ai_bench.bench.run import run_benchmark
from cern_ai_bench.bench.summary import format_summary
from cern_ai_bench.config import DatasetConfig, register_configs
from cern_ai_bench.data.adc2021 import SIGNAL_SAMPLES
from cern_ai_bench.data.adc2021_io import read_adc2021
from cern_ai_bench.data.embedded_l1 import prepare_embedded_l1
from cern_ai_bench.metrics.trigger_baselines import ht_score
from cern_ai_bench.tasks.anomaly_dijet import SIC_PLOT_NAME
from tests.cli_run import run_cli
from tests.tasks.dijet_samples import place_lhco_features

#: Tiny sizes: the generator makes them in ~15 s on one worker (QCD dominates).
L1_SIZES = {"n_background_train": 240, "n_background_test": 200, "n_signal_events": 30}
TINY = [
    "task=anomaly",
    *(f"dataset.{key}={value}" for key, value in L1_SIZES.items()),
    "dataset.workers=1",
    "trainer.max_epochs=2",
    "trainer.batch_size=64",
    "trainer.progress=false",
    "benchmark.latency_iters=3",
    "benchmark.throughput_batch=100",
    "benchmark.throughput_iters=2",
]
FPR_KEYS = ("0.001", "0.0001", "1e-05")


@pytest.fixture(scope="module")
def l1_dir(tmp_path_factory):
    """One cache of tiny embedded L1 events shared by the tests of this module."""
    data_dir = tmp_path_factory.mktemp("l1")
    cfg = DatasetConfig(name="embedded_l1", data_dir=str(data_dir), workers=1, **L1_SIZES)
    paths = prepare_embedded_l1(cfg, data_dir, progress=False)
    return data_dir, paths


def _run(overrides, run_dir, data_dir, monkeypatch):
    monkeypatch.setenv("CERN_AI_BENCH_DATA", str(data_dir))
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose("main", overrides=[*TINY, *overrides])
    return run_benchmark(cfg, run_dir)


def _check_operating_points(report, n_background):
    assert report["n_background"] == n_background
    assert set(FPR_KEYS) <= set(report["thresholds"]["fpr"])
    for signal in SIGNAL_SAMPLES:
        result = report["signals"][signal]
        assert result["n_signal"] == L1_SIZES["n_signal_events"]
        assert 0 <= result["auc"] <= 1
        for key in FPR_KEYS:
            point = result["tpr_at_fpr"][key]
            assert point["n_background"] == n_background
            # k = floor(FPR * Nb) = 0 here: nothing above, flagged unreliable.
            assert point["n_background_above"] == 0 and point["reliable"] is False
            assert point["tpr_low"] <= point["tpr"] <= point["tpr_high"]


@pytest.mark.slow
def test_ae_record_has_every_signal_with_counts_and_the_ht_baseline(l1_dir, tmp_path, monkeypatch):
    data_dir, paths = l1_dir
    record = _run(
        ["model=ae", "task.anomaly.fprs=[1e-3,1e-4,1e-5,0.1]"], tmp_path, data_dir, monkeypatch
    )
    assert read_record(tmp_path / "record.json") == record
    bench = record["benchmark"]
    assert (bench["task"], bench["model"], bench["dataset"], bench["metric"]) == (
        "anomaly",
        "ae",
        "embedded_l1",
        "bkg_loss",
    )
    n_test = L1_SIZES["n_background_test"]
    splits = record["dataset"]["splits"]
    assert splits["train"] + splits["val"] == L1_SIZES["n_background_train"]
    assert splits["test"] == n_test
    assert {f"signal_{s}" for s in SIGNAL_SAMPLES} <= set(splits)
    details = record["quality"]["details"]
    assert details["score_names"] == ["mse"] and details["n_background_test"] == n_test
    for report in (details["scores"]["mse"], details["trigger_baselines"]["ht"]):
        _check_operating_points(report, n_test)
    assert set(details["trigger_baselines"]) == {
        "ht",
        "met",
        "leading_electron_pt",
        "leading_muon_pt",
        "leading_jet_pt",
    }
    # The HT trigger at FPR 0.1, recomputed from the files: k = 20 background events above.
    background = read_adc2021(paths["background_test"])
    threshold = np.sort(ht_score(background))[::-1][20]
    ht = details["trigger_baselines"]["ht"]
    assert ht["thresholds"]["fpr"]["0.1"]["threshold"] == pytest.approx(threshold)
    for signal in SIGNAL_SAMPLES:
        tpr = float(np.mean(ht_score(read_adc2021(paths[signal])) > threshold))
        assert ht["signals"][signal]["tpr_at_fpr"]["0.1"]["tpr"] == pytest.approx(tpr)
        assert record["quality"]["test"][f"{signal}/ht/tpr@1e-01"] == pytest.approx(tpr)
        assert f"{signal}/mse/tpr@1e-04" in record["quality"]["test"]
    assert record["quality"]["test"]["bkg_loss"] > 0
    assert [h["epoch"] for h in record["quality"]["val_history"]] == [1, 2]
    summary = format_summary(record)  # what the command line prints
    assert "TPR at FPR 1e-04 on 200 background test events" in summary
    line = next(x for x in summary.splitlines() if x.strip().startswith("leptoquark"))
    tpr = ht["signals"]["leptoquark"]["tpr_at_fpr"]["0.0001"]["tpr"]
    assert f"HT {tpr:.4f}" in line and "mse " in line


@pytest.mark.slow
def test_vae_reports_its_four_scores_and_the_spread_over_seeds(l1_dir, tmp_path, monkeypatch):
    data_dir, _ = l1_dir
    record = _run(["model=vae", "task.anomaly.repeats=2"], tmp_path, data_dir, monkeypatch)
    details = record["quality"]["details"]
    assert details["score_names"] == ["mse", "kl", "mu2", "total"]
    assert details["objective"] == "total"
    for score in details["score_names"]:
        _check_operating_points(details["scores"][score], L1_SIZES["n_background_test"])
    repeats = details["repeats"]
    assert repeats["seeds"] == [0, 1]
    stats = repeats["metrics"]["ato4l/mu2/auc"]
    assert stats["n"] == 2 and stats["min"] <= stats["median"] <= stats["max"]
    assert stats["min"] < stats["max"]  # two seeds, two different models
    assert stats["median"] == pytest.approx((stats["min"] + stats["max"]) / 2)


def test_cwola_beside_the_supervised_reference_with_its_sic_plot(tmp_path, monkeypatch):
    data_dir = tmp_path / "data"
    place_lhco_features(data_dir, n_background=6000, n_signal=600)
    record = _run(
        [
            "model=cwola",
            "dataset=lhco_rnd",
            "dataset.download=false",
            "task.anomaly.signal_fraction=0.02",
            "trainer.max_epochs=4",
        ],
        tmp_path / "run",
        data_dir,
        monkeypatch,
    )
    details = record["quality"]["details"]
    split = details["splits"]
    # round(f / (1 - f) * N_bkg) signal events in the data, N_bkg = 80 % of the background.
    assert split["n_background_data"] == 4800
    assert split["n_signal_injected"] == round(0.02 / 0.98 * 4800)
    assert split["n_test_background_sr"] > 0 and split["n_test_signal_sr"] > 0
    test = record["quality"]["test"]
    for name in ("cwola", "supervised"):
        best = details["classifiers"][name]["max_sic"]
        assert best["n_background_above"] >= 20  # the sic_min_background floor
        assert test[f"{name}/max_sic"] == pytest.approx(best["value"])
        assert best["value"] == pytest.approx(best["tpr"] / np.sqrt(best["fpr"]))
    assert test["supervised/max_sic"] > 1.5 and test["supervised/auc"] > 0.8
    assert (tmp_path / "run" / SIC_PLOT_NAME).stat().st_size > 1000
    assert details["plot"] == str(tmp_path / "run" / SIC_PLOT_NAME)


@pytest.mark.slow
def test_cwola_on_generated_lhco_dijets_end_to_end(tmp_path, monkeypatch):
    """dataset=embedded_lhco: Pythia dijets written in the LHCO format, clustered, searched."""
    record = _run(
        [
            "model=cwola",
            "dataset=embedded_lhco",
            "dataset.n_dijet_background=1500",
            "dataset.n_dijet_signal=300",
            "task.anomaly.signal_fraction=0.05",
            "trainer.max_epochs=3",
        ],
        tmp_path / "run",
        tmp_path / "data",
        monkeypatch,
    )
    assert record["dataset"]["name"] == "embedded_lhco"
    names = sorted(Path(f["path"]).name for f in record["dataset"]["files"])
    assert names == ["qcd_dijets_000.h5", "wprime_xy_000.h5"]
    split = record["quality"]["details"]["splits"]
    assert split["n_background_data"] == 1200  # 80 % of the triggered QCD events
    assert split["n_signal_injected"] == round(0.05 / 0.95 * 1200)
    assert split["n_signal_sr"] > 0 and split["n_test_signal_sr"] > 0
    test = record["quality"]["test"]
    assert 0 <= test["cwola/auc"] <= 1 and test["supervised/auc"] > 0.8
    assert (tmp_path / "run" / SIC_PLOT_NAME).stat().st_size > 1000


@pytest.mark.slow
def test_cwola_on_l1_events_is_refused_before_any_generation(tmp_path):
    done = run_cli(["task=anomaly", "model=cwola", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert done.returncode == 2
    assert "model=cwola reads dijet features" in done.stderr
    assert "dataset=embedded_l1 holds Level-1 events" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "embedded_l1").exists()
