"""Weakly supervised dijet anomaly detection: CWoLa (SR vs SB) beside the supervised reference.

The protocol (injection, signal region, sidebands, splits) is
:mod:`cern_ai_bench.tasks.anomaly_splits`; the network is
:class:`~cern_ai_bench.models.cwola.CWoLaClassifier` on the four features without mjj
(``mj_min, dmj, tau21_min, tau21_max``; CATHODE, arXiv:2109.00546).

- The engine trains the CWoLa classifier (:class:`DijetAnomalyTask`): labels 1 = signal region,
  0 = sidebands. Validation metric ``loss``: the class-weighted binary cross entropy of the
  same labels on the validation split, the only thing a search without truth can monitor
  (CATHODE selects its epochs on it). ``sr_vs_sb_auc`` is logged beside it.
- The test evaluation scores the held-out signal-region events and compares truth: ROC AUC and
  the SIC curve, max SIC with a minimum background count
  (:func:`~cern_ai_bench.tasks.anomaly_evaluation.dijet_report`). With
  ``task.anomaly.supervised`` the same network is trained with truth labels on the SR events
  (:class:`DijetClassifierTask`, through the same engine) and reported beside it; both SIC
  curves go into ``sic_curves.png`` in the run folder. The test ``loss`` is the CWoLa objective
  on the held-out SR and SB events, whose signal fraction is the dataset's, not the injected one.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig
from torch import nn

from cern_ai_bench.config import AnomalyConfig, TrainerConfig
from cern_ai_bench.data.anomaly_schema import DijetAnomalyDataset
from cern_ai_bench.metrics.anomaly import roc_auc
from cern_ai_bench.metrics.anomaly_plots import plot_sic_curves
from cern_ai_bench.models.builders import model_spec
from cern_ai_bench.tasks.anomaly_evaluation import dijet_report, repeat_summary
from cern_ai_bench.tasks.anomaly_repeats import (
    as_trainer_config,
    repeat_seeds,
    seeds_record,
    train_again,
)
from cern_ai_bench.tasks.anomaly_splits import LabelledSplit, cwola_splits
from cern_ai_bench.tasks.trigger import TaskError

__all__ = ["SIC_PLOT_NAME", "CWoLaScore", "DijetAnomalyTask", "DijetClassifierTask"]

log = logging.getLogger(__name__)

#: The SIC plot written to the run folder.
SIC_PLOT_NAME = "sic_curves.png"


def _inputs(split: LabelledSplit) -> torch.Tensor:
    """The classifier inputs: every feature but mjj (column 0), ``(n, 4)`` float32."""
    return torch.from_numpy(np.ascontiguousarray(split.features[:, 1:]))


class CWoLaScore(nn.Module):
    """``forward(features) = model.score(features)``: what inference timing calls."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.model.score(features)


class DijetClassifierTask:
    """One labelled dijet training set as the engine sees it (CWoLa labels or truth).

    Args:
        train, val: the labelled splits (``labels`` is what the classifier learns).
        model_name: a ``dijet_features`` model of the registry (``cwola``).
        device: where the validation events are kept and scored.
        eval_batch: events scored at once.
    """

    metric = "loss"
    higher_is_better = False

    def __init__(
        self,
        train: LabelledSplit,
        val: LabelledSplit,
        model_name: str,
        device: torch.device,
        eval_batch: int = 65536,
    ) -> None:
        self.spec = model_spec(model_name)
        if self.spec.inputs != "dijet_features":
            raise TaskError(
                f"model={model_name} does not read dijet features; use model=cwola with the "
                "dijet datasets"
            )
        self.device = device
        self.eval_batch = eval_batch
        self._train = (_inputs(train), torch.from_numpy(train.labels))
        self._val = (_inputs(val).to(device), torch.from_numpy(val.labels).to(device))

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        return self._train

    def build_model(self) -> nn.Module:
        model = self.spec.builder(n_features=self._train[0].shape[1])
        model.fit_preprocessing(*self._train)  # standardisation and balanced class weights
        return model

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        features, labels = batch
        return model(features, labels)

    @torch.no_grad()
    def scores(self, model: nn.Module, features: torch.Tensor) -> np.ndarray:
        """``(n,)`` float64 logits of ``features`` ``(n, 4)`` on the device."""
        was_training = model.training
        model.eval()
        parts = [
            model.score(features[lo : lo + self.eval_batch]).float()
            for lo in range(0, features.shape[0], self.eval_batch)
        ]
        model.train(was_training)
        return torch.cat(parts).double().cpu().numpy()  # host sync: evaluation only

    @torch.no_grad()
    def _loss_and_auc(self, model: nn.Module, features: torch.Tensor, labels: torch.Tensor):
        loss = float(model(features, labels))
        label = labels.cpu().numpy() > 0.5
        scores = self.scores(model, features)
        return loss, roc_auc(scores[~label], scores[label])

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        if split != "val":
            raise ValueError(f"this task evaluates the 'val' split only, got {split!r}")
        loss, auc = self._loss_and_auc(model, *self._val)
        return {"loss": loss, "label_auc": auc}

    def inference_module(self, model: nn.Module) -> nn.Module:
        return CWoLaScore(model)

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """The first ``batch_size`` validation events (repeated when fewer)."""
        features = self._val[0]
        index = torch.arange(batch_size, device=self.device) % features.shape[0]
        return (features[index],)


class DijetAnomalyTask(DijetClassifierTask):
    """CWoLa on one :class:`DijetAnomalyDataset` (see the module doc).

    Args:
        dataset: dijet features and truth labels.
        model_name: ``cwola``.
        device: where evaluation runs.
        settings: ``task.anomaly`` (signal region, sidebands, injection, supervised, repeats).
        test_fraction, val_fraction, split_seed: the split settings (``dataset.*``).
        trainer: the run's trainer settings, for the supervised reference and the repeats.
    """

    def __init__(
        self,
        dataset: DijetAnomalyDataset,
        model_name: str,
        device: torch.device,
        settings: AnomalyConfig,
        *,
        test_fraction: float,
        val_fraction: float,
        split_seed: int,
        trainer: TrainerConfig | DictConfig | None = None,
    ) -> None:
        width = settings.sideband_width_tev
        self.splits = cwola_splits(
            dataset,
            signal_fraction=float(settings.signal_fraction),
            signal_region=(
                float(settings.signal_region_tev[0]),
                float(settings.signal_region_tev[1]),
            ),
            sideband_width=None if width is None else float(width),
            test_fraction=test_fraction,
            val_fraction=val_fraction,
            seed=split_seed,
        )
        super().__init__(self.splits.cwola_train, self.splits.cwola_val, model_name, device)
        self.dataset = dataset
        self.model_name = model_name
        self.settings = settings
        self.trainer = as_trainer_config(trainer)
        test = self.splits.test
        self._test = (_inputs(test).to(device), torch.from_numpy(test.labels).to(device))
        sr = test.in_sr
        self._test_sr = {
            "background": _inputs(test.subset(sr & (test.truth == 0))).to(device),
            "signal": _inputs(test.subset(sr & (test.truth == 1))).to(device),
        }
        self.details: dict[str, Any] = {}
        #: The run folder: the SIC plot goes there.
        self.output_dir: Path | None = None
        log.info("CWoLa splits: %s", self.splits.summary)

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        if split == "val":
            loss, auc = self._loss_and_auc(model, *self._val)
            return {"loss": loss, "sr_vs_sb_auc": auc}
        if split == "test":
            return self._evaluate_test(model)
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")

    def _report(self, model: nn.Module, task: DijetClassifierTask):
        return dijet_report(
            task.scores(model, self._test_sr["background"]),
            task.scores(model, self._test_sr["signal"]),
            self.settings,
        )

    def _supervised_task(self) -> DijetClassifierTask:
        return DijetClassifierTask(
            self.splits.supervised_train, self.splits.supervised_val, self.model_name, self.device
        )

    def _evaluate_test(self, model: nn.Module) -> dict[str, float]:
        loss, _ = self._loss_and_auc(model, *self._test)
        reports, curves = {}, {}
        reports["cwola"], curves["CWoLa"] = self._report(model, self)
        supervised = self._supervised_task() if self.settings.supervised else None
        if supervised is not None:
            log.info("training the supervised reference (truth labels, signal region)")
            trained = train_again(supervised, self.trainer, int(self.trainer.seed), self.device)
            reports["supervised"], curves["supervised"] = self._report(trained, supervised)
        metrics = {"loss": loss, **_flat(reports)}
        self.details = {
            "kind": "dijet",
            "splits": self.splits.summary,
            "sic_min_background": int(self.settings.sic_min_background),
            "classifiers": reports,
        }
        if self.settings.repeats > 1:
            per_repeat = [_flat(reports, full=False)]
            for seed in repeat_seeds(self.trainer, self.settings.repeats):
                log.info("CWoLa repeat with seed %d", seed)
                cwola = train_again(self, self.trainer, seed, self.device)
                again = {"cwola": self._report(cwola, self)[0]}
                if supervised is not None:
                    sup = train_again(supervised, self.trainer, seed, self.device)
                    again["supervised"] = self._report(sup, supervised)[0]
                per_repeat.append(_flat(again, full=False))
            summary = repeat_summary(per_repeat)
            self.details["repeats"] = {
                **seeds_record(self.trainer, self.settings.repeats),
                "metrics": summary,
            }
            for key, stats in summary.items():
                metrics |= {f"{key}_median": stats["median"], f"{key}_p16": stats["p16"]}
                metrics[f"{key}_p84"] = stats["p84"]
        if self.output_dir is not None:
            title = (
                f"{self.dataset.name}: signal fraction {self.splits.summary['signal_fraction']:g}, "
                f"S/B in SR {self.splits.summary['s_over_b_sr'] or 0:.3g}"
            )
            path = plot_sic_curves(curves, self.output_dir / SIC_PLOT_NAME, title=title)
            self.details["plot"] = str(path)
        return metrics

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """The first ``batch_size`` held-out events (repeated when fewer)."""
        features = self._test[0]
        index = torch.arange(batch_size, device=self.device) % features.shape[0]
        return (features[index],)


def _flat(reports: dict[str, dict[str, Any]], *, full: bool = True) -> dict[str, float | None]:
    """``"<classifier>/auc"`` and ``"<classifier>/max_sic"`` (None without a SIC point); with
    ``full`` also the TPR and the background count at the max SIC."""
    flat: dict[str, float | None] = {}
    for name, report in reports.items():
        best = report["max_sic"] or {}
        flat[f"{name}/auc"] = report["auc"]
        flat[f"{name}/max_sic"] = best.get("value")
        if full:
            flat[f"{name}/max_sic_tpr"] = best.get("tpr")
            flat[f"{name}/max_sic_n_background"] = best.get("n_background_above")
    return flat
