"""Two-process DDP on CPU (gloo) under torchrun matches a one-process run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cern_ai_bench.engine import train

WORKER = Path(__file__).with_name("ddp_worker.py")


@pytest.mark.slow
def test_two_process_ddp_matches_single_process(toy_task_cls, trainer_cfg, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2"]
    done = subprocess.run(
        [*cmd, str(WORKER), str(tmp_path)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert torch.equal(rank0["params"], rank1["params"])  # DDP keeps the replicas identical

    single = train(toy_task_cls(), trainer_cfg(), device=torch.device("cpu"))
    params = torch.cat([p.detach().flatten() for p in single.model.parameters()])
    # same global batch and sample order: equal up to the order of floating-point reductions
    torch.testing.assert_close(rank0["params"], params, rtol=1e-4, atol=1e-5)
    assert [h["samples"] for h in rank0["history"]] == [
        h["samples"] for h in single.progress.history
    ]
