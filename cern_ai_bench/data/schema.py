"""Canonical in-memory schema of the jet (trigger) family.

Every jet loader (hls4ml raw HDF5, its OpenML copy, the top-tagging reference dataset and the
embedded generator, which writes the hls4ml format) converts to :class:`JetArrays`, so models and
tasks never see a source-specific layout or class order.

Class orders differ between public copies of the same data (Duarte et al., JINST 13 (2018) P07027):
the raw HDF5 one-hot columns are ``g, q, W, Z, t``; the OpenML copy with scikit-learn's
``LabelEncoder`` gives ``g, q, t, w, z``. The canonical order is the raw HDF5 one,
:data:`HLS4ML_CLASSES`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Canonical class order of the hls4ml jet family (the raw HDF5 one-hot order).
HLS4ML_CLASSES: tuple[str, ...] = ("g", "q", "W", "Z", "t")
#: Canonical class order of the top-tagging reference dataset (``is_signal_new`` 0 = QCD, 1 = top).
TOP_TAGGING_CLASSES: tuple[str, ...] = ("QCD", "t")

#: The 16 high-level features of the hls4ml jet tagger, in the published order
#: (``jets`` columns 12, 34-46, 48, 52 of the raw HDF5 files, without the ``j_`` prefix).
HLF_NAMES: tuple[str, ...] = (
    "zlogz",
    "c1_b0_mmdt",
    "c1_b1_mmdt",
    "c1_b2_mmdt",
    "c2_b1_mmdt",
    "c2_b2_mmdt",
    "d2_b1_mmdt",
    "d2_b2_mmdt",
    "d2_a1_b1_mmdt",
    "d2_a1_b2_mmdt",
    "m2_b1_mmdt",
    "m2_b2_mmdt",
    "n2_b1_mmdt",
    "n2_b2_mmdt",
    "mass_mmdt",
    "multiplicity",
)

#: Per-constituent four-momentum components of the canonical schema, in GeV.
CONSTITUENT_FIELDS: tuple[str, ...] = ("px", "py", "pz", "E")


class SchemaError(ValueError):
    """Raised when arrays do not match the canonical schema; the message names what is wrong."""


@dataclass(frozen=True)
class FileInfo:
    """A source file a dataset was read from, recorded in the result record."""

    path: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True)
class JetArrays:
    """One split of jets in the canonical schema (host-side NumPy arrays).

    Attributes:
        labels: ``(N,)`` int64, index into the dataset's ``class_names``.
        constituents: ``(N, P, 4)`` float32 four-momenta ``(px, py, pz, E)`` in GeV, sorted by
            decreasing pT, zero-padded after the last constituent; ``None`` where the source has
            no constituents (the OpenML copy).
        hlf: ``(N, 16)`` float32 high-level features in :data:`HLF_NAMES` order; ``None`` where
            the source has none.
    """

    labels: np.ndarray
    constituents: np.ndarray | None = None
    hlf: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = _check_array("labels", self.labels, np.int64, ndim=1)
        if self.constituents is not None:
            _check_array("constituents", self.constituents, np.float32, ndim=3, n=n)
            if self.constituents.shape[2] != len(CONSTITUENT_FIELDS):
                raise SchemaError(
                    f"constituents: expected last dimension {len(CONSTITUENT_FIELDS)} "
                    f"{CONSTITUENT_FIELDS}, got shape {self.constituents.shape}"
                )
        if self.hlf is not None:
            _check_array("hlf", self.hlf, np.float32, ndim=2, n=n)
            if self.hlf.shape[1] != len(HLF_NAMES):
                raise SchemaError(
                    f"hlf: expected {len(HLF_NAMES)} features {HLF_NAMES}, "
                    f"got shape {self.hlf.shape}"
                )
        if self.constituents is None and self.hlf is None:
            raise SchemaError("a jet split needs constituents, high-level features, or both")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def mask(self) -> np.ndarray:
        """``(N, P)`` bool, True where a constituent is present (energy > 0)."""
        if self.constituents is None:
            raise SchemaError("this split has no constituents")
        return self.constituents[..., 3] > 0


@dataclass(frozen=True)
class JetDataset:
    """A jet dataset in the canonical schema: three disjoint splits plus provenance.

    ``test`` is only ever used for the final reported metrics; model selection and the
    quality target use ``val``.
    """

    name: str
    class_names: tuple[str, ...]
    train: JetArrays
    val: JetArrays
    test: JetArrays
    files: tuple[FileInfo, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for split_name in ("train", "val", "test"):
            split = getattr(self, split_name)
            if len(split) and (
                split.labels.min() < 0 or split.labels.max() >= len(self.class_names)
            ):
                raise SchemaError(
                    f"{self.name} {split_name}: labels must lie in [0, {len(self.class_names)}) "
                    f"for classes {self.class_names}"
                )

    @property
    def has_hlf(self) -> bool:
        return self.train.hlf is not None

    @property
    def has_constituents(self) -> bool:
        return self.train.constituents is not None

    def split_sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def _check_array(
    name: str, array: np.ndarray, dtype: type, *, ndim: int, n: int | None = None
) -> int:
    if not isinstance(array, np.ndarray):
        raise SchemaError(f"{name}: expected a NumPy array, got {type(array).__name__}")
    if array.dtype != dtype:
        raise SchemaError(f"{name}: expected dtype {np.dtype(dtype)}, got {array.dtype}")
    if array.ndim != ndim:
        raise SchemaError(f"{name}: expected {ndim} dimensions, got shape {array.shape}")
    if n is not None and array.shape[0] != n:
        raise SchemaError(f"{name}: expected {n} rows (one per jet), got {array.shape[0]}")
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise SchemaError(
            f"{name}: non-finite value (NaN or inf) at index {tuple(int(i) for i in bad)}"
        )
    return int(array.shape[0])
