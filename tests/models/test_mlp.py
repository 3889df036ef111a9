"""The hls4ml reference MLP: size, initialisation, input standardisation, batch-norm variant."""

from __future__ import annotations

import math

import pytest
import torch

from cern_ai_bench.models import MLP, MLPConfig, count_parameters, mlp_hls4ml, mlp_hls4ml_bn


def test_reference_size_matches_hls4ml_tutorial() -> None:
    model = mlp_hls4ml()
    # hls4ml tutorial part 1 model summary: 4,389 trainable parameters.
    assert count_parameters(model) == 4389
    widths = [
        (m.in_features, m.out_features) for m in model.modules() if isinstance(m, torch.nn.Linear)
    ]
    assert widths == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert model(torch.randn(7, 16)).shape == (7, 5)


def test_lecun_uniform_initialisation() -> None:
    torch.manual_seed(0)
    model = mlp_hls4ml()
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            bound = math.sqrt(3.0 / m.in_features)
            assert m.weight.abs().max() <= bound
            assert m.weight.abs().max() > 0.8 * bound
            assert torch.equal(m.bias, torch.zeros_like(m.bias))


def test_batch_norm_variant() -> None:
    model = mlp_hls4ml_bn(n_features=10, n_classes=3)
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in model.modules()) == 3
    assert model(torch.randn(8, 10)).shape == (8, 3)
    assert model.eval()(torch.randn(1, 10)).shape == (1, 3)


def test_config_validation() -> None:
    with pytest.raises(ValueError, match="n_classes >= 2"):
        MLP(MLPConfig(n_classes=1))
