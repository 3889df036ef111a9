"""The worker pool of the embedded generators: in-process path, spawned workers, dead workers."""

from __future__ import annotations

import os

import pytest

from cern_ai_bench.generate.pool import cpu_count, run_chunks


def test_one_worker_runs_in_this_process_in_order() -> None:
    seen: list[int] = []

    def work(chunk: int) -> int:  # a closure: only the in-process path can run it
        seen.append(chunk)
        return -chunk

    results = run_chunks(work, [3, 1, 2], workers=1, label="test", entry_point="f")
    assert not seen  # nothing runs before the first next()
    assert list(results) == [(3, -3), (1, -1), (2, -2)]
    # More workers than chunks: still in this process.
    assert list(run_chunks(work, [5], workers=4, label="test", entry_point="f")) == [(5, -5)]


def test_spawned_workers_return_every_chunk_with_its_result() -> None:
    results = run_chunks(abs, [-1, -2, -3], workers=2, label="test", entry_point="f")
    assert sorted(results) == [(-3, 3), (-2, 2), (-1, 1)]


def test_a_dead_worker_names_the_generator_and_the_guard() -> None:
    chunks = run_chunks(os._exit, [1, 1], workers=2, label="embedded-test", entry_point="ensure_x")
    with pytest.raises(RuntimeError, match=r"an embedded-test worker process died") as caught:
        list(chunks)
    assert "a script calling ensure_x must guard it with `if __name__ == '__main__':`" in str(
        caught.value
    )


def test_cpu_count_is_positive() -> None:
    assert cpu_count() >= 1
