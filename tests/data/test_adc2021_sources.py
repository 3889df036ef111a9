"""ADC2021 public files: records, both file-name generations, offline errors, verified download."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data import sources
from cern_ai_bench.data.adc2021 import (
    ADC2021_SAMPLES,
    SIGNAL_SAMPLES,
    adc2021_folder,
    prepare_adc2021,
    resolve_adc2021,
)
from cern_ai_bench.data.adc2021_io import write_adc2021
from cern_ai_bench.data.errors import (
    DownloadError,
    FormatError,
    MissingFileError,
    UnknownDatasetError,
)
from cern_ai_bench.data.files import sha256_of
from cern_ai_bench.data.integrity import read_sidecar
from cern_ai_bench.data.remote import RemoteFile
from cern_ai_bench.data.sources import ADC2021_FILES, ADC2021_SAMPLE_FILES
from tests.data.jet_file_builders import write_zenodo_record
from tests.data.test_adc2021_io import events, write_raw

#: The challenge page (mpp-hep/ADC2021 index.html, commit "update Zenodo links", 2022-10-06).
PAGE_RECORDS = {
    "blackbox": 5072068,
    "background": 5046428,
    "ato4l": 7152590,
    "leptoquark": 7152599,
    "h0_tautau": 7152614,
    "hplus_taunu": 7152617,
}
#: The same page before that commit (July 2021); the black box's earlier record is 5070455.
JULY_2021_RECORDS = {"ato4l": 5046446, "leptoquark": 5055454, "h0_tautau": 5061633}


def config(tmp_path: Path, *, download: bool = False) -> DatasetConfig:
    return DatasetConfig(name="adc2021", data_dir=str(tmp_path), download=download)


def place(folder: Path, name: str, n: int = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_adc2021(folder / name, events(n))


def test_records_and_urls_follow_the_challenge_page() -> None:
    assert {key: spec.record for key, spec in ADC2021_SAMPLES.items()} == PAGE_RECORDS
    for key, record in JULY_2021_RECORDS.items():
        assert ADC2021_SAMPLES[key].superseded_record == record
    assert ADC2021_SAMPLES["hplus_taunu"].superseded_record == 5061688
    assert SIGNAL_SAMPLES == ("ato4l", "leptoquark", "h0_tautau", "hplus_taunu")
    assert {s.role for s in ADC2021_SAMPLES.values()} == {"background", "blackbox", "signal"}
    for key, files in ADC2021_SAMPLE_FILES.items():
        spec = ADC2021_SAMPLES[key]
        assert files[0][1] == spec.record  # the preferred name comes from the current record
        for name, record in files:
            assert record in (spec.record, spec.superseded_record)
            entry = ADC2021_FILES[name]
            assert entry.urls == (f"https://zenodo.org/records/{record}/files/{name}",)
            assert entry.metadata_url == f"https://zenodo.org/api/records/{record}"
            assert entry.checksum is None  # none published: the record's MD5 at download time
    # Both generations of every signal's name are accepted.
    assert ADC2021_SAMPLES["ato4l"].filenames == (
        "Ato4l_lepFilter_13TeV_filtered.h5",
        "Ato4l_lepFilter_13TeV.h5",
    )
    for key in SIGNAL_SAMPLES:
        current, old = ADC2021_SAMPLES[key].filenames
        assert current == old.replace(".h5", "_filtered.h5")


@pytest.mark.parametrize(
    ("sample", "name", "record", "superseded"),
    [
        ("ato4l", "Ato4l_lepFilter_13TeV_filtered.h5", 7152590, False),
        ("ato4l", "Ato4l_lepFilter_13TeV.h5", 5046446, True),
        ("hplus_taunu", "hChToTauNu_13TeV_PU20.h5", 5061688, True),
        ("leptoquark", "leptoquark_LOWMASS_lepFilter_13TeV_filtered.h5", 7152599, False),
        ("background", "background_for_training.h5", 5046428, False),
        ("blackbox", "BlackBox_13TeV_PU20.h5", 5072068, False),
    ],
)
def test_either_published_name_resolves_and_is_recorded(
    tmp_path: Path, sample: str, name: str, record: int, superseded: bool
) -> None:
    folder = adc2021_folder(tmp_path)
    place(folder, name)
    found = resolve_adc2021(sample, folder)
    assert (found.path, found.filename, found.record) == (folder / name, name, record)
    assert (found.sample, found.superseded) == (sample, superseded)
    # prepare (offline, placed by hand, no sidecar) uses it unverified and checks its layout.
    assert prepare_adc2021([sample], config(tmp_path), tmp_path, progress=False) == {sample: found}


def test_current_generation_wins_when_both_are_present(tmp_path: Path) -> None:
    folder = adc2021_folder(tmp_path)
    place(folder, "hToTauTau_13TeV_PU20.h5")
    place(folder, "hToTauTau_13TeV_PU20_filtered.h5")
    found = resolve_adc2021("h0_tautau", folder)
    assert found.filename == "hToTauTau_13TeV_PU20_filtered.h5" and not found.superseded


def test_offline_without_the_file_names_both_names_url_and_path(tmp_path: Path) -> None:
    folder = tmp_path / "adc2021"
    with pytest.raises(MissingFileError) as caught:
        prepare_adc2021(["background", "ato4l"], config(tmp_path), tmp_path, progress=False)
    message = str(caught.value)
    assert "ADC2021 sample 'background'" in message  # the first missing sample, in order
    assert "downloads are disabled (dataset.download=false)" in message
    assert str(folder / "background_for_training.h5") in message
    assert "https://zenodo.org/records/5046428/files/background_for_training.h5" in message

    place(folder, "background_for_training.h5")
    with pytest.raises(MissingFileError) as caught:
        prepare_adc2021(["background", "ato4l"], config(tmp_path), tmp_path, progress=False)
    message = str(caught.value)
    assert f"no file in {folder}" in message
    assert "Ato4l_lepFilter_13TeV_filtered.h5 (Zenodo 7152590)" in message
    assert "Ato4l_lepFilter_13TeV.h5 (Zenodo 5046446, superseded)" in message
    assert "https://zenodo.org/records/7152590/files/Ato4l_lepFilter_13TeV_filtered.h5" in message
    assert caught.value.path == folder / "Ato4l_lepFilter_13TeV_filtered.h5"
    assert caught.value.urls == ADC2021_FILES["Ato4l_lepFilter_13TeV_filtered.h5"].urls


def test_unknown_sample_and_malformed_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownDatasetError, match=r"'ato5l'.*'background'"):
        prepare_adc2021(["ato5l"], config(tmp_path), tmp_path, progress=False)
    folder = adc2021_folder(tmp_path)
    folder.mkdir()
    write_raw(folder / "Ato4l_lepFilter_13TeV.h5", Particles=np.ones((3, 19, 3)))
    with pytest.raises(FormatError, match="class column is missing"):
        prepare_adc2021(["ato4l"], config(tmp_path), tmp_path, progress=False)


def _serve(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, record_files: dict[str, Path]) -> None:
    """Point every ADC2021 entry at a local Zenodo record listing ``record_files`` (file://)."""
    record = write_zenodo_record(tmp_path / "record.json", record_files)
    for name in list(ADC2021_FILES):
        local = (tmp_path / "remote" / name).as_uri()
        patched = RemoteFile(name, urls=(local,), metadata_url=record, metadata_kind="zenodo")
        monkeypatch.setitem(sources.ADC2021_FILES, name, patched)


def test_download_tries_the_names_of_the_current_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote"
    source = place(remote, "BlackBox_13TeV_PU20.h5", n=12)  # the record holds the second name
    _serve(monkeypatch, tmp_path, {"BlackBox_13TeV_PU20.h5": source})
    data_dir = tmp_path / "data"
    found = prepare_adc2021(["blackbox"], config(data_dir, download=True), data_dir, progress=False)
    path = data_dir / "adc2021" / "BlackBox_13TeV_PU20.h5"
    assert found["blackbox"].path == path and not found["blackbox"].superseded
    assert read_sidecar(path) == sha256_of(source)  # verified against the record's MD5
    assert not (data_dir / "adc2021" / "BlackBox_background_mix.h5").exists()
    # Later runs verify offline against the sidecar.
    source.unlink()
    again = prepare_adc2021(["blackbox"], config(data_dir), data_dir, progress=False)
    assert again == found


def test_download_never_falls_back_to_a_superseded_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remote = tmp_path / "remote"
    old = place(remote, "Ato4l_lepFilter_13TeV.h5")  # only the 2021 file is reachable
    _serve(monkeypatch, tmp_path, {"Ato4l_lepFilter_13TeV.h5": old})
    data_dir = tmp_path / "data"
    with pytest.raises(DownloadError) as caught:
        prepare_adc2021(["ato4l"], config(data_dir, download=True), data_dir, progress=False)
    message = str(caught.value)
    assert "could not be downloaded from Zenodo 7152590" in message
    assert "lists no file 'Ato4l_lepFilter_13TeV_filtered.h5'" in message
    assert not list((data_dir / "adc2021").glob("*.h5"))
