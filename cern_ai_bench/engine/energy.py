"""GPU energy of training from NVML's cumulative energy counter, over windows of at least 60 s.

``nvmlDeviceGetTotalEnergyConsumption`` gives millijoules since the driver was loaded (Volta or
newer). Its readings update every 20-100 ms, so a short window is inaccurate; MLPerf Power asks
for at least 60 readings over the timed region. The meter therefore joins consecutive
steady-state throughput windows (:class:`~cern_ai_bench.engine.throughput.WindowTimer`, after
warm-up) until they hold at least ``min_window_s`` seconds of training, and reports joules per
sample and mean power over those energy windows. Like the throughput clock it stops during
evaluations, so their energy is left out of the windows (it is in ``train_energy_j``).

Only the GPU of the calling process is read: under DDP, rank 0 reports its own GPU and the
samples it processed. Without an NVIDIA GPU or without ``nvidia-ml-py`` (optional:
``pip install cern-ai-bench[gpu]``) the meter is not created and the record says why.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import torch

log = logging.getLogger(__name__)

#: Shortest energy window, seconds of training (MLPerf Power: >= 60 readings at >= 1 per s).
MIN_WINDOW_S = 60.0


class EnergyCounter(Protocol):
    """A cumulative energy counter of one device."""

    name: str

    def read_mj(self) -> int:
        """Millijoules consumed since an arbitrary fixed origin."""
        ...


@dataclass
class EnergyMeter:
    """Energy per sample over windows of at least ``min_window_s`` seconds of training.

    Driven by the throughput timer: :meth:`resume` and :meth:`pause` where its clock starts and
    stops, :meth:`end_window` where it closes a window of steps.
    """

    counter: EnergyCounter
    min_window_s: float = MIN_WINDOW_S
    world_size: int = 1  # under DDP this GPU processes 1/world_size of each global batch
    clock: Callable[[], float] = time.perf_counter
    windows: list[tuple[float, float, int]] = field(default_factory=list)  # (J, s, samples)
    _open: list[float] = field(default_factory=lambda: [0.0, 0.0, 0])  # J, s, samples
    _mark: tuple[int, float] | None = None  # (mJ, time) at the last reading, None while paused
    _first: tuple[int, float] | None = None  # the first reading: start of train_energy_j
    _last: tuple[int, float] | None = None

    def _read(self) -> tuple[int, float]:
        reading = (int(self.counter.read_mj()), self.clock())
        self._first = self._first or reading
        self._last = reading
        return reading

    def _accumulate(self) -> None:
        """Add the energy and time since the last reading to the open window."""
        if self._mark is None:
            return
        now = self._read()
        self._open[0] += (now[0] - self._mark[0]) / 1000.0
        self._open[1] += now[1] - self._mark[1]
        self._mark = now

    def resume(self) -> None:
        """Training (re)starts: take a reading."""
        self._mark = self._read()

    def pause(self) -> None:
        """Training stops for an evaluation: what ran since the last reading counts."""
        self._accumulate()
        self._mark = None

    def end_window(self, samples: int, *, steady: bool) -> None:
        """A throughput window of ``samples`` (global) samples closed; warm-up windows are
        discarded."""
        self._accumulate()
        if not steady:
            self._open = [0.0, 0.0, 0]
            return
        self._open[2] += samples // self.world_size
        if self._open[1] >= self.min_window_s:
            joules, seconds, count = self._open
            self.windows.append((joules, seconds, int(count)))
            self._open = [0.0, 0.0, 0]

    def summary(self) -> dict[str, Any]:
        """Median and IQR of joules per sample and median power over the energy windows."""
        self._accumulate()
        total = None
        if self._first is not None and self._last is not None:
            total = (self._last[0] - self._first[0]) / 1000.0
        out: dict[str, Any] = {
            "available": True,
            "source": "nvml",
            "device": self.counter.name,
            "min_window_s": self.min_window_s,
            "windows": len(self.windows),
            "window_s": [round(s, 3) for _, s, _ in self.windows],
            "joules_per_sample": None,
            "joules_per_sample_iqr": None,
            "mean_power_w": None,
            "train_energy_j": total,
            "reason": None,
        }
        if not self.windows:
            out["reason"] = (
                f"training too short for one steady-state window of {self.min_window_s:g} s; "
                "raise trainer.max_steps or trainer.max_time_s"
            )
            return out
        per_sample = np.array([j / n for j, _, n in self.windows])
        power = np.array([j / s for j, s, _ in self.windows])
        q25, q50, q75 = np.percentile(per_sample, [25, 50, 75])
        out["joules_per_sample"] = float(q50)
        out["joules_per_sample_iqr"] = float(q75 - q25)
        out["mean_power_w"] = float(np.median(power))
        return out


def unavailable(reason: str) -> dict[str, Any]:
    """The record's energy entry when nothing was measured."""
    return {"available": False, "source": None, "reason": reason}


class NvmlCounter:
    """``nvmlDeviceGetTotalEnergyConsumption`` of the GPU behind a torch CUDA device."""

    def __init__(self, pynvml: Any, handle: Any, name: str) -> None:
        self._pynvml = pynvml
        self._handle = handle
        self.name = name

    def read_mj(self) -> int:
        return int(self._pynvml.nvmlDeviceGetTotalEnergyConsumption(self._handle))


def _nvml_handle(pynvml: Any, device: torch.device) -> Any:
    """The NVML handle of ``device``, found by UUID (CUDA_VISIBLE_DEVICES may renumber GPUs)."""
    props = torch.cuda.get_device_properties(device)
    uuid = str(getattr(props, "uuid", ""))
    if uuid:
        key = uuid if uuid.startswith(("GPU-", "MIG-")) else f"GPU-{uuid}"
        return pynvml.nvmlDeviceGetHandleByUUID(key)
    return pynvml.nvmlDeviceGetHandleByIndex(device.index or 0)


def open_energy_meter(
    device: torch.device, *, world_size: int = 1, min_window_s: float = MIN_WINDOW_S
) -> EnergyMeter | dict[str, Any]:
    """A meter when ``device``'s energy can be read, else the record's entry saying why not."""
    if device.type != "cuda":
        return unavailable(f"no NVIDIA GPU: training on {device.type}")
    try:
        import pynvml  # optional dependency: nvidia-ml-py
    except ImportError:
        return unavailable("nvidia-ml-py is not installed (pip install cern-ai-bench[gpu])")
    try:
        pynvml.nvmlInit()
        handle = _nvml_handle(pynvml, device)
        counter = NvmlCounter(pynvml, handle, torch.cuda.get_device_name(device))
        counter.read_mj()  # NotSupported before Volta
    except Exception as error:  # pynvml.NVMLError and its subclasses, a missing UUID
        log.warning("GPU energy not measured: %s", error)
        return unavailable(f"NVML energy counter not readable: {error}")
    return EnergyMeter(counter, min_window_s=min_window_s, world_size=world_size)
