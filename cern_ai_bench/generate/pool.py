"""Run the chunks of an embedded generator in this process or in spawned worker processes.

Shared by the jet (:mod:`cern_ai_bench.generate.jets`) and shower
(:mod:`cern_ai_bench.generate.showers`) generators: they plan fixed chunks, hand them to
:func:`run_chunks` and store each result as it arrives, so their output does not depend on the
number of workers nor on the completion order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")


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
