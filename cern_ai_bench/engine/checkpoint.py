"""Checkpoints: written atomically, loaded with ``weights_only=True``.

A checkpoint holds everything a resumed run needs to end with the same weights as an
uninterrupted one: model and optimiser state, the position in the sample order (epoch, step),
the evaluation history and the torch CPU and CUDA RNG states (dropout).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cern_ai_bench.data.files import atomic_path

CHECKPOINT_NAME = "checkpoint.pt"
#: Bumped when the layout below changes; an older checkpoint is refused with a clear message.
CHECKPOINT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint cannot be used to resume this run."""


@dataclass
class Progress:
    """Where training stands; saved in every checkpoint."""

    epoch: int = 0
    step_in_epoch: int = 0
    global_step: int = 0
    samples_seen: int = 0
    next_eval_samples: int = 0
    train_time_s: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)
    time_to_target_s: float | None = None
    samples_to_target: int | None = None
    #: Set when training ended (target, time or epoch budget); a resumed run then stops at once.
    stop_reason: str | None = None


def save_checkpoint(
    path: Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    progress: Progress,
    config_hash: str,
) -> None:
    """Write the checkpoint atomically (a crash mid-write leaves the previous one intact)."""
    state: dict[str, Any] = {
        "version": CHECKPOINT_VERSION,
        "config_hash": config_hash,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "progress": asdict(progress),
        "rng": torch.get_rng_state(),
        "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(
    path: Path,
    *,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    config_hash: str,
) -> Progress:
    """Restore model, optimiser and RNG from ``path``; return the saved progress.

    Raises:
        CheckpointError: the file is unreadable, from another layout version, or from a run
            with a different training configuration.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises several types for truncated/corrupt files
        raise CheckpointError(
            f"cannot read checkpoint {path}: {error}. Delete it to start the run afresh."
        ) from error
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has layout version {state.get('version')}, expected "
            f"{CHECKPOINT_VERSION}; delete it or use another hydra.run.dir"
        )
    if state.get("config_hash") != config_hash:
        raise CheckpointError(
            f"checkpoint {path} was written by a run with a different configuration; resume it "
            "with the same settings, or use another hydra.run.dir (or trainer.resume=false)"
        )
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    torch.set_rng_state(state["rng"])
    if state.get("cuda_rng") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda_rng"])
    return Progress(**state["progress"])
