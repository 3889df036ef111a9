from __future__ import annotations

import torch
from torch import nn

from cern_ai_bench.bench.latency import latency_summary, throughput


def test_latency_percentiles_are_ordered_and_positive():
    model = nn.Linear(16, 5)
    summary = latency_summary(
        model, (torch.randn(1, 16),), iters=30, warmup=3, device=torch.device("cpu")
    )
    assert 0 < summary["p50_ms"] <= summary["p99_ms"]


def test_throughput_counts_samples_per_second():
    model = nn.Linear(16, 5)
    rate = throughput(model, (torch.randn(512, 16),), iters=5, warmup=1, device=torch.device("cpu"))
    assert rate > 512  # a 512-row linear layer takes well under a second
