"""Where training batches come from: resident tensors (default) or the DataLoader baseline.

Both sources follow the same sample order, a permutation drawn per epoch from
``(seed, epoch)``, so they give identical losses for a seed and a resumed run continues exactly
where the interrupted one stopped. Batches are static-shaped (the last partial batch is dropped)
so ``torch.compile`` and CUDA graphs see one shape.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import DataLoader, Sampler, TensorDataset

from cern_ai_bench.config import ConfigError

Batch = tuple[torch.Tensor, ...]


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of one epoch (CPU int64), a pure function of ``(seed, epoch)``."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=generator)


@dataclass(frozen=True)
class BatchPlan:
    """Which samples each step of each epoch takes on this rank (static shapes, drop last)."""

    n: int
    global_batch: int
    seed: int
    rank: int = 0
    world_size: int = 1

    @property
    def local_batch(self) -> int:
        return self.global_batch // self.world_size

    @property
    def steps_per_epoch(self) -> int:
        return self.n // self.global_batch

    def start(self, step: int) -> int:
        """Position in the epoch's permutation where this rank's share of ``step`` begins."""
        return step * self.global_batch + self.rank * self.local_batch


class ResidentBatches:
    """The whole training split on the device; a batch is an index slice of the permutation.

    No per-sample Python, no collate and no host-to-device copy per step. The split is gathered
    in permutation order once per epoch (one ``index_select`` per tensor, on the device), so a
    batch is a contiguous slice of that copy: a view, not a copy. This costs one extra copy of
    the training split on the device while an epoch runs.
    """

    def __init__(self, tensors: Sequence[torch.Tensor], plan: BatchPlan, device: torch.device):
        self.tensors = tuple(t.to(device) for t in tensors)
        self.plan = plan
        self.device = device
        self.steps_per_epoch = plan.steps_per_epoch

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        """Batches of ``epoch`` from step ``start_step`` on (for resume)."""
        plan = self.plan
        perm = epoch_permutation(plan.n, plan.seed, epoch).to(self.device)
        shuffled = tuple(t.index_select(0, perm) for t in self.tensors)
        for step in range(start_step, plan.steps_per_epoch):
            lo = plan.start(step)
            yield tuple(t[lo : lo + plan.local_batch] for t in shuffled)


class _EpochOrderSampler(Sampler[int]):
    """Yields this rank's indices in the resident path's order, so both loaders match."""

    def __init__(self, plan: BatchPlan, epoch: int, start_step: int):
        self.plan = plan
        self.epoch = epoch
        self.start_step = start_step

    def __iter__(self) -> Iterator[int]:
        plan = self.plan
        perm = epoch_permutation(plan.n, plan.seed, self.epoch)
        for step in range(self.start_step, plan.steps_per_epoch):
            yield from perm[plan.start(step) : plan.start(step) + plan.local_batch].tolist()

    def __len__(self) -> int:
        return (self.plan.steps_per_epoch - self.start_step) * self.plan.local_batch


class DataLoaderBatches:
    """Baseline: the plain ``DataLoader(TensorDataset)`` loop most hand-written code uses.

    Per-sample ``__getitem__`` and ``default_collate`` on the host, then a copy to the device for
    every batch. Kept to measure what the resident path saves.
    """

    def __init__(self, tensors: Sequence[torch.Tensor], plan: BatchPlan, device: torch.device):
        self.dataset = TensorDataset(*(t.cpu() for t in tensors))
        self.plan = plan
        self.device = device
        self.steps_per_epoch = plan.steps_per_epoch

    def epoch(self, epoch: int, start_step: int = 0) -> Iterator[Batch]:
        loader = DataLoader(
            self.dataset,
            batch_size=self.plan.local_batch,
            sampler=_EpochOrderSampler(self.plan, epoch, start_step),
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
    plan = BatchPlan(n=n, global_batch=global_batch, seed=seed, rank=rank, world_size=world_size)
    cls = {"resident": ResidentBatches, "dataloader": DataLoaderBatches}[kind]
    return cls(tensors, plan, device)
