"""Enrich: value in U.S. dollars (dated FX), the consignee key, the goods code, and the tariff line in force.

Lookups that depend only on the goods (arrival date, HTS code, origin, mode, USMCA claim) run on
the distinct goods of the run, a small table numbered by :func:`goods_codes`; the lines reach the
results by their goods code, an integer gather instead of a join on strings over every line.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from screening.errors import RejectCode
from screening.exprs.gather import gathered
from screening.exprs.hts import hts_digits, hts_prefix
from screening.exprs.money import converted_cents
from screening.exprs.parties import consignee_key
from screening.rulepack.tariff_table import TARIFF_PERIOD, TariffTable
from screening.stages.lookup import attach, dense_codes
from screening.stages.normalise import rejects_from_lines

TARIFF_PREFIX_LENGTHS = (10, 8, 6)
#: What the goods-level lookups depend on: tariff line, rate program, measures, suspensions,
#: exclusions, gift limits, postal regimes and the day's rules.
GOODS_KEY = ("arrival_date", "hts_code", "country_of_origin", "mode", "usmca_claim")
#: Internal column: a line's row in the table of distinct goods (see :func:`goods_codes`).
GOODS_CODE = "__goods"


def has_rate(lines: pl.DataFrame, fx: pl.DataFrame) -> pl.Series:
    """Whether each line has a rate in force for its (arrival_date, currency) (same order as ``lines``)."""
    keys = ["arrival_date", "currency"]
    rated = fx.select(keys).unique().with_columns(pl.lit(True).alias("__rated"))
    found = lines.select(keys).join(rated, on=keys, how="left", maintain_order="left")
    return found.get_column("__rated").is_not_null()


def fx_rejects(missing: pl.DataFrame, own: pl.DataFrame | None = None) -> pl.DataFrame:
    """``missing-fx-rate`` rejects of ``missing``, lines without a rate (:func:`has_rate`); ``own``: see
    :func:`~screening.stages.normalise.rejects_from_lines`."""
    message = pl.format(
        "currency {}: no exchange rate within the rule pack's staleness limit before arrival_date {}",
        pl.col("currency"),
        pl.col("arrival_date"),
    )
    return rejects_from_lines(
        missing, code=RejectCode.MISSING_FX_RATE, field="currency", message=message, own=own
    )


def with_fx(lines: pl.DataFrame, fx: pl.DataFrame) -> pl.LazyFrame:
    """The lines that have a rate in force for their (arrival_date, currency) (:func:`has_rate`), with the rate."""
    return lines.lazy().join(fx.lazy(), on=["arrival_date", "currency"], how="inner", maintain_order="left")


def consignee_key_column() -> pl.Expr:
    """``consignee_key`` from the consignee id, name and postal code (DESIGN §4)."""
    return consignee_key(
        pl.col("consignee_id"),
        pl.col("consignee_name"),
        pl.col("consignee_postal_code"),
        package_id=pl.col("package_id"),
    ).alias("consignee_key")


def add_value(lines: pl.LazyFrame) -> pl.LazyFrame:
    """``value_usd_cents`` (rounded once, half up, from the exact product of value and rate:
    :func:`~screening.exprs.money.converted_cents`); ``consignee_key`` unless already present."""
    schema = lines.collect_schema()
    keyed = lines if "consignee_key" in schema.names() else lines.with_columns(consignee_key_column())
    return keyed.with_columns(
        converted_cents(pl.col("declared_value"), pl.col("fx_usd_per_unit"), schema["fx_usd_per_unit"]).alias(
            "value_usd_cents"
        )
    )


def goods_codes(lines: pl.DataFrame) -> tuple[pl.Series, pl.DataFrame]:
    """Each line's goods code (:data:`GOODS_CODE`), and the distinct goods with their ``hts_digits``.

    Row ``i`` of the goods table is goods code ``i``.
    """
    codes, goods = dense_codes(lines, GOODS_KEY)
    return codes.alias(GOODS_CODE), goods.with_columns(hts_digits(pl.col("hts_code")).alias("hts_digits"))


def gather_goods(lines: pl.DataFrame, goods: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """``lines`` with ``columns`` of the goods table added, each line's from its goods code."""
    return lines.hstack(goods.select(pl.col(columns).gather(lines[GOODS_CODE])))


def goods_column(goods: pl.DataFrame, name: str) -> pl.Expr:
    """Column ``name`` of the goods table for each row, by the row's goods code (an expression)."""
    return gathered(goods[name], pl.col(GOODS_CODE)).alias(name)


#: Internal goods column: true where the code is shorter than the tariff lines in force under it, and those
#: lines charge the goods' rate program differently (the longer code decides the rate; there is no tariff line).
HTS_TOO_SHORT = "__hts_too_short"
#: Internal columns of :func:`tariff_lines_for_keys`: true where the lines under a short code differ in their
#: column-1 general rate, or in their USMCA (program S/S+) rate.
MFN_TOO_SHORT = "__mfn_too_short"
USMCA_TOO_SHORT = "__usmca_too_short"
#: Internal goods column: a USMCA claim on goods of a party's origin (:func:`usmca_claimed`).
USMCA_CLAIMED = "__usmca_claimed"
#: A rate's parsed fields, as the resolved tariff lines hold them for each program (``usmca_`` before the
#: USMCA ones; the general rate's status is ``status``).
RATE_FIELDS = ("status", "ad_valorem", "specific_usd", "specific_unit", "specific2_usd", "specific2_unit")
_MFN_RATE = ("general", *RATE_FIELDS)
_USMCA_RATE = tuple(f"usmca_{c}" for c in ("text", *RATE_FIELDS))


def usmca_claimed(parties: Sequence[str]) -> pl.Expr:
    """A line's USMCA claim on goods of the parties' origin (the pack's ``[usmca] parties``; a claim on goods
    of other origins counts for nothing). The goods table holds it as :data:`USMCA_CLAIMED`."""
    return pl.col("usmca_claim").fill_null(False) & pl.col("country_of_origin").is_in(list(parties))


def tariff_lines_for_keys(keys: pl.LazyFrame, tariff: TariffTable) -> pl.LazyFrame:
    """For each distinct (arrival_date, hts_digits), the longest tariff line in force that prefixes it.

    A code with no such line but shorter than lines in force under it (``6109.10`` above ``6109.10.00``) takes
    their rate when they all charge alike (its tariff line is the first of them: lookups keyed on the tariff
    line, such as the rates on parts, find it). Each program is judged on its own: where the lines' general
    rates differ, :data:`MFN_TOO_SHORT` is true and the general rate columns are null; where their USMCA
    rates differ, :data:`USMCA_TOO_SHORT` is true and the USMCA columns are null (0201.10's lines charge
    4.4 to 26.4 % but all are Free under USMCA). :func:`attach_tariff` decides per goods which one counts.
    """
    key = ["arrival_date", "hts_digits"]
    keyed = tariff.for_keys(keys)
    lines = tariff.lines.lazy()
    candidates = keyed.with_columns(
        pl.concat_list(hts_prefix(pl.col("hts_digits"), n) for n in TARIFF_PREFIX_LENGTHS).alias("hts")
    ).explode("hts")
    matched = candidates.join(lines, on=[TARIFF_PERIOD, "hts"], how="inner")
    longest = matched.sort(
        "arrival_date", "hts_digits", pl.col("hts").str.len_chars(), descending=[False, False, True]
    ).unique(key, keep="first", maintain_order=True)
    unmatched = keyed.join(longest.select(key), on=key, how="anti")
    below = pl.concat(
        [
            unmatched.filter(pl.col("hts_digits").str.len_chars() == n).join(
                lines.with_columns(hts_prefix(pl.col("hts"), n).alias("hts_digits")),
                on=[TARIFF_PERIOD, "hts_digits"],
                how="inner",
            )
            for n in (6, 8)
        ]
    ).filter(pl.col("hts").str.len_chars() > pl.col("hts_digits").str.len_chars())
    columns = tariff.lines.collect_schema().names()
    mfn = [c for c in _MFN_RATE if c in columns]
    usmca = [c for c in _USMCA_RATE if c in columns]
    under = (
        below.sort(*key, "hts")
        .group_by(key, maintain_order=True)
        .agg(
            pl.all().first(),
            (_charged_as(mfn, "status", "general").n_unique() > 1).alias(MFN_TOO_SHORT),
            (_charged_as(usmca, "usmca_status", "usmca_text").n_unique() > 1).alias(USMCA_TOO_SHORT),
        )
        .with_columns(
            *[pl.when(~pl.col(MFN_TOO_SHORT)).then(pl.col(c)).alias(c) for c in mfn],
            *[pl.when(~pl.col(USMCA_TOO_SHORT)).then(pl.col(c)).alias(c) for c in usmca],
        )
    )
    settled = pl.lit(False)
    return (
        pl.concat(
            [longest.with_columns(settled.alias(MFN_TOO_SHORT), settled.alias(USMCA_TOO_SHORT)), under],
            how="diagonal",
        )
        .drop(TARIFF_PERIOD)
        .rename(
            {"hts": "tariff_line", "general": "mfn_text", "status": "mfn_status", "revision": "mfn_revision"}
        )
    )


def _charged_as(columns: Sequence[str], status: str, text: str) -> pl.Expr:
    """What a tariff line charges, to compare lines: its parsed rate, and for a rate on part values its text
    (the formula over the parts, which the tariff lines do not hold parsed). Other texts are not compared:
    lines whose rates agree may word them differently."""
    formula = pl.when(pl.col(status) == "needs-part-values").then(pl.col(text))
    return pl.struct(*[c for c in columns if c != text], formula.alias("__formula"))


def hts_too_short() -> pl.Expr:
    """Whether a goods' code is too short for the rate program it takes (after :func:`tariff_lines_for_keys`):
    a USMCA claim on CA/MX goods is judged by the USMCA rates under the code, unless none of its lines has one
    (then by the general rates, as the claim counts for nothing); other goods by the general rates."""
    claimed = pl.col(USMCA_CLAIMED)
    return (
        pl.when(claimed & pl.col("usmca_status").is_not_null())
        .then(False)
        .when(claimed & pl.col(USMCA_TOO_SHORT))
        .then(True)
        .otherwise(pl.col(MFN_TOO_SHORT))
        .fill_null(False)
    )


def attach_tariff(lines: pl.LazyFrame, tariff: TariffTable) -> pl.LazyFrame:
    """Left-join the tariff line in force (null columns where the pack has none)."""
    rows = lines.collect(engine="in-memory").lazy()
    keys = rows.select("arrival_date", "hts_digits").unique()
    attached = attach(rows, tariff_lines_for_keys(keys, tariff), ["arrival_date", "hts_digits"])
    return (
        attached.with_columns(hts_too_short().alias(HTS_TOO_SHORT))
        .with_columns(pl.when(~pl.col(HTS_TOO_SHORT)).then(pl.col("tariff_line")).alias("tariff_line"))
        .drop(MFN_TOO_SHORT, USMCA_TOO_SHORT)
    )
