"""Inference timing: latency percentiles at batch 1 and throughput at a large batch.

Each timed call is bracketed by a device synchronisation so the clock sees the device work
(the same protocol as TorchBench: warm-up calls, then timed calls).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from cern_ai_bench.engine.device import synchronize


@torch.inference_mode()
def time_calls(
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    *,
    iters: int,
    warmup: int,
    device: torch.device,
) -> np.ndarray:
    """Seconds per ``model(*inputs)`` call for ``iters`` timed calls after ``warmup`` calls."""
    if iters < 1:
        raise ValueError(f"iters must be >= 1, got {iters}")
    model.eval()
    times = np.empty(iters)
    for i in range(warmup + iters):
        synchronize(device)
        start = time.perf_counter()
        model(*inputs)
        synchronize(device)
        if i >= warmup:
            times[i - warmup] = time.perf_counter() - start
    return times


def latency_summary(
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    *,
    iters: int,
    warmup: int,
    device: torch.device,
) -> dict[str, float]:
    """p50, p99 and mean latency in milliseconds of single calls on ``inputs``."""
    times = time_calls(model, inputs, iters=iters, warmup=warmup, device=device) * 1e3
    p50, p99 = np.percentile(times, [50, 99])
    return {"p50_ms": float(p50), "p99_ms": float(p99), "mean_ms": float(times.mean())}


def throughput(
    model: nn.Module,
    inputs: tuple[torch.Tensor, ...],
    *,
    iters: int,
    warmup: int,
    device: torch.device,
) -> float:
    """Inference samples per second at the batch size of ``inputs`` (median call time)."""
    times = time_calls(model, inputs, iters=iters, warmup=warmup, device=device)
    return float(inputs[0].shape[0] / np.median(times))
