"""A tiny synthetic classification task implementing the engine's Task protocol."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class ToyTask:
    """Gaussian blobs in 8 dimensions, 3 classes; a small MLP separates them."""

    metric = "accuracy"
    higher_is_better = True

    def __init__(self, n: int = 512, seed: int = 0, dropout: float = 0.0) -> None:
        generator = torch.Generator().manual_seed(seed)
        self.centres = torch.randn(3, 8, generator=generator) * 2
        self.dropout = dropout
        self.splits = {}
        for name, size in (("train", n), ("val", n // 2), ("test", n // 2)):
            labels = torch.randint(0, 3, (size,), generator=generator)
            x = self.centres[labels] + torch.randn(size, 8, generator=generator)
            self.splits[name] = (x, labels)
        self.evaluations = 0

    def train_tensors(self) -> tuple[torch.Tensor, ...]:
        return self.splits["train"]

    def build_model(self) -> nn.Module:
        return nn.Sequential(
            nn.Linear(8, 16), nn.ReLU(), nn.Dropout(self.dropout), nn.Linear(16, 3)
        )

    def loss(self, model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
        x, y = batch
        return F.cross_entropy(model(x).float(), y)

    def evaluate(self, model: nn.Module, split: str) -> dict[str, float]:
        self.evaluations += 1
        x, y = self.splits[split]
        device = next(model.parameters()).device
        pred = model(x.to(device)).argmax(1).cpu()
        return {"accuracy": float((pred == y).float().mean())}

    def inference_module(self, model: nn.Module) -> nn.Module:
        return model

    def example_inputs(self, batch_size: int) -> tuple[torch.Tensor, ...]:
        return (self.splits["test"][0][:batch_size],)
