"""Report fixtures: the committed reference records, the report built from them once per session,
and a factory of synthetic records (copies of a real one with chosen numbers)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from cern_ai_bench.bench.record import write_record
from cern_ai_bench.bench.report.cli import main

REFERENCE = Path(__file__).resolve().parents[2] / "benchmarks" / "reference"
#: A real record the synthetic ones start from (H100, trigger MLP, fp32).
TEMPLATE = REFERENCE / "h100-x1" / "trigger_mlp_fp32_embedded5k.json"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not TEMPLATE.is_file():
        pytest.skip(f"reference records not found under {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="session")
def reference_report(reference_dir, tmp_path_factory) -> dict[str, Any]:
    """``cern-ai-bench-report benchmarks/reference --out TMP`` run once: folder and output."""
    out = tmp_path_factory.mktemp("report")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        main([str(reference_dir), "--out", str(out)])
    return {"out": out, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}


@pytest.fixture
def make_record(tmp_path):
    """``make_record(name, **changes)`` writes a copy of the template record into ``tmp_path``.

    ``changes`` maps dotted keys (``timing.train_throughput_samples_per_s``) to new values; the
    copy gets a fresh run_id, so it counts as another run.
    """
    template = json.loads(TEMPLATE.read_text())

    def make(name: str, **changes: Any) -> Path:
        record = copy.deepcopy(template)
        record["run_id"] = uuid.uuid4().hex
        for dotted, value in changes.items():
            *parents, key = dotted.split(".")
            node = record
            for parent in parents:
                node = node[parent]
            node[key] = value
        return write_record(tmp_path / name, record)

    return make
