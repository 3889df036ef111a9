"""Build the report's rows from records: systems, and per benchmark one row per configuration.

Repeated runs (records with the same benchmark, system and configuration) are aggregated with
the olympic mean for times and rates (MLPerf Training's rule), the plain mean for the quality
metric and the maximum for memory peaks; every row states its number of runs ``n``.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cern_ai_bench.bench.report.collect import (
    Collection,
    Group,
    Run,
    group_runs,
    olympic_mean,
    systems,
)
from cern_ai_bench.bench.report.keys import BenchmarkKey, SystemKey, system_key, workload_settings
from cern_ai_bench.bench.report.tables import BenchmarkTable, ConfigRow, Report, RunPoint, SystemRow


def build_report(collection: Collection) -> Report:
    """Systems, one table per benchmark, and the records they came from."""
    runs = tuple(sorted(collection.runs, key=lambda r: str(r.path)))
    ids = {key: f"S{i}" for i, key in enumerate(systems(runs), start=1)}
    system_rows = tuple(_system_row(ids[key], key, runs) for key in ids)
    by_benchmark: dict[BenchmarkKey, list[Group]] = {}
    metrics: dict[BenchmarkKey, list[str]] = {}
    for group in group_runs(runs):
        by_benchmark.setdefault(group.benchmark, []).append(group)
        for run in group.runs:
            name = run.record["benchmark"]["metric"]
            if name not in metrics.setdefault(group.benchmark, []):
                metrics[group.benchmark].append(name)
    tables = tuple(
        BenchmarkTable(
            key=key,
            metric=" / ".join(metrics[key]),
            rows=tuple(
                sorted(
                    (
                        _config_row(ids[g.system], g, variant)
                        for g, variant in zip(groups, _variants(groups), strict=True)
                    ),
                    key=_row_order,
                )
            ),
        )
        for key, groups in by_benchmark.items()
    )
    return Report(systems=system_rows, tables=tables, runs=runs, skipped=tuple(collection.skipped))


def _system_row(system_id: str, key: SystemKey, runs: Iterable[Run]) -> SystemRow:
    mine = [r.record["system"] for r in runs if system_key(r.record) == key]
    memory = sorted({s["memory_bytes"] / 2**30 for s in mine})
    drivers = sorted({s["gpu_driver"] for s in mine if s["gpu_driver"]})
    return SystemRow(system_id, key, tuple(memory), tuple(drivers), len(mine))


def _mean(values: Iterable[float | None], *, olympic: bool = True) -> float | None:
    kept = [float(v) for v in values if v is not None]
    if not kept:
        return None
    return olympic_mean(kept) if olympic else math.fsum(kept) / len(kept)


def _row_order(row: ConfigRow) -> tuple[Any, ...]:
    """By system, then configuration, then the differing settings (numbers by value)."""

    def natural(value: str) -> tuple[int, float, str]:
        try:
            return (0, float(value), "")
        except ValueError:
            return (1, 0.0, value)

    visible = dataclasses.replace(row.config, workload="")
    return (row.system.sort_key(), visible.sort_key(), [natural(v) for _, v in row.variant])


def _variants(groups: Sequence[Group]) -> list[tuple[tuple[str, str], ...]]:
    """For groups that would show the same system, configuration and data, the config keys
    whose values differ between them (e.g. ``task.anomaly.signal_fraction``); else ()."""
    look_alikes: dict[tuple[Any, ...], list[int]] = {}
    for index, group in enumerate(groups):
        visible = dataclasses.replace(group.config, workload="")
        look_alikes.setdefault((group.system, visible), []).append(index)
    variants: list[tuple[tuple[str, str], ...]] = [() for _ in groups]
    for indices in look_alikes.values():
        if len(indices) < 2:
            continue
        settings = [workload_settings(groups[i].runs[0].record) for i in indices]
        keys = sorted({k for s in settings for k in s})
        differing = [k for k in keys if len({s.get(k) for s in settings}) > 1]
        for index, setting in zip(indices, settings, strict=True):
            variants[index] = tuple((k, setting.get(k, "unset")) for k in differing)
    return variants


def _config_row(
    system_id: str, group: Group, variant: tuple[tuple[str, str], ...] = ()
) -> ConfigRow:
    records = [run.record for run in group.runs]
    timing = [r["timing"] for r in records]
    inference = [t["inference"] for t in timing]
    memory = [r["memory"] for r in records]
    metrics = [r["quality"]["test"].get(r["benchmark"]["metric"]) for r in records]
    throughputs = [t["train_throughput_samples_per_s"] for t in timing]
    ttt: float | None = None
    reached = sum(t["time_to_target_s"] is not None for t in timing)
    if group.config.quality_target is not None:
        # A run that missed the target counts as infinitely slow (MLPerf: one may be dropped).
        ttt = olympic_mean([_or_inf(t["time_to_target_s"]) for t in timing])
    statuses = Counter(r["status"] for r in records if r["status"] != "success")
    device_peaks = [m["peak_device_bytes"] for m in memory if m["peak_device_bytes"] is not None]
    sweeps = [_sweep(t) for t in timing]
    batches = sorted({b for sweep in sweeps for b in sweep})
    return ConfigRow(
        system_id=system_id,
        system=group.system,
        config=group.config,
        n=len(records),
        not_success=tuple(sorted(statuses.items())),
        metric=_mean(metrics, olympic=False),
        train_throughput=_mean(throughputs),
        train_iqr=_mean(t.get("train_throughput_iqr") for t in timing),
        latency_p50_ms=_mean(i["latency_batch_1"]["p50_ms"] for i in inference),
        latency_p99_ms=_mean(i["latency_batch_1"]["p99_ms"] for i in inference),
        inference_throughput=_mean(i["throughput_samples_per_s"] for i in inference),
        time_to_target_s=ttt,
        target_reached=reached,
        peak_device_bytes=max(device_peaks) if device_peaks else None,
        peak_host_bytes=max(m["peak_host_rss_bytes"] for m in memory),
        energy_j_per_sample=_mean(
            (r.get("energy") or {}).get("joules_per_sample") for r in records
        ),
        sweep=tuple((b, olympic_mean([s[b] for s in sweeps if b in s])) for b in batches),
        runs=tuple(
            RunPoint(run.path, m, t)
            for run, m, t in zip(group.runs, metrics, throughputs, strict=True)
        ),
        variant=variant,
    )


def _or_inf(value: float | None) -> float:
    return math.inf if value is None else float(value)


def _sweep(timing: Mapping[str, Any]) -> dict[int, float]:
    """Inference samples/s by batch size from what the record measured.

    Batch 1 is 1000 / p50 latency (ms); the large batch is the inference throughput; the
    sweep's batches (``timing.inference.sweep_samples_per_s``) are measured alone; fastsim
    records add their shower-generation timings (``timing.generation.model``) at other batches.
    """
    sweep: dict[int, float] = {}
    generation = (timing.get("generation") or {}).get("model") or {}
    for batch, entry in generation.items():
        if entry.get("ms_per_shower"):
            sweep[int(batch)] = 1e3 / entry["ms_per_shower"]
    inference = timing["inference"]
    if inference["latency_batch_1"]["p50_ms"] > 0:
        sweep[1] = 1e3 / inference["latency_batch_1"]["p50_ms"]
    for batch, rate in (inference.get("sweep_samples_per_s") or {}).items():
        sweep[int(batch)] = rate
    sweep[inference["throughput_batch"]] = inference["throughput_samples_per_s"]
    return dict(sorted(sweep.items()))
