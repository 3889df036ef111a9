"""Checksums of dataset files: parsing, hashing, ``.sha256`` sidecars and a digest memo.

A checksum is written ``"<algorithm>:<hex>"`` with algorithm ``md5`` or ``sha256`` (Zenodo's REST
API and OpenML publish MD5). Once a file has been verified against a published checksum its
SHA-256 is stored next to it in ``<file>.sha256`` (``sha256sum`` format, so ``sha256sum -c``
works), and later loads verify offline against that sidecar.

The SHA-256 of a file is hashed at most once per process (memo keyed by path, size and mtime),
so verifying a file and recording it in :class:`~cern_ai_bench.data.schema.FileInfo` cost one
read.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tqdm.auto import tqdm

from cern_ai_bench.data.errors import ChecksumMismatchError, FormatError
from cern_ai_bench.data.files import atomic_write_text
from cern_ai_bench.data.schema import FileInfo

ALGORITHMS: tuple[str, ...] = ("md5", "sha256")
_HEX_LENGTH = {"md5": 32, "sha256": 64}
_CHUNK_BYTES = 1 << 20

#: (resolved path, size, mtime_ns) -> SHA-256 hex digest, for this process only.
_SHA256_MEMO: dict[tuple[str, int, int], str] = {}


def parse_checksum(text: str) -> tuple[str, str]:
    """Split ``"md5:<hex>"`` / ``"sha256:<hex>"`` (or bare hex, told apart by length).

    Returns:
        ``(algorithm, lower-case hex digest)``.

    Raises:
        FormatError: the text is not a supported checksum.
    """
    algorithm, sep, digest = text.strip().partition(":")
    if not sep:
        digest = algorithm
        algorithm = {32: "md5", 64: "sha256"}.get(len(digest), "")
    algorithm, digest = algorithm.lower(), digest.lower()
    if algorithm not in ALGORITHMS or not re.fullmatch(
        f"[0-9a-f]{{{_HEX_LENGTH[algorithm]}}}", digest
    ):
        raise FormatError(
            f"unsupported checksum {text!r}: expected 'md5:<32 hex>' or 'sha256:<64 hex>'"
        )
    return algorithm, digest


def digests_of(
    path: Path, algorithms: tuple[str, ...], *, progress: bool = False
) -> dict[str, str]:
    """Hex digests of a file for several algorithms, in one read.

    The SHA-256, always computed, is remembered for :func:`sha256_cached`.
    """
    hashers = {name: hashlib.new(name) for name in {*algorithms, "sha256"}}
    size = path.stat().st_size
    with (
        path.open("rb") as handle,
        tqdm(
            total=size,
            unit="B",
            unit_scale=True,
            desc=f"checksum {path.name}",
            disable=not progress or size < 64 * _CHUNK_BYTES,
            leave=False,
        ) as bar,
    ):
        while chunk := handle.read(_CHUNK_BYTES):
            for hasher in hashers.values():
                hasher.update(chunk)
            bar.update(len(chunk))
    result = {name: hasher.hexdigest() for name, hasher in hashers.items()}
    _SHA256_MEMO[_memo_key(path)] = result["sha256"]
    return result


def sha256_cached(path: Path, *, progress: bool = False) -> str:
    """SHA-256 of a file, hashed at most once per process while the file is unchanged."""
    key = _memo_key(path)
    if key not in _SHA256_MEMO:
        digests_of(path, ("sha256",), progress=progress)
    return _SHA256_MEMO[key]


def file_info_cached(path: Path) -> FileInfo:
    """:class:`FileInfo` of a file (same fields as ``files.file_info``), using the digest memo."""
    return FileInfo(path=str(path), sha256=sha256_cached(path), size_bytes=path.stat().st_size)


def sidecar_path(path: Path) -> Path:
    """``<file>.sha256`` next to ``path``."""
    return path.with_name(path.name + ".sha256")


def read_sidecar(path: Path) -> str | None:
    """The SHA-256 recorded for ``path``, or None when there is no sidecar.

    Raises:
        FormatError: the sidecar exists but holds no SHA-256.
    """
    sidecar = sidecar_path(path)
    if not sidecar.is_file():
        return None
    fields = sidecar.read_text(encoding="utf-8").split()
    if not fields or not re.fullmatch("[0-9a-f]{64}", fields[0].lower()):
        raise FormatError(
            f"{sidecar}: expected '<sha256 hex>  {path.name}'; delete this sidecar and run again"
        )
    return fields[0].lower()


def write_sidecar(path: Path, sha256: str) -> None:
    """Record ``sha256`` for ``path`` in ``sha256sum`` format, atomically."""
    atomic_write_text(sidecar_path(path), f"{sha256}  {path.name}\n")


def verify_sidecar(path: Path, *, progress: bool = False) -> bool:
    """Check ``path`` against its sidecar.

    Returns:
        True when a sidecar exists and agrees, False when there is no sidecar.

    Raises:
        ChecksumMismatchError: the file's SHA-256 differs from the recorded one (the file was
            modified or damaged since it was verified).
    """
    recorded = read_sidecar(path)
    if recorded is None:
        return False
    actual = sha256_cached(path, progress=progress)
    if actual != recorded:
        raise ChecksumMismatchError(
            f"{path}: corrupt or modified since it was verified: sha256 {actual} differs from "
            f"sha256 {recorded} recorded in {sidecar_path(path)}; delete the file and its "
            "sidecar and run again to download it anew",
            path=path,
            expected=f"sha256:{recorded}",
            actual=f"sha256:{actual}",
        )
    return True


def _memo_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
