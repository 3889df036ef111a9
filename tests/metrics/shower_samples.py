"""Random but shower-like samples in any CaloChallenge geometry, for the shower-metric tests.

Each shower: E_inc log-uniform; a gamma-shaped longitudinal profile over the layers with voxels;
in every layer an exponential fall-off of energy with distance from a slightly displaced shower
axis; gamma-distributed voxel fluctuations and randomly empty voxels. Not physics: just data
with the structure (energy scale, sparsity, centres, widths) the metrics look at.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from cern_ai_bench.data.calo_geometry import CaloGeometry


def synthetic_showers(
    geometry: CaloGeometry,
    n: int,
    rng: np.random.Generator,
    *,
    energy_range: tuple[float, float] = (1e3, 1e6),
    response: float = 1.0,
    spread: float = 1.0,
    empty_fraction: float = 0.3,
    discrete: bool = False,
    dtype: type = np.float32,
) -> tuple[np.ndarray, np.ndarray]:
    """``(incident_energy (n,), showers (n, V))`` in MeV.

    Args:
        response: mean of E_tot / E_inc.
        spread: scale factor of the lateral shower size (1 = default).
        empty_fraction: probability that a voxel is emptied.
        discrete: round E_inc to powers of two (dataset-1 style).
    """
    lo, hi = np.log(energy_range[0]), np.log(energy_range[1])
    energy = np.exp(rng.uniform(lo, hi, size=n))
    if discrete:  # dataset 1: powers of two
        energy = 2.0 ** np.round(np.log2(energy))
    layers = geometry.relevant_layers
    layer_of_voxel = np.concatenate(
        [np.full(geometry.layers[i].n_voxels, k) for k, i in enumerate(layers)]
    )
    depth = np.linspace(0.0, 1.0, len(layers))
    # Longitudinal profile: gamma shape with a shower maximum that moves with log(E).
    peak = 0.2 + 0.1 * (np.log(energy) - lo) / (hi - lo)
    shape = 3.0
    profile = depth[None, :] ** (shape - 1) * np.exp(-depth[None, :] * (shape - 1) / peak[:, None])
    profile += 1e-3
    profile /= profile.sum(axis=1, keepdims=True)
    # Lateral: distance from an axis displaced by a few mm, exponential fall-off per layer.
    outer = np.array([geometry.layers[i].r_edges[-1] for i in layers])
    scale = spread * outer / 8.0
    eta, phi = geometry.voxel_eta, geometry.voxel_phi
    offset = rng.normal(0.0, 0.05, size=(n, 2)) * outer.min()
    dist = np.hypot(eta[None, :] - offset[:, :1], phi[None, :] - offset[:, 1:])
    lateral = np.exp(-dist / scale[layer_of_voxel][None, :])
    sums = np.zeros((n, len(layers)))
    for k in range(len(layers)):
        sums[:, k] = lateral[:, layer_of_voxel == k].sum(axis=1)
    lateral /= sums[:, layer_of_voxel]
    showers = (response * energy)[:, None] * profile[:, layer_of_voxel] * lateral
    # Mean-one fluctuations; the survivors of the emptying carry the emptied energy on average.
    showers *= rng.gamma(4.0, 0.25 / (1.0 - empty_fraction), size=showers.shape)
    showers[rng.random(showers.shape) < empty_fraction] = 0.0
    return energy.astype(dtype), showers.astype(dtype)


def write_calochallenge_file(path: Path, energy: np.ndarray, showers: np.ndarray) -> Path:
    """Write a file in the CaloChallenge layout: gzip datasets ``incident_energies`` (N, 1) and
    ``showers`` (N, V), float32."""
    with h5py.File(path, "w") as f:
        f.create_dataset(
            "incident_energies",
            data=np.asarray(energy, dtype=np.float32).reshape(-1, 1),
            compression="gzip",
        )
        f.create_dataset("showers", data=np.asarray(showers, dtype=np.float32), compression="gzip")
    return path
