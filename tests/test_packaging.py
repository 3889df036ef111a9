"""The package installs with its configs: a non-editable copy runs from any directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "cern_ai_bench").rglob("__init__.py")
    }
    groups = {  # config groups, nested ones (hydra/launcher) included
        ".".join(("cern_ai_bench.configs", *p.relative_to(ROOT / "configs").parts))
        for p in (ROOT / "configs").rglob("*")
        if p.is_dir() and "__pycache__" not in p.parts
    }
    assert found | {"cern_ai_bench.configs"} | groups == listed


@pytest.mark.slow
def test_non_editable_install_finds_its_configs_from_another_directory(tmp_path):
    target = tmp_path / "site"
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    assert (target / "cern_ai_bench" / "configs" / "main.yaml").exists()
    assert (target / "cern_ai_bench" / "configs" / "model" / "pfn.yaml").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target)}
    done = subprocess.run(
        [sys.executable, "-c", "import cern_ai_bench.configs as c; print(c.__file__)"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip().startswith(str(target))
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "cern_ai_bench.cli",
            "--cfg",
            "job",
            "model=pfn",
            "hydra.run.dir=out",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert "name: pfn" in shown.stdout and "loader: resident" in shown.stdout
