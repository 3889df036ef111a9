"""Fixtures of the methodology tests (records built by hand, see :mod:`records`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.bench.records import build_run, load_template


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template()


@pytest.fixture
def make_run(template) -> Callable[..., dict[str, Any]]:
    """``make_run(run_id, time_to_target_s=10.0, *, target=0.6, reached=True)``: see
    :func:`tests.bench.records.build_run`."""

    def make(run_id: str, time_to_target_s: float = 10.0, **options: Any) -> dict[str, Any]:
        return build_run(template, run_id, time_to_target_s, **options)

    return make
