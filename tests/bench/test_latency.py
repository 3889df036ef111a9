"""Inference timing: warm-up calls are not timed, and the clock measures the calls."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn

from cern_ai_bench.bench import latency
from cern_ai_bench.bench.latency import latency_summary, throughput, time_calls

CPU = torch.device("cpu")


class Sleeper(nn.Module):
    """Takes ``first_s`` on its first ``slow_calls`` calls and ``then_s`` afterwards."""

    def __init__(self, first_s: float, then_s: float, slow_calls: int) -> None:
        super().__init__()
        self.first_s, self.then_s, self.slow_calls, self.calls = first_s, then_s, slow_calls, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        time.sleep(self.first_s if self.calls <= self.slow_calls else self.then_s)
        return x


def test_warmup_calls_are_run_but_not_timed():
    model = Sleeper(first_s=0.05, then_s=0.002, slow_calls=3)
    times = time_calls(model, (torch.zeros(1),), iters=10, warmup=3, device=CPU)
    assert model.calls == 13 and len(times) == 10
    assert times.max() < 0.04  # none of the slow warm-up calls is in the sample


def test_latency_percentiles_measure_the_call_time():
    summary = latency_summary(
        Sleeper(0.004, 0.004, 0), (torch.zeros(1),), iters=20, warmup=2, device=CPU
    )
    assert 4.0 <= summary["p50_ms"] < 40.0
    assert summary["p50_ms"] <= summary["p99_ms"]


def test_throughput_is_batch_over_median_call_time():
    rate = throughput(Sleeper(0.01, 0.01, 0), (torch.zeros(500, 3),), iters=5, warmup=1, device=CPU)
    assert 500 / 0.1 < rate <= 500 / 0.01  # sleeps last at least 10 ms; allow a loaded machine


def test_each_call_is_bracketed_by_device_synchronisation(monkeypatch):
    syncs = []
    monkeypatch.setattr(latency, "synchronize", lambda device: syncs.append(device))
    time_calls(nn.Identity(), (torch.zeros(1),), iters=4, warmup=1, device=CPU)
    assert len(syncs) == 2 * 5


def test_iterations_must_be_positive():
    with pytest.raises(ValueError, match="iters must be >= 1"):
        time_calls(nn.Identity(), (torch.zeros(1),), iters=0, warmup=0, device=CPU)
