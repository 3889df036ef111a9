"""Write an assembled embedded jet sample: hls4ml files of both splits, manifest, atomic rename.

:func:`publish_sample` writes the jets collected by :mod:`cern_ai_bench.generate.jets` as files
in the hls4ml raw HDF5 format (:mod:`cern_ai_bench.generate.hls4ml_writer`): each class split
80/20 (``train_fraction``), the classes shuffled together with a seeded generator, at most
``jets_per_file`` jets per file, then ``manifest.json``, written last. Everything is written into
a temporary folder that is renamed into place at the end, so an interrupted write never leaves a
folder that reads as complete (:func:`is_complete`).
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cern_ai_bench import __version__
from cern_ai_bench.data.files import atomic_write_text, sha256_of
from cern_ai_bench.data.schema import HLS4ML_CLASSES
from cern_ai_bench.generate.hls4ml_writer import hls4ml_file_name, jets_table, write_hls4ml_file

MANIFEST = "manifest.json"
SPLITS = ("train", "val")


@dataclasses.dataclass
class JetSample:
    """Every jet of a sample in plan order (the jets of each class contiguous).

    Attributes:
        features: ``(N, 53)`` float32 jet features.
        constituents: ``(N, P, 16)`` float32 constituent rows.
        labels: ``(N,)`` class indices (``HLS4ML_CLASSES`` order).
        statistics: bookkeeping for the manifest (per-class counts, timings).
    """

    features: np.ndarray
    constituents: np.ndarray
    labels: np.ndarray
    statistics: dict[str, Any]


def is_complete(folder: Path, parameters: dict[str, Any]) -> bool:
    """True when ``folder`` holds a finished sample of exactly these parameters.

    Checks the manifest and that every listed file exists with its recorded size (hashes are
    recorded for audits but not re-computed here, which would read the whole sample).
    """
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if manifest["parameters"] != parameters or not manifest["files"]:
            return False
        return all(
            (folder / entry["path"]).stat().st_size == entry["size_bytes"]
            for entry in manifest["files"]
        )
    except (OSError, ValueError, KeyError, TypeError):  # missing, unreadable or malformed
        return False


def publish_sample(sample: JetSample, final: Path, work: Path, parameters: dict[str, Any]) -> None:
    """Write the sample into a temporary folder inside ``work``, then rename it to ``final``.

    Nothing is written when ``final`` already holds a complete sample (a concurrent run of the
    same parameters finished first); an incomplete ``final`` left by an older run is replaced.
    """
    if is_complete(final, parameters):  # a concurrent run finished first: keep its files
        return
    work.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="output.", dir=work))
    try:
        _write_sample(tmp, sample, parameters)
        if final.exists():
            if is_complete(final, parameters):  # a concurrent run finished first
                return
            shutil.rmtree(final)  # an incomplete leftover
        try:
            tmp.replace(final)
        except OSError:
            if not is_complete(final, parameters):  # not a concurrent run that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _write_sample(folder: Path, sample: JetSample, parameters: dict[str, Any]) -> None:
    """Write the split files, then the manifest (last: its presence marks ``folder`` complete)."""
    files = _write_splits(folder, sample.features, sample.constituents, sample.labels, parameters)
    manifest = {
        "parameters": parameters,
        "files": files,
        "versions": {
            "cern_ai_bench": __version__,
            **{name: importlib.metadata.version(name) for name in ("pythia8mc", "fastjet")},
        },
        "statistics": sample.statistics,
    }
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def _write_splits(
    folder: Path,
    features: np.ndarray,
    constituents: np.ndarray,
    labels: np.ndarray,
    parameters: dict[str, Any],
) -> list[dict[str, Any]]:
    """Split each class (80/20), shuffle the classes together, write files of the splits.

    Args:
        features: ``(N, 53)`` jet features, jets of each class contiguous.
        constituents: ``(N, P, 16)`` constituent rows.
        labels: ``(N,)`` class indices.

    Returns:
        One manifest entry per file (path relative to ``folder``, jets, SHA-256, size).
    """
    in_train = np.zeros(len(labels), dtype=bool)
    for label_index in range(len(HLS4ML_CLASSES)):
        rows = np.flatnonzero(labels == label_index)
        in_train[rows[: round(parameters["train_fraction"] * len(rows))]] = True
    files = []
    for split_index, (split, mask) in enumerate(zip(SPLITS, (in_train, ~in_train), strict=True)):
        rng = np.random.default_rng([parameters["seed"], split_index])
        order = rng.permutation(np.flatnonzero(mask))
        (folder / split).mkdir()
        for start in range(0, len(order), parameters["jets_per_file"]):
            rows = order[start : start + parameters["jets_per_file"]]
            name = hls4ml_file_name(
                parameters["seed"], parameters["n_constituents"], start, start + len(rows)
            )
            path = folder / split / name
            table = jets_table(features[rows], labels[rows])
            write_hls4ml_file(path, table, constituents[rows])
            files.append(
                {
                    "path": f"{split}/{name}",
                    "n_jets": len(rows),
                    "sha256": sha256_of(path),
                    "size_bytes": path.stat().st_size,
                }
            )
    return files
