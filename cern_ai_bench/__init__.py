"""cern_ai_bench: CERN AI use cases as PyTorch benchmarks on open physics data."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
