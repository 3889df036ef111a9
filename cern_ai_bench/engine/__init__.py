"""The one training loop shared by every task, and what it needs around it."""

from __future__ import annotations

from cern_ai_bench.engine.distributed import DistInfo, dist_info_from_env, init_distributed
from cern_ai_bench.engine.loop import TrainingDiverged, TrainResult, train
from cern_ai_bench.engine.protocol import Task

__all__ = [
    "DistInfo",
    "Task",
    "TrainResult",
    "TrainingDiverged",
    "dist_info_from_env",
    "init_distributed",
    "train",
]
