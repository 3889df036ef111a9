"""Input standardisation as part of the model, so saved and exported models take raw features.

The mean and standard deviation are fitted on the training split only (as the hls4ml tutorial's
``StandardScaler``) and stored as buffers, so they travel with the checkpoint.
"""

from __future__ import annotations

import torch
from torch import nn


class Standardize(nn.Module):
    """``(x - mean) / std`` per feature; features with zero spread are only shifted."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.detach().clone().float())
        self.register_buffer(
            "inv_std", 1.0 / torch.where(std > 0, std, torch.ones_like(std)).float()
        )

    @classmethod
    def fit(cls, x: torch.Tensor) -> Standardize:
        """Fit on ``x`` of shape (N, F) (the training split)."""
        return cls(x.double().mean(dim=0), x.double().std(dim=0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) * self.inv_std


class StandardizedModel(nn.Module):
    """A model whose first input is standardised before it is called."""

    def __init__(self, standardize: Standardize, model: nn.Module) -> None:
        super().__init__()
        self.standardize = standardize
        self.model = model

    def forward(self, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        return self.model(self.standardize(x), *rest)
