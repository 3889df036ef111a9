"""The hls4ml LHC jet raw HDF5 file format: the writer (names in ``data/hls4ml_columns.py``).

Layout of the public files (Zenodo 3602260 / 3602254 / 3601436; Duarte et al., JINST 13 (2018)
P07027), which the embedded generator reproduces so that one loader reads both:

- ``jets``: ``(N, 59)`` float32, the 53 jet features of :data:`JET_FEATURE_NAMES` followed by the
  one-hot labels ``j_g, j_q, j_w, j_z, j_t`` (columns 53-57) and ``j_undef`` (column 58, zero);
- ``jetFeatureNames``: the 59 column names as byte strings;
- ``jetConstituentList``: ``(N, P, 16)`` float32, the first 16 names of
  :data:`PARTICLE_FEATURE_NAMES` per constituent, sorted by decreasing pT, zero-padded;
- ``particleFeatureNames``: the 17 particle feature names (the 16 stored plus ``j1_pdgid``).

The public files also hold jet images (``jetImage``, ``jetImageECAL``, ``jetImageHCAL``); the
embedded files do not.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.data.hls4ml_columns import (
    JET_FEATURE_NAMES,
    JETS_COLUMN_NAMES,
    LABEL_COLUMNS,
    N_CONSTITUENT_COLUMNS,
    PARTICLE_FEATURE_NAMES,
)

#: Jets per file in the public sample.
JETS_PER_FILE = 10_000


def hls4ml_file_name(index: int, n_constituents: int, start: int, stop: int) -> str:
    """File name in the public pattern, e.g. ``jetImage_7_150p_0_10000.h5``.

    Args:
        index: file-group index (the embedded generator uses its seed).
        n_constituents: constituents per jet ``P``.
        start, stop: index range ``[start, stop)`` of the jets in the file within its split.
    """
    return f"jetImage_{index}_{n_constituents}p_{start}_{stop}.h5"


def jets_table(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Assemble the ``(N, 59)`` float32 ``jets`` dataset.

    Args:
        features: ``(N, 53)`` jet features in :data:`JET_FEATURE_NAMES` order.
        labels: ``(N,)`` integer class indices into
            :data:`~cern_ai_bench.data.schema.HLS4ML_CLASSES`.
    """
    n = features.shape[0]
    if features.shape != (n, len(JET_FEATURE_NAMES)):
        raise ValueError(
            f"features: expected shape (N, {len(JET_FEATURE_NAMES)}), got {features.shape}"
        )
    if labels.shape != (n,) or (n and (labels.min() < 0 or labels.max() >= len(LABEL_COLUMNS))):
        raise ValueError(f"labels: expected {n} class indices in [0, {len(LABEL_COLUMNS)})")
    table = np.zeros((n, len(JETS_COLUMN_NAMES)), dtype=np.float32)
    table[:, : len(JET_FEATURE_NAMES)] = features
    table[np.arange(n), len(JET_FEATURE_NAMES) + labels] = 1.0
    return table


def write_hls4ml_file(path: str | Path, jets: np.ndarray, constituents: np.ndarray) -> None:
    """Write one file in the hls4ml raw layout, atomically.

    Args:
        path: target ``.h5`` file.
        jets: ``(N, 59)`` float32, see :func:`jets_table`.
        constituents: ``(N, P, 16)`` float32 in :data:`PARTICLE_FEATURE_NAMES` order (first 16).

    Raises:
        ValueError: shapes or dtypes do not match the format.
    """
    n = jets.shape[0]
    if n == 0:
        raise ValueError(f"{path}: refusing to write a file with no jets")
    if jets.dtype != np.float32 or jets.shape != (n, len(JETS_COLUMN_NAMES)):
        raise ValueError(
            f"jets: expected float32 (N, {len(JETS_COLUMN_NAMES)}), got {jets.dtype} {jets.shape}"
        )
    if (
        constituents.dtype != np.float32
        or constituents.ndim != 3
        or constituents.shape[0] != n
        or constituents.shape[2] != N_CONSTITUENT_COLUMNS
    ):
        raise ValueError(
            f"constituents: expected float32 ({n}, P, {N_CONSTITUENT_COLUMNS}), "
            f"got {constituents.dtype} {constituents.shape}"
        )
    # Zero padding compresses well; gzip is readable by every HDF5 build (unlike lzf).
    chunk_jets = min(n, 512)
    with atomic_path(path) as tmp, h5py.File(tmp, "w", track_order=True) as handle:
        handle.create_dataset("jets", data=jets, track_times=False)
        handle.create_dataset(
            "jetFeatureNames", data=np.array(JETS_COLUMN_NAMES, dtype="S"), track_times=False
        )
        handle.create_dataset(
            "jetConstituentList",
            data=constituents,
            chunks=(chunk_jets, *constituents.shape[1:]),
            compression="gzip",
            compression_opts=1,
            shuffle=True,
            track_times=False,
        )
        handle.create_dataset(
            "particleFeatureNames",
            data=np.array(PARTICLE_FEATURE_NAMES, dtype="S"),
            track_times=False,
        )
