"""Whether a record is a valid time-to-target run, and whether a set of runs makes a result.

The rules are MLPerf Training's (``mlcommons/training_policies``, ``training_rules.adoc``;
section names in quotes below) as far as a record can show them, with the aggregation limits of
``mlcommons/logging``'s ``result_summarizer.py``. Every check returns reasons, one string each
naming the record key and value at fault; an empty list means valid.

Not checked, because a record cannot show it: that caches were flushed before the run ("Data
State at Start of Run"), that the runs of a result are consecutive with none left out
("Scoring"), and convergence against the reference's epochs to target ("Reference Convergence
Points (RCPs)").
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from cern_ai_bench.bench.division import CLOSED, record_division

#: Runs per result: "Benchmark Results" asks for 10 for most current benchmarks (the counts are
#: in ``mlperf_logging/benchmark_meta.py``). Pass fewer for a quick look; the result then says
#: that it has too few runs.
MIN_RUNS = 10
#: Runs that may miss the target: "a single non-converging run may be treated as the slowest run
#: and dropped. A benchmark result is invalid if there is more than one" ("Benchmark Results").
MAX_NON_CONVERGED = 1
#: Seconds of slack when comparing a record's times with each other.
_TIME_SLACK_S = 1e-6


def convergence_problems(record: Mapping[str, Any]) -> list[str]:
    """Reasons the run did not reach its quality target (empty: it did, or it had no target).

    A run trains "from initialization to the quality target" ("Definitions"); a run stopped by
    its budget, or aborted, is a non-converging run.
    """
    bench = record["benchmark"]
    target = bench.get("quality_target")
    if target is None:
        return []  # not a time-to-target run at all: rule_problems says so
    if record["status"] == "aborted":
        return ["status is 'aborted': the run ended before reaching its quality target"]
    if record["status"] != "success" or not bench.get("target_reached"):
        return [
            f"quality target {bench['metric']} {_op(bench)} {target} not reached within the "
            f"budget (stop reason {bench.get('stop_reason')!r}{_best(record)})"
        ]
    if record["timing"].get("time_to_target_s") is None:
        return ["benchmark.target_reached is true but timing.time_to_target_s is null"]
    return []


def rule_problems(record: Mapping[str, Any], *, division: str | None = None) -> list[str]:
    """Reasons a run breaks a timing or evaluation rule, whether it converged or not.

    - It has a quality target ("Definitions": a run trains to the quality target).
    - Its clock never paused: a run resumed from a checkpoint is out ("Run Results": "The clock
      may not be paused during the run").
    - The target is checked on a held-out validation split ("Training and Test Sets").
    - Its time to target includes the on-clock setup, falls within the training it ran, and is
      the time of the first validation evaluation that met the target ("Run Results": the clock
      starts "before any part of the system touches the dataset" and "may be stopped as soon as
      any part of the system determines target accuracy has been reached"; "Quality measure").
    - With ``division="closed"``, the run is in the closed division ("Divisions";
      :mod:`cern_ai_bench.bench.division`).

    Args:
        record: a validated record.
        division: ``"closed"`` to require the closed division; None accepts either.
    """
    bench, run = record["benchmark"], record["run"]
    if bench.get("quality_target") is None:
        return ["benchmark.quality_target is null: not a time-to-target run"]
    problems = []
    if run.get("resumed_from_samples") is not None:
        problems.append(
            f"run.resumed_from_samples={run['resumed_from_samples']}: resumed from a "
            "checkpoint, so its clock paused; a timed run must be contiguous"
        )
    splits = record["dataset"]["splits"]
    if not splits.get("val"):
        problems.append(
            f"dataset.splits has no validation split ({splits}): the target must be checked "
            "on held-out data"
        )
    if record["timing"].get("time_to_target_s") is not None:
        problems += _time_to_target_problems(record)
    if division == CLOSED:
        found = record_division(record)
        if found.name != CLOSED:
            problems.append(
                f"benchmark.division is {found.name!r} ({'; '.join(found.changes)}): a closed "
                "result keeps the reference model, optimiser and quality target"
            )
    return problems


def run_problems(record: Mapping[str, Any], *, division: str | None = None) -> list[str]:
    """Every reason a record is not a valid time-to-target run (empty: valid)."""
    return convergence_problems(record) + rule_problems(record, division=division)


def set_problems(
    records: Sequence[Mapping[str, Any]],
    *,
    min_runs: int = MIN_RUNS,
    max_non_converged: int = MAX_NON_CONVERGED,
    division: str | None = None,
) -> list[str]:
    """Reasons a set of repeated runs (e.g. ``suite.seeds=N``) is not a valid result.

    Valid when all runs are of one benchmark on one kind of system ("System and framework must
    be consistent"), none is a copy of another, there are at least ``min_runs`` of them, at most
    ``max_non_converged`` missed the target, and none breaks a rule of :func:`rule_problems`
    (only a non-converging run may be dropped; "Benchmark Results").
    """
    if not records:
        return ["no runs"]
    problems = []
    for field, values in _identities(records).items():
        if len(set(values)) > 1:
            problems.append(f"runs mix {field}: {sorted(set(values), key=str)}")
    copies = [rid for rid, n in Counter(r["run_id"] for r in records).items() if n > 1]
    if copies:
        problems.append(f"run_id {', '.join(copies)} appears more than once (a copy is no repeat)")
    if len(records) < min_runs:
        problems.append(f"{len(records)} runs; a result needs at least {min_runs}")
    non_converged = 0
    for record in records:
        broken = rule_problems(record, division=division)
        problems += [f"run {record['run_id']}: {reason}" for reason in broken]
        non_converged += bool(not broken and convergence_problems(record))
    if non_converged > max_non_converged:
        problems.append(
            f"{non_converged} runs did not reach the target; at most {max_non_converged} may "
            "(dropped as the slowest)"
        )
    return problems


def benchmark_identity(record: Mapping[str, Any]) -> dict[str, Any]:
    """What repeated runs must share: the benchmark, its metric and target, the hardware."""
    bench, system = record["benchmark"], record["system"]
    return {
        "benchmark.name": bench["name"],
        "benchmark.task": bench["task"],
        "benchmark.model": bench["model"],
        "benchmark.dataset": bench["dataset"],
        "benchmark.metric": bench["metric"],
        "benchmark.quality_target": bench.get("quality_target"),
        "system.cpu_model": system["cpu_model"],
        "system.gpus": tuple(str(g.get("name", "unknown GPU")) for g in system["gpus"]),
    }


def _identities(records: Sequence[Mapping[str, Any]]) -> dict[str, list[Any]]:
    table: dict[str, list[Any]] = {}
    for record in records:
        for field, value in benchmark_identity(record).items():
            table.setdefault(field, []).append(value)
    return table


def _time_to_target_problems(record: Mapping[str, Any]) -> list[str]:
    """The time to target is on the clock, within the run, and backed by an evaluation."""
    timing, run = record["timing"], record["run"]
    ttt = timing["time_to_target_s"]
    if isinstance(ttt, bool) or not (
        isinstance(ttt, (int, float)) and math.isfinite(ttt) and ttt > 0
    ):
        return [f"timing.time_to_target_s={ttt!r} is not a positive number of seconds"]
    problems = []
    setup, train = timing.get("setup_s"), timing.get("train_time_s")
    if setup is not None and ttt + _TIME_SLACK_S < setup:
        problems.append(
            f"timing.time_to_target_s={ttt} is shorter than the on-clock setup "
            f"timing.setup_s={setup}: the clock starts before the data are touched"
        )
    if setup is not None and train is not None and ttt > setup + train + _TIME_SLACK_S:
        problems.append(
            f"timing.time_to_target_s={ttt} is after the end of training "
            f"(setup_s + train_time_s = {setup + train})"
        )
    samples, seen = timing.get("samples_to_target"), run.get("samples_seen")
    if samples is not None and seen is not None and samples > seen:
        problems.append(
            f"timing.samples_to_target={samples} exceeds the samples trained, "
            f"run.samples_seen={seen}"
        )
    return problems + _evaluation_problems(record, samples)


def _evaluation_problems(record: Mapping[str, Any], samples: int | None) -> list[str]:
    """The target was detected by a validation evaluation: the first one that met it."""
    bench = record["benchmark"]
    metric, target = bench["metric"], bench["quality_target"]
    history = record["quality"].get("val_history") or []
    higher = bench.get("higher_is_better")
    if higher is None:  # written before the field: check only that the evaluation exists
        if samples is not None and not any(e.get("samples") == samples for e in history):
            return [
                f"no evaluation at timing.samples_to_target={samples} in quality.val_history: "
                "the target must be detected by a validation evaluation"
            ]
        return []
    met = [e for e in history if _meets(e.get(metric), target, higher)]
    if not met:
        return [
            f"no evaluation in quality.val_history has {metric} {_op(bench)} {target}: the "
            "target must be detected by a validation evaluation"
        ]
    if samples is not None and met[0].get("samples") != samples:
        return [
            f"timing.samples_to_target={samples}, but the first validation evaluation that "
            f"meets the target is at {met[0].get('samples')} samples"
        ]
    return []


def _meets(value: Any, target: float, higher_is_better: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return value >= target if higher_is_better else value <= target


def _op(bench: Mapping[str, Any]) -> str:
    higher = bench.get("higher_is_better")
    return "reaching" if higher is None else (">=" if higher else "<=")


def _best(record: Mapping[str, Any]) -> str:
    """``, best validation value X`` when the record says which direction is better."""
    bench = record["benchmark"]
    higher = bench.get("higher_is_better")
    values = [
        e[bench["metric"]]
        for e in record["quality"].get("val_history") or []
        if isinstance(e.get(bench["metric"]), (int, float))
    ]
    if not values or higher is None:
        return ""
    return f", best validation value {max(values) if higher else min(values):.6g}"
