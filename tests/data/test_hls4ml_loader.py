"""hls4ml raw-format loader: class order, round trip, splits, column lookup by name, bad files."""

from __future__ import annotations

import tarfile
from pathlib import Path

import h5py
import numpy as np
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.archive import MANIFEST_NAME
from cern_ai_bench.data.errors import (
    CorruptFileError,
    FormatError,
    MissingFileError,
    NonFiniteError,
)
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.hls4ml_reader import Hls4mlFile
from cern_ai_bench.data.registry import load_jet_dataset
from cern_ai_bench.data.schema import HLF_NAMES, HLS4ML_CLASSES
from tests.data.jet_file_builders import (
    JET_FEATURE_NAMES,
    PARTICLE_FEATURE_NAMES,
    JetSample,
    write_hls4ml_file,
    write_raw_hls4ml,
)

N_CONSTITUENTS = 5


def _cfg(data_dir: Path, **overrides: object) -> DatasetConfig:
    settings: dict[str, object] = {
        "name": "hls4ml",
        "data_dir": str(data_dir),
        "download": False,
        "n_constituents": N_CONSTITUENTS,
        "val_fraction": 0.2,
        "split_seed": 3,
    }
    settings.update(overrides)
    return DatasetConfig(**settings)  # type: ignore[arg-type]


def _labels(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 5, size=n)


def _build(root: Path, **kwargs: object) -> dict[int, tuple[int, np.ndarray, np.ndarray]]:
    """train/ with 30 + 20 jets, val/ with 15; returns id -> (label, hlf, constituents)."""
    samples: list[JetSample] = [
        write_hls4ml_file(
            root / "train" / "jetImage_0_150p_0_30.h5", _labels(30, 1), seed=1, **kwargs
        ),
        write_hls4ml_file(
            root / "train" / "jetImage_1_150p_30_50.h5",
            _labels(20, 2),
            first_id=30,
            seed=2,
            **kwargs,
        ),
        write_hls4ml_file(
            root / "val" / "jetImage_9_150p_0_15.h5", _labels(15, 3), first_id=100, seed=3, **kwargs
        ),
    ]
    expected = {}
    for sample in samples:
        assert sample.hlf is not None and sample.constituents is not None
        for i, jet_id in enumerate(sample.ids):
            expected[int(jet_id)] = (
                int(sample.labels[i]),
                sample.hlf[i],
                sample.constituents[i, :N_CONSTITUENTS],
            )
    return expected


def _check_round_trip(dataset, expected) -> None:
    for split in (dataset.train, dataset.val, dataset.test):
        for i, jet_id in enumerate(split.hlf[:, 0].astype(int)):
            label, hlf, constituents = expected[jet_id]
            assert split.labels[i] == label
            np.testing.assert_array_equal(split.hlf[i], hlf)
            np.testing.assert_array_equal(split.constituents[i], constituents)


def test_round_trip_and_splits(tmp_path: Path) -> None:
    expected = _build(tmp_path / "hls4ml", with_image=True)
    dataset = load_jet_dataset(_cfg(tmp_path), progress=False)

    assert dataset.class_names == HLS4ML_CLASSES
    assert dataset.split_sizes() == {"train": 40, "val": 10, "test": 15}
    assert dataset.train.constituents.shape == (40, N_CONSTITUENTS, 4)
    assert dataset.train.hlf.shape == (40, len(HLF_NAMES))
    _check_round_trip(dataset, expected)
    train_ids = set(dataset.train.hlf[:, 0].astype(int))
    val_ids = set(dataset.val.hlf[:, 0].astype(int))
    assert train_ids.isdisjoint(val_ids) and train_ids | val_ids == set(range(50))
    assert set(dataset.test.hlf[:, 0].astype(int)) == set(range(100, 115))
    assert len(dataset.files) == 3
    for info in dataset.files:
        assert info.sha256 == sha256_of(info.path)


def test_split_is_reproducible_and_seeded(tmp_path: Path) -> None:
    _build(tmp_path / "hls4ml")
    first = load_jet_dataset(_cfg(tmp_path), progress=False)
    again = load_jet_dataset(_cfg(tmp_path), progress=False)
    other = load_jet_dataset(_cfg(tmp_path, split_seed=4), progress=False)
    np.testing.assert_array_equal(first.val.hlf[:, 0], again.val.hlf[:, 0])
    assert set(first.val.hlf[:, 0]) != set(other.val.hlf[:, 0])


def test_one_hot_columns_map_to_canonical_order(tmp_path: Path) -> None:
    folder = tmp_path / "hls4ml"
    labels = np.array([4, 0, 1, 2, 3])  # t, g, q, W, Z
    write_hls4ml_file(folder / "one.h5", labels)
    with Hls4mlFile(folder / "one.h5", N_CONSTITUENTS) as handle:
        read_labels, _, _ = handle.read()
    np.testing.assert_array_equal(read_labels, labels)
    with h5py.File(folder / "one.h5") as handle:
        names = [name.decode() for name in handle["jetFeatureNames"][()]]
        row = handle["jets"][0]
    assert row[names.index("j_t")] == 1.0  # one-hot j_t ...
    assert read_labels[0] == 4 == HLS4ML_CLASSES.index("t")  # ... is canonical label 4


def test_columns_are_looked_up_by_name(tmp_path: Path) -> None:
    expected = _build(tmp_path / "hls4ml", shuffle_columns=True)
    _check_round_trip(load_jet_dataset(_cfg(tmp_path), progress=False), expected)


def test_hlf_columns_match_published_indices() -> None:
    published = [12, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 48, 52]
    assert [JET_FEATURE_NAMES.index(f"j_{name}") for name in HLF_NAMES] == published


def test_max_jets_truncates_each_split(tmp_path: Path) -> None:
    expected = _build(tmp_path / "hls4ml")
    full = load_jet_dataset(_cfg(tmp_path), progress=False)
    small = load_jet_dataset(_cfg(tmp_path, max_jets=7), progress=False)
    assert small.split_sizes() == {"train": 7, "val": 7, "test": 7}
    _check_round_trip(small, expected)
    np.testing.assert_array_equal(small.train.hlf[:, 0], full.train.hlf[:7, 0])
    assert set(small.test.hlf[:, 0]) <= set(full.test.hlf[:, 0])


def test_unsorted_constituents_are_sorted_by_pt(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    sample = write_hls4ml_file(path, _labels(6, 0), n_particles=8)
    expected = sample.constituents.copy()
    with h5py.File(path, "r+") as handle:
        particles = handle["jetConstituentList"][()]
        particles[0, 2:] = expected[0, 2:] = 0.0  # jet 0: 2 constituents, 6 padding slots
        handle["jetConstituentList"][...] = particles[:, ::-1]  # padding first, softest next
    with Hls4mlFile(path, 3) as handle:
        _, _, constituents = handle.read()
    np.testing.assert_array_equal(constituents, expected[:, :3])


def test_tarball_is_extracted_once_with_manifest(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    expected = _build(staging)
    root = tmp_path / "data" / "hls4ml"
    root.mkdir(parents=True)
    for split in ("train", "val"):
        with tarfile.open(root / f"hls4ml_LHCjet_150p_{split}.tar.gz", "w:gz") as archive:
            archive.add(staging / split, arcname=split)
    dataset = load_jet_dataset(_cfg(tmp_path / "data"), progress=False)
    _check_round_trip(dataset, expected)
    assert (root / "train" / MANIFEST_NAME).is_file()
    assert not list(root.glob(".*extracting*"))
    for info in dataset.files:
        assert info.sha256 == sha256_of(info.path)
    (root / "hls4ml_LHCjet_150p_train.tar.gz").unlink()  # extracted: the tarball is not needed
    assert load_jet_dataset(_cfg(tmp_path / "data"), progress=False).split_sizes()["train"] == 40


def test_extracted_file_changed_since_extraction(tmp_path: Path) -> None:
    _build(tmp_path / "hls4ml")
    load_jet_dataset(_cfg(tmp_path), progress=False)  # writes the manifests
    with (tmp_path / "hls4ml" / "val" / "jetImage_9_150p_0_15.h5").open("ab") as handle:
        handle.write(b"\0" * 10)
    with pytest.raises(CorruptFileError, match="changed since it was extracted"):
        load_jet_dataset(_cfg(tmp_path), progress=False)


def test_truncated_tarball(tmp_path: Path) -> None:
    staging = tmp_path / "staging"
    _build(staging)
    root = tmp_path / "data" / "hls4ml"
    root.mkdir(parents=True)
    tarball = root / "hls4ml_LHCjet_150p_train.tar.gz"
    with tarfile.open(tarball, "w:gz") as archive:
        archive.add(staging / "train", arcname="train")
    data = tarball.read_bytes()
    tarball.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt") as caught:
        load_jet_dataset(_cfg(tmp_path / "data"), progress=False)
    assert str(tarball) in str(caught.value)
    assert not (root / "train").exists()
    assert not list(root.glob(".*extracting*"))


def test_unsafe_tarball_member_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "hls4ml"
    root.mkdir()
    (tmp_path / "evil.h5").write_bytes(b"x")
    with tarfile.open(root / "hls4ml_LHCjet_150p_train.tar.gz", "w:gz") as archive:
        archive.add(tmp_path / "evil.h5", arcname="../evil.h5")
    with pytest.raises(FormatError, match="unsafe member"):
        load_jet_dataset(_cfg(tmp_path), progress=False)


def test_missing_files_name_url_and_path(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError) as caught:
        load_jet_dataset(_cfg(tmp_path), progress=False)
    message = str(caught.value)
    assert "https://zenodo.org/records/3602260/files/hls4ml_LHCjet_150p_train.tar.gz" in message
    assert str(tmp_path / "hls4ml" / "hls4ml_LHCjet_150p_train.tar.gz") in message
    assert str(tmp_path / "hls4ml" / "train") in message  # or extract it there by hand


def test_truncated_hdf5(tmp_path: Path) -> None:
    _build(tmp_path / "hls4ml")
    path = tmp_path / "hls4ml" / "train" / "jetImage_1_150p_30_50.h5"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptFileError, match="truncated or corrupt") as caught:
        load_jet_dataset(_cfg(tmp_path), progress=False)
    assert str(path) in str(caught.value)


def test_missing_key(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_hls4ml_file(path, _labels(4, 0))
    with h5py.File(path, "r+") as handle:
        del handle["jetConstituentList"]
    with pytest.raises(FormatError, match=r"missing key.*jetConstituentList") as caught:
        Hls4mlFile(path, N_CONSTITUENTS)
    assert str(path) in str(caught.value)


def test_wrong_shapes(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    particles = np.zeros((4, 8, 16), np.float32)
    jets = rng.normal(size=(4, 58)).astype(np.float32)  # one column short of the 59 names
    write_raw_hls4ml(
        tmp_path / "a.h5", jets, list(JET_FEATURE_NAMES), particles, list(PARTICLE_FEATURE_NAMES)
    )
    with pytest.raises(FormatError, match="'jets' has 58 columns but 'jetFeatureNames' lists 59"):
        Hls4mlFile(tmp_path / "a.h5", N_CONSTITUENTS)

    write_hls4ml_file(tmp_path / "b.h5", _labels(4, 0), n_particles=3)
    with pytest.raises(FormatError, match="holds 3 constituents per jet, fewer than"):
        Hls4mlFile(tmp_path / "b.h5", N_CONSTITUENTS)

    jets = rng.normal(size=(4, 59)).astype(np.float32)
    write_raw_hls4ml(
        tmp_path / "c.h5",
        jets,
        list(JET_FEATURE_NAMES),
        particles[:3],
        list(PARTICLE_FEATURE_NAMES),
    )
    with pytest.raises(FormatError, match="'jetConstituentList' has 3 jets, expected 4"):
        Hls4mlFile(tmp_path / "c.h5", N_CONSTITUENTS)


def test_missing_feature_name(tmp_path: Path) -> None:
    names = [name if name != "j_d2_b1_mmdt" else "j_other" for name in JET_FEATURE_NAMES]
    jets = np.zeros((2, 59), np.float32)
    write_raw_hls4ml(
        tmp_path / "f.h5",
        jets,
        names,
        np.zeros((2, 8, 16), np.float32),
        list(PARTICLE_FEATURE_NAMES),
    )
    with pytest.raises(FormatError, match="'jetFeatureNames' lacks \\['j_d2_b1_mmdt'\\]"):
        Hls4mlFile(tmp_path / "f.h5", N_CONSTITUENTS)


def test_nan_in_features_names_file_key_column_row(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_hls4ml_file(path, _labels(6, 0))
    with h5py.File(path, "r+") as handle:
        column = [name.decode() for name in handle["jetFeatureNames"][()]].index("j_c1_b0_mmdt")
        handle["jets"][3, column] = np.nan
    with (
        Hls4mlFile(path, N_CONSTITUENTS) as handle,
        pytest.raises(NonFiniteError, match=r"key 'jets'.*row 3, column 'j_c1_b0_mmdt'") as caught,
    ):
        handle.read()
    assert str(path) in str(caught.value)


def test_inf_in_constituents(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_hls4ml_file(path, _labels(6, 0))
    with h5py.File(path, "r+") as handle:
        handle["jetConstituentList"][2, 1, 2] = np.inf  # j1_pz of constituent 1 of jet 2
    with (
        Hls4mlFile(path, N_CONSTITUENTS) as handle,
        pytest.raises(
            NonFiniteError, match=r"'jetConstituentList'.*row 2, constituent 1, column 'j1_pz'"
        ),
    ):
        handle.read()


def test_row_without_exactly_one_label(tmp_path: Path) -> None:
    path = tmp_path / "f.h5"
    write_hls4ml_file(path, np.array([0, 1, 2, 3]))
    with h5py.File(path, "r+") as handle:
        names = [name.decode() for name in handle["jetFeatureNames"][()]]
        handle["jets"][2, names.index("j_t")] = 1.0  # W and t both hot
    with (
        Hls4mlFile(path, N_CONSTITUENTS) as handle,
        pytest.raises(FormatError, match="row 2: expected exactly one of j_g, j_q, j_w, j_z, j_t"),
    ):
        handle.read()


def test_extracted_file_deleted_since_extraction(tmp_path: Path) -> None:
    _build(tmp_path / "hls4ml")
    load_jet_dataset(_cfg(tmp_path), progress=False)  # writes the manifests
    (tmp_path / "hls4ml" / "train" / "jetImage_1_150p_30_50.h5").unlink()
    with pytest.raises(CorruptFileError, match=r"listed in \.manifest\.json are missing"):
        load_jet_dataset(_cfg(tmp_path), progress=False)


def test_validation_split_is_stratified_by_class(tmp_path: Path) -> None:
    # 2 jets per class: a plain random 20 % split would often leave classes out of val
    write_hls4ml_file(tmp_path / "hls4ml" / "train" / "a.h5", np.repeat(np.arange(5), 2), seed=1)
    write_hls4ml_file(tmp_path / "hls4ml" / "val" / "b.h5", np.arange(5), first_id=100, seed=2)
    dataset = load_jet_dataset(_cfg(tmp_path, val_fraction=0.1), progress=False)
    assert sorted(dataset.val.labels.tolist()) == [0, 1, 2, 3, 4]
    assert sorted(dataset.train.labels.tolist()) == [0, 1, 2, 3, 4]
