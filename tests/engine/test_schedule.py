from __future__ import annotations

import math

import pytest

from cern_ai_bench.engine.schedule import lr_at


def test_warmup_is_linear_then_cosine_reaches_minimum():
    kw = {"total_steps": 110, "base_lr": 1.0, "warmup_steps": 10, "min_ratio": 0.1}
    assert lr_at(0, **kw) == pytest.approx(0.1)
    assert lr_at(9, **kw) == pytest.approx(1.0)
    assert lr_at(10, **kw) == pytest.approx(1.0)
    # half-way through the decay the cosine term is 0.5
    assert lr_at(60, **kw) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5)))
    assert lr_at(110, **kw) == pytest.approx(0.1)
    assert lr_at(500, **kw) == pytest.approx(0.1)


def test_no_warmup_starts_at_base_rate():
    assert lr_at(0, total_steps=10, base_lr=3e-3, warmup_steps=0, min_ratio=0.0) == 3e-3
