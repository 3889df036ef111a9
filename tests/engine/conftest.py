"""Engine test fixtures: the synthetic toy task and a small trainer config."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from cern_ai_bench.config import TrainerConfig

TOY_PATH = Path(__file__).with_name("toy.py")


def load_toy_module():
    spec = importlib.util.spec_from_file_location("cern_ai_bench_toy_task", TOY_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def toy_task_cls():
    return load_toy_module().ToyTask


def make_trainer_cfg(**overrides):
    """A structured TrainerConfig for fast CPU runs with ``overrides`` applied."""
    base = OmegaConf.structured(TrainerConfig)
    base.merge_with(
        {
            "batch_size": 64,
            "lr": 1e-2,
            "max_epochs": 3,
            "warmup_steps": 2,
            "window_steps": 2,
            "warmup_windows": 0,
            "progress": False,
            "eval_every_samples": 128,
            "device": "cpu",
            **overrides,
        }
    )
    return base


@pytest.fixture
def trainer_cfg():
    return make_trainer_cfg
