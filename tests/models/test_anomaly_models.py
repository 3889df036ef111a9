"""L1 anomaly-detection models: preprocessing, dense AE and VAE (ADC2021 layout).

The L1 events are a toy in the ADC2021 layout (W -> l nu-like: one lepton with the MET opposite
in phi, a few jets, some removed jets with pT = 0 but class 4 and a phi, as the public export
leaves them); the anomalous samples add a 500 GeV muon or turn the MET onto the lepton.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from cern_ai_bench.data.l1_layout import SLOTS
from cern_ai_bench.metrics.anomaly import roc_auc
from cern_ai_bench.models.autoencoder import (
    L1VAE,
    DenseAutoencoder,
    L1AEConfig,
    dense_ae_default,
    kl_per_event,
    l1_vae_default,
    masked_mse,
)
from cern_ai_bench.models.builders import count_parameters
from cern_ai_bench.models.cwola import cwola_default
from cern_ai_bench.models.l1_preprocessing import ETA_MAX, MIN_FIT_COUNT, L1Preprocessing

MUON0 = SLOTS["muons"].start
ELECTRON0 = SLOTS["electrons"].start
JET0 = SLOTS["jets"].start


def toy_l1_events(n: int, seed: int = 0) -> torch.Tensor:
    """``(n, 19, 4)`` float32 toy events in the ADC2021 layout (GeV, rad, class id)."""
    rng = np.random.default_rng(seed)
    ev = np.zeros((n, 19, 4))
    lep_pt = 23 + rng.exponential(15, n)
    lep_phi = rng.uniform(-math.pi, math.pi, n)
    is_mu = rng.random(n) < 0.5
    slot = np.where(is_mu, MUON0, ELECTRON0)
    rows = np.arange(n)
    ev[rows, slot] = np.stack(
        [lep_pt, rng.uniform(-2, 2, n), lep_phi, np.where(is_mu, 3, 2)], axis=1
    )
    met_phi = np.angle(np.exp(1j * (lep_phi + math.pi + rng.normal(0, 0.3, n))))
    ev[:, 0] = np.stack([lep_pt * rng.uniform(0.7, 1.3, n), np.zeros(n), met_phi, np.ones(n)], 1)
    n_jets = np.minimum(rng.poisson(2.0, n), 10)
    for i in range(n):
        pts = np.sort(15 + rng.exponential(30, n_jets[i]))[::-1]
        k = JET0 + np.arange(n_jets[i])
        ev[i, k, 0] = pts
        ev[i, k, 1] = rng.uniform(-3.5, 3.5, n_jets[i])
        ev[i, k, 2] = rng.uniform(-math.pi, math.pi, n_jets[i])
        ev[i, k, 3] = 4
    # The export quirk: a removed jet keeps phi and class 4 with pT = eta = 0.
    quirk = rows[(n_jets < 9) & (rng.random(n) < 0.2)]
    ev[quirk, JET0 + 9, 2] = rng.uniform(-math.pi, math.pi, quirk.size)
    ev[quirk, JET0 + 9, 3] = 4
    return torch.from_numpy(ev).float()


def with_hard_muon(events: torch.Tensor, pt: float = 500.0) -> torch.Tensor:
    """The events with a muon of ``pt`` GeV in the leading muon slot (the others shifted)."""
    out = events.clone()
    out[:, MUON0 + 1 : MUON0 + 4] = events[:, MUON0 : MUON0 + 3]
    out[:, MUON0] = torch.tensor([pt, 0.5, 1.0, 3.0])
    return out


@pytest.fixture(scope="module")
def background() -> torch.Tensor:
    return toy_l1_events(3000, seed=1)


# --- preprocessing ---------------------------------------------------------------------------


def test_preprocessing_layout_and_mask(background) -> None:
    pre = L1Preprocessing()
    pre.fit(background)
    x, mask = pre(background)
    assert x.shape == (3000, 57) and x.dtype == torch.float32
    assert mask.shape == (3000, 57) and mask.dtype == torch.bool
    filled = background[..., 0] > 0
    # Slot-major: feature 3 k + j is value j of slot k.
    for k in (0, ELECTRON0, MUON0, JET0 + 2):
        f = filled[:, k]
        assert torch.equal(mask[:, 3 * k + 2], f)
        assert torch.equal(x[f, 3 * k + 2], background[f, k, 2])
        if k:
            assert torch.equal(x[f, 3 * k + 1], background[f, k, 1])
        z = (torch.log1p(background[f, k, 0]) - pre.pt_mean[k]) / pre.pt_std[k]
        torch.testing.assert_close(x[f, 3 * k], z)
    assert not mask[:, 1].any() and not x[:, 1].any()  # MET eta
    met_eta = background.clone()
    met_eta[:, 0, 1] = 0.7  # carries nothing: ignored
    assert torch.equal(pre(met_eta)[0], x)
    # Removed jets (pT = 0, class 4, phi != 0) are empty: masked and zero eta / phi.
    quirk = (background[:, JET0 + 9, 3] == 4) & (background[:, JET0 + 9, 0] == 0)
    assert quirk.sum() > 50
    sl = slice(3 * (JET0 + 9), 3 * (JET0 + 10))
    assert not mask[quirk, sl].any()
    assert not x[quirk, sl][:, 1:].any()
    # Empty slots read pT = 0 in the transform.
    torch.testing.assert_close(
        x[quirk, sl][:, 0],
        (0 - pre.pt_mean[JET0 + 9]) / pre.pt_std[JET0 + 9].expand(int(quirk.sum())),
    )
    # (B, 19, 3) without the class column gives the same.
    x3, m3 = pre(background[..., :3])
    assert torch.equal(x3, x) and torch.equal(m3, mask)


@pytest.mark.parametrize("shape", [(4, 19), (4, 18, 4), (4, 19, 5), (19, 4)])
def test_preprocessing_rejects_wrong_shapes(shape) -> None:
    with pytest.raises(ValueError, match=r"\(B, 19, 4\)"):
        L1Preprocessing()(torch.zeros(shape))
    with pytest.raises(ValueError, match=r"\(B, 19, 4\)"):
        L1Preprocessing().fit(torch.zeros(shape))


def test_fit_statistics_by_hand(background) -> None:
    bkg = background.clone()
    bkg[:, MUON0 + 3] = 0  # make the 4th muon slot rare: fewer than MIN_FIT_COUNT entries
    bkg[: MIN_FIT_COUNT - 1, MUON0 + 3] = torch.tensor([40.0, 0.1, 0.2, 3.0])
    for log_pt in (True, False):
        pre = L1Preprocessing(log_pt=log_pt)
        pre.fit(bkg)
        pt = bkg[..., 0].double().numpy()
        t = np.log1p(pt) if log_pt else pt
        for k in (0, ELECTRON0, MUON0, JET0, JET0 + 3):
            v = t[pt[:, k] > 0, k]
            assert v.size >= MIN_FIT_COUNT
            assert float(pre.pt_mean[k]) == pytest.approx(v.mean(), rel=1e-6)
            assert float(pre.pt_std[k]) == pytest.approx(v.std(ddof=0), rel=1e-5)
        # The rare slot takes the pooled statistics of the muons.
        muons = slice(MUON0, MUON0 + 4)
        v = t[:, muons][pt[:, muons] > 0]
        assert float(pre.pt_mean[MUON0 + 3]) == pytest.approx(v.mean(), rel=1e-6)
        assert float(pre.pt_std[MUON0 + 3]) == pytest.approx(v.std(ddof=0), rel=1e-5)
        # Slots never filled by the toy (electrons 2-4 are filled, jets 9-10 rarely): finite.
        assert torch.isfinite(pre.pt_mean).all() and (pre.pt_std > 0).all()
    # A group without any object falls back to mean 0, std 1.
    no_electrons = bkg.clone()
    no_electrons[:, ELECTRON0 : ELECTRON0 + 4] = 0
    pre = L1Preprocessing()
    pre.fit(no_electrons)
    assert pre.pt_mean[ELECTRON0 : ELECTRON0 + 4].eq(0).all()
    assert pre.pt_std[ELECTRON0 : ELECTRON0 + 4].eq(1).all()


def test_fit_rejects_non_finite_and_empty(background) -> None:
    bad = background[:10].clone()
    bad[7, JET0, 1] = float("nan")
    with pytest.raises(ValueError, match="event 7"):
        L1Preprocessing().fit(bad)
    with pytest.raises(ValueError, match="no events"):
        L1Preprocessing().fit(background[:0])


def test_preprocessing_in_state_dict_and_fitted_on_background(background) -> None:
    model = dense_ae_default()
    with pytest.raises(RuntimeError, match="not fitted"):
        model.scores(background[:4])
    model.fit_preprocessing(background)
    # Fitted on the background only: an anomalous sample does not move the statistics.
    expected = L1Preprocessing()
    expected.fit(background)
    assert torch.equal(model.preprocessing.pt_mean, expected.pt_mean)
    mixed = L1Preprocessing()
    mixed.fit(torch.cat([background, with_hard_muon(background[:1000])]))
    assert not torch.allclose(mixed.pt_mean[MUON0], expected.pt_mean[MUON0])
    state = model.state_dict()
    for key in ("preprocessing.pt_mean", "preprocessing.pt_std", "preprocessing.fitted"):
        assert key in state
    assert "preprocessing.limit" not in state  # layout constants are not state
    fresh = dense_ae_default()
    fresh.load_state_dict(state)
    model.eval()
    fresh.eval()
    torch.testing.assert_close(
        fresh.scores(background[:64])["mse"], model.scores(background[:64])["mse"]
    )


def test_bounds_respect_acceptance() -> None:
    pre = L1Preprocessing()
    raw = torch.cat([torch.full((1, 57), 1e3), torch.full((1, 57), -1e3), torch.randn(64, 57) * 5])
    out = pre.bound(raw)
    assert torch.equal(out[:, 0::3], raw[:, 0::3])  # pT untouched
    assert (out[:, 2::3].abs() <= math.pi).all()
    torch.testing.assert_close(out[0, 2::3], torch.full((19,), math.pi))
    for group, slots in SLOTS.items():
        eta = out[:, [3 * k + 1 for k in slots]]
        assert (eta.abs() <= ETA_MAX[group]).all()
        torch.testing.assert_close(eta[0], torch.full((len(slots),), ETA_MAX[group]))
    assert not out[:, 1].any()  # MET eta
    # The models' reconstructions go through the bounds.
    model = DenseAutoencoder(L1AEConfig(batch_norm=False)).eval()
    with torch.no_grad():
        recon = model.decode(torch.randn(256, 3) * 100)
    assert (recon[:, 2::3].abs() <= math.pi).all()
    assert (recon[:, [3 * k + 1 for k in SLOTS["muons"]]].abs() <= 2.1).all()


# --- losses and scores -----------------------------------------------------------------------


def test_masked_mse_by_hand() -> None:
    recon = torch.tensor([[1.0, 2.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
    target = torch.tensor([[0.0, 0.0, 3.0, 100.0], [5.0, 5.0, 5.0, 5.0]])
    mask = torch.tensor([[True, True, True, False], [False, False, False, False]])
    torch.testing.assert_close(masked_mse(recon, target, mask), torch.tensor([5.0 / 3, 0.0]))
    torch.testing.assert_close(masked_mse(recon, target, mask, "all"), torch.tensor([1.25, 0.0]))


def test_kl_by_hand() -> None:
    mu = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    logvar = torch.tensor([[0.0, math.log(4.0)], [0.0, 0.0]])
    # -0.5 (1 + log s2 - mu^2 - s2): dim 1 = 0.5, dim 2 = 0.5 (3 - ln 4); mean over dims.
    expected = torch.tensor([(0.5 + 0.5 * (3 - math.log(4.0))) / 2, 0.0])
    torch.testing.assert_close(kl_per_event(mu, logvar), expected)


def _perturb_padding(events: torch.Tensor) -> torch.Tensor:
    """Change eta, phi and class of every empty slot (one NaN), never its pT."""
    out = events.clone()
    empty = out[..., 0] <= 0
    noise = torch.randn(out.shape[:2]) * 3
    out[..., 1] = torch.where(empty, noise, out[..., 1])
    out[..., 2] = torch.where(empty, noise + 1, out[..., 2])
    out[..., 3] = torch.where(empty, 4.0, out[..., 3])
    out[0, 18, 1] = float("nan") if empty[0, 18] else out[0, 18, 1]
    return out


@pytest.mark.parametrize("cls", [DenseAutoencoder, L1VAE])
def test_padding_does_not_change_loss_or_scores(cls, background) -> None:
    torch.manual_seed(0)
    model = cls(L1AEConfig(latent_dim=4))
    model.fit_preprocessing(background)
    events = background[:256]
    perturbed = _perturb_padding(events)
    assert not torch.equal(perturbed[..., 1:], events[..., 1:])
    torch.manual_seed(1)
    loss = model(events)
    torch.manual_seed(1)
    assert torch.equal(model(perturbed), loss)
    model.eval()
    ref = model.scores(events)
    for name, value in model.scores(perturbed).items():
        assert torch.equal(value, ref[name]), name
    # Control: moving a filled object does change the scores.
    moved = events.clone()
    moved[:, 0, 2] += 1.0
    assert not torch.equal(model.scores(moved)["mse"], ref["mse"])


def test_vae_scores_and_loss_match_definitions(background) -> None:
    torch.manual_seed(0)
    model = L1VAE(L1AEConfig(latent_dim=5, beta=0.3))
    model.fit_preprocessing(background)
    events = background[:128]
    x, mask, mu, logvar = model.encode(events)
    kl = (-0.5 * (1 + logvar - mu**2 - torch.exp(logvar))).mean(1)
    # Training loss: sampled z = mu + sigma eps with the global generator.
    torch.manual_seed(3)
    loss = model(events)
    torch.manual_seed(3)
    z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape)
    recon = model.decode(z)
    mse = (((recon - x) ** 2) * mask).sum(1) / mask.sum(1)
    torch.testing.assert_close(loss, (0.7 * mse + 0.3 * kl).mean())
    # Scores: deterministic, from mu.
    model.eval()
    x, mask, mu, logvar = model.encode(events)
    s = model.scores(events)
    assert set(s) == set(L1VAE.score_names)
    assert all(v.shape == (128,) and v.dtype == torch.float32 for v in s.values())
    torch.testing.assert_close(s["mu2"], (mu**2).sum(1))
    torch.testing.assert_close(s["kl"], (-0.5 * (1 + logvar - mu**2 - torch.exp(logvar))).mean(1))
    mse0 = (((model.decode(mu) - x) ** 2) * mask).sum(1) / mask.sum(1)
    torch.testing.assert_close(s["mse"], mse0)
    torch.testing.assert_close(s["total"], 0.7 * s["mse"] + 0.3 * s["kl"])
    torch.testing.assert_close(model.scores(events)["total"], s["total"])  # no sampling


def with_met_along_lepton(events: torch.Tensor) -> torch.Tensor:
    """The events with the MET phi turned onto the lepton's (the toy has it opposite)."""
    out = events.clone()
    out[:, 0, 2] = torch.where(
        events[:, ELECTRON0, 0] > 0, events[:, ELECTRON0, 2], events[:, MUON0, 2]
    )
    return out


def _train(model, events: torch.Tensor, steps: int) -> None:
    """Plain Adam on random batches of 256 (not the project's engine: that is the task's)."""
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, events.shape[0], (256,), generator=gen)
        loss = model(events[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def _auc(normal: dict[str, torch.Tensor], odd: dict[str, torch.Tensor], name: str) -> float:
    return roc_auc(normal[name].numpy(), odd[name].numpy())


def test_ae_training_learns_the_background(background) -> None:
    torch.manual_seed(0)
    model = dense_ae_default()
    model.fit_preprocessing(background)
    events = toy_l1_events(1000, seed=2)
    model.eval()
    before = model.scores(events)["mse"]
    # Untrained, a MET along the lepton is not odd (AUC ~ 0.5) ...
    assert (
        abs(_auc({"mse": before}, model.scores(with_met_along_lepton(events)), "mse") - 0.5) < 0.05
    )
    _train(model, background, 250)
    normal = model.scores(events)
    assert float(normal["mse"].mean()) < 0.8 * float(before.mean())
    # ... trained, the AE has learnt that the MET is opposite the lepton (seed 0: 0.77).
    assert _auc(normal, model.scores(with_met_along_lepton(events)), "mse") > 0.65
    assert _auc(normal, model.scores(with_hard_muon(events)), "mse") > 0.95


def test_vae_training_flags_a_hard_muon(background) -> None:
    # beta 0.5 balances the two terms on this toy; the preset's 0.9 was chosen for the tail
    # of the embedded L1 sample (models/autoencoder.py).
    torch.manual_seed(0)
    model = L1VAE(L1AEConfig(latent_dim=8, beta=0.5))
    model.fit_preprocessing(background)
    events = toy_l1_events(1000, seed=2)
    model.eval()
    before = model.scores(events)
    # Untrained, the latent scores rank the 500 GeV muon below ordinary events (~0.3).
    assert _auc(before, model.scores(with_hard_muon(events)), "mu2") < 0.5
    _train(model, background, 400)
    normal = model.scores(events)
    assert float(normal["total"].mean()) < 0.8 * float(before["total"].mean())
    odd = model.scores(with_hard_muon(events))
    for name, floor in (("mse", 0.95), ("total", 0.95), ("mu2", 0.75), ("kl", 0.75)):
        assert _auc(normal, odd, name) > floor, name  # seed 0: 1, 1, 0.92, 0.90


def test_builder_sizes() -> None:
    # dense AE: 4,924 weights and biases + 2 x (32 + 16 + 16 + 32) batch-norm affine values.
    assert count_parameters(dense_ae_default()) == 5116
    # 5,308 with the batch-norm running statistics, the tutorial's Keras count.
    n_buffers = sum(b.numel() for n, b in dense_ae_default().named_buffers() if "running_" in n)
    assert count_parameters(dense_ae_default()) + n_buffers == 5308
    assert count_parameters(l1_vae_default()) == 5417
    assert count_parameters(cwola_default(4)) == 4 * 64 + 64 + 2 * (64 * 64 + 64) + 65 == 8705
    with pytest.raises(ValueError, match="beta"):
        L1AEConfig(beta=1.5)
    with pytest.raises(ValueError, match="mse_norm"):
        L1AEConfig(mse_norm="sum")  # type: ignore[arg-type]
