"""The jet dataset registry: dataset name -> preparation, loader, sources and card.

The public entry points:

- :func:`prepare_jet_dataset` makes the files of a :class:`~cern_ai_bench.config.DatasetConfig`
  exist locally (download, verify, extract, or generate) without reading any jet, so that a
  benchmark can stage data untimed (MLPerf treats staging as untimed); once they exist it is a
  quick check (file sizes, ``.sha256`` sidecars hashed at most once per process);
- :func:`load_jet_dataset` turns the config into a canonical
  :class:`~cern_ai_bench.data.schema.JetDataset`; it prepares first, so it also works alone.

The registered datasets:

- ``hls4ml``: Zenodo 3602260, 150-constituent train/val tarballs (``datasets/hls4ml.md``);
- ``hls4ml_openml``: OpenML ``hls4ml_lhc_jets_hlf`` (ARFF), 16 features only
  (``datasets/hls4ml_openml.md``);
- ``top_tagging``: Zenodo 2603256 ``train.h5``, ``val.h5``, ``test.h5``
  (``datasets/top_tagging.md``);
- ``embedded_jets``: generated offline by :mod:`cern_ai_bench.generate.jets`, hls4ml format.

Each entry says what its loader returns (``provides_hlf``, ``provides_constituents``), so a
config can be checked against the model before anything is downloaded. Public files live under
``<data_dir>/<name>/``. Their URLs and checksum policy are in
:mod:`cern_ai_bench.data.sources`; tests check that each card lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.embedded import load_embedded_jets, prepare_embedded_jets
from cern_ai_bench.data.errors import UnknownDatasetError
from cern_ai_bench.data.hls4ml import load_hls4ml, prepare_hls4ml
from cern_ai_bench.data.openml import load_hls4ml_openml, prepare_hls4ml_openml
from cern_ai_bench.data.remote import RemoteFile
from cern_ai_bench.data.schema import HLS4ML_CLASSES, TOP_TAGGING_CLASSES, JetDataset
from cern_ai_bench.data.sources import HLS4ML_TARBALLS, OPENML_ARFF, TOP_TAGGING_FILES
from cern_ai_bench.data.top_tagging import load_top_tagging, prepare_top_tagging
from cern_ai_bench.data.validation import check_settings

#: ``loader(cfg, data_dir, progress=...)``
Loader = Callable[..., JetDataset]
#: ``prepare(cfg, data_dir, progress=...)``; what it returns (the local paths) is not used here.
Preparer = Callable[..., object]


@dataclass(frozen=True)
class DatasetEntry:
    """One registered jet dataset.

    Attributes:
        name: the ``dataset.name`` that selects it.
        summary: one line for listings.
        class_names: canonical class order of its labels.
        loader: ``loader(cfg, data_dir, *, progress) -> JetDataset``; prepares first.
        prepare: ``prepare(cfg, data_dir, *, progress)``: makes the files exist locally
            (download, verify, extract, generate) without reading jets; a quick check when
            they already do.
        provides_hlf: the loaded splits have the 16 high-level features (``hlf``).
        provides_constituents: the loaded splits have constituents (``constituents``).
        sources: its public files (empty for generated data).
        card: dataset card, relative to the repository root.
    """

    name: str
    summary: str
    class_names: tuple[str, ...]
    loader: Loader
    prepare: Preparer
    provides_hlf: bool
    provides_constituents: bool
    sources: tuple[RemoteFile, ...] = ()
    card: str | None = None


DATASETS: dict[str, DatasetEntry] = {
    entry.name: entry
    for entry in (
        DatasetEntry(
            name="hls4ml",
            summary="hls4ml LHC jets, 150 constituents + 16 HLF, 5 classes (Zenodo 3602260)",
            class_names=HLS4ML_CLASSES,
            loader=load_hls4ml,
            prepare=prepare_hls4ml,
            provides_hlf=True,
            provides_constituents=True,
            sources=tuple(HLS4ML_TARBALLS.values()),
            card="datasets/hls4ml.md",
        ),
        DatasetEntry(
            name="hls4ml_openml",
            summary="hls4ml LHC jets, 16 HLF only, 5 classes (OpenML hls4ml_lhc_jets_hlf)",
            class_names=HLS4ML_CLASSES,
            loader=load_hls4ml_openml,
            prepare=prepare_hls4ml_openml,
            provides_hlf=True,
            provides_constituents=False,
            sources=(OPENML_ARFF,),
            card="datasets/hls4ml_openml.md",
        ),
        DatasetEntry(
            name="top_tagging",
            summary="top quark tagging reference, 200 constituents, top vs QCD (Zenodo 2603256)",
            class_names=TOP_TAGGING_CLASSES,
            loader=load_top_tagging,
            prepare=prepare_top_tagging,
            provides_hlf=False,
            provides_constituents=True,
            sources=tuple(TOP_TAGGING_FILES.values()),
            card="datasets/top_tagging.md",
        ),
        DatasetEntry(
            name="embedded_jets",
            summary="Pythia8 + FastJet jets generated offline in the hls4ml format, 5 classes",
            class_names=HLS4ML_CLASSES,
            loader=load_embedded_jets,
            prepare=prepare_embedded_jets,
            provides_hlf=True,
            provides_constituents=True,
            card="datasets/embedded_jets.md",
        ),
    )
}


def dataset_names() -> tuple[str, ...]:
    """Names accepted as ``dataset.name``."""
    return tuple(DATASETS)


def get_dataset_entry(name: str) -> DatasetEntry:
    """The registry entry of ``name``.

    Raises:
        UnknownDatasetError: ``name`` is not registered; the message lists the valid names.
    """
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownDatasetError(
            f"unknown dataset {name!r}; dataset.name must be one of {', '.join(DATASETS)}"
        ) from None


def prepare_jet_dataset(cfg: DatasetConfig, *, progress: bool = True) -> None:
    """Make the files of the dataset ``cfg.name`` exist locally, without reading the jets.

    Downloads and verifies public files (and extracts the hls4ml tarballs), or runs the embedded
    generator. Call it before timing :func:`load_jet_dataset`: once the files exist, a second
    call (and the preparation inside :func:`load_jet_dataset`) only checks them (file sizes
    against manifests, ``.sha256`` sidecars, each file hashed at most once per process).

    Args:
        cfg: which dataset, where its files live (``data_dir``), whether to download, and the
            generator settings for ``embedded_jets``.
        progress: show progress bars (download, checksum, extraction, generation).

    Raises:
        DataError: any problem with the name, settings or files; the message says what to do.
    """
    entry = get_dataset_entry(str(cfg.name))
    data_dir: Path = check_settings(cfg)
    entry.prepare(cfg, data_dir, progress=progress)


def load_jet_dataset(cfg: DatasetConfig, *, progress: bool = True) -> JetDataset:
    """Load the dataset ``cfg.name`` in the canonical schema, preparing its files first.

    Args:
        cfg: which dataset, where its files live (``data_dir``), whether to download, and the
            split settings (``n_constituents``, ``val_fraction``, ``split_seed``, ``max_jets``).
        progress: show progress bars (download, extraction, reading, generation).

    Returns:
        A :class:`JetDataset` with disjoint train/val/test splits, labels in the dataset's
        canonical class order and the SHA-256 of every file read.

    Raises:
        DataError: any problem with the name, settings or files; the message says what to do.
    """
    entry = get_dataset_entry(str(cfg.name))
    data_dir: Path = check_settings(cfg)
    return entry.loader(cfg, data_dir, progress=progress)
