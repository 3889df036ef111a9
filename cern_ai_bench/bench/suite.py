"""Benchmark suites: several cern-ai-bench runs, one record each, and one report.

A suite is a YAML file in ``configs/suite/`` (``quick``, ``full``, ``throughput``): a name, a
description and, per benchmark, the Hydra overrides of one run. ``cern-ai-bench`` with no
arguments runs ``quick``; ``cern-ai-bench suite=NAME [overrides...]`` runs a suite with the
command line's overrides applied to every benchmark after the suite's own (so
``trainer.device=cuda`` moves the whole suite to a GPU). ``suite.seeds=N`` runs every benchmark
with trainer seeds 0 ... N-1 (``<name>/seed_<k>/``), for time to target with its spread.

Layout: ``<suite dir>/<benchmark>/record.json`` (or ``.../seed_<k>/record.json``), the suite's
``suite.json`` (what ran, status and record path of each run) and ``report/`` (Markdown and
HTML, :mod:`cern_ai_bench.bench.report`). The suite dir is ``hydra.run.dir=DIR`` when given, else
``$CERN_AI_BENCH_OUTPUTS/suite/<name>/<time>`` (``outputs/`` by default). A rerun with the same
``hydra.run.dir`` keeps the benchmarks that already have a finished record (``success``, or ``not_converged``
when the quality target was missed) and resumes the others from their checkpoints. A run that
fails (bad input) is listed in ``suite.json`` with its message and the suite goes on.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from cern_ai_bench.config import ConfigError

__all__ = [
    "SUITE_NAMES",
    "Suite",
    "is_suite_command",
    "load_suite",
    "parse_suite_args",
    "run_suite",
]

log = logging.getLogger(__name__)

#: The suites shipped in ``configs/suite/``.
SUITE_NAMES: tuple[str, ...] = ("quick", "full", "throughput")
#: The suite ``cern-ai-bench`` runs with no arguments.
DEFAULT_SUITE = "quick"
#: Record statuses of a finished run: trained and evaluated; ``not_converged`` = its quality
#: target was not reached within the budget (a valid record, no time to target).
FINISHED = ("success", "not_converged")


@dataclass(frozen=True)
class Suite:
    """A suite: its name, what it is for, and the overrides of each benchmark."""

    name: str
    description: str
    benchmarks: dict[str, list[str]]


def load_suite(name: str) -> Suite:
    """The suite ``configs/suite/<name>.yaml``.

    Raises:
        ConfigError: no such suite, or a malformed file (the message says which).
    """
    if name not in SUITE_NAMES:
        raise ConfigError(f"suite={name!r} is not a suite; choose one of {', '.join(SUITE_NAMES)}")
    path = resources.files("cern_ai_bench.configs") / "suite" / f"{name}.yaml"
    raw = OmegaConf.to_container(OmegaConf.create(path.read_text(encoding="utf-8")))
    benchmarks = raw.get("benchmarks") if isinstance(raw, dict) else None
    if not isinstance(benchmarks, dict) or not benchmarks:
        raise ConfigError(f"configs/suite/{name}.yaml: expected a non-empty 'benchmarks' map")
    for key, overrides in benchmarks.items():
        if not isinstance(overrides, list) or not all(isinstance(o, str) for o in overrides):
            raise ConfigError(f"configs/suite/{name}.yaml: {key} must be a list of overrides")
    return Suite(name, str(raw.get("description", "")), dict(benchmarks))


def is_suite_command(args: Sequence[str]) -> bool:
    """True when the command line asks for a suite: no arguments, or a ``suite=`` override."""
    return not args or any(a.startswith("suite=") for a in args)


def parse_suite_args(args: Sequence[str]) -> tuple[str, int, Path | None, list[str]]:
    """``(suite name, seeds, suite dir or None, overrides for every benchmark)``.

    Raises:
        ConfigError: a bad ``suite.seeds`` or a Hydra flag that makes no sense for a suite.
    """
    name, seeds, folder, common = DEFAULT_SUITE, 1, None, []
    for arg in args:
        key, _, value = arg.partition("=")
        if key == "suite":
            name = value
        elif key == "suite.seeds":
            if not value.isdigit() or int(value) < 1:
                raise ConfigError(f"suite.seeds must be an integer >= 1, got {value!r}")
            seeds = int(value)
        elif key == "hydra.run.dir":
            folder = Path(value)
        elif arg.startswith("-"):
            raise ConfigError(
                f"{arg}: Hydra flags (--cfg, --multirun, ...) apply to single runs, not to "
                "suites; run one benchmark of the suite with its overrides instead"
            )
        else:
            common.append(arg)
    return name, seeds, folder, common


def run_suite(
    suite: Suite,
    folder: Path,
    common: Sequence[str],
    *,
    seeds: int = 1,
    run_one: Callable[[list[str], Path], dict[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """Run every benchmark of ``suite`` (and seed), then the report; return ``suite.json``.

    A failing benchmark (bad input: missing data, bad value) is recorded with its message and
    the suite goes on with the next one.

    Args:
        suite: what to run.
        folder: the suite dir.
        common: overrides applied to every benchmark after the suite's.
        seeds: runs per benchmark, with ``trainer.seed`` 0 ... seeds - 1.
        run_one: ``(overrides, run_dir) -> record`` (default: compose the config and call
            :func:`cern_ai_bench.bench.run.run_benchmark`); a seam for tests.
    """
    from cern_ai_bench.data.files import atomic_write_text

    run_one = run_one or _run_one
    folder.mkdir(parents=True, exist_ok=True)
    runs = []
    for name, overrides in suite.benchmarks.items():
        for seed in range(seeds):
            run_dir = folder / name if seeds == 1 else folder / name / f"seed_{seed}"
            seeded = [f"trainer.seed={seed}"] if seeds > 1 else []
            runs.append(_run_benchmark(name, [*overrides, *seeded, *common], run_dir, run_one))
    summary = {
        "suite": suite.name,
        "description": suite.description,
        "seeds": seeds,
        "common_overrides": list(common),
        "runs": runs,
    }
    records = [Path(r["record"]) for r in runs if "record" in r]
    if seeds > 1:
        summary["time_to_target"] = _times_to_target(runs, seeds)
    summary["report"] = _report(records, folder / "report")
    atomic_write_text(folder / "suite.json", json.dumps(summary, indent=2) + "\n")
    return summary


def default_suite_dir(name: str) -> Path:
    """``$CERN_AI_BENCH_OUTPUTS/suite/<name>/<local time>`` (``outputs/`` by default)."""
    root = Path(os.environ.get("CERN_AI_BENCH_OUTPUTS", "outputs"))
    return root / "suite" / name / time.strftime("%Y-%m-%d_%H-%M-%S")


def _run_benchmark(
    name: str, overrides: list[str], run_dir: Path, run_one: Callable[..., Any]
) -> dict[str, Any]:
    from cern_ai_bench.bench.record import read_record
    from cern_ai_bench.cli import user_errors

    entry: dict[str, Any] = {"benchmark": name, "overrides": overrides, "run_dir": str(run_dir)}
    record_path = run_dir / "record.json"
    if record_path.is_file():  # a rerun of the same suite dir: keep what finished
        try:
            status = read_record(record_path).get("status")
            if status in FINISHED:
                log.info("suite: %s already done (%s)", name, record_path)
                return {**entry, "status": status, "record": str(record_path), "reused": True}
        except user_errors():
            pass  # unreadable: run it again
    log.info("suite: running %s: %s", name, " ".join(overrides))
    start = time.perf_counter()
    try:
        record = run_one(overrides, run_dir)
    except user_errors() as error:
        log.error("suite: %s failed: %s", name, error)
        return {**entry, "status": "failed", "error": str(error)}
    entry["wall_s"] = round(time.perf_counter() - start, 3)
    if record is None:  # not rank 0
        return {**entry, "status": "success", "record": str(record_path)}
    return {**entry, "status": str(record.get("status", "success")), "record": str(record_path)}


def _run_one(overrides: list[str], run_dir: Path) -> dict[str, Any] | None:
    """Compose the main config with ``overrides`` and run it into ``run_dir``."""
    import sys

    from hydra import compose, initialize_config_module

    from cern_ai_bench.bench.run import run_benchmark
    from cern_ai_bench.bench.summary import format_summary
    from cern_ai_bench.config import register_configs, validate_config

    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose("main", overrides=overrides)
    validate_config(cfg)
    record = run_benchmark(cfg, run_dir)
    if record is not None:
        sys.stdout.write(format_summary(record, run_dir) + "\n")
    return record


def _times_to_target(runs: list[dict[str, Any]], seeds: int) -> dict[str, Any]:
    """Per benchmark with a quality target: the olympic mean time to target over its seeds,
    its spread, the runs that do not count and why (:mod:`cern_ai_bench.bench.aggregate`)."""
    from cern_ai_bench.bench.aggregate import aggregate_time_to_target
    from cern_ai_bench.bench.record import read_record

    by_benchmark: dict[str, list[dict[str, Any]]] = {}
    for run in runs:
        if "record" in run:
            by_benchmark.setdefault(run["benchmark"], []).append(read_record(run["record"]))
    result = {}
    for name, records in by_benchmark.items():
        if records[0]["benchmark"].get("quality_target") is None:
            continue
        ttt = aggregate_time_to_target(records, min_runs=seeds)
        result[name] = {
            "n_runs": ttt.n_runs,
            "olympic_mean_s": ttt.olympic_mean_s,
            "spread": ttt.spread,
            "times_s": list(ttt.times_s),
            "invalid": {k: list(v) for k, v in ttt.invalid.items()},
            "division": ttt.division,
            "problems": list(ttt.problems),
        }
    return result


def _report(records: list[Path], out: Path) -> dict[str, str] | None:
    """Render the report of the suite's records into ``out`` (None when no run succeeded)."""
    if not records:
        return None
    from cern_ai_bench.bench.report.aggregate import build_report
    from cern_ai_bench.bench.report.collect import load_runs
    from cern_ai_bench.bench.report.plots import make_plots
    from cern_ai_bench.bench.report.render import write_report

    report = build_report(load_runs(records))
    written = write_report(report, make_plots(report), out)
    return {path.suffix.lstrip("."): str(path) for path in written if path.suffix != ".png"}
