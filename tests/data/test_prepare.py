"""Preparation apart from loading, registry flags, and the embedded sample's manifest reuse."""

from __future__ import annotations

import json
import re
import tarfile
from pathlib import Path

import numpy as np
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data import archive, hls4ml, integrity, prepare_jet_dataset
from cern_ai_bench.data.embedded import read_embedded_folder
from cern_ai_bench.data.errors import CorruptFileError, DatasetConfigError, MissingFileError
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.integrity import write_sidecar
from cern_ai_bench.data.registry import DATASETS, load_jet_dataset
from tests.data.jet_file_builders import (
    write_hls4ml_file,
    write_openml_arff,
    write_top_tagging_file,
)

N_CONSTITUENTS = 4


def _cfg(name: str, data_dir: Path, **overrides: object) -> DatasetConfig:
    settings: dict[str, object] = {
        "name": name,
        "data_dir": str(data_dir),
        "download": False,
        "n_constituents": N_CONSTITUENTS,
        "val_fraction": 0.25,
        "jets_per_class": 5,
        "workers": 1,
    }
    settings.update(overrides)
    return DatasetConfig(**settings)  # type: ignore[arg-type]


def _hls4ml_tarballs(data_dir: Path) -> None:
    """The two hls4ml tarballs, as downloaded, in ``data_dir/hls4ml/``."""
    staging = data_dir / "staging"
    labels = np.arange(20) % 5
    write_hls4ml_file(staging / "train" / "jetImage_0_150p_0_20.h5", labels, n_particles=6)
    write_hls4ml_file(staging / "val" / "jetImage_9_150p_0_10.h5", labels[:10], first_id=100)
    root = data_dir / "hls4ml"
    root.mkdir(parents=True)
    for split in ("train", "val"):
        with tarfile.open(root / f"hls4ml_LHCjet_150p_{split}.tar.gz", "w:gz") as handle:
            handle.add(staging / split, arcname=split)


def _verified(path: Path) -> None:
    """Record the file as verified (its ``.sha256`` sidecar), as a download would."""
    write_sidecar(path, sha256_of(path))


def _openml(data_dir: Path) -> None:
    path = data_dir / "hls4ml_openml" / "hls4ml_lhc_jets_hlf.arff"
    write_openml_arff(path, ["g", "q", "t", "w", "z"] * 20)
    _verified(path)


def _top_tagging(data_dir: Path) -> None:
    for index, split in enumerate(("train", "val", "test")):
        path = data_dir / "top_tagging" / f"{split}.h5"
        write_top_tagging_file(path, np.arange(10) % 2, seed=index, n_particles=6)
        _verified(path)


BUILDERS = {"hls4ml": _hls4ml_tarballs, "hls4ml_openml": _openml, "top_tagging": _top_tagging}


@pytest.fixture
def no_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to hash a file fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a file was hashed: {args}")

    monkeypatch.setattr(integrity, "digests_of", refuse)
    monkeypatch.setattr(archive, "file_info_cached", refuse)


@pytest.fixture
def no_jet_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to read jets of any loader fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("jets were read")

    from cern_ai_bench.data import embedded, openml, top_tagging

    monkeypatch.setattr(hls4ml, "Hls4mlFile", refuse)
    monkeypatch.setattr(embedded, "read_hls4ml_folder", refuse)
    monkeypatch.setattr(openml, "read_arff", refuse)
    monkeypatch.setattr(top_tagging, "read_top_tagging_file", refuse)


# --- registry flags ---------------------------------------------------------------------------


def test_flags_are_declared() -> None:
    flags = {
        name: (entry.provides_hlf, entry.provides_constituents) for name, entry in DATASETS.items()
    }
    assert flags == {
        "hls4ml": (True, True),
        "hls4ml_openml": (True, False),
        "top_tagging": (False, True),
        "embedded_jets": (True, True),
    }


@pytest.mark.parametrize("name", list(DATASETS))
def test_flags_match_what_the_loader_returns(
    name: str, tmp_path: Path, fake_generator: list[tuple]
) -> None:
    if name in BUILDERS:
        BUILDERS[name](tmp_path)
    dataset = load_jet_dataset(_cfg(name, tmp_path), progress=False)
    entry = DATASETS[name]
    for split in (dataset.train, dataset.val, dataset.test):
        assert (split.hlf is not None) == entry.provides_hlf
        assert (split.constituents is not None) == entry.provides_constituents
    assert dataset.has_hlf == entry.provides_hlf
    assert dataset.has_constituents == entry.provides_constituents


# --- preparation ------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_jet_reading")
@pytest.mark.parametrize("name", list(DATASETS))
def test_prepare_reads_no_jets(name: str, tmp_path: Path, fake_generator: list[tuple]) -> None:
    if name in BUILDERS:
        BUILDERS[name](tmp_path)
    assert prepare_jet_dataset(_cfg(name, tmp_path), progress=False) is None
    if name == "embedded_jets":
        assert fake_generator == [(tmp_path, 5, 1, 150, 1, False)]


def test_prepare_hls4ml_extracts_with_manifests(tmp_path: Path) -> None:
    _hls4ml_tarballs(tmp_path)
    prepare_jet_dataset(_cfg("hls4ml", tmp_path), progress=False)
    for split in ("train", "val"):
        assert (tmp_path / "hls4ml" / split / archive.MANIFEST_NAME).is_file()


def test_prepare_hls4ml_writes_the_manifest_of_a_folder_extracted_by_hand(tmp_path: Path) -> None:
    labels = np.arange(20) % 5
    write_hls4ml_file(tmp_path / "hls4ml" / "train" / "a.h5", labels)
    write_hls4ml_file(tmp_path / "hls4ml" / "val" / "b.h5", labels, first_id=100)
    prepare_jet_dataset(_cfg("hls4ml", tmp_path), progress=False)
    manifest = json.loads((tmp_path / "hls4ml" / "train" / archive.MANIFEST_NAME).read_text())
    path = tmp_path / "hls4ml" / "train" / "a.h5"
    assert manifest["files"]["a.h5"]["sha256"] == sha256_of(path)


@pytest.mark.parametrize("name", list(BUILDERS))
def test_second_preparation_and_load_hash_nothing(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    BUILDERS[name](tmp_path)
    cfg = _cfg(name, tmp_path)
    prepare_jet_dataset(cfg, progress=False)  # verifies (hashes) each file once
    expected = load_jet_dataset(cfg, progress=False).files

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a file was hashed again: {args}")

    monkeypatch.setattr(integrity, "digests_of", refuse)
    monkeypatch.setattr(archive, "file_info_cached", refuse)
    prepare_jet_dataset(cfg, progress=False)
    assert load_jet_dataset(cfg, progress=False).files == expected


@pytest.mark.parametrize("name", list(BUILDERS))
def test_prepare_without_files_names_the_missing_one(name: str, tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match=re.escape(str(tmp_path))):
        prepare_jet_dataset(_cfg(name, tmp_path), progress=False)


@pytest.mark.usefixtures("no_jet_reading")
def test_prepare_top_tagging_checks_every_file_before_reading(tmp_path: Path) -> None:
    _top_tagging(tmp_path)
    (tmp_path / "top_tagging" / "test.h5").unlink()
    with pytest.raises(MissingFileError, match=r"test\.h5 is missing"):
        load_jet_dataset(_cfg("top_tagging", tmp_path), progress=False)


def test_prepare_checks_the_settings(tmp_path: Path) -> None:
    with pytest.raises(DatasetConfigError, match=r"dataset\.val_fraction"):
        prepare_jet_dataset(_cfg("hls4ml", tmp_path, val_fraction=1.5), progress=False)


# --- embedded sample: provenance from the generator's manifest --------------------------------


@pytest.mark.usefixtures("no_hashing")
def test_embedded_provenance_comes_from_the_generator_manifest(
    tmp_path: Path, fake_generator: list[tuple]
) -> None:
    dataset = load_jet_dataset(_cfg("embedded_jets", tmp_path), progress=False)
    (folder,) = (tmp_path / "embedded_jets").iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    recorded = {(folder / entry["path"]).as_posix(): entry for entry in manifest["files"]}
    assert len(dataset.files) == len(recorded) == 2
    for info in dataset.files:
        entry = recorded[Path(info.path).as_posix()]
        assert (info.sha256, info.size_bytes) == (entry["sha256"], entry["size_bytes"])
        assert info.sha256 == sha256_of(info.path)  # (sha256_of is not patched)


def _embedded_folder(tmp_path: Path) -> Path:
    prepare_jet_dataset(_cfg("embedded_jets", tmp_path), progress=False)
    (folder,) = (tmp_path / "embedded_jets").iterdir()
    return folder


@pytest.mark.parametrize(
    ("damage", "match"),
    [
        ("resized", r"has \d+ bytes, expected \d+ in .*manifest\.json"),
        ("extra", r"extra\.h5: is not listed in .*manifest\.json"),
        ("deleted", r"1 file\(s\) listed in manifest\.json are missing \(first: val/"),
        ("no_manifest", r"manifest\.json is missing: .* is not a complete generated sample"),
        ("bad_manifest", r"manifest\.json: unreadable generator manifest"),
    ],
)
def test_embedded_folder_changed_since_generation(
    tmp_path: Path, fake_generator: list[tuple], damage: str, match: str
) -> None:
    folder = _embedded_folder(tmp_path)
    val_file = next((folder / "val").iterdir())
    manifest = folder / "manifest.json"
    if damage == "resized":
        with val_file.open("ab") as handle:
            handle.write(b"\0" * 8)
    elif damage == "extra":
        (folder / "train" / "extra.h5").write_bytes(val_file.read_bytes())
    elif damage == "deleted":
        val_file.unlink()
    elif damage == "no_manifest":
        manifest.unlink()
    else:
        manifest.write_text("{not json")
    # Read the folder directly: without a manifest the (fake) generator would write it anew.
    with pytest.raises(CorruptFileError, match=match) as caught:
        read_embedded_folder(folder, _cfg("embedded_jets", tmp_path), progress=False)
    assert "run again to generate it anew" in str(caught.value)


def test_embedded_jets_minimum_names_the_config_key(tmp_path: Path) -> None:
    pytest.importorskip("pythia8mc")
    pytest.importorskip("fastjet")
    cfg = _cfg("embedded_jets", tmp_path, jets_per_class=3)
    for call in (prepare_jet_dataset, load_jet_dataset):
        with pytest.raises(
            DatasetConfigError, match=r"^dataset\.jets_per_class must be >= 5, got 3$"
        ):
            call(cfg, progress=False)
    with pytest.raises(DatasetConfigError, match=r"^dataset\.workers must be >= 0, got -1$"):
        prepare_jet_dataset(_cfg("embedded_jets", tmp_path, workers=-1), progress=False)
    assert not (tmp_path / "embedded_jets").exists()
