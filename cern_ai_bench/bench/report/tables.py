"""The report's rows as data, and the text of each cell, shared by the Markdown and HTML pages.

The rows are built from records by :mod:`cern_ai_bench.bench.report.aggregate`; numbers are kept
unformatted here so tests and plots use the values, and the pages use :meth:`cells`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from cern_ai_bench.bench.report.collect import Run
from cern_ai_bench.bench.report.keys import (
    BenchmarkKey,
    RunConfig,
    SystemKey,
    benchmark_key,
    system_key,
)

NONE = "—"  # no value: not measured or not applicable
SYSTEM_COLUMNS = (
    "system",
    "CPU",
    "logical cores",
    "host memory (GiB)",
    "GPUs",
    "GPU driver",
    "CUDA",
    "torch",
    "records",
)
RECORD_COLUMNS = ("file", "run id", "status", "timestamp", "benchmark", "system", "configuration")


@dataclass(frozen=True)
class SystemRow:
    """One machine kind, with the id (S1, S2, ...) the other tables use."""

    id: str
    key: SystemKey
    memory_gib: tuple[float, ...]  # distinct host memory sizes seen (VMs of one kind vary)
    drivers: tuple[str, ...]
    records: int

    def cells(self) -> list[str]:
        gpus = ", ".join(f"{self.key.gpus.count(n)}x {n}" for n in sorted(set(self.key.gpus)))
        return [
            f"{self.id}: {self.key.name}",
            self.key.cpu_model,
            str(self.key.cpu_cores),
            " / ".join(f"{m:.1f}" for m in self.memory_gib) or NONE,
            gpus or "none",
            ", ".join(self.drivers) or NONE,
            self.key.cuda or NONE,
            self.key.torch,
            str(self.records),
        ]


@dataclass(frozen=True)
class RunPoint:
    """One record's own numbers, for plots that show every run."""

    path: Path
    metric: float | None
    train_throughput: float | None


@dataclass(frozen=True)
class ConfigRow:
    """One (system, configuration) of a benchmark, aggregated over its ``n`` runs."""

    system_id: str
    system: SystemKey
    config: RunConfig
    n: int
    not_success: tuple[tuple[str, int], ...]  # (status, count) of runs not 'success'
    metric: float | None  # plain mean over runs
    train_throughput: float | None  # samples/s, olympic mean
    train_iqr: float | None  # IQR of the timed windows, olympic mean over runs
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    inference_throughput: float | None  # samples/s at config.inference_batch
    time_to_target_s: float | None  # None: no target; inf: not reached in too many runs
    target_reached: int  # runs that reached the target
    peak_device_bytes: int | None  # maximum over runs
    peak_host_bytes: int | None
    energy_j_per_sample: float | None  # GPU training energy (NVML), olympic mean over runs
    sweep: tuple[tuple[int, float], ...]  # (batch, inference samples/s), olympic mean per batch
    runs: tuple[RunPoint, ...]
    variant: tuple[tuple[str, str], ...] = ()  # config keys telling apart otherwise equal rows

    @property
    def configuration(self) -> str:
        """The configuration label, plus the settings that tell this row from a look-alike."""
        extra = ", ".join(f"{key}={value}" for key, value in self.variant)
        return f"{self.config.label} · {extra}" if extra else self.config.label

    def cells(self) -> list[str]:
        """The row's text, in the order of :func:`benchmark_columns`."""
        n = str(self.n) + "".join(f" ({c} {s})" for s, c in self.not_success)
        return [
            f"{self.system_id}: {self.system.name}",
            self.configuration,
            self.config.data,
            n,
            fmt_number(self.metric),
            fmt_rate(self.train_throughput),
            fmt_rate(self.train_iqr),
            fmt_number(self.latency_p50_ms),
            fmt_number(self.latency_p99_ms),
            fmt_rate(self.inference_throughput),
            str(self.config.inference_batch),
            self._ttt_cell(),
            fmt_mib(self.peak_device_bytes),
            fmt_mib(self.peak_host_bytes),
            fmt_number(self.energy_j_per_sample),
        ]

    def _ttt_cell(self) -> str:
        if self.time_to_target_s is None:
            return NONE
        if math.isinf(self.time_to_target_s):
            return f"not reached ({self.n - self.target_reached} of {self.n} runs)"
        return fmt_number(self.time_to_target_s)


@dataclass(frozen=True)
class BenchmarkTable:
    key: BenchmarkKey
    metric: str
    rows: tuple[ConfigRow, ...]

    @property
    def mixed_data(self) -> bool:
        """True when rows used different data sizes (their quality is not comparable)."""
        return len({row.config.data for row in self.rows}) > 1


@dataclass(frozen=True)
class Report:
    systems: tuple[SystemRow, ...]
    tables: tuple[BenchmarkTable, ...]
    runs: tuple[Run, ...]
    skipped: tuple[str, ...]

    @property
    def counts(self) -> str:
        """``23 records, 2 systems, 9 benchmarks`` (singular where one)."""
        parts = zip(
            (len(self.runs), len(self.systems), len(self.tables)),
            ("record", "system", "benchmark"),
            strict=True,
        )
        return ", ".join(f"{n} {word}{'' if n == 1 else 's'}" for n, word in parts)

    def system_id(self, key: SystemKey) -> str:
        return next(row.id for row in self.systems if row.key == key)

    def row_of(self, run: Run) -> ConfigRow:
        """The table row a record was aggregated into."""
        return next(
            row for t in self.tables for row in t.rows if any(p.path == run.path for p in row.runs)
        )


def benchmark_columns(metric: str) -> list[str]:
    return [
        "system",
        "configuration",
        "data",
        "n",
        f"test {metric}",
        "train samples/s",
        "train IQR",
        "latency p50 (ms)",
        "latency p99 (ms)",
        "inference samples/s",
        "inference batch",
        "time to target (s)",
        "peak device MiB",
        "peak host MiB",
        "GPU energy J/sample",
    ]


def record_cells(run: Run, report: Report) -> list[str]:
    """One line of the list of records used, in the order of ``RECORD_COLUMNS``."""
    record = run.record
    return [
        str(run.path),
        record["run_id"],
        record["status"],
        record["timestamp"],
        benchmark_key(record).title,
        report.system_id(system_key(record)),
        report.row_of(run).configuration,
    ]


def fmt_number(value: float | None) -> str:
    """Four significant digits (``0.6837``, ``97.85``)."""
    return NONE if value is None else f"{value:.4g}"


def fmt_rate(value: float | None) -> str:
    """Samples per second: whole numbers with thousands separators from 10,000 up."""
    if value is None:
        return NONE
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


def fmt_mib(value: int | None) -> str:
    return NONE if value is None else f"{value / 2**20:,.0f}"
