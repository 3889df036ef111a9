"""MLLOG lines derived from a record, and the run folder's mllog.txt beside record.json."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cern_ai_bench.bench.mllog import (
    EVENT_KEYS,
    MLLOG_NAME,
    PREFIX,
    format_line,
    mllog_events,
    parse_mllog,
)
from cern_ai_bench.bench.record import RECORD_NAME, read_record
from cern_ai_bench.bench.run import write_run_files
from tests.bench.records import reference_records

EVENT_TYPES = {"POINT_IN_TIME", "INTERVAL_START", "INTERVAL_END"}


def _lines(record) -> list[str]:
    return [format_line(event) for event in mllog_events(record)]


def _one(events, key):
    (event,) = [e for e in events if e["key"] == key]
    return event


def _check_log(lines: list[str], record) -> list[dict]:
    """Format, order and the values that must equal the record's."""
    events = []
    for line in lines:
        assert line.startswith(PREFIX)
        event = json.loads(line[len(PREFIX) :])
        assert list(event) == list(EVENT_KEYS)  # mllog's key order
        assert event["namespace"] == "" and event["event_type"] in EVENT_TYPES
        assert isinstance(event["time_ms"], int) and isinstance(event["key"], str)
        assert event["metadata"]["file"] == "cern_ai_bench/bench/mllog.py"
        assert isinstance(event["metadata"]["lineno"], int) and event["metadata"]["lineno"] > 0
        events.append(event)
    times = [e["time_ms"] for e in events]
    assert times == sorted(times)
    counts = Counter(e["key"] for e in events)
    for key in ("init_start", "init_stop", "run_start", "run_stop", "submission_benchmark"):
        assert counts[key] == 1, key
    assert _one(events, "init_stop")["time_ms"] <= _one(events, "run_start")["time_ms"]
    assert _one(events, "run_start")["time_ms"] < _one(events, "run_stop")["time_ms"]
    assert _one(events, "submission_benchmark")["value"] == record["benchmark"]["name"]
    assert _one(events, "seed")["value"] == record["seeds"]["trainer"]
    metric = record["benchmark"]["metric"]
    evals = [e for e in events if e["key"] == "eval_accuracy"]
    assert [e["value"] for e in evals] == [h[metric] for h in record["quality"]["val_history"]]
    assert [e["metadata"]["samples_count"] for e in evals] == [
        h["samples"] for h in record["quality"]["val_history"]
    ]
    return events


@pytest.mark.parametrize("path", reference_records(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_committed_record_gives_a_well_formed_log(path):
    record = json.loads(path.read_text())
    events = _check_log(_lines(record), record)
    stop = _one(events, "run_stop")
    assert stop["metadata"]["status"] == "success"  # no target: the run ends on its budget
    timing = record["timing"]
    duration = timing["setup_s"] + timing["train_time_s"]  # no target: stop = end of training
    assert stop["time_ms"] - _one(events, "run_start")["time_ms"] == pytest.approx(
        duration * 1000, abs=1
    )


def test_per_epoch_evaluations_give_epoch_markers_numbered_from_1():
    path = next(p for p in reference_records() if p.name == "trigger_pfn_embedded20k.json")
    events = mllog_events(json.loads(path.read_text()))
    starts = [e["metadata"]["epoch_num"] for e in events if e["key"] == "epoch_start"]
    stops = [e["metadata"]["epoch_num"] for e in events if e["key"] == "epoch_stop"]
    assert starts == stops == list(range(1, 31))
    assert not any(e["key"].startswith("block_") for e in events)


def test_evaluations_every_n_samples_give_block_markers():
    path = next(
        p for p in reference_records() if p.name == "fastsim_cvae_embedded_ds1_photons.json"
    )
    record = json.loads(path.read_text())
    events = mllog_events(record)
    blocks = [e for e in events if e["key"] == "block_stop"]
    assert [b["metadata"]["samples_count"] for b in blocks] == [
        h["samples"] for h in record["quality"]["val_history"]
    ]
    assert (
        blocks[1]["metadata"]["first_epoch_num"] == record["quality"]["val_history"][0]["epoch"] + 1
    )
    assert not any(e["key"].startswith("epoch_") for e in events)


def test_run_stop_is_at_the_time_to_target_or_aborted(make_run):
    reached = make_run("a", 12.5)
    events = _check_log(_lines(reached), reached)
    run_start, stop = _one(events, "run_start"), _one(events, "run_stop")
    assert stop["metadata"]["status"] == "success"
    assert stop["time_ms"] - run_start["time_ms"] == pytest.approx(12500, abs=1)
    assert events[-1] == stop  # stop at target: the last evaluation, then the stop
    init = _one(events, "init_start")
    assert run_start["time_ms"] - init["time_ms"] == pytest.approx(500, abs=1)  # data_prepare_s
    assert _one(events, "submission_division")["value"] == "closed"
    assert _one(events, "opt_base_learning_rate")["value"] == 0.002
    assert _one(events, "global_batch_size")["value"] == 1024
    missed = make_run("m", reached=False)
    events = _check_log(_lines(missed), missed)
    assert _one(events, "run_stop")["metadata"]["status"] == "aborted"


def test_the_end_of_training_is_at_the_record_timestamp(make_run):
    record = make_run("a", 12.5)
    record["timestamp"] = "2026-01-01T00:00:00+00:00"
    stop = _one(mllog_events(record), "run_stop")
    assert stop["time_ms"] == 1767225600000  # 2026-01-01 UTC in ms


def test_write_run_files_writes_the_record_then_its_log(make_run, tmp_path):
    record = make_run("a", 12.5)
    record["quality"]["test"]["rejection"] = float("inf")  # stored as null in both files
    path = write_run_files(tmp_path, record)
    assert path == tmp_path / RECORD_NAME
    assert sorted(p.name for p in tmp_path.iterdir()) == [MLLOG_NAME, RECORD_NAME]  # no .part
    text = (tmp_path / MLLOG_NAME).read_text()
    assert text.endswith("\n")
    written = read_record(path)
    assert parse_mllog(text) == mllog_events(written)
    _check_log(text.splitlines(), written)


def test_parse_mllog_skips_noise_and_names_bad_lines():
    good = format_line(dict.fromkeys(EVENT_KEYS, None) | {"key": "run_start", "metadata": {}})
    assert len(parse_mllog(f"some log line\n{good}\n")) == 1
    with pytest.raises(ValueError, match="MLLOG line 2 is not valid JSON"):
        parse_mllog(f"{good}\n{PREFIX}{{oops\n")
    with pytest.raises(ValueError, match="MLLOG line 1 should have exactly the keys"):
        parse_mllog(PREFIX + '{"key": "run_start"}')


def test_records_without_train_time_or_with_a_bad_timestamp_are_refused(make_run):
    record = make_run("a")
    record["timestamp"] = "yesterday"
    with pytest.raises(ValueError, match="record timestamp 'yesterday' is not an ISO 8601 time"):
        mllog_events(record)
    del record["timing"]["train_time_s"]
    with pytest.raises(ValueError, match=r"no timing\.train_time_s"):
        mllog_events(record)
