"""Kinematic features against hand-computed values, naive float64 formulas and degenerate input."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cern_ai_bench.models.kinematics import (
    PAIR_FEATURES,
    PARTICLE_FEATURES,
    PARTICLE_STANDARDISATION,
    jet_four_momentum,
    pair_features,
    particle_features,
)

COL = {name: i for i, name in enumerate(PARTICLE_FEATURES)}
PAIR = {name: i for i, name in enumerate(PAIR_FEATURES)}


def _tiny_jet() -> tuple[torch.Tensor, torch.Tensor]:
    """Two massless particles at eta = 0: pT 100 at phi 0 and pT 50 at phi 0.3, one padded slot."""
    c, s = math.cos(0.3), math.sin(0.3)
    p4 = torch.tensor(
        [[[100.0, 0.0, 0.0, 100.0], [50 * c, 50 * s, 0.0, 50.0], [0.0, 0.0, 0.0, 0.0]]]
    )
    return p4, p4[..., 3] > 0


def test_tiny_jet_particle_features_by_hand() -> None:
    p4, mask = _tiny_jet()
    c, s = math.cos(0.3), math.sin(0.3)
    jet_pt = math.hypot(100 + 50 * c, 50 * s)
    jet_phi = math.atan2(50 * s, 100 + 50 * c)
    expected = [
        # pt_log, e_log, logptrel, logerel, deltaR, deta, dphi
        [
            math.log(100),
            math.log(100),
            math.log(100 / jet_pt),
            math.log(100 / 150),
            jet_phi,
            0,
            -jet_phi,
        ],
        [
            math.log(50),
            math.log(50),
            math.log(50 / jet_pt),
            math.log(50 / 150),
            0.3 - jet_phi,
            0,
            0.3 - jet_phi,
        ],
        [0.0] * 7,
    ]
    raw = particle_features(p4, mask, standardise=False)[0]
    torch.testing.assert_close(raw, torch.tensor(expected), atol=2e-6, rtol=1e-6)
    torch.testing.assert_close(
        jet_four_momentum(p4, mask)[0], torch.tensor([100 + 50 * c, 50 * s, 0.0, 150.0])
    )

    standardised = particle_features(p4, mask)[0]
    for name, i in COL.items():
        subtract, multiply = PARTICLE_STANDARDISATION.get(name, (0.0, 1.0))
        want = ((raw[:2, i] - subtract) * multiply).clamp(-5, 5)
        torch.testing.assert_close(standardised[:2, i], want)
    assert torch.equal(standardised[2], torch.zeros(7))


def test_tiny_jet_pair_features_by_hand() -> None:
    p4, mask = _tiny_jet()
    pairs = pair_features(p4, mask)[0]  # (3, 3, 4)
    expected = torch.tensor(
        [
            math.log(50 * 0.3),  # kT = min(pT) * Delta
            math.log(50 / 150),  # z = min(pT) / (pT_a + pT_b)
            math.log(0.3),  # Delta: same rapidity, dphi = 0.3
            math.log(2 * 100 * 50 * (1 - math.cos(0.3))),  # m^2 of two massless particles
        ]
    )
    torch.testing.assert_close(pairs[0, 1], expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(pairs[1, 0], expected, atol=1e-5, rtol=1e-5)
    assert torch.equal(pairs[0, 0], torch.zeros(4))  # self-pair
    assert torch.equal(pairs[2], torch.zeros(3, 4))  # padded particle
    assert torch.equal(pairs[:, 2], torch.zeros(3, 4))


def test_phi_wraps_across_pi() -> None:
    phi = torch.tensor([math.pi - 0.1, -math.pi + 0.1])
    p4 = torch.stack(
        [10 * torch.cos(phi), 10 * torch.sin(phi), torch.zeros(2), torch.full((2,), 10.0)], -1
    )
    p4, mask = p4[None], torch.ones(1, 2, dtype=torch.bool)
    raw = particle_features(p4, mask, standardise=False)[0]
    torch.testing.assert_close(raw[:, COL["dphi"]], torch.tensor([-0.1, 0.1]), atol=1e-5, rtol=0)
    torch.testing.assert_close(raw[:, COL["deltaR"]], torch.tensor([0.1, 0.1]), atol=1e-5, rtol=0)
    delta = pair_features(p4, mask)[0, 0, 1, PAIR["ln_delta"]]
    torch.testing.assert_close(delta, torch.tensor(math.log(0.2)), atol=1e-4, rtol=0)


def _naive_pairs(p4: np.ndarray) -> np.ndarray:
    """ParT eq. (3) straight from the definitions, float64, for one jet ``(P, 4)``."""
    px, py, pz, e = p4.T
    pt = np.hypot(px, py)
    y = 0.5 * np.log((e + pz) / (e - pz))
    phi = np.arctan2(py, px)
    dphi = (phi[:, None] - phi[None, :] + np.pi) % (2 * np.pi) - np.pi
    delta = np.hypot(y[:, None] - y[None, :], dphi)
    pt_min = np.minimum(pt[:, None], pt[None, :])
    s = p4[:, None, :] + p4[None, :, :]
    m2 = s[..., 3] ** 2 - (s[..., :3] ** 2).sum(-1)
    with np.errstate(divide="ignore"):
        return np.stack(
            [
                np.log(pt_min * delta),
                np.log(pt_min / (pt[:, None] + pt[None, :])),
                np.log(delta),
                np.log(m2),
            ],
            -1,
        )


def test_pair_features_match_naive_formulas_for_massive_particles() -> None:
    rng = np.random.default_rng(1)
    n = 8
    p3 = rng.normal(size=(n, 3)) * [20.0, 20.0, 40.0]
    mass = rng.uniform(0.14, 5.0, size=n)
    p4 = np.concatenate([p3, np.sqrt((p3**2).sum(-1) + mass**2)[:, None]], axis=1)
    got = pair_features(
        torch.tensor(p4, dtype=torch.float32)[None], torch.ones(1, n, dtype=torch.bool)
    )
    want = _naive_pairs(p4)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose(got[0].numpy()[off], want[off], atol=2e-4, rtol=1e-4)


def test_collinear_pair_mass_is_accurate_in_float32() -> None:
    # Two massless particles (437.3 and 291.7 GeV) 0.64 mrad apart: m^2 ~ 0.053 GeV^2, below the
    # float32 rounding of (E_a + E_b)^2 ~ 5e5 GeV^2; the naive formula gives 0.0625 here.
    def massless(e: float, phi: float) -> list[float]:
        return [
            e * math.cos(phi) * math.cos(0.4),
            e * math.sin(phi) * math.cos(0.4),
            e * math.sin(0.4),
            e,
        ]

    a, b = np.array(massless(437.3, 0.7)), np.array(massless(291.7, 0.7007))
    want = math.log((a[3] + b[3]) ** 2 - ((a[:3] + b[:3]) ** 2).sum())  # float64
    p4 = torch.tensor(np.stack([a, b]), dtype=torch.float32)[None]
    ln_m2 = pair_features(p4, torch.ones(1, 2, dtype=torch.bool))[0, 0, 1, PAIR["ln_m2"]]
    assert abs(float(ln_m2) - want) < 1e-3


def test_padding_is_ignored(random_jets) -> None:
    p4, mask = random_jets(5, 7)
    pad = torch.zeros(5, 3, 4)
    p4_long = torch.cat([p4, pad], 1)
    mask_long = torch.cat([mask, torch.zeros(5, 3, dtype=torch.bool)], 1)
    torch.testing.assert_close(
        particle_features(p4_long, mask_long)[:, :7], particle_features(p4, mask)
    )
    torch.testing.assert_close(
        pair_features(p4_long, mask_long)[:, :7, :7], pair_features(p4, mask)
    )
    # The mask is authoritative: garbage in padded slots changes nothing.
    garbage = torch.where(mask_long[..., None], p4_long, torch.full_like(p4_long, -3.0))
    torch.testing.assert_close(
        particle_features(garbage, mask_long), particle_features(p4_long, mask_long)
    )
    assert torch.equal(particle_features(p4, mask)[~mask], torch.zeros(int((~mask).sum()), 7))


def test_pair_features_are_symmetric(random_jets) -> None:
    p4, mask = random_jets(4, 9)
    pairs = pair_features(p4, mask)
    torch.testing.assert_close(pairs, pairs.transpose(1, 2))


def _all_features(p4: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
    return [
        particle_features(p4, mask),
        particle_features(p4, mask, standardise=False),
        pair_features(p4, mask),
        jet_four_momentum(p4, mask),
    ]


def test_degenerate_jets_are_finite_with_finite_gradients(degenerate_jets) -> None:
    p4, mask = degenerate_jets
    p4 = p4.clone().requires_grad_(True)
    outputs = _all_features(p4, mask)
    for out in outputs:
        assert torch.isfinite(out).all()
    assert torch.equal(outputs[0][0], torch.zeros(5, 7))  # empty jet: all zero
    assert torch.equal(outputs[2][0], torch.zeros(5, 5, 4))
    sum(out.sum() for out in outputs).backward()
    assert torch.isfinite(p4.grad).all()


@pytest.mark.parametrize("input_dtype", [torch.float32, torch.bfloat16])
def test_bf16_autocast_keeps_float32(degenerate_jets, random_jets, input_dtype) -> None:
    p4 = torch.cat([degenerate_jets[0], random_jets(3, 5)[0]], 0)
    mask = p4[..., 3] > 0
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs = _all_features(p4.to(input_dtype), mask)
    for got, want in zip(outputs, _all_features(p4.to(input_dtype).float(), mask), strict=True):
        assert got.dtype == torch.float32
        assert torch.isfinite(got).all()
        torch.testing.assert_close(got, want)


def test_bad_shapes_raise() -> None:
    with pytest.raises(ValueError, match=r"constituents: expected shape \(B, P, 4\)"):
        particle_features(torch.zeros(2, 3, 5), torch.ones(2, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask: expected shape"):
        pair_features(torch.zeros(2, 3, 4), torch.ones(2, 4, dtype=torch.bool))
