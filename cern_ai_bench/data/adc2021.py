"""The public ADC2021 files: which samples exist, where they come from, which local copy is used.

Govorkova et al., "LHC physics dataset for unsupervised New Physics detection at 40 MHz",
Sci. Data 9, 118 (2022), arXiv:2107.02157; challenge page https://mpp-hep.github.io/ADC2021/.
Six samples, one HDF5 file each in the format of :mod:`cern_ai_bench.data.adc2021_io`:

| sample | content | current record | superseded |
|---|---|---|---|
| ``background`` | SM cocktail (W, QCD, Z, ttbar) after the lepton filter | 5046428 | 5046389 |
| ``blackbox`` | SM + an unknown signal, with ``EvtId`` | 5072068 | 5070455 |
| ``ato4l`` | A (50 GeV) -> 4 leptons | 7152590 | 5046446 |
| ``leptoquark`` | LQ (80 GeV) -> b tau | 7152599 | 5055454 |
| ``h0_tautau`` | h0 (60 GeV) -> tau tau | 7152614 | 5061633 |
| ``hplus_taunu`` | h+ (60 GeV) -> tau nu | 7152617 | 5061688 |

Two generations of file names circulate (``Ato4l_lepFilter_13TeV.h5`` and
``Ato4l_lepFilter_13TeV_filtered.h5`` ...; :data:`~cern_ai_bench.data.sources.ADC2021_SAMPLE_FILES`).
The files live in ``<data_dir>/adc2021/``. :func:`resolve_adc2021` takes whichever name is there
(the current generation when both are) and :class:`ADC2021File` records which one was used;
:func:`prepare_adc2021` also verifies it (``.sha256`` sidecar, or the MD5 published by its
Zenodo record) and checks its layout, and downloads a missing file from the current record when
``dataset.download`` allows, else raises :class:`MissingFileError` naming every name looked for,
the folder, the URL and the exact path to save the file at.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cern_ai_bench.config import DatasetConfig
from cern_ai_bench.data.adc2021_io import count_adc2021
from cern_ai_bench.data.download import ensure_file, manual_instructions
from cern_ai_bench.data.errors import DownloadError, MissingFileError, UnknownDatasetError
from cern_ai_bench.data.sources import ADC2021_FILES, ADC2021_RECORDS, ADC2021_SAMPLE_FILES

__all__ = [
    "ADC2021_FOLDER",
    "ADC2021_SAMPLES",
    "SIGNAL_SAMPLES",
    "ADC2021File",
    "ADC2021Sample",
    "adc2021_folder",
    "prepare_adc2021",
    "resolve_adc2021",
]

logger = logging.getLogger(__name__)

#: Sub-folder of ``dataset.data_dir`` holding the public files.
ADC2021_FOLDER = "adc2021"


@dataclass(frozen=True)
class ADC2021Sample:
    """One public sample: its role, Zenodo records and accepted file names."""

    key: str
    description: str
    role: str  # "background", "blackbox" or "signal"

    @property
    def record(self) -> int:
        """The current Zenodo record (the challenge page since 2022-10-06)."""
        return ADC2021_RECORDS[self.key][0]

    @property
    def superseded_record(self) -> int:
        return ADC2021_RECORDS[self.key][1]

    @property
    def filenames(self) -> tuple[str, ...]:
        """Accepted file names, the current generation first."""
        return tuple(name for name, _ in ADC2021_SAMPLE_FILES[self.key])


ADC2021_SAMPLES: dict[str, ADC2021Sample] = {
    s.key: s
    for s in (
        ADC2021Sample("background", "SM background cocktail (training)", "background"),
        ADC2021Sample("blackbox", "black box (SM + unknown signal)", "blackbox"),
        ADC2021Sample("ato4l", "A -> 4 leptons", "signal"),
        ADC2021Sample("leptoquark", "leptoquark -> b tau", "signal"),
        ADC2021Sample("h0_tautau", "h0 -> tau tau", "signal"),
        ADC2021Sample("hplus_taunu", "h+ -> tau nu", "signal"),
    )
}
#: The four BSM signals, in the challenge page's order.
SIGNAL_SAMPLES: tuple[str, ...] = ("ato4l", "leptoquark", "h0_tautau", "hplus_taunu")


@dataclass(frozen=True)
class ADC2021File:
    """The local file used for a sample, and which published version it is.

    Attributes:
        sample: the sample key.
        path: the file.
        record: the Zenodo record that file name is verified against / was downloaded from.
        superseded: True for a name of the superseded (2021) records, whose content may differ
            from the current one.
    """

    sample: str
    path: Path
    record: int
    superseded: bool

    @property
    def filename(self) -> str:
        return self.path.name


def adc2021_folder(data_dir: str | Path) -> Path:
    """``<data_dir>/adc2021``: where the public files are looked for and downloaded to."""
    return Path(data_dir).expanduser() / ADC2021_FOLDER


def resolve_adc2021(sample: str, folder: str | Path) -> ADC2021File:
    """The local file of ``sample`` in ``folder``, under either published name (no check).

    Raises:
        UnknownDatasetError: ``sample`` is not an ADC2021 sample.
        MissingFileError: no accepted name is in ``folder``; the message lists the names looked
            for and how to get the file.
    """
    spec = _sample(sample)
    folder = Path(folder)
    present = [name for name in spec.filenames if (folder / name).is_file()]
    if not present:
        raise _missing(spec, folder, "")
    if len(present) > 1:
        logger.info("%s: using %s, ignoring %s", folder, present[0], ", ".join(present[1:]))
    return _local(spec, folder / present[0])


def prepare_adc2021(
    samples: Sequence[str], cfg: DatasetConfig, data_dir: str | Path, *, progress: bool
) -> dict[str, ADC2021File]:
    """Make a verified, well-formed file of each sample exist in ``<data_dir>/adc2021``.

    A file already there (either published name) is verified against its ``.sha256`` sidecar,
    or against the MD5 its Zenodo record publishes (downloads allowed), or used unverified with
    a logged warning. A missing file is downloaded from the sample's current record when
    ``cfg.download`` allows (each of its names the record may hold is tried in order; a name the
    record does not list fails at the metadata lookup, before any download). Every file's layout
    is then checked without reading events.

    Returns:
        ``{sample: ADC2021File}`` in the order of ``samples``.

    Raises:
        UnknownDatasetError: an unknown sample key.
        MissingFileError: a file is absent and ``cfg.download`` is False.
        DownloadError, ChecksumMismatchError: the download or verification failed.
        CorruptFileError, FormatError: a file is not in the ADC2021 format.
    """
    folder = adc2021_folder(data_dir)
    resolved: dict[str, ADC2021File] = {}
    for sample in samples:
        spec = _sample(sample)
        try:
            found = resolve_adc2021(sample, folder)
        except MissingFileError:
            if not cfg.download:
                raise _missing(
                    spec, folder, " and downloads are disabled (dataset.download=false)"
                ) from None
            found = _download(spec, folder, progress)
        else:
            entry = ADC2021_FILES[found.filename]
            ensure_file(entry, folder, allow_download=cfg.download, progress=progress)
        count_adc2021(found.path)
        logger.info(
            "ADC2021 %s: %s (Zenodo %d%s)",
            sample,
            found.path,
            found.record,
            ", superseded version" if found.superseded else "",
        )
        resolved[sample] = found
    return resolved


def _sample(sample: str) -> ADC2021Sample:
    if sample not in ADC2021_SAMPLES:
        raise UnknownDatasetError(
            f"unknown ADC2021 sample {sample!r}; the samples are {list(ADC2021_SAMPLES)}"
        )
    return ADC2021_SAMPLES[sample]


def _local(spec: ADC2021Sample, path: Path) -> ADC2021File:
    record = dict(ADC2021_SAMPLE_FILES[spec.key])[path.name]
    return ADC2021File(spec.key, path, record, superseded=record != spec.record)


def _missing(spec: ADC2021Sample, folder: Path, reason: str) -> MissingFileError:
    looked_for = ", ".join(
        f"{name} (Zenodo {record}{'' if record == spec.record else ', superseded'})"
        for name, record in ADC2021_SAMPLE_FILES[spec.key]
    )
    primary = ADC2021_FILES[spec.filenames[0]]
    path = folder / primary.filename
    return MissingFileError(
        f"ADC2021 sample {spec.key!r} ({spec.description}): no file in {folder}{reason}; "
        f"looked for {looked_for}.\n" + manual_instructions(primary, path),
        path=path,
        urls=primary.urls,
    )


def _download(spec: ADC2021Sample, folder: Path, progress: bool) -> ADC2021File:
    """Download the sample from its current record, trying each name the record may hold."""
    failures: list[str] = []
    for name, record in ADC2021_SAMPLE_FILES[spec.key]:
        if record != spec.record:
            continue  # never fall back to a superseded record's (different) content
        try:
            path = ensure_file(ADC2021_FILES[name], folder, allow_download=True, progress=progress)
        except DownloadError as error:
            failures.append(str(error))
            continue
        return _local(spec, path)
    raise DownloadError(
        f"ADC2021 sample {spec.key!r} could not be downloaded from Zenodo {spec.record}:\n"
        + "\n".join(failures),
        path=folder / spec.filenames[0],
        urls=ADC2021_FILES[spec.filenames[0]].urls,
    )
