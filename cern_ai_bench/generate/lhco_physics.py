"""Physics of the embedded LHCO-style dijet sample: Pythia cards, particle list, trigger.

The stand-in for the LHC Olympics 2020 R&D sample (Kasieczka, Nachman, Shih et al., Rep. Prog.
Phys. 84 (2021) 124201, arXiv:2101.08320), following the recipe measured in the project's
reference digest (``anomaly.md`` section 6):

- background: QCD dijets, ``HardQCD:all = on`` with ``PhaseSpace:pTHatMin = 1000`` GeV;
- signal: W' (3.5 TeV) -> X (500 GeV) Y (100 GeV), X -> q q', Y -> q q, as in the R&D sample;
  X is declared as a charged scalar ``9000001`` and Y as a neutral scalar ``9000002``, each with
  one quark channel (``meMode = 100`` keeps the branching ratio as written); W' has the single
  decay channel X Y;
- 13 TeV, hadronisation on, **multiparton interactions off** (3x faster; the R&D sample had
  them, so jet masses here lack the underlying-event shift; documented in the card);
- particles: the stable visible particles (no neutrinos) with ``|eta| < 2.5`` and pT > 0.5 GeV,
  massless (pT, eta, phi) as in the R&D files (which hold Delphes energy-flow objects; no
  detector response is simulated here), at most the 700 of highest pT (the format's width);
- trigger: the leading anti-kT R = 1.0 jet of those particles has pT > 1.2 TeV (the R&D
  sample's single-jet trigger).
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np
import pythia8mc

from cern_ai_bench.data.lhco_io import N_PARTICLES
from cern_ai_bench.generate.jets_physics import NEUTRINO_IDS
from cern_ai_bench.generate.l1_processes import MAX_PYTHIA_SEED, final_state

__all__ = [
    "COMMON_SETTINGS",
    "DIJET_PROCESSES",
    "PHYSICS_VERSION",
    "SELECTION",
    "DijetCard",
    "DijetSelection",
    "lhco_particles",
    "make_dijet_pythia",
]

#: Version of the cards and the selection; part of the cache key.
PHYSICS_VERSION = 1

COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:eCM = 13000",
    "PartonLevel:MPI = off",
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowInfo = 0",
)


@dataclass(frozen=True)
class DijetCard:
    """One process of the dijet sample.

    Attributes:
        key: file-name stem (``qcd_dijets``, ``wprime_xy``).
        label: the truth label written in column 2100 (0 background, 1 signal).
        description: for the manifest and messages.
        settings: Pythia ``readString`` lines.
        expected_efficiency: measured trigger efficiency (sizes the first batch; a chunk gives
            up below a 20th of it).
    """

    key: str
    label: int
    description: str
    settings: tuple[str, ...]
    expected_efficiency: float


DIJET_PROCESSES: dict[str, DijetCard] = {
    card.key: card
    for card in (
        DijetCard(
            "qcd_dijets",
            0,
            "QCD dijets, pTHat > 1 TeV",
            ("HardQCD:all = on", "PhaseSpace:pTHatMin = 1000"),
            expected_efficiency=0.4,
        ),
        DijetCard(
            "wprime_xy",
            1,
            "W' (3.5 TeV) -> X (500 GeV) Y (100 GeV) -> (q q')(q q)",
            (
                "NewGaugeBoson:ffbar2Wprime = on",
                "34:m0 = 3500",
                # Without a mass window Pythia finds no open channel for the X Y decay.
                "34:mMin = 3000",
                "34:mMax = 4000",
                "9000001:new = X X_bar 1 3 0 500. 0.01 400. 600.",
                "9000002:new = Y void 1 0 0 100. 0.01 80. 120.",
                "9000001:addChannel = 1 1.0 100 2 -1",
                "9000002:addChannel = 1 1.0 100 1 -1",
                "9000002:addChannel = 1 1.0 100 2 -2",
                "34:onMode = off",
                "34:addChannel = 1 1.0 100 9000001 9000002",
            ),
            expected_efficiency=0.7,
        ),
    )
}


@dataclass(frozen=True)
class DijetSelection:
    """Particle acceptance and trigger (see the module doc)."""

    particle_eta_max: float = 2.5
    particle_pt_min: float = 0.5
    trigger_jet_r: float = 1.0
    trigger_jet_pt: float = 1200.0


SELECTION = DijetSelection()


def make_dijet_pythia(card: DijetCard, seed: int) -> pythia8mc.Pythia:
    """An initialised Pythia instance for one process and seed.

    Raises:
        ValueError: seed outside ``[1, MAX_PYTHIA_SEED]``.
        RuntimeError: Pythia rejected a setting or failed to initialise.
    """
    if not 1 <= seed <= MAX_PYTHIA_SEED:
        raise ValueError(f"Pythia seed must lie in [1, {MAX_PYTHIA_SEED}], got {seed}")
    pythia = pythia8mc.Pythia("", False)  # no banner
    lines = (*COMMON_SETTINGS, *card.settings, "Random:setSeed = on", f"Random:seed = {seed}")
    for line in lines:
        if not pythia.readString(line):
            raise RuntimeError(f"process {card.key!r}: Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"process {card.key!r}: Pythia initialisation failed")
    return pythia


def lhco_particles(
    events: ak.Array, selection: DijetSelection = SELECTION
) -> tuple[np.ndarray, np.ndarray]:
    """The LHCO particle table of a ``Pythia.nextBatch`` result and its trigger decision.

    Returns:
        ``(particles, passed)``: ``(n, 700, 3)`` float64 (pT [GeV], eta, phi) of each event's
        accepted particles in decreasing pT, zero-padded; ``(n,)`` bool trigger decision.
    """
    batch = final_state(events)
    n = len(batch.counts)
    event = np.repeat(np.arange(n), batch.counts)
    px, py, pz = batch.p4[:, 0], batch.p4[:, 1], batch.p4[:, 2]
    pt = np.hypot(px, py)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(np.where(pt > 0, pz / pt, np.inf))
    keep = (
        ~np.isin(np.abs(batch.pid), NEUTRINO_IDS)
        & (pt > selection.particle_pt_min)
        & (np.abs(eta) < selection.particle_eta_max)
    )
    event, pt, eta, phi = event[keep], pt[keep], eta[keep], np.arctan2(py, px)[keep]
    # Within each event, decreasing pT; then the first N_PARTICLES slots.
    order = np.lexsort((-pt, event))
    event, pt, eta, phi = event[order], pt[order], eta[order], phi[order]
    counts = np.bincount(event, minlength=n)
    slot = np.arange(len(event)) - np.repeat(np.cumsum(counts) - counts, counts)
    fits = slot < N_PARTICLES
    particles = np.zeros((n, N_PARTICLES, 3))
    particles[event[fits], slot[fits]] = np.stack([pt, eta, phi], axis=1)[fits]
    return particles, _leading_jet_pt(pt, eta, phi, counts, selection) > selection.trigger_jet_pt


def _leading_jet_pt(
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    counts: np.ndarray,
    selection: DijetSelection,
) -> np.ndarray:
    """``(n,)`` pT of each event's leading anti-kT jet of all accepted particles (0 if none)."""
    events = ak.unflatten(
        ak.zip(
            {
                "px": pt * np.cos(phi),
                "py": pt * np.sin(phi),
                "pz": pt * np.sinh(eta),
                "E": pt * np.cosh(eta),
            }
        ),
        counts,
    )
    sequence = fastjet.ClusterSequence(
        events, fastjet.JetDefinition(fastjet.antikt_algorithm, selection.trigger_jet_r)
    )
    jets = sequence.inclusive_jets(min_pt=0.5 * selection.trigger_jet_pt)
    return ak.to_numpy(ak.fill_none(ak.max(np.hypot(jets.px, jets.py), axis=1), 0.0))
