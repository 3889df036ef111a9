"""Closed vs open division: one explicit rule on the resolved config, stored in the record."""

from __future__ import annotations

import copy

import pytest
from hydra import compose, initialize_config_module
from omegaconf import OmegaConf

from cern_ai_bench.bench.division import (
    REFERENCE_TARGETS,
    division_of,
    record_division,
    reference_trainer,
)
from cern_ai_bench.bench.suite import load_suite
from cern_ai_bench.config import register_configs


def _composed(overrides: list[str]) -> dict:
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose("main", overrides=overrides)
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


@pytest.mark.parametrize("suite", ["quick", "full"])
def test_every_quick_and_full_suite_benchmark_is_closed(suite):
    """The suites' settings are the references (REFERENCE_TARGETS holds their targets)."""
    for name, overrides in load_suite(suite).benchmarks.items():
        assert division_of(_composed(overrides)).changes == (), f"{suite}/{name}"


def test_throughput_suite_shortens_the_schedule_so_it_is_open():
    """Its step budgets shorten the cosine schedule; its MLP also drops the quick target."""
    changes = {
        name: division_of(_composed(overrides)).changes
        for name, overrides in load_suite("throughput").benchmarks.items()
    }
    assert changes == {
        "trigger_mlp": (
            "trainer.max_steps=600 (reference 0)",
            "trainer.target=None (reference 0.6)",
        ),
        "trigger_pfn": ("trainer.max_steps=300 (reference 0)",),
        "trigger_particle_transformer": ("trainer.max_steps=100 (reference 0)",),
        "fastsim_cvae": ("trainer.max_steps=300 (reference 0)",),
        "fastsim_flow_matching": ("trainer.max_steps=200 (reference 0)",),
        "anomaly_vae": ("trainer.max_steps=300 (reference 0)",),
    }


def test_reference_settings_are_the_model_presets():
    assert reference_trainer("mlp") == {
        "batch_size": 1024,
        "lr": 0.002,
        "weight_decay": 0.0,
        "warmup_steps": 100,
        "min_lr_ratio": 0.05,
        "max_epochs": 200,
        "max_steps": 0,
        "eval_every_samples": 0,
    }
    assert reference_trainer("cwola")["warmup_steps"] == 0
    assert reference_trainer("no_such_model") is None
    assert reference_trainer("../model/mlp") is None  # a name, never a path
    assert REFERENCE_TARGETS[("trigger", "mlp", "hls4ml")] == 0.75


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("precision", "bf16"),
        ("compile", "default"),
        ("loader", "dataloader"),
        ("device", "cuda"),
        ("threads", 4),
        ("seed", 7),
        ("max_time_s", 90.0),
    ],
)
def test_implementation_and_system_settings_stay_closed(template, key, value):
    config = copy.deepcopy(template["config"])
    config["trainer"]["target"] = 0.6
    config["trainer"][key] = value
    assert division_of(config).name == "closed"


@pytest.mark.parametrize(
    ("dotted", "value", "change"),
    [
        ("trainer.lr", 0.01, "trainer.lr=0.01 (reference 0.002)"),
        ("trainer.batch_size", 4096, "trainer.batch_size=4096 (reference 1024)"),
        ("trainer.max_epochs", 20, "trainer.max_epochs=20 (reference 200)"),
        ("trainer.eval_every_samples", 5000, "trainer.eval_every_samples=5000 (reference 0)"),
        ("trainer.target", 0.65, "trainer.target=0.65 (reference 0.6)"),
        ("trainer.target", None, "trainer.target=None (reference 0.6)"),
        ("dataset.split_seed", 1, "dataset.split_seed=1 (reference 42)"),
        ("model.name", "mystery", "model.name='mystery' is not a shipped model preset"),
    ],
)
def test_training_method_or_target_changes_make_it_open(template, dotted, value, change):
    config = copy.deepcopy(template["config"])
    config["trainer"]["target"] = 0.6
    section, key = dotted.split(".")
    config[section][key] = value
    assert division_of(config).changes == (change,)


def test_missing_keys_count_as_changed(template):
    config = copy.deepcopy(template["config"])
    config["trainer"]["target"] = 0.6
    del config["trainer"]["warmup_steps"]
    assert division_of(config).changes == ("trainer.warmup_steps is missing (reference 100)",)
    assert division_of({}).name == "open"


def test_the_record_states_its_division_or_old_ones_get_it_from_their_config(make_run):
    record = make_run("a")
    assert record_division(record).name == "closed"  # no field: from the config
    record["benchmark"] |= {"division": "open", "division_changes": ["trainer.lr=1 (ref 2)"]}
    assert record_division(record).changes == ("trainer.lr=1 (ref 2)",)
