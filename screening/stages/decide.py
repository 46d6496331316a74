"""Decide: de minimis eligibility with its reason and rule, and the entry type.

A line's own reason comes from, in precedence order: repeal or suspension for
its origin and mode, a never-eligible class for its HTS code, or its
consignee-day total above the threshold. A package takes the most severe
reason of its lines (:data:`~screening.errors.REASON_PRECEDENCE`), and every
line carries its package's decision.
"""

from __future__ import annotations

import polars as pl

from screening.errors import DUTY_FREE_REASONS, REASON_PRECEDENCE, EntryType, ReasonCode
from screening.exprs.hts import hts_prefix
from screening.schema import PACKAGE_KEY
from screening.stages.lookup import attach

_RANK = {str(code): rank for rank, code in enumerate(REASON_PRECEDENCE)}


def attach_day_rules(lines: pl.LazyFrame, days: pl.DataFrame) -> pl.LazyFrame:
    """Threshold and informal-entry limit in force on each arrival date."""
    return attach(lines, days.lazy(), "arrival_date")


def attach_suspensions(lines: pl.LazyFrame, suspensions: pl.DataFrame) -> pl.LazyFrame:
    """Suspension or repeal in force for (arrival_date, origin, mode), if any."""
    return attach(lines, suspensions.lazy(), ["arrival_date", "country_of_origin", "mode"])


def exclusions_for_keys(keys: pl.LazyFrame, never_eligible: pl.DataFrame) -> pl.LazyFrame:
    """For distinct (arrival_date, hts_digits, country_of_origin): the never-eligible class that covers it."""
    lengths = sorted(set(never_eligible["hts_prefix"].str.len_chars().to_list())) or [2]
    candidates = keys.with_columns(
        pl.concat_list(hts_prefix(pl.col("hts_digits"), n) for n in lengths).alias("hts_prefix")
    ).explode("hts_prefix")
    matched = candidates.join(never_eligible.lazy(), on=["arrival_date", "hts_prefix"], how="inner").filter(
        (pl.col("origin") == "*") | (pl.col("origin") == pl.col("country_of_origin"))
    )
    rank = pl.col("exclusion_reason").replace_strict(_RANK, return_dtype=pl.Int64())
    return (
        matched.sort("arrival_date", "hts_digits", "country_of_origin", rank, "exclusion_rule_id")
        .unique(["arrival_date", "hts_digits", "country_of_origin"], keep="first", maintain_order=True)
        .select("arrival_date", "hts_digits", "country_of_origin", "exclusion_reason", "exclusion_rule_id")
    )


def attach_exclusions(lines: pl.LazyFrame, never_eligible: pl.DataFrame) -> pl.LazyFrame:
    """Left-join the never-eligible class of each line's HTS code and origin."""
    rows = lines.collect(engine="in-memory").lazy()
    keys = rows.select("arrival_date", "hts_digits", "country_of_origin").unique()
    return attach(
        rows, exclusions_for_keys(keys, never_eligible), ["arrival_date", "hts_digits", "country_of_origin"]
    )


def attach_gift_limits(lines: pl.LazyFrame, gifts: pl.DataFrame) -> pl.LazyFrame:
    """The bona fide gift limit in force for (arrival_date, origin)."""
    return attach(lines, gifts.lazy(), ["arrival_date", "country_of_origin"])


def line_reason() -> tuple[pl.Expr, pl.Expr]:
    """The line's own reason code and the id of the rule that made it.

    A bona fide gift within the person-day gift limit is duty-free whatever the de minimis
    suspension (the gift exemption is kept, DOMAIN.md §2), but not for never-eligible goods.
    """
    over = pl.col("consignee_day_value_cents") > pl.col("threshold_cents")
    gift = (
        pl.col("gift").fill_null(False)
        & (pl.col("consignee_day_gift_cents") <= pl.col("gift_limit_cents")).fill_null(False)
        & pl.col("exclusion_reason").is_null()
    )
    reason = (
        pl.when(gift)
        .then(pl.lit(str(ReasonCode.GIFT_EXEMPT)))
        .when(pl.col("suspension_reason").is_not_null())
        .then(pl.col("suspension_reason"))
        .when(pl.col("exclusion_reason").is_not_null())
        .then(pl.col("exclusion_reason"))
        .when(over)
        .then(pl.lit(str(ReasonCode.OVER_THRESHOLD)))
        .otherwise(pl.lit(str(ReasonCode.ELIGIBLE)))
    )
    rule = (
        pl.when(gift)
        .then(pl.col("gift_rule_id"))
        .when(pl.col("suspension_reason").is_not_null())
        .then(pl.col("suspension_rule_id"))
        .when(pl.col("exclusion_reason").is_not_null())
        .then(pl.col("exclusion_rule_id"))
        .otherwise(pl.col("threshold_rule_id"))
    )
    return reason.alias("line_reason"), rule.alias("line_rule_id")


def attach_postal_regimes(lines: pl.LazyFrame, postal: pl.DataFrame) -> pl.LazyFrame:
    """The postal duty regime in force for (arrival_date, origin), for postal-mode lines."""
    joined = attach(lines, postal.lazy(), ["arrival_date", "country_of_origin"])
    not_postal = pl.col("mode") != "postal"
    return joined.with_columns(
        pl.when(not_postal).then(None).otherwise(pl.col(c)).alias(c)
        for c in (
            "postal_regime_id",
            "postal_method",
            "postal_rate",
            "postal_item_cents",
            "postal_specific_offered",
        )
    )


def decide_packages(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Package decisions on every line, from one aggregation per package.

    Adds ``de_minimis_reason`` and ``de_minimis_rule_id`` (the most severe line reason, then the
    lowest line number), ``de_minimis_eligible``, ``package_value_cents``, ``entry_type``
    (de-minimis; formal over the informal limit; postal under a postal regime, except that AD/CVD
    and quota goods cannot use the postal method; else informal) and ``package_postal_item_unknown``.
    Expects :func:`attach_postal_regimes` to have run, and the lines in package order with
    :data:`~screening.schema.PACKAGE_KEY`.
    """
    reason, rule = line_reason()
    ranked = lines.with_columns(reason, rule).with_columns(
        pl.col("line_reason").replace_strict(_RANK, return_dtype=pl.Int64()).alias("line_reason_rank")
    )
    first_worst = (pl.col("line_reason_rank") * (1 << 32) + pl.col("line_no")).arg_min()
    barred = pl.col("exclusion_reason").is_in(
        [str(ReasonCode.EXCLUDED_ADCVD), str(ReasonCode.EXCLUDED_QUOTA)]
    )
    # One group-by per package, joined back (faster in memory than six window expressions); on the integer
    # package key of the sorted lines, which polars groups as slices.
    ranked = ranked.with_columns(pl.col(PACKAGE_KEY).set_sorted())
    facts = ranked.group_by(PACKAGE_KEY).agg(
        pl.col("line_reason").get(first_worst).alias("de_minimis_reason"),
        pl.col("line_rule_id").get(first_worst).alias("de_minimis_rule_id"),
        pl.col("value_usd_cents").sum().alias("package_value_cents"),
        pl.col("postal_regime_id").is_not_null().any().alias("package_has_postal_regime"),
        barred.fill_null(False).any().alias("package_barred_from_postal"),
        pl.col("postal_item_cents").is_null().any().alias("package_postal_item_unknown"),
    )
    decided = ranked.join(facts, on=PACKAGE_KEY, how="left", maintain_order="left").with_columns(
        pl.col("de_minimis_reason").is_in([str(r) for r in DUTY_FREE_REASONS]).alias("de_minimis_eligible")
    )
    postal = (
        (pl.col("mode") == "postal")
        & pl.col("package_has_postal_regime")
        & ~pl.col("package_barred_from_postal")
    )
    entry_type = (
        pl.when(pl.col("de_minimis_eligible"))
        .then(pl.lit(str(EntryType.DE_MINIMIS)))
        .when(pl.col("package_value_cents") > pl.col("informal_max_cents"))
        .then(pl.lit(str(EntryType.FORMAL)))
        .when(postal)
        .then(pl.lit(str(EntryType.POSTAL)))
        .otherwise(pl.lit(str(EntryType.INFORMAL)))
    )
    return decided.with_columns(entry_type.alias("entry_type")).drop(
        "package_has_postal_regime", "package_barred_from_postal"
    )
