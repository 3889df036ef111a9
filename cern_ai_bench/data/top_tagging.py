"""The Top Quark Tagging Reference Dataset (Zenodo 2603256) as a canonical JetDataset.

Kasieczka, Plehn et al., SciPost Phys. 7, 014 (2019). Three pandas HDF5 files ``train.h5``,
``val.h5``, ``test.h5`` (1.2M / 400k / 400k jets), key ``table``, one row per jet with columns
``E_i, PX_i, PY_i, PZ_i`` for the 200 leading constituents ``i = 0..199`` (pT-ordered,
zero-padded, GeV), ``truthE, truthPX, truthPY, truthPZ``, ``ttv`` and ``is_signal_new``
(1 = top, 0 = QCD). Labels map directly to :data:`TOP_TAGGING_CLASSES` (QCD = 0, t = 1); there
are no high-level features. The published splits are kept as they are.

The files are read in chunks of rows (the training file is about 1 GB), keeping only the first
``n_constituents`` four-momenta of each chunk, so memory stays bounded. ``max_jets`` keeps the
first ``max_jets`` rows of each file (reading stops there); if that leaves a split with a single
class the load fails rather than train on it.

:func:`prepare_top_tagging` (download and verify) is separate from reading, so that a benchmark
can stage the files untimed; :func:`load_top_tagging` calls it first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tables
from tqdm.auto import tqdm

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.download import ensure_file
from cern_ai_bench.data.errors import FormatError, corrupt_file_error
from cern_ai_bench.data.integrity import file_info_cached
from cern_ai_bench.data.schema import TOP_TAGGING_CLASSES, JetArrays, JetDataset
from cern_ai_bench.data.sources import TOP_TAGGING_FILES
from cern_ai_bench.data.validation import check_finite, sort_by_pt

#: Subfolder of ``data_dir`` holding train.h5, val.h5, test.h5.
TOP_TAGGING_DIRNAME = "top_tagging"
KEY = "table"
LABEL_COLUMN = "is_signal_new"
#: Rows read at once: 20k rows x ~800 float32 columns is ~64 MB per chunk.
CHUNK_ROWS = 20_000
_READ_ERRORS = (OSError, tables.exceptions.HDF5ExtError, tables.exceptions.NoSuchNodeError)


def prepare_top_tagging(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> dict[str, Path]:
    """Make the three verified files exist in ``data_dir/top_tagging/``; read no jets.

    Missing files are downloaded when allowed; files already there are checked against their
    ``.sha256`` sidecars (hashed at most once per process).

    Returns:
        ``{"train": path, "val": path, "test": path}``.
    """
    folder = data_dir / TOP_TAGGING_DIRNAME
    return {
        split: ensure_file(entry, folder, allow_download=cfg.download, progress=progress)
        for split, entry in TOP_TAGGING_FILES.items()
    }


def load_top_tagging(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> JetDataset:
    """Load the three published splits, preparing them first (see :func:`prepare_top_tagging`)."""
    paths = prepare_top_tagging(cfg, data_dir, progress=progress)
    max_rows = None if cfg.max_jets is None else int(cfg.max_jets)
    splits, files = {}, []
    for split, path in paths.items():
        labels, constituents = read_top_tagging_file(
            path, int(cfg.n_constituents), max_rows=max_rows, progress=progress
        )
        if max_rows is not None and len(np.unique(labels)) < len(TOP_TAGGING_CLASSES):
            raise FormatError(
                f"{path}: its first {len(labels)} rows (dataset.max_jets={max_rows}) hold only "
                f"class {TOP_TAGGING_CLASSES[int(labels[0])]!r}; raise max_jets or set it to null"
            )
        splits[split] = JetArrays(labels=labels, constituents=constituents)
        files.append(file_info_cached(path))
    return JetDataset(
        name="top_tagging",
        class_names=TOP_TAGGING_CLASSES,
        train=splits["train"],
        val=splits["val"],
        test=splits["test"],
        files=tuple(files),
    )


def read_top_tagging_file(
    path: Path,
    n_constituents: int,
    *,
    max_rows: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
    progress: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Read one top-tagging file.

    Args:
        path: ``train.h5`` / ``val.h5`` / ``test.h5`` (pandas HDF5, fixed or table format).
        n_constituents: leading constituents kept per jet (at most the 200 in the file).
        max_rows: read only the first rows (None = all).
        chunk_rows: rows per read.
        progress: show a tqdm bar over rows.

    Returns:
        ``labels`` ``(N,)`` int64 (0 QCD, 1 top) and ``constituents``
        ``(N, n_constituents, 4)`` float32 ``(px, py, pz, E)`` in GeV, pT-ordered.

    Raises:
        CorruptFileError: truncated or not HDF5.
        FormatError: no ``table`` key, missing columns, labels other than 0/1.
        NonFiniteError: NaN/inf in a four-momentum.
    """
    try:
        store = pd.HDFStore(path, mode="r")
    except _READ_ERRORS as error:
        raise corrupt_file_error(path, error) from None
    try:
        with store:
            return _read_store(store, path, n_constituents, max_rows, chunk_rows, progress)
    except _READ_ERRORS as error:
        raise corrupt_file_error(path, error) from None


def _read_store(
    store: pd.HDFStore,
    path: Path,
    n_constituents: int,
    max_rows: int | None,
    chunk_rows: int,
    progress: bool,
) -> tuple[np.ndarray, np.ndarray]:
    if KEY not in store:
        raise FormatError(f"{path}: no key {KEY!r} in this pandas HDF5 file; found {store.keys()}")
    storer = store.get_storer(KEY)
    n_rows = int(storer.nrows) if storer.nrows is not None else int(storer.shape[0])
    columns = list(store.select(KEY, start=0, stop=0).columns)
    all_particles = _particle_count(columns)
    if all_particles < n_constituents:
        raise FormatError(
            f"{path}: key {KEY!r} has four-momentum columns for {all_particles} constituents "
            f"(E_i, PX_i, PY_i, PZ_i), fewer than dataset.n_constituents={n_constituents}"
        )
    if LABEL_COLUMN not in columns:
        raise FormatError(f"{path}: key {KEY!r} has no column {LABEL_COLUMN!r}")
    # (px, py, pz, E) per constituent, constituent-major: reshapes to (rows, P, 4).
    momentum_columns = [f"{c}_{i}" for i in range(all_particles) for c in ("PX", "PY", "PZ", "E")]
    wanted = [*momentum_columns, LABEL_COLUMN]
    stop = n_rows if max_rows is None else min(n_rows, max_rows)

    labels, constituents = [], []
    with tqdm(total=stop, unit="jet", desc=f"read {path.name}", disable=not progress) as bar:
        for start in range(0, stop, chunk_rows):
            end = min(start + chunk_rows, stop)
            select = {"columns": wanted} if storer.is_table else {}
            chunk = store.select(KEY, start=start, stop=end, **select)
            if len(chunk) != end - start:
                raise FormatError(
                    f"{path}: key {KEY!r} rows {start}-{end}: read {len(chunk)} rows, expected "
                    f"{end - start}; the file is truncated: delete it and download it again"
                )
            momenta = chunk[momentum_columns].to_numpy(dtype=np.float32)
            momenta = momenta.reshape(len(chunk), all_particles, 4)
            check_finite(
                momenta[:, :n_constituents],
                path=path,
                key=KEY,
                row_offset=start,
                columns=("PX", "PY", "PZ", "E"),
                axis_names=("row", "constituent"),
            )
            labels.append(_labels(chunk[LABEL_COLUMN].to_numpy(), path, start))
            constituents.append(np.ascontiguousarray(sort_by_pt(momenta)[:, :n_constituents]))
            bar.update(end - start)
    if not labels:
        raise FormatError(f"{path}: key {KEY!r} holds no rows")
    return np.concatenate(labels), np.concatenate(constituents)


def _particle_count(columns: list[str]) -> int:
    """Number of constituents with all four columns E_i, PX_i, PY_i, PZ_i, i = 0, 1, ..."""
    names = set(columns)
    count = 0
    while all(f"{c}_{count}" in names for c in ("E", "PX", "PY", "PZ")):
        count += 1
    return count


def _labels(values: np.ndarray, path: Path, row_offset: int) -> np.ndarray:
    valid = np.isin(values, (0, 1))
    if not valid.all():
        row = int(np.argmin(valid))
        raise FormatError(
            f"{path}: key {KEY!r} row {row + row_offset}: {LABEL_COLUMN}={values[row]!r}, "
            "expected 0 (QCD) or 1 (top)"
        )
    return values.astype(np.int64)
