"""The embedded shower dataset: GFlash showers generated offline in the CaloChallenge format.

The generator (:func:`cern_ai_bench.generate.showers.ensure_embedded_showers`) writes, once per
parameter set, ``showers_train.hdf5`` (``dataset.n_showers`` events) and
``showers_reference.hdf5`` (``dataset.n_reference_showers`` independent events) with a
``manifest.json``. They are read exactly like the public files
(:func:`~cern_ai_bench.data.calochallenge.read_shower_splits`): the training file gives train and
val, the reference file gives test. Provenance (SHA-256, size) comes from the manifest, so a load
never re-hashes the sample.
"""

from __future__ import annotations

from pathlib import Path

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.data.calochallenge import read_shower_splits
from cern_ai_bench.data.embedded import generator_manifest
from cern_ai_bench.data.errors import CorruptFileError
from cern_ai_bench.data.generator_call import run_generator
from cern_ai_bench.data.schema import FileInfo
from cern_ai_bench.data.shower_schema import ShowerDataset

#: Generator parameter -> the ``dataset.*`` key that sets it (for error messages).
CONFIG_KEYS: dict[str, str] = {
    "geometry": "dataset.geometry",
    "n_showers": "dataset.n_showers",
    "n_reference": "dataset.n_reference_showers",
    "seed": "dataset.generator_seed",
    "workers": "dataset.workers",
}


def prepare_embedded_showers(
    cfg: DatasetConfig, data_dir: Path, *, progress: bool
) -> tuple[Path, Path]:
    """Generate the embedded shower files unless they are cached; read no shower.

    Args:
        cfg: ``geometry``, ``n_showers``, ``n_reference_showers``, ``generator_seed`` and
            ``workers`` drive the generator.
        data_dir: the data cache folder (the generator picks its subfolder).
        progress: show the generator's progress bar.

    Returns:
        ``(showers_train.hdf5, showers_reference.hdf5)``.

    Raises:
        DatasetConfigError: a generator parameter is invalid; the message names its
            ``dataset.*`` key (e.g. ``dataset.geometry must be one of ds1_photons, ds2, ds3``).
        DataError: the shower simulator cannot be imported.
    """
    return run_generator(
        "cern_ai_bench.generate.showers:ensure_embedded_showers",
        what="embedded shower simulator",
        remedy="choose a public dataset (dataset=calochallenge_ds2, ...) or reinstall the package",
        config_keys=CONFIG_KEYS,
        data_dir=data_dir,
        geometry=str(cfg.geometry),
        n_showers=int(cfg.n_showers),
        n_reference=int(cfg.n_reference_showers),
        seed=int(cfg.generator_seed),
        workers=int(cfg.workers),
        progress=progress,
    )


def load_embedded_showers(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> ShowerDataset:
    """Generate (once, see :func:`prepare_embedded_showers`) and load the embedded showers.

    Args:
        cfg: the generator settings, and the split settings (``val_fraction``, ``split_seed``,
            ``max_showers``) applied as for the public files.
        data_dir: the data cache folder.
        progress: show the generator's and the reader's progress bars.
    """
    train_path, reference_path = prepare_embedded_showers(cfg, data_dir, progress=progress)
    return read_shower_splits(
        "embedded_showers",
        get_geometry(str(cfg.geometry)),
        [train_path],
        [reference_path],
        cfg,
        files=manifest_file_infos(train_path.parent, (train_path, reference_path)),
        progress=progress,
    )


def manifest_file_infos(folder: Path, paths: tuple[Path, ...]) -> tuple[FileInfo, ...]:
    """Provenance of generated files from the generator's manifest (sizes checked, no hashing).

    Raises:
        CorruptFileError: the manifest is missing or unreadable, or a file is not listed or has
            another size than recorded.
    """
    records = generator_manifest(folder)
    infos = []
    for path in paths:
        record, size = records.get(path.name), path.stat().st_size
        if record is None or record[1] != size:
            found = "is not listed" if record is None else f"has {size} bytes, expected {record[1]}"
            raise CorruptFileError(
                f"{path}: {found} in the generator's manifest; the sample changed since it was "
                f"generated: delete {folder} and run again to generate it anew"
            )
        infos.append(FileInfo(path=str(path), sha256=record[0], size_bytes=size))
    return tuple(infos)
