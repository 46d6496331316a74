"""Risk: the whitelisted risk columns, each rule's condition per line, package flags and scores.

Conditions are evaluated per line over :data:`~screening.schema.RISK_COLUMNS`; a package
carries every rule that fired on any of its lines, once, and its score is the sum of those
rules' weights (each rule's contribution is a row of the ``flags`` output).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import polars as pl

from screening.exprs.gather import gathered
from screening.exprs.hts import hts_prefix
from screening.exprs.names import legal_form, normalise_name
from screening.exprs.parties import is_no_name, normalised_name
from screening.rulepack.risk_models import KeywordFamily
from screening.rulepack.risk_tables import ResolvedRisk
from screening.schema import PACKAGE_KEY, RISK_COLUMN_TYPES
from screening.stages.aggregate import PARTS_SEEN, with_day_totals
from screening.stages.enrich import HTS_TOO_SHORT
from screening.stages.lookup import lookup, mapped

#: Text columns of the manifest that risk needs beside the decision columns.
RISK_TEXT_INPUTS = (
    "carrier",
    "shipper_name",
    "shipper_country",
    "consignee_name",
    "consignee_postal_code",
    "country_of_export",
    "description",
)


#: The long form of fired rules per line (:func:`flag_lines`).
LINE_FLAG_SCHEMA = pl.Schema(
    {
        "__line": pl.UInt32(),
        PACKAGE_KEY: pl.UInt32(),
        "package_id": pl.String(),
        "line_no": pl.Int64(),
        "rule_id": pl.String(),
        "__detail": pl.String(),
    }
)

#: The risk columns whose rules' flags say what was read, and the per-line column that says it: the
#: screening-list match, the legal form of the shipper's name.
DETAIL_COLUMNS = {"denied_party_match": "__denied_detail", "shipper_legal_form": "__legal_form_detail"}


def _dollars(cents: str, name: str) -> pl.Expr:
    return (pl.col(cents).cast(pl.Float64()) / 100).alias(name)


#: Matched keyword families of a description as bits of one integer (computed per distinct description).
FAMILY_MASK = "__family_mask"


def description_columns(families: Sequence[KeywordFamily]) -> list[pl.Expr]:
    """``description_family`` (the first family whose keywords match) and the bitmask of all that match.

    Reads ``description_norm``; meant for the distinct descriptions of a run (see :func:`mismatch_column`).
    """
    if len(families) > 62:
        raise ValueError("at most 62 keyword families")
    norm = pl.col("description_norm")
    matches = [_family_text(norm, f).str.contains(f.pattern).fill_null(False) for f in families]
    family = (
        pl.coalesce([pl.when(m).then(pl.lit(f.name)) for m, f in zip(matches, families, strict=True)])
        if families
        else pl.lit(None, dtype=pl.String())
    )
    mask = pl.sum_horizontal(
        pl.lit(0, dtype=pl.Int64()),
        *[pl.when(m).then(pl.lit(1 << i, dtype=pl.Int64())).otherwise(0) for i, m in enumerate(matches)],
    )
    return [family.alias("description_family"), mask.alias(FAMILY_MASK)]


def _family_text(norm: pl.Expr, family: KeywordFamily) -> pl.Expr:
    """The description as ``family`` reads it: its ``ignore`` phrases blanked ('laptop bag' names no laptop)."""
    return norm if family.ignore is None else norm.str.replace_all(family.ignore, " ")


def mismatch_column(families: Sequence[KeywordFamily]) -> pl.Expr:
    """``hts_description_mismatch``: the description names a family, and no matching family covers the
    line's HTS chapter."""
    mask, chapter = pl.col(FAMILY_MASK), pl.col("hts_chapter")
    covered = [((mask & (1 << i)) != 0) & chapter.is_in(list(f.chapters)) for i, f in enumerate(families)]
    matched = (mask != 0) & ~pl.any_horizontal(covered) if families else pl.lit(False)
    return matched.fill_null(False).alias("hts_description_mismatch")


def consignee_history(current: pl.LazyFrame, history: pl.LazyFrame, days: int) -> pl.LazyFrame:
    """Per consignee-day of the run: earlier days, packages and value in the ``days`` before it."""
    pairs = current.select("consignee_key", "arrival_date").unique()
    package = ["consignee_key", "prior_date", "package_id"]
    # One row per package and day of each source (:func:`screening.io.history.read_history`): a package several
    # sources hold alike (its value and lines) counts once, its different parts in different sources together.
    earlier = (
        history.select(
            "consignee_key",
            pl.col("arrival_date").alias("prior_date"),
            "package_id",
            "value_usd_cents",
            "lines",
        )
        .unique(keep="first")
        .group_by(package)
        .agg(pl.col("value_usd_cents").sum())
    )
    window = (pl.col("prior_date") < pl.col("arrival_date")) & (
        pl.col("prior_date") >= pl.col("arrival_date") - pl.duration(days=days)
    )
    return (
        pairs.join(earlier, on="consignee_key", how="inner")
        .filter(window)
        .group_by("consignee_key", "arrival_date")
        .agg(
            pl.col("prior_date").n_unique().cast(pl.Int64()).alias("consignee_prior_days"),
            pl.col("package_id").n_unique().cast(pl.Int64()).alias("consignee_prior_packages"),
            (pl.col("value_usd_cents").sum().cast(pl.Float64()) / 100).alias("consignee_prior_value_usd"),
        )
    )


#: Text columns whose features are computed once per distinct value and gathered by integer code.
CODED_TEXT = ("description", "shipper_name", "consignee_name")


#: Columns of the decided lines that the risk columns are derived from (besides the line and package keys).
LINE_INPUTS = (
    "package_id",
    "line_no",
    "arrival_date",
    "mode",
    "port_of_entry",
    "country_of_origin",
    "quantity",
    "gross_weight_kg",
    "usmca_claim",
    "gift",
    "hts_digits",
    "tariff_line",
    "value_usd_cents",
    "consignee_key",
    "consignee_day_value_cents",
    "consignee_day_packages",
    "consignee_day_lines",
    "de_minimis_eligible",
    "de_minimis_reason",
    "de_minimis_suspended",
    "duty_status",
    HTS_TOO_SHORT,
)


def risk_columns(
    lines: pl.LazyFrame,
    text: pl.DataFrame,
    risk: ResolvedRisk,
    *,
    days: pl.DataFrame,
    tariff_dates: Sequence[dt.date],
    denied: pl.LazyFrame,
    history: pl.LazyFrame | None,
    own_names: pl.DataFrame | None = None,
    shipper_days: pl.DataFrame | None = None,
    shipper_running: pl.DataFrame | None = None,
) -> pl.LazyFrame:
    """Every whitelisted risk column per line, with ``__line``, the package key and the detail columns
    (:data:`DETAIL_COLUMNS`).

    ``lines`` holds the decided lines (:data:`LINE_INPUTS` and the keys), materialised; ``text`` the
    text columns of :data:`RISK_TEXT_INPUTS`, line ``i`` in row ``i``; ``denied`` is the output of
    :func:`screening.stages.denied.match_parties` for the run's names; ``own_names`` (``__line``,
    ``shipper_name``, ``consignee_name``) the lines that name another party than their package's first line,
    whose screening-list match is that of their own names (:func:`_own_party_matches`); ``shipper_days`` (when ``lines``
    are a part of a day) the whole day's totals of the shipper-consignee-days that span parts
    (:func:`screening.stages.aggregate.spanning_totals` of :func:`shipper_consignee_day_partials`);
    ``shipper_running`` (incremental mode) each package's running shipper-consignee-day totals
    (:func:`screening.stages.running.shipper_running_totals`).

    One lazy plan over narrow rows, with no join as long as the lines: the text columns are put in
    line order by position, and the text features are computed once per distinct value and
    gathered by integer codes. A reader that selects a few columns (:func:`flag_lines`) computes
    only what they need (DESIGN §7).
    """
    # Numbered once: the codes gathered into the lines must match the rows of the features.
    coded = {column: _Distinct.of(text, column) for column in CODED_TEXT}
    base = _with_text(_marked_package_order(lines.select("__line", PACKAGE_KEY, *LINE_INPUTS)), text, coded)
    matches = denied.collect(engine="in-memory")
    base = _line_values(base, tariff_dates).with_columns(
        _text_features(
            coded,
            risk.families,
            matches,
            tuple(risk.denied.legal_suffixes) if risk.denied is not None else (),
            risk.text_tests,
        )
    )
    if own_names is not None and own_names.height:
        base = base.with_columns(_own_party_matches(own_names, matches))
    base = _package_totals(base.with_columns(mismatch_column(risk.families)), shipper_days, shipper_running)
    thresholds = days.select(
        "arrival_date", (pl.col("threshold_cents").cast(pl.Float64()) / 100).alias("threshold_usd")
    )
    base = base.with_columns(
        mapped(pl.col("arrival_date"), thresholds, "arrival_date", "threshold_usd").alias("threshold_usd"),
        mapped(pl.col("hts_chapter"), risk.value_per_kg, "chapter", "min_usd_per_kg").alias(
            "chapter_min_usd_per_kg"
        ),
    )
    base = base.with_columns(
        # From the suspensions, not the reason: a gift's reason outranks a suspension.
        (pl.col("threshold_usd").is_not_null() & ~pl.col("de_minimis_suspended")).alias(
            "de_minimis_in_force"
        ),
        *_denied_columns(),
    )
    base = _prior_history(base, lines, history, risk.history_days)
    # Typed as the whitelist declares (a window's count is unsigned; the incremental totals are not): the
    # same condition must see the same values whatever the mode.
    typed = [pl.col(name).cast(dtype) for name, dtype in RISK_COLUMN_TYPES.items()]
    return base.select("__line", PACKAGE_KEY, *typed, *DETAIL_COLUMNS.values(), *risk.text_tests)


def _with_text(lines: pl.LazyFrame, text: pl.DataFrame, coded: dict[str, _Distinct]) -> pl.LazyFrame:
    """``lines`` with the text columns and the codes of :data:`CODED_TEXT` beside them, in line order."""
    rows = _text_rows(lines, text)
    text_in_line_order = text.lazy().select(
        *(pl.col(column).gather(rows) for column in RISK_TEXT_INPUTS),
        *(distinct.code.gather(rows) for distinct in coded.values()),
    )
    return pl.concat([lines, text_in_line_order], how="horizontal")


def _text_features(
    coded: dict[str, _Distinct],
    families: Sequence[KeywordFamily],
    matches: pl.DataFrame,
    legal_suffixes: Sequence[str],
    text_tests: Mapping[str, tuple[str, pl.Expr]],
) -> list[pl.Expr]:
    """The description and party-name features per line, gathered by code (see :func:`_with_text`), the conditions'
    text tests (``text_tests``, :attr:`~screening.rulepack.risk_tables.ResolvedRisk.text_tests`) among them."""
    descriptions = coded["description"]
    features = descriptions.gather(
        _with_text_tests(_description_features(descriptions, families), "description_norm", text_tests)
    )
    for party in ("shipper", "consignee"):
        names = coded[f"{party}_name"]
        party_features = _party_features(names, party, matches, legal_suffixes)
        features += names.gather(_with_text_tests(party_features, f"{party}_name_norm", text_tests))
    return features


def _with_text_tests(
    features: pl.DataFrame, column: str, text_tests: Mapping[str, tuple[str, pl.Expr]]
) -> pl.DataFrame:
    """``features`` (a row per distinct text) with the text tests that read ``column``: once per text, not per
    line."""
    return features.with_columns(
        test.alias(name) for name, (read, test) in text_tests.items() if read == column
    )


def _text_rows(lines: pl.LazyFrame, text: pl.DataFrame) -> pl.Series:
    """Each line's row in ``text``, in the order of ``lines`` (a gather instead of a join on ``__line``)."""
    row_indexed = text.select((pl.col("__line") == pl.int_range(pl.len(), dtype=pl.UInt32())).all()).item()
    if not row_indexed:
        raise ValueError("the text columns must hold line i in row i")
    return lines.select("__line").collect(engine="in-memory").get_column("__line")


class _Distinct(NamedTuple):
    """A text column's distinct values (null last), and the expression of each row's code: its row
    among them. Features computed once per value are gathered into the lines by code. The values
    come in no fixed order: codes and features must come from the same instance."""

    values: pl.DataFrame
    code: pl.Expr

    @classmethod
    def of(cls, text: pl.DataFrame, column: str) -> _Distinct:
        """The distinct values of ``text[column]`` and the code expression (over ``text``'s rows)."""
        found = text.get_column(column).unique().drop_nulls()
        null = pl.DataFrame({column: [None]}, schema={column: pl.String()})
        # An enum of exactly the distinct values numbers them at hashing cost, with no join.
        code = pl.col(column).cast(pl.Enum(found)).to_physical().cast(pl.UInt32()).fill_null(len(found))
        return cls(pl.concat([found.to_frame(), null]), code.alias(f"__{column}_code"))

    def gather(self, features: pl.DataFrame) -> list[pl.Expr]:
        """Each column of ``features`` (a row per row of ``values``) but the value itself, per line."""
        name = self.values.columns[0]
        code = pl.col(f"__{name}_code")
        return [gathered(features.get_column(c), code) for c in features.columns if c != name]


def _description_features(descriptions: _Distinct, families: Sequence[KeywordFamily]) -> pl.DataFrame:
    """Per distinct description: its normal form, length, first keyword family and family bits."""
    return descriptions.values.with_columns(
        normalised_name(pl.col("description")).alias("description_norm")
    ).with_columns(
        pl.col("description_norm").str.len_chars().cast(pl.Int64()).alias("description_length"),
        *description_columns(families),
    )


def _party_features(
    names: _Distinct, party: str, matches: pl.DataFrame, legal_suffixes: Sequence[str]
) -> pl.DataFrame:
    """Per distinct shipper or consignee name: its normal form and its best screening-list match
    (score and a readable detail; null without a match); a shipper's, the name its key holds and whether it
    carries a legal form."""
    name = f"{party}_name"
    normalised = names.values.with_columns(normalised_name(pl.col(name)).alias(f"{name}_norm"))
    if party == "shipper":
        normalised = _shipper_key_names(normalised, legal_suffixes, legal_form=True)
    return normalised.join(
        _party_matches(matches, party), on=name, how="left", maintain_order="left", validate="m:1"
    )


#: The per-line screening-list columns of a party (:func:`_party_matches`), shipper's and consignee's.
_PARTY_MATCH_COLUMNS = tuple(
    f"__{party}_{c}" for party in ("shipper", "consignee") for c in ("score", "detail")
)


def _own_party_matches(own_names: pl.DataFrame, matches: pl.DataFrame) -> list[pl.Expr]:
    """The screening-list columns of the lines in ``own_names`` from the names they give themselves, not their
    package's first line's (every other line keeps its package's): a listed party on line 2 is flagged there."""
    own = own_names.select("__line")
    for party in ("shipper", "consignee"):
        name = f"{party}_name"
        found = own_names.select(name).join(
            _party_matches(matches, party), on=name, how="left", maintain_order="left", validate="m:1"
        )
        own = own.hstack(found.drop(name))
    line = pl.col("__line")
    return [
        line.replace_strict(own["__line"], own[c], default=pl.col(c)).alias(c) for c in _PARTY_MATCH_COLUMNS
    ]


#: A column of the screening-list matches beside ``party_name``: the name as a flag's detail shows it (the
#: name read, or its pseudonym in a pseudonymised run); matches without it show ``party_name``.
PARTY_SHOWN = "party_shown"


def _party_matches(matches: pl.DataFrame, party: str) -> pl.DataFrame:
    """Per name of ``matches`` (:func:`screening.stages.denied.match_parties`) as a shipper's or a consignee's
    (``party``): its match score and a readable detail naming the name read (:data:`PARTY_SHOWN`) and the entry
    it matches: a line's own name need not be the one ``lines`` shows (its package's first line's)."""
    shown = PARTY_SHOWN if PARTY_SHOWN in matches.columns else "party_name"
    return matches.select(
        pl.col("party_name").alias(f"{party}_name"),
        pl.col("denied_score").alias(f"__{party}_score"),
        pl.format(
            "{} '{}' matches {} {} '{}' [{}] ({}, score {})",
            pl.lit(party),
            pl.col(shown),
            pl.col("denied_source"),
            pl.col("denied_entry_id"),
            pl.col("denied_name"),
            pl.col("denied_program").fill_null(""),
            pl.col("denied_match"),
            pl.col("denied_score").round(2).cast(pl.String()),
        ).alias(f"__{party}_detail"),
    )


def _line_values(base: pl.LazyFrame, tariff_dates: Sequence[dt.date]) -> pl.LazyFrame:
    """The HTS prefixes, the dollar values and the tariff coverage of each line."""
    digits = pl.col("hts_digits")
    return base.with_columns(
        digits.alias("hts_code"),
        hts_prefix(digits, 2).alias("hts_chapter"),
        hts_prefix(digits, 4).alias("hts_heading"),
        hts_prefix(digits, 6).alias("hts_subheading"),
        _dollars("value_usd_cents", "value_usd"),
        _dollars("consignee_day_value_cents", "consignee_day_value_usd"),
        # A code too short for its tariff lines (which charge differently) exists too: it needs more digits.
        (pl.col("tariff_line").is_not_null() | pl.col(HTS_TOO_SHORT)).alias("hts_in_force"),
        pl.col("arrival_date").is_in(list(tariff_dates)).alias("tariff_covers_date"),
    ).with_columns(
        # To 12 significant digits: the division's float noise (a few parts in 10^16: 0.35 / 0.035 =
        # 9.999999999999998) would put a value exactly at a floor below it, while a value below one by a part in
        # 10^12 or more stays below (20.00 / 10.000001 = 1.9999998, which 6 decimals read as 2.0).
        pl.when(pl.col("gross_weight_kg") > 0)
        .then((pl.col("value_usd") / pl.col("gross_weight_kg")).round_sig_figs(12))
        .alias("value_per_kg_usd"),
    )


#: The shipper-consignee-day of a line: the shipper's normal name and country, the consignee, the day.
SHIPPER_CONSIGNEE_DAY = ("__shipper_key", "consignee_key", "arrival_date")
#: The shipper-consignee-day totals, with the types the window expressions of :func:`_package_totals` give.
SHIPPER_CONSIGNEE_DAY_TOTALS = pl.Schema(
    {"shipper_consignee_day_packages": pl.get_index_type(), "shipper_consignee_day_value_usd": pl.Int64()}
)


#: Per distinct shipper name: the name as the shipper key holds it (:func:`_shipper_key_names`).
_SHIPPER_KEY_NAME = "__shipper_key_name"
#: The risk column of a shipper name that carries a legal form (:func:`~screening.exprs.names.legal_form`).
SHIPPER_LEGAL_FORM = "shipper_legal_form"


def _shipper_key() -> pl.Expr:
    """The shipper of a line as one key (reads :data:`_SHIPPER_KEY_NAME`, ``shipper_country`` and
    ``package_id``): ``<key name>|<country>``. A shipper no one named (the empty key name) is the package's own
    (``package:P1``): two marketplaces that both leave the shipper blank are no evidence of one seller splitting
    an order, so unnamed shippers never add up to a ``structuring-shipper-split`` (the consignee-day still
    adds their packages up, and ``placeholder-party`` names the blank)."""
    name = pl.col(_SHIPPER_KEY_NAME)
    return (
        pl.when(name == "")
        .then(pl.lit("package:") + pl.col("package_id"))
        .otherwise(pl.concat_str(name, pl.col("shipper_country").fill_null(""), separator="|"))
        .alias("__shipper_key")
    )


def _shipper_key_names(
    names: pl.DataFrame, legal_suffixes: Sequence[str], *, legal_form: bool = False
) -> pl.DataFrame:
    """``names`` (distinct ``shipper_name``) with :data:`_SHIPPER_KEY_NAME`, the name as the shipper key compares
    it: normalised, legal suffixes dropped (``Nordlicht Versand GmbH`` and ``NORDLICHT VERSAND`` are one
    shipper); a name of nothing but suffixes keeps them; a name that names no one (no letter or digit, or a word
    for none such as ``nan`` or ``NULL``: :func:`~screening.exprs.parties.is_no_name`) is empty (``nan``,
    ``NaN`` and ``-`` are one no-name). With ``legal_form``, also :data:`SHIPPER_LEGAL_FORM`,
    whether the name carries a legal form where a name ends or begins (``Xinda Trading Co Ltd``; not
    ``Wang Ao``: :func:`~screening.exprs.names.legal_form`), and the flag detail naming it."""
    stripped, plain = pl.col("__stripped"), pl.col("__plain")
    named = names.with_columns(
        normalise_name(pl.col("shipper_name"), legal_suffixes).alias("__stripped"),
        normalise_name(pl.col("shipper_name"), ()).alias("__plain"),
    )
    key = (
        pl.when(is_no_name(plain))
        .then(pl.lit(""))
        .when(stripped != "")
        .then(stripped)
        .otherwise(plain)
        .alias(_SHIPPER_KEY_NAME)
    )
    named = named.with_columns(key).drop("__stripped", "__plain")
    return _with_legal_form(named, legal_suffixes) if legal_form else named


def _with_legal_form(names: pl.DataFrame, legal_suffixes: Sequence[str]) -> pl.DataFrame:
    """``names`` with :data:`SHIPPER_LEGAL_FORM` and its flag detail (``shipper's legal form: CO LTD``), an enum:
    gathered into every line, it costs an integer a line, not a string."""
    form = names.select(legal_form(pl.col("shipper_name"), legal_suffixes)).to_series()
    detail = ("shipper's legal form: " + form).alias(DETAIL_COLUMNS[SHIPPER_LEGAL_FORM])
    return names.with_columns(
        form.is_not_null().alias(SHIPPER_LEGAL_FORM),
        detail.cast(pl.Enum(detail.unique().drop_nulls().sort())),
    )


def shipper_key(shippers: pl.DataFrame, legal_suffixes: Sequence[str]) -> pl.Series:
    """The shipper key (as the shipper-consignee-day totals use it) of each row of ``shippers``
    (``shipper_name``, ``shipper_country``, ``package_id``); the names are normalised once each."""
    normal = _shipper_key_names(shippers.select(pl.col("shipper_name").unique()), legal_suffixes)
    keyed = shippers.join(normal, on="shipper_name", how="left", nulls_equal=True, maintain_order="left")
    return keyed.select(_shipper_key()).to_series().alias("shipper_key")


def shipper_consignee_day_partials(
    lines: pl.DataFrame, part: str, legal_suffixes: Sequence[str]
) -> pl.DataFrame:
    """Packages and value (cents) per shipper-consignee-day of ``lines`` (whole packages, valued), and the
    number of parts (column ``part``) each has lines in.

    Partial tables of disjoint sets of packages add up to the totals of their union (see
    :func:`screening.stages.aggregate.spanning_totals`).
    """
    normal = _shipper_key_names(lines.select(pl.col("shipper_name").unique()), legal_suffixes)
    keyed = lines.join(normal, on="shipper_name", how="left", nulls_equal=True).with_columns(_shipper_key())
    return keyed.group_by(SHIPPER_CONSIGNEE_DAY).agg(
        pl.col("package_id").n_unique().alias("shipper_consignee_day_packages"),
        pl.col("value_usd_cents").sum().alias("shipper_consignee_day_value_usd"),
        pl.col(part).n_unique().alias(PARTS_SEEN),
    )


def _package_totals(
    base: pl.LazyFrame, shipper_days: pl.DataFrame | None, shipper_running: pl.DataFrame | None
) -> pl.LazyFrame:
    """Package value and lines, and the packages and value from one shipper to one consignee on a day
    (over ``base``; over the whole day for the keys in ``shipper_days`` when given; in incremental mode, the
    running totals of each package in ``shipper_running``: ``PACKAGE_KEY`` and the two totals, in cents)."""
    # Windows over the same key columns share their groups, but only as bare window expressions:
    # wrapped in a cast or an arithmetic they each find them again (twice the time), so the sums are
    # turned into dollars in a later step.
    keys = list(SHIPPER_CONSIGNEE_DAY)
    totals = base.with_columns(_shipper_key()).with_columns(
        pl.col("value_usd_cents").sum().over(PACKAGE_KEY).alias("package_value_usd"),
        pl.len().over(PACKAGE_KEY).alias("package_lines"),
        pl.col(PACKAGE_KEY).n_unique().over(keys).alias("shipper_consignee_day_packages"),
        pl.col("value_usd_cents").sum().over(keys).alias("shipper_consignee_day_value_usd"),
    )
    if shipper_days is not None:
        table = shipper_days.select(*keys, *SHIPPER_CONSIGNEE_DAY_TOTALS.names())
        totals = with_day_totals(totals, table, keys)
    if shipper_running is not None:
        running = shipper_running.select(
            PACKAGE_KEY,
            pl.col("shipper_consignee_day_packages").alias("__running_packages"),
            pl.col("shipper_consignee_day_value_cents").alias("__running_value"),
        )
        totals = (
            lookup(totals, running.lazy(), PACKAGE_KEY)
            .with_columns(
                pl.col("__running_packages").alias("shipper_consignee_day_packages"),
                pl.col("__running_value").alias("shipper_consignee_day_value_usd"),
            )
            .drop("__running_packages", "__running_value")
        )
    return totals.with_columns(
        _dollars("package_value_usd", "package_value_usd"),
        pl.col("package_lines").cast(pl.Int64()),
        pl.col("shipper_consignee_day_packages").cast(pl.Int64()),
        _dollars("shipper_consignee_day_value_usd", "shipper_consignee_day_value_usd"),
    ).drop("__shipper_key", _SHIPPER_KEY_NAME)


def _marked_package_order(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``lines`` with the package key flagged as sorted when it is (the lines come in package order):
    the windows over packages then find their groups without hashing (about 3x faster)."""
    if lines.select(PACKAGE_KEY).collect(engine="in-memory").to_series().is_sorted():
        return lines.with_columns(pl.col(PACKAGE_KEY).set_sorted())
    return lines


def _denied_columns() -> list[pl.Expr]:
    """Best screening-list match of the shipper and of the consignee, and a readable detail."""
    return [
        pl.max_horizontal(pl.col("__shipper_score"), pl.col("__consignee_score")).alias("denied_party_score"),
        (pl.col("__shipper_score").is_not_null() | pl.col("__consignee_score").is_not_null()).alias(
            "denied_party_match"
        ),
        pl.concat_str(
            pl.col("__shipper_detail"), pl.col("__consignee_detail"), separator="; ", ignore_nulls=True
        )
        .replace("", None)
        .alias("__denied_detail"),
    ]


def _prior_history(
    base: pl.LazyFrame, lines: pl.LazyFrame, history: pl.LazyFrame | None, days: int
) -> pl.LazyFrame:
    """The ``consignee_prior_*`` columns: from ``history`` when given, else zero."""
    if history is None:
        return base.with_columns(
            pl.lit(0, dtype=pl.Int64()).alias("consignee_prior_days"),
            pl.lit(0, dtype=pl.Int64()).alias("consignee_prior_packages"),
            pl.lit(0.0, dtype=pl.Float64()).alias("consignee_prior_value_usd"),
        )
    # The consignee-days come from the (materialised) lines, not from the lazy plan being built.
    prior = consignee_history(lines, history, days)
    return lookup(base, prior, ["consignee_key", "arrival_date"]).with_columns(
        pl.col("consignee_prior_days").fill_null(0),
        pl.col("consignee_prior_packages").fill_null(0),
        pl.col("consignee_prior_value_usd").fill_null(0.0),
    )


def flag_lines(frame: pl.LazyFrame, risk: ResolvedRisk) -> pl.DataFrame:
    """``__line, package_id, line_no, rule_id, __detail``: one row per line and rule that fired on it.

    A rule fires on a line when its condition holds and the rule is in force on the arrival date.
    Rows come in output line order (package, line number), then catalogue order. The conditions are
    evaluated once as booleans; only the (few) firing pairs are materialised as rows. ``__detail`` says
    what a rule read of the columns in :data:`DETAIL_COLUMNS` its condition names (null for the others).
    """
    missing = sorted(set(RISK_COLUMN_TYPES) - set(frame.collect_schema().names()))
    assert not missing, f"risk columns not derived: {missing}"
    rule_ids = risk.rules["rule_id"].to_list()
    if not rule_ids:
        return pl.DataFrame(schema=LINE_FLAG_SCHEMA)
    by_rule = risk.in_force.group_by("rule_id").agg("arrival_date")
    in_force = dict(zip(by_rule["rule_id"].to_list(), by_rule["arrival_date"].to_list(), strict=True))
    fires = []
    for index, rule_id in enumerate(rule_ids):
        dates = pl.Series(in_force.get(rule_id, []), dtype=pl.Date())
        # Its text tests are columns already (computed once per distinct text: risk_columns).
        condition = risk.tested_conditions[rule_id] & pl.col("arrival_date").is_in(dates.implode())
        fires.append(condition.fill_null(False).alias(f"__fires_{index}"))
    evaluated = frame.select(
        "__line", PACKAGE_KEY, "package_id", "line_no", *DETAIL_COLUMNS.values(), *fires
    ).collect(engine="in-memory")
    keep = ["__line", PACKAGE_KEY, "package_id", "line_no"]
    # One plan for every rule (a filter each, stacked): run once, not once per rule.
    rows = evaluated.lazy()
    fired = pl.concat(
        [
            rows.filter(pl.col(f"__fires_{index}")).select(
                *keep,
                pl.lit(rule_id).alias("rule_id"),
                _rule_detail(risk.conditions[rule_id]),
                pl.lit(index, dtype=pl.Int32()).alias("__rule_order"),
            )
            for index, rule_id in enumerate(rule_ids)
        ]
    )
    return (
        fired.sort(PACKAGE_KEY, "line_no", "__rule_order")
        .select(list(LINE_FLAG_SCHEMA))
        .cast(LINE_FLAG_SCHEMA)
        .collect(engine="in-memory")
    )


def _rule_detail(condition: pl.Expr) -> pl.Expr:
    """``__detail`` of a line a rule fired on: the details of the :data:`DETAIL_COLUMNS` its ``condition``
    names, joined by ``; ``; null where none."""
    named = [detail for column, detail in DETAIL_COLUMNS.items() if column in condition.meta.root_names()]
    if not named:
        return pl.lit(None, dtype=pl.String()).alias("__detail")
    parts = [pl.col(detail).cast(pl.String()) for detail in named]
    return pl.concat_str(parts, separator="; ", ignore_nulls=True).replace("", None).alias("__detail")


def line_risk_flags(fired: pl.DataFrame) -> pl.DataFrame:
    """``__line, risk_flags``: the rules that fired on each flagged line, in catalogue order."""
    return fired.group_by("__line", maintain_order=True).agg(pl.col("rule_id").alias("risk_flags"))


def package_flags(line_flags: pl.LazyFrame, risk: ResolvedRisk) -> pl.LazyFrame:
    """The ``flags`` output: one row per package and rule, with its weight (its contribution), in package
    and rule order.

    ``line_flags`` come from :func:`flag_lines`: in line order, at most one row per line and rule, so
    each package-rule group's line numbers are already sorted and distinct.
    """
    keys = [PACKAGE_KEY, "rule_id"]
    grouped = line_flags.group_by(keys).agg(pl.col("package_id").first(), pl.col("line_no").alias("line_nos"))
    # Few lines carry a detail: aggregate those apart (a list per group for every group is slow).
    details = (
        line_flags.filter(pl.col("__detail").is_not_null())
        .group_by(keys)
        .agg(pl.col("__detail").unique().sort().str.join("; "))
    )
    meta = risk.rules.lazy().select("rule_id", "severity", "weight", "queue")
    joined = grouped.join(details, on=keys, how="left").join(meta, on="rule_id", how="left")
    return joined.sort(keys).select(
        PACKAGE_KEY,
        "package_id",
        "rule_id",
        "severity",
        "weight",
        "queue",
        "line_nos",
        pl.col("__detail").replace("", None).alias("detail"),
    )


def package_scores(flags: pl.LazyFrame) -> pl.LazyFrame:
    """``PACKAGE_KEY, risk_score, risk_flags``: weights summed; flags by contribution, then id."""
    return (
        flags.sort(PACKAGE_KEY, "weight", "rule_id", descending=[False, True, False])
        .group_by(PACKAGE_KEY, maintain_order=True)
        .agg(
            pl.col("weight").sum().cast(pl.Int64()).alias("risk_score"),
            pl.col("rule_id").alias("risk_flags"),
        )
    )
