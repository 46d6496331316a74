"""Aggregate: consignee-day totals ("one person on one day", DESIGN §4)."""

from __future__ import annotations

import polars as pl

from screening.schema import PACKAGE_KEY

CONSIGNEE_DAY = ("consignee_key", "arrival_date")


def consignee_day_totals() -> list[pl.Expr]:
    """Each line's consignee-day totals: value and gift value (cents), distinct packages, lines.

    Window expressions over the consignee and day: the groups are found once for all four, and
    no table of totals is joined back (about half the time of a group-by and a join).
    """
    day = list(CONSIGNEE_DAY)
    return [
        pl.col("value_usd_cents").sum().over(day).alias("consignee_day_value_cents"),
        pl.col("value_usd_cents").filter(pl.col("gift")).sum().over(day).alias("consignee_day_gift_cents"),
        pl.col(PACKAGE_KEY).n_unique().over(day).alias("consignee_day_packages"),
        pl.len().over(day).cast(pl.Int64()).alias("consignee_day_lines"),
    ]


def attach_consignee_day(lines: pl.DataFrame) -> pl.DataFrame:
    """Each line with its consignee-day totals."""
    return lines.with_columns(consignee_day_totals())
