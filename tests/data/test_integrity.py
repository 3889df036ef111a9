"""Checksum parsing, sidecars and the digest memo."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cern_ai_bench.data.errors import FormatError
from cern_ai_bench.data.files import file_info
from cern_ai_bench.data.integrity import (
    file_info_cached,
    parse_checksum,
    read_sidecar,
    sidecar_path,
    verify_sidecar,
    write_sidecar,
)


def test_parse_checksum() -> None:
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    assert parse_checksum(f"md5:{md5.upper()}") == ("md5", md5)
    assert parse_checksum(md5) == ("md5", md5)  # Zenodo's older plain-hex form
    assert parse_checksum("a" * 64) == ("sha256", "a" * 64)
    for bad in ("sha1:" + "a" * 40, "md5:xyz", "md5:" + "a" * 31, ""):
        with pytest.raises(FormatError, match="unsupported checksum"):
            parse_checksum(bad)


def test_sidecar_round_trip_is_sha256sum_format(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    digest = hashlib.sha256(b"abc").hexdigest()
    assert not verify_sidecar(path)
    write_sidecar(path, digest)
    assert sidecar_path(path).read_text() == f"{digest}  f.bin\n"
    assert read_sidecar(path) == digest
    assert verify_sidecar(path)


def test_garbage_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"abc")
    sidecar_path(path).write_text("not a digest\n")
    with pytest.raises(FormatError, match="delete this sidecar"):
        read_sidecar(path)


def test_file_info_cached_matches_file_info(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    assert file_info_cached(path) == file_info(path)
    path.write_bytes(b"y" * 1001)  # changed file: new size/mtime, hashed again
    assert file_info_cached(path) == file_info(path)
