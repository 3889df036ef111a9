"""Typed structured configs: the schema every Hydra config is validated against.

The YAML files in the top-level ``configs/`` folder only pick values; the types, defaults and
allowed choices live here, so a bad value fails at start with its key named (OmegaConf raises
``ValidationError`` naming ``full_key``).

Choices that contain a hyphen (``reduce-overhead``) are Enum member *names* built with the
functional API, because OmegaConf matches Enum values by member name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING


class Loader(Enum):
    """How training batches reach the model."""

    resident = "resident"  # whole split on the device, index slices of a device permutation
    dataloader = "dataloader"  # plain DataLoader(TensorDataset) baseline, kept for comparison


class Precision(Enum):
    fp32 = "fp32"
    bf16 = "bf16"


CompileMode = Enum(  # type: ignore[misc]
    "CompileMode",
    [(name, name) for name in ("none", "default", "reduce-overhead", "max-autotune")],
)
CompileMode.__doc__ = "torch.compile mode of the train step (none = eager)."


@dataclass
class DatasetConfig:
    """Which dataset to load and how to split it.

    ``name`` is a key of the dataset registry (``cern_ai_bench.data.registry``).
    """

    name: str = MISSING
    #: Where downloaded and generated files are cached.
    data_dir: str = "${oc.env:CERN_AI_BENCH_DATA,${oc.env:HOME,.}/.cache/cern_ai_bench}"
    #: Allow downloading missing public files (False: fail with instructions instead).
    download: bool = True
    #: Constituents kept per jet (pT-leading); the files may hold more.
    n_constituents: int = 30
    #: Fraction of the training files held out as the validation split.
    val_fraction: float = 0.1
    #: Seed of the train/validation split (fixed so every run sees the same split).
    split_seed: int = 42
    #: Keep at most this many jets per split (None = all), for quick runs on large public sets.
    max_jets: int | None = None
    #: Embedded generator only: jets generated per class (the one value that scales the
    #: embedded dataset; 80 % go to the training files, 20 % to the test files).
    jets_per_class: int = 2000
    #: Embedded generator only: Pythia seed of the sample.
    generator_seed: int = 1
    #: Embedded generator only: worker processes (0 = one per CPU core).
    workers: int = 0


@dataclass
class ModelConfig:
    """A named model preset (a builder in ``cern_ai_bench.models``); sizes come from the data."""

    name: str = MISSING


@dataclass
class TrainerConfig:
    """The one training loop's settings (``cern_ai_bench.engine``)."""

    loader: Loader = Loader.resident
    precision: Precision = Precision.fp32
    compile: CompileMode = CompileMode["none"]  # type: ignore[valid-type]
    #: "auto" picks cuda when available, else cpu.
    device: str = "auto"
    #: CPU threads for torch (0 = leave torch's default); one is fastest on small shared CPUs.
    threads: int = 1
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.0
    #: Linear warm-up steps of the learning rate, then cosine decay to ``lr * min_lr_ratio``.
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    #: Training budget: stop after this many epochs (whichever budget ends first).
    max_epochs: int = 30
    #: Training budget in seconds of training time, checked at evaluations (0 = no limit).
    max_time_s: float = 0.0
    #: Training budget in optimiser steps (0 = no limit).
    max_steps: int = 0
    #: Evaluate on the validation split every this many training samples (0 = once per epoch).
    eval_every_samples: int = 0
    #: Quality target on the task's metric; training stops when validation reaches it
    #: (None = no target: train for the whole budget).
    target: float | None = None
    stop_at_target: bool = True
    seed: int = 0
    #: Save a checkpoint at every evaluation and resume from it when the run dir has one.
    checkpoint: bool = True
    resume: bool = True
    progress: bool = True
    #: Steps excluded from the throughput windows (warm-up, compile).
    warmup_windows: int = 1
    #: Steps per throughput window.
    window_steps: int = 20


@dataclass
class BenchmarkConfig:
    """What is measured besides training: inference latency and throughput."""

    name: str = "trigger"
    latency_iters: int = 200
    latency_warmup: int = 20
    throughput_batch: int = 4096
    throughput_iters: int = 20


@dataclass
class TaskConfig:
    """Use-case options; ``name`` selects the task class."""

    name: str = MISSING
    #: Extra baselines trained side by side on the same split (``gbt``: scikit-learn
    #: HistGradientBoostingClassifier on the 16 high-level features).
    baselines: list[str] = field(default_factory=list)


@dataclass
class MainConfig:
    task: TaskConfig = MISSING
    dataset: DatasetConfig = MISSING
    model: ModelConfig = MISSING
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    benchmark: BenchmarkConfig = field(default_factory=BenchmarkConfig)


def register_configs() -> None:
    """Register the schema that ``configs/main.yaml`` extends (``defaults: [schema_main]``).

    The group files (``dataset/*.yaml``, ...) merge onto its typed nodes, so every value is
    checked against the dataclasses above.
    """
    ConfigStore.instance().store(name="schema_main", node=MainConfig)


class ConfigError(ValueError):
    """Config values that pass the type check but cannot work; lists every problem at once."""


def _range_problems(cfg: MainConfig) -> list[str]:
    t, d, b = cfg.trainer, cfg.dataset, cfg.benchmark
    checks = [
        (t.batch_size > 0, "trainer.batch_size", t.batch_size, "> 0"),
        (t.lr > 0, "trainer.lr", t.lr, "> 0"),
        (t.weight_decay >= 0, "trainer.weight_decay", t.weight_decay, ">= 0"),
        (t.max_epochs >= 1, "trainer.max_epochs", t.max_epochs, ">= 1"),
        (t.max_time_s >= 0, "trainer.max_time_s", t.max_time_s, ">= 0 (0 = no limit)"),
        (t.max_steps >= 0, "trainer.max_steps", t.max_steps, ">= 0 (0 = no limit)"),
        (t.eval_every_samples >= 0, "trainer.eval_every_samples", t.eval_every_samples, ">= 0"),
        (t.warmup_steps >= 0, "trainer.warmup_steps", t.warmup_steps, ">= 0"),
        (0 <= t.min_lr_ratio <= 1, "trainer.min_lr_ratio", t.min_lr_ratio, "in [0, 1]"),
        (t.threads >= 0, "trainer.threads", t.threads, ">= 0 (0 = torch default)"),
        (t.window_steps >= 1, "trainer.window_steps", t.window_steps, ">= 1"),
        (t.warmup_windows >= 0, "trainer.warmup_windows", t.warmup_windows, ">= 0"),
        (d.n_constituents >= 1, "dataset.n_constituents", d.n_constituents, ">= 1"),
        (0 < d.val_fraction < 1, "dataset.val_fraction", d.val_fraction, "in (0, 1)"),
        (
            d.jets_per_class >= 5,
            "dataset.jets_per_class",
            d.jets_per_class,
            ">= 5 (every class in every split)",
        ),
        (d.max_jets is None or d.max_jets >= 1, "dataset.max_jets", d.max_jets, ">= 1 or null"),
        (d.workers >= 0, "dataset.workers", d.workers, ">= 0 (0 = one per core)"),
        (b.latency_iters >= 1, "benchmark.latency_iters", b.latency_iters, ">= 1"),
        (b.latency_warmup >= 0, "benchmark.latency_warmup", b.latency_warmup, ">= 0"),
        (b.throughput_batch >= 1, "benchmark.throughput_batch", b.throughput_batch, ">= 1"),
        (b.throughput_iters >= 1, "benchmark.throughput_iters", b.throughput_iters, ">= 1"),
    ]
    return [f"{key}={value!r} must be {rule}" for ok, key, value, rule in checks if not ok]


def _name_problems(cfg: MainConfig) -> list[str]:
    from cern_ai_bench.data.registry import DATASETS
    from cern_ai_bench.models.builders import MODELS
    from cern_ai_bench.tasks import TASKS
    from cern_ai_bench.tasks.baselines import BASELINES

    problems = []
    for key, value, valid in (
        ("task.name", cfg.task.name, TASKS),
        ("dataset.name", cfg.dataset.name, tuple(DATASETS)),
        ("model.name", cfg.model.name, tuple(MODELS)),
    ):
        if value not in valid:
            problems.append(f"{key}={value!r} is not one of {sorted(valid)}")
    problems += [
        f"task.baselines: {name!r} is not one of {list(BASELINES)}"
        for name in cfg.task.baselines
        if name not in BASELINES
    ]
    return problems


def _device_problems(cfg: MainConfig) -> list[str]:
    import torch

    name = cfg.trainer.device
    if name == "auto":
        return []
    try:
        device = torch.device(name)
    except RuntimeError:
        return [f"trainer.device={name!r} is not a device (use auto, cpu, cuda or cuda:N)"]
    if device.type == "cuda" and not torch.cuda.is_available():
        return [
            f"trainer.device={name!r} but CUDA is not available on this machine (use auto or cpu)"
        ]
    if device.type not in ("cpu", "cuda"):
        return [f"trainer.device={name!r}: only cpu and cuda are supported"]
    return []


def _compatibility_problems(cfg: MainConfig) -> list[str]:
    """Dataset, model and baselines that cannot work together, caught before any download."""
    from cern_ai_bench.data.registry import DATASETS
    from cern_ai_bench.models.builders import MODELS

    dataset, model = DATASETS.get(cfg.dataset.name), MODELS.get(cfg.model.name)
    if dataset is None or model is None:
        return []  # already reported as unknown names
    problems = []
    if model.inputs == "hlf" and not dataset.provides_hlf:
        problems.append(
            f"model={cfg.model.name} reads the 16 high-level features, which dataset="
            f"{cfg.dataset.name} does not provide (use a constituent model: pfn, particle_transformer)"
        )
    if model.inputs == "constituents" and not dataset.provides_constituents:
        problems.append(
            f"model={cfg.model.name} reads jet constituents, which dataset={cfg.dataset.name} "
            "does not provide (it has the 16 high-level features only: use mlp or mlp_bn)"
        )
    if "gbt" in cfg.task.baselines and not dataset.provides_hlf:
        problems.append(
            f"task.baselines=[gbt] needs the 16 high-level features, which dataset="
            f"{cfg.dataset.name} does not provide"
        )
    return problems


def validate_config(cfg: MainConfig) -> None:
    """Check what the types cannot (ranges, names, device, dataset/model fit); list all at once."""
    problems = _range_problems(cfg) + _name_problems(cfg) + _device_problems(cfg)
    if not problems:
        problems = _compatibility_problems(cfg)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
