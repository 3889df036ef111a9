"""The embedded shower sample: plan, simulate in parallel, resume, cache (CaloChallenge format).

:func:`ensure_embedded_showers` returns the paths of two files in the CaloChallenge 2022 HDF5
format (:mod:`cern_ai_bench.data.calochallenge_io`), simulating them first if needed:
``showers_train.hdf5`` (``n_showers`` events, for training and validation) and
``showers_reference.hdf5`` (``n_reference`` independent events, the held-out reference of the
evaluation). Incident energies are log-uniform in 1 GeV - 1 TeV (10^3 - 10^6 MeV), as in
CaloChallenge datasets 2 and 3; the showers come from the GFlash-parameterised reference simulator,
:func:`cern_ai_bench.generate.gflash.simulate_showers` (or any function with its signature).

Cache: the files live in ``data_dir / "embedded_showers" / <key>``, where ``key`` hashes every
parameter that changes them (geometry, sizes, seed, simulator and its version, chunking, energy
range, :data:`GENERATOR_VERSION`). The folder counts as complete only once ``manifest.json``
(written last, with the parameters, each file's SHA-256 and the timings) lists files of the
recorded sizes; each file is written atomically.

Resume: every finished chunk is saved at once into the work folder ``<key>.partial`` beside the
sample (:mod:`cern_ai_bench.generate.showers_output`); a rerun with the same parameters loads the
chunks found there and simulates only the missing ones.

Reproducibility: the work is split into fixed chunks of at most :data:`SHOWERS_PER_CHUNK` events;
chunk ``i`` of split ``s`` draws its energies and its showers from
``numpy.random.default_rng([seed, s, i])`` and the files are assembled in chunk order, so they
depend on the parameters only, not on the number of worker processes or on interruptions.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry, get_geometry
from cern_ai_bench.data.schema import SchemaError
from cern_ai_bench.data.shower_schema import ShowerArrays
from cern_ai_bench.generate.jets_output import is_complete
from cern_ai_bench.generate.parameters import GeneratorParameterError, check_int, sample_key
from cern_ai_bench.generate.pool import cpu_count, run_missing_chunks
from cern_ai_bench.generate.showers_output import (
    FILE_NAMES,
    SPLITS,
    ShowerChunkStore,
    publish_showers,
)

log = logging.getLogger(__name__)

#: ``simulator(incident_energy_mev (N,), geometry, rng) -> (N, V) float32 MeV``.
Simulator = Callable[[np.ndarray, CaloGeometry, np.random.Generator], np.ndarray]

#: Version of the orchestration (energy sampling, chunk seeds, file layout); part of the cache key.
GENERATOR_VERSION = 1
#: Showers per unit of parallel work (also the granularity of resume and progress).
SHOWERS_PER_CHUNK = 500
#: Incident energy range in MeV, sampled log-uniformly (CaloChallenge datasets 2 and 3).
ENERGY_RANGE_MEV: tuple[float, float] = (1.0e3, 1.0e6)
#: Geometries the GFlash simulator supports (electromagnetic showers; no dataset-1 pions).
SUPPORTED_GEOMETRIES: tuple[str, ...] = ("ds1_photons", "ds2", "ds3")
#: Suffix of the work folder of finished chunks, ``<key>.partial``, beside the sample folder.
WORK_SUFFIX = ".partial"
#: Module attribute read as the simulator's version (bumped when its physics changes).
SIMULATOR_VERSION_ATTRIBUTE = "GFLASH_VERSION"


@dataclass(frozen=True)
class ShowerChunk:
    """One unit of work: ``n_showers`` events of one split, with their own random stream."""

    split: str
    index: int
    n_showers: int
    seed: int
    geometry: str
    simulator: Simulator

    def rng(self) -> np.random.Generator:
        """The chunk's generator, from (sample seed, split, chunk index) only."""
        return np.random.default_rng([self.seed, SPLITS.index(self.split), self.index])


def ensure_embedded_showers(
    data_dir: str | Path,
    *,
    geometry: str,
    n_showers: int,
    n_reference: int,
    seed: int,
    workers: int = 0,
    progress: bool = True,
    simulator: Simulator | None = None,
) -> tuple[Path, Path]:
    """Paths of the embedded training and reference files, simulating them if not cached.

    Args:
        data_dir: cache root; the files live in ``data_dir/embedded_showers/<key>/``.
        geometry: ``ds1_photons``, ``ds2`` or ``ds3`` (:data:`SUPPORTED_GEOMETRIES`).
        n_showers: events of the training file (>= 2: it is split into train and val).
        n_reference: events of the independent reference file (>= 1).
        seed: sample seed; the same parameters always give the same files.
        workers: worker processes (0 = one per CPU core); does not change the output.
        progress: show a progress bar over simulated showers.
        simulator: the shower simulator (default: GFlash,
            :func:`cern_ai_bench.generate.gflash.simulate_showers`); a module-level function,
            so spawned workers can import it.

    Returns:
        ``(showers_train.hdf5, showers_reference.hdf5)``.

    Raises:
        GeneratorParameterError: an invalid parameter (a ``ValueError`` naming it).
        ImportError: the default simulator cannot be imported.
    """
    _check_parameters(geometry, n_showers, n_reference, seed)
    check_int("workers", workers, 0)
    simulator = simulator or _default_simulator()
    parameters = sample_parameters(
        geometry=geometry,
        n_showers=n_showers,
        n_reference=n_reference,
        seed=seed,
        simulator=simulator,
    )
    root = Path(data_dir) / "embedded_showers"
    final = root / sample_key(parameters)
    paths = (final / FILE_NAMES["train"], final / FILE_NAMES["reference"])
    if is_complete(final, parameters):
        log.debug("embedded showers cached at %s", final)
        return paths
    store = ShowerChunkStore(root / f"{final.name}{WORK_SUFFIX}", get_geometry(geometry))
    chunks = plan_chunks(parameters, simulator)
    statistics = _simulate(store, chunks, workers=workers or cpu_count(), progress=progress)
    publish_showers(final, store, chunks, parameters, statistics)
    store.remove()
    return paths


def sample_parameters(
    *, geometry: str, n_showers: int, n_reference: int, seed: int, simulator: Simulator
) -> dict[str, Any]:
    """Every parameter that changes the generated files, validated.

    Raises:
        GeneratorParameterError: an invalid parameter.
    """
    _check_parameters(geometry, n_showers, n_reference, seed)
    module = importlib.import_module(simulator.__module__)
    return {
        "generator": "cern_ai_bench.embedded_showers",
        "generator_version": GENERATOR_VERSION,
        "simulator": f"{simulator.__module__}.{simulator.__qualname__}",
        "simulator_version": getattr(module, SIMULATOR_VERSION_ATTRIBUTE, None),
        "geometry": geometry,
        "n_voxels": get_geometry(geometry).n_voxels,
        "n_showers": n_showers,
        "n_reference": n_reference,
        "seed": seed,
        "energy_range_mev": list(ENERGY_RANGE_MEV),
        "energy_sampling": "log-uniform",
        "showers_per_chunk": SHOWERS_PER_CHUNK,
    }


def plan_chunks(parameters: dict[str, Any], simulator: Simulator) -> list[ShowerChunk]:
    """The fixed list of chunks: the training split's, then the reference split's."""
    chunks = []
    for split, total in zip(
        SPLITS, (parameters["n_showers"], parameters["n_reference"]), strict=True
    ):
        for index, start in enumerate(range(0, total, SHOWERS_PER_CHUNK)):
            chunks.append(
                ShowerChunk(
                    split=split,
                    index=index,
                    n_showers=min(SHOWERS_PER_CHUNK, total - start),
                    seed=parameters["seed"],
                    geometry=parameters["geometry"],
                    simulator=simulator,
                )
            )
    return chunks


def sample_incident_energies(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` incident energies (MeV), log-uniform in :data:`ENERGY_RANGE_MEV`, float32."""
    low, high = np.log10(ENERGY_RANGE_MEV)
    return (10.0 ** rng.uniform(low, high, n)).astype(np.float32)


def simulate_chunk(chunk: ShowerChunk) -> tuple[ShowerArrays, float]:
    """Simulate one chunk (runs in a worker process).

    Returns:
        The chunk's events and the seconds the simulator took.

    Raises:
        ValueError: the simulator returned showers of the wrong shape or with NaN or negative
            energies.
    """
    rng = chunk.rng()
    geometry = get_geometry(chunk.geometry)
    energy = sample_incident_energies(chunk.n_showers, rng)
    start = time.perf_counter()
    # float64 copies of the stored float32 values: the file holds exactly the simulated energies.
    showers = np.asarray(chunk.simulator(energy.astype(np.float64), geometry, rng), np.float32)
    seconds = time.perf_counter() - start
    name = f"{chunk.simulator.__module__}.{chunk.simulator.__qualname__}"
    expected = (chunk.n_showers, geometry.n_voxels)
    if showers.shape != expected:
        raise ValueError(
            f"{name} returned showers of shape {showers.shape}, expected {expected} "
            f"({chunk.split} chunk {chunk.index}, geometry {geometry.name})"
        )
    try:
        return ShowerArrays(energy, showers), seconds
    except SchemaError as error:
        raise ValueError(
            f"{name} returned invalid showers ({chunk.split} chunk {chunk.index}): {error}"
        ) from None


def _simulate(
    store: ShowerChunkStore, chunks: list[ShowerChunk], *, workers: int, progress: bool
) -> dict[str, Any]:
    """Simulate (and save) every chunk the store lacks; return this run's statistics."""
    simulator_seconds: list[float] = []

    def save(chunk: ShowerChunk, result: tuple[ShowerArrays, float]) -> None:
        store.save(chunk, result[0])
        simulator_seconds.append(result[1])

    run = run_missing_chunks(
        simulate_chunk,
        chunks,
        done=store.has,
        save=save,
        workers=workers,
        progress=progress,
        what=f"embedded showers ({store.geometry.name})",
        label="embedded-shower",
        entry_point="ensure_embedded_showers",
        unit="shower",
        size=lambda chunk: chunk.n_showers,
        folder=store.folder,
    )
    # Of this run only: a resumed run's earlier chunks were timed by the run that made them.
    simulated, seconds = run.pop("showers_generated_this_run"), sum(simulator_seconds, 0.0)
    return {
        **run,
        "showers_simulated": simulated,
        "simulator_seconds": round(seconds, 3),
        "simulator_ms_per_shower": round(1e3 * seconds / simulated, 4) if simulated else None,
    }


def _default_simulator() -> Simulator:
    # Imported on use: the orchestration (and its tests) work without the physics module.
    from cern_ai_bench.generate.gflash import simulate_showers

    return simulate_showers


def _check_parameters(geometry: str, n_showers: int, n_reference: int, seed: int) -> None:
    if geometry not in SUPPORTED_GEOMETRIES:
        raise GeneratorParameterError(
            "geometry", f"must be one of {', '.join(SUPPORTED_GEOMETRIES)}", geometry
        )
    check_int("n_showers", n_showers, 2)
    check_int("n_reference", n_reference, 1)
    check_int("seed", seed, 0)
