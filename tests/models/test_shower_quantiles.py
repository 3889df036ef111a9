"""The energy-binned marginal Gaussianisation of the shower features."""

from __future__ import annotations

import math

import pytest
import torch

from cern_ai_bench.models.shower_quantiles import BinnedQuantileMap


def _bimodal(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two features: a bimodal one (an 'empty' mode whose weight grows with the condition) and
    a skewed one (exponential); conditions uniform on [0, 1]."""
    g = torch.Generator().manual_seed(seed)
    c = torch.rand(n, generator=g)
    empty = torch.rand(n, generator=g) < 0.1 + 0.5 * c
    bimodal = torch.where(
        empty, -8 + 0.1 * torch.randn(n, generator=g), torch.randn(n, generator=g)
    )
    skewed = torch.empty(n).exponential_(generator=g)
    return torch.stack([bimodal, skewed], dim=1), c


def test_fitted_features_have_standard_normal_marginals_in_every_bin() -> None:
    z, c = _bimodal(40_000)
    qmap = BinnedQuantileMap(2, n_bins=8, n_quantiles=129)
    qmap.fit(z, c)
    fresh, c_fresh = _bimodal(40_000, seed=1)  # held out: not the fitted rows
    y = qmap(fresh, c_fresh)
    bins = qmap.bin_of(c_fresh)
    normal = torch.distributions.Normal(0.0, 1.0)
    for k in range(8):
        part = y[bins == k]
        assert part.shape[0] > 4000
        for d in range(2):
            # Kolmogorov distance to N(0, 1): a bimodal or skewed input would be ~0.2 off.
            values = torch.sort(part[:, d]).values
            ecdf = torch.arange(1, len(values) + 1) / len(values)
            assert float((ecdf - normal.cdf(values)).abs().max()) < 0.03, (k, d)


def test_round_trip_is_exact_inside_the_fitted_range() -> None:
    z, c = _bimodal(5000)
    qmap = BinnedQuantileMap(2, n_bins=4, n_quantiles=65)
    qmap.fit(z, c)
    back = qmap.inverse(qmap(z, c), c)
    torch.testing.assert_close(back, z, rtol=1e-4, atol=1e-4)


def test_inverse_stays_inside_the_fitted_range_for_any_input() -> None:
    z, c = _bimodal(5000)
    qmap = BinnedQuantileMap(2, n_bins=4, n_quantiles=65)
    qmap.fit(z, c)
    y = torch.tensor([[-50.0, 50.0], [1e6, -1e6], [math.inf, -math.inf]])
    out = qmap.inverse(y, torch.tensor([0.05, 0.5, 0.95]))
    assert bool(torch.isfinite(out).all())
    span = z.max(0).values - z.min(0).values
    assert bool((out >= z.min(0).values - 0.051 * span).all())
    assert bool((out <= z.max(0).values + 0.051 * span).all())
    # Far-out scores reach the ends of their bin's range (widened by 5 %), not beyond.
    in_bin = z[qmap.bin_of(c) == qmap.bin_of(torch.tensor([0.05]))]
    low, high = in_bin.min(0).values, in_bin.max(0).values
    assert float(low[0] - 0.051 * (high - low)[0]) < float(out[0, 0]) < float(low[0])
    assert float(high[1]) < float(out[0, 1]) < float(high[1] + 0.051 * (high - low)[1])


def test_condition_dependence_is_kept() -> None:
    """The empty fraction grows with the condition: the same normal score decodes to the empty
    mode at high condition and to the filled mode at low condition."""
    z, c = _bimodal(40_000)
    qmap = BinnedQuantileMap(2, n_bins=8)
    qmap.fit(z, c)
    y = torch.full((2, 2), -0.5)  # the 31st percentile
    out = qmap.inverse(y, torch.tensor([0.02, 0.98]))
    assert float(out[0, 0]) > -3  # 11 % empty at c ~ 0: the 31st percentile is filled
    assert float(out[1, 0]) < -7  # 59 % empty at c ~ 1: it is empty


def test_discrete_conditions_and_small_samples_fit() -> None:
    # Three incident energies (CaloChallenge dataset 1 style): bins without rows borrow a
    # neighbour's table, and every row maps to a finite score.
    z, _ = _bimodal(3000)
    c = torch.tensor([0.0, 0.5, 1.0]).repeat(1000)
    qmap = BinnedQuantileMap(2, n_bins=12)
    qmap.fit(z, c)
    assert bool(torch.isfinite(qmap(z, c)).all())
    # 100 rows: fewer bins than asked (64 rows each at least), still a valid map.
    small, c_small = _bimodal(100)
    qmap = BinnedQuantileMap(2, n_bins=12)
    qmap.fit(small, c_small)
    assert int(torch.isfinite(qmap.edges).sum()) == 0  # one bin: 100 // 64
    torch.testing.assert_close(qmap.inverse(qmap(small, c_small), c_small), small)
    with pytest.raises(ValueError, match="at least 2 rows"):
        BinnedQuantileMap(2).fit(small[:1], c_small[:1])
