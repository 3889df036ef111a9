"""End to end through the command line and the runner, on a tiny embedded jet sample."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_module

from cern_ai_bench.bench.record import read_record
from cern_ai_bench.bench.run import run_benchmark
from cern_ai_bench.config import register_configs
from tests.cli_run import run_cli

TINY = [
    "dataset.jets_per_class=10",
    "dataset.workers=1",
    "trainer=smoke",
    "trainer.batch_size=8",
    "benchmark.latency_iters=20",
    "benchmark.throughput_batch=256",
    "benchmark.throughput_iters=2",
]


@pytest.fixture
def data_dir(jets_data_dir):
    return jets_data_dir


@pytest.mark.slow
def test_main_job_generates_trains_evaluates_and_writes_a_record(data_dir, tmp_path):
    run_dir = tmp_path / "run"
    done = run_cli([*TINY, f"hydra.run.dir={run_dir}"], data_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    record = read_record(run_dir / "record.json")
    assert record["benchmark"]["model"] == "mlp" and record["status"] == "success"
    assert record["dataset"]["splits"]["test"] == 10  # 20 % of 10 jets x 5 classes
    assert all(len(f["sha256"]) == 64 for f in record["dataset"]["files"])
    assert 0 <= record["quality"]["test"]["accuracy"] <= 1
    assert record["timing"]["inference"]["latency_batch_1"]["p50_ms"] > 0
    assert record["energy"]["reason"] == "no NVIDIA GPU: training on cpu"
    sweep = record["timing"]["inference"]["sweep_samples_per_s"]
    assert list(sweep) == ["16", "64", "256", "1024"] and min(sweep.values()) > 0
    assert "test accuracy" in done.stdout and str(run_dir / "record.json") in done.stdout


@pytest.mark.slow
def test_torchrun_with_two_processes_records_the_world_size(data_dir, tmp_path):
    """Scale-out through the same command: 2 ranks (gloo on CPU), one record from rank 0."""
    run_dir = tmp_path / "ddp"
    env = {
        **os.environ,
        "CERN_AI_BENCH_DATA": str(data_dir),
        "OMP_NUM_THREADS": "1",
        "HYDRA_FULL_ERROR": "0",
    }
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    done = subprocess.run(
        [*torchrun, "-m", "cern_ai_bench.cli", *TINY, f"hydra.run.dir={run_dir}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    record = read_record(run_dir / "record.json")
    assert record["status"] == "success"
    assert record["run"]["world_size"] == 2 and record["run"]["global_batch"] == 8


@pytest.mark.slow
def test_submitit_local_launcher_runs_two_ranks(data_dir, tmp_path):
    """The Slurm path without Slurm: ``hydra/launcher=local_ddp`` starts 2 submitit tasks,
    which take their ranks from submitit's environment and train as one DDP job."""
    sweep = tmp_path / "sweep"
    done = run_cli(["-m", "hydra/launcher=local_ddp", f"hydra.sweep.dir={sweep}", *TINY], data_dir)
    assert done.returncode == 0, done.stderr[-3000:]
    record = read_record(sweep / "0" / "record.json")
    assert record["status"] == "success"
    assert record["run"]["world_size"] == 2 and record["run"]["global_batch"] == 8
    logs = sorted((sweep / ".submitit").glob("*/*_log.out"))
    assert len(logs) == 2  # one per task; only rank 0 printed the summary
    assert sum("test accuracy" in p.read_text() for p in logs) == 1


def _run_in_process(overrides, run_dir, data_dir, monkeypatch):
    monkeypatch.setenv("CERN_AI_BENCH_DATA", str(data_dir))
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose("main", overrides=[*TINY, *overrides])
    return run_benchmark(cfg, run_dir)


@pytest.mark.slow
@pytest.mark.parametrize("model", ["pfn", "particle_transformer"])
def test_constituent_models_run_end_to_end(model, data_dir, tmp_path, monkeypatch):
    record = _run_in_process([f"model={model}"], tmp_path, data_dir, monkeypatch)
    assert record["benchmark"]["model"] == model
    assert read_record(tmp_path / "record.json")["model"]["parameters"] > 1000


@pytest.mark.slow
def test_gbt_baseline_is_recorded_beside_the_network(data_dir, tmp_path, monkeypatch):
    record = _run_in_process(["task.baselines=[gbt]"], tmp_path, data_dir, monkeypatch)
    assert "accuracy" in record["quality"]["baselines"]["gbt"]["test"]


def test_missing_public_data_is_a_clear_error_not_a_traceback(tmp_path):
    done = run_cli(
        ["dataset=hls4ml", "dataset.download=false", f"hydra.run.dir={tmp_path}"], tmp_path
    )
    assert done.returncode == 2
    assert "cern-ai-bench: error:" in done.stderr
    assert "zenodo.org" in done.stderr and str(tmp_path) in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_config_value_names_the_key(tmp_path):
    done = run_cli(["trainer.loader=turbo", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert done.returncode != 0
    assert "trainer.loader" in done.stderr and "resident" in done.stderr
    bad = run_cli(["trainer.batch_size=0", f"hydra.run.dir={tmp_path}"], tmp_path)
    assert bad.returncode == 2 and "trainer.batch_size=0 must be > 0" in bad.stderr


def test_help_lists_the_config_groups(tmp_path):
    done = run_cli(["--help"], tmp_path)
    assert done.returncode == 0
    for group in ("dataset:", "model:", "trainer:", "task:"):
        assert group in done.stdout
