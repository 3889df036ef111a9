"""The result record is validated on write and on read, and names what is wrong."""

from __future__ import annotations

import copy
import json

import pytest

from cern_ai_bench.bench.record import RecordError, read_record, validate_record, write_record
from cern_ai_bench.bench.system import system_info


def minimal_record():
    return {
        "schema_version": 1,
        "run_id": "abc",
        "timestamp": "2026-11-22T00:00:00+00:00",
        "status": "success",
        "benchmark": {
            "name": "trigger",
            "task": "trigger",
            "model": "mlp",
            "dataset": "x",
            "metric": "accuracy",
        },
        "config": {},
        "code": {"version": "0.1.0", "git_sha": None},
        "system": system_info(),
        "dataset": {
            "name": "x",
            "files": [{"path": "a.h5", "sha256": "0" * 64, "size_bytes": 3}],
            "splits": {},
        },
        "quality": {"test": {"accuracy": 0.5, "rejection": float("inf")}},
        "timing": {
            "time_to_target_s": None,
            "compile_s": None,
            "train_throughput_samples_per_s": 10.0,
            "inference": {
                "latency_batch_1": {"p50_ms": 0.1, "p99_ms": 0.2},
                "throughput_batch": 4096,
                "throughput_samples_per_s": 1e6,
            },
        },
        "memory": {"peak_host_rss_bytes": 1, "peak_device_bytes": None},
        "seeds": {"trainer": 0},
        "run": {"world_size": 1, "device": "cpu"},
    }


def test_round_trip_and_infinity_becomes_null(tmp_path):
    path = write_record(tmp_path / "record.json", minimal_record())
    record = read_record(path)
    assert record["quality"]["test"] == {"accuracy": 0.5, "rejection": None}
    assert record["system"]["cpu_logical_cores"] >= 1


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("timing"), "missing the key 'timing'"),
        (lambda r: r["benchmark"].pop("metric"), "missing the key 'benchmark.metric'"),
        (lambda r: r["run"].update(world_size="1"), "'run.world_size' should be int"),
        (lambda r: r.update(status="done"), "'status' must be one of"),
        (lambda r: r.update(schema_version=99), "schema_version 99 is not supported"),
        (lambda r: r["dataset"]["files"][0].pop("sha256"), r"dataset.files\[0\]"),
        (
            lambda r: r["timing"]["inference"].pop("latency_batch_1"),
            "timing.inference.latency_batch_1'",
        ),
        (
            lambda r: r["timing"]["inference"]["latency_batch_1"].update(p99_ms=None),
            "p99_ms' should be int or float",
        ),
        (lambda r: r["memory"].pop("peak_host_rss_bytes"), "memory.peak_host_rss_bytes"),
        (lambda r: r["seeds"].update(trainer=True), "'seeds.trainer' should be int, got bool"),
        (
            lambda r: r["benchmark"].update(division="semi"),
            r"'benchmark.division' must be one of \('closed', 'open'\), got 'semi'",
        ),
        (
            lambda r: r["benchmark"].update(higher_is_better=1),
            "'benchmark.higher_is_better' should be bool, got int",
        ),
        (
            lambda r: r.update(energy="n/a"),
            "'energy' should be dict, got str",
        ),
        (
            lambda r: r["benchmark"].update(division_changes="lr"),
            "'benchmark.division_changes' should be list, got str",
        ),
    ],
)
def test_invalid_records_are_refused_on_write(tmp_path, mutate, message):
    record = copy.deepcopy(minimal_record())
    mutate(record)
    with pytest.raises(RecordError, match=message):
        write_record(tmp_path / "record.json", record)
    assert not (tmp_path / "record.json").exists()


def test_division_fields_are_optional_and_kept(tmp_path):
    """Records written before benchmark.division stay readable; new ones keep the fields."""
    record = minimal_record()
    assert "division" not in record["benchmark"]
    validate_record(record)
    record["benchmark"] |= {
        "division": "open",
        "division_changes": ["trainer.lr=0.01 (reference 0.002)"],
        "higher_is_better": True,
    }
    written = read_record(write_record(tmp_path / "record.json", record))
    assert written["benchmark"]["division"] == "open"
    assert written["benchmark"]["division_changes"] == ["trainer.lr=0.01 (reference 0.002)"]


def test_invalid_files_are_refused_on_read(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("{not json")
    with pytest.raises(RecordError, match=r"record\.json is not valid JSON"):
        read_record(path)
    record = minimal_record()
    del record["quality"]
    path.write_text(json.dumps(record))
    with pytest.raises(RecordError, match="missing the key 'quality'"):
        read_record(path)
    with pytest.raises(RecordError, match="does not exist"):
        read_record(tmp_path / "absent.json")


def test_validate_rejects_non_objects():
    with pytest.raises(RecordError, match="JSON object"):
        validate_record([])
