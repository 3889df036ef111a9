"""The contract between the engine and a use case.

The engine knows nothing about jets, showers or anomalies: it drives every task through this
small protocol, the way torchtune's recipes implement ``recipe_interfaces.py``.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn


class Task(Protocol):
    """A use case as the one training loop sees it."""

    #: Name of the validation metric the quality target refers to (a key of ``evaluate``'s dict).
    metric: str
    #: True when a larger ``metric`` is better (accuracy, AUC); False for losses and distances.
    higher_is_better: bool

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        """The training split as host tensors sharing their first (sample) dimension.

        The engine moves them to the device once (resident loader) or wraps them in a
        ``DataLoader`` (baseline loader); batches are tuples of the same tensors sliced by index.
        """
        ...

    def build_model(self) -> nn.Module:
        """A freshly initialised model sized from the data (call after the seed is set)."""
        ...

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Mean training loss of one batch (a scalar tensor; no host synchronisation)."""
        ...

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        """Metrics of ``model`` on the ``"val"`` or ``"test"`` split, as plain floats."""
        ...

    def inference_module(self, model: nn.Module) -> nn.Module:
        """The module inference timing calls on ``example_inputs`` (the model, or a wrapper
        such as shower generation from incident energies)."""
        ...

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        """Model inputs for ``batch_size`` real samples, for latency and throughput timing."""
        ...
