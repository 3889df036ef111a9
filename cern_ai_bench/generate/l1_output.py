"""Finished chunks of the embedded L1 sample on disk, and the final ADC2021 files with their manifest.

:class:`L1ChunkStore` keeps each finished chunk in the work folder ``<key>.partial`` as a small
``.npz`` file (the events and the chunk's bookkeeping, written atomically), so an interrupted
generation resumes; a damaged chunk file is deleted, with a warning, and generated again.
:func:`publish_l1` writes the sample's files in the ADC2021 format
(:mod:`cern_ai_bench.data.adc2021_io`, validated on write): the two background files mix the
processes' events in the planned numbers and shuffle them with a seeded generator; each signal
file takes its process's events in chunk order. ``manifest.json`` is written last: its presence,
with files of the recorded sizes, marks the folder complete
(:func:`cern_ai_bench.generate.jets_output.is_complete`, shared with the other generators).
Memory holds one output file's events plus one chunk.
"""

from __future__ import annotations

import importlib.metadata
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cern_ai_bench import __version__
from cern_ai_bench.data.adc2021_io import adc2021_file_writer, first_problem
from cern_ai_bench.data.files import atomic_write_text, sha256_of
from cern_ai_bench.data.l1_layout import N_SLOTS
from cern_ai_bench.generate.chunk_folder import ChunkFolder, write_npz
from cern_ai_bench.generate.jets_output import MANIFEST

#: Version of the chunk file layout; a file of another version is regenerated.
CHUNK_FORMAT = 1
#: Events written to an output file at once.
WRITE_BLOCK_EVENTS = 100_000


@dataclass(frozen=True)
class L1Chunk:
    """One unit of work: ``n_events`` accepted events of one process.

    Attributes:
        process: process key (:data:`~cern_ai_bench.generate.l1_processes.PROCESSES`).
        index: chunk number within the process.
        n_events: accepted events to produce.
        pythia_seed: Pythia ``Random:seed``.
        detector_seed: seed of the toy detector's ``numpy`` generator.
    """

    process: str
    index: int
    n_events: int
    pythia_seed: int
    detector_seed: int


@dataclass
class L1ChunkResult:
    """The accepted events of one chunk and its bookkeeping.

    Attributes:
        particles: ``(n_events, 19, 4)`` float32 events in the ADC2021 layout.
        generated: Pythia events generated.
        accepted: of those, events that passed the lepton filter (the surplus of the last
            batch beyond ``n_events`` included, so ``accepted / generated`` is the efficiency).
        sigma_pb: Pythia's estimate of the generated cross-section at the end of the chunk.
        cpu_seconds_pythia: CPU time in Pythia (generation and conversion of the records).
        cpu_seconds_detector: CPU time in the toy detector.
    """

    particles: np.ndarray
    generated: int = 0
    accepted: int = 0
    sigma_pb: float = 0.0
    cpu_seconds_pythia: float = 0.0
    cpu_seconds_detector: float = 0.0


_COUNTERS: dict[str, type] = {
    "generated": int,
    "accepted": int,
    "sigma_pb": float,
    "cpu_seconds_pythia": float,
    "cpu_seconds_detector": float,
}


class L1ChunkStore(ChunkFolder[L1Chunk, L1ChunkResult]):
    """The work folder of one sample: one ``.npz`` file per finished chunk.

    Args:
        folder: ``<data_dir>/embedded_l1/<key>.partial`` (created on first save).
    """

    SAMPLE = "embedded L1"

    def file_name(self, chunk: L1Chunk) -> str:
        return f"chunk_{chunk.process}_{chunk.index:05d}.npz"

    def save(self, chunk: L1Chunk, result: L1ChunkResult) -> None:
        """Write a finished chunk atomically."""
        arrays = {
            "format": np.asarray(CHUNK_FORMAT),
            "pythia_seed": np.asarray(chunk.pythia_seed),
            "particles": np.asarray(result.particles, np.float32),
            **{name: np.asarray(kind(getattr(result, name))) for name, kind in _COUNTERS.items()},
        }
        write_npz(self.new_file(chunk), arrays)

    def read(self, path: Path, chunk: L1Chunk) -> tuple[L1ChunkResult, str | None]:
        # An open handle: np.load(path) leaks the file when the zip is damaged.
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
            version, seed = int(data["format"][()]), int(data["pythia_seed"][()])
            result = L1ChunkResult(
                particles=data["particles"],
                **{name: kind(data[name][()]) for name, kind in _COUNTERS.items()},
            )
        if version != CHUNK_FORMAT:
            return result, f"format {version}, expected {CHUNK_FORMAT}"
        if seed != chunk.pythia_seed:
            return result, f"Pythia seed {seed}, expected {chunk.pythia_seed}"
        shape = (chunk.n_events, N_SLOTS, 4)
        if result.particles.shape != shape or result.particles.dtype != np.float32:
            found = f"{result.particles.dtype}{list(result.particles.shape)}"
            return result, f"particles {found}, expected float32{list(shape)}"
        problem = first_problem(result.particles)
        return result, None if problem is None else problem[1]


@dataclass(frozen=True)
class OutputFile:
    """One file of the sample and the events it takes from each process.

    Attributes:
        role: ``background_train``, ``background_test`` or a signal key.
        name: file name (the public ADC2021 names).
        rows: process -> ``(start, stop)`` of its accepted events (chunk order) in this file.
        shuffle_seed: seed of the permutation mixing the processes; None keeps process order.
    """

    role: str
    name: str
    rows: dict[str, tuple[int, int]]
    shuffle_seed: tuple[int, ...] | None


def publish_l1(
    final: Path,
    store: L1ChunkStore,
    chunks: list[L1Chunk],
    outputs: list[OutputFile],
    parameters: dict[str, Any],
    statistics: dict[str, Any],
) -> None:
    """Write every output file from the saved chunks, then the manifest, into ``final``.

    Raises:
        RuntimeError: a chunk vanished or was damaged since it was saved (run again).
    """
    final.mkdir(parents=True, exist_ok=True)
    (final / MANIFEST).unlink(missing_ok=True)  # incomplete until the new manifest is written
    by_process: dict[str, list[L1Chunk]] = {}
    for chunk in chunks:
        by_process.setdefault(chunk.process, []).append(chunk)
    files = []
    for output in outputs:
        events = np.concatenate(
            [
                _rows(store, by_process[p], *span)
                for p, span in output.rows.items()
                if span[1] > span[0]
            ]
        )
        if output.shuffle_seed is not None:
            events = events[np.random.default_rng(output.shuffle_seed).permutation(len(events))]
        path = final / output.name
        with adc2021_file_writer(path, expected_events=len(events)) as writer:
            for start in range(0, len(events), WRITE_BLOCK_EVENTS):
                writer.write(events[start : start + WRITE_BLOCK_EVENTS])
        files.append(
            {
                "path": output.name,
                "role": output.role,
                "n_events": len(events),
                "events_per_process": {p: stop - start for p, (start, stop) in output.rows.items()},
                "sha256": sha256_of(path),
                "size_bytes": path.stat().st_size,
            }
        )
    manifest = {
        "parameters": parameters,
        "files": files,
        "versions": {
            "cern_ai_bench": __version__,
            **{
                name: importlib.metadata.version(name)
                for name in ("pythia8mc", "fastjet", "numpy", "h5py")
            },
        },
        "statistics": {**statistics, "processes": process_statistics(store, by_process)},
    }
    atomic_write_text(final / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def process_statistics(
    store: L1ChunkStore, by_process: dict[str, list[L1Chunk]]
) -> dict[str, dict[str, float | int | None]]:
    """Per process: events generated and accepted, filter efficiency, cross-sections, CPU time."""
    table: dict[str, dict[str, float | int | None]] = {}
    for process, chunks in by_process.items():
        totals = dict.fromkeys(_COUNTERS, 0.0)
        sigma_sum = 0.0
        for chunk in chunks:
            result = _load(store, chunk)
            for name in _COUNTERS:
                totals[name] += getattr(result, name)
            sigma_sum += result.sigma_pb * result.generated
        generated, accepted = int(totals["generated"]), int(totals["accepted"])
        cpu = totals["cpu_seconds_pythia"] + totals["cpu_seconds_detector"]
        efficiency = accepted / generated if generated else None
        sigma = sigma_sum / generated if generated else None
        table[process] = {
            "stored": sum(chunk.n_events for chunk in chunks),
            "generated": generated,
            "accepted": accepted,
            "filter_efficiency": efficiency,
            "sigma_generated_pb": sigma,
            "sigma_accepted_pb": sigma * efficiency if sigma and efficiency else None,
            "cpu_seconds_pythia": round(totals["cpu_seconds_pythia"], 3),
            "cpu_seconds_detector": round(totals["cpu_seconds_detector"], 3),
            "accepted_per_cpu_second": round(accepted / cpu, 3) if cpu > 0 else None,
        }
    return table


def _rows(store: L1ChunkStore, chunks: list[L1Chunk], start: int, stop: int) -> np.ndarray:
    """Accepted events ``start:stop`` of one process (its chunks in order)."""
    parts = []
    first = 0
    for chunk in chunks:
        last = first + chunk.n_events
        if last > start and first < stop:
            particles = _load(store, chunk).particles
            parts.append(particles[max(start - first, 0) : min(stop, last) - first])
        first = last
    return np.concatenate(parts)


def _load(store: L1ChunkStore, chunk: L1Chunk) -> L1ChunkResult:
    result = store.load(chunk)
    if result is None:
        raise RuntimeError(
            f"embedded L1: chunk {store.path(chunk)} vanished or was damaged while the files "
            "were written; run again to generate it anew"
        )
    return result
