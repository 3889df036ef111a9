"""Pythia 8 cards of the embedded L1 sample: the Standard Model cocktail and four BSM signals.

The sample stands in for the ADC2021 dataset (Govorkova et al., Sci. Data 9, 118 (2022),
arXiv:2107.02157): 13 TeV pp collisions, a background cocktail whose composition *after the
lepton filter* is W -> l nu 59.2 %, QCD multijet 33.8 %, Z -> ll 6.7 %, ttbar 0.3 % (the numbers
of a tutorial by a dataset author, ``thaarres/quantumUniverse_pynqZ2``), and four signals of the
same masses as ADC2021's: A (50 GeV) -> Z* Z* -> 4 leptons, leptoquark (80 GeV) -> b tau,
h0 (60 GeV) -> tau tau, h+ (60 GeV) -> tau nu. Events are generated with Pythia 8.3 (Bierlich et
al., SciPost Phys. Codeb. 2022, 8; processes, switches and particle ids as in its online manual,
``HiggsProcesses``, ``LeptoquarkProcesses``, ``QCDHardProcesses``), reconstructed by the toy
detector of :mod:`cern_ai_bench.generate.l1_detector` and kept when they pass the lepton filter.
The cocktail is mixed by counts of accepted events, so cross-sections never enter.

Choices that trade fidelity for speed (measured on the 2-core development machine; numbers in
``datasets/embedded_l1.md``), all recorded in :data:`COMMON_SETTINGS` and the cards:

- **No multiparton interactions** (``PartonLevel:MPI = off``): MPI makes every process about 5x
  slower. Its soft underlying event, like the pile-up of ADC2021 (<mu> = 20, not modelled either),
  mostly adds soft activity to isolation cones, soft jets and MET; hard jets come from the hard
  process and the parton showers, which are kept, with hadronisation and decays.
- **Unpolarised tau decays** (``TauDecays:mode = 0``): Pythia's spin-correlated tau decays cost
  about 5 ms per event with a tau (a W -> tau nu event takes 8x longer than W -> e nu). The tau
  decay products then lose their polarisation-dependent energy sharing (W and h+ produce taus of
  opposite helicity).
- **QCD multijet as heavy-flavour production** (``HardQCD:hardbbbar``, ``hardccbar``, pTHat >
  45 GeV) **without lepton isolation**: the leptons of QCD events come from b and c decays and are
  isolated in about 1 in 1000 events (0.1 % with pTHat > 30-45 GeV), which would take ~1 CPU
  second per accepted event. The QCD member therefore keeps non-isolated leptons (the
  loose-lepton template of data-driven QCD estimates); about 6.5 % of its events pass.
  pTHat > 45 GeV keeps about 55 % of the cross-section such events have with pTHat > 15 GeV.
  Flavour excitation and gluon splitting are left out.
- **h+ -> tau nu with leptonic tau decays only** (``15:onIfAny = 11 13``): with a hadronic tau
  decay an h+ event has no lepton for the filter (0 of 6000 such events passed, so they would
  make < 3 % of the filtered sample at 95 % CL), so forcing the leptonic decays (35 % of taus)
  leaves the filtered sample unchanged up to that and triples its efficiency.
"""

from __future__ import annotations

from dataclasses import dataclass

import awkward as ak
import numpy as np
import pythia8mc

from cern_ai_bench.generate.l1_detector import ParticleBatch

__all__ = [
    "BACKGROUND_FRACTIONS",
    "COMMON_SETTINGS",
    "MAX_PYTHIA_SEED",
    "PHYSICS_VERSION",
    "PROCESSES",
    "SIGNALS",
    "ProcessCard",
    "final_state",
    "make_pythia",
]

#: Version of the cards below and of the toy detector; part of every sample's cache key. Bump it
#: whenever a change alters the generated events.
PHYSICS_VERSION = 1
#: Largest Pythia seed (``Random:seed`` accepts 0 ... 900,000,000; 0 means "from the clock").
MAX_PYTHIA_SEED = 900_000_000

#: Settings shared by every process (reasons in the module docstring).
COMMON_SETTINGS: tuple[str, ...] = (
    "Beams:eCM = 13000",
    "PartonLevel:MPI = off",
    "TauDecays:mode = 0",
)
#: Silence the banner, statistics and event listings.
_QUIET = (
    "Print:quiet = on",
    "Next:numberCount = 0",
    "Next:numberShowEvent = 0",
    "Next:numberShowProcess = 0",
    "Next:numberShowInfo = 0",
)


@dataclass(frozen=True)
class ProcessCard:
    """One process of the sample.

    Attributes:
        key: short name (the ADC2021 sample key for the signals).
        description: what it is, for the manifest and messages.
        settings: Pythia ``readString`` lines of the hard process and decays.
        isolated_leptons: reconstruct with lepton isolation (False only for QCD multijet).
        expected_efficiency: fraction of events passing the lepton filter, as measured (sizes
            the first batch of a chunk; a chunk gives up below a 20th of it).
    """

    key: str
    description: str
    settings: tuple[str, ...]
    isolated_leptons: bool = True
    expected_efficiency: float = 0.1


_HIGGS_BSM = ("Higgs:useBSM = on",)

#: Every process, background first, in plan order.
PROCESSES: dict[str, ProcessCard] = {
    card.key: card
    for card in (
        ProcessCard(
            "w_lnu",
            "W -> l nu (l = e, mu, tau)",
            ("WeakSingleBoson:ffbar2W = on", "24:onMode = off", "24:onIfAny = 11 13 15"),
            expected_efficiency=0.31,
        ),
        ProcessCard(
            "qcd",
            "QCD multijet: b bbar and c cbar production, pTHat > 45 GeV, non-isolated leptons",
            ("HardQCD:hardbbbar = on", "HardQCD:hardccbar = on", "PhaseSpace:pTHatMin = 45"),
            isolated_leptons=False,
            expected_efficiency=0.066,
        ),
        ProcessCard(
            "z_ll",
            "Z/gamma* -> l l (l = e, mu, tau), m(ll) > 40 GeV",
            (
                "WeakSingleBoson:ffbar2gmZ = on",
                "PhaseSpace:mHatMin = 40",
                "23:onMode = off",
                "23:onIfAny = 11 13 15",
            ),
            expected_efficiency=0.42,
        ),
        ProcessCard(
            "ttbar",
            "t tbar, inclusive decays",
            ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
            expected_efficiency=0.27,
        ),
        ProcessCard(
            "ato4l",
            "A (50 GeV) -> Z* Z* -> 4 leptons (e, mu), gg -> A",
            (
                *_HIGGS_BSM,
                "HiggsBSM:gg2A3 = on",
                "36:m0 = 50",
                "HiggsA3:coup2Z = 1",  # default 0: no A -> Z Z at all
                "36:onMode = off",
                "36:onIfMatch = 23 23",
                "23:onMode = off",
                "23:onIfAny = 11 13",
                "23:mMin = 1",  # far off-shell Z* of a 50 GeV parent
            ),
            expected_efficiency=0.26,
        ),
        ProcessCard(
            "leptoquark",
            "leptoquark pairs (80 GeV), LQ -> b tau",
            (
                "LeptoQuark:gg2LQLQbar = on",
                "LeptoQuark:qqbar2LQLQbar = on",
                "42:m0 = 80",
                "42:0:products = 5 -15",  # the first channel sets the flavour couplings
            ),
            expected_efficiency=0.105,
        ),
        ProcessCard(
            "h0_tautau",
            "neutral scalar h0 (60 GeV) -> tau tau, gg -> H2",
            (
                *_HIGGS_BSM,
                "HiggsBSM:gg2H2 = on",
                "35:m0 = 60",
                "35:onMode = off",
                "35:onIfMatch = 15 -15",
            ),
            expected_efficiency=0.048,
        ),
        ProcessCard(
            "hplus_taunu",
            "charged scalar h+ (60 GeV) -> tau nu, f fbar' -> H+-, leptonic tau decays",
            (
                *_HIGGS_BSM,
                "HiggsBSM:ffbar2H+- = on",
                "37:m0 = 60",
                "37:onMode = off",
                "37:onIfMatch = 15 16",
                "15:onMode = off",
                "15:onIfAny = 11 13",
            ),
            expected_efficiency=0.031,
        ),
    )
}

#: Composition of the background after the lepton filter (fractions of accepted events).
BACKGROUND_FRACTIONS: dict[str, float] = {
    "w_lnu": 0.592,
    "qcd": 0.338,
    "z_ll": 0.067,
    "ttbar": 0.003,
}
#: The four signals, in the ADC2021 challenge page's order (``cern_ai_bench.data.adc2021``).
SIGNALS: tuple[str, ...] = ("ato4l", "leptoquark", "h0_tautau", "hplus_taunu")


def pythia_settings(card: ProcessCard, seed: int) -> list[str]:
    """Every ``readString`` line of one process and seed.

    Raises:
        ValueError: seed outside ``[1, MAX_PYTHIA_SEED]``.
    """
    if not 1 <= seed <= MAX_PYTHIA_SEED:
        raise ValueError(f"Pythia seed must lie in [1, {MAX_PYTHIA_SEED}], got {seed}")
    return [
        *COMMON_SETTINGS,
        *card.settings,
        "Random:setSeed = on",
        f"Random:seed = {seed}",
        *_QUIET,
    ]


def make_pythia(card: ProcessCard, seed: int) -> pythia8mc.Pythia:
    """An initialised Pythia instance for one process and seed.

    Raises:
        RuntimeError: Pythia rejected a setting or failed to initialise.
    """
    pythia = pythia8mc.Pythia("", False)  # no banner
    for line in pythia_settings(card, seed):
        if not pythia.readString(line):
            raise RuntimeError(f"process {card.key!r}: Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"process {card.key!r}: Pythia initialisation failed")
    return pythia


def final_state(events: ak.Array) -> ParticleBatch:
    """The stable particles of a ``Pythia.nextBatch`` result, as a :class:`ParticleBatch`."""
    record = events["prt"]
    counts = ak.to_numpy(ak.num(record, axis=1))
    final = ak.to_numpy(ak.flatten(record["status"])) > 0
    event = np.repeat(np.arange(len(counts)), counts)
    momentum = record["p"]
    p4 = np.stack(
        [ak.to_numpy(ak.flatten(momentum[k]))[final] for k in ("px", "py", "pz", "e")], axis=1
    )
    return ParticleBatch(
        counts=np.bincount(event[final], minlength=len(counts)),
        pid=ak.to_numpy(ak.flatten(record["id"]))[final],
        p4=p4.astype(np.float64, copy=False),
    )
