"""The 16 per-constituent columns of the hls4ml ``jetConstituentList`` dataset.

The public files name the columns (``particleFeatureNames``) without defining them, so the
definitions used here are stated in :func:`constituent_features`. Angles are in radians, momenta
and energies in GeV; ``eta`` is the pseudorapidity.
"""

from __future__ import annotations

import numpy as np


def constituent_features(constituents: np.ndarray, jet_p4: np.ndarray) -> np.ndarray:
    """The 16 ``jetConstituentList`` columns of padded jets.

    Columns, per constituent ``i`` of a jet ``J`` (four-momentum ``p_J``, axis
    ``(eta_J, phi_J)``):

    0-3 ``px, py, pz, e``; 4 ``erel = E_i / E_J``; 5 ``pt``; 6 ``ptrel = pT_i / pT_J``;
    7 ``eta``; 8 ``etarel = eta_i - eta_J``; 9 ``etarot``; 10 ``phi`` in (-pi, pi];
    11 ``phirel = phi_i - phi_J`` wrapped into (-pi, pi]; 12 ``phirot``;
    13 ``deltaR = sqrt(etarel^2 + phirel^2)``; 14 ``costheta = pz_i / |p_i|`` (cosine of the polar
    angle); 15 ``costhetarel = p_i . p_J / (|p_i| |p_J|)`` (cosine of the opening angle to the
    jet momentum).

    ``(etarot, phirot)`` is ``(etarel, phirel)`` rotated about the jet axis so that the major
    principal axis of the pT-weighted second-moment matrix of the constituents lies along
    ``etarot``; the sign is fixed by making the pT-weighted third moment along ``etarot``
    non-negative (the longer pT-weighted tail points to positive ``etarot``). This is the
    alignment step of jet-image preprocessing (de Oliveira et al., JHEP 07 (2016) 069).

    Args:
        constituents: ``(N, P, 4)`` float ``(px, py, pz, E)`` of each jet's constituents,
            zero-padded after the last one (rows with ``E <= 0`` are padding).
        jet_p4: ``(N, 4)`` float ``(px, py, pz, E)`` of each jet (all its constituents, also
            those beyond ``P``).

    Returns:
        ``(N, P, 16)`` float32; padding rows are all zero.
    """
    if constituents.ndim != 3 or constituents.shape[2] != 4:
        raise ValueError(f"constituents: expected shape (N, P, 4), got {constituents.shape}")
    if jet_p4.shape != (constituents.shape[0], 4):
        raise ValueError(f"jet_p4: expected shape ({constituents.shape[0]}, 4), got {jet_p4.shape}")
    c = constituents.astype(np.float64, copy=False)
    j = jet_p4.astype(np.float64, copy=False)[:, None, :]  # (N, 1, 4), broadcasts over P
    present = c[..., 3] > 0
    px, py, pz, e = (c[..., k] for k in range(4))
    # Padding rows get a dummy unit momentum so no division warns; they are zeroed at the end.
    px = np.where(present, px, 1.0)
    pt = np.hypot(px, py)
    p = np.sqrt(pt**2 + pz**2)
    eta = np.arcsinh(pz / pt)
    phi = np.arctan2(py, px)

    jet_pt = np.hypot(j[..., 0], j[..., 1])
    jet_p = np.sqrt(jet_pt**2 + j[..., 2] ** 2)
    etarel = eta - np.arcsinh(j[..., 2] / jet_pt)
    phirel = _wrap(phi - np.arctan2(j[..., 1], j[..., 0]))
    etarot, phirot = _principal_axis_rotation(etarel, phirel, np.where(present, pt, 0.0))
    costhetarel = (px * j[..., 0] + py * j[..., 1] + pz * j[..., 2]) / (p * jet_p)

    columns = (
        px,
        py,
        pz,
        e,
        e / j[..., 3],
        pt,
        pt / jet_pt,
        eta,
        etarel,
        etarot,
        phi,
        phirel,
        phirot,
        np.hypot(etarel, phirel),
        pz / p,
        costhetarel,
    )
    out = np.stack(columns, axis=-1)
    out[~present] = 0.0
    return out.astype(np.float32)


def _wrap(angle: np.ndarray) -> np.ndarray:
    """Wrap angles into (-pi, pi]."""
    return np.pi - np.mod(np.pi - angle, 2 * np.pi)


def _principal_axis_rotation(
    x: np.ndarray, y: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Rotate ``(x, y)`` of each jet (rows) onto its weighted major principal axis.

    Args:
        x, y: ``(N, P)`` coordinates relative to the rotation centre.
        weight: ``(N, P)`` non-negative weights (zero for padding).
    """
    sxx = np.sum(weight * x * x, axis=1, keepdims=True)
    syy = np.sum(weight * y * y, axis=1, keepdims=True)
    sxy = np.sum(weight * x * y, axis=1, keepdims=True)
    # Angle of the eigenvector of [[sxx, sxy], [sxy, syy]] with the larger eigenvalue.
    theta = 0.5 * np.arctan2(2 * sxy, sxx - syy)
    cos, sin = np.cos(theta), np.sin(theta)
    u = cos * x + sin * y
    v = -sin * x + cos * y
    # A rotation by pi keeps the axis; use it to point the heavier tail to +u.
    flip = np.where(np.sum(weight * u**3, axis=1, keepdims=True) < 0, -1.0, 1.0)
    return flip * u, flip * v
