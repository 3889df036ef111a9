"""Where a public dataset file comes from, and how its checksum is found at download time.

No checksum of the public jet files is published anywhere we could check, so none is pinned
(see the dataset cards). Instead each :class:`RemoteFile` names a metadata API that publishes
the MD5 next to the file, read when the file is downloaded:

- Zenodo: ``GET https://zenodo.org/api/records/<id>`` lists ``files`` with ``key`` (or
  ``filename``), ``size``, ``checksum`` (``"md5:<hex>"``, older records plain hex) and
  ``links`` (``self`` / ``download``).
- OpenML: ``GET https://www.openml.org/api/v1/json/data/<id>`` returns
  ``data_set_description`` with ``name``, ``url`` (the ARFF file) and ``md5_checksum``.

The JSON shapes above are the documented ones; parsing is defensive and a surprise raises a
clear error rather than guessing.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Literal

from cern_ai_bench import __version__

MetadataKind = Literal["zenodo", "openml"]

#: Sent with every request (Zenodo asks clients to identify themselves).
USER_AGENT = f"cern-ai-bench/{__version__} (Python urllib; dataset download)"


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file of a public dataset.

    Attributes:
        filename: name of the file on disk (inside the dataset's folder).
        urls: download URLs, tried in order (mirrors); may be empty when the metadata API
            provides the URL (OpenML).
        checksum: pinned ``"md5:<hex>"`` or ``"sha256:<hex>"``; None when none is published.
        size_bytes: expected size, None when unknown (used for messages only).
        metadata_url: API that publishes the checksum (and possibly the URL) of the file.
        metadata_kind: how to read ``metadata_url``.
        remote_name: the file's key in a Zenodo record, or the dataset name an OpenML
            description must carry (guards against a wrong numeric id).
        landing_page: human-readable page to download the file from by hand.
    """

    filename: str
    urls: tuple[str, ...] = ()
    checksum: str | None = None
    size_bytes: int | None = None
    metadata_url: str | None = None
    metadata_kind: MetadataKind | None = None
    remote_name: str | None = None
    landing_page: str | None = None

    def __post_init__(self) -> None:
        if self.checksum is None and self.metadata_url is None:
            raise ValueError(
                f"{self.filename}: a remote file needs a pinned checksum or a metadata URL "
                "that publishes one (downloads are always verified)"
            )
        if (self.metadata_url is None) != (self.metadata_kind is None):
            raise ValueError(f"{self.filename}: metadata_url and metadata_kind go together")
        if not self.urls and self.metadata_url is None:
            raise ValueError(f"{self.filename}: no download URL and no metadata URL")


@dataclass(frozen=True)
class RemoteMetadata:
    """What a metadata API says about one file."""

    checksum: str | None
    size_bytes: int | None
    urls: tuple[str, ...]


def fetch_metadata(entry: RemoteFile, *, timeout_s: float = 60.0) -> RemoteMetadata:
    """Ask ``entry.metadata_url`` for the file's checksum, size and download URL.

    Raises:
        OSError: the API could not be reached (``urllib.error.URLError`` and subclasses).
        ValueError: the reply is not the expected JSON or does not describe the file.
    """
    if entry.metadata_url is None or entry.metadata_kind is None:
        raise ValueError(f"{entry.filename}: no metadata URL in the registry")
    request = urllib.request.Request(entry.metadata_url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            document = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        error.close()  # release the connection; the caller reports the error
        raise
    if entry.metadata_kind == "zenodo":
        return parse_zenodo_record(document, entry.remote_name or entry.filename)
    return parse_openml_description(document, entry.remote_name)


def parse_zenodo_record(document: Any, key: str) -> RemoteMetadata:
    """Find file ``key`` in a Zenodo record (``/api/records/<id>`` JSON)."""
    files = document.get("files") if isinstance(document, dict) else None
    if isinstance(files, dict):  # InvenioRDM-style {"entries": {...} or [...]}
        files = files.get("entries")
        if isinstance(files, dict):
            files = list(files.values())
    if not isinstance(files, list):
        raise ValueError("Zenodo record JSON has no 'files' list")
    names = []
    for item in files:
        if not isinstance(item, dict):
            continue
        name = item.get("key", item.get("filename"))
        names.append(str(name))
        if name != key:
            continue
        checksum = item.get("checksum")
        links = item.get("links") if isinstance(item.get("links"), dict) else {}
        urls = tuple(str(links[k]) for k in ("download", "self") if isinstance(links.get(k), str))
        size = item.get("size", item.get("filesize"))
        return RemoteMetadata(
            checksum=str(checksum) if checksum else None,
            size_bytes=int(size) if isinstance(size, (int, float)) else None,
            urls=urls,
        )
    raise ValueError(f"Zenodo record lists no file {key!r} (it lists {names})")


def parse_openml_description(document: Any, expected_name: str | None) -> RemoteMetadata:
    """Read an OpenML data description (``/api/v1/json/data/<id>`` JSON)."""
    description = document.get("data_set_description") if isinstance(document, dict) else None
    if not isinstance(description, dict):
        raise ValueError("OpenML reply has no 'data_set_description'")
    name = description.get("name")
    if expected_name is not None and name != expected_name:
        raise ValueError(
            f"OpenML dataset is named {name!r}, expected {expected_name!r}: the dataset id in "
            "the registry is wrong"
        )
    url = description.get("url")
    checksum = description.get("md5_checksum")
    return RemoteMetadata(
        checksum=f"md5:{checksum}" if isinstance(checksum, str) and checksum else None,
        size_bytes=None,
        urls=(str(url),) if isinstance(url, str) and url else (),
    )
