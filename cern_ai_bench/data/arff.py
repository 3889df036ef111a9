"""A small reader of dense ARFF files (the format OpenML serves datasets in).

ARFF (Attribute-Relation File Format of Weka,
https://waikato.github.io/weka-wiki/formats_and_processing/arff/) is a header of
``@relation`` / ``@attribute <name> <type>`` lines followed by ``@data`` and comma-separated
rows; ``%`` starts a comment and ``?`` marks a missing value. The header is parsed here and the
rows are handed to pandas' C CSV parser (fast enough for the 830k-row OpenML jet table). Only
what that table needs is supported: dense rows, ``numeric`` / ``real`` / ``integer`` and nominal
(``{a, b, c}``) attributes.
"""

from __future__ import annotations

import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np
import pandas as pd

from cern_ai_bench.data.errors import FormatError

_ATTRIBUTE = re.compile(
    r"""@attribute\s+('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)\s+(.+)$""", re.IGNORECASE
)
_NUMERIC_TYPES = ("numeric", "real", "integer")


@dataclass(frozen=True)
class ArffAttribute:
    """One column: its name, and its nominal values (None for a numeric column)."""

    name: str
    nominal: tuple[str, ...] | None


def read_arff(path: Path) -> tuple[pd.DataFrame, tuple[ArffAttribute, ...]]:
    """Read a dense ARFF file.

    Returns:
        The rows as a DataFrame (numeric columns float64, NaN where ``?``; nominal columns
        ``str``) and the attributes in file order.

    Raises:
        FormatError: not ARFF, an unsupported attribute type, sparse rows, a row that does not
            parse, or a nominal value outside its declared set. The message names the file.
    """
    header_lines = 0
    try:
        with path.open(encoding="utf-8") as handle:
            attributes, header_lines = _read_header(path, handle)
            frame = _read_rows(path, handle, attributes)
    except UnicodeDecodeError as error:
        raise FormatError(f"{path}: not a text ARFF file ({error})") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning, ValueError) as error:
        raise FormatError(
            f"{path}: a data row does not parse ({str(error).splitlines()[0]}; rows start after "
            f"line {header_lines}); the file is damaged: delete it and download it again"
        ) from None
    for attribute in attributes:
        if attribute.nominal is None:
            continue
        values = frame[attribute.name].str.strip().str.strip("'\"")
        frame[attribute.name] = values
        bad = ~values.isin(attribute.nominal) & values.notna()
        if bad.any():
            row = int(np.argmax(bad.to_numpy()))
            raise FormatError(
                f"{path}: data row {row}: {attribute.name}={values.iloc[row]!r} is not one of "
                f"the declared values {list(attribute.nominal)}"
            )
    return frame, attributes


def _read_rows(path: Path, handle: TextIO, attributes: tuple[ArffAttribute, ...]) -> pd.DataFrame:
    start = handle.tell()
    line = handle.readline()
    while line and (not line.strip() or line.lstrip().startswith("%")):
        line = handle.readline()
    if line.lstrip().startswith("{"):
        raise FormatError(f"{path}: sparse ARFF rows are not supported")
    dtypes = {a.name: (str if a.nominal is not None else np.float64) for a in attributes}
    if not line:  # no rows
        return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in dtypes.items()})
    fields = next(csv.reader([line.split("%", 1)[0]], quotechar="'", skipinitialspace=True))
    if len(fields) != len(attributes):
        raise FormatError(
            f"{path}: the first data row has {len(fields)} fields, but the header declares "
            f"{len(attributes)} attributes {[a.name for a in attributes]}"
        )
    handle.seek(start)
    with warnings.catch_warnings():
        # A later row with too many fields: pandas warns and drops data; make it an error.
        warnings.simplefilter("error", pd.errors.ParserWarning)
        return pd.read_csv(
            handle,
            header=None,
            names=list(dtypes),
            index_col=False,
            comment="%",
            quotechar="'",
            skipinitialspace=True,
            skip_blank_lines=True,
            na_values=["?"],
            keep_default_na=False,
            dtype=dtypes,
            engine="c",
        )


def _read_header(path: Path, handle: TextIO) -> tuple[tuple[ArffAttribute, ...], int]:
    attributes: list[ArffAttribute] = []
    for number, raw in enumerate(iter(handle.readline, ""), start=1):
        line = raw.strip()
        if not line or line.startswith("%"):
            continue
        keyword = line.split(None, 1)[0].lower()
        if keyword == "@relation":
            continue
        if keyword == "@data":
            if not attributes:
                raise FormatError(f"{path}: ARFF header declares no @attribute")
            return tuple(attributes), number
        if keyword != "@attribute":
            raise FormatError(
                f"{path}: line {number}: expected @relation, @attribute or @data, found "
                f"{line[:60]!r} (is this an ARFF file?)"
            )
        match = _ATTRIBUTE.match(line)
        if match is None:
            raise FormatError(f"{path}: line {number}: malformed @attribute line {line[:80]!r}")
        name, kind = _unquote(match.group(1)), match.group(2).strip()
        if kind.startswith("{"):
            values = tuple(_unquote(v.strip()) for v in kind.strip("{}").split(","))
            attributes.append(ArffAttribute(name, values))
        elif kind.lower() in _NUMERIC_TYPES:
            attributes.append(ArffAttribute(name, None))
        else:
            raise FormatError(
                f"{path}: line {number}: attribute {name!r} has unsupported type {kind!r} "
                "(only numeric and nominal attributes are read)"
            )
    raise FormatError(f"{path}: no @data line: not an ARFF file, or truncated in its header")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
