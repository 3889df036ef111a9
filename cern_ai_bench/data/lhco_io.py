"""Read and write event files in the LHC Olympics 2020 R&D format, in chunks of bounded size.

Kasieczka, Nachman, Shih et al., "The LHC Olympics 2020", Rep. Prog. Phys. 84 (2021) 124201,
arXiv:2101.08320; files on Zenodo (record 4536377), example notebooks in
github.com/lhcolympics2020/parsingscripts. The format:

- a pandas DataFrame stored with ``DataFrame.to_hdf(key="df")`` in pandas' *fixed* format
  (PyTables): ``df/axis0`` holds the 2101 integer column names, ``df/axis1`` the row index and
  ``df/block0_values`` the ``(N, 2101)`` float64 values, one event per row;
- columns ``3 k, 3 k + 1, 3 k + 2`` = (pT [GeV], eta, phi) of particle ``k`` = 0 ... 699, massless
  and with no particle type; unused slots are zero and come after the filled ones; the particles
  are **not** sorted by pT;
- column 2100 = the truth label, 1 for signal, 0 for background.

The published files are blosc-compressed, a filter only PyTables (not plain h5py) decodes here,
so :func:`iter_lhco` reads row slices of ``df/block0_values`` through PyTables: memory holds
one chunk at a time (``chunk_events x 2101 x 8`` bytes) and the pandas index is never read. The
full R&D file (1.1 M events) is about 18.5 GB as float64 in memory, so never read it whole.

Every chunk is validated before it is returned; each problem raises a
:class:`~cern_ai_bench.data.errors.DataError` that names the file, the event (file row) and the
column: missing file, not HDF5 or truncated, no ``df`` key, a pandas ``table``-format frame,
not 2101 columns, no events, NaN/inf, a label other than 0/1, a negative pT, an event without
any particle.

:func:`write_lhco` writes with pandas itself (as the organisers' notebook did:
``to_hdf(key="df", mode="w", complevel=5, complib="blosc")``), so ``pandas.read_hdf(path, "df")``
reads the result, atomically.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import tables
from tqdm.auto import tqdm

from cern_ai_bench.data.errors import FormatError, MissingFileError, corrupt_file_error
from cern_ai_bench.data.files import atomic_path
from cern_ai_bench.data.schema import SchemaError
from cern_ai_bench.data.validation import check_finite

__all__ = [
    "COLUMN_NAMES",
    "DEFAULT_CHUNK_EVENTS",
    "LABEL_COLUMN",
    "N_COLUMNS",
    "N_PARTICLES",
    "LhcoChunk",
    "count_lhco_events",
    "iter_lhco",
    "read_lhco",
    "write_lhco",
]

#: The DataFrame's key in the file.
KEY = "df"
#: The node holding the values of a fixed-format frame with one dtype.
VALUES_NODE = "/df/block0_values"
#: Particle slots per event.
N_PARTICLES = 700
#: Values per particle, in file order.
PARTICLE_FIELDS: tuple[str, ...] = ("pt", "eta", "phi")
#: Columns of the file: 700 x (pT, eta, phi) + label.
N_COLUMNS = N_PARTICLES * len(PARTICLE_FIELDS) + 1
#: Index of the label column.
LABEL_COLUMN = N_COLUMNS - 1
#: Readable names of the file's columns, for messages (``eta_3`` = eta of particle 3).
COLUMN_NAMES: tuple[str, ...] = (
    *(f"{field}_{k}" for k in range(N_PARTICLES) for field in PARTICLE_FIELDS),
    "label",
)
#: Events per chunk: 5000 x 2101 float64 = 84 MB.
DEFAULT_CHUNK_EVENTS = 5000
#: blosc level of written files, as the organisers' notebook wrote the tiny sample.
COMPLEVEL = 5


@dataclass(frozen=True)
class LhcoChunk:
    """Consecutive events of an LHCO file.

    Attributes:
        particles: ``(n, 700, 3)`` float64 (pT [GeV], eta, phi) per particle slot, zero-padded,
            in file order (not pT-sorted); a view into the chunk's values.
        labels: ``(n,)`` int8, 1 = signal, 0 = background.
        start: file row (event index) of the first event.
    """

    particles: np.ndarray
    labels: np.ndarray
    start: int

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def n_particles(self) -> np.ndarray:
        """``(n,)`` number of filled slots (pT > 0) per event."""
        return np.count_nonzero(self.particles[..., 0] > 0, axis=1)


def count_lhco_events(path: str | Path) -> int:
    """Events in an LHCO file after checking its layout; no event is read.

    Raises:
        MissingFileError, CorruptFileError, FormatError: as :func:`iter_lhco`.
    """
    path = Path(path)
    with _open(path) as handle:
        return _values_node(handle, path).shape[0]


def iter_lhco(
    path: str | Path,
    *,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    start: int = 0,
    max_events: int | None = None,
    progress: bool = False,
) -> Iterator[LhcoChunk]:
    """Yield the events of an LHCO file chunk by chunk, validated.

    Only one chunk's values (``chunk_events x 2101`` float64) are read at a time; a consumer
    that drops each chunk keeps memory bounded whatever the file size.

    Args:
        path: the ``.h5`` file.
        chunk_events: events per chunk (the last chunk may be shorter).
        start: first event to read.
        max_events: read at most this many events from ``start`` (None = to the end).
        progress: show a tqdm bar over events.

    Yields:
        :class:`LhcoChunk` in file order.

    Raises:
        ValueError: ``chunk_events`` < 1, ``start`` < 0 or ``max_events`` < 0.
        MissingFileError: no file at ``path``.
        CorruptFileError: not HDF5, truncated or damaged.
        FormatError: no ``df`` key, a ``table``-format frame, not 2101 columns, no events, a label
            other than 0/1, a negative pT or an event without particles (the message names the
            event and column).
        NonFiniteError: NaN or inf (a :class:`FormatError`).
    """
    if chunk_events < 1 or start < 0 or (max_events is not None and max_events < 0):
        raise ValueError(
            f"chunk_events must be >= 1, start and max_events >= 0; got {chunk_events}, "
            f"{start}, {max_events}"
        )
    path = Path(path)
    with _open(path) as handle:
        node = _values_node(handle, path)
        n_file = node.shape[0]
        stop = n_file if max_events is None else min(n_file, start + max_events)
        with tqdm(
            total=max(stop - start, 0), unit="event", desc=path.name, disable=not progress
        ) as bar:
            for lo in range(start, stop, chunk_events):
                hi = min(lo + chunk_events, stop)
                try:
                    values = np.asarray(node[lo:hi], dtype=np.float64)
                except (tables.HDF5ExtError, OSError) as error:
                    raise corrupt_file_error(path, error) from error
                _check_values(values, path, lo)
                bar.update(hi - lo)
                yield LhcoChunk(
                    particles=values[:, :LABEL_COLUMN].reshape(hi - lo, N_PARTICLES, 3),
                    labels=values[:, LABEL_COLUMN].astype(np.int8),
                    start=lo,
                )


def read_lhco(
    path: str | Path, *, start: int = 0, max_events: int | None = None, progress: bool = False
) -> LhcoChunk:
    """Read (a slice of) an LHCO file in one chunk; for small files and tests.

    The whole R&D file needs ~18.5 GB: use :func:`iter_lhco` or ``max_events`` for it.

    Raises:
        As :func:`iter_lhco`.
    """
    total = count_lhco_events(path)
    n = max(total - start, 0) if max_events is None else max(min(max_events, total - start), 0)
    chunks = list(
        iter_lhco(path, chunk_events=max(n, 1), start=start, max_events=n, progress=progress)
    )
    if not chunks:
        return LhcoChunk(np.zeros((0, N_PARTICLES, 3)), np.zeros(0, np.int8), start)
    return chunks[0]


def write_lhco(
    path: str | Path, particles: np.ndarray, labels: np.ndarray, *, complevel: int = COMPLEVEL
) -> Path:
    """Write events in the LHCO R&D format, atomically, with pandas.

    Memory: the file's table is built once as float64 (``N x 2101 x 8`` bytes, 168 MB per
    10k events) and handed to pandas without a copy; write large samples in several files.

    Args:
        path: the ``.h5`` file to create (replaced if it exists).
        particles: ``(N, 700, 3)`` (pT [GeV], eta, phi), finite, pT >= 0, unused slots zero;
            at least one particle per event.
        labels: ``(N,)`` 0 (background) or 1 (signal).
        complevel: blosc compression level, 0-9.

    Returns:
        ``path``.

    Raises:
        SchemaError: wrong shapes, no events, non-finite values, negative pT, an event without
            particles or a label other than 0/1 (the message names the first event); nothing is
            written.
    """
    particles = np.asarray(particles)
    labels = np.asarray(labels)
    if particles.ndim != 3 or particles.shape[1:] != (N_PARTICLES, 3) or len(particles) == 0:
        raise SchemaError(
            f"particles: expected shape (N >= 1, {N_PARTICLES}, 3) of (pT, eta, phi), "
            f"got {particles.shape}"
        )
    if labels.shape != (len(particles),):
        raise SchemaError(f"labels: expected shape ({len(particles)},), got {labels.shape}")
    table = np.empty((len(particles), N_COLUMNS), dtype=np.float64)
    table[:, :LABEL_COLUMN] = particles.reshape(len(particles), LABEL_COLUMN)
    table[:, LABEL_COLUMN] = labels
    try:
        _check_values(table, Path(path), 0)
    except FormatError as error:
        raise SchemaError(f"cannot write {path}: {error}") from error
    frame = pd.DataFrame(table, columns=pd.RangeIndex(N_COLUMNS), copy=False)
    with atomic_path(path) as tmp:
        frame.to_hdf(tmp, key=KEY, mode="w", format="fixed", complevel=complevel, complib="blosc")
        count_lhco_events(tmp)  # the file reads back before it takes the target name
    return Path(path)


@contextlib.contextmanager
def _open(path: Path) -> Iterator[tables.File]:
    if not path.is_file():
        raise MissingFileError(f"{path}: no such LHCO file", path=path)
    try:
        handle = tables.open_file(str(path), mode="r")
    except (tables.HDF5ExtError, OSError) as error:
        raise corrupt_file_error(path, error) from error
    try:
        yield handle
    finally:
        handle.close()


def _values_node(handle: tables.File, path: Path) -> tables.Array:
    """The ``(N, 2101)`` values array of the frame, after checking the layout."""
    if f"/{KEY}" not in handle:
        keys = sorted(node._v_pathname for node in handle.root._f_iter_nodes())
        raise FormatError(
            f"{path}: no key {KEY!r} (found {keys}); expected an LHCO R&D file written with "
            f"DataFrame.to_hdf(key={KEY!r})"
        )
    if f"/{KEY}/table" in handle:
        raise FormatError(
            f"{path}: key {KEY!r} was written in pandas' 'table' format; the LHCO R&D files use "
            "the fixed format (write with format='fixed')"
        )
    if VALUES_NODE not in handle or not isinstance(handle.get_node(VALUES_NODE), tables.Array):
        raise FormatError(f"{path}: key {KEY!r} has no array {VALUES_NODE!r}")
    n_blocks = getattr(handle.get_node(f"/{KEY}")._v_attrs, "nblocks", 1)
    node = handle.get_node(VALUES_NODE)
    if n_blocks != 1 or len(node.shape) != 2 or node.shape[1] != N_COLUMNS:
        columns = node.shape[1] if len(node.shape) == 2 and n_blocks == 1 else "several blocks of"
        raise FormatError(
            f"{path}: {VALUES_NODE!r} has {columns} columns (shape {node.shape}); expected "
            f"{N_COLUMNS} float columns = {N_PARTICLES} particles x (pT, eta, phi) + label"
        )
    if node.atom.kind != "float":
        raise FormatError(f"{path}: {VALUES_NODE!r} holds {node.atom.type}, expected float64")
    if node.shape[0] == 0:
        raise FormatError(f"{path}: {VALUES_NODE!r} holds no events")
    return node


def _check_values(values: np.ndarray, path: Path, row_offset: int) -> None:
    """Raise at the first bad value of ``(n, 2101)`` file rows starting at ``row_offset``."""
    check_finite(
        values,
        path=path,
        key=VALUES_NODE,
        row_offset=row_offset,
        columns=COLUMN_NAMES,
        axis_names=("event",),
    )
    labels = values[:, LABEL_COLUMN]
    bad = np.flatnonzero((labels != 0) & (labels != 1))
    if bad.size:
        raise FormatError(
            f"{path}: event {row_offset + int(bad[0])} has label {labels[bad[0]]} in column "
            f"{LABEL_COLUMN}; expected 0 (background) or 1 (signal)"
        )
    pt = values[:, 0:LABEL_COLUMN:3]
    negative = np.argwhere(pt < 0)
    if negative.size:
        event, particle = (int(i) for i in negative[0])
        raise FormatError(
            f"{path}: event {row_offset + event} has negative pT {pt[event, particle]} GeV for "
            f"particle {particle} (column {3 * particle}, {COLUMN_NAMES[3 * particle]!r})"
        )
    empty = np.flatnonzero(~(pt > 0).any(axis=1))
    if empty.size:
        raise FormatError(
            f"{path}: event {row_offset + int(empty[0])} has no particle (all {N_PARTICLES} pT "
            "are 0); every LHCO event passed a 1.2 TeV jet trigger"
        )
