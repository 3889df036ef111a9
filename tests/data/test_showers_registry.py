"""Shower dataset registry: public layouts built in tmp_path, splits, offline errors, embedded hook."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import cern_ai_bench.generate.showers as showers_module
from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.data.calochallenge import read_showers, write_showers
from cern_ai_bench.data.errors import (
    DataError,
    DatasetConfigError,
    FormatError,
    MissingFileError,
    UnknownDatasetError,
)
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.shower_schema import ShowerArrays
from cern_ai_bench.data.showers_registry import (
    SHOWER_DATASETS,
    load_shower_dataset,
    prepare_shower_dataset,
    shower_dataset_names,
    shower_geometry_name,
)
from cern_ai_bench.data.sources import CALOCHALLENGE_FILES

REPO = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, name: str, **overrides: object) -> DatasetConfig:
    settings = {"name": name, "data_dir": str(tmp_path), "download": False, **overrides}
    return DatasetConfig(**settings)  # type: ignore[arg-type]


def place(folder: Path, filename: str, n: int, geometry: str, first_id: int = 0) -> ShowerArrays:
    """Write a public-layout file whose voxel 0 holds a unique event id (first_id, first_id+1...)."""
    n_voxels = get_geometry(geometry).n_voxels
    rng = np.random.default_rng(first_id)
    showers = rng.random((n, n_voxels)).astype(np.float32)
    showers[:, 0] = np.arange(first_id, first_id + n)
    energy = (10 ** rng.uniform(3, 6, n)).astype(np.float32)
    write_showers(folder / filename, energy, showers)
    return ShowerArrays(energy, showers)


def ids(arrays: ShowerArrays) -> np.ndarray:
    return arrays.showers[:, 0].astype(np.int64)


def test_names_and_geometries(tmp_path: Path) -> None:
    assert shower_dataset_names() == (
        "calochallenge_ds1_photons",
        "calochallenge_ds1_pions",
        "calochallenge_ds2",
        "calochallenge_ds3",
        "embedded_showers",
    )
    assert shower_geometry_name(config(tmp_path, "calochallenge_ds3")) == "ds3"
    assert shower_geometry_name(config(tmp_path, "embedded_showers", geometry="ds1_photons")) == (
        "ds1_photons"
    )
    with pytest.raises(UnknownDatasetError, match=r"'calochallenge_ds4'.*embedded_showers"):
        load_shower_dataset(config(tmp_path, "calochallenge_ds4"), progress=False)


def test_public_layout_is_loaded_and_split(tmp_path: Path) -> None:
    folder = tmp_path / "calochallenge_ds1_photons"
    folder.mkdir()
    place(folder, "dataset_1_photons_1.hdf5", 40, "ds1_photons", first_id=0)
    reference = place(folder, "dataset_1_photons_2.hdf5", 15, "ds1_photons", first_id=1000)

    dataset = load_shower_dataset(
        config(tmp_path, "calochallenge_ds1_photons", val_fraction=0.25, split_seed=5),
        progress=False,
    )
    assert dataset.name == "calochallenge_ds1_photons"
    assert dataset.geometry.name == "ds1_photons"
    assert dataset.split_sizes() == {"train": 30, "val": 10, "test": 15}
    # train and val partition the training file; test is the reference file, in file order.
    assert sorted([*ids(dataset.train), *ids(dataset.val)]) == list(range(40))
    np.testing.assert_array_equal(dataset.test.showers, reference.showers)
    np.testing.assert_array_equal(dataset.test.incident_energy, reference.incident_energy)
    assert [Path(f.path).name for f in dataset.files] == [
        "dataset_1_photons_1.hdf5",
        "dataset_1_photons_2.hdf5",
    ]
    assert dataset.files[1].sha256 == sha256_of(folder / "dataset_1_photons_2.hdf5")

    # The split is fixed by split_seed: the same again, another with another seed.
    again = load_shower_dataset(
        config(tmp_path, "calochallenge_ds1_photons", val_fraction=0.25, split_seed=5),
        progress=False,
    )
    np.testing.assert_array_equal(ids(again.val), ids(dataset.val))
    other = load_shower_dataset(
        config(tmp_path, "calochallenge_ds1_photons", val_fraction=0.25, split_seed=6),
        progress=False,
    )
    assert set(ids(other.val)) != set(ids(dataset.val))


def test_max_showers_caps_every_split(tmp_path: Path) -> None:
    folder = tmp_path / "calochallenge_ds1_pions"
    folder.mkdir()
    place(folder, "dataset_1_pions_1.hdf5", 50, "ds1_pions", first_id=0)
    place(folder, "dataset_1_pions_2.hdf5", 30, "ds1_pions", first_id=1000)
    cfg = config(tmp_path, "calochallenge_ds1_pions", val_fraction=0.2, max_showers=8)
    dataset = load_shower_dataset(cfg, progress=False)
    assert dataset.split_sizes() == {"train": 8, "val": 8, "test": 8}
    assert not set(ids(dataset.train)) & set(ids(dataset.val))
    test_ids = ids(dataset.test)
    assert np.all(np.diff(test_ids) > 0) and test_ids.min() >= 1000
    # A random subset of the reference file, not its first rows.
    assert test_ids.max() > 1007


def test_dataset_3_pools_two_training_files(tmp_path: Path) -> None:
    folder = tmp_path / "calochallenge_ds3"
    folder.mkdir()
    place(folder, "dataset_3_1.hdf5", 4, "ds3", first_id=0)
    place(folder, "dataset_3_2.hdf5", 5, "ds3", first_id=100)
    place(folder, "dataset_3_3.hdf5", 2, "ds3", first_id=200)
    place(folder, "dataset_3_4.hdf5", 3, "ds3", first_id=300)
    dataset = load_shower_dataset(
        config(tmp_path, "calochallenge_ds3", val_fraction=0.3), progress=False
    )
    assert dataset.split_sizes() == {"train": 6, "val": 3, "test": 5}
    assert sorted([*ids(dataset.train), *ids(dataset.val)]) == [0, 1, 2, 3, 100, 101, 102, 103, 104]
    assert list(ids(dataset.test)) == [200, 201, 300, 301, 302]


def test_offline_error_names_file_url_and_path(tmp_path: Path) -> None:
    cfg = config(tmp_path, "calochallenge_ds2")
    with pytest.raises(MissingFileError) as caught:
        prepare_shower_dataset(cfg, progress=False)
    message = str(caught.value)
    expected_path = tmp_path / "calochallenge_ds2" / "dataset_2_1.hdf5"
    assert "dataset_2_1.hdf5 is missing and downloads are disabled" in message
    assert "https://zenodo.org/records/6366271/files/dataset_2_1.hdf5" in message
    assert str(expected_path) in message
    assert caught.value.path == expected_path
    assert caught.value.urls == CALOCHALLENGE_FILES["dataset_2_1.hdf5"].urls


def test_file_of_another_dataset_fails_at_preparation(tmp_path: Path) -> None:
    folder = tmp_path / "calochallenge_ds1_photons"
    folder.mkdir()
    place(folder, "dataset_1_photons_1.hdf5", 3, "ds1_pions")  # 533 voxels, not 368
    with pytest.raises(FormatError, match="533 is the voxel count of ds1_pions"):
        prepare_shower_dataset(config(tmp_path, "calochallenge_ds1_photons"), progress=False)


def test_bad_max_showers_names_the_key(tmp_path: Path) -> None:
    with pytest.raises(DatasetConfigError, match=r"dataset\.max_showers must be >= 1"):
        load_shower_dataset(config(tmp_path, "calochallenge_ds2", max_showers=0), progress=False)


# --- embedded showers -------------------------------------------------------------------------


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The cheap stand-in simulator of tests/generate/ as the default simulator."""
    monkeypatch.syspath_prepend(str(REPO / "tests" / "generate"))
    module = importlib.import_module("shower_standin")
    monkeypatch.setattr(showers_module, "_default_simulator", lambda: module.standin_simulator)
    monkeypatch.setattr(showers_module, "SHOWERS_PER_CHUNK", 16)
    return module


def test_embedded_showers_are_generated_and_split(tmp_path: Path, standin: ModuleType) -> None:
    cfg = config(
        tmp_path,
        "embedded_showers",
        geometry="ds1_photons",
        n_showers=40,
        n_reference_showers=12,
        generator_seed=2,
        workers=1,
        val_fraction=0.25,
    )
    dataset = load_shower_dataset(cfg, progress=False)
    assert dataset.name == "embedded_showers" and dataset.geometry.name == "ds1_photons"
    assert dataset.split_sizes() == {"train": 30, "val": 10, "test": 12}
    train_file, reference_file = (Path(f.path) for f in dataset.files)
    assert (train_file.name, reference_file.name) == (
        "showers_train.hdf5",
        "showers_reference.hdf5",
    )
    assert dataset.files[1].sha256 == sha256_of(reference_file)  # from the manifest
    reference = read_showers(reference_file, dataset.geometry)
    np.testing.assert_array_equal(dataset.test.showers, reference.showers)
    pool = read_showers(train_file, dataset.geometry).incident_energy
    assert sorted([*dataset.train.incident_energy, *dataset.val.incident_energy]) == sorted(pool)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"geometry": "ds1_pions"}, "dataset.geometry must be one of ds1_photons, ds2, ds3"),
        ({"n_showers": 1}, "dataset.n_showers must be >= 2, got 1"),
        ({"n_reference_showers": 0}, "dataset.n_reference_showers must be >= 1, got 0"),
        ({"workers": -2}, "dataset.workers must be >= 0, got -2"),
    ],
)
def test_bad_generator_settings_name_the_key(
    tmp_path: Path, standin: ModuleType, overrides: dict[str, object], message: str
) -> None:
    cfg = config(tmp_path, "embedded_showers", **overrides)
    with pytest.raises(DatasetConfigError) as caught:
        prepare_shower_dataset(cfg, progress=False)
    assert message in str(caught.value)


def test_missing_simulator_is_a_data_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cern_ai_bench.generate.gflash", None)  # import fails
    with pytest.raises(DataError, match="embedded shower simulator cannot be imported"):
        load_shower_dataset(config(tmp_path, "embedded_showers"), progress=False)


def test_every_card_lists_its_sources() -> None:
    for entry in SHOWER_DATASETS.values():
        assert entry.card is not None, entry.name
        card = (REPO / entry.card).read_text(encoding="utf-8")
        for source in entry.sources:
            assert source.filename in card, f"{entry.card} does not list {source.filename}"
            for url in source.urls:
                assert url in card, f"{entry.card} does not list {url}"
            assert source.landing_page is not None and source.landing_page in card
            assert source.metadata_url is not None and source.metadata_url in card
            if source.checksum is None:
                assert "none is pinned" in card.replace("*", ""), f"{entry.card}: say so"
            else:
                assert source.checksum.split(":")[1] in card
