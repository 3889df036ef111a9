"""OpenML hls4ml_lhc_jets_hlf: ARFF reading, class-order normalisation, the tutorial's split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.arff import read_arff
from cern_ai_bench.data.errors import (
    DatasetConfigError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.registry import load_jet_dataset
from cern_ai_bench.data.schema import HLF_NAMES, HLS4ML_CLASSES
from tests.data.jet_file_builders import write_openml_arff

LETTERS = ["g", "q", "t", "w", "z"]


def _cfg(data_dir: Path, **overrides: object) -> DatasetConfig:
    settings: dict[str, object] = {
        "name": "hls4ml_openml",
        "data_dir": str(data_dir),
        "download": False,
        "val_fraction": 0.1,
        "split_seed": 7,
    }
    settings.update(overrides)
    return DatasetConfig(**settings)  # type: ignore[arg-type]


def _arff(data_dir: Path) -> Path:
    return data_dir / "hls4ml_openml" / "hls4ml_lhc_jets_hlf.arff"


def test_letters_map_to_canonical_order(tmp_path: Path) -> None:
    write_openml_arff(_arff(tmp_path), LETTERS * 20)
    dataset = load_jet_dataset(_cfg(tmp_path), progress=False)
    assert dataset.class_names == HLS4ML_CLASSES
    for split in (dataset.train, dataset.val, dataset.test):
        letters = [LETTERS[int(jet_id) % 5] for jet_id in split.hlf[:, 0]]
        for letter, label in zip(letters, split.labels, strict=True):
            assert HLS4ML_CLASSES[label].lower() == letter
    ids, labels = dataset.train.hlf[:, 0].astype(int), dataset.train.labels
    label_of = {LETTERS[i % 5]: int(label) for i, label in zip(ids, labels, strict=True)}
    assert label_of == {"g": 0, "q": 1, "w": 2, "z": 3, "t": 4}  # not LabelEncoder's g,q,t,w,z


def test_round_trip_and_tutorial_split(tmp_path: Path) -> None:
    sample = write_openml_arff(_arff(tmp_path), LETTERS * 20)
    dataset = load_jet_dataset(_cfg(tmp_path), progress=False)
    assert dataset.split_sizes() == {"train": 72, "val": 8, "test": 20}
    assert not dataset.has_constituents and dataset.has_hlf
    rows = np.arange(100)
    # The tutorial's test split (unstratified), then val stratified by class.
    train_full, test = train_test_split(rows, test_size=0.2, random_state=42)
    train, val = train_test_split(
        train_full, test_size=0.1, random_state=7, stratify=sample.labels[train_full]
    )
    for split, expected_rows in ((dataset.train, train), (dataset.val, val), (dataset.test, test)):
        np.testing.assert_array_equal(split.hlf, sample.hlf[expected_rows])
        np.testing.assert_array_equal(split.labels, sample.labels[expected_rows])
    assert dataset.files[0].sha256 == sha256_of(_arff(tmp_path))


def test_validation_split_is_stratified_test_split_is_the_tutorials(tmp_path: Path) -> None:
    # Imbalanced classes: 60 % g, 10 % each of the others.
    letters = ["g"] * 600 + ["q", "t", "w", "z"] * 100
    sample = write_openml_arff(_arff(tmp_path), letters, seed=1)
    dataset = load_jet_dataset(_cfg(tmp_path, val_fraction=0.25, split_seed=3), progress=False)
    # Test: exactly the tutorial's rows, whatever split_seed is.
    _, test_rows = train_test_split(np.arange(1000), test_size=0.2, random_state=42)
    np.testing.assert_array_equal(dataset.test.hlf[:, 0], test_rows)
    # Val: every class in the proportion it has among the non-test rows.
    pool = np.bincount(np.concatenate([dataset.train.labels, dataset.val.labels]), minlength=5)
    val = np.bincount(dataset.val.labels, minlength=5)
    assert np.all(np.abs(val - 0.25 * pool) <= 1), (val, pool)
    assert set(dataset.val.hlf[:, 0].astype(int)).isdisjoint(dataset.train.hlf[:, 0].astype(int))
    np.testing.assert_array_equal(
        dataset.val.labels, sample.labels[dataset.val.hlf[:, 0].astype(int)]
    )


def test_too_few_jets_for_a_stratified_val_split_names_the_key(tmp_path: Path) -> None:
    write_openml_arff(_arff(tmp_path), LETTERS * 20)  # 80 non-test rows, 5 classes
    with pytest.raises(DatasetConfigError, match=r"dataset\.val_fraction=0\.01: cannot carve"):
        load_jet_dataset(_cfg(tmp_path, val_fraction=0.01), progress=False)


def test_max_jets(tmp_path: Path) -> None:
    write_openml_arff(_arff(tmp_path), LETTERS * 20)
    full = load_jet_dataset(_cfg(tmp_path), progress=False)
    small = load_jet_dataset(_cfg(tmp_path, max_jets=5), progress=False)
    assert small.split_sizes() == {"train": 5, "val": 5, "test": 5}
    np.testing.assert_array_equal(small.test.hlf, full.test.hlf[:5])


def test_missing_file_points_to_openml(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError) as caught:
        load_jet_dataset(_cfg(tmp_path), progress=False)
    message = str(caught.value)
    assert "https://www.openml.org/d/42468" in message
    assert str(_arff(tmp_path)) in message


def test_missing_value_in_a_feature(tmp_path: Path) -> None:
    path = _arff(tmp_path)
    write_openml_arff(path, LETTERS * 2)
    lines = path.read_text().splitlines()
    data_start = lines.index("@DATA") + 1
    fields = lines[data_start + 3].split(",")
    fields[HLF_NAMES.index("mass_mmdt")] = "?"
    lines[data_start + 3] = ",".join(fields)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(NonFiniteError, match=r"row 3, column 'mass_mmdt'") as caught:
        load_jet_dataset(_cfg(tmp_path), progress=False)
    assert str(path) in str(caught.value)


def test_undeclared_class_letter(tmp_path: Path) -> None:
    path = _arff(tmp_path)
    write_openml_arff(path, LETTERS * 2)
    path.write_text(path.read_text().replace(",'t'\n", ",'x'\n", 1))
    with pytest.raises(FormatError, match=r"data row 2: class='x' is not one of the declared"):
        load_jet_dataset(_cfg(tmp_path), progress=False)


def test_missing_column(tmp_path: Path) -> None:
    path = _arff(tmp_path)
    write_openml_arff(path, LETTERS)
    path.write_text(
        path.read_text().replace("@ATTRIBUTE zlogz NUMERIC", "@ATTRIBUTE other NUMERIC")
    )
    with pytest.raises(FormatError, match=r"missing column\(s\) \['zlogz'\]"):
        load_jet_dataset(_cfg(tmp_path), progress=False)


def test_not_an_arff_file(tmp_path: Path) -> None:
    path = tmp_path / "x.arff"
    path.write_text("<html>rate limited</html>\n")
    with pytest.raises(FormatError, match="is this an ARFF file"):
        read_arff(path)


def test_truncated_row(tmp_path: Path) -> None:
    path = tmp_path / "x.arff"
    write_openml_arff(path, LETTERS)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # cut inside the last row
    with pytest.raises(FormatError, match=str(path)):
        read_arff(path)


def test_arff_quoting_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "x.arff"
    path.write_text(
        "@relation r\n@attribute 'a b' real\n@attribute c {x,y}\n@data\n% note\n1.5, x\n?,'y'\n"
    )
    frame, attributes = read_arff(path)
    assert [a.name for a in attributes] == ["a b", "c"]
    assert frame["c"].tolist() == ["x", "y"]
    assert frame["a b"].iloc[0] == 1.5 and np.isnan(frame["a b"].iloc[1])


def test_row_with_an_extra_field(tmp_path: Path) -> None:
    path = tmp_path / "x.arff"
    write_openml_arff(path, LETTERS)
    lines = path.read_text().splitlines()
    lines[-1] += ",3.0"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(FormatError, match="Expected 17 fields"):
        read_arff(path)
