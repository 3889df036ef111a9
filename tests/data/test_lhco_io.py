"""LHC Olympics 2020 R&D raw format: genuine sample, chunked reading, writer, bad files."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cern_ai_bench.data.errors import (
    CorruptFileError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.lhco_io import (
    N_COLUMNS,
    count_lhco_events,
    iter_lhco,
    read_lhco,
    write_lhco,
)
from cern_ai_bench.data.schema import SchemaError

TINY = Path("lhco") / "events_anomalydetection_tiny.h5"


def random_events(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` events with 1-300 massless particles each (zero-padded) and random labels."""
    rng = np.random.default_rng(seed)
    particles = np.zeros((n, 700, 3))
    counts = rng.integers(1, 300, n)
    filled = np.arange(700) < counts[:, None]
    particles[filled] = np.stack(
        [
            rng.exponential(20.0, filled.sum()) + 1e-3,
            rng.uniform(-4.0, 4.0, filled.sum()),
            rng.uniform(-np.pi, np.pi, filled.sum()),
        ],
        axis=1,
    )
    return particles, rng.integers(0, 2, n)


def write_frame(path: Path, values: np.ndarray, **kwargs) -> Path:
    """Write raw values with pandas, bypassing the writer's checks (for bad files)."""
    pd.DataFrame(values).to_hdf(path, key=kwargs.pop("key", "df"), mode="w", **kwargs)
    return path


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory) -> tuple[Path, np.ndarray, np.ndarray]:
    """2500 written events: several chunks of 1000, the last one partial."""
    particles, labels = random_events(2500)
    path = write_lhco(tmp_path_factory.mktemp("lhco") / "events.h5", particles, labels)
    return path, particles, labels


# -- the genuine sample ---------------------------------------------------------------------


def test_genuine_tiny_file_reads_as_documented(shared_data: Path) -> None:
    path = shared_data / TINY
    assert count_lhco_events(path) == 1000
    events = read_lhco(path)
    assert events.particles.shape == (1000, 700, 3)
    assert np.bincount(events.labels).tolist() == [907, 93]
    counts = events.n_particles
    assert (counts.min(), counts.max()) == (47, 482)
    assert counts.mean() == pytest.approx(169.742)
    # zero padding after the filled slots, and (as documented) the particles are not pT-sorted
    filled = events.particles[..., 0] > 0
    assert (filled.sum(axis=1) == np.argmin(np.c_[filled, np.zeros(1000, bool)], axis=1)).all()
    pt = events.particles[..., 0]
    assert (np.diff(np.where(filled, pt, -1.0), axis=1) > 0).any(axis=1).mean() > 0.9
    assert np.abs(events.particles[..., 2][filled]).max() <= np.pi


def test_genuine_tiny_file_chunks_agree_with_pandas(shared_data: Path) -> None:
    path = shared_data / TINY
    reference = pd.read_hdf(path, "df").to_numpy()
    assert reference.shape == (1000, N_COLUMNS)
    chunks = list(iter_lhco(path, chunk_events=300))
    assert [(len(c), c.start) for c in chunks] == [(300, 0), (300, 300), (300, 600), (100, 900)]
    particles = np.concatenate([c.particles for c in chunks]).reshape(1000, -1)
    np.testing.assert_array_equal(particles, reference[:, :-1])
    np.testing.assert_array_equal(np.concatenate([c.labels for c in chunks]), reference[:, -1])


# -- chunked reading and the writer ------------------------------------------------------------


def test_chunks_equal_one_read_and_the_written_arrays(sample_file) -> None:
    path, particles, labels = sample_file
    chunks = list(iter_lhco(path, chunk_events=1000))
    assert [(len(c), c.start) for c in chunks] == [(1000, 0), (1000, 1000), (500, 2000)]
    whole = read_lhco(path)
    np.testing.assert_array_equal(np.concatenate([c.particles for c in chunks]), whole.particles)
    np.testing.assert_array_equal(np.concatenate([c.labels for c in chunks]), whole.labels)
    np.testing.assert_array_equal(whole.particles, particles)
    np.testing.assert_array_equal(whole.labels, labels)
    for chunk in chunks:
        assert chunk.particles.nbytes + chunk.labels.nbytes <= 1000 * N_COLUMNS * 8


def test_chunked_reading_keeps_memory_bounded(sample_file) -> None:
    path, _, _ = sample_file
    file_bytes = 2500 * N_COLUMNS * 8  # 42 MB if the reader loaded everything
    chunk_bytes = 250 * N_COLUMNS * 8
    tracemalloc.start()
    try:
        n = sum(len(chunk) for chunk in iter_lhco(path, chunk_events=250))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 2500
    assert peak < 4 * chunk_bytes < file_bytes / 2, f"peak {peak / 1e6:.1f} MB"


def test_start_and_max_events(sample_file) -> None:
    path, particles, labels = sample_file
    chunks = list(iter_lhco(path, chunk_events=400, start=1900, max_events=700))
    assert [(len(c), c.start) for c in chunks] == [(400, 1900), (200, 2300)]
    np.testing.assert_array_equal(np.concatenate([c.particles for c in chunks]), particles[1900:])
    assert len(read_lhco(path, max_events=10)) == 10
    np.testing.assert_array_equal(read_lhco(path, start=2495).labels, labels[2495:])


def test_written_file_reads_back_with_pandas(sample_file) -> None:
    path, particles, labels = sample_file
    frame = pd.read_hdf(path, "df")
    assert frame.shape == (2500, N_COLUMNS)
    assert list(frame.columns[:3]) == [0, 1, 2]
    values = frame.to_numpy()
    np.testing.assert_array_equal(values[:, :-1], particles.reshape(2500, -1))
    np.testing.assert_array_equal(values[:, -1], labels)
    part = pd.read_hdf(path, "df", start=1000, stop=1010).to_numpy()
    np.testing.assert_array_equal(part[:, 0:6], particles[1000:1010, :2].reshape(10, 6))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p, y: (p[:, :699], y), "shape"),
        (lambda p, y: (p, y[:-1]), "labels"),
        (lambda p, y: (np.where(np.arange(700)[None, :, None] == 5, np.nan, p), y), "non-finite"),
        (lambda p, y: (p * np.array([-1.0, 1.0, 1.0]), y), "negative pT"),
        (lambda p, y: (p, y + 2), "label 2"),
        (lambda p, y: (np.zeros_like(p), y), "no particle"),
    ],
)
def test_writer_rejects_bad_arrays(tmp_path: Path, change, message: str) -> None:
    particles, labels = random_events(3)
    with pytest.raises(SchemaError, match=message):
        write_lhco(tmp_path / "bad.h5", *change(particles, labels))
    assert list(tmp_path.iterdir()) == []  # atomic: nothing left behind


# -- bad files ----------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match=r"absent.h5"):
        next(iter_lhco(tmp_path / "absent.h5"))


def test_not_hdf5_and_truncated(tmp_path: Path, sample_file) -> None:
    text = tmp_path / "text.h5"
    text.write_text("not an HDF5 file\n")
    with pytest.raises(CorruptFileError, match=r"text.h5"):
        count_lhco_events(text)
    truncated = tmp_path / "truncated.h5"
    data = sample_file[0].read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match=r"truncated.h5.*truncated or corrupt"):
        list(iter_lhco(truncated))


def test_wrong_key_and_table_format(tmp_path: Path) -> None:
    values = np.c_[random_events(3)[0].reshape(3, -1), np.zeros(3)]
    other = write_frame(tmp_path / "other.h5", values, key="events")
    with pytest.raises(FormatError, match=r"no key 'df' \(found \['/events'\]\)"):
        count_lhco_events(other)
    table = write_frame(tmp_path / "table.h5", values[:, :20], format="table")
    with pytest.raises(FormatError, match=r"'table' format"):
        count_lhco_events(table)


def test_wrong_column_count(tmp_path: Path) -> None:
    path = write_frame(tmp_path / "wide.h5", np.ones((4, N_COLUMNS + 1)))
    with pytest.raises(FormatError, match=r"2102 columns.*expected 2101"):
        list(iter_lhco(path))


def bad_file(tmp_path: Path, event: int, column: int, value: float) -> Path:
    particles, labels = random_events(1500, seed=1)
    values = np.c_[particles.reshape(1500, -1), labels].astype(np.float64)
    values[event, column] = value
    return write_frame(tmp_path / "bad.h5", values)


def test_nan_names_event_and_column_across_chunks(tmp_path: Path) -> None:
    path = bad_file(tmp_path, 1234, 3 * 5 + 1, np.nan)
    chunks = iter_lhco(path, chunk_events=1000)
    assert len(next(chunks)) == 1000  # the first chunk is good
    with pytest.raises(NonFiniteError, match=r"bad.h5.*event 1234, column 'eta_5'"):
        next(chunks)


def test_label_not_zero_or_one(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"event 17 has label 0.5 in column 2100"):
        list(iter_lhco(bad_file(tmp_path, 17, 2100, 0.5)))


def test_negative_pt(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match=r"event 3 has negative pT -1.0 GeV for particle 2 "):
        list(iter_lhco(bad_file(tmp_path, 3, 6, -1.0)))


def test_all_zero_event(tmp_path: Path) -> None:
    particles, labels = random_events(5)
    values = np.c_[particles.reshape(5, -1), labels].astype(np.float64)
    values[2, :-1] = 0.0
    path = write_frame(tmp_path / "empty.h5", values)
    with pytest.raises(FormatError, match=r"event 2 has no particle"):
        list(iter_lhco(path))


def test_bad_arguments(sample_file) -> None:
    with pytest.raises(ValueError, match=r"chunk_events"):
        next(iter_lhco(sample_file[0], chunk_events=0))
