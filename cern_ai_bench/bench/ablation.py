"""``cern-ai-bench-ablate``: training throughput of config variants, side by side, as ratios.

Example (the resident loader against the DataLoader baseline for the MLP)::

    cern-ai-bench-ablate --vary trainer.loader=dataloader,resident --repeats 3 model=mlp

The task's data are loaded once; then, for each repeat, every variant trains through the one
engine for ``--steps`` steps (variants interleaved, so slow drifts of a shared machine hit all of
them alike). Each run's throughput is the median over its timed windows after warm-up; a
variant's result is the median over repeats. Ratios are against the first variant (the first
value of the first ``--vary``), which is the baseline.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
from hydra import compose, initialize_config_module
from omegaconf import DictConfig

from cern_ai_bench.config import register_configs, validate_config
from cern_ai_bench.data.files import atomic_write_text
from cern_ai_bench.engine import train
from cern_ai_bench.engine.device import resolve_device, set_threads
from cern_ai_bench.tasks import build_task


def _parse_vary(items: list[str]) -> list[tuple[str, list[str]]]:
    axes = []
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not values:
            raise SystemExit(f"cern-ai-bench-ablate: --vary expects KEY=V1,V2,..., got {item!r}")
        # The task (data, model) is built once and shared by all variants, on one device.
        if not key.startswith("trainer.") or key == "trainer.device":
            raise SystemExit(
                f"cern-ai-bench-ablate: --vary {key}: only trainer.* settings other than "
                "trainer.device can vary (the data, model and device are shared by all "
                "variants); pass other keys as common overrides"
            )
        axes.append((key, values.split(",")))
    return axes


def _compose(overrides: list[str]) -> DictConfig:
    register_configs()
    with initialize_config_module("cern_ai_bench.configs", version_base="1.3"):
        cfg = compose("main", overrides=overrides)
    validate_config(cfg)
    return cfg


def run_ablation(
    common: list[str], axes: list[tuple[str, list[str]]], *, repeats: int, steps: int
) -> list[dict[str, Any]]:
    """Throughput of every combination of ``axes`` on top of the ``common`` overrides."""
    variants = [
        [f"{key}={value}" for (key, _), value in zip(axes, combo, strict=True)]
        for combo in itertools.product(*(values for _, values in axes))
    ]
    base = _compose(common)
    set_threads(base.trainer.threads)
    device = resolve_device(base.trainer.device)
    task = build_task(base.task, base.dataset, base.model.name, device, progress=True)
    budget = [
        f"trainer.max_steps={steps}",
        "trainer.eval_every_samples=0",
        "trainer.progress=false",
        "trainer.checkpoint=false",
    ]
    cfgs = [_compose([*common, *variant, *budget]) for variant in variants]
    rates: list[list[float]] = [[] for _ in variants]
    for repeat in range(repeats):
        for index, (variant, cfg) in enumerate(zip(variants, cfgs, strict=True)):
            set_threads(cfg.trainer.threads)
            result = train(task, cfg.trainer, device=device)
            rate = result.throughput["median"]
            if rate is None:
                raise SystemExit(
                    f"cern-ai-bench-ablate: no timed window completed for {variant}; "
                    "raise --steps above trainer.window_steps x (trainer.warmup_windows + 1)"
                )
            rates[index].append(float(rate))
            sys.stderr.write(
                f"repeat {repeat + 1}/{repeats} {' '.join(variant) or 'base'}: {rate:,.0f} samples/s\n"
            )
    baseline = float(np.median(rates[0]))
    rows = []
    for variant, values, cfg in zip(variants, rates, cfgs, strict=True):
        median = float(np.median(values))
        q25, q75 = np.percentile(values, [25, 75])
        rows.append(
            {
                "variant": " ".join(variant) or "base",
                "batch_size": int(cfg.trainer.batch_size),
                "samples_per_s": median,
                "iqr": float(q75 - q25),
                "runs": values,
                "ratio_to_baseline": median / baseline,
            }
        )
    return rows


def format_table(rows: list[dict[str, Any]], header: str) -> str:
    """A Markdown table of the rows, the baseline first."""
    lines = [
        header,
        "",
        "| variant | batch | samples/s (median) | IQR | ratio to baseline |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row['variant']} | {row['batch_size']} | {row['samples_per_s']:,.0f} | {row['iqr']:,.0f} | {row['ratio_to_baseline']:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="cern-ai-bench-ablate",
        description="Measure training throughput of config variants side by side through the "
        "one engine and print ratios against the first variant.",
        epilog="Example: cern-ai-bench-ablate --vary trainer.loader=dataloader,resident model=mlp",
    )
    parser.add_argument(
        "--vary",
        action="append",
        required=True,
        metavar="KEY=V1,V2",
        help="a config key and the values to compare (repeatable: all combinations run)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="interleaved repeats per variant (default 3)"
    )
    parser.add_argument(
        "--steps", type=int, default=300, help="training steps per run (default 300)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="also write the table (.md) and the numbers (.json) here",
    )
    parser.add_argument(
        "overrides", nargs="*", help="Hydra overrides common to all variants, e.g. model=mlp"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.steps < 1:
        parser.error("--repeats and --steps must be >= 1")
    rows = run_ablation(
        args.overrides, _parse_vary(args.vary), repeats=args.repeats, steps=args.steps
    )
    header = f"Training throughput, {args.repeats} interleaved repeats x {args.steps} steps; common overrides: {' '.join(args.overrides) or 'none'}"
    table = format_table(rows, header)
    sys.stdout.write(table + "\n")
    if args.out is not None:
        atomic_write_text(args.out.with_suffix(".md"), table + "\n")
        atomic_write_text(args.out.with_suffix(".json"), json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
