"""Left-join a lookup table onto the wide line frame without carrying the wide rows through the join.

A polars join gathers every column of both sides; with dozens of line columns that gather costs
more than the lookup itself. Only the key columns go through the join here, and the looked-up
columns are set beside the frame's own (DESIGN §7: narrow rows through the joins). The frame is
materialised first: a lazy plan that read its input twice at every lookup would grow with each one.
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
