"""A toy detector: final-state particles to ADC2021-layout L1 events (particle level + toy detector).

This is **not Delphes** and not a CMS simulation. It turns the stable particles of generated
events into the objects of the ADC2021 layout (:mod:`cern_ai_bench.data.l1_layout`: MET, up to 4
electrons, 4 muons and 10 jets, pT-ordered) with simple, documented rules, and applies the
ADC2021 event selection (>= 1 electron or muon with pT > 23 GeV; Govorkova et al., Sci. Data 9,
118 (2022), arXiv:2107.02157). Numbers marked *Delphes* are taken from the Delphes CMS card
(``cards/delphes_card_CMS.tcl`` of github.com/delphes/delphes; de Favereau et al., JHEP 02 (2014)
057, arXiv:1307.6346); the others are our choices, reasoned in :class:`ToyDetector`.

Per event, in this order:

1. **Visible particles**: stable particles other than neutrinos with |eta| < 5 (the calorimeter
   coverage of the Delphes CMS card); the rest escapes and counts as missing momentum.
2. **Leptons**: each stable electron (muon) is *dressed* with the photons within dR < 0.1 that
   are nearer to it than to any other lepton (the particle-level lepton convention of LHC
   fiducial measurements, standing in for the calorimeter's brems recovery), its pT is smeared
   (Gaussian), and it is kept when it lies in the acceptance (|eta| < 3.0 for electrons, 2.1 for
   muons: the ADC2021 bounds), has smeared pT > 10 GeV, survives the identification efficiency
   and is isolated: the scalar pT sum of the other visible particles with pT > 0.5 GeV within
   dR < 0.3 (its dressing photons excluded) is below 0.12 (electrons) or 0.25 (muons) of its pT.
   (Isolation can be switched off, ``lepton_isolation=False``: the QCD multijet process uses
   that, see :mod:`cern_ai_bench.generate.l1_processes`.)
3. **Jets**: anti-kT R = 0.4 (FastJet) on the visible particles except the kept leptons and
   their photons; each jet's four-momentum is scaled by a Gaussian energy resolution, and jets
   with smeared pT > 15 GeV and |eta| < 4 are kept (the ADC2021 export removes jets beyond
   |eta| = 4; here they are never stored, so filled jet slots have no gaps).
4. **MET**: minus the vector pT sum of the visible particles, corrected for the smearing of the
   kept leptons and of every clustered jet (so MET carries the object resolutions); eta = 0.
5. **Selection**: the event passes when a kept electron or muon has pT > 23 GeV.

Not modelled: pile-up (ADC2021 has <mu> = 20), fake leptons, photons as objects, charge, tracking,
L1 granularity and bit widths, b- or tau-tagging. Random numbers come from the caller's
``numpy.random.Generator`` in a fixed order, so a batch is reconstructed identically whenever the
generator is in the same state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np

from cern_ai_bench.data.l1_layout import CLASS_IDS, N_SLOTS, SLOTS

__all__ = [
    "DETECTOR",
    "NEUTRINO_IDS",
    "ParticleBatch",
    "ToyDetector",
    "reconstruct",
]

#: PDG ids of the neutrinos (invisible).
NEUTRINO_IDS: tuple[int, ...] = (12, 14, 16)
ELECTRON_ID, MUON_ID, PHOTON_ID = 11, 13, 22


@dataclass(frozen=True)
class ParticleBatch:
    """The stable particles of ``N`` events, flat, events one after the other.

    Attributes:
        counts: ``(N,)`` particles per event.
        pid: ``(M,)`` PDG ids, ``M = counts.sum()``.
        p4: ``(M, 4)`` float64 ``(px, py, pz, E)`` in GeV.
    """

    counts: np.ndarray
    pid: np.ndarray
    p4: np.ndarray

    def __post_init__(self) -> None:
        total = int(np.sum(self.counts))
        if self.pid.shape != (total,) or self.p4.shape != (total, 4):
            raise ValueError(
                f"ParticleBatch: counts sum to {total} particles but pid has shape "
                f"{self.pid.shape} and p4 {self.p4.shape}; expected ({total},) and ({total}, 4)"
            )

    def __len__(self) -> int:
        return len(self.counts)


@dataclass(frozen=True)
class ToyDetector:
    """Object definitions, acceptances, resolutions and efficiencies (GeV, radians).

    Attributes:
        visible_abs_eta_max: calorimeter coverage; particles beyond are invisible (*Delphes*:
            towers up to |eta| = 5).
        dressing_radius: photons within this dR of a lepton are added to it (0.1: the usual
            particle-level dressing cone of LHC fiducial measurements).
        electron_abs_eta_max, muon_abs_eta_max, jet_abs_eta_max: acceptances of the ADC2021
            objects (3.0, 2.1, 4.0: the bounds used for the ADC2021 inputs in Govorkova et al.,
            Nat. Mach. Intell. 4, 154 (2022), code ``toa-p/l1_anomaly_ae``; jets beyond 4 are
            removed by the ADC2021 export).
        lepton_pt_min: smallest electron and muon pT (*Delphes*: identification efficiency 0
            below 10 GeV).
        electron_efficiency_barrel, electron_efficiency_endcap: electron identification
            efficiency for |eta| <= 1.5 and above (*Delphes*: 0.95 and 0.85 up to |eta| = 2.5;
            the endcap value is used up to the ADC2021 bound of 3.0).
        muon_efficiency: muon efficiency (*Delphes*: 0.95 up to |eta| = 2.4, below 1 TeV).
        isolation_radius: cone of the isolation sum (0.3, as asked of this generator; *Delphes*
            uses 0.5 with the same ratios, so these leptons are slightly less isolated-demanding).
        isolation_particle_pt_min: smallest pT of a particle counted in the sum (*Delphes* 0.5).
        electron_isolation_max, muon_isolation_max: largest isolation sum / lepton pT (*Delphes*
            0.12 and 0.25).
        jet_radius: anti-kT radius (0.4, the CMS standard).
        jet_pt_min: smallest smeared jet pT (15 GeV: our choice for L1-like jets, UNVERIFIED
            against the ADC2021 Delphes card).
        jet_cluster_pt_min: jets are clustered down to this pT before smearing, so that jets
            below ``jet_pt_min`` can migrate above it and all enter the MET correction.
        trigger_lepton_pt_min: the ADC2021 pre-selection, >= 1 electron or muon above it (23).
        lepton_isolation: require isolated leptons. Every embedded process does except the QCD
            multijet one, whose isolated leptons are too rare to generate (see
            :mod:`cern_ai_bench.generate.l1_processes`).
        smear: apply resolutions and efficiencies (False gives the ideal detector of the tests).
    """

    visible_abs_eta_max: float = 5.0
    dressing_radius: float = 0.1
    electron_abs_eta_max: float = 3.0
    muon_abs_eta_max: float = 2.1
    jet_abs_eta_max: float = 4.0
    lepton_pt_min: float = 10.0
    electron_efficiency_barrel: float = 0.95
    electron_efficiency_endcap: float = 0.85
    muon_efficiency: float = 0.95
    isolation_radius: float = 0.3
    isolation_particle_pt_min: float = 0.5
    electron_isolation_max: float = 0.12
    muon_isolation_max: float = 0.25
    jet_radius: float = 0.4
    jet_pt_min: float = 15.0
    jet_cluster_pt_min: float = 8.0
    trigger_lepton_pt_min: float = 23.0
    lepton_isolation: bool = True
    smear: bool = True

    def electron_resolution(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Relative pT resolution of electrons (*Delphes* electron momentum smearing).

        sigma/pT = sqrt(a^2 + (b pT)^2) with (a, b) = (0.03, 1.3e-3) for |eta| <= 0.5,
        (0.05, 1.7e-3) up to 1.5 and (0.15, 3.1e-3) beyond (Delphes stops at 2.5; used to 3.0).
        """
        a = np.select([np.abs(eta) <= 0.5, np.abs(eta) <= 1.5], [0.03, 0.05], 0.15)
        b = np.select([np.abs(eta) <= 0.5, np.abs(eta) <= 1.5], [1.3e-3, 1.7e-3], 3.1e-3)
        return np.hypot(a, b * pt)

    def muon_resolution(self, pt: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Relative pT resolution of muons (*Delphes* muon momentum smearing).

        sigma/pT = sqrt(a^2 + (b pT)^2) with (a, b) = (0.01, 1.0e-4) for |eta| <= 0.5,
        (0.015, 1.5e-4) up to 1.5 and (0.025, 3.5e-4) beyond.
        """
        a = np.select([np.abs(eta) <= 0.5, np.abs(eta) <= 1.5], [0.01, 0.015], 0.025)
        b = np.select([np.abs(eta) <= 0.5, np.abs(eta) <= 1.5], [1.0e-4, 1.5e-4], 3.5e-4)
        return np.hypot(a, b * pt)

    def jet_resolution(self, energy: np.ndarray, eta: np.ndarray) -> np.ndarray:
        """Relative energy resolution of jets (*Delphes* hadron-calorimeter resolution).

        sigma/E = sqrt(c^2 + s^2 / E) with (c, s) = (0.05, 1.5) for |eta| <= 3 and (0.13, 2.7)
        beyond: a calorimeter-only jet, as at L1 (about 22 % at E = 50 GeV).
        """
        forward = np.abs(eta) > 3.0
        c = np.where(forward, 0.13, 0.05)
        s = np.where(forward, 2.7, 1.5)
        return np.sqrt(c**2 + s**2 / np.maximum(energy, 1e-9))


#: The detector every embedded L1 sample is reconstructed with.
DETECTOR = ToyDetector()


def reconstruct(
    batch: ParticleBatch, rng: np.random.Generator, detector: ToyDetector = DETECTOR
) -> tuple[np.ndarray, np.ndarray]:
    """Reconstruct L1 objects of a batch of events and apply the lepton selection.

    Args:
        batch: the stable particles of ``N`` events (neutrinos included: they are dropped here).
        rng: source of the resolutions and efficiencies, drawn in a fixed order (also when
            ``detector.smear`` is off), so results depend only on the batch and its state.
        detector: the detector settings.

    Returns:
        ``(particles, passed)``: ``(N, 19, 4)`` float32 events in the ADC2021 layout (pT, eta,
        phi, class id; empty slots zero) and ``(N,)`` bool, True for events passing the
        >= 1 lepton with pT > 23 GeV selection.
    """
    n_events = len(batch)
    out = np.zeros((n_events, N_SLOTS, 4), np.float32)
    event = np.repeat(np.arange(n_events), batch.counts)
    offsets = np.concatenate([[0], np.cumsum(batch.counts)]).astype(np.int64)
    pt, eta, phi = _pt_eta_phi(batch.p4)
    abs_pid = np.abs(batch.pid)
    visible = ~np.isin(abs_pid, NEUTRINO_IDS) & (np.abs(eta) < detector.visible_abs_eta_max)

    leptons = _leptons(batch, event, offsets, pt, eta, phi, visible, rng, detector)
    used = leptons.used  # particles taken by kept leptons (themselves and their photons)

    jets = _jets(batch, event, visible & ~used, n_events, rng, detector)

    # MET: minus the visible vector sum, with each object's smearing shift added.
    met_x = -np.bincount(event[visible], batch.p4[visible, 0], minlength=n_events)
    met_y = -np.bincount(event[visible], batch.p4[visible, 1], minlength=n_events)
    for shift_event, shift_x, shift_y in (leptons.shift, jets.shift):
        met_x -= np.bincount(shift_event, shift_x, minlength=n_events)
        met_y -= np.bincount(shift_event, shift_y, minlength=n_events)
    out[:, 0, 0] = np.hypot(met_x, met_y)
    out[:, 0, 2] = np.arctan2(met_y, met_x)
    out[:, 0, 3] = np.where(out[:, 0, 0] > 0, CLASS_IDS["met"], 0)

    for group, pid in (("electrons", ELECTRON_ID), ("muons", MUON_ID)):
        mine = leptons.pid == pid
        _fill(out, group, leptons.event[mine], leptons.kinematics[mine])
    _fill(out, "jets", jets.event, jets.kinematics)

    lepton_pt = out[:, 1:9, 0]  # electron and muon slots: the leading ones are in the slots
    passed = (lepton_pt > detector.trigger_lepton_pt_min).any(axis=1)
    return out, passed


@dataclass
class _Objects:
    """Kept objects: their event, ``(n, 3)`` smeared (pT, eta, phi) and MET shifts."""

    event: np.ndarray
    kinematics: np.ndarray
    shift: tuple[np.ndarray, np.ndarray, np.ndarray]
    pid: np.ndarray | None = None
    used: np.ndarray | None = None


def _leptons(
    batch: ParticleBatch,
    event: np.ndarray,
    offsets: np.ndarray,
    pt: np.ndarray,
    eta: np.ndarray,
    phi: np.ndarray,
    visible: np.ndarray,
    rng: np.random.Generator,
    detector: ToyDetector,
) -> _Objects:
    """Dressed, smeared, efficient, isolated electrons and muons in the acceptance."""
    abs_pid = np.abs(batch.pid)
    is_lepton = visible & np.isin(abs_pid, (ELECTRON_ID, MUON_ID))
    candidates = np.flatnonzero(is_lepton)
    owner, other = _pairs(event[candidates], offsets)
    # Pairs (candidate, other particle of its event); the candidate itself is not its own pair.
    not_self = other != candidates[owner]
    owner, other = owner[not_self], other[not_self]
    d_r = np.hypot(eta[candidates][owner] - eta[other], _dphi(phi[candidates][owner], phi[other]))

    # Dressing: a photon within the cone joins its nearest lepton candidate.
    photon_pair = visible[other] & (abs_pid[other] == PHOTON_ID) & (d_r < detector.dressing_radius)
    nearest = np.full(len(batch.pid), np.inf)
    np.minimum.at(nearest, other[photon_pair], d_r[photon_pair])
    dressing = photon_pair & (d_r == nearest[other])
    p4 = batch.p4[candidates].copy()
    np.add.at(p4, owner[dressing], batch.p4[other[dressing]])
    dressed_pt, dressed_eta, dressed_phi = _pt_eta_phi(p4)

    # Resolution, then acceptance, threshold, efficiency, isolation (random numbers are drawn
    # for every candidate, in candidate order, whatever the cuts).
    is_electron = abs_pid[candidates] == ELECTRON_ID
    resolution = np.where(
        is_electron,
        detector.electron_resolution(dressed_pt, dressed_eta),
        detector.muon_resolution(dressed_pt, dressed_eta),
    )
    gauss = rng.standard_normal(len(candidates))
    uniform = rng.random(len(candidates))
    scale = np.maximum(1.0 + resolution * gauss, 0.0) if detector.smear else np.ones(len(p4))
    smeared_pt = dressed_pt * scale
    barrel = np.abs(dressed_eta) <= 1.5
    efficiency = np.where(
        is_electron,
        np.where(barrel, detector.electron_efficiency_barrel, detector.electron_efficiency_endcap),
        detector.muon_efficiency,
    )
    eta_max = np.where(is_electron, detector.electron_abs_eta_max, detector.muon_abs_eta_max)
    iso_pair = (
        visible[other]
        & ~dressing
        & (pt[other] > detector.isolation_particle_pt_min)
        & (d_r < detector.isolation_radius)
    )
    isolation = np.bincount(owner[iso_pair], pt[other[iso_pair]], minlength=len(candidates))
    iso_max = np.where(is_electron, detector.electron_isolation_max, detector.muon_isolation_max)
    everyone = np.ones(len(candidates), bool)
    identified = uniform < efficiency if detector.smear else everyone
    isolated = isolation < iso_max * smeared_pt if detector.lepton_isolation else everyone
    kept = (
        (np.abs(dressed_eta) < eta_max)
        & (smeared_pt > detector.lepton_pt_min)
        & identified
        & isolated
    )

    used = np.zeros(len(batch.pid), dtype=bool)
    used[candidates[kept]] = True
    used[other[dressing & kept[owner]]] = True
    shift = (scale[kept] - 1.0)[:, None] * p4[kept, :2]
    return _Objects(
        event=event[candidates][kept],
        kinematics=np.stack([smeared_pt[kept], dressed_eta[kept], dressed_phi[kept]], axis=1),
        shift=(event[candidates][kept], shift[:, 0], shift[:, 1]),
        pid=abs_pid[candidates][kept],
        used=used,
    )


def _jets(
    batch: ParticleBatch,
    event: np.ndarray,
    inputs: np.ndarray,
    n_events: int,
    rng: np.random.Generator,
    detector: ToyDetector,
) -> _Objects:
    """Anti-kT jets of the ``inputs`` particles, energy-smeared, in pT and eta acceptance."""
    p4 = batch.p4[inputs]
    particles = ak.unflatten(
        ak.zip({"px": p4[:, 0], "py": p4[:, 1], "pz": p4[:, 2], "E": p4[:, 3]}),
        np.bincount(event[inputs], minlength=n_events),
    )
    definition = fastjet.JetDefinition(fastjet.antikt_algorithm, detector.jet_radius)
    jets = fastjet.ClusterSequence(particles, definition).inclusive_jets(
        min_pt=detector.jet_cluster_pt_min
    )
    jet_event = np.repeat(np.arange(n_events), ak.to_numpy(ak.num(jets, axis=1)))
    flat = ak.flatten(jets)
    jet_p4 = np.stack([ak.to_numpy(flat[k]).astype(np.float64) for k in ("px", "py", "pz", "E")], 1)
    # FastJet returns each event's jets in its own order: sort by (event, pT) so the random
    # numbers below meet the jets in an order that does not depend on the clustering internals.
    order = np.lexsort((-np.hypot(jet_p4[:, 0], jet_p4[:, 1]), jet_event))
    jet_event, jet_p4 = jet_event[order], jet_p4[order]
    pt, eta, phi = _pt_eta_phi(jet_p4)
    gauss = rng.standard_normal(len(jet_p4))
    if detector.smear:
        scale = np.maximum(1.0 + detector.jet_resolution(jet_p4[:, 3], eta) * gauss, 0.0)
    else:
        scale = np.ones(len(jet_p4))
    smeared_pt = pt * scale
    kept = (smeared_pt > detector.jet_pt_min) & (np.abs(eta) < detector.jet_abs_eta_max)
    shift = (scale - 1.0)[:, None] * jet_p4[:, :2]  # every clustered jet enters the MET
    return _Objects(
        event=jet_event[kept],
        kinematics=np.stack([smeared_pt[kept], eta[kept], phi[kept]], axis=1),
        shift=(jet_event, shift[:, 0], shift[:, 1]),
    )


def _fill(out: np.ndarray, group: str, event: np.ndarray, kinematics: np.ndarray) -> None:
    """Write the objects of one group into its slots, leading pT first, at most the slot count."""
    slots = SLOTS[group]
    order = np.lexsort((-kinematics[:, 0], event))
    event, kinematics = event[order], kinematics[order]
    rank = np.arange(len(event)) - np.searchsorted(event, event, side="left")
    keep = rank < len(slots)
    rows, columns = event[keep], slots.start + rank[keep]
    out[rows, columns, :3] = kinematics[keep]
    out[rows, columns, 3] = CLASS_IDS[group]


def _pairs(owner_event: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each owner (a candidate in event ``owner_event[i]``), every particle of its event.

    Returns:
        ``(owner, particle)`` index arrays, one entry per pair.
    """
    sizes = offsets[owner_event + 1] - offsets[owner_event]
    owner = np.repeat(np.arange(len(owner_event)), sizes)
    first_pair = np.cumsum(sizes) - sizes
    particle = np.arange(int(sizes.sum())) + np.repeat(offsets[owner_event] - first_pair, sizes)
    return owner, particle


def _pt_eta_phi(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """pT, pseudorapidity and azimuth of ``(n, 4)`` four-momenta (eta = +-inf along the beam)."""
    pt = np.hypot(p4[:, 0], p4[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        eta = np.arcsinh(p4[:, 2] / pt)
    eta = np.where(pt > 0, eta, np.copysign(np.inf, p4[:, 2]))
    return pt, eta, np.arctan2(p4[:, 1], p4[:, 0])


def _dphi(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Azimuthal difference wrapped into [-pi, pi)."""
    return (a - b + math.pi) % (2 * math.pi) - math.pi
