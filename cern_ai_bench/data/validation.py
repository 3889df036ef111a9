"""Checks shared by the jet loaders: settings, finite values, pT order of constituents.

Each check raises a :class:`~cern_ai_bench.data.errors.DataError` whose message names the file,
the key or column, and the first offending row, so a bad file is found without a debugger.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.errors import DatasetConfigError, NonFiniteError

#: Relative tolerance of the pT-order check (pT recomputed in float32 from px, py).
PT_ORDER_RTOL = 1e-5


def check_settings(cfg: DatasetConfig) -> Path:
    """Validate the split/size settings of ``cfg`` and return its data folder.

    Raises:
        DatasetConfigError: naming the ``dataset.*`` key and the allowed range.
    """
    data_dir = str(cfg.data_dir)
    if "${" in data_dir:
        raise DatasetConfigError(
            f"dataset.data_dir is an unresolved interpolation ({data_dir!r}); resolve the "
            "config with OmegaConf or pass a folder"
        )
    if not 0.0 < float(cfg.val_fraction) < 1.0:
        raise DatasetConfigError(f"dataset.val_fraction must lie in (0, 1), got {cfg.val_fraction}")
    if int(cfg.n_constituents) < 1:
        raise DatasetConfigError(f"dataset.n_constituents must be >= 1, got {cfg.n_constituents}")
    if cfg.max_jets is not None and int(cfg.max_jets) < 1:
        raise DatasetConfigError(f"dataset.max_jets must be >= 1 or null, got {cfg.max_jets}")
    return Path(data_dir).expanduser()


def check_finite(
    array: np.ndarray,
    *,
    path: Path,
    key: str,
    row_offset: int = 0,
    file_rows: np.ndarray | None = None,
    columns: Sequence[str] | None = None,
    axis_names: Sequence[str] = ("row",),
) -> None:
    """Raise :class:`NonFiniteError` at the first NaN/inf of ``array`` (no-op if all finite).

    Args:
        array: values read from ``path``; axis 0 is the row (jet).
        path: the file they came from.
        key: the HDF5 key / table they came from.
        row_offset: file row of ``array[0]`` (chunked reads).
        file_rows: file row of each ``array`` row (selected rows); overrides ``row_offset``.
        columns: names of the last axis, if it is a feature axis.
        axis_names: names of the leading axes, for the message (``("row", "constituent")``).
    """
    finite = np.isfinite(array)
    if finite.all():
        return
    index = tuple(int(i) for i in np.argwhere(~finite)[0])
    value = array[index]
    row = int(file_rows[index[0]]) if file_rows is not None else index[0] + row_offset
    parts = [f"{axis_names[0]} {row}"]
    parts += [f"{name} {index[i]}" for i, name in enumerate(axis_names) if i > 0]
    if columns is not None:
        parts.append(f"column {columns[index[-1]]!r}")
    raise NonFiniteError(
        f"{path}: key {key!r}: non-finite value {value} at {', '.join(parts)} (the first one); "
        "the file is damaged or not the published version"
    )


def pt_unordered(constituents: np.ndarray) -> np.ndarray:
    """Which jets' constituents are not in decreasing pT order (zero padding last).

    Args:
        constituents: ``(N, P, 4)`` float32 ``(px, py, pz, E)``.

    Returns:
        ``(N,)`` bool, True for jets whose pT rises somewhere beyond :data:`PT_ORDER_RTOL`.
    """
    pt = np.hypot(constituents[..., 0], constituents[..., 1])
    rises = pt[:, 1:] > pt[:, :-1] * (1.0 + PT_ORDER_RTOL) + 1e-6
    return rises.any(axis=1)


def sort_by_pt(constituents: np.ndarray) -> np.ndarray:
    """Constituents sorted by decreasing pT per jet (stable; zero padding goes last).

    Args:
        constituents: ``(N, P, 4)`` float32 ``(px, py, pz, E)``.

    Returns:
        The same array when already ordered, else a sorted copy.
    """
    unordered = pt_unordered(constituents)
    if not unordered.any():
        return constituents
    result = constituents.copy()
    subset = constituents[unordered]
    pt = np.hypot(subset[..., 0], subset[..., 1])
    order = np.argsort(-pt, axis=1, kind="stable")
    result[unordered] = np.take_along_axis(subset, order[..., None], axis=1)
    return result
