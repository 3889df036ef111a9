"""Anomaly detection for new physics: L1 events -> autoencoder -> TPR at fixed background rate.

Two families, one task name (``task=anomaly``), chosen by the dataset:

- **L1 trigger** (:class:`L1AnomalyTask`, ``dataset=embedded_l1 | adc2021``, ``model=ae | vae``):
  the detector trains on background only (Govorkova et al., Nat. Mach. Intell. (2022),
  arXiv:2108.03986; the ADC2021 challenge, arXiv:2107.02157). The validation metric is
  ``bkg_loss``, the mean of the training objective on the background validation split,
  computed without sampling (AE: masked MSE; VAE: ``(1 - beta) MSE + beta KL`` decoding mu):
  with no signal in training or validation, it is what model selection can see. The test
  evaluation scores the independent background test events and every signal with each model
  score and with the standard-trigger quantities (HT, leading-object pT, MET) and reports them
  at the same FPRs and rates (:mod:`cern_ai_bench.tasks.anomaly_evaluation`).
- **Offline dijet** (:class:`~cern_ai_bench.tasks.anomaly_dijet.DijetAnomalyTask`,
  ``dataset=lhco_rnd | embedded_lhco``, ``model=cwola``): weakly supervised CWoLa.

:func:`build_anomaly_task` loads the dataset and returns the right task.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from torch import nn

from cern_ai_bench.config import AnomalyConfig, DatasetConfig, TaskConfig, TrainerConfig
from cern_ai_bench.data.anomaly_schema import L1AnomalyDataset
from cern_ai_bench.models.builders import model_spec
from cern_ai_bench.tasks.anomaly_evaluation import (
    baseline_reports,
    flat_metrics,
    l1_reports,
    repeat_summary,
)
from cern_ai_bench.tasks.anomaly_repeats import (
    as_trainer_config,
    repeat_seeds,
    seeds_record,
    train_again,
)
from cern_ai_bench.tasks.trigger import TaskError

__all__ = ["AnomalyScore", "L1AnomalyTask", "build_anomaly_task"]

log = logging.getLogger(__name__)


class AnomalyScore(nn.Module):
    """``forward(particles) = model.scores(particles)[score]``: what inference timing calls."""

    def __init__(self, model: nn.Module, score: str) -> None:
        super().__init__()
        self.model = model
        self.score = score

    def forward(self, particles: torch.Tensor) -> torch.Tensor:
        return self.model.scores(particles)[self.score]


class L1AnomalyTask:
    """Unsupervised anomaly detection on one :class:`L1AnomalyDataset`.

    Args:
        dataset: background train / val / test and test-only signals, ``(N, 19, 4)``.
        model_name: an ``l1_events`` model of the registry (``ae``, ``vae``).
        device: where the evaluation events are kept and scored.
        settings: working points, baselines and repeats (``task.anomaly``).
        trainer: the run's trainer settings, for the repeats (defaults when None).
        eval_batch: events scored at once.
    """

    metric = "bkg_loss"
    higher_is_better = False

    def __init__(
        self,
        dataset: L1AnomalyDataset,
        model_name: str,
        device: torch.device,
        settings: AnomalyConfig,
        *,
        trainer: TrainerConfig | DictConfig | None = None,
        eval_batch: int = 65536,
    ) -> None:
        self.spec = model_spec(model_name)
        if self.spec.inputs != "l1_events":
            raise TaskError(
                f"model={model_name} does not read L1 events; with dataset={dataset.name} use "
                "model=ae or model=vae"
            )
        self.dataset = dataset
        self.model_name = model_name
        self.device = device
        self.settings = settings
        self.trainer = as_trainer_config(trainer)
        self.eval_batch = eval_batch
        self._train = (torch.from_numpy(dataset.train),)
        # Evaluation events stay on the device for the whole run.
        self._val = torch.from_numpy(dataset.val).to(device)
        self._test = torch.from_numpy(dataset.test).to(device)
        self._signals = {
            name: torch.from_numpy(events).to(device) for name, events in dataset.signals.items()
        }
        self.score_names: tuple[str, ...] = tuple(self.spec.builder().score_names)
        #: The score that is the training objective without sampling (VAE: ``total``).
        self.objective = "total" if "total" in self.score_names else "mse"
        #: Details of the last test evaluation (reports per score and baseline, repeats).
        self.details: dict[str, Any] = {}
        self.output_dir: Path | None = None
        self._baselines: dict[str, Any] | None = None

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        return self._train

    def build_model(self) -> nn.Module:
        model = self.spec.builder()
        model.fit_preprocessing(self._train[0])  # on background training events only
        return model

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        return model(batch[0])

    @torch.no_grad()
    def scores(self, model: nn.Module, events: torch.Tensor) -> dict[str, np.ndarray]:
        """Every anomaly score of ``events`` as float64 NumPy, in eval mode (batch norm uses
        its running statistics, so a score does not depend on the rest of the batch)."""
        was_training = model.training
        model.eval()
        chunks: dict[str, list[torch.Tensor]] = {name: [] for name in self.score_names}
        for lo in range(0, events.shape[0], self.eval_batch):
            for name, values in model.scores(events[lo : lo + self.eval_batch]).items():
                chunks[name].append(values.float())
        model.train(was_training)
        # host sync: evaluation only
        return {name: torch.cat(parts).double().cpu().numpy() for name, parts in chunks.items()}

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        if split == "val":
            scores = self.scores(model, self._val)
            return {
                "bkg_loss": float(scores[self.objective].mean()),
                **{f"bkg_mean_{name}": float(v.mean()) for name, v in scores.items()},
            }
        if split == "test":
            return self._evaluate_test(model)
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")

    def _model_reports(self, model: nn.Module) -> tuple[float, dict[str, Any]]:
        background = self.scores(model, self._test)
        per_signal = {name: self.scores(model, events) for name, events in self._signals.items()}
        signals = {
            score: {name: per_signal[name][score] for name in per_signal}
            for score in self.score_names
        }
        loss = float(background[self.objective].mean())
        return loss, l1_reports(background, signals, self.settings)

    def _evaluate_test(self, model: nn.Module) -> dict[str, float]:
        fprs = list(self.settings.fprs)
        loss, reports = self._model_reports(model)
        if self._baselines is None:  # they depend on the events only
            self._baselines = baseline_reports(
                self.dataset.test, self.dataset.signals, self.settings
            )
        metrics = {"bkg_loss": loss, **flat_metrics(reports, fprs)}
        metrics |= flat_metrics(self._baselines, fprs)
        self.details = {
            "kind": "l1",
            "score_names": list(self.score_names),
            "objective": self.objective,
            "fprs": fprs,
            "n_background_test": len(self.dataset.test),
            "n_signal": {name: len(events) for name, events in self.dataset.signals.items()},
            "scores": reports,
            "trigger_baselines": self._baselines,
        }
        if self.settings.repeats > 1:
            per_repeat = [{"bkg_loss": loss, **flat_metrics(reports, fprs)}]
            for seed in repeat_seeds(self.trainer, self.settings.repeats):
                log.info("anomaly repeat with seed %d", seed)
                again = train_again(self, self.trainer, seed, self.device)
                loss_i, reports_i = self._model_reports(again)
                per_repeat.append({"bkg_loss": loss_i, **flat_metrics(reports_i, fprs)})
            self.details["repeats"] = {
                **seeds_record(self.trainer, self.settings.repeats),
                "metrics": repeat_summary(per_repeat),
            }
        return metrics

    def inference_module(self, model: nn.Module) -> nn.Module:
        """What inference timing calls: the training objective's score, per event."""
        return AnomalyScore(model, self.objective)

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """The first ``batch_size`` background test events (repeated when fewer)."""
        index = torch.arange(batch_size, device=self.device) % self._test.shape[0]
        return (self._test[index],)


def build_anomaly_task(
    task_cfg: TaskConfig,
    dataset_cfg: DatasetConfig,
    model_name: str,
    device: torch.device,
    *,
    progress: bool,
    trainer: TrainerConfig | DictConfig | None = None,
):
    """Load the anomaly dataset (generating or downloading it when needed) and build its task.

    Raises:
        TaskError: the model does not read the dataset's inputs.
        DataError: any problem with the data.
    """
    from cern_ai_bench.data.anomaly_registry import (
        get_anomaly_dataset_entry,
        load_anomaly_dataset,
    )

    entry = get_anomaly_dataset_entry(str(dataset_cfg.name))
    spec = model_spec(model_name)
    if spec.inputs != entry.inputs:  # before any file is read
        raise TaskError(
            f"model={model_name} reads {spec.inputs}, dataset={entry.name} provides {entry.inputs}"
        )
    dataset = load_anomaly_dataset(dataset_cfg, progress=progress)
    if isinstance(dataset, L1AnomalyDataset):
        return L1AnomalyTask(dataset, model_name, device, task_cfg.anomaly, trainer=trainer)
    from cern_ai_bench.tasks.anomaly_dijet import DijetAnomalyTask

    return DijetAnomalyTask(
        dataset,
        model_name,
        device,
        task_cfg.anomaly,
        test_fraction=float(dataset_cfg.test_fraction),
        val_fraction=float(dataset_cfg.val_fraction),
        split_seed=int(dataset_cfg.split_seed),
        trainer=trainer,
    )
