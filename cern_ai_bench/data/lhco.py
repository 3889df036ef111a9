"""The public LHC Olympics 2020 R&D files: download, verify, check, and their dijet features.

Kasieczka, Nachman, Shih et al., Rep. Prog. Phys. 84 (2021) 124201, arXiv:2101.08320; Zenodo
record 4536377 (card ``datasets/lhco_rnd.md``). Two routes to the same per-event features
(:class:`~cern_ai_bench.data.lhco_features.DijetFeatures`, the 14 jet columns of the published
features file, plus labels):

- ``source="features_file"`` (default): the organisers' ``events_anomalydetection_v2.features.h5``
  (74 MB), read in seconds;
- ``source="raw"``: the raw particles of ``events_anomalydetection.h5`` (or ``raw_file=``
  :data:`~cern_ai_bench.data.sources.LHCO_RND_RAW_V2`), clustered here with FastJet chunk by
  chunk (:func:`~cern_ai_bench.data.lhco_features.lhco_feature_table`, about 30 min for the 1.1 M
  events on one core). The full result is cached next to the raw file as
  ``<raw stem>.dijet_features_v1_<sha256[:12]>.h5`` in the features-file layout, so it is
  computed once per raw file; capped reads (``max_events``) are not cached.

Files live in ``<data_dir>/lhco_rnd/``; :func:`prepare_lhco_rnd` downloads and verifies them
(or says exactly where to put them) and checks their layout without reading events.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.download import ensure_file
from cern_ai_bench.data.integrity import file_info_cached
from cern_ai_bench.data.lhco_features import DijetFeatures, lhco_feature_table
from cern_ai_bench.data.lhco_features_file import read_lhco_features_file, write_lhco_features_file
from cern_ai_bench.data.lhco_io import DEFAULT_CHUNK_EVENTS, count_lhco_events
from cern_ai_bench.data.schema import FileInfo
from cern_ai_bench.data.sources import LHCO_RND_FEATURES, LHCO_RND_FILES, LHCO_RND_RAW

__all__ = [
    "LHCO_RND_FOLDER",
    "LhcoRndFeatures",
    "load_lhco_rnd_features",
    "prepare_lhco_rnd",
]

#: Subfolder of ``data_dir`` holding the R&D files.
LHCO_RND_FOLDER = "lhco_rnd"
#: Version of the raw -> features computation in the cache name; bump when the jet or
#: N-subjettiness settings of :mod:`cern_ai_bench.data.lhco_features` change.
FEATURES_CACHE_VERSION = "v1"

FeatureSource = Literal["features_file", "raw"]


@dataclass(frozen=True)
class LhcoRndFeatures:
    """Dijet features of R&D events, file order.

    Attributes:
        features: the two leading jets per event (14 columns, GeV).
        labels: ``(N,)`` int8, 1 = signal.
        files: provenance of the file(s) read, for the result record.
    """

    features: DijetFeatures
    labels: np.ndarray
    files: tuple[FileInfo, ...]


def prepare_lhco_rnd(
    cfg: DatasetConfig,
    data_dir: Path,
    *,
    progress: bool,
    source: FeatureSource = "features_file",
    raw_file: str = LHCO_RND_RAW,
) -> Path:
    """Make the verified file of ``source`` exist in ``data_dir/lhco_rnd/``; read no event.

    Missing files are downloaded when ``cfg.download`` allows (else
    :class:`~cern_ai_bench.data.errors.MissingFileError` names the file, its URL and the exact
    path to put it at); files already there are checked against their ``.sha256`` sidecars,
    then their layout is checked (raw: key, 2101 columns; features: the 15 columns).

    Args:
        cfg: ``download`` is used.
        data_dir: the data cache.
        progress: show download and checksum bars.
        source: ``"features_file"`` or ``"raw"``.
        raw_file: which raw file (:data:`~cern_ai_bench.data.sources.LHCO_RND_FILES` key).

    Returns:
        Path of the verified file.

    Raises:
        ValueError: unknown ``source`` or ``raw_file``.
        DataError: missing, failed download, checksum mismatch, unreadable or wrong layout.
    """
    name = _file_name(source, raw_file)
    path = ensure_file(
        LHCO_RND_FILES[name],
        Path(data_dir) / LHCO_RND_FOLDER,
        allow_download=cfg.download,
        progress=progress,
    )
    if source == "raw":
        count_lhco_events(path)
    else:
        read_lhco_features_file(path, max_events=1)
    return path


def load_lhco_rnd_features(
    cfg: DatasetConfig,
    data_dir: Path,
    *,
    progress: bool,
    source: FeatureSource = "features_file",
    raw_file: str = LHCO_RND_RAW,
    max_events: int | None = None,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
) -> LhcoRndFeatures:
    """Dijet features and labels of the R&D events (see the module doc for the two sources).

    Args:
        cfg: ``download`` is used.
        data_dir: the data cache.
        progress: show progress bars.
        source: ``"features_file"`` (published features) or ``"raw"`` (cluster the particles).
        raw_file: which raw file, for ``source="raw"``.
        max_events: only the first events (None = all).
        chunk_events: events clustered at once, for ``source="raw"``.

    Raises:
        As :func:`prepare_lhco_rnd` and the readers.
    """
    path = prepare_lhco_rnd(cfg, data_dir, progress=progress, source=source, raw_file=raw_file)
    info = file_info_cached(path)
    if source == "features_file":
        features, labels = read_lhco_features_file(path, max_events=max_events)
        return LhcoRndFeatures(features, labels, (info,))
    if max_events is not None:
        features, labels = lhco_feature_table(
            path, chunk_events=chunk_events, max_events=max_events, progress=progress
        )
        return LhcoRndFeatures(features, labels, (info,))
    cache = path.with_name(
        f"{path.stem}.dijet_features_{FEATURES_CACHE_VERSION}_{info.sha256[:12]}.h5"
    )
    if not cache.is_file():
        features, labels = lhco_feature_table(path, chunk_events=chunk_events, progress=progress)
        write_lhco_features_file(cache, features, labels)
    features, labels = read_lhco_features_file(cache)
    return LhcoRndFeatures(features, labels, (info,))


def _file_name(source: str, raw_file: str) -> str:
    if source not in ("features_file", "raw"):
        raise ValueError(f"source must be 'features_file' or 'raw', got {source!r}")
    if source == "features_file":
        return LHCO_RND_FEATURES
    if raw_file not in LHCO_RND_FILES or raw_file == LHCO_RND_FEATURES:
        raw_names = sorted(set(LHCO_RND_FILES) - {LHCO_RND_FEATURES})
        raise ValueError(f"raw_file must be one of {raw_names}, got {raw_file!r}")
    return raw_file
