"""Olympic mean, run summaries and time-to-target aggregation (MLPerf "Benchmark Results")."""

from __future__ import annotations

import json
import math

import pytest

from cern_ai_bench.bench.aggregate import aggregate_time_to_target, olympic_mean, summarise_runs
from tests.bench.records import reference_records


@pytest.mark.parametrize(
    ("values", "dropped", "expected"),
    [
        ([4.0, 100.0, 1.0, 3.0, 2.0], 0, 3.0),  # drops 1 and 100, in any order
        ([1.0, 1.0, 2.0, 2.0], 0, 1.5),  # ties: exactly one copy dropped at each end
        ([5.0, 7.0, 6.0], 0, 6.0),
        ([5.0, 7.0], 0, 6.0),  # fewer than 3 runs: plain mean
        ([5.0], 0, 5.0),
        ([1.0, 2.0, 3.0], 1, 2.5),  # a non-converged run is the slowest: only 1.0 dropped
        ([4.0, 2.0], 1, 4.0),  # 3 runs in all: the fastest goes
        ([4.0], 1, math.inf),  # 2 runs in all: nothing dropped, the missed run stays in
    ],
)
def test_olympic_mean(values, dropped, expected):
    result = olympic_mean(values, dropped_slowest=dropped)
    assert result == (expected if math.isinf(expected) else pytest.approx(expected, rel=1e-15))


@pytest.mark.parametrize(
    ("values", "dropped", "message"),
    [
        ([], 0, "needs at least one value"),
        ([1.0, math.nan], 0, "value nan at index 1 is not finite"),
        ([math.inf, 1.0, 2.0], 0, "index 0 is not finite.*dropped_slowest=1"),
        ([1.0, 2.0, 3.0], 2, "dropped_slowest must be 0 or 1, got 2"),
    ],
)
def test_olympic_mean_refuses_bad_input(values, dropped, message):
    with pytest.raises(ValueError, match=message):
        olympic_mean(values, dropped_slowest=dropped)


def test_summarise_runs_gives_the_olympic_mean_and_the_16_84_band():
    summary = summarise_runs([float(v) for v in range(10, 0, -1)])
    # linear interpolation: rank 0.16 * 9 = 1.44 -> 2.44, rank 0.84 * 9 = 7.56 -> 8.56
    assert summary == pytest.approx(
        {"olympic_mean": 5.5, "median": 5.5, "p16": 2.44, "p84": 8.56, "min": 1.0, "max": 10.0}
        | {"n": 10}
    )
    assert summarise_runs([3.0]) == {
        "olympic_mean": 3.0,
        "median": 3.0,
        "p16": 3.0,
        "p84": 3.0,
        "min": 3.0,
        "max": 3.0,
        "n": 1,
    }
    with pytest.raises(ValueError, match="at least one value"):
        summarise_runs([])


def test_ten_converged_runs_make_a_valid_closed_result(make_run):
    runs = [make_run(f"r{i}", 10.0 + i) for i in range(10)]
    result = aggregate_time_to_target(runs)
    assert result.valid and result.problems == () and result.invalid == {}
    assert result.olympic_mean_s == pytest.approx(14.5)  # mean of 11 ... 18
    assert result.times_s == tuple(10.0 + i for i in range(10))
    assert result.dropped_slowest == 0 and result.division == "closed" and result.n_runs == 10
    assert result.spread is not None and result.spread["median"] == pytest.approx(14.5)
    assert result.benchmark["benchmark.quality_target"] == 0.6


def test_one_non_converged_run_is_reported_and_dropped_as_the_slowest(make_run):
    runs = [make_run(f"r{i}", 10.0 + i) for i in range(9)] + [make_run("miss", reached=False)]
    result = aggregate_time_to_target(runs)
    assert result.valid
    assert list(result.invalid) == ["miss"]
    assert "not reached within the budget" in result.invalid["miss"][0]
    assert "best validation value 0.5" in result.invalid["miss"][0]
    assert result.dropped_slowest == 1 and "miss" not in result.run_ids
    assert result.olympic_mean_s == pytest.approx(sum(range(11, 19)) / 8)  # only 10.0 dropped


def test_two_non_converged_runs_invalidate_the_result(make_run):
    runs = [make_run(f"r{i}", 10.0 + i) for i in range(8)]
    runs += [make_run("miss1", reached=False), make_run("miss2", reached=False)]
    result = aggregate_time_to_target(runs)
    assert not result.valid and set(result.invalid) == {"miss1", "miss2"}
    assert result.olympic_mean_s is None and result.spread is None
    assert any("2 runs did not reach the target; at most 1" in p for p in result.problems)


def test_a_missed_run_of_two_cannot_be_dropped(make_run):
    result = aggregate_time_to_target([make_run("r0", 10.0), make_run("miss", reached=False)])
    assert result.dropped_slowest == 1 and result.times_s == (10.0,)
    assert result.olympic_mean_s is None and result.spread is None and not result.valid


def test_a_run_breaking_a_rule_is_not_averaged_and_invalidates_the_set(make_run):
    runs = [make_run(f"r{i}", 10.0 + i) for i in range(10)]
    runs[0]["run"]["resumed_from_samples"] = 3000
    result = aggregate_time_to_target(runs)
    assert "r0" in result.invalid and "resumed" in result.invalid["r0"][0]
    assert result.dropped_slowest == 0  # a rule breaker is not a non-converging run
    assert result.olympic_mean_s == pytest.approx(sum(range(12, 19)) / 7)
    assert not result.valid and result.problems[0].startswith("run r0: run.resumed_from_samples")


def test_too_few_runs_and_the_division_filter(make_run):
    runs = [make_run(f"r{i}", 10.0 + i) for i in range(3)]
    assert aggregate_time_to_target(runs).problems == ("3 runs; a result needs at least 10",)
    assert aggregate_time_to_target(runs, min_runs=3).valid
    runs[1]["benchmark"]["division"] = "open"
    runs[1]["benchmark"]["division_changes"] = ["trainer.lr=0.01 (reference 0.002)"]
    either = aggregate_time_to_target(runs, min_runs=3)
    assert either.valid and either.division == "open"
    closed = aggregate_time_to_target(runs, min_runs=3, division="closed")
    assert not closed.valid and closed.run_ids == ("r0", "r2")
    assert "trainer.lr=0.01" in closed.invalid["r1"][0] and closed.division == "closed"


def test_records_of_different_benchmarks_are_refused(make_run):
    with pytest.raises(ValueError, match="at least one record"):
        aggregate_time_to_target([])
    other = make_run("b", target=0.7)
    with pytest.raises(ValueError, match=r"benchmark\.quality_target is 0\.6 in run a but 0\.7"):
        aggregate_time_to_target([make_run("a"), other])
    gpu = make_run("c")
    gpu["system"]["gpus"] = [{"name": "NVIDIA H100 80GB HBM3"}]
    with pytest.raises(ValueError, match=r"system\.gpus"):
        aggregate_time_to_target([make_run("a"), gpu])


def test_committed_records_without_a_target_give_no_time():
    path = next(p for p in reference_records() if p.name == "trigger_pfn_embedded20k.json")
    record = json.loads(path.read_text())
    result = aggregate_time_to_target([record], min_runs=1)
    assert result.olympic_mean_s is None and result.times_s == ()
    assert result.invalid == {
        record["run_id"]: ("benchmark.quality_target is null: not a time-to-target run",)
    }
    assert not result.valid


def test_committed_quick_suite_seeds_give_an_olympic_mean_time_to_target():
    paths = [p for p in reference_records() if p.name.startswith("quick_trigger_mlp_seed")]
    records = [json.loads(p.read_text()) for p in paths]
    result = aggregate_time_to_target(records, min_runs=5)
    times = sorted(r["timing"]["time_to_target_s"] for r in records)
    assert len(records) == 5 and result.valid and result.division == "closed"
    assert result.olympic_mean_s == pytest.approx(sum(times[1:4]) / 3)
    assert result.spread["min"] == times[0] and result.spread["max"] == times[-1]
