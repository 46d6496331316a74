"""Arrow types polars 2.1 cannot import, made importable (in memory) or named (in files).

Polars panics on a ``decimal256`` column, on a timestamp whose zone is a fixed offset such as
``+05:30`` and on a date far beyond year 9999; a panic is not an ``Exception``, so it would escape an
embedder's handler and end a run with exit 70. In-memory Arrow data is converted first: a fixed-offset
timestamp to UTC (the same instant: Arrow stores timestamps in UTC, the zone is metadata), a
``decimal256`` to ``decimal128`` where its precision allows, else to text (validation parses decimal text
exactly), and a date column holding a day outside years 1 to 9999 to text (the others as ISO dates, that
day as ``day N of the Unix epoch``: an ``invalid-date`` reject naming it). A Parquet or Arrow IPC file
is read by polars itself: its schema is checked first, and a column of the first two kinds is refused,
naming the file, the column and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeAlias

import pyarrow as pa
import pyarrow.compute as pc

#: A time zone written as a fixed offset from UTC (``+05:30``, ``-03:00``): polars does not read these.
_FIXED_OFFSET = re.compile(r"^[+-]\d{2}:?\d{2}$")
#: The largest precision of a ``decimal128``.
_DECIMAL128_DIGITS = 38
#: Days since 1970-01-01 of 0001-01-01 and of 10000-01-01: the dates polars and validation read.
_FIRST_DAY, _END_DAY = -719_162, 2_932_897
_MS_PER_DAY = 86_400_000

#: A pyarrow Array or ChunkedArray (pyarrow is untyped here).
Column: TypeAlias = Any


def _replacement(field: pa.Field) -> pa.DataType | None:
    """The type ``field`` is converted to for polars, or None when polars reads it as it is."""
    kind = field.type
    if pa.types.is_timestamp(kind) and kind.tz is not None and _FIXED_OFFSET.match(kind.tz):
        return pa.timestamp(kind.unit, tz="UTC")
    if pa.types.is_decimal256(kind):
        if kind.precision <= _DECIMAL128_DIGITS:
            return pa.decimal128(kind.precision, kind.scale)
        return pa.large_string()
    return None


def importable(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``data`` with every column polars cannot import converted (see the module); as it is otherwise."""
    fields = list(data.schema)
    wanted = [_replacement(field) for field in fields]
    if any(kind is not None for kind in wanted):
        converted = [
            field if kind is None else field.with_type(kind)
            for field, kind in zip(fields, wanted, strict=True)
        ]
        data = data.cast(pa.schema(converted, metadata=data.schema.metadata))
    dates = [i for i, f in enumerate(fields) if pa.types.is_date32(f.type) or pa.types.is_date64(f.type)]
    far = [i for i in dates if _has_far_days(data.column(i))]
    if not far:
        return data
    table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
    for i in far:
        field = table.schema.field(i).with_type(pa.large_string())
        table = table.set_column(i, field, _dates_as_text(table.column(i)))
    return table


def _days(column: Column) -> Column:
    """Days since 1970-01-01 of a date32 or date64 column."""
    if pa.types.is_date64(column.type):
        return pc.divide(column.cast(pa.int64()), _MS_PER_DAY)
    return column.cast(pa.int32()).cast(pa.int64())


def _in_range(days: Column) -> Column:
    return pc.and_(pc.greater_equal(days, _FIRST_DAY), pc.less(days, _END_DAY))


def _has_far_days(column: Column) -> bool:
    return bool(pc.any(pc.invert(_in_range(_days(column)))).as_py())


def _dates_as_text(column: Column) -> Column:
    days = _days(column)
    near = _in_range(days)
    safe = pc.if_else(near, column, pa.scalar(0, column.type))
    far = pc.binary_join_element_wise("day ", days.cast(pa.string()), " of the Unix epoch", "")
    return pc.if_else(near, pc.strftime(safe, format="%Y-%m-%d"), far).cast(pa.large_string())


def unreadable_columns(schema: Iterable[pa.Field]) -> list[str]:
    """Why each column of a file's ``schema`` cannot be read by polars, one sentence per column (none: [])."""
    found = []
    for field in schema:
        kind = field.type
        if pa.types.is_timestamp(kind) and kind.tz is not None and _FIXED_OFFSET.match(kind.tz):
            found.append(
                f"column {field.name!r} is a timestamp in the fixed-offset zone {kind.tz!r}, which polars cannot "
                "read: write it in UTC or a named zone (e.g. 'Asia/Kolkata'), or as a date"
            )
        elif pa.types.is_decimal256(kind):
            found.append(
                f"column {field.name!r} is a 256-bit decimal ({kind}), which polars cannot read: write it as a "
                "decimal of at most 38 digits or as text"
            )
    return found
