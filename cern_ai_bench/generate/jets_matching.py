"""Truth labelling of generated jets: find the object a jet comes from and match it.

Works on one event's Pythia record as NumPy arrays indexed like Pythia's event record
(index 0 is the system line; ``daughter1``/``daughter2`` are indices into the same arrays).
Pythia 8.3 status codes (Bierlich et al., SciPost Phys. Codeb. 2022, 8, section on the event
record): ``|status| = 22`` marks intermediate resonances of the hard process (the W, Z or top),
``|status| = 23`` its outgoing partons; a negative status means the entry was decayed or copied.

A W or Z jet is the anti-kT jet nearest to the boson, with the boson and both decay quarks within
the match radius of the jet axis (fully contained); a top jet the same with the b quark and both
W-decay quarks; a q or g jet the jet nearest to an outgoing hard parton of the right flavour.
Each object yields at most one jet and each jet belongs to at most one object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cern_ai_bench.generate.jets_physics import RESONANCE_IDS

_GLUON = 21
_W = 24
_MAX_QUARK = 5


@dataclass(frozen=True)
class EventRecord:
    """One event's Pythia record; every array is ``(n_entries,)``, momenta in GeV."""

    pid: np.ndarray
    status: np.ndarray
    daughter1: np.ndarray
    daughter2: np.ndarray
    p4: np.ndarray  # (n_entries, 4): px, py, pz, E


@dataclass(frozen=True)
class TruthObject:
    """Direction of a matched object and of the decay quarks a jet must contain.

    ``eta`` is the pseudorapidity, ``phi`` the azimuth in radians.
    """

    eta: float
    phi: float
    daughters_eta: tuple[float, ...] = ()
    daughters_phi: tuple[float, ...] = ()


def eta_phi(p4: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pseudorapidity and azimuth of ``(..., 4)`` four-momenta (eta = +-inf along the beam)."""
    pt = np.hypot(p4[..., 0], p4[..., 1])
    with np.errstate(divide="ignore"):
        eta = np.arcsinh(p4[..., 2] / pt)
    return eta, np.arctan2(p4[..., 1], p4[..., 0])


def delta_r(eta1: np.ndarray, phi1: np.ndarray, eta2: np.ndarray, phi2: np.ndarray) -> np.ndarray:
    """Distance in (pseudorapidity, azimuth), azimuth difference wrapped into [0, pi]."""
    dphi = np.abs(np.mod(phi1 - phi2 + np.pi, 2 * np.pi) - np.pi)
    return np.hypot(eta1 - eta2, dphi)


def truth_objects(record: EventRecord, label: str, *, light_quark_max_id: int) -> list[TruthObject]:
    """The objects of class ``label`` in one event that a jet may be matched to.

    Args:
        record: the event's Pythia record.
        label: ``g``, ``q`` (outgoing hard partons), ``W``, ``Z`` or ``t`` (hard resonances).
        light_quark_max_id: largest |PDG id| counted as ``q``.
    """
    abs_pid = np.abs(record.pid)
    abs_status = np.abs(record.status)
    if label in ("g", "q"):
        if label == "g":
            flavour = abs_pid == _GLUON
        else:
            flavour = (abs_pid >= 1) & (abs_pid <= light_quark_max_id)
        partons = np.flatnonzero((abs_status == 23) & flavour)
        eta, phi = eta_phi(record.p4[partons])
        return [TruthObject(float(e), float(p)) for e, p in zip(eta, phi, strict=True)]
    objects = []
    for first in np.flatnonzero((abs_pid == RESONANCE_IDS[label]) & (abs_status == 22)):
        decay = _decay_quarks(record, int(first), label)
        if decay is None:
            continue
        resonance, quarks = decay
        eta, phi = eta_phi(record.p4[[resonance, *quarks]])
        objects.append(TruthObject(float(eta[0]), float(phi[0]), tuple(eta[1:]), tuple(phi[1:])))
    return objects


def match_jets(
    objects: list[TruthObject], jet_eta: np.ndarray, jet_phi: np.ndarray, *, radius: float
) -> list[int]:
    """Indices of the jets matched to ``objects`` (in object order).

    An object takes the jet nearest to it if that jet lies within ``radius``, is not yet taken,
    and contains every decay quark of the object within ``radius`` of its axis.

    Args:
        objects: truth objects of one event.
        jet_eta, jet_phi: ``(n_jets,)`` axes of the event's jets.
        radius: match and containment radius.
    """
    taken: list[int] = []
    if jet_eta.size == 0:
        return taken
    for obj in objects:
        distance = delta_r(jet_eta, jet_phi, obj.eta, obj.phi)
        nearest = int(np.argmin(distance))
        if distance[nearest] >= radius or nearest in taken:
            continue
        contained = delta_r(
            np.asarray(obj.daughters_eta),
            np.asarray(obj.daughters_phi),
            jet_eta[nearest],
            jet_phi[nearest],
        )
        if np.all(contained < radius):
            taken.append(nearest)
    return taken


def _last_copy(record: EventRecord, index: int) -> int:
    """Follow an entry down to the copy that decays.

    Follows carbon copies (shower recoil) and emissions that keep the identity (a W radiating a
    photon, a top radiating a gluon), like Pythia's ``Particle::iBotCopyId``.
    """
    pid = record.pid
    while True:
        same = [i for i in daughters(record, index) if pid[i] == pid[index]]
        if len(same) != 1:
            return index
        index = same[0]


def daughters(record: EventRecord, index: int) -> list[int]:
    """Indices of the daughters of entry ``index``, in increasing order.

    Follows Pythia 8's ``Particle::daughterList()`` (event record documentation, "daughter1,
    daughter2"): ``d1 == d2 == 0`` no daughters; ``d1 == d2 > 0`` or ``d1 > 0, d2 == 0`` one
    daughter, ``d1``; ``0 < d1 < d2`` the range ``d1 .. d2``; ``0 < d2 < d1`` two separate
    daughters, ``d2`` and ``d1`` (e.g. in the backwards evolution of initial-state showers). Pythia
    never stores ``d1 == 0 < d2``; it is read here as no daughters (index 0 is the system line).
    """
    d1, d2 = int(record.daughter1[index]), int(record.daughter2[index])
    if d1 <= 0:
        return []
    if d2 == d1 or d2 <= 0:
        return [d1]
    if d2 > d1:
        return list(range(d1, d2 + 1))
    return [d2, d1]


def _decay_quarks(record: EventRecord, first: int, label: str) -> tuple[int, list[int]] | None:
    """The decaying copy of a resonance and the quarks a contained jet must hold.

    W and Z: the two decay quarks. Top: the quark from ``t -> W q`` (a b quark but for CKM-
    suppressed decays) and the two quarks of the W decay. None when the decay is not hadronic.
    """
    resonance = _last_copy(record, first)
    products = daughters(record, resonance)
    abs_ids = np.abs(record.pid[products]) if products else np.array([], dtype=int)
    quarks = [i for i, a in zip(products, abs_ids, strict=True) if 1 <= a <= _MAX_QUARK]
    if label == "t":
        w = [i for i, a in zip(products, abs_ids, strict=True) if a == _W]
        if len(quarks) != 1 or len(w) != 1:
            return None
        w_decay = _decay_quarks(record, w[0], "W")
        if w_decay is None:
            return None
        return resonance, quarks + w_decay[1]
    if len(quarks) != 2:
        return None
    return resonance, quarks
