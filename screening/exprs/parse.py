"""Expressions that turn text into typed values without raising: failures become null."""

from __future__ import annotations

import polars as pl

ISO_DATE = "%Y-%m-%d"


def parse_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Parse a string expression as ``dtype``; unparseable values become null.

    Dates must be ISO ``YYYY-MM-DD``; booleans accept true/false, yes/no, y/n, 1/0
    in any case; numbers accept surrounding blanks.
    """
    text = expr.str.strip_chars()
    if dtype == pl.Date():
        return text.str.to_date(ISO_DATE, strict=False)
    if dtype == pl.Boolean():
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(["true", "yes", "y", "1", "t"]))
            .then(True)
            .when(lowered.is_in(["false", "no", "n", "0", "f", ""]))
            .then(False)
            .otherwise(None)
        )
    return text.cast(dtype, strict=False)


def coerce(expr: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    """Bring a column of type ``source`` to ``target``: parse text, cast anything else leniently."""
    if source == target:
        return expr
    if source == pl.String():
        return parse_text(expr, target)
    if target == pl.String():
        return expr.cast(pl.String())
    if isinstance(target, pl.Decimal) and source.is_float():
        return pl.when(expr.is_finite()).then(expr.round(6)).cast(target, strict=False)
    return expr.cast(target, strict=False)
