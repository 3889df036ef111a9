"""Read one raw hls4ml jet file (``jetImage_*.h5``) into canonical arrays.

Layout (Duarte et al., JINST 13 (2018) P07027; Zenodo 3602260 and siblings):

- ``jets``: ``(N, 59)`` float, columns named by ``jetFeatureNames`` (53 jet features, the
  one-hot labels ``j_g, j_q, j_w, j_z, j_t`` and ``j_undef``);
- ``jetConstituentList``: ``(N, P, F)`` float, P = 30/100/150 constituents sorted by decreasing
  pT and zero-padded; the F features are the first F of ``particleFeatureNames`` (17 names
  ``j1_px ... j1_pdgid``, the files hold the first 16);
- jet images (``jetImage*``), which are never read here and may be absent.

Columns are looked up by name, never by position. Only the rows and the first
``n_constituents + 1`` constituents are read. (The embedded generator's writer is
:mod:`cern_ai_bench.generate.hls4ml_writer`.)

pT order and its limit: the loader keeps the ``n_constituents`` leading constituents and checks
the file's pT order only within the first ``n_constituents + 1`` slots (one past the cut). When a
jet is out of order there, or its first slot is empty, all ``P`` constituents of the rows read are
loaded and sorted before the cut. A file whose order breaks only further out (a constituent in a
later slot outranking a kept one, with the first ``n_constituents + 1`` in order) is NOT
detected, and the cut then keeps the wrong constituents. Checking every row in full would read all
``P`` constituents of every jet (about 5x the I/O for P = 150 and 30 kept). The public files
(pT-sorted as published) and the embedded generator (sorted when written, tested) do not need it;
the check catches a mis-sorted file at the cut, it does not sort arbitrary files.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

import h5py
import numpy as np

from cern_ai_bench.data.errors import FormatError, corrupt_file_error
from cern_ai_bench.data.hls4ml_columns import HLF_COLUMNS, LABEL_COLUMNS, MOMENTUM_COLUMNS
from cern_ai_bench.data.validation import check_finite, pt_unordered, sort_by_pt

REQUIRED_KEYS: tuple[str, ...] = (
    "jets",
    "jetFeatureNames",
    "jetConstituentList",
    "particleFeatureNames",
)


class Hls4mlFile:
    """An open raw hls4ml file, validated on opening; use as a context manager.

    Args:
        path: the ``.h5`` file.
        n_constituents: constituents per jet to read (the file must hold at least this many).

    Raises:
        CorruptFileError: the file is truncated or not HDF5.
        FormatError: a key, name or shape differs from the layout above.
    """

    def __init__(self, path: Path, n_constituents: int) -> None:
        self.path = path
        self.n_constituents = n_constituents
        try:
            self._file = h5py.File(path, "r")
        except OSError as error:
            raise corrupt_file_error(path, error, remedy=self._remedy) from None
        try:
            self._validate()
        except BaseException:
            self._file.close()
            raise

    @property
    def _remedy(self) -> str:
        return (
            f"delete the folder {self.path.parent} and run again to extract (or generate) it anew"
        )

    def __enter__(self) -> Hls4mlFile:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._file.close()

    @property
    def n_jets(self) -> int:
        return int(self._jets.shape[0])

    def labels(self) -> np.ndarray:
        """Canonical class index ``(N,)`` int64 of every jet (reads only the label columns)."""
        try:
            one_hot = np.asarray(self._jets[:, min(self._label_index) : max(self._label_index) + 1])
        except OSError as error:
            raise corrupt_file_error(self.path, error, remedy=self._remedy) from None
        offset = min(self._label_index)
        columns = [index - offset for index in self._label_index]
        return self._labels(one_hot[:, columns], np.arange(self.n_jets))

    def read(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Read jets ``rows`` (sorted file row indices; None = all).

        Returns:
            ``labels`` ``(n,)`` int64 canonical class index; ``hlf`` ``(n, 16)`` float32 in
            :data:`~cern_ai_bench.data.schema.HLF_NAMES` order; ``constituents``
            ``(n, n_constituents, 4)`` float32 ``(px, py, pz, E)`` in GeV, pT-ordered.

        Raises:
            FormatError: a row without exactly one hot label.
            NonFiniteError: NaN/inf in a used feature.
            CorruptFileError: the data cannot be read (truncated file).
        """
        if rows is None:
            start, stop, local = 0, self.n_jets, None
            file_rows = np.arange(start, stop)
        elif len(rows) == 0:
            return self._empty()
        else:
            start, stop = int(rows[0]), int(rows[-1]) + 1
            local, file_rows = rows - start, rows
        keep = min(self.n_constituents + 1, self._n_particles)  # +1: check order across the cut
        try:
            jets = np.asarray(self._jets[start:stop])
            particles = np.asarray(self._constituents[start:stop, :keep, :])
        except OSError as error:
            raise corrupt_file_error(self.path, error, remedy=self._remedy) from None
        if local is not None:
            jets, particles = jets[local], particles[local]

        labels = self._labels(jets[:, self._label_index], file_rows)
        hlf = jets[:, self._hlf_index].astype(np.float32)
        check_finite(hlf, path=self.path, key="jets", file_rows=file_rows, columns=HLF_COLUMNS)
        momenta = particles[..., self._momentum_index].astype(np.float32)
        check_finite(
            momenta[:, : self.n_constituents],
            path=self.path,
            key="jetConstituentList",
            file_rows=file_rows,
            columns=MOMENTUM_COLUMNS,
            axis_names=("row", "constituent"),
        )
        # Out of order within the prefix, or an empty first slot (padding before constituents):
        # the cut at n_constituents must then see every constituent.
        suspect = pt_unordered(momenta).any() or bool((momenta[:, 0, 3] == 0).any())
        if suspect and keep < self._n_particles:
            ordered = self._sorted_full(start, stop, local)
        else:
            ordered = sort_by_pt(momenta)
        return labels, hlf, np.ascontiguousarray(ordered[:, : self.n_constituents])

    def _empty(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.zeros(0, np.int64),
            np.zeros((0, len(HLF_COLUMNS)), np.float32),
            np.zeros((0, self.n_constituents, len(MOMENTUM_COLUMNS)), np.float32),
        )

    def _sorted_full(self, start: int, stop: int, local: np.ndarray | None) -> np.ndarray:
        try:
            particles = np.asarray(self._constituents[start:stop])
        except OSError as error:
            raise corrupt_file_error(self.path, error, remedy=self._remedy) from None
        if local is not None:
            particles = particles[local]
        return sort_by_pt(particles[..., self._momentum_index].astype(np.float32))

    def _labels(self, one_hot: np.ndarray, file_rows: np.ndarray) -> np.ndarray:
        valid = np.isin(one_hot, (0.0, 1.0)).all(axis=1) & (one_hot.sum(axis=1) == 1)
        if not valid.all():
            bad = int(np.argmin(valid))
            values = ", ".join(
                f"{n}={v:g}" for n, v in zip(LABEL_COLUMNS, one_hot[bad], strict=True)
            )
            raise FormatError(
                f"{self.path}: key 'jets' row {int(file_rows[bad])}: expected exactly one of "
                f"{', '.join(LABEL_COLUMNS)} to be 1 and the others 0, found {values}"
            )
        return np.argmax(one_hot, axis=1).astype(np.int64)

    def _validate(self) -> None:
        missing = [key for key in REQUIRED_KEYS if key not in self._file]
        if missing:
            raise FormatError(
                f"{self.path}: missing key(s) {missing}; expected {list(REQUIRED_KEYS)} in a raw "
                f"hls4ml jet file, found {sorted(self._file.keys())}"
            )
        self._jets = self._dataset("jets", ndim=2)
        self._constituents = self._dataset("jetConstituentList", ndim=3)
        jet_names = self._names("jetFeatureNames")
        particle_names = self._names("particleFeatureNames")

        if self._jets.shape[1] != len(jet_names):
            raise FormatError(
                f"{self.path}: key 'jets' has {self._jets.shape[1]} columns but "
                f"'jetFeatureNames' lists {len(jet_names)} names"
            )
        n_jets, self._n_particles, n_features = self._constituents.shape
        if n_jets != self._jets.shape[0]:
            raise FormatError(
                f"{self.path}: key 'jetConstituentList' has {n_jets} jets, expected "
                f"{self._jets.shape[0]} (the rows of 'jets')"
            )
        if n_features > len(particle_names):
            raise FormatError(
                f"{self.path}: key 'jetConstituentList' has {n_features} features per "
                f"constituent but 'particleFeatureNames' lists only {len(particle_names)}"
            )
        if self._n_particles < self.n_constituents:
            raise FormatError(
                f"{self.path}: key 'jetConstituentList' holds {self._n_particles} constituents "
                f"per jet, fewer than dataset.n_constituents={self.n_constituents}"
            )
        self._label_index = self._lookup("jetFeatureNames", jet_names, LABEL_COLUMNS)
        self._hlf_index = self._lookup("jetFeatureNames", jet_names, HLF_COLUMNS)
        self._momentum_index = self._lookup(
            "particleFeatureNames", particle_names[:n_features], MOMENTUM_COLUMNS
        )

    def _dataset(self, key: str, *, ndim: int) -> h5py.Dataset:
        node = self._file[key]
        if not isinstance(node, h5py.Dataset) or node.ndim != ndim:
            found = f"shape {node.shape}" if isinstance(node, h5py.Dataset) else "a group"
            raise FormatError(
                f"{self.path}: key {key!r}: expected a {ndim}-D dataset, found {found}"
            )
        return node

    def _names(self, key: str) -> list[str]:
        node = self._dataset(key, ndim=1)
        try:
            raw = node[()]
        except OSError as error:
            raise corrupt_file_error(self.path, error, remedy=self._remedy) from None
        return [item.decode() if isinstance(item, bytes) else str(item) for item in raw]

    def _lookup(self, key: str, names: list[str], wanted: tuple[str, ...]) -> np.ndarray:
        position = {name: index for index, name in enumerate(names)}
        missing = [name for name in wanted if name not in position]
        if missing:
            raise FormatError(f"{self.path}: key {key!r} lacks {missing}; found {names}")
        return np.array([position[name] for name in wanted])
