"""Steady-state throughput from timed windows of training steps.

A window is ``window_steps`` consecutive training steps; the clock is paused while the model is
evaluated, so a window may span an evaluation without counting it (and small datasets with an
evaluation every few steps still fill windows). The first windows (warm-up, compilation) are
dropped. The device is synchronised only at window boundaries and around evaluations.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import torch

from cern_ai_bench.engine.device import synchronize
from cern_ai_bench.engine.energy import EnergyMeter


@dataclass
class WindowTimer:
    """Collects samples/s of each window of ``window_steps`` steps."""

    device: torch.device
    window_steps: int
    warmup_windows: int
    samples_per_step: int
    energy: EnergyMeter | None = None  # read at the same boundaries (GPU with NVML only)
    rates: list[float] = field(default_factory=list)
    _seen_windows: int = 0
    _steps: int = 0
    _elapsed: float = 0.0  # training seconds of the open window before the last pause
    _start: float | None = None  # None while paused

    def resume(self) -> None:
        """Start (or restart after an evaluation) the clock of the open window."""
        synchronize(self.device)  # timing boundary
        self._start = time.perf_counter()
        if self.energy is not None:
            self.energy.resume()

    def pause(self) -> None:
        """Stop the clock before an evaluation; the open window keeps its steps."""
        if self._start is not None:
            synchronize(self.device)  # timing boundary: the queued steps belong to this window
            self._elapsed += time.perf_counter() - self._start
            self._start = None
            if self.energy is not None:
                self.energy.pause()

    def step(self) -> None:
        """Count one training step; close the window when it is full."""
        if self._start is None:
            self.resume()
        self._steps += 1
        if self._steps == self.window_steps:
            synchronize(self.device)  # timing boundary
            now = time.perf_counter()
            elapsed = self._elapsed + now - self._start
            steady = self._seen_windows >= self.warmup_windows
            if steady and elapsed > 0:
                self.rates.append(self.window_steps * self.samples_per_step / elapsed)
            if self.energy is not None:
                self.energy.end_window(self.window_steps * self.samples_per_step, steady=steady)
            self._seen_windows += 1
            self._steps = 0
            self._elapsed = 0.0
            self._start = now

    def summary(self) -> dict[str, float | int | None]:
        """Median and inter-quartile range of the window rates (None when no window completed)."""
        if not self.rates:
            return {"median": None, "iqr": None, "windows": 0}
        q25, q50, q75 = np.percentile(self.rates, [25, 50, 75])
        return {"median": float(q50), "iqr": float(q75 - q25), "windows": len(self.rates)}
