"""Metrics: pure functions on NumPy arrays, one module per use case (classification, ...)."""

from __future__ import annotations
