"""Rows built from records: each single-run row carries its record's own numbers; repeats are
olympic-averaged with n stated; time to target follows MLPerf's rule for missed targets."""

from __future__ import annotations

import json
import math

import pytest

from cern_ai_bench.bench.report.aggregate import build_report
from cern_ai_bench.bench.report.collect import load_runs


def olympic(values):
    """The rule, written out again: drop one min and one max from 3 or more, then average."""
    kept = sorted(values)[1:-1] if len(values) >= 3 else list(values)
    return sum(kept) / len(kept)


@pytest.fixture(scope="module")
def reference(reference_dir):
    return build_report(load_runs([reference_dir]))


def test_every_reference_record_lands_in_exactly_one_row(reference, reference_dir):
    in_rows = [p.path for t in reference.tables for row in t.rows for p in row.runs]
    assert len(in_rows) == len(set(in_rows)) == len(reference.runs)
    records = {
        p for p in reference_dir.rglob("*.json") if isinstance(json.loads(p.read_text()), dict)
    }
    assert {p.resolve() for p in in_rows} == {p.resolve() for p in records}


def test_reference_systems_are_two_cpu_vms_and_the_h100(reference):
    names = [row.key.name for row in reference.systems]
    assert names[:2] == ["AMD EPYC, 2 cores", "Intel(R) Xeon(R) Processor, 2 cores"]
    assert all(row.key.gpus == () for row in reference.systems[:2])
    assert names[2] == "1x NVIDIA H100 80GB HBM3"
    assert [row.id for row in reference.systems] == ["S1", "S2", "S3"]


def test_rows_carry_their_records_numbers(reference):
    for table in reference.tables:
        for row in table.rows:
            assert row.n == len(row.runs)
            # The files themselves, not the report's copies.
            records = [json.loads(p.path.read_text()) for p in row.runs]
            timing = [r["timing"] for r in records]
            inference = [t["inference"] for t in timing]
            metric = [r["quality"]["test"][r["benchmark"]["metric"]] for r in records]
            assert row.metric == pytest.approx(sum(metric) / len(metric))
            expected = {
                "train_throughput": [t["train_throughput_samples_per_s"] for t in timing],
                "train_iqr": [t["train_throughput_iqr"] for t in timing],
                "latency_p50_ms": [i["latency_batch_1"]["p50_ms"] for i in inference],
                "latency_p99_ms": [i["latency_batch_1"]["p99_ms"] for i in inference],
                "inference_throughput": [i["throughput_samples_per_s"] for i in inference],
            }
            for name, values in expected.items():
                assert getattr(row, name) == pytest.approx(olympic(values)), name
            assert {row.config.inference_batch} == {i["throughput_batch"] for i in inference}
            peaks = [r["memory"]["peak_device_bytes"] for r in records]
            assert row.peak_device_bytes == (None if None in peaks else max(peaks))
            assert row.peak_host_bytes == max(r["memory"]["peak_host_rss_bytes"] for r in records)
            times = [t["time_to_target_s"] for t in timing]
            if row.config.quality_target is None:
                assert row.time_to_target_s is None
            else:  # the quick suite's 5 seeds of the MLP: every one reached the target
                assert None not in times and len(times) == 5
                assert row.time_to_target_s == pytest.approx(olympic(times))
            p50 = olympic([1e3 / i["latency_batch_1"]["p50_ms"] for i in inference])
            assert dict(row.sweep)[1] == pytest.approx(p50)
            for batch in {b for i in inference for b in i.get("sweep_samples_per_s", {})}:
                rates = [i["sweep_samples_per_s"][batch] for i in inference]
                assert dict(row.sweep)[int(batch)] == pytest.approx(olympic(rates))


def test_look_alike_rows_name_the_setting_that_differs(reference):
    table = next(t for t in reference.tables if t.key.model == "cwola")
    assert [row.variant for row in table.rows] == [
        (("task.anomaly.signal_fraction", value),) for value in ("0.0001", "0.001", "0.01")
    ]
    assert all("signal_fraction=" in row.cells()[1] for row in table.rows)


def test_repeats_are_olympic_averaged_and_counted(tmp_path, make_record):
    rates = [100.0, 200.0, 300.0, 1000.0]
    for i, rate in enumerate(rates):
        make_record(
            f"run{i}.json",
            **{
                "config.trainer.seed": i,
                "timing.train_throughput_samples_per_s": rate,
                "timing.inference.latency_batch_1.p50_ms": float(i + 1),
                "quality.test.accuracy": 0.5 + 0.1 * i,
                "memory.peak_host_rss_bytes": 2**20 * (i + 1),
            },
        )
    report = build_report(load_runs([tmp_path]))
    (row,) = report.tables[0].rows
    assert row.n == 4 and row.cells()[3] == "4"
    assert row.train_throughput == 250.0  # 100 and 1000 dropped
    assert row.latency_p50_ms == 2.5  # 1 and 4 dropped
    assert row.metric == pytest.approx(0.65)  # quality: plain mean
    assert row.peak_host_bytes == 4 * 2**20  # memory: maximum
    assert dict(row.sweep)[1] == pytest.approx(olympic([1e3 / p for p in (1, 2, 3, 4)]))


def test_time_to_target_drops_one_missed_target_but_not_two(tmp_path, make_record):
    target = {"benchmark.quality_target": 0.6}
    for i, ttt in enumerate([10.0, 20.0, 30.0, None]):
        make_record(f"a{i}.json", **target, **{"timing.time_to_target_s": ttt})
    for i, ttt in enumerate([10.0, None, None]):
        make_record(f"b{i}.json", **target, **{"timing.time_to_target_s": ttt, "run.loader": "x"})
    report = build_report(load_runs([tmp_path]))
    rows = {row.config.loader: row for row in report.tables[0].rows}
    assert rows["resident"].time_to_target_s == 25.0
    assert rows["resident"].cells()[11] == "25"
    assert math.isinf(rows["x"].time_to_target_s)
    assert rows["x"].cells()[11] == "not reached (2 of 3 runs)"


def test_statuses_other_than_success_are_counted_in_n(tmp_path, make_record):
    make_record("ok.json")
    make_record("late.json", status="not_converged")
    (row,) = build_report(load_runs([tmp_path])).tables[0].rows
    assert row.cells()[3] == "2 (1 not_converged)"
