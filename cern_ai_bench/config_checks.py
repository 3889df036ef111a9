"""Checks of a config beyond its types: ranges, registry names, device, task/dataset/model fit.

Used by :func:`cern_ai_bench.config.validate_config`, which raises one
:class:`~cern_ai_bench.config.ConfigError` listing every problem, before any data is touched.
"""

from __future__ import annotations

from cern_ai_bench.config import MainConfig


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
        (t.energy_window_s > 0, "trainer.energy_window_s", t.energy_window_s, "> 0"),
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
        (
            all(batch >= 1 for batch in b.sweep_batches),
            "benchmark.sweep_batches",
            list(b.sweep_batches),
            "batch sizes >= 1",
        ),
    ]
    problems = [f"{key}={value!r} must be {rule}" for ok, key, value, rule in checks if not ok]
    return problems + _shower_range_problems(cfg) + _anomaly_range_problems(cfg)


def _shower_range_problems(cfg: MainConfig) -> list[str]:
    d, e = cfg.dataset, cfg.task.evaluation
    checks = [
        (d.n_showers >= 50, "dataset.n_showers", d.n_showers, ">= 50"),
        (
            d.n_reference_showers >= 50,
            "dataset.n_reference_showers",
            d.n_reference_showers,
            ">= 50",
        ),
        (
            d.max_showers is None or d.max_showers >= 50,
            "dataset.max_showers",
            d.max_showers,
            ">= 50 or null",
        ),
        (
            e.classifier_repeats >= 1,
            "task.evaluation.classifier_repeats",
            e.classifier_repeats,
            ">= 1",
        ),
        (
            e.classifier_epochs >= 1,
            "task.evaluation.classifier_epochs",
            e.classifier_epochs,
            ">= 1",
        ),
        (e.classifier_width >= 1, "task.evaluation.classifier_width", e.classifier_width, ">= 1"),
        (e.classifier_depth >= 1, "task.evaluation.classifier_depth", e.classifier_depth, ">= 1"),
        (
            set(e.classifier_modes) <= {"low", "high"},
            "task.evaluation.classifier_modes",
            list(e.classifier_modes),
            "a subset of [low, high]",
        ),
        (
            e.max_eval_showers is None or e.max_eval_showers >= 50,
            "task.evaluation.max_eval_showers",
            e.max_eval_showers,
            ">= 50 or null",
        ),
        (
            len(e.generation_batches) > 0 and min(e.generation_batches) >= 1,
            "task.evaluation.generation_batches",
            list(e.generation_batches),
            "a non-empty list of batch sizes >= 1",
        ),
        (
            e.generation_repeats >= 1,
            "task.evaluation.generation_repeats",
            e.generation_repeats,
            ">= 1",
        ),
        (e.val_showers >= 50, "task.evaluation.val_showers", e.val_showers, ">= 50"),
        (
            2 <= e.fpd_min_samples < e.fpd_max_samples,
            "task.evaluation.fpd_min_samples",
            e.fpd_min_samples,
            ">= 2 and below task.evaluation.fpd_max_samples",
        ),
        (e.kpd_batch_size >= 2, "task.evaluation.kpd_batch_size", e.kpd_batch_size, ">= 2"),
    ]
    return [f"{key}={value!r} must be {rule}" for ok, key, value, rule in checks if not ok]


def _anomaly_range_problems(cfg: MainConfig) -> list[str]:
    from cern_ai_bench.data.anomaly_registry import FEATURE_SOURCES
    from cern_ai_bench.metrics.trigger_baselines import BASELINES as TRIGGER_BASELINES

    d, a = cfg.dataset, cfg.task.anomaly
    fprs, rates, region = list(a.fprs), list(a.rates_khz), list(a.signal_region_tev)
    width = a.sideband_width_tev
    checks = [
        (d.n_background_train >= 2, "dataset.n_background_train", d.n_background_train, ">= 2"),
        (d.n_background_test >= 1, "dataset.n_background_test", d.n_background_test, ">= 1"),
        (d.n_signal_events >= 1, "dataset.n_signal_events", d.n_signal_events, ">= 1"),
        (0 < d.test_fraction < 1, "dataset.test_fraction", d.test_fraction, "in (0, 1)"),
        (
            d.max_events is None or d.max_events >= 2,
            "dataset.max_events",
            d.max_events,
            ">= 2 or null",
        ),
        (
            d.feature_source in FEATURE_SOURCES,
            "dataset.feature_source",
            d.feature_source,
            f"one of {list(FEATURE_SOURCES)}",
        ),
        (
            len(fprs) > 0 and all(0 < f < 1 for f in fprs),
            "task.anomaly.fprs",
            fprs,
            "a non-empty list of rates in (0, 1)",
        ),
        (all(r > 0 for r in rates), "task.anomaly.rates_khz", rates, "a list of rates > 0"),
        (a.min_background >= 1, "task.anomaly.min_background", a.min_background, ">= 1"),
        (
            a.sic_min_background >= 1,
            "task.anomaly.sic_min_background",
            a.sic_min_background,
            ">= 1",
        ),
        (a.repeats >= 1, "task.anomaly.repeats", a.repeats, ">= 1"),
        (
            set(a.trigger_baselines) <= set(TRIGGER_BASELINES),
            "task.anomaly.trigger_baselines",
            list(a.trigger_baselines),
            f"a subset of {sorted(TRIGGER_BASELINES)}",
        ),
        (
            len(region) == 2 and 0 <= region[0] < region[1],
            "task.anomaly.signal_region_tev",
            region,
            "[low, high] with 0 <= low < high (TeV)",
        ),
        (
            width is None or width > 0,
            "task.anomaly.sideband_width_tev",
            width,
            "> 0 or null (every event outside the signal region)",
        ),
        (
            0 <= a.signal_fraction < 1,
            "task.anomaly.signal_fraction",
            a.signal_fraction,
            "in [0, 1)",
        ),
    ]
    return [f"{key}={value!r} must be {rule}" for ok, key, value, rule in checks if not ok]


def _name_problems(cfg: MainConfig) -> list[str]:
    from cern_ai_bench.data.anomaly_registry import ANOMALY_DATASET_NAMES
    from cern_ai_bench.data.calo_geometry import GEOMETRIES
    from cern_ai_bench.data.registry import DATASETS
    from cern_ai_bench.data.showers_registry import SHOWER_DATASETS
    from cern_ai_bench.models.builders import MODELS
    from cern_ai_bench.tasks import TASKS
    from cern_ai_bench.tasks.baselines import BASELINES

    problems = []
    for key, value, valid in (
        ("task.name", cfg.task.name, TASKS),
        ("dataset.name", cfg.dataset.name, (*DATASETS, *SHOWER_DATASETS, *ANOMALY_DATASET_NAMES)),
        ("dataset.geometry", cfg.dataset.geometry, tuple(GEOMETRIES)),
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
    if cfg.task.name == "fastsim":
        return _fastsim_problems(cfg)
    if cfg.task.name == "anomaly":
        return _anomaly_problems(cfg)
    from cern_ai_bench.data.registry import DATASETS
    from cern_ai_bench.models.builders import ANOMALY_INPUTS, MODELS

    if cfg.dataset.name not in DATASETS:
        return [
            f"task=trigger needs a jet dataset, not dataset={cfg.dataset.name} "
            f"(jet datasets: {', '.join(DATASETS)})"
        ]
    dataset, model = DATASETS[cfg.dataset.name], MODELS[cfg.model.name]
    if model.inputs == "showers":
        return [f"model={cfg.model.name} generates showers: use it with task=fastsim"]
    if model.inputs in ANOMALY_INPUTS:
        return [f"model={cfg.model.name} is an anomaly detector: use it with task=anomaly"]
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


def _fastsim_problems(cfg: MainConfig) -> list[str]:
    from cern_ai_bench.data.showers_registry import SHOWER_DATASETS
    from cern_ai_bench.models.builders import ANOMALY_INPUTS, MODELS, shower_model_names

    problems = []
    if cfg.dataset.name not in SHOWER_DATASETS:
        problems.append(
            f"task=fastsim needs a shower dataset, not dataset={cfg.dataset.name} "
            f"(shower datasets: {', '.join(SHOWER_DATASETS)})"
        )
    inputs = MODELS[cfg.model.name].inputs
    if inputs != "showers":
        kind = "an anomaly detector" if inputs in ANOMALY_INPUTS else "a jet classifier"
        problems.append(
            f"model={cfg.model.name} is {kind}; task=fastsim needs a shower generator "
            f"(model={' or model='.join(shower_model_names())})"
        )
    if cfg.task.baselines:
        problems.append("task.baselines are trigger baselines; task=fastsim has none")
    if cfg.dataset.name == "embedded_showers" and cfg.dataset.geometry == "ds1_pions":
        problems.append(
            "dataset.geometry=ds1_pions: the embedded GFlash simulator makes electromagnetic "
            "showers only (use ds1_photons, ds2 or ds3; pion showers: "
            "dataset=calochallenge_ds1_pions)"
        )
    return problems


#: What each anomaly input family is, for messages.
_ANOMALY_FAMILIES = {
    "l1_events": "Level-1 events (ADC2021 layout)",
    "dijet_features": "dijet features (mjj, jet masses, tau21)",
}


def _anomaly_problems(cfg: MainConfig) -> list[str]:
    """Dataset and model of task=anomaly: an L1 detector on L1 events, CWoLa on dijets."""
    from cern_ai_bench.data.anomaly_registry import ANOMALY_DATASET_NAMES, ANOMALY_DATASETS
    from cern_ai_bench.models.builders import ANOMALY_INPUTS, MODELS, anomaly_model_names

    name, model = cfg.dataset.name, cfg.model.name
    problems = []
    if cfg.task.baselines:
        problems.append(
            "task.baselines are trigger baselines; task=anomaly reports its standard-trigger "
            "baselines through task.anomaly.trigger_baselines"
        )
    if name not in ANOMALY_DATASET_NAMES:
        problems.append(
            f"task=anomaly needs an anomaly dataset, not dataset={name} (anomaly datasets: "
            f"{', '.join(ANOMALY_DATASET_NAMES)})"
        )
    inputs = MODELS[model].inputs
    if inputs not in ANOMALY_INPUTS:
        problems.append(
            f"model={model} is not an anomaly detector; task=anomaly needs "
            f"model={' or model='.join(anomaly_model_names())}"
        )
    elif name in ANOMALY_DATASETS and ANOMALY_DATASETS[name].inputs != inputs:
        provided = ANOMALY_DATASETS[name].inputs
        problems.append(
            f"model={model} reads {_ANOMALY_FAMILIES[inputs]}, but dataset={name} holds "
            f"{_ANOMALY_FAMILIES[provided]}: use model="
            f"{' or model='.join(anomaly_model_names(provided))} with it"
        )
    return problems


def config_problems(cfg: MainConfig) -> list[str]:
    """Every problem of ``cfg``; compatibility is checked once names and ranges are right."""
    problems = _range_problems(cfg) + _name_problems(cfg) + _device_problems(cfg)
    return problems or _compatibility_problems(cfg)
