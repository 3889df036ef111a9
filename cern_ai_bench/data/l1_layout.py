"""The ADC2021 Level-1 event layout: 19 object slots x (pT, eta, phi, class id).

Govorkova et al., Sci. Data 9, 118 (2022), arXiv:2107.02157, and the challenge's example code
(mpp-hep/ADC2021-examplecode): every event holds MET in slot 0, up to 4 electrons in slots 1-4, up
to 4 muons in slots 5-8 and up to 10 jets in slots 9-18, each group ordered by pT, in GeV and
radians. Empty slots are zero with class 0. Because the public export zeroes the pT and eta of
jets beyond |eta| = 4 but keeps their phi and class (and does not re-sort), a slot is *filled*
exactly when its pT is positive: masks come from pT, never from the class id.

Both the embedded generator and the public-file loader use these constants, so the two cannot
disagree on the layout.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CLASS_IDS",
    "FEATURE_NAMES",
    "N_SLOTS",
    "PARTICLE_CLASSES",
    "SLOTS",
    "filled_mask",
]

#: Object slots per event.
N_SLOTS = 19
#: Values per slot, in this order (the file's ``Particles_Names``).
FEATURE_NAMES: tuple[str, ...] = ("Pt", "Eta", "Phi", "Class")
#: The file's ``Particles_Classes``: the class id of each object group is its position + 1.
PARTICLE_CLASSES: tuple[str, ...] = (
    "MET_class_1",
    "Four_Ele_class_2",
    "Four_Mu_class_3",
    "Ten_Jet_class_4",
)
#: Slot range of each object group.
SLOTS: dict[str, range] = {
    "met": range(0, 1),
    "electrons": range(1, 5),
    "muons": range(5, 9),
    "jets": range(9, 19),
}
#: Class id written in the fourth column of each group's filled slots.
CLASS_IDS: dict[str, int] = {"met": 1, "electrons": 2, "muons": 3, "jets": 4}


def filled_mask(particles: np.ndarray) -> np.ndarray:
    """``(N, 19)`` bool: slots holding an object (pT > 0), for ``(N, 19, >=1)`` particles."""
    return particles[..., 0] > 0
