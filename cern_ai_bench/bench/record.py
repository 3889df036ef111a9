"""The result record: one versioned JSON file per run, validated on write and on read.

Reports are built only from records, so a record must be self-describing: the resolved config,
the code version, the machine, the dataset files with checksums, the quality metrics, the
timings, the memory peaks and the seeds. Non-finite numbers are stored as ``null``
(JSON has no infinity; e.g. a background rejection with no background event passing).
"""

from __future__ import annotations

import json
import math
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cern_ai_bench.data.files import atomic_write_text

SCHEMA_VERSION = 1
RECORD_NAME = "record.json"

_NUMBER = (int, float)
_OPTIONAL_NUMBER = (int, float, type(None))
_OPTIONAL_STR = (str, type(None))

#: Required keys (dotted paths) and their JSON types. ``null`` is allowed only where listed.
REQUIRED_KEYS: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "run_id": str,
    "timestamp": str,
    "status": str,
    "benchmark": dict,
    "benchmark.name": str,
    "benchmark.task": str,
    "benchmark.model": str,
    "benchmark.dataset": str,
    "benchmark.metric": str,
    "config": dict,
    "code": dict,
    "code.version": str,
    "code.git_sha": _OPTIONAL_STR,
    "system": dict,
    "system.cpu_model": str,
    "system.cpu_logical_cores": int,
    "system.memory_bytes": int,
    "system.gpu_count": int,
    "system.gpus": list,
    "system.gpu_driver": _OPTIONAL_STR,
    "system.cuda": _OPTIONAL_STR,
    "system.torch": str,
    "dataset": dict,
    "dataset.name": str,
    "dataset.files": list,
    "dataset.splits": dict,
    "quality": dict,
    "quality.test": dict,
    "timing": dict,
    "timing.time_to_target_s": _OPTIONAL_NUMBER,
    "timing.compile_s": _OPTIONAL_NUMBER,
    "timing.train_throughput_samples_per_s": _OPTIONAL_NUMBER,
    "timing.inference": dict,
    "timing.inference.latency_batch_1": dict,
    "timing.inference.latency_batch_1.p50_ms": _NUMBER,
    "timing.inference.latency_batch_1.p99_ms": _NUMBER,
    "timing.inference.throughput_batch": int,
    "timing.inference.throughput_samples_per_s": _NUMBER,
    "memory": dict,
    "memory.peak_host_rss_bytes": int,
    "memory.peak_device_bytes": (int, type(None)),
    "seeds": dict,
    "seeds.trainer": int,
    "run": dict,
    "run.world_size": int,
    "run.device": str,
}
#: Keys checked only when present, so records written before they existed stay readable.
OPTIONAL_KEYS: dict[str, type | tuple[type, ...]] = {
    "benchmark.division": str,  # one of DIVISIONS (cern_ai_bench.bench.division decides)
    "benchmark.division_changes": list,
    "benchmark.higher_is_better": bool,
    "energy": dict,  # engine.energy: NVML energy per sample, or why it was not measured
}
STATUSES = ("success", "not_converged", "aborted")
#: MLPerf's divisions: the reference model, training method and target, or anything else.
DIVISIONS = ("closed", "open")


class RecordError(ValueError):
    """A record does not match the schema; the message names the key."""


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise :class:`RecordError` naming the first missing or mistyped key."""
    if not isinstance(record, Mapping):
        raise RecordError(f"a record is a JSON object, got {type(record).__name__}")
    for path, kind in REQUIRED_KEYS.items():  # parents come before their children
        parent, _, key = path.rpartition(".")
        container = _lookup(record, parent) if parent else record
        if key not in container:
            raise RecordError(f"record is missing the key '{path}'")
        _check_type(path, container[key], kind)
    for path, kind in OPTIONAL_KEYS.items():  # their parents are required keys
        parent, _, key = path.rpartition(".")
        container = _lookup(record, parent) if parent else record
        if key in container:
            _check_type(path, container[key], kind)
    if record["schema_version"] != SCHEMA_VERSION:
        raise RecordError(
            f"record schema_version {record['schema_version']} is not supported "
            f"(this code reads {SCHEMA_VERSION})"
        )
    if record["status"] not in STATUSES:
        raise RecordError(
            f"record key 'status' must be one of {STATUSES}, got {record['status']!r}"
        )
    division = record["benchmark"].get("division")
    if division is not None and division not in DIVISIONS:
        raise RecordError(
            f"record key 'benchmark.division' must be one of {DIVISIONS}, got {division!r}"
        )
    for index, entry in enumerate(record["dataset"]["files"]):
        if not isinstance(entry, Mapping) or not {"path", "sha256", "size_bytes"} <= set(entry):
            raise RecordError(
                f"record key 'dataset.files[{index}]' needs path, sha256 and size_bytes"
            )


def _check_type(path: str, value: Any, kind: type | tuple[type, ...]) -> None:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise RecordError(
            f"record key '{path}' should be {_type_name(kind)}, got {type(value).__name__}"
        )


def _lookup(record: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    node: Any = record
    for key in path.split("."):
        node = node[key]
    return node


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join("null" if k is type(None) else k.__name__ for k in kinds)


def to_json_safe(value: Any) -> Any:
    """Recursively turn NumPy scalars, tuples and non-finite floats into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_record(path: str | Path, record: Mapping[str, Any]) -> Path:
    """Validate ``record`` and write it atomically as indented JSON; return the path."""
    safe = to_json_safe(record)
    validate_record(safe)
    path = Path(path)
    atomic_write_text(path, json.dumps(safe, indent=2, sort_keys=False, allow_nan=False) + "\n")
    return path


def read_record(path: str | Path) -> dict[str, Any]:
    """Read and validate a record; errors name the file."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordError(f"record file {path} does not exist") from None
    except json.JSONDecodeError as error:
        raise RecordError(f"record file {path} is not valid JSON: {error}") from None
    try:
        validate_record(record)
    except RecordError as error:
        raise RecordError(f"{path}: {error}") from None
    return record


def code_version() -> dict[str, Any]:
    """Package version and, in a git checkout, the commit and whether the tree is dirty."""
    from cern_ai_bench import __version__

    info: dict[str, Any] = {"version": __version__, "git_sha": None, "git_dirty": None}
    source = Path(__file__).resolve().parents[1]  # the package folder
    try:
        sha = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if sha.returncode == 0:
            info["git_sha"] = sha.stdout.strip()
            dirty = subprocess.run(
                ["git", "-C", str(source), "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
            )
            info["git_dirty"] = bool(dirty.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info
