"""Every shipped config composes against the typed schema; bad values fail at start, named."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from cern_ai_bench.config import ConfigError, register_configs, validate_config
from cern_ai_bench.data.registry import DATASETS
from cern_ai_bench.models.builders import MODELS

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


def _compose(*overrides: str):
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        return compose("main", overrides=list(overrides))


@pytest.mark.parametrize("dataset", _options("dataset"))
@pytest.mark.parametrize("model", _options("model"))
@pytest.mark.parametrize("trainer", _options("trainer"))
def test_every_combination_composes_and_validates_or_is_refused_up_front(dataset, model, trainer):
    cfg = _compose(f"dataset={dataset}", f"model={model}", f"trainer={trainer}")
    assert (cfg.model.name, cfg.dataset.name) == (model, dataset)
    entry, spec = DATASETS[dataset], MODELS[model]
    fits = entry.provides_hlf if spec.inputs == "hlf" else entry.provides_constituents
    if fits:
        validate_config(cfg)
    else:
        with pytest.raises(ConfigError, match=f"model={model} reads .* dataset={dataset}"):
            validate_config(cfg)


def test_every_config_file_starts_with_a_comment():
    for path in CONFIGS.rglob("*.yaml"):
        first = path.read_text().lstrip().splitlines()[0]
        assert first.startswith("#"), f"{path} should open with a comment saying what it runs"


def test_defaults_run_the_trigger_mlp_on_embedded_jets():
    cfg = _compose()
    assert (cfg.task.name, cfg.model.name, cfg.dataset.name) == ("trigger", "mlp", "embedded_jets")


def test_command_line_beats_model_and_preset_defaults():
    cfg = _compose("model=pfn", "trainer=smoke", "trainer.lr=0.5", "trainer.max_epochs=3")
    assert cfg.trainer.lr == 0.5 and cfg.trainer.max_epochs == 3
    assert _compose("model=pfn", "trainer=smoke").trainer.max_epochs == 1  # preset beats model


def test_hyphenated_compile_mode_is_accepted():
    assert _compose("trainer.compile=reduce-overhead").trainer.compile.name == "reduce-overhead"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.loader=turbo", "Invalid value 'turbo', expected one of"),
        ("trainer.precision=fp8", "Invalid value 'fp8'"),
        ("trainer.compile=fast", "Invalid value 'fast'"),
        ("trainer.batch_size=big", "trainer.batch_size"),
        ("trainer.no_such_key=1", "no_such_key"),
        ("model=resnet", "model/resnet"),
    ],
)
def test_unknown_values_fail_at_composition_naming_the_key(override, message):
    with pytest.raises(ConfigCompositionException) as info:
        _compose(override)
    text = str(info.value) + str(info.value.__cause__)
    assert message in text


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.batch_size=0", "trainer.batch_size=0 must be > 0"),
        ("dataset.val_fraction=1.5", "dataset.val_fraction=1.5 must be in (0, 1)"),
        ("dataset.name=jetclass", "dataset.name='jetclass' is not one of"),
        ("model.name=bdt", "model.name='bdt' is not one of"),
        ("task.baselines=[xgboost]", "task.baselines: 'xgboost'"),
        ("dataset.jets_per_class=3", "dataset.jets_per_class=3 must be >= 5"),
        ("trainer.device=gpu", "trainer.device='gpu' is not a device"),
        ("trainer.device=mps", "only cpu and cuda are supported"),
    ],
)
def test_range_and_registry_errors_are_named(override, message):
    with pytest.raises(ConfigError) as info:
        validate_config(_compose(override))
    assert message in str(info.value)


def test_all_problems_are_reported_at_once():
    with pytest.raises(ConfigError) as info:
        validate_config(_compose("trainer.batch_size=-1", "trainer.lr=0"))
    assert "trainer.batch_size" in str(info.value) and "trainer.lr" in str(info.value)


def test_resolved_config_is_plain_data():
    container = OmegaConf.to_container(_compose(), resolve=True, enum_to_str=True)
    assert container["trainer"]["compile"] == "none"


@pytest.mark.skipif(
    torch.cuda.is_available(), reason="checks the message on a machine without CUDA"
)
def test_cuda_without_a_gpu_is_refused():
    with pytest.raises(ConfigError, match="CUDA is not available"):
        validate_config(_compose("trainer.device=cuda"))


def test_baseline_needing_features_is_refused_before_any_download():
    with pytest.raises(
        ConfigError, match=r"task.baselines=\[gbt\] needs the 16 high-level features"
    ):
        validate_config(_compose("dataset=top_tagging", "model=pfn", "task.baselines=[gbt]"))
