"""A cheap stand-in for the GFlash shower simulator, importable by spawned worker processes.

Tests put this folder on ``sys.path`` and import the module as ``shower_standin``, so a worker
process (which inherits ``sys.path``) can unpickle :func:`standin_simulator` by reference.
"""

from __future__ import annotations

import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry

#: Read by the orchestration as the simulator's version (part of the cache key).
GFLASH_VERSION = 7


def standin_simulator(
    incident_energy_mev: np.ndarray, geometry: CaloGeometry, rng: np.random.Generator
) -> np.ndarray:
    """Random sparse showers whose voxels sum to the incident energy; deterministic given rng."""
    fractions = rng.random((len(incident_energy_mev), geometry.n_voxels)) ** 8
    fractions /= fractions.sum(axis=1, keepdims=True)
    return (fractions * incident_energy_mev[:, None]).astype(np.float32)


def nan_simulator(
    incident_energy_mev: np.ndarray, geometry: CaloGeometry, rng: np.random.Generator
) -> np.ndarray:
    """A broken simulator: NaN in one voxel."""
    showers = standin_simulator(incident_energy_mev, geometry, rng)
    showers[0, 5] = np.nan
    return showers
