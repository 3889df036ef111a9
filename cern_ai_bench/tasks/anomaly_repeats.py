"""Extra trainings of the anomaly task (repeats over seeds, the supervised reference).

They run after the main training, inside the test evaluation, through the one training loop
(:func:`cern_ai_bench.engine.loop.train`) with the run's trainer settings except: no
checkpoints and no resume (they would overwrite the main run's checkpoint), no progress bar,
no ``torch.compile`` (its start-up would dominate these short trainings) and, where the
training set is smaller than ``trainer.batch_size``, one batch per epoch.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from cern_ai_bench.config import CompileMode, TrainerConfig

if TYPE_CHECKING:
    from cern_ai_bench.engine.protocol import Task

__all__ = ["as_trainer_config", "repeat_config", "repeat_seeds", "seeds_record", "train_again"]


def as_trainer_config(trainer: TrainerConfig | DictConfig | None) -> TrainerConfig:
    """The trainer settings as a plain :class:`TrainerConfig` (defaults when None)."""
    if trainer is None:
        return TrainerConfig()
    if isinstance(trainer, DictConfig):
        return OmegaConf.to_object(trainer)  # type: ignore[return-value]
    return trainer


def repeat_config(trainer: TrainerConfig, seed: int, n_train: int) -> TrainerConfig:
    """``trainer`` with ``seed`` for an extra training on ``n_train`` samples (module doc)."""
    return dataclasses.replace(
        trainer,
        seed=seed,
        batch_size=min(int(trainer.batch_size), n_train),
        checkpoint=False,
        resume=False,
        progress=False,
        compile=CompileMode["none"],
    )


def train_again(task: Task, trainer: TrainerConfig, seed: int, device: torch.device) -> nn.Module:
    """Train a fresh model of ``task`` with ``seed``; returns it in eval mode.

    Called from a test evaluation, which runs under ``torch.no_grad()`` and the run's autocast:
    gradients are switched back on, and autocast off so that the engine applies the trainer's
    precision itself.
    """
    from cern_ai_bench.engine.loop import train  # deferred: the engine sits above the tasks

    n_train = int(task.train_tensors()[0].shape[0])
    config = repeat_config(trainer, seed, n_train)
    with torch.enable_grad(), torch.autocast(device.type, enabled=False):
        result = train(task, config, device=device)
    return result.model.eval()


def repeat_seeds(trainer: TrainerConfig, repeats: int) -> list[int]:
    """Seeds of the extra repeats: ``trainer.seed + 1`` ... ``trainer.seed + repeats - 1``."""
    return [int(trainer.seed) + i for i in range(1, int(repeats))]


def seeds_record(trainer: TrainerConfig, repeats: int) -> dict[str, Any]:
    """The seeds of all trainings of the run, for the record's details."""
    return {"seeds": [int(trainer.seed), *repeat_seeds(trainer, repeats)]}
