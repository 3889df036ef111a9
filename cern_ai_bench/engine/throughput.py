"""Steady-state throughput from timed windows of training steps.

A window is a run of consecutive steps with no evaluation inside; the first windows (warm-up,
compilation) are dropped. The device is synchronised only at window boundaries.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from cern_ai_bench.engine.device import synchronize


@dataclass
class WindowTimer:
    """Collects samples/s of each window of ``window_steps`` steps."""

    device: torch.device
    window_steps: int
    warmup_windows: int
    samples_per_step: int
    rates: list[float] = field(default_factory=list)
    _seen_windows: int = 0
    _steps: int = 0
    _start: float | None = None

    def restart(self) -> None:
        """Open a fresh window (after an evaluation or at the start)."""
        synchronize(self.device)  # timing boundary: the only sync outside evaluation
        self._steps = 0
        self._start = time.perf_counter()

    def step(self) -> None:
        """Count one training step; close the window when it is full."""
        if self._start is None:
            self.restart()
        self._steps += 1
        if self._steps == self.window_steps:
            synchronize(self.device)  # timing boundary
            elapsed = time.perf_counter() - self._start
            if self._seen_windows >= self.warmup_windows and elapsed > 0:
                self.rates.append(self.window_steps * self.samples_per_step / elapsed)
            self._seen_windows += 1
            self._steps = 0
            self._start = time.perf_counter()

    def summary(self) -> dict[str, float | int | None]:
        """Median and inter-quartile range of the window rates (None when no window completed)."""
        if not self.rates:
            return {"median": None, "iqr": None, "windows": 0}
        q25, q50, q75 = np.percentile(self.rates, [25, 50, 75])
        return {"median": float(q50), "iqr": float(q75 - q25), "windows": len(self.rates)}
