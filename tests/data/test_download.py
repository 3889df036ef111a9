"""ensure_file: verified download (file:// and loopback HTTP), resume, checksums, offline errors."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest

from cern_ai_bench.data.download import ensure_file
from cern_ai_bench.data.errors import ChecksumMismatchError, DownloadError, MissingFileError
from cern_ai_bench.data.integrity import read_sidecar, sidecar_path
from cern_ai_bench.data.remote import RemoteFile
from tests.data.conftest import FileServer
from tests.data.jet_file_builders import (
    write_openml_arff,
    write_openml_description,
    write_zenodo_record,
)

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB, several read chunks


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _source(tmp_path: Path, data: bytes = PAYLOAD) -> Path:
    source = tmp_path / "remote" / "payload.bin"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(data)
    return source


def test_download_from_file_url_verifies_and_writes_sidecar(tmp_path: Path) -> None:
    source = _source(tmp_path)
    entry = RemoteFile(
        "payload.bin", urls=(source.as_uri(),), checksum=f"sha256:{_sha256(PAYLOAD)}"
    )
    path = ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    assert path == tmp_path / "data" / "payload.bin"
    assert path.read_bytes() == PAYLOAD
    assert read_sidecar(path) == _sha256(PAYLOAD)
    assert not path.with_name("payload.bin.part").exists()
    # second call: verified offline against the sidecar, no network needed
    source.unlink()
    assert ensure_file(entry, tmp_path / "data", allow_download=False, progress=False) == path


def test_checksum_from_zenodo_api_when_none_is_pinned(tmp_path: Path) -> None:
    source = _source(tmp_path)
    record = write_zenodo_record(tmp_path / "record.json", {"payload.bin": source})
    entry = RemoteFile(
        "payload.bin", urls=(source.as_uri(),), metadata_url=record, metadata_kind="zenodo"
    )
    path = ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert read_sidecar(path) == _sha256(PAYLOAD)


def test_zenodo_md5_mismatch_moves_download_aside(tmp_path: Path) -> None:
    source = _source(tmp_path)
    record = write_zenodo_record(tmp_path / "record.json", {"payload.bin": source}, bad_md5=True)
    entry = RemoteFile(
        "payload.bin", urls=(source.as_uri(),), metadata_url=record, metadata_kind="zenodo"
    )
    with pytest.raises(ChecksumMismatchError, match="md5") as caught:
        ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    assert caught.value.expected == "md5:" + "0" * 32
    assert caught.value.actual == "md5:" + hashlib.md5(PAYLOAD).hexdigest()


def test_wrong_pinned_checksum_names_file_and_both_digests(tmp_path: Path) -> None:
    source = _source(tmp_path)
    wrong = "f" * 64
    entry = RemoteFile("payload.bin", urls=(source.as_uri(),), checksum=f"sha256:{wrong}")
    with pytest.raises(ChecksumMismatchError) as caught:
        ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    message = str(caught.value)
    assert "payload.bin" in message and wrong in message and _sha256(PAYLOAD) in message
    assert not (tmp_path / "data" / "payload.bin").exists()
    assert (tmp_path / "data" / "payload.bin.corrupt").read_bytes() == PAYLOAD
    assert not sidecar_path(tmp_path / "data" / "payload.bin").exists()


def test_missing_file_offline_names_url_and_path(tmp_path: Path) -> None:
    url = "https://zenodo.org/records/1/files/payload.bin"
    entry = RemoteFile("payload.bin", urls=(url,), checksum=f"sha256:{'0' * 64}")
    with pytest.raises(MissingFileError) as caught:
        ensure_file(entry, tmp_path / "data", allow_download=False, progress=False)
    message = str(caught.value)
    assert url in message
    assert str(tmp_path / "data" / "payload.bin") in message
    assert "dataset.download" in message
    assert caught.value.path == tmp_path / "data" / "payload.bin"


def test_network_failure_names_url_and_path(tmp_path: Path) -> None:
    url = (tmp_path / "nowhere" / "payload.bin").as_uri()
    entry = RemoteFile("payload.bin", urls=(url,), checksum=f"sha256:{'0' * 64}")
    with pytest.raises(DownloadError) as caught:
        ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    message = str(caught.value)
    assert url in message and str(tmp_path / "data" / "payload.bin") in message


def test_metadata_lookup_failure_is_a_download_error(tmp_path: Path) -> None:
    entry = RemoteFile(
        "payload.bin",
        urls=("https://example.invalid/payload.bin",),
        metadata_url=(tmp_path / "missing.json").as_uri(),
        metadata_kind="zenodo",
    )
    with pytest.raises(DownloadError, match="could not be looked up"):
        ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)


def test_corrupt_file_against_sidecar(tmp_path: Path) -> None:
    source = _source(tmp_path)
    entry = RemoteFile(
        "payload.bin", urls=(source.as_uri(),), checksum=f"sha256:{_sha256(PAYLOAD)}"
    )
    path = ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    path.write_bytes(PAYLOAD[:-1] + b"\x00")
    with pytest.raises(ChecksumMismatchError, match="corrupt or modified") as caught:
        ensure_file(entry, tmp_path / "data", allow_download=False, progress=False)
    assert str(path) in str(caught.value)


def test_file_placed_by_hand_is_verified_when_checksum_is_known(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "payload.bin").write_bytes(b"not the published file")
    entry = RemoteFile("payload.bin", urls=("https://x/p",), checksum=f"sha256:{_sha256(PAYLOAD)}")
    with pytest.raises(ChecksumMismatchError, match="delete it"):
        ensure_file(entry, data_dir, allow_download=False, progress=False)


def test_file_placed_by_hand_without_checksum_is_used_unverified(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "payload.bin").write_bytes(PAYLOAD)
    entry = RemoteFile(
        "payload.bin", urls=("https://x/p",), metadata_url="https://x/api", metadata_kind="zenodo"
    )
    with caplog.at_level(logging.WARNING):
        path = ensure_file(entry, data_dir, allow_download=False, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert "unverified" in caplog.text
    assert not sidecar_path(path).exists()  # verified (and recorded) on a later online run


def test_resume_partial_download_with_http_range(tmp_path: Path, file_server: FileServer) -> None:
    file_server.files["payload.bin"] = PAYLOAD
    entry = RemoteFile(
        "payload.bin", urls=(file_server.url("payload.bin"),), checksum=f"sha256:{_sha256(PAYLOAD)}"
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    half = len(PAYLOAD) // 2
    (data_dir / "payload.bin.part").write_bytes(PAYLOAD[:half])
    path = ensure_file(entry, data_dir, allow_download=True, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert file_server.requests[-1].get("Range") == f"bytes={half}-"


def test_resume_restarts_when_server_ignores_range(tmp_path: Path, file_server: FileServer) -> None:
    file_server.files["payload.bin"] = PAYLOAD
    file_server.support_range = False
    entry = RemoteFile(
        "payload.bin", urls=(file_server.url("payload.bin"),), checksum=f"sha256:{_sha256(PAYLOAD)}"
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "payload.bin.part").write_bytes(b"stale bytes of an older attempt")
    path = ensure_file(entry, data_dir, allow_download=True, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_transient_http_error_is_retried(tmp_path: Path, file_server: FileServer) -> None:
    file_server.files["payload.bin"] = PAYLOAD
    file_server.fail_with = [503]
    entry = RemoteFile(
        "payload.bin", urls=(file_server.url("payload.bin"),), checksum=f"sha256:{_sha256(PAYLOAD)}"
    )
    path = ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert len(file_server.requests) == 2


def test_http_404_falls_back_to_next_mirror(tmp_path: Path, file_server: FileServer) -> None:
    file_server.files["mirror.bin"] = PAYLOAD
    entry = RemoteFile(
        "payload.bin",
        urls=(file_server.url("gone.bin"), file_server.url("mirror.bin")),
        checksum=f"sha256:{_sha256(PAYLOAD)}",
    )
    path = ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_openml_description_gives_url_and_md5(tmp_path: Path) -> None:
    arff = tmp_path / "remote" / "dataset.arff"
    write_openml_arff(arff, ["g", "t"])
    description = write_openml_description(tmp_path / "description.json", arff)
    entry = RemoteFile(
        "hls4ml_lhc_jets_hlf.arff",
        metadata_url=description,
        metadata_kind="openml",
        remote_name="hls4ml_lhc_jets_hlf",
    )
    path = ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)
    assert path.read_bytes() == arff.read_bytes()


def test_openml_description_of_another_dataset_is_refused(tmp_path: Path) -> None:
    arff = tmp_path / "remote" / "dataset.arff"
    write_openml_arff(arff, ["g"])
    description = write_openml_description(tmp_path / "d.json", arff, name="iris")
    entry = RemoteFile(
        "hls4ml_lhc_jets_hlf.arff",
        metadata_url=description,
        metadata_kind="openml",
        remote_name="hls4ml_lhc_jets_hlf",
    )
    with pytest.raises(DownloadError, match="id in the registry is wrong"):
        ensure_file(entry, tmp_path / "data", allow_download=True, progress=False)


def test_remote_file_needs_a_checksum_source() -> None:
    with pytest.raises(ValueError, match="checksum"):
        RemoteFile("x.bin", urls=("https://x/x.bin",))


def test_complete_part_file_is_verified_without_refetching(
    tmp_path: Path, file_server: FileServer
) -> None:
    file_server.files["payload.bin"] = PAYLOAD
    entry = RemoteFile(
        "payload.bin", urls=(file_server.url("payload.bin"),), checksum=f"sha256:{_sha256(PAYLOAD)}"
    )
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "payload.bin.part").write_bytes(PAYLOAD)  # interrupted just before the rename
    path = ensure_file(entry, data_dir, allow_download=True, progress=False)
    assert path.read_bytes() == PAYLOAD
    assert file_server.requests[-1].get("Range") == f"bytes={len(PAYLOAD)}-"  # answered 416
