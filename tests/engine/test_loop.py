"""The one training loop: learning, targets, budgets, loaders, checkpoint and resume."""

from __future__ import annotations

import pytest
import torch

from cern_ai_bench.engine import TrainingDiverged, train
from cern_ai_bench.engine.checkpoint import CHECKPOINT_NAME, CheckpointError

CPU = torch.device("cpu")


def _params(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_training_learns_and_records_history(toy_task_cls, trainer_cfg):
    task = toy_task_cls()
    result = train(task, trainer_cfg(max_epochs=5), device=CPU)
    history = result.progress.history
    assert history[-1]["accuracy"] > 0.8
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    # evaluations at fixed sample counts: every 128 samples = every 2 steps of 64
    assert [h["samples"] for h in history[:3]] == [128, 256, 384]
    assert result.throughput["median"] > 0
    assert result.stop_reason == "epoch budget"


def test_stops_at_quality_target_and_reports_time_to_target(toy_task_cls, trainer_cfg):
    result = train(toy_task_cls(), trainer_cfg(max_epochs=50, target=0.7), device=CPU)
    assert result.target_reached and result.stop_reason == "target"
    assert result.progress.history[-1]["accuracy"] >= 0.7
    assert all(h["accuracy"] < 0.7 for h in result.progress.history[:-1])
    assert result.progress.samples_to_target == result.progress.history[-1]["samples"]
    assert result.progress.time_to_target_s > 0
    assert result.progress.epoch < 50


def test_unreached_target_is_reported(toy_task_cls, trainer_cfg):
    result = train(toy_task_cls(), trainer_cfg(max_epochs=1, target=1.01), device=CPU)
    assert not result.target_reached and result.progress.time_to_target_s is None


def test_resident_and_dataloader_loaders_train_identically(toy_task_cls, trainer_cfg):
    a = train(toy_task_cls(), trainer_cfg(loader="resident"), device=CPU)
    b = train(toy_task_cls(), trainer_cfg(loader="dataloader"), device=CPU)
    assert torch.equal(_params(a.model), _params(b.model))


def test_resumed_run_ends_with_the_same_weights(toy_task_cls, trainer_cfg, tmp_path):
    cfg = trainer_cfg(max_epochs=4, seed=7)
    uninterrupted = train(toy_task_cls(dropout=0.2), cfg, device=CPU, run_dir=tmp_path / "full")

    class Interrupted(toy_task_cls):
        def evaluate(self, model, split):
            if self.evaluations == 3:  # the 4th evaluation never happens: killed mid-run
                raise KeyboardInterrupt
            return super().evaluate(model, split)

    run_dir = tmp_path / "interrupted"
    with pytest.raises(KeyboardInterrupt):
        train(Interrupted(dropout=0.2), cfg, device=CPU, run_dir=run_dir)
    assert (run_dir / CHECKPOINT_NAME).exists()
    resumed = train(toy_task_cls(dropout=0.2), cfg, device=CPU, run_dir=run_dir)
    assert resumed.resumed_from_samples == 3 * 128
    assert torch.equal(_params(resumed.model), _params(uninterrupted.model))
    assert [h["samples"] for h in resumed.progress.history] == [
        h["samples"] for h in uninterrupted.progress.history
    ]


def test_finished_run_is_not_trained_again(toy_task_cls, trainer_cfg, tmp_path):
    cfg = trainer_cfg(max_epochs=2)
    first = train(toy_task_cls(), cfg, device=CPU, run_dir=tmp_path)
    task = toy_task_cls()
    again = train(task, cfg, device=CPU, run_dir=tmp_path)
    assert task.evaluations == 0
    assert torch.equal(_params(first.model), _params(again.model))


def test_checkpoint_of_another_config_is_refused(toy_task_cls, trainer_cfg, tmp_path):
    train(toy_task_cls(), trainer_cfg(max_epochs=1), device=CPU, run_dir=tmp_path, config_hash="a")
    with pytest.raises(CheckpointError, match="different configuration"):
        train(
            toy_task_cls(), trainer_cfg(max_epochs=1), device=CPU, run_dir=tmp_path, config_hash="b"
        )


def test_corrupt_checkpoint_is_named(toy_task_cls, trainer_cfg, tmp_path):
    (tmp_path / CHECKPOINT_NAME).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=CHECKPOINT_NAME):
        train(toy_task_cls(), trainer_cfg(max_epochs=1), device=CPU, run_dir=tmp_path)


def test_diverging_loss_stops_with_a_clear_error(toy_task_cls, trainer_cfg):
    class NaNTask(toy_task_cls):
        def loss(self, model, batch):
            return super().loss(model, batch) * float("nan")

    with pytest.raises(TrainingDiverged, match=r"diverged after .* samples \(loss nan"):
        train(NaNTask(), trainer_cfg(max_epochs=1), device=CPU)


def test_bf16_autocast_trains(toy_task_cls, trainer_cfg):
    result = train(toy_task_cls(), trainer_cfg(precision="bf16", max_epochs=5), device=CPU)
    assert result.progress.history[-1]["accuracy"] > 0.7


@pytest.mark.slow
def test_compiled_training_matches_eager(toy_task_cls, trainer_cfg, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    eager = train(toy_task_cls(), trainer_cfg(max_epochs=2), device=CPU)
    compiled = train(toy_task_cls(), trainer_cfg(max_epochs=2, compile="default"), device=CPU)
    torch.testing.assert_close(_params(compiled.model), _params(eager.model), rtol=1e-4, atol=1e-5)
    assert compiled.compile_s is not None and compiled.compile_s > 0


def test_step_budget_stops_and_evaluates_the_final_weights(toy_task_cls, trainer_cfg):
    result = train(toy_task_cls(), trainer_cfg(max_steps=5, max_epochs=10), device=CPU)
    assert result.progress.global_step == 5 and result.stop_reason == "step budget"
    assert result.progress.history[-1]["samples"] == 5 * 64


def test_throughput_windows_span_evaluations(toy_task_cls, trainer_cfg):
    # an evaluation every 2 steps, windows of 5 steps: windows must still fill
    result = train(toy_task_cls(), trainer_cfg(window_steps=5, max_epochs=4), device=CPU)
    assert result.throughput["windows"] == 4 * 8 // 5
    assert result.throughput["median"] > 0


def test_non_finite_weights_stop_before_evaluation(toy_task_cls, trainer_cfg):
    class Exploding(toy_task_cls):
        def evaluate(self, model, split):  # a real task would fail on NaN probabilities
            raise AssertionError("evaluated a model with non-finite weights")

    with pytest.raises(TrainingDiverged):
        train(Exploding(), trainer_cfg(lr=1e30, max_epochs=1), device=CPU)


def test_evaluations_stay_at_fixed_sample_counts_when_a_batch_crosses_several(
    toy_task_cls, trainer_cfg
):
    result = train(toy_task_cls(), trainer_cfg(eval_every_samples=100, max_epochs=1), device=CPU)
    # batches of 64: an evaluation at the first step past each multiple of 100 samples
    samples = [h["samples"] for h in result.progress.history]
    assert samples == [128, 256, 320, 448, 512]
