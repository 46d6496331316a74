"""Assess: duty components per line, fee components per package, in the long ``components`` form.

Each component is rounded to the cent (half up) on its own; a line's duty is the
sum of its components. A line whose duty cannot be computed gets a status
(``no-tariff-line``, ``not-computable``, ``needs-part-values``, ``needs-quantity``, ``needs-longer-hts``,
``pack-incomplete``) and a null duty,
never a guess. Mail whose flat postal duty is charged on the postal item (an amount per item, or the ad
valorem rate on the item's value) is ``charged-per-item``, also with a null duty: the package's own
components hold the item's amounts.
"""

from __future__ import annotations

from typing import Final, Literal

import polars as pl

from screening.errors import DutyStatus, EntryType
from screening.exprs.gather import gathered
from screening.exprs.hts import dotted
from screening.exprs.labels import label_at
from screening.exprs.money import apply_rate_half_up, dollar_text, exact_product
from screening.rulepack.tariff_table import TARIFF_PERIOD, TariffTable
from screening.schema import FLAT_POSTAL_METHODS, PACKAGE_KEY, RATE
from screening.stages.enrich import (
    GOODS_CODE,
    HTS_TOO_SHORT,
    RATE_FIELDS,
    USMCA_CLAIMED,
    gather_goods,
    goods_column,
)
from screening.stages.entry_limits import (
    ASSUMED_ENTRY_NOTE,
    ELIGIBILITY_OPEN,
    ENTRY_NOTE,
    ENTRY_OPEN,
    GIFT_LINE_RULE,
    MAIL_STANDING,
    OPENS_ELIGIBILITY,
)
from screening.stages.lookup import attach

MEASURE_KEY = ("arrival_date", "hts_digits", "country_of_origin", "mode", USMCA_CLAIMED)


def reaches_top_per_item() -> pl.Expr:
    """In a package's aggregation: its lines' highest known amount per postal item is the most the regime can
    charge an item (so the item owes it whatever its other lines' rates)."""
    return pl.col("postal_item_cents").max() >= pl.col("postal_item_top_cents").max()


#: Units whose specific rate is per several units of the reported quantity.
UNIT_DIVISORS = {"dozen": 12, "dozen-pairs": 12, "gross": 144, "thousand": 1000}


def measures_for_keys(
    keys: pl.LazyFrame,
    measures: pl.DataFrame,
    scope: pl.DataFrame,
    tariff: TariffTable,
    *,
    exemptions: bool = False,
) -> pl.LazyFrame:
    """Measures that apply to each distinct measure key, after stacking rules.

    Scope: origin listed (or ``*``) and not excluded, mode listed, an included HTS
    prefix (or no include list) and no excluded one, and not a USMCA claim on a
    USMCA-exempt measure. Prefixes are matched by joining the key's own prefixes
    (2, 4, … 10 digits) to the scope table, so long product lists stay cheap.
    Stacking: inside a stacking group only the lowest priority applies; a measure
    is dropped where a ``not_with`` group is present on the same key, unless each such group's measure is
    left open by a short code: the measure is then open too (``open_block``, see :func:`_mark_open_blocks`).

    A code shorter than the measure's product list can leave its scope open: no include prefix of the code
    but include entries below it (or an exclude entry below a code otherwise in scope) means the measure
    applies to some of the goods the code covers and not to others. Such a measure is kept with
    ``undetermined`` true: its amount is unknown until the longer code is declared (never guessed), unless
    the tariff lines in force under the code (``tariff``, per arrival date) settle it: the measure applies when
    it applies to every one of them, and not at all when it applies to none. A zero rate that changes no
    other measure charges nothing either way: kept at 0, ``zero_either_way`` true.

    ``in_gap_of`` names the coverage gap on the key owed in place of the measure's stacking group (the
    gap's ``in_place_of``), else null (see :func:`_mark_gaps_in_place`).

    With ``exemptions``, the rows also hold the measures the key's goods are exempt from (see
    :func:`_exempt_measures`), with ``exemption`` saying why; ``exemption`` is null on a measure that applies.
    """
    # Origin, mode and USMCA scope do not depend on the HTS code: test them once per distinct place
    # (date, origin, mode, claim), then join the measures that pass to the keys.
    place = ["arrival_date", "country_of_origin", "mode", USMCA_CLAIMED]
    usmca_removed = (pl.col("usmca_exempt") & pl.col(USMCA_CLAIMED)).fill_null(False)
    in_place = (
        (pl.col("origins").list.contains(pl.col("country_of_origin")) | pl.col("origins").list.contains("*"))
        & ~pl.col("origins_exclude").list.contains(pl.col("country_of_origin"))
        & pl.col("modes").list.contains(pl.col("mode"))
    )
    by_place = (
        keys.select(place)
        .unique()
        .join(measures.lazy(), on="arrival_date", how="inner")
        # Exempted measures are carried on (marked) only where they are asked for.
        .filter(in_place if exemptions else in_place & ~usmca_removed)
        .with_columns(usmca_removed.alias(_USMCA_REMOVED))
        .drop("origins", "origins_exclude", "modes")
    )
    candidates = keys.join(by_place, on=place, how="inner", nulls_equal=True)
    hits = _scope_hits(keys.select("arrival_date", "hts_digits").unique(), scope)
    key_and_measure = [*MEASURE_KEY, "measure_id"]
    in_scope = (
        candidates.join(hits, on=["arrival_date", "hts_digits", "measure_id"], how="left")
        .with_columns(_scope_state())
        .filter(pl.col("__applies") | pl.col("undetermined"))
        .unique(key_and_measure, maintain_order=True)
    )
    in_scope = _settled_by_tariff_lines(in_scope, tariff, scope, key_and_measure).with_columns(
        pl.col("undetermined").alias(_OPEN)
    )
    kept = in_scope.filter(~pl.col(_USMCA_REMOVED))
    # A zero rate left open by a short code charges nothing either way, unless its presence changes
    # other measures: one that another measure is not_with, or one that would displace a measure of its
    # group that charges something. Such a measure is settled at 0 (``zero_either_way``), not left open.
    blocking = measures.get_column("not_with").explode().drop_nulls().unique().to_list()
    zero_either_way = (
        pl.col("undetermined")
        & ~pl.col("stacking_group").is_in(blocking)
        & _zero_rate().all().over([*MEASURE_KEY, "stacking_group"])
    )
    kept = kept.with_columns(zero_either_way.alias("zero_either_way")).with_columns(
        (pl.col("undetermined") & ~pl.col("zero_either_way")).alias("undetermined")
    )
    winners = kept.filter(_first_in_group())
    groups = winners.group_by(MEASURE_KEY).agg(
        pl.col("stacking_group").unique().alias("groups_present"),
        pl.col("stacking_group").filter(~pl.col(_OPEN)).unique().alias(_SETTLED_GROUPS),
    )
    with_groups = winners.join(groups, on=list(MEASURE_KEY), how="left")
    # A measure kept off only by groups whose measures a short code leaves open is itself open.
    applying = _mark_open_blocks(with_groups.filter(~_blocked() | ~_blocked_settled()), winners)
    applying = _mark_gaps_in_place(applying)
    # One metal content share cannot be the base of the content duties of several groups (steel and
    # aluminum, say): how the share splits between them is not given.
    on_content = pl.col("base") == "metal_content"
    content_groups = pl.col("stacking_group").filter(on_content).n_unique().over(MEASURE_KEY)
    applied = applying.with_columns(
        (on_content & (content_groups > 1)).alias("shared_content"),
        pl.lit(None, dtype=pl.String()).alias("exemption"),
        pl.lit(None, dtype=pl.String()).alias("exemption_heading"),
        pl.lit(None, dtype=pl.String()).alias("non_metal_gap"),
    ).select(_MEASURE_COLUMNS)
    if not exemptions:
        return applied
    exempt = _exempt_measures(in_scope, with_groups, winners)
    return pl.concat([_name_non_metal_duties(applied, exempt), exempt], how="vertical")


#: Internal column: the measure is taken off the key by a USMCA claim on goods it exempts.
_USMCA_REMOVED = "__usmca_removed"
#: Internal column: the short code leaves the measure's scope open (before a zero rate settles it at 0).
_OPEN = "__open"
#: Internal column: the stacking groups on the key whose first measure's scope is settled (not left open).
_SETTLED_GROUPS = "__settled_groups"
#: The columns of :func:`measures_for_keys`.
_MEASURE_COLUMNS = (
    *MEASURE_KEY,
    "measure_id",
    "component",
    "heading",
    "heading_at_or_above_rate",
    "rate",
    "rate_rule",
    "base",
    "gap",
    "undetermined",
    "zero_either_way",
    "shared_content",
    "measure_assumption",
    "in_gap_of",
    "in_gap_of_non_metal",
    "exemption",
    "exemption_heading",
    "open_block",
    "non_metal_gap",
)
#: How the ``assumption`` of a component row for a measure the line's goods are exempt from begins.
EXEMPTION_PREFIX: Final = "exempt:"
#: Why a measure in scope is not charged on a line: its goods are claimed under USMCA and it exempts them.
USMCA_EXEMPTION: Final = f"{EXEMPTION_PREFIX} USMCA claim (the measure exempts goods claimed under USMCA)"
#: Why a measure in scope is not charged on a line: a measure of a stacking group it is ``not_with`` is on the
#: key (``{}``: the group, then that group's measure).
NOT_WITH_EXEMPTION: Final = EXEMPTION_PREFIX + " not with stacking group {} ({} is on the line)"
#: Why a measure whose own scope holds the goods has no amount: a measure of a group it is ``not_with`` is on
#: the key, but the short code leaves that measure's scope open (``{}``: the group, then that measure).
OPEN_BLOCK_ASSUMPTION: Final = (
    "owed unless the longer code is under stacking group {} ({} lists some of the goods under the declared code "
    "and not others, and this measure is not with that group): depends on the longer code, not declared"
)
#: :data:`OPEN_BLOCK_ASSUMPTION` for a measure at a rate of 0, which charges nothing either way.
OPEN_BLOCK_ZERO_ASSUMPTION: Final = (
    "not with stacking group {} ({} lists some of the goods under the declared code and not others): at a rate "
    "of 0 it charges nothing whether it applies or not"
)
#: An exemption from a group whose duty is on the metal content, on a line in a coverage gap on the non-metal
#: content (``{}``: the exemption, then the gap's id).
NON_METAL_EXEMPTION: Final = (
    "{}, on the metal content only (that group's base); the duty on the non-metal content is not computed "
    "(coverage gap {})"
)
#: What a coverage gap on the non-metal content stands for (``{}``: the measures shown exempt on the metal
#: content, comma-separated).
NON_METAL_GAP_ASSUMPTION: Final = (
    "stands for the duties owed on the non-metal content (value x (1 - metal content share)), not computed: {} "
    "(shown exempt on the metal content)"
)
#: :data:`NON_METAL_GAP_ASSUMPTION` where no measure of the key is exempt on the metal content.
NON_METAL_GAP_GENERIC: Final = (
    "stands for the duties other than the metal-content duty that may be owed on the non-metal content (value x "
    "(1 - metal content share)), not computed"
)


def _first_in_group() -> pl.Expr:
    """The measure has the lowest priority of its stacking group on the key (only it applies)."""
    return pl.col("priority") == pl.col("priority").min().over([*MEASURE_KEY, "stacking_group"])


def _zero_rate() -> pl.Expr:
    """The measure's rate is a fixed 0."""
    return ((pl.col("rate") == 0) & (pl.col("rate_rule") == "fixed")).fill_null(False)


def _blocked() -> pl.Expr:
    """A group the measure is ``not_with`` is among ``groups_present`` (the key's winning groups)."""
    return pl.col("not_with").list.set_intersection(pl.col("groups_present")).list.len() > 0


def _blocked_settled() -> pl.Expr:
    """A group the measure is ``not_with`` has a winning measure on the key whose scope is settled."""
    return pl.col("not_with").list.set_intersection(pl.col(_SETTLED_GROUPS)).list.len() > 0


def _group_blockers(winners: pl.LazyFrame) -> pl.LazyFrame:
    """Per key and stacking group of ``winners``: ``__group``, its first measure by id (``__blocker``: the one a
    message names) and whether that measure is charged on the metal content (``__on_metal``)."""
    return (
        winners.sort("measure_id")
        .group_by([*MEASURE_KEY, "stacking_group"])
        .agg(
            pl.col("measure_id").first().alias("__blocker"),
            (pl.col("base").first() == "metal_content").alias("__on_metal"),
        )
        .rename({"stacking_group": "__group"})
    )


def _mark_open_blocks(applying: pl.LazyFrame, winners: pl.LazyFrame) -> pl.LazyFrame:
    """``open_block``: on a measure whose own scope is settled but which a group it is ``not_with`` would keep
    off, were that group's measure (its scope left open by a short code) to apply, why it has no amount
    (:data:`OPEN_BLOCK_ASSUMPTION`, naming the first such group in ``not_with`` order); the measure is then
    ``undetermined``, unless its rate is 0: it charges nothing either way (:data:`OPEN_BLOCK_ZERO_ASSUMPTION`,
    ``zero_either_way``). Else null."""
    key_and_measure = [*MEASURE_KEY, "measure_id"]
    blockers = _group_blockers(winners.filter(pl.col(_OPEN)))
    first_block = (
        applying.filter(_blocked() & ~pl.col(_OPEN))
        .select(*key_and_measure, pl.col("not_with").alias("__group"))
        .explode("__group")
        .join(blockers, on=[*MEASURE_KEY, "__group"], how="inner", nulls_equal=True, maintain_order="left")
        .group_by(key_and_measure)
        .agg(pl.col("__group").first(), pl.col("__blocker").first())
    )
    blocked = pl.col("__group").is_not_null()
    return (
        applying.join(first_block, on=key_and_measure, how="left", nulls_equal=True, maintain_order="left")
        .with_columns(
            pl.when(blocked & _zero_rate())
            .then(pl.format(OPEN_BLOCK_ZERO_ASSUMPTION, pl.col("__group"), pl.col("__blocker")))
            .when(blocked)
            .then(pl.format(OPEN_BLOCK_ASSUMPTION, pl.col("__group"), pl.col("__blocker")))
            .alias("open_block"),
            (pl.col("undetermined") | (blocked & ~_zero_rate())).alias("undetermined"),
            (pl.col("zero_either_way") | (blocked & _zero_rate())).alias("zero_either_way"),
        )
        .drop("__group", "__blocker")
    )


def _exempt_measures(
    in_scope: pl.LazyFrame, with_groups: pl.LazyFrame, winners: pl.LazyFrame
) -> pl.LazyFrame:
    """The measures a key's goods are exempt from, in the columns of :func:`measures_for_keys`.

    A measure is listed where its scope holds the goods (not left open by a short code; no coverage gap) and it
    would come first in its stacking group, but (a) the key's USMCA claim takes it off (``usmca_exempt``), or
    (b) a measure of a group it is ``not_with`` is on the key, itself not left open (the first such group in
    its ``not_with`` order). ``exemption`` says why and ``exemption_heading`` is the heading the pack gives
    goods so exempt (``usmca_exempt_headings`` for the key's origin, ``not_with_headings`` for the group), else
    null. Where (b)'s groups are all charged on the metal content and the key is in a coverage gap on the
    non-metal content, the exemption holds on the metal content: ``base`` is ``metal_content`` and
    ``non_metal_gap`` names the gap (else null). Read from the per-key frames (distinct keys, not lines): a few
    rows.
    """
    key_and_measure = [*MEASURE_KEY, "measure_id"]
    settled = ~pl.col(_OPEN) & ~pl.col("gap")
    by_claim = in_scope.filter(_first_in_group() & pl.col(_USMCA_REMOVED) & settled)
    claim_heading = (
        by_claim.select(*key_and_measure, pl.col("usmca_exempt_headings").alias("__heading"))
        .explode("__heading")
        .filter(pl.col("__heading").struct.field("origin") == pl.col("country_of_origin"))
        .select(*key_and_measure, pl.col("__heading").struct.field("heading").alias("exemption_heading"))
    )
    claimed = by_claim.join(claim_heading, on=key_and_measure, how="left", nulls_equal=True).with_columns(
        pl.lit(USMCA_EXEMPTION).alias("exemption")
    )
    blockers = _group_blockers(winners.filter(settled))
    by_group = with_groups.filter(_blocked() & settled)
    first_group = (
        by_group.select(
            *key_and_measure,
            pl.col("not_with").alias("__group"),
            pl.col("not_with_headings").alias("exemption_heading"),
        )
        .explode("__group", "exemption_heading")
        .join(blockers, on=[*MEASURE_KEY, "__group"], how="inner", nulls_equal=True, maintain_order="left")
        .group_by(key_and_measure)
        .agg(pl.exclude("__on_metal").first(), pl.col("__on_metal").all())
    )
    # Kept off only by groups charged on the metal content, on a key in a gap on the non-metal content: the
    # exemption holds for the metal content alone.
    non_metal_gaps = (
        winners.filter(pl.col("gap") & (pl.col("base") == "non_metal_content"))
        .group_by(MEASURE_KEY)
        .agg(pl.col("measure_id").min().alias("__gap"))
    )
    grouped = (
        by_group.join(first_group, on=key_and_measure, how="inner", nulls_equal=True)
        .join(non_metal_gaps, on=list(MEASURE_KEY), how="left", nulls_equal=True)
        .with_columns(
            pl.format(NOT_WITH_EXEMPTION, pl.col("__group"), pl.col("__blocker")).alias("exemption"),
            pl.when(pl.col("__on_metal")).then(pl.col("__gap")).alias("non_metal_gap"),
        )
        .with_columns(
            pl.when(pl.col("non_metal_gap").is_not_null())
            .then(pl.lit("metal_content"))
            .otherwise(pl.col("base"))
            .alias("base")
        )
    )
    settled_columns = {
        "undetermined": pl.lit(False),
        "zero_either_way": pl.lit(False),
        "shared_content": pl.lit(False),
        "in_gap_of": pl.lit(None, dtype=pl.String()),
        "in_gap_of_non_metal": pl.lit(False),
        "open_block": pl.lit(None, dtype=pl.String()),
    }
    claimed = claimed.with_columns(pl.lit(None, dtype=pl.String()).alias("non_metal_gap"))
    return pl.concat(
        [frame.with_columns(**settled_columns).select(_MEASURE_COLUMNS) for frame in (claimed, grouped)],
        how="vertical",
    )


def _name_non_metal_duties(applied: pl.LazyFrame, exempt: pl.LazyFrame) -> pl.LazyFrame:
    """``applied`` with the ``measure_assumption`` of each coverage gap on the non-metal content saying what it
    stands for: the measures of its key shown exempt on the metal content (``exempt``'s ``non_metal_gap``), else
    the duties other than the metal-content one (:data:`NON_METAL_GAP_ASSUMPTION`)."""
    stands_for = (
        exempt.filter(pl.col("non_metal_gap").is_not_null())
        .group_by([*MEASURE_KEY, "non_metal_gap"])
        .agg(pl.col("measure_id").unique().sort().str.join(", ").alias("__stands_for"))
        .rename({"non_metal_gap": "measure_id"})
    )
    non_metal_gap = pl.col("gap") & (pl.col("base") == "non_metal_content")
    return (
        applied.join(
            stands_for, on=[*MEASURE_KEY, "measure_id"], how="left", nulls_equal=True, maintain_order="left"
        )
        .with_columns(
            pl.when(non_metal_gap & pl.col("__stands_for").is_not_null())
            .then(pl.format(NON_METAL_GAP_ASSUMPTION, pl.col("__stands_for")))
            .when(non_metal_gap)
            .then(pl.coalesce(pl.col("measure_assumption"), pl.lit(NON_METAL_GAP_GENERIC)))
            .otherwise(pl.col("measure_assumption"))
            .alias("measure_assumption")
        )
        .drop("__stands_for")
    )


def _mark_gaps_in_place(applying: pl.LazyFrame) -> pl.LazyFrame:
    """``in_gap_of``: on a key with a gap whose ``gap_in_place_of`` is the measure's stacking group, the gap's
    id (the pack says a duty it does not encode is owed in place of the measure's); else null. A gap on the
    value is named before one on the non-metal content, and ``in_gap_of_non_metal`` says the gap named is on
    the non-metal content (a line that is all metal is not in it)."""
    on_non_metal = pl.col("base") == "non_metal_content"
    in_place = (
        applying.filter(pl.col("gap") & pl.col("gap_in_place_of").is_not_null())
        .sort(on_non_metal, "measure_id")
        .group_by([*MEASURE_KEY, "gap_in_place_of"])
        .agg(
            pl.col("measure_id").first().alias("in_gap_of"), on_non_metal.first().alias("in_gap_of_non_metal")
        )
        .rename({"gap_in_place_of": "stacking_group"})
    )
    return applying.join(
        in_place,
        on=[*MEASURE_KEY, "stacking_group"],
        how="left",
        nulls_equal=True,
        maintain_order="left",
    ).with_columns(pl.col("in_gap_of_non_metal").fill_null(False))


def _scope_state() -> list[pl.Expr]:
    """From a code's scope hits (:func:`_scope_hits`) and the measure's ``has_include``: ``__applies`` (the
    measure applies to all the goods of the code) and ``undetermined`` (to some of them, not others)."""
    included = pl.col("included").fill_null(False)
    excluded = pl.col("excluded").fill_null(False)
    covered = ~pl.col("has_include") | included
    undetermined = ~excluded & (
        (~covered & pl.col("include_below").fill_null(False))
        | (covered & pl.col("exclude_below").fill_null(False))
    )
    return [(covered & ~excluded & ~undetermined).alias("__applies"), undetermined.alias("undetermined")]


def _settled_by_tariff_lines(
    in_scope: pl.LazyFrame, tariff: TariffTable, scope: pl.DataFrame, key_and_measure: list[str]
) -> pl.LazyFrame:
    """Measures a short code leaves open, settled where the tariff lines in force under the code agree.

    A code shorter than a measure's list covers the tariff lines that start with it. The measure applies
    to the code when it applies to each of those lines, and not at all when it applies to none (its
    ``undetermined`` is then cleared, or its row dropped); where the lines differ, or one line is itself
    open (a list at 10 digits under an 8-digit line), it stays open. A code with no tariff line under it
    stays open too.
    """
    # Materialised: it is read four times below, and most runs have no open code at all.
    in_scope = in_scope.collect(engine="in-memory").lazy()
    open_codes = in_scope.filter(pl.col("undetermined"))
    if open_codes.select(pl.len()).collect().item() == 0:
        return in_scope.drop("__applies")
    code_length = pl.col("hts_digits").str.len_chars()
    codes = open_codes.select("arrival_date", "hts_digits").unique()
    lines = tariff.lines.lazy().select(TARIFF_PERIOD, pl.col("hts").alias("__line"))
    under = pl.concat(
        [
            tariff.for_keys(codes.filter(code_length == n)).join(
                lines.with_columns(pl.col("__line").str.slice(0, n).alias("hts_digits")),
                on=[TARIFF_PERIOD, "hts_digits"],
                how="inner",
            )
            for n in range(2, 10, 2)
        ]
    ).filter(pl.col("__line").str.len_chars() > code_length)
    line_hits = _scope_hits(
        under.select("arrival_date", pl.col("__line").alias("hts_digits")).unique(), scope
    ).rename({"hts_digits": "__line"})
    per_line = (
        open_codes.select(*key_and_measure, "has_include")
        .join(under, on=["arrival_date", "hts_digits"], how="inner")
        .join(line_hits, on=["arrival_date", "__line", "measure_id"], how="left")
        .with_columns(_scope_state())
    )
    verdict = per_line.group_by(key_and_measure).agg(
        pl.col("__applies").all().alias("__all_apply"),
        (~pl.col("__applies") & ~pl.col("undetermined")).all().alias("__none_apply"),
    )
    return (
        in_scope.join(verdict, on=key_and_measure, how="left", nulls_equal=True, maintain_order="left")
        .filter(~pl.col("__none_apply").fill_null(False))
        .with_columns(pl.col("undetermined") & ~pl.col("__all_apply").fill_null(False))
        .drop("__applies", "__all_apply", "__none_apply")
    )


def _scope_hits(codes: pl.LazyFrame, scope: pl.DataFrame) -> pl.LazyFrame:
    """Per (arrival_date, hts_digits, measure_id): whether an include and whether an exclude prefix matches
    (``included``, ``excluded``), and whether include or exclude entries lie below a shorter code
    (``include_below``, ``exclude_below``: entries longer than the code that start with it).

    A scope row with a period counts only for arrival dates inside it.
    """
    keys = ["arrival_date", "hts_digits", "measure_id"]
    prefixes = codes.with_columns(
        pl.concat_list(pl.col("hts_digits").str.slice(0, n) for n in range(2, 11, 2)).alias("hts_prefix")
    ).explode("hts_prefix")
    matched = _in_force_on_day(prefixes.join(scope.lazy(), on="hts_prefix", how="inner"))
    direct = matched.group_by(keys).agg(
        (pl.col("kind") == "include").any().alias("included"),
        (pl.col("kind") == "exclude").any().alias("excluded"),
    )
    # Entries below a short code: the code is the entry's prefix of the code's own length.
    entry_length = pl.col("hts_prefix").str.len_chars()
    code_length = pl.col("hts_digits").str.len_chars()
    below = (
        _in_force_on_day(
            pl.concat(
                [
                    codes.filter(code_length == n).join(
                        scope.lazy()
                        .filter(entry_length > n)
                        .with_columns(pl.col("hts_prefix").str.slice(0, n).alias("hts_digits")),
                        on="hts_digits",
                        how="inner",
                    )
                    for n in range(2, 10, 2)
                ]
            )
        )
        .group_by(keys)
        .agg(
            (pl.col("kind") == "include").any().alias("include_below"),
            (pl.col("kind") == "exclude").any().alias("exclude_below"),
        )
    )
    return direct.join(below, on=keys, how="full", coalesce=True)


def _in_force_on_day(rows: pl.LazyFrame) -> pl.LazyFrame:
    """``rows`` (scope entries joined to codes) whose period, if any, holds the arrival date."""
    day = pl.col("arrival_date")
    return rows.filter(
        (pl.col("effective_from").is_null() | (pl.col("effective_from") <= day))
        & (pl.col("effective_to").is_null() | (day < pl.col("effective_to")))
    )


def select_rate_program(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``rate_program`` (``mfn`` or ``usmca``) and the ``rate_*`` columns of the rate that applies.

    A USMCA claim on CA/MX goods takes the special rate of program S/S+ where the
    tariff line lists one; otherwise the column-1 general rate applies.
    """
    usmca = pl.col(USMCA_CLAIMED) & pl.col("usmca_status").is_not_null()
    general = {"status": "mfn_status"}
    return lines.with_columns(
        pl.when(usmca).then(pl.lit("usmca")).otherwise(pl.lit("mfn")).alias("rate_program"),
        *[
            pl.when(usmca)
            .then(pl.col(f"usmca_{field}"))
            .otherwise(pl.col(general.get(field, field)))
            .alias(f"rate_{field}")
            for field in RATE_FIELDS
        ],
    )


def quantity_in(unit: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """What a specific rate in ``unit`` is charged on: the quantity (gross weight for kg, else ``quantity``)
    and the count it is charged per (12 for a dozen, 144 for a gross; else 1). The amount is
    quantity × rate / count, divided last (:func:`~screening.exprs.money.apply_rate_half_up`)."""
    return _quantity(unit == "kg"), _unit_divisor(unit)


def _unit_divisor(unit: pl.Expr) -> pl.Expr:
    return unit.replace_strict(UNIT_DIVISORS, default=1, return_dtype=pl.Int64())


#: The exact type a quantity or gross weight is charged in: 6 decimals (2.2690215 kg is charged as 2.269022).
_QUANTITY = pl.Decimal(24, 6)


def quantity_scale() -> int:
    """The decimals a quantity or gross weight is charged to (:func:`quantity_in`)."""
    return _QUANTITY.scale


def _quantity(by_weight: pl.Expr) -> pl.Expr:
    """The quantity of :func:`quantity_in`, from whether the unit is by weight; null where it is not given or
    not above 0 (many manifests write 0 for a weight or count they do not know: a duty of $0.00 on it would
    be a guess)."""
    given = pl.when(by_weight).then(pl.col("gross_weight_kg")).otherwise(pl.col("quantity")).cast(_QUANTITY)
    return pl.when(given > 0).then(given)


def _quantity_missing(by_weight: pl.Expr) -> pl.Expr:
    """Whether :func:`_quantity` is null: the weight for a rate by weight, else the quantity, not given or 0."""
    return _quantity(by_weight).is_null()


def _specific_cents(rate: str) -> pl.Expr:
    """Cents of one specific component (half up), null where its quantity is missing.

    ``rate`` is ``specific`` or ``specific2``; reads the rate's unit facts of :func:`add_goods_duty_facts`.
    """
    quantity = _quantity(pl.col(f"__{rate}_by_weight"))
    return apply_rate_half_up(
        pl.lit(100, dtype=pl.Int64()),
        exact_product(quantity, pl.col(f"rate_{rate}_usd")),
        per=pl.col(f"__{rate}_divisor"),
    )


PostalMethod = Literal["ad-valorem", "specific"]


#: Duty statuses by position: the status cascade picks positions, turned into text once
#: (:mod:`screening.exprs.labels`).
_STATUSES = tuple(str(s) for s in DutyStatus)


def _status_position(status: DutyStatus) -> pl.Expr:
    return pl.lit(_STATUSES.index(str(status)), dtype=pl.UInt8())


def add_goods_duty_facts(goods: pl.LazyFrame) -> pl.LazyFrame:
    """The goods-level part of the duty columns, on the goods table (after :func:`select_rate_program` and
    the postal regimes).

    Adds ``__heading`` (the tariff line, dotted), ``__flat_postal_method`` (the regime charges a flat ad valorem or the origin's rate),
    ``__specific_offered``, ``__mfn_status`` (the MFN status when it does not depend on the line's
    quantity: a code too short for its tariff lines, no tariff line, part values needed, not computable; else
    null; as a position in
    :data:`_STATUSES`) and, for the specific
    rates ``specific`` and ``specific2``, ``__{rate}_by_weight`` and ``__{rate}_divisor`` (the unit).
    """
    mfn_status = (
        pl.when(pl.col(HTS_TOO_SHORT).fill_null(False))
        .then(_status_position(DutyStatus.NEEDS_LONGER_HTS))
        .when(pl.col("tariff_line").is_null())
        .then(_status_position(DutyStatus.NO_TARIFF_LINE))
        .when(pl.col("rate_status") == "needs-part-values")
        .then(_status_position(DutyStatus.NEEDS_PART_VALUES))
        .when(pl.col("rate_status") != "computable")
        .then(_status_position(DutyStatus.NOT_COMPUTABLE))
    )
    return goods.with_columns(
        dotted(pl.col("tariff_line")).alias("__heading"),
        # No postal regime for the goods' origin (a regime limited to some origins): false, not null, so
        # the line pays the duties of any other line instead of none at all.
        pl.col("postal_method")
        .is_in(list(FLAT_POSTAL_METHODS))
        .fill_null(False)
        .alias("__flat_postal_method"),
        pl.col("postal_specific_offered").fill_null(False).alias("__specific_offered"),
        mfn_status.alias("__mfn_status"),
        *[
            expr
            for rate in ("specific", "specific2")
            for expr in (
                (pl.col(f"rate_{rate}_unit") == "kg").alias(f"__{rate}_by_weight"),
                _unit_divisor(pl.col(f"rate_{rate}_unit")).alias(f"__{rate}_divisor"),
            )
        ],
    )


#: Goods columns the duty columns keep (they pass to the output) and those they only read.
DUTY_GOODS_OUTPUT = (
    "rate_program",
    "rate_status",
    "rate_ad_valorem",
    "rate_specific_usd",
    "rate_specific2_usd",
)
_DUTY_GOODS_INPUT = (
    "__flat_postal_method",
    "postal_usmca_note",
    "__postal_undetermined",
    "__specific_offered",
    "__mfn_status",
    "__specific_by_weight",
    "__specific_divisor",
    "__specific2_by_weight",
    "__specific2_divisor",
)
#: The duty columns, in order.
DUTY_COLUMNS = (
    "duty_status",
    "mfn_applies",
    "postal_open",
    "duty_if_entered",
    "postal_claim_note",
    "postal_method_note",
    "postal_per_item",
    "postal_item_rate",
    "mfn_cents",
    "mfn_specific_cents",
    "mfn_specific2_cents",
)


def add_duty_columns(
    lines: pl.DataFrame, goods: pl.DataFrame, postal_method: PostalMethod = "ad-valorem"
) -> pl.DataFrame:
    """Per-line MFN / postal amounts (cents) and the line's preliminary duty status.

    ``goods`` is the goods table after :func:`add_goods_duty_facts`; the lines carry their goods code
    and package decisions. Adds the goods columns :data:`DUTY_GOODS_OUTPUT` and
    :data:`~screening.stages.enrich.HTS_TOO_SHORT` (for the risk columns; not an output) and
    :data:`~screening.stages.enrich.USMCA_CLAIMED` (for the fees), then :data:`DUTY_COLUMNS`.

    Under a flat postal regime the postal duty replaces the others, charged on the postal item (the package)
    by :func:`package_duty_components`: ad valorem on the item's value (``postal_item_rate``: the rate the
    line's value is charged at there), or (``postal_method="specific"``, where the regime offers it) an amount
    per postal item. The line is then ``charged-per-item``, with no duty of its own. Asked for the specific method
    under a regime that offers none, the item is charged ad valorem, ``postal_method_note`` saying so.
    """
    gathered = [*DUTY_GOODS_OUTPUT, *_DUTY_GOODS_INPUT, HTS_TOO_SHORT, USMCA_CLAIMED]
    with_goods = gather_goods(lines, goods, gathered)
    return with_goods.with_columns(
        *duty_columns(postal_method), pl.col(HTS_TOO_SHORT).fill_null(False)
    ).select(*lines.columns, *DUTY_GOODS_OUTPUT, HTS_TOO_SHORT, USMCA_CLAIMED, *DUTY_COLUMNS)


def duty_columns(postal_method: PostalMethod) -> list[pl.Expr]:
    """The expressions of :data:`DUTY_COLUMNS` (see :func:`add_duty_columns`)."""
    # A bona fide gift line within the limit stays duty-free in a package that is not (GIFT_LINE_RULE).
    dutiable = ~pl.col("de_minimis_eligible") & pl.col(GIFT_LINE_RULE).is_null()
    postal_flat = (pl.col("entry_type") == str(EntryType.POSTAL)) & pl.col("__flat_postal_method")
    # A code that covers AD/CVD or quota goods and others: whether the item may use the postal method at all
    # is open (never guessed), so no postal duty is charged on the line.
    postal_open = postal_flat & pl.col("__postal_undetermined")
    # A code a never-eligible class covers in part, in a package that would otherwise pass free of duty: whether
    # the package owes anything is open (never guessed), so the line's duty is not settled.
    opens = pl.col(OPENS_ELIGIBILITY)
    specific_asked = pl.lit(postal_method == "specific")
    per_item = postal_flat & ~postal_open & ~opens & specific_asked & pl.col("__specific_offered")
    missing_quantity = (
        pl.col("rate_specific_usd").is_not_null() & _quantity_missing(pl.col("__specific_by_weight"))
    ) | (pl.col("rate_specific2_usd").is_not_null() & _quantity_missing(pl.col("__specific2_by_weight")))
    status = (
        pl.when(~dutiable)
        .then(_status_position(DutyStatus.EXEMPT))
        .when(postal_open | (opens & postal_flat))
        .then(_status_position(DutyStatus.NEEDS_LONGER_HTS))
        .when(per_item & pl.col("package_postal_item_unknown"))
        .then(_status_position(DutyStatus.NOT_COMPUTABLE))
        .when(per_item)
        .then(_status_position(DutyStatus.CHARGED_PER_ITEM))
        .when(postal_flat & pl.col("postal_rate").is_null())
        .then(_status_position(DutyStatus.NOT_COMPUTABLE))
        .when(postal_flat)
        .then(_status_position(DutyStatus.CHARGED_PER_ITEM))  # ad valorem on the item's value
        .when(pl.col("__mfn_status").is_not_null())
        .then(pl.col("__mfn_status"))
        .when(missing_quantity)
        .then(_status_position(DutyStatus.NEEDS_QUANTITY))
        .when(opens)
        .then(_status_position(DutyStatus.NEEDS_LONGER_HTS))
        .otherwise(_status_position(DutyStatus.ASSESSED))
    )
    mfn_applies = dutiable & ~postal_flat
    # Its own rate computed, but owed only if the package is entered: its components keep their amounts.
    if_entered = (
        dutiable
        & opens
        & ~postal_flat
        & pl.col("__mfn_status").is_null()
        & ~missing_quantity.fill_null(False)
    )
    return [
        label_at(status, _STATUSES).alias("duty_status"),
        mfn_applies.alias("mfn_applies"),
        (dutiable & postal_open).alias("postal_open"),
        if_entered.alias("duty_if_entered"),
        # A USMCA claim on goods charged the postal duty: what the regime's note says the pack leaves open.
        pl.when(dutiable & postal_flat & ~postal_open & pl.col(USMCA_CLAIMED))
        .then(pl.format("USMCA claim: {}", pl.col("postal_usmca_note")))
        .alias("postal_claim_note"),
        # The specific method asked for under a regime without an amount per item: charged ad valorem.
        pl.when(dutiable & postal_flat & ~postal_open & specific_asked & ~pl.col("__specific_offered"))
        .then(pl.format(SPECIFIC_NOT_OFFERED, pl.col("postal_regime_id")))
        .alias("postal_method_note"),
        (dutiable & per_item).alias("postal_per_item"),
        # The line's value adds to the item's value charged at this rate (null: not charged so, or no rate).
        pl.when(dutiable & postal_flat & ~postal_open & ~opens & ~per_item)
        .then(pl.col("postal_rate"))
        .alias("postal_item_rate"),
        pl.when(mfn_applies & pl.col("rate_ad_valorem").is_not_null())
        .then(apply_rate_half_up(pl.col("value_usd_cents"), pl.col("rate_ad_valorem")))
        .alias("mfn_cents"),
        pl.when(mfn_applies & pl.col("rate_specific_usd").is_not_null())
        .then(_specific_cents("specific"))
        .alias("mfn_specific_cents"),
        pl.when(mfn_applies & pl.col("rate_specific2_usd").is_not_null())
        .then(_specific_cents("specific2"))
        .alias("mfn_specific2_cents"),
    ]


#: Why an item is charged ad valorem under ``postal_method="specific"`` (``{}``: the postal regime's id).
SPECIFIC_NOT_OFFERED: Final = "specific method not offered by {}: ad valorem charged"
#: Internal column: a line's position in the decided lines; the components charged beside its own
#: duty columns carry it, so that settling them needs no join on the line's key.
LINE_ROW = "__row"
#: Why a measure's amount is unknown on a line whose code is shorter than the measure's product list.
SHORT_CODE_ASSUMPTION: Final = (
    "the measure lists some of the goods under the declared code and not others: whether it applies "
    "depends on the longer code, not declared"
)
#: Why a measure at a zero rate is settled on a line whose code is shorter than the measure's product list.
ZERO_EITHER_WAY_ASSUMPTION: Final = (
    "the measure lists some of the goods under the declared code and not others; at a rate of 0 it charges "
    "nothing whether it applies or not"
)
#: Why a metal-content measure's amount is unknown on a line under the content duties of several metals.
SHARED_CONTENT_ASSUMPTION: Final = (
    "the line is under the content duties of more than one metal and metal_content_share is one figure for "
    "all of them: each metal's content is not given, so this duty is not computed"
)
#: Why a measure's amount on a line in a coverage gap may not be what is owed (``{}``: the gap's id): the gap
#: names the measure's stacking group as the one its duty is owed in place of (``in_place_of``).
IN_GAP_ASSUMPTION: Final = (
    "line in coverage gap {}: a duty the pack does not encode may be owed in place of this one, so this "
    "amount may not be what is owed"
)
#: What the engine assumes under a postal regime that charges every duty (the pack names the regime).
ALL_DUTIES_POSTAL_ASSUMPTION: Final = (
    "postal regime charging all duties: the line's duties are charged as for non-postal goods, in place of a "
    "flat postal rate; fees are those the pack has for postal entries"
)


def own_components(lines: pl.LazyFrame, goods: pl.DataFrame) -> pl.LazyFrame:
    """The components the line's own duty columns give: MFN ad valorem and specific (a flat postal duty is the
    item's: :func:`package_duty_components`).

    ``goods`` is the goods table after :func:`add_goods_duty_facts` (the heading of each tariff line).
    """
    mfn = lines.filter(pl.col("mfn_cents").is_not_null()).select(
        PACKAGE_KEY,
        "package_id",
        "line_no",
        component=pl.lit("mfn"),
        measure_id=pl.col("rate_program"),
        heading=goods_column(goods, "__heading"),
        base_cents=pl.col("value_usd_cents"),
        rate=pl.col("rate_ad_valorem").cast(RATE),
        amount_cents=pl.col("mfn_cents"),
        gap=pl.lit(False),
        undetermined=pl.lit(False),
        assumption=pl.lit(None, dtype=pl.String()),
    )
    specific, specific2 = (
        lines.filter(pl.col(f"mfn_{name}_cents").is_not_null()).select(
            PACKAGE_KEY,
            "package_id",
            "line_no",
            component=pl.lit(component),
            measure_id=pl.col("rate_program"),
            heading=goods_column(goods, "__heading"),
            base_cents=pl.lit(None, dtype=pl.Int64()),
            rate=pl.col(f"rate_{name}_usd").cast(RATE),
            amount_cents=pl.col(f"mfn_{name}_cents"),
            gap=pl.lit(False),
            undetermined=pl.lit(False),
            assumption=pl.lit(None, dtype=pl.String()),
        )
        for name, component in (("specific", "mfn_specific"), ("specific2", "mfn_specific_2"))
    )
    # A postal regime that charges every duty (no flat rate) is named on each dutiable line at 0, so the
    # regime, its citation and confidence (the duty basis of postal informal entry) show with the duties.
    all_duties = lines.filter(
        pl.col("mfn_applies"),
        pl.col("entry_type") == str(EntryType.POSTAL),
        pl.col("postal_regime_id").is_not_null(),
        ~goods_column(goods, "__flat_postal_method"),
    ).select(
        PACKAGE_KEY,
        "package_id",
        "line_no",
        component=pl.lit("postal_regime"),
        measure_id=pl.col("postal_regime_id"),
        heading=pl.lit(None, dtype=pl.String()),
        base_cents=pl.col("value_usd_cents"),
        rate=pl.lit(0, dtype=RATE),
        amount_cents=pl.lit(0, dtype=pl.Int64()),
        gap=pl.lit(False),
        undetermined=pl.lit(False),
        assumption=pl.lit(ALL_DUTIES_POSTAL_ASSUMPTION),
    )
    return pl.concat([mfn, specific, specific2, all_duties, _open_own_duty(lines, goods)], how="vertical")


#: Why a line's own duty (its tariff line's rate, or its flat postal regime's) has no amount, by the line's status.
OPEN_DUTY_ASSUMPTIONS: Final = {
    str(DutyStatus.NO_TARIFF_LINE): (
        "no tariff line of the pack is in force for the code on the date: the rate is not known"
    ),
    str(DutyStatus.NOT_COMPUTABLE): (
        "the tariff line's rate is not one the engine computes (see the line's rate_status)"
    ),
    str(DutyStatus.NEEDS_QUANTITY): (
        "the specific rate needs what it is charged on, not given: gross_weight_kg for a rate per kg; quantity for"
        " every other unit, in that unit (kg of drained weight, of sugars, of content, clean kg, liters, pairs, ...)"
        " or, for a rate per dozen, gross or thousand, the count of items"
    ),
    str(DutyStatus.NEEDS_PART_VALUES): (
        "the rate is charged on parts of the article: a part's value or count (part_values), or the quantity or"
        " gross weight one of its amounts is charged on, is not given"
    ),
    str(DutyStatus.NEEDS_LONGER_HTS): (
        "the tariff lines under the declared code charge differently: the longer code decides the rate"
    ),
}
#: Column of the lines (:func:`~screening.stages.part_rates.settle_part_rates`): what a part-value rate left
#: open lacks, in the rate's order, e.g. ``strap (part_values), quantity``; null elsewhere.
PARTS_MISSING: Final = "__part_values_missing"
#: Why a part-value rate has no amount, naming what :data:`PARTS_MISSING` says is not given.
OPEN_PART_VALUES_ASSUMPTION: Final = "the rate is charged on parts of the article: not given: {}"
#: Why a flat postal regime's duty has no amount.
OPEN_POSTAL_ASSUMPTION: Final = "the postal regime gives no rate for the origin (or, charged per item, the package's postal item is not known)"
#: Why an item's postal duty has no amount when one of its lines (``{}``: its number) has a code that covers AD/CVD
#: or quota goods and others: whether the whole item may use the postal method is open.
OPEN_ITEM_ASSUMPTION: Final = (
    "line {} leaves open whether the item may use the postal method at all (its declared code covers AD/CVD or "
    "quota goods, which cannot, and other goods): if it may not, every duty is charged in place of the postal "
    "duty, so this amount is not known"
)
#: Why the postal duty of a line whose code covers AD/CVD or quota goods and others has no amount.
OPEN_POSTAL_BAR_ASSUMPTION: Final = (
    "the declared code covers AD/CVD or quota goods, which cannot use the postal method, and other goods: "
    "whether the item may be charged the postal duty depends on the longer code, not declared"
)

#: Why the postal duty of a line whose code a never-eligible class covers in part has no amount, in a package that
#: would otherwise pass free of duty (the package's note on its eligibility follows).
OPEN_ELIGIBILITY_ASSUMPTION: Final = (
    "the declared code leaves open whether the package passes free of duty: this duty is not computed"
)


def _open_own_duty(lines: pl.LazyFrame, goods: pl.DataFrame) -> pl.LazyFrame:
    """A component without an amount for each dutiable line whose own duty is not computed, naming the rate (or
    the postal regime) and why: the line's status alone would not say which rule left it open."""
    flat_method = goods_column(goods, "__flat_postal_method").cast(pl.Boolean())  # typed in an empty run too
    postal_flat = (pl.col("entry_type") == str(EntryType.POSTAL)) & flat_method
    per_item = pl.col("postal_per_item").fill_null(False)
    # Which specific rate lacks its quantity: the first one's when it does, else the second's.
    first_missing = pl.col("rate_specific_usd").is_not_null() & pl.col("mfn_specific_cents").is_null()
    # A line whose own rate is computed, owed only if its package is entered, keeps its components' amounts.
    opened = pl.col("duty_status").is_in(list(OPEN_DUTY_ASSUMPTIONS)) & ~pl.col("duty_if_entered")
    return lines.filter(opened, ~per_item).select(
        PACKAGE_KEY,
        "package_id",
        "line_no",
        component=pl.when(postal_flat)
        .then(pl.lit("postal_ad_valorem"))
        .when((pl.col("duty_status") == str(DutyStatus.NEEDS_QUANTITY)) & first_missing)
        .then(pl.lit("mfn_specific"))
        .when(pl.col("duty_status") == str(DutyStatus.NEEDS_QUANTITY))
        .then(pl.lit("mfn_specific_2"))
        .otherwise(pl.lit("mfn")),
        measure_id=pl.when(postal_flat)
        .then(pl.col("postal_regime_id"))
        .otherwise(pl.col("rate_program").fill_null("mfn")),
        heading=pl.when(postal_flat)
        .then(pl.lit(None, dtype=pl.String()))
        .otherwise(goods_column(goods, "__heading")),
        base_cents=pl.col("value_usd_cents"),
        rate=pl.lit(None, dtype=RATE),
        amount_cents=pl.lit(None, dtype=pl.Int64()),
        gap=pl.lit(False),
        undetermined=pl.lit(False),
        assumption=pl.when(pl.col("postal_open"))
        .then(pl.lit(OPEN_POSTAL_BAR_ASSUMPTION))
        .when(postal_flat & pl.col(OPENS_ELIGIBILITY))
        .then(pl.lit(OPEN_ELIGIBILITY_ASSUMPTION))
        .when(postal_flat)
        .then(pl.lit(OPEN_POSTAL_ASSUMPTION))
        .when(
            (pl.col("duty_status") == str(DutyStatus.NEEDS_PART_VALUES)) & pl.col(PARTS_MISSING).is_not_null()
        )
        .then(pl.format(OPEN_PART_VALUES_ASSUMPTION, pl.col(PARTS_MISSING)))
        .otherwise(pl.col("duty_status").replace_strict(OPEN_DUTY_ASSUMPTIONS, default=None)),
    )


#: Per line: why the goods of a line charged a flat postal duty are exempt from the measure whose rate the duty
#: takes (the regime's ``rate_of``), as ``line N: why``; null elsewhere.
POSTAL_EXEMPT_REASON = "__postal_exempt_reason"
#: Why a line's goods are outside the measure whose rate a postal duty takes (``{}``: the measure).
EXCLUSION_LIST_EXEMPTION: Final = "in the exclusion list of {}"
#: An item's postal duty on goods exempt from the measure whose rate it takes (``{}``: the lines and why, then the
#: regime's ``exempt_goods_note``).
EXEMPT_GOODS_ASSUMPTION: Final = "goods exempt from the measure whose rate this postal duty takes ({}): {}"


def with_postal_exempt_reasons(
    lines: pl.DataFrame, goods: pl.DataFrame, measures: pl.DataFrame, scope: pl.DataFrame, tariff: TariffTable
) -> pl.DataFrame:
    """``lines`` with :data:`POSTAL_EXEMPT_REASON` and ``postal_exempt_note`` (the regime's note) on each line
    charged a flat postal duty (on the item's value or per item) under a regime whose rate is that of a measure
    (``rate_of``: its stacking group) the line's goods are exempt from: on the measure's exclusion list (an
    exclusion prefix matches a code it would otherwise cover), or kept off by a group it is ``not_with`` (see
    :func:`measures_for_keys`; a USMCA claim has the regime's note of its own). Null elsewhere. ``goods`` is the goods
    table; a run with no such line reads no measure."""
    charged = pl.col("postal_item_rate").is_not_null() | pl.col("postal_per_item")
    none = [pl.lit(None, dtype=pl.String()).alias(c) for c in (POSTAL_EXEMPT_REASON, "postal_exempt_note")]
    if goods.get_column("postal_rate_of").is_null().all():  # nearly every run: no such regime on its dates
        return lines.with_columns(none)
    codes = lines.filter(charged).get_column(GOODS_CODE).unique()
    chosen = goods.with_row_index(GOODS_CODE)[codes].filter(pl.col("postal_rate_of").is_not_null())
    if chosen.is_empty():
        return lines.with_columns(none)
    keys = chosen.select(*MEASURE_KEY, "postal_rate_of").unique()
    groups = measures.filter(~pl.col("gap")).select("arrival_date", "measure_id", "stacking_group").unique()
    # Kept off by a group the measure is not_with (a USMCA claim's exemption is the regime's other note).
    blocked = (
        measures_for_keys(keys.select(MEASURE_KEY).unique().lazy(), measures, scope, tariff, exemptions=True)
        .filter(pl.col("exemption").is_not_null() & (pl.col("exemption") != USMCA_EXEMPTION))
        .join(groups.lazy(), on=["arrival_date", "measure_id"], how="inner")
        .join(
            keys.lazy().rename({"postal_rate_of": "stacking_group"}),
            on=[*MEASURE_KEY, "stacking_group"],
            how="semi",
            nulls_equal=True,
        )
        .select(
            *MEASURE_KEY,
            pl.col("exemption").str.strip_prefix(EXEMPTION_PREFIX).str.strip_chars().alias("__why"),
        )
    )
    # On the exclusion list of a measure of the group in force for the goods' origin and mode, which would
    # otherwise cover the code.
    in_place = (
        (pl.col("origins").list.contains(pl.col("country_of_origin")) | pl.col("origins").list.contains("*"))
        & ~pl.col("origins_exclude").list.contains(pl.col("country_of_origin"))
        & pl.col("modes").list.contains(pl.col("mode"))
    )
    covered = ~pl.col("has_include") | pl.col("included").fill_null(False)
    listed = (
        keys.lazy()
        .join(measures.lazy().filter(~pl.col("gap")), on="arrival_date", how="inner")
        .filter((pl.col("stacking_group") == pl.col("postal_rate_of")) & in_place)
        .join(
            _scope_hits(keys.select("arrival_date", "hts_digits").unique().lazy(), scope),
            on=["arrival_date", "hts_digits", "measure_id"],
            how="inner",
        )
        .filter(pl.col("excluded").fill_null(False) & covered)
        .select(*MEASURE_KEY, pl.format(EXCLUSION_LIST_EXEMPTION, pl.col("measure_id")).alias("__why"))
    )
    why = (
        pl.concat([listed, blocked], how="vertical").group_by(MEASURE_KEY).agg(pl.col("__why").sort().first())
    )
    # Per goods code (row i: code i), gathered to the lines by their code.
    by_goods = (
        goods.lazy()
        .with_row_index(GOODS_CODE)
        .select(GOODS_CODE, *MEASURE_KEY)
        .join(
            chosen.lazy().select(GOODS_CODE, *MEASURE_KEY).join(why, on=list(MEASURE_KEY), nulls_equal=True),
            on=[GOODS_CODE, *MEASURE_KEY],
            how="left",
            nulls_equal=True,
            maintain_order="left",
        )
        .collect(engine="in-memory")
        .get_column("__why")
    )
    exempt = charged & gathered(by_goods, pl.col(GOODS_CODE)).is_not_null()
    return lines.with_columns(
        pl.when(exempt)
        .then(pl.format("line {}: {}", pl.col("line_no"), gathered(by_goods, pl.col(GOODS_CODE))))
        .alias(POSTAL_EXEMPT_REASON),
        pl.when(exempt).then(goods_column(goods, "postal_exempt_note")).alias("postal_exempt_note"),
    )


def goods_measures(
    goods: pl.DataFrame, codes: pl.Series, measures: pl.DataFrame, scope: pl.DataFrame, tariff: TariffTable
) -> pl.DataFrame:
    """The Chapter 99 measures that apply to each of the goods ``codes``, and those the goods are exempt from
    (see :func:`measures_for_keys`)."""
    chosen = goods.with_row_index(GOODS_CODE)[codes.unique()]
    applying = measures_for_keys(
        chosen.select(MEASURE_KEY).unique().lazy(), measures, scope, tariff, exemptions=True
    )
    return (
        chosen.lazy()
        .select(GOODS_CODE, *MEASURE_KEY)
        .join(applying, on=list(MEASURE_KEY), how="inner")
        .drop(MEASURE_KEY)
        .collect(engine="in-memory")
    )


def measure_components(lines: pl.LazyFrame, by_goods: pl.DataFrame) -> pl.LazyFrame:
    """The Chapter 99 components of every line the MFN duty applies to, in line order, with :data:`LINE_ROW`
    and :data:`EXEMPT`.

    ``by_goods`` is :func:`goods_measures` (for the goods of those lines): the measures are joined to the
    lines on the integer goods code. A component's ``assumption`` is the engine's about the line (a short
    code, a metal share not given, a top-up it cannot compute) where one applies, else the measure's own. A
    measure the goods are exempt from is a component at rate 0 and $0.00 (:data:`EXEMPT` true), its
    ``assumption`` saying why and its ``heading`` the exemption's (null where the pack gives none): split off
    with :func:`split_exempt`, it is shown, not charged.
    """
    dutiable = lines.filter(pl.col("mfn_applies"))
    applied = dutiable.select(
        LINE_ROW,
        PACKAGE_KEY,
        "package_id",
        "line_no",
        "value_usd_cents",
        "metal_content_share",
        "rate_status",
        "rate_ad_valorem",
        "rate_specific_usd",
        GOODS_CODE,
    ).join(by_goods.lazy(), on=GOODS_CODE, how="inner", maintain_order="left")
    # A gap in the duty on the non-metal content misses nothing on a line that is all metal content.
    all_metal = pl.col("metal_content_share") == 1
    applied = applied.filter(
        ~(pl.col("gap") & (pl.col("base") == "non_metal_content") & all_metal).fill_null(False)
    )
    exempt = pl.col("exemption").is_not_null()
    return applied.select(
        LINE_ROW,
        PACKAGE_KEY,
        "package_id",
        "line_no",
        "component",
        "measure_id",
        heading=pl.when(exempt)
        .then(pl.col("exemption_heading"))
        .when(_at_or_above_top_up_rate())
        .then(pl.col("heading_at_or_above_rate").fill_null(pl.col("heading")))
        .otherwise(pl.col("heading")),
        base_cents=_measure_base_cents(),
        rate=pl.when(exempt).then(pl.lit(0)).otherwise(_measure_rate()).cast(RATE),
        amount_cents=pl.when(exempt)
        .then(pl.lit(0, dtype=pl.Int64()))
        .when(~pl.col("undetermined") & ~pl.col("shared_content"))
        .then(apply_rate_half_up(_measure_base_cents(), _measure_rate())),
        gap=pl.col("gap"),
        undetermined=pl.col("undetermined"),
        assumption=pl.when(exempt & pl.col("non_metal_gap").is_not_null() & ~all_metal.fill_null(False))
        .then(pl.format(NON_METAL_EXEMPTION, pl.col("exemption"), pl.col("non_metal_gap")))
        .when(exempt)
        .then(pl.col("exemption"))
        .when(pl.col("open_block").is_not_null())
        .then(pl.col("open_block"))
        .when(pl.col("undetermined"))
        .then(pl.lit(SHORT_CODE_ASSUMPTION))
        .when(pl.col("zero_either_way"))
        .then(pl.lit(ZERO_EITHER_WAY_ASSUMPTION))
        .when(pl.col("shared_content"))
        .then(pl.lit(SHARED_CONTENT_ASSUMPTION))
        .when(
            pl.col("in_gap_of").is_not_null() & ~(pl.col("in_gap_of_non_metal") & all_metal).fill_null(False)
        )
        .then(pl.format(IN_GAP_ASSUMPTION, pl.col("in_gap_of")))
        .when((pl.col("base") == "metal_content") & pl.col("metal_content_share").is_null())
        .then(pl.lit("metal content share not given: full value assumed"))
        .when((pl.col("rate_rule") == "top_up") & (pl.col("rate_status") != "computable"))
        .then(pl.lit("top-up needs the MFN rate, which is not computed for this line"))
        .when((pl.col("rate_rule") == "top_up") & ~_top_up_known())
        .then(pl.lit("top-up needs the ad valorem equivalent of a specific MFN rate: not computed"))
        .otherwise(pl.col("measure_assumption")),
        **{EXEMPT: exempt},
    )


#: Column of :func:`measure_components`: the component is a measure the line's goods are exempt from.
EXEMPT = "__exempt"


def split_exempt(components: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """:func:`measure_components` as the components charged (the line's duty sums them) and those the goods
    are exempt from (shown at $0.00), each without :data:`EXEMPT`."""
    exempt = pl.col(EXEMPT)
    return components.filter(~exempt).drop(EXEMPT), components.filter(exempt).drop(EXEMPT)


def _measure_rate() -> pl.Expr:
    """A fixed rate, or a top-up to ``rate`` over the line's MFN ad valorem rate ("all-in" formulas).

    A top-up over an MFN rate with a specific part is 0 where the ad valorem part alone is at or
    above ``rate`` (the specific part only adds to the MFN rate), else left null, as is one over a
    rate the engine does not compute (``not-computable``, ``needs-part-values``): its ad valorem
    equivalent is unknown.
    """
    return (
        pl.when(pl.col("rate_rule") != "top_up")
        .then(pl.col("rate"))
        .when(_top_up_known())
        .then((pl.col("rate") - pl.col("rate_ad_valorem").fill_null(0)).clip(lower_bound=0))
        .otherwise(None)
    )


def _top_up_known() -> pl.Expr:
    """Whether a top-up over the line's MFN rate is known: a computable rate, ad valorem only or with an ad
    valorem part at or above the top-up's ``rate`` (its MFN rate is then at or above it, whatever the rest)."""
    meets_cap = (pl.col("rate_ad_valorem") >= pl.col("rate")).fill_null(False)
    return (pl.col("rate_status") == "computable") & (pl.col("rate_specific_usd").is_null() | meets_cap)


def _at_or_above_top_up_rate() -> pl.Expr:
    """A top-up whose line's MFN rate is known to be at or above its ``rate`` (the top-up is 0): the line reports
    the measure's ``heading_at_or_above_rate`` where the pack gives one."""
    meets_cap = (pl.col("rate_ad_valorem").fill_null(0) >= pl.col("rate")).fill_null(False)
    return (pl.col("rate_rule") == "top_up") & _top_up_known() & meets_cap


def _measure_base_cents() -> pl.Expr:
    """Full value, the metal content share of it, or (a gap's) the rest of it: the non-metal content (full
    value when the share is not given)."""
    share = pl.col("metal_content_share").cast(pl.Decimal(18, 6))
    metal = pl.when(share.is_not_null()).then(apply_rate_half_up(pl.col("value_usd_cents"), share))
    return (
        pl.when(pl.col("base") == "metal_content")
        .then(metal.otherwise(pl.col("value_usd_cents")))
        .when(pl.col("base") == "non_metal_content")
        .then(pl.col("value_usd_cents") - metal.otherwise(0))
        .otherwise(pl.col("value_usd_cents"))
    )


def package_duty_components(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Duties charged on the postal item (the package) under a flat postal regime, whose lines read
    ``charged-per-item``: the amount per item (the highest band of its lines), or the ad valorem rate on the
    item's value (DOMAIN.md 1a, method A), rounded once. An item whose lines' origins take different rates
    pays each rate on the value of its lines at that rate, one component per rate. An ad valorem component
    charged where the specific method was asked for says the regime offers none (then a USMCA claim's note, then
    the lines whose goods the measure the duty takes its rate from exempts, :func:`with_postal_exempt_reasons`). An
    item with a line whose code leaves open whether the item may use the postal method at all (``postal_open``)
    has no known postal amount: if it may not, every duty is charged in its place (:data:`OPEN_ITEM_ASSUMPTION`)."""
    # The lines charged a flat postal duty, or leaving it open; with the item's lowest-numbered line that leaves
    # its postal method open, if any.
    open_line = pl.col("line_no").filter(pl.col("postal_open")).min().over(PACKAGE_KEY).alias("__open_line")
    lines = lines.filter(
        pl.col("postal_per_item") | pl.col("postal_item_rate").is_not_null() | pl.col("postal_open")
    ).with_columns(open_line)
    item_open = pl.col("__open_line").first().is_not_null()
    open_note = pl.format(OPEN_ITEM_ASSUMPTION, pl.col("__open_line").first())
    # Lines whose goods the measure the duty takes its rate from exempts: which, and the regime's note.
    reasons = pl.col(POSTAL_EXEMPT_REASON).sort_by("line_no").drop_nulls()
    exempt_note = pl.when(reasons.len() > 0).then(
        pl.format(
            EXEMPT_GOODS_ASSUMPTION,
            reasons.str.join("; "),
            pl.col("postal_exempt_note").drop_nulls().first(),
        )
    )
    per_item = lines.filter(pl.col("postal_per_item"))
    unknown = pl.col("postal_item_cents").is_null().any() & ~reaches_top_per_item().fill_null(False)
    specific = per_item.group_by(PACKAGE_KEY).agg(
        pl.col("package_id").first(),
        pl.lit(None, dtype=pl.Int64()).alias("line_no"),
        pl.lit("postal_specific").alias("component"),
        pl.col("postal_regime_id").sort_by("line_no").first().alias("measure_id"),
        pl.lit(None, dtype=pl.String()).alias("heading"),
        pl.lit(None, dtype=pl.Int64()).alias("base_cents"),
        pl.lit(None, dtype=RATE).alias("rate"),
        pl.when(unknown | item_open)
        .then(None)
        .otherwise(pl.col("postal_item_cents").max())
        .alias("amount_cents"),
        pl.lit(False).alias("gap"),
        pl.lit(False).alias("undetermined"),
        # An amount left open says why, as a line's open postal duty does.
        pl.when(item_open)
        .then(open_note)
        .when(unknown)
        .then(pl.lit(OPEN_POSTAL_ASSUMPTION))
        .otherwise(
            _joined_notes(pl.col("postal_claim_note").sort_by("line_no").drop_nulls().first(), exempt_note)
        )
        .alias("assumption"),
    )
    on_value = (
        lines.filter(pl.col("postal_item_rate").is_not_null())
        .group_by(PACKAGE_KEY, "postal_regime_id", "postal_item_rate")
        .agg(
            pl.col("package_id").first(),
            pl.col("value_usd_cents").sum().alias("base_cents"),
            item_open.alias("__item_open"),
            _joined_notes(
                pl.when(item_open).then(open_note),
                pl.col("postal_method_note").sort_by("line_no").drop_nulls().first(),
                pl.col("postal_claim_note").sort_by("line_no").drop_nulls().first(),
                exempt_note,
            ).alias("assumption"),
        )
        .select(
            PACKAGE_KEY,
            "package_id",
            line_no=pl.lit(None, dtype=pl.Int64()),
            component=pl.lit("postal_ad_valorem"),
            measure_id=pl.col("postal_regime_id"),
            heading=pl.lit(None, dtype=pl.String()),
            base_cents=pl.col("base_cents"),
            rate=pl.col("postal_item_rate").cast(RATE),
            amount_cents=pl.when(~pl.col("__item_open")).then(
                apply_rate_half_up(pl.col("base_cents"), pl.col("postal_item_rate"))
            ),
            gap=pl.lit(False),
            undetermined=pl.lit(False),
            assumption=pl.col("assumption"),
        )
    )
    # In no order: the components output sorts every row (package, line, component, measure, rate).
    return pl.concat([specific, on_value], how="vertical")


def with_formal_mail_notes(components: pl.LazyFrame, lines: pl.DataFrame) -> pl.LazyFrame:
    """The line components ``components`` (duties) with each package's
    :data:`~screening.stages.entry_limits.ASSUMED_ENTRY_NOTE` (``lines``: the decided lines) after their own
    assumption: mail entered formal, and charged as such, by a choice the pack does not settle."""
    if lines.get_column(ASSUMED_ENTRY_NOTE).null_count() == lines.height:  # nearly every run: no such mail
        return components
    notes = (
        lines.lazy()
        .filter(pl.col(ASSUMED_ENTRY_NOTE).is_not_null())
        .select(PACKAGE_KEY, ASSUMED_ENTRY_NOTE)
        .unique(PACKAGE_KEY)
    )
    return (
        components.join(notes, on=PACKAGE_KEY, how="left", maintain_order="left")
        .with_columns(_joined_notes(pl.col("assumption"), pl.col(ASSUMED_ENTRY_NOTE)).alias("assumption"))
        .drop(ASSUMED_ENTRY_NOTE)
    )


def settle_line_duty(lines: pl.DataFrame, charged: pl.LazyFrame) -> pl.DataFrame:
    """``duty_cents`` per line: the sum of its components when assessed, 0 when exempt, else null.

    A line with a measure whose scope its short code leaves open is ``needs-longer-hts``; a line in a
    coverage gap of the pack is ``pack-incomplete``; a component without an amount (e.g. a top-up over a
    rate the engine does not compute) makes it ``not-computable``.

    The line's own components (:func:`own_components`) are its duty columns; ``charged`` holds the
    others (Chapter 99 measures and part-value rates), each with the :data:`LINE_ROW` of ``lines``.
    Adds ``component_cents``, ``component_missing`` and ``in_gap`` (null for a line without
    components), then ``duty_cents``.
    """
    per_line = (
        charged.select(LINE_ROW, "amount_cents", "gap", "undetermined")
        .sort(LINE_ROW)  # already in line order but for the few part-value components: a cheap sort
        .group_by(LINE_ROW)
        .agg(
            pl.col("amount_cents").sum().alias("__charged_cents"),
            pl.col("amount_cents").is_null().any().alias("__charged_missing"),
            pl.col("gap").any().alias("__charged_gap"),
            pl.col("undetermined").any().alias("__charged_undetermined"),
        )
    )
    own = ["mfn_cents", "mfn_specific_cents", "mfn_specific2_cents"]
    # A sum is never null: a charged component of the line is there exactly where its sum is.
    has_component = pl.any_horizontal(*[pl.col(c).is_not_null() for c in [*own, "__charged_cents"]])
    # The own components always have an amount and are never in a gap.
    component_cents = pl.sum_horizontal(*own, pl.col("__charged_cents"))
    assessed = pl.col("duty_status") == str(DutyStatus.ASSESSED)
    status = (
        pl.when(assessed & pl.col("__charged_undetermined").fill_null(False))
        .then(_status_position(DutyStatus.NEEDS_LONGER_HTS))
        .when(assessed & pl.col("in_gap").fill_null(False))
        .then(_status_position(DutyStatus.PACK_INCOMPLETE))
        .when(assessed & pl.col("component_missing").fill_null(False))
        .then(_status_position(DutyStatus.NOT_COMPUTABLE))
    )
    settled = (
        attach(lines.lazy(), per_line, LINE_ROW)
        .with_columns(
            pl.when(has_component).then(component_cents).alias("component_cents"),
            pl.when(has_component)
            .then(pl.col("__charged_missing").fill_null(False))
            .alias("component_missing"),
            pl.when(has_component).then(pl.col("__charged_gap").fill_null(False)).alias("in_gap"),
        )
        .with_columns(
            pl.when(status.is_null())
            .then(pl.col("duty_status"))
            .otherwise(label_at(status, _STATUSES))
            .alias("duty_status")
        )
    )
    return (
        settled.with_columns(
            pl.when(pl.col("duty_status") == str(DutyStatus.EXEMPT))
            .then(pl.lit(0, dtype=pl.Int64()))
            .when(pl.col("duty_status") == str(DutyStatus.ASSESSED))
            .then(pl.col("component_cents").fill_null(0))
            .otherwise(None)
            .alias("duty_cents")
        )
        .drop("__charged_cents", "__charged_missing", "__charged_gap", "__charged_undetermined")
        .collect(engine="in-memory")
    )


def fee_components(packages: pl.LazyFrame, fees: pl.DataFrame) -> pl.LazyFrame:
    """One component per fee in force for the package's date, entry type and mode, and for mail its standing
    (:data:`~screening.stages.entry_limits.MAIL_STANDING` against the fee's ``mail``: the dutiable mail fee with no
    postal regime in force, the informal MPF of an ACE entry for mail barred from one). No amount for a fee of
    kind ``unknown`` (its ``assumption`` the fee's note: why), nor, on a package whose entry is open
    (:data:`ENTRY_OPEN`: informal or formal), for a fee of informal entries that formal ones do not pay, nor for
    any fee of a package whose de minimis eligibility is open (:data:`ELIGIBILITY_OPEN`: a release pays none)."""
    # A fee rule in force for formal entries too on the date and mode is owed on an open entry either way.
    formal_too = (
        (pl.col("entry_type") == str(EntryType.FORMAL)).any().over("arrival_date", "mode", "fee_rule_id")
    )
    joined = (
        packages.select(
            PACKAGE_KEY,
            "package_id",
            "arrival_date",
            "entry_type",
            "mode",
            "value_cents",
            "usmca_claimed",
            ENTRY_NOTE,
            ENTRY_OPEN,
            ELIGIBILITY_OPEN,
            MAIL_STANDING,
        )
        .join(
            fees.lazy().with_columns(formal_too.alias("__formal_too")),
            on=["arrival_date", "entry_type", "mode"],
            how="inner",
        )
        .filter((pl.col("mail") == "all") | (pl.col("mail") == pl.col(MAIL_STANDING)))
    )
    released_maybe = pl.col(ELIGIBILITY_OPEN)
    not_known = (pl.col(ENTRY_OPEN) & ~pl.col("__formal_too")) | released_maybe
    at_rate = apply_rate_half_up(pl.col("value_cents"), pl.col("rate"))
    ad_valorem = at_rate.clip(pl.col("min_cents"), pl.col("max_cents"))
    # base x rate = amount does not hold at the minimum or maximum: say which applied, and the product.
    bound = (
        pl.when((pl.col("kind") == "ad_valorem") & (at_rate < pl.col("min_cents")))
        .then(pl.lit("minimum"))
        .when((pl.col("kind") == "ad_valorem") & (at_rate > pl.col("max_cents")))
        .then(pl.lit("maximum"))
    )
    bound_note = pl.format(
        "the fee's {} of ${} applied (base x rate = ${})",
        bound,
        dollar_text(ad_valorem),
        dollar_text(at_rate),
    )
    return joined.select(
        PACKAGE_KEY,
        "package_id",
        line_no=pl.lit(None, dtype=pl.Int64()),
        component=pl.col("component"),
        measure_id=pl.col("fee_rule_id"),
        heading=pl.lit(None, dtype=pl.String()),
        base_cents=pl.when(pl.col("kind") == "ad_valorem").then(pl.col("value_cents")),
        rate=pl.col("rate").cast(RATE),
        amount_cents=pl.when(not_known)
        .then(None)
        .when(pl.col("kind") == "flat")
        .then(pl.col("amount_cents"))
        .when(pl.col("kind") == "ad_valorem")
        .then(ad_valorem),  # an unknown fee has no amount
        gap=pl.lit(False),
        undetermined=pl.lit(False),
        assumption=_joined_notes(
            # Why the entry is formal (or open) when a lower limit made it so, then how the amount came out.
            pl.col(ENTRY_NOTE),
            pl.when(released_maybe)
            .then(
                pl.lit("a fee of an entry, which a de minimis release does not pay: its amount is not known")
            )
            .when(not_known)
            .then(pl.lit("a fee of informal entries only: its amount is not known"))
            .when(pl.col(ENTRY_OPEN))
            .then(pl.lit("a fee of informal and formal entries alike")),
            # A fee of unknown amount says why (its note in the pack).
            pl.when(pl.col("kind") == "unknown").then(pl.col("fee_note")),
            pl.when(pl.col("usmca_claimed") & pl.col("usmca_claim_note").is_not_null())
            .then(pl.format("USMCA claim: {}", pl.col("usmca_claim_note")))
            .when(bound.is_not_null() & ~not_known)
            .then(bound_note),
        ),
    )


def _joined_notes(*notes: pl.Expr) -> pl.Expr:
    """The notes that are not null, joined by ``; `` (null when none is given)."""
    joined = pl.concat_str(*notes, separator="; ", ignore_nulls=True)
    return pl.when(joined != "").then(joined)
