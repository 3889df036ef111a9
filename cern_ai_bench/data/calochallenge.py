"""The public CaloChallenge 2022 datasets as canonical ShowerDatasets (plus the file I/O).

Krause et al., "CaloChallenge 2022: A Community Challenge for Fast Calorimeter Simulation",
arXiv:2410.21611. Four registered datasets, each a training file set and a reference file set
(the challenge's README: one file for training, the other as the evaluation reference; dataset 3:
two and two):

| name | geometry | training | reference |
|---|---|---|---|
| ``calochallenge_ds1_photons`` | ``ds1_photons`` (368) | ``dataset_1_photons_1.hdf5`` | ``dataset_1_photons_2.hdf5`` |
| ``calochallenge_ds1_pions`` | ``ds1_pions`` (533) | ``dataset_1_pions_1.hdf5`` | ``dataset_1_pions_2.hdf5`` |
| ``calochallenge_ds2`` | ``ds2`` (6480) | ``dataset_2_1.hdf5`` | ``dataset_2_2.hdf5`` |
| ``calochallenge_ds3`` | ``ds3`` (40500) | ``dataset_3_{1,2}.hdf5`` | ``dataset_3_{3,4}.hdf5`` |

Splits (:func:`read_shower_splits`, also used for the embedded sample):

- train/val: the events of the training files (concatenated in file order) are permuted with
  ``numpy.random.default_rng(split_seed)``; the first ``round(val_fraction * N)`` go to val (at
  least one, and at least one left for train), the rest to train;
- test: the reference files, never trained on;
- ``max_showers`` keeps at most that many events per split: the first ``max_showers`` of the
  permuted train and val rows, and for test a uniform random subset drawn with
  ``default_rng([split_seed, 1])``; random rather than leading rows, so that a file sorted by
  energy still gives a representative subset (the public files are shuffled,
  ``Dataset_creation.ipynb``). Only the selected rows are read (block-wise, one file at a time).

Every split is returned in file order. The public files live in ``<data_dir>/<name>/``;
:func:`prepare_calochallenge` downloads and verifies them (or says exactly where to put them) and
checks their layout without reading showers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.calo_geometry import CaloGeometry, get_geometry
from cern_ai_bench.data.calochallenge_io import (
    count_showers,
    read_shower_rows,
    read_showers,
    write_showers,
)
from cern_ai_bench.data.download import ensure_file
from cern_ai_bench.data.errors import FormatError
from cern_ai_bench.data.integrity import file_info_cached
from cern_ai_bench.data.remote import RemoteFile
from cern_ai_bench.data.schema import FileInfo
from cern_ai_bench.data.shower_schema import ShowerArrays, ShowerDataset
from cern_ai_bench.data.sources import CALOCHALLENGE_FILES

__all__ = [
    "CALOCHALLENGE_DATASETS",
    "CaloChallengeDataset",
    "load_calochallenge",
    "prepare_calochallenge",
    "read_shower_splits",
    "read_showers",
    "write_showers",
]


@dataclass(frozen=True)
class CaloChallengeDataset:
    """One public dataset: its geometry and which files train and which are the reference."""

    name: str
    geometry: str
    train_files: tuple[str, ...]
    reference_files: tuple[str, ...]

    @property
    def sources(self) -> tuple[RemoteFile, ...]:
        return tuple(CALOCHALLENGE_FILES[f] for f in (*self.train_files, *self.reference_files))


CALOCHALLENGE_DATASETS: dict[str, CaloChallengeDataset] = {
    d.name: d
    for d in (
        CaloChallengeDataset(
            "calochallenge_ds1_photons",
            "ds1_photons",
            ("dataset_1_photons_1.hdf5",),
            ("dataset_1_photons_2.hdf5",),
        ),
        CaloChallengeDataset(
            "calochallenge_ds1_pions",
            "ds1_pions",
            ("dataset_1_pions_1.hdf5",),
            ("dataset_1_pions_2.hdf5",),
        ),
        CaloChallengeDataset(
            "calochallenge_ds2", "ds2", ("dataset_2_1.hdf5",), ("dataset_2_2.hdf5",)
        ),
        CaloChallengeDataset(
            "calochallenge_ds3",
            "ds3",
            ("dataset_3_1.hdf5", "dataset_3_2.hdf5"),
            ("dataset_3_3.hdf5", "dataset_3_4.hdf5"),
        ),
    )
}


def prepare_calochallenge(
    name: str, cfg: DatasetConfig, data_dir: Path, *, progress: bool
) -> dict[str, list[Path]]:
    """Make the verified files of dataset ``name`` exist in ``data_dir/name/``; read no shower.

    Missing files are downloaded when ``cfg.download`` allows (else :class:`MissingFileError`
    names the file, its URL and the exact path to put it at); files already there are checked
    against their ``.sha256`` sidecars, then their layout is checked (keys, shapes, voxel count).

    Returns:
        ``{"train": [paths], "reference": [paths]}``.
    """
    spec = CALOCHALLENGE_DATASETS[name]
    geometry = get_geometry(spec.geometry)
    folder = data_dir / name
    paths: dict[str, list[Path]] = {}
    for split, names in (("train", spec.train_files), ("reference", spec.reference_files)):
        paths[split] = [
            ensure_file(
                CALOCHALLENGE_FILES[f], folder, allow_download=cfg.download, progress=progress
            )
            for f in names
        ]
        for path in paths[split]:
            count_showers(path, geometry)
    return paths


def load_calochallenge(
    name: str, cfg: DatasetConfig, data_dir: Path, *, progress: bool
) -> ShowerDataset:
    """Load public dataset ``name``, preparing it first (see :func:`prepare_calochallenge`)."""
    paths = prepare_calochallenge(name, cfg, data_dir, progress=progress)
    files = tuple(file_info_cached(path) for path in (*paths["train"], *paths["reference"]))
    return read_shower_splits(
        name,
        get_geometry(CALOCHALLENGE_DATASETS[name].geometry),
        paths["train"],
        paths["reference"],
        cfg,
        files=files,
        progress=progress,
    )


def read_shower_splits(
    name: str,
    geometry: CaloGeometry,
    train_paths: Sequence[Path],
    reference_paths: Sequence[Path],
    cfg: DatasetConfig,
    *,
    files: tuple[FileInfo, ...],
    progress: bool,
) -> ShowerDataset:
    """Split training files into train/val and read the reference files as test (see module doc).

    Args:
        name: the dataset name recorded in the result.
        geometry: the geometry every file must have.
        train_paths: CaloChallenge files giving train and val.
        reference_paths: CaloChallenge files giving test.
        cfg: ``val_fraction``, ``split_seed`` and ``max_showers`` are used.
        files: provenance of the files, for the result record.
        progress: show tqdm bars while reading.

    Raises:
        FormatError: the training files hold fewer than 2 events; any bad file (see
            :func:`~cern_ai_bench.data.calochallenge_io.read_showers`).
    """
    seed, max_showers = int(cfg.split_seed), cfg.max_showers
    train_counts = [count_showers(path, geometry) for path in train_paths]
    n_pool = sum(train_counts)
    if n_pool < 2:
        raise FormatError(
            f"{train_paths[0]}: {n_pool} shower(s) cannot be split into non-empty train and val"
        )
    order = np.random.default_rng(seed).permutation(n_pool)
    n_val = min(max(round(float(cfg.val_fraction) * n_pool), 1), n_pool - 1)
    val_rows, train_rows = order[:n_val], order[n_val:]
    if max_showers is not None:
        val_rows, train_rows = val_rows[: int(max_showers)], train_rows[: int(max_showers)]
    train, val = _read_pooled(
        train_paths, train_counts, [np.sort(train_rows), np.sort(val_rows)], geometry, progress
    )

    reference_counts = [count_showers(path, geometry) for path in reference_paths]
    n_reference = sum(reference_counts)
    test_rows = np.arange(n_reference)
    if max_showers is not None and n_reference > int(max_showers):
        test_rows = np.sort(
            np.random.default_rng([seed, 1]).choice(n_reference, int(max_showers), replace=False)
        )
    (test,) = _read_pooled(reference_paths, reference_counts, [test_rows], geometry, progress)
    return ShowerDataset(name=name, geometry=geometry, train=train, val=val, test=test, files=files)


def _read_pooled(
    paths: Sequence[Path],
    counts: list[int],
    selections: list[np.ndarray],
    geometry: CaloGeometry,
    progress: bool,
) -> list[ShowerArrays]:
    """Read sorted row sets of the files' concatenation, one pass per file."""
    parts: list[list[ShowerArrays]] = [[] for _ in selections]
    offsets = np.cumsum([0, *counts])
    for path, lo, hi in zip(paths, offsets[:-1], offsets[1:], strict=True):
        local = [
            rows[np.searchsorted(rows, lo) : np.searchsorted(rows, hi)] - lo for rows in selections
        ]
        if not any(len(rows) for rows in local):
            continue
        for store, arrays in zip(
            parts, read_shower_rows(path, geometry, local, progress=progress), strict=True
        ):
            store.append(arrays)
    return [_concatenate(part, geometry) for part in parts]


def _concatenate(parts: list[ShowerArrays], geometry: CaloGeometry) -> ShowerArrays:
    parts = [part for part in parts if len(part)]
    if len(parts) == 1:
        return parts[0]  # no copy: dataset 2's training split alone is 2.3 GB
    if not parts:
        return ShowerArrays(np.zeros(0, np.float32), np.zeros((0, geometry.n_voxels), np.float32))
    return ShowerArrays(
        np.concatenate([part.incident_energy for part in parts]),
        np.concatenate([part.showers for part in parts]),
    )
