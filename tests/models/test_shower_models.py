"""Shower generators (CVAE, flow matching) and their shared voxel preprocessing.

The showers are a small shower-like stand-in (gamma longitudinal profile over the layers,
exponential radial profile integrated over the radial bins, multinomial spots, a readout
threshold), enough to exercise sparsity, empty layers and the energy range; the model quality
against the GFlash reference is measured outside the unit tests.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import torch
from scipy.special import gammainc

from cern_ai_bench.data.calo_geometry import CaloGeometry, get_geometry
from cern_ai_bench.models.cvae import CVAEConfig, ShowerCVAE, cvae_default
from cern_ai_bench.models.flow_matching import (
    FlowMatchingConfig,
    ShowerFlowMatching,
    flow_matching_default,
)
from cern_ai_bench.models.shower_preprocessing import ShowerPreprocessing

#: Readout threshold of the stand-in showers (MeV).
THRESHOLD = 0.5

#: Tiny versions of both models, for fast tests.
TINY = {
    "cvae": lambda g: ShowerCVAE(g, CVAEConfig(hidden_dims=(64, 32), latent_dim=8)),
    "flow_matching": lambda g: ShowerFlowMatching(
        g, FlowMatchingConfig(width=64, n_blocks=2, cond_dim=32, steps=4)
    ),
}


def standin_showers(
    geometry: CaloGeometry, n: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(showers (n, V) MeV, energy (n,) MeV)``, E log-uniform in 1 GeV - 1 TeV."""
    rng = np.random.default_rng(seed)
    energy = np.exp(rng.uniform(np.log(1e3), np.log(1e6), n))
    layers = geometry.relevant_layers
    t_edges = np.linspace(0.0, 30.0, len(layers) + 1)  # layer depth edges in X0
    t_max = np.log(energy / 8.0) - 0.5 + 0.2 * rng.standard_normal(n)  # ln(E / E_c) - 0.5
    a = 1.0 + 0.5 * np.log(energy / 8.0)
    fractions = np.diff(gammainc(a[:, None], ((a - 1) / t_max)[:, None] * t_edges), axis=1)
    showers = np.zeros((n, geometry.n_voxels))
    for k, index in enumerate(layers):
        layer = geometry.layers[index]
        edges = np.asarray(layer.r_edges)
        radius = 10.0 * (1 + 0.1 * t_edges[k])  # mm, wider with depth
        cdf = 1 - (1 + edges / radius) * np.exp(-edges / radius)  # 2D exponential profile
        weights = np.tile(np.diff(cdf) / layer.n_alpha, layer.n_alpha)
        layer_energy = energy * fractions[:, k]
        spots = np.clip(layer_energy / 20.0, 1, 2000).astype(int)  # one spot per 20 MeV
        counts = rng.multinomial(spots, weights / weights.sum())
        showers[:, geometry.layer_slice(index)] = counts * (layer_energy / spots)[:, None]
    showers[showers < THRESHOLD] = 0.0
    return torch.from_numpy(showers).float(), torch.from_numpy(energy).float()


@pytest.fixture(scope="module")
def geometry() -> CaloGeometry:
    return get_geometry("ds1_photons")


@pytest.fixture(scope="module")
def showers(geometry) -> tuple[torch.Tensor, torch.Tensor]:
    return standin_showers(geometry, 512)


def test_standin_is_shower_like(geometry, showers) -> None:
    s, e = showers
    ratio = s.sum(1) / e
    assert 0.8 < float(ratio.mean()) < 1.05
    sparsity = float((s == 0).float().mean())
    assert 0.1 < sparsity < 0.9
    assert bool((s >= THRESHOLD).logical_or(s == 0).all())


# -- preprocessing ---------------------------------------------------------------------------


def _fitted_preprocessing(geometry, showers) -> ShowerPreprocessing:
    pre = ShowerPreprocessing(geometry)
    pre.fit(*showers)
    return pre


def test_preprocessing_round_trip_keeps_values_and_zeros(geometry, showers) -> None:
    s, e = showers
    pre = _fitted_preprocessing(geometry, showers)
    features = pre(s, e)
    assert features.shape == (len(s), 1 + len(geometry.relevant_layers) + geometry.n_voxels)
    assert features.dtype == torch.float32 and bool(torch.isfinite(features).all())
    back = pre.inverse(features, e)
    # Exact up to float32 normal scores (a few 1e-4 in the tails), except where fresh
    # dequantisation noise pushes a feature beyond its fitted range (plus the 5 % margin): the
    # quantile map clamps those to the range ends.
    rel = (back - s).abs() / s.clamp_min(1e-3)
    assert float((rel < 5e-4).float().mean()) > 0.9999
    assert float(rel.max()) < 0.02
    assert bool(((back == 0) == (s == 0)).all()), "zeros must stay zeros and non-zeros non-zero"


def _layer_energies(pre: ShowerPreprocessing, features: torch.Tensor, e: torch.Tensor):
    """``(raw features, layer energies (B, L) MeV)`` as the features encode them."""
    mean, std = pre.moments(e)
    raw = pre.gaussianise.inverse(features, pre.condition(e)) * std + mean
    total = torch.exp(torch.minimum(raw[:, 0], pre.log_total_max)) * e
    return raw, total[:, None] * torch.softmax(raw[:, 1 : 1 + pre.n_layers], dim=1)


def test_dequantisation_fills_zeros_a_decade_below_the_threshold(geometry, showers) -> None:
    s, e = showers
    pre = _fitted_preprocessing(geometry, showers)
    torch.manual_seed(0)
    features = pre(s, e)
    again = pre(s, e)  # fresh noise: the empty voxels move
    shapes = slice(1 + pre.n_layers, None)
    # (A fill value below a voxel's fitted range clamps to the range end, so not every one.)
    assert float((features[:, shapes] != again[:, shapes])[s == 0].float().mean()) > 0.99
    raw, layers = _layer_energies(pre, features, e)
    filled = torch.exp(raw[:, shapes]) * layers[:, pre.layer_of_voxel]
    assert bool((filled[s == 0] <= 0.1 * pre.threshold_mev * 1.0001).all())
    torch.testing.assert_close(filled[s > 0], s[s > 0], rtol=1e-4, atol=1e-4)


def test_preprocessing_standardises_and_fits_range_and_threshold(geometry, showers) -> None:
    s, e = showers
    pre = _fitted_preprocessing(geometry, showers)
    torch.manual_seed(0)
    features = pre(s, e)
    # About zero mean and unit spread at low and at high energy alike (the standin's layer
    # energy fractions narrow with energy; a global standardisation would not do this).
    low = e < e.median()
    for part in (features[low], features[~low]):
        assert float(part.mean(0).abs().median()) < 0.15
        assert float((part.std(0) - 1).abs().median()) < 0.15
        assert float((part[:, : 1 + pre.n_layers].std(0) - 1).abs().max()) < 0.3
    # The tables are interpolated linearly between knots and held beyond them.
    lo, hi = (float(v) for v in pre.log_energy_range)
    at_knots = torch.exp(torch.linspace(lo, hi, pre.n_knots, dtype=torch.float64)).float()
    mean, std = pre.moments(at_knots)
    torch.testing.assert_close(mean, pre.mean, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(std, pre.std, rtol=1e-4, atol=1e-4)
    beyond = pre.moments(torch.tensor([math.exp(lo) / 10, math.exp(hi) * 10]))[0]
    torch.testing.assert_close(beyond, pre.mean[[0, -1]])
    cond = pre.condition(e)
    assert float(cond.min()) == pytest.approx(0.0, abs=1e-5)
    assert float(cond.max()) == pytest.approx(1.0, abs=1e-5)
    smallest = float(s[s > 0].min())
    assert smallest * 0.99 < float(pre.threshold_mev) <= smallest


def test_inverse_clamps_and_zeroes_below_threshold(geometry, showers) -> None:
    s, e = showers
    pre = _fitted_preprocessing(geometry, showers)
    features = torch.randn(64, pre.n_features) * 30  # far outside the data: still valid showers
    out = pre.inverse(features, e[:64])
    assert bool((out >= 0).all()) and bool(torch.isfinite(out).all())
    assert bool(((out == 0) | (out >= pre.threshold_mev)).all())
    # The clamp bounds the total energy by the training maximum of E_tot / E (+10 %).
    assert float((s.sum(1) / e).max()) * 1.2 > float(torch.exp(pre.log_total_max))
    assert bool((out.sum(1) <= torch.exp(pre.log_total_max) * e[:64] * 1.0001).all())


def test_preprocessing_total_and_layer_energies_are_exact(geometry, showers) -> None:
    """The inverse renormalises layers and voxels: sums equal the generated total and layers."""
    s, e = showers
    pre = _fitted_preprocessing(geometry, showers)
    features = pre(s, e)
    shifted = features.clone()
    shifted[:, 1:] += 0.3 * torch.randn(len(s), pre.n_features - 1)  # perturb all fractions
    pre.threshold_mev.zero_()  # keep every voxel so the sums are exact
    out = pre.inverse(shifted, e)
    _, layers = _layer_energies(pre, shifted, e)
    torch.testing.assert_close(pre.layer_sums(out), layers, rtol=1e-4, atol=1e-3)
    _, unshifted = _layer_energies(pre, features, e)
    torch.testing.assert_close(out.sum(1), unshifted.sum(1), rtol=1e-4, atol=1e-3)


def test_fit_is_deterministic_and_in_state_dict(geometry, showers) -> None:
    s, e = showers
    a = _fitted_preprocessing(geometry, showers)
    b = _fitted_preprocessing(geometry, (s.clone(), e.clone()))
    state = a.state_dict()
    assert set(state) == {
        "mean",
        "std",
        "log_total_max",
        "log_energy_range",
        "threshold_mev",
        "fitted",
        "gaussianise.tables",
        "gaussianise.edges",
        "gaussianise.eps",
    }
    for key, value in state.items():
        assert torch.equal(value, b.state_dict()[key]), key
    fresh = ShowerPreprocessing(geometry)
    fresh.load_state_dict(state)
    torch.manual_seed(0)
    expected = a(s, e)
    torch.manual_seed(0)
    torch.testing.assert_close(fresh(s, e), expected, rtol=0, atol=0)


def test_fit_rejects_bad_input(geometry, showers) -> None:
    s, e = showers
    pre = ShowerPreprocessing(geometry)
    with pytest.raises(ValueError, match=r"\(N, 368\)"):
        pre.fit(s[:, :100], e)
    with pytest.raises(ValueError, match="energies"):
        pre.fit(s, e[:10])
    with pytest.raises(ValueError, match="positive"):
        pre.fit(s, -e)
    with pytest.raises(ValueError, match="zero"):
        pre.fit(torch.zeros_like(s), e)


@pytest.mark.parametrize("name", sorted(TINY))
def test_generate_before_fit_is_a_clear_error(geometry, name) -> None:
    with pytest.raises(RuntimeError, match="fit_preprocessing"):
        TINY[name](geometry).generate(torch.full((2,), 1e4))


# -- models ----------------------------------------------------------------------------------


def _fitted(name: str, geometry: CaloGeometry, showers) -> torch.nn.Module:
    torch.manual_seed(0)
    model = TINY[name](geometry)
    model.fit_preprocessing(*showers)
    return model


@pytest.mark.parametrize("name", sorted(TINY))
def test_forward_is_a_finite_scalar_with_grad_everywhere(geometry, showers, name) -> None:
    model = _fitted(name, geometry, showers)
    s, e = showers
    loss = model(s[:32], e[:32])
    assert loss.shape == () and loss.dtype == torch.float32 and bool(torch.isfinite(loss))
    loss.backward()
    # The condition modulations start at zero (identity), which blocks the gradient to the
    # condition network until they have moved: take one step, then check.
    torch.optim.SGD(model.parameters(), lr=1e-2).step()
    model.zero_grad()
    model(s[:32], e[:32]).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), pname
        assert float(p.grad.abs().sum()) > 0, f"{pname} gets no gradient"


@pytest.mark.parametrize("name", sorted(TINY))
def test_generate_shape_dtype_sign_and_seed(geometry, showers, name) -> None:
    model = _fitted(name, geometry, showers).eval()
    energy = showers[1][:16].double()  # any float dtype is accepted
    out = model.generate(energy, generator=torch.Generator().manual_seed(3))
    assert out.shape == (16, geometry.n_voxels) and out.dtype == torch.float32
    assert out.device == energy.device and not out.requires_grad
    assert bool((out >= 0).all()) and bool(torch.isfinite(out).all())
    again = model.generate(energy, generator=torch.Generator().manual_seed(3))
    assert torch.equal(out, again)
    other = model.generate(energy, generator=torch.Generator().manual_seed(4))
    assert not torch.equal(out, other)


@pytest.mark.parametrize("name", sorted(TINY))
def test_checkpoint_restores_preprocessing_and_weights(geometry, showers, name) -> None:
    model = _fitted(name, geometry, showers).eval()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = TINY[name](geometry).eval()
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    energy = showers[1][:8]
    torch.testing.assert_close(
        restored.generate(energy, generator=torch.Generator().manual_seed(0)),
        model.generate(energy, generator=torch.Generator().manual_seed(0)),
        rtol=0,
        atol=0,
    )


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_overfit_loss_decreases(geometry, showers, name) -> None:
    model = _fitted(name, geometry, showers)
    s, e = showers[0][:64], showers[1][:64]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    torch.manual_seed(1)
    losses = []
    for _ in range(100):
        loss = model(s, e)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    first, last = np.mean(losses[:10]), np.mean(losses[-10:])
    assert last < first - 0.1 * abs(first), (first, last)


def test_flow_matching_solvers_converge_with_their_order(geometry, showers) -> None:
    """At 8 steps each solver is as close to a fine RK4 solution as its order predicts."""
    trained = _fitted("flow_matching", geometry, showers)
    optimizer = torch.optim.Adam(trained.parameters(), lr=3e-3)
    for _ in range(20):  # a non-trivial velocity field
        loss = trained(*showers)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    energy = showers[1][:8]

    def solve(solver: str, steps: int) -> torch.Tensor:
        config = FlowMatchingConfig(width=64, n_blocks=2, cond_dim=32, steps=steps, solver=solver)
        model = ShowerFlowMatching(geometry, config).eval()
        model.load_state_dict(trained.state_dict())
        return model.sample_features(energy, generator=torch.Generator().manual_seed(0))

    exact = solve("rk4", 256)
    noise = torch.randn(exact.shape, generator=torch.Generator().manual_seed(0))
    assert float((exact - noise).abs().mean()) > 0.05  # the flow moved the noise
    error = {
        s: float((solve(s, 8) - exact).abs().max()) for s in ("euler", "midpoint", "heun", "rk4")
    }
    # Errors fall with the order: 1 (euler), 2 (midpoint, heun), 4 (rk4).
    assert error["rk4"] < min(error["midpoint"], error["heun"]), error
    assert 5 * max(error["midpoint"], error["heun"]) < error["euler"] < 0.5, error


def test_presets_fit_geometries() -> None:
    for name in ("ds1_photons", "ds2"):
        geometry = get_geometry(name)
        n_features = 1 + len(geometry.relevant_layers) + geometry.n_voxels
        fm = flow_matching_default(geometry)
        assert fm.velocity_net.inp.in_features == n_features
        assert fm.velocity_net.out.out_features == n_features
        vae = cvae_default(geometry)
        assert vae.decoder[-1].out_features == n_features


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="solver"):
        FlowMatchingConfig(solver="leapfrog")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="time_sampling"):
        FlowMatchingConfig(time_sampling="beta")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kl_weight"):
        CVAEConfig(kl_weight=-1.0)
