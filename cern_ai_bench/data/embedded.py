"""The embedded jet dataset: generated offline in the hls4ml file format, read like hls4ml.

The generator (:func:`cern_ai_bench.generate.jets.ensure_embedded_jets`) writes, once per
parameter set, a folder with ``train/`` and ``val/`` subfolders of hls4ml-format ``.h5`` files
(80 % / 20 % of ``jets_per_class`` per class) and a ``manifest.json`` listing every file with
its SHA-256 and size, and returns the folder. :func:`prepare_embedded_jets` only runs the
generator (a quick check of the manifest once the sample exists); :func:`read_embedded_folder`
reads the folder with :func:`~cern_ai_bench.data.hls4ml.read_hls4ml_folder`, so the embedded
data exercises the same loader as the public files. The files' provenance comes from the
generator's manifest (each file's size is checked against it, as for extracted archives), so a
load never re-hashes the sample (about 1 GB for 100k jets).
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.errors import CorruptFileError
from cern_ai_bench.data.generator_call import run_generator
from cern_ai_bench.data.hls4ml import read_hls4ml_folder
from cern_ai_bench.data.schema import FileInfo, JetDataset
from cern_ai_bench.generate.jets_output import MANIFEST as GENERATOR_MANIFEST

#: Constituents per jet the generator is asked for (the 150p hls4ml format), unless the config
#: asks for more; one generated sample then serves every ``n_constituents`` up to it.
GENERATED_CONSTITUENTS = 150
#: Generator parameter -> the ``dataset.*`` key that sets it (for error messages).
CONFIG_KEYS: dict[str, str] = {
    "jets_per_class": "dataset.jets_per_class",
    "seed": "dataset.generator_seed",
    "n_constituents": "dataset.n_constituents",
    "workers": "dataset.workers",
}


def prepare_embedded_jets(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> Path:
    """Generate the embedded sample unless it is cached; read no jets.

    Args:
        cfg: ``jets_per_class``, ``generator_seed``, ``workers`` and ``n_constituents`` drive
            the generator.
        data_dir: the data cache folder (the generator picks its subfolder).
        progress: show the generator's progress bar.

    Returns:
        The sample folder (``train/``, ``val/``, ``manifest.json``).

    Raises:
        DatasetConfigError: a generator parameter is invalid; the message names its
            ``dataset.*`` key (e.g. ``dataset.jets_per_class must be >= 5, got 3``).
        DataError: the generator cannot be imported.
    """
    folder = run_generator(
        "cern_ai_bench.generate.jets:ensure_embedded_jets",
        what="embedded jet generator",
        remedy="install the package with its generator dependencies (pythia8mc, fastjet) or "
        "choose a public dataset",
        config_keys=CONFIG_KEYS,
        data_dir=data_dir,
        jets_per_class=int(cfg.jets_per_class),
        seed=int(cfg.generator_seed),
        n_constituents=max(GENERATED_CONSTITUENTS, int(cfg.n_constituents)),
        workers=int(cfg.workers),
        progress=progress,
    )
    return Path(folder)


def load_embedded_jets(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> JetDataset:
    """Generate (once, see :func:`prepare_embedded_jets`) and load the embedded jets.

    Args:
        cfg: the generator settings, and the split settings applied as for hls4ml.
        data_dir: the data cache folder.
        progress: show the generator's and the reader's progress bars.
    """
    folder = prepare_embedded_jets(cfg, data_dir, progress=progress)
    return read_embedded_folder(folder, cfg, progress=progress)


def read_embedded_folder(
    folder: Path, cfg: DatasetConfig, *, progress: bool, name: str = "embedded_jets"
) -> JetDataset:
    """Read a generated sample folder, with the files' SHA-256 from its manifest.

    Args:
        folder: a complete sample (``train/``, ``val/``, ``manifest.json``).
        cfg: the split settings (``n_constituents``, ``val_fraction``, ``split_seed``,
            ``max_jets``).
        progress: show the reader's progress bars.
        name: the dataset name recorded in the result.

    Raises:
        CorruptFileError: the manifest is missing or unreadable, a listed file is missing, or
            a file is not listed or has another size than recorded.
    """
    records = generator_manifest(folder)

    def file_infos(split_folder: Path, paths: list[Path]) -> tuple[FileInfo, ...]:
        infos = []
        for path in paths:
            key = str(PurePosixPath(*path.relative_to(folder).parts))
            record = records.get(key)
            size = path.stat().st_size
            if record is None or record[1] != size:
                found = (
                    "is not listed" if record is None else f"has {size} bytes, expected {record[1]}"
                )
                raise CorruptFileError(
                    f"{path}: {found} in {folder / GENERATOR_MANIFEST}; the sample changed since "
                    f"it was generated: delete {folder} and run again to generate it anew"
                )
            infos.append(FileInfo(path=str(path), sha256=record[0], size_bytes=size))
        return tuple(infos)

    return read_hls4ml_folder(folder, cfg, name=name, progress=progress, file_infos=file_infos)


def generator_manifest(folder: Path) -> dict[str, tuple[str, int]]:
    """``relative path -> (sha256, size_bytes)`` of every file the generator's manifest lists.

    Raises:
        CorruptFileError: the manifest is missing or unreadable, or a listed file is missing.
    """
    path = folder / GENERATOR_MANIFEST
    remedy = f"delete {folder} and run again to generate it anew"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["files"]
        records = {
            str(entry["path"]): (str(entry["sha256"]), int(entry["size_bytes"]))
            for entry in entries
        }
    except FileNotFoundError:
        raise CorruptFileError(
            f"{path} is missing: {folder} is not a complete generated sample; {remedy}"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise CorruptFileError(
            f"{path}: unreadable generator manifest ({type(error).__name__}: {error}); {remedy}"
        ) from None
    gone = sorted(
        key for key in records if not folder.joinpath(*PurePosixPath(key).parts).is_file()
    )
    if gone:
        raise CorruptFileError(
            f"{folder}: {len(gone)} file(s) listed in {GENERATOR_MANIFEST} are missing (first: "
            f"{gone[0]}); {remedy}"
        )
    return records
