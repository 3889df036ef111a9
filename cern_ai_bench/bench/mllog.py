"""MLPerf-compatible event log (MLLOG lines) of one run, derived from its finished record.

Each line is ``:::MLLOG `` followed by a JSON object with the keys ``namespace``, ``time_ms``,
``event_type`` (``POINT_IN_TIME``, ``INTERVAL_START``, ``INTERVAL_END``), ``key``, ``value`` and
``metadata`` (``file``, ``lineno`` and the event's own fields), in that order, as
``mlcommons/logging``'s ``mlperf_logging/mllog/mllog.py`` writes them; keys are those of its
``constants.py``. The file is ``mllog.txt`` beside ``record.json`` in the run folder.

The events are reconstructed from the record, not logged while the run went, so the engine
needs no change. Times come from the record's timing: the end of training is placed at the
record's ``timestamp``, the run start (the clock's start, at the first touch of the data) at
``timestamp - setup_s - train_time_s``, each evaluation at ``run start + val_history[i].time_s``,
the run stop at ``run start + time_to_target_s`` when the target was reached (else at the end
of training), and the untimed data preparation (``init``) just before the run start. The
record does not time the test evaluation and inference timings that follow training, so the
absolute times are early by that much; intervals between events are the record's own. The
``file`` and ``lineno`` metadata name the line of this module that emitted the event, as
``mllog`` names its caller.

Evaluations are ``eval_accuracy`` events whatever the metric (the value is the record's target
metric, ``benchmark.metric``). When every evaluation ends one more epoch, training between them
is logged as ``epoch_start``/``epoch_stop``; otherwise (evaluations every N samples, or a budget
that stops mid-epoch) as ``block_start``/``block_stop``. Not logged, because the engine does not
do or time them: ``cache_clear``, ``eval_start``/``eval_stop``, ``submission_org`` and
``submission_status``.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cern_ai_bench.bench.division import record_division
from cern_ai_bench.bench.record import to_json_safe
from cern_ai_bench.data.files import atomic_write_text

MLLOG_NAME = "mllog.txt"
PREFIX = ":::MLLOG "
EVENT_KEYS = ("namespace", "time_ms", "event_type", "key", "value", "metadata")
POINT_IN_TIME, INTERVAL_START, INTERVAL_END = "POINT_IN_TIME", "INTERVAL_START", "INTERVAL_END"
_FILE = "/".join(Path(__file__).parts[-3:])  # cern_ai_bench/bench/mllog.py


class _Events:
    """Collects events at times in seconds relative to the run start."""

    def __init__(self, run_start_epoch_s: float) -> None:
        self.origin = run_start_epoch_s
        self.items: list[tuple[float, dict[str, Any]]] = []

    def add(self, event_type: str, key: str, t: float, value: Any = None, **metadata: Any) -> None:
        lineno = sys._getframe(1).f_lineno  # the emitting line, as mllog's get_caller
        event = {
            "namespace": "",
            "time_ms": round((self.origin + t) * 1000),
            "event_type": event_type,
            "key": key,
            "value": value,
            "metadata": {"file": _FILE, "lineno": lineno, **metadata},
        }
        self.items.append((t, event))

    def ordered(self) -> list[dict[str, Any]]:
        """By time; events at the same time keep the order they were added in."""
        return [event for _, event in sorted(self.items, key=lambda item: item[0])]


def mllog_events(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The run's MLLOG events, in time order (each a dict with :data:`EVENT_KEYS`).

    Raises:
        ValueError: the record lacks ``timing.train_time_s`` or has an unreadable
            ``timestamp`` (the message names the key).
    """
    record = to_json_safe(record)
    bench, timing, config = record["benchmark"], record["timing"], record.get("config") or {}
    setup = float(timing.get("setup_s") or 0.0)
    if timing.get("train_time_s") is None:
        raise ValueError("record has no timing.train_time_s: the events cannot be placed in time")
    train_end = setup + float(timing["train_time_s"])
    events = _Events(_epoch_seconds(record["timestamp"]) - train_end)

    init = -float(timing.get("data_prepare_s") or 0.0)
    events.add(INTERVAL_START, "init_start", init)
    events.add(POINT_IN_TIME, "submission_benchmark", init, bench["name"])
    events.add(POINT_IN_TIME, "submission_division", init, record_division(record).name)
    events.add(POINT_IN_TIME, "submission_platform", init, _platform(record["system"]))
    trainer, splits = config.get("trainer") or {}, record["dataset"]["splits"]
    settings = {
        "seed": record["seeds"]["trainer"],
        "global_batch_size": record["run"].get("global_batch", trainer.get("batch_size")),
        "opt_name": record["run"].get("optimizer"),
        "opt_base_learning_rate": trainer.get("lr"),
        "opt_weight_decay": trainer.get("weight_decay"),
        "opt_learning_rate_warmup_steps": trainer.get("warmup_steps"),
        "train_samples": splits.get("train"),
        "eval_samples": splits.get("val"),
    }
    for key, value in settings.items():
        if value is not None:  # a record without the setting logs no event for it
            events.add(POINT_IN_TIME, key, init, value)
    events.add(INTERVAL_END, "init_stop", 0.0)
    events.add(INTERVAL_START, "run_start", 0.0)

    history = record["quality"].get("val_history") or []
    per_epoch = [e.get("epoch") for e in history] == list(range(1, len(history) + 1))
    start, epoch, samples = setup, 0, 0
    for entry in history:
        t = float(entry["time_s"])
        if per_epoch:
            events.add(INTERVAL_START, "epoch_start", start, epoch_num=entry["epoch"])
            events.add(INTERVAL_END, "epoch_stop", t, epoch_num=entry["epoch"])
        else:
            events.add(
                INTERVAL_START,
                "block_start",
                start,
                first_epoch_num=epoch + 1,
                samples_count=samples,
            )
            events.add(
                INTERVAL_END,
                "block_stop",
                t,
                first_epoch_num=epoch + 1,
                samples_count=entry["samples"],
            )
        events.add(
            POINT_IN_TIME,
            "eval_accuracy",
            t,
            entry.get(bench["metric"]),
            epoch_num=entry["epoch"],
            samples_count=entry["samples"],
        )
        start, epoch, samples = t, entry["epoch"], entry["samples"]

    reached = bench.get("target_reached") and timing.get("time_to_target_s") is not None
    stop = float(timing["time_to_target_s"]) if reached else train_end
    status = "success" if record["status"] == "success" else "aborted"
    events.add(INTERVAL_END, "run_stop", stop, status=status)
    return events.ordered()


def format_line(event: Mapping[str, Any]) -> str:
    """One ``:::MLLOG {...}`` line, keys in mllog's order."""
    ordered = {key: event[key] for key in EVENT_KEYS}
    return PREFIX + json.dumps(ordered, allow_nan=False)


def write_mllog(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Write the record's MLLOG lines to ``path`` atomically; return the path."""
    path = Path(path)
    text = "".join(format_line(event) + "\n" for event in mllog_events(record))
    atomic_write_text(path, text)
    return path


def parse_mllog(text: str) -> list[dict[str, Any]]:
    """The events of an MLLOG text (lines without the prefix are skipped, as log noise).

    Raises:
        ValueError: a prefixed line is not a JSON object with :data:`EVENT_KEYS` (the message
            gives the line number).
    """
    events = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith(PREFIX):
            continue
        try:
            event = json.loads(line[len(PREFIX) :])
        except json.JSONDecodeError as error:
            raise ValueError(f"MLLOG line {number} is not valid JSON: {error}") from None
        if not isinstance(event, dict) or set(event) != set(EVENT_KEYS):
            raise ValueError(f"MLLOG line {number} should have exactly the keys {EVENT_KEYS}")
        events.append(event)
    return events


def _epoch_seconds(timestamp: str) -> float:
    """Seconds since the Unix epoch of an ISO 8601 timestamp (UTC when it has no zone)."""
    try:
        moment = dt.datetime.fromisoformat(timestamp)
    except ValueError:
        raise ValueError(f"record timestamp {timestamp!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def _platform(system: Mapping[str, Any]) -> str:
    """``1xNVIDIA H100 80GB HBM3`` or the CPU model: what ran the benchmark."""
    gpus = [str(g.get("name", "unknown GPU")) for g in system.get("gpus") or []]
    if gpus:
        return " + ".join(f"{gpus.count(n)}x{n}" for n in sorted(set(gpus)))
    return str(system["cpu_model"])
