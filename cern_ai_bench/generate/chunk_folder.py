"""The work folder of finished chunks that the embedded-data generators share, to resume.

The jet, L1 and shower generators each save every finished chunk as one file in a work folder
beside the sample, ``<key>.partial``, so that an interrupted run resumes. Only the file format
differs between them; :class:`ChunkFolder` holds the rest once: a damaged file (unreadable, or not
what its chunk asks for) is deleted with a warning so the chunk is made again, the folder is
(re)created before each write and removed when the sample is complete.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
import zlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar, Generic, TypeVar

import numpy as np

from cern_ai_bench.data.files import atomic_path

Chunk = TypeVar("Chunk")
Result = TypeVar("Result")

#: Errors of reading a damaged ``.npz`` file (missing, truncated, not a zip, bad CRC, bad data).
NPZ_READ_ERRORS: tuple[type[Exception], ...] = (
    OSError,
    ValueError,
    TypeError,
    KeyError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
)


class ChunkFolder(ABC, Generic[Chunk, Result]):
    """One sample's work folder, one file per finished chunk; subclasses name and read the files.

    Subclasses set :attr:`SAMPLE`, :attr:`AGAIN` and :attr:`READ_ERRORS`, and implement
    :meth:`file_name` and :meth:`read`; their ``save`` writes to :meth:`new_file`.

    Args:
        folder: the work folder, ``<data_dir>/embedded_<kind>/<key>.partial`` (created on first
            save).
    """

    #: The sample, as the warnings name it (``"embedded L1"``).
    SAMPLE: ClassVar[str]
    #: What the warning says happens to a damaged chunk (``"generating it again"``).
    AGAIN: ClassVar[str] = "generating it again"
    #: Errors of :meth:`read` that mean the file is unreadable (damaged), not a bug.
    READ_ERRORS: ClassVar[tuple[type[Exception], ...]] = NPZ_READ_ERRORS

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    @abstractmethod
    def file_name(self, chunk: Chunk) -> str:
        """Name of a chunk's file in the folder."""

    @abstractmethod
    def read(self, path: Path, chunk: Chunk) -> tuple[Result | None, str | None]:
        """A chunk file's content and what is wrong with it (None when it is what ``chunk`` asks)."""

    def path(self, chunk: Chunk) -> Path:
        """File of one chunk."""
        return self.folder / self.file_name(chunk)

    def new_file(self, chunk: Chunk) -> Path:
        """File to save a chunk to, its folder created first.

        Created on every save: a concurrent run of the same sample may have finished and removed
        the folder meanwhile.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.path(chunk)

    def load(self, chunk: Chunk) -> Result | None:
        """The saved chunk, or None when there is none or it is damaged (then it is deleted).

        A damaged file (unreadable, truncated, or holding other than the chunk asks for) is
        deleted with a warning, so that the chunk is made again.
        """
        path = self.path(chunk)
        if not path.is_file():
            return None
        try:
            result, problem = self.read(path, chunk)
        except self.READ_ERRORS as error:
            result, problem = None, f"unreadable ({type(error).__name__}: {error})"
        if result is not None and problem is None:
            return result
        # The subclass's module logger, so the warning comes from the generator that owns it.
        logging.getLogger(type(self).__module__).warning(
            "%s: chunk file %s is damaged (%s); %s", self.SAMPLE, path, problem, self.AGAIN
        )
        path.unlink(missing_ok=True)
        return None

    def has(self, chunk: Chunk) -> bool:
        """True when a valid saved chunk exists (a damaged one is deleted)."""
        return self.load(chunk) is not None

    def remove(self) -> None:
        """Delete the work folder (the sample is complete)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` compressed to ``path`` atomically (temporary file, then rename)."""
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez_compressed(handle, **arrays)  # a handle: savez would append ".npz" to tmp
