"""Aggregating repeated runs: the olympic mean, a summary with spread, and time to target.

MLPerf Training ("Benchmark Results", ``training_rules.adoc``): "Each benchmark result is
computed by dropping the fastest and slowest runs, then taking the mean of the remaining times.
For this purpose, a single non-converging run may be treated as the slowest run and dropped. A
benchmark result is invalid if there is more than one non-converging run." The arithmetic is
``_compute_olympic_average`` of ``mlcommons/logging``'s ``result_summarizer.py`` with one score
dropped per end; which runs count is :mod:`cern_ai_bench.bench.validity`'s.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cern_ai_bench.bench.division import CLOSED, OPEN, record_division
from cern_ai_bench.bench.validity import (
    MAX_NON_CONVERGED,
    MIN_RUNS,
    benchmark_identity,
    convergence_problems,
    rule_problems,
    set_problems,
)


def olympic_mean(values: Sequence[float], *, dropped_slowest: int = 0) -> float:
    """Mean after dropping the fastest and the slowest value (MLPerf's olympic mean).

    Exactly one value is dropped at each end, ties included. With fewer than 3 runs in all
    (``len(values) + dropped_slowest < 3``) nothing is dropped: the plain mean, which is
    infinite when a non-converging run is among them (it cannot be dropped).

    Args:
        values: one finite number per run (e.g. seconds to target).
        dropped_slowest: 1 when a non-converging run, not in ``values``, already takes the
            slowest place; then only the fastest value is dropped.

    Raises:
        ValueError: ``values`` is empty or holds a NaN or an infinity (a run without a value
            is a non-converging run: pass ``dropped_slowest`` instead), or ``dropped_slowest``
            is not 0 or 1.
    """
    if dropped_slowest not in (0, 1):
        raise ValueError(f"olympic_mean: dropped_slowest must be 0 or 1, got {dropped_slowest}")
    kept = _finite(values, "olympic_mean")
    if len(kept) + dropped_slowest < 3 and dropped_slowest:
        return math.inf  # the non-converging run stays in the mean: no result
    if len(kept) + dropped_slowest >= 3:
        kept = sorted(kept)[1 : len(kept) - (1 - dropped_slowest)]
    return math.fsum(kept) / len(kept)


def summarise_runs(values: Sequence[float], *, dropped_slowest: int = 0) -> dict[str, float | int]:
    """Olympic mean, median, central 68 % band (16th, 84th percentiles), min, max and n.

    Percentiles interpolate linearly between order statistics (``numpy.percentile``'s default),
    the band the project gives elsewhere for spreads over seeds
    (:func:`cern_ai_bench.metrics.anomaly_report.summarise_over_seeds`).

    Args:
        values: one finite number per run.
        dropped_slowest: passed to :func:`olympic_mean`; ``n`` counts ``values`` only.

    Raises:
        ValueError: as :func:`olympic_mean`.
    """
    mean = olympic_mean(values, dropped_slowest=dropped_slowest)
    kept = np.asarray(_finite(values, "summarise_runs"), dtype=np.float64)
    p16, median, p84 = np.percentile(kept, [16.0, 50.0, 84.0])
    return {
        "olympic_mean": mean,
        "median": float(median),
        "p16": float(p16),
        "p84": float(p84),
        "min": float(kept.min()),
        "max": float(kept.max()),
        "n": int(kept.size),
    }


@dataclass(frozen=True)
class TimeToTarget:
    """Time to target of repeated runs of one benchmark, and whether it is a valid result.

    Attributes:
        benchmark: what the runs share (:func:`~cern_ai_bench.bench.validity.benchmark_identity`).
        n_runs: records given.
        run_ids, times_s: the runs whose time counts, and their times to target (seconds).
        invalid: run id -> reasons, for every run whose time does not count.
        dropped_slowest: 1 when one non-converging run took the slowest place.
        olympic_mean_s: the olympic mean of ``times_s`` with ``dropped_slowest``; None when no
            time counts, or a non-converging run cannot be dropped (more than one, or fewer
            than 3 runs in all).
        spread: :func:`summarise_runs` of ``times_s`` (None without times).
        division: ``closed`` when every counted run is closed, else ``open``.
        problems: why the set is not a valid result (empty: valid).
    """

    benchmark: dict[str, Any]
    n_runs: int
    run_ids: tuple[str, ...]
    times_s: tuple[float, ...]
    invalid: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dropped_slowest: int = 0
    olympic_mean_s: float | None = None
    spread: dict[str, float | int] | None = None
    division: str = OPEN
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems


def aggregate_time_to_target(
    records: Sequence[Mapping[str, Any]],
    *,
    min_runs: int = MIN_RUNS,
    division: str | None = None,
) -> TimeToTarget:
    """Olympic mean time to target of repeated runs (validated records of one benchmark).

    A run counts when :func:`~cern_ai_bench.bench.validity.run_problems` finds nothing. A run
    that did not reach its target is reported in ``invalid`` and, if it is the only one, takes
    the slowest place (``dropped_slowest=1``); a run that breaks another rule is reported and
    makes the result invalid. The mean is computed whenever the olympic rule can place the
    runs; ``valid`` says whether the set is a result (:func:`~.validity.set_problems`).

    Args:
        records: the runs, e.g. the records of ``cern-ai-bench suite=... suite.seeds=N``.
        min_runs: runs a valid result needs.
        division: ``"closed"`` to count closed-division runs only.

    Raises:
        ValueError: no records, or records of different benchmarks or systems (the message
            names the first field that differs).
    """
    if not records:
        raise ValueError("aggregate_time_to_target needs at least one record")
    identity = benchmark_identity(records[0])
    for record in records[1:]:
        for key, value in benchmark_identity(record).items():
            if value != identity[key]:
                raise ValueError(
                    f"records of different benchmarks: {key} is {identity[key]!r} in run "
                    f"{records[0]['run_id']} but {value!r} in run {record['run_id']}"
                )
    run_ids: list[str] = []
    times: list[float] = []
    invalid: dict[str, tuple[str, ...]] = {}
    non_converged = 0
    for record in records:
        broken = rule_problems(record, division=division)
        missed = convergence_problems(record)
        if broken or missed:
            invalid[record["run_id"]] = tuple(missed + broken)
            non_converged += bool(missed and not broken)
            continue
        run_ids.append(record["run_id"])
        times.append(float(record["timing"]["time_to_target_s"]))
    dropped = min(non_converged, MAX_NON_CONVERGED)
    mean = None
    if times and non_converged <= MAX_NON_CONVERGED:
        mean = olympic_mean(times, dropped_slowest=dropped)
    placeable = mean is not None and math.isfinite(mean)
    counted = [r for r in records if r["run_id"] in set(run_ids)]
    closed = bool(counted) and all(record_division(r).name == CLOSED for r in counted)
    return TimeToTarget(
        benchmark=identity,
        n_runs=len(records),
        run_ids=tuple(run_ids),
        times_s=tuple(times),
        invalid=invalid,
        dropped_slowest=dropped,
        olympic_mean_s=mean if placeable else None,
        spread=summarise_runs(times, dropped_slowest=dropped) if placeable else None,
        division=CLOSED if closed else OPEN,
        problems=tuple(set_problems(records, min_runs=min_runs, division=division)),
    )


def _finite(values: Sequence[float], caller: str) -> list[float]:
    """``values`` as floats, or ValueError naming the first bad one."""
    out = [float(v) for v in values]
    if not out:
        raise ValueError(f"{caller} needs at least one value, got none")
    for index, value in enumerate(out):
        if not math.isfinite(value):
            raise ValueError(
                f"{caller}: value {value} at index {index} is not finite; a run without a time "
                "is a non-converging run (pass dropped_slowest=1), not an infinite time"
            )
    return out
