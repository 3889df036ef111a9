"""The shower dataset registry: dataset name -> geometry, preparation, loader, sources and card.

The public entry points, the shower counterparts of :mod:`cern_ai_bench.data.registry`:

- :func:`prepare_shower_dataset` makes the files of a :class:`~cern_ai_bench.config.DatasetConfig`
  exist locally (download and verify, or generate) without reading showers, so a benchmark can
  stage data untimed; once they exist it is a quick check;
- :func:`load_shower_dataset` returns a canonical
  :class:`~cern_ai_bench.data.shower_schema.ShowerDataset`; it prepares first, so it also works
  alone.

The registered datasets: the four public CaloChallenge 2022 sets
(:mod:`cern_ai_bench.data.calochallenge`, card ``datasets/calochallenge.md``) and
``embedded_showers``, GFlash showers generated offline in the CaloChallenge format in the
geometry ``dataset.geometry`` (:mod:`cern_ai_bench.data.embedded_showers`, card
``datasets/embedded_showers.md``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.calochallenge import (
    CALOCHALLENGE_DATASETS,
    load_calochallenge,
    prepare_calochallenge,
)
from cern_ai_bench.data.embedded_showers import load_embedded_showers, prepare_embedded_showers
from cern_ai_bench.data.errors import DatasetConfigError, UnknownDatasetError
from cern_ai_bench.data.remote import RemoteFile
from cern_ai_bench.data.shower_schema import ShowerDataset
from cern_ai_bench.data.validation import check_settings

#: ``loader(cfg, data_dir, *, progress) -> ShowerDataset``
ShowerLoader = Callable[..., ShowerDataset]
#: ``prepare(cfg, data_dir, *, progress)``; what it returns (the local paths) is not used here.
ShowerPreparer = Callable[..., object]
#: ``ShowerDatasetEntry.geometry`` of a dataset whose geometry is ``dataset.geometry``.
FROM_CONFIG = "from config"


@dataclass(frozen=True)
class ShowerDatasetEntry:
    """One registered shower dataset.

    Attributes:
        name: the ``dataset.name`` that selects it.
        summary: one line for listings.
        geometry: name of its :data:`~cern_ai_bench.data.calo_geometry.GEOMETRIES` entry, or
            :data:`FROM_CONFIG` when ``dataset.geometry`` chooses it.
        prepare: ``prepare(cfg, data_dir, *, progress)``: makes the files exist locally.
        loader: ``loader(cfg, data_dir, *, progress) -> ShowerDataset``; prepares first.
        sources: its public files (empty for generated data).
        card: dataset card, relative to the repository root.
    """

    name: str
    summary: str
    geometry: str
    prepare: ShowerPreparer
    loader: ShowerLoader
    sources: tuple[RemoteFile, ...] = ()
    card: str | None = None


def _public(name: str, summary: str) -> ShowerDatasetEntry:
    spec = CALOCHALLENGE_DATASETS[name]
    return ShowerDatasetEntry(
        name=name,
        summary=summary,
        geometry=spec.geometry,
        prepare=partial(prepare_calochallenge, name),
        loader=partial(load_calochallenge, name),
        sources=spec.sources,
        card="datasets/calochallenge.md",
    )


SHOWER_DATASETS: dict[str, ShowerDatasetEntry] = {
    entry.name: entry
    for entry in (
        _public(
            "calochallenge_ds1_photons",
            "CaloChallenge dataset 1 photons, ATLAS Geant4, 368 voxels (Zenodo 8099322)",
        ),
        _public(
            "calochallenge_ds1_pions",
            "CaloChallenge dataset 1 pions, ATLAS Geant4, 533 voxels (Zenodo 8099322)",
        ),
        _public(
            "calochallenge_ds2",
            "CaloChallenge dataset 2, Par04 SiW electrons, 6480 voxels (Zenodo 6366271)",
        ),
        _public(
            "calochallenge_ds3",
            "CaloChallenge dataset 3, Par04 SiW electrons, 40500 voxels (Zenodo 6366324)",
        ),
        ShowerDatasetEntry(
            name="embedded_showers",
            summary="GFlash electron showers generated offline in the CaloChallenge format",
            geometry=FROM_CONFIG,
            prepare=prepare_embedded_showers,
            loader=load_embedded_showers,
            card="datasets/embedded_showers.md",
        ),
    )
}


def shower_dataset_names() -> tuple[str, ...]:
    """Shower datasets accepted as ``dataset.name``."""
    return tuple(SHOWER_DATASETS)


def get_shower_dataset_entry(name: str) -> ShowerDatasetEntry:
    """The registry entry of ``name``.

    Raises:
        UnknownDatasetError: ``name`` is not registered; the message lists the valid names.
    """
    try:
        return SHOWER_DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown shower dataset {name!r}; dataset.name must be one of "
            f"{', '.join(SHOWER_DATASETS)}"
        ) from None


def shower_geometry_name(cfg: DatasetConfig) -> str:
    """The geometry the dataset of ``cfg`` will have (known before any file is read)."""
    entry = get_shower_dataset_entry(str(cfg.name))
    return str(cfg.geometry) if entry.geometry == FROM_CONFIG else entry.geometry


def prepare_shower_dataset(cfg: DatasetConfig, *, progress: bool = True) -> None:
    """Make the files of the shower dataset ``cfg.name`` exist locally, reading no shower.

    Downloads and verifies public files, or runs the embedded generator. Call it before timing
    :func:`load_shower_dataset`: once the files exist, a second call only checks them.

    Raises:
        DataError: any problem with the name, settings or files; the message says what to do.
    """
    entry = get_shower_dataset_entry(str(cfg.name))
    entry.prepare(cfg, _check_shower_settings(cfg), progress=progress)


def load_shower_dataset(cfg: DatasetConfig, *, progress: bool = True) -> ShowerDataset:
    """Load the shower dataset ``cfg.name`` in the canonical schema, preparing its files first.

    Args:
        cfg: which dataset, where its files live (``data_dir``), whether to download, the split
            settings (``val_fraction``, ``split_seed``, ``max_showers``) and, for
            ``embedded_showers``, the generator settings (``geometry``, ``n_showers``,
            ``n_reference_showers``, ``generator_seed``, ``workers``).
        progress: show progress bars (download, generation, reading).

    Returns:
        A :class:`ShowerDataset`: train and val from the training file(s), test = the reference
        file(s), the SHA-256 of every file read.

    Raises:
        DataError: any problem with the name, settings or files; the message says what to do.
    """
    entry = get_shower_dataset_entry(str(cfg.name))
    return entry.loader(cfg, _check_shower_settings(cfg), progress=progress)


def _check_shower_settings(cfg: DatasetConfig) -> Path:
    """The shared checks (data_dir, val_fraction) plus ``max_showers``; returns the data folder.

    The generator's settings are checked by the generator (errors name their ``dataset.*`` key).

    Raises:
        DatasetConfigError: naming the ``dataset.*`` key and the allowed values.
    """
    data_dir = check_settings(cfg)
    if cfg.max_showers is not None and int(cfg.max_showers) < 1:
        raise DatasetConfigError(f"dataset.max_showers must be >= 1 or null, got {cfg.max_showers}")
    return data_dir
