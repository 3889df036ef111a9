"""Canonical in-memory schema of the calorimeter-shower (fastsim) family.

Every shower loader (the public CaloChallenge 2022 files and the embedded GFlash sample, which is
written in the same format) converts to :class:`ShowerArrays`, so models, tasks and metrics see
one layout: incident energies ``(N,)`` and flattened voxel energies ``(N, V)``, both float32 in
MeV, in the official voxel order (layer, angle, radius; radius fastest) of the dataset's
:class:`~cern_ai_bench.data.calo_geometry.CaloGeometry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.data.schema import FileInfo, SchemaError

#: Elements checked at once by the value checks, so validating a multi-GB split needs no
#: temporary array of its size.
_CHECK_BLOCK_ELEMENTS = 1 << 24


@dataclass(frozen=True)
class ShowerArrays:
    """One split of showers in the canonical schema (host-side NumPy arrays).

    Attributes:
        incident_energy: ``(N,)`` float32, energy of the incoming particle in MeV, > 0.
        showers: ``(N, V)`` float32, energy of every voxel in MeV, finite and >= 0, in the
            official voxel order of the dataset's geometry.

    Raises:
        SchemaError: wrong type, dtype or shape, a non-finite value, a negative voxel energy or
            a non-positive incident energy; the message names the first offending event.
    """

    incident_energy: np.ndarray
    showers: np.ndarray

    def __post_init__(self) -> None:
        for name, array, ndim in (
            ("incident_energy", self.incident_energy, 1),
            ("showers", self.showers, 2),
        ):
            if not isinstance(array, np.ndarray):
                raise SchemaError(f"{name}: expected a NumPy array, got {type(array).__name__}")
            if array.dtype != np.float32:
                raise SchemaError(f"{name}: expected dtype float32, got {array.dtype}")
            if array.ndim != ndim:
                raise SchemaError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")
        n = self.incident_energy.shape[0]
        if self.showers.shape[0] != n:
            raise SchemaError(
                f"showers: expected {n} rows (one per incident energy), got {self.showers.shape[0]}"
            )
        _check_values("incident_energy", self.incident_energy, strictly_positive=True)
        _check_values("showers", self.showers, strictly_positive=False)

    def __len__(self) -> int:
        return int(self.incident_energy.shape[0])

    @property
    def n_voxels(self) -> int:
        return int(self.showers.shape[1])


@dataclass(frozen=True)
class ShowerDataset:
    """A shower dataset in the canonical schema: three disjoint splits, geometry, provenance.

    ``train`` and ``val`` come from the training file(s); ``test`` is the held-out reference file
    (never trained on), against which generated showers are evaluated.
    """

    name: str
    geometry: CaloGeometry
    train: ShowerArrays
    val: ShowerArrays
    test: ShowerArrays
    files: tuple[FileInfo, ...] = field(default_factory=tuple)
    #: Showers have no classes; kept so code written for both families can ask.
    class_names: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        for split_name in ("train", "val", "test"):
            split = getattr(self, split_name)
            if split.n_voxels != self.geometry.n_voxels:
                raise SchemaError(
                    f"{self.name} {split_name}: {split.n_voxels} voxels per shower, geometry "
                    f"{self.geometry.name} has {self.geometry.n_voxels}"
                )

    def split_sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def _check_values(name: str, array: np.ndarray, *, strictly_positive: bool) -> None:
    """Finite and >= 0 (> 0 if ``strictly_positive``), checked block-wise without big temporaries."""
    rows = array.reshape(array.shape[0], -1)
    step = max(1, _CHECK_BLOCK_ELEMENTS // max(rows.shape[1], 1))
    for start in range(0, rows.shape[0], step):
        block = rows[start : start + step]
        if block.size == 0:
            continue
        # A float64 sum is finite exactly when every float32 element is (it cannot overflow).
        finite = np.isfinite(block.sum(dtype=np.float64))
        low = block.min()
        if finite and (low > 0 or (low == 0 and not strictly_positive)):
            continue
        if not finite:
            bad, what = ~np.isfinite(block), "non-finite value (NaN or inf)"
        else:
            bad = block <= 0 if strictly_positive else block < 0
            what = "non-positive value" if strictly_positive else "negative value"
        row, column = (int(i) for i in np.argwhere(bad)[0])
        where = f"event {start + row}" + (f", voxel {column}" if array.ndim == 2 else "")
        raise SchemaError(f"{name}: {what} {block[row, column]} at {where} (the first one)")
