"""Decide: de minimis eligibility with its reason and rule, and the entry type.

A line's own reason comes from, in precedence order: repeal or suspension for
its origin and mode, a never-eligible class for its HTS code, or its
consignee-day total above the threshold. A package takes the most severe
reason of its lines (:data:`~screening.errors.REASON_PRECEDENCE`), and every
line carries its package's decision; a package that would pass free of duty but
for a line whose code a never-eligible class covers only in part is left open (not
released: it takes the reason that line would have in the class), and a bona fide
gift line within the limit in a package that does not pass stays duty-free.

The lookups (``attach_*``) run on the table of distinct goods
(:func:`screening.stages.enrich.goods_codes`); :func:`decide_lines` gathers what
each line needs by its goods code.
"""

from __future__ import annotations

import polars as pl

from screening.errors import DUTY_FREE_REASONS, REASON_PRECEDENCE, EntryType, ReasonCode
from screening.exprs.hts import hts_prefix
from screening.exprs.labels import first_label, label_at
from screening.exprs.money import dollar_text
from screening.rulepack.tariff_table import TARIFF_PERIOD, TariffTable
from screening.schema import FLAT_POSTAL_METHODS, PACKAGE_KEY
from screening.stages.assess import reaches_top_per_item
from screening.stages.enrich import GOODS_CODE, gather_goods
from screening.stages.entry_limits import (
    ASSUMED_ENTRY_NOTE,
    ELIGIBILITY_OPEN,
    ELIGIBILITY_OPEN_NOTE_TEXT,
    FORMAL_MAIL_NOTE_TEXT,
    GIFT_ENTRY_NOTE_TEXT,
    GIFT_LINE_RULE,
    MAIL_STANDING,
    OPENS_ELIGIBILITY,
    POSTAL_BARRED_NOTE,
    POSTAL_BARRED_NOTE_TEXT,
)
from screening.stages.lookup import attach

_RANK = {str(code): rank for rank, code in enumerate(REASON_PRECEDENCE)}


def attach_day_rules(lines: pl.LazyFrame, days: pl.DataFrame) -> pl.LazyFrame:
    """Threshold and informal-entry limit in force on each arrival date (not the Chapter 99 lists: the entry
    limits read them from ``days``)."""
    return attach(lines, days.lazy().drop("chapter99_headings", "chapter99_kinds"), "arrival_date")


def attach_suspensions(lines: pl.LazyFrame, suspensions: pl.DataFrame) -> pl.LazyFrame:
    """Suspension or repeal in force for (arrival_date, origin, mode), if any."""
    return attach(lines, suspensions.lazy(), ["arrival_date", "country_of_origin", "mode"])


#: The suspension columns an exception clears (:func:`attach_suspension_exceptions`).
_SUSPENSION_COLUMNS = ("suspension_reason", "suspension_rule_id")


def attach_suspension_exceptions(lines: pl.LazyFrame, exceptions: pl.DataFrame) -> pl.LazyFrame:
    """Take the suspension off goods that an exception in force leaves out of it (their HTS code begins with one
    of the exception's prefixes: 50 U.S.C. 1702(b) informational materials, say): ``suspension_reason`` and
    ``suspension_rule_id`` null, ``suspension_exception_id`` the exception (the lowest id where two are), else
    null. A code shorter than the exception's prefixes stays suspended (some goods under it may not be left
    out: nothing is guessed). Runs after :func:`attach_suspensions`."""
    key = ["arrival_date", "hts_digits", "suspension_rule_id"]
    lengths = sorted(set(exceptions["hts_prefix"].str.len_chars().to_list())) or [2]
    found = (
        lines.select(key)
        .unique()
        .filter(pl.col("suspension_rule_id").is_not_null())
        .with_columns(
            pl.concat_list(hts_prefix(pl.col("hts_digits"), n) for n in lengths).alias("hts_prefix")
        )
        .explode("hts_prefix")
        .join(exceptions.lazy(), on=["arrival_date", "hts_prefix", "suspension_rule_id"], how="inner")
        .group_by(key)
        .agg(pl.col("suspension_exception_id").min())
    )
    excepted = pl.col("suspension_exception_id").is_not_null()
    return attach(lines, found, key).with_columns(
        pl.when(excepted).then(None).otherwise(pl.col(c)).alias(c) for c in _SUSPENSION_COLUMNS
    )


#: Reasons whose goods cannot use the postal method (DOMAIN.md §1a: AD/CVD and quota goods need an entry).
BARRED_FROM_POSTAL = (str(ReasonCode.EXCLUDED_ADCVD), str(ReasonCode.EXCLUDED_QUOTA))


def exclusions_for_keys(
    keys: pl.DataFrame, never_eligible: pl.DataFrame, tariff: TariffTable
) -> pl.LazyFrame:
    """For distinct (arrival_date, hts_digits, country_of_origin): the never-eligible class that covers it
    (``exclusion_reason``, ``exclusion_rule_id``: the first in :data:`~screening.errors.REASON_PRECEDENCE`), and
    the first of its classes that bars the goods from the postal method (``exclusion_barring_rule_id``: AD/CVD or
    quota goods are barred even when an excise class comes first).

    A class covers a code that one of its prefixes begins, and a code shorter than its prefixes (a
    subheading of 6 digits, say, for a class of 8-digit lines) when every tariff line in force under the code
    (``tariff``) is in the class: AD/CVD honey ``0409.00`` is the one line 0409.00.00. A code the class
    covers only in part stays outside it (nothing is guessed).
    """
    lengths = sorted(set(never_eligible["hts_prefix"].str.len_chars().to_list())) or [2]
    candidates = (
        keys.lazy()
        .with_columns(
            pl.concat_list(hts_prefix(pl.col("hts_digits"), n) for n in lengths).alias("hts_prefix")
        )
        .explode("hts_prefix")
    )
    key = ["arrival_date", "hts_digits", "country_of_origin"]
    found = [_in_class(candidates, never_eligible).select(*key, "exclusion_reason", "exclusion_rule_id")]
    short = keys.filter(pl.col("hts_digits").str.len_chars() < max(lengths))
    if not short.is_empty():
        found.append(_covering_every_line(short.lazy(), never_eligible, tariff, lengths))
    rank = pl.col("exclusion_reason").replace_strict(_RANK, return_dtype=pl.Int64())
    matched = pl.concat(found).sort(*key, rank, "exclusion_rule_id")
    barring = (
        matched.filter(pl.col("exclusion_reason").is_in(BARRED_FROM_POSTAL))
        .unique(key, keep="first", maintain_order=True)
        .select(*key, pl.col("exclusion_rule_id").alias("exclusion_barring_rule_id"))
    )
    return (
        matched.unique(key, keep="first", maintain_order=True)
        .select(*key, "exclusion_reason", "exclusion_rule_id")
        .join(barring, on=key, how="left", maintain_order="left", nulls_equal=True)
    )


def _in_class(candidates: pl.LazyFrame, never_eligible: pl.DataFrame) -> pl.LazyFrame:
    """``candidates`` (each with an ``hts_prefix``) joined to the classes of that prefix, date and origin."""
    return candidates.join(never_eligible.lazy(), on=["arrival_date", "hts_prefix"], how="inner").filter(
        (pl.col("origin") == "*") | (pl.col("origin") == pl.col("country_of_origin"))
    )


def _covering_every_line(
    short: pl.LazyFrame, never_eligible: pl.DataFrame, tariff: TariffTable, lengths: list[int]
) -> pl.LazyFrame:
    """The classes that hold every tariff line in force under each of ``short`` (codes shorter than the
    longest class prefix)."""
    key = ["arrival_date", "hts_digits", "country_of_origin"]
    lines = tariff.lines.lazy().select(TARIFF_PERIOD, pl.col("hts").alias("__line")).unique()
    # Each short code with the tariff lines under it (codes have 6, 8 or 10 digits).
    under = pl.concat(
        [
            tariff.for_keys(short.filter(pl.col("hts_digits").str.len_chars() == n)).join(
                lines.with_columns(hts_prefix(pl.col("__line"), n).alias("hts_digits")),
                on=[TARIFF_PERIOD, "hts_digits"],
                how="inner",
            )
            for n in (6, 8)
        ]
    )
    line_prefixes = pl.concat_list(hts_prefix(pl.col("__line"), n) for n in lengths).alias("hts_prefix")
    covered = (
        _in_class(under.with_columns(line_prefixes).explode("hts_prefix"), never_eligible)
        .group_by(*key, "exclusion_reason", "exclusion_rule_id")
        .agg(pl.col("__line").n_unique().alias("__covered"))
    )
    counts = under.group_by(key).agg(pl.col("__line").n_unique().alias("__lines"))
    return (
        covered.join(counts, on=key, how="inner")
        .filter(pl.col("__covered") == pl.col("__lines"))
        .select(*key, "exclusion_reason", "exclusion_rule_id")
    )


def attach_exclusions(lines: pl.LazyFrame, never_eligible: pl.DataFrame, tariff: TariffTable) -> pl.LazyFrame:
    """Left-join the never-eligible class of each line's HTS code and origin (see :func:`exclusions_for_keys`)."""
    rows = lines.collect(engine="in-memory")
    keys = rows.select("arrival_date", "hts_digits", "country_of_origin").unique()
    # The class's waiver (``exclusion_waived_cents``: it does not apply to a package worth at most this).
    waivers = never_eligible.select("exclusion_rule_id", "exclusion_waived_cents").unique("exclusion_rule_id")
    found = exclusions_for_keys(keys, never_eligible, tariff).join(
        waivers.lazy(), on="exclusion_rule_id", how="left"
    )
    return attach(rows.lazy(), found, ["arrival_date", "hts_digits", "country_of_origin"])


def attach_partly_barred(goods: pl.LazyFrame, never_eligible: pl.DataFrame) -> pl.LazyFrame:
    """The never-eligible classes of the goods' origin that list codes below the goods' code (longer codes that
    start with it): some of the goods the code covers are in the class, others may not be. A code the class covers
    whole is in the class itself (:func:`exclusions_for_keys`).

    Adds ``__partly_barred`` (such a class is an AD/CVD or quota class: some of the goods may not use the postal
    method), ``__partly_excluded_rule_id`` and ``__partly_excluded_reason`` (the first such class of any reason, in
    :data:`~screening.errors.REASON_PRECEDENCE` then id order: whether the goods may pass free of duty is left to
    the longer code) and ``__partly_waived_cents`` (the lowest ``exclusion_waived_cents`` of those classes when
    each has one, else null: a package worth at most it is outside all of them); null where no class does."""
    rows = goods.collect(engine="in-memory")
    key = ["arrival_date", "hts_digits", "country_of_origin"]
    keys = rows.select(key).unique()
    below = pl.concat(
        [
            keys.lazy()
            .filter(pl.col("hts_digits").str.len_chars() == n)
            .join(
                never_eligible.lazy()
                .filter(pl.col("hts_prefix").str.len_chars() > n)
                .with_columns(pl.col("hts_prefix").str.slice(0, n).alias("hts_digits")),
                on=["arrival_date", "hts_digits"],
                how="inner",
            )
            .filter((pl.col("origin") == "*") | (pl.col("origin") == pl.col("country_of_origin")))
            for n in (6, 8)
        ]
    )
    rank = pl.col("exclusion_reason").replace_strict(_RANK, return_dtype=pl.Int64())
    waived = pl.col("exclusion_waived_cents")
    partly = (
        below.sort(*key, rank, "exclusion_rule_id")
        .group_by(key, maintain_order=True)
        .agg(
            pl.col("exclusion_reason").is_in(BARRED_FROM_POSTAL).any().alias("__partly_barred"),
            pl.col("exclusion_rule_id").first().alias("__partly_excluded_rule_id"),
            pl.col("exclusion_reason").first().alias("__partly_excluded_reason"),
            pl.when(waived.is_null().any()).then(None).otherwise(waived.min()).alias("__partly_waived_cents"),
        )
    )
    return attach(rows.lazy(), partly, key)


def attach_gift_rule(goods: pl.LazyFrame, gifts: pl.DataFrame) -> pl.LazyFrame:
    """The bona fide gift rule in force on the arrival date (``gift_rule_id``, ``gift_entry_note``: its
    ``informal_entry_note``; its limit depends on the country each line is sent from: :func:`gift_limits`)."""
    rules = gifts.select("arrival_date", "gift_rule_id", "gift_entry_note").unique(
        "arrival_date", keep="first", maintain_order=True
    )
    return attach(goods, rules.lazy(), ["arrival_date"])


#: Internal line column: for a gift, the country it is sent from (``country_of_export``, else
#: ``shipper_country``; null when neither is given), else null (:func:`gift_sender`).
GIFT_SENDER = "__gift_sender"


def gift_sender() -> pl.Expr:
    """:data:`GIFT_SENDER` from the manifest's columns."""
    sender = pl.coalesce(pl.col("country_of_export"), pl.col("shipper_country"))
    return pl.when(pl.col("gift").fill_null(False)).then(sender).alias(GIFT_SENDER)


def gift_limits(lines: pl.DataFrame, gifts: pl.DataFrame) -> pl.Series:
    """Each line's bona fide gift limit (``gift_limit_cents``): that of the country the gift is sent from
    (``country_of_export``, else ``shipper_country``; 19 CFR 10.152 keys the higher limit on where a gift is
    sent from, not where it was made), else the general limit; null where no gift rule is in force."""
    limits = pl.Series("gift_limit_cents", [None] * lines.height, dtype=pl.Int64())
    is_gift = lines.get_column("gift").fill_null(False)
    if not is_gift.any():  # only a gift line reads its limit
        return limits
    keys = lines.filter(is_gift).select("arrival_date", pl.col(GIFT_SENDER).alias("sender_country"))
    gifts = gifts.drop("gift_rule_id", "gift_entry_note")
    general = gifts.filter(pl.col("sender_country").is_null()).drop("sender_country")
    limit_of = gifts.filter(pl.col("sender_country").is_not_null())
    own = keys.join(limit_of, on=["arrival_date", "sender_country"], how="left", maintain_order="left")
    fallback = keys.join(general, on="arrival_date", how="left", maintain_order="left")["gift_limit_cents"]
    chosen = own["gift_limit_cents"].fill_null(fallback)
    return limits.scatter(is_gift.arg_true(), chosen)


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
            "postal_item_top_cents",
            "postal_specific_offered",
            "postal_usmca_note",
            "postal_formal_note",
            "postal_rate_of",
            "postal_exempt_note",
        )
    )


def add_goods_reasons(goods: pl.LazyFrame) -> pl.LazyFrame:
    """The goods-level part of the line decisions, on the goods table (after the lookups above).

    Adds ``__base_rank`` and ``__base_rule_id``: the suspension, else the exclusion, that makes any
    line of these goods ineligible (its rank in :data:`~screening.errors.REASON_PRECEDENCE`, null
    where none applies) and its rule; ``__no_exclusion``; ``__barred_from_postal`` (AD/CVD and quota
    goods cannot use the postal method); ``__postal_undetermined`` (the code covers such goods and others:
    :func:`attach_partly_barred`); ``__partly_rank`` (the rank of the reason of the first never-eligible class
    that covers the code in part, null where none does: whether the goods may pass free of duty depends on the
    longer code); ``__postal_mode``; ``__postal_item_unknown`` (goods a flat postal regime would charge per item,
    with no amount per item for their origin).
    """
    suspended = pl.col("suspension_reason").is_not_null()
    excluded = pl.col("exclusion_reason").is_not_null()
    base_reason = pl.when(suspended).then(pl.col("suspension_reason")).otherwise(pl.col("exclusion_reason"))
    barred = pl.col("exclusion_barring_rule_id").is_not_null()
    return goods.with_columns(
        base_reason.replace_strict(_RANK, return_dtype=pl.Int64()).alias("__base_rank"),
        pl.when(suspended)
        .then(pl.col("suspension_rule_id"))
        .when(excluded)
        .then(pl.col("exclusion_rule_id"))
        .alias("__base_rule_id"),
        suspended.alias("__dm_suspended"),
        (~excluded).alias("__no_exclusion"),
        barred.fill_null(False).alias("__barred_from_postal"),
        # Some goods under the code are barred from the postal method and others not: the longer code decides.
        (pl.col("__partly_barred").fill_null(False) & ~barred.fill_null(False)).alias(
            "__postal_undetermined"
        ),
        pl.col("__partly_excluded_reason")
        .replace_strict(_RANK, default=None, return_dtype=pl.Int64())
        .alias("__partly_rank"),
        (pl.col("mode") == "postal").alias("__postal_mode"),
        # Goods the regime would charge per postal item, with no amount known for their origin.
        (
            pl.col("postal_method").is_in(list(FLAT_POSTAL_METHODS)).fill_null(False)
            & pl.col("postal_specific_offered").fill_null(False)
            & pl.col("postal_item_cents").is_null()
        ).alias("__postal_item_unknown"),
    )


#: Goods columns the line decisions keep (they pass to the output) and those they only read.
DECISION_GOODS_OUTPUT = (
    "threshold_rule_id",
    "postal_regime_id",
    "postal_rate",
    "postal_item_cents",
    "postal_item_top_cents",
)
_DECISION_GOODS_INPUT = (
    "threshold_cents",
    "informal_max_cents",
    "entry_limit_rule_id",
    "exclusion_waived_cents",
    "exclusion_barring_rule_id",
    "__base_rank",
    "__dm_suspended",
    "__no_exclusion",
    "__barred_from_postal",
    "__postal_mode",
    "__postal_item_unknown",
    "__partly_rank",
    "__partly_waived_cents",
    "gift_rule_id",
)
#: Where a line's rule id comes from: the gift limit, the suspension or exclusion, the threshold, or the
#: never-eligible class that covers its code in part (:func:`opens_eligibility`).
_GIFT_RULE, _BASE_RULE, _THRESHOLD_RULE, _PARTLY_RULE = 0, 1, 2, 3


def line_reason_rank() -> tuple[pl.Expr, pl.Expr, pl.Expr, pl.Expr]:
    """The rank of the line's own reason (:data:`~screening.errors.REASON_PRECEDENCE`) and where its rule comes from;
    then, for a line that :data:`OPENS_ELIGIBILITY`, the rank of the reason it would have were its goods in the
    class that covers its code in part (its suspension's, else the class's) and where that rule comes from (null
    for other lines).

    In precedence order: a bona fide gift within the person-day gift limit is duty-free whatever the
    de minimis suspension (the gift exemption is kept, DOMAIN.md §2), but not for never-eligible goods;
    then a suspension or repeal, then a never-eligible class, then the consignee-day total above the
    threshold. Reads the goods columns of :func:`add_goods_reasons` gathered to the line.
    """
    over = pl.col("consignee_day_value_cents") > pl.col("threshold_cents")
    gift = (
        pl.col("gift").fill_null(False)
        & (pl.col("consignee_day_gift_cents") <= pl.col("gift_limit_cents")).fill_null(False)
        & pl.col("__no_exclusion")
    )
    has_base = pl.col("__base_rank").is_not_null()
    rank = (
        pl.when(gift)
        .then(pl.lit(_RANK[str(ReasonCode.GIFT_EXEMPT)], dtype=pl.Int64()))
        .when(has_base)
        .then(pl.col("__base_rank"))
        .when(over)
        .then(pl.lit(_RANK[str(ReasonCode.OVER_THRESHOLD)], dtype=pl.Int64()))
        .otherwise(pl.lit(_RANK[str(ReasonCode.ELIGIBLE)], dtype=pl.Int64()))
    )
    source = pl.when(gift).then(_GIFT_RULE).when(has_base).then(_BASE_RULE).otherwise(_THRESHOLD_RULE)
    opens = pl.col(OPENS_ELIGIBILITY)
    open_rank = pl.when(opens).then(pl.coalesce(pl.col("__base_rank"), pl.col("__partly_rank")))
    open_source = pl.when(opens).then(pl.when(has_base).then(_BASE_RULE).otherwise(_PARTLY_RULE))
    return (
        rank.alias("__reason_rank"),
        source.cast(pl.Int8()).alias("__rule_source"),
        open_rank.alias("__open_rank"),
        open_source.cast(pl.Int8()).alias("__open_source"),
    )


def opens_eligibility(continued: pl.Series | None) -> pl.Expr:
    """:data:`OPENS_ELIGIBILITY` from the goods columns gathered to the line (after :func:`_waived_exclusions`).
    A package worth at most the waiver of every class that covers the code in part is outside them all (not for a
    package ``continued`` from earlier batches, whose lines here are not all its value)."""
    waived = (pl.col("value_usd_cents").sum().over(PACKAGE_KEY) <= pl.col("__partly_waived_cents")).fill_null(
        False
    )
    if continued is not None:
        waived = waived & ~pl.col("package_id").is_in(continued.implode())
    return (pl.col("__partly_rank").is_not_null() & pl.col("__no_exclusion") & ~waived).alias(
        OPENS_ELIGIBILITY
    )


def decide_lines(
    lines: pl.DataFrame, goods: pl.DataFrame, gifts: pl.DataFrame, continued: pl.Series | None = None
) -> pl.DataFrame:
    """Package decisions on every line, from one aggregation per package.

    Adds the goods columns :data:`DECISION_GOODS_OUTPUT`, then ``de_minimis_reason`` and
    ``de_minimis_rule_id`` (the most severe line reason, then the lowest line number),
    ``de_minimis_eligible``, ``de_minimis_suspended`` (a line of the package is under a suspension or repeal,
    whatever its reason), ``entry_type`` (de-minimis; formal over the informal limit; postal under
    a postal regime, except that AD/CVD and quota goods cannot use the postal method; else informal: so is a
    bona fide gift that no de minimis release passes, :func:`gift_entered_informal`), ``entry_rule_id`` (the
    rule that made it so: the de minimis rule, the postal regime, the never-eligible class that bars mail within
    the informal limit from the regime in force, else the informal-entry limit in force),
    ``package_postal_item_unknown``, :data:`~screening.stages.entry_limits.ASSUMED_ENTRY_NOTE` (mail under a
    postal regime entered formal over the informal limit, or a gift entered informal, where the pack notes that
    entry as unsettled: :func:`formal_mail_note`, :func:`gift_entry_note`),
    :data:`~screening.stages.entry_limits.MAIL_STANDING` and
    :data:`~screening.stages.entry_limits.POSTAL_BARRED_NOTE` (naming the lowest-numbered barred line),
    :data:`~screening.stages.entry_limits.ELIGIBILITY_OPEN` (the package would pass free of duty but for a line whose
    code a never-eligible class covers in part: it takes the reason of its most severe such line, that line's class
    or suspension, is not released, and its note is its assumed entry note),
    :data:`~screening.stages.entry_limits.OPENS_ELIGIBILITY` (such a line of such a package) and
    :data:`~screening.stages.entry_limits.GIFT_LINE_RULE` (a bona fide gift line within the limit in a package that
    does not pass free of duty: its gift rule; it stays duty-free). Expects the
    lines in package order with :data:`~screening.schema.PACKAGE_KEY`, their goods code and consignee-day
    totals; ``goods`` is the goods table after :func:`add_goods_reasons`; ``continued``: the packages with lines
    in earlier batches (incremental mode), whose value here is not theirs.
    """
    with_goods = gather_goods(lines, goods, [*DECISION_GOODS_OUTPUT, *_DECISION_GOODS_INPUT]).with_columns(
        gift_limits(lines, gifts)
    )
    if goods.get_column("exclusion_waived_cents").is_not_null().any():
        with_goods = with_goods.with_columns(_waived_exclusions(continued))
    ranked = with_goods.with_columns(opens_eligibility(continued)).with_columns(*line_reason_rank())
    packages = _package_decisions(ranked, goods)
    # The package table has one row per package in line order: a line's row there is its package's
    # position (the run number of its package key), a gather instead of a join.
    position = ranked[PACKAGE_KEY].rle_id()
    per_line = ranked.hstack(packages.select(pl.all().gather(position)))
    postal = (
        pl.col("__postal_mode") & pl.col("package_has_postal_regime") & ~pl.col("package_barred_from_postal")
    )
    # Mail a regime is in force for, whose AD/CVD or quota goods cannot use it: entered through ACE.
    barred = (
        pl.col("__postal_mode")
        & pl.col("package_has_postal_regime")
        & pl.col("package_barred_from_postal")
        & ~pl.col("de_minimis_eligible")
    )
    formal = pl.col("package_value_cents") > pl.col("informal_max_cents")
    gift_entered = gift_entered_informal()
    released = pl.col("de_minimis_eligible") & ~gift_entered
    entry_type = first_label(
        [
            (released, str(EntryType.DE_MINIMIS)),
            (formal, str(EntryType.FORMAL)),
            (postal, str(EntryType.POSTAL)),
        ],
        otherwise=str(EntryType.INFORMAL),
    )
    # The rule that made the entry what it is: the de minimis rule, the postal regime, else the informal-entry
    # limit (an informal entry is one within it; none where the pack holds no limit for the date).
    entry_rule = (
        pl.when(released)
        .then(pl.col("de_minimis_rule_id"))
        .when(~formal.fill_null(False) & postal)
        .then(pl.col("package_postal_regime_id"))
        .when(~formal.fill_null(False) & barred)
        .then(pl.col("__barring_exclusion_barring_rule_id"))
        .otherwise(pl.col("entry_limit_rule_id"))
    )
    mail_note = formal_mail_note(goods, ~pl.col("de_minimis_eligible") & formal.fill_null(False) & postal)
    standing = (
        pl.when(~pl.col("__postal_mode"))
        .then(None)
        .when(~pl.col("package_has_postal_regime"))
        .then(pl.lit("no-postal-regime"))
        .when(barred)
        .then(pl.lit("barred-from-postal-regime"))
        .otherwise(pl.lit("under-postal-regime"))
    )
    barred_note = pl.when(barred).then(
        pl.format(
            POSTAL_BARRED_NOTE_TEXT,
            pl.col("__barring_line_no"),
            pl.col("__barring_hts_code"),
            pl.col("__barring_exclusion_barring_rule_id"),
            pl.col("package_postal_regime_id"),
        )
    )
    assumed = pl.coalesce(mail_note, gift_entry_note(goods, gift_entered), pl.col("__eligibility_open_note"))
    # A bona fide gift within the limit, in a package that does not pass free of duty (a purchase beside it):
    # the gift article stays duty-free (19 U.S.C. 1321(a)(2)(A) exempts articles sent as gifts), its rule the
    # gift rule's; the package's decision, entry and fees are its other lines'.
    gift_line = (
        (pl.col("__reason_rank") == _RANK[str(ReasonCode.GIFT_EXEMPT)])
        & ~pl.col(OPENS_ELIGIBILITY)
        & ~pl.col("de_minimis_eligible")
    )
    return per_line.with_columns(
        entry_type.alias("entry_type"),
        entry_rule.alias("entry_rule_id"),
        assumed.alias(ASSUMED_ENTRY_NOTE),
        standing.alias(MAIL_STANDING),
        barred_note.alias(POSTAL_BARRED_NOTE),
        (pl.col(OPENS_ELIGIBILITY) & pl.col(ELIGIBILITY_OPEN)).alias(OPENS_ELIGIBILITY),
        pl.when(gift_line).then(pl.col("gift_rule_id")).alias(GIFT_LINE_RULE),
    ).select(
        *lines.columns,
        *DECISION_GOODS_OUTPUT,
        "de_minimis_reason",
        "de_minimis_rule_id",
        "package_postal_item_unknown",
        "de_minimis_eligible",
        "de_minimis_suspended",
        "entry_type",
        "entry_rule_id",
        ASSUMED_ENTRY_NOTE,
        MAIL_STANDING,
        POSTAL_BARRED_NOTE,
        ELIGIBILITY_OPEN,
        OPENS_ELIGIBILITY,
        GIFT_LINE_RULE,
    )


def gift_entered_informal() -> pl.Expr:
    """Per line, whether its package is a bona fide gift (``gift-exempt``) that no de minimis release passes, so
    entered informal, duty-free (19 CFR 10.152 enters gifts under informal procedures): a line under a suspension
    or repeal of the pack (goods that then need an entry: DOMAIN.md 0.3, every express, courier and cargo parcel
    since 2025-08-29), or the person's day over the threshold (19 U.S.C. 1321(a)(2)(C)). Not mail: 19 CFR 145.32
    passes a gift by post without an entry."""
    over = (pl.col("consignee_day_value_cents") > pl.col("threshold_cents")).fill_null(False)
    return (
        (pl.col("de_minimis_reason") == str(ReasonCode.GIFT_EXEMPT))
        & ~pl.col("__postal_mode")
        & (pl.col("de_minimis_suspended") | over)
    )


def gift_entry_note(goods: pl.DataFrame, entered: pl.Expr) -> pl.Expr:
    """Per line, where ``entered`` (:func:`gift_entered_informal`) and the package's gift rule has an
    ``informal_entry_note`` (``goods``: the goods table, with each gift rule's note): why the gift is entered
    informal (the suspension in force, else the person's day over the threshold) and the note; else null."""
    noted = goods.select("gift_rule_id", "gift_entry_note").drop_nulls().unique("gift_rule_id")
    if noted.is_empty():  # no gift rule of the run's dates has such a note
        return pl.lit(None, dtype=pl.String())
    note = pl.col("de_minimis_rule_id").replace_strict(
        noted.get_column("gift_rule_id"),
        noted.get_column("gift_entry_note"),
        default=None,
        return_dtype=pl.String(),
    )
    why = (
        pl.when(pl.col("de_minimis_suspended"))
        .then(pl.format("{} is in force", pl.col("package_suspension_rule_id")))
        .otherwise(
            pl.format(
                "the consignee's day is worth ${}, over the ${} threshold ({})",
                dollar_text(pl.col("consignee_day_value_cents")),
                dollar_text(pl.col("threshold_cents")),
                pl.col("threshold_rule_id"),
            )
        )
    )
    return pl.when(entered & note.is_not_null()).then(
        pl.format(GIFT_ENTRY_NOTE_TEXT, pl.col("de_minimis_rule_id"), why, note)
    )


def formal_mail_note(goods: pl.DataFrame, formal_mail: pl.Expr) -> pl.Expr:
    """Per line, where ``formal_mail`` (a package under a postal regime, entered formal as it is worth more than
    the informal limit) and the package's regime has a ``formal_entry_note`` (``goods``: the goods table, with each
    regime's note): the note, with the item's value, the limit and the regime; else null."""
    noted = goods.select("postal_regime_id", "postal_formal_note").drop_nulls().unique("postal_regime_id")
    if noted.is_empty():  # no mail of the run is under a regime with such a note
        return pl.lit(None, dtype=pl.String())
    regime = pl.col("package_postal_regime_id")
    note = regime.replace_strict(
        noted.get_column("postal_regime_id"),
        noted.get_column("postal_formal_note"),
        default=None,
        return_dtype=pl.String(),
    )
    return pl.when(formal_mail & note.is_not_null()).then(
        pl.format(
            FORMAL_MAIL_NOTE_TEXT,
            dollar_text(pl.col("package_value_cents")),
            dollar_text(pl.col("informal_max_cents")),
            regime,
            note,
        )
    )


def _waived_exclusions(continued: pl.Series | None) -> list[pl.Expr]:
    """A never-eligible class waived for a package worth at most its ``exclusion_waived_cents`` (perfume with
    alcohol in a shipment of $5 or less): such a line's goods are no longer excluded, so its base reason is the
    suspension alone, if any (a suspension outranks an exclusion already), and a gift may pass. Not for a package
    ``continued`` from earlier batches (incremental mode): its lines here are not all its value."""
    waived = (
        pl.col("value_usd_cents").sum().over(PACKAGE_KEY) <= pl.col("exclusion_waived_cents")
    ).fill_null(False)
    if continued is not None:
        waived = waived & ~pl.col("package_id").is_in(continued.implode())
    return [
        pl.when(waived & ~pl.col("__dm_suspended"))
        .then(None)
        .otherwise(pl.col("__base_rank"))
        .alias("__base_rank"),
        (pl.col("__no_exclusion") | waived).alias("__no_exclusion"),
    ]


#: A package's facts of its line whose code leaves its eligibility open: the line column each is taken from.
_OPEN_FACTS = {
    "__open_rank": "__open_rank",
    "__open_source": "__open_source",
    "__open_goods": GOODS_CODE,
    "__open_line_no": "line_no",
    "__open_hts_code": "hts_code",
}


def _package_decisions(lines: pl.DataFrame, goods: pl.DataFrame) -> pl.DataFrame:
    """One row per package, in line order: its reason, rule, eligibility, value and postal facts."""
    first_worst = (pl.col("__reason_rank") * (1 << 32) + pl.col("line_no")).arg_min()
    opens = pl.col(OPENS_ELIGIBILITY)
    open_order = pl.col("__open_rank") * (1 << 32) + pl.col("line_no")
    any_open = bool(lines.get_column(OPENS_ELIGIBILITY).any())
    open_facts = _OPEN_FACTS if any_open else {}
    # On the integer package key of the sorted lines, which polars groups as slices.
    facts = (
        lines.lazy()
        .with_columns(pl.col(PACKAGE_KEY).set_sorted())
        .group_by(PACKAGE_KEY, maintain_order=True)
        .agg(
            pl.col("__reason_rank").get(first_worst),
            pl.col("__rule_source").get(first_worst),
            pl.col(GOODS_CODE).get(first_worst),
            pl.col("value_usd_cents").sum().alias("package_value_cents"),
            pl.col("postal_regime_id").is_not_null().any().alias("package_has_postal_regime"),
            # The regime of its lowest-numbered line under one (lines of other origins may have none).
            pl.col("postal_regime_id").drop_nulls().first().alias("package_postal_regime_id"),
            pl.col("__barred_from_postal").any().alias("package_barred_from_postal"),
            # The lowest-numbered line barred from the postal method: its number, code and class.
            *[
                pl.col(c)
                .sort_by("line_no")
                .filter(pl.col("__barred_from_postal").sort_by("line_no"))
                .first()
                .alias(f"__barring_{c}")
                for c in ("line_no", "hts_code", "exclusion_barring_rule_id")
            ],
            # The rule itself does not run for the package (a gift's reason outranks the suspension).
            pl.col("__dm_suspended").any().alias("de_minimis_suspended"),
            # The goods of its lowest-numbered line under a suspension or repeal (the rule a gift's entry names).
            pl.col(GOODS_CODE).filter(pl.col("__dm_suspended")).first().alias("__suspended_goods"),
            # Only lines charged per item count: others (no regime for their origin, a regime without an
            # amount per item) pay their own duties.
            # An item whose known lines already reach the regime's highest amount owes it whatever the rest.
            (pl.col("__postal_item_unknown").any() & ~reaches_top_per_item().fill_null(False)).alias(
                "package_postal_item_unknown"
            ),
            # The line whose code leaves open whether the package may pass free of duty: the most severe reason
            # it would have, then the lowest line number; its rank, rule source, goods, number and code.
            *[
                pl.col(column).filter(opens).sort_by(open_order.filter(opens)).first().alias(fact)
                for fact, column in open_facts.items()
            ],
        )
        .collect(engine="in-memory")
    )
    if not any_open:  # nearly every run: no such line
        facts = facts.with_columns(
            pl.lit(None, dtype=lines.schema[column]).alias(fact) for fact, column in _OPEN_FACTS.items()
        )
    # A package that would pass free of duty, but for a line whose code a never-eligible class covers in part:
    # its eligibility is open, so it takes the reason that line would have in the class, and is not released.
    duty_free = pl.col("__reason_rank").is_in([_RANK[str(r)] for r in DUTY_FREE_REASONS])
    is_open = duty_free & pl.col("__open_rank").is_not_null()
    facts = facts.with_columns(
        pl.when(is_open).then(pl.col("__open_goods")).otherwise(pl.col(GOODS_CODE)).alias(GOODS_CODE),
        pl.when(is_open)
        .then(pl.col("__open_rank"))
        .otherwise(pl.col("__reason_rank"))
        .alias("__reason_rank"),
        pl.when(is_open)
        .then(pl.col("__open_source"))
        .otherwise(pl.col("__rule_source"))
        .alias("__rule_source"),
        is_open.alias(ELIGIBILITY_OPEN),
    )
    rules = gather_goods(
        facts,
        goods,
        [
            "gift_rule_id",
            "__base_rule_id",
            "threshold_rule_id",
            "suspension_exception_id",
            "__partly_excluded_rule_id",
            "__partly_excluded_reason",
        ],
    )
    source = pl.col("__rule_source")
    eligible = pl.col("__reason_rank") == _RANK[str(ReasonCode.ELIGIBLE)]
    return rules.select(
        label_at(pl.col("__reason_rank"), [str(r) for r in REASON_PRECEDENCE]).alias("de_minimis_reason"),
        pl.when(source == _GIFT_RULE)
        .then(pl.col("gift_rule_id"))
        .when(source == _BASE_RULE)
        .then(pl.col("__base_rule_id"))
        .when(source == _PARTLY_RULE)
        .then(pl.col("__partly_excluded_rule_id"))
        # Eligible where a suspension is in force only as an exception leaves the goods out: it decided.
        .when(eligible)
        .then(pl.coalesce("suspension_exception_id", "threshold_rule_id"))
        .otherwise(pl.col("threshold_rule_id"))
        .alias("de_minimis_rule_id"),
        pl.col("__reason_rank")
        .is_in([_RANK[str(r)] for r in DUTY_FREE_REASONS])
        .alias("de_minimis_eligible"),
        ELIGIBILITY_OPEN,
        # Why it is open, for its note: the line, its code, and the class that covers the code in part.
        pl.when(pl.col(ELIGIBILITY_OPEN))
        .then(
            pl.format(
                ELIGIBILITY_OPEN_NOTE_TEXT,
                pl.col("__open_line_no"),
                pl.col("__open_hts_code"),
                pl.col("__partly_excluded_rule_id"),
                pl.col("__partly_excluded_reason"),
            )
        )
        .alias("__eligibility_open_note"),
        "package_value_cents",
        "package_has_postal_regime",
        "package_postal_regime_id",
        "package_barred_from_postal",
        "__barring_line_no",
        "__barring_hts_code",
        "__barring_exclusion_barring_rule_id",
        "package_postal_item_unknown",
        "de_minimis_suspended",
        goods.get_column("__base_rule_id")
        .gather(facts.get_column("__suspended_goods"))
        .alias("package_suspension_rule_id"),
    )
