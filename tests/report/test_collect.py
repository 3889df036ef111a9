"""Finding and reading records, skipping non-records, grouping repeats; the olympic mean."""

from __future__ import annotations

import json
import math

import pytest

from cern_ai_bench.bench.record import RecordError
from cern_ai_bench.bench.report.collect import ReportError, group_runs, load_runs, olympic_mean

# --- olympic mean -----------------------------------------------------------------------


def test_olympic_mean_drops_exactly_one_minimum_and_one_maximum():
    assert olympic_mean([1.0, 2.0, 3.0]) == 2.0
    assert olympic_mean([100.0, 4.0, 6.0, 5.0, -50.0]) == 5.0
    # Order does not matter.
    assert olympic_mean([5.0, 1.0, 9.0, 3.0]) == olympic_mean([9.0, 5.0, 3.0, 1.0]) == 4.0


def test_olympic_mean_falls_back_to_the_plain_mean_below_three_values():
    assert olympic_mean([7.0]) == 7.0
    assert olympic_mean([1.0, 4.0]) == 2.5


def test_olympic_mean_with_ties_drops_only_one_copy():
    assert olympic_mean([1.0, 1.0, 1.0, 5.0]) == 1.0  # one 1 and the 5 dropped
    assert olympic_mean([1.0, 1.0, 4.0, 4.0]) == 2.5  # one 1 and one 4 dropped
    assert olympic_mean([2.0, 2.0, 2.0]) == 2.0


def test_olympic_mean_drops_one_run_that_missed_the_target_but_not_two():
    assert olympic_mean([10.0, 20.0, 30.0, math.inf]) == 25.0
    assert olympic_mean([10.0, math.inf, math.inf]) == math.inf
    assert olympic_mean([10.0, math.inf]) == math.inf


@pytest.mark.parametrize("values", [[], [1.0, math.nan, 2.0], [1.0, -math.inf, 2.0]])
def test_olympic_mean_rejects_empty_and_nan(values):
    with pytest.raises(ValueError, match="olympic_mean"):
        olympic_mean(values)


# --- reading ----------------------------------------------------------------------------


def test_reference_folder_yields_records_and_skips_ablation_tables(reference_dir):
    collection = load_runs([reference_dir])
    record_files = {run.path.name for run in collection.runs}
    assert "trigger_mlp_fp32_embedded5k.json" in record_files
    assert "ablation_mlp.json" not in record_files
    skipped = "\n".join(collection.skipped)
    assert "loader_ablation_mlp.json: not a result record (a JSON list)" in skipped
    assert "ablation_mlp.json" in skipped
    assert all("\n" not in line for line in collection.skipped)  # one line each


def test_a_json_object_that_is_not_a_record_is_skipped(tmp_path, make_record):
    make_record("record.json")
    (tmp_path / "preprocess.json").write_text(json.dumps({"features": ["pt", "eta"]}))
    collection = load_runs([tmp_path])
    assert [run.path.name for run in collection.runs] == ["record.json"]
    assert collection.skipped == [
        f"skipped {tmp_path / 'preprocess.json'}: not a result record "
        "(a JSON object without schema_version, run_id or benchmark)"
    ]


def test_a_malformed_record_is_an_error_naming_the_file_and_the_key(tmp_path, make_record):
    path = make_record("broken.json")
    record = json.loads(path.read_text())
    del record["timing"]["inference"]
    path.write_text(json.dumps(record))
    with pytest.raises(RecordError) as error:
        load_runs([tmp_path])
    assert str(path) in str(error.value)
    assert "timing.inference" in str(error.value)


def test_a_record_with_a_wrong_type_is_an_error(tmp_path, make_record):
    path = make_record("record.json")
    record = json.loads(path.read_text())
    record["timing"]["train_throughput_samples_per_s"] = "fast"
    path.write_text(json.dumps(record))
    with pytest.raises(RecordError, match="train_throughput_samples_per_s' should be"):
        load_runs([path])


def test_invalid_json_is_an_error_naming_the_file(tmp_path):
    path = tmp_path / "record.json"
    path.write_text('{"schema_version": 1, "run_id": ')
    with pytest.raises(RecordError, match=f"{path} is not valid JSON"):
        load_runs([tmp_path])


def test_a_missing_path_is_an_error(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        load_runs([tmp_path / "nowhere"])


def test_a_file_named_twice_or_copied_counts_once(tmp_path, make_record):
    path = make_record("a.json")
    (tmp_path / "copy.json").write_text(path.read_text())
    collection = load_runs([tmp_path, path])
    assert [run.path for run in collection.runs] == [path]
    assert len(collection.skipped) == 1 and "same run_id" in collection.skipped[0]


# --- grouping ---------------------------------------------------------------------------


def test_repeats_group_together_and_other_workloads_do_not(tmp_path, make_record):
    make_record("seed0.json", **{"config.trainer.seed": 0})
    make_record("seed1.json", **{"config.trainer.seed": 1})  # a repeat: only the seed differs
    make_record("bf16.json", **{"run.precision": "bf16"})
    make_record("more_epochs.json", **{"config.trainer.max_epochs": 99})
    groups = group_runs(load_runs([tmp_path]).runs)
    sizes = sorted(len(g.runs) for g in groups)
    assert sizes == [1, 1, 2]
    pair = next(g for g in groups if len(g.runs) == 2)
    assert {r.path.name for r in pair.runs} == {"seed0.json", "seed1.json"}


def test_systems_ignore_the_host_name(tmp_path, make_record):
    make_record("a.json", **{"system.hostname": "node-a"})
    make_record("b.json", **{"system.hostname": "node-b"})
    groups = group_runs(load_runs([tmp_path]).runs)
    assert len(groups) == 1 and len(groups[0].runs) == 2
