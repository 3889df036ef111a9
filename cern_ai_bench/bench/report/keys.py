"""What makes two records comparable: the system, the benchmark and the run configuration.

A *system* is the hardware and software that ran a record, independent of the host name, so
records from several jobs on the same kind of machine pool together. A *benchmark* is what was
trained and evaluated (task, model, dataset). A *run configuration* is how it was run; records
that share all three are repeats of one measurement and are aggregated.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Dataset names under which one generator writes several public geometries. The public copies
#: have one name per geometry (``calochallenge_ds1_photons``, ``calochallenge_ds2``), so the
#: geometry is part of the benchmark: its showers have different voxel counts.
_DATASET_VARIANT_KEYS: dict[str, str] = {"embedded_showers": "geometry"}

#: Resolved-config keys (and key prefixes) that do not change the workload: where the data live,
#: bookkeeping, the training seed (repeats differ in it), the timing protocol, and the settings
#: that :class:`RunConfig` holds in fields of its own. Every other config key is part of it.
_NOT_WORKLOAD = (
    "benchmark",
    "dataset.data_dir",
    "dataset.download",
    "dataset.workers",
    "trainer.seed",
    "trainer.progress",
    "trainer.resume",
    "trainer.checkpoint",
    "trainer.threads",
    "trainer.device",
    "trainer.window_steps",
    "trainer.warmup_windows",
    "trainer.precision",
    "trainer.compile",
    "trainer.loader",
    "trainer.batch_size",
)


@dataclass(frozen=True)
class SystemKey:
    """Hardware and software of a record's machine (the record's ``system`` block)."""

    cpu_model: str
    cpu_cores: int
    gpus: tuple[str, ...]  # one name per device: the count is len(gpus)
    torch: str
    cuda: str  # "" for a CPU-only build

    @property
    def name(self) -> str:
        """Short hardware name, e.g. ``1x NVIDIA H100 80GB HBM3`` or ``Intel Xeon, 2 cores``."""
        if self.gpus:
            names = sorted(set(self.gpus))
            if len(names) == 1:
                return f"{len(self.gpus)}x {names[0]}"
            return " + ".join(f"{self.gpus.count(n)}x {n}" for n in names)
        return f"{self.cpu_model}, {self.cpu_cores} cores"

    def sort_key(self) -> tuple[Any, ...]:
        """CPU-only systems first, then by GPU count, names and software."""
        return (len(self.gpus), self.gpus, self.cpu_model, self.cpu_cores, self.torch, self.cuda)


@dataclass(frozen=True)
class BenchmarkKey:
    """What was trained and evaluated."""

    task: str
    model: str
    dataset: str  # the dataset name, with its variant where one name covers several

    @property
    def title(self) -> str:
        return f"{self.task} / {self.model} / {self.dataset}"

    def sort_key(self) -> tuple[str, str, str]:
        return (self.task, self.model, self.dataset)


@dataclass(frozen=True)
class RunConfig:
    """How a benchmark was run. Records differing in any field are never averaged together."""

    device: str  # device type: cpu, cuda, ...
    threads: int | None  # torch threads; they set the speed of a CPU run
    precision: str
    compile: str
    loader: str
    global_batch: int | None
    world_size: int
    inference_batch: int
    quality_target: float | None
    data: str  # split sizes: the same dataset at another size is another measurement
    workload: str  # hash of the other workload settings (see workload_settings)

    @property
    def label(self) -> str:
        """e.g. ``cuda · bf16 · compile default · resident loader · batch 1024``."""
        parts = [self.device]
        if self.device == "cpu" and self.threads is not None:
            parts.append(f"{self.threads} thread{'s' if self.threads != 1 else ''}")
        if self.world_size != 1:
            parts.append(f"{self.world_size} ranks")
        parts.append(self.precision)
        parts.append("eager" if self.compile == "none" else f"compile {self.compile}")
        parts.append(f"{self.loader} loader")
        if self.global_batch is not None:
            parts.append(f"batch {self.global_batch}")
        if self.quality_target is not None:
            parts.append(f"target {self.quality_target:g}")
        return " · ".join(parts)

    def sort_key(self) -> tuple[Any, ...]:
        return (
            self.data,
            self.device,
            self.precision,
            self.compile,
            self.loader,
            self.global_batch or 0,
            self.threads or 0,
            self.world_size,
            self.inference_batch,
            self.quality_target or 0.0,
            self.workload,
        )


def system_key(record: Mapping[str, Any]) -> SystemKey:
    """The system of a (validated) record."""
    system = record["system"]
    gpus = tuple(str(g.get("name", "unknown GPU")) for g in system["gpus"])
    return SystemKey(
        cpu_model=system["cpu_model"],
        cpu_cores=system["cpu_logical_cores"],
        gpus=gpus,
        torch=system["torch"],
        cuda=system["cuda"] or "",
    )


def benchmark_key(record: Mapping[str, Any]) -> BenchmarkKey:
    """The benchmark of a (validated) record."""
    bench = record["benchmark"]
    dataset = bench["dataset"]
    variant_key = _DATASET_VARIANT_KEYS.get(dataset)
    variant = (record.get("config", {}).get("dataset") or {}).get(variant_key)
    if variant:
        dataset = f"{dataset} ({variant})"
    return BenchmarkKey(task=bench["task"], model=bench["model"], dataset=dataset)


def run_config(record: Mapping[str, Any]) -> RunConfig:
    """The run configuration of a (validated) record.

    Records written before a field was added lack it; those fields read as ``n/a`` or ``None``.
    """
    run = record["run"]
    return RunConfig(
        device=str(run["device"]).split(":")[0],  # cuda:0 and cuda:1 are the same kind of run
        threads=record["system"].get("torch_threads"),
        precision=run.get("precision", "n/a"),
        compile=run.get("compile", "n/a"),
        loader=run.get("loader", "n/a"),
        global_batch=run.get("global_batch"),
        world_size=run["world_size"],
        inference_batch=record["timing"]["inference"]["throughput_batch"],
        quality_target=record["benchmark"].get("quality_target"),
        data=data_label(record["dataset"]["splits"]),
        workload=_digest(workload_settings(record)),
    )


def workload_settings(record: Mapping[str, Any]) -> dict[str, str]:
    """The resolved config as ``dotted.key -> value`` (JSON text), less the non-workload keys.

    Two records with the same settings ran the same workload (they may differ in seed); a
    difference (e.g. ``task.anomaly.signal_fraction``) makes them separate measurements.
    """
    flat: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, Mapping) and node:
            for key, value in node.items():
                walk(value, f"{prefix}.{key}" if prefix else str(key))
        elif not any(prefix == k or prefix.startswith(k + ".") for k in _NOT_WORKLOAD):
            flat[prefix] = node if isinstance(node, str) else json.dumps(node, sort_keys=True)

    walk(record.get("config") or {}, "")
    flat.pop("", None)  # an empty config
    return flat


def _digest(settings: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:12]


def data_label(splits: Mapping[str, Any]) -> str:
    """``train 72,000 / test 20,000`` from the record's split sizes (``n/a`` when absent).

    Tasks without train/test splits (e.g. CWoLa's ``background`` and ``signal``) show all of theirs.
    """
    names = [n for n in ("train", "test") if n in splits] or list(splits)
    return " / ".join(f"{name} {splits[name]:,}" for name in names) or "n/a"
