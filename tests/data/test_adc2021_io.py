"""ADC2021 HDF5 files: round trip, the published layout, flat features, and every bad input."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np
import pytest

from cern_ai_bench.data import adc2021_io
from cern_ai_bench.data.adc2021_io import (
    FLAT_FEATURE_NAMES,
    adc2021_file_writer,
    count_adc2021,
    filled_mask,
    iter_adc2021,
    read_adc2021,
    read_evt_id,
    to_features,
    write_adc2021,
)
from cern_ai_bench.data.errors import (
    CorruptFileError,
    DataError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.schema import SchemaError

CLASSES = [b"MET_class_1", b"Four_Ele_class_2", b"Four_Mu_class_3", b"Ten_Jet_class_4"]


def events(n: int, seed: int = 0) -> np.ndarray:
    """Valid (n, 19, 4) events: MET, 1-2 electrons, 0-1 muon, 0-3 jets, zeros elsewhere."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 19, 4), np.float32)

    def fill(slots: list[int], label: int, keep: np.ndarray) -> None:
        for slot in slots:
            pt = rng.uniform(5, 200, n) * keep
            out[:, slot, 0] = pt
            out[:, slot, 1] = rng.uniform(-2.5, 2.5, n) * keep
            out[:, slot, 2] = rng.uniform(-math.pi, math.pi, n) * keep
            out[:, slot, 3] = label * keep

    everyone = np.ones(n, bool)
    fill([0], 1, everyone)
    out[:, 0, 1] = 0.0  # MET has no eta
    fill([1], 2, everyone)
    fill([2], 2, rng.random(n) < 0.5)
    fill([5], 3, rng.random(n) < 0.5)
    fill([9, 10, 11], 4, rng.random(n) < 0.7)
    return out


def write_raw(path: Path, **datasets: np.ndarray) -> Path:
    """A file written the way the organisers' export script writes (plain h5py, gzip)."""
    with h5py.File(path, "w") as handle:
        for key, data in datasets.items():
            handle.create_dataset(key, data=data, compression="gzip")
    return path


def public_file(path: Path, particles: np.ndarray, **extra: np.ndarray) -> Path:
    names = np.array([b"Pt", b"Eta", b"Phi", b"Class"])
    return write_raw(
        path,
        Particles=particles,
        Particles_Names=names,
        Particles_Classes=np.array(CLASSES),
        **extra,
    )


def test_round_trip_and_published_layout(tmp_path: Path) -> None:
    particles = events(300)
    ids = np.arange(1000, 1300, dtype=np.int64)
    path = write_adc2021(tmp_path / "out.h5", particles, evt_id=ids)
    with h5py.File(path, "r") as handle:
        assert set(handle) == {"Particles", "Particles_Names", "Particles_Classes", "EvtId"}
        assert handle["Particles"].shape == (300, 19, 4)
        assert handle["Particles"].dtype == np.float64
        assert handle["EvtId"].dtype == np.int64
        assert list(handle["Particles_Names"][()]) == [b"Pt", b"Eta", b"Phi", b"Class"]
        assert handle["Particles_Names"].dtype.kind == "S"  # fixed-length bytes, as published
        assert list(handle["Particles_Classes"][()]) == CLASSES
        assert all(handle[key].compression == "gzip" for key in handle)
    back = read_adc2021(path)
    assert back.dtype == np.float32 and back.shape == (300, 19, 4)
    np.testing.assert_array_equal(back, particles)
    np.testing.assert_array_equal(read_evt_id(path), ids)
    np.testing.assert_array_equal(read_evt_id(path, start=10, max_events=3), [1010, 1011, 1012])
    assert count_adc2021(path) == 300
    assert not list(tmp_path.glob("*.part"))  # the atomic write left nothing behind
    assert read_evt_id(write_adc2021(tmp_path / "no_ids.h5", particles[:4])) is None


def test_reads_a_file_written_like_the_export_script(tmp_path: Path) -> None:
    """float64 Particles from plain h5py with gzip, the names copied as bytes."""
    particles = events(50).astype(np.float64)
    path = public_file(tmp_path / "public.h5", particles)
    np.testing.assert_array_equal(read_adc2021(path), particles.astype(np.float32))


def test_start_max_events_and_chunked_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(adc2021_io, "WRITE_CHUNK_EVENTS", 16)
    particles = events(200)
    path = write_adc2021(tmp_path / "out.h5", particles)
    with h5py.File(path, "r") as handle:
        assert handle["Particles"].chunks == (16, 19, 4)
    np.testing.assert_array_equal(read_adc2021(path, max_events=7), particles[:7])
    np.testing.assert_array_equal(
        read_adc2021(path, start=37, max_events=50, chunk_events=20), particles[37:87]
    )
    assert len(read_adc2021(path, start=190, max_events=100)) == 10

    # Blocks never exceed chunk_events, are aligned to the 16-event HDF5 chunks, cover the span.
    blocks = list(iter_adc2021(path, 40, start=5))
    assert [len(b) for b in blocks] == [27, 32, 32, 32, 32, 32, 8]  # 5-32, 32-64, ..., 192-200
    np.testing.assert_array_equal(np.concatenate(blocks), particles[5:])
    assert max(len(b) for b in iter_adc2021(path, 10)) == 10  # smaller than a chunk: as asked

    # Only one block is ever read from the file at a time.
    sizes: list[int] = []
    real_read = adc2021_io._read

    def spy(path: Path, read: Callable[[], np.ndarray]) -> np.ndarray:
        values = real_read(path, read)
        if values.ndim == 3:  # event blocks, not the column names
            sizes.append(len(values))
        return values

    monkeypatch.setattr(adc2021_io, "_read", spy)
    read_adc2021(path, chunk_events=48)
    assert max(sizes) == 48 and sum(sizes) == 200
    with pytest.raises(ValueError, match="start=200 lies outside the file's 200 events"):
        read_adc2021(path, start=200)
    with pytest.raises(ValueError, match="chunk_events must be >= 1"):
        iter_adc2021(path, 0)


def test_incremental_writer_appends_and_is_atomic(tmp_path: Path) -> None:
    particles = events(30)
    path = tmp_path / "blocks.h5"
    with adc2021_file_writer(path, with_evt_id=True) as writer:
        writer.write(particles[:12], np.arange(12))
        writer.write(particles[12:], np.arange(12, 30))
    np.testing.assert_array_equal(read_adc2021(path), particles)
    np.testing.assert_array_equal(read_evt_id(path), np.arange(30))

    broken = particles.copy()
    broken[19, 5, 0] = -1.0
    target = tmp_path / "broken.h5"
    with (
        pytest.raises(SchemaError, match=r"negative pT -1 GeV at event 19, slot 5 \(muon 1\)"),
        adc2021_file_writer(target) as writer,
    ):
        writer.write(particles[:12])
        writer.write(broken[12:])
    assert not target.exists()
    with pytest.raises(SchemaError, match="no event written"), adc2021_file_writer(target):
        pass
    assert not target.exists() and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda p: p.__setitem__((3, 1, 0), np.nan), "particles: non-finite value nan at event 3"),
        (lambda p: p.__setitem__((0, 2, 2), 4.0), r"phi 4 at event 0, slot 2 \(electron 2\)"),
        (lambda p: p.__setitem__((1, 1, 3), 3.0), r"class id 3 at event 1, slot 1"),
        (lambda p: p.__setitem__(2, 0.0), "event 2 has no object"),
    ],
)
def test_write_refuses_invalid_events(
    tmp_path: Path, change: Callable[[np.ndarray], None], match: str
) -> None:
    particles = events(5)
    change(particles)
    with pytest.raises(SchemaError, match=match):
        write_adc2021(tmp_path / "bad.h5", particles)
    with pytest.raises(SchemaError, match=r"expected shape \(N, 19, 4\), got \(5, 19, 3\)"):
        write_adc2021(tmp_path / "bad.h5", particles[:, :, :3])
    assert not list(tmp_path.iterdir())


# --- flat features and masks ----------------------------------------------------------------


def test_to_features_drops_the_class_column_slot_major() -> None:
    particles = events(4)
    flat = to_features(particles)
    assert flat.shape == (4, 57) and flat.dtype == np.float32
    # The example code's Particles[:, :, :-1].reshape(N, 57), written out by hand for event 1.
    expected = [particles[1, slot, column] for slot in range(19) for column in range(3)]
    np.testing.assert_array_equal(flat[1], expected)
    assert FLAT_FEATURE_NAMES[:4] == ("MET_pt", "MET_eta", "MET_phi", "electron1_pt")
    assert FLAT_FEATURE_NAMES[27:30] == ("jet1_pt", "jet1_eta", "jet1_phi")
    assert FLAT_FEATURE_NAMES[-1] == "jet10_phi" and len(set(FLAT_FEATURE_NAMES)) == 57
    np.testing.assert_array_equal(to_features(particles[:, :, :3]), flat)
    with pytest.raises(SchemaError, match=r"\(N, 19, 4\) or \(N, 19, 3\), got \(4, 57\)"):
        to_features(flat)


def test_filled_mask_follows_pt_through_the_export_quirk(tmp_path: Path) -> None:
    """The export zeroes pT and eta of jets beyond |eta| = 4 but keeps phi and class 4."""
    event = np.zeros((1, 19, 4), np.float32)
    event[0, 0] = [35.0, 0.0, 0.3, 1]  # MET
    event[0, 1] = [40.0, 1.2, -0.5, 2]  # leading electron
    event[0, 9] = [80.0, 0.4, 2.0, 4]  # jet 1
    event[0, 10] = [0.0, 0.0, 1.1, 4]  # jet 2 removed by the |eta| > 4 cut: phi and class kept
    event[0, 11] = [25.0, -3.1, -2.9, 4]  # jet 3 kept, after the gap
    mask = filled_mask(event)
    assert mask.shape == (1, 19)
    assert np.flatnonzero(mask[0]).tolist() == [0, 1, 9, 11]
    assert (event[0, :, 3] > 0).sum() == 5  # class ids would wrongly count the removed jet
    # Such an event is valid: the reader accepts it unchanged.
    path = public_file(tmp_path / "quirk.h5", event.astype(np.float64))
    np.testing.assert_array_equal(read_adc2021(path), event)


# --- bad input ------------------------------------------------------------------------------


def test_missing_file_not_hdf5_and_truncated(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError) as caught:
        read_adc2021(tmp_path / "absent.h5")
    assert caught.value.path == tmp_path / "absent.h5" and isinstance(caught.value, DataError)
    with pytest.raises(MissingFileError):
        iter_adc2021(tmp_path / "absent.h5")  # fails on the call, before the first block
    text = tmp_path / "text.h5"
    text.write_text("not an HDF5 file")
    with pytest.raises(CorruptFileError, match="truncated or corrupt") as corrupt:
        read_adc2021(text)
    assert str(text) in str(corrupt.value)

    data = write_adc2021(tmp_path / "full.h5", events(3000, seed=1)).read_bytes()
    for fraction in (0.5, 0.95):
        cut = tmp_path / f"cut_{fraction}.h5"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(CorruptFileError, match="truncated or corrupt") as caught_cut:
            read_adc2021(cut)
        assert str(cut) in str(caught_cut.value)


@pytest.mark.parametrize(
    ("datasets", "match"),
    [
        (
            {"particles": np.ones((2, 19, 4))},
            r"missing key 'Particles'.*found keys \['particles'\]",
        ),
        (
            {"Particles": np.ones((2, 19, 3))},
            r"expected shape \(N, 19, 4\).*found shape \(2, 19, 3\) \(the class column is missing",
        ),
        ({"Particles": np.ones((2, 57))}, r"found shape \(2, 57\)"),
        ({"Particles": np.ones((2, 4, 19))}, r"found shape \(2, 4, 19\)"),
        ({"Particles": np.zeros((0, 19, 4))}, r"holds no events \(shape \(0, 19, 4\)\)"),
        ({"Particles": np.full((2, 19, 4), b"x")}, "expected real numbers"),
    ],
)
def test_wrong_keys_shapes_and_empty_files(
    tmp_path: Path, datasets: dict[str, np.ndarray], match: str
) -> None:
    path = write_raw(tmp_path / "bad.h5", **datasets)
    with pytest.raises(FormatError, match=match) as caught:
        count_adc2021(path)
    assert str(path) in str(caught.value)
    with pytest.raises(FormatError, match=match):
        read_adc2021(path)


def test_column_names_and_evt_id_are_checked(tmp_path: Path) -> None:
    particles = events(6)
    names = np.array([b"Eta", b"Pt", b"Phi", b"Class"])
    path = write_raw(tmp_path / "swapped.h5", Particles=particles, Particles_Names=names)
    with pytest.raises(FormatError, match="'Particles_Names' is \\['Eta', 'Pt', 'Phi', 'Class'\\]"):
        read_adc2021(path)
    path = public_file(tmp_path / "ids.h5", particles, EvtId=np.arange(5))
    with pytest.raises(FormatError, match="'EvtId': expected 6 integers"):
        read_evt_id(path)


@pytest.mark.parametrize(
    ("slot", "column", "value", "error", "match"),
    [
        (
            3,
            1,
            np.nan,
            NonFiniteError,
            r"non-finite value nan at event 1234, slot 3 \(electron 3\), column 'Eta'",
        ),
        (
            12,
            0,
            np.inf,
            NonFiniteError,
            r"non-finite value inf at event 1234, slot 12 \(jet 4\), column 'Pt'",
        ),
        (9, 0, -5.0, FormatError, r"negative pT -5 GeV at event 1234, slot 9 \(jet 1\)"),
        (0, 2, 3.3, FormatError, r"phi 3\.3 at event 1234, slot 0 \(MET\).*\[-pi, pi\]"),
        (1, 3, 4.0, FormatError, r"class id 4 at event 1234, slot 1 \(electron 1\).*class id 2"),
    ],
)
def test_bad_values_name_file_key_event_and_slot(
    tmp_path: Path, slot: int, column: int, value: float, error: type, match: str
) -> None:
    particles = events(2000, seed=2).astype(np.float64)
    particles[1234, slot, column] = value
    particles[1500, slot, column] = value  # a later one: the first is reported
    path = public_file(tmp_path / "bad.h5", particles)
    with pytest.raises(error, match=match) as caught:
        read_adc2021(path, chunk_events=500)
    assert str(path) in str(caught.value) and "'Particles'" in str(caught.value)
    assert len(read_adc2021(path, max_events=1234)) == 1234  # only what is read is checked


def test_event_without_objects_is_an_error(tmp_path: Path) -> None:
    particles = events(40).astype(np.float64)
    particles[17] = 0.0
    particles[30, :, 0] = 0.0  # pT gone everywhere, other columns left: empty too
    path = public_file(tmp_path / "empty.h5", particles)
    with pytest.raises(FormatError, match=r"event 17 has no object .*first of 2 such events"):
        read_adc2021(path)
    np.testing.assert_array_equal(read_adc2021(path, start=18, max_events=5), particles[18:23])


def test_phi_tolerance_admits_float_rounding_of_pi(tmp_path: Path) -> None:
    particles = events(3).astype(np.float64)
    particles[0, 0, 2] = np.float32(math.pi)  # float32 pi is 9e-8 above pi
    particles[1, 0, 2] = -math.pi
    path = public_file(tmp_path / "pi.h5", particles)
    assert read_adc2021(path)[0, 0, 2] == np.float32(math.pi)
