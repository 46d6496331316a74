"""Enrich: value in U.S. dollars (dated FX), the consignee key, and the tariff line in force.

HTS-dependent lookups run on the distinct ``(arrival_date, hts_digits)`` keys of
the run, a small table, and are joined back to the lines.
"""

from __future__ import annotations

import polars as pl

from screening.errors import RejectCode
from screening.exprs.hts import hts_digits, hts_prefix
from screening.exprs.money import to_cents_half_up
from screening.exprs.parties import consignee_key
from screening.stages.normalise import parsed

TARIFF_PREFIX_LENGTHS = (10, 8, 6)


def attach_fx(checked: pl.LazyFrame, fx: pl.DataFrame) -> pl.LazyFrame:
    """Join the rate in force for (arrival_date, currency); rows without one get ``missing-fx-rate``."""
    rates = fx.lazy().rename({"arrival_date": PARSED_DATE, "currency": PARSED_CURRENCY})
    joined = checked.join(rates, on=[PARSED_DATE, PARSED_CURRENCY], how="left", maintain_order="left")
    missing = pl.col("reject_code").is_null() & pl.col("fx_usd_per_unit").is_null()
    message = pl.format(
        "no exchange rate for {} within the pack's staleness limit of arrival_date {}",
        parsed("currency"),
        parsed("arrival_date"),
    )
    return joined.with_columns(
        pl.when(missing)
        .then(pl.lit(str(RejectCode.MISSING_FX_RATE)))
        .otherwise(pl.col("reject_code"))
        .alias("reject_code"),
        pl.when(missing).then(pl.lit("currency")).otherwise(pl.col("reject_field")).alias("reject_field"),
        pl.when(missing).then(message).otherwise(pl.col("reject_message")).alias("reject_message"),
        pl.when(missing).then(parsed("currency")).otherwise(pl.col("reject_value")).alias("reject_value"),
    )


PARSED_DATE = "__parsed_arrival_date"
PARSED_CURRENCY = "__parsed_currency"


def add_value_and_keys(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``value_usd_cents`` (half up), ``hts_digits`` and ``consignee_key``."""
    return lines.with_columns(
        to_cents_half_up(pl.col("declared_value") * pl.col("fx_usd_per_unit")).alias("value_usd_cents"),
        hts_digits(pl.col("hts_code")).alias("hts_digits"),
        consignee_key(
            pl.col("consignee_id"), pl.col("consignee_name"), pl.col("consignee_postal_code")
        ).alias("consignee_key"),
    )


def tariff_lines_for_keys(keys: pl.LazyFrame, tariff: pl.DataFrame) -> pl.LazyFrame:
    """For each distinct (arrival_date, hts_digits), the longest tariff line in force that prefixes it."""
    candidates = keys.with_columns(
        pl.concat_list(hts_prefix(pl.col("hts_digits"), n) for n in TARIFF_PREFIX_LENGTHS).alias("hts")
    ).explode("hts")
    matched = candidates.join(tariff.lazy(), on=["arrival_date", "hts"], how="inner")
    return (
        matched.sort(
            "arrival_date", "hts_digits", pl.col("hts").str.len_chars(), descending=[False, False, True]
        )
        .unique(["arrival_date", "hts_digits"], keep="first", maintain_order=True)
        .rename(
            {"hts": "tariff_line", "general": "mfn_text", "status": "mfn_status", "revision": "mfn_revision"}
        )
    )


def attach_tariff(lines: pl.LazyFrame, tariff: pl.DataFrame) -> pl.LazyFrame:
    """Left-join the tariff line in force (null columns where the pack has none)."""
    keys = lines.select("arrival_date", "hts_digits").unique()
    return lines.join(
        tariff_lines_for_keys(keys, tariff),
        on=["arrival_date", "hts_digits"],
        how="left",
        maintain_order="left",
    )
