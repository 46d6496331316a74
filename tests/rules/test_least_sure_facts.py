"""DOMAIN.md's least-sure facts (section 0, lines 12 to 14) where the U.S. pack cites them: a citation resting on
one says so, as the pack marks what is UNCONFIRMED (DOMAIN.md's preamble)."""

from __future__ import annotations

import re

import screening

#: DOMAIN.md 0.13: "The 91 FR page numbers come from one source [S41]" (the IFRs of 2026-06-24).
IFR_PAGES = re.compile(r"91 FR 378(?:01|89)")


def test_a_citation_of_the_2026_ifrs_by_page_says_the_page_numbers_come_from_one_source(
    us_pack: screening.RulePack,
) -> None:
    """`eo-2026-02-20-all` cited `91 FR 37789 and 91 FR 37801` flatly, its decisions confirmed: the order is
    (CSMS 67845486), the page numbers are not. Every rule citing the IFRs by page now says so in its citation."""
    citing = [
        rule
        for rule in us_pack.all_rules()
        if IFR_PAGES.search(f"{rule.citation.instrument} {rule.citation.pinpoint}")
    ]
    assert {rule.id for rule in citing} >= {
        "eo-2026-02-20-all",
        "postal-informal-entry",
        "hts-code-short-postal",
        "postal-informal-entry-fees",
    }
    for rule in citing:
        cited = f"{rule.citation.instrument} {rule.citation.pinpoint or ''}"
        assert re.search(r"page numbers? from one source, UNCONFIRMED", cited), rule.id


def test_the_postal_regime_and_fees_of_the_2026_ifr_mark_the_conflict_on_its_form(
    us_pack: screening.RulePack,
) -> None:
    """DOMAIN.md 8 and 0.13: most sources call the June 2026 documents interim final rules, RVIA proposed rules
    (CONFLICT). The postal informal-entry regime and its fees exist only if 91 FR 37801 is in force, yet read
    `unconfirmed` with no word on the form, while the risk rule citing the same rule read `conflict`. Each now reads
    `conflict`, says why in its note and names the dissenting source."""
    rules = {rule.id: rule for rule in us_pack.all_rules()}
    for rule_id in ("postal-informal-entry", "postal-informal-entry-fees", "hts-code-short-postal"):
        rule = rules[rule_id]
        assert rule.confidence == "conflict", rule_id
        assert "proposed rules" in (rule.note or ""), rule_id
    for rule_id in ("postal-informal-entry", "postal-informal-entry-fees"):
        assert "CONFLICT" in rules[rule_id].citation.instrument
        assert "S42" in rules[rule_id].citation.sources
