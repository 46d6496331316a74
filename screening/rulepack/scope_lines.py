"""Which HTS entries of the measures' and gaps' lists match a tariff line of the pack (dead lists).

An entry matches a tariff line when one lies under the other: the line starts with the entry (a chapter,
heading or subheading covers its lines), or the entry starts with the line (a 10-digit statistical code
below an 8-digit line, which a declared code of that line takes). It must match a line in force on some day
of the entry's own dates (its rule's period, cut to the entry's period where the table gives one); an entry
whose dates meet no revision of the tariff (a 2018 list, with lines from 2025) is matched against every
revision instead, as the nearest the pack has. An entry of a chapter the table never holds
(:data:`~screening.rulepack.hts_import.CHAPTERS_NOT_IN_TABLE`: 98 and 99) counts as matched: the engine
matches a list against the declared code, which such an entry matches whether or not the table has a line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Final

import polars as pl

from screening.rulepack.hts_import import CHAPTERS_NOT_IN_TABLE
from screening.rulepack.models import Scoped

#: The open end of a period, as a date (null ``effective_to``).
_OPEN_END: Final = dt.date(9999, 12, 31)
#: Examples of unmatched entries a summary keeps per rule and kind.
EXAMPLES: Final = 5
#: HTS lengths of tariff lines (:func:`~screening.rulepack.tables.read_mfn_table`) and of scope entries.
_LINE_LENGTHS: Final = (6, 8, 10)
_ENTRY_LENGTHS: Final = (2, 4, 6, 8, 10)


def unmatched_summary(scope: pl.DataFrame, rules: Iterable[Scoped], mfn: pl.DataFrame) -> pl.DataFrame:
    """Per rule and kind (include/exclude) of ``scope``: ``entries`` (in force in the rule's dates; 0 where
    every entry is dated outside them), ``unmatched`` (those of them that match no tariff line of ``mfn`` and
    are not of a chapter the table never holds, see the module) and ``examples`` (the first :data:`EXAMPLES`
    unmatched, in list order). Rules in ``scope`` order; one plan, collected once."""
    periods = pl.DataFrame(
        [(r.id, r.effective_from, r.effective_to) for r in rules],
        schema={"measure_id": pl.String(), "rule_from": pl.Date(), "rule_to": pl.Date()},
        orient="row",
    )
    entries = (
        scope.lazy()
        .with_row_index("order")
        .join(periods.lazy(), on="measure_id", how="inner")
        .with_columns(
            pl.max_horizontal(pl.col("effective_from").fill_null(pl.col("rule_from")), "rule_from").alias(
                "from"
            ),
            pl.min_horizontal(
                pl.col("effective_to").fill_null(_OPEN_END), pl.col("rule_to").fill_null(_OPEN_END)
            ).alias("to"),
        )
        # An entry of a shared table may be dated outside this rule's period: not one of its entries.
        .with_columns((pl.col("from") < pl.col("to")).alias("in_force"))
        .select("order", "measure_id", "kind", "hts_prefix", "from", "to", "in_force")
    )
    lines = mfn.lazy().select(
        "hts",
        pl.col("effective_from").alias("line_from"),
        pl.col("effective_to").fill_null(_OPEN_END).alias("line_to"),
    )
    overlap = (pl.col("line_from") < pl.col("to")) & (pl.col("from") < pl.col("line_to"))
    # Dates that meet no revision of the table are matched against every revision.
    revisions = lines.select("line_from", "line_to").unique()
    dated = (
        entries.select("from", "to")
        .unique()
        .join(revisions, how="cross")
        .filter(overlap)
        .select("from", "to", pl.lit(True).alias("dated"))
        .unique()
    )
    per_entry = (
        entries.join(dated, on=["from", "to"], how="left")
        .join(_line_periods(scope.lazy().select("hts_prefix").unique(), lines), on="hts_prefix", how="left")
        .group_by("order")
        .agg(
            pl.first("measure_id", "kind", "hts_prefix", "in_force"),
            (pl.col("line_from").is_not_null() & (overlap | pl.col("dated").is_null()))
            .any()
            .alias("matched"),
        )
    )
    outside_table = pl.col("hts_prefix").str.slice(0, 2).is_in(list(CHAPTERS_NOT_IN_TABLE))
    unmatched = pl.col("in_force") & ~pl.col("matched") & ~outside_table
    return (
        per_entry.sort("order")
        .group_by("measure_id", "kind", maintain_order=True)
        .agg(
            pl.col("in_force").sum().alias("entries"),
            unmatched.sum().alias("unmatched"),
            pl.col("hts_prefix").filter(unmatched).head(EXAMPLES).alias("examples"),
        )
        .collect(engine="in-memory")  # small frames: the streaming engine's start-up costs more than the work
    )


def _line_periods(codes: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """``hts_prefix, line_from, line_to``: for each code of ``codes``, the periods of the lines it matches."""
    code_length = pl.col("hts_prefix").str.len_chars()
    line_length = pl.col("hts").str.len_chars()
    covering = [  # the line starts with the code
        codes.filter(code_length == n).join(
            lines.filter(line_length >= n)
            .select(pl.col("hts").str.slice(0, n).alias("hts_prefix"), "line_from", "line_to")
            .unique(),
            on="hts_prefix",
            how="inner",
        )
        for n in _ENTRY_LENGTHS
    ]
    below = [  # the code starts with a shorter line
        codes.filter(code_length > n)
        .with_columns(pl.col("hts_prefix").str.slice(0, n).alias("hts"))
        .join(lines.filter(line_length == n), on="hts", how="inner")
        .drop("hts")
        for n in _LINE_LENGTHS[:-1]
    ]
    return pl.concat([*covering, *below])
