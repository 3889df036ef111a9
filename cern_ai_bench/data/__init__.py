"""Data layer: dataset registry, verified downloads, one loader per file format.

Every jet loader converts to the canonical schema of :mod:`cern_ai_bench.data.schema`. The entry
point is :func:`load_jet_dataset` (:func:`prepare_jet_dataset` stages the files without reading
them, for untimed preparation); every problem with a dataset raises a :class:`DataError`
whose message names the file and what to do.

The loaders (h5py, pandas, scikit-learn) are imported on first use, so importing the schema
stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cern_ai_bench.data.errors import DataError
    from cern_ai_bench.data.registry import dataset_names, load_jet_dataset, prepare_jet_dataset

__all__ = ["DataError", "dataset_names", "load_jet_dataset", "prepare_jet_dataset"]

_LAZY = {
    "DataError": "cern_ai_bench.data.errors",
    "dataset_names": "cern_ai_bench.data.registry",
    "load_jet_dataset": "cern_ai_bench.data.registry",
    "prepare_jet_dataset": "cern_ai_bench.data.registry",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
