"""Learning-rate schedule as a pure function of the step (nanoGPT's ``get_lr``)."""

from __future__ import annotations

import math


def lr_at(
    step: int, *, total_steps: int, base_lr: float, warmup_steps: int, min_ratio: float
) -> float:
    """Linear warm-up to ``base_lr``, then cosine decay to ``base_lr * min_ratio``.

    Args:
        step: optimiser steps taken so far (0-based).
        total_steps: steps of the whole budget; beyond it the rate stays at the minimum.
        base_lr: peak learning rate.
        warmup_steps: length of the linear warm-up (0 disables it).
        min_ratio: final rate as a fraction of ``base_lr``.
    """
    if warmup_steps > 0 and step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    decay_steps = max(1, total_steps - warmup_steps)
    progress = min(1.0, (step - warmup_steps) / decay_steps)
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return base_lr * (min_ratio + (1.0 - min_ratio) * cosine)
