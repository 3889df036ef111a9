"""High-level features of calorimeter showers, as the CaloChallenge 2022 evaluation defines them.

Per shower: the incident energy ``E_inc``, the total deposited energy ``E_tot`` and, per layer
with voxels, the layer energy ``E_layer``, the energy-weighted centre ``EC_r`` and width ``W_r``
of the voxel radii, and the sparsity (fraction of voxels with no energy); for the layers binned
in angle also the centres and widths of ``eta = r cos(alpha)`` and ``phi = r sin(alpha)`` (mm):

    EC_x = sum_v x_v E_v / (sum_v E_v + 1e-16),
    W_x = sqrt(max(sum_v x_v^2 E_v / (sum_v E_v + 1e-16) - EC_x^2, 0)),
    sparsity = 1 - mean_v(E_v > 0).

Source: CaloChallenge/homepage (commit 9b41df7), ``code/HighLevelFeatures.py``
(``CalculateFeatures``) and ``code/evaluate.py`` (threshold, ``prepare_high_data_for_classifier``).

Numerics follow the official code operation by operation so that both agree to the last bit:
sums of voxel energies (``E_tot``, ``E_layer`` and the denominators) accumulate in the input dtype
(float32 for float32 files, as NumPy does in the official code), the coordinate-weighted sums in
float64 (coordinates are float64), with NumPy's pairwise summation along each layer's voxels.
The computation runs over blocks of showers so temporaries stay small (100k DS2 showers take
about 15 s on two cores, a quarter of the official code's time).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry

__all__ = [
    "ShowerFeatures",
    "apply_threshold",
    "cls_high_dimension",
    "cls_high_features",
    "cls_high_names",
    "high_level_features",
]

#: Voxels per block of showers processed at once (keeps the float64 temporaries in cache).
_BLOCK_VOXELS = 1 << 21


def _check_showers(showers: np.ndarray, geometry: CaloGeometry) -> np.ndarray:
    showers = np.asarray(showers)
    if showers.ndim != 2 or showers.shape[1] != geometry.n_voxels:
        raise ValueError(
            f"showers: expected shape (N, {geometry.n_voxels}) for geometry {geometry.name!r}, "
            f"got {showers.shape}"
        )
    if showers.dtype not in (np.float32, np.float64):
        raise ValueError(
            f"showers: expected float32 or float64 voxel energies, got {showers.dtype}"
        )
    return showers


def _rows_per_block(n_voxels: int) -> int:
    return max(1, _BLOCK_VOXELS // max(1, n_voxels))


def apply_threshold(showers: np.ndarray, geometry: CaloGeometry) -> np.ndarray:
    """Zero the voxels below the dataset's readout threshold, as ``evaluate.py`` does first.

    ``x < geometry.eval_threshold_mev -> 0`` (1 MeV for dataset 1, 0.5 keV / 0.033 for datasets
    2 and 3); the comparison happens in the array's dtype, as NumPy does in the official code.

    Args:
        showers: ``(N, V)`` voxel energies in MeV (float32 or float64).
        geometry: the dataset's geometry (threshold and voxel count).

    Returns:
        A new array of the same shape and dtype; the input is left untouched.
    """
    showers = _check_showers(showers, geometry)
    threshold = geometry.eval_threshold_mev
    out = np.empty_like(showers)
    step = _rows_per_block(showers.shape[1])
    for lo in range(0, len(showers), step):
        block = showers[lo : lo + step]
        out[lo : lo + step] = np.where(block < threshold, 0, block)
    return out


@dataclass(frozen=True, eq=False)
class ShowerFeatures:
    """High-level features of N showers; per-layer features are dicts keyed by layer index.

    Attributes:
        geometry_name: the geometry the features were computed in.
        incident_energy: ``(N,)`` E_inc in MeV, dtype as given.
        E_tot: ``(N,)`` total energy (MeV), in the voxel dtype.
        E_layer: per relevant layer, ``(N,)`` layer energy (MeV), in the voxel dtype.
        EC_r, W_r: per relevant layer, ``(N,)`` float64 centre and width of the radius (mm).
        sparsity: per relevant layer, ``(N,)`` float64 fraction of voxels with zero energy.
        EC_eta, EC_phi, W_eta, W_phi: per angle-binned layer, ``(N,)`` float64 (mm).
        voxels: the ``(N, V)`` voxel array the features were computed from (a reference, not a
            copy; None when not kept), for the voxel-energy histogram of the separation power.
    """

    geometry_name: str
    incident_energy: np.ndarray
    E_tot: np.ndarray
    E_layer: dict[int, np.ndarray]
    EC_r: dict[int, np.ndarray]
    W_r: dict[int, np.ndarray]
    sparsity: dict[int, np.ndarray]
    EC_eta: dict[int, np.ndarray]
    EC_phi: dict[int, np.ndarray]
    W_eta: dict[int, np.ndarray]
    W_phi: dict[int, np.ndarray]
    voxels: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return int(self.E_tot.shape[0])

    @property
    def layers(self) -> tuple[int, ...]:
        """Relevant layers (those with voxels), in geometry order."""
        return tuple(self.E_layer)

    @property
    def alpha_layers(self) -> tuple[int, ...]:
        """Layers with eta/phi features (binned in angle), in geometry order."""
        return tuple(self.EC_eta)


def _radial_centres(geometry: CaloGeometry, layer: int) -> np.ndarray:
    """Radius of every voxel of ``layer`` (mm), angle-major: ``(r_i + r_{i+1}) * 0.5`` tiled
    over the angular bins, the expression of the official ``radial_center_mult``."""
    binning = geometry.layers[layer]
    edges = binning.r_edges
    centres = [(edges[i] + edges[i + 1]) * 0.5 for i in range(len(edges) - 1)]
    return np.array(binning.n_alpha * centres, dtype=np.float64)


def _centre_and_width(
    coord: np.ndarray, coord_sq: np.ndarray, block: np.ndarray, denominator: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Energy-weighted centre and width of ``coord`` over the last axis of ``block``."""
    centre = (coord * block).sum(axis=-1) / denominator
    second = (coord_sq * block).sum(axis=-1) / denominator
    # Little energy can make the difference slightly negative; the official code clips at 0.
    width = np.sqrt((second - centre**2).clip(min=0.0))
    return centre, width


def high_level_features(
    showers: np.ndarray,
    incident_energy: np.ndarray,
    geometry: CaloGeometry,
    *,
    keep_voxels: bool = True,
) -> ShowerFeatures:
    """All high-level features of ``showers``, identical to ``HighLevelFeatures.CalculateFeatures``.

    Pass thresholded showers (:func:`apply_threshold`), as ``evaluate.py`` does; the sparsity
    counts voxels with energy > 0.

    Args:
        showers: ``(N, V)`` voxel energies in MeV, float32 or float64, official voxel order.
        incident_energy: ``(N,)`` or ``(N, 1)`` incident energies in MeV.
        geometry: the dataset's voxel geometry.
        keep_voxels: keep a reference to ``showers`` in the result (for the voxel-energy
            histogram); no copy is made.

    Raises:
        ValueError: shapes that do not match the geometry or each other.
    """
    showers = _check_showers(showers, geometry)
    energy = np.asarray(incident_energy).reshape(-1)
    n = showers.shape[0]
    if energy.shape[0] != n:
        raise ValueError(
            f"incident_energy: expected {n} values (one per shower), got {energy.shape[0]}"
        )
    layers = geometry.relevant_layers
    alpha_layers = [i for i in layers if i in set(geometry.alpha_binned_layers)]
    dtype = showers.dtype
    E_tot = np.empty(n, dtype=dtype)
    E_layer = {i: np.empty(n, dtype=dtype) for i in layers}
    per_layer = {name: {i: np.empty(n) for i in layers} for name in ("EC_r", "W_r", "sparsity")}
    per_alpha = {
        name: {i: np.empty(n) for i in alpha_layers}
        for name in ("EC_eta", "EC_phi", "W_eta", "W_phi")
    }
    radius = {i: _radial_centres(geometry, i) for i in layers}
    eta = {i: geometry.voxel_eta[geometry.layer_slice(i)] for i in alpha_layers}
    phi = {i: geometry.voxel_phi[geometry.layer_slice(i)] for i in alpha_layers}

    step = _rows_per_block(showers.shape[1])
    for lo in range(0, n, step):
        rows = slice(lo, lo + step)
        x = showers[rows]
        E_tot[rows] = x.sum(axis=-1)
        for i in layers:
            block = x[:, geometry.layer_slice(i)]
            e = block.sum(axis=-1)
            E_layer[i][rows] = e
            per_layer["sparsity"][i][rows] = 1.0 - (block > 0).mean(axis=-1)
            denominator = e + 1e-16  # in the voxel dtype, as in the official code
            r = radius[i]
            per_layer["EC_r"][i][rows], per_layer["W_r"][i][rows] = _centre_and_width(
                r, r * r, block, denominator
            )
            if i in eta:
                centre, width = _centre_and_width(eta[i], eta[i] * eta[i], block, denominator)
                per_alpha["EC_eta"][i][rows], per_alpha["W_eta"][i][rows] = centre, width
                centre, width = _centre_and_width(phi[i], phi[i] * phi[i], block, denominator)
                per_alpha["EC_phi"][i][rows], per_alpha["W_phi"][i][rows] = centre, width
    return ShowerFeatures(
        geometry_name=geometry.name,
        incident_energy=energy,
        E_tot=E_tot,
        E_layer=E_layer,
        **per_layer,
        **per_alpha,
        voxels=showers if keep_voxels else None,
    )


def cls_high_features(features: ShowerFeatures) -> np.ndarray:
    """The ``cls-high`` classifier input of ``evaluate.py``, also the FPD/KPD feature vector.

    Columns, in the order of ``prepare_high_data_for_classifier`` (label column dropped):
    ``log10(E_inc)``, ``log10(E_layer + 1e-8)`` per layer, ``EC_eta / 100``, ``EC_phi / 100``,
    ``W_eta / 100``, ``W_phi / 100`` (each per angle-binned layer), ``log10(E_tot + 1e-8)``,
    ``sparsity`` per layer, ``EC_r / 100``, ``W_r / 100`` per layer. Logarithms are taken in the
    input dtype as in the official code; the result is float64.

    Returns:
        ``(N, D)`` float64, D = 362 for datasets 2 and 3, 30 for dataset-1 photons, 46 for
        dataset-1 pions (:func:`cls_high_dimension`).
    """
    columns: list[np.ndarray] = [np.log10(features.incident_energy)]
    columns += [np.log10(e + 1e-8) for e in features.E_layer.values()]
    for family in (features.EC_eta, features.EC_phi, features.W_eta, features.W_phi):
        columns += [v / 1e2 for v in family.values()]
    columns.append(np.log10(features.E_tot + 1e-8))
    columns += list(features.sparsity.values())
    columns += [v / 1e2 for v in features.EC_r.values()]
    columns += [v / 1e2 for v in features.W_r.values()]
    return np.stack([np.asarray(c, dtype=np.float64) for c in columns], axis=1)


def cls_high_names(geometry: CaloGeometry) -> list[str]:
    """Column names of :func:`cls_high_features` for ``geometry`` (same order)."""
    layers = geometry.relevant_layers
    alpha = [i for i in layers if i in set(geometry.alpha_binned_layers)]
    names = ["log10_E_inc"] + [f"log10_E_layer_{i}" for i in layers]
    for family in ("EC_eta", "EC_phi", "W_eta", "W_phi"):
        names += [f"{family}_{i}/100" for i in alpha]
    names.append("log10_E_tot")
    names += [f"sparsity_{i}" for i in layers]
    names += [f"EC_r_{i}/100" for i in layers]
    names += [f"W_r_{i}/100" for i in layers]
    return names


def cls_high_dimension(geometry: CaloGeometry) -> int:
    """Length of the ``cls-high`` feature vector: 2 + 4 * layers + 4 * angle-binned layers."""
    return len(cls_high_names(geometry))
