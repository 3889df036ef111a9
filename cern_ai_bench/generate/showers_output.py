"""Finished chunks of the embedded shower sample on disk, and the final files with their manifest.

:class:`ShowerChunkStore` keeps each finished chunk in the work folder ``<key>.partial`` as a small
CaloChallenge file (``<split>_<index>.hdf5``, written atomically and read back through the
validating reader), so an interrupted generation resumes; a damaged chunk file is deleted, with a
warning, and simulated again. :func:`publish_showers` streams the chunks, in plan order, into
``showers_train.hdf5`` and ``showers_reference.hdf5`` (memory holds one chunk at a time, not the
sample), then writes ``manifest.json`` last: its presence, with files of the recorded sizes, marks
the folder complete (:func:`cern_ai_bench.generate.jets_output.is_complete`, shared with the jets).
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cern_ai_bench import __version__
from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.data.calochallenge_io import read_showers, shower_file_writer, write_showers
from cern_ai_bench.data.errors import DataError
from cern_ai_bench.data.files import atomic_write_text, sha256_of
from cern_ai_bench.data.shower_schema import ShowerArrays
from cern_ai_bench.generate.chunk_folder import ChunkFolder
from cern_ai_bench.generate.jets_output import MANIFEST

if TYPE_CHECKING:
    from cern_ai_bench.generate.showers import ShowerChunk

#: The two files of a sample, in plan order.
SPLITS: tuple[str, ...] = ("train", "reference")
FILE_NAMES: dict[str, str] = {
    "train": "showers_train.hdf5",
    "reference": "showers_reference.hdf5",
}


class ShowerChunkStore(ChunkFolder["ShowerChunk", ShowerArrays]):
    """The work folder of one sample: one CaloChallenge file per finished chunk.

    Args:
        folder: ``<data_dir>/embedded_showers/<key>.partial`` (created on first save).
        geometry: the sample's geometry (chunk files are validated against it).
    """

    SAMPLE = "embedded showers"
    AGAIN = "simulating it again"
    READ_ERRORS = (DataError,)

    def __init__(self, folder: Path, geometry: CaloGeometry) -> None:
        super().__init__(folder)
        self.geometry = geometry

    def file_name(self, chunk: ShowerChunk) -> str:
        return f"{chunk.split}_{chunk.index:05d}.hdf5"

    def save(self, chunk: ShowerChunk, arrays: ShowerArrays) -> None:
        """Write a finished chunk atomically."""
        # Fastest gzip: these files are temporary, and written while the workers simulate.
        write_showers(self.new_file(chunk), arrays.incident_energy, arrays.showers, gzip_level=1)

    def read(self, path: Path, chunk: ShowerChunk) -> tuple[ShowerArrays, str | None]:
        arrays = read_showers(path, self.geometry)
        if len(arrays) != chunk.n_showers:
            return arrays, f"{len(arrays)} showers, expected {chunk.n_showers}"
        return arrays, None


def publish_showers(
    final: Path,
    store: ShowerChunkStore,
    chunks: list[ShowerChunk],
    parameters: dict[str, Any],
    statistics: dict[str, Any],
) -> None:
    """Write the two files from the saved chunks (plan order), then the manifest, into ``final``.

    Raises:
        RuntimeError: a chunk vanished or was damaged since it was saved (run again).
    """
    final.mkdir(parents=True, exist_ok=True)
    (final / MANIFEST).unlink(missing_ok=True)  # incomplete until the new manifest is written
    files = []
    for split in SPLITS:
        mine = [chunk for chunk in chunks if chunk.split == split]
        path = final / FILE_NAMES[split]
        total = sum(chunk.n_showers for chunk in mine)
        with shower_file_writer(path, total, store.geometry.n_voxels) as writer:
            for chunk in mine:
                arrays = store.load(chunk)
                if arrays is None:
                    raise RuntimeError(
                        f"embedded showers: chunk {store.path(chunk)} vanished or was damaged "
                        "while the files were written; run again to simulate it anew"
                    )
                writer.write(arrays)
        files.append(
            {
                "path": path.name,
                "split": split,
                "n_showers": total,
                "sha256": sha256_of(path),
                "size_bytes": path.stat().st_size,
            }
        )
    manifest = {
        "parameters": parameters,
        "files": files,
        "versions": {
            "cern_ai_bench": __version__,
            **{name: importlib.metadata.version(name) for name in ("numpy", "h5py")},
        },
        "statistics": statistics,
    }
    atomic_write_text(final / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
