"""One benchmark run: data -> task -> engine -> test metrics -> timings -> record.

This module only orchestrates; training happens in :mod:`cern_ai_bench.engine`, metrics in
:mod:`cern_ai_bench.metrics`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import resource
import time
import uuid
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf

from cern_ai_bench.bench.division import division_of
from cern_ai_bench.bench.latency import latency_summary, throughput
from cern_ai_bench.bench.mllog import MLLOG_NAME, write_mllog
from cern_ai_bench.bench.record import RECORD_NAME, code_version, write_record
from cern_ai_bench.bench.system import system_info
from cern_ai_bench.config import BenchmarkConfig, MainConfig
from cern_ai_bench.engine import DistInfo, TrainResult, dist_info_from_env, init_distributed, train
from cern_ai_bench.engine.device import (
    autocast,
    reset_peak_device_memory,
    resolve_device,
    set_threads,
)
from cern_ai_bench.engine.distributed import barrier
from cern_ai_bench.models.builders import count_parameters
from cern_ai_bench.tasks import build_task, prepare_task_data
from cern_ai_bench.tasks.baselines import run_baselines

log = logging.getLogger(__name__)

#: Keys that do not change what is trained (a checkpoint stays valid across them).
_TRAINER_NOT_IN_HASH = (
    "progress",
    "resume",
    "checkpoint",
    "threads",
    "device",
    "window_steps",
    "warmup_windows",
    "energy_window_s",
)
_DATASET_NOT_IN_HASH = ("data_dir", "download", "workers")


def config_hash(cfg: DictConfig) -> str:
    """Short hash of everything that determines the trained weights."""
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    trainer = {k: v for k, v in resolved["trainer"].items() if k not in _TRAINER_NOT_IN_HASH}
    dataset = {k: v for k, v in resolved["dataset"].items() if k not in _DATASET_NOT_IN_HASH}
    material = {
        "task": resolved["task"],
        "dataset": dataset,
        "model": resolved["model"],
        "trainer": trainer,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def _peak_host_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _inference_timings(
    model, task, bench: BenchmarkConfig, device: torch.device, precision
) -> dict[str, Any]:
    """Latency at batch 1 and throughput at a large batch and over the batch-size sweep, eager,
    at the run's precision."""
    model = task.inference_module(model)  # what a user calls: the classifier, or generation
    with autocast(device, precision):
        latency = latency_summary(
            model,
            task.example_inputs(1),
            iters=bench.latency_iters,
            warmup=bench.latency_warmup,
            device=device,
        )
        rate = throughput(
            model,
            task.example_inputs(bench.throughput_batch),
            iters=bench.throughput_iters,
            warmup=2,
            device=device,
        )
        sweep = {
            str(batch): throughput(
                model,
                task.example_inputs(batch),
                iters=bench.throughput_iters,
                warmup=2,
                device=device,
            )
            for batch in sorted(set(bench.sweep_batches))
        }
    return {
        "latency_batch_1": latency,
        "throughput_batch": bench.throughput_batch,
        "throughput_samples_per_s": rate,
        "sweep_samples_per_s": sweep,  # batch size (JSON key) -> samples/s
        "precision": precision.value,
        "compiled": False,  # inference is timed on the eager module
    }


def _task_timings(model, task, device: torch.device, precision) -> dict[str, Any]:
    """Timings only some tasks define (fastsim: generation time per shower vs the simulator)."""
    extra = getattr(task, "extra_timings", None)
    if extra is None:
        return {}
    with autocast(device, precision):
        return extra(model)


def run_benchmark(
    cfg: DictConfig, run_dir: Path, dist_info: DistInfo | None = None
) -> dict[str, Any] | None:
    """Run the benchmark described by ``cfg``; rank 0 writes ``run_dir/record.json`` and
    ``run_dir/mllog.txt``.

    Data preparation (generation, download, extraction) is staging: it happens before the clock
    of the time to target starts, and is reported as ``timing.data_prepare_s``.

    Returns:
        The record on rank 0, None on the other ranks (which only train).
    """
    typed: MainConfig = cfg  # type: ignore[assignment]  # structured DictConfig
    dist_info = dist_info or dist_info_from_env()
    trainer = typed.trainer
    set_threads(trainer.threads)
    device = resolve_device(trainer.device, dist_info.local_rank)
    init_distributed(dist_info, device)
    progress = trainer.progress and dist_info.is_main
    reset_peak_device_memory(device)

    prepare_start = time.perf_counter()
    if dist_info.is_main:  # the other ranks wait until rank 0 has generated or downloaded the data
        prepare_task_data(typed.task.name, typed.dataset, progress=progress)
    barrier()
    data_prepare_s = time.perf_counter() - prepare_start

    clock_start = time.perf_counter()  # time to target starts at the first touch of the data
    task = build_task(
        typed.task,
        typed.dataset,
        typed.model.name,
        device,
        progress=progress,
        seed=trainer.seed,
        trainer=trainer,
    )
    if hasattr(task, "output_dir"):
        task.output_dir = run_dir  # tasks that write figures or samples put them in the run folder
    setup_s = time.perf_counter() - clock_start
    result = train(
        task,
        trainer,
        device=device,
        dist_info=dist_info,
        run_dir=run_dir,
        config_hash=config_hash(cfg),
        setup_s=setup_s,
    )
    if not dist_info.is_main:
        barrier()  # rank 0 evaluates, times and writes; the others wait to leave together
        return None
    model = result.model
    with torch.no_grad(), autocast(device, trainer.precision):  # as the validation evaluations
        test_metrics = task.evaluate(model, "test")
    record = _build_record(
        cfg,
        task=task,
        result=result,
        test_metrics=test_metrics,
        baselines=run_baselines(list(typed.task.baselines), task.dataset, seed=trainer.seed),
        inference=_inference_timings(model, task, typed.benchmark, device, trainer.precision),
        timing={
            "data_prepare_s": data_prepare_s,
            "setup_s": setup_s,
            **_task_timings(model, task, device, trainer.precision),
        },
        device=device,
        dist_info=dist_info,
    )
    path = write_run_files(run_dir, record)
    log.info("record written to %s", path)
    barrier()
    return record


def write_run_files(run_dir: Path, record: dict[str, Any]) -> Path:
    """Write ``record.json`` and, derived from it, ``mllog.txt`` (MLPerf log lines) into
    ``run_dir``, each atomically; return the record's path.

    The record comes first: it is validated on write, and a run folder whose log exists always
    has the record the log was made from.
    """
    path = write_record(run_dir / RECORD_NAME, record)
    write_mllog(run_dir / MLLOG_NAME, record)
    return path


def _build_record(
    cfg: DictConfig,
    *,
    task,
    result: TrainResult,
    test_metrics: dict[str, float],
    baselines: dict[str, Any],
    inference: dict[str, Any],
    timing: dict[str, float],
    device: torch.device,
    dist_info: DistInfo,
) -> dict[str, Any]:
    """Assemble the record (validated when written)."""
    typed: MainConfig = cfg  # type: ignore[assignment]
    trainer = typed.trainer
    progress_state = result.progress
    status = "success" if trainer.target is None or result.target_reached else "not_converged"
    config = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    division = division_of(config)  # type: ignore[arg-type]  # a mapping: the resolved config
    return {
        "schema_version": 1,
        "run_id": uuid.uuid4().hex,
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "status": status,
        "benchmark": {
            "name": typed.benchmark.name,
            "task": typed.task.name,
            "model": typed.model.name,
            "dataset": typed.dataset.name,
            "metric": task.metric,
            "quality_target": trainer.target,
            "higher_is_better": bool(task.higher_is_better),
            "target_reached": result.target_reached,
            "stop_reason": result.stop_reason,
            "division": division.name,  # closed: reference model, optimiser and target
            "division_changes": list(division.changes),
        },
        "config": config,
        "code": code_version(),
        "system": system_info(),
        "dataset": {
            "name": task.dataset.name,
            "class_names": list(task.dataset.class_names),
            "files": [vars(f) for f in task.dataset.files],
            "splits": task.dataset.split_sizes(),
        },
        "model": {"name": typed.model.name, "parameters": count_parameters(result.model)},
        "quality": {
            "test": test_metrics,
            "val_history": progress_state.history,
            "baselines": baselines,
            "details": getattr(task, "details", {}),  # per-feature values, repeats, plot files
        },
        "timing": {
            **timing,
            "time_to_target_s": progress_state.time_to_target_s,
            "samples_to_target": progress_state.samples_to_target,
            "train_time_s": progress_state.train_time_s,
            "first_step_s": result.first_step_s,
            "compile_s": result.compile_s,
            "train_throughput_samples_per_s": result.throughput["median"],
            "train_throughput_iqr": result.throughput["iqr"],
            "throughput_windows": result.throughput["windows"],
            "inference": inference,
        },
        "energy": result.energy,
        "memory": {
            "peak_host_rss_bytes": _peak_host_rss_bytes(),
            "peak_device_bytes": int(torch.cuda.max_memory_allocated(device))
            if device.type == "cuda"
            else None,
        },
        "seeds": {
            "trainer": trainer.seed,
            "split": typed.dataset.split_seed,
            "generator": typed.dataset.generator_seed,
        },
        "run": {
            "world_size": dist_info.world_size,
            "device": str(device),
            "loader": trainer.loader.value,
            "precision": trainer.precision.value,
            "compile": trainer.compile.name,
            "optimizer": result.optimizer,
            "global_batch": trainer.batch_size,
            "epochs": progress_state.epoch,
            "samples_seen": progress_state.samples_seen,
            "resumed_from_samples": result.resumed_from_samples,
        },
    }
