"""Look lookup tables up for each line without carrying wide rows through joins.

A polars join gathers every column of both sides; with dozens of line columns that gather costs
more than the lookup itself. :func:`attach` sends only the key columns through the join and sets
the looked-up columns beside the frame's own (DESIGN §7: narrow rows through the joins); the frame
is materialised first: a lazy plan that read its input twice at every lookup would grow with each
one. :func:`lookup` is the lazy join for frames already narrow, and :func:`mapped` looks a small
table up inside an expression, with no join at all.
"""

from __future__ import annotations

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
