"""Longitudinal layouts of the calorimeters behind the CaloChallenge geometries, in radiation lengths.

The voxel geometries (:mod:`cern_ai_bench.data.calo_geometry`) give only the transverse binning of
each readout layer; the shower simulator also needs where each layer sits in depth and which
effective medium it is made of. A :class:`LongitudinalLayout` gives, for every layer with voxels,
its depth interval in X0 of the effective medium, measured from where the particle enters the
material it showers in. Depths not covered by a layer (dead material, uninstrumented layers, the
back of the calorimeter) absorb energy that is not stored.

- Datasets 2 and 3 (Geant4 example Par04): 45 readout layers of 2 x (1.4 mm W + 0.3 mm Si) =
  3.4 mm, i.e. 0.806 X0 each, 36.3 X0 in all (CaloChallenge README; Par04 README).
- Dataset 1 photons (ATLAS barrel at |eta| ~ 0.2): an approximate layout, see
  :data:`ATLAS_BARREL_DEPTHS_X0`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry, GeometryError
from cern_ai_bench.generate.gflash_params import ATLAS_PB_LAR, PAR04_SIW, SamplingMedium

#: Par04 readout layer: two physical layers of 1.4 mm W + 0.3 mm Si.
PAR04_LAYER_MM = 3.4
PAR04_N_LAYERS = 45

#: CaloChallenge raw readout threshold, 0.5 keV deposited in silicon, in the stored convention
#: (deposit / sampling fraction 0.033; CaloChallenge ``Dataset_creation.ipynb``).
PAR04_THRESHOLD_MEV = 0.5e-3 / 0.033

#: Depth intervals (X0, from the interaction point along the photon at |eta| ~ 0.2) of the ATLAS
#: calorimeter layers of dataset 1 (layer ids of the binning file: 0 presampler, 1-3 EM barrel
#: strips / middle / back, 12 TileBar0). APPROXIMATE, assembled from rounded public numbers:
#: ~1.7 X0 of inner detector, solenoid and cryostat before the presampler (ATLAS, JINST 3 (2008)
#: S08003, material plots of section 5); the presampler read out over ~0.3 X0; ~0.3 X0 of services
#: between presampler and accordion; strips 4.3 X0, middle 16 X0, back 2 X0 at eta = 0 (ATLAS EM
#: barrel description, e.g. T. Egede's thesis (Lund), "The liquid argon calorimeter"); ~1 X0 of
#: cryostat before TileBar0, which is treated as ~14 X0 deep (1.5 interaction lengths of Fe/scint).
#: The whole depth axis uses the Pb/LAr effective medium for the lateral scale.
ATLAS_BARREL_DEPTHS_X0: dict[int, tuple[float, float]] = {
    0: (1.7, 2.0),
    1: (2.3, 6.6),
    2: (6.6, 22.6),
    3: (22.6, 24.6),
    12: (25.6, 40.0),
}

#: 0.5 keV deposited in LAr in the stored convention, with an estimated electron sampling
#: fraction of 0.22 = e_hat (0.69) x mip fraction (0.31 for 1.53 mm Pb + 4.2 mm LAr with the PDG
#: minimum dE/dx 1.122 and 1.519 MeV cm^2/g): the dataset-2 raw threshold carried over to LAr.
ATLAS_THRESHOLD_MEV = 0.5e-3 / 0.22


@dataclass(frozen=True)
class LongitudinalLayout:
    """Where the voxelised layers of a geometry sit in depth, and what they are made of.

    Attributes:
        name: a short description.
        medium: the effective sampling medium used for every depth.
        layer_depths_x0: per layer of the geometry (file order), its (start, end) depth in X0, or
            None for a layer without voxels.
        photon: showers start at a pair-conversion depth drawn from an exponential with mean
            9/7 X0 (photons) instead of at depth 0 (electrons).
        readout_threshold_mev: default raw readout threshold, stored convention.
    """

    name: str
    medium: SamplingMedium
    layer_depths_x0: tuple[tuple[float, float] | None, ...]
    photon: bool
    readout_threshold_mev: float

    def steps(self, max_step_x0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Longitudinal steps: each layer split into equal steps of at most ``max_step_x0``.

        Returns:
            (lo, hi, layer): step start and end depths in X0 and the layer index of each step,
            each (K,), ordered by depth within each layer.
        """
        if not max_step_x0 > 0:
            raise ValueError(f"max_step_x0 must be positive, got {max_step_x0}")
        lo, hi, layer = [], [], []
        for index, depth in enumerate(self.layer_depths_x0):
            if depth is None:
                continue
            start, end = depth
            n = max(1, math.ceil((end - start) / max_step_x0 - 1e-9))
            edges = np.linspace(start, end, n + 1)
            lo.append(edges[:-1])
            hi.append(edges[1:])
            layer.append(np.full(n, index))
        return np.concatenate(lo), np.concatenate(hi), np.concatenate(layer)


def layout_for(geometry: CaloGeometry) -> LongitudinalLayout:
    """The layout of a supported geometry: Par04 electrons (ds2, ds3) or ATLAS photons (ds1).

    The calorimeter is recognised from the particle and the layer count, so geometries parsed
    from the genuine binning files work as well as the embedded ones.

    Raises:
        GeometryError: pions (hadronic showers are outside the GFlash EM parameterisation), or a
            geometry whose layers cannot be placed in depth.
    """
    n_layers = len(geometry.layers)
    if geometry.particle == "electron" and n_layers == PAR04_N_LAYERS:
        t = PAR04_LAYER_MM / PAR04_SIW.x0_mm
        depths = tuple((i * t, (i + 1) * t) for i in range(n_layers))
        return LongitudinalLayout(
            "Par04 SiW, 45 x 3.4 mm", PAR04_SIW, depths, False, PAR04_THRESHOLD_MEV
        )
    if geometry.particle == "photon" and n_layers == 24:
        missing = [
            geometry.layers[i].layer_id
            for i in geometry.relevant_layers
            if geometry.layers[i].layer_id not in ATLAS_BARREL_DEPTHS_X0
        ]
        if missing:
            raise GeometryError(
                f"geometry {geometry.name!r}: no depth known for ATLAS layer(s) {missing}; "
                f"the GFlash simulator places layers {sorted(ATLAS_BARREL_DEPTHS_X0)}"
            )
        depths = tuple(
            ATLAS_BARREL_DEPTHS_X0[layer.layer_id] if layer.n_voxels else None
            for layer in geometry.layers
        )
        return LongitudinalLayout(
            "ATLAS barrel |eta| ~ 0.2 (approximate)",
            ATLAS_PB_LAR,
            depths,
            True,
            ATLAS_THRESHOLD_MEV,
        )
    if geometry.particle == "pion":
        raise GeometryError(
            f"geometry {geometry.name!r} is for pions: hadronic showers are not described by the "
            "GFlash electromagnetic parameterisation; supported: ds2, ds3 (electrons), ds1_photons"
        )
    raise GeometryError(
        f"geometry {geometry.name!r} ({geometry.particle}, {n_layers} layers) is not supported by "
        "the GFlash simulator; supported: ds2, ds3 (Par04 electrons, 45 layers), ds1_photons "
        "(ATLAS photons, 24 layers)"
    )
