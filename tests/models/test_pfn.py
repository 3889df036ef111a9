"""Particle Flow Network: shape, padding and permutation invariance."""

from __future__ import annotations

import torch

from cern_ai_bench.models import ParticleFlowNetwork, PFNConfig, pfn_small


def test_output_shape(random_jets) -> None:
    p4, mask = random_jets(5, 11)
    assert pfn_small(n_classes=3)(p4, mask).shape == (5, 3)


def test_padding_and_permutation_invariance(random_jets) -> None:
    torch.manual_seed(0)
    model = pfn_small().eval()
    p4, mask = random_jets(6, 10)
    logits = model(p4, mask)
    padded = model(
        torch.cat([p4, torch.zeros(6, 5, 4)], 1),
        torch.cat([mask, torch.zeros(6, 5, dtype=torch.bool)], 1),
    )
    torch.testing.assert_close(padded, logits, atol=1e-5, rtol=1e-5)
    perm = torch.randperm(10)
    torch.testing.assert_close(model(p4[:, perm], mask[:, perm]), logits, atol=1e-5, rtol=1e-5)


def test_no_hidden_f_layers() -> None:
    model = ParticleFlowNetwork(PFNConfig(n_classes=2, phi_dims=(8, 4), f_dims=()))
    assert model.head.in_features == 4
    assert model(torch.rand(2, 3, 4) + 1, torch.ones(2, 3, dtype=torch.bool)).shape == (2, 2)
