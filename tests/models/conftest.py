"""Fixtures for model tests: small random jets in the canonical constituent schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

JetFactory = Callable[..., tuple[torch.Tensor, torch.Tensor]]


def _random_jets(
    n_jets: int = 6, n_constituents: int = 12, *, min_real: int = 2, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, P, 4)`` massless constituents around a random axis, pT-descending, zero-padded."""
    g = torch.Generator().manual_seed(seed)
    pt = torch.rand(n_jets, n_constituents, generator=g) * 200 + 0.5
    pt, _ = pt.sort(dim=1, descending=True)
    eta = torch.randn(n_jets, 1, generator=g) + 0.3 * torch.randn(
        n_jets, n_constituents, generator=g
    )
    phi = (
        6 * torch.rand(n_jets, 1, generator=g)
        - 3
        + 0.3 * torch.randn(n_jets, n_constituents, generator=g)
    )
    p4 = torch.stack(
        [pt * torch.cos(phi), pt * torch.sin(phi), pt * torch.sinh(eta), pt * torch.cosh(eta)], -1
    )
    n_real = torch.randint(min_real, n_constituents + 1, (n_jets,), generator=g)
    n_real[0] = n_constituents  # one jet without padding
    mask = torch.arange(n_constituents)[None, :] < n_real[:, None]
    return p4 * mask[..., None], mask


@pytest.fixture
def random_jets() -> JetFactory:
    """Factory ``random_jets(n_jets, n_constituents, *, min_real, seed) -> (p4, mask)``."""
    return _random_jets


@pytest.fixture
def degenerate_jets() -> tuple[torch.Tensor, torch.Tensor]:
    """Jets that break naive formulas: empty, zero pT, collinear duplicates, a single particle.

    Returns ``(4, 5, 4)`` constituents and the mask ``E > 0``.
    """
    p4 = torch.zeros(4, 5, 4)
    # jet 0: no constituents at all.
    # jet 1: a particle along the beam (pT = 0) next to an ordinary one.
    p4[1, 0] = torch.tensor([30.0, 40.0, 0.0, 50.0])
    p4[1, 1] = torch.tensor([0.0, 0.0, 10.0, 10.0])
    # jet 2: two identical massless particles (Delta = 0, m = 0, kT = 0).
    p4[2, 0] = torch.tensor([100.0, 0.0, 50.0, (100.0**2 + 50.0**2) ** 0.5])
    p4[2, 1] = p4[2, 0]
    # jet 3: one particle of 1 TeV.
    p4[3, 0] = torch.tensor([600.0, 800.0, 0.0, 1000.0])
    return p4, p4[..., 3] > 0
