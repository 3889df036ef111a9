"""Conditional flow-matching shower generator (rectified flow) on preprocessed voxels.

Flow matching with the straight (optimal-transport) path, Lipman et al., arXiv:2210.02747, and
Liu et al. (rectified flow), arXiv:2209.03003: with data x1, noise x0 ~ N(0, I) and t in [0, 1],
``x_t = (1 - t) x0 + t x1`` and a network ``v(x_t, t, E)`` regresses the velocity ``x1 - x0``
(mean squared error). Generation integrates ``dx/dt = v`` from noise at t = 0 to t = 1 with a
fixed number of explicit steps. Times are drawn from a logit-normal distribution (Esser et al.,
SD3, arXiv:2403.03206), which weights the middle of the path where the velocity is hardest.
CaloDREAM (arXiv:2405.09629) applies flow matching to CaloChallenge showers with transformers;
here the velocity is a conditioned residual MLP over the whole shower, small enough to train on
a CPU. The data space is :class:`~cern_ai_bench.models.shower_preprocessing.ShowerPreprocessing`
(layer energies and in-layer shapes, standardised), conditioned on the normalised log incident
energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import Tensor, nn

from cern_ai_bench.data.calo_geometry import CaloGeometry
from cern_ai_bench.models.shower_blocks import ConditionalResNet, FourierFeatures, mlp
from cern_ai_bench.models.shower_preprocessing import ShowerPreprocessing

__all__ = ["FlowMatchingConfig", "ShowerFlowMatching", "flow_matching_default"]

Solver = Literal["euler", "midpoint", "heun", "rk4"]
_SOLVER_EVALS = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}


@dataclass(frozen=True)
class FlowMatchingConfig:
    """Sizes and sampling settings of :class:`ShowerFlowMatching`.

    Attributes:
        width: width of the residual MLP (hidden layers and blocks).
        n_blocks: residual blocks.
        cond_dim: width of the (time, energy) embedding fed to every block.
        n_frequencies: Fourier frequencies of the time and of the energy embedding (pi to
            2^(n-1) pi: few, because a velocity that oscillates fast in t needs many ODE steps).
        steps: ODE steps of :meth:`ShowerFlowMatching.generate` (network calls = steps x 1, 2
            or 4 for euler, midpoint/heun, rk4).
        solver: explicit fixed-step ODE solver.
        time_sampling: training times ``uniform`` on [0, 1] or ``logit_normal`` (sigmoid of a
            standard normal).
    """

    width: int = 512
    n_blocks: int = 4
    cond_dim: int = 128
    n_frequencies: int = 4
    steps: int = 32
    solver: Solver = "midpoint"
    time_sampling: Literal["uniform", "logit_normal"] = "logit_normal"

    def __post_init__(self) -> None:
        if min(self.width, self.n_blocks, self.cond_dim, self.n_frequencies, self.steps) < 1:
            raise ValueError(f"FlowMatchingConfig: sizes and steps must be >= 1, got {self}")
        if self.solver not in _SOLVER_EVALS:
            raise ValueError(f"solver must be one of {sorted(_SOLVER_EVALS)}, got {self.solver!r}")
        if self.time_sampling not in ("uniform", "logit_normal"):
            raise ValueError(
                f"time_sampling must be 'uniform' or 'logit_normal', got {self.time_sampling!r}"
            )


class ShowerFlowMatching(nn.Module):
    """Conditional flow matching on the voxels of one geometry.

    Args:
        geometry: the voxel geometry; the model's size follows from it.
        config: network and sampler settings.
    """

    def __init__(self, geometry: CaloGeometry, config: FlowMatchingConfig | None = None) -> None:
        super().__init__()
        self.config = config = config or FlowMatchingConfig()
        self.preprocessing = ShowerPreprocessing(geometry)
        dim = self.preprocessing.n_features
        self.time_features = FourierFeatures(config.n_frequencies)
        self.energy_features = FourierFeatures(config.n_frequencies)
        n_in = self.time_features.out_dim + self.energy_features.out_dim
        # The block modulations see SiLU(embedding), as DiT's adaLN.
        self.cond_net = nn.Sequential(mlp(n_in, (config.cond_dim,), config.cond_dim), nn.SiLU())
        self.velocity_net = ConditionalResNet(
            dim, dim, config.cond_dim, config.width, config.n_blocks
        )

    def fit_preprocessing(self, showers: Tensor, energy: Tensor) -> None:
        """Fit the voxel transform on the training split ``(N, V)`` MeV, ``(N,)`` MeV."""
        self.preprocessing.fit(showers, energy)

    def velocity(self, x: Tensor, t: Tensor, energy_emb: Tensor) -> Tensor:
        """``v(x_t, t, E)``: ``x`` (B, D), ``t`` (B,), ``energy_emb`` (B, 2n + 1) -> (B, D)."""
        cond = self.cond_net(torch.cat([self.time_features(t), energy_emb], dim=1))
        return self.velocity_net(x, cond)

    def forward(self, showers: Tensor, energy: Tensor) -> Tensor:
        """Flow-matching loss (scalar float32) of showers ``(B, V)`` MeV at ``energy`` (B,) MeV."""
        x1 = self.preprocessing(showers, energy)  # (B, D) float32
        energy_emb = self.energy_features(self.preprocessing.condition(energy))
        x0 = torch.randn_like(x1)
        if self.config.time_sampling == "logit_normal":
            t = torch.sigmoid(torch.randn(x1.shape[0], device=x1.device))
        else:
            t = torch.rand(x1.shape[0], device=x1.device)
        xt = (1 - t[:, None]) * x0 + t[:, None] * x1
        v = self.velocity(xt, t, energy_emb)
        return (v.float() - (x1 - x0)).square().mean()

    @torch.no_grad()
    def generate(
        self,
        energy: Tensor,
        *,
        generator: torch.Generator | None = None,
        steps: int | None = None,
    ) -> Tensor:
        """Showers ``(B, V)`` float32 MeV >= 0 for incident energies ``energy`` (B,) MeV.

        Runs on the module's device. The state is integrated in float32 even under autocast
        (only the network runs in reduced precision).

        Args:
            energy: incident energies in MeV.
            generator: source of the initial noise (on the module's device), for reproducibility.
            steps: ODE steps (default ``config.steps``).
        """
        self.preprocessing.check_fitted()
        energy = energy.to(device=self.preprocessing.mean.device, dtype=torch.float32)
        x = self.sample_features(energy, generator=generator, steps=steps)
        return self.preprocessing.inverse(x, energy)

    @torch.no_grad()
    def sample_features(
        self,
        energy: Tensor,
        *,
        generator: torch.Generator | None = None,
        steps: int | None = None,
    ) -> Tensor:
        """Integrate the flow from noise: standardised features ``(B, D)`` float32 at t = 1."""
        device = self.preprocessing.mean.device
        energy = energy.to(device=device, dtype=torch.float32)
        n = energy.shape[0]
        steps = steps or self.config.steps
        energy_emb = self.energy_features(self.preprocessing.condition(energy))
        x = torch.randn(
            n, self.preprocessing.n_features, device=device, generator=generator
        )  # (B, D) at t = 0
        h = 1.0 / steps
        ones = torch.ones(n, device=device)

        def v(x_: Tensor, t: float) -> Tensor:
            return self.velocity(x_, ones * t, energy_emb).float()

        for i in range(steps):
            t = i * h
            if self.config.solver == "euler":
                x = x + h * v(x, t)
            elif self.config.solver == "midpoint":
                x = x + h * v(x + 0.5 * h * v(x, t), t + 0.5 * h)
            elif self.config.solver == "heun":
                k1 = v(x, t)
                k2 = v(x + h * k1, t + h)
                x = x + 0.5 * h * (k1 + k2)
            else:  # rk4
                k1 = v(x, t)
                k2 = v(x + 0.5 * h * k1, t + 0.5 * h)
                k3 = v(x + 0.5 * h * k2, t + 0.5 * h)
                k4 = v(x + h * k3, t + h)
                x = x + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return x


def flow_matching_default(geometry: CaloGeometry) -> ShowerFlowMatching:
    """Conditional flow matching, residual MLP width 512 x 4 blocks, 32 midpoint steps."""
    return ShowerFlowMatching(geometry, FlowMatchingConfig())
