"""Entry limits that depend on the duties charged: the lower informal limit for Chapter 99 articles.

19 CFR 143.21(a) lets a package under the informal limit ($2,500) use an informal entry "except for articles valued
in excess of $250 classified in Chapter 99, Subchapters III and IV". Which lines are such articles is known only
once the Chapter 99 measures are charged, after the line decisions: a package the decisions made ``informal``
becomes ``formal`` here, before its fees are found. The limit, its headings and whether it is suspended are the
pack's (``entry_limits``, by date); a date whose limit has none leaves every package as it is.

Per package (columns the fees read, dropped after them): :data:`ENTRY_NOTE` says why the entry is what it is when
the limit decided it; :data:`ENTRY_OPEN` marks a package whose entry type depends on a Chapter 99 duty left open
(a code too short for a measure's list, a coverage gap of a kind of duty the pack charges under a listed heading in
any period, the day's ``chapter99_kinds``): informal or formal, its fees are not settled;
:data:`ENTRY_UNCONFIRMED` marks one the limit decided under a rule the pack does not hold settled.

Mail worth more than the informal limit under a postal regime is entered formal by the line decisions, and a bona
fide gift that no de minimis release passes (express, cargo) informal; where the pack records that entry as one it
does not settle (the regime's ``formal_entry_note``, the gift rule's ``informal_entry_note``), the package's
:data:`ASSUMED_ENTRY_NOTE` says so and becomes its :data:`ENTRY_NOTE`, with :data:`ENTRY_UNCONFIRMED`; so does the
note of a package whose de minimis eligibility a short code leaves open (:data:`ELIGIBILITY_OPEN`), whose fees are
then unknown. Mail a postal
regime is in force for, barred from it by AD/CVD or quota goods, is entered through ACE: its
:data:`POSTAL_BARRED_NOTE` follows that note.
"""

from __future__ import annotations

import polars as pl

from screening.errors import EntryType
from screening.exprs.money import dollar_text
from screening.schema import PACKAGE_KEY

#: Per package: the value (cents) of its lines charged a duty above zero under a listed Chapter 99 heading.
CHAPTER99_CENTS = "__chapter99_cents"
#: Per package: the value (cents) of its other lines whose duty of a Chapter 99 kind is open.
CHAPTER99_OPEN_CENTS = "__chapter99_open_cents"
#: Why the entry is what it is, where the Chapter 99 limit decided it (the fee components' assumption).
ENTRY_NOTE = "__entry_note"
#: The entry type depends on a Chapter 99 duty left open: the fees are not settled.
ENTRY_OPEN = "__entry_open"
#: How the note of an open entry begins and ends (``screen explain`` reads why the entry is open between them).
OPEN_NOTE_START = "entry type open: "
OPEN_NOTE_END = ": informal or formal"
#: The Chapter 99 limit decided the entry under a rule the pack marks unconfirmed or in conflict.
ENTRY_UNCONFIRMED = "__entry_unconfirmed"
#: Per line and package: why the entry is what it is where the pack records it as a choice it does not settle
#: (mail under a postal regime entered formal, worth more than the informal limit; a gift entered informal, that
#: no de minimis release passes); null elsewhere.
ASSUMED_ENTRY_NOTE = "__assumed_entry_note"
#: How :data:`ASSUMED_ENTRY_NOTE` of formal mail begins (``screen explain`` finds it in the components' assumption).
FORMAL_MAIL_NOTE_START = "formal entry of mail: "
#: That note after its start: the item's value, the limit, the regime and the regime's note.
FORMAL_MAIL_NOTE_TEXT = (
    FORMAL_MAIL_NOTE_START
    + "the postal item is worth ${}, over the ${} informal-entry limit, while postal regime {} "
    "is in force: {}"
)
#: Per line and package: for mail, ``no-postal-regime`` (no postal duty regime in force for any of its lines),
#: ``barred-from-postal-regime`` (one is, but AD/CVD or quota goods of the item cannot use it) or
#: ``under-postal-regime``; null for other modes. Fees of postal mode choose by it (``Fee.mail``).
MAIL_STANDING = "__mail_standing"
#: Per line and package: why mail a postal regime is in force for is entered through ACE (its barred line and
#: class, the regime); null elsewhere. The fee components' assumption and ``screen explain`` show it.
POSTAL_BARRED_NOTE = "__postal_barred_note"
#: How :data:`POSTAL_BARRED_NOTE` begins (``screen explain`` finds it in the components' assumption).
POSTAL_BARRED_NOTE_START = "barred from the postal method: "
#: :data:`POSTAL_BARRED_NOTE` after its start: the line number, its code, its class and the regime.
POSTAL_BARRED_NOTE_TEXT = (
    POSTAL_BARRED_NOTE_START
    + "line {} ({}) is in never-eligible class {}, and AD/CVD and quota goods cannot use postal regime {} "
    "(DOMAIN.md 1a): the item is entered through ACE, every duty charged"
)
#: How :data:`ASSUMED_ENTRY_NOTE` of a gift entered informal begins (``screen explain`` finds it in the fees').
GIFT_ENTRY_NOTE_START = "informal entry of a gift: "
#: That note after its start: the gift rule, why no de minimis release passes the package, and the rule's note.
GIFT_ENTRY_NOTE_TEXT = (
    GIFT_ENTRY_NOTE_START
    + "{} passes it free of duty, but no de minimis release does ({}): gifts are entered under informal entry "
    "procedures (19 CFR 10.152); {}"
)
#: Per line and package: the package would pass free of duty (``dm-eligible``, ``gift-exempt``) but a line's code is
#: one a never-eligible class covers only in part (a 6-digit subheading of which some 8-digit lines are quota goods,
#: say), so whether it may is left to the longer code: the package is not released, it takes the reason the class
#: would give that line, and its duty and fees are open. Fees read it (dropped after them).
ELIGIBILITY_OPEN = "__eligibility_open"
#: How the note of such a package begins (an :data:`ASSUMED_ENTRY_NOTE`; ``screen explain`` finds it in the
#: components' assumption).
ELIGIBILITY_OPEN_NOTE_START = "de minimis eligibility open: "
#: That note after its start: the line number, its code, the class and its reason.
ELIGIBILITY_OPEN_NOTE_TEXT = (
    ELIGIBILITY_OPEN_NOTE_START
    + "line {} ({}) has a code that never-eligible class {} ({}) covers only in part: whether the package passes "
    "free of duty depends on the longer code, not declared, so it is not released, and what it owes if entered "
    "is not settled"
)
#: Per line: the line's code is one a never-eligible class covers only in part (some of the goods under it are in
#: the class, others not), its goods are in no class whole and no waiver takes its package out of the class; after
#: the line decisions, only in a package whose eligibility that leaves open (:data:`ELIGIBILITY_OPEN`).
OPENS_ELIGIBILITY = "__opens_eligibility"
#: Per line: the gift rule that passes a bona fide gift line within the limit free of duty in a package that does
#: not pass so (a purchase beside it, say: the package takes its other lines' decision, entry and fees); null
#: elsewhere. The ``lines`` output shows such a line as ``gift-exempt`` under this rule, duty-free.
GIFT_LINE_RULE = "__gift_line_rule_id"
#: The columns :func:`with_entry_limits` adds (null or false where no limit applies).
ENTRY_COLUMNS = pl.Schema(
    {ENTRY_NOTE: pl.String(), ENTRY_OPEN: pl.Boolean(), ENTRY_UNCONFIRMED: pl.Boolean()}
)
#: The components' heading cut to the four digits of its Chapter 99 heading (``9903.88.03`` → ``9903``).
_HEADING4 = "__heading4"


def with_entry_limits(
    packages: pl.LazyFrame, lines: pl.DataFrame, components: pl.LazyFrame, row: str, days: pl.DataFrame
) -> pl.LazyFrame:
    """``packages`` with the entry type the Chapter 99 limit of their date gives and the columns of
    :data:`ENTRY_COLUMNS` (``lines``: the settled lines, ``row`` their row number in ``components``, the Chapter
    99 measures' components; ``days``: the resolved days); as they are where the run's dates have no such
    limit. A package's :data:`ASSUMED_ENTRY_NOTE` (formal mail or a gift's informal entry, which no Chapter 99
    limit decides, or its de minimis eligibility left open: :data:`ELIGIBILITY_OPEN`) follows the Chapter 99
    limit's note, if any, in its entry's note, unconfirmed, and its :data:`POSTAL_BARRED_NOTE` follows them; both
    columns are dropped."""
    if days.get_column("chapter99_max_cents").is_null().all():
        limited = packages.with_columns(
            pl.lit(None, dtype=pl.String()).alias(ENTRY_NOTE),
            pl.lit(False).alias(ENTRY_OPEN),
            pl.lit(False).alias(ENTRY_UNCONFIRMED),
        )
    else:
        limited = _apply_chapter99_limit(packages, _chapter99_value(lines, components, row, days), days)
    assumed = pl.col(ASSUMED_ENTRY_NOTE)
    # An open entry's note comes first (``screen explain`` reads it there).
    note = pl.concat_str(
        pl.col(ENTRY_NOTE),
        assumed,
        pl.col(POSTAL_BARRED_NOTE),
        separator="; ",
        ignore_nulls=True,
    )
    return limited.with_columns(
        pl.when(note != "").then(note).alias(ENTRY_NOTE),
        (pl.col(ENTRY_UNCONFIRMED) | assumed.is_not_null()).alias(ENTRY_UNCONFIRMED),
    ).drop(ASSUMED_ENTRY_NOTE, POSTAL_BARRED_NOTE)


def _chapter99_value(
    lines: pl.DataFrame, components: pl.LazyFrame, row: str, days: pl.DataFrame
) -> pl.LazyFrame:
    """``PACKAGE_KEY, CHAPTER99_CENTS, CHAPTER99_OPEN_CENTS`` per informal package worth more than the lowest
    limit, with either: the value of its lines that ``components`` (the Chapter 99 measures' components, each
    with its line's row ``row`` in ``lines``) charge an amount above zero under a heading the entry limit in
    force on the line's date lists (``days``: the resolved days), and of its other lines with such a component
    left without an amount, or a coverage gap of a kind of duty the pack charges under such a heading (the day's
    ``chapter99_kinds``, of the whole pack: the same whatever other dates are screened)."""
    # Only an informal package worth more than the lowest limit can change: its lines, from the few packages
    # of a day that are, before the components (about two per line) are read.
    lowest = days.get_column("chapter99_max_cents").min()
    candidates = (
        lines.lazy()
        .select(row, PACKAGE_KEY, "arrival_date", "value_usd_cents", "entry_type")
        .filter(
            (pl.col("entry_type") == str(EntryType.INFORMAL))
            & (pl.col("value_usd_cents").sum().over(PACKAGE_KEY) > pl.lit(lowest, dtype=pl.Int64()))
        )
        .drop("entry_type")
        .collect(engine="in-memory")
        .lazy()
    )
    listed = (
        days.select("arrival_date", pl.col("chapter99_headings").alias(_HEADING4))
        .explode(_HEADING4)
        .drop_nulls()
        .lazy()
    )
    dated = components.select(row, "heading", "component", "amount_cents", "gap").join(
        candidates.select(row, "arrival_date"), on=row, how="inner"
    )
    in_listed = dated.with_columns(pl.col("heading").str.slice(0, 4).alias(_HEADING4)).join(
        listed, on=["arrival_date", _HEADING4], how="semi"
    )
    charged = in_listed.filter(pl.col("amount_cents") > 0).select(row).unique()
    open_kinds = (
        days.filter(pl.col("chapter99_max_cents").is_not_null())
        .select("arrival_date", pl.col("chapter99_kinds").alias("component"))
        .explode("component")
        .drop_nulls()
        .lazy()
    )
    open_gaps = dated.filter(pl.col("gap")).join(open_kinds, on=["arrival_date", "component"], how="semi")
    left_open = pl.concat(
        [in_listed.filter(pl.col("amount_cents").is_null()).select(row), open_gaps.select(row)]
    ).unique()
    by_line = pl.concat(
        [
            charged.with_columns(pl.lit(True).alias("__charged")),
            left_open.join(charged, on=row, how="anti").with_columns(pl.lit(False).alias("__charged")),
        ]
    )
    value = pl.col("value_usd_cents")
    return (
        by_line.join(
            candidates.select(row, PACKAGE_KEY, "arrival_date", "value_usd_cents"), on=row, how="inner"
        )
        .group_by(PACKAGE_KEY)
        .agg(
            pl.col("arrival_date").first(),  # a package's lines share its date (its first line's)
            value.filter(pl.col("__charged")).sum().alias(CHAPTER99_CENTS),
            value.filter(~pl.col("__charged")).sum().alias(CHAPTER99_OPEN_CENTS),
        )
    )


def _apply_chapter99_limit(packages: pl.LazyFrame, value: pl.LazyFrame, days: pl.DataFrame) -> pl.LazyFrame:
    """``packages`` with an ``informal`` entry made ``formal`` where its Chapter 99 articles (``value``, from
    :func:`_chapter99_value`: informal packages only) are worth more than the lower limit in force on its date,
    and the columns of :data:`ENTRY_COLUMNS`. Under a suspended limit such a package stays informal, saying so;
    one whose charged articles are within the limit but whose open ones could take it over has its entry, and
    fees, open. The few packages concerned are decided apart, then set beside all of them by package key."""
    limits = days.select(
        "arrival_date",
        "chapter99_max_cents",
        "chapter99_suspended",
        "entry_limit_confidence",
        "entry_limit_rule_id",
    ).lazy()
    charged = pl.col(CHAPTER99_CENTS)
    open_value = pl.col(CHAPTER99_OPEN_CENTS)
    limit = pl.col("chapter99_max_cents")
    suspended = pl.col("chapter99_suspended").fill_null(False)
    over = (charged > limit).fill_null(False)
    made_formal = over & ~suspended
    left_open = (~over & ~suspended & (charged + open_value > limit)).fill_null(False)
    # The rule, with its confidence where the pack does not hold it settled (the fee components' own
    # confidence is their fee rule's).
    rule = (
        pl.when(pl.col("entry_limit_confidence") == "confirmed")
        .then(pl.col("entry_limit_rule_id"))
        .otherwise(pl.format("{}, {}", pl.col("entry_limit_rule_id"), pl.col("entry_limit_confidence")))
    )
    note = (
        pl.when(made_formal)
        .then(
            pl.format(
                "formal entry: its Chapter 99 articles are worth ${}, over the ${} informal limit for them ({})",
                dollar_text(charged),
                dollar_text(limit),
                rule,
            )
        )
        .when(over)
        .then(
            pl.format(
                "informal entry: its Chapter 99 articles are worth ${}, over the ${} limit for them, which is "
                "suspended ({})",
                dollar_text(charged),
                dollar_text(limit),
                rule,
            )
        )
        .when(left_open)
        .then(
            pl.format(
                f"{OPEN_NOTE_START}Chapter 99 articles charged ${{}} and ${{}} of articles whose Chapter 99 duty "
                f"is open, against the ${{}} informal limit for them ({{}}){OPEN_NOTE_END}",
                dollar_text(charged),
                dollar_text(open_value),
                dollar_text(limit),
                rule,
            )
        )
    )
    decided = (
        value.join(limits, on="arrival_date", how="inner")
        .select(
            PACKAGE_KEY,
            made_formal.alias("__made_formal"),
            pl.col("entry_limit_rule_id").alias("__limit_rule_id"),
            note.alias(ENTRY_NOTE),
            left_open.alias(ENTRY_OPEN),
            (over & (pl.col("entry_limit_confidence") != "confirmed"))
            .fill_null(False)
            .alias(ENTRY_UNCONFIRMED),
        )
        .filter(pl.col(ENTRY_NOTE).is_not_null())
    )
    return (
        packages.join(decided, on=PACKAGE_KEY, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("__made_formal"))
            .then(pl.lit(str(EntryType.FORMAL)))
            .otherwise(pl.col("entry_type"))
            .alias("entry_type"),
            # Made formal, its entry rule is the limit (not the class that barred mail from a postal regime).
            pl.when(pl.col("__made_formal"))
            .then(pl.col("__limit_rule_id"))
            .otherwise(pl.col("entry_rule_id"))
            .alias("entry_rule_id"),
            pl.col(ENTRY_OPEN).fill_null(False),
            pl.col(ENTRY_UNCONFIRMED).fill_null(False),
        )
        .drop("__made_formal", "__limit_rule_id")
    )
