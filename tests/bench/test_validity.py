"""Run and result validity (MLPerf "Run Results", "Benchmark Results", "Quality measure")."""

from __future__ import annotations

import json

import pytest

from cern_ai_bench.bench.record import validate_record
from cern_ai_bench.bench.validity import (
    convergence_problems,
    rule_problems,
    run_problems,
    set_problems,
)
from tests.bench.records import reference_records


def test_a_run_that_reaches_its_target_is_valid(make_run):
    record = make_run("a", 12.0)
    validate_record(record)
    assert run_problems(record) == [] and run_problems(record, division="closed") == []


def test_non_converging_and_aborted_runs(make_run):
    missed = make_run("m", reached=False)
    assert convergence_problems(missed) == [
        "quality target accuracy >= 0.6 not reached within the budget (stop reason "
        "'epoch budget', best validation value 0.5)"
    ]
    assert rule_problems(missed) == []  # missing the target breaks no rule: it may be dropped
    aborted = make_run("x", reached=False)
    aborted["status"] = "aborted"
    assert convergence_problems(aborted) == [
        "status is 'aborted': the run ended before reaching its quality target"
    ]
    inconsistent = make_run("i")
    inconsistent["timing"]["time_to_target_s"] = None
    assert convergence_problems(inconsistent) == [
        "benchmark.target_reached is true but timing.time_to_target_s is null"
    ]


def _edit(record, dotted, value):
    *parents, key = dotted.split(".")
    node = record
    for name in parents:
        node = node[name]
    node[key] = value


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("benchmark.quality_target", None, "not a time-to-target run"),
        ("run.resumed_from_samples", 2000, "resumed from a checkpoint, so its clock paused"),
        ("dataset.splits", {"train": 10, "test": 5}, "dataset.splits has no validation split"),
        ("timing.time_to_target_s", -1.0, "is not a positive number of seconds"),
        ("timing.time_to_target_s", 0.5, "shorter than the on-clock setup timing.setup_s=1.0"),
        ("timing.time_to_target_s", 20.0, "is after the end of training"),
        ("timing.samples_to_target", 9000, "exceeds the samples trained, run.samples_seen=5000"),
        ("timing.samples_to_target", 4000, "first validation evaluation that meets the target"),
        ("benchmark.quality_target", 0.99, "no evaluation in quality.val_history has accuracy >="),
    ],
)
def test_rule_problems_name_the_key(make_run, key, value, reason):
    record = make_run("a", 10.0)
    _edit(record, key, value)
    problems = rule_problems(record)
    assert problems and reason in problems[0], problems


def test_direction_unknown_checks_only_that_the_evaluation_exists(make_run):
    record = make_run("a")
    del record["benchmark"]["higher_is_better"]  # records written before the field
    assert rule_problems(record) == []
    record["timing"]["samples_to_target"] = 4500
    assert rule_problems(record) == [
        "no evaluation at timing.samples_to_target=4500 in quality.val_history: the target "
        "must be detected by a validation evaluation"
    ]


def test_closed_division_is_required_only_when_asked(make_run):
    record = make_run("a")
    record["config"]["trainer"]["lr"] = 0.01
    assert run_problems(record) == []  # no division field: decided from the config
    (problem,) = run_problems(record, division="closed")
    assert problem.startswith("benchmark.division is 'open' (trainer.lr=0.01 (reference 0.002))")
    record["benchmark"] |= {"division": "closed", "division_changes": []}
    assert run_problems(record, division="closed") == []  # the stated division wins


def test_set_problems(make_run):
    runs = [make_run(f"r{i}", 10.0 + i) for i in range(10)]
    assert set_problems(runs) == []
    assert set_problems([]) == ["no runs"]
    assert set_problems(runs[:4]) == ["4 runs; a result needs at least 10"]
    assert set_problems(runs[:4], min_runs=4) == []
    copy_of_one = [*runs[:9], runs[0]]
    assert set_problems(copy_of_one) == ["run_id r0 appears more than once (a copy is no repeat)"]
    mixed = [*runs[:9], make_run("gpu")]
    mixed[-1]["system"]["gpus"] = [{"name": "NVIDIA H100 80GB HBM3"}]
    assert set_problems(mixed) == ["runs mix system.gpus: [('NVIDIA H100 80GB HBM3',), ()]"]
    misses = [*runs[:8], make_run("m1", reached=False), make_run("m2", reached=False)]
    assert set_problems(misses) == [
        "2 runs did not reach the target; at most 1 may (dropped as the slowest)"
    ]
    assert set_problems(misses, max_non_converged=2) == []
    runs[3]["run"]["resumed_from_samples"] = 1000
    (problem,) = set_problems(runs)
    assert problem.startswith("run r3: run.resumed_from_samples=1000")


@pytest.mark.parametrize("path", reference_records(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_records_follow_the_run_rules(path):
    record = json.loads(path.read_text())
    validate_record(record)
    assert convergence_problems(record) == []
    if record["benchmark"]["quality_target"] is None:
        assert rule_problems(record) == [
            "benchmark.quality_target is null: not a time-to-target run"
        ]
    else:  # the quick suite's trigger MLP seeds: closed-division time-to-target runs
        assert rule_problems(record) == [] and record["benchmark"]["division"] == "closed"
