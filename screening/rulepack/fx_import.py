"""Derive U.S.-dollar rates from the ECB euro reference rates.

ECB rates are quoted as units of currency per euro; the dollar cross rate is
``USD per unit of X = (USD per EUR) / (X per EUR)`` on the same day. These are
an approximation of the rates CBP must use (19 CFR 159.32-159.36: rates
certified by the Federal Reserve Bank of New York), labelled as such in the pack.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

SOURCE_LABEL = "ecb-cross"


def usd_rates_from_ecb(path: Path, *, since: dt.date) -> pl.DataFrame:
    """``currency, date, usd_per_unit, source`` rows from an ECB ``eurofxref-hist.csv``."""
    wide = pl.read_csv(path, null_values=["N/A"], infer_schema=False, glob=False)
    wide = wide.select([c for c in wide.columns if c.strip()])
    dated = wide.with_columns(pl.col("Date").str.to_date("%Y-%m-%d").alias("date")).filter(
        pl.col("date") >= since
    )
    currencies = [c for c in wide.columns if c not in ("Date", "USD")]
    usd_per_eur = pl.col("USD").cast(pl.Decimal(24, 10))
    long = dated.select(
        "date",
        *[(usd_per_eur / pl.col(c).cast(pl.Decimal(24, 10))).alias(c) for c in currencies],
        usd_per_eur.alias("EUR"),
    ).unpivot(index="date", variable_name="currency", value_name="usd_per_unit")
    return (
        long.drop_nulls("usd_per_unit")
        .with_columns(
            pl.col("usd_per_unit").cast(pl.Decimal(24, 10)),
            source=pl.lit(SOURCE_LABEL),
        )
        .select("currency", "date", "usd_per_unit", "source")
        .sort("currency", "date")
    )
