"""The U.S. risk catalogue's dates against its citations: a rule is dated by the basis it rests on (README, Risk).

A source tag names a document, not a date, so the dates of what each tag is cited for in ``risk.toml`` are written
here, from ../shared/DOMAIN.md: a rule in force on a day none of its cited bases is (or, for a basis that concerns
mail only, on a mode it does not govern) is a screening heuristic there, which its confidence and note must say.
``hts-unknown-on-date`` cited the postal informal entry IFR of 2026-07-24 from 2016-03-10 as confirmed.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import NamedTuple

import pytest

import screening
from screening.rulepack.risk_models import RiskRule

from ..conftest import US_PACK

#: The catalogue's rule ids, read without loading the pack (one test each).
RULE_IDS = [r["id"] for r in tomllib.loads((US_PACK / "risk.toml").read_text(encoding="utf-8"))["rules"]]


class Basis(NamedTuple):
    """When the instrument a source tag is cited for is in force (``start`` None: never, a proposal)."""

    start: dt.date | None
    end: dt.date | None = None
    postal_only: bool = False
    conflict: bool = False


ALWAYS = dt.date.min

#: What each tag is cited for in risk.toml, and when that is in force (DOMAIN.md sections 1 to 3).
BASES: dict[str, Basis] = {
    # 19 CFR 10.151 (in force before the pack's first date; conformed to $800 on 2016-08-26, section 1).
    "S52": Basis(ALWAYS),
    # 19 U.S.C. 1321(a)(2)(C), $800 from TFTEA, 2016-03-10 (sections 1 and 2).
    "S78": Basis(dt.date(2016, 3, 10)),
    # The bona fide gift exemption, 19 U.S.C. 1321(a)(2)(A) and 19 CFR 145.32, kept throughout (section 2).
    "S53": Basis(ALWAYS),
    "S19": Basis(ALWAYS),
    "S51": Basis(ALWAYS),
    # NPRM 90 FR 3048 of 2025-01-14: proposed, never adopted (section 1).
    "S58": Basis(None),
    "S59": Basis(None),
    "S60": Basis(None),
    # The HTSUS, the tariff schedule in force on each date (section 3a).
    "S120": Basis(ALWAYS),
    # The DHS seizure statistic for FY2024, stated 2025-07-31 (section 6).
    "S79": Basis(dt.date(2025, 7, 31)),
    # IEEPA transshipment duties: CA 40% from 2025-08-01, VN 40% after the rates of 2025-08-07; all IEEPA duties
    # ended 2026-02-24 (sections 1, 3b, 3c).
    "S116": Basis(dt.date(2025, 8, 1), dt.date(2026, 2, 24)),
    "S37b": Basis(dt.date(2025, 8, 1), dt.date(2026, 2, 24)),
    "S112": Basis(dt.date(2025, 8, 7), dt.date(2026, 2, 24)),
    # EO 14256: CN/HK de minimis ended 2025-05-02 (section 1).
    "S12": Basis(dt.date(2025, 5, 2)),
    "S13": Basis(dt.date(2025, 5, 2)),
    # Section 301 on goods of China, List 1 from 2018-07-06 (section 3d).
    "S107": Basis(dt.date(2018, 7, 6)),
    "S108": Basis(dt.date(2018, 7, 6)),
    # Postal informal entry IFR 91 FR 37801: mail, from 2026-07-24; interim final or proposed rule is a CONFLICT
    # (sections 0 line 13, and 8).
    "S39": Basis(dt.date(2026, 7, 24), postal_only=True, conflict=True),
    # A carrier's report of a 10-digit "CBP mandate since July 24, 2026" (section 5b).
    "S125": Basis(dt.date(2026, 7, 24)),
}


def _postal_only(rule: RiskRule) -> bool:
    return rule.condition.startswith("mode = 'postal' AND ")


def _cover(rule: RiskRule) -> list[tuple[dt.date, dt.date | None]]:
    """The periods of the rule's cited bases that govern it, merged and clipped to the rule's own period."""
    periods = sorted(
        (
            (max(basis.start, rule.effective_from), basis.end)
            for basis in (BASES[tag] for tag in rule.citation.sources)
            if basis.start is not None and (not basis.postal_only or _postal_only(rule))
        ),
        key=lambda period: period[0],
    )
    merged: list[tuple[dt.date, dt.date | None]] = []
    for start, end in periods:
        if merged and (merged[-1][1] is None or start <= merged[-1][1]):
            last_end = merged[-1][1]
            merged[-1] = (merged[-1][0], None if last_end is None or end is None else max(last_end, end))
        else:
            merged.append((start, end))
    return [(start, end) for start, end in merged if rule.effective_to is None or start < rule.effective_to]


def _uncovered(rule: RiskRule) -> list[str]:
    """What the rule's note must say of the days no cited basis covers: ``before D``, ``from D``, or ``in force``
    (no cited basis on any day)."""
    cover = _cover(rule)
    if not cover:
        return ["no cited basis in force"]
    said = []
    if cover[0][0] > rule.effective_from:
        said.append(f"no cited basis before {cover[0][0]}")
    end = cover[-1][1]
    if end is not None and (rule.effective_to is None or end < rule.effective_to):
        said.append(f"from {end}")
    return said


def test_every_source_a_risk_rule_cites_has_its_dates_here(us_pack: screening.RulePack) -> None:
    cited = {tag for rule in us_pack.risk.rules for tag in rule.citation.sources}
    assert cited <= set(BASES), f"date these from DOMAIN.md: {sorted(cited - set(BASES))}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_a_rule_in_force_where_its_cited_basis_is_not_says_so(
    us_pack: screening.RulePack, rule_id: str
) -> None:
    """Confirmed only where a cited basis governs every day and mode the rule is in force, and is no CONFLICT;
    otherwise unconfirmed (or conflict), with a note naming the days it is a screening heuristic."""
    rule = next(r for r in us_pack.risk.rules if r.id == rule_id)
    if not rule.citation.sources:
        # A citation not among DOMAIN.md's sources (README: such rules are unconfirmed).
        assert rule.confidence == "unconfirmed"
        return
    bases = [BASES[tag] for tag in rule.citation.sources]
    uncovered = _uncovered(rule)
    if uncovered:
        assert rule.confidence == "unconfirmed", f"{rule.id}: {uncovered}"
        note = " ".join((rule.note or "").split())
        assert "screening heuristic" in note
        for words in uncovered:
            assert words in note, f"{rule.id}'s note does not say {words!r}"
    elif any(b.conflict for b in bases if b.start is not None):
        assert rule.confidence in ("conflict", "unconfirmed")
        assert "CONFLICT" in (rule.note or "")
