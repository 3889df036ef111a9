"""The embedded L1 dataset: Pythia 8 events + toy detector, generated offline in the ADC2021 format.

The generator (:func:`cern_ai_bench.generate.l1_events.ensure_embedded_l1`) writes, once per
parameter set, a folder with the six ADC2021-format files under their public names
(``background_for_training.h5``, ``background_for_testing.h5`` and one file per signal) and a
``manifest.json``. They are read exactly like the public files
(:mod:`cern_ai_bench.data.adc2021_io`; :func:`~cern_ai_bench.data.adc2021.resolve_adc2021` finds
the signal files in the folder). Provenance (SHA-256, size) comes from the manifest, so a load
never re-hashes the sample. Dataset card: ``datasets/embedded_l1.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

from cern_ai_bench.data.embedded_showers import manifest_file_infos
from cern_ai_bench.data.errors import CorruptFileError
from cern_ai_bench.data.generator_call import run_generator
from cern_ai_bench.data.schema import FileInfo

__all__ = [
    "CONFIG_KEYS",
    "EmbeddedL1Config",
    "embedded_l1_file_infos",
    "embedded_l1_statistics",
    "prepare_embedded_l1",
]

#: Generator parameter -> the ``dataset.*`` key that sets it (for error messages).
CONFIG_KEYS: dict[str, str] = {
    "n_background_train": "dataset.n_background_train",
    "n_background_test": "dataset.n_background_test",
    "n_signal": "dataset.n_signal_events",
    "seed": "dataset.generator_seed",
    "workers": "dataset.workers",
}


class EmbeddedL1Config(Protocol):
    """The ``dataset.*`` settings the embedded L1 generator reads."""

    #: Events of the training background file (the cocktail).
    n_background_train: int
    #: Events of the independent test background file.
    n_background_test: int
    #: Events of each of the four signal files.
    n_signal_events: int
    #: Sample seed.
    generator_seed: int
    #: Worker processes (0 = one per CPU core).
    workers: int


def prepare_embedded_l1(
    cfg: EmbeddedL1Config, data_dir: Path, *, progress: bool
) -> dict[str, Path]:
    """Generate the embedded L1 files unless they are cached; read no event.

    Args:
        cfg: the generator settings (:class:`EmbeddedL1Config`).
        data_dir: the data cache folder (the generator picks its subfolder).
        progress: show the generator's progress bar.

    Returns:
        ``{role: path}``: ``background_train``, ``background_test``, ``ato4l``,
        ``leptoquark``, ``h0_tautau``, ``hplus_taunu``.

    Raises:
        DatasetConfigError: a generator parameter is invalid; the message names its
            ``dataset.*`` key (e.g. ``dataset.n_signal_events must be >= 1, got 0``).
        DataError: the generator cannot be imported (Pythia or FastJet missing).
    """
    return run_generator(
        "cern_ai_bench.generate.l1_events:ensure_embedded_l1",
        what="embedded L1 generator",
        remedy="install the package with its generator dependencies (pythia8mc, fastjet) or "
        "choose dataset=adc2021",
        config_keys=CONFIG_KEYS,
        data_dir=data_dir,
        n_background_train=int(cfg.n_background_train),
        n_background_test=int(cfg.n_background_test),
        n_signal=int(cfg.n_signal_events),
        seed=int(cfg.generator_seed),
        workers=int(cfg.workers),
        progress=progress,
    )


def embedded_l1_file_infos(paths: dict[str, Path]) -> dict[str, FileInfo]:
    """Provenance of the generated files from the generator's manifest (sizes checked, no hashing).

    Args:
        paths: ``{role: path}`` as returned by :func:`prepare_embedded_l1` (one folder).

    Raises:
        CorruptFileError: the manifest is missing or unreadable, or a file is not listed or has
            another size than recorded.
    """
    folders = {path.parent for path in paths.values()}
    if len(folders) != 1:
        raise ValueError(f"expected the files of one generated sample, got folders {folders}")
    infos = manifest_file_infos(folders.pop(), tuple(paths.values()))
    return dict(zip(paths, infos, strict=True))


def embedded_l1_statistics(folder: Path) -> dict[str, Any]:
    """The generator's bookkeeping from the manifest: per process the events generated and
    accepted, the lepton-filter efficiency, Pythia's cross-sections and the CPU time.

    Raises:
        CorruptFileError: the manifest is missing or unreadable.
    """
    path = Path(folder) / "manifest.json"
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["statistics"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorruptFileError(
            f"{path}: unreadable generator manifest ({type(error).__name__}: {error}); delete "
            f"{folder} and run again to generate it anew"
        ) from None
