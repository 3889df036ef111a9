"""The CaloChallenge classifier's inputs, network and engine task (model selection)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from cern_ai_bench.data.calo_geometry import get_geometry
from cern_ai_bench.metrics.showers.classifier_network import (
    ClassifierTask,
    classifier_inputs,
    classifier_net,
)
from cern_ai_bench.metrics.showers.hlf import cls_high_dimension
from tests.metrics.shower_samples import synthetic_showers

PHOTONS = get_geometry("ds1_photons")


def test_low_level_input_is_log_energy_and_thresholded_voxel_fractions():
    showers = np.zeros((2, PHOTONS.n_voxels), dtype=np.float32)
    showers[0, :3] = [0.5, 1.0, 20.0]  # 0.5 MeV is below the 1 MeV threshold
    energy = np.float32([1000.0, 100.0])
    x = classifier_inputs(showers, energy, PHOTONS, "low")
    assert x.shape == (2, 1 + PHOTONS.n_voxels) and x.dtype == np.float32
    np.testing.assert_allclose(x[:, 0], [3.0, 2.0], rtol=1e-6)
    np.testing.assert_allclose(x[0, 1:4], [0.0, 0.001, 0.02], rtol=1e-6)
    assert not x[1, 1:].any()


def test_high_level_input_has_the_cls_high_dimension():
    energy, showers = synthetic_showers(PHOTONS, 10, np.random.default_rng(0))
    x = classifier_inputs(showers, energy, PHOTONS, "high")
    assert x.shape == (10, cls_high_dimension(PHOTONS)) == (10, 30)
    with pytest.raises(ValueError, match="mode must be one of"):
        classifier_inputs(showers, energy, PHOTONS, "normed")


def test_network_is_the_official_dnn():
    net = classifier_net(6481, width=2048, depth=3)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [
        (6481, 2048),
        (2048, 2048),
        (2048, 2048),
        (2048, 1),
    ]
    assert all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.01 for m in net[1:-1:2])
    assert sum(p.numel() for p in net.parameters()) == 6481 * 2048 + 2 * 2048**2 + 4 * 2048 + 1


def test_model_selection_keeps_the_weights_of_the_best_test_accuracy():
    x = np.float32([[1.0], [-1.0], [2.0], [-2.0]])
    y = np.float32([1, 0, 1, 0])
    task = ClassifierTask((x, y), (x, y), width=4, depth=1, device=torch.device("cpu"))

    def constant(sign: float) -> nn.Module:
        model = nn.Linear(1, 1)
        with torch.no_grad():
            model.weight.fill_(sign)
            model.bias.zero_()
        return model

    assert task.evaluate(constant(1.0), "val")["test_accuracy"] == 1.0
    assert task.evaluate(constant(-1.0), "val")["test_accuracy"] == 0.0
    assert task.best_epoch == 1 and task.best_state["weight"].item() == 1.0
