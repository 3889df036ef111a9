"""The generators' parameter error and integer check."""

from __future__ import annotations

import pytest

from cern_ai_bench.generate.parameters import GeneratorParameterError, check_int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (True, "n must be an integer, got True"),
        (2.0, "n must be an integer, got 2.0"),
        ("3", "n must be an integer, got '3'"),
        (1, "n must be >= 2, got 1"),
    ],
)
def test_check_int_names_the_parameter_and_the_value(value: object, message: str) -> None:
    with pytest.raises(GeneratorParameterError) as caught:
        check_int("n", value, 2)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
    assert (caught.value.parameter, caught.value.value) == ("n", value)


def test_check_int_accepts_the_minimum() -> None:
    check_int("n", 2, 2)
