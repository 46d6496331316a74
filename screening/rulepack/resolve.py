"""Resolve a pack for the handful of arrival dates in a run: small tables joined by date.

Stages never compare dates against rule periods row by row: they join these
tables on ``arrival_date`` (and origin, mode, HTS prefix) instead.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

import polars as pl

from screening.rulepack.loader import RulePack
from screening.rulepack.models import CoverageGap, Measure, PostalRegime, Rule, Scoped
from screening.rulepack.rates import part_components
from screening.rulepack.reference import known_countries
from screening.rulepack.tariff_table import TARIFF_PERIOD, TariffTable
from screening.schema import RATE

#: Integer cents of a decimal dollar amount from the pack (amounts are exact to the cent).
CENTS = pl.Int64()


@dataclass(frozen=True)
class ResolvedRules:
    """The pack's rules in force on each arrival date of a run, as small frames."""

    days: pl.DataFrame
    suspensions: pl.DataFrame
    suspension_exceptions: pl.DataFrame
    never_eligible: pl.DataFrame
    fx: pl.DataFrame
    tariff: TariffTable
    tariff_parts: pl.DataFrame
    measures: pl.DataFrame
    measure_scope: pl.DataFrame
    gifts: pl.DataFrame
    postal: pl.DataFrame
    fees: pl.DataFrame
    citations: pl.DataFrame
    #: Origins whose goods a USMCA claim covers (none without the pack's ``[usmca]``).
    usmca_parties: tuple[str, ...] = ()


def resolve(pack: RulePack, dates: Iterable[dt.date]) -> ResolvedRules:
    """Tables of what is in force on each of ``dates`` (does not touch the manifest)."""
    days = sorted(set(dates))
    return ResolvedRules(
        days=_days(pack, days),
        suspensions=_suspensions(pack, days),
        suspension_exceptions=_suspension_exceptions(pack, days),
        never_eligible=_never_eligible(pack, days),
        fx=_fx(pack, days),
        tariff=_tariff(pack, days),
        tariff_parts=_tariff_parts(pack, days),
        measures=_measures(pack, days),
        measure_scope=pack.measure_scope,
        gifts=_gifts(pack, days),
        postal=_postal(pack, days),
        fees=_fees(pack, days),
        citations=citation_table(pack),
        usmca_parties=pack.tariff.usmca.parties if pack.tariff.usmca is not None else (),
    )


def cents(amount: Decimal | None) -> int | None:
    """Exact integer cents of a dollar amount (pack amounts are whole cents)."""
    return None if amount is None else int((amount * 100).to_integral_value())


_R = TypeVar("_R", bound=Rule)


def _in_force(rules: Sequence[_R], day: dt.date) -> list[_R]:
    return [r for r in rules if r.in_force(day)]


def _days(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    rows = []
    for day in days:
        threshold = _in_force(pack.de_minimis.thresholds, day)
        limit = _in_force(pack.de_minimis.entry_limits, day)
        headings = limit[0].chapter99_headings if limit else ()
        rows.append(
            {
                "arrival_date": day,
                "threshold_cents": cents(threshold[0].amount_usd) if threshold else None,
                "threshold_rule_id": threshold[0].id if threshold else None,
                "informal_max_cents": cents(limit[0].informal_max_usd) if limit else None,
                "entry_limit_rule_id": limit[0].id if limit else None,
                "chapter99_max_cents": cents(limit[0].chapter99_max_usd) if limit else None,
                "chapter99_headings": list(headings),
                "chapter99_kinds": chapter99_kinds(pack, headings),
                "chapter99_suspended": limit[0].chapter99_suspended if limit else False,
                "entry_limit_confidence": limit[0].confidence if limit else None,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "threshold_cents": CENTS,
            "threshold_rule_id": pl.String(),
            "informal_max_cents": CENTS,
            "entry_limit_rule_id": pl.String(),
            "chapter99_max_cents": CENTS,
            "chapter99_headings": pl.List(pl.String()),
            "chapter99_kinds": pl.List(pl.String()),
            "chapter99_suspended": pl.Boolean(),
            "entry_limit_confidence": pl.String(),
        },
    )


def chapter99_kinds(pack: RulePack, headings: Sequence[str]) -> list[str]:
    """The kinds of duty (``component``) the pack charges under any of the Chapter 99 ``headings`` (``9903``) in
    any period, whatever the dates screened: a coverage gap of such a kind leaves a Chapter 99 duty open, before
    the first measure of its kind is in force too (an AD/CVD gap does not)."""
    return sorted(
        {m.component for m in pack.tariff.measures if m.in_force_as_written and m.heading[:4] in headings}
    )


def _expand(origins: tuple[str, ...]) -> tuple[str, ...]:
    return known_countries() if "*" in origins else origins


def _suspensions(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    rows = [
        {
            "arrival_date": day,
            "country_of_origin": origin,
            "mode": mode,
            "suspension_reason": rule.reason,
            "suspension_rule_id": rule.id,
        }
        for day in days
        for rule in pack.de_minimis.suspensions
        if rule.in_force_as_written and rule.in_force(day)
        for origin in _expand(rule.origins)
        if origin not in rule.origins_exclude
        for mode in rule.modes
    ]
    return pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "country_of_origin": pl.String(),
            "mode": pl.String(),
            "suspension_reason": pl.String(),
            "suspension_rule_id": pl.String(),
        },
    )


def _suspension_exceptions(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    """Per (arrival_date, hts_prefix, suspension_rule_id): the exception in force that takes goods of that prefix
    out of that suspension (``suspension_exception_id``; the first in file order where two do)."""
    rows = [
        {
            "arrival_date": day,
            "hts_prefix": prefix,
            "suspension_rule_id": suspension,
            "suspension_exception_id": rule.id,
        }
        for day in days
        for rule in pack.de_minimis.suspension_exceptions
        if rule.in_force(day)
        for prefix in rule.hts_prefixes
        for suspension in rule.suspensions
    ]
    frame = pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "hts_prefix": pl.String(),
            "suspension_rule_id": pl.String(),
            "suspension_exception_id": pl.String(),
        },
    )
    return frame.unique(
        ["arrival_date", "hts_prefix", "suspension_rule_id"], keep="first", maintain_order=True
    )


def _gifts(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    """The bona fide gift limit per (arrival_date, country the gift is sent from): a row per country with a
    limit of its own and one with a null country (the limit of every other country, and of a line that does
    not say where it was sent from); with the rule and its ``informal_entry_note``."""
    rows = [
        {
            "arrival_date": day,
            "sender_country": sender,
            "gift_limit_cents": cents(limit),
            "gift_rule_id": rule.id,
            "gift_entry_note": rule.informal_entry_note,
        }
        for day in days
        for rule in pack.de_minimis.gifts
        if rule.in_force(day)
        for sender, limit in [(None, rule.limit_usd), *sorted(rule.sender_limits.items())]
    ]
    return pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "sender_country": pl.String(),
            "gift_limit_cents": CENTS,
            "gift_rule_id": pl.String(),
            "gift_entry_note": pl.String(),
        },
    )


def _never_eligible(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    rows = [
        {
            "arrival_date": day,
            "hts_prefix": prefix,
            "origin": origin,
            "exclusion_reason": rule.reason,
            "exclusion_rule_id": rule.id,
            "exclusion_waived_cents": cents(rule.waived_at_most_usd),
        }
        for day in days
        for rule in pack.de_minimis.never_eligible
        if rule.in_force(day)
        for prefix in rule.hts_prefixes
        for origin in rule.origins
    ]
    return pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "hts_prefix": pl.String(),
            "origin": pl.String(),
            "exclusion_reason": pl.String(),
            "exclusion_rule_id": pl.String(),
            "exclusion_waived_cents": CENTS,
        },
    )


def _fx(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    currencies = sorted(set(pack.fx_rates["currency"].unique().to_list()))
    wanted = pl.DataFrame(
        [(day, cur) for day in days for cur in currencies],
        schema={"arrival_date": pl.Date(), "currency": pl.String()},
        orient="row",
    ).sort("arrival_date")
    rates = pack.fx_rates.rename({"date": "fx_rate_date", "usd_per_unit": "fx_usd_per_unit"}).sort(
        "fx_rate_date"
    )
    stale = pl.duration(days=pack.fx.rates.max_staleness_days)
    matched = wanted.join_asof(
        rates,
        left_on="arrival_date",
        right_on="fx_rate_date",
        by="currency",
        strategy="backward",
        check_sortedness=False,
    ).filter(
        pl.col("fx_rate_date").is_not_null() & (pl.col("arrival_date") - pl.col("fx_rate_date") <= stale)
    )
    usd = pl.DataFrame(
        {
            "arrival_date": days,
            "currency": ["USD"] * len(days),
            "fx_rate_date": days,
            "fx_usd_per_unit": [Decimal(1)] * len(days),
            "source": ["identity"] * len(days),
        },
        schema={
            "arrival_date": pl.Date(),
            "currency": pl.String(),
            "fx_rate_date": pl.Date(),
            "fx_usd_per_unit": pack.fx_rates.schema["usd_per_unit"],
            "source": pl.String(),
        },
    )
    columns = ["arrival_date", "currency", "fx_usd_per_unit", "fx_rate_date", "source"]
    return pl.concat([matched.select(columns), usd.select(columns)]).rename({"source": "fx_source"})


def pack_currencies(pack: RulePack) -> list[str]:
    """Currencies the pack can convert (its FX table, plus USD)."""
    return sorted({*pack.fx_rates["currency"].unique().to_list(), "USD"})


def _in_force_on(day: dt.date) -> pl.Expr:
    """Rows of a dated pack table whose half-open period holds ``day``."""
    return (pl.col("effective_from") <= day) & (
        pl.col("effective_to").is_null() | (pl.col("effective_to") > day)
    )


def _tariff(pack: RulePack, days: list[dt.date]) -> TariffTable:
    """Tariff lines in force per tariff period, without the part-value structure (:func:`_tariff_parts`) and
    units. The lines in force change only where a row of the table starts or ends: days between two such
    bounds share a period."""
    mfn = pack.mfn.drop("parts", "usmca_parts", "units")
    bounds = sorted(
        {*mfn["effective_from"].drop_nulls().to_list(), *mfn["effective_to"].drop_nulls().to_list()}
    )
    period_of = {day: bisect_right(bounds, day) for day in days}
    first_day: dict[int, dt.date] = {}
    for day in days:
        first_day.setdefault(period_of[day], day)
    period = pl.UInt32()
    frames = [
        mfn.filter(_in_force_on(day)).with_columns(pl.lit(number, dtype=period).alias(TARIFF_PERIOD))
        for number, day in first_day.items()
    ]
    lines = (
        pl.concat(frames)
        if frames
        else mfn.clear().with_columns(pl.lit(None, dtype=period).alias(TARIFF_PERIOD))
    ).drop("effective_from", "effective_to")
    on_days = pl.DataFrame(
        {"arrival_date": days, TARIFF_PERIOD: [period_of[day] for day in days]},
        schema={"arrival_date": pl.Date(), TARIFF_PERIOD: period},
    )
    return TariffTable(lines=lines, days=on_days)


#: Components of the ``needs-part-values`` rates in force, one row per component.
TARIFF_PARTS_SCHEMA: dict[str, pl.DataType] = {
    "arrival_date": pl.Date(),
    "tariff_line": pl.String(),
    "rate_program": pl.String(),
    "part_index": pl.Int64(),
    "part_kind": pl.String(),
    "part_rate": pl.Decimal(18, 8),
    "part_base": pl.String(),
    "part_source": pl.String(),
    "part_name": pl.String(),
    "part_over": pl.Int64(),
    "part_if_any": pl.Boolean(),
}


def _tariff_parts(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    """Per date, tariff line and program (``mfn``, ``usmca``), the components of its part-value rate.

    Each distinct rate text is broken into components once (a few dozen texts), then joined.
    """
    frames = []
    for program, column in (("mfn", "parts"), ("usmca", "usmca_parts")):
        lines = pack.mfn.filter(pl.col(column).is_not_null()).select(
            "hts", "effective_from", "effective_to", column
        )
        texts = lines[column].unique().sort().to_list()
        components = pl.DataFrame(
            [
                (text, c.index, c.kind, c.amount, c.base, c.source, c.part, c.over, c.if_any)
                for text in texts
                for c in part_components(text)
            ],
            schema={
                column: pl.String(),
                **{k: TARIFF_PARTS_SCHEMA[k] for k in list(TARIFF_PARTS_SCHEMA)[3:]},
            },
            orient="row",
        )
        for day in days:
            frames.append(
                lines.filter(_in_force_on(day))
                .join(components, on=column)
                .select(
                    arrival_date=pl.lit(day, dtype=pl.Date()),
                    tariff_line=pl.col("hts"),
                    rate_program=pl.lit(program),
                    **{k: pl.col(k) for k in list(TARIFF_PARTS_SCHEMA)[3:]},
                )
            )
    return pl.concat(frames) if frames else pl.DataFrame(schema=TARIFF_PARTS_SCHEMA)


def _measures(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    """Measures in force per date (none kept for the record, ``in_force_as_written`` false); coverage gaps ride
    along as rate-less measures with ``gap`` true.

    HTS scope is not here: :attr:`ResolvedRules.measure_scope` holds the prefixes.
    """
    rows = [
        _measure_row(day, rule)
        for day in days
        for rule in (*pack.tariff.measures, *pack.tariff.gaps)
        if rule.in_force_as_written and rule.in_force(day)
    ]
    return pl.DataFrame(rows, schema=MEASURE_SCHEMA)


MEASURE_SCHEMA: dict[str, pl.DataType] = {
    "arrival_date": pl.Date(),
    "measure_id": pl.String(),
    "component": pl.String(),
    "heading": pl.String(),
    "origins": pl.List(pl.String()),
    "origins_exclude": pl.List(pl.String()),
    "has_include": pl.Boolean(),
    "modes": pl.List(pl.String()),
    "rate": RATE,
    "rate_rule": pl.String(),
    # The heading a top-up's line reports where its column 1 rate is at or above the rate (null: heading).
    "heading_at_or_above_rate": pl.String(),
    "base": pl.String(),
    "stacking_group": pl.String(),
    "priority": pl.Int64(),
    "not_with": pl.List(pl.String()),
    # The exemption headings (Measure.not_with_headings in the order of not_with, null where none;
    # usmca_exempt_headings by origin).
    "not_with_headings": pl.List(pl.String()),
    "usmca_exempt": pl.Boolean(),
    "usmca_exempt_headings": pl.List(pl.Struct({"origin": pl.String(), "heading": pl.String()})),
    "gap": pl.Boolean(),
    "measure_assumption": pl.String(),
    "gap_in_place_of": pl.String(),
}


def _measure_row(day: dt.date, rule: Scoped) -> dict[str, object]:
    row: dict[str, object] = {
        "arrival_date": day,
        "measure_id": rule.id,
        "component": rule.component,
        "heading": rule.heading,
        "origins": list(rule.origins),
        "origins_exclude": list(rule.origins_exclude),
        "has_include": rule.has_include,
        "modes": list(rule.modes),
        "usmca_exempt": rule.usmca_exempt,
    }
    if isinstance(rule, Measure):
        return row | {
            "rate": rule.rate,
            "rate_rule": rule.rate_rule,
            "heading_at_or_above_rate": rule.heading_at_or_above_rate,
            "base": rule.base,
            "stacking_group": rule.stacking_group,
            "priority": rule.priority,
            "not_with": list(rule.not_with),
            "not_with_headings": [rule.not_with_headings.get(group) for group in rule.not_with],
            "usmca_exempt_headings": [
                {"origin": origin, "heading": heading}
                for origin, heading in sorted(rule.usmca_exempt_headings.items())
            ],
            "gap": False,
            "measure_assumption": rule.assumption,
            "gap_in_place_of": None,
        }
    return row | {
        "rate": None,
        "rate_rule": "fixed",
        "heading_at_or_above_rate": None,
        "base": rule.base if isinstance(rule, CoverageGap) else "value",
        "stacking_group": "gap_" + rule.id.replace("-", "_"),
        "priority": 0,
        "not_with": [],
        "not_with_headings": [],
        "usmca_exempt_headings": [],
        "gap": True,
        "measure_assumption": None,
        "gap_in_place_of": rule.in_place_of if isinstance(rule, CoverageGap) else None,
    }


def _postal(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    rows = []
    for day in days:
        for regime in pack.tariff.postal:
            if not regime.in_force(day):
                continue
            for origin in _expand(regime.origins):
                rate = (
                    regime.origin_rates.get(origin)
                    if regime.method == "origin-rate"
                    else regime.ad_valorem_rate
                )
                rows.append(
                    {
                        "arrival_date": day,
                        "country_of_origin": origin,
                        "postal_regime_id": regime.id,
                        "postal_method": regime.method,
                        "postal_rate": rate,
                        "postal_item_cents": cents(per_item_usd(regime, rate)),
                        "postal_item_top_cents": cents(_top_per_item(regime)),
                        "postal_specific_offered": bool(
                            regime.specific_per_item_usd or regime.specific_bands
                        ),
                        "postal_usmca_note": regime.usmca_claim_note,
                        "postal_formal_note": regime.formal_entry_note,
                        "postal_rate_of": regime.rate_of,
                        "postal_exempt_note": regime.exempt_goods_note,
                    }
                )
    return pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "country_of_origin": pl.String(),
            "postal_regime_id": pl.String(),
            "postal_method": pl.String(),
            "postal_rate": RATE,
            "postal_item_cents": CENTS,
            "postal_item_top_cents": CENTS,
            "postal_specific_offered": pl.Boolean(),
            "postal_usmca_note": pl.String(),
            "postal_formal_note": pl.String(),
            "postal_rate_of": pl.String(),
            "postal_exempt_note": pl.String(),
        },
    )


def per_item_usd(regime: PostalRegime, rate: Decimal | None) -> Decimal | None:
    """The specific-method duty per postal item: a flat amount, or the band of the origin's rate."""
    if regime.specific_per_item_usd is not None:
        return regime.specific_per_item_usd
    if not regime.specific_bands or rate is None:
        return None
    for band in regime.specific_bands:
        if band.max_rate is None or rate < band.max_rate or (band.max_inclusive and rate == band.max_rate):
            return band.usd
    return None


def _top_per_item(regime: PostalRegime) -> Decimal | None:
    """The most the specific method can charge an item under ``regime`` (its flat amount, or its highest band):
    an item that reaches it owes it whatever its other lines' rates."""
    if regime.specific_per_item_usd is not None:
        return regime.specific_per_item_usd
    return max((band.usd for band in regime.specific_bands), default=None)


def _fees(pack: RulePack, days: list[dt.date]) -> pl.DataFrame:
    rows = [
        {
            "arrival_date": day,
            "fee_rule_id": fee.id,
            "component": fee.component,
            "kind": fee.kind,
            "amount_cents": cents(fee.amount_usd),
            "rate": fee.rate,
            "min_cents": cents(fee.min_usd),
            "max_cents": cents(fee.max_usd),
            "entry_type": entry_type,
            "mode": mode,
            "mail": fee.mail,
            "confidence": fee.confidence,
            "usmca_claim_note": fee.usmca_claim_note,
            "fee_note": fee.note,
            "may_not_be_owed": fee.may_not_be_owed,
        }
        for day in days
        for fee in pack.fees.fees
        if fee.in_force(day)
        for entry_type in fee.entry_types
        for mode in fee.modes
    ]
    return pl.DataFrame(
        rows,
        schema={
            "arrival_date": pl.Date(),
            "fee_rule_id": pl.String(),
            "component": pl.String(),
            "kind": pl.String(),
            "amount_cents": CENTS,
            "rate": RATE,
            "min_cents": CENTS,
            "max_cents": CENTS,
            "entry_type": pl.String(),
            "mode": pl.String(),
            "mail": pl.String(),
            "confidence": pl.String(),
            "usmca_claim_note": pl.String(),
            "fee_note": pl.String(),
            "may_not_be_owed": pl.Boolean(),
        },
    )


def citation_table(pack: RulePack) -> pl.DataFrame:
    """``rule_id, citation, confidence`` for every dated rule and the pack's tables."""
    rows = [(r.id, r.citation.render(), r.confidence) for r in pack.all_rules()]
    rows.append(("mfn", pack.tariff.mfn.citation.render(), pack.tariff.mfn.confidence))
    rows.append(
        (
            "usmca",
            f"{pack.tariff.mfn.citation.render()}; column 1 special, program S/S+ (USMCA, General Note 11)",
            pack.tariff.mfn.confidence,
        )
    )
    rows.append(("fx", pack.fx.rates.citation.render(), pack.fx.rates.confidence))
    return pl.DataFrame(
        rows,
        schema={"rule_id": pl.String(), "citation": pl.String(), "confidence": pl.String()},
        orient="row",
    )
