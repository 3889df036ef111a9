"""Benchmark suites: the shipped suite files, the command line, and a suite run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module

from cern_ai_bench.bench.suite import (
    SUITE_NAMES,
    Suite,
    is_suite_command,
    load_suite,
    parse_suite_args,
    run_suite,
)
from cern_ai_bench.config import ConfigError, register_configs, validate_config
from cern_ai_bench.data.errors import DataError

REPO = Path(__file__).resolve().parents[2]
RECORD = REPO / "benchmarks" / "reference" / "cpu-2core" / "trigger_pfn_embedded20k.json"


@pytest.mark.parametrize("name", SUITE_NAMES)
def test_every_benchmark_of_every_suite_is_a_valid_config(name: str) -> None:
    suite = load_suite(name)
    assert suite.name == name and suite.description and suite.benchmarks
    register_configs()
    for overrides in suite.benchmarks.values():
        with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
            cfg = compose("main", overrides=overrides)
        validate_config(cfg)


@pytest.mark.parametrize("name", ["quick", "throughput"])
def test_quick_and_throughput_cover_the_three_use_cases(name: str) -> None:
    tasks = {
        o.split("=")[1]
        for ov in load_suite(name).benchmarks.values()
        for o in ov
        if o.startswith("task=")
    }
    assert tasks == {"trigger", "fastsim", "anomaly"}


def test_throughput_has_no_quality_target() -> None:
    for overrides in load_suite("throughput").benchmarks.values():
        assert not any(o.startswith("trainer.target=") for o in overrides)
        assert any(o.startswith("trainer.max_steps=") for o in overrides)


def test_command_line_parsing() -> None:
    assert is_suite_command([]) and is_suite_command(["suite=full", "trainer.device=cuda"])
    assert not is_suite_command(["model=pfn"])
    assert parse_suite_args([]) == ("quick", 1, None, [])
    name, seeds, folder, common = parse_suite_args(
        ["suite=throughput", "suite.seeds=5", "hydra.run.dir=/x", "trainer.device=cuda"]
    )
    assert (name, seeds, folder, common) == ("throughput", 5, Path("/x"), ["trainer.device=cuda"])
    with pytest.raises(ConfigError, match=r"suite\.seeds must be an integer >= 1"):
        parse_suite_args(["suite.seeds=0"])
    with pytest.raises(ConfigError, match="Hydra flags"):
        parse_suite_args(["suite=quick", "--multirun"])
    with pytest.raises(ConfigError, match="not a suite"):
        load_suite("nightly")


def test_run_goes_on_after_a_failure_seeds_each_run_and_reuses_finished_ones(tmp_path) -> None:
    calls: list[tuple[list[str], Path]] = []

    def fake(overrides: list[str], run_dir: Path):
        calls.append((overrides, run_dir))
        if "model=broken" in overrides:
            raise DataError("no such file: /data/x.h5")
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(RECORD, run_dir / "record.json")
        return json.loads(RECORD.read_text())

    suite = Suite("t", "test", {"good": ["model=mlp"], "bad": ["model=broken"]})
    summary = run_suite(suite, tmp_path, ["trainer.device=cpu"], seeds=2, run_one=fake)
    assert [c[1] for c in calls] == [
        tmp_path / "good" / "seed_0",
        tmp_path / "good" / "seed_1",
        tmp_path / "bad" / "seed_0",
        tmp_path / "bad" / "seed_1",
    ]
    # The suite's overrides, then the seed, then the command line's (which win).
    assert calls[1][0] == ["model=mlp", "trainer.seed=1", "trainer.device=cpu"]
    status = [(r["benchmark"], r["status"]) for r in summary["runs"]]
    assert status == [("good", "success")] * 2 + [("bad", "failed")] * 2
    assert summary["runs"][2]["error"] == "no such file: /data/x.h5"
    assert json.loads((tmp_path / "suite.json").read_text()) == summary
    calls.clear()
    again = run_suite(suite, tmp_path, ["trainer.device=cpu"], seeds=2, run_one=fake)
    assert [c[1].parent.name for c in calls] == ["bad", "bad"]  # good ones reused
    assert [r.get("reused") for r in again["runs"][:2]] == [True, True]


#: Shrinks every benchmark of the quick suite (applied after the suite's own overrides).
TINY_QUICK = [
    "dataset.workers=1",
    "dataset.jets_per_class=10",
    "dataset.n_showers=400",
    "dataset.n_reference_showers=200",
    "dataset.n_background_train=240",
    "dataset.n_background_test=200",
    "dataset.n_signal_events=30",
    "trainer.max_epochs=2",
    "trainer.target=null",  # 40 jets decide nothing about a 60 % target
    "trainer.batch_size=8",
    "trainer.progress=false",
    "task.evaluation.val_showers=100",
    "task.evaluation.classifier_width=32",
    "task.evaluation.classifier_epochs=1",
    "task.evaluation.fpd_min_samples=100",
    "task.evaluation.fpd_max_samples=400",
    "task.evaluation.kpd_batch_size=100",
    "task.evaluation.generation_batches=[1,10,200]",
    "task.evaluation.plots=false",
    "benchmark.latency_iters=3",
    "benchmark.throughput_batch=100",
    "benchmark.throughput_iters=2",
]


@pytest.mark.slow
def test_the_quick_suite_writes_a_record_per_use_case_and_a_report(tmp_path, monkeypatch) -> None:
    """The default main job end to end, shrunk: three real runs, then the report."""
    from cern_ai_bench.bench.record import read_record

    monkeypatch.setenv("CERN_AI_BENCH_DATA", str(tmp_path / "data"))
    summary = run_suite(load_suite("quick"), tmp_path / "suite", TINY_QUICK)
    assert [r["status"] for r in summary["runs"]] == ["success"] * 3, summary["runs"]
    tasks = [read_record(r["record"])["benchmark"]["task"] for r in summary["runs"]]
    assert tasks == ["trigger", "fastsim", "anomaly"]
    report = Path(summary["report"]["html"]).read_text(encoding="utf-8")
    assert Path(summary["report"]["md"]).is_file()
    assert "trigger / mlp" in report and "anomaly / vae" in report and "fastsim / cvae" in report
