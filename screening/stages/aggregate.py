"""Aggregate: consignee-day totals ("one person on one day", DESIGN §4)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from screening.schema import PACKAGE_KEY
from screening.stages.lookup import lookup

CONSIGNEE_DAY = ("consignee_key", "arrival_date")
#: The consignee-day totals of each line, with the types :func:`consignee_day_totals` gives them.
CONSIGNEE_DAY_TOTALS = pl.Schema(
    {
        "consignee_day_value_cents": pl.Int64(),
        "consignee_day_gift_cents": pl.Int64(),
        "consignee_day_packages": pl.get_index_type(),
        "consignee_day_lines": pl.Int64(),
    }
)


def value_cents() -> pl.Expr:
    """The value of a group of lines, in cents: what the consignee-day total adds up (every mode of
    totalling uses it: a window, a group-by, the running totals of batches)."""
    return pl.col("value_usd_cents").sum()


def gift_cents() -> pl.Expr:
    """The value of a group's bona fide gift lines, in cents (the person-day gift limit's total)."""
    return pl.col("value_usd_cents").filter(pl.col("gift")).sum()


def consignee_day_totals() -> list[pl.Expr]:
    """Each line's consignee-day totals: value and gift value (cents), distinct packages, lines.

    Window expressions over the consignee and day: the groups are found once for all four, and
    no table of totals is joined back (about half the time of a group-by and a join).
    """
    day = list(CONSIGNEE_DAY)
    return [
        value_cents().over(day).alias("consignee_day_value_cents"),
        gift_cents().over(day).alias("consignee_day_gift_cents"),
        pl.col(PACKAGE_KEY).n_unique().over(day).alias("consignee_day_packages"),
        pl.len().over(day).cast(pl.Int64()).alias("consignee_day_lines"),
    ]


def attach_consignee_day(lines: pl.DataFrame) -> pl.DataFrame:
    """Each line with its consignee-day totals."""
    return lines.with_columns(consignee_day_totals())


#: Beside partial totals: in how many parts of the day a key has lines (:func:`spanning_totals`).
PARTS_SEEN = "__parts"


def consignee_day_partials(lines: pl.DataFrame, part: str) -> pl.DataFrame:
    """The consignee-day totals of ``lines`` (whole packages, valued), one row per consignee-day, and
    the number of parts (column ``part``) it has lines in.

    Partial tables of disjoint sets of packages add up to the totals of their union
    (:func:`spanning_totals`): a day screened in parts is judged against the totals of the whole day.
    """
    return lines.group_by(CONSIGNEE_DAY).agg(*consignee_day_sums(), pl.col(part).n_unique().alias(PARTS_SEEN))


def consignee_day_sums() -> list[pl.Expr]:
    """The consignee-day totals of a group of whole packages (``package_id``, ``value_usd_cents``,
    ``gift``): the aggregations of a group-by on :data:`CONSIGNEE_DAY`, named as
    :data:`CONSIGNEE_DAY_TOTALS`."""
    return [
        value_cents().alias("consignee_day_value_cents"),
        gift_cents().alias("consignee_day_gift_cents"),
        pl.col("package_id").n_unique().alias("consignee_day_packages"),
        pl.len().alias("consignee_day_lines"),
    ]


def spanning_totals(partials: Sequence[pl.DataFrame], keys: Sequence[str], totals: pl.Schema) -> pl.DataFrame:
    """The keys with lines in more than one part, with their totals summed over ``partials``.

    ``partials`` hold the totals of disjoint sets of packages (columns ``keys``, ``totals`` and
    :data:`PARTS_SEEN`, the parts each set's lines of a key fall in). A key in one part only has
    all its lines in that part: a window over the part gives its totals (:func:`attach_day_totals`).
    The table holds the others, fewer and smaller to look up. Null keys form one group, as in a
    window over them; rows come in no particular order.
    """
    names = list(totals.names())
    return (
        pl.concat([p.select(*keys, *names, PARTS_SEEN) for p in partials])
        .group_by(keys)
        .agg(pl.col(names).sum(), pl.col(PARTS_SEEN).sum())
        .filter(pl.col(PARTS_SEEN) > 1)
        .select(*keys, *names)
        .cast(totals)
    )


def with_day_totals(frame: pl.LazyFrame, table: pl.DataFrame, keys: Sequence[str]) -> pl.LazyFrame:
    """``frame`` (a part of a day, with its totals per key computed over the part) with the totals of
    the keys in ``table`` (:func:`spanning_totals`) replaced by the whole day's."""
    names = [c for c in table.columns if c not in keys]
    day = table.rename({c: f"__day_{c}" for c in names}).lazy()
    return (
        lookup(frame, day, list(keys), nulls_equal=True)
        .with_columns(pl.coalesce(f"__day_{c}", c).alias(c) for c in names)
        .drop(f"__day_{c}" for c in names)
    )


def attach_day_totals(lines: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Each line with its consignee-day totals over the whole day: those of its part, or of ``table``
    (:func:`spanning_totals` of every part's :func:`consignee_day_partials`) for consignee-days that
    span parts."""
    totals = table.select(*CONSIGNEE_DAY, *CONSIGNEE_DAY_TOTALS.names())
    return with_day_totals(attach_consignee_day(lines).lazy(), totals, CONSIGNEE_DAY).collect(
        engine="in-memory"
    )
