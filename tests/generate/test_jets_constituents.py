"""The 16 ``jetConstituentList`` columns against their stated definitions."""

from __future__ import annotations

import numpy as np
import pytest

from cern_ai_bench.data.hls4ml_columns import PARTICLE_FEATURE_NAMES
from cern_ai_bench.generate.jets_constituents import constituent_features

COLUMN = {name.removeprefix("j1_"): index for index, name in enumerate(PARTICLE_FEATURE_NAMES)}


def make_jets(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two padded jets (P = 12), one near phi = pi to exercise the azimuth wrap."""
    padded = np.zeros((2, 12, 4))
    counts = np.array([8, 12])
    for row, (n, phi0) in enumerate(zip(counts, (0.4, np.pi - 0.05), strict=True)):
        pt = np.sort(rng.exponential(50.0, n) + 1.0)[::-1]
        eta = 1.2 + rng.normal(0, 0.2, n)
        phi = phi0 + rng.normal(0, 0.2, n)
        padded[row, :n] = np.stack(
            [pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], axis=1
        )
    jet_p4 = padded.sum(axis=1)
    return padded, jet_p4, counts


def test_columns_follow_their_definitions() -> None:
    padded, jet_p4, counts = make_jets(np.random.default_rng(0))
    raw = constituent_features(padded, jet_p4)
    assert raw.shape == (2, 12, 16) and raw.dtype == np.float32
    out = raw.astype(np.float64)
    for row, n in enumerate(counts):
        c, j = padded[row, :n], jet_p4[row]
        f = out[row, :n]
        pt, jet_pt = np.hypot(c[:, 0], c[:, 1]), np.hypot(j[0], j[1])
        eta, jet_eta = np.arcsinh(c[:, 2] / pt), np.arcsinh(j[2] / jet_pt)
        dphi = np.angle(np.exp(1j * (np.arctan2(c[:, 1], c[:, 0]) - np.arctan2(j[1], j[0]))))
        np.testing.assert_allclose(f[:, :4], c, rtol=1e-6)
        np.testing.assert_allclose(f[:, COLUMN["erel"]], c[:, 3] / j[3], rtol=1e-6)
        np.testing.assert_allclose(f[:, COLUMN["ptrel"]], pt / jet_pt, rtol=1e-6)
        np.testing.assert_allclose(f[:, COLUMN["etarel"]], eta - jet_eta, atol=1e-6)
        np.testing.assert_allclose(f[:, COLUMN["phirel"]], dphi, atol=1e-6)
        np.testing.assert_allclose(f[:, COLUMN["deltaR"]], np.hypot(eta - jet_eta, dphi), atol=1e-6)
        p = np.linalg.norm(c[:, :3], axis=1)
        np.testing.assert_allclose(f[:, COLUMN["costheta"]], c[:, 2] / p, rtol=1e-6)
        cos_rel = c[:, :3] @ j[:3] / (p * np.linalg.norm(j[:3]))
        np.testing.assert_allclose(f[:, COLUMN["costhetarel"]], cos_rel, rtol=1e-6)
        assert np.all(np.abs(f[:, COLUMN["phi"]]) <= np.pi)
        np.testing.assert_allclose(f[:, COLUMN["erel"]].sum(), 1.0, rtol=1e-6)
        # Padding rows are all zero.
        assert not out[row, n:].any()


def test_rotation_aligns_the_principal_axis() -> None:
    padded, jet_p4, counts = make_jets(np.random.default_rng(1))
    out = constituent_features(padded, jet_p4).astype(np.float64)
    for row, n in enumerate(counts):
        f = out[row, :n]
        rel = f[:, [COLUMN["etarel"], COLUMN["phirel"]]]
        rot = f[:, [COLUMN["etarot"], COLUMN["phirot"]]]
        w = f[:, COLUMN["pt"]]
        # A rotation: distances to the axis are kept.
        np.testing.assert_allclose(np.linalg.norm(rot, axis=1), f[:, COLUMN["deltaR"]], atol=1e-5)
        # The weighted second-moment matrix is diagonal with the larger entry along etarot.
        moments = (rot * w[:, None]).T @ rot
        assert abs(moments[0, 1]) < 1e-4 * moments[0, 0]
        assert moments[0, 0] >= moments[1, 1]
        assert np.sum(w * rot[:, 0] ** 3) >= 0
        assert np.linalg.norm(rel - rot) > 0  # not trivially unrotated


def test_bad_shapes_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"expected shape \(N, P, 4\)"):
        constituent_features(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="jet_p4"):
        constituent_features(np.zeros((2, 3, 4)), np.zeros((3, 4)))
