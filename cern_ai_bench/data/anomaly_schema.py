"""Canonical in-memory schemas of the anomaly-detection datasets (task=anomaly).

Two families, each converted to by every loader of the family, so the task, the models and the
metrics never see a file format:

- :class:`L1AnomalyDataset`: Level-1 events in the ADC2021 layout (Govorkova et al., Sci. Data
  9, 118 (2022), arXiv:2107.02157; slots in :mod:`cern_ai_bench.data.l1_layout`), ``(N, 19, 4)``
  float32 (pT [GeV], eta, phi [rad], class id). Detectors train on background only: ``train``
  and ``val`` are background, ``test`` is an independent background sample, and every signal
  is test-only (as in the challenge's example code).
- :class:`DijetAnomalyDataset`: per event the five CATHODE inputs of the LHC Olympics
  (:data:`DIJET_FEATURES`; Hallin et al., PRD 106 (2022) 055006, arXiv:2109.00546) and the
  truth label. The weakly supervised protocol (signal injection, signal region and sidebands)
  is built from it by :mod:`cern_ai_bench.data.dijet_splits`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

from cern_ai_bench.data.l1_layout import N_SLOTS
from cern_ai_bench.data.lhco_features import DERIVED_COLUMNS
from cern_ai_bench.data.schema import FileInfo, SchemaError

__all__ = ["DIJET_FEATURES", "DijetAnomalyDataset", "L1AnomalyDataset"]

#: Columns of :attr:`DijetAnomalyDataset.features`: mjj, mj_min, dmj (TeV), tau21 of the
#: lighter and of the heavier jet.
DIJET_FEATURES: tuple[str, ...] = DERIVED_COLUMNS


def _check_events(name: str, events: np.ndarray) -> None:
    if events.ndim != 3 or events.shape[1:] != (N_SLOTS, 4) or events.dtype != np.float32:
        raise SchemaError(
            f"{name}: expected L1 events (N, {N_SLOTS}, 4) float32, got {events.shape} "
            f"{events.dtype}"
        )
    if len(events) == 0:
        raise SchemaError(f"{name}: no events")


@dataclass(frozen=True)
class L1AnomalyDataset:
    """Level-1 events for unsupervised anomaly detection (host-side NumPy arrays).

    Attributes:
        name: the ``dataset.name`` it was loaded as.
        train: ``(N, 19, 4)`` float32 background events the detector trains on.
        val: background events held out from the same file (model selection, the validation
            metric).
        test: independent background events: thresholds (FPR, rate) are set on them.
        signals: signal name -> ``(N_s, 19, 4)`` float32 events, test-only.
        files: provenance of every file read, for the result record.
    """

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    signals: Mapping[str, np.ndarray]
    files: tuple[FileInfo, ...] = field(default_factory=tuple)
    #: Which canonical input the family's models take (``ModelSpec.inputs``).
    inputs: ClassVar[str] = "l1_events"

    def __post_init__(self) -> None:
        for split in ("train", "val", "test"):
            _check_events(f"{self.name} {split}", getattr(self, split))
        if not self.signals:
            raise SchemaError(f"{self.name}: no signal samples")
        for signal, events in self.signals.items():
            _check_events(f"{self.name} signal {signal}", events)

    @property
    def class_names(self) -> tuple[str, ...]:
        """``("background", *signals)``: what the record lists as the dataset's classes."""
        return ("background", *self.signals)

    def split_sizes(self) -> dict[str, int]:
        """Events per split, signals as ``signal_<name>``."""
        sizes = {"train": len(self.train), "val": len(self.val), "test": len(self.test)}
        return sizes | {f"signal_{name}": len(events) for name, events in self.signals.items()}


@dataclass(frozen=True)
class DijetAnomalyDataset:
    """Dijet events with truth labels, before any signal injection or split.

    Attributes:
        name: the ``dataset.name`` it was loaded as.
        features: ``(N, 5)`` float32 in :data:`DIJET_FEATURES` order, finite (events without
            two jets are dropped by the loaders).
        labels: ``(N,)`` int8, 1 = signal, 0 = background (truth: used for injection and for
            the test metrics, never by the weakly supervised training).
        files: provenance of every file read, for the result record.
    """

    name: str
    features: np.ndarray
    labels: np.ndarray
    files: tuple[FileInfo, ...] = field(default_factory=tuple)
    inputs: ClassVar[str] = "dijet_features"
    class_names: ClassVar[tuple[str, ...]] = ("background", "signal")

    def __post_init__(self) -> None:
        n_columns = len(DIJET_FEATURES)
        f, y = self.features, self.labels
        if f.ndim != 2 or f.shape[1] != n_columns or f.dtype != np.float32:
            raise SchemaError(
                f"{self.name} features: expected (N, {n_columns}) float32 "
                f"{DIJET_FEATURES}, got {f.shape} {f.dtype}"
            )
        if y.shape != (len(f),) or y.dtype != np.int8:
            raise SchemaError(
                f"{self.name} labels: expected ({len(f)},) int8, got {y.shape} {y.dtype}"
            )
        if not np.isfinite(f).all():
            row = int(np.argwhere(~np.isfinite(f).all(axis=1))[0, 0])
            raise SchemaError(f"{self.name} features: non-finite value in event {row}")
        if not np.isin(y, (0, 1)).all():
            raise SchemaError(f"{self.name} labels: expected 0 (background) or 1 (signal)")
        for label, what in ((0, "background"), (1, "signal")):
            if not (y == label).any():
                raise SchemaError(f"{self.name}: no {what} events (label {label})")

    @property
    def n_signal(self) -> int:
        return int((self.labels == 1).sum())

    @property
    def n_background(self) -> int:
        return int((self.labels == 0).sum())

    def split_sizes(self) -> dict[str, int]:
        """Background and signal events available (the task's splits are in its details)."""
        return {"background": self.n_background, "signal": self.n_signal}
