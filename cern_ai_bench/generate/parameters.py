"""The parameter error of the embedded generators, its integer check and the cache key.

Kept apart from the generators so that the shower generator does not import the jet generator
(and with it Pythia and FastJet) to share the error class.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


class GeneratorParameterError(ValueError):
    """An invalid generator parameter: ``"<parameter> <requirement>, got <value>"``.

    Raised by :func:`cern_ai_bench.generate.jets.ensure_embedded_jets` and
    :func:`cern_ai_bench.generate.showers.ensure_embedded_showers`. Callers that expose the
    parameter under another name (the config key ``dataset.jets_per_class``, say) rebuild the
    message from the attributes.

    Attributes:
        parameter: the generator's keyword argument, e.g. ``jets_per_class`` or ``n_showers``.
        requirement: what it must be, e.g. ``must be >= 5``.
        value: the value given.
    """

    def __init__(self, parameter: str, requirement: str, value: object) -> None:
        super().__init__(f"{parameter} {requirement}, got {value!r}")
        self.parameter = parameter
        self.requirement = requirement
        self.value = value


def check_int(name: str, value: object, minimum: int) -> None:
    """Require an integer (not a bool) ``>= minimum``.

    Raises:
        GeneratorParameterError: ``"<name> must be an integer, got ..."`` or
            ``"<name> must be >= <minimum>, got ..."``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise GeneratorParameterError(name, "must be an integer", value)
    if value < minimum:
        raise GeneratorParameterError(name, f"must be >= {minimum}", value)


def sample_key(parameters: dict[str, Any]) -> str:
    """Short hash (12 hex digits) of a generator's JSON-shaped parameters: its cache folder name."""
    canonical = json.dumps(parameters, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]
