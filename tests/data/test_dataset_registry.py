"""Dataset registry: names, settings checks, the embedded generator hook, cards vs sources."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data import DataError, dataset_names, load_jet_dataset
from cern_ai_bench.data.errors import DatasetConfigError, UnknownDatasetError
from cern_ai_bench.data.registry import DATASETS

REPO = Path(__file__).resolve().parents[2]


def test_names() -> None:
    assert dataset_names() == ("hls4ml", "hls4ml_openml", "top_tagging", "embedded_jets")


def test_unknown_name_lists_valid_names(tmp_path: Path) -> None:
    cfg = DatasetConfig(name="hls4m", data_dir=str(tmp_path))
    with pytest.raises(UnknownDatasetError) as caught:
        load_jet_dataset(cfg, progress=False)
    message = str(caught.value)
    assert "'hls4m'" in message
    assert all(name in message for name in dataset_names())
    assert isinstance(caught.value, DataError)


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"val_fraction": 0.0}, "dataset.val_fraction"),
        ({"val_fraction": 1.0}, "dataset.val_fraction"),
        ({"n_constituents": 0}, "dataset.n_constituents"),
        ({"max_jets": 0}, "dataset.max_jets"),
        ({"data_dir": "${oc.env:HOME}/x"}, "dataset.data_dir"),
    ],
)
def test_bad_settings_name_the_key(tmp_path: Path, overrides: dict, key: str) -> None:
    settings = {"name": "hls4ml", "data_dir": str(tmp_path), "download": False, **overrides}
    with pytest.raises(DatasetConfigError, match=key.replace(".", r"\.")):
        load_jet_dataset(DatasetConfig(**settings), progress=False)


def test_embedded_jets_calls_the_generator_and_reads_its_folder(
    tmp_path: Path, fake_generator: list[tuple]
) -> None:
    cfg = DatasetConfig(
        name="embedded_jets",
        data_dir=str(tmp_path),
        n_constituents=10,
        val_fraction=0.25,
        jets_per_class=4,
        generator_seed=9,
        workers=1,
    )
    dataset = load_jet_dataset(cfg, progress=False)
    assert fake_generator == [(tmp_path, 4, 9, 150, 1, False)]
    assert dataset.name == "embedded_jets"
    assert dataset.split_sizes() == {"train": 15, "val": 5, "test": 10}
    assert dataset.train.constituents.shape[1:] == (10, 4)
    assert not list(tmp_path.rglob(".manifest.json"))  # the generator's folder is not written to


def test_every_card_lists_its_sources() -> None:
    for entry in DATASETS.values():
        if entry.card is None:
            continue
        card = (REPO / entry.card).read_text(encoding="utf-8")
        for source in entry.sources:
            for url in source.urls:
                assert url in card, f"{entry.card} does not list {url}"
            if source.landing_page:
                assert source.landing_page in card, f"{entry.card} lacks {source.landing_page}"
            if source.metadata_url:
                assert source.metadata_url in card, f"{entry.card} lacks {source.metadata_url}"
            if source.checksum is None:
                assert "none is pinned" in card.replace("*", ""), (
                    f"{entry.card}: say none is pinned"
                )
            else:
                assert source.checksum.split(":")[1] in card


def test_embedded_jets_without_generator_is_a_data_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "cern_ai_bench.generate.jets", None)  # import fails
    cfg = DatasetConfig(name="embedded_jets", data_dir=str(tmp_path))
    with pytest.raises(DataError, match="embedded jet generator cannot be imported"):
        load_jet_dataset(cfg, progress=False)
