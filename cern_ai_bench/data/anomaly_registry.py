"""The anomaly dataset registry: dataset name -> input family, preparation, loader, sources, card.

The anomaly counterparts of :mod:`cern_ai_bench.data.registry` (jets) and
:mod:`cern_ai_bench.data.showers_registry`:

- :func:`prepare_anomaly_dataset` makes the files of a :class:`~cern_ai_bench.config.DatasetConfig`
  exist locally (generate, or download and verify) without reading events, so a benchmark can
  stage data untimed;
- :func:`load_anomaly_dataset` returns the canonical dataset
  (:mod:`cern_ai_bench.data.anomaly_schema`); it prepares first, so it also works alone.

The registered datasets (loaders in :mod:`cern_ai_bench.data.anomaly_loaders`):

| name | family | content | card |
|---|---|---|---|
| ``embedded_l1`` | L1 events | Pythia 8 + toy detector in the ADC2021 format, generated offline | ``datasets/embedded_l1.md`` |
| ``adc2021`` | L1 events | the public ADC2021 background and four signals (Zenodo) | ``datasets/adc2021.md`` |
| ``lhco_rnd`` | dijet features | LHC Olympics 2020 R&D (Zenodo 4536377) | ``datasets/lhco_rnd.md`` |
| ``embedded_lhco`` | dijet features | Pythia 8 dijets in the LHCO R&D format, generated offline | ``datasets/embedded_lhco.md`` |

Each entry says which canonical input its loader returns (``inputs``, the value of the models'
``ModelSpec.inputs``), so a config can be checked against the model before any data is touched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.anomaly_loaders import (
    ADC2021_TASK_SAMPLES,
    load_adc2021_anomaly,
    load_embedded_l1,
    load_embedded_lhco_anomaly,
    load_lhco_rnd_anomaly,
    prepare_adc2021_anomaly,
    prepare_embedded_lhco_anomaly,
    prepare_lhco_rnd_anomaly,
)
from cern_ai_bench.data.anomaly_schema import DijetAnomalyDataset, L1AnomalyDataset
from cern_ai_bench.data.embedded_l1 import prepare_embedded_l1
from cern_ai_bench.data.errors import DatasetConfigError, UnknownDatasetError
from cern_ai_bench.data.remote import RemoteFile
from cern_ai_bench.data.sources import (
    ADC2021_FILES,
    ADC2021_SAMPLE_FILES,
    LHCO_RND_FEATURES,
    LHCO_RND_FILES,
    LHCO_RND_RAW,
)
from cern_ai_bench.data.validation import check_settings

__all__ = [
    "ANOMALY_DATASETS",
    "FEATURE_SOURCES",
    "AnomalyDatasetEntry",
    "anomaly_dataset_names",
    "get_anomaly_dataset_entry",
    "load_anomaly_dataset",
    "prepare_anomaly_dataset",
]

AnomalyDataset = L1AnomalyDataset | DijetAnomalyDataset
#: ``loader(cfg, data_dir, *, progress) -> AnomalyDataset``
AnomalyLoader = Callable[..., AnomalyDataset]
#: ``prepare(cfg, data_dir, *, progress)``; what it returns is not used here.
AnomalyPreparer = Callable[..., object]
#: Values of ``dataset.feature_source`` (public LHCO data).
FEATURE_SOURCES: tuple[str, ...] = ("features_file", "raw")


@dataclass(frozen=True)
class AnomalyDatasetEntry:
    """One registered anomaly dataset.

    Attributes:
        name: the ``dataset.name`` that selects it.
        summary: one line for listings.
        inputs: the canonical input its loader returns: ``"l1_events"``
            (:class:`L1AnomalyDataset`) or ``"dijet_features"`` (:class:`DijetAnomalyDataset`).
        prepare: ``prepare(cfg, data_dir, *, progress)``: makes the files exist locally.
        loader: ``loader(cfg, data_dir, *, progress)``; prepares first.
        sources: its public files (empty for generated data).
        card: dataset card, relative to the repository root.
    """

    name: str
    summary: str
    inputs: str
    prepare: AnomalyPreparer
    loader: AnomalyLoader
    sources: tuple[RemoteFile, ...] = ()
    card: str | None = None


def _adc2021_sources() -> tuple[RemoteFile, ...]:
    """Both published name generations of the samples the task reads."""
    return tuple(
        ADC2021_FILES[name]
        for sample in ADC2021_TASK_SAMPLES
        for name, _ in ADC2021_SAMPLE_FILES[sample]
    )


def _entries() -> list[AnomalyDatasetEntry]:
    return [
        AnomalyDatasetEntry(
            name="embedded_l1",
            summary="Pythia8 + toy detector L1 events (SM cocktail, 4 BSM signals), ADC2021 format",
            inputs="l1_events",
            prepare=prepare_embedded_l1,
            loader=load_embedded_l1,
            card="datasets/embedded_l1.md",
        ),
        AnomalyDatasetEntry(
            name="adc2021",
            summary="ADC2021 L1 background and 4 BSM signals (Govorkova et al. 2022, Zenodo)",
            inputs="l1_events",
            prepare=prepare_adc2021_anomaly,
            loader=load_adc2021_anomaly,
            sources=_adc2021_sources(),
            card="datasets/adc2021.md",
        ),
        AnomalyDatasetEntry(
            name="lhco_rnd",
            summary="LHC Olympics 2020 R&D dijets, W' -> XY signal (Zenodo 4536377)",
            inputs="dijet_features",
            prepare=prepare_lhco_rnd_anomaly,
            loader=load_lhco_rnd_anomaly,
            sources=(LHCO_RND_FILES[LHCO_RND_FEATURES], LHCO_RND_FILES[LHCO_RND_RAW]),
            card="datasets/lhco_rnd.md",
        ),
        AnomalyDatasetEntry(
            name="embedded_lhco",
            summary="Pythia8 QCD dijets + W' -> XY -> qqqq in the LHCO R&D format",
            inputs="dijet_features",
            prepare=prepare_embedded_lhco_anomaly,
            loader=load_embedded_lhco_anomaly,
            card="datasets/embedded_lhco.md",
        ),
    ]


ANOMALY_DATASETS: dict[str, AnomalyDatasetEntry] = {entry.name: entry for entry in _entries()}
#: Names the configs know (``configs/dataset/*.yaml``).
ANOMALY_DATASET_NAMES: tuple[str, ...] = tuple(ANOMALY_DATASETS)


def anomaly_dataset_names() -> tuple[str, ...]:
    """Anomaly datasets accepted as ``dataset.name``."""
    return tuple(ANOMALY_DATASETS)


def get_anomaly_dataset_entry(name: str) -> AnomalyDatasetEntry:
    """The registry entry of ``name``.

    Raises:
        UnknownDatasetError: ``name`` is not registered; the message lists the valid names.
    """
    try:
        return ANOMALY_DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown anomaly dataset {name!r}; dataset.name must be one of "
            f"{', '.join(ANOMALY_DATASETS)}"
        ) from None


def _check_anomaly_settings(cfg: DatasetConfig) -> Path:
    """The shared checks (data_dir, val_fraction) plus ``test_fraction``, ``max_events`` and
    ``feature_source``; returns the data folder.

    Raises:
        DatasetConfigError: naming the ``dataset.*`` key and the allowed values.
    """
    data_dir = check_settings(cfg)
    if not 0.0 < float(cfg.test_fraction) < 1.0:
        raise DatasetConfigError(
            f"dataset.test_fraction must lie in (0, 1), got {cfg.test_fraction}"
        )
    if cfg.max_events is not None and int(cfg.max_events) < 2:
        raise DatasetConfigError(f"dataset.max_events must be >= 2 or null, got {cfg.max_events}")
    if str(cfg.feature_source) not in FEATURE_SOURCES:
        raise DatasetConfigError(
            f"dataset.feature_source must be one of {', '.join(FEATURE_SOURCES)}, "
            f"got {cfg.feature_source!r}"
        )
    return data_dir


def prepare_anomaly_dataset(cfg: DatasetConfig, *, progress: bool = True) -> None:
    """Make the files of the anomaly dataset ``cfg.name`` exist locally, reading no event.

    Raises:
        DataError: any problem with the name, settings or files; the message says what to do.
    """
    entry = get_anomaly_dataset_entry(str(cfg.name))
    entry.prepare(cfg, _check_anomaly_settings(cfg), progress=progress)


def load_anomaly_dataset(cfg: DatasetConfig, *, progress: bool = True) -> AnomalyDataset:
    """Load the anomaly dataset ``cfg.name`` in its canonical schema, preparing it first.

    Args:
        cfg: which dataset, where its files live (``data_dir``), whether to download, the
            split settings (``val_fraction``, ``test_fraction``, ``split_seed``,
            ``max_events``) and the generator settings of the embedded datasets.
        progress: show progress bars (download, generation, reading).

    Returns:
        An :class:`L1AnomalyDataset` or a :class:`DijetAnomalyDataset` (see ``entry.inputs``).

    Raises:
        DataError: any problem with the name, settings or files; the message says what to do.
    """
    entry = get_anomaly_dataset_entry(str(cfg.name))
    return entry.loader(cfg, _check_anomaly_settings(cfg), progress=progress)
