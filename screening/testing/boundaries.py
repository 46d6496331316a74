"""The days a rule pack's law changes: where property tests should draw arrival dates."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools

import polars as pl

from screening.rulepack.loader import DEFAULT_PACK, RulePack, load_rules, pack_folder

#: Ordinary days besides the changes (an old day, days inside long periods).
ORDINARY_DAYS: tuple[dt.date, ...] = tuple(
    dt.date.fromisoformat(d) for d in ("2016-03-10", "2019-06-12", "2025-03-10", "2025-05-13")
)


def rule_boundaries(pack: RulePack) -> list[dt.date]:
    """Every date on which a rule, tariff line or scope entry of ``pack`` starts or ends (from its coverage)."""
    days = {pack.meta.covers_from}
    for rule in pack.all_rules():
        days.add(rule.effective_from)
        if rule.effective_to is not None:
            days.add(rule.effective_to)
    # Dated tables (tariff lines, measure scopes, ...): every Date column. Not the exchange rates (USD only).
    for each in dataclasses.fields(pack):
        table = getattr(pack, each.name)
        if isinstance(table, pl.DataFrame) and each.name != "fx_rates":
            for column, dtype in table.schema.items():
                if dtype == pl.Date():
                    days.update(table[column].drop_nulls().unique().to_list())
    return sorted(d for d in days if d >= pack.meta.covers_from)


def rule_change_dates(pack: RulePack) -> tuple[dt.date, ...]:
    """Each day of :func:`rule_boundaries` and the day before it, with :data:`ORDINARY_DAYS`, inside the pack's
    coverage: the arrival dates where a rule change shows."""
    days = set(ORDINARY_DAYS)
    for day in rule_boundaries(pack):
        days |= {day, day - dt.timedelta(days=1)}
    end = pack.meta.covers_to
    return tuple(sorted(d for d in days if d >= pack.meta.covers_from and (end is None or d < end)))


@functools.cache
def bundled_rule_change_dates() -> tuple[dt.date, ...]:
    """:func:`rule_change_dates` of the bundled U.S. pack (loaded once per process)."""
    return rule_change_dates(load_rules(pack_folder(DEFAULT_PACK)))
