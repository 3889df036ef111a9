"""Device, thread and precision set-up shared by training and timing."""

from __future__ import annotations

import contextlib

import torch

from cern_ai_bench.config import ConfigError, Precision


def resolve_device(name: str, local_rank: int = 0) -> torch.device:
    """``"auto"``: the local CUDA device when available, else CPU; else ``torch.device(name)``."""
    if name == "auto":
        return (
            torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
        )
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"trainer.device={name!r} but CUDA is not available on this machine")
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", local_rank)
    return device


def set_threads(threads: int) -> None:
    """Set torch's intra-op CPU threads (0 leaves torch's default).

    On small shared CPUs one thread is often much faster than two for small models.
    """
    if threads > 0:
        torch.set_num_threads(threads)


def autocast(device: torch.device, precision: Precision) -> contextlib.AbstractContextManager:
    """Autocast context for ``precision`` (a no-op for fp32)."""
    if precision is Precision.bf16:
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def reset_peak_device_memory(device: torch.device) -> None:
    """Start the peak-memory count of a CUDA device (no-op elsewhere).

    CUDA is initialised first: before any CUDA call, torch refuses the reset with "Invalid
    device argument" (seen with torch 2.11 on an H100).
    """
    if device.type == "cuda":
        torch.cuda.init()
        torch.cuda.set_device(device)
        torch.cuda.reset_peak_memory_stats(device)


def synchronize(device: torch.device) -> None:
    """Wait for queued device work; a host sync, so only at timing boundaries."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
