"""Read and write L1 event files in the ADC2021 HDF5 format, validated, in bounded memory.

The format of the public ADC2021 files (Govorkova et al., Sci. Data 9, 118 (2022),
arXiv:2107.02157; Zenodo records in :mod:`cern_ai_bench.data.sources`), which the embedded L1
generator writes too:

| key | dtype, shape | content |
|---|---|---|
| ``Particles`` | float (N, 19, 4) | 19 object slots x (pT [GeV], eta, phi [rad], class id) |
| ``Particles_Names`` | bytes (4,) | ``Pt, Eta, Phi, Class`` |
| ``Particles_Classes`` | bytes (4,) | ``MET_class_1, Four_Ele_class_2, Four_Mu_class_3, Ten_Jet_class_4`` |
| ``EvtId`` | int64 (N,) | black-box file only: the event numbers a submission refers to |

The slot layout is :mod:`cern_ai_bench.data.l1_layout`. The datasets are gzip-compressed, as in
the organisers' export script; ``Particles`` is float64 in the public files as inspected by a
third party (UNVERIFIED here, no public file is on this machine), so :func:`write_adc2021`
writes float64 too (float32 values widen exactly) and readers return float32.

:func:`read_adc2021` and :func:`iter_adc2021` read in blocks of ``chunk_events`` events aligned
to the HDF5 chunks, so memory holds the result plus one block. Every block is checked
(:func:`~cern_ai_bench.data.l1_events.first_problem`) and bad input raises a :class:`~cern_ai_bench.data.errors.DataError` naming the file, the key and the
first offending event and slot: absent file, not HDF5 or truncated, missing ``Particles``, a
shape other than (N, 19, 4) (a 3-column file, with the class column dropped as the example code
does before training, is refused: the class column is part of the published format), zero
events, NaN/inf, negative pT, |phi| > pi, a filled slot whose class id is not its group's, and
events with no object at all. The public events all passed a >= 1 lepton with pT > 23 GeV
filter (the export script), so an empty event can only come from a damaged or mis-written file:
it is an error, not dropped. The 57 model inputs of the example code come from
:func:`~cern_ai_bench.data.l1_events.to_features` (re-exported here).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import h5py
import numpy as np
from tqdm.auto import tqdm

from cern_ai_bench.data.errors import (
    FormatError,
    NonFiniteError,
    corrupt_file_error,
)
from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.data.hdf5_files import open_hdf5
from cern_ai_bench.data.l1_events import (
    FLAT_FEATURE_NAMES,
    first_problem,
    slot_name,
    to_features,
)
from cern_ai_bench.data.l1_layout import FEATURE_NAMES, N_SLOTS, PARTICLE_CLASSES, filled_mask
from cern_ai_bench.data.schema import SchemaError

__all__ = [
    "FLAT_FEATURE_NAMES",
    "ADC2021Writer",
    "adc2021_file_writer",
    "count_adc2021",
    "filled_mask",
    "first_problem",
    "iter_adc2021",
    "read_adc2021",
    "read_evt_id",
    "slot_name",
    "to_features",
    "write_adc2021",
]

PARTICLES_KEY = "Particles"
NAMES_KEY = "Particles_Names"
CLASSES_KEY = "Particles_Classes"
EVT_ID_KEY = "EvtId"
#: dtype of ``Particles`` as written (the public files' float64, see the module doc).
PARTICLES_DTYPE = np.float64
#: gzip level of written files (h5py's default for ``compression="gzip"``, as in the export).
GZIP_LEVEL = 4
#: Events per HDF5 chunk of written files (2048 x 19 x 4 float64 = 1.2 MB).
WRITE_CHUNK_EVENTS = 2048
#: Events read at once by default (100k x 19 x 4 float64 = 61 MB).
READ_CHUNK_EVENTS = 100_000


# --- writing ------------------------------------------------------------------------------------


class ADC2021Writer:
    """Appends validated events to an open ADC2021 file; made by :func:`adc2021_file_writer`."""

    def __init__(
        self, handle: h5py.File, *, with_evt_id: bool, gzip_level: int, chunk_events: int
    ) -> None:
        gzip = {"compression": "gzip", "compression_opts": gzip_level}
        handle.create_dataset(NAMES_KEY, data=np.array([n.encode() for n in FEATURE_NAMES]), **gzip)
        handle.create_dataset(
            CLASSES_KEY, data=np.array([c.encode() for c in PARTICLE_CLASSES]), **gzip
        )
        self._particles = handle.create_dataset(
            PARTICLES_KEY,
            shape=(0, N_SLOTS, 4),
            maxshape=(None, N_SLOTS, 4),
            dtype=PARTICLES_DTYPE,
            chunks=(chunk_events, N_SLOTS, 4),
            **gzip,
        )
        self._evt_id = (
            handle.create_dataset(
                EVT_ID_KEY, shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1 << 14,), **gzip
            )
            if with_evt_id
            else None
        )
        self.written = 0

    def write(self, particles: np.ndarray, evt_id: np.ndarray | None = None) -> None:
        """Append ``(n, 19, 4)`` events (and their ``(n,)`` event ids, if the file has them).

        Raises:
            SchemaError: wrong shape, an invalid value (see :func:`first_problem`), or event
                ids missing / unexpected / of another length; nothing of this block is written.
        """
        values = np.asarray(particles, dtype=np.float32)
        if values.ndim != 3 or values.shape[1:] != (N_SLOTS, 4):
            raise SchemaError(f"particles: expected shape (N, 19, 4), got {values.shape}")
        problem = first_problem(values, self.written)
        if problem is not None:
            raise SchemaError(f"particles: {problem[1]}")
        if (evt_id is None) != (self._evt_id is None):
            state = "has no" if self._evt_id is None else "needs"
            raise SchemaError(
                f"evt_id: this file {state} {EVT_ID_KEY!r}; pass it with every block or never"
            )
        stop = self.written + len(values)
        if self._evt_id is not None:
            ids = np.asarray(evt_id)
            if ids.shape != (len(values),) or ids.dtype.kind not in "iu":
                raise SchemaError(
                    f"evt_id: expected {len(values)} integers, got {ids.dtype} {ids.shape}"
                )
            self._evt_id.resize((stop,))
            self._evt_id[self.written :] = ids
        self._particles.resize((stop, N_SLOTS, 4))
        self._particles[self.written :] = values
        self.written = stop


@contextlib.contextmanager
def adc2021_file_writer(
    path: str | Path,
    *,
    with_evt_id: bool = False,
    expected_events: int | None = None,
    gzip_level: int = GZIP_LEVEL,
) -> Iterator[ADC2021Writer]:
    """Write an ADC2021 file block by block, atomically.

    The file appears at ``path`` only when the block exits normally with at least one event
    written; on an exception nothing is left behind. ``expected_events`` (a hint, not a limit)
    keeps the HDF5 chunks of a small file small.

    Raises:
        SchemaError: a block is invalid (see :meth:`ADC2021Writer.write`) or no event was written.
    """
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as handle:
        rows = min(WRITE_CHUNK_EVENTS, max(1, expected_events or WRITE_CHUNK_EVENTS))
        writer = ADC2021Writer(
            handle, with_evt_id=with_evt_id, gzip_level=gzip_level, chunk_events=rows
        )
        yield writer
        if writer.written == 0:
            raise SchemaError(f"{path}: no event written (an ADC2021 file holds >= 1 event)")


def write_adc2021(
    path: str | Path, particles: np.ndarray, *, evt_id: np.ndarray | None = None
) -> Path:
    """Write one ADC2021 file atomically in the public layout (see the module doc).

    Args:
        path: the ``.h5`` file to create (replaced if it exists).
        particles: ``(N, 19, 4)`` events, N >= 1, valid (see :func:`first_problem`).
        evt_id: optional ``(N,)`` integer event ids (the black-box file's ``EvtId``).

    Returns:
        ``path``.

    Raises:
        SchemaError: invalid input; nothing is written.
    """
    particles = np.asarray(particles)
    with adc2021_file_writer(
        path, with_evt_id=evt_id is not None, expected_events=len(particles)
    ) as writer:
        writer.write(particles, evt_id)
    return Path(path)


# --- reading ------------------------------------------------------------------------------------


def count_adc2021(path: str | Path) -> int:
    """Events in an ADC2021 file after checking its layout (no event is read).

    Raises:
        MissingFileError, CorruptFileError, FormatError: as :func:`read_adc2021`.
    """
    with _open(Path(path)) as handle:
        return _layout(handle, Path(path))


def iter_adc2021(
    path: str | Path,
    chunk_events: int = READ_CHUNK_EVENTS,
    *,
    start: int = 0,
    max_events: int | None = None,
    progress: bool = False,
) -> Iterator[np.ndarray]:
    """Validated ``(n, 19, 4)`` float32 blocks of at most ``chunk_events`` events, in file order.

    The layout is checked at once (so a missing or malformed file fails on the call, not on
    the first ``next``); values are checked block by block as they are read.

    Args:
        path: the ``.h5`` file.
        chunk_events: events per block (blocks are aligned to the HDF5 chunks when larger).
        start: first event to read.
        max_events: read at most this many events (None = to the end).
        progress: show a tqdm bar over events.

    Raises:
        ValueError: ``chunk_events`` < 1, ``start`` outside the file, ``max_events`` < 1.
        MissingFileError, CorruptFileError, FormatError, NonFiniteError: as :func:`read_adc2021`.
    """
    path = Path(path)
    stop = _span(path, count_adc2021(path), start, max_events, chunk_events)
    return _blocks(path, start, stop, chunk_events, progress)


def read_adc2021(
    path: str | Path,
    *,
    max_events: int | None = None,
    start: int = 0,
    chunk_events: int = READ_CHUNK_EVENTS,
    progress: bool = False,
) -> np.ndarray:
    """Read (events ``start`` to ``start + max_events`` of) an ADC2021 file, validated.

    Args:
        path: the ``.h5`` file.
        max_events: read at most this many events (None = to the end).
        start: first event to read.
        chunk_events: events read at once (memory: the result plus one block).
        progress: show a tqdm bar over events.

    Returns:
        ``(N, 19, 4)`` float32 ``(pT [GeV], eta, phi [rad], class id)``.

    Raises:
        MissingFileError: no file at ``path``.
        CorruptFileError: not HDF5, truncated or damaged.
        FormatError: missing ``Particles``, wrong shape or dtype, zero events, negative pT,
            |phi| > pi, wrong class id in a filled slot, an event without objects.
        NonFiniteError: NaN or inf (a :class:`FormatError`).
    """
    path = Path(path)
    stop = _span(path, count_adc2021(path), start, max_events, chunk_events)
    out = np.empty((stop - start, N_SLOTS, 4), dtype=np.float32)
    done = 0
    for block in _blocks(path, start, stop, chunk_events, progress):
        out[done : done + len(block)] = block
        done += len(block)
    return out


def read_evt_id(
    path: str | Path, *, start: int = 0, max_events: int | None = None
) -> np.ndarray | None:
    """The ``EvtId`` of events ``start`` to ``start + max_events`` (int64), or None if absent."""
    path = Path(path)
    with _open(path) as handle:
        stop = _span(path, _layout(handle, path), start, max_events)
        if EVT_ID_KEY not in handle:
            return None
        node = handle[EVT_ID_KEY]
        return np.asarray(_read(path, lambda: node[start:stop]), dtype=np.int64)


def _open(path: Path) -> contextlib.AbstractContextManager[h5py.File]:
    return open_hdf5(path, "ADC2021 file")


def _layout(handle: h5py.File, path: Path) -> int:
    """The event count, after checking keys, shapes, dtypes and the column names."""
    if PARTICLES_KEY not in handle:
        raise FormatError(
            f"{path}: missing key {PARTICLES_KEY!r}; an ADC2021 file holds {PARTICLES_KEY!r} "
            f"(N, 19, 4), found keys {sorted(handle.keys())}"
        )
    node = handle[PARTICLES_KEY]
    if not isinstance(node, h5py.Dataset) or node.ndim != 3 or node.shape[1:] != (N_SLOTS, 4):
        found = f"shape {node.shape}" if isinstance(node, h5py.Dataset) else "a group"
        hint = ""
        if isinstance(node, h5py.Dataset) and node.shape[1:] == (N_SLOTS, 3):
            hint = (
                " (the class column is missing: the example code drops it before training, "
                "the published files keep it)"
            )
        raise FormatError(
            f"{path}: key {PARTICLES_KEY!r}: expected shape (N, 19, 4) = events x slots x "
            f"{list(FEATURE_NAMES)}, found {found}{hint}"
        )
    if node.dtype.kind not in "fiu":
        raise FormatError(
            f"{path}: key {PARTICLES_KEY!r}: expected real numbers, found dtype {node.dtype}"
        )
    n = node.shape[0]
    if n == 0:
        raise FormatError(f"{path}: key {PARTICLES_KEY!r} holds no events (shape {node.shape})")
    if NAMES_KEY in handle:
        names = _strings(path, handle[NAMES_KEY])
        if [name.lower() for name in names] != [name.lower() for name in FEATURE_NAMES]:
            raise FormatError(
                f"{path}: key {NAMES_KEY!r} is {names}, expected {list(FEATURE_NAMES)}: the "
                "columns of 'Particles' are not in the published order"
            )
    if EVT_ID_KEY in handle:
        ids = handle[EVT_ID_KEY]
        if not isinstance(ids, h5py.Dataset) or ids.shape != (n,) or ids.dtype.kind not in "iu":
            found = f"{ids.dtype} {ids.shape}" if isinstance(ids, h5py.Dataset) else "a group"
            raise FormatError(
                f"{path}: key {EVT_ID_KEY!r}: expected {n} integers (one per event), found {found}"
            )
    return n


def _strings(path: Path, node: h5py.Dataset | h5py.Group) -> list[str]:
    if not isinstance(node, h5py.Dataset):
        raise FormatError(f"{path}: key {node.name!r}: expected a dataset of names, found a group")
    values = np.asarray(_read(path, lambda: node[()])).reshape(-1)
    return [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values]


def _span(path: Path, n: int, start: int, max_events: int | None, chunk_events: int = 1) -> int:
    """The stop event of a read, after checking ``start``, ``max_events``, ``chunk_events``."""
    if chunk_events < 1:
        raise ValueError(f"chunk_events must be >= 1, got {chunk_events}")
    if not 0 <= start < n:
        raise ValueError(f"{path}: start={start} lies outside the file's {n} events")
    if max_events is not None and max_events < 1:
        raise ValueError(f"max_events must be >= 1 or None, got {max_events}")
    return n if max_events is None else min(n, start + max_events)


def _blocks(
    path: Path, start: int, stop: int, chunk_events: int, progress: bool
) -> Iterator[np.ndarray]:
    with (
        _open(path) as handle,
        tqdm(
            total=stop - start, desc=f"read {path.name}", unit="event", disable=not progress
        ) as bar,
    ):
        node = handle[PARTICLES_KEY]
        block = chunk_events
        rows = node.chunks[0] if node.chunks is not None else 1
        if chunk_events >= rows:  # whole HDF5 chunks per block: none is decompressed twice
            block = chunk_events // rows * rows
        lo = start
        while lo < stop:
            hi = min(stop, (lo // block + 1) * block)
            values = np.asarray(_read(path, lambda a=lo, b=hi: node[a:b]), dtype=np.float32)
            problem = first_problem(values, lo)
            if problem is not None:
                error = NonFiniteError if problem[0] else FormatError
                raise error(f"{path}: key {PARTICLES_KEY!r}: {problem[1]}")
            bar.update(hi - lo)
            yield values
            lo = hi


def _read(path: Path, read: Callable[[], np.ndarray]) -> np.ndarray:
    """Run one h5py read, turning a low-level failure (truncated data) into CorruptFileError."""
    try:
        return read()
    except OSError as error:
        raise corrupt_file_error(path, error) from None
