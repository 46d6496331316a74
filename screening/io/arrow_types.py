"""Arrow types polars 2.1 cannot import, made importable (in memory) or named (in files).

Polars panics on a ``decimal256`` column, on a timestamp whose zone is written as an offset (``+05:30``,
``+05``, ``Z``; it reads zones of the time zone database only), on a date or timestamp far beyond year 9999
(DuckDB's ``'infinity'``), and, read from an Arrow IPC file, on run-end-encoded, interval, union and list-view
columns (in memory it raises its own errors on them); a panic is not an ``Exception``, so it would escape an
embedder's handler and end a run with exit 70. It also reads a ``timestamp[s]`` as milliseconds by a
multiplication that wraps past the range of a 64-bit integer (second 2^61 after a date was that date).
In-memory Arrow data is converted first: a dictionary of other values than text decoded (polars decodes it
anyway; the conversions below then apply to its values), a run-end-encoded column to its values, a list view
to a list, a date or timestamp column holding a value outside years 1 to 9999 to text (the others as ISO
dates, a timestamp with a zone dated in the given zone, else in UTC; that value as ``day N of the Unix
epoch``, ``second N of the Unix epoch``, ...: an ``invalid-date`` reject naming it), a ``date64`` to a date
(polars reads it as a timestamp), and, at any depth (in a list, map or struct, or as a dictionary's values), a
timestamp in an offset zone to UTC (the same instant: Arrow stores timestamps in UTC, the zone is metadata),
a ``decimal256`` to ``decimal128`` where its precision allows, else to text (validation parses decimal text
exactly), an extension type to its storage type (polars keeps ``arrow.json``, which the CSV writer cannot
write) and a decimal of negative scale to the whole numbers it holds (polars raises on its scale). Interval
and union columns, and timestamps in a zone that is neither one polars knows nor an offset, are not
converted: they are named, to be refused. A Parquet or Arrow IPC file is read by polars itself: its schema is
checked first, and a column of a kind it cannot read, at any depth (a decimal of negative scale too), is
refused, naming the file, the column and the fix; so is a date or timestamp column holding a value outside
years 1 to 9999, by its first such row.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeAlias

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

#: A time zone written as an offset from UTC: ``Z`` (Arrow Java's UTC), ``+05:30``, ``+0530``, ``+05``, and the
#: same after ``UTC`` or ``GMT`` (``UTC+05:30``, ``GMT-3``). Polars reads only whole hours written ``+05:00``
#: or ``+0500``; the instant is the same whichever way the sign is meant (Arrow stores UTC): each is read in UTC.
_OFFSET_ZONE = re.compile(
    r"^(?:Z|(?:UTC|GMT)?[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?|(?:UTC|GMT)[+-]\d(?::?[0-5]\d)?)$"
)
#: The largest precision of a ``decimal128``.
_DECIMAL128_DIGITS = 38
#: Days since 1970-01-01 of 0001-01-01 and of 10000-01-01: the dates polars and validation read.
_FIRST_DAY, _END_DAY = -719_162, 2_932_897
_MS_PER_DAY = 86_400_000
#: A timestamp's units in a day, by its unit (a ``ns`` timestamp always lies in years 1677 to 2262).
_PER_DAY = {"s": 86_400, "ms": _MS_PER_DAY, "us": _MS_PER_DAY * 1000}
_UNIT_NAMES = {"s": "second", "ms": "millisecond", "us": "microsecond"}

#: A pyarrow Array or ChunkedArray (pyarrow is untyped here).
Column: TypeAlias = Any


def _readable(kind: pa.DataType) -> pa.DataType:
    """``kind`` with the types in it (nested in a list, map or struct, or a dictionary's values, too) that
    polars cannot read made readable: an extension type (``arrow.json``) as its storage type (polars keeps the
    extension, which neither output writer can write: ``arrow.json`` to CSV), a decimal of negative scale
    (``decimal128(5, -2)``: polars raises "Decimal scale is not a valid integer") as the integers it holds
    (``decimal128(7, 0)``, exact; text where they need more than 38 digits), a ``decimal256`` as a
    ``decimal128`` (text beyond 38 digits), a timestamp in an offset zone (``+05:30``, ``Z``) in UTC, and a
    dictionary whose values change so as their (decoded) values."""
    if isinstance(kind, pa.BaseExtensionType):
        return _readable(kind.storage_type)
    if pa.types.is_decimal(kind) and kind.scale < 0:
        digits = kind.precision - kind.scale
        return pa.decimal128(digits, 0) if digits <= _DECIMAL128_DIGITS else pa.large_string()
    if pa.types.is_decimal256(kind):
        digits = kind.precision
        return pa.decimal128(digits, kind.scale) if digits <= _DECIMAL128_DIGITS else pa.large_string()
    if _offset_zone(kind):
        return pa.timestamp(kind.unit, tz="UTC")
    if pa.types.is_dictionary(kind):
        values = _readable(kind.value_type)
        return kind if values == kind.value_type else values
    fields = [kind.field(i) for i in range(kind.num_fields)]
    readable = [field.with_type(_readable(field.type)) for field in fields]
    return kind if readable == fields else _with_fields(kind, readable)


@functools.cache
def _polars_reads_zone(zone: str) -> bool:
    """Whether polars reads a timestamp in ``zone`` (one of its time zone database, ``UTC``, ``+00:00``)."""
    try:
        # A column alone: polars raises on its zone (in a table, it panics).
        pl.from_arrow(pa.array([], pa.timestamp("us", tz=zone)))
    except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
        return False
    return True


def _offset_zone(kind: pa.DataType) -> bool:
    """Whether ``kind`` is a timestamp in a zone written as an offset (``+05:30``, and those polars reads, such
    as ``-03:00``, too, so that all are read in UTC alike), but a name of the time zone database (``GMT+0``)."""
    if not (pa.types.is_timestamp(kind) and kind.tz is not None and _OFFSET_ZONE.match(kind.tz)):
        return False
    return kind.tz.startswith(("+", "-")) or not _polars_reads_zone(kind.tz)


def _unknown_zone(kind: pa.DataType) -> bool:
    """Whether ``kind`` is a timestamp in a zone polars does not read that is not an offset either."""
    return bool(
        pa.types.is_timestamp(kind)
        and kind.tz is not None
        and not _OFFSET_ZONE.match(kind.tz)
        and not _polars_reads_zone(kind.tz)
    )


def _with_fields(kind: pa.DataType, fields: list[pa.Field]) -> pa.DataType:
    """Nested type ``kind`` with ``fields`` for its own."""
    if pa.types.is_struct(kind):
        return pa.struct(fields)
    if pa.types.is_map(kind):
        return pa.map_(*fields[0].type, kind.keys_sorted)
    if pa.types.is_fixed_size_list(kind):
        return pa.list_(fields[0], kind.list_size)
    if pa.types.is_list(kind):
        return pa.list_(fields[0])
    if pa.types.is_large_list(kind):
        return pa.large_list(fields[0])
    return kind  # a type polars cannot read anyway (a union: refused by name)


def _inner(kind: pa.DataType) -> list[pa.DataType]:
    """The types nested directly in ``kind``: its fields', a dictionary's values, an extension's storage."""
    if pa.types.is_dictionary(kind):
        return [kind.value_type]
    if isinstance(kind, pa.BaseExtensionType):
        return [kind.storage_type]
    return [kind.field(i).type for i in range(kind.num_fields)]


def _nested(kind: pa.DataType) -> Iterator[pa.DataType]:
    """``kind`` and every type nested in it."""
    yield kind
    for inner in _inner(kind):
        yield from _nested(inner)


def _negative_scale(kind: pa.DataType) -> bool:
    return bool(pa.types.is_decimal(kind) and kind.scale < 0)


def _replacement(field: pa.Field) -> pa.DataType | None:
    """The type ``field`` is converted to for polars, or None when polars reads it as it is."""
    kind = _readable(field.type)
    return None if kind == field.type else kind


def importable(data: pa.Table | pa.RecordBatch, time_zone: str | None = None) -> pa.Table | pa.RecordBatch:
    """``data`` with every column polars cannot import converted (see the module); as it is otherwise.

    A timestamp column with a zone that is converted to text is dated in ``time_zone`` (the rule pack's)
    when given, else in UTC. Interval and union columns are left as they are: :func:`unreadable_columns`
    (``converted=True``) names them.
    """
    data = _decoded(data)
    fields = list(data.schema)
    wanted = [_replacement(field) for field in fields]
    if any(kind is not None for kind in wanted):
        converted = [
            field if kind is None else field.with_type(kind)
            for field, kind in zip(fields, wanted, strict=True)
        ]
        data = data.cast(pa.schema(converted, metadata=data.schema.metadata))
    far = [i for i, field in enumerate(data.schema) if _first_far_row(data.column(i)) is not None]
    # A date64 (days counted in milliseconds) is a date: polars reads it as a timestamp.
    days = [i for i, field in enumerate(data.schema) if pa.types.is_date64(field.type) and i not in far]
    if not far and not days:
        return data
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    for i in far:
        field = table.schema.field(i).with_type(pa.large_string())
        table = table.set_column(i, field, _temporal_as_text(table.column(i), time_zone))
    for i in days:
        table = table.set_column(i, table.schema.field(i).with_type(pa.date32()), _as_date32(table.column(i)))
    return table


def _as_date32(column: Column) -> Column:
    """A date64 column (in years 1 to 9999) as date32: each value's day (a value that is not a whole day, out of
    the Arrow spec, on the day it falls in, as polars dates its timestamp)."""
    ms = column.cast(pa.int64())
    days = pc.divide(ms, _MS_PER_DAY)  # toward zero: a day late before 1970
    days = pc.if_else(pc.greater(pc.multiply(days, _MS_PER_DAY), ms), pc.subtract(days, 1), days)
    return days.cast(pa.int32()).cast(pa.date32())


def _decoded(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``data`` with its run-end-encoded columns decoded, its list views as lists and its dictionaries of other
    values than text decoded (made readable: ``dictionary<int32, decimal256(40, 2)>`` as text), so that the
    checks of dates and timestamps apply to their values."""
    kinds = [field.type for field in data.schema]
    if not any(pa.types.is_run_end_encoded(k) or _is_list_view(k) or _decodable(k) for k in kinds):
        return data
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    for i, kind in enumerate(kinds):
        column = table.column(i)
        if pa.types.is_run_end_encoded(kind):
            column = pc.run_end_decode(column)
        elif _is_list_view(kind):
            column = pa.chunked_array([_as_list(chunk) for chunk in _chunks(column)], _list_type(kind))
        elif _decodable(kind):
            column = column.cast(_readable(kind.value_type))
        else:
            continue
        table = table.set_column(i, table.schema.field(i).with_type(column.type), column)
    return table


def _decodable(kind: pa.DataType) -> bool:
    """Whether ``kind`` is a dictionary of other values than text (polars reads a dictionary of text as a
    Categorical, and decodes any other)."""
    if not pa.types.is_dictionary(kind):
        return False
    values = kind.value_type
    return not (
        pa.types.is_string(values) or pa.types.is_large_string(values) or pa.types.is_string_view(values)
    )


def _chunks(column: Column) -> list[Column]:
    return list(column.chunks) if isinstance(column, pa.ChunkedArray) else [column]


def _list_type(kind: pa.DataType) -> pa.DataType:
    return pa.list_(kind.value_field) if pa.types.is_list_view(kind) else pa.large_list(kind.value_field)


def _as_list(view: Column) -> Column:
    """A list view array as a list array (pyarrow 26 casts ``[[7], [8]]`` to ``[[7], []]``)."""
    lengths = pc.fill_null(pc.list_value_length(view), 0)
    offsets = pc.cumulative_sum(pa.concat_arrays([pa.array([0], lengths.type), lengths]))
    array = pa.ListArray if pa.types.is_list_view(view.type) else pa.LargeListArray
    return array.from_arrays(offsets, view.flatten(), _list_type(view.type), mask=view.is_null())


def _is_list_view(kind: pa.DataType) -> bool:
    return bool(pa.types.is_list_view(kind) or pa.types.is_large_list_view(kind))


def _days(column: Column) -> Column:
    """Days since 1970-01-01 of a date32 or date64 column."""
    if pa.types.is_date64(column.type):
        return pc.divide(column.cast(pa.int64()), _MS_PER_DAY)
    return column.cast(pa.int32()).cast(pa.int64())


def _in_range(days: Column) -> Column:
    return pc.and_(pc.greater_equal(days, _FIRST_DAY), pc.less(days, _END_DAY))


def _near(column: Column) -> Column | None:
    """Per value of a date or timestamp ``column``, whether it lies in years 1 to 9999 (null where null);
    None for a column of another type, or of one that cannot leave those years (``timestamp[ns]``)."""
    kind = column.type
    if pa.types.is_date32(kind) or pa.types.is_date64(kind):
        return _in_range(_days(column))
    if pa.types.is_timestamp(kind) and kind.unit in _PER_DAY:
        # Compared as integers of the column's unit: no conversion, so none overflows.
        per_day = _PER_DAY[kind.unit]
        counts = column.cast(pa.int64())
        return pc.and_(pc.greater_equal(counts, _FIRST_DAY * per_day), pc.less(counts, _END_DAY * per_day))
    return None


def _first_far_row(column: Column) -> int | None:
    """The index of the first value of ``column`` (a date or timestamp) outside years 1 to 9999; None when
    there is none, or the column is of another type (a dictionary's values are read)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    near = _near(column)
    if near is None:
        return None
    far = pc.invert(near)
    if not pc.any(far).as_py():
        return None
    return int(pc.index(far, True).as_py())


def _temporal_as_text(column: Column, time_zone: str | None) -> Column:
    """A date or timestamp column as text: ISO dates (a timestamp with a zone dated in ``time_zone``, else in
    UTC), and each value outside years 1 to 9999 as its count from the Unix epoch."""
    kind = column.type
    near = _near(column)
    if pa.types.is_timestamp(kind):
        counts, unit = column.cast(pa.int64()), _UNIT_NAMES[kind.unit]
        if kind.tz is not None:
            column = column.cast(pa.timestamp(kind.unit, tz=time_zone or "UTC"))
    else:
        counts, unit = _days(column), "day"
    safe = pc.if_else(near, column, pa.scalar(0, column.type))
    far = pc.binary_join_element_wise(f"{unit} ", counts.cast(pa.string()), " of the Unix epoch", "")
    return pc.if_else(near, pc.strftime(safe, format="%Y-%m-%d"), far).cast(pa.large_string())


def far_value_columns(data: pa.Table, *, first_row: int = 1) -> list[str]:
    """Why each date or timestamp column of a file's ``data`` cannot be read by polars: it holds a value
    outside years 1 to 9999 (named by its first row, counting from ``first_row``); one sentence per column
    (none: [])."""
    found = []
    for field, column in zip(data.schema, data.columns, strict=True):
        row = _first_far_row(column)
        if row is not None:
            found.append(
                f"column {field.name!r} holds a {field.type} outside the years 1 to 9999 (first in row "
                f"{row + first_row:,}), which polars cannot read: write such a value as null, or the column as "
                "ISO dates in text (each such value is then an invalid-date reject)"
            )
    return found


def temporal_columns(schema: Iterable[pa.Field]) -> list[str]:
    """The names of the columns of ``schema`` that may hold a date or timestamp outside years 1 to 9999 (as
    a dictionary's values too)."""
    found = []
    for field in schema:
        kind = field.type.value_type if pa.types.is_dictionary(field.type) else field.type
        if (
            pa.types.is_date32(kind)
            or pa.types.is_date64(kind)
            or (pa.types.is_timestamp(kind) and kind.unit in _PER_DAY)
        ):
            found.append(field.name)
    return found


#: Arrow types polars cannot read at all, in any column or nested in one, and how to write them instead.
_UNREADABLE_KINDS: tuple[tuple[Callable[[pa.DataType], bool], str, str], ...] = (
    (pa.types.is_run_end_encoded, "run-end-encoded values", "write the values plainly (decoded)"),
    (pa.types.is_interval, "intervals", "write them as text or as durations"),
    (pa.types.is_union, "unions", "write them as text or as values of one type"),
    (_is_list_view, "list views", "write them as lists"),
    (
        _unknown_zone,
        "timestamps in a zone it does not know (neither one of the time zone database nor an offset such as "
        "'+05:30')",
        "write them in UTC or a zone of the time zone database (e.g. 'Asia/Kolkata')",
    ),
)
#: Arrow types polars cannot read that :func:`importable` converts: named only in a file, which polars reads.
_CONVERTED_KINDS: tuple[tuple[Callable[[pa.DataType], bool], str, str], ...] = (
    (
        _offset_zone,
        "timestamps in a zone written as an offset",
        "write them in UTC or a named zone (e.g. 'Asia/Kolkata')",
    ),
    (pa.types.is_decimal256, "256-bit decimals", "write them as decimals of at most 38 digits or as text"),
)


def _unreadable_kind(
    kind: pa.DataType, kinds: tuple[tuple[Callable[[pa.DataType], bool], str, str], ...]
) -> tuple[pa.DataType, str, str] | None:
    """The type among ``kind`` and those nested in it that is one of ``kinds``, what it is and the fix; None:
    there is none."""
    for inner in _nested(kind):
        for test, what, fix in kinds:
            if test(inner):
                return inner, what, fix
    return None


def unreadable_columns(schema: Iterable[pa.Field], *, converted: bool = False) -> list[str]:
    """Why each column of a file's ``schema`` cannot be read by polars, one sentence per column (none: []):
    its type, or one nested in it (in a list, map or struct, or a dictionary's values), is one polars cannot
    read.

    ``converted``: the data is converted by :func:`importable` first (in memory, an IPC stream), so only
    the columns it cannot convert are named.
    """
    found = []
    for field in schema:
        kind = field.type
        if converted and (pa.types.is_run_end_encoded(kind) or _is_list_view(kind)):
            kind = kind.value_type
        unreadable = _unreadable_kind(kind, _UNREADABLE_KINDS)
        if unreadable is None and not converted:
            if any(_negative_scale(inner) for inner in _nested(kind)):
                found.append(
                    f"column {field.name!r} has type {field.type}, a decimal of negative scale, which polars "
                    "cannot read: write it with a scale of 0 or more (its values are whole numbers) or as text"
                )
                continue
            unreadable = _unreadable_kind(kind, _CONVERTED_KINDS)
        if unreadable is None:
            continue
        inner, what, fix = unreadable
        if inner is kind and _offset_zone(kind):
            found.append(
                f"column {field.name!r} is a timestamp in the fixed-offset zone {kind.tz!r}, which polars cannot "
                "read: write it in UTC or a named zone (e.g. 'Asia/Kolkata'), or as a date"
            )
        elif inner is kind and pa.types.is_decimal256(kind):
            found.append(
                f"column {field.name!r} is a 256-bit decimal ({kind}), which polars cannot read: write it as a "
                "decimal of at most 38 digits or as text"
            )
        else:
            found.append(
                f"column {field.name!r} has type {field.type}, and polars cannot read {what}: {fix}, or leave "
                "the column out"
            )
    return found
