"""Run an embedded generator from ``dataset.*`` settings, with the dataset layer's errors.

Shared by the four embedded datasets (jets, showers, L1 events, LHCO dijets). The generator is
imported only when called: generators need Pythia and FastJet, which reading public data does
not.
"""

from __future__ import annotations

import importlib
from typing import Any

from cern_ai_bench.data.errors import DataError, DatasetConfigError
from cern_ai_bench.generate.parameters import GeneratorParameterError

__all__ = ["run_generator"]


def run_generator(
    target: str, *, what: str, remedy: str, config_keys: dict[str, str], **kwargs: Any
) -> Any:
    """Import ``target`` (``"package.module:function"``) and call it with ``kwargs``.

    Args:
        target: the generator's ``ensure_*`` function.
        what: what it is, for the import error (``"embedded jet generator"``).
        remedy: what to do when it cannot be imported.
        config_keys: generator parameter -> the ``dataset.*`` key that sets it.

    Raises:
        DatasetConfigError: a parameter is invalid; the message names its ``dataset.*`` key
            (``dataset.n_signal_events must be >= 1, got 0``).
        DataError: the generator (or a library it needs) cannot be imported.
    """
    module, _, function = target.partition(":")
    try:
        return getattr(importlib.import_module(module), function)(**kwargs)
    except GeneratorParameterError as error:
        key = config_keys.get(error.parameter, error.parameter)
        raise DatasetConfigError(f"{key} {error.requirement}, got {error.value!r}") from None
    except ImportError as error:
        raise DataError(f"the {what} cannot be imported ({error}); {remedy}") from None
