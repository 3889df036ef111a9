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
