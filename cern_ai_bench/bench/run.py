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

from cern_ai_bench.bench.latency import latency_summary, throughput
from cern_ai_bench.bench.record import RECORD_NAME, code_version, write_record
from cern_ai_bench.bench.system import system_info
from cern_ai_bench.config import MainConfig
from cern_ai_bench.engine import DistInfo, dist_info_from_env, init_distributed, train
from cern_ai_bench.engine.device import resolve_device, set_threads
from cern_ai_bench.engine.distributed import barrier
from cern_ai_bench.models.builders import count_parameters
from cern_ai_bench.tasks import build_task
from cern_ai_bench.tasks.baselines import run_baselines

log = logging.getLogger(__name__)

#: Trainer keys that do not change what is trained (a checkpoint stays valid across them).
_NOT_IN_HASH = ("progress", "resume", "checkpoint", "threads", "device")


def config_hash(cfg: DictConfig) -> str:
    """Short hash of everything that determines the trained weights."""
    resolved = OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)
    trainer = {k: v for k, v in resolved["trainer"].items() if k not in _NOT_IN_HASH}
    material = {
        "task": resolved["task"],
        "dataset": resolved["dataset"],
        "model": resolved["model"],
        "trainer": trainer,
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def _peak_host_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def run_benchmark(
    cfg: DictConfig, run_dir: Path, dist_info: DistInfo | None = None
) -> dict[str, Any]:
    """Run the benchmark described by ``cfg``; rank 0 writes ``run_dir/record.json``.

    Returns the record (on every rank).
    """
    typed: MainConfig = cfg  # type: ignore[assignment]  # structured DictConfig
    dist_info = dist_info or dist_info_from_env()
    trainer = typed.trainer
    set_threads(trainer.threads)
    device = resolve_device(trainer.device, dist_info.local_rank)
    init_distributed(dist_info, device)
    progress = trainer.progress and dist_info.is_main
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)

    clock_start = time.perf_counter()  # time to target starts at the first touch of the data
    if not dist_info.is_main:
        barrier()  # rank 0 generates or downloads the data first; the others then read it
    task = build_task(typed.task.name, typed.dataset, typed.model.name, device, progress=progress)
    if dist_info.is_main:
        barrier()
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
    model = result.model
    with torch.no_grad():
        test_metrics = task.evaluate(model, "test")
    baselines = run_baselines(list(typed.task.baselines), task.dataset, seed=trainer.seed)

    bench = typed.benchmark
    inference = {
        "latency_batch_1": latency_summary(
            model,
            task.example_inputs(1),
            iters=bench.latency_iters,
            warmup=bench.latency_warmup,
            device=device,
        ),
        "throughput_batch": bench.throughput_batch,
        "throughput_samples_per_s": throughput(
            model,
            task.example_inputs(bench.throughput_batch),
            iters=bench.throughput_iters,
            warmup=2,
            device=device,
        ),
    }
    progress_state = result.progress
    status = "success" if trainer.target is None or result.target_reached else "not_converged"
    record: dict[str, Any] = {
        "schema_version": 1,
        "run_id": uuid.uuid4().hex,
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "status": status,
        "benchmark": {
            "name": bench.name,
            "task": typed.task.name,
            "model": typed.model.name,
            "dataset": typed.dataset.name,
            "metric": task.metric,
            "quality_target": trainer.target,
            "target_reached": result.target_reached,
            "stop_reason": result.stop_reason,
        },
        "config": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),
        "code": code_version(),
        "system": system_info(),
        "dataset": {
            "name": task.dataset.name,
            "class_names": list(task.dataset.class_names),
            "files": [vars(f) for f in task.dataset.files],
            "splits": task.dataset.split_sizes(),
        },
        "model": {"name": typed.model.name, "parameters": count_parameters(model)},
        "quality": {
            "test": test_metrics,
            "val_history": progress_state.history,
            "baselines": baselines,
        },
        "timing": {
            "setup_s": setup_s,
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
    if dist_info.is_main:
        path = write_record(run_dir / RECORD_NAME, record)
        log.info("record written to %s", path)
    barrier()
    return record
