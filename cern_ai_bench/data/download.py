"""Download a public dataset file once, verified, resumable; or say exactly how to get it.

:func:`ensure_file` is the only way a loader obtains a public file:

1. The file exists and has a ``.sha256`` sidecar: verify against it (offline) and return.
2. The file exists without a sidecar (placed by hand): verify against the pinned checksum, or
   (downloads allowed) the one the metadata API publishes, then write the sidecar. When neither
   is available the file is used unverified and a warning is logged; no sidecar is written,
   so it is verified on a later online run.
3. The file is missing and downloads are disallowed: :class:`MissingFileError` naming the file,
   its URL and the exact path to put it at.
4. Otherwise stream it to ``<file>.part`` (resuming a previous partial download with an HTTP
   ``Range`` request), verify the checksum, write the sidecar and rename the ``.part`` file into
   place. A download whose checksum disagrees is moved aside to ``<file>.corrupt`` and
   :class:`ChecksumMismatchError` names both digests.

Only the standard library's ``urllib`` is used. A file is never downloaded without a checksum
to verify it against.
"""

from __future__ import annotations

import http.client
import logging
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from cern_ai_bench.data.errors import ChecksumMismatchError, DownloadError, MissingFileError
from cern_ai_bench.data.integrity import (
    digests_of,
    parse_checksum,
    sha256_cached,
    sidecar_path,
    verify_sidecar,
    write_sidecar,
)
from cern_ai_bench.data.remote import USER_AGENT, RemoteFile, fetch_metadata

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 20
#: Seconds to wait before each retry of a transient failure (timeouts, resets, HTTP 5xx/429).
RETRY_DELAYS_S: tuple[float, ...] = (2.0, 10.0)
_TRANSIENT_HTTP = frozenset({408, 429, 500, 502, 503, 504})


def ensure_file(
    entry: RemoteFile, data_dir: str | Path, *, allow_download: bool, progress: bool
) -> Path:
    """Return the verified local copy of ``entry``, downloading it if needed and allowed.

    Args:
        entry: the file's registry entry (URLs, checksum policy).
        data_dir: folder the file lives in; the file is ``data_dir / entry.filename``.
        allow_download: False forbids any network access (missing file -> error).
        progress: show tqdm bars for the download and the checksum.

    Returns:
        Path of the verified file.

    Raises:
        MissingFileError: the file is absent and downloads are disallowed.
        DownloadError: the file is absent and could not be downloaded.
        ChecksumMismatchError: the file (or the download) disagrees with its checksum.
    """
    path = Path(data_dir) / entry.filename
    if path.is_file():
        _verify_present(entry, path, allow_download=allow_download, progress=progress)
        return path
    if not allow_download:
        raise MissingFileError(
            f"{entry.filename} is missing and downloads are disabled (dataset.download=false).\n"
            + manual_instructions(entry, path),
            path=path,
            urls=entry.urls,
        )
    return _download(entry, path, progress=progress)


def manual_instructions(entry: RemoteFile, path: Path) -> str:
    """How to put ``entry`` in place by hand: where from, and the exact target path."""
    if entry.urls:
        source = " or ".join(entry.urls)
    elif entry.landing_page:
        source = f"the download link on {entry.landing_page}"
    else:
        source = f"the URL given by {entry.metadata_url}"
    lines = [f"Download it from {source}", f"and save it as {path}"]
    if entry.checksum:
        lines.append(f"(expected {entry.checksum})")
    return "\n".join(lines)


def _verify_present(entry: RemoteFile, path: Path, *, allow_download: bool, progress: bool) -> None:
    if verify_sidecar(path, progress=progress):
        return
    checksum = entry.checksum
    if checksum is None and allow_download and entry.metadata_url is not None:
        try:
            checksum = fetch_metadata(entry).checksum
        except (OSError, ValueError) as error:
            logger.warning(
                "%s: could not fetch its published checksum from %s (%s); using it unverified",
                path,
                entry.metadata_url,
                error,
            )
    if checksum is None:
        logger.warning(
            "%s: no checksum to verify it against (no pinned one, and the published one was "
            "not fetched); using it unverified",
            path,
        )
        return
    algorithm, expected = parse_checksum(checksum)
    actual = digests_of(path, (algorithm,), progress=progress)
    if actual[algorithm] != expected:
        raise ChecksumMismatchError(
            f"{path}: {algorithm} is {actual[algorithm]}, expected {expected} (published "
            "checksum); the file is corrupt or a different version: delete it and run again "
            "to download it anew",
            path=path,
            expected=f"{algorithm}:{expected}",
            actual=f"{algorithm}:{actual[algorithm]}",
        )
    write_sidecar(path, actual["sha256"])


def _download(entry: RemoteFile, path: Path, *, progress: bool) -> Path:
    checksum, urls = entry.checksum, entry.urls
    if checksum is None or not urls:
        try:
            metadata = fetch_metadata(entry)
        except (OSError, ValueError) as error:
            raise DownloadError(
                f"{entry.filename} is missing and its checksum/URL could not be looked up at "
                f"{entry.metadata_url}: {error}\n" + manual_instructions(entry, path),
                path=path,
                urls=entry.urls,
            ) from None
        checksum = checksum or metadata.checksum
        urls = urls + tuple(url for url in metadata.urls if url not in urls)
    if checksum is None or not urls:
        missing = "a checksum" if checksum is None else "a download URL"
        raise DownloadError(
            f"{entry.filename} is missing and {entry.metadata_url} does not publish {missing} "
            "for it, so it cannot be downloaded and verified.\n" + manual_instructions(entry, path),
            path=path,
            urls=urls,
        )
    algorithm, expected = parse_checksum(checksum)

    path.parent.mkdir(parents=True, exist_ok=True)
    sidecar_path(path).unlink(missing_ok=True)  # stale: belongs to a deleted copy
    part = path.with_name(path.name + ".part")
    failures: list[str] = []
    for url in urls:
        try:
            _stream(url, part, progress=progress, label=entry.filename)
        except (OSError, http.client.HTTPException) as error:
            failures.append(f"  {url}: {_describe(error)}")
            continue
        actual = digests_of(part, (algorithm,), progress=progress)
        if actual[algorithm] != expected:
            bad = path.with_name(path.name + ".corrupt")
            part.replace(bad)
            raise ChecksumMismatchError(
                f"{entry.filename}: downloaded from {url}, but its {algorithm} is "
                f"{actual[algorithm]}, expected {expected}; the download was moved to {bad}. "
                "Run again to retry; if it keeps failing, the mirror or the published checksum "
                "has changed (report it).",
                path=bad,
                expected=f"{algorithm}:{expected}",
                actual=f"{algorithm}:{actual[algorithm]}",
            )
        part.replace(path)
        write_sidecar(path, actual["sha256"])
        sha256_cached(path)  # re-key the memo: same content, new name
        logger.info("downloaded %s from %s (%s verified)", path, url, algorithm)
        return path
    kept = [f"The partial download {part} is kept and resumed next time."] if part.exists() else []
    raise DownloadError(
        "\n".join(
            [
                f"{entry.filename} is missing and could not be downloaded:",
                *failures,
                *kept,
                manual_instructions(entry, path),
            ]
        ),
        path=path,
        urls=urls,
    )


def _stream(url: str, part: Path, *, progress: bool, label: str) -> None:
    """Fetch ``url`` into ``part``, resuming from its current size; retry transient errors."""
    for attempt in range(len(RETRY_DELAYS_S) + 1):
        try:
            _stream_once(url, part, progress=progress, label=label)
            return
        except urllib.error.HTTPError as error:
            error.close()  # release the connection before retrying or reporting
            if error.code == 416 and part.exists():  # range past the end: already complete
                return
            if error.code not in _TRANSIENT_HTTP or attempt == len(RETRY_DELAYS_S):
                raise
            retry_error: BaseException = error
        except (OSError, http.client.HTTPException) as error:
            if not _is_transient(error) or attempt == len(RETRY_DELAYS_S):
                raise
            retry_error = error
        logger.warning("%s: %s; retrying", url, _describe(retry_error))
        time.sleep(RETRY_DELAYS_S[attempt])


def _stream_once(url: str, part: Path, *, progress: bool, label: str) -> None:
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        status = getattr(response, "status", None)
        content_range = response.headers.get("Content-Range", "")
        if offset and status == 206 and not content_range.startswith(f"bytes {offset}-"):
            part.unlink()  # a different range than asked for: retry from the beginning
            raise ConnectionError(f"server answered range {content_range!r} to bytes={offset}-")
        if offset and status != 206:
            offset = 0  # the server ignored the range: start again from the beginning
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length and length.isdigit() else None
        with (
            part.open("ab" if offset else "wb") as out,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"download {label}",
                disable=not progress,
            ) as bar,
        ):
            while chunk := response.read(_CHUNK_BYTES):
                out.write(chunk)
                bar.update(len(chunk))
    if total is not None and part.stat().st_size != total:
        raise http.client.IncompleteRead(b"", total - part.stat().st_size)


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, (TimeoutError, ConnectionError, http.client.HTTPException)):
        return True
    reason = getattr(error, "reason", None)
    return isinstance(reason, (TimeoutError, ConnectionError))


def _describe(error: BaseException) -> str:
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, http.client.IncompleteRead):
        return f"connection closed early ({error.expected} bytes missing)"
    return str(error) or type(error).__name__
