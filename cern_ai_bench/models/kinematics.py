"""Jet-constituent kinematics: canonical four-momenta to per-particle and pairwise features.

Pure torch functions (no parameters) used inside the constituent models, so a trained or exported
model takes the canonical input of :mod:`cern_ai_bench.data.schema`: constituents ``(B, P, 4)``
four-momenta ``(px, py, pz, E)`` in GeV, zero-padded, with a ``(B, P)`` bool mask (``E > 0``).

Per-particle features follow the "kin" inputs of the Particle Transformer / weaver JetClass data
configs (Qu, Li, Qian, ICML 2022, arXiv:2202.03772; ``jet-universe/particle_transformer``,
``data/JetClass/JetClass_kin.yaml``), with their published manual standardisation
``(x - subtract) * multiply`` and clipping to ``[-5, 5]``. Pairwise features are eq. (3) of the
same paper: ln kT, ln z, ln Delta, ln m^2.

The jet axis is the four-momentum sum of the real (masked) constituents.

Numerical safety: every quantity that enters a log, sqrt, asinh or atan2 is clamped or replaced
before the call, so padded or degenerate entries (zero momentum, zero pT, collinear pairs, empty
jets) give finite values and finite gradients; padded entries are exactly 0 on output. All
computations run in float32 whatever the input dtype; none of the ops is on autocast's
lower-precision list, so results are float32 under ``torch.autocast`` too.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = [
    "PAIR_FEATURES",
    "PARTICLE_FEATURES",
    "PARTICLE_STANDARDISATION",
    "jet_four_momentum",
    "pair_features",
    "particle_features",
]

#: Names of the per-particle features, in output order (ParT / weaver "kin" order).
PARTICLE_FEATURES: tuple[str, ...] = (
    "pt_log",  # ln(pT / GeV)
    "e_log",  # ln(E / GeV)
    "logptrel",  # ln(pT / pT_jet)
    "logerel",  # ln(E / E_jet)
    "deltaR",  # sqrt(deta^2 + dphi^2) to the jet axis
    "deta",  # eta - eta_jet (pseudorapidity)
    "dphi",  # phi - phi_jet, wrapped to (-pi, pi]
)

#: Published manual standardisation ``(subtract, multiply)`` of the JetClass ParT data config;
#: features not listed here (deta, dphi) are used as they are.
PARTICLE_STANDARDISATION: dict[str, tuple[float, float]] = {
    "pt_log": (1.7, 0.7),
    "e_log": (2.0, 0.7),
    "logptrel": (-4.7, 0.7),
    "logerel": (-4.7, 0.7),
    "deltaR": (0.2, 4.0),
}

#: Names of the pairwise features of ParT eq. (3), in output order.
PAIR_FEATURES: tuple[str, ...] = ("ln_kt", "ln_z", "ln_delta", "ln_m2")

_EPS = 1e-8  # floor of every quantity that enters a log (as in the ParT reference code)
_EPS2 = _EPS * _EPS  # floor of squared quantities before a sqrt
_CLIP = 5.0  # weaver's default clip of standardised inputs


def _sqrt(x: Tensor) -> Tensor:
    """sqrt with a floor, finite value and gradient at 0."""
    return torch.sqrt(x.clamp_min(_EPS2))


def _log(x: Tensor) -> Tensor:
    """log with a floor: ln(max(x, 1e-8)), finite value and gradient for x <= 0."""
    return torch.log(x.clamp_min(_EPS))


def _atan2(y: Tensor, x: Tensor) -> Tensor:
    """atan2 that returns 0 with a finite gradient at the origin."""
    origin = (x == 0) & (y == 0)
    return torch.atan2(y, torch.where(origin, torch.ones_like(x), x))


def _prepare(constituents: Tensor, mask: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Float32 copies: (masked four-momenta with padding zeroed, safe four-momenta, float mask).

    The safe copy replaces padded entries by a unit massless particle along x, so formulas never
    see 0/0 on them (their outputs are zeroed afterwards); the zeroed copy builds the jet sum.
    """
    if constituents.ndim != 3 or constituents.shape[-1] != 4:
        raise ValueError(f"constituents: expected shape (B, P, 4), got {tuple(constituents.shape)}")
    if mask.shape != constituents.shape[:2]:
        raise ValueError(
            f"mask: expected shape {tuple(constituents.shape[:2])}, got {tuple(mask.shape)}"
        )
    p4 = constituents.float()
    m = mask.bool().unsqueeze(-1)  # (B, P, 1)
    zeroed = torch.where(m, p4, torch.zeros_like(p4))
    dummy = p4.new_tensor([1.0, 0.0, 0.0, 1.0])
    safe = torch.where(m, p4, dummy)
    return zeroed, safe, mask.to(torch.float32)


def jet_four_momentum(constituents: Tensor, mask: Tensor) -> Tensor:
    """Jet four-momentum as the sum of the real constituents.

    Args:
        constituents: ``(B, P, 4)`` four-momenta ``(px, py, pz, E)`` in GeV.
        mask: ``(B, P)`` bool, True for real constituents.

    Returns:
        ``(B, 4)`` float32 ``(px, py, pz, E)`` in GeV; zero for a jet without constituents.
    """
    zeroed, _, _ = _prepare(constituents, mask)
    return zeroed.sum(dim=1)


def particle_features(constituents: Tensor, mask: Tensor, *, standardise: bool = True) -> Tensor:
    """Per-particle features relative to the jet axis, in :data:`PARTICLE_FEATURES` order.

    ``pt_log = ln pT``, ``e_log = ln E``, ``logptrel = ln(pT/pT_jet)``, ``logerel = ln(E/E_jet)``,
    ``deltaR = sqrt(deta^2 + dphi^2)``, ``deta = eta - eta_jet`` (pseudorapidity
    ``eta = asinh(pz/pT)``), ``dphi = phi - phi_jet`` wrapped to ``(-pi, pi]``. Energies and
    momenta in GeV. Arguments of logs are floored at 1e-8.

    Args:
        constituents: ``(B, P, 4)`` four-momenta ``(px, py, pz, E)`` in GeV.
        mask: ``(B, P)`` bool, True for real constituents.
        standardise: apply the published ParT standardisation
            (:data:`PARTICLE_STANDARDISATION`) and clip every feature to ``[-5, 5]``.

    Returns:
        ``(B, P, 7)`` float32; padded entries are exactly 0.
    """
    zeroed, safe, fmask = _prepare(constituents, mask)
    jet = zeroed.sum(dim=1, keepdim=True)  # (B, 1, 4)
    px, py, pz, e = safe.unbind(-1)  # each (B, P)
    jpx, jpy, jpz, je = jet.unbind(-1)  # each (B, 1)

    pt = _sqrt(px * px + py * py)
    jet_pt = _sqrt(jpx * jpx + jpy * jpy)
    e = e.clamp_min(_EPS)
    jet_e = je.clamp_min(_EPS)

    deta = torch.asinh(pz / pt) - torch.asinh(jpz / jet_pt)
    # phi - phi_jet wrapped, as atan2(sin, cos) of the difference: no explicit angles needed.
    dphi = _atan2(py * jpx - px * jpy, px * jpx + py * jpy)
    delta_r = _sqrt(deta * deta + dphi * dphi)

    values = {
        "pt_log": torch.log(pt),
        "e_log": torch.log(e),
        "logptrel": torch.log(pt / jet_pt),
        "logerel": torch.log(e / jet_e),
        "deltaR": delta_r,
        "deta": deta,
        "dphi": dphi,
    }
    columns = []
    for name in PARTICLE_FEATURES:
        x = values[name]
        if standardise:
            if name in PARTICLE_STANDARDISATION:
                subtract, multiply = PARTICLE_STANDARDISATION[name]
                x = (x - subtract) * multiply
            x = x.clamp(-_CLIP, _CLIP)
        columns.append(x)
    features = torch.stack(columns, dim=-1)  # (B, P, 7)
    return features * fmask.unsqueeze(-1)


def pair_features(constituents: Tensor, mask: Tensor) -> Tensor:
    """Pairwise features of ParT eq. (3) (arXiv:2202.03772) for every ordered pair (a, b).

    ``Delta = sqrt((y_a - y_b)^2 + (phi_a - phi_b)^2)`` with rapidity ``y`` and wrapped phi,
    ``kT = min(pT_a, pT_b) Delta``, ``z = min(pT_a, pT_b) / (pT_a + pT_b)``,
    ``m^2 = (E_a + E_b)^2 - |p_a + p_b|^2``; the output is the natural log of each, with the
    argument floored at 1e-8 (GeV-based units: kT in GeV, m^2 in GeV^2).

    m^2 is evaluated in the algebraically equal form
    ``m_a^2 + m_b^2 + 2 (E_a E_b - |p_a||p_b|) + |p_a||p_b| |u_a - u_b|^2`` (``u`` unit
    momentum vectors) to avoid the float32 cancellation of the naive form for nearly collinear,
    nearly massless pairs of high-energy particles.

    Args:
        constituents: ``(B, P, 4)`` four-momenta ``(px, py, pz, E)`` in GeV.
        mask: ``(B, P)`` bool, True for real constituents.

    Returns:
        ``(B, P, P, 4)`` float32 in :data:`PAIR_FEATURES` order, symmetric in (a, b); exactly 0
        where a or b is padded and on the diagonal a == b.
    """
    _, safe, fmask = _prepare(constituents, mask)
    px, py, pz, e = safe.unbind(-1)  # each (B, P)
    e = e.clamp_min(_EPS)
    pt = _sqrt(px * px + py * py)
    p_abs = _sqrt(px * px + py * py + pz * pz)
    msq = ((e - p_abs) * (e + p_abs)).clamp_min(0.0)  # m^2 = E^2 - |p|^2, >= 0
    rapidity = torch.asinh(pz / _sqrt(pt * pt + msq))  # y = asinh(pz / mT)

    def a(x: Tensor) -> Tensor:  # (B, P) -> (B, P, 1): particle a along rows
        return x.unsqueeze(-1)

    def b(x: Tensor) -> Tensor:  # (B, P) -> (B, 1, P): particle b along columns
        return x.unsqueeze(-2)

    dy = a(rapidity) - b(rapidity)  # (B, P, P)
    dphi = _atan2(a(py) * b(px) - a(px) * b(py), a(px) * b(px) + a(py) * b(py))
    delta = _sqrt(dy * dy + dphi * dphi)
    pt_min = torch.minimum(a(pt), b(pt))
    kt = pt_min * delta
    z = pt_min / (a(pt) + b(pt))

    u = torch.stack([px, py, pz], dim=-1) / p_abs.unsqueeze(-1)  # (B, P, 3) unit vectors
    du = u.unsqueeze(2) - u.unsqueeze(1)  # (B, P, P, 3)
    pp = a(p_abs) * b(p_abs)  # |p_a||p_b|, (B, P, P)
    ee = a(e) * b(e)
    # E_a E_b - |p_a||p_b| = (m_a^2 E_b^2 + |p_a|^2 m_b^2) / (E_a E_b + |p_a||p_b|)
    cross = (a(msq) * b(e) ** 2 + a(p_abs) ** 2 * b(msq)) / (ee + pp)
    m2 = a(msq) + b(msq) + 2.0 * cross + pp * (du * du).sum(-1)

    features = torch.stack([_log(kt), _log(z), _log(delta), _log(m2)], dim=-1)  # (B, P, P, 4)
    p = fmask.shape[1]
    off_diagonal = 1.0 - torch.eye(p, device=fmask.device, dtype=fmask.dtype)  # (P, P)
    pair_mask = a(fmask) * b(fmask) * off_diagonal  # (B, P, P)
    return features * pair_mask.unsqueeze(-1)
