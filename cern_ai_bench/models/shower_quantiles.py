"""Energy-binned marginal Gaussianisation: every feature mapped through its own empirical CDF.

Shower features are far from Gaussian even after standardisation: a voxel that is empty in a
quarter of the showers is bimodal (the dequantised empty mode decades below the filled one),
and the filled mode is skewed with a hard upper edge. A generative model that gets such a
marginal slightly wrong in its tail puts orders of magnitude too much energy into that voxel
once the log is undone. Mapping each feature through its empirical CDF and then the inverse
normal CDF (``y = Phi^-1(F(z))``) gives every feature a standard normal marginal, which the
models' Gaussian base and decoder match by construction, and the inverse ``z = F^-1(Phi(y))``
can only return values inside the training range: no output of the network, however far out,
reaches beyond what the training showers contain. Tabular diffusion models standardise numerical
columns the same way (TabDDPM, Kotelnikov et al., arXiv:2209.15421, with scikit-learn's
QuantileTransformer).

The CDFs depend on the incident energy (the empty fraction of a voxel changes with it), so the
showers are split into equal-count bins of the condition and each bin has its own table of
``n_quantiles`` evenly spaced quantiles per feature, interpolated linearly.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["BinnedQuantileMap"]

#: Rows per bin used to estimate the quantiles (bounds memory on DS3's 40,500 voxels).
_MAX_ROWS_PER_BIN = 8192
#: The table ends lie this fraction of the fitted range beyond the sample's minimum and maximum.
_END_MARGIN = 0.05
#: Fewest rows a bin is fitted from when the sample is small (fewer bins are used instead).
_MIN_ROWS_PER_BIN = 64


# Both in float64: the tails of erf and erfinv lose the round trip's precision in float32.
def _probit(u: Tensor) -> Tensor:
    return (math.sqrt(2.0) * torch.special.erfinv(2.0 * u.double() - 1.0)).float()


def _normal_cdf(y: Tensor) -> Tensor:
    return 0.5 * (1.0 + torch.special.erf(y.double() / math.sqrt(2.0)))


class BinnedQuantileMap(nn.Module):
    """``(z (B, D), condition (B,)) <-> y (B, D)`` with standard normal marginals per bin.

    Args:
        n_features: D.
        n_bins: equal-count bins of the condition (each its own CDF table).
        n_quantiles: quantile levels per table, evenly spaced on [0, 1] (the ends are the
            bin's minimum and maximum, which bound the inverse).

    Call :meth:`fit` before use; the tables are buffers and travel with the checkpoint.
    """

    def __init__(self, n_features: int, *, n_bins: int = 12, n_quantiles: int = 129) -> None:
        super().__init__()
        if n_bins < 1 or n_quantiles < 3:
            raise ValueError(f"need n_bins >= 1 and n_quantiles >= 3, got {n_bins}, {n_quantiles}")
        self.n_bins = n_bins
        self.n_quantiles = n_quantiles
        self.register_buffer("tables", torch.zeros(n_bins, n_features, n_quantiles))
        # Inner bin edges of the condition (n_bins - 1), and the CDF margin 1 / (2 rows).
        self.register_buffer("edges", torch.zeros(n_bins - 1))
        self.register_buffer("eps", torch.full((), 1e-4))

    def bin_of(self, condition: Tensor) -> Tensor:
        """Bin index ``(B,)`` long of each condition value."""
        return torch.bucketize(condition.float().contiguous(), self.edges)

    @torch.no_grad()
    def fit(self, z: Tensor, condition: Tensor) -> None:
        """Quantile tables from ``z`` (N, D) and ``condition`` (N,); deterministic.

        Small samples get fewer bins (at least ``_MIN_ROWS_PER_BIN`` rows each; the surplus
        edges are +inf); a bin that no training row falls in (many showers at one incident
        energy, as in CaloChallenge dataset 1) borrows the table of its neighbour below.
        """
        n = z.shape[0]
        if n < 2:
            raise ValueError(f"need at least 2 rows to fit the quantile tables, got {n}")
        condition = condition.float()
        n_used = max(1, min(self.n_bins, n // _MIN_ROWS_PER_BIN))
        levels = torch.linspace(0, 1, n_used + 1, dtype=torch.float64)[1:-1]
        ordered = torch.sort(condition).values
        edges = torch.full((self.n_bins - 1,), math.inf)
        edges[: n_used - 1] = ordered[(levels * (n - 1)).round().long()]
        self.edges.copy_(edges)
        bins = self.bin_of(condition)
        smallest = n
        filled: list[int] = []
        for k in range(self.n_bins):
            rows = torch.nonzero(bins == k).squeeze(1)
            if rows.numel() < 2:
                continue
            if rows.numel() > _MAX_ROWS_PER_BIN:  # evenly spaced subsample, deterministic
                rows = rows[torch.linspace(0, rows.numel() - 1, _MAX_ROWS_PER_BIN).long()]
            smallest = min(smallest, rows.numel())
            values = torch.sort(z[rows].float(), dim=0).values  # (n_k, D)
            pos = torch.linspace(0, values.shape[0] - 1, self.n_quantiles, dtype=torch.float64)
            lo = pos.floor().long()
            hi = pos.ceil().long()
            w = (pos - lo).float()[:, None]
            table = values[lo] * (1 - w) + values[hi] * w  # (Q, D)
            # Widen the ends a little, so that values just outside the fitted sample (fresh
            # dequantisation noise moves every feature slightly) still invert exactly.
            margin = _END_MARGIN * (table[-1] - table[0])
            table[0] -= margin
            table[-1] += margin
            self.tables[k].copy_(table.T)
            filled.append(k)
        if not filled:
            raise ValueError("no quantile bin holds two rows: cannot fit the quantile tables")
        for k in range(self.n_bins):
            if k not in filled:
                below = [j for j in filled if j < k]
                self.tables[k].copy_(self.tables[below[-1] if below else filled[0]])
        self.eps.fill_(0.5 / smallest)

    def forward(self, z: Tensor, condition: Tensor) -> Tensor:
        """``y = Phi^-1(F(z))``, ``(B, D)`` float32; values beyond a bin's range map to its ends."""
        # Interpolation in float64: the wide end segments would cost float32 precision.
        z = z.double()
        u = torch.empty_like(z)
        bins = self.bin_of(condition)
        q = self.n_quantiles
        for k in torch.unique(bins).tolist():
            rows = torch.nonzero(bins == k).squeeze(1)
            table = self.tables[k].double()  # (D, Q)
            values = z[rows].T.contiguous()  # (D, n)
            i = torch.searchsorted(table, values).clamp(1, q - 1)
            lo = table.gather(1, i - 1)
            hi = table.gather(1, i)
            span = hi - lo
            frac = torch.where(span > 0, (values - lo) / torch.where(span > 0, span, 1), 0.5)
            u[rows] = ((i - 1 + frac.clamp(0, 1)) / (q - 1)).T
        # [0, 1] -> [eps, 1 - eps] (affine, so the inverse is exact): the training extremes
        # land at finite |y| of about Phi^-1(1 - 1 / (2 rows)).
        return _probit(self.eps + (1 - 2 * self.eps) * u.double())

    def inverse(self, y: Tensor, condition: Tensor) -> Tensor:
        """``z = F^-1(Phi(y))``, ``(B, D)`` float32 within each bin's training range."""
        u = ((_normal_cdf(y) - self.eps) / (1 - 2 * self.eps)).clamp(0, 1)
        pos = u * (self.n_quantiles - 1)
        lo = pos.floor().long().clamp_max(self.n_quantiles - 2)
        frac = pos - lo
        z = torch.empty_like(frac)
        bins = self.bin_of(condition)
        for k in torch.unique(bins).tolist():
            rows = torch.nonzero(bins == k).squeeze(1)
            table = self.tables[k].double()  # (D, Q)
            i = lo[rows].T  # (D, n)
            a = table.gather(1, i)
            b = table.gather(1, i + 1)
            z[rows] = (a + frac[rows].T * (b - a)).T
        return z.float()

    def extra_repr(self) -> str:
        return f"bins={self.n_bins}, quantiles={self.n_quantiles}"
