"""The one error hierarchy of the data layer.

Every problem with a dataset file (absent, failed download, wrong checksum, truncated, wrong
layout, non-finite values, unknown dataset name) raises a subclass of :class:`DataError` whose
message alone tells the user what is wrong and what to do: it names the file, the key or value,
and what was expected. Callers (the CLI) print ``str(error)`` instead of a traceback.
"""

from __future__ import annotations

from pathlib import Path


class DataError(Exception):
    """Base class of every data-layer error; the message is meant for the user."""


class MissingFileError(DataError):
    """A dataset file is absent and may not (or could not) be downloaded.

    Attributes:
        path: where the file is expected; placing it there by hand fixes the error.
        urls: where it can be fetched from (may be empty when it must be looked up).
    """

    def __init__(self, message: str, *, path: Path, urls: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.path = path
        self.urls = urls


class DownloadError(MissingFileError):
    """Downloading a dataset file failed (network, HTTP error, metadata lookup)."""


class ChecksumMismatchError(DataError):
    """A file's digest differs from the pinned, published or recorded one.

    Attributes:
        path: the file that failed (or where the bad download was moved).
        expected: ``"<algorithm>:<hex>"`` that was expected.
        actual: ``"<algorithm>:<hex>"`` that was found.
    """

    def __init__(self, message: str, *, path: Path, expected: str, actual: str) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.actual = actual


class CorruptFileError(DataError):
    """A file exists but cannot be read (truncated download, damaged HDF5 or archive)."""


class FormatError(DataError):
    """A file is readable but its layout or values differ from the documented format."""


class NonFiniteError(FormatError):
    """A file holds NaN or infinite values where finite numbers are required."""


class DatasetConfigError(DataError):
    """A ``dataset.*`` setting is out of range; the message names the key."""


class UnknownDatasetError(DataError):
    """A dataset name is not in the registry; the message lists the valid names."""


def corrupt_file_error(
    path: Path, cause: BaseException, *, remedy: str | None = None
) -> CorruptFileError:
    """Build the standard message for a file that cannot be read.

    Args:
        path: the unreadable file.
        cause: the low-level exception (h5py/PyTables ``OSError``, ``tarfile.ReadError``...).
        remedy: what to do instead of the default "delete it and download it again".
    """
    remedy = remedy or "delete it and run again to download it anew (or put a good copy there)"
    return CorruptFileError(
        f"{path}: cannot be read, the file is truncated or corrupt ({_summary(cause)}); {remedy}"
    )


def _summary(cause: BaseException) -> str:
    """One line of a low-level error: PyTables puts a whole HDF5 back trace in its message."""
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    if not lines:
        return type(cause).__name__
    for line in lines:
        if "truncated" in line.lower():
            return line
    return lines[-1]
