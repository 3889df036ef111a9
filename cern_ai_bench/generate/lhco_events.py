"""The embedded LHCO-style dijet sample: plan, generate in parallel, resume, cache.

:func:`ensure_embedded_lhco` returns the paths of files in the LHC Olympics 2020 R&D format
(:mod:`cern_ai_bench.data.lhco_io`: pandas HDF5, 700 particles x (pT, eta, phi) + label),
generating them first if needed. Physics: :mod:`cern_ai_bench.generate.lhco_physics`.

One file per chunk of at most :data:`EVENTS_PER_CHUNK` triggered events, named
``<process>_<index>.h5`` (``qcd_dijets_000.h5``, ``wprime_xy_000.h5``, ...): a file holds one
process, its label column says which (0 QCD, 1 W'), and a chunk's table (42 MB as float64) is
the most that is ever in memory.

Cache: ``data_dir / "embedded_lhco" / <key>``, ``key`` hashing every parameter that changes the
files (sizes, seed, cards, selection, versions, chunking). The folder is complete once
``manifest.json`` (written last: parameters, each file's SHA-256 and size, per-process trigger
efficiencies, cross-sections and CPU times) lists files of the recorded sizes.

Resume: each finished chunk is written at once into ``<key>.partial`` (the file, then a small
JSON of its statistics that marks it done); a rerun with the same parameters generates only the
missing chunks.

Reproducibility: chunk ``i`` of process ``p`` runs a fresh Pythia seeded from ``(seed, p, i)``
only, so the files depend on the parameters alone, not on the number of workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cern_ai_bench import __version__
from cern_ai_bench.data.files import atomic_write_text, sha256_of
from cern_ai_bench.data.lhco_io import count_lhco_events, write_lhco
from cern_ai_bench.generate.jets_output import MANIFEST, is_complete
from cern_ai_bench.generate.l1_processes import MAX_PYTHIA_SEED
from cern_ai_bench.generate.lhco_physics import (
    COMMON_SETTINGS,
    DIJET_PROCESSES,
    PHYSICS_VERSION,
    SELECTION,
    lhco_particles,
    make_dijet_pythia,
)
from cern_ai_bench.generate.parameters import check_int, sample_key
from cern_ai_bench.generate.pool import cpu_count, run_missing_chunks
from cern_ai_bench.generate.substructure import silence_fastjet_banner

__all__ = [
    "EVENTS_PER_CHUNK",
    "DijetChunk",
    "ensure_embedded_lhco",
    "generate_dijet_chunk",
    "plan_chunks",
    "sample_parameters",
]

log = logging.getLogger(__name__)

#: Version of the orchestration (chunk seeds, file layout); part of the cache key.
GENERATOR_VERSION = 1
#: Triggered events per chunk and file.
EVENTS_PER_CHUNK = 2500
#: Largest number of events per ``Pythia.nextBatch`` call (bounds memory).
MAX_BATCH_EVENTS = 500
#: A chunk gives up when its trigger efficiency falls below this fraction of the card's.
MIN_EFFICIENCY_RATIO = 0.05
WORK_SUFFIX = ".partial"


@dataclass(frozen=True)
class DijetChunk:
    """One unit of work: ``n_events`` triggered events of one process."""

    process: str
    index: int
    n_events: int
    pythia_seed: int
    folder: str

    @property
    def name(self) -> str:
        return f"{self.process}_{self.index:03d}.h5"


def ensure_embedded_lhco(
    data_dir: str | Path,
    *,
    n_background: int,
    n_signal: int,
    seed: int = 1,
    workers: int = 0,
    progress: bool = True,
) -> list[Path]:
    """Paths of the embedded LHCO-format files, generating them if they are not cached yet.

    Args:
        data_dir: cache root; the files live in ``data_dir/embedded_lhco/<key>/``.
        n_background: triggered QCD dijet events (>= 1).
        n_signal: triggered W' -> X Y events (>= 1).
        seed: sample seed; the same parameters always give the same files.
        workers: worker processes (0 = one per CPU core); does not change the output.
        progress: show a progress bar over triggered events.

    Returns:
        The files, background chunks first, in chunk order.

    Raises:
        GeneratorParameterError: an invalid parameter (a ``ValueError`` naming it).
        RuntimeError: Pythia failed, or a worker process died.
    """
    parameters = sample_parameters(n_background=n_background, n_signal=n_signal, seed=seed)
    check_int("workers", workers, 0)
    root = Path(data_dir) / "embedded_lhco"
    final = root / sample_key(parameters)
    work = root / f"{final.name}{WORK_SUFFIX}"
    chunks = plan_chunks(parameters, work)
    paths = [final / chunk.name for chunk in chunks]
    if is_complete(final, parameters):
        log.debug("embedded LHCO sample cached at %s", final)
        return paths
    work.mkdir(parents=True, exist_ok=True)
    statistics = _generate(chunks, workers=workers or cpu_count(), progress=progress)
    _publish(final, work, chunks, parameters, statistics)
    shutil.rmtree(work, ignore_errors=True)
    return paths


def sample_parameters(*, n_background: int, n_signal: int, seed: int) -> dict[str, Any]:
    """Every parameter that changes the generated files, validated, JSON-shaped."""
    check_int("n_background", n_background, 1)
    check_int("n_signal", n_signal, 1)
    check_int("seed", seed, 0)
    parameters = {
        "generator": "cern_ai_bench.embedded_lhco",
        "generator_version": GENERATOR_VERSION,
        "physics_version": PHYSICS_VERSION,
        "pythia8mc": importlib.metadata.version("pythia8mc"),
        "fastjet": importlib.metadata.version("fastjet"),
        "common_settings": COMMON_SETTINGS,
        "processes": {key: dataclasses.asdict(card) for key, card in DIJET_PROCESSES.items()},
        "selection": dataclasses.asdict(SELECTION),
        "n_background": n_background,
        "n_signal": n_signal,
        "seed": seed,
        "events_per_chunk": EVENTS_PER_CHUNK,
    }
    return json.loads(json.dumps(parameters))  # tuples -> lists, as in the manifest


def plan_chunks(parameters: dict[str, Any], work: Path) -> list[DijetChunk]:
    """The fixed list of chunks, background first."""
    size = parameters["events_per_chunk"]
    totals = {"qcd_dijets": parameters["n_background"], "wprime_xy": parameters["n_signal"]}
    chunks = []
    for process, total in totals.items():
        for index, start in enumerate(range(0, total, size)):
            digest = hashlib.sha256(
                f"embedded_lhco:{parameters['seed']}:{process}:{index}".encode()
            ).digest()
            chunks.append(
                DijetChunk(
                    process=process,
                    index=index,
                    n_events=min(size, total - start),
                    pythia_seed=int.from_bytes(digest[:8], "big") % MAX_PYTHIA_SEED + 1,
                    folder=str(work),
                )
            )
    return chunks


def generate_dijet_chunk(chunk: DijetChunk) -> dict[str, Any]:
    """Generate one chunk's triggered events into its LHCO file (runs in a worker process).

    Returns:
        The chunk's statistics (also saved beside the file, which marks the chunk done).

    Raises:
        RuntimeError: Pythia failed, or the trigger efficiency stayed far below the card's.
    """
    silence_fastjet_banner()
    card = DIJET_PROCESSES[chunk.process]
    start = time.process_time()
    pythia = make_dijet_pythia(card, chunk.pythia_seed)
    generated = 0
    kept: list[np.ndarray] = []
    have = 0
    floor = MIN_EFFICIENCY_RATIO * card.expected_efficiency
    while have < chunk.n_events:
        if generated > 1000 and have < floor * generated:
            raise RuntimeError(
                f"process {chunk.process!r}: only {have} of {generated} events passed the "
                f"trigger (expected a fraction of {card.expected_efficiency}); check the settings"
            )
        efficiency = max(have / generated if have else card.expected_efficiency, floor)
        size = min(MAX_BATCH_EVENTS, math.ceil((chunk.n_events - have) / efficiency) + 5)
        particles, passed = lhco_particles(pythia.nextBatch(size))
        generated += size
        kept.append(particles[passed])
        have += kept[-1].shape[0]
    particles = np.concatenate(kept)[: chunk.n_events]
    path = Path(chunk.folder) / chunk.name
    write_lhco(path, particles, np.full(len(particles), card.label, dtype=np.int8))
    statistics = {
        "generated": generated,
        "triggered": have,
        "sigma_pb": float(pythia.infoPython().sigmaGen()) * 1e9,  # mb -> pb
        "cpu_seconds": round(time.process_time() - start, 3),
    }
    atomic_write_text(path.with_suffix(".json"), json.dumps(statistics))
    return statistics


def _chunk_done(chunk: DijetChunk) -> bool:
    path = Path(chunk.folder) / chunk.name
    if not (path.is_file() and path.with_suffix(".json").is_file()):
        return False
    try:
        return count_lhco_events(path) == chunk.n_events
    except Exception:  # damaged by an interruption: generate it again
        return False


def _generate(chunks: list[DijetChunk], *, workers: int, progress: bool) -> dict[str, Any]:
    """Generate every chunk not done yet (each writes its own file); this run's statistics."""
    return run_missing_chunks(
        generate_dijet_chunk,
        chunks,
        done=_chunk_done,
        save=None,
        workers=workers,
        progress=progress,
        what="embedded LHCO dijets",
        label="embedded-LHCO",
        entry_point="ensure_embedded_lhco",
    )


def _publish(
    final: Path,
    work: Path,
    chunks: list[DijetChunk],
    parameters: dict[str, Any],
    statistics: dict[str, Any],
) -> None:
    """Move the chunk files into ``final`` and write the manifest last."""
    final.mkdir(parents=True, exist_ok=True)
    (final / MANIFEST).unlink(missing_ok=True)  # incomplete until the new manifest is written
    files, per_process = [], {}
    for chunk in chunks:
        source = work / chunk.name
        chunk_statistics = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
        source.replace(final / chunk.name)
        path = final / chunk.name
        files.append(
            {
                "path": chunk.name,
                "process": chunk.process,
                "n_events": chunk.n_events,
                "sha256": sha256_of(path),
                "size_bytes": path.stat().st_size,
            }
        )
        total = per_process.setdefault(
            chunk.process, {"generated": 0, "triggered": 0, "cpu_seconds": 0.0, "sigma_pb": []}
        )
        for key in ("generated", "triggered", "cpu_seconds"):
            total[key] += chunk_statistics[key]
        total["sigma_pb"].append(chunk_statistics["sigma_pb"])
    for total in per_process.values():
        total["trigger_efficiency"] = total["triggered"] / total["generated"]
        total["sigma_pb"] = float(np.mean(total.pop("sigma_pb")))
    manifest = {
        "parameters": parameters,
        "files": files,
        "versions": {
            "cern_ai_bench": __version__,
            **{name: importlib.metadata.version(name) for name in ("pythia8mc", "fastjet")},
        },
        "statistics": {**statistics, "processes": per_process},
    }
    atomic_write_text(final / MANIFEST, json.dumps(manifest, indent=2) + "\n")
