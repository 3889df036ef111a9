"""The embedded LHCO-style dijets: Pythia 8 QCD and W' -> X Y, generated offline in the R&D format.

The generator (:func:`cern_ai_bench.generate.lhco_events.ensure_embedded_lhco`) writes, once per
parameter set, a folder of LHCO R&D-format files (one per chunk of events) and a
``manifest.json``. They are read exactly like the public raw file
(:mod:`cern_ai_bench.data.lhco_io`) and clustered with the same FastJet code
(:mod:`cern_ai_bench.data.lhco_features`). Dataset card: ``datasets/embedded_lhco.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from cern_ai_bench.data.generator_call import run_generator

__all__ = ["CONFIG_KEYS", "EmbeddedLhcoConfig", "prepare_embedded_lhco"]

#: Generator parameter -> the ``dataset.*`` key that sets it (for error messages).
CONFIG_KEYS: dict[str, str] = {
    "n_background": "dataset.n_dijet_background",
    "n_signal": "dataset.n_dijet_signal",
    "seed": "dataset.generator_seed",
    "workers": "dataset.workers",
}


class EmbeddedLhcoConfig(Protocol):
    """The ``dataset.*`` settings the embedded LHCO generator reads."""

    n_dijet_background: int
    n_dijet_signal: int
    generator_seed: int
    workers: int


def prepare_embedded_lhco(cfg: EmbeddedLhcoConfig, data_dir: Path, *, progress: bool) -> list[Path]:
    """Generate the embedded LHCO-format files unless they are cached; read no event.

    Returns:
        The files (QCD chunks, then W' chunks).

    Raises:
        DatasetConfigError: a generator parameter is invalid; the message names its
            ``dataset.*`` key.
        DataError: the generator cannot be imported (Pythia or FastJet missing).
    """
    return run_generator(
        "cern_ai_bench.generate.lhco_events:ensure_embedded_lhco",
        what="embedded LHCO generator",
        remedy="install the package with its generator dependencies (pythia8mc, fastjet) or "
        "choose dataset=lhco_rnd",
        config_keys=CONFIG_KEYS,
        data_dir=data_dir,
        n_background=int(cfg.n_dijet_background),
        n_signal=int(cfg.n_dijet_signal),
        seed=int(cfg.generator_seed),
        workers=int(cfg.workers),
        progress=progress,
    )
