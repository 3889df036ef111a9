"""The embedded jet dataset: generated offline in the hls4ml file format, read like hls4ml.

The generator (:func:`cern_ai_bench.generate.jets.ensure_embedded_jets`) writes, once per
parameter set, a folder with ``train/`` and ``val/`` subfolders of hls4ml-format ``.h5`` files
(80 % / 20 % of ``jets_per_class`` per class) and returns it; this module only calls it and
reads the folder with :func:`~cern_ai_bench.data.hls4ml.read_hls4ml_folder`, so the embedded
data exercises the same loader as the public files.
"""

from __future__ import annotations

from pathlib import Path

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.errors import DataError, DatasetConfigError
from cern_ai_bench.data.hls4ml import read_hls4ml_folder
from cern_ai_bench.data.schema import JetDataset

#: Constituents per jet the generator is asked for (the 150p hls4ml format), unless the config
#: asks for more; one generated sample then serves every ``n_constituents`` up to it.
GENERATED_CONSTITUENTS = 150


def load_embedded_jets(cfg: DatasetConfig, data_dir: Path, *, progress: bool) -> JetDataset:
    """Generate (once) and load the embedded jets.

    Args:
        cfg: ``jets_per_class``, ``generator_seed`` and ``workers`` drive the generator; the
            split settings are applied as for hls4ml.
        data_dir: the data cache folder (the generator picks its subfolder).
        progress: show the generator's and the reader's progress bars.
    """
    try:
        # Imported here: the generator needs Pythia/FastJet, which loading public data does not.
        from cern_ai_bench.generate.jets import ensure_embedded_jets
    except ImportError as error:
        raise DataError(
            f"the embedded jet generator cannot be imported ({error}); install the package "
            "with its generator dependencies (pythia8mc, fastjet) or choose a public dataset"
        ) from None
    try:
        folder = ensure_embedded_jets(
            data_dir,
            jets_per_class=int(cfg.jets_per_class),
            seed=int(cfg.generator_seed),
            n_constituents=max(GENERATED_CONSTITUENTS, int(cfg.n_constituents)),
            workers=int(cfg.workers),
            progress=progress,
        )
    except ValueError as error:  # the generator's way of naming a bad parameter
        raise DatasetConfigError(f"embedded jet generator: {error}") from None
    return read_hls4ml_folder(
        Path(folder), cfg, name="embedded_jets", progress=progress, write_manifest=False
    )
