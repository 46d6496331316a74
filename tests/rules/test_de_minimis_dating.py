"""The U.S. de minimis and fee rules' dates against their citations, as ``test_risk_dating.py`` holds the risk
catalogue's: a rule is dated by the basis it rests on.

A source tag names a document, not a date, so the dates of what each tag is cited for in ``de_minimis.toml`` and
``fees.toml`` are written here, from ../shared/DOMAIN.md. A threshold rests on the instruments that set its
amount: each one it cites is in force on every day the threshold is. ``threshold-800`` cited 19 CFR 10.151 as
conformed to $800 by CBP Dec. 16-13 (81 FR 58831, 2016-08-26) from 2016-03-10, when the regulation still read
$200 and the statute alone (TFTEA sec. 901) set $800.

Suspensions are left out: their tags report the orders that open and end each one (S05, S11 or S19 reports
several), so a tag has no one date there; the timeline scenarios hold their dates.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import NamedTuple

import pytest

import screening
from screening.rulepack.models import Fee, Rule
from screening.rules_show import rules_in_force

from ..conftest import US_PACK


class Basis(NamedTuple):
    """When the instrument a source tag is cited for is in force."""

    start: dt.date
    end: dt.date | None = None
    conflict: bool = False


ALWAYS = dt.date.min
TFTEA = dt.date(2016, 3, 10)
CBP_DEC_16_13 = dt.date(2016, 8, 26)

#: What each tag is cited for in a threshold (the $800 amount), and when that is in force (DOMAIN.md sections 1, 2).
AMOUNT_BASES: dict[str, Basis] = {
    # TFTEA sec. 901 raised 19 U.S.C. 1321(a)(2)(C) from $200 to $800 for 2016-03-10 on.
    "S03": Basis(TFTEA),
    "S04": Basis(TFTEA),
    "S78": Basis(TFTEA),
    # IFR CBP Dec. 16-13, 81 FR 58831: 19 CFR 10.151 (and parts 143, 145, 128) conformed to $800 on 2016-08-26.
    "S01": Basis(CBP_DEC_16_13),
    "S02": Basis(CBP_DEC_16_13),
    # 19 CFR 10.151 reads $800 only from that IFR; it read $200 before.
    "S52": Basis(CBP_DEC_16_13),
}

#: What each tag is cited for in the other de minimis rules (gifts, never-eligible goods, the informal limit) and
#: in fees.toml, and when that is in force (DOMAIN.md sections 0 to 4).
BASES: dict[str, Basis] = {
    # The bona fide gift exemption, 19 U.S.C. 1321(a)(2)(A) and 19 CFR 145.32, kept throughout (section 2).
    "S53": Basis(ALWAYS),
    "S19": Basis(ALWAYS),
    "S51": Basis(ALWAYS),
    # Goods never eligible: 19 CFR 10.151 and CBP's guidance on excise and quota goods (section 2).
    "S52": Basis(ALWAYS),
    "S54": Basis(ALWAYS),
    "S55": Basis(ALWAYS),
    # The $2,500 informal entry limit, 19 CFR 143.21-143.26 (section 4).
    "S73": Basis(ALWAYS),
    "S126": Basis(ALWAYS),
    # User fees: the FY2025 notice 89 FR 59126 and the FY2026 notice 90 FR 34665 (section 4).
    "S70": Basis(dt.date(2024, 10, 1), dt.date(2025, 10, 1)),
    "S71": Basis(dt.date(2024, 10, 1), dt.date(2025, 10, 1)),
    "S69": Basis(dt.date(2025, 10, 1), dt.date(2026, 10, 1)),
    "S72": Basis(dt.date(2025, 10, 1), dt.date(2026, 10, 1)),
    # The harbor maintenance fee, 19 CFR 24.24: 0.125% of vessel cargo's value (sections 3a and 4).
    "S74": Basis(ALWAYS),
    "S75": Basis(ALWAYS),
    # Postal informal entry IFR 91 FR 37801, from 2026-07-24; interim final or proposed rule is a CONFLICT
    # (sections 0 line 13, and 1).
    "S39": Basis(dt.date(2026, 7, 24), conflict=True),
    "S41": Basis(dt.date(2026, 7, 24), conflict=True),
    "S45": Basis(dt.date(2026, 7, 24), conflict=True),
    # RVIA: the June 2026 documents as proposed rules of 2026-06-23, the other side of that CONFLICT (section 8).
    "S42": Basis(dt.date(2026, 7, 24), conflict=True),
}

#: Fees whose tags are cited for what a fee is, not for an amount: ``dutiable-mail-postal-regime`` charges 0.00
#: (the fee taken as not charged under a postal duty regime), citing the FY2026 notice for what fee code 496 is.
NO_AMOUNT_CITED = frozenset({"dutiable-mail-postal-regime"})

_TEXT = tomllib.loads((US_PACK / "de_minimis.toml").read_text(encoding="utf-8"))
THRESHOLD_IDS = [r["id"] for r in _TEXT["thresholds"]]
OTHER_IDS = [
    *(r["id"] for section in ("gifts", "never_eligible", "entry_limits") for r in _TEXT.get(section, [])),
    *(r["id"] for r in tomllib.loads((US_PACK / "fees.toml").read_text(encoding="utf-8"))["fees"]),
]


def _rule(pack: screening.RulePack, rule_id: str) -> Rule:
    return next(r for r in pack.all_rules() if r.id == rule_id)


def _outside(rule: Rule, basis: Basis) -> bool:
    """Whether the rule is in force on a day the basis is not."""
    return basis.start > rule.effective_from or (
        basis.end is not None and (rule.effective_to is None or basis.end < rule.effective_to)
    )


def test_every_source_these_rules_cite_has_its_dates_here(us_pack: screening.RulePack) -> None:
    for ids, bases in ((THRESHOLD_IDS, AMOUNT_BASES), (OTHER_IDS, BASES)):
        cited = {tag for rule_id in ids for tag in _rule(us_pack, rule_id).citation.sources}
        assert cited <= set(bases), f"date these from DOMAIN.md: {sorted(cited - set(bases))}"


@pytest.mark.parametrize("rule_id", THRESHOLD_IDS)
def test_a_threshold_cites_only_what_set_its_amount_on_every_day_it_is_in_force(
    us_pack: screening.RulePack, rule_id: str
) -> None:
    """A package of 2016-05-01 read `19 CFR 10.151 (CBP Dec. 16-13, 81 FR 58831)`, a regulation that said $800
    only from 2016-08-26: the threshold is split where its basis changes, each part citing what was in force."""
    rule = _rule(us_pack, rule_id)
    assert rule.citation.sources, f"{rule_id}: a threshold names the sources of its amount"
    early = [tag for tag in rule.citation.sources if _outside(rule, AMOUNT_BASES[tag])]
    assert not early, f"{rule_id} (from {rule.effective_from}) cites {early}, not in force on all its days"
    cited = " ".join(filter(None, (rule.citation.instrument, rule.citation.pinpoint, rule.citation.url)))
    if rule.effective_from < CBP_DEC_16_13:
        assert "10.151" not in cited, f"{rule_id} cites the regulation of 2016-08-26: {cited}"
        assert "58831" not in cited, f"{rule_id} cites the IFR of 2016-08-26: {cited}"
    else:
        assert "19 CFR 10.151 (CBP Dec. 16-13, 81 FR 58831)" in cited


def test_the_800_threshold_holds_every_day_from_tftea_with_one_amount(us_pack: screening.RulePack) -> None:
    """Splitting the threshold where its cited basis changes keeps its amount and days: $800 from 2016-03-10,
    the statute alone until 2016-08-26, with 19 CFR 10.151 from then."""
    thresholds = sorted(us_pack.de_minimis.thresholds, key=lambda r: r.effective_from)
    assert {str(r.amount_usd) for r in thresholds} == {"800.00"}
    assert [r.effective_from for r in thresholds] == [TFTEA, CBP_DEC_16_13]
    assert thresholds[0].effective_to == CBP_DEC_16_13
    assert thresholds[-1].effective_to is None
    assert all(r.confidence == "confirmed" for r in thresholds)


@pytest.mark.parametrize(
    ("day", "rule_id", "regulation"),
    [
        ("2016-05-01", "threshold-800-tftea", False),
        ("2016-08-25", "threshold-800-tftea", False),
        ("2016-08-26", "threshold-800", True),
    ],
)
def test_rules_show_gives_the_threshold_s_basis_on_the_day(
    us_pack: screening.RulePack, day: str, rule_id: str, regulation: bool
) -> None:
    """`screen rules show --date 2016-05-01` listed 19 CFR 10.151 (CBP Dec. 16-13) and its sources S01, S52."""
    (shown,) = (e for e in rules_in_force(us_pack, dt.date.fromisoformat(day)) if e.kind == "threshold")
    assert shown.rule_id == rule_id
    assert ("CBP Dec. 16-13" in shown.citation) is regulation
    assert ({"S01", "S52"} <= set(shown.sources)) is regulation


@pytest.mark.parametrize("rule_id", OTHER_IDS)
def test_a_rule_in_force_where_a_cited_basis_is_not_says_so(
    us_pack: screening.RulePack, rule_id: str
) -> None:
    """A cited basis that begins after the rule does is dated in the citation (`from D`, as the pack writes a
    later instrument beside the first); one that ends before the rule does leaves the rule unconfirmed, its note
    naming the day (`from D`); a basis in CONFLICT leaves it unconfirmed or conflict."""
    rule = _rule(us_pack, rule_id)
    if isinstance(rule, Fee) and rule.id in NO_AMOUNT_CITED:
        assert rule.amount_usd == 0
        return
    citation = " ".join(filter(None, (rule.citation.instrument, rule.citation.pinpoint)))
    note = " ".join((rule.note or "").split())
    for tag in rule.citation.sources:
        basis = BASES[tag]
        if basis.start > rule.effective_from:
            assert f"from {basis.start}" in citation, (
                f"{rule_id} cites {tag} (from {basis.start}) from the start"
            )
        if basis.end is not None and (rule.effective_to is None or basis.end < rule.effective_to):
            assert rule.confidence != "confirmed", (
                f"{rule_id} runs past {tag}'s end ({basis.end}) as confirmed"
            )
            assert f"from {basis.end}" in note, f"{rule_id}'s note does not say its basis ended ({basis.end})"
        if basis.conflict:
            assert rule.confidence in ("conflict", "unconfirmed"), f"{rule_id} cites {tag}, in CONFLICT"
