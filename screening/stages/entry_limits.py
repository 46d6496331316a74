"""Entry limits that depend on the duties charged: the lower informal limit for Chapter 99 articles.

19 CFR 143.21(a) lets a package under the informal limit ($2,500) use an informal entry "except for articles
valued in excess of $250 classified in Chapter 99, Subchapters III and IV". Which lines are such articles is
known only once the Chapter 99 measures are charged, after the line decisions: a package the decisions made
``informal`` becomes ``formal`` here, before its fees are found. The limit and its headings are the pack's
(``entry_limits``, by date); a date whose limit has none leaves every package as it is.
"""

from __future__ import annotations

import polars as pl

from screening.errors import EntryType
from screening.exprs.money import dollar_text
from screening.schema import PACKAGE_KEY

#: Per package: the value (cents) of its lines charged a duty under a listed Chapter 99 heading.
CHAPTER99_CENTS = "__chapter99_cents"
#: Per package made formal by the Chapter 99 limit: why (the fees' components carry it as their assumption).
ENTRY_NOTE = "__entry_note"
#: The components' heading cut to the four digits of its Chapter 99 heading (``9903.88.03`` → ``9903``).
_HEADING4 = "__heading4"


def has_chapter99_limit(days: pl.DataFrame) -> bool:
    """Whether an entry limit of the run's dates has a lower limit for Chapter 99 articles."""
    return days.get_column("chapter99_max_cents").is_not_null().any()


def chapter99_value(
    lines: pl.DataFrame, components: pl.LazyFrame, row: str, days: pl.DataFrame
) -> pl.LazyFrame:
    """``PACKAGE_KEY, CHAPTER99_CENTS``: per package with any, the value of its lines that ``components`` (the
    Chapter 99 measures' components, each with its line's row ``row`` in ``lines``) charge an amount above zero
    under a heading the entry limit in force on the line's date lists (``days``: the resolved days)."""
    listed = (
        days.select("arrival_date", pl.col("chapter99_headings").alias(_HEADING4))
        .explode(_HEADING4)
        .drop_nulls()
        .lazy()
    )
    charged = (
        components.filter(pl.col("amount_cents") > 0)
        .select(row, pl.col("heading").str.slice(0, 4).alias(_HEADING4))
        .unique()
        .join(lines.lazy().select(row, "arrival_date"), on=row, how="inner")
        .join(listed, on=["arrival_date", _HEADING4], how="semi")
        .select(row)
        .unique()
    )
    return (
        charged.join(lines.lazy().select(row, PACKAGE_KEY, "value_usd_cents"), on=row, how="inner")
        .group_by(PACKAGE_KEY)
        .agg(pl.col("value_usd_cents").sum().alias(CHAPTER99_CENTS))
    )


def apply_chapter99_limit(packages: pl.LazyFrame, value: pl.LazyFrame, days: pl.DataFrame) -> pl.LazyFrame:
    """``packages`` with an ``informal`` entry made ``formal`` where its Chapter 99 articles (``value``, from
    :func:`chapter99_value`) are worth more than the lower limit in force on its date, and :data:`ENTRY_NOTE`
    saying so (null for the others)."""
    limits = days.select("arrival_date", "chapter99_max_cents", "entry_limit_rule_id").lazy()
    over = (pl.col("entry_type") == str(EntryType.INFORMAL)) & (
        pl.col(CHAPTER99_CENTS) > pl.col("chapter99_max_cents")
    ).fill_null(False)
    note = pl.format(
        "formal entry: its Chapter 99 articles are worth ${}, over the ${} informal limit for them ({})",
        dollar_text(pl.col(CHAPTER99_CENTS)),
        dollar_text(pl.col("chapter99_max_cents")),
        pl.col("entry_limit_rule_id"),
    )
    return (
        packages.join(value, on=PACKAGE_KEY, how="left", maintain_order="left")
        .join(limits, on="arrival_date", how="left", maintain_order="left")
        .with_columns(
            pl.when(over)
            .then(pl.lit(str(EntryType.FORMAL)))
            .otherwise(pl.col("entry_type"))
            .alias("entry_type"),
            pl.when(over).then(note).alias(ENTRY_NOTE),
        )
        .drop(CHAPTER99_CENTS, "chapter99_max_cents", "entry_limit_rule_id")
    )
