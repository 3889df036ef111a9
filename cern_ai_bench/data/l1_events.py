"""Checks and flat features of ADC2021-layout L1 events, ``(N, 19, 4)`` arrays in memory.

Shared by the file reader/writer (:mod:`cern_ai_bench.data.adc2021_io`) and the embedded L1
generator, so a generated event and a public one pass the same checks. The slot layout is
:mod:`cern_ai_bench.data.l1_layout` (Govorkova et al., Sci. Data 9, 118 (2022),
arXiv:2107.02157).

:func:`first_problem` finds the first value breaking the format: NaN/inf, negative pT,
|phi| > pi (+ :data:`PHI_TOLERANCE`), a filled slot (pT > 0) whose class id is not its group's
(removed jets of the public export keep class 4 with pT = 0, so empty slots are not checked),
and an event with no object at all (every public event passed a >= 1 lepton with pT > 23 GeV
filter, so such an event means a damaged or mis-written file).
"""

from __future__ import annotations

import math

import numpy as np

from cern_ai_bench.data.l1_layout import CLASS_IDS, FEATURE_NAMES, N_SLOTS, SLOTS
from cern_ai_bench.data.schema import SchemaError

__all__ = [
    "FLAT_FEATURE_NAMES",
    "PHI_TOLERANCE",
    "first_problem",
    "slot_name",
    "to_features",
]

#: Allowed excess of |phi| over pi (rad): float32 rounds pi up by 9e-8; a wrong unit or a
#: [0, 2 pi) convention overshoots by far more.
PHI_TOLERANCE = 1e-3

#: Class id each slot carries when filled (MET 1, electrons 2, muons 3, jets 4).
_SLOT_CLASS = np.array(
    [next(CLASS_IDS[g] for g, s in SLOTS.items() if slot in s) for slot in range(N_SLOTS)],
    dtype=np.float32,
)
_GROUP_LABEL = {"met": "MET", "electrons": "electron", "muons": "muon", "jets": "jet"}


def slot_name(slot: int) -> str:
    """Readable name of slot ``slot``: ``"MET"``, ``"electron 1"`` ... ``"jet 10"``."""
    for group, slots in SLOTS.items():
        if slot in slots:
            return "MET" if group == "met" else f"{_GROUP_LABEL[group]} {slot - slots.start + 1}"
    raise IndexError(f"slot {slot} outside 0..{N_SLOTS - 1}")


#: Names of the 57 :func:`to_features` columns, slot-major (``MET_pt``, ``MET_eta`` ...).
FLAT_FEATURE_NAMES: tuple[str, ...] = tuple(
    f"{slot_name(slot).replace(' ', '')}_{name.lower()}"
    for slot in range(N_SLOTS)
    for name in FEATURE_NAMES[:3]
)


def to_features(particles: np.ndarray) -> np.ndarray:
    """The 57 inputs of the challenge's example models: the class column dropped, flattened.

    ``mpp-hep/ADC2021-examplecode`` (``create_datasets.py``) takes ``Particles[:, :, :-1]`` and
    reshapes it to ``(N, 57)``, so the order is slot-major: slot 0 (pT, eta, phi), slot 1 ...
    (names in :data:`FLAT_FEATURE_NAMES`).

    Args:
        particles: ``(N, 19, 4)`` or ``(N, 19, 3)`` events.

    Returns:
        ``(N, 57)`` float32.
    """
    particles = np.asarray(particles)
    if particles.ndim != 3 or particles.shape[1] != N_SLOTS or particles.shape[2] not in (3, 4):
        raise SchemaError(
            f"particles: expected shape (N, 19, 4) or (N, 19, 3), got {particles.shape}"
        )
    return np.ascontiguousarray(particles[:, :, :3], dtype=np.float32).reshape(-1, 3 * N_SLOTS)


def _number(value: float) -> str:
    """A float32 value as written in a message (``3.3``, not ``3.299999952316284``)."""
    return f"{float(value):.7g}"


def first_problem(values: np.ndarray, first_event: int = 0) -> tuple[bool, str] | None:
    """The first value of ``(n, 19, 4)`` float events breaking the format, or None if all are good.

    Returns:
        ``(non_finite, description)``; the description names the event (``first_event`` +
        row), the slot and the rule. Checks run in the order of the module doc; "first" is
        the first of the first failing kind.
    """

    def first(kind: np.ndarray) -> tuple[int, int, str]:
        row, slot = (int(i) for i in np.argwhere(kind)[0][:2])
        return row, slot, f"event {first_event + row}, slot {slot} ({slot_name(slot)})"

    finite = np.isfinite(values)
    if not finite.all():
        row, slot, where = first(~finite.all(axis=2))
        column = int(np.argmin(finite[row, slot]))
        value = _number(values[row, slot, column])
        return True, (
            f"non-finite value {value} at {where}, column {FEATURE_NAMES[column]!r} (the first "
            "one); the file is damaged or not the published version"
        )
    pt, phi, label = values[..., 0], values[..., 2], values[..., 3]
    if (pt < 0).any():
        row, slot, where = first(pt < 0)
        value = _number(pt[row, slot])
        return False, f"negative pT {value} GeV at {where} (the first one); pT must be >= 0"
    outside = np.abs(phi) > math.pi + PHI_TOLERANCE
    if outside.any():
        row, slot, where = first(outside)
        value = _number(phi[row, slot])
        return False, f"phi {value} at {where} (the first one); phi must lie in [-pi, pi] rad"
    filled = pt > 0
    wrong = filled & (label != _SLOT_CLASS)
    if wrong.any():
        row, slot, where = first(wrong)
        value, expected = _number(label[row, slot]), int(_SLOT_CLASS[slot])
        return False, (
            f"class id {value} at {where}, a filled slot (pT {_number(pt[row, slot])} GeV; the "
            f"first one); it must carry its group's class id {expected} (slots: MET 0, "
            "electrons 1-4, muons 5-8, jets 9-18): columns swapped or another layout?"
        )
    empty = ~filled.any(axis=1)
    if empty.any():
        row = int(np.argmax(empty))
        return False, (
            f"event {first_event + row} has no object (pT = 0 in all {N_SLOTS} slots; the first "
            f"of {int(empty.sum())} such events in this block); every ADC2021 event holds at "
            "least the lepton that passed the trigger filter, so the file is damaged or "
            "mis-written"
        )
    return None
