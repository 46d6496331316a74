"""Extra columns across inputs: each name is one column of ``lines``, so its types must stack without change.

An input's own columns pass through to ``lines`` untouched (README, *The manifest*). The inputs of a run (files,
frames, or the batches of a :class:`~screening.screener.Screener`) are stacked into one frame, and polars' relaxed
stacking casts a name's types to one supertype whatever that does to the values: dates beside integers became day
counts, a boolean 1, an integer beside a struct ``{'a': '7'}``, and a list beside an integer failed the run after
every batch was screened. Here each pair of types an extra column has in two inputs is checked first, on the
schemas alone (no row is read), and a pair whose stacked type cannot hold both inputs' values as they are is
refused (:class:`InputSchemaError`, exit 3) naming the column, both types and both inputs.

Two types stack when the type polars stacks them as holds every value of each exactly:

- the same type, or an all-empty column (Arrow's Null type) beside any type;
- integers of any width whose values the wider integer holds (``Int128`` for ``Int64`` beside ``UInt64``; a
  ``UInt128`` beside a signed integer is refused, as ``Int128`` does not hold its values past 2^127), floats of
  any width (``Float64``), integers of up to 8 bits beside ``Float16``, of up to 16 bits beside ``Float32`` and
  of up to 32 bits beside a float (a float holds every such integer exactly; a 64-bit id beside a float would
  lose digits past 2^53, so it is refused);
  decimals beside decimals and integers whose digits the stacked decimal keeps;
- text beside a boolean, a number (integer, float or decimal), a date or a timestamp without a time zone: the
  text column holds the other's values as polars writes them (``42``, ``true``, ``1.25``, ``2025-05-01``,
  ``2025-05-01 03:04:05.123456``: the value written out in full; a CSV file's columns are text, so a Parquet
  file's integer column beside a CSV's is text, as it always was). A time of day (written without its
  sub-second digits), a timestamp with a zone (written with an offset, not its zone), a duration, binary data
  and nested types are not written as such text, so they are refused beside text.

Everything else (a date beside an integer, a boolean beside an integer, a struct or list beside anything but
itself, timestamps of other units or zones) is refused: cast the column to one type in every input, or rename it
in one of them.

A :class:`~screening.screener.Screener`'s saved state keeps the types of the batches screened into it
(:meth:`ExtraColumnTypes.to_json`), so a job resumed from it refuses what the screener that saved it refuses.
"""

from __future__ import annotations

import reprlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl

from screening.errors import InputSchemaError
from screening.io.type_json import type_from_json, type_to_json
from screening.schema import passthrough_columns

#: Bits of each integer type (a float's mantissa holds 11, 24 or 53 of them exactly).
_INTEGER_BITS: Final[Mapping[type[pl.DataType], int]] = {
    pl.Int8: 8,
    pl.UInt8: 8,
    pl.Int16: 16,
    pl.UInt16: 16,
    pl.Int32: 32,
    pl.UInt32: 32,
    pl.Int64: 64,
    pl.UInt64: 64,
    pl.Int128: 128,
    pl.UInt128: 128,
}
#: Decimal digits of each integer type's largest value (a decimal holds it when its integer digits are as many).
_INTEGER_DIGITS: Final[Mapping[type[pl.DataType], int]] = {
    pl.Int8: 3,
    pl.UInt8: 3,
    pl.Int16: 5,
    pl.UInt16: 5,
    pl.Int32: 10,
    pl.UInt32: 10,
    pl.Int64: 19,
    pl.UInt64: 20,
    pl.Int128: 39,
    pl.UInt128: 39,
}
#: The integers a float type holds exactly, by their bits (Float16's mantissa: 11 bits, Float32's: 24,
#: Float64's: 53).
_FLOAT_HOLDS_INTEGER_BITS: Final[Mapping[type[pl.DataType], int]] = {
    pl.Float16: 8,
    pl.Float32: 16,
    pl.Float64: 32,
}
_FLOAT_BITS: Final[Mapping[type[pl.DataType], int]] = {pl.Float16: 16, pl.Float32: 32, pl.Float64: 64}


def stacked_type(first: pl.DataType, second: pl.DataType) -> pl.DataType | None:
    """The type one column of ``first`` beside one of ``second`` stacks as, when it holds every value of both
    as it is (see the module's rules); None when it does not (or polars cannot stack them at all)."""
    if first == second or second == pl.Null():
        return first
    if first == pl.Null():
        return second
    try:
        stacked = pl.concat(
            [pl.LazyFrame(schema={"c": first}), pl.LazyFrame(schema={"c": second})], how="diagonal_relaxed"
        ).collect_schema()["c"]
    except pl.exceptions.PolarsError:
        return None
    return stacked if _holds(stacked, first) and _holds(stacked, second) else None


def _holds(stacked: pl.DataType, dtype: pl.DataType) -> bool:
    """Whether every value of ``dtype`` is kept as it is in a column of type ``stacked``."""
    kind = type(dtype)
    if stacked == dtype or dtype == pl.Null():
        held = True
    elif stacked == pl.String():
        held = (
            dtype == pl.Boolean()
            or dtype.is_numeric()
            or dtype == pl.Date()
            or (isinstance(dtype, pl.Datetime) and dtype.time_zone is None)
        )
    elif stacked.is_integer():
        held = dtype.is_integer() and _holds_integers(stacked, dtype)
    elif stacked.is_float() and dtype.is_float():
        held = _FLOAT_BITS[kind] <= _FLOAT_BITS[type(stacked)]
    elif stacked.is_float():
        held = kind in _INTEGER_BITS and _INTEGER_BITS[kind] <= _FLOAT_HOLDS_INTEGER_BITS[type(stacked)]
    elif isinstance(stacked, pl.Decimal) and isinstance(dtype, pl.Decimal):
        whole = (stacked.precision or 38) - stacked.scale
        held = dtype.scale <= stacked.scale and (dtype.precision or 38) - dtype.scale <= whole
    elif isinstance(stacked, pl.Decimal):
        held = kind in _INTEGER_DIGITS and _INTEGER_DIGITS[kind] <= (stacked.precision or 38) - stacked.scale
    else:
        held = False
    return held


def _integer_bounds(dtype: pl.DataType) -> tuple[int, int]:
    """The least and the greatest value of integer type ``dtype``."""
    bits = _INTEGER_BITS[type(dtype)]
    return (0, 2**bits - 1) if dtype.is_unsigned_integer() else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)


def _holds_integers(stacked: pl.DataType, dtype: pl.DataType) -> bool:
    """Whether integer type ``stacked`` holds every value of integer type ``dtype`` (``Int128`` does not hold a
    ``UInt128``'s values past 2^127: stacked beside an ``Int64``, they were null)."""
    (least, greatest), (stacked_least, stacked_greatest) = _integer_bounds(dtype), _integer_bounds(stacked)
    return stacked_least <= least and greatest <= stacked_greatest


@dataclass(frozen=True)
class ExtraColumnTypes:
    """The types the extra columns of a run's inputs had so far, each with the first input that had it
    (``seen``: column name to type to the input's label and its name in messages). Immutable: an input is added
    with :meth:`with_input`, which leaves this one as it was when it refuses the input."""

    seen: Mapping[str, Mapping[pl.DataType, tuple[str, str]]] = field(default_factory=dict)

    def with_input(self, schema: pl.Schema, label: str, shown: str | None = None) -> ExtraColumnTypes:
        """These types and those of the extra columns of ``schema`` (an input's, named ``label``; ``shown``: how
        messages name it, default ``label``).

        Raises:
            InputSchemaError: an extra column's type does not stack with a type an earlier input gave it (see
                :func:`stacked_type`); the error names each such column, both types and both inputs, and its
                ``source`` both inputs' labels.
        """
        shown = shown or label
        seen = {name: dict(types) for name, types in self.seen.items()}
        conflicts: list[tuple[str, pl.DataType, str, str]] = []  # column, earlier type, its label, its name
        for name in passthrough_columns(schema):
            dtype = schema[name]
            types = seen.setdefault(name, {})
            if dtype in types:
                continue
            clash = next(
                (
                    (earlier, *first)
                    for earlier, first in types.items()
                    if stacked_type(earlier, dtype) is None
                ),
                None,
            )
            if clash is not None:
                conflicts.append((name, *clash))
            types[dtype] = (label, shown)
        if conflicts:
            raise _refused(schema, label, shown, conflicts)
        return ExtraColumnTypes(seen)

    def to_json(self) -> list[dict[str, Any]]:
        """These types as JSON values (a saved state's header): each column and type with its first input, in
        the order seen (:func:`~screening.io.type_json.type_to_json`)."""
        return [
            {"column": name, "type": type_to_json(dtype), "input": label, "shown": shown}
            for name, types in self.seen.items()
            for dtype, (label, shown) in types.items()
        ]

    @classmethod
    def from_json(cls, entries: object) -> ExtraColumnTypes:
        """The types :meth:`to_json` wrote as ``entries``.

        Raises:
            ValueError: ``entries`` is not what :meth:`to_json` writes.
        """
        if not isinstance(entries, list):
            raise ValueError("not a list")
        seen: dict[str, dict[pl.DataType, tuple[str, str]]] = {}
        for entry in entries:
            match entry:
                case {"column": str(name), "type": dtype, "input": str(label), "shown": str(shown)}:
                    seen.setdefault(name, {})[type_from_json(dtype)] = (label, shown)
                case _:
                    raise ValueError(f"not a column's type and input: {reprlib.repr(entry)}")
        return cls(seen)


def _refused(
    schema: pl.Schema, label: str, shown: str, conflicts: list[tuple[str, pl.DataType, str, str]]
) -> InputSchemaError:
    """The error for the extra columns of input ``label`` (``schema``) whose types do not stack (``conflicts``:
    each column with the earlier type, that input's label and its name in messages)."""
    labels = list(dict.fromkeys([*(earlier for _, _, earlier, _ in conflicts), label]))
    details = "; ".join(
        f"{name!r} is {earlier_type} in {earlier_shown} but {schema[name]} in {shown}"
        for name, earlier_type, _, earlier_shown in conflicts
    )
    if len(conflicts) == 1:
        what = f"extra column {details}: one column of lines cannot hold both without changing values"
    else:
        what = (
            f"{len(conflicts)} extra columns have types in two inputs that one column of lines cannot hold "
            f"without changing values: {details}"
        )
    return InputSchemaError(
        ", ".join(labels),
        f"{what}. Extra columns pass through untouched: cast {'each' if len(conflicts) > 1 else 'it'} to one "
        "type in every input, or rename it in one of them (types that stack: the same type, an all-empty "
        "column, integers of other widths (not a UInt128 beside a signed integer), floats of other widths, "
        "integers of up to 32 bits beside a Float64 (16 beside a Float32, 8 beside a Float16), text beside "
        "numbers, booleans, dates and timestamps without a zone)",
        missing=(),
    )
