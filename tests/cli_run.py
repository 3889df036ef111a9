"""Run ``python -m cern_ai_bench.cli`` in a subprocess, as a user would, for the CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(args: list[str], data_dir: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """The command's result (exit code, stdout, stderr), data cached in ``data_dir``."""
    env = {**os.environ, "CERN_AI_BENCH_DATA": str(data_dir), "HYDRA_FULL_ERROR": "0"}
    return subprocess.run(
        [sys.executable, "-m", "cern_ai_bench.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
