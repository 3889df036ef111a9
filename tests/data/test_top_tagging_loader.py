"""Top-tagging reference dataset: labels, constituents, chunked reading, bad files."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.errors import (
    CorruptFileError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.registry import load_jet_dataset
from cern_ai_bench.data.schema import TOP_TAGGING_CLASSES
from cern_ai_bench.data.top_tagging import read_top_tagging_file
from tests.data.jet_file_builders import write_top_tagging_file

N_CONSTITUENTS = 6
SIZES = {"train": 24, "val": 10, "test": 12}


def _cfg(data_dir: Path, **overrides: object) -> DatasetConfig:
    settings: dict[str, object] = {
        "name": "top_tagging",
        "data_dir": str(data_dir),
        "download": False,
        "n_constituents": N_CONSTITUENTS,
    }
    settings.update(overrides)
    return DatasetConfig(**settings)  # type: ignore[arg-type]


def _build(data_dir: Path, **kwargs: object) -> dict:
    samples = {}
    for index, (split, size) in enumerate(SIZES.items()):
        labels = np.arange(size) % 2
        samples[split] = write_top_tagging_file(
            data_dir / "top_tagging" / f"{split}.h5", labels, seed=index, **kwargs
        )
    return samples


def test_round_trip_labels_and_splits(tmp_path: Path) -> None:
    samples = _build(tmp_path)
    dataset = load_jet_dataset(_cfg(tmp_path), progress=False)
    assert dataset.class_names == TOP_TAGGING_CLASSES == ("QCD", "t")
    assert dataset.split_sizes() == SIZES
    assert not dataset.has_hlf
    for split in SIZES:
        arrays, sample = getattr(dataset, split), samples[split]
        np.testing.assert_array_equal(arrays.labels, sample.labels)  # is_signal_new 1 -> t = 1
        np.testing.assert_array_equal(arrays.constituents, sample.constituents[:, :N_CONSTITUENTS])
    assert [Path(info.path).name for info in dataset.files] == ["train.h5", "val.h5", "test.h5"]
    assert all(info.sha256 == sha256_of(info.path) for info in dataset.files)


def test_chunked_reading_and_table_format(tmp_path: Path) -> None:
    fixed = write_top_tagging_file(tmp_path / "fixed.h5", np.arange(23) % 2, seed=1)
    write_top_tagging_file(tmp_path / "table.h5", np.arange(23) % 2, seed=1, table_format=True)
    for name in ("fixed.h5", "table.h5"):
        labels, constituents = read_top_tagging_file(tmp_path / name, 4, chunk_rows=5)
        np.testing.assert_array_equal(labels, fixed.labels)
        np.testing.assert_array_equal(constituents, fixed.constituents[:, :4])


def test_max_jets_reads_the_first_rows(tmp_path: Path) -> None:
    samples = _build(tmp_path)
    dataset = load_jet_dataset(_cfg(tmp_path, max_jets=4), progress=False)
    assert dataset.split_sizes() == {"train": 4, "val": 4, "test": 4}
    np.testing.assert_array_equal(dataset.train.labels, samples["train"].labels[:4])


def test_max_jets_leaving_one_class_fails(tmp_path: Path) -> None:
    for split in SIZES:
        labels = np.r_[np.zeros(8), np.ones(8)]  # class-ordered file
        write_top_tagging_file(tmp_path / "top_tagging" / f"{split}.h5", labels)
    with pytest.raises(FormatError, match="hold only class 'QCD'; raise max_jets"):
        load_jet_dataset(_cfg(tmp_path, max_jets=5), progress=False)


def test_missing_file_names_url_and_path(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError) as caught:
        load_jet_dataset(_cfg(tmp_path), progress=False)
    message = str(caught.value)
    assert "https://zenodo.org/records/2603256/files/train.h5" in message
    assert str(tmp_path / "top_tagging" / "train.h5") in message


def test_truncated_file(tmp_path: Path) -> None:
    _build(tmp_path)
    path = tmp_path / "top_tagging" / "val.h5"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt") as caught:
        load_jet_dataset(_cfg(tmp_path), progress=False)
    assert str(path) in str(caught.value)


def test_not_hdf5_at_all(tmp_path: Path) -> None:
    path = tmp_path / "train.h5"
    path.write_text("<html>Too many requests</html>")
    with pytest.raises(CorruptFileError, match="truncated or corrupt"):
        read_top_tagging_file(path, 4)


def test_wrong_key(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    pd.DataFrame({"E_0": [1.0]}).to_hdf(path, key="jets", mode="w")
    with pytest.raises(FormatError, match=r"no key 'table'.*found \['/jets'\]"):
        read_top_tagging_file(path, 4)


def test_too_few_constituent_columns(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_top_tagging_file(path, np.arange(4) % 2, n_particles=3)
    with pytest.raises(FormatError, match=r"columns for 3 constituents.*n_constituents=4"):
        read_top_tagging_file(path, 4)


def test_missing_label_column(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_top_tagging_file(path, np.arange(4) % 2, n_particles=4)
    frame = pd.read_hdf(path, key="table").drop(columns=["is_signal_new"])
    frame.to_hdf(path, key="table", mode="w")
    with pytest.raises(FormatError, match="no column 'is_signal_new'"):
        read_top_tagging_file(path, 4)


def test_bad_label_value(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_top_tagging_file(path, np.array([0, 1, 2, 0]), n_particles=4)
    with pytest.raises(FormatError, match=r"row 2: is_signal_new=.*expected 0 \(QCD\) or 1"):
        read_top_tagging_file(path, 4)


def test_nan_in_constituents_names_row(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_top_tagging_file(path, np.arange(12) % 2, n_particles=5)
    frame = pd.read_hdf(path, key="table")
    frame.loc[9, "PY_2"] = np.nan
    frame.to_hdf(path, key="table", mode="w")
    with pytest.raises(NonFiniteError, match="row 9, constituent 2, column 'PY'") as caught:
        read_top_tagging_file(path, 4, chunk_rows=4)
    assert str(path) in str(caught.value)


def test_unsorted_constituents_are_sorted(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    sample = write_top_tagging_file(path, np.arange(5) % 2, n_particles=6)
    frame = pd.read_hdf(path, key="table")
    for c in ("E", "PX", "PY", "PZ"):  # swap constituents 0 and 5
        frame[[f"{c}_0", f"{c}_5"]] = frame[[f"{c}_5", f"{c}_0"]].to_numpy()
    frame.to_hdf(path, key="table", mode="w")
    _, constituents = read_top_tagging_file(path, 3)
    expected = sample.constituents.copy()
    np.testing.assert_array_equal(constituents, expected[:, :3])
    with h5py.File(path) as handle:  # genuine pandas "fixed" layout
        assert "block0_values" in handle["table"]
