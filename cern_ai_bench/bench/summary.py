"""A short human-readable summary of a record, printed at the end of a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _fmt(value: Any, spec: str = ".4f") -> str:
    if value is None:
        return "n/a"
    return format(value, spec) if isinstance(value, float) else str(value)


def format_summary(record: dict[str, Any], run_dir: Path | None = None) -> str:
    """Quality, speed and where the record is, in a few aligned lines."""
    bench, quality, timing = record["benchmark"], record["quality"], record["timing"]
    test = quality["test"]
    latency = timing["inference"]["latency_batch_1"]
    lines = [
        f"{bench['task']} / {bench['model']} on {bench['dataset']} "
        f"({record['run']['device']}, {record['run']['loader']} loader, "
        f"{record['run']['precision']}, compile={record['run']['compile']})",
        f"  test {bench['metric']:<22} {_fmt(test.get(bench['metric']))}",
    ]
    for key in sorted(k for k in test if k.startswith("auc")):
        lines.append(f"  test {key:<22} {_fmt(test[key])}")
    lines += _fastsim_lines(test, timing)
    for name, baseline in quality.get("baselines", {}).items():
        lines.append(
            f"  baseline {name:<8} accuracy {_fmt(baseline['test'].get('accuracy'))}"
            f"  (network - baseline: "
            f"{_fmt(test.get('accuracy', 0.0) - baseline['test'].get('accuracy', 0.0), '+.4f')})"
        )
    lines += [
        f"  train throughput          {_fmt(timing['train_throughput_samples_per_s'], ',.0f')} samples/s",
        f"  inference latency (b=1)   p50 {_fmt(latency['p50_ms'], '.3f')} ms, "
        f"p99 {_fmt(latency['p99_ms'], '.3f')} ms",
        f"  inference throughput      {_fmt(timing['inference']['throughput_samples_per_s'], ',.0f')}"
        f" samples/s at batch {timing['inference']['throughput_batch']}",
        "  time to target            "
        + (
            f"{timing['time_to_target_s']:.1f} s"
            if timing["time_to_target_s"] is not None
            else "n/a (no trainer.target set, or not reached)"
        ),
        f"  parameters                {record['model']['parameters']:,}",
    ]
    if run_dir is not None:
        lines.append(f"  record                    {Path(run_dir) / 'record.json'}")
    return "\n".join(lines)


def _fastsim_lines(test: dict[str, Any], timing: dict[str, Any]) -> list[str]:
    """Classifier scores, FPD/KPD and generation time per shower (task=fastsim records)."""
    lines = []
    for mode in ("low", "high"):
        if f"cls_{mode}_auc_mean" in test:
            lines.append(
                f"  test classifier AUC ({mode:<4})  {_fmt(test[f'cls_{mode}_auc_mean'])}"
                f" +- {_fmt(test[f'cls_{mode}_auc_std'])}"
                f"  (JSD {_fmt(test[f'cls_{mode}_jsd_mean'])})"
            )
    if "fpd_x1e3" in test:
        lines.append(
            f"  test FPD x1e3 / KPD x1e3    {_fmt(test['fpd_x1e3'], '.2f')}"
            f" +- {_fmt(test['fpd_x1e3_err'], '.2f')} / {_fmt(test['kpd_x1e3'], '.3f')}"
            f" +- {_fmt(test['kpd_x1e3_err'], '.3f')}"
        )
    generation = timing.get("generation")
    if generation:
        per_batch = ", ".join(
            f"{_fmt(v['ms_per_shower'], '.4g')} ms (b={b})" for b, v in generation["model"].items()
        )
        lines.append(f"  generation per shower      {per_batch}")
        for b, sim in (generation.get("reference_simulator") or {}).items():
            sim_ms = sim["ms_per_shower"]
            lines.append(f"  GFlash simulator (b={b})   {_fmt(sim_ms, '.4g')} ms per shower")
            models = {"this model": generation["model"][b]["ms_per_shower"]}
            for name, times in (generation.get("other_models") or {}).items():
                models[name] = times[b]["ms_per_shower"]
            for name, ms in models.items():
                lines.append(
                    f"    {name:<24} {_fmt(ms, '.4g')} ms per shower: "
                    f"{sim_ms / ms:.2f}x the simulator's speed"
                )
    return lines
