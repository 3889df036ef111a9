"""Extract a dataset tarball once, atomically, and remember what it held.

The tarball is unpacked into a temporary folder next to the destination and renamed into place
only when complete, so an interrupted extraction never leaves a folder that later reads as
valid. Members are streamed one by one: only regular files and folders are accepted, and no
path may leave the destination (absolute paths and ``..`` are refused), so a hostile archive
cannot write elsewhere.

While extracting, each file's SHA-256 and size go into ``.manifest.json`` in the extracted
folder. Loaders take the files' provenance from it (checking sizes) instead of re-hashing tens
of gigabytes on every load; a folder extracted by hand gets its manifest on first use.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import lzma
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from cern_ai_bench.data.errors import CorruptFileError, FormatError, corrupt_file_error
from cern_ai_bench.data.files import atomic_write_text
from cern_ai_bench.data.integrity import file_info_cached
from cern_ai_bench.data.schema import FileInfo

logger = logging.getLogger(__name__)

MANIFEST_NAME = ".manifest.json"
_CHUNK_BYTES = 1 << 20


def extract_tarball(tarball: Path, dest: Path, *, member_root: str, progress: bool) -> Path:
    """Unpack ``tarball`` so that its folder ``member_root/`` becomes ``dest``.

    If the archive has no ``member_root/`` folder, its single top-level folder (or, failing
    that, its top level) is used.

    Args:
        tarball: a (possibly compressed) tar archive.
        dest: the folder to create; must not exist yet.
        member_root: the archive's top-level folder expected to hold the files.
        progress: show a tqdm bar of extracted bytes.

    Returns:
        ``dest``.

    Raises:
        CorruptFileError: the archive is truncated or damaged.
        FormatError: unsafe or unexpected members, or no files at all.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extracting-", dir=dest.parent))
    try:
        digests = _extract_members(tarball, tmp, progress=progress)
        root = _content_root(tmp, member_root)
        prefix = PurePosixPath(*root.relative_to(tmp).parts) if root != tmp else None
        manifest = {}
        for name, record in digests.items():
            relative = PurePosixPath(name)
            if prefix is not None:
                if not relative.is_relative_to(prefix):
                    continue
                relative = relative.relative_to(prefix)
            manifest[str(relative)] = record
        if not manifest:
            raise FormatError(f"{tarball}: the archive holds no files")
        _write_manifest(root, manifest, source=tarball.name)
        root.replace(dest)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as error:
        raise corrupt_file_error(
            tarball, error, remedy="delete it and run again to download it anew"
        ) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("extracted %s into %s (%d files)", tarball, dest, len(manifest))
    return dest


def folder_file_infos(
    folder: Path, paths: list[Path], *, write_manifest: bool
) -> tuple[FileInfo, ...]:
    """Provenance of files inside ``folder``, from its manifest when there is one.

    Args:
        folder: the extracted folder (may hold ``.manifest.json``).
        paths: files inside ``folder`` to describe.
        write_manifest: when there is no manifest, hash the files and write one so later
            loads are cheap (best effort: a read-only folder is hashed every time).

    Raises:
        CorruptFileError: a file's size differs from the manifest, or it is not listed.
    """
    manifest = _read_manifest(folder)
    if manifest is None:
        infos = tuple(file_info_cached(path) for path in paths)
        if write_manifest:
            records = {
                str(PurePosixPath(*Path(info.path).relative_to(folder).parts)): {
                    "sha256": info.sha256,
                    "size_bytes": info.size_bytes,
                }
                for info in infos
            }
            try:
                _write_manifest(folder, records, source="hashed on first use")
            except OSError as error:
                logger.info("could not write %s (%s)", folder / MANIFEST_NAME, error)
        return infos
    gone = sorted(
        key for key in manifest if not folder.joinpath(*PurePosixPath(key).parts).is_file()
    )
    if gone:
        raise CorruptFileError(
            f"{folder}: {len(gone)} file(s) listed in {MANIFEST_NAME} are missing (first: "
            f"{gone[0]}); delete {folder} and run again to extract it anew"
        )
    infos = []
    for path in paths:
        key = str(PurePosixPath(*path.relative_to(folder).parts))
        record = manifest.get(key)
        size = path.stat().st_size
        if record is None or record["size_bytes"] != size:
            found = (
                "is not listed"
                if record is None
                else f"has {size} bytes, expected {record['size_bytes']}"
            )
            raise CorruptFileError(
                f"{path}: {found} in {folder / MANIFEST_NAME}; the folder changed since it was "
                f"extracted: delete {folder} and run again to extract it anew"
            )
        infos.append(FileInfo(path=str(path), sha256=record["sha256"], size_bytes=size))
    return tuple(infos)


def _extract_members(tarball: Path, tmp: Path, *, progress: bool) -> dict[str, dict]:
    digests: dict[str, dict] = {}
    with (
        tarfile.open(tarball, mode="r:*") as archive,
        tqdm(
            unit="B", unit_scale=True, desc=f"extract {tarball.name}", disable=not progress
        ) as bar,
    ):
        for member in archive:
            name = PurePosixPath(member.name)
            if name.is_absolute() or ".." in name.parts:
                raise FormatError(f"{tarball}: refusing unsafe member path {member.name!r}")
            target = tmp.joinpath(*name.parts) if name.parts else tmp
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            if not member.isfile():
                raise FormatError(
                    f"{tarball}: unexpected member {member.name!r} (links and special files "
                    "are not accepted in a dataset archive)"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:  # pragma: no cover - isfile() members always have data
                raise FormatError(f"{tarball}: member {member.name!r} has no data")
            hasher = hashlib.sha256()
            with source, target.open("wb") as out:
                while chunk := source.read(_CHUNK_BYTES):
                    hasher.update(chunk)
                    out.write(chunk)
                    bar.update(len(chunk))
            digests[str(PurePosixPath(*name.parts))] = {
                "sha256": hasher.hexdigest(),
                "size_bytes": member.size,
            }
    return digests


def _content_root(tmp: Path, member_root: str) -> Path:
    expected = tmp / member_root
    if expected.is_dir():
        return expected
    entries = [entry for entry in tmp.iterdir()]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return tmp


def _write_manifest(folder: Path, records: dict[str, dict], *, source: str) -> None:
    document = {"source": source, "files": dict(sorted(records.items()))}
    atomic_write_text(folder / MANIFEST_NAME, json.dumps(document, indent=1) + "\n")


def _read_manifest(folder: Path) -> dict[str, dict] | None:
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return None
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
        return {
            str(key): {"sha256": str(value["sha256"]), "size_bytes": int(value["size_bytes"])}
            for key, value in files.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise FormatError(
            f"{path}: unreadable manifest ({error}); delete it and run again"
        ) from None
