"""The embedded hls4ml-like jet sample: plan, generate in parallel, write, cache.

:func:`ensure_embedded_jets` returns a folder with ``train/`` and ``val/`` subfolders of files in
the hls4ml raw HDF5 format (:mod:`cern_ai_bench.generate.hls4ml_writer`), generating it first if
needed. The folder is ``data_dir / "embedded_jets" / <key>``, where ``key`` is a short hash of
every parameter that changes the jets; it counts as complete only once ``manifest.json`` (written
last, with the parameters and each file's SHA-256) is there. The files are written into a
temporary folder that is renamed into place at the end, so an interrupted run never leaves a
folder that reads as complete.

Resume: each finished chunk is saved at once into the work folder ``<key>.partial`` beside the
sample (:mod:`cern_ai_bench.generate.chunk_store`); a rerun with the same parameters loads the
chunks found there and generates only the missing ones. The work folder (which also holds the
temporary folder of the files) is deleted once the sample is complete.

Reproducibility: the work is split into fixed chunks (class, chunk index) of at most
:data:`JETS_PER_CHUNK` jets, each with a Pythia seed derived from (seed, class, chunk); results
are assembled in chunk order and shuffled with a seeded generator, so the files depend on the
parameters only, not on the number of worker processes nor on how often the run was resumed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from pathlib import Path
from typing import Any

import numpy as np

from cern_ai_bench.data.hls4ml_columns import JET_FEATURE_NAMES, N_CONSTITUENT_COLUMNS
from cern_ai_bench.data.schema import HLS4ML_CLASSES
from cern_ai_bench.generate.chunk_store import ChunkStore
from cern_ai_bench.generate.hls4ml_writer import JETS_PER_FILE
from cern_ai_bench.generate.jets_output import JetSample, is_complete, publish_sample
from cern_ai_bench.generate.jets_physics import MAX_PYTHIA_SEED, PHYSICS, PHYSICS_VERSION
from cern_ai_bench.generate.jets_pythia import ChunkResult, ChunkTask, generate_chunk
from cern_ai_bench.generate.parameters import check_int, sample_key
from cern_ai_bench.generate.pool import cpu_count, run_missing_chunks

log = logging.getLogger(__name__)

#: Jets per unit of parallel work (also the granularity of the progress bar).
JETS_PER_CHUNK = 500
#: Fraction of each class's jets written to ``train/``; the rest go to ``val/``.
TRAIN_FRACTION = 0.8
#: Fewest jets per class: both splits must get at least one jet of every class.
MIN_JETS_PER_CLASS = 5
#: Suffix of the work folder of finished chunks, ``<key>.partial``, beside the sample folder.
WORK_SUFFIX = ".partial"
#: Per-chunk counters summed per class into the manifest.
_COUNTERS = ("events", "rejected_nonfinite", "seconds_generation", "seconds_features")


def ensure_embedded_jets(
    data_dir: Path,
    *,
    jets_per_class: int,
    seed: int = 1,
    n_constituents: int = 150,
    workers: int = 0,
    progress: bool = True,
) -> Path:
    """Folder of the embedded jet sample, generating it if it is not cached yet.

    An interrupted generation resumes: the chunks it finished are in the work folder
    ``data_dir/embedded_jets/<key>.partial`` and are loaded instead of being generated again.

    Args:
        data_dir: cache root; the sample lives in ``data_dir/embedded_jets/<key>``.
        jets_per_class: jets of each class (g, q, W, Z, t); 80 % go to ``train/``, 20 % to
            ``val/``.
        seed: generator seed; the same parameters always give the same jets.
        n_constituents: constituents stored per jet (pT-leading, zero-padded), ``P``.
        workers: worker processes (0 = one per CPU core); does not change the output.
        progress: show a progress bar over generated jets.

    Returns:
        The folder holding ``train/``, ``val/`` and ``manifest.json``.

    Raises:
        GeneratorParameterError: an invalid parameter (a ``ValueError`` naming it).
    """
    parameters = sample_parameters(
        jets_per_class=jets_per_class, seed=seed, n_constituents=n_constituents
    )
    check_int("workers", workers, 0)
    root = Path(data_dir) / "embedded_jets"
    final = root / sample_key(parameters)
    if is_complete(final, parameters):
        log.debug("embedded jets cached at %s", final)
        return final
    root.mkdir(parents=True, exist_ok=True)
    store = ChunkStore(root / f"{final.name}{WORK_SUFFIX}")
    sample = _collect_chunks(store, parameters, workers=workers or cpu_count(), progress=progress)
    publish_sample(sample, final, store.folder, parameters)
    store.remove()
    return final


def sample_parameters(*, jets_per_class: int, seed: int, n_constituents: int) -> dict[str, Any]:
    """Every parameter that changes the generated files, validated.

    Raises:
        GeneratorParameterError: an invalid parameter (a ``ValueError`` naming it).
    """
    check_int("jets_per_class", jets_per_class, MIN_JETS_PER_CLASS)
    check_int("seed", seed, 0)
    check_int("n_constituents", n_constituents, 1)
    return {
        "generator": "cern_ai_bench.embedded_jets",
        "physics_version": PHYSICS_VERSION,
        "physics": dataclasses.asdict(PHYSICS),
        "classes": list(HLS4ML_CLASSES),
        "jets_per_class": jets_per_class,
        "seed": seed,
        "n_constituents": n_constituents,
        "jets_per_chunk": JETS_PER_CHUNK,
        "train_fraction": TRAIN_FRACTION,
        "jets_per_file": JETS_PER_FILE,
    }


def chunk_seed(seed: int, label: str, index: int) -> int:
    """Pythia seed of one chunk, in ``[1, MAX_PYTHIA_SEED]``, from (seed, class, chunk)."""
    digest = hashlib.sha256(f"embedded_jets:{seed}:{label}:{index}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % MAX_PYTHIA_SEED + 1


def plan_chunks(parameters: dict[str, Any]) -> list[ChunkTask]:
    """The fixed list of chunks of a sample (class-major, then chunk index)."""
    tasks = []
    for label in HLS4ML_CLASSES:
        remaining, index = parameters["jets_per_class"], 0
        while remaining > 0:
            n_jets = min(JETS_PER_CHUNK, remaining)
            tasks.append(
                ChunkTask(
                    label=label,
                    index=index,
                    n_jets=n_jets,
                    pythia_seed=chunk_seed(parameters["seed"], label, index),
                    n_constituents=parameters["n_constituents"],
                    physics=PHYSICS,
                )
            )
            remaining -= n_jets
            index += 1
    return tasks


def _collect_chunks(
    store: ChunkStore, parameters: dict[str, Any], *, workers: int, progress: bool
) -> JetSample:
    """Load the chunks saved by earlier runs, generate (and save) the others, assemble all."""
    tasks = plan_chunks(parameters)
    sizes = [task.n_jets for task in tasks]
    first_row = {
        (task.label, task.index): int(row)
        for task, row in zip(tasks, np.cumsum([0, *sizes[:-1]]), strict=True)
    }
    total = sum(sizes)
    # Filled chunk by chunk in plan order, so the result never depends on completion order.
    features = np.empty((total, len(JET_FEATURE_NAMES)), np.float32)
    constituents = np.empty(
        (total, parameters["n_constituents"], N_CONSTITUENT_COLUMNS), np.float32
    )
    labels = np.repeat([HLS4ML_CLASSES.index(task.label) for task in tasks], sizes)
    classes = {label: dict.fromkeys(("jets", *_COUNTERS), 0) for label in HLS4ML_CLASSES}

    def take(result: ChunkResult) -> None:
        first = first_row[(result.label, result.index)]
        rows = slice(first, first + len(result.features))
        features[rows] = result.features
        constituents[rows] = result.constituents
        for key in _COUNTERS:
            classes[result.label][key] += getattr(result, key)
        classes[result.label]["jets"] += len(result.features)

    def reuse(task: ChunkTask) -> bool:
        if (saved := store.load(task)) is not None:
            take(saved)
        return saved is not None

    def keep(task: ChunkTask, result: ChunkResult) -> None:
        store.save(task, result)
        take(result)

    run = run_missing_chunks(
        generate_chunk,
        tasks,
        done=reuse,
        save=keep,
        workers=workers,
        progress=progress,
        what="embedded jets",
        label="embedded-jet",
        entry_point="ensure_embedded_jets",
        unit="jet",
        size=lambda task: task.n_jets,
        folder=store.folder,
    )
    # The run's timings are of this run only (a resumed run's earlier runs are in the per-class
    # seconds).
    return JetSample(features, constituents, labels, {"classes": classes, **run})
