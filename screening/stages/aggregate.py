"""Aggregate: consignee-day totals ("one person on one day", DESIGN §4)."""

from __future__ import annotations

import polars as pl

from screening.schema import PACKAGE_KEY
from screening.stages.lookup import attach

CONSIGNEE_DAY = ("consignee_key", "arrival_date")


def consignee_day_totals(lines: pl.LazyFrame) -> pl.LazyFrame:
    """One row per consignee and arrival date: value and gift value (cents), distinct packages, lines."""
    return lines.group_by(CONSIGNEE_DAY).agg(
        pl.col("value_usd_cents").sum().alias("consignee_day_value_cents"),
        pl.col("value_usd_cents").filter(pl.col("gift")).sum().alias("consignee_day_gift_cents"),
        pl.col(PACKAGE_KEY).n_unique().alias("consignee_day_packages"),
        pl.len().cast(pl.Int64()).alias("consignee_day_lines"),
    )


def attach_consignee_day(lines: pl.LazyFrame, totals: pl.LazyFrame) -> pl.LazyFrame:
    """Join each line to its consignee-day totals."""
    return attach(lines, totals, list(CONSIGNEE_DAY))
