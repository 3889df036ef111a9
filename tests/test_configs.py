"""Every shipped config composes against the typed schema; bad values fail at start, named."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_module
from hydra.errors import ConfigCompositionException
from omegaconf import OmegaConf

from cern_ai_bench.config import ConfigError, register_configs, validate_config
from cern_ai_bench.data.anomaly_registry import ANOMALY_DATASETS
from cern_ai_bench.data.registry import DATASETS
from cern_ai_bench.data.showers_registry import SHOWER_DATASETS
from cern_ai_bench.models.builders import ANOMALY_INPUTS, MODELS

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONFIGS / group).glob("*.yaml"))


def _compose(*overrides: str):
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        return compose("main", overrides=list(overrides))


def _refusal(task: str, dataset: str, model: str) -> str | None:
    """The start of the expected ConfigError message, or None when the combination works."""
    spec = MODELS[model]
    if task == "fastsim":
        if dataset not in SHOWER_DATASETS:
            return "task=fastsim needs a shower dataset"
        if spec.inputs in ANOMALY_INPUTS:
            return f"model={model} is an anomaly detector"
        return None if spec.inputs == "showers" else f"model={model} is a jet classifier"
    if task == "anomaly":
        if dataset not in ANOMALY_DATASETS:
            return "task=anomaly needs an anomaly dataset"
        if spec.inputs not in ANOMALY_INPUTS:
            return f"model={model} is not an anomaly detector"
        fits = ANOMALY_DATASETS[dataset].inputs == spec.inputs
        return None if fits else f"model={model} reads .* but dataset={dataset} holds"
    if dataset not in DATASETS:
        return "task=trigger needs a jet dataset"
    if spec.inputs == "showers":
        return f"model={model} generates showers"
    if spec.inputs in ANOMALY_INPUTS:
        return f"model={model} is an anomaly detector: use it with task=anomaly"
    entry = DATASETS[dataset]
    fits = entry.provides_hlf if spec.inputs == "hlf" else entry.provides_constituents
    return None if fits else f"model={model} reads .* dataset={dataset}"


def _combinations() -> list[tuple[str, str, str]]:
    """Every (task, dataset, model) within the jet and shower families and within the anomaly
    family, plus each anomaly config once with the other tasks and each other dataset once
    with task=anomaly (the full cross product composes 350 configs, ~1 min)."""
    anomaly_data = {"embedded_l1", "adc2021", "lhco_rnd", "embedded_lhco"}
    anomaly_models = {name for name, spec in MODELS.items() if spec.inputs in ANOMALY_INPUTS}
    datasets, models = _options("dataset"), _options("model")
    combos = [
        (task, dataset, model)
        for task in ("trigger", "fastsim")
        for dataset in datasets
        for model in models
        if dataset not in anomaly_data and model not in anomaly_models
    ]
    combos += [("anomaly", dataset, model) for dataset in sorted(anomaly_data) for model in models]
    combos += [("anomaly", d, "ae") for d in datasets if d not in anomaly_data]
    combos += [(t, d, "mlp") for t in ("trigger", "fastsim") for d in sorted(anomaly_data)]
    return combos


@pytest.mark.parametrize(("task", "dataset", "model"), _combinations())
def test_every_combination_composes_and_validates_or_is_refused_up_front(task, dataset, model):
    cfg = _compose(f"task={task}", f"dataset={dataset}", f"model={model}")
    assert (cfg.task.name, cfg.model.name, cfg.dataset.name) == (task, model, dataset)
    refusal = _refusal(task, dataset, model)
    if refusal is None:
        validate_config(cfg)
    else:
        with pytest.raises(ConfigError, match=refusal):
            validate_config(cfg)


@pytest.mark.parametrize("trainer", _options("trainer"))
def test_every_trainer_preset_validates(trainer):
    validate_config(_compose(f"trainer={trainer}"))
    validate_config(_compose("task=fastsim", f"trainer={trainer}"))
    validate_config(_compose("task=anomaly", f"trainer={trainer}"))


def test_fastsim_picks_its_own_dataset_and_model():
    cfg = _compose("task=fastsim")
    assert (cfg.task.name, cfg.dataset.name, cfg.model.name) == (
        "fastsim",
        "embedded_showers",
        "flow_matching",
    )
    assert cfg.benchmark.name == "fastsim"
    validate_config(cfg)
    assert _compose("task=fastsim", "model=cvae").model.name == "cvae"  # command line wins


def test_anomaly_picks_the_embedded_l1_autoencoder():
    cfg = _compose("task=anomaly")
    assert (cfg.task.name, cfg.dataset.name, cfg.model.name) == ("anomaly", "embedded_l1", "ae")
    assert list(cfg.task.anomaly.fprs) == [1e-3, 1e-4, 1e-5]
    assert cfg.benchmark.name == "anomaly"
    validate_config(cfg)
    cwola = _compose("task=anomaly", "model=cwola", "dataset=lhco_rnd")
    assert (cwola.trainer.batch_size, cwola.model.name) == (128, "cwola")
    validate_config(cwola)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["model=cwola"], "model=cwola reads dijet features .* dataset=embedded_l1 holds Level-1"),
        (["dataset=lhco_rnd"], "model=ae reads Level-1 events .* use model=cwola with it"),
        (["model=pfn"], "model=pfn is not an anomaly detector; task=anomaly needs model=ae"),
        (["dataset=hls4ml"], "task=anomaly needs an anomaly dataset, not dataset=hls4ml"),
        (["task.baselines=[gbt]"], "task.baselines are trigger baselines"),
        (["task.anomaly.fprs=[0.5,2]"], r"task.anomaly.fprs=\[0.5, 2.0\] must be a non-empty"),
        (["task.anomaly.repeats=0"], "task.anomaly.repeats=0 must be >= 1"),
        (["task.anomaly.signal_fraction=1.0"], "task.anomaly.signal_fraction=1.0 must be in"),
        (["task.anomaly.signal_region_tev=[3.7,3.3]"], "task.anomaly.signal_region_tev="),
        (["task.anomaly.sideband_width_tev=0"], "task.anomaly.sideband_width_tev=0.0 must be"),
        (["task.anomaly.trigger_baselines=[ht,l1_seed]"], "task.anomaly.trigger_baselines="),
        (["dataset.test_fraction=0"], r"dataset.test_fraction=0.0 must be in \(0, 1\)"),
        (["dataset.n_signal_events=0"], "dataset.n_signal_events=0 must be >= 1"),
        (["dataset.max_events=1"], "dataset.max_events=1 must be >= 2 or null"),
        (["dataset.feature_source=csv"], "dataset.feature_source='csv' must be one of"),
    ],
)
def test_anomaly_mismatches_and_bad_values_are_refused_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_compose("task=anomaly", *overrides))


@pytest.mark.parametrize("model", ["ae", "cwola"])
def test_anomaly_detectors_are_refused_by_the_other_tasks(model):
    with pytest.raises(ConfigError, match=f"model={model} is an anomaly detector: use it with"):
        validate_config(_compose(f"model={model}"))
    with pytest.raises(ConfigError, match=f"model={model} is an anomaly detector; task=fastsim"):
        validate_config(_compose("task=fastsim", f"model={model}"))


def test_embedded_pion_showers_are_refused():
    cfg = _compose("task=fastsim", "dataset.geometry=ds1_pions")
    with pytest.raises(ConfigError, match="electromagnetic showers only"):
        validate_config(cfg)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("dataset.geometry=ds4", "dataset.geometry='ds4' is not one of"),
        ("dataset.n_showers=3", "dataset.n_showers=3 must be >= 50"),
        ("task.evaluation.classifier_modes=[mid]", "classifier_modes=.* a subset of"),
        ("task.evaluation.generation_batches=[]", "generation_batches=.* non-empty"),
    ],
)
def test_shower_settings_are_checked(override, message):
    with pytest.raises(ConfigError, match=message):
        validate_config(_compose("task=fastsim", override))


def test_every_config_file_starts_with_a_comment():
    for path in CONFIGS.rglob("*.yaml"):
        first = path.read_text().lstrip().splitlines()[0]
        assert first.startswith("#"), f"{path} should open with a comment saying what it runs"


@pytest.mark.parametrize(
    ("preset", "target", "tasks", "gpus"),
    [
        ("slurm_gpu", "SlurmLauncher", 1, 1),
        ("slurm_ddp", "SlurmLauncher", 4, 4),  # one task (rank) per GPU
        ("local_ddp", "LocalLauncher", 2, None),
    ],
)
def test_launcher_presets_extend_the_submitit_launchers(preset, target, tasks, gpus):
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose(
            "main",
            overrides=[f"hydra/launcher={preset}", "hydra.launcher.nodes=2"],
            return_hydra_config=True,
        )
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith(target) and launcher.nodes == 2
    assert launcher.tasks_per_node == tasks and launcher.gpus_per_node == gpus


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
