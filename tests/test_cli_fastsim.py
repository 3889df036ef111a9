"""task=fastsim end to end through the command line and the runner, on tiny GFlash samples."""

from __future__ import annotations

import pytest
from hydra import compose, initialize_config_module

from cern_ai_bench.bench.record import read_record
from cern_ai_bench.bench.run import run_benchmark
from cern_ai_bench.config import register_configs
from cern_ai_bench.data.calo_geometry import GEOMETRIES
from cern_ai_bench.data.calochallenge_io import read_showers
from tests.cli_run import run_cli

#: ds1_photons (368 voxels) keeps generation, training and evaluation to seconds.
TINY = [
    "task=fastsim",
    "dataset.geometry=ds1_photons",
    "dataset.n_showers=400",
    "dataset.n_reference_showers=200",
    "dataset.workers=1",
    "trainer.max_epochs=2",
    "trainer.batch_size=64",
    "trainer.progress=false",
    "task.evaluation.val_showers=100",
    "task.evaluation.classifier_width=32",
    "task.evaluation.classifier_epochs=2",
    "task.evaluation.classifier_repeats=2",
    "task.evaluation.fpd_min_samples=100",
    "task.evaluation.fpd_max_samples=400",
    "task.evaluation.kpd_batch_size=100",
    "task.evaluation.generation_batches=[1,10,200]",
    "benchmark.latency_iters=3",
    "benchmark.throughput_batch=100",
]


@pytest.fixture(scope="module")
def shower_dir(tmp_path_factory):
    """One cache of tiny embedded showers shared by the tests of this module."""
    return tmp_path_factory.mktemp("showers")


def _run(overrides, run_dir, data_dir, monkeypatch):
    monkeypatch.setenv("CERN_AI_BENCH_DATA", str(data_dir))
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose("main", overrides=[*TINY, *overrides])
    return run_benchmark(cfg, run_dir)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cvae", "flow_matching"])
def test_fastsim_writes_every_metric_and_timing(model, shower_dir, tmp_path, monkeypatch):
    record = _run([f"model={model}"], tmp_path, shower_dir, monkeypatch)
    assert read_record(tmp_path / "record.json") == record
    assert (record["benchmark"]["task"], record["benchmark"]["model"]) == ("fastsim", model)
    assert record["dataset"]["splits"]["test"] == 200  # the held-out reference file
    test = record["quality"]["test"]
    for mode in ("low", "high"):
        assert 0 <= test[f"cls_{mode}_auc_mean"] <= 1 and test[f"cls_{mode}_auc_std"] >= 0
        assert test[f"cls_{mode}_jsd_mean"] <= 1
        assert len(record["quality"]["details"][f"classifier_{mode}"]["auc"]) == 2
    assert {"fpd_x1e3", "fpd_x1e3_err", "kpd_x1e3", "kpd_x1e3_err"} <= set(test)
    powers = record["quality"]["details"]["separation_powers"]
    assert {"E_ratio", "E_layer_0", "E_layer_12", "EC_eta_1", "W_r_2", "sparsity_3"} <= set(powers)
    assert all(0 <= v <= 1 for v in powers.values())
    assert 0.9 < test["response_reference"] < 1.05  # GFlash photons, ~95-99 % stored
    generation = record["timing"]["generation"]
    assert set(generation["model"]) == {"1", "10", "200"}
    assert all(v["ms_per_shower"] > 0 for v in generation["model"].values())
    ratio = generation["speedup_vs_simulator"]["200"]
    sim = generation["reference_simulator"]["200"]["ms_per_shower"]
    assert ratio == pytest.approx(sim / generation["model"]["200"]["ms_per_shower"])
    generated = read_showers(
        record["quality"]["details"]["generated_showers"], GEOMETRIES["ds1_photons"]
    )
    assert generated.showers.shape == (200, 368)  # CaloChallenge format, one per test shower
    others = generation["other_models"]
    assert set(others) == {"cvae", "flow_matching"} - {model}
    assert all(t["200"]["ms_per_shower"] > 0 for t in others.values())
    plots = record["quality"]["details"]["plots"]
    assert plots and all((tmp_path / "plots").joinpath(p.split("/")[-1]).is_file() for p in plots)


def test_jet_model_with_fastsim_is_refused_before_any_generation(tmp_path):
    done = run_cli(["task=fastsim", "model=mlp", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert done.returncode == 2
    assert "task=fastsim needs a shower generator" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "embedded_showers").exists()


def test_missing_calochallenge_file_says_where_to_put_it(tmp_path):
    done = run_cli(
        [
            "task=fastsim",
            "dataset=calochallenge_ds2",
            "dataset.download=false",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        tmp_path,
    )
    assert done.returncode == 2
    assert "dataset_2_1.hdf5" in done.stderr and "zenodo" in done.stderr.lower()
    assert "Traceback" not in done.stderr
