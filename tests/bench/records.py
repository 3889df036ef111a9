"""Records for the methodology tests: the committed reference records, and time-to-target runs
built by hand from one of them (no training)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "reference"
#: CPU trigger MLP on embedded jets: with trainer.target=0.6 its config is the closed reference.
TEMPLATE = REFERENCE / "cpu-2core" / "trigger_mlp_gbt_embedded20k.json"


def reference_records() -> list[Path]:
    """Every committed record (the ablation tables beside them are lists, not records)."""
    paths = sorted(REFERENCE.glob("*/*.json"))
    return [p for p in paths if isinstance(json.loads(p.read_text()), dict)]


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def build_run(
    template: dict[str, Any],
    run_id: str,
    time_to_target_s: float = 10.0,
    *,
    target: float = 0.6,
    reached: bool = True,
) -> dict[str, Any]:
    """A trigger record that reaches ``target`` at its 5th epoch-end evaluation after
    ``time_to_target_s`` seconds (1 s of it setup), or, with ``reached=False``, ends 10 epochs
    below it."""
    record = copy.deepcopy(template)
    setup, epochs = 1.0, 5 if reached else 10
    step = (time_to_target_s - setup) / 5
    history = [
        {
            "samples": 1000 * k,
            "epoch": k,
            "train_loss": 1.0 / k,
            "time_s": setup + step * k,
            "accuracy": target + (k - 5) / 100 if reached else target - 0.2 + k / 100,
        }
        for k in range(1, epochs + 1)
    ]
    record["run_id"] = run_id
    record["status"] = "success" if reached else "not_converged"
    record["benchmark"] |= {
        "quality_target": target,
        "higher_is_better": True,
        "target_reached": reached,
        "stop_reason": "target" if reached else "epoch budget",
    }
    record["config"]["trainer"]["target"] = target
    record["quality"]["val_history"] = history
    record["timing"] |= {
        "data_prepare_s": 0.5,
        "setup_s": setup,
        "train_time_s": history[-1]["time_s"] - setup,
        "time_to_target_s": time_to_target_s if reached else None,
        "samples_to_target": 5000 if reached else None,
    }
    record["run"] |= {"samples_seen": history[-1]["samples"], "resumed_from_samples": None}
    return record
