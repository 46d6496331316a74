"""Every package's entry type against a reference written from the README's rules (SYNTHETIC manifests).

The reference ("How it decides", *Entry type*; DOMAIN.md section 4), package by package:

1. ``de-minimis`` when the package is eligible (not suspended for its origin and mode that day, the person's day
   within the threshold: the drawn pack's :meth:`~screening.testing.DeMinimisPack.expected_reason`);
2. ``formal`` when its value is over the informal limit in force on its date ($2,500.00 is informal, $2,500.01
   is not); mail so entered under a postal regime that records the choice as unsettled (its
   ``formal_entry_note``) reads ``assessed-unconfirmed``, its fee components saying why;
3. ``postal`` for mail whose origin has a postal duty regime of the pack that day;
4. otherwise ``informal``, made ``formal`` when its lines charged a Chapter 99 duty (a component above zero under
   a heading the limit lists) are worth more than the limit's ``chapter99_max_usd`` together, unless the clause is
   suspended that day (then it stays informal, saying so); a package whose charged lines are within it but whose
   lines with a Chapter 99 duty left open could take it over has its entry, and so its fees, open.

Which lines a Chapter 99 duty is charged on, or left open for, is read from the run's duty components (the
duties have tests of their own); everything else comes from the drawn manifest and the pack's data. The packs are
the U.S. pack with a drawn ``de_minimis.toml`` (no never-eligible classes and no gifts, so eligibility is the
threshold and the suspensions alone, and no goods are barred from the postal method).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

import screening
from screening.rulepack.models import EntryLimit
from screening.testing import (
    DEFAULT_HTS_CODES,
    DeMinimisPack,
    de_minimis_packs,
    declared_values,
    labelled_manifests,
)

from .conftest import overlay

#: Why the Chapter 99 limit decided a package's entry: over it (formal), over it while it is suspended
#: (informal), or open (charged lines within it, open ones could take it over).
LimitDecision = Literal["over", "over-suspended", "open"]


@dataclass(frozen=True)
class Line:
    """A drawn manifest line, read as the README says the engine reads it."""

    package_id: str
    line_no: int
    day: dt.date
    mode: str
    origin: str
    value_usd: Decimal
    consignee: str


@dataclass(frozen=True)
class ExpectedEntry:
    """The reference's entry for one package, and why."""

    entry_type: str
    limit: EntryLimit
    fee_schedule: bool
    #: The rule that made the entry type (``packages.entry_rule_id``): the de minimis rule, the postal regime,
    #: else the informal-entry limit in force.
    rule_id: str
    decision: LimitDecision | None = None
    chapter99_usd: Decimal = Decimal(0)
    open_usd: Decimal = Decimal(0)
    #: Mail over the informal limit under a postal regime whose ``formal_entry_note`` leaves that choice open.
    formal_mail: bool = False


def read_lines(frame: pl.DataFrame, consignees: Iterable[str | None]) -> list[Line]:
    return [
        Line(
            package_id=row["package_id"],
            line_no=int(row["line_no"]),
            day=dt.date.fromisoformat(row["arrival_date"].strip()),
            mode=row["mode"].strip().lower(),
            origin=row["country_of_origin"].strip().upper(),
            value_usd=Decimal(row["declared_value"].strip()),
            consignee=consignee or "",
        )
        for row, consignee in zip(frame.to_dicts(), consignees, strict=True)
    ]


def entry_limit_on(pack: screening.RulePack, day: dt.date) -> EntryLimit:
    (limit,) = [limit for limit in pack.de_minimis.entry_limits if limit.in_force(day)]
    return limit


def postal_regime(pack: screening.RulePack, origin: str, day: dt.date) -> str | None:
    """The id of the postal regime in force for ``origin`` on ``day``, if any."""
    found = [
        r.id for r in pack.tariff.postal if r.in_force(day) and ("*" in r.origins or origin in r.origins)
    ]
    return found[0] if found else None


def has_fee_schedule(pack: screening.RulePack, day: dt.date, mode: str) -> bool:
    return any(fee.in_force(day) and mode in fee.modes for fee in pack.fees.fees)


def chapter99_lines(
    pack: screening.RulePack, components: pl.DataFrame, limit: EntryLimit
) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
    """The lines (package id, line number) charged a Chapter 99 duty above zero under a heading ``limit``
    lists, and those with such a duty left open: a listed heading without an amount, or a coverage gap of a
    kind of duty the pack charges under a listed heading (Section 232, 301, IEEPA)."""
    listed = set(limit.chapter99_headings)
    kinds = {m.component for m in pack.tariff.measures if m.heading[:4] in listed}
    gaps = {g.id for g in pack.tariff.gaps if g.component in kinds}
    charged, left_open = set(), set()
    for package_id, line_no, heading, measure_id, amount in components.select(
        "package_id", "line_no", "heading", "measure_id", "amount_usd"
    ).rows():
        if line_no is None:
            continue
        in_listed = heading is not None and heading[:4] in listed
        if in_listed and amount is not None and amount > 0:
            charged.add((package_id, line_no))
        elif amount is None and (in_listed or measure_id in gaps):
            left_open.add((package_id, line_no))
    return charged, left_open - charged


def expected_entries(
    lines: list[Line], small: DeMinimisPack, pack: screening.RulePack, components: pl.DataFrame
) -> dict[str, ExpectedEntry]:
    """The reference: each package's entry type (module docstring), from its lines and the pack in force."""
    day_totals: dict[tuple[str, dt.date], Decimal] = {}
    for line in lines:
        key = (line.consignee, line.day)
        day_totals[key] = day_totals.get(key, Decimal(0)) + line.value_usd
    packages: dict[str, list[Line]] = {}
    for line in lines:
        packages.setdefault(line.package_id, []).append(line)
    expected = {}
    for package_id, its_lines in packages.items():
        first = min(its_lines, key=lambda line: line.line_no)  # a package arrives once: as its first line
        day, mode = first.day, first.mode
        limit = entry_limit_on(pack, day)
        schedule = has_fee_schedule(pack, day, mode)
        reasons = [
            small.expected_reason(line.origin, mode, day, day_totals[(line.consignee, day)])
            for line in sorted(its_lines, key=lambda line: line.line_no)
        ]
        value = sum((line.value_usd for line in its_lines), Decimal(0))
        regimes = [
            postal_regime(pack, line.origin, day) for line in sorted(its_lines, key=lambda x: x.line_no)
        ]
        regime = next((r for r in regimes if r is not None), None)
        if all(reason == "dm-eligible" for reason, _ in reasons):
            # Every line eligible: the threshold in force is each line's rule, the lowest-numbered line's first.
            expected[package_id] = ExpectedEntry("de-minimis", limit, schedule, reasons[0][1])
        elif value > limit.informal_max_usd:
            noted = mode == "postal" and regime is not None and _formal_entry_noted(pack, regime)
            expected[package_id] = ExpectedEntry("formal", limit, schedule, limit.id, formal_mail=noted)
        elif mode == "postal" and regime is not None:
            expected[package_id] = ExpectedEntry("postal", limit, schedule, regime)
        else:
            expected[package_id] = _informal(its_lines, limit, schedule, pack, components)
    return expected


def _formal_entry_noted(pack: screening.RulePack, regime_id: str) -> bool:
    """Whether postal regime ``regime_id`` records the formal entry of mail over the informal limit as unsettled."""
    return any(r.id == regime_id and r.formal_entry_note is not None for r in pack.tariff.postal)


def _informal(
    lines: list[Line], limit: EntryLimit, schedule: bool, pack: screening.RulePack, components: pl.DataFrame
) -> ExpectedEntry:
    """An informal package under the Chapter 99 clause of 19 CFR 143.21(a), if ``limit`` has one."""
    if limit.chapter99_max_usd is None:
        return ExpectedEntry("informal", limit, schedule, limit.id)
    charged, left_open = chapter99_lines(pack, components, limit)
    charged_usd = sum((x.value_usd for x in lines if (x.package_id, x.line_no) in charged), Decimal(0))
    open_usd = sum((x.value_usd for x in lines if (x.package_id, x.line_no) in left_open), Decimal(0))

    def entry(entry_type: str, decision: LimitDecision | None = None) -> ExpectedEntry:
        return ExpectedEntry(entry_type, limit, schedule, limit.id, decision, charged_usd, open_usd)

    if charged_usd > limit.chapter99_max_usd:
        if limit.chapter99_suspended:
            return entry("informal", "over-suspended")
        return entry("formal", "over")
    if not limit.chapter99_suspended and charged_usd + open_usd > limit.chapter99_max_usd:
        return entry("informal", "open")
    return entry("informal")


def expected_note(entry: ExpectedEntry) -> str:
    """How the fee components begin to say why the limit decided the entry (README, *Entry type*)."""
    limit = entry.limit
    rule = limit.id if limit.confidence == "confirmed" else f"{limit.id}, {limit.confidence}"
    worth = f"its Chapter 99 articles are worth ${entry.chapter99_usd:.2f}"
    if entry.decision == "over":
        return (
            f"formal entry: {worth}, over the ${limit.chapter99_max_usd:.2f} informal limit for them ({rule})"
        )
    if entry.decision == "over-suspended":
        return (
            f"informal entry: {worth}, over the ${limit.chapter99_max_usd:.2f} limit for them, which is "
            f"suspended ({rule})"
        )
    return "entry type open:"


def expected_fee_status(entry: ExpectedEntry) -> str | None:
    """The fee status the entry implies, where the entry settles it (None: other fees decide)."""
    if entry.entry_type == "de-minimis":
        return "none-due"
    if not entry.fee_schedule:
        return "no-fee-schedule"
    if entry.decision == "open":
        return "fees-unknown"
    if entry.decision is not None and entry.limit.confidence != "confirmed":
        return "assessed-unconfirmed"
    if entry.formal_mail:
        return "assessed-unconfirmed"
    return None


def arrival_days(small: DeMinimisPack, pack: screening.RulePack) -> st.SearchStrategy[list[dt.date]]:
    """One to four arrival dates: mostly around the drawn file's changes (the Chapter 99 clause's last day and
    its end or suspension above all), the pack's postal regimes and fee schedules; sometimes any day from
    2024-09-01 (before the IEEPA duties, CN goods off the Section 301 lists are charged no Chapter 99 duty)."""
    changes = {*small.boundaries()}
    for rule in (*pack.tariff.postal, *pack.fees.fees):
        changes |= {rule.effective_from} | ({rule.effective_to} if rule.effective_to else set())
    start = max(small.covers_from, dt.date(2024, 9, 1))
    near = sorted(
        day for b in changes for day in (b - dt.timedelta(days=1), b) if start <= day < dt.date(2027, 2, 1)
    )
    until = small.chapter99_until
    clause = [] if until is None else [until - dt.timedelta(days=1), until]
    around = st.sampled_from(near)
    anywhere = st.dates(start, dt.date(2027, 1, 31))
    days = st.one_of(*(st.sampled_from(clause) for _ in clause), around, around, anywhere)
    return st.lists(days, min_size=1, max_size=4, unique=True)


def values_on_the_limits(small: DeMinimisPack) -> st.SearchStrategy[str]:
    """Declared values, two in three on the drawn file's entry limits or a cent over ($2,500.00 and $2,500.01;
    $250.00 and $250.01: a one-line package charged a Chapter 99 duty meets the lower limit exactly)."""
    limits = [
        small.informal_max_usd,
        *([small.chapter99_max_usd] if small.chapter99_max_usd is not None else []),
    ]
    on = [f"{amount:.2f}" for limit in limits for amount in (limit, limit + Decimal("0.01"))]
    return st.one_of(declared_values(), st.sampled_from(on), st.sampled_from(on))


#: The informal limits drawn: the U.S. pack's and a lower one, both above every Chapter 99 limit drawn (a package
#: within an informal limit of $250 has no Chapter 99 articles worth more than $250).
INFORMAL_LIMITS = (Decimal("2500.00"), Decimal("1000.00"))
#: HTS codes: the default ones and their 6-digit subheadings, too short for the Section 301 lists of 8 and 10
#: digits: a line of CN goods charged no other Chapter 99 duty has that duty open.
HTS_CODES = (*DEFAULT_HTS_CODES, *(code[:6] for code in DEFAULT_HTS_CODES))
#: The lower limits for Chapter 99 articles drawn: the U.S. pack's and a lower one.
CHAPTER99_LIMITS = (Decimal("250.00"), Decimal("100.00"))


@given(
    small=de_minimis_packs(
        informal_limits=INFORMAL_LIMITS,
        chapter99_limits=CHAPTER99_LIMITS,
        chapter99_always=True,
        chapter99_suspensions=True,
    ).filter(lambda small: "9903" in small.chapter99_headings),  # the headings the pack charges duties under
    data=st.data(),
)
def test_every_package_s_entry_type_and_the_fee_status_it_implies_follow_the_documented_rules(
    pack: screening.RulePack, small: DeMinimisPack, data: st.DataObject
) -> None:
    """``packages.entry_type`` and the rule that made it (``entry_rule_id``) equal the reference's for every
    package (module docstring); where the entry
    settles the fee status it is that (``none-due`` for de minimis, ``no-fee-schedule`` on a date and mode
    without fees, ``fees-unknown`` for an open entry, ``assessed-unconfirmed`` for one an unconfirmed Chapter 99
    limit decided), and the fee components say why exactly when the Chapter 99 limit decided the entry."""
    drawn = overlay(small, pack)
    days = data.draw(arrival_days(small, drawn), label="days")
    # CN goods are charged Chapter 99 duties on most days; the suspended origins meet their suspensions.
    origins = ("CN", "CN", "CN", *(s.origins[0] for s in small.suspensions), "GB", "MX")
    labelled = data.draw(
        labelled_manifests(
            dates=days,
            currencies=["USD"],
            origins=origins,
            hts_codes=HTS_CODES,
            values=values_on_the_limits(small),
            # Many small packages (an engine run costs about the same for 5 or 25): one-line packages meet the
            # limits exactly.
            min_packages=16,
            max_packages=40,
            max_lines=2,
            max_consignees=4,
        ),
        label="manifest",
    )
    result = screening.screen(labelled.frame, rules=drawn)
    assert result.rejects.height == 0, result.rejects.select("code", "message").rows()
    lines = read_lines(labelled.frame, (label.consignee for label in labelled.labels))
    expected = expected_entries(lines, small, drawn, result.components)

    got = {
        p: (t, r) for p, t, r in result.packages.select("package_id", "entry_type", "entry_rule_id").rows()
    }
    want = {package_id: (entry.entry_type, entry.rule_id) for package_id, entry in expected.items()}
    assert got == want, {
        p: (got.get(p), want.get(p)) for p in want.keys() | got.keys() if got.get(p) != want.get(p)
    }

    fee_status = dict(result.packages.select("package_id", "fee_status").rows())
    fee_ids = {fee.id for fee in drawn.fees.fees}
    fees = result.components.filter(pl.col("measure_id").is_in(fee_ids))
    for package_id, entry in expected.items():
        status = expected_fee_status(entry)
        assert status in (None, fee_status[package_id]), (package_id, entry, fee_status[package_id])
        notes = fees.filter(pl.col("package_id") == package_id)["assumption"].fill_null("").to_list()
        if entry.decision is not None and entry.fee_schedule:
            assert notes, (package_id, entry)  # a package with a fee schedule has a fee component
            assert all(note.startswith(expected_note(entry)) for note in notes), (package_id, entry, notes)
        else:
            assert not any("Chapter 99" in note for note in notes), (package_id, entry, notes)
        mail_noted = [note.startswith("formal entry of mail: ") for note in notes]
        assert all(mail_noted) if entry.formal_mail else not any(mail_noted), (package_id, entry, notes)
