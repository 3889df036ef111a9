"""The trigger task: inputs per model kind, standardisation, loss, evaluation, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cern_ai_bench.data.schema import HLF_NAMES, HLS4ML_CLASSES, JetArrays, JetDataset
from cern_ai_bench.tasks.baselines import run_baselines
from cern_ai_bench.tasks.trigger import TaskError, TriggerTask

CPU = torch.device("cpu")


def _split(n, rng, *, hlf=True, constituents=True, p=12):
    labels = rng.integers(0, 5, n).astype(np.int64)
    const = None
    if constituents:
        pt = np.sort(rng.uniform(1, 100, (n, p)), axis=1)[:, ::-1]
        eta, phi = rng.normal(0, 0.3, (n, p)), rng.normal(0, 0.3, (n, p))
        const = np.stack(
            [pt * np.cos(phi), pt * np.sin(phi), pt * np.sinh(eta), pt * np.cosh(eta)], -1
        )
        const[:, p - 3 :] = 0  # padding
        const = const.astype(np.float32)
    features = None
    if hlf:
        # class-dependent means so a model can learn; large offsets to exercise standardisation
        features = (rng.normal(0, 1, (n, len(HLF_NAMES))) + labels[:, None] * 0.8 + 100).astype(
            np.float32
        )
    return JetArrays(labels=labels, constituents=const, hlf=features)


def _dataset(**kw):
    rng = np.random.default_rng(0)
    return JetDataset(
        "synthetic",
        HLS4ML_CLASSES,
        _split(400, rng, **kw),
        _split(100, rng, **kw),
        _split(100, rng, **kw),
    )


@pytest.mark.parametrize("model", ["mlp", "pfn", "particle_transformer"])
def test_each_model_gets_its_inputs_and_is_evaluated(model):
    task = TriggerTask(_dataset(), model, CPU)
    net = task.build_model()
    batch = tuple(t[:8] for t in task.train_tensors())
    loss = task.loss(net, batch)
    assert loss.ndim == 0 and torch.isfinite(loss)
    metrics = task.evaluate(net, "val")
    assert {"accuracy", "auc_macro", "auc/t", "rejection_at_0.3/W"} <= set(metrics)
    assert task.example_inputs(3)[0].shape[0] == 3


def test_mlp_inputs_are_standardised_with_training_statistics():
    task = TriggerTask(_dataset(), "mlp", CPU)
    net = task.build_model()
    scaled = net.standardize(task.train_tensors()[0])
    assert scaled.mean(0).abs().max() < 1e-4
    assert (scaled.std(0) - 1).abs().max() < 1e-3


def test_model_and_dataset_mismatch_is_explained():
    with pytest.raises(TaskError, match="does not provide"):
        TriggerTask(_dataset(hlf=False), "mlp", CPU)
    with pytest.raises(TaskError, match="high-level features only"):
        TriggerTask(_dataset(constituents=False), "pfn", CPU)


def test_gbt_baseline_scores_the_test_split():
    dataset = _dataset()
    result = run_baselines(["gbt"], dataset, seed=0)["gbt"]
    assert result["test"]["accuracy"] > 0.5  # classes are separated by the feature offsets
    with pytest.raises(ValueError, match="unknown baseline 'svm'"):
        run_baselines(["svm"], dataset, seed=0)


def test_divergence_is_reported_as_such_not_as_a_metric_error():
    from omegaconf import OmegaConf

    from cern_ai_bench.config import TrainerConfig
    from cern_ai_bench.engine import TrainingDiverged, train

    cfg = OmegaConf.structured(
        TrainerConfig(batch_size=64, lr=1e30, max_epochs=1, progress=False, device="cpu")
    )
    with pytest.raises(TrainingDiverged, match=r"lower trainer\.lr"):
        train(TriggerTask(_dataset(), "mlp", CPU), cfg, device=CPU)
