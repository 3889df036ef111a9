"""Anomaly dataset registry: names, cards vs sources, ADC2021 and LHCO loaders on local files,
settings errors, the canonical schemas."""

from __future__ import annotations

import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data import anomaly_loaders
from cern_ai_bench.data.adc2021 import ADC2021_SAMPLES, SIGNAL_SAMPLES, adc2021_folder
from cern_ai_bench.data.adc2021_io import write_adc2021
from cern_ai_bench.data.anomaly_registry import (
    ANOMALY_DATASETS,
    anomaly_dataset_names,
    load_anomaly_dataset,
)
from cern_ai_bench.data.anomaly_schema import DijetAnomalyDataset, L1AnomalyDataset
from cern_ai_bench.data.errors import DatasetConfigError, MissingFileError, UnknownDatasetError
from cern_ai_bench.data.lhco_features import DijetFeatures, derived_features, lhco_feature_table
from cern_ai_bench.data.schema import SchemaError
from tests.data.test_adc2021_io import events
from tests.tasks.dijet_samples import place_lhco_features, synthetic_dijets

REPO = Path(__file__).resolve().parents[2]


def config(tmp_path: Path, name: str, **overrides: object) -> DatasetConfig:
    settings = {"name": name, "data_dir": str(tmp_path), "download": False, **overrides}
    return DatasetConfig(**settings)  # type: ignore[arg-type]


def test_names_and_input_families() -> None:
    assert anomaly_dataset_names() == ("embedded_l1", "adc2021", "lhco_rnd", "embedded_lhco")
    assert {n: e.inputs for n, e in ANOMALY_DATASETS.items()} == {
        "embedded_l1": "l1_events",
        "adc2021": "l1_events",
        "lhco_rnd": "dijet_features",
        "embedded_lhco": "dijet_features",
    }


def test_every_card_lists_its_sources() -> None:
    for entry in ANOMALY_DATASETS.values():
        assert entry.card is not None, entry.name
        card = (REPO / entry.card).read_text(encoding="utf-8")
        for source in entry.sources:
            assert source.filename in card, f"{entry.card} does not list {source.filename}"
            for url in source.urls:
                assert url in card, f"{entry.card} does not list {url}"
            if source.checksum is None:
                assert "none is pinned" in card.replace("*", ""), f"{entry.card}: say so"
            else:
                assert source.checksum.split(":")[1] in card


def place_adc2021(data_dir: Path, n_background: int = 50, n_signal: int = 10) -> dict:
    """The five files the task reads, current names; background event i has MET pT = 1000 + i."""
    folder = adc2021_folder(data_dir)
    folder.mkdir(parents=True)
    background = events(n_background)
    background[:, 0, 0] = 1000.0 + np.arange(n_background)
    written = {"background": background}
    write_adc2021(folder / ADC2021_SAMPLES["background"].filenames[0], background)
    for k, signal in enumerate(SIGNAL_SAMPLES):
        written[signal] = events(n_signal, seed=k + 1)
        write_adc2021(folder / ADC2021_SAMPLES[signal].filenames[0], written[signal])
    return written


def met_ids(split: np.ndarray) -> list[int]:
    return (split[:, 0, 0] - 1000.0).round().astype(int).tolist()


def test_adc2021_holds_out_a_test_fraction_of_its_one_background_file(tmp_path: Path) -> None:
    written = place_adc2021(tmp_path)
    cfg = config(tmp_path, "adc2021", test_fraction=0.2, val_fraction=0.25, split_seed=7)
    data = load_anomaly_dataset(cfg, progress=False)
    assert isinstance(data, L1AnomalyDataset)
    assert data.split_sizes() == {
        "train": 30,
        "val": 10,
        "test": 10,
        **{f"signal_{s}": 10 for s in SIGNAL_SAMPLES},
    }
    parts = [met_ids(data.train), met_ids(data.val), met_ids(data.test)]
    assert sorted(parts[0] + parts[1] + parts[2]) == list(range(50))  # a partition of the file
    assert all(part == sorted(part) for part in parts)  # each in file order
    for signal in SIGNAL_SAMPLES:
        np.testing.assert_array_equal(data.signals[signal], written[signal])
    assert len(data.files) == 5 and data.class_names == ("background", *SIGNAL_SAMPLES)
    again = load_anomaly_dataset(cfg, progress=False)
    assert met_ids(again.test) == parts[2]
    other = load_anomaly_dataset(config(tmp_path, "adc2021", split_seed=8), progress=False)
    assert met_ids(other.test) != parts[2]
    capped = load_anomaly_dataset(config(tmp_path, "adc2021", max_events=20), progress=False)
    assert sorted(met_ids(capped.train) + met_ids(capped.val) + met_ids(capped.test)) == list(
        range(20)
    )
    assert len(capped.signals["ato4l"]) == 10


def test_missing_adc2021_signal_file_says_where_to_put_it(tmp_path: Path) -> None:
    place_adc2021(tmp_path)
    name = ADC2021_SAMPLES["h0_tautau"].filenames[0]
    (adc2021_folder(tmp_path) / name).unlink()
    with pytest.raises(MissingFileError, match=rf"h0_tautau.*{name}"):
        load_anomaly_dataset(config(tmp_path, "adc2021"), progress=False)


def test_lhco_rnd_features_become_the_five_cathode_inputs(tmp_path: Path) -> None:
    path = place_lhco_features(tmp_path, n_background=300, n_signal=30, seed=2)
    data = load_anomaly_dataset(config(tmp_path, "lhco_rnd"), progress=False)
    assert isinstance(data, DijetAnomalyDataset)
    features, labels = synthetic_dijets(300, 30, seed=2)
    np.testing.assert_allclose(data.features, derived_features(features), rtol=1e-6)
    np.testing.assert_array_equal(data.labels, labels)
    assert (data.n_background, data.n_signal) == (300, 30)
    assert data.files[0].path == str(path)
    capped = load_anomaly_dataset(config(tmp_path, "lhco_rnd", max_events=100), progress=False)
    assert len(capped.features) == 100


def test_events_without_two_jets_are_dropped() -> None:
    features, labels = synthetic_dijets(20, 5)
    table = features.table.copy()
    table[3, 7:] = np.nan  # event 3 has one jet
    data = anomaly_loaders.dijet_dataset("x", derived_features(DijetFeatures(table)), labels, ())
    assert len(data.features) == 24
    np.testing.assert_array_equal(data.labels, np.delete(labels, 3))


@pytest.mark.parametrize(
    ("name", "overrides", "error", "message"),
    [
        ("adc2021", {"test_fraction": 1.0}, DatasetConfigError, "dataset.test_fraction"),
        ("lhco_rnd", {"feature_source": "csv"}, DatasetConfigError, "dataset.feature_source"),
        ("adc2021", {"max_events": 1}, DatasetConfigError, "dataset.max_events"),
        ("adc2022", {}, UnknownDatasetError, "embedded_l1, adc2021, lhco_rnd"),
    ],
)
def test_settings_errors_name_the_key(tmp_path, name, overrides, error, message) -> None:
    with pytest.raises(error, match=message):
        load_anomaly_dataset(config(tmp_path, name, **overrides), progress=False)


def test_schemas_refuse_bad_arrays() -> None:
    good = np.zeros((3, 19, 4), np.float32)
    with pytest.raises(SchemaError, match=r"train: expected L1 events \(N, 19, 4\) float32"):
        L1AnomalyDataset("x", good[:, :18], good, good, {"s": good})
    with pytest.raises(SchemaError, match="no signal samples"):
        L1AnomalyDataset("x", good, good, good, {})
    features = np.zeros((4, 5), np.float32)
    labels = np.array([0, 1, 0, 1], np.int8)
    features[2, 3] = np.nan
    with pytest.raises(SchemaError, match="non-finite value in event 2"):
        DijetAnomalyDataset("x", features, labels)
    with pytest.raises(SchemaError, match="no signal events"):
        DijetAnomalyDataset("x", np.zeros((4, 5), np.float32), np.zeros(4, np.int8))


def test_generated_lhco_files_are_clustered_once_and_cached(
    tmp_path: Path, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded-LHCO loader path on the genuine format (the first 1000 R&D events)."""
    raw = shutil.copy(shared_data / "lhco" / "events_anomalydetection_tiny.h5", tmp_path)
    fake = types.ModuleType("cern_ai_bench.data.embedded_lhco")
    fake.prepare_embedded_lhco = lambda cfg, data_dir, *, progress: {"sample": Path(raw)}
    monkeypatch.setitem(sys.modules, "cern_ai_bench.data.embedded_lhco", fake)
    cfg = config(tmp_path, "embedded_lhco", max_events=200)
    data = anomaly_loaders.load_embedded_lhco_anomaly(cfg, tmp_path, progress=False)
    cache = next(tmp_path.glob("*.dijet_features_v1.h5"))
    features, labels = lhco_feature_table(raw, max_events=200, progress=False)
    np.testing.assert_allclose(data.features, derived_features(features), rtol=1e-6)
    np.testing.assert_array_equal(data.labels, labels)
    assert 0 < data.n_signal < 50  # 93 signal events in the 1000
    stamp = cache.stat().st_mtime_ns
    anomaly_loaders.load_embedded_lhco_anomaly(cfg, tmp_path, progress=False)
    assert cache.stat().st_mtime_ns == stamp  # read from the cache, not clustered again
