"""Use cases: the glue between a dataset, a model and its metrics, driven by the engine."""

from __future__ import annotations

import torch

from cern_ai_bench.config import DatasetConfig, TaskConfig, TrainerConfig

TASKS = ("trigger", "fastsim", "anomaly")


def prepare_task_data(task_name: str, dataset_cfg: DatasetConfig, *, progress: bool) -> None:
    """Make the task's data available locally (generate, download, extract), without loading it."""
    if task_name == "trigger":
        from cern_ai_bench.data.registry import prepare_jet_dataset

        prepare_jet_dataset(dataset_cfg, progress=progress)
        return
    if task_name == "fastsim":
        from cern_ai_bench.data.showers_registry import prepare_shower_dataset

        prepare_shower_dataset(dataset_cfg, progress=progress)
        return
    if task_name == "anomaly":
        from cern_ai_bench.data.anomaly_registry import prepare_anomaly_dataset

        prepare_anomaly_dataset(dataset_cfg, progress=progress)
        return
    raise ValueError(f"task.name: unknown task {task_name!r}; valid: {list(TASKS)}")


def build_task(
    task_cfg: TaskConfig,
    dataset_cfg: DatasetConfig,
    model_name: str,
    device: torch.device,
    *,
    progress: bool,
    seed: int = 0,
    trainer: TrainerConfig | None = None,
):
    """Load the task's data (generating or downloading it when needed) and return the task.

    ``trainer`` (the run's trainer settings) is used by tasks that train further models in
    their test evaluation through the same engine (task=anomaly: repeats, the supervised
    reference).
    """
    if task_cfg.name == "trigger":
        from cern_ai_bench.data.registry import load_jet_dataset
        from cern_ai_bench.tasks.trigger import TriggerTask

        dataset = load_jet_dataset(dataset_cfg, progress=progress)
        return TriggerTask(dataset, model_name, device)
    if task_cfg.name == "fastsim":
        from cern_ai_bench.data.showers_registry import load_shower_dataset
        from cern_ai_bench.tasks.fastsim import FastsimTask

        dataset = load_shower_dataset(dataset_cfg, progress=progress)
        return FastsimTask(dataset, model_name, device, task_cfg.evaluation, seed=seed)
    if task_cfg.name == "anomaly":
        from cern_ai_bench.tasks.anomaly import build_anomaly_task

        return build_anomaly_task(
            task_cfg, dataset_cfg, model_name, device, progress=progress, trainer=trainer
        )
    raise ValueError(f"task.name: unknown task {task_cfg.name!r}; valid: {list(TASKS)}")
