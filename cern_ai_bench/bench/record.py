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

#: Required keys and their types, per section (nested dicts are checked one level deep).
_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "benchmark": {"name": str, "task": str, "model": str, "dataset": str, "metric": str},
    "config": {},
    "code": {"version": str},
    "system": {
        "cpu_model": str,
        "cpu_logical_cores": int,
        "memory_bytes": int,
        "gpu_count": int,
        "torch": str,
    },
    "dataset": {"name": str, "files": list, "splits": dict},
    "quality": {"test": dict},
    "timing": {"train_throughput_samples_per_s": (int, float, type(None)), "inference": dict},
    "memory": {},
    "seeds": {},
    "run": {"world_size": int, "device": str},
}
_TOP_LEVEL: dict[str, type | tuple[type, ...]] = {
    "schema_version": int,
    "run_id": str,
    "timestamp": str,
    "status": str,
}
STATUSES = ("success", "not_converged", "aborted")


class RecordError(ValueError):
    """A record does not match the schema; the message names the key."""


def validate_record(record: Mapping[str, Any]) -> None:
    """Raise :class:`RecordError` naming the first missing or mistyped key."""
    if not isinstance(record, Mapping):
        raise RecordError(f"a record is a JSON object, got {type(record).__name__}")
    for key, kind in {**_TOP_LEVEL, **dict.fromkeys(_REQUIRED, dict)}.items():
        if key not in record:
            raise RecordError(f"record is missing the key '{key}'")
        if not isinstance(record[key], kind) or (isinstance(record[key], bool) and kind is int):
            raise RecordError(
                f"record key '{key}' should be {_type_name(kind)}, got {type(record[key]).__name__}"
            )
    if record["schema_version"] != SCHEMA_VERSION:
        raise RecordError(
            f"record schema_version {record['schema_version']} is not supported "
            f"(this code reads {SCHEMA_VERSION})"
        )
    if record["status"] not in STATUSES:
        raise RecordError(
            f"record key 'status' must be one of {STATUSES}, got {record['status']!r}"
        )
    for section, fields in _REQUIRED.items():
        for key, kind in fields.items():
            if key not in record[section]:
                raise RecordError(f"record is missing the key '{section}.{key}'")
            value = record[section][key]
            if not isinstance(value, kind):
                raise RecordError(
                    f"record key '{section}.{key}' should be {_type_name(kind)}, "
                    f"got {type(value).__name__}"
                )
    for index, entry in enumerate(record["dataset"]["files"]):
        if not isinstance(entry, Mapping) or not {"path", "sha256", "size_bytes"} <= set(entry):
            raise RecordError(
                f"record key 'dataset.files[{index}]' needs path, sha256 and size_bytes"
            )


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
