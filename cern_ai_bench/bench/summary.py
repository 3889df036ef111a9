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
    lines += _anomaly_lines(quality.get("details") or {})
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
    energy = record.get("energy") or {}
    if energy.get("available"):
        lines.append(
            f"  GPU energy (training)     {_fmt(energy['joules_per_sample'], '.3g')} J/sample, "
            f"{_fmt(energy['mean_power_w'], '.0f')} W over {energy['windows']} windows"
            if energy["joules_per_sample"] is not None
            else f"  GPU energy (training)     not measured: {energy['reason']}"
        )
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


def _anomaly_lines(details: dict[str, Any]) -> list[str]:
    """Per signal the TPR at one FPR, model scores beside the HT trigger (task=anomaly, L1),
    or CWoLa's and the supervised reference's max SIC (task=anomaly, dijet)."""
    if details.get("kind") == "l1":
        return _l1_lines(details)
    if details.get("kind") == "dijet":
        return _dijet_lines(details)
    return []


def _l1_lines(details: dict[str, Any]) -> list[str]:
    fprs = details["fprs"]
    fpr = 1e-4 if 1e-4 in fprs else fprs[len(fprs) // 2]
    key = f"{fpr:g}"
    reports = dict(details["scores"])
    if "ht" in details.get("trigger_baselines", {}):
        reports["HT"] = details["trigger_baselines"]["ht"]
    above = ", ".join(
        f"{name} {report['thresholds']['fpr'][key]['n_background_above']}"
        for name, report in reports.items()
    )
    lines = [
        f"  TPR at FPR {fpr:.0e} on {details['n_background_test']:,} background test events "
        f"(background events above: {above})"
    ]
    objective = details["objective"]
    for signal in details["n_signal"]:
        tprs = "  ".join(
            f"{name} {_fmt(report['signals'][signal]['tpr_at_fpr'][key]['tpr'])}"
            for name, report in reports.items()
        )
        auc = details["scores"][objective]["signals"][signal]["auc"]
        lines.append(f"    {signal:<12} {tprs}  (AUC {objective} {_fmt(auc)})")
    repeats = details.get("repeats")
    if repeats:
        lines.append(
            f"  over {len(repeats['seeds'])} seeds (median [16 %, 84 %]), {objective} TPR at "
            f"FPR {fpr:.0e}:"
        )
        for signal in details["n_signal"]:
            stats = repeats["metrics"].get(f"{signal}/{objective}/tpr@{fpr:.0e}")
            if stats:
                lines.append(
                    f"    {signal:<12} {_fmt(stats['median'])} "
                    f"[{_fmt(stats['p16'])}, {_fmt(stats['p84'])}]"
                )
    return lines


def _dijet_lines(details: dict[str, Any]) -> list[str]:
    split = details["splits"]
    lines = [
        f"  injected {split['n_signal_injected']:,} signal into {split['n_background_data']:,} "
        f"background (fraction {split['signal_fraction']:g}); signal region "
        f"{split['n_sr']:,} events, S/B {_fmt(split['s_over_b_sr'], '.3g')}"
    ]
    for name, report in details["classifiers"].items():
        best = report["max_sic"]
        sic = (
            "no threshold with enough background"
            if best is None
            else f"max SIC {best['value']:.2f} (TPR {best['tpr']:.3f}, "
            f"{best['n_background_above']} background events above)"
        )
        lines.append(f"  {name:<11} AUC {_fmt(report['auc'])}  {sic}")
    stats = (details.get("repeats") or {}).get("metrics", {})
    for name in details["classifiers"]:
        sic = stats.get(f"{name}/max_sic")
        if sic:
            lines.append(
                f"  {name:<11} max SIC over {sic['n']} seeds: median {sic['median']:.2f} "
                f"[{sic['p16']:.2f}, {sic['p84']:.2f}]"
            )
    if "plot" in details:
        lines.append(f"  SIC curves                {details['plot']}")
    return lines
