"""Finished chunks of an embedded sample on disk, so that an interrupted generation resumes.

The jet generator (:mod:`cern_ai_bench.generate.jets`) saves each chunk as soon as it is done
into a work folder beside the sample, ``<data_dir>/embedded_jets/<key>.partial/``, one file per
chunk (``chunk_<label>_<index>.npz``, written atomically). A later run with the same parameters
(same ``<key>``) loads the chunks found there instead of generating them again. A chunk file that
cannot be read or does not hold what its task asks for is deleted, with a warning, and generated
again. The work folder is deleted once the sample is complete.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cern_ai_bench.data.hls4ml_columns import JET_FEATURE_NAMES, N_CONSTITUENT_COLUMNS
from cern_ai_bench.generate.chunk_folder import ChunkFolder, write_npz
from cern_ai_bench.generate.jets_pythia import ChunkResult, ChunkTask

#: Version of the chunk file layout; a file of another version is regenerated.
CHUNK_FORMAT = 1
#: Bookkeeping counters of a :class:`ChunkResult` stored with its arrays.
_COUNTERS = {
    "events": int,
    "rejected_nonfinite": int,
    "seconds_generation": float,
    "seconds_features": float,
}


class ChunkStore(ChunkFolder[ChunkTask, ChunkResult]):
    """The work folder of one sample: one atomically written ``.npz`` file per finished chunk.

    Args:
        folder: the work folder, ``<data_dir>/embedded_jets/<key>.partial`` (created on first
            save).
    """

    SAMPLE = "embedded jets"
    AGAIN = "regenerating it"

    def file_name(self, task: ChunkTask) -> str:
        return f"chunk_{task.label}_{task.index:04d}.npz"

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
        write_npz(self.new_file(task), arrays)

    def read(self, path: Path, task: ChunkTask) -> tuple[ChunkResult, str | None]:
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
                return (
                    result,
                    f"{name} {array.dtype}{list(array.shape)}, expected float32{list(shape)}",
                )
        return result, None
