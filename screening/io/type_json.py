"""Polars data types as JSON values and back, exactly: the extra columns' types a saved state remembers.

A type is a list of its class name and its parameters: ``["Int32"]``, ``["Datetime", "us", "UTC"]``,
``["List", ["String"]]``, ``["Struct", [["a", ["String"]]]]``. Every type a batch's column can have is written
(128-bit integers, enums and Object too, which Parquet does not hold) and read back equal to itself.
"""

from __future__ import annotations

import reprlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

import polars as pl

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

#: The types without parameters, by class name.
_PLAIN: Final[dict[str, type[pl.DataType]]] = {
    kind.__name__: kind
    for kind in (
        pl.Binary,
        pl.Boolean,
        pl.Date,
        pl.Float16,
        pl.Float32,
        pl.Float64,
        pl.Int8,
        pl.Int16,
        pl.Int32,
        pl.Int64,
        pl.Int128,
        pl.UInt8,
        pl.UInt16,
        pl.UInt32,
        pl.UInt64,
        pl.UInt128,
        pl.Null,
        pl.Object,
        pl.String,
        pl.Time,
        pl.Unknown,
    )
}


#: Each type with parameters, by class: its parameters as JSON values.
_PARAMETERS: Final[dict[type[pl.DataType], Callable[[Any], list[Any]]]] = {
    pl.Datetime: lambda t: [t.time_unit, t.time_zone],
    pl.Duration: lambda t: [t.time_unit],
    pl.Decimal: lambda t: [t.precision, t.scale],
    pl.Enum: lambda t: [t.categories.to_list()],
    pl.Categorical: lambda t: [
        t.categories.name(),
        t.categories.namespace(),
        type_to_json(t.categories.physical()),
    ],
    pl.List: lambda t: [type_to_json(t.inner)],
    pl.Array: lambda t: [type_to_json(t.inner), t.size],
    pl.Struct: lambda t: [[[field.name, type_to_json(field.dtype)] for field in t.fields]],
    pl.Map: lambda t: [type_to_json(t.key), type_to_json(t.value)],
}


def type_to_json(dtype: PolarsDataType) -> list[Any]:
    """``dtype`` (a type, or a class of types without parameters) as a JSON value (see the module).

    Raises:
        ValueError: ``dtype`` is of a type this module does not know.
    """
    if isinstance(dtype, type):
        dtype = dtype()
    if isinstance(dtype, pl.BaseExtension):
        return ["Extension", dtype.ext_name(), type_to_json(dtype.ext_storage()), dtype.ext_metadata()]
    kind = type(dtype)
    if kind in _PARAMETERS:
        return [kind.__name__, *_PARAMETERS[kind](dtype)]
    if _PLAIN.get(kind.__name__) is not kind:
        raise ValueError(f"no JSON form for the type {dtype}")
    return [kind.__name__]


def type_from_json(value: object) -> pl.DataType:
    """The type :func:`type_to_json` wrote as ``value``.

    Raises:
        ValueError: ``value`` is not what :func:`type_to_json` writes for any type.
    """
    try:
        dtype = _decoded(value)
        written = type_to_json(dtype)
    except _REFUSED as exc:
        raise ValueError(f"not a data type: {reprlib.repr(value)}") from exc
    if written != value:  # a field's parameters polars changes
        raise ValueError(f"not a data type: {reprlib.repr(value)}")
    return dtype


#: What polars raises on parameters it does not take (a time unit ``xs``, an enum's repeated category), and
#: a value nested too deep.
_REFUSED = (TypeError, ValueError, RecursionError, pl.exceptions.PolarsError, pl.exceptions.PanicException)


def _decoded(value: object) -> pl.DataType:
    """The type ``value`` describes, its parameters as polars takes them (checked by the caller)."""
    dtype: pl.DataType
    match value:
        case [str(name)] if name in _PLAIN:
            dtype = _PLAIN[name]()
        case ["Datetime", str(unit), str() | None as zone]:
            dtype = pl.Datetime(unit, zone)  # type: ignore[arg-type]
        case ["Duration", str(unit)]:
            dtype = pl.Duration(unit)  # type: ignore[arg-type]
        case ["Decimal", int() | None as precision, int(scale)] if _counts(precision, scale):
            dtype = pl.Decimal(precision, scale)
        case ["Enum", list(categories)] if all(isinstance(c, str) for c in categories):
            dtype = pl.Enum(categories)
        case ["Categorical", str(name), str(namespace), physical]:
            dtype = pl.Categorical(pl.Categories(name, namespace, _decoded(physical)))
        case ["List", inner]:
            dtype = pl.List(_decoded(inner))
        case ["Array", inner, int(size)] if _counts(size):
            dtype = pl.Array(_decoded(inner), size)
        case ["Struct", list(fields)]:
            dtype = _struct(fields)
        case ["Map", key, inner]:
            dtype = pl.Map(_decoded(key), _decoded(inner))
        case ["Extension", str(name), storage, str() | None as metadata]:
            dtype = pl.Extension(name, _decoded(storage), metadata)
        case _:
            raise ValueError(f"not a data type: {reprlib.repr(value)}")
    return dtype


def _counts(*values: object) -> bool:
    """Whether each of ``values`` is None or a whole number not below zero (not a boolean)."""
    return all(value is None or (type(value) is int and value >= 0) for value in values)


def _struct(fields: list[object]) -> pl.Struct:
    """The struct of ``fields`` (each a name and a type, the names different)."""
    pairs = [(f[0], f[1]) for f in fields if isinstance(f, list) and len(f) == 2 and isinstance(f[0], str)]
    if len(pairs) != len(fields) or len({name for name, _ in pairs}) != len(pairs):
        raise ValueError("a struct's fields are each a name and a type, the names different")
    return pl.Struct([pl.Field(name, _decoded(inner)) for name, inner in pairs])
