"""Look lookup tables up for each line without carrying wide rows through joins.

A polars join gathers every column of both sides; with dozens of line columns that gather costs
more than the lookup itself. :func:`attach` sends only the key columns through the join and sets
the looked-up columns beside the frame's own (DESIGN §7: narrow rows through the joins); the frame
is materialised first: a lazy plan that read its input twice at every lookup would grow with each
one. :func:`lookup` is the lazy join for frames already narrow, and :func:`mapped` looks a small
table up inside an expression, with no join at all.

Where many lookups share a key, :func:`dense_codes` numbers its distinct values once: the lookups
then run on the small table of distinct keys, and the rows gather the results by their code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import polars as pl


def attach(
    frame: pl.LazyFrame, table: pl.LazyFrame, on: str | Sequence[str], *, nulls_equal: bool = False
) -> pl.LazyFrame:
    """``frame`` with the columns of ``table`` (unique on ``on``) looked up for each row (null where absent).

    A table with repeated keys would change the row count; stacking the columns then fails loudly
    instead of duplicating lines.
    """
    keys = [on] if isinstance(on, str) else list(on)
    rows = frame.collect(engine="in-memory")
    looked = (
        rows.lazy()
        .select(keys)
        .join(table, on=keys, how="left", maintain_order="left", nulls_equal=nulls_equal)
        .drop(keys)
        .collect(engine="in-memory")
    )
    return rows.hstack(looked).lazy()


def dense_codes(frame: pl.DataFrame, on: Sequence[str]) -> tuple[pl.Series, pl.DataFrame]:
    """Number the distinct combinations of ``on`` in ``frame``: each row's code, and the table of them.

    Returns ``(codes, keys)``: ``codes`` (UInt32, one per row of ``frame``) is the row of ``keys``
    that holds the row's combination; ``keys`` holds each distinct combination once (null is a value
    like any other). Lookups can then run on ``keys``, a small table, and reach the rows by
    ``gather(codes)``: an integer gather instead of a join on string keys over every row.
    """
    combined = _combined_key(frame, on)
    if combined is None:
        # Too many distinct values to pack into 64 bits: rank the rows instead (exact, slower).
        codes = frame.select(pl.struct(list(on)).rank("dense").cast(pl.UInt32()) - 1).to_series()
        first = codes.arg_unique()
        return codes.alias("code"), frame.select(on)[first.gather(codes.gather(first).arg_sort())]
    first = combined.arg_unique()
    numbered = combined.gather(first).to_frame("key").with_row_index("code")
    codes = combined.to_frame("key").join(numbered, on="key", how="left", maintain_order="left")["code"]
    return codes, frame.select(on)[first]


def _combined_key(frame: pl.DataFrame, on: Sequence[str]) -> pl.Series | None:
    """One UInt64 per row, equal exactly where the rows agree on ``on`` (None where it would overflow).

    Each column becomes an ordinal from 0 (see :func:`_ordinal`), and the ordinals are combined in
    mixed radix.
    """
    ordinals = frame.select(_ordinal(name, frame.schema[name]) for name in on)
    ordinals = ordinals.with_columns(pl.all().fill_null(pl.all().max().fill_null(-1) + 1))
    radixes = [int(m or 0) + 1 for m in ordinals.max().row(0)]
    if math.prod(radixes) >= 1 << 64:
        return None
    key = pl.lit(0, dtype=pl.UInt64())
    for name, radix in zip(on, radixes, strict=True):
        key = key * radix + pl.col(name)
    return ordinals.select(key.alias("key")).to_series()


def _ordinal(name: str, dtype: pl.DataType) -> pl.Expr:
    """Column ``name`` as a UInt64 from 0 up, equal exactly where the values are equal (null stays null).

    Strings are numbered by a fresh categorical mapping (its codes are dense, in order of first
    appearance); dates by days from the earliest; booleans as 0 and 1.
    """
    column = pl.col(name)
    if dtype == pl.String():
        codes = column.cast(pl.Categorical(pl.Categories.random())).to_physical()
    elif dtype == pl.Date():
        codes = column.to_physical() - column.to_physical().min()
    elif dtype == pl.Boolean():
        codes = column
    else:
        raise TypeError(f"cannot number values of type {dtype}")
    return codes.cast(pl.UInt64())


def lookup(
    frame: pl.LazyFrame, table: pl.LazyFrame, on: str | Sequence[str], *, nulls_equal: bool = False
) -> pl.LazyFrame:
    """``frame`` left-joined to ``table`` (unique on ``on``), lazily, keeping the frame's row order.

    For narrow frames that one plan carries through several lookups (the risk features): nothing is
    materialised here. A table with repeated keys fails the join (``validate``) instead of
    duplicating rows, as :func:`attach` does.
    """
    return frame.join(
        table, on=on, how="left", maintain_order="left", nulls_equal=nulls_equal, validate="m:1"
    )


def mapped(key: pl.Expr, table: pl.DataFrame, on: str, value: str) -> pl.Expr:
    """``table[value]`` where ``table[on]`` equals ``key`` (null where none does), as an expression.

    For small tables: a lookup inside ``with_columns``, with no join gathering the frame's rows. A
    null key finds nothing, as in a join. ``table[on]`` must be unique.
    """
    known = table.filter(pl.col(on).is_not_null())
    if known.get_column(on).is_duplicated().any():
        raise ValueError(f"lookup table has repeated keys in {on!r}")
    return key.replace_strict(
        known.get_column(on), known.get_column(value), default=None, return_dtype=table.schema[value]
    )
