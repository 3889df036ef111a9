"""Generation time per shower, as the CaloChallenge 2022 reports it (batch sizes 1, 100, 10 000).

The model and the embedded reference simulator (GFlash) are timed in the same process, on the
same incident energies, so their ratio is a like-for-like speed-up on this machine. The
simulator runs on the CPU in NumPy (one process); the model on the run's device.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.engine.device import synchronize


def model_generation_times(
    generate: nn.Module,
    energies: torch.Tensor,
    batches: list[int],
    *,
    repeats: int,
    device: torch.device,
) -> dict[str, dict[str, float]]:
    """Median wall time per shower (ms) of ``generate(energy)`` at each batch size.

    ``energies`` holds incident energies on the device; a batch takes the first ``b`` of them,
    repeated cyclically when there are fewer.
    """
    out = {}
    generate.eval()

    def timed(batch: torch.Tensor) -> float:
        synchronize(device)
        start = time.perf_counter()
        generate(batch)
        synchronize(device)
        return time.perf_counter() - start

    with torch.inference_mode():
        # One warm-up call at the smallest batch (allocator, lazy init); a large batch is
        # long enough that its own first call is representative, and costly to repeat.
        timed(energies[: min(batches)] if energies.shape[0] >= min(batches) else energies[:1])
        for b in batches:
            index = torch.arange(b, device=energies.device) % energies.shape[0]
            batch = energies[index]
            median = float(np.median([timed(batch) for _ in range(repeats)]))
            out[str(b)] = {"ms_per_shower": 1e3 * median / b, "seconds_per_call": median}
    return out


def simulator_generation_time(
    geometry: CaloGeometry, energies: np.ndarray, batch: int, *, seed: int = 0
) -> dict[str, float] | None:
    """Wall time per shower (ms) of the GFlash reference simulator at one batch size.

    Returns None for geometries the simulator does not cover (hadronic showers, DS1 pions).
    """
    from cern_ai_bench.generate.gflash import simulate_showers, supports_geometry

    if not supports_geometry(geometry):
        return None
    index = np.arange(batch) % len(energies)
    batch_energies = np.asarray(energies, dtype=np.float64)[index]
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    simulate_showers(batch_energies, geometry, rng)
    seconds = time.perf_counter() - start
    return {"ms_per_shower": 1e3 * seconds / batch, "seconds_per_call": seconds}


def generation_report(
    generate: nn.Module,
    energies: torch.Tensor,
    geometry: CaloGeometry,
    batches: list[int],
    *,
    repeats: int,
    device: torch.device,
    time_simulator: bool,
) -> dict[str, Any]:
    """Model times per batch size, the simulator's at the largest one, and their ratio."""
    model_times = model_generation_times(
        generate, energies, batches, repeats=repeats, device=device
    )
    report: dict[str, Any] = {"device": str(device), "model": model_times}
    if time_simulator:
        largest = max(batches)
        sim = simulator_generation_time(geometry, energies.cpu().numpy(), largest)
        report["reference_simulator"] = None if sim is None else {str(largest): sim}
        if sim is not None:
            report["speedup_vs_simulator"] = {
                str(largest): sim["ms_per_shower"] / model_times[str(largest)]["ms_per_shower"]
            }
    return report
