"""Gather a small table's column into the rows of a larger frame by an integer code."""

from __future__ import annotations

import polars as pl


def gathered(values: pl.Series, index: pl.Expr) -> pl.Expr:
    """``values[index]`` for each row (null where ``index`` is null), named as ``values``.

    A column of nulls only is a typed null scalar: all-null Series literals of one length were one common
    subexpression to polars 2.1's optimizer whatever their types, so that gathered beside one another in a plan
    one was read as another's type (a Boolean risk feature as Float64 or String, a String one as an Enum)."""
    if values.null_count() == values.len():
        return pl.lit(None, dtype=values.dtype).alias(values.name)
    return pl.lit(values).gather(index).alias(values.name)
