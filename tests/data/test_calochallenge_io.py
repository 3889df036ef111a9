"""CaloChallenge HDF5 files: round trip, the published layout, and every kind of bad input."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from cern_ai_bench.data import calochallenge_io
from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.data.calochallenge import read_showers, write_showers
from cern_ai_bench.data.calochallenge_io import (
    count_showers,
    read_shower_rows,
    shower_file_writer,
)
from cern_ai_bench.data.errors import (
    CorruptFileError,
    DataError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.schema import SchemaError
from cern_ai_bench.data.shower_schema import ShowerArrays, ShowerDataset

PHOTONS = get_geometry("ds1_photons")  # 368 voxels: small and quick


def showers(n: int, n_voxels: int = 368, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Log-uniform energies and sparse exponential voxel energies (MeV), float64 like numpy."""
    rng = np.random.default_rng(seed)
    energy = 10 ** rng.uniform(3, 6, n)
    voxels = rng.exponential(5.0, (n, n_voxels)) * (rng.random((n, n_voxels)) < 0.4)
    return energy, voxels


def write_raw(path: Path, **datasets: np.ndarray) -> Path:
    """A file written like the README's snippet (plain h5py, gzip), without any validation."""
    with h5py.File(path, "w") as handle:
        for key, data in datasets.items():
            handle.create_dataset(key, data=data, compression="gzip")
    return path


def test_round_trip_layout_and_dtypes(tmp_path: Path) -> None:
    energy, voxels = showers(50)
    path = write_showers(tmp_path / "out.hdf5", energy, voxels)
    with h5py.File(path, "r") as handle:
        # The README's layout: (N, 1) and (N, V), gzip, float32 (MeV).
        assert set(handle.keys()) == {"incident_energies", "showers"}
        assert handle["incident_energies"].shape == (50, 1)
        assert handle["showers"].shape == (50, 368)
        for key in handle:
            assert handle[key].compression == "gzip"
            assert handle[key].dtype == np.float32
    arrays = read_showers(path, PHOTONS)
    assert arrays.incident_energy.dtype == np.float32 and arrays.showers.dtype == np.float32
    np.testing.assert_array_equal(arrays.incident_energy, energy.astype(np.float32))
    np.testing.assert_array_equal(arrays.showers, voxels.astype(np.float32))
    assert len(arrays) == 50 and arrays.n_voxels == 368
    assert count_showers(path, PHOTONS) == 50
    assert not list(tmp_path.glob("*.part"))  # the atomic write left no temporary file


def test_reads_files_written_the_official_way(tmp_path: Path) -> None:
    """float64 (N, 1) energies and float64 showers, as the README's h5py snippet writes them."""
    energy, voxels = showers(20)
    path = write_raw(tmp_path / "official.hdf5", incident_energies=energy[:, None], showers=voxels)
    arrays = read_showers(path, PHOTONS)
    np.testing.assert_array_equal(arrays.showers, voxels.astype(np.float32))
    np.testing.assert_array_equal(arrays.incident_energy, energy.astype(np.float32))


def test_max_showers_and_row_selections(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # HDF5 chunks of 16 rows, read in blocks of 64 rows: the selections span several blocks.
    monkeypatch.setattr(calochallenge_io, "WRITE_CHUNK_BYTES", 16 * 4 * 368)
    monkeypatch.setattr(calochallenge_io, "READ_BLOCK_BYTES", 64 * 4 * 368)
    energy, voxels = showers(300)
    path = write_showers(tmp_path / "out.hdf5", energy, voxels)
    with h5py.File(path, "r") as handle:
        assert handle["showers"].chunks == (16, 368)
    first = read_showers(path, PHOTONS, max_showers=7)
    np.testing.assert_array_equal(first.showers, voxels[:7].astype(np.float32))
    assert len(read_showers(path, PHOTONS, max_showers=10_000)) == 300
    rows_a, rows_b = np.array([0, 63, 64, 299]), np.array([5, 64, 200])
    a, b = read_shower_rows(path, PHOTONS, [rows_a, rows_b])
    np.testing.assert_array_equal(a.showers, voxels[rows_a].astype(np.float32))
    np.testing.assert_array_equal(b.incident_energy, energy[rows_b].astype(np.float32))
    with pytest.raises(IndexError, match="sorted"):
        read_shower_rows(path, PHOTONS, [np.array([3, 1])])


def test_incremental_writer_is_atomic(tmp_path: Path) -> None:
    energy, voxels = showers(10)
    part = ShowerArrays(energy[:4].astype(np.float32), voxels[:4].astype(np.float32))
    target = tmp_path / "incomplete.hdf5"
    with (
        pytest.raises(ValueError, match="4 of 10 showers written"),
        shower_file_writer(target, 10, 368) as writer,
    ):
        writer.write(part)
    assert not target.exists() and not list(tmp_path.iterdir())


# --- bad input ------------------------------------------------------------------------------


def test_wrong_voxel_count_for_the_geometry(tmp_path: Path) -> None:
    energy, voxels = showers(5, n_voxels=533)  # a dataset-1 pion file
    path = write_showers(tmp_path / "pions.hdf5", energy, voxels)
    with pytest.raises(FormatError) as caught:
        read_showers(path, PHOTONS)
    message = str(caught.value)
    assert str(path) in message and "'showers' has 533 voxels" in message
    assert "expected 368 for geometry ds1_photons" in message
    assert "533 is the voxel count of ds1_pions" in message


def test_missing_keys(tmp_path: Path) -> None:
    energy, voxels = showers(5)
    path = write_raw(tmp_path / "no_energy.hdf5", showers=voxels)
    with pytest.raises(FormatError, match=r"missing key\(s\) \['incident_energies'\]") as caught:
        read_showers(path, PHOTONS)
    assert str(path) in str(caught.value)
    path = write_raw(tmp_path / "renamed.hdf5", energies=energy[:, None], shower=voxels)
    with pytest.raises(FormatError, match="found \\['energies', 'shower'\\]"):
        read_showers(path, PHOTONS)


def test_mismatched_event_counts(tmp_path: Path) -> None:
    energy, voxels = showers(5)
    path = write_raw(tmp_path / "m.hdf5", incident_energies=energy[:4, None], showers=voxels)
    with pytest.raises(FormatError, match="'incident_energies' has 4 events but 'showers' has 5"):
        read_showers(path, PHOTONS)


@pytest.mark.parametrize(
    ("energies", "voxels", "match"),
    [
        (np.ones(5), np.ones((5, 368)), r"'incident_energies': expected a 2-D dataset \(N, 1\)"),
        (np.ones((5, 2)), np.ones((5, 368)), r"expected shape \(N, 1\), found \(5, 2\)"),
        (np.ones((5, 1)), np.ones((5, 4, 92)), r"'showers': expected a 2-D dataset \(N, V\)"),
        (np.ones((5, 1)), np.array([["a"] * 368] * 5, dtype="S1"), "expected real numbers"),
        (np.ones((0, 1)), np.ones((0, 368)), "holds no showers"),
    ],
)
def test_wrong_shapes_and_dtypes(
    tmp_path: Path, energies: np.ndarray, voxels: np.ndarray, match: str
) -> None:
    path = write_raw(tmp_path / "bad.hdf5", incident_energies=energies, showers=voxels)
    with pytest.raises(FormatError, match=match):
        read_showers(path, PHOTONS)


def test_negative_energies_name_the_first_event(tmp_path: Path) -> None:
    energy, voxels = showers(30)
    voxels[17, 3] = -0.25
    voxels[20, 0] = -1.0
    path = write_raw(tmp_path / "neg.hdf5", incident_energies=energy[:, None], showers=voxels)
    with pytest.raises(FormatError) as caught:
        read_showers(path, PHOTONS)
    message = str(caught.value)
    assert str(path) in message and "'showers'" in message
    assert "negative energy -0.25 MeV at event 17, voxel 3 (the first one)" in message
    assert len(read_showers(path, PHOTONS, max_showers=17)) == 17  # only what is read is checked


def test_nan_energies_are_non_finite_errors(tmp_path: Path) -> None:
    energy, voxels = showers(30)
    voxels[12, 100] = np.nan
    path = write_raw(tmp_path / "nan.hdf5", incident_energies=energy[:, None], showers=voxels)
    with pytest.raises(
        NonFiniteError, match="'showers': non-finite value nan at event 12, voxel 100"
    ):
        read_showers(path, PHOTONS)
    energy[4] = np.inf
    path = write_raw(tmp_path / "inf.hdf5", incident_energies=energy[:, None], showers=voxels[:, :])
    with pytest.raises(
        NonFiniteError, match="'incident_energies': non-finite value inf at event 4"
    ):
        read_showers(path, PHOTONS)


def test_non_positive_incident_energy(tmp_path: Path) -> None:
    energy, voxels = showers(8)
    energy[6] = 0.0
    path = write_raw(tmp_path / "zero.hdf5", incident_energies=energy[:, None], showers=voxels)
    with pytest.raises(FormatError, match=r"incident energy 0\.0 MeV at event 6"):
        read_showers(path, PHOTONS)


def test_truncated_file(tmp_path: Path) -> None:
    energy, voxels = showers(400)
    path = write_showers(tmp_path / "full.hdf5", energy, voxels)
    data = path.read_bytes()
    for fraction in (0.5, 0.95):
        cut = tmp_path / f"cut_{fraction}.hdf5"
        cut.write_bytes(data[: int(len(data) * fraction)])
        with pytest.raises(CorruptFileError, match="truncated or corrupt") as caught:
            read_showers(cut, PHOTONS)
        assert str(cut) in str(caught.value)


def test_not_hdf5_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "text.hdf5"
    path.write_text("not an HDF5 file")
    with pytest.raises(CorruptFileError):
        read_showers(path, PHOTONS)
    with pytest.raises(MissingFileError) as caught:
        read_showers(tmp_path / "absent.hdf5", PHOTONS)
    assert caught.value.path == tmp_path / "absent.hdf5"
    assert isinstance(caught.value, DataError)


@pytest.mark.parametrize(
    ("energy", "voxels", "match"),
    [
        (np.ones(3), -np.ones((3, 368)), "showers: negative value -1.0 at event 0, voxel 0"),
        (np.ones(3), np.full((3, 368), np.nan), "showers: non-finite value"),
        (-np.ones(3), np.ones((3, 368)), "incident_energy: non-positive value -1.0 at event 0"),
        (np.ones(2), np.ones((3, 368)), "expected 2 rows"),
    ],
)
def test_write_refuses_invalid_showers(
    tmp_path: Path, energy: np.ndarray, voxels: np.ndarray, match: str
) -> None:
    with pytest.raises(SchemaError, match=match):
        write_showers(tmp_path / "bad.hdf5", energy, voxels)
    assert not list(tmp_path.iterdir())


def test_schema_checks_dtype_and_dataset_voxels() -> None:
    good = ShowerArrays(np.ones(2, np.float32), np.zeros((2, 368), np.float32))
    with pytest.raises(SchemaError, match="expected dtype float32, got float64"):
        ShowerArrays(np.ones(2), np.zeros((2, 368), np.float32))
    with pytest.raises(SchemaError, match="533 voxels per shower, geometry ds1_photons has 368"):
        ShowerDataset(
            "x",
            PHOTONS,
            good,
            good,
            ShowerArrays(np.ones(1, np.float32), np.zeros((1, 533), np.float32)),
        )
    dataset = ShowerDataset("x", PHOTONS, good, good, good)
    assert dataset.split_sizes() == {"train": 2, "val": 2, "test": 2}
    assert dataset.class_names == ()
