"""Derive U.S.-dollar rates from the ECB euro reference rates.

ECB rates are quoted as units of currency per euro; the dollar cross rate is
``USD per unit of X = (USD per EUR) / (X per EUR)`` on the same day, rounded half up to 10 decimals. These
are an approximation of the rates CBP must use (31 U.S.C. 5151; 19 CFR 159.31-159.36: rates certified by the
Federal Reserve Bank of New York), labelled as such in the pack.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Final

import polars as pl

from screening.schema import FX_RATE

SOURCE_LABEL = "ecb-cross"
#: The rates written (the pack's table: ``usd_per_unit`` decimal 24,10) and their decimals.
RATE_TYPE: Final = FX_RATE
RATE_PLACES: Final = FX_RATE.scale
#: The most decimals an ECB reference rate has (5 for GBP and SEK; 6 for some legacy currencies).
_ECB_PLACES: Final = 6


def usd_rates_from_ecb(path: Path, *, since: dt.date) -> pl.DataFrame:
    """``currency, date, usd_per_unit, source`` rows from an ECB ``eurofxref-hist.csv``.

    Each cross rate is the quotient of the two quotes, rounded half up to 10 decimals in integer arithmetic
    (polars' decimal division rounds half to even: 1.1619 / 384 = 0.00302578125 came out 0.0030257812).

    Raises:
        ValueError: a quote has more than 6 decimals (it would not be divided exactly).
    """
    wide = pl.read_csv(path, null_values=["N/A"], infer_schema=False, glob=False)
    wide = wide.select([c for c in wide.columns if c.strip()])
    dated = wide.with_columns(pl.col("Date").str.to_date("%Y-%m-%d").alias("date")).filter(
        pl.col("date") >= since
    )
    currencies = [c for c in wide.columns if c not in ("Date", "USD")]
    decimals = pl.col("USD", *currencies).str.strip_chars().str.extract(r"\.(\d*)$").str.len_chars()
    longest = dated.select(pl.max_horizontal(decimals).max()).item()
    if longest is not None and longest > _ECB_PLACES:
        raise ValueError(
            f"{path}: a quote has {longest} decimals, more than the {_ECB_PLACES} divided exactly"
        )
    usd = _millionths(pl.col("USD"))
    long = dated.select(
        "date",
        *[_half_up_quotient(usd, _millionths(pl.col(c))).alias(c) for c in currencies],
        pl.col("USD").str.strip_chars().cast(RATE_TYPE).alias("EUR"),
    ).unpivot(index="date", variable_name="currency", value_name="usd_per_unit")
    return (
        long.drop_nulls("usd_per_unit")
        .with_columns(source=pl.lit(SOURCE_LABEL))
        .select("currency", "date", "usd_per_unit", "source")
        .sort("currency", "date")
    )


def _millionths(quote: pl.Expr) -> pl.Expr:
    """An ECB quote (text) as an integer count of millionths (``384`` → 384000000)."""
    return (quote.str.strip_chars().cast(pl.Decimal(24, _ECB_PLACES)) * 10**_ECB_PLACES).cast(pl.Int64())


def _half_up_quotient(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """``numerator / denominator`` (positive integers) as a decimal of :data:`RATE_PLACES`, rounded half up:
    ``floor(n·10^10 / d + 1/2) = (2·n·10^10 + d) // (2·d)``, exact in integers (a quote below 10 has 7 digits
    in millionths: 2·10^17 at most)."""
    twice_the_scale: int = 2 * 10**RATE_PLACES
    units = (numerator * twice_the_scale + denominator).floordiv(denominator * 2)
    step = pl.lit(Decimal(1).scaleb(-RATE_PLACES), dtype=pl.Decimal(RATE_PLACES + 1, RATE_PLACES))
    return (units.cast(pl.Decimal(24, 0)) * step).cast(RATE_TYPE)
