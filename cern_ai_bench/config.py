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
    # -- showers (task=fastsim) --
    #: Embedded showers only: voxel geometry of the generated showers (ds2, ds3, ds1_photons).
    geometry: str = "ds2"
    #: Embedded showers only: showers in the training file (the validation split is taken
    #: from it); the value that scales the embedded shower dataset.
    n_showers: int = 10000
    #: Embedded showers only: showers in the held-out reference file (the test split).
    n_reference_showers: int = 10000
    #: Keep at most this many showers per split (None = all), for quick runs on large files.
    max_showers: int | None = None
    # -- anomaly detection (task=anomaly) --
    #: Embedded L1 only: events of the background training file (the train and val splits).
    #: The defaults take ~390 CPU-seconds to generate, about 3 minutes on 2 idle cores
    #: (measured: 20000 / 20000 / 2000 took 770 CPU-s, QCD 60 % of it); a TPR at FPR = 1e-4
    #: needs >= 1e5 test events to be more than indicative (200000 / 200000 / 20000: ~2 CPU-h).
    n_background_train: int = 10000
    #: Embedded L1 only: events of the independent background test file (the test split).
    n_background_test: int = 10000
    #: Embedded L1 only: events of each of the four signal files (signals are test-only).
    n_signal_events: int = 1000
    #: Embedded LHCO dijets only: triggered QCD dijet events (the background). The default
    #: takes about 4 CPU-minutes to generate (~12 ms per triggered event on one core).
    n_dijet_background: int = 20000
    #: Embedded LHCO dijets only: triggered W' -> X Y events (injected and test signal).
    n_dijet_signal: int = 2000
    #: Fraction of the events held out as the test split where no separate test file exists:
    #: the one public ADC2021 background file, and background and signal of the dijet datasets.
    test_fraction: float = 0.2
    #: Anomaly datasets: read at most this many events per file (None = all), for quick runs
    #: on the large public files.
    max_events: int | None = None
    #: Public LHC Olympics data only: ``features_file`` (the organisers' dijet features, read
    #: in seconds) or ``raw`` (cluster the raw particles with FastJet: ~30 min once, cached).
    feature_source: str = "features_file"


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
    #: Shortest GPU energy window in seconds of training (NVML, ``engine/energy.py``).
    energy_window_s: float = 60.0


@dataclass
class BenchmarkConfig:
    """What is measured besides training: inference latency and throughput."""

    name: str = "trigger"
    latency_iters: int = 200
    latency_warmup: int = 20
    throughput_batch: int = 4096
    throughput_iters: int = 20
    #: Further batch sizes whose inference throughput is measured (the report's
    #: throughput-vs-batch plot); fastsim's generation timings are its own sweep.
    sweep_batches: list[int] = field(default_factory=lambda: [16, 64, 256, 1024])


@dataclass
class ShowerEvaluationConfig:
    """How generated showers are evaluated (task=fastsim), after the CaloChallenge 2022.

    The defaults are the official settings (``evaluate.py``: classifier in-2048-2048-2048-1,
    50 epochs; published numbers are mean and std over 10 trainings).
    """

    #: Classifier tests to run: ``low`` (voxels) and/or ``high`` (high-level features).
    classifier_modes: list[str] = field(default_factory=lambda: ["low", "high"])
    classifier_repeats: int = 10
    classifier_epochs: int = 50
    classifier_width: int = 2048
    classifier_depth: int = 3
    classifier_seed: int = 0
    #: Reference (test) showers compared with as many generated ones (None = the whole split).
    max_eval_showers: int | None = None
    #: Frechet and kernel physics distances (FPD, KPD) on the high-level feature vector.
    fpd_kpd: bool = True
    #: FPD extrapolation range in sample size (the CaloChallenge call: 10,000 to 50,000).
    fpd_min_samples: int = 10000
    fpd_max_samples: int = 50000
    #: KPD batch size (the CaloChallenge call: 10,000).
    kpd_batch_size: int = 10000
    #: Batch sizes at which the generation time per shower is measured.
    generation_batches: list[int] = field(default_factory=lambda: [1, 100, 10000])
    #: Timed repetitions per batch size (the median is reported).
    generation_repeats: int = 3
    #: Also time the embedded reference simulator (GFlash) at the largest batch, for the ratio.
    time_reference_simulator: bool = True
    #: Also time the other shower model presets (freshly built) at the largest batch, so one
    #: run prints every model's generation time beside the simulator's.
    time_other_models: bool = True
    #: Showers generated at each validation evaluation (the mean separation power metric).
    val_showers: int = 2000
    #: Histogram PNGs of reference vs generated features in the run folder.
    plots: bool = True
    #: Write the generated test showers to ``generated_showers.hdf5`` (CaloChallenge format)
    #: in the run folder, e.g. for the official ``evaluate.py``.
    save_generated: bool = True


@dataclass
class AnomalyConfig:
    """How anomaly detectors are trained and evaluated (task=anomaly).

    The working points follow the public benchmarks: TPR at FPR = 1e-3, 1e-4 (Dark Machines,
    arXiv:2105.14027) and 1e-5 (ADC2021, arXiv:2107.02157); the dijet settings follow CWoLa
    hunting (arXiv:1805.02664) and the LHC Olympics signal region (CATHODE, arXiv:2109.00546).
    """

    #: Background efficiencies (false-positive rates) of the reported operating points.
    fprs: list[float] = field(default_factory=lambda: [1e-3, 1e-4, 1e-5])
    #: Output rates, kHz at the 40 MHz bunch-crossing rate, of further operating points.
    rates_khz: list[float] = field(default_factory=lambda: [1.0, 10.0, 100.0])
    #: Background events above a threshold below which an operating point is flagged
    #: ``reliable: false`` (its FPR is then known to ~30 % or worse).
    min_background: int = 10
    #: Background events above a threshold required for it to enter the max SIC.
    sic_min_background: int = 20
    #: Independent trainings (seeds trainer.seed, +1, ...); with > 1 the record adds the
    #: median and 16-84 % band of the headline metrics over them. The extra trainings run
    #: through the same engine after the main one, without checkpoints or compile.
    repeats: int = 1
    #: L1 only: standard-trigger scores evaluated at the same working points
    #: (``cern_ai_bench.metrics.trigger_baselines.BASELINES``).
    trigger_baselines: list[str] = field(
        default_factory=lambda: [
            "ht",
            "leading_electron_pt",
            "leading_muon_pt",
            "leading_jet_pt",
            "met",
        ]
    )
    #: Dijet only: the signal region in mjj, TeV (low, high), 3.3-3.7 as in the LHC Olympics.
    signal_region_tev: list[float] = field(default_factory=lambda: [3.3, 3.7])
    #: Dijet only: width in TeV of each sideband beside the signal region (null = every event
    #: outside it, as CATHODE; narrow sidebands keep mjj-correlated features from separating
    #: SR from SB through the background alone).
    sideband_width_tev: float | None = 0.2
    #: Dijet only: signal fraction S / (S + B) of the training sample: signal events are
    #: injected into the background at this fraction (0 = background only).
    signal_fraction: float = 0.01
    #: Dijet only: also train the supervised reference (same network, truth labels, signal
    #: region only) and report its max SIC beside CWoLa's.
    supervised: bool = True


@dataclass
class TaskConfig:
    """Use-case options; ``name`` selects the task class."""

    name: str = MISSING
    #: Extra baselines trained side by side on the same split (``gbt``: scikit-learn
    #: HistGradientBoostingClassifier on the 16 high-level features; trigger only).
    baselines: list[str] = field(default_factory=list)
    #: Shower evaluation settings (task=fastsim only).
    evaluation: ShowerEvaluationConfig = field(default_factory=ShowerEvaluationConfig)
    #: Anomaly-detection settings (task=anomaly only).
    anomaly: AnomalyConfig = field(default_factory=AnomalyConfig)


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


def validate_config(cfg: MainConfig) -> None:
    """Check what the types cannot (ranges, names, device, task/dataset/model fit).

    Raises:
        ConfigError: listing every problem at once, each with its key.
    """
    from cern_ai_bench.config_checks import config_problems

    problems = config_problems(cfg)
    if problems:
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems))
