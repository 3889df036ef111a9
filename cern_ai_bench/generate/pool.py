"""Run the chunks of an embedded generator in this process or in spawned worker processes.

Shared by the jet, shower, L1 and LHCO generators: they plan fixed chunks, hand the ones not
done yet to :func:`run_missing_chunks` and store each result as it arrives, so their output does
not depend on the number of workers, on the completion order nor on interruptions.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar

from tqdm.auto import tqdm

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

log = logging.getLogger(__name__)


def run_chunks(
    work: Callable[[Chunk], Result],
    chunks: Sequence[Chunk],
    *,
    workers: int,
    label: str,
    entry_point: str,
) -> Iterator[tuple[Chunk, Result]]:
    """Run ``work`` on every chunk, in this process (one worker) or in spawned processes.

    Yields each chunk with its result as soon as it is done (in completion order; with one
    worker, in the order of ``chunks``). Nothing starts before the first ``next()``.

    Args:
        work: a module-level function (spawned workers import it by name).
        chunks: the units of work.
        workers: worker processes; at most ``len(chunks)`` are started, and with 1 (or fewer)
            everything runs in this process.
        label: what the workers are, in the error message (``"embedded-jet"``).
        entry_point: the public function that runs them, in the error message
            (``"ensure_embedded_jets"``).

    Raises:
        RuntimeError: a worker process died (e.g. an unguarded script re-ran on import).
    """
    workers = min(workers, len(chunks))
    if workers <= 1:
        for chunk in chunks:
            yield chunk, work(chunk)
        return
    # spawn: no state (Pythia and FastJet C++ state, threads, RNGs, open HDF5 handles) is
    # inherited through fork. A pool of concurrent.futures (unlike multiprocessing.Pool) fails
    # instead of hanging when a worker dies.
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {pool.submit(work, chunk): chunk for chunk in chunks}
        for future in as_completed(futures):
            yield futures[future], future.result()
    except BrokenProcessPool as error:
        raise RuntimeError(
            f"an {label} worker process died. Workers are spawned and import the main "
            f"module: a script calling {entry_point} must guard it with "
            "`if __name__ == '__main__':` (or pass workers=1)"
        ) from error
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def cpu_count() -> int:
    """CPU cores this process may use (respects affinity masks, e.g. in containers and CI)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def run_missing_chunks(
    work: Callable[[Chunk], Result],
    chunks: Sequence[Chunk],
    *,
    done: Callable[[Chunk], bool],
    save: Callable[[Chunk, Result], None] | None,
    workers: int,
    progress: bool,
    what: str,
    label: str,
    entry_point: str,
    unit: str = "event",
    size: Callable[[Chunk], int] = attrgetter("n_events"),
    folder: Path | None = None,
) -> dict[str, Any]:
    """Run every chunk that is not ``done`` yet, with a progress bar over ``unit``; return the
    statistics of this run, keyed by ``unit`` (``events_per_second``; a resumed run's earlier
    chunks were timed by the run that made them).

    ``done`` is called once per chunk, in order, before any work starts (so it may also take in
    a saved result); ``size`` gives a chunk's number of ``unit`` (default: its ``n_events``).
    ``save`` handles each result as it arrives (None when ``work`` stores it itself); ``what``
    names the sample in the bar and the resume message, which also names the work ``folder``
    when given; ``label`` and ``entry_point`` are as in :func:`run_chunks`.
    """
    missing = [chunk for chunk in chunks if not done(chunk)]
    total = sum(map(size, chunks))
    todo = sum(map(size, missing))
    if len(missing) < len(chunks):
        log.info(
            "%s: resuming, reused %d of %d chunks (%d of %d %ss)%s",
            what,
            len(chunks) - len(missing),
            len(chunks),
            total - todo,
            total,
            unit,
            "" if folder is None else f" from {folder}",
        )
    start = time.perf_counter()
    with tqdm(total=total, initial=total - todo, desc=what, unit=unit, disable=not progress) as bar:
        for chunk, result in run_chunks(
            work, missing, workers=workers, label=label, entry_point=entry_point
        ):
            if save is not None:
                save(chunk, result)
            bar.update(size(chunk))
    wall = time.perf_counter() - start
    return {
        "workers": workers,
        "chunks": len(chunks),
        "chunks_reused": len(chunks) - len(missing),
        f"{unit}s_generated_this_run": todo,
        "wall_seconds": round(wall, 3),
        f"{unit}s_per_second": round(todo / wall, 3) if todo and wall > 0 else None,
    }
