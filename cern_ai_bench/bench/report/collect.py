"""Find result records, read them, and group repeated runs; the olympic mean that aggregates them.

Folders are searched recursively for ``*.json``. Not every JSON file there is a record
(ablation tables are lists, an export sidecar is an object of another kind): those are skipped
with a one-line warning. A file that looks like a record (an object with any of the record's
top-level identity keys) but does not validate is an error that names the file, so a broken
record never silently drops out of a comparison.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cern_ai_bench.bench import aggregate
from cern_ai_bench.bench.record import RecordError, validate_record
from cern_ai_bench.bench.report.keys import (
    BenchmarkKey,
    RunConfig,
    SystemKey,
    benchmark_key,
    run_config,
    system_key,
)

#: A JSON object holding any of these keys is taken to be meant as a result record.
_RECORD_MARKERS = frozenset({"schema_version", "run_id", "benchmark"})


class ReportError(ValueError):
    """The report cannot be built from the given paths; the message says why."""


@dataclass(frozen=True)
class Run:
    """One record and the file it came from."""

    path: Path
    record: dict[str, Any]


@dataclass
class Collection:
    """The records found, and one warning line per JSON file skipped."""

    runs: list[Run] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


@dataclass
class Group:
    """Repeated runs of one benchmark on one system in one configuration."""

    benchmark: BenchmarkKey
    system: SystemKey
    config: RunConfig
    runs: list[Run]


def find_json_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files given directly, plus ``*.json`` under each folder (recursively), each once."""
    found: list[Path] = []
    seen: set[Path] = set()
    for item in paths:
        path = Path(item)
        if path.is_dir():
            candidates = sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            candidates = [path]
        else:
            raise ReportError(f"{path} does not exist (expected a record file or a folder)")
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:  # a file named directly and inside a named folder
                seen.add(resolved)
                found.append(candidate)
    return found


def load_runs(paths: Iterable[str | Path]) -> Collection:
    """Read every record under ``paths``; skip non-records with a warning.

    Raises:
        ReportError: a path does not exist.
        RecordError: a file is not valid JSON, or looks like a record and fails validation.
    """
    collection = Collection()
    by_run_id: dict[str, Path] = {}
    for path in find_json_files(paths):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise RecordError(f"{path} is not valid JSON: {error}") from None
        except UnicodeDecodeError:
            raise RecordError(f"{path} is not a UTF-8 text file") from None
        if not isinstance(data, dict) or not _RECORD_MARKERS & data.keys():
            kind = "list" if isinstance(data, list) else type(data).__name__
            if isinstance(data, dict):
                kind = "object without schema_version, run_id or benchmark"
            collection.skipped.append(f"skipped {path}: not a result record (a JSON {kind})")
            continue
        try:
            validate_record(data)
        except RecordError as error:
            raise RecordError(
                f"{path} looks like a result record but is malformed: {error}"
            ) from None
        first = by_run_id.setdefault(data["run_id"], path)
        if first != path:  # a copy of a record must not count as a repeat
            collection.skipped.append(
                f"skipped {path}: same run_id {data['run_id']} as {first} (a copy of one run)"
            )
            continue
        collection.runs.append(Run(path=path, record=data))
    return collection


def olympic_mean(values: Sequence[float]) -> float:
    """:func:`cern_ai_bench.bench.aggregate.olympic_mean` over a report column, where a run that
    never reached its target appears as an infinite time.

    One infinite value among three or more is the dropped slowest run; otherwise any infinite
    value makes the result infinite, as MLPerf then rejects the result.

    Raises:
        ValueError: ``values`` is empty, or holds a NaN or a negative infinity.
    """
    if not values:
        raise ValueError("olympic_mean needs at least one value")
    if any(math.isnan(v) or v == -math.inf for v in values):
        raise ValueError(f"olympic_mean got NaN or -inf among {list(values)}")
    finite = [v for v in values if v != math.inf]
    missed = len(values) - len(finite)
    if missed > 1 or not finite:
        return math.inf
    return aggregate.olympic_mean(finite, dropped_slowest=missed)


def group_runs(runs: Iterable[Run]) -> list[Group]:
    """Runs grouped by (benchmark, system, configuration), in a stable order."""
    groups: dict[tuple[BenchmarkKey, SystemKey, RunConfig], list[Run]] = {}
    for run in runs:
        key = (benchmark_key(run.record), system_key(run.record), run_config(run.record))
        groups.setdefault(key, []).append(run)
    ordered = sorted(
        groups.items(),
        key=lambda item: (item[0][0].sort_key(), item[0][1].sort_key(), item[0][2].sort_key()),
    )
    return [
        Group(benchmark=b, system=s, config=c, runs=sorted(rs, key=lambda r: str(r.path)))
        for (b, s, c), rs in ordered
    ]


def systems(runs: Iterable[Run]) -> list[SystemKey]:
    """The distinct systems, CPU-only first (their order gives the ids S1, S2, ...)."""
    return sorted({system_key(run.record) for run in runs}, key=SystemKey.sort_key)
