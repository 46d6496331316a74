"""Part-value rates: MFN rates charged on parts of a good (watch cases, straps, batteries, jewels).

A tariff line whose rate is ``needs-part-values`` (see :mod:`screening.rulepack.rates`)
is computed from the line's optional ``part_values`` column (``case=12.50;
battery=0.40; jewel=17``: values in the line's currency, counts as numbers), beside
its value, ``quantity`` and ``gross_weight_kg``. Values and counts are the line's,
except ``jewel``, the count of one article (:data:`~screening.rulepack.rates.PER_ARTICLE_COUNTS`):
its amount is ``quantity × max(jewel − over, 0) × rate``. Every component must have its base,
but for a part the rate charges "if any" (a rifle's telescopic sight), charged on 0 when not
given and ``part_values`` names no part the rate does not know (``sight=300`` may be the sight):
a line missing one keeps ``duty_status = needs-part-values``, no part component is charged, and
its open duty names what is missing (and the names the rate does not know). Each component is
rounded half up to the cent on its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import polars as pl

from screening.errors import DutyStatus
from screening.exprs.hts import dotted
from screening.exprs.money import apply_rate_half_up, converted_cents, exact_product
from screening.exprs.parse import parse_text
from screening.rulepack.rates import PER_ARTICLE_COUNTS
from screening.schema import PACKAGE_KEY, RATE, VALUE
from screening.stages.assess import LINE_ROW, PARTS_MISSING, quantity_in
from screening.stages.lookup import attach

LINE_KEY = ("package_id", "line_no")
#: The tariff-line status of a rate charged on parts of the good.
PART_VALUE_STATUS = "needs-part-values"
#: A part's count (jewels, proof liters), as a quantity is read: 6 decimals, the digits past them cut. A part's
#: value is read as ``declared_value`` is (:data:`~screening.schema.VALUE`).
_COUNT = pl.Decimal(24, 6)
#: Why a part the rate charges "if any" is charged on 0 (``{}``: the part's name).
IF_ANY_ABSENT: Final = 'not in part_values: none (the rate charges it "if any")'
#: A line's ``part_values`` names its rate does not charge, e.g. ``sight is not a part of this rate (its parts:
#: rifle, telescopic-sight)``; null where it names none.
UNKNOWN_PARTS: Final = "__unknown_parts"
_RATE_KEY = ["arrival_date", "tariff_line", "rate_program"]


def part_values_long(lines: pl.LazyFrame) -> pl.LazyFrame:
    """One row per line and named part: ``part_name``, ``part_amount`` (the first value of a repeated name, as a
    value is read) and ``part_count`` (the same number as a count is read)."""
    pair = pl.col("pair")
    number = pair.str.extract(r"=\s*([0-9]+(?:\.[0-9]+)?)\s*$")
    return (
        lines.filter(pl.col("part_values").is_not_null())
        .select(*LINE_KEY, pl.col("part_values").str.to_lowercase().str.split(";").alias("pair"))
        .explode("pair")
        .select(
            *LINE_KEY,
            pair.str.extract(r"^\s*([a-z][a-z0-9-]*)\s*=").alias("part_name"),
            # Cut past the 12th decimal, as declared_value is (parse_text): rounded there, then to the cent,
            # 0.0849999 became 0.09.
            parse_text(number, VALUE).alias("part_amount"),
            parse_text(number, _COUNT).alias("part_count"),
        )
        .filter(pl.col("part_name").is_not_null())
        .unique([*LINE_KEY, "part_name"], keep="first", maintain_order=True)
    )


def part_rate_components(
    lines: pl.LazyFrame, tariff_parts: pl.DataFrame, carry: Sequence[str] = ()
) -> pl.LazyFrame:
    """Every component of every dutiable line under a part-value rate, ``amount_cents`` null where its base is
    missing (``needs`` says what: ``case (part_values)``, ``quantity``, ``gross_weight_kg``). A part the rate
    charges "if any" that ``part_values`` does not name is charged on 0 (``absent_if_any``).

    The line columns ``carry`` come first in each component.
    """
    applicable = lines.filter(pl.col("mfn_applies") & (pl.col("rate_status") == PART_VALUE_STATUS)).select(
        *carry,
        PACKAGE_KEY,
        *LINE_KEY,
        "arrival_date",
        "tariff_line",
        "rate_program",
        "value_usd_cents",
        "fx_usd_per_unit",
        "quantity",
        "gross_weight_kg",
        "part_values",
    )
    given = part_values_long(applicable)
    rate_type = applicable.collect_schema()["fx_usd_per_unit"]
    joined = (
        applicable.join(tariff_parts.lazy(), on=_RATE_KEY, how="inner")
        .join(given, on=[*LINE_KEY, "part_name"], how="left")
        .join(_unknown_parts(applicable, given, tariff_parts), on=LINE_KEY, how="left")
    )
    source = pl.col("part_source")
    # A name the rate does not know may be the "if any" part misspelt (sight=300): never taken as absent then.
    absent_if_any = pl.col("part_if_any") & pl.col("part_amount").is_null() & pl.col(UNKNOWN_PARTS).is_null()
    joined = joined.with_columns(
        *(
            pl.when(absent_if_any).then(pl.lit(0, dtype=dtype)).otherwise(pl.col(name)).alias(name)
            for name, dtype in (("part_amount", VALUE), ("part_count", _COUNT))
        ),
        absent_if_any.alias("absent_if_any"),
        pl.when(source == "part")
        .then(
            pl.when(pl.col("part_amount").is_null())
            .then(pl.format("{} (part_values)", pl.col("part_name")))
            .otherwise(pl.lit("quantity"))  # a count per article, without the articles
        )
        .when(source == "weight")
        .then(pl.lit("gross_weight_kg"))
        .otherwise(pl.lit("quantity"))
        .alias("__needs"),
    )
    quantity, per = quantity_in(pl.col("part_base"))
    # A part rate's weight or quantity (the gross weight for a rate per kg) is missing when 0, as a
    # specific rate's is (quantity_in).
    count = pl.when(source == "part").then(_part_count()).otherwise(quantity)
    # A rate per dozen or gross is charged per that count, divided last (see apply_rate_half_up).
    count_per = pl.when(source.is_in(["part", "weight"])).then(pl.lit(1, dtype=pl.Int64())).otherwise(per)
    base_cents = (
        pl.when(source == "value")
        .then(pl.col("value_usd_cents"))
        .otherwise(converted_cents(pl.col("part_amount"), pl.col("fx_usd_per_unit"), rate_type))
    )
    ad_valorem = pl.col("part_kind") == "ad_valorem"
    name = (
        pl.when(source == "value")
        .then(pl.lit("mfn"))
        .when(source == "part")
        .then(pl.format("mfn_part_{}", pl.col("part_name")))
        .otherwise(pl.lit("mfn_specific"))
    )
    amount_cents = (
        pl.when(ad_valorem)
        .then(apply_rate_half_up(base_cents, pl.col("part_rate")))
        .otherwise(
            apply_rate_half_up(
                pl.lit(100, dtype=pl.Int64()), exact_product(count, pl.col("part_rate")), per=count_per
            )
        )
    )
    return joined.select(
        *carry,
        PACKAGE_KEY,
        *LINE_KEY,
        "part_index",
        component=name,
        measure_id=pl.col("rate_program"),
        heading=dotted(pl.col("tariff_line")),
        base_cents=pl.when(ad_valorem).then(base_cents),
        rate=pl.col("part_rate").cast(RATE),
        amount_cents=amount_cents,
        needs=pl.when(amount_cents.is_null()).then(pl.col("__needs")),
        absent_if_any=pl.col("absent_if_any"),
        **{UNKNOWN_PARTS: pl.col(UNKNOWN_PARTS)},
    )


def _unknown_parts(applicable: pl.LazyFrame, given: pl.LazyFrame, tariff_parts: pl.DataFrame) -> pl.LazyFrame:
    """Per line (:data:`LINE_KEY`) whose ``part_values`` name parts its rate does not charge, what
    :data:`UNKNOWN_PARTS` says of them (in alphabetical order): ``sight is not a part of this rate (its parts: rifle,
    telescopic-sight)``."""
    rate_parts = tariff_parts.lazy().filter(pl.col("part_source") == "part")
    known = (
        rate_parts.sort("part_index")
        .group_by(_RATE_KEY, maintain_order=True)
        .agg(pl.col("part_name").unique(maintain_order=True).str.join(", ").alias("__known"))
    )
    unknown = (
        given.join(applicable.select(*LINE_KEY, *_RATE_KEY), on=LINE_KEY, how="inner")
        .join(rate_parts.select(*_RATE_KEY, "part_name"), on=[*_RATE_KEY, "part_name"], how="anti")
        .group_by(*LINE_KEY, *_RATE_KEY, maintain_order=True)
        .agg(pl.col("part_name").sort().alias("__unknown"))
        .join(known, on=_RATE_KEY, how="left")
    )
    names = pl.col("__unknown")
    return unknown.select(
        *LINE_KEY,
        pl.format(
            "{} {} (its parts: {})",
            names.list.join(", "),
            pl.when(names.list.len() == 1)
            .then(pl.lit("is not a part of this rate"))
            .otherwise(pl.lit("are not parts of this rate")),
            pl.col("__known").fill_null("none"),
        ).alias(UNKNOWN_PARTS),
    )


def _part_count() -> pl.Expr:
    """The count a part's specific amount is charged on: the ``part_values`` count less the rate's "over N"
    (not below 0), times the line's ``quantity`` for a count per article (jewels of each movement).

    A count per article is missing where the quantity is (not given or 0: never assumed to be 1).
    """
    net = (pl.col("part_count") - pl.col("part_over").cast(_COUNT)).clip(lower_bound=0)
    per_article = pl.col("part_name").is_in(PER_ARTICLE_COUNTS)
    articles, _ = quantity_in(pl.lit("each"))
    # Only a count per article is multiplied (both branches are evaluated: a large part value times a large
    # quantity would overflow). Exact: 6 decimals of each factor, and the pack's rates per jewel have 3 more,
    # within exact_product's 16.
    total = exact_product(articles, pl.when(per_article).then(net))
    return pl.when(per_article).then(total).otherwise(net)


def settle_part_rates(lines: pl.DataFrame, tariff_parts: pl.DataFrame) -> pl.DataFrame:
    """``duty_status`` ``assessed`` for part-value lines whose every component has its base; ``part_rate_applies``
    and :data:`~screening.stages.assess.PARTS_MISSING` (what the others lack, in the rate's order)."""
    key = [PACKAGE_KEY, "line_no"]  # integers: the lookup runs over every line
    complete = (
        part_rate_components(lines.lazy(), tariff_parts)
        .group_by(key)
        .agg(
            pl.col("amount_cents").is_not_null().all().alias("parts_complete"),
            pl.col("needs")
            .sort_by("part_index")
            .drop_nulls()
            .unique(maintain_order=True)
            .alias(PARTS_MISSING),
            pl.col(UNKNOWN_PARTS).first(),
        )
        .with_columns(
            pl.when(pl.col(PARTS_MISSING).list.len() > 0)
            .then(
                pl.concat_str(
                    pl.col(PARTS_MISSING).list.join(", "),
                    pl.lit("; ") + pl.col(UNKNOWN_PARTS),
                    ignore_nulls=True,
                )
            )
            .alias(PARTS_MISSING)
        )
        .drop(UNKNOWN_PARTS)
    )
    applies = (pl.col("duty_status") == str(DutyStatus.NEEDS_PART_VALUES)) & pl.col(
        "parts_complete"
    ).fill_null(False)
    return (
        attach(lines.lazy(), complete, key)
        .with_columns(
            pl.when(applies)
            .then(pl.lit(str(DutyStatus.ASSESSED)))
            .otherwise(pl.col("duty_status"))
            .alias("duty_status"),
            applies.alias("part_rate_applies"),
        )
        .drop("parts_complete")
        .collect(engine="in-memory")
    )


def charged_part_components(lines: pl.LazyFrame, tariff_parts: pl.DataFrame) -> pl.LazyFrame:
    """The part-rate components charged: those of lines whose every component has its base.

    In line order, with the line's :data:`~screening.stages.assess.LINE_ROW`.
    """
    return (
        part_rate_components(lines.filter(pl.col("part_rate_applies")), tariff_parts, carry=[LINE_ROW])
        .sort(*LINE_KEY, "part_index")
        .select(
            pl.exclude("part_index", "needs", "absent_if_any", UNKNOWN_PARTS),
            gap=pl.lit(False),
            undetermined=pl.lit(False),
            assumption=pl.when(pl.col("absent_if_any")).then(
                pl.format("{} " + IF_ANY_ABSENT, pl.col("component").str.strip_prefix("mfn_part_"))
            ),
        )
    )
