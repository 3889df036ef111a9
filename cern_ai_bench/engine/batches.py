"""Where training batches come from: resident tensors (default) or the DataLoader baseline.

Both sources follow the same sample order, a permutation drawn per epoch from
``(seed, epoch)``, so they give identical losses for a seed and a resumed run continues exactly
where the interrupted one stopped. Batches are static-shaped (the last partial batch is dropped)
so ``torch.compile`` and CUDA graphs see one shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset

from cern_ai_bench.config import ConfigError

Batch = tuple[torch.Tensor, ...]


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch (CPU int64), a pure function of ``(seed, epoch)``."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


class ResidentBatches:
    """The whole training split on the device; a batch is an index slice of the permutation.

    No per-sample Python, no collate and no host-to-device copy per step: one gather per tensor.
    """

    def __init__(
        self,
        tensors: Sequence[torch.Tensor],
        *,
        global_batch: int,
        device: torch.device,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.tensors = tuple(t.to(device) for t in tensors)
        self.device = device
        self.n = int(self.tensors[0].shape[0])
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.rank = rank
        self.seed = seed
        self.steps_per_epoch = self.n // global_batch

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        """Batches of ``epoch`` from step ``start_step`` on (for resume)."""
        perm = epoch_permutation(self.n, self.seed, epoch).to(self.device)
        for step in range(start_step, self.steps_per_epoch):
            lo = step * self.global_batch + self.rank * self.local_batch
            index = perm[lo : lo + self.local_batch]
            yield tuple(t[index] for t in self.tensors)


class _EpochOrderSampler(Sampler[int]):
    """Yields this rank's indices in the resident path's order, so both loaders match."""

    def __init__(self, source: ResidentBatches | DataLoaderBatches, epoch: int, start_step: int):
        self.source = source
        self.epoch = epoch
        self.start_step = start_step

    def __iter__(self) -> Iterator[int]:
        src = self.source
        perm = epoch_permutation(src.n, src.seed, self.epoch)
        for step in range(self.start_step, src.steps_per_epoch):
            lo = step * src.global_batch + src.rank * src.local_batch
            yield from perm[lo : lo + src.local_batch].tolist()

    def __len__(self) -> int:
        return (self.source.steps_per_epoch - self.start_step) * self.source.local_batch


class DataLoaderBatches:
    """Baseline: the plain ``DataLoader(TensorDataset)`` loop most hand-written code uses.

    Per-sample ``__getitem__`` and ``default_collate`` on the host, then a copy to the device for
    every batch. Kept to measure what the resident path saves.
    """

    def __init__(
        self,
        tensors: Sequence[torch.Tensor],
        *,
        global_batch: int,
        device: torch.device,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.dataset = TensorDataset(*(t.cpu() for t in tensors))
        self.device = device
        self.n = len(self.dataset)
        self.global_batch = global_batch
        self.local_batch = global_batch // world_size
        self.rank = rank
        self.seed = seed
        self.steps_per_epoch = self.n // global_batch

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        loader = DataLoader(
            self.dataset,
            batch_size=self.local_batch,
            sampler=_EpochOrderSampler(self, epoch, start_step),
            drop_last=True,
        )
        for batch in loader:
            yield tuple(t.to(self.device) for t in batch)


def make_batches(
    kind: str,
    tensors: Sequence[torch.Tensor],
    *,
    global_batch: int,
    device: torch.device,
    seed: int,
    rank: int = 0,
    world_size: int = 1,
) -> ResidentBatches | DataLoaderBatches:
    """Build the batch source named by ``trainer.loader``."""
    if global_batch % world_size:
        raise ConfigError(
            f"trainer.batch_size={global_batch} must be divisible by the world size {world_size}"
        )
    n = int(tensors[0].shape[0])
    if n < global_batch:
        raise ConfigError(
            f"trainer.batch_size={global_batch} is larger than the training split ({n} samples)"
        )
    cls = {"resident": ResidentBatches, "dataloader": DataLoaderBatches}[kind]
    return cls(
        tensors,
        global_batch=global_batch,
        device=device,
        seed=seed,
        rank=rank,
        world_size=world_size,
    )
