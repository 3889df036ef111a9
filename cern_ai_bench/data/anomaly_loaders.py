"""Loaders of the anomaly-detection datasets into the canonical schemas (task=anomaly).

Each ``prepare_*`` makes the files exist locally (generate, or download and verify) without
reading events; each ``load_*`` prepares first and returns an
:class:`~cern_ai_bench.data.anomaly_schema.L1AnomalyDataset` or
:class:`~cern_ai_bench.data.anomaly_schema.DijetAnomalyDataset`.

Splits of the L1 datasets (background only; signals are test-only):

- ``embedded_l1``: train and val from ``background_for_training.h5``, test =
  ``background_for_testing.h5``, an independent sample;
- ``adc2021``: the public release has one background file, so ``round(test_fraction * N)`` of
  its events are held out as test (the example code holds out 20 %,
  ``mpp-hep/ADC2021-examplecode``, ``create_datasets.py``), the rest gives train and val.

Rows are assigned with ``numpy.random.default_rng(split_seed)`` permutations (test first, then
``round(val_fraction * N_rest)`` to val), so every run with the same ``split_seed`` sees the same
split; each split is kept in file order. ``max_events`` caps the events read from each file
(its first events).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.adc2021 import SIGNAL_SAMPLES, prepare_adc2021
from cern_ai_bench.data.adc2021_io import read_adc2021
from cern_ai_bench.data.anomaly_schema import DijetAnomalyDataset, L1AnomalyDataset
from cern_ai_bench.data.embedded_l1 import embedded_l1_file_infos, prepare_embedded_l1
from cern_ai_bench.data.errors import FormatError
from cern_ai_bench.data.integrity import file_info_cached
from cern_ai_bench.data.lhco import load_lhco_rnd_features, prepare_lhco_rnd
from cern_ai_bench.data.lhco_features import derived_features

__all__ = [
    "dijet_dataset",
    "load_adc2021_anomaly",
    "load_embedded_l1",
    "load_embedded_lhco_anomaly",
    "load_lhco_rnd_anomaly",
    "prepare_adc2021_anomaly",
    "prepare_embedded_lhco_anomaly",
    "prepare_lhco_rnd_anomaly",
    "split_rows",
]

log = logging.getLogger(__name__)

#: The ADC2021 samples the anomaly task reads: the background and the four signals.
ADC2021_TASK_SAMPLES: tuple[str, ...] = ("background", *SIGNAL_SAMPLES)


def _max_events(cfg: DatasetConfig) -> int | None:
    return None if cfg.max_events is None else int(cfg.max_events)


def split_rows(n: int, fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(held_out, rest)``: sorted row indices, ``round(fraction * n)`` held out (>= 1 each).

    Raises:
        FormatError: fewer than 2 rows.
    """
    if n < 2:
        raise FormatError(f"{n} event(s) cannot be split into two non-empty parts")
    order = rng.permutation(n)
    n_out = min(max(round(fraction * n), 1), n - 1)
    return np.sort(order[:n_out]), np.sort(order[n_out:])


def _train_val(name: str, events: np.ndarray, cfg: DatasetConfig, rng: np.random.Generator):
    try:
        val_rows, train_rows = split_rows(len(events), float(cfg.val_fraction), rng)
    except FormatError as error:
        raise FormatError(f"{name} background training events: {error}") from None
    return events[train_rows], events[val_rows]


def load_embedded_l1(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> L1AnomalyDataset:
    """Generate (once) and load the embedded L1 sample (``datasets/embedded_l1.md``).

    Args:
        cfg: the generator settings (``n_background_train``, ``n_background_test``,
            ``n_signal_events``, ``generator_seed``, ``workers``) and the split settings
            (``val_fraction``, ``split_seed``, ``max_events``).
        data_dir: the data cache.
        progress: show the generator's and the reader's progress bars.
    """
    paths = prepare_embedded_l1(cfg, data_dir, progress=progress)
    infos = embedded_l1_file_infos(paths)
    limit = _max_events(cfg)

    def read(role: str) -> np.ndarray:
        return read_adc2021(paths[role], max_events=limit, progress=progress)

    rng = np.random.default_rng(int(cfg.split_seed))
    train, val = _train_val("embedded_l1", read("background_train"), cfg, rng)
    return L1AnomalyDataset(
        name="embedded_l1",
        train=train,
        val=val,
        test=read("background_test"),
        signals={signal: read(signal) for signal in SIGNAL_SAMPLES},
        files=tuple(infos.values()),
    )


def prepare_adc2021_anomaly(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> None:
    """Download (or find) and verify the ADC2021 background and the four signal files."""
    prepare_adc2021(ADC2021_TASK_SAMPLES, cfg, data_dir, progress=progress)


def load_adc2021_anomaly(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> L1AnomalyDataset:
    """Load the public ADC2021 files (either published name generation; ``datasets/adc2021.md``).

    The background file gives test (``test_fraction``), val and train; see the module doc.
    Memory: the background events read (``max_events`` caps them; all 4M take 1.2 GB as
    float32) plus the splits' copies.
    """
    files = prepare_adc2021(ADC2021_TASK_SAMPLES, cfg, data_dir, progress=progress)
    limit = _max_events(cfg)
    background = read_adc2021(files["background"].path, max_events=limit, progress=progress)
    rng = np.random.default_rng(int(cfg.split_seed))
    try:
        test_rows, rest_rows = split_rows(len(background), float(cfg.test_fraction), rng)
    except FormatError as error:
        raise FormatError(f"{files['background'].path}: {error}") from None
    test = background[test_rows]
    train, val = _train_val("adc2021", background[rest_rows], cfg, rng)
    del background
    signals = {
        signal: read_adc2021(files[signal].path, max_events=limit, progress=progress)
        for signal in SIGNAL_SAMPLES
    }
    return L1AnomalyDataset(
        name="adc2021",
        train=train,
        val=val,
        test=test,
        signals=signals,
        files=tuple(file_info_cached(f.path) for f in files.values()),
    )


def dijet_dataset(name: str, derived: np.ndarray, labels: np.ndarray, files) -> DijetAnomalyDataset:
    """The canonical dijet dataset of ``(N, 5)`` derived features, dropping events without two
    jets (their features are NaN; counted in the log)."""
    valid = np.isfinite(derived).all(axis=1)
    if not valid.all():
        log.info("%s: %d of %d events without two jets dropped", name, (~valid).sum(), len(valid))
    return DijetAnomalyDataset(
        name=name,
        features=derived[valid].astype(np.float32),
        labels=np.asarray(labels)[valid].astype(np.int8),
        files=tuple(files),
    )


#: Version of the features cached next to generated LHCO-format files; bump when the jet or
#: N-subjettiness settings of :mod:`cern_ai_bench.data.lhco_features` change.
EMBEDDED_FEATURES_VERSION = "v1"


def _generated_lhco_files(prepared: object) -> list[Path]:
    """The LHCO-format files a generator's ``prepare`` returned (a path, a sequence or a dict)."""
    if isinstance(prepared, (str, Path)):
        return [Path(prepared)]
    if isinstance(prepared, dict):
        return [Path(p) for p in prepared.values()]
    return [Path(p) for p in prepared]  # type: ignore[attr-defined]


def prepare_embedded_lhco_anomaly(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> None:
    """Generate (once) the embedded LHCO-format sample (:mod:`cern_ai_bench.data.embedded_lhco`)."""
    from cern_ai_bench.data.embedded_lhco import prepare_embedded_lhco

    prepare_embedded_lhco(cfg, data_dir, progress=progress)


def load_embedded_lhco_anomaly(
    cfg: DatasetConfig, data_dir: Path, *, progress: bool
) -> DijetAnomalyDataset:
    """Dijet features of the embedded LHCO-format sample, clustered with FastJet once per file.

    Each generated file is read in chunks (:func:`~cern_ai_bench.data.lhco_features.
    lhco_feature_table`, the same code as the public raw file) and its features are cached
    beside it as ``<stem>.dijet_features_<version>.h5`` in the published features-file layout.
    """
    from cern_ai_bench.data.embedded_lhco import prepare_embedded_lhco
    from cern_ai_bench.data.lhco_features import lhco_feature_table
    from cern_ai_bench.data.lhco_features_file import (
        read_lhco_features_file,
        write_lhco_features_file,
    )

    paths = _generated_lhco_files(prepare_embedded_lhco(cfg, data_dir, progress=progress))
    tables, labels, infos = [], [], []
    for path in paths:
        cache = path.with_name(f"{path.stem}.dijet_features_{EMBEDDED_FEATURES_VERSION}.h5")
        if not cache.is_file():
            features, truth = lhco_feature_table(path, progress=progress)
            write_lhco_features_file(cache, features, truth)
        features, truth = read_lhco_features_file(cache, max_events=_max_events(cfg))
        tables.append(derived_features(features))
        labels.append(truth)
        infos.append(file_info_cached(path))
    return dijet_dataset(
        "embedded_lhco", np.concatenate(tables), np.concatenate(labels), tuple(infos)
    )


def _lhco_source(cfg: DatasetConfig) -> str:
    return "raw" if str(cfg.feature_source) == "raw" else "features_file"


def prepare_lhco_rnd_anomaly(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> None:
    """Download (or find) and verify the LHC Olympics R&D file ``dataset.feature_source`` uses."""
    prepare_lhco_rnd(cfg, data_dir, progress=progress, source=_lhco_source(cfg))


def load_lhco_rnd_anomaly(
    cfg: DatasetConfig, data_dir: Path, *, progress: bool
) -> DijetAnomalyDataset:
    """Dijet features of the LHC Olympics 2020 R&D events (``datasets/lhco_rnd.md``).

    ``dataset.feature_source``: ``features_file`` (the organisers' features, seconds) or
    ``raw`` (FastJet on the raw particles, ~30 min for the 1.1 M events, cached).
    """
    loaded = load_lhco_rnd_features(
        cfg, data_dir, progress=progress, source=_lhco_source(cfg), max_events=_max_events(cfg)
    )
    return dijet_dataset("lhco_rnd", derived_features(loaded.features), loaded.labels, loaded.files)
