"""What the CaloChallenge DNN classifier sees and how it trains: its inputs, network and task.

The pieces of :func:`cern_ai_bench.metrics.showers.classifier.classifier_test` (the test protocol:
split, repeats, calibration, AUC and JSD) that define the network and feed the project's one
training loop, following ``evaluate.py`` (CaloChallenge/homepage, commit 9b41df7):

* inputs: ``low`` = ``[log10 E_inc, E_v / E_inc]`` per shower from thresholded voxels
  (``prepare_low_data_for_classifier``); ``high`` = the high-level feature vector
  (:func:`~cern_ai_bench.metrics.showers.hlf.cls_high_features`);
* network: in-2048-2048-2048-1 with LeakyReLU (slope 0.01), no dropout; BCE with logits;
* model selection: after every epoch the accuracy on the model-selection ("test") part is
  computed and the weights of the best epoch (strictly better than all earlier ones) are kept.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.metrics.showers.hlf import (
    apply_threshold,
    cls_high_features,
    high_level_features,
)

__all__ = [
    "ClassifierTask",
    "classifier_inputs",
    "classifier_logits",
    "classifier_net",
]

_MODES = ("low", "high")


def classifier_inputs(
    showers: np.ndarray, incident_energy: np.ndarray, geometry: CaloGeometry, mode: str
) -> np.ndarray:
    """The classifier input of ``evaluate.py`` for one sample, as float32.

    Args:
        showers: ``(N, V)`` voxel energies in MeV; the readout threshold is applied here (again),
            as ``prepare_low_data_for_classifier`` does.
        incident_energy: ``(N,)`` MeV.
        geometry: the dataset geometry.
        mode: ``low`` (``[log10 E_inc, E_v / E_inc]``, 1 + V columns) or ``high`` (the
            ``cls-high`` high-level feature vector).
    """
    if mode not in _MODES:
        raise ValueError(f"classifier mode must be one of {_MODES}, got {mode!r}")
    energy = np.asarray(incident_energy).reshape(-1, 1)
    if mode == "high":
        features = high_level_features(
            apply_threshold(showers, geometry), energy, geometry, keep_voxels=False
        )
        return cls_high_features(features).astype(np.float32)
    showers = np.asarray(showers)
    if showers.ndim != 2 or showers.shape != (len(energy), geometry.n_voxels):
        raise ValueError(
            f"showers: expected shape ({len(energy)}, {geometry.n_voxels}), got {showers.shape}"
        )
    out = np.empty((len(energy), 1 + showers.shape[1]), dtype=np.float32)
    out[:, 0] = np.log10(energy[:, 0])
    threshold = geometry.eval_threshold_mev
    step = max(1, (1 << 21) // showers.shape[1])
    for lo in range(0, len(energy), step):
        block = showers[lo : lo + step]
        out[lo : lo + step, 1:] = np.where(block < threshold, 0, block) / energy[lo : lo + step]
    return out


def classifier_net(n_inputs: int, width: int = 2048, depth: int = 3) -> nn.Sequential:
    """``n_inputs``-width x ``depth``-1 fully connected net with LeakyReLU (official ``DNN``
    with ``num_layer = depth - 1``, dropout 0); outputs one logit."""
    if depth < 1 or width < 1:
        raise ValueError(f"classifier needs depth >= 1 and width >= 1, got {depth}, {width}")
    layers: list[nn.Module] = []
    size = n_inputs
    for _ in range(depth):
        layers += [nn.Linear(size, width), nn.LeakyReLU()]
        size = width
    layers.append(nn.Linear(size, 1))
    return nn.Sequential(*layers)


def classifier_logits(model: nn.Module, x: torch.Tensor, batch: int) -> torch.Tensor:
    """Logits of ``x`` (on the model's device), in batches, as a flat float tensor."""
    with torch.no_grad():
        return torch.cat([model(x[lo : lo + batch]).reshape(-1) for lo in range(0, len(x), batch)])


class ClassifierTask:
    """One classifier training as a :class:`~cern_ai_bench.engine.protocol.Task`.

    The engine evaluates the task once per epoch on its ``"val"`` split, which here is the
    official *model-selection* set (``evaluate.py`` calls it "test"). Each evaluation computes
    the accuracy there and, when it beats every earlier epoch, keeps a copy of the weights:
    the official model selection (best test accuracy). :attr:`best_state` holds them.
    """

    metric = "test_accuracy"
    higher_is_better = True

    def __init__(
        self,
        train: tuple[np.ndarray, np.ndarray],
        test: tuple[np.ndarray, np.ndarray],
        *,
        width: int,
        depth: int,
        device: torch.device,
        eval_batch: int = 10000,
    ) -> None:
        self._train = (torch.from_numpy(train[0]), torch.from_numpy(train[1]))
        self._test_x = torch.from_numpy(test[0]).to(device)
        self._test_y = torch.from_numpy(test[1]).to(device)
        self.width = width
        self.depth = depth
        self.eval_batch = eval_batch
        self.loss_fn = nn.BCEWithLogitsLoss()
        self.best_accuracy = -math.inf
        self.best_epoch = 0
        self.epochs_seen = 0
        self.best_state: dict[str, torch.Tensor] | None = None

    @property
    def test_inputs(self) -> torch.Tensor:
        """Inputs of the model-selection set, on the device."""
        return self._test_x

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        return self._train

    def build_model(self) -> nn.Module:
        return classifier_net(self._train[0].shape[1], self.width, self.depth)

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, y = batch
        return self.loss_fn(model(x).reshape(-1), y)

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        """Accuracy on the model-selection set (``split`` is the engine's name for it)."""
        if split not in ("val", "test"):
            raise ValueError(f"split must be 'val' or 'test', got {split!r}")
        logits = classifier_logits(model, self._test_x, self.eval_batch).float()
        # evaluate.py: accuracy_score(target, np.round(sigmoid)); round-half-even like np.round.
        accuracy = float((torch.round(torch.sigmoid(logits)) == self._test_y).float().mean())
        bce = float(self.loss_fn(logits, self._test_y))
        self.epochs_seen += 1
        if split == "val" and accuracy > self.best_accuracy:
            self.best_accuracy = accuracy
            self.best_epoch = self.epochs_seen
            self.best_state = copy.deepcopy(model.state_dict())
        return {"test_accuracy": accuracy, "test_bce": bce}

    def inference_module(self, model: nn.Module) -> nn.Module:
        return model

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        index = torch.arange(batch_size, device=self._test_x.device) % len(self._test_x)
        return (self._test_x[index],)
