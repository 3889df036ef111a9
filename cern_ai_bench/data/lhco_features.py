"""Dijet features of LHC Olympics 2020 events, computed with FastJet, and the published ones.

Two routes give the same 14 jet columns, the layout of the organisers' high-level-features file
``events_anomalydetection_v2.features.h5`` (Zenodo record 4536377)::

    pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1 tau3j1 pxj2 pyj2 pzj2 mj2 tau1j2 tau2j2 tau3j2 (+ label)

- :func:`dijet_features` / :func:`lhco_feature_table` cluster the particles of raw events
  (:mod:`cern_ai_bench.data.lhco_io`) with anti-kT R = 1.0 and keep jets with pT > 20 GeV, as
  the organisers' example does (github.com/lhcolympics2020/parsingscripts,
  ``LHCOlympics2020_pyjetexample.ipynb``: ``cluster(..., R=1.0, p=-1)``,
  ``inclusive_jets(ptmin=20)``). Jet 1 and jet 2 are the two highest-pT jets, momenta and masses
  in GeV. tau_N (N = 1, 2, 3) is fjcontrib's N-subjettiness (Thaler, Van Tilburg, JHEP 03 (2011)
  015 and JHEP 02 (2012) 093) through FastJet's awkward interface: normalised measure with
  beta = 1 and R0 = 1.0 (the jet radius), one-pass kT axes. Which axes and R0 the published file
  used is not documented (**UNVERIFIED**); tau21 = tau2 / tau1 does not depend on R0.
- :func:`read_lhco_features_file` reads the published file (pandas HDF5, columns by name).

From the 14 columns, :func:`derived_features` builds the five inputs of the weakly supervised
searches (CATHODE, Hallin et al., PRD 106 (2022) 055006, arXiv:2109.00546, repository
``HEPML-AnomalyDetection/CATHODE``, ``run_data_preparation_LHCORD.py``), in TeV:
``mjj`` (E = sqrt(p^2 + m^2) per jet), the jets ordered by mass: ``mj_min``,
``dmj = mj_max - mj_min``, ``tau21 = tau2 / (tau1 + 1e-5)`` of the lighter and of the heavier jet.
The signal region is 3.3 < mjj < 3.7 TeV.

Events with fewer than two jets above 20 GeV (none seen in the genuine sample) keep NaN in the
columns of the missing jet(s), so their derived features are NaN; :attr:`DijetFeatures.valid`
marks the events with two jets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import awkward as ak
import fastjet
import numpy as np

from cern_ai_bench.data.lhco_io import DEFAULT_CHUNK_EVENTS, iter_lhco
from cern_ai_bench.data.schema import SchemaError
from cern_ai_bench.generate.substructure import RECLUSTER_R, silence_fastjet_banner

__all__ = [
    "DERIVED_COLUMNS",
    "FEATURE_COLUMNS",
    "JET_COLUMNS",
    "SIGNAL_REGION_TEV",
    "DijetFeatures",
    "derived_features",
    "dijet_features",
    "in_signal_region",
    "lhco_feature_table",
]

#: Anti-kT radius and jet pT threshold [GeV] of the organisers' example.
JET_R = 1.0
JET_PTMIN_GEV = 20.0
#: N-subjettiness settings (fjcontrib names).
NSUB_MEASURE = "NormalizedMeasure"
NSUB_AXES = "OnePass_KT_Axes"
NSUB_BETA = 1.0
NSUB_R0 = 1.0
#: fjcontrib axes that need no extra parameter; FastJet's binding silently falls back to
#: ``KT_Axes`` on an unknown name, so names are checked here.
NSUB_AXES_CHOICES = frozenset(
    f"{prefix}{name}_Axes"
    for prefix in ("", "OnePass_")
    for name in ("KT", "CA", "WTA_KT", "WTA_CA")
)
#: The published features file's columns, in its order.
FEATURE_COLUMNS: tuple[str, ...] = (
    *(f"{name}j1" for name in ("px", "py", "pz", "m", "tau1", "tau2", "tau3")),
    *(f"{name}j2" for name in ("px", "py", "pz", "m", "tau1", "tau2", "tau3")),
    "label",
)
#: The 14 jet columns (all but the label).
JET_COLUMNS: tuple[str, ...] = FEATURE_COLUMNS[:-1]
#: Columns of :func:`derived_features` (CATHODE's order), masses in TeV.
DERIVED_COLUMNS: tuple[str, ...] = ("mjj", "mj_min", "dmj", "tau21_min", "tau21_max")
#: CATHODE's guard against tau1 = 0 in tau21 = tau2 / (tau1 + eps).
TAU21_EPSILON = 1e-5
#: Signal region in mjj [TeV] (CATHODE; the R&D signal is a 3.5 TeV W').
SIGNAL_REGION_TEV: tuple[float, float] = (3.3, 3.7)
#: Column offsets of a jet's block of 7 in :data:`JET_COLUMNS`.
_P3, _M, _TAU = slice(0, 3), 3, slice(4, 7)


@dataclass(frozen=True)
class DijetFeatures:
    """The two leading jets of many events.

    Attributes:
        table: ``(n, 14)`` float64 in :data:`JET_COLUMNS` order: per jet (px, py, pz) and mass
            in GeV, then tau1, tau2, tau3; NaN for a missing jet.
    """

    table: np.ndarray

    def __post_init__(self) -> None:
        if self.table.ndim != 2 or self.table.shape[1] != len(JET_COLUMNS):
            raise SchemaError(
                f"dijet table: expected shape (n, {len(JET_COLUMNS)}), got {self.table.shape}"
            )

    def __len__(self) -> int:
        return len(self.table)

    def _jet(self, j: int) -> np.ndarray:
        return self.table[:, 7 * j : 7 * j + 7]

    @property
    def valid(self) -> np.ndarray:
        """``(n,)`` bool: both jets present (every column finite)."""
        return np.isfinite(self.table).all(axis=1)

    @property
    def momenta(self) -> np.ndarray:
        """``(n, 2, 3)`` (px, py, pz) of jet 1 and jet 2 [GeV]."""
        return np.stack([self._jet(j)[:, _P3] for j in (0, 1)], axis=1)

    @property
    def masses(self) -> np.ndarray:
        """``(n, 2)`` jet masses [GeV]."""
        return np.stack([self._jet(j)[:, _M] for j in (0, 1)], axis=1)

    @property
    def taus(self) -> np.ndarray:
        """``(n, 2, 3)`` tau1, tau2, tau3 of jet 1 and jet 2."""
        return np.stack([self._jet(j)[:, _TAU] for j in (0, 1)], axis=1)

    @property
    def tau21(self) -> np.ndarray:
        """``(n, 2)`` tau2 / (tau1 + 1e-5) of jet 1 and jet 2 (CATHODE's guard)."""
        taus = self.taus
        return taus[..., 1] / (taus[..., 0] + TAU21_EPSILON)

    @property
    def mjj(self) -> np.ndarray:
        """``(n,)`` dijet invariant mass [GeV], E = sqrt(p^2 + m^2) per jet."""
        p = self.momenta
        energy = np.sqrt(np.sum(p**2, axis=2) + self.masses**2).sum(axis=1)
        return np.sqrt(np.maximum(energy**2 - np.sum(p.sum(axis=1) ** 2, axis=1), 0.0))


def derived_features(features: DijetFeatures) -> np.ndarray:
    """The five CATHODE inputs: ``(n, 5)`` float64 in :data:`DERIVED_COLUMNS` order.

    ``mjj``, ``mj_min`` and ``dmj = mj_max - mj_min`` in TeV; ``tau21_min`` / ``tau21_max`` are
    tau2 / (tau1 + 1e-5) of the lighter / heavier jet. NaN rows stay NaN (see
    :attr:`DijetFeatures.valid`).
    """
    masses = features.masses
    heavier = np.argmax(np.nan_to_num(masses, nan=-np.inf), axis=1)
    rows = np.arange(len(features))
    tau21 = features.tau21
    derived = np.stack(
        [
            features.mjj / 1000.0,
            masses[rows, 1 - heavier] / 1000.0,
            (masses[rows, heavier] - masses[rows, 1 - heavier]) / 1000.0,
            tau21[rows, 1 - heavier],
            tau21[rows, heavier],
        ],
        axis=1,
    )
    derived[~features.valid] = np.nan  # one jet alone gives no dijet features
    return derived


def in_signal_region(
    mjj_tev: np.ndarray, region: tuple[float, float] = SIGNAL_REGION_TEV
) -> np.ndarray:
    """``(n,)`` bool: ``low < mjj < high`` (TeV); NaN is outside."""
    low, high = region
    return (mjj_tev > low) & (mjj_tev < high)


def dijet_features(
    particles: np.ndarray,
    *,
    jet_r: float = JET_R,
    ptmin: float = JET_PTMIN_GEV,
    axes: str = NSUB_AXES,
    beta: float = NSUB_BETA,
    r0: float = NSUB_R0,
) -> DijetFeatures:
    """Cluster each event and describe its two highest-pT jets (see the module doc).

    All events go through FastJet's awkward multi-event interface at once: one anti-kT
    clustering call, then one N-subjettiness call over the leading jets' constituents.

    Args:
        particles: ``(n, P, 3)`` (pT [GeV], eta, phi), massless; slots with pT <= 0 are padding.
        jet_r: anti-kT radius.
        ptmin: minimum jet pT [GeV].
        axes: fjcontrib axes of tau_N (``OnePass_KT_Axes``, ``KT_Axes``, ``WTA_KT_Axes``, ...).
        beta: angular exponent of tau_N.
        r0: characteristic radius of the normalised measure.

    Returns:
        :class:`DijetFeatures` of the ``n`` events, NaN where a jet is missing.

    Raises:
        SchemaError: ``particles`` is not ``(n, P, 3)``.
        ValueError: ``axes`` is not in :data:`NSUB_AXES_CHOICES`.
    """
    if axes not in NSUB_AXES_CHOICES:
        raise ValueError(f"axes must be one of {sorted(NSUB_AXES_CHOICES)}, got {axes!r}")
    particles = np.asarray(particles, dtype=np.float64)
    if particles.ndim != 3 or particles.shape[2] != 3:
        raise SchemaError(
            f"particles: expected shape (n, P, 3) of (pT, eta, phi), got {particles.shape}"
        )
    n = len(particles)
    table = np.full((n, len(JET_COLUMNS)), np.nan)
    if n == 0:
        return DijetFeatures(table)
    silence_fastjet_banner()
    filled = particles[..., 0] > 0
    pt, eta, phi = particles[filled].T
    events = ak.unflatten(
        ak.zip(
            {
                "px": pt * np.cos(phi),
                "py": pt * np.sin(phi),
                "pz": pt * np.sinh(eta),
                "E": pt * np.cosh(eta),
            }
        ),
        np.count_nonzero(filled, axis=1),
    )
    sequence = fastjet.ClusterSequence(
        events, fastjet.JetDefinition(fastjet.antikt_algorithm, jet_r)
    )
    jets = sequence.inclusive_jets(min_pt=ptmin)
    constituents = sequence.constituents(min_pt=ptmin)  # same jet order as inclusive_jets
    order = ak.argsort(jets.px**2 + jets.py**2, axis=1, ascending=False)[:, :2]
    leading = jets[order]
    n_jets = ak.to_numpy(ak.num(leading, axis=1))
    # (event, slot) of every leading jet, in the order ak.flatten lists them.
    event_of = np.repeat(np.arange(n), n_jets)
    slot_of = np.arange(len(event_of)) - np.repeat(np.cumsum(n_jets) - n_jets, n_jets)
    columns = 7 * slot_of[:, None]

    flat = ak.flatten(leading, axis=1)
    px, py, pz, energy = (ak.to_numpy(flat[name]) for name in ("px", "py", "pz", "E"))
    mass = np.sqrt(np.maximum(energy**2 - px**2 - py**2 - pz**2, 0.0))
    table[event_of[:, None], columns + np.arange(4)] = np.stack([px, py, pz, mass], axis=1)
    if len(event_of):
        table[event_of[:, None], columns + np.arange(4, 7)] = _nsubjettiness(
            ak.flatten(constituents[order], axis=1), axes=axes, beta=beta, r0=r0
        )
    return DijetFeatures(table)


def _nsubjettiness(jets: ak.Array, *, axes: str, beta: float, r0: float) -> np.ndarray:
    """``(m, 3)`` tau1, tau2, tau3 of ``m`` jets given as ``m * var * {px, py, pz, E}``.

    fjcontrib's Njettiness takes all input particles of an "event", so each jet is one event
    of a multi-event cluster sequence; the clustering itself (C/A, as in
    :mod:`cern_ai_bench.generate.substructure`) is not used by tau_N.
    """
    sequence = fastjet.ClusterSequence(
        ak.zip({name: jets[name] for name in ("px", "py", "pz", "E")}),
        fastjet.JetDefinition(fastjet.cambridge_algorithm, RECLUSTER_R),
    )
    taus = sequence.njettiness(
        measure_definition=NSUB_MEASURE, axes_definition=axes, njets=[1, 2, 3], beta=beta, R0=r0
    )
    return ak.to_numpy(taus).astype(np.float64, copy=False).reshape(len(jets), 3)


def lhco_feature_table(
    path: str | Path,
    *,
    chunk_events: int = DEFAULT_CHUNK_EVENTS,
    max_events: int | None = None,
    progress: bool = True,
) -> tuple[DijetFeatures, np.ndarray]:
    """Dijet features of every event of a raw LHCO file, streamed chunk by chunk.

    Only one chunk of particles (``chunk_events x 700 x 3`` float64) is alive at a time; the
    result holds 14 float64 per event (112 bytes, 123 MB for the 1.1 M R&D events). About
    400-600 events/s on one shared core (genuine sample), mostly N-subjettiness.

    Args:
        path: raw LHCO file (:mod:`cern_ai_bench.data.lhco_io` format).
        chunk_events: events read and clustered at once.
        max_events: only the first events (None = all).
        progress: show a tqdm bar over events.

    Returns:
        ``(features, labels)``: :class:`DijetFeatures` and ``(N,)`` int8 labels, file order.

    Raises:
        As :func:`~cern_ai_bench.data.lhco_io.iter_lhco`.
    """
    return _concatenate(
        (dijet_features(chunk.particles), chunk.labels)
        for chunk in iter_lhco(
            path, chunk_events=chunk_events, max_events=max_events, progress=progress
        )
    )


def _concatenate(
    parts: Iterable[tuple[DijetFeatures, np.ndarray]],
) -> tuple[DijetFeatures, np.ndarray]:
    tables, labels = [], []
    for features, chunk_labels in parts:
        tables.append(features.table)
        labels.append(chunk_labels)
    if not tables:
        return DijetFeatures(np.zeros((0, len(JET_COLUMNS)))), np.zeros(0, np.int8)
    return DijetFeatures(np.concatenate(tables)), np.concatenate(labels)
