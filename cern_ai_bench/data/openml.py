"""The OpenML copy of the hls4ml jets (``hls4ml_lhc_jets_hlf``): 16 features, no constituents.

The table has 830,000 rows of the 16 high-level features (named as
:data:`~cern_ai_bench.data.schema.HLF_NAMES`, without the ``j_`` prefix) and a nominal target
``class`` with values ``g, q, t, w, z``. Encoding that target with scikit-learn's
``LabelEncoder``, as the hls4ml tutorial does, gives the alphabetical order g, q, t, w, z, which
is NOT the canonical order; here the letters are mapped to :data:`HLS4ML_CLASSES`
(g, q, W, Z, t): ``t`` -> 4, ``w`` -> 2, ``z`` -> 3.

The file is the ARFF that OpenML serves (its URL and MD5 come from the data description, see
:mod:`cern_ai_bench.data.sources`). Splits follow the hls4ml tutorial
(``fastmachinelearning/hls4ml-tutorial``, part 1): ``train_test_split(test_size=0.2,
random_state=42)`` over the rows in file order, unstratified, gives the test split (166,000
jets, exactly the tutorial's); the validation split is then carved from the rest with
``train_test_split(test_size=val_fraction, random_state=split_seed, stratify=labels)``, so every
class has its share of val, as in the hls4ml loader's stratified split. ``max_jets`` keeps the
first ``max_jets`` jets of each (already shuffled) split.

:func:`prepare_hls4ml_openml` (download and verify) is separate from reading, so that a benchmark
can stage the file untimed; :func:`load_hls4ml_openml` calls it first.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.arff import read_arff
from cern_ai_bench.data.download import ensure_file
from cern_ai_bench.data.errors import DatasetConfigError, FormatError
from cern_ai_bench.data.integrity import file_info_cached
from cern_ai_bench.data.schema import HLF_NAMES, HLS4ML_CLASSES, JetArrays, JetDataset
from cern_ai_bench.data.sources import OPENML_ARFF
from cern_ai_bench.data.validation import check_finite

#: Subfolder of ``data_dir`` holding the ARFF file.
OPENML_DIRNAME = "hls4ml_openml"
#: Name of the target column.
TARGET = "class"
#: OpenML class letter -> canonical index in HLS4ML_CLASSES (g, q, W, Z, t).
CLASS_TO_CANONICAL: dict[str, int] = {
    name.lower(): index for index, name in enumerate(HLS4ML_CLASSES)
}
#: The tutorial's test split, fixed whatever ``split_seed`` is, so results compare to it.
TEST_SIZE = 0.2
TEST_RANDOM_STATE = 42


def prepare_hls4ml_openml(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> Path:
    """Make the verified ARFF exist at ``data_dir/hls4ml_openml/hls4ml_lhc_jets_hlf.arff``.

    Downloads it (via OpenML's data description) when missing and allowed; a file already there
    is checked against its ``.sha256`` sidecar (hashed at most once per process). Reads no jets.

    Returns:
        The ARFF file.
    """
    return ensure_file(
        OPENML_ARFF, data_dir / OPENML_DIRNAME, allow_download=cfg.download, progress=progress
    )


def load_hls4ml_openml(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> JetDataset:
    """Load the OpenML table, preparing it first (see :func:`prepare_hls4ml_openml`).

    Returns:
        Splits with ``hlf`` ``(N, 16)`` float32 and canonical labels; ``constituents`` None.

    Raises:
        DatasetConfigError: ``val_fraction`` leaves too few jets for a stratified val split.
    """
    path = prepare_hls4ml_openml(cfg, data_dir, progress=progress)
    frame, _ = read_arff(path)
    hlf, labels = table_to_arrays(frame, path)
    try:
        train_rows, val_rows, test_rows = openml_split(
            labels, float(cfg.val_fraction), int(cfg.split_seed)
        )
    except ValueError as error:  # scikit-learn: a class too small to stratify
        raise DatasetConfigError(
            f"dataset.val_fraction={cfg.val_fraction}: cannot carve a stratified validation "
            f"split from the training rows of {path} ({error})"
        ) from None
    splits = []
    for rows in (train_rows, val_rows, test_rows):
        if cfg.max_jets is not None:
            rows = rows[: int(cfg.max_jets)]
        splits.append(JetArrays(labels=labels[rows], hlf=hlf[rows]))
    return JetDataset(
        name="hls4ml_openml",
        class_names=HLS4ML_CLASSES,
        train=splits[0],
        val=splits[1],
        test=splits[2],
        files=(file_info_cached(path),),
    )


def table_to_arrays(frame: pd.DataFrame, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The 16 features and canonical labels of the OpenML table.

    Returns:
        ``hlf`` ``(N, 16)`` float32 in HLF_NAMES order, ``labels`` ``(N,)`` int64.

    Raises:
        FormatError: a missing column or an unknown class letter.
        NonFiniteError: NaN/inf (or ``?``) in a feature.
    """
    missing = [name for name in (*HLF_NAMES, TARGET) if name not in frame.columns]
    if missing:
        raise FormatError(
            f"{path}: missing column(s) {missing}; expected the 16 features {list(HLF_NAMES)} "
            f"and the target {TARGET!r}, found {list(frame.columns)}"
        )
    hlf = frame[list(HLF_NAMES)].to_numpy(dtype=np.float64)
    check_finite(hlf, path=path, key="@data", columns=HLF_NAMES)
    letters = frame[TARGET].str.lower()
    codes = letters.map(CLASS_TO_CANONICAL)
    if codes.isna().any():
        row = int(np.argmax(codes.isna().to_numpy()))
        raise FormatError(
            f"{path}: data row {row}: {TARGET}={frame[TARGET].iloc[row]!r} is not one of "
            f"{sorted(CLASS_TO_CANONICAL)}"
        )
    return hlf.astype(np.float32), codes.to_numpy(dtype=np.int64)


def openml_split(
    labels: np.ndarray, val_fraction: float, split_seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row indices of train, val and test.

    Test is the tutorial's unstratified 20 % (``random_state=42``, whatever ``split_seed``);
    val is ``val_fraction`` of the rest, stratified by ``labels``.

    Args:
        labels: ``(N,)`` class of every row, in file order.
        val_fraction: share of the non-test rows that go to val.
        split_seed: ``random_state`` of the val split.

    Raises:
        ValueError: (scikit-learn) a class has fewer than two non-test rows, or val would get
            fewer rows than there are classes.
    """
    rows = np.arange(len(labels))
    train_full, test = train_test_split(rows, test_size=TEST_SIZE, random_state=TEST_RANDOM_STATE)
    train, val = train_test_split(
        train_full,
        test_size=val_fraction,
        random_state=split_seed,
        stratify=labels[train_full],
    )
    return np.asarray(train), np.asarray(val), np.asarray(test)
