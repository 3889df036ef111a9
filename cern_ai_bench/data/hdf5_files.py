"""Open an HDF5 file for reading, with the project's errors for a missing or unreadable file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import h5py

from cern_ai_bench.data.errors import MissingFileError, corrupt_file_error

__all__ = ["open_hdf5"]


@contextlib.contextmanager
def open_hdf5(path: Path, what: str) -> Iterator[h5py.File]:
    """``h5py.File(path, "r")`` as a context manager.

    Args:
        path: the file.
        what: what the file is, for the missing-file message (``"ADC2021 file"``).

    Raises:
        MissingFileError: ``path`` is not a file ("<path>: no such <what>").
        CorruptFileError: HDF5 cannot open it (truncated, or not HDF5).
    """
    if not path.is_file():
        raise MissingFileError(f"{path}: no such {what}", path=path)
    try:
        handle = h5py.File(path, "r")
    except OSError as error:
        raise corrupt_file_error(path, error) from None
    with handle:
        yield handle
