"""Finished chunks of an embedded sample on disk, so that an interrupted generation resumes.

The jet generator (:mod:`cern_ai_bench.generate.jets`) saves each chunk as soon as it is done
into a work folder beside the sample, ``<data_dir>/embedded_jets/<key>.partial/``, one file per
chunk (``chunk_<label>_<index>.npz``, written atomically). A later run with the same parameters
(same ``<key>``) loads the chunks found there instead of generating them again. A chunk file that
cannot be read or does not hold what its task asks for is deleted, with a warning, and generated
again. The work folder is deleted once the sample is complete.
"""

from __future__ import annotations

import logging
import shutil
import zipfile
import zlib
from pathlib import Path

import numpy as np

from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.data.hls4ml_columns import JET_FEATURE_NAMES, N_CONSTITUENT_COLUMNS
from cern_ai_bench.generate.jets_pythia import ChunkResult, ChunkTask

log = logging.getLogger(__name__)

#: Version of the chunk file layout; a file of another version is regenerated.
CHUNK_FORMAT = 1
#: Bookkeeping counters of a :class:`ChunkResult` stored with its arrays.
_COUNTERS = {
    "events": int,
    "rejected_nonfinite": int,
    "seconds_generation": float,
    "seconds_features": float,
}
#: Errors of reading a damaged ``.npz`` file (missing, truncated, not a zip, bad CRC, bad data).
_READ_ERRORS = (
    OSError,
    ValueError,
    TypeError,
    KeyError,
    EOFError,
    zipfile.BadZipFile,
    zlib.error,
)


class ChunkStore:
    """The work folder of one sample: one atomically written ``.npz`` file per finished chunk.

    Args:
        folder: the work folder, ``<data_dir>/embedded_jets/<key>.partial`` (created on first
            save).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path(self, task: ChunkTask) -> Path:
        """File of one chunk."""
        return self.folder / f"chunk_{task.label}_{task.index:04d}.npz"

    def save(self, task: ChunkTask, result: ChunkResult) -> None:
        """Write a finished chunk atomically (temporary file, then rename)."""
        arrays: dict[str, np.ndarray] = {
            "format": np.asarray(CHUNK_FORMAT),
            "pythia_seed": np.asarray(task.pythia_seed),
            # float32 as in the assembled sample, so a loaded chunk assembles to the same bytes.
            "features": np.asarray(result.features, np.float32),
            "constituents": np.asarray(result.constituents, np.float32),
        }
        for name, kind in _COUNTERS.items():
            arrays[name] = np.asarray(kind(getattr(result, name)))
        # mkdir on every save: a concurrent run of the same sample may have finished and removed
        # the folder meanwhile.
        self.folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(self.path(task)) as tmp, tmp.open("wb") as handle:
            np.savez_compressed(handle, **arrays)  # a handle: savez would append ".npz" to tmp

    def load(self, task: ChunkTask) -> ChunkResult | None:
        """The saved chunk of ``task``, or None when there is none (or it was damaged).

        A damaged file (unreadable, truncated, or holding other shapes, dtypes or seed than the
        task asks for) is deleted with a warning, so that the chunk is generated again.
        """
        path = self.path(task)
        if not path.is_file():
            return None
        try:
            result, problem = _read(path, task)
        except _READ_ERRORS as error:
            result, problem = None, f"unreadable ({type(error).__name__}: {error})"
        if result is not None and problem is None:
            return result
        log.warning("embedded jets: chunk file %s is damaged (%s); regenerating it", path, problem)
        path.unlink(missing_ok=True)
        return None

    def remove(self) -> None:
        """Delete the work folder (the sample is complete)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def _read(path: Path, task: ChunkTask) -> tuple[ChunkResult, str | None]:
    """A chunk file's content and what is wrong with it (None when it is what ``task`` asks)."""
    # An open handle: np.load(path) leaks the file when the zip is damaged.
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as data:
        version, seed = int(data["format"][()]), int(data["pythia_seed"][()])
        result = ChunkResult(
            task.label,
            task.index,
            features=data["features"],
            constituents=data["constituents"],
            **{name: kind(data[name][()]) for name, kind in _COUNTERS.items()},
        )
    if version != CHUNK_FORMAT:
        return result, f"format {version}, expected {CHUNK_FORMAT}"
    if seed != task.pythia_seed:
        return result, f"Pythia seed {seed}, expected {task.pythia_seed}"
    expected = {
        "features": (task.n_jets, len(JET_FEATURE_NAMES)),
        "constituents": (task.n_jets, task.n_constituents, N_CONSTITUENT_COLUMNS),
    }
    for name, shape in expected.items():
        array = getattr(result, name)
        if array.shape != shape or array.dtype != np.float32:
            return result, f"{name} {array.dtype}{list(array.shape)}, expected float32{list(shape)}"
    return result, None
