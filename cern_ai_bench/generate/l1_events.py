"""The embedded L1 sample: plan, generate in parallel, resume, cache (ADC2021 format).

:func:`ensure_embedded_l1` returns the paths of six files in the ADC2021 HDF5 format
(:mod:`cern_ai_bench.data.adc2021_io`), generating them first if needed, under the public file
names so that :func:`cern_ai_bench.data.adc2021.resolve_adc2021` finds them in the sample folder:

| role | file | content |
|---|---|---|
| ``background_train`` | ``background_for_training.h5`` | SM cocktail, ``n_background_train`` events |
| ``background_test`` | ``background_for_testing.h5`` | SM cocktail, ``n_background_test`` independent events |
| ``ato4l`` ... | the current public signal names | ``n_signal`` events of each signal |

Physics: Pythia 8 cards of :mod:`cern_ai_bench.generate.l1_processes`, toy detector and lepton
filter of :mod:`cern_ai_bench.generate.l1_detector`. Each background file holds every SM process
in exactly the ADC2021 proportions of accepted events (W 59.2 %, QCD 33.8 %, Z 6.7 %, ttbar 0.3 %,
largest-remainder rounding), shuffled with a seeded generator.

Cache: the files live in ``data_dir / "embedded_l1" / <key>``, where ``key`` hashes every
parameter that changes them (sizes, seed, cards, detector, versions, chunking). The folder is
complete once ``manifest.json`` (written last, with the parameters, each file's SHA-256, the
per-process filter efficiencies, cross-sections and CPU times) lists files of the recorded sizes.

Resume: each finished chunk is saved at once into ``<key>.partial`` beside the sample
(:mod:`cern_ai_bench.generate.l1_output`); a rerun with the same parameters loads the chunks found
there and generates only the missing ones.

Reproducibility: every process's events are made in fixed chunks of at most
:data:`EVENTS_PER_CHUNK` accepted events; chunk ``i`` of process ``p`` runs a fresh Pythia with a
seed and a detector generator derived from ``(seed, p, i)`` only, so the files depend on the
parameters alone, not on the number of worker processes or on interruptions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from cern_ai_bench.data.sources import ADC2021_SAMPLE_FILES
from cern_ai_bench.generate.jets_output import is_complete
from cern_ai_bench.generate.l1_detector import DETECTOR, reconstruct
from cern_ai_bench.generate.l1_output import (
    L1Chunk,
    L1ChunkResult,
    L1ChunkStore,
    OutputFile,
    publish_l1,
)
from cern_ai_bench.generate.l1_processes import (
    BACKGROUND_FRACTIONS,
    COMMON_SETTINGS,
    MAX_PYTHIA_SEED,
    PHYSICS_VERSION,
    PROCESSES,
    SIGNALS,
    final_state,
    make_pythia,
)
from cern_ai_bench.generate.parameters import check_int, sample_key
from cern_ai_bench.generate.pool import cpu_count, run_missing_chunks
from cern_ai_bench.generate.substructure import silence_fastjet_banner

__all__ = [
    "EVENTS_PER_CHUNK",
    "FILE_NAMES",
    "allocate",
    "ensure_embedded_l1",
    "generate_l1_chunk",
    "plan_chunks",
    "plan_outputs",
    "sample_key",
    "sample_parameters",
]

log = logging.getLogger(__name__)

#: Version of the orchestration (chunk seeds, mixing, file layout); part of the cache key.
GENERATOR_VERSION = 1
#: Accepted events per unit of parallel work (also the granularity of resume and progress).
EVENTS_PER_CHUNK = 2000
#: Largest number of events per ``Pythia.nextBatch`` call (bounds memory).
MAX_BATCH_EVENTS = 500
#: A chunk gives up when its efficiency falls below this fraction of the card's expectation.
MIN_EFFICIENCY_RATIO = 0.05
#: Suffix of the work folder of finished chunks, ``<key>.partial``, beside the sample folder.
WORK_SUFFIX = ".partial"
#: Output file of each role: the public ADC2021 names (current generation for the signals; the
#: testing file is named as in the organisers' export script).
FILE_NAMES: dict[str, str] = {
    "background_train": "background_for_training.h5",
    "background_test": "background_for_testing.h5",
    **{signal: ADC2021_SAMPLE_FILES[signal][0][0] for signal in SIGNALS},
}


def ensure_embedded_l1(
    data_dir: str | Path,
    *,
    n_background_train: int,
    n_background_test: int,
    n_signal: int,
    seed: int = 1,
    workers: int = 0,
    progress: bool = True,
) -> dict[str, Path]:
    """Paths of the embedded L1 files, generating them if they are not cached yet.

    Args:
        data_dir: cache root; the files live in ``data_dir/embedded_l1/<key>/``.
        n_background_train: events of the training background file (>= 1).
        n_background_test: events of the independent test background file (>= 1).
        n_signal: events of each of the four signal files (>= 1).
        seed: sample seed; the same parameters always give the same files.
        workers: worker processes (0 = one per CPU core); does not change the output.
        progress: show a progress bar over accepted events.

    Returns:
        ``{role: path}`` for the roles of :data:`FILE_NAMES` (``background_train``,
        ``background_test``, ``ato4l``, ``leptoquark``, ``h0_tautau``, ``hplus_taunu``).

    Raises:
        GeneratorParameterError: an invalid parameter (a ``ValueError`` naming it).
        RuntimeError: Pythia failed, or a worker process died.
    """
    parameters = sample_parameters(
        n_background_train=n_background_train,
        n_background_test=n_background_test,
        n_signal=n_signal,
        seed=seed,
    )
    check_int("workers", workers, 0)
    root = Path(data_dir) / "embedded_l1"
    final = root / sample_key(parameters)
    paths = {role: final / name for role, name in FILE_NAMES.items()}
    if is_complete(final, parameters):
        log.debug("embedded L1 sample cached at %s", final)
        return paths
    store = L1ChunkStore(root / f"{final.name}{WORK_SUFFIX}")
    chunks = plan_chunks(parameters)
    statistics = _generate(store, chunks, workers=workers or cpu_count(), progress=progress)
    publish_l1(final, store, chunks, plan_outputs(parameters), parameters, statistics)
    store.remove()
    return paths


def sample_parameters(
    *, n_background_train: int, n_background_test: int, n_signal: int, seed: int
) -> dict[str, Any]:
    """Every parameter that changes the generated files, validated, JSON-shaped.

    Raises:
        GeneratorParameterError: an invalid parameter.
    """
    check_int("n_background_train", n_background_train, 1)
    check_int("n_background_test", n_background_test, 1)
    check_int("n_signal", n_signal, 1)
    check_int("seed", seed, 0)
    parameters = {
        "generator": "cern_ai_bench.embedded_l1",
        "generator_version": GENERATOR_VERSION,
        "physics_version": PHYSICS_VERSION,
        "pythia8mc": importlib.metadata.version("pythia8mc"),
        "common_settings": COMMON_SETTINGS,
        "processes": {key: dataclasses.asdict(card) for key, card in PROCESSES.items()},
        "detector": dataclasses.asdict(DETECTOR),
        "background_fractions": BACKGROUND_FRACTIONS,
        "signals": SIGNALS,
        "n_background_train": n_background_train,
        "n_background_test": n_background_test,
        "n_signal": n_signal,
        "seed": seed,
        "events_per_chunk": EVENTS_PER_CHUNK,
    }
    # Through JSON once, so tuples become lists exactly as in the manifest read back.
    return json.loads(json.dumps(parameters))


def allocate(total: int, fractions: dict[str, float]) -> dict[str, int]:
    """Split ``total`` events by ``fractions`` (largest remainder: exact sum, ties in key order)."""
    norm = sum(fractions.values())
    exact = {key: total * value / norm for key, value in fractions.items()}
    counts = {key: math.floor(value) for key, value in exact.items()}
    by_remainder = sorted(fractions, key=lambda key: counts[key] - exact[key])
    for key in by_remainder[: total - sum(counts.values())]:
        counts[key] += 1
    return counts


def plan_outputs(parameters: dict[str, Any]) -> list[OutputFile]:
    """The output files and the rows each takes from each process (see the module doc)."""
    fractions = parameters["background_fractions"]
    train = allocate(parameters["n_background_train"], fractions)
    test = allocate(parameters["n_background_test"], fractions)
    seed = parameters["seed"]
    outputs = [
        OutputFile(
            "background_train",
            FILE_NAMES["background_train"],
            {p: (0, train[p]) for p in fractions},
            shuffle_seed=(seed, 0),
        ),
        OutputFile(
            "background_test",
            FILE_NAMES["background_test"],
            {p: (train[p], train[p] + test[p]) for p in fractions},
            shuffle_seed=(seed, 1),
        ),
    ]
    n_signal = parameters["n_signal"]
    outputs += [OutputFile(s, FILE_NAMES[s], {s: (0, n_signal)}, None) for s in SIGNALS]
    return outputs


def plan_chunks(parameters: dict[str, Any]) -> list[L1Chunk]:
    """The fixed list of chunks (process-major, then chunk index; empty processes have none)."""
    needed: dict[str, int] = {}
    for output in plan_outputs(parameters):
        for process, (_, stop) in output.rows.items():
            needed[process] = max(needed.get(process, 0), stop)
    chunks = []
    size = parameters["events_per_chunk"]
    for process in PROCESSES:
        for index, start in enumerate(range(0, needed.get(process, 0), size)):
            pythia_seed, detector_seed = chunk_seeds(parameters["seed"], process, index)
            chunks.append(
                L1Chunk(
                    process=process,
                    index=index,
                    n_events=min(size, needed[process] - start),
                    pythia_seed=pythia_seed,
                    detector_seed=detector_seed,
                )
            )
    return chunks


def chunk_seeds(seed: int, process: str, index: int) -> tuple[int, int]:
    """Pythia seed (in ``[1, MAX_PYTHIA_SEED]``) and detector seed of one chunk."""
    digest = hashlib.sha256(f"embedded_l1:{seed}:{process}:{index}".encode()).digest()
    pythia_seed = int.from_bytes(digest[:8], "big") % MAX_PYTHIA_SEED + 1
    return pythia_seed, int.from_bytes(digest[8:16], "big")


def generate_l1_chunk(chunk: L1Chunk) -> L1ChunkResult:
    """Generate the accepted events of one chunk (runs in a worker process).

    Raises:
        RuntimeError: Pythia failed, or the filter efficiency stayed far below the card's
            expectation (a misconfiguration rather than bad luck).
    """
    silence_fastjet_banner()
    card = PROCESSES[chunk.process]
    detector = dataclasses.replace(DETECTOR, lepton_isolation=card.isolated_leptons)
    rng = np.random.default_rng(chunk.detector_seed)
    start = time.process_time()
    pythia = make_pythia(card, chunk.pythia_seed)
    result = L1ChunkResult(particles=np.empty((0,)))
    result.cpu_seconds_pythia = time.process_time() - start
    floor = MIN_EFFICIENCY_RATIO * card.expected_efficiency
    kept: list[np.ndarray] = []
    have = 0
    while have < chunk.n_events:
        if result.generated > 1000 and result.accepted < floor * result.generated:
            raise RuntimeError(
                f"process {chunk.process!r}: only {result.accepted} of {result.generated} events "
                f"passed the lepton filter (expected a fraction of {card.expected_efficiency}); "
                "check the process settings"
            )
        # Size the batch from the efficiency so far (the card's before the first pass).
        efficiency = max(
            result.accepted / result.generated if result.accepted else card.expected_efficiency,
            floor,
        )
        size = min(MAX_BATCH_EVENTS, math.ceil((chunk.n_events - have) / efficiency) + 5)
        start = time.process_time()
        batch = final_state(pythia.nextBatch(size))
        middle = time.process_time()
        particles, passed = reconstruct(batch, rng, detector)
        result.cpu_seconds_detector += time.process_time() - middle
        result.cpu_seconds_pythia += middle - start
        result.generated += len(batch)
        result.accepted += int(np.count_nonzero(passed))
        kept.append(particles[passed])
        have += kept[-1].shape[0]
    result.particles = np.concatenate(kept)[: chunk.n_events]
    result.sigma_pb = float(pythia.infoPython().sigmaGen()) * 1e9  # mb -> pb
    return result


def _generate(
    store: L1ChunkStore, chunks: list[L1Chunk], *, workers: int, progress: bool
) -> dict[str, Any]:
    """Generate (and save) every chunk the store lacks; return this run's statistics."""
    return run_missing_chunks(
        generate_l1_chunk,
        chunks,
        done=store.has,
        save=store.save,
        workers=workers,
        progress=progress,
        what="embedded L1 events",
        label="embedded-L1",
        entry_point="ensure_embedded_l1",
    )
