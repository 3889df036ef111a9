"""Shared test set-up: one torch thread (2 shared cores), paths to the genuine sample files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)
os.environ.setdefault("OMP_NUM_THREADS", "1")

#: Genuine public sample files live beside the project, never inside it.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """Folder of genuine sample files; the test is skipped when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"genuine sample files not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def jets_data_dir(tmp_path_factory) -> Path:
    """A data cache shared by the whole session: the tiny embedded sample is generated once."""
    return tmp_path_factory.mktemp("data")
