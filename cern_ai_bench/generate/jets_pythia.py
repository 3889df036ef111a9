"""Generate one chunk of truth-matched jets of one class with Pythia 8 and FastJet.

A chunk is the unit of parallel work of the embedded generator: a fresh Pythia instance with its
own seed generates events until ``n_jets`` jets of the class pass the selection, so the output of
a chunk depends only on its :class:`ChunkTask`, never on which process ran it or in which order.

Per event: final-state particles except neutrinos are clustered with anti-kT
(:class:`~cern_ai_bench.generate.jets_physics.JetPhysics`), jets are matched to the truth objects
of :mod:`~cern_ai_bench.generate.jets_matching`, and matched jets in the pT and eta windows are
kept. Jets whose 16 high-level features are not all finite (a groomed jet too small for a ratio)
are dropped and counted. Events are produced in batches with ``Pythia.nextBatch``, which returns
the whole record as awkward arrays (no per-particle Python).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import awkward as ak
import fastjet
import numpy as np
import pythia8mc

from cern_ai_bench.data.hls4ml_columns import HLF_COLUMN_INDICES
from cern_ai_bench.generate.jets_constituents import constituent_features
from cern_ai_bench.generate.jets_matching import EventRecord, eta_phi, match_jets, truth_objects
from cern_ai_bench.generate.jets_physics import NEUTRINO_IDS, JetPhysics
from cern_ai_bench.generate.substructure import jet_features, silence_fastjet_banner

#: Largest number of events per ``nextBatch`` call (bounds memory; ~1,500 record lines each).
MAX_BATCH_EVENTS = 200
#: Events per matched jet after which a chunk gives up (a misconfiguration, not bad luck).
MAX_EVENTS_PER_JET = 50


@dataclass(frozen=True)
class ChunkTask:
    """One unit of generation work.

    Attributes:
        label: class name (``g, q, W, Z, t``).
        index: chunk number within the class.
        n_jets: jets to produce.
        pythia_seed: Pythia ``Random:seed``.
        n_constituents: constituents kept per jet ``P`` (pT-leading, zero-padded).
        physics: generation and selection settings.
    """

    label: str
    index: int
    n_jets: int
    pythia_seed: int
    n_constituents: int
    physics: JetPhysics


@dataclass
class ChunkResult:
    """The jets of one chunk and its bookkeeping.

    Attributes:
        features: ``(n_jets, 53)`` float32 jet features (``JET_FEATURE_NAMES`` order).
        constituents: ``(n_jets, P, 16)`` float32 ``jetConstituentList`` rows.
        events: Pythia events generated.
        rejected_nonfinite: matched jets dropped for a non-finite high-level feature.
        seconds_generation: time in Pythia, clustering and matching.
        seconds_features: time in substructure and constituent features.
    """

    label: str
    index: int
    features: np.ndarray
    constituents: np.ndarray
    events: int = 0
    rejected_nonfinite: int = 0
    seconds_generation: float = 0.0
    seconds_features: float = 0.0


def generate_chunk(task: ChunkTask) -> ChunkResult:
    """Generate the jets of one chunk (see the module docstring)."""
    silence_fastjet_banner()
    pythia = _make_pythia(task)
    features: list[np.ndarray] = []
    constituents: list[np.ndarray] = []
    result = ChunkResult(task.label, task.index, np.empty(0), np.empty(0))
    have = 0
    while have < task.n_jets:
        if result.events > MAX_EVENTS_PER_JET * task.n_jets + 1000:
            raise RuntimeError(
                f"class {task.label!r}: only {have} of {task.n_jets} jets passed the selection "
                f"in {result.events} events; check the physics settings"
            )
        # Size the batch from the yield so far (1 jet per event before the first batch).
        per_event = have / result.events if have else 1.0
        n_events = min(MAX_BATCH_EVENTS, math.ceil((task.n_jets - have) / per_event) + 5)
        start = time.perf_counter()
        jets = _matched_jets(pythia.nextBatch(n_events), task.label, task.physics)
        result.events += n_events
        middle = time.perf_counter()
        result.seconds_generation += middle - start
        if len(jets) == 0:
            continue
        table = jet_features(jets)
        finite = np.isfinite(table[:, list(HLF_COLUMN_INDICES)]).all(axis=1)
        result.rejected_nonfinite += int(np.count_nonzero(~finite))
        jets, table = jets[finite], table[finite]
        padded, jet_p4 = _padded_p4(jets, task.n_constituents)
        features.append(table.astype(np.float32))
        constituents.append(constituent_features(padded, jet_p4))
        have += len(table)
        result.seconds_features += time.perf_counter() - middle
    result.features = np.concatenate(features)[: task.n_jets]
    result.constituents = np.concatenate(constituents)[: task.n_jets]
    return result


def _make_pythia(task: ChunkTask) -> pythia8mc.Pythia:
    pythia = pythia8mc.Pythia("", False)  # no banner
    for line in task.physics.pythia_settings(task.label, task.pythia_seed):
        if not pythia.readString(line):
            raise RuntimeError(f"Pythia rejected the setting {line!r}")
    if not pythia.init():
        raise RuntimeError(f"Pythia initialisation failed for class {task.label!r}")
    return pythia


def _matched_jets(events: ak.Array, label: str, physics: JetPhysics) -> ak.Array:
    """Constituents of the selected jets of a batch, ``n_jets * var * {px, py, pz, E}``.

    Constituents are sorted by decreasing pT; jets come in event order.
    """
    record = events["prt"]
    counts = ak.to_numpy(ak.num(record, axis=1))
    pid = ak.to_numpy(ak.flatten(record["id"]))
    status = ak.to_numpy(ak.flatten(record["status"]))
    p4 = np.stack([ak.to_numpy(ak.flatten(record["p"][k])) for k in ("px", "py", "pz", "e")], 1)

    final = (status > 0) & ~np.isin(np.abs(pid), NEUTRINO_IDS)
    event_of_line = np.repeat(np.arange(len(counts)), counts)
    particles = ak.unflatten(
        ak.zip({"px": p4[final, 0], "py": p4[final, 1], "pz": p4[final, 2], "E": p4[final, 3]}),
        np.bincount(event_of_line[final], minlength=len(counts)),
    )
    sequence = fastjet.ClusterSequence(
        particles, fastjet.JetDefinition(fastjet.antikt_algorithm, physics.jet_radius)
    )
    # Jets well below the window still take part in the matching (nearest jet wins).
    per_event = sequence.constituents(min_pt=0.5 * physics.jet_pt_min)
    jets = ak.flatten(per_event, axis=1)
    jet_p4 = np.stack([ak.to_numpy(ak.sum(jets[k], axis=1)) for k in ("px", "py", "pz", "E")], 1)
    jet_eta, jet_phi = eta_phi(jet_p4)
    jet_pt = np.hypot(jet_p4[:, 0], jet_p4[:, 1])
    in_window = (
        (jet_pt >= physics.jet_pt_min)
        & (jet_pt <= physics.jet_pt_max)
        & (np.abs(jet_eta) < physics.jet_abs_eta_max)
    )

    line_offsets = np.concatenate([[0], np.cumsum(counts)])
    jet_offsets = np.concatenate([[0], np.cumsum(ak.to_numpy(ak.num(per_event, axis=1)))])
    d1 = ak.to_numpy(ak.flatten(record["daughter1"]))
    d2 = ak.to_numpy(ak.flatten(record["daughter2"]))
    selected: list[int] = []
    for event in range(len(counts)):
        lines = slice(line_offsets[event], line_offsets[event + 1])
        first, last = jet_offsets[event], jet_offsets[event + 1]
        objects = truth_objects(
            EventRecord(pid[lines], status[lines], d1[lines], d2[lines], p4[lines]),
            label,
            light_quark_max_id=physics.light_quark_max_id,
        )
        matched = match_jets(
            objects, jet_eta[first:last], jet_phi[first:last], radius=physics.match_radius
        )
        selected.extend(first + i for i in matched if in_window[first + i])
    kept = jets[np.asarray(selected, dtype=np.int64)]
    return kept[ak.argsort(np.hypot(kept["px"], kept["py"]), axis=1, ascending=False)]


def _padded_p4(jets: ak.Array, n_constituents: int) -> tuple[np.ndarray, np.ndarray]:
    """``(N, P, 4)`` zero-padded pT-leading constituents and ``(N, 4)`` full-jet four-momenta."""
    fields = ("px", "py", "pz", "E")
    flat = np.stack([ak.to_numpy(ak.flatten(jets[k])) for k in fields], axis=1)
    counts = ak.to_numpy(ak.num(jets, axis=1))
    jet_index = np.repeat(np.arange(len(counts)), counts)
    position = ak.to_numpy(ak.flatten(ak.local_index(jets, axis=1)))
    keep = position < n_constituents
    padded = np.zeros((len(counts), n_constituents, 4))
    padded[jet_index[keep], position[keep]] = flat[keep]
    jet_p4 = np.stack(
        [np.bincount(jet_index, weights=flat[:, k], minlength=len(counts)) for k in range(4)], 1
    )
    return padded, jet_p4
