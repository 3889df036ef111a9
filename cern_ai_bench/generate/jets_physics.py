"""Physics settings of the embedded hls4ml-like jet sample, defined in one place.

The sample stands in for the hls4ml LHC jet dataset (Duarte et al., JINST 13 (2018) P07027):
jets of five classes (``g, q, W, Z, t``) at pT ~ 1 TeV from 13 TeV pp collisions, showered and
hadronised with Pythia 8.3 (Bierlich et al., SciPost Phys. Codeb. 2022, 8) and clustered with
anti-kT R = 0.8 in FastJet (Cacciari, Salam, Soyez, EPJC 72 (2012) 1896). The dataset card
``datasets/embedded_jets.md`` documents every choice made here; change both together and bump
:data:`PHYSICS_VERSION` whenever a change alters the generated jets (the version is part of the
cache key, so old samples are never silently reused).
"""

from __future__ import annotations

from dataclasses import dataclass

from cern_ai_bench.data.schema import HLS4ML_CLASSES

#: Version of the physics settings below and of the feature definitions
#: (:mod:`cern_ai_bench.generate.substructure`, :mod:`cern_ai_bench.generate.jets_constituents`);
#: part of the cache key of every generated sample.
PHYSICS_VERSION = 1

#: PDG ids of the neutrinos, removed from the final state (the hls4ml ``nonu`` tag).
NEUTRINO_IDS: tuple[int, ...] = (12, 14, 16)

#: Hadronic decays only: W and Z decay to quark pairs (d, u, s, c, b).
_HADRONIC_W = ("24:onMode = off", "24:onIfAny = 1 2 3 4 5")
_HADRONIC_Z = ("23:onMode = off", "23:onIfAny = 1 2 3 4 5")

#: Pythia hard processes per class. The q and g processes follow the hls4ml sample names
#: (``gg`` and ``qq``: both outgoing partons of one kind); W and Z are produced with a recoiling
#: parton (the hls4ml sample used WW and ZZ pairs; see the dataset card).
PROCESSES: dict[str, tuple[str, ...]] = {
    "g": ("HardQCD:gg2gg = on", "HardQCD:qqbar2gg = on"),
    "q": (
        "HardQCD:qq2qq = on",
        "HardQCD:qqbar2qqbarNew = on",
        "HardQCD:gg2qqbar = on",
        # u, d, s, c as produced flavours: MadGraph's default jet definition (4 flavours).
        "HardQCD:nQuarkNew = 4",
    ),
    "W": ("WeakBosonAndParton:qqbar2Wg = on", "WeakBosonAndParton:qg2Wq = on", *_HADRONIC_W),
    "Z": (
        "WeakBosonAndParton:qqbar2gmZg = on",
        "WeakBosonAndParton:qg2gmZq = on",
        "WeakZ0:gmZmode = 2",  # pure Z, no photon interference
        *_HADRONIC_Z,
    ),
    "t": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on", *_HADRONIC_W),
}

#: PDG id of the object a jet of each heavy class is matched to.
RESONANCE_IDS: dict[str, int] = {"W": 24, "Z": 23, "t": 6}

#: Largest Pythia seed (``Random:seed`` accepts 0 ... 900,000,000; 0 means "from the clock").
MAX_PYTHIA_SEED = 900_000_000


@dataclass(frozen=True)
class JetPhysics:
    """Generation, jet selection and truth-matching settings (energies in GeV).

    Attributes:
        ecm: pp centre-of-mass energy.
        pthat_min, pthat_max: window on the hard-process transverse momentum (the boson / top /
            parton pT), mimicking hls4ml's 995-1005 GeV parton window with slack for the shower.
        mpi: multiparton interactions (underlying event) on; hls4ml's choice is not documented.
        jet_radius: anti-kT radius R.
        jet_pt_min, jet_pt_max: window on the jet pT.
        jet_abs_eta_max: largest jet |pseudorapidity|.
        match_radius: largest (eta, phi) distance between the jet axis and the matched object,
            and, for W, Z and t, between the jet axis and every decay quark (containment).
        light_quark_max_id: largest |PDG id| that labels a jet ``q`` (4: u, d, s, c).
    """

    ecm: float = 13000.0
    pthat_min: float = 950.0
    pthat_max: float = 1100.0
    mpi: bool = True
    jet_radius: float = 0.8
    jet_pt_min: float = 800.0
    jet_pt_max: float = 1200.0
    jet_abs_eta_max: float = 2.0
    match_radius: float = 0.8
    light_quark_max_id: int = 4

    def pythia_settings(self, label: str, seed: int) -> list[str]:
        """Pythia ``readString`` lines for one class and one seed.

        Args:
            label: class name, one of :data:`~cern_ai_bench.data.schema.HLS4ML_CLASSES`.
            seed: Pythia seed in ``[1, MAX_PYTHIA_SEED]``.

        Raises:
            ValueError: unknown class or seed out of range.
        """
        if label not in PROCESSES:
            raise ValueError(f"unknown jet class {label!r}; expected one of {HLS4ML_CLASSES}")
        if not 1 <= seed <= MAX_PYTHIA_SEED:
            raise ValueError(f"Pythia seed must lie in [1, {MAX_PYTHIA_SEED}], got {seed}")
        return [
            f"Beams:eCM = {self.ecm}",
            f"PhaseSpace:pTHatMin = {self.pthat_min}",
            f"PhaseSpace:pTHatMax = {self.pthat_max}",
            f"PartonLevel:MPI = {'on' if self.mpi else 'off'}",
            *PROCESSES[label],
            "Random:setSeed = on",
            f"Random:seed = {seed}",
            # Silence the banner, statistics and event listings.
            "Print:quiet = on",
            "Next:numberCount = 0",
            "Next:numberShowEvent = 0",
            "Next:numberShowProcess = 0",
            "Next:numberShowInfo = 0",
        ]


#: The settings every embedded sample is generated with.
PHYSICS = JetPhysics()
