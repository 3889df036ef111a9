"""The hls4ml LHC jet dataset (and anything written in its format) as a canonical JetDataset.

A dataset folder holds ``train/`` and ``val/`` subfolders of raw hls4ml ``.h5`` files (the
layout of the Zenodo tarballs, see :mod:`cern_ai_bench.data.hls4ml_reader`). Following the usual
convention for this dataset, the files of ``train/`` give the training and validation splits
and the files of ``val/`` give the test split:

- train/val: stratified by class: the jets of each class in ``train/`` are permuted with
  ``numpy.random.default_rng(split_seed)`` and the first ``round(val_fraction * N_class)`` (at
  least one when the class has two or more jets) go to val, the rest to train, so every class
  is in both splits even for small samples;
- test: all jets of ``val/`` in file order (files sorted by name).

``max_jets`` keeps at most that many jets per split: the first ``max_jets`` of the permuted
train and val splits (a uniform random subset), and for test a uniform random subset drawn with
``default_rng([split_seed, 1])``, kept in file order. Only the selected rows are kept in memory,
one file at a time.

:func:`prepare_hls4ml` (download, verify, extract, manifest) is separate from reading, so that a
benchmark can stage the files untimed; :func:`load_hls4ml` calls it first, and it is then a quick
check of file sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.archive import extract_tarball, folder_file_infos
from cern_ai_bench.data.download import ensure_file
from cern_ai_bench.data.errors import FormatError, MissingFileError
from cern_ai_bench.data.hls4ml_reader import Hls4mlFile
from cern_ai_bench.data.schema import HLS4ML_CLASSES, FileInfo, JetArrays, JetDataset
from cern_ai_bench.data.sources import HLS4ML_TARBALLS

#: Subfolder of ``data_dir`` holding the hls4ml tarballs and their extracted ``train/``, ``val/``.
HLS4ML_DIRNAME = "hls4ml"


#: ``file_infos(split_folder, paths)``: provenance of the ``.h5`` files of one split folder.
FileInfoSource = Callable[[Path, list[Path]], tuple[FileInfo, ...]]


def prepare_hls4ml(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> Path:
    """Make the extracted hls4ml folders exist, downloading and extracting when needed.

    Each tarball is fetched with :func:`~cern_ai_bench.data.download.ensure_file` into
    ``data_dir/hls4ml/`` (verified against its checksum) and extracted once into
    ``data_dir/hls4ml/{train,val}/`` with a ``.manifest.json`` of the files' SHA-256 and sizes;
    a folder already there (extracted by hand) is used as is and gets its manifest here, on
    first use. No jet is read. Once the folders and their manifests exist, this only compares
    file sizes with the manifests (no download, no hashing).

    Returns:
        ``data_dir/hls4ml``, holding ``train/`` and ``val/``.

    Raises:
        MissingFileError: a tarball is missing and ``cfg.download`` is false.
        DataError: a download, checksum, extraction or manifest problem.
    """
    root = data_dir / HLS4ML_DIRNAME
    for split, entry in HLS4ML_TARBALLS.items():
        folder = root / split
        if not folder.is_dir():
            try:
                tarball = ensure_file(entry, root, allow_download=cfg.download, progress=progress)
            except MissingFileError as error:
                raise type(error)(
                    f"{error}\n(or extract it yourself so that its .h5 files lie in {folder}/)",
                    path=error.path,
                    urls=error.urls,
                ) from None
            extract_tarball(tarball, folder, member_root=split, progress=progress)
        _archive_file_infos(folder, _h5_files(folder))
    return root


def load_hls4ml(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> JetDataset:
    """Load the hls4ml 150-constituent dataset, preparing it first (see :func:`prepare_hls4ml`)."""
    root = prepare_hls4ml(cfg, data_dir, progress=progress)
    return read_hls4ml_folder(
        root, cfg, name="hls4ml", progress=progress, file_infos=_archive_file_infos
    )


def read_hls4ml_folder(
    folder: Path,
    cfg: DatasetConfig,
    *,
    name: str,
    progress: bool,
    file_infos: FileInfoSource,
) -> JetDataset:
    """Read ``folder/train/*.h5`` and ``folder/val/*.h5`` into a canonical :class:`JetDataset`.

    Args:
        folder: holds ``train/`` and ``val/`` subfolders of raw hls4ml ``.h5`` files.
        cfg: ``n_constituents``, ``val_fraction``, ``split_seed`` and ``max_jets`` are used.
        name: the dataset name recorded in the result.
        progress: show a tqdm bar over files.
        file_infos: gives the SHA-256 and size of the files of one split folder, from a
            manifest (extracted archives, generated samples), so no file is hashed on every
            load; called before any jet is read, so a changed folder fails early.

    Returns:
        Splits with labels in :data:`HLS4ML_CLASSES` order, 16 HLF and
        ``(N, n_constituents, 4)`` constituents; ``files`` lists every ``.h5`` file read.
    """
    train_files = _h5_files(folder / "train")
    test_files = _h5_files(folder / "val")
    files = file_infos(folder / "train", train_files) + file_infos(folder / "val", test_files)
    n_constituents = int(cfg.n_constituents)
    rng = np.random.default_rng(int(cfg.split_seed))

    pool_labels = [_file_labels(path, n_constituents) for path in train_files]
    train_counts = np.array([len(labels) for labels in pool_labels], dtype=np.int64)
    val_rows, train_rows = stratified_split(
        np.concatenate(pool_labels), float(cfg.val_fraction), rng
    )
    if len(val_rows) == 0 or len(train_rows) == 0:
        raise FormatError(
            f"{folder / 'train'}: {int(train_counts.sum())} jets cannot be split with "
            f"val_fraction={cfg.val_fraction} into non-empty train and val splits"
        )
    test_counts = _jet_counts(test_files, n_constituents)
    n_test = int(sum(test_counts))
    test_rows = np.arange(n_test)
    if cfg.max_jets is not None:
        max_jets = int(cfg.max_jets)
        val_rows, train_rows = val_rows[:max_jets], train_rows[:max_jets]
        if n_test > max_jets:
            test_rows = np.sort(
                np.random.default_rng([int(cfg.split_seed), 1]).choice(
                    n_test, max_jets, replace=False
                )
            )

    wanted = np.union1d(train_rows, val_rows)
    pool = _read_rows(train_files, train_counts, wanted, n_constituents, progress=progress)
    train = _take(pool, np.searchsorted(wanted, train_rows))
    val = _take(pool, np.searchsorted(wanted, val_rows))
    del pool
    test = _read_rows(test_files, test_counts, test_rows, n_constituents, progress=progress)
    return JetDataset(
        name=name,
        class_names=HLS4ML_CLASSES,
        train=train,
        val=val,
        test=test,
        files=files,
    )


def _archive_file_infos(folder: Path, paths: list[Path]) -> tuple[FileInfo, ...]:
    """Provenance from the folder's ``.manifest.json`` (written on first use if missing)."""
    return folder_file_infos(folder, paths, write_manifest=True)


def _h5_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise MissingFileError(
            f"{folder} is missing: expected a folder of raw hls4ml .h5 files there",
            path=folder,
        )
    files = sorted(path for path in folder.rglob("*.h5") if path.is_file())
    if not files:
        raise FormatError(f"{folder}: no .h5 files found (expected raw hls4ml jet files)")
    return files


def stratified_split(
    labels: np.ndarray, val_fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Row indices ``(val, train)``, each class split by ``val_fraction``, both shuffled.

    A class with at least two jets puts at least one in each split.
    """
    val, train = [], []
    for label in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == label))
        n_val = round(val_fraction * len(rows))
        if len(rows) >= 2:
            n_val = min(max(n_val, 1), len(rows) - 1)
        val.append(rows[:n_val])
        train.append(rows[n_val:])
    return rng.permutation(np.concatenate(val)), rng.permutation(np.concatenate(train))


def _file_labels(path: Path, n_constituents: int) -> np.ndarray:
    with Hls4mlFile(path, n_constituents) as handle:
        return handle.labels()


def _jet_counts(files: list[Path], n_constituents: int) -> np.ndarray:
    counts = []
    for path in files:
        with Hls4mlFile(path, n_constituents) as handle:
            counts.append(handle.n_jets)
    return np.array(counts, dtype=np.int64)


def _read_rows(
    files: list[Path], counts: np.ndarray, rows: np.ndarray, n_constituents: int, *, progress: bool
) -> JetArrays:
    """Jets at global ``rows`` (sorted, unique) of the concatenated ``files``, in that order."""
    offsets = np.concatenate([[0], np.cumsum(counts)])
    labels, hlf, constituents = [], [], []
    for index, path in enumerate(
        tqdm(files, desc=f"read {files[0].parent.name}", unit="file", disable=not progress)
    ):
        lo, hi = np.searchsorted(rows, offsets[index : index + 2])
        if lo == hi:
            continue
        local = rows[lo:hi] - offsets[index]
        with Hls4mlFile(path, n_constituents) as handle:
            part = handle.read(None if len(local) == handle.n_jets else local)
        labels.append(part[0])
        hlf.append(part[1])
        constituents.append(part[2])
    if not labels:
        raise FormatError(f"{files[0].parent}: no jets selected")
    return JetArrays(
        labels=np.concatenate(labels),
        constituents=np.concatenate(constituents),
        hlf=np.concatenate(hlf),
    )


def _take(arrays: JetArrays, index: np.ndarray) -> JetArrays:
    return JetArrays(
        labels=arrays.labels[index],
        constituents=None if arrays.constituents is None else arrays.constituents[index],
        hlf=None if arrays.hlf is None else arrays.hlf[index],
    )
