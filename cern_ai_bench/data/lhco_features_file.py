"""The published LHC Olympics high-level-features file: read and write its layout.

``events_anomalydetection_v2.features.h5`` (Zenodo record 4536377): a pandas DataFrame in HDF5
with the 14 jet columns of :data:`~cern_ai_bench.data.lhco_features.FEATURE_COLUMNS` plus the
label, one event per row. The project also caches the features it computes from raw events in
this layout (``*.dijet_features_v1*.h5``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import tables

from cern_ai_bench.data.errors import (
    FormatError,
    MissingFileError,
    NonFiniteError,
    corrupt_file_error,
)
from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.data.lhco_features import FEATURE_COLUMNS, DijetFeatures
from cern_ai_bench.data.schema import SchemaError

__all__ = ["read_lhco_features_file", "write_lhco_features_file"]


def read_lhco_features_file(
    path: str | Path, *, key: str | None = None, max_events: int | None = None
) -> tuple[DijetFeatures, np.ndarray]:
    """Read a high-level-features file (``events_anomalydetection_v2.features.h5`` layout).

    A pandas DataFrame in HDF5 with (at least) the :data:`FEATURE_COLUMNS`, one event per row.

    Args:
        path: the ``.h5`` file.
        key: the DataFrame's key; None = ``df`` if present, else the file's only frame.
        max_events: read only the first events (None = all).

    Returns:
        ``(features, labels)``: :class:`DijetFeatures` and ``(N,)`` int8 labels.

    Raises:
        MissingFileError: no file at ``path``.
        CorruptFileError: not HDF5, truncated or damaged.
        FormatError: no (or no unique) DataFrame, missing columns, a label other than 0/1.
        NonFiniteError: NaN or inf, except a whole jet's 7 columns NaN (a missing jet, as
            :func:`~cern_ai_bench.data.lhco_features.dijet_features` writes it).
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{path}: no such LHCO features file", path=path)
    try:
        with pd.HDFStore(path, mode="r") as store:
            keys = store.keys()
            chosen = key or ("/df" if "/df" in keys else keys[0] if len(keys) == 1 else None)
            if chosen is None or f"/{chosen.lstrip('/')}" not in keys:
                raise FormatError(
                    f"{path}: cannot choose a DataFrame (key {key!r}; pandas keys {keys}); "
                    "expected one frame, as in events_anomalydetection_v2.features.h5"
                )
            frame = store.select(chosen, start=0, stop=max_events)
    except (tables.HDF5ExtError, OSError) as error:
        raise corrupt_file_error(path, error) from error
    missing = [name for name in FEATURE_COLUMNS if name not in frame.columns]
    if missing:
        raise FormatError(
            f"{path}: key {chosen!r} lacks the columns {missing} (found {list(frame.columns)}); "
            f"expected {list(FEATURE_COLUMNS)}"
        )
    values = frame[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float64)
    _check_feature_values(values, path)
    return DijetFeatures(values[:, :-1].copy()), values[:, -1].astype(np.int8)


def write_lhco_features_file(path: str | Path, features: DijetFeatures, labels: np.ndarray) -> Path:
    """Write features and labels in the published features-file layout (pandas, key ``df``).

    Raises:
        SchemaError: ``labels`` is not ``(N,)``; nothing is written.
    """
    labels = np.asarray(labels)
    if labels.shape != (len(features),):
        raise SchemaError(f"labels: expected shape ({len(features)},), got {labels.shape}")
    frame = pd.DataFrame(
        np.column_stack([features.table, labels.astype(np.float64)]),
        columns=list(FEATURE_COLUMNS),
    )
    with atomic_path(path) as tmp:
        frame.to_hdf(tmp, key="df", mode="w", format="fixed", complevel=5, complib="blosc")
    return Path(path)


def _check_feature_values(values: np.ndarray, path: Path) -> None:
    bad = ~np.isfinite(values)
    for j in (0, 1):  # a whole NaN jet is a missing jet, not damage
        block = slice(7 * j, 7 * j + 7)
        bad[np.isnan(values[:, block]).all(axis=1), block] = False
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(
            f"{path}: non-finite value {values[row, column]} at event {row}, column "
            f"{FEATURE_COLUMNS[column]!r} (the first one); only a whole jet may be NaN"
        )
    labels = values[:, -1]
    wrong = np.flatnonzero((labels != 0) & (labels != 1))
    if wrong.size:
        raise FormatError(
            f"{path}: event {int(wrong[0])} has label {labels[wrong[0]]}; expected 0 "
            "(background) or 1 (signal)"
        )
