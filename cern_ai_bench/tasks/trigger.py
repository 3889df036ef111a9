"""Trigger-level jet classification: jets -> model -> cross-entropy -> classification metrics.

The task owns the glue only: which canonical arrays a model needs (the 16 high-level features
or the constituents), standardisation fitted on the training split, the loss, and batched
evaluation on the device. Data come from the loaders, models from the model registry.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cern_ai_bench.data.schema import JetArrays, JetDataset
from cern_ai_bench.metrics.classification import classification_report
from cern_ai_bench.models.builders import build_model, model_spec
from cern_ai_bench.models.standardize import Standardize, StandardizedModel


class TaskError(ValueError):
    """The task cannot run with this combination of dataset and model."""


class TriggerTask:
    """Jet tagging on one :class:`~cern_ai_bench.data.schema.JetDataset`.

    Args:
        dataset: the jets in the canonical schema.
        model_name: a name in the model registry (``mlp``, ``pfn``, ``particle_transformer``).
        device: where the evaluation splits are kept and evaluated.
        eval_batch: batch size of evaluation (large: evaluation is inference only).
    """

    metric = "accuracy"
    higher_is_better = True

    def __init__(
        self, dataset: JetDataset, model_name: str, device: torch.device, eval_batch: int = 2048
    ) -> None:
        self.dataset = dataset
        self.model_name = model_name
        self.spec = model_spec(model_name)
        self.device = device
        self.eval_batch = eval_batch
        if self.spec.inputs == "hlf" and not dataset.has_hlf:
            raise TaskError(
                f"model={model_name} reads the 16 high-level features, which dataset "
                f"{dataset.name} does not provide; use a constituent model (model=pfn or "
                "model=particle_transformer)"
            )
        if self.spec.inputs == "constituents" and not dataset.has_constituents:
            raise TaskError(
                f"model={model_name} reads jet constituents, which dataset {dataset.name} does "
                "not provide (it has the 16 high-level features only); use model=mlp"
            )
        self._train = self._tensors(dataset.train)
        # Evaluation splits stay on the device for the whole run.
        self._eval = {
            "val": tuple(t.to(device) for t in self._tensors(dataset.val)),
            "test": tuple(t.to(device) for t in self._tensors(dataset.test)),
        }

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.dataset.class_names

    def _tensors(self, split: JetArrays) -> tuple[torch.Tensor, ...]:
        """(inputs..., labels) of a split as host tensors in the model's input order."""
        labels = torch.from_numpy(split.labels)
        if self.spec.inputs == "hlf":
            return torch.from_numpy(split.hlf), labels
        return torch.from_numpy(split.constituents), torch.from_numpy(split.mask), labels

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        return self._train

    def build_model(self) -> nn.Module:
        train = self.dataset.train
        model = build_model(
            self.model_name,
            n_features=None if train.hlf is None else train.hlf.shape[1],
            n_constituents=None if train.constituents is None else train.constituents.shape[1],
            n_classes=len(self.class_names),
        )
        if self.spec.inputs == "hlf":
            return StandardizedModel(Standardize.fit(self._train[0]), model)
        return model

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        *inputs, labels = batch
        return F.cross_entropy(model(*inputs).float(), labels)

    @torch.no_grad()
    def predict(self, model: nn.Module, split: str) -> np.ndarray:
        """Class probabilities (N, C) of ``split`` as float64 NumPy."""
        *inputs, _ = self._eval[split]
        chunks = []
        for lo in range(0, inputs[0].shape[0], self.eval_batch):
            logits = model(*(t[lo : lo + self.eval_batch] for t in inputs))
            chunks.append(torch.softmax(logits.float(), dim=1))
        return torch.cat(chunks).double().cpu().numpy()  # host sync: evaluation only

    def labels(self, split: str) -> np.ndarray:
        return self._eval[split][-1].cpu().numpy()

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        return classification_report(
            self.predict(model, split), self.labels(split), self.class_names
        )

    def inference_module(self, model: nn.Module) -> nn.Module:
        """What inference timing calls: the classifier itself."""
        return model

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """The first ``batch_size`` test jets (repeated when the split is smaller)."""
        *inputs, _ = self._eval["test"]
        n = inputs[0].shape[0]
        index = torch.arange(batch_size, device=self.device) % n
        return tuple(t[index] for t in inputs)
