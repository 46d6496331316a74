"""``screen rules show`` says how each measure is charged as the engine charges it: a top-up ("15% all-in") as
15% less the line's MFN rate, a duty on the metal content, the exemptions a measure declares (a USMCA claim,
``not_with``), and a postal regime that goods barred from the postal method cannot use. Each case is checked
against what a run charges the same line."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner

import screening
from screening.cli import main

from ..conftest import BASE_LINE, US_PACK


def show(*args: str) -> tuple[str, dict[str, dict[str, Any]]]:
    """The printed text of ``rules show`` (white space folded) and its JSON entries by rule id."""
    base = ["rules", "show", str(US_PACK), *args]
    printed = CliRunner().invoke(main, base, env={"COLUMNS": "400"})
    assert printed.exit_code == 0, printed.output
    as_json = CliRunner().invoke(main, [*base, "--json"])
    assert as_json.exit_code == 0, as_json.output
    return " ".join(printed.stdout.split()), {e["rule_id"]: e for e in json.loads(as_json.stdout)}


def charged(us_pack: screening.RulePack, **line: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """One line screened: its package and its components by measure id."""
    row = {**BASE_LINE, "usmca_claim": None, "metal_content_share": None, **line}
    result = screening.screen(pl.DataFrame([row], schema=dict.fromkeys(row, pl.String())), rules=us_pack)
    (package,) = result.packages.to_dicts()
    return package, {c["measure_id"]: c for c in result.components.to_dicts()}


@pytest.mark.parametrize(
    ("origin", "day", "measure", "heading"),
    [
        ("DE", "2025-09-10", "ieepa-reciprocal-eu-all-in", "9903.02.20"),
        ("JP", "2025-09-10", "ieepa-reciprocal-jp-all-in", "9903.02.73"),
        ("KR", "2025-12-01", "ieepa-reciprocal-kr-all-in", "9903.02.80"),
    ],
)
def test_an_all_in_rate_is_shown_as_15_percent_less_the_line_s_mfn_rate(
    us_pack: screening.RulePack, origin: str, day: str, measure: str, heading: str
) -> None:
    """It printed "9903.02.20: 0.15" for a line of 10% MFN rate, which the engine charges 5%."""
    text, entries = show("--date", day, "--origin", origin, "--hts", "6912.00.44.00", "--mode", "express")
    assert (
        f"ieepa_reciprocal {heading}: 15% all-in: 15% less the line's MFN rate (not below 0); here 5% (MFN 10%)"
        in text
    )
    charge = entries[measure]["charge"]
    assert (charge["rate"], charge["rate_rule"], charge["rate_here"]) == ("0.15", "top_up", "0.05")
    _, components = charged(us_pack, arrival_date=day, country_of_origin=origin, hts_code="6912.00.44.00")
    assert components[measure]["rate"] == Decimal(charge["rate_here"])
    # Without a line there is no MFN rate to take off: the rule is said, no rate on a line.
    text, entries = show("--date", day, "--origin", origin, "--mode", "express")
    assert f"{heading}: 15% all-in: 15% less the line's MFN rate (not below 0)" in text
    assert f"{heading}: 15% all-in: 15% less the line's MFN rate (not below 0); here" not in text
    assert entries[measure]["charge"]["rate_here"] is None


def test_an_all_in_rate_over_a_specific_mfn_rate_says_it_is_not_computed(us_pack: screening.RulePack) -> None:
    text, entries = show("--date", "2025-09-10", "--origin", "JP", "--hts", "0409.00.00")
    assert (
        "15% all-in: 15% less the line's MFN rate (not below 0); here not computed: the line's MFN rate has a "
        "specific part, whose ad valorem equivalent the engine does not compute" in text
    )
    assert entries["ieepa-reciprocal-jp-all-in"]["charge"]["rate_here"] is None
    _, components = charged(
        us_pack, arrival_date="2025-09-10", country_of_origin="JP", hts_code="0409.00.00", gross_weight_kg="1"
    )
    assert components["ieepa-reciprocal-jp-all-in"]["rate"] is None


def test_an_all_in_rate_over_a_compound_mfn_rate_at_or_above_15_percent_is_zero(
    us_pack: screening.RulePack,
) -> None:
    """6402.91.20 (90 cents/pr. + 37.5%): the MFN rate is over 15% whatever the 90 cents, so the top-up is 0; it
    said "here not computed"; 0402.29.50 ($1.104/kg + 14.9%) is below it by its ad valorem part alone."""
    text, entries = show("--date", "2025-11-13", "--origin", "DE", "--hts", "6402.91.20.00")
    assert (
        "15% all-in: 15% less the line's MFN rate (not below 0); here 0% (MFN 37.5% + a specific part: at least "
        "15%)" in text
    )
    assert entries["ieepa-reciprocal-eu-all-in"]["charge"]["rate_here"] == "0"
    _, components = charged(
        us_pack, arrival_date="2025-11-13", country_of_origin="DE", hts_code="6402.91.20.00", quantity="3"
    )
    assert components["ieepa-reciprocal-eu-all-in"]["rate"] == Decimal(0)
    text, entries = show("--date", "2025-11-13", "--origin", "DE", "--hts", "0402.29.50.00")
    assert (
        "here not computed: the line's MFN rate has a specific part, whose ad valorem equivalent the engine does "
        "not compute (its ad valorem part, 14.9%, is below 15%)" in text
    )
    assert entries["ieepa-reciprocal-eu-all-in"]["charge"]["rate_here"] is None


def test_a_duty_on_the_metal_content_says_so(us_pack: screening.RulePack) -> None:
    """It printed "s232 9903.81.89: 0.50", which the engine charges on value x metal_content_share."""
    text, entries = show("--date", "2026-03-10", "--origin", "CN", "--hts", "7317.00.55", "--mode", "express")
    assert (
        "s232 9903.81.89: 0.50; charged on the metal content (value × metal_content_share; the full value when "
        "the share is not given)" in text
    )
    assert entries["s232-steel-derivatives-ch73-50"]["charge"]["base"] == "metal_content"
    assert entries["s301-list3-25"]["charge"]["base"] == "value"
    assert "s301 9903.88.03: 0.25 " in text + " "  # a duty on the value says nothing more
    # The gap beside it is the duty on the rest of the value.
    assert entries["gap-s232-non-metal-content"]["charge"]["base"] == "non_metal_content"
    assert "the missing duty is on the non-metal content" in entries["gap-s232-non-metal-content"]["summary"]
    _, components = charged(
        us_pack,
        arrival_date="2026-03-10",
        country_of_origin="CN",
        hts_code="7317.00.55",
        metal_content_share="0.4",
    )
    assert components["s232-steel-derivatives-ch73-50"]["base_usd"] == Decimal("40.00")


@pytest.mark.parametrize(
    ("day", "measure", "heading"),
    [
        ("2025-03-10", "ieepa-fentanyl-ca-25-to-jun-3", "9903.01.10"),
        ("2026-03-10", "s122-surcharge", "9903.03.01"),
    ],
)
def test_a_measure_exempt_under_a_usmca_claim_says_so(
    us_pack: screening.RulePack, day: str, measure: str, heading: str
) -> None:
    """It listed the fentanyl duty and the Section 122 surcharge for Canada with no word that a USMCA claim
    makes them $0."""
    text, entries = show("--date", day, "--origin", "CA")
    rate = entries[measure]["charge"]["rate"]
    assert f"{heading}: {rate}; not on CA/MX goods claimed under USMCA (usmca_claim)" in text
    assert entries[measure]["charge"]["usmca_exempt"] is True
    line = {"arrival_date": day, "country_of_origin": "CA", "declared_value": "2000.00"}
    _, claimed = charged(us_pack, **line, usmca_claim="true")
    _, unclaimed = charged(us_pack, **line, usmca_claim="false")
    assert unclaimed[measure]["amount_usd"] > 0
    # The claimed line lists it at $0 (the run shows the exemption), as rules show says.
    assert claimed[measure]["amount_usd"] == Decimal("0.00")
    assert claimed[measure]["assumption"].startswith("exempt: USMCA claim")


def test_a_measure_says_which_duties_remove_it(us_pack: screening.RulePack) -> None:
    """Section 232 goods are exempt from Section 122 (``not_with``): nothing said so."""
    text, entries = show("--date", "2026-03-10", "--origin", "DE", "--mode", "express")
    assert (
        "s122 9903.03.01: 0.10; not charged on a line that also carries a duty of stacking group s232_steel, "
        "s232_aluminum, s232_copper, s232_metals, s232_autos or s232_wood" in text
    )
    charge = entries["s122-surcharge"]["charge"]
    assert charge["not_with"] == [
        "s232_steel",
        "s232_aluminum",
        "s232_copper",
        "s232_metals",
        "s232_autos",
        "s232_wood",
    ]
    assert (charge["stacking_group"], charge["priority"]) == ("s122", 100)
    # A USMCA claim on German goods counts for nothing: the exemption is not said for them.
    assert charge["usmca_exempt"] is True
    assert "USMCA" not in entries["s122-surcharge"]["summary"]
    # Measures of one group listed together: only the lowest priority on a line is charged.
    assert "stacking group s232_steel, priority 100 (of the group's measures on a line" in text
    steel = {"arrival_date": "2026-03-10", "country_of_origin": "DE", "hts_code": "7317.00.55"}
    _, components = charged(us_pack, **steel)
    assert "s232-steel-derivatives-ch73-50" in components
    assert components["s122-surcharge"]["amount_usd"] == Decimal("0.00")
    assert components["s122-surcharge"]["assumption"].startswith("exempt: not with stacking group s232_steel")
    _, shirt = charged(us_pack, arrival_date="2026-03-10", country_of_origin="DE")
    assert shirt["s122-surcharge"]["amount_usd"] > 0


def test_a_postal_regime_says_the_goods_that_cannot_use_it(us_pack: screening.RulePack) -> None:
    """AD/CVD steel nails from China by mail were shown the flat 10% postal regime as in force; a run gives
    them an informal entry with all their duties."""
    text, entries = show("--date", "2026-03-10", "--origin", "CN", "--hts", "7317.00.55", "--mode", "postal")
    regime = entries["postal-all-s122"]
    assert regime["summary"] == (
        "not for these goods (AD/CVD goods of never-eligible class adcvd-cn-steel-nails: a package with them "
        "cannot use the postal method and takes an informal or formal entry); flat-ad-valorem 0.10"
    )
    assert regime["summary"] in text
    assert regime["postal_use"] == {
        "excludes": ["dm-excluded-adcvd", "dm-excluded-quota"],
        "barred_by": ["adcvd-cn-steel-nails"],
        "open_by": [],
    }
    assert "replaced" not in entries["s301-list3-25"]["summary"]
    package, components = charged(
        us_pack, arrival_date="2026-03-10", country_of_origin="CN", hts_code="7317.00.55", mode="postal"
    )
    assert package["entry_type"] == "informal"
    assert "postal-all-s122" not in components
    assert "s301-list3-25" in components
    # The same goods of another origin use it.
    _, german = show("--date", "2026-03-10", "--origin", "DE", "--hts", "7317.00.55", "--mode", "postal")
    assert german["postal-all-s122"]["summary"] == "flat-ad-valorem 0.10"
    assert german["postal-all-s122"]["postal_use"]["barred_by"] == []
    # Without an origin, the class's origin is named.
    _, anywhere = show("--date", "2026-03-10", "--hts", "7317.00.55", "--mode", "postal")
    assert anywhere["postal-all-s122"]["summary"].startswith("not for these goods from CN (AD/CVD goods")
    # A short code over such goods and others: the longer code decides.
    _, nails = show("--date", "2026-03-10", "--origin", "CN", "--hts", "7317.00", "--mode", "postal")
    assert nails["postal-all-s122"]["summary"] == (
        "flat-ad-valorem 0.10; whether these goods may use it depends on the longer code: some goods under "
        "7317.00 are AD/CVD goods of never-eligible class adcvd-cn-steel-nails, and a package with them cannot "
        "use the postal method and takes an informal or formal entry"
    )
    assert nails["postal-all-s122"]["postal_use"]["open_by"] == ["adcvd-cn-steel-nails"]
    # Without --hts: which goods it excludes.
    text, every = show("--date", "2026-03-10", "--origin", "CN", "--mode", "postal")
    assert (
        "flat-ad-valorem 0.10; not for AD/CVD or quota goods (never-eligible dm-excluded-adcvd, "
        "dm-excluded-quota): a package with them cannot use the postal method and takes an informal or formal "
        "entry" in text
    )
    assert every["postal-all-s122"]["postal_use"] == {
        "excludes": ["dm-excluded-adcvd", "dm-excluded-quota"],
        "barred_by": None,
        "open_by": None,
    }


@pytest.mark.parametrize(
    ("day", "origin", "hts", "exempt", "because"),
    [
        ("2026-03-01", "DE", "7326.90.86", "s122-surcharge", "s232-steel-derivatives-ch73-50"),
        ("2025-05-01", "CA", "7208.51.00.30", "s232-steel-articles-25", "ieepa-fentanyl-ca-25-to-jun-3"),
    ],
)
def test_a_measure_a_stacking_group_removes_from_the_goods_is_listed_saying_so(
    us_pack: screening.RulePack, day: str, origin: str, hts: str, exempt: str, because: str
) -> None:
    """With ``--hts`` it listed only the measures a run charges: the Section 122 surcharge on a 232 steel
    derivative, or the 232 steel duty on Canadian steel before 2025-06-04, were missing, while a run shows them
    at $0 as exemptions (the README: it prints the stacking groups whose duty on the line removes a measure)."""
    text, entries = show("--date", day, "--origin", origin, "--hts", hts, "--mode", "express")
    charge = entries[exempt]["charge"]
    assert charge["exempt_here"] is not None
    assert f"({because} is on the line)" in charge["exempt_here"]
    assert f"not charged on these goods: {charge['exempt_here']}" in text
    assert entries[because]["charge"]["exempt_here"] is None
    _, components = charged(
        us_pack, arrival_date=day, country_of_origin=origin, hts_code=hts, declared_value="1000.00"
    )
    assert components[exempt]["amount_usd"] == Decimal("0.00")
    # A run may say more of the line (the non-metal content's duty on a content base).
    assert components[exempt]["assumption"].startswith(
        "exempt: " + charge["exempt_here"].split(", unless")[0]
    )
    assert components[because]["amount_usd"] > 0
    # Claimed under USMCA, Canadian goods owe no IEEPA duty, so the 232 duty is charged: said so.
    claim = ", unless the goods are claimed under USMCA (the claim spares them that duty)"
    assert charge["exempt_here"].endswith(claim) == (origin == "CA")
    if origin == "CA":
        _, claimed = charged(
            us_pack, arrival_date=day, country_of_origin=origin, hts_code=hts, declared_value="1000.00",
            usmca_claim="true",
        )  # fmt: skip
        assert claimed[exempt]["amount_usd"] > 0


def test_an_all_in_rate_shows_the_heading_of_the_line_s_mfn_rate(us_pack: screening.RulePack) -> None:
    """An EU T-shirt (MFN 16.5%) was shown under 9903.02.20, the heading for a column 1 rate under 15%, where
    9903.02.19 (15% or more, nothing added) is the heading a run reports."""
    text, entries = show("--date", "2025-09-10", "--origin", "DE", "--hts", "6109.10.00.12")
    assert (
        "ieepa_reciprocal 9903.02.19: 15% all-in: 15% less the line's MFN rate (not below 0); here 0% (MFN 16.5%)"
        in text
    )
    charge = entries["ieepa-reciprocal-eu-all-in"]["charge"]
    assert (charge["rate_here"], charge["heading_at_or_above_rate"]) == ("0", "9903.02.19")
    _, components = charged(us_pack, arrival_date="2025-09-10", hts_code="6109.10.00.12")
    assert components["ieepa-reciprocal-eu-all-in"]["heading"] == "9903.02.19"
    # Under 15%: the all-in heading; without a line, both.
    text, _ = show("--date", "2025-09-10", "--origin", "DE", "--hts", "6912.00.44.00")
    assert (
        "ieepa_reciprocal 9903.02.20: 15% all-in: 15% less the line's MFN rate (not below 0); here 5%" in text
    )
    assert "heading 9903.02.19 where" not in text
    text, _ = show("--date", "2025-09-10", "--origin", "DE")
    assert (
        "ieepa_reciprocal 9903.02.20: 15% all-in: 15% less the line's MFN rate (not below 0); heading 9903.02.19 "
        "where the line's MFN rate is 15% or more (nothing added)" in text
    )


def test_a_rule_in_doubt_shows_why_and_a_settled_one_does_not(us_pack: screening.RulePack) -> None:
    """`measure s122-surcharge conflict` was printed with no word on the conflict (the 15% announced, never
    proclaimed), and `--json` had no `note`: the reason behind `unconfirmed`/`conflict` was in no output."""
    text, entries = show(
        "--date", "2026-03-01", "--origin", "CN", "--hts", "6109.10.00.12", "--mode", "express"
    )
    note = entries["s122-surcharge"]["note"]
    assert "The 15% announced on 2026-02-21 was never proclaimed (CONFLICT in some sources)." in note
    assert f"why conflict: {note}" in text
    # A settled rule prints no note; --json carries every note there is.
    assert entries["mpf-informal-fy2026"]["confidence"] == "confirmed"
    assert "why confirmed" not in text
    assert entries["eo-2026-02-20-all"]["note"].startswith("After Learning Resources v. Trump")


def test_notes_sharing_a_long_ending_print_it_once(us_pack: screening.RulePack) -> None:
    """The 2026 Section 232 metals measures share some 1,800 characters of closing text: printed once, each
    later note up to where it parts from an earlier one, naming it (--json keeps every note whole)."""
    text, entries = show("--date", "2026-05-01", "--origin", "GB")
    shared = "Section 301 stacks."
    assert entries["s232-metals-gb-1a-25"]["note"].endswith(shared)
    assert text.count(shared) < sum(1 for e in entries.values() if (e["note"] or "").endswith(shared))
    assert "… (the rest as the note of s232-metals-" in text


def test_a_note_that_is_wholly_an_earlier_ones_ending_names_that_note() -> None:
    """A note equal to the ending of one printed before was cut at its first word (`Charged … (the rest as the
    note of a above)`): it now reads `as a above`."""
    from screening.rules_show import InForce, notes_shown

    note = "Charged as the pack reads it; " + "the same long closing text " * 10
    entries = [
        InForce("measure", rule_id, "", "unconfirmed", "", "", note=text)
        for rule_id, text in (("a", "Earlier. " + note), ("b", note))
    ]
    assert notes_shown(entries) == ["Earlier. " + note, "as a above"]


def test_a_suspension_exception_in_doubt_shows_why(us_pack: screening.RulePack) -> None:
    """The informational-materials exception to the suspension (unconfirmed) printed no reason, while the
    suspensions beside it did."""
    text, entries = show("--date", "2025-09-15", "--hts", "4901.99.00.93")
    note = entries["1702b-informational-materials"]["note"]
    assert f"why unconfirmed: {note}" in text


@pytest.mark.parametrize(
    ("day", "origin", "shown"),
    [
        # DOMAIN.md 1a, method B: $100 per item for CN/HK mail, 2025-05-02 to 08-28.
        ("2025-05-20", "CN", "flat-ad-valorem 0.54; or $100.00 per item (--postal-method specific)"),
        # From 2025-08-29: $80 / $160 / $200 by the origin's effective IEEPA rate (<16%, 16-25%, >25%).
        (
            "2025-09-20",
            "VN",
            "origin-rate 0.20 for VN; or per item by the origin's rate (--postal-method specific): $80.00 under"
            " 0.16, $160.00 up to 0.25, $200.00 over 0.25: $160.00 for VN",
        ),
        ("2025-09-20", "CN", "$200.00 over 0.25: $200.00 for CN"),
        ("2026-03-10", "CN", "flat-ad-valorem 0.10; not for"),
    ],
)
def test_a_postal_regime_shows_its_per_item_method(
    us_pack: screening.RulePack, day: str, origin: str, shown: str
) -> None:
    """`rules show` printed only a regime's ad valorem side (`postal-cn-hk-54 | flat-ad-valorem 0.54`), though the
    pack holds the per-item method and `--postal-method specific` charges it; the band shown is the one a run
    charges."""
    text, entries = show("--date", day, "--origin", origin, "--mode", "postal")
    (postal,) = (e for e in entries.values() if e["kind"] == "postal")
    assert shown in postal["summary"]
    assert shown in text
    if "$" not in shown:  # the flat 10% of 2026 offers no per-item method (DOMAIN.md 1a: none found)
        assert "per item" not in postal["summary"]
        return
    amount = Decimal(shown.rsplit("$", 1)[1].split(maxsplit=1)[0])
    screened = screening.screen(
        pl.DataFrame(
            [{**BASE_LINE, "arrival_date": day, "country_of_origin": origin, "mode": "postal"}],
            schema=dict.fromkeys(BASE_LINE, pl.String()),
        ),
        rules=us_pack,
        postal_method="specific",
    )
    assert screened.components.filter(pl.col("component") == "postal_specific")["amount_usd"].to_list() == [
        amount
    ]
