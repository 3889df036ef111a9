"""Closed or open division of a run, decided from its resolved config by one explicit rule.

MLPerf Training (``mlcommons/training_policies``, ``training_rules.adoc``, "Divisions"): "The
Closed division requires using the same preprocessing, model, training method, and quality
target as the reference implementation"; the Open division may change them, not the evaluation
data. Here a run is ``closed`` when every key below equals its reference value, else ``open``.
The record stores the decision as ``benchmark.division`` and the keys that differ as
``benchmark.division_changes``.

Keys that count, and where their reference value comes from:

- ``model.name``: must be a shipped model preset (``configs/model/<name>.yaml``). A preset has no
  size knobs in the config, so the architecture cannot change without changing the name.
- The optimiser and its schedule: ``trainer.batch_size``, ``trainer.lr``,
  ``trainer.weight_decay``, ``trainer.warmup_steps``, ``trainer.min_lr_ratio`` and the
  schedule's length ``trainer.max_epochs`` and ``trainer.max_steps`` (the cosine decay runs over
  them); the engine's optimiser is always AdamW. Reference: the ``TrainerConfig`` defaults
  overlaid with the model preset's ``trainer:`` block. The batch size counts because the
  project defines no learning-rate scaling rule that would keep a changed batch closed.
- The evaluation frequency ``trainer.eval_every_samples`` (Closed evaluates "at the same
  frequency", "Quality measure"), reference as above.
- The validation data the target is checked on: ``dataset.val_fraction`` and
  ``dataset.split_seed``, reference: the ``DatasetConfig`` defaults.
- The quality target ``trainer.target``: reference :data:`REFERENCE_TARGETS` (the targets of the
  shipped suites), else no target.

Everything else is free in both divisions: precision, compile mode, loader, device, threads,
world size (MLPerf lets the numeric format and the system vary), the seed, the time budget
``trainer.max_time_s`` (a stop, not a schedule), checkpointing, data location, inference-timing
and test-evaluation settings. Dataset sizes and task settings are not part of the division:
they make a different workload, which the report keeps apart by the resolved config.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from omegaconf import OmegaConf

from cern_ai_bench.bench.record import DIVISIONS
from cern_ai_bench.config import DatasetConfig, TrainerConfig

CLOSED, OPEN = DIVISIONS

#: Trainer keys of the training method (optimiser, schedule, evaluation frequency).
CLOSED_TRAINER_KEYS = (
    "batch_size",
    "lr",
    "weight_decay",
    "warmup_steps",
    "min_lr_ratio",
    "max_epochs",
    "max_steps",
    "eval_every_samples",
)
#: Dataset keys that fix the validation split (where the quality target is checked).
CLOSED_DATASET_KEYS = ("val_fraction", "split_seed")

#: Reference quality targets per (task, model, dataset): the ``trainer.target`` of the shipped
#: suites (``configs/suite/quick.yaml``, ``full.yaml``); tests/bench/test_division.py checks
#: that every shipped quick and full suite benchmark is closed under them.
REFERENCE_TARGETS: dict[tuple[str, str, str], float] = {
    ("trigger", "mlp", "embedded_jets"): 0.6,
    ("trigger", "mlp", "hls4ml"): 0.75,
}

_PRESET_NAME = re.compile(r"[A-Za-z0-9_]+")
_MISSING = object()


@dataclass(frozen=True)
class Division:
    """The division of a run and, for ``open``, each key that differs from the reference."""

    name: str
    changes: tuple[str, ...] = ()


def reference_trainer(model: str) -> dict[str, Any] | None:
    """Reference values of :data:`CLOSED_TRAINER_KEYS` for a model preset (None: no preset)."""
    reference = _preset_trainer(model) if _PRESET_NAME.fullmatch(model) else None
    return dict(reference) if reference is not None else None  # a copy: the cache stays intact


@functools.cache
def _preset_trainer(model: str) -> dict[str, Any] | None:
    """``TrainerConfig`` defaults overlaid with ``configs/model/<model>.yaml``'s ``trainer:``."""
    path = resources.files("cern_ai_bench.configs") / "model" / f"{model}.yaml"
    if not path.is_file():
        return None
    preset = OmegaConf.to_container(OmegaConf.create(path.read_text(encoding="utf-8")))
    overrides = (preset or {}).get("trainer") or {}  # type: ignore[union-attr]
    defaults = TrainerConfig()
    return {key: overrides.get(key, getattr(defaults, key)) for key in CLOSED_TRAINER_KEYS}


def reference_target(task: str, model: str, dataset: str) -> float | None:
    """The benchmark's reference quality target, or None where the project defines none."""
    return REFERENCE_TARGETS.get((task, model, dataset))


def division_of(config: Mapping[str, Any]) -> Division:
    """``closed`` or ``open`` for a resolved config (a record's ``config`` block).

    A key missing from ``config`` counts as changed, so a partial config is never closed.
    """
    model = _get(config, "model.name")
    reference = reference_trainer(model) if isinstance(model, str) else None
    if reference is None:
        return Division(OPEN, (f"model.name={model!r} is not a shipped model preset",))
    defaults = DatasetConfig()
    expected: dict[str, Any] = {f"trainer.{key}": value for key, value in reference.items()}
    expected |= {f"dataset.{key}": getattr(defaults, key) for key in CLOSED_DATASET_KEYS}
    task, dataset = _get(config, "task.name"), _get(config, "dataset.name")
    expected["trainer.target"] = reference_target(str(task), model, str(dataset))
    changes = []
    for key, want in expected.items():
        got = _get(config, key, missing=_MISSING)
        if got is _MISSING:
            changes.append(f"{key} is missing (reference {want!r})")
        elif not _same(got, want):
            changes.append(f"{key}={got!r} (reference {want!r})")
    return Division(OPEN if changes else CLOSED, tuple(changes))


def record_division(record: Mapping[str, Any]) -> Division:
    """The division a record states, or for records written before the field, its config's."""
    benchmark = record.get("benchmark") or {}
    if benchmark.get("division") in DIVISIONS:
        return Division(benchmark["division"], tuple(benchmark.get("division_changes") or ()))
    return division_of(record.get("config") or {})


def _get(config: Mapping[str, Any], dotted: str, missing: Any = None) -> Any:
    node: Any = config
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return missing
        node = node[key]
    return node


def _same(got: Any, want: Any) -> bool:
    """Equal values; numbers compare by value (YAML ``2e-3`` and JSON ``0.002``), bools apart."""
    numbers = (int, float)
    if isinstance(got, bool) or isinstance(want, bool):
        return got is want
    if isinstance(got, numbers) and isinstance(want, numbers):
        return math.isclose(got, want, rel_tol=1e-12, abs_tol=0.0)
    return got == want
