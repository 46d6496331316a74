"""Acceptance of the Chapter 99 measures (rules/us/measures): four hand-computed $100 t-shirt lines, the
Section 301 list dates before the MFN table starts, and the generated pack being reproducible.

Every expected amount is worked out by hand from the instruments (see each test's docstring), not copied
from the engine's output.
"""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import screening

from ..conftest import ROOT, US_PACK

Screen = Callable[..., screening.Result]
SHARED = ROOT.parent / "shared" / "data"


def _line_components(result: screening.Result) -> dict[str, tuple[str, str | None, Decimal]]:
    """measure_id -> (component, heading, amount) for the duty components of the only line."""
    duty = result.components.filter(pl.col("line_no").is_not_null())
    assert duty["citation"].null_count() == 0
    assert all(c.strip() for c in duty["citation"].to_list()), "every component carries a citation"
    return {r["measure_id"]: (r["component"], r["heading"], r["amount_usd"]) for r in duty.to_dicts()}


def _package(result: screening.Result) -> dict[str, object]:
    assert result.packages.height == 1
    return result.packages.row(0, named=True)


def test_de_t_shirt_on_2025_09_15_pays_mfn_only(screen_lines: Screen) -> None:
    """DE, $100 of 6109.10.00.12: MFN 16.5% = 16.50; the EU '15% all-in' reciprocal is 15% minus MFN,
    floored at 0, so 0.00 under 9903.02.19 (column 1 rate of 15% or more; 9903.02.20 is for a rate under 15%).
    Duty 16.50."""
    result = screen_lines(
        {"country_of_origin": "DE", "arrival_date": "2025-09-15", "declared_value": "100.00"}
    )
    package = _package(result)
    assert package["duty_status"] == "assessed"
    assert package["duty_usd"] == Decimal("16.50")
    assert _line_components(result) == {
        "mfn": ("mfn", "6109.10.00", Decimal("16.50")),
        "ieepa-reciprocal-eu-all-in": ("ieepa_reciprocal", "9903.02.19", Decimal("0.00")),
    }


def test_cn_t_shirt_on_2025_06_01_stacks_mfn_301_fentanyl_reciprocal(screen_lines: Screen) -> None:
    """CN, $100: MFN 16.50 + Section 301 List 4A 7.5% (9903.88.15) 7.50 + IEEPA fentanyl 20% (9903.01.24)
    20.00 + reciprocal 10% (9903.01.25, from 2025-05-14) 10.00 = 54.00."""
    result = screen_lines(
        {"country_of_origin": "CN", "arrival_date": "2025-06-01", "declared_value": "100.00"}
    )
    package = _package(result)
    assert package["duty_status"] == "assessed"
    assert package["duty_usd"] == Decimal("54.00")
    assert _line_components(result) == {
        "mfn": ("mfn", "6109.10.00", Decimal("16.50")),
        "s301-list4a": ("s301", "9903.88.15", Decimal("7.50")),
        "ieepa-fentanyl-cn-20": ("ieepa_fentanyl", "9903.01.24", Decimal("20.00")),
        "ieepa-reciprocal-baseline": ("ieepa_reciprocal", "9903.01.25", Decimal("10.00")),
    }


def test_cn_t_shirt_on_2026_03_10_pays_mfn_301_and_section_122(screen_lines: Screen) -> None:
    """CN, $100, after the IEEPA duties ended (2026-02-24): MFN 16.50 + 301 List 4A 7.50 + Section 122
    10% (9903.03.01) 10.00 = 34.00."""
    result = screen_lines(
        {"country_of_origin": "CN", "arrival_date": "2026-03-10", "declared_value": "100.00"}
    )
    package = _package(result)
    assert package["duty_status"] == "assessed"
    assert package["duty_usd"] == Decimal("34.00")
    assert _line_components(result) == {
        "mfn": ("mfn", "6109.10.00", Decimal("16.50")),
        "s301-list4a": ("s301", "9903.88.15", Decimal("7.50")),
        "s122-surcharge": ("s122", "9903.03.01", Decimal("10.00")),
    }


def test_vn_t_shirt_on_2025_09_15_pays_the_annex_i_rate(screen_lines: Screen) -> None:
    """VN, $100: MFN 16.50 + reciprocal Annex I 20% (9903.02.69, from 2025-08-07) 20.00 = 36.50."""
    result = screen_lines(
        {"country_of_origin": "VN", "arrival_date": "2025-09-15", "declared_value": "100.00"}
    )
    package = _package(result)
    assert package["duty_status"] == "assessed"
    assert package["duty_usd"] == Decimal("36.50")
    assert _line_components(result) == {
        "mfn": ("mfn", "6109.10.00", Decimal("16.50")),
        "ieepa-reciprocal-vn-annex-i": ("ieepa_reciprocal", "9903.02.69", Decimal("20.00")),
    }


def test_a_2026_metals_duty_on_goods_outside_the_metal_chapters_says_it_may_be_overstated(
    screen_lines: Screen,
) -> None:
    """9903.82.01 (no aluminum, steel or copper) and 9903.82.03 (outside chapters 72-74 and 76, listed metal
    under 15% of the weight) owe no metals duty, and the metal's weight is no manifest field: a CN laptop was
    charged 25% (9903.82.09) with no assumption. The measures whose lists reach outside the metal chapters now
    say so on the component; an Annex I-A steel article (chapter 72) owes the duty and says nothing more."""
    base = {"country_of_origin": "CN", "arrival_date": "2026-11-15", "declared_value": "1000.00"}
    laptop = screen_lines({**base, "hts_code": "8471.30.01.00", "description": "laptop"})
    metals = laptop.components.filter(pl.col("measure_id") == "s232-metals-1b-25").row(0, named=True)
    assert (metals["heading"], metals["amount_usd"]) == ("9903.82.09", Decimal("250.00"))
    assert "9903.82.01" in metals["assumption"]
    assert "9903.82.03" in metals["assumption"]
    assert "overstated" in metals["assumption"]
    steel = screen_lines({**base, "hts_code": "7208.10.15.00", "description": "hot-rolled steel coil"})
    sheet = steel.components.filter(pl.col("measure_id") == "s232-metals-1a-50").row(0, named=True)
    assert (sheet["amount_usd"], sheet["assumption"]) == (Decimal("500.00"), None)


def test_informational_materials_owe_no_ieepa_duty_and_report_their_own_headings(
    screen_lines: Screen,
) -> None:
    """50 U.S.C. 1702(b)(3) puts informational materials outside IEEPA, and the HTSUS gives them a heading beside
    each IEEPA duty (9903.01.22 CN/HK, .12 CA, .03 MX, .31 reciprocal, .80 BR, .89 IN). A $1,000 printed book
    (4901.99.00.93, MFN Free) on 2025-09-01 was charged the CN fentanyl 20% (200.00), CA 35%, MX 25% and BR 40%,
    while its reciprocal exemption cited Annex II's 9903.01.32. Now every IEEPA component is 0.00 under the
    informational heading; the CN book pays Section 301 List 4A 7.5% alone (75.00, not IEEPA), the others 0.00; a
    CN t-shirt beside it ($100) keeps its 20% (20.00) and 10% (10.00): MFN 16.50 + 301 7.50 + 30.00 = 54.00."""
    book = {"hts_code": "4901.99.00.93", "description": "printed book", "arrival_date": "2025-09-01",
            "declared_value": "1000.00"}  # fmt: skip
    origins = ("CN", "HK", "CA", "MX", "BR", "IN", "VN")
    result = screen_lines(
        *({**book, "package_id": o, "consignee_name": o, "country_of_origin": o} for o in origins),
        {
            "package_id": "CN-shirt",
            "consignee_name": "S",
            "country_of_origin": "CN",
            "arrival_date": "2025-09-01",
        },
    )
    duties = dict(result.packages.select("package_id", "duty_usd").iter_rows())
    assert duties == {"CN": Decimal("75.00"), "HK": Decimal("0.00"), "CA": Decimal("0.00"), "MX": Decimal("0.00"),
                      "BR": Decimal("0.00"), "IN": Decimal("0.00"), "VN": Decimal("0.00"),
                      "CN-shirt": Decimal("54.00")}  # fmt: skip
    ieepa = result.components.filter(pl.col("component").str.starts_with("ieepa_"))
    rows = {(r["package_id"], r["measure_id"]): (r["heading"], r["amount_usd"]) for r in ieepa.to_dicts()}
    zero = Decimal("0.00")
    expected = {
        ("CN", "ieepa-fentanyl-cn-20"): ("9903.01.22", zero),
        ("CN", "ieepa-reciprocal-baseline"): ("9903.01.31", zero),
        ("HK", "ieepa-fentanyl-cn-20"): ("9903.01.22", zero),
        ("CA", "ieepa-fentanyl-ca-35"): ("9903.01.12", zero),
        ("MX", "ieepa-fentanyl-mx-25"): ("9903.01.03", zero),
        ("BR", "ieepa-brazil-40"): ("9903.01.80", zero),
        ("BR", "ieepa-reciprocal-br-annex-i"): ("9903.01.31", zero),
        ("IN", "ieepa-india-russian-oil"): ("9903.01.89", zero),
        ("IN", "ieepa-reciprocal-in-annex-i"): ("9903.01.31", zero),
        ("VN", "ieepa-reciprocal-vn-annex-i"): ("9903.01.31", zero),
        ("CN-shirt", "ieepa-fentanyl-cn-20"): ("9903.01.24", Decimal("20.00")),
        ("CN-shirt", "ieepa-reciprocal-baseline"): ("9903.01.25", Decimal("10.00")),
    }
    assert {k: v for k, v in rows.items() if k in expected} == expected
    # The zero-rate marker of each line names the heading too; Annex II's 9903.01.32 is no longer cited.
    markers = {k: v for k, v in rows.items() if k[1].startswith("ieepa-1702b-informational-materials")}
    assert {package for package, _ in markers} == set(origins)
    assert all(amount == zero for _, amount in markers.values())
    assert markers[("CA", "ieepa-1702b-informational-materials-ca")][0] == "9903.01.12"
    assert "9903.01.32" not in ieepa["heading"].to_list()


def test_goods_of_united_states_origin_owe_no_reciprocal_duty_under_9903_01_34(screen_lines: Screen) -> None:
    """9903.01.25 excepts 'as provided for in heading 9903.01.34' (the U.S. content of articles, at least 20% of
    the value): returned American t-shirts ($1,000, 6109.10.00.12, MFN 16.5% = 165.00) on 2025-09-01 were charged
    the 10% baseline, 100.00. A product of the United States is all U.S. content: the baseline now shows 0.00
    under 9903.01.34, duty 165.00; the same goods of GB still pay the 10% (9903.02.66), 265.00."""
    shirts = {"arrival_date": "2025-09-01", "declared_value": "1000.00"}
    result = screen_lines(
        {
            **shirts,
            "package_id": "US",
            "consignee_name": "U",
            "country_of_origin": "US",
            "shipper_country": "GB",
        },
        {
            **shirts,
            "package_id": "GB",
            "consignee_name": "G",
            "country_of_origin": "GB",
            "shipper_country": "GB",
        },
    )
    duties = dict(result.packages.select("package_id", "duty_usd").iter_rows())
    assert duties == {"US": Decimal("165.00"), "GB": Decimal("265.00")}
    reciprocal = result.components.filter(pl.col("component") == "ieepa_reciprocal").sort(
        "package_id", "measure_id"
    )
    rows = [
        tuple(r) for r in reciprocal.select("package_id", "measure_id", "heading", "amount_usd").iter_rows()
    ]
    assert rows == [
        ("GB", "ieepa-reciprocal-gb-annex-i", "9903.02.66", Decimal("100.00")),
        ("US", "ieepa-reciprocal-baseline", "9903.01.34", Decimal("0.00")),
        ("US", "ieepa-reciprocal-us-content", "9903.01.34", Decimal("0.00")),
    ]


@pytest.mark.parametrize(
    ("hts", "before", "on", "measure", "amount"),
    [
        ("4011.30.00.10", "2018-07-05", "2018-07-06", "s301-list1", "250.00"),  # List 1, 25%
        ("3403.19.10.00", "2018-08-22", "2018-08-23", "s301-list2", "250.00"),  # List 2, 25%
        ("0203.29.20.00", "2018-09-23", "2018-09-24", "s301-list3-10", "100.00"),  # List 3, 10%
        ("0203.29.20.00", "2019-05-09", "2019-05-10", "s301-list3-25", "250.00"),  # List 3 raised to 25%
        ("0101.21.00.10", "2019-08-31", "2019-09-01", "s301-list4a-15", "150.00"),  # List 4A, 15%
        ("0101.21.00.10", "2020-02-13", "2020-02-14", "s301-list4a", "75.00"),  # List 4A cut to 7.5%
        ("8541.42.00.10", "2024-09-26", "2024-09-27", "s301-review-02", "500.00"),  # solar cells 50%
        ("8541.10.00.60", "2024-12-31", "2025-01-01", "s301-review-05", "500.00"),  # semiconductors 50%
    ],
)
def test_section_301_dates_before_the_mfn_table(
    screen_lines: Screen, hts: str, before: str, on: str, measure: str, amount: str
) -> None:
    """$1,000 of CN goods (over $800, so dutiable): the 301 component starts on its effective date. The MFN
    table starts in 2025, so these lines have no tariff line and no total; the Chapter 99 component is still
    listed (a rate change replaces the previous measure of the same heading)."""
    result = screen_lines(
        {"package_id": "B", "consignee_name": "B", "country_of_origin": "CN", "hts_code": hts,
         "arrival_date": before, "declared_value": "1000.00"},
        {"package_id": "O", "consignee_name": "O", "country_of_origin": "CN", "hts_code": hts,
         "arrival_date": on, "declared_value": "1000.00"},
    )  # fmt: skip
    s301 = result.components.filter(pl.col("component") == "s301")
    by_package = {r["package_id"]: (r["measure_id"], r["amount_usd"]) for r in s301.to_dicts()}
    assert by_package.get("O") == (measure, Decimal(amount))
    assert by_package.get("B", (None,))[0] != measure


def test_a_blank_usmca_claim_beside_a_given_one_keeps_the_line_s_measures(screen_lines: Screen) -> None:
    """CN t-shirt on 2025-06-01 ($100, duty 54.00 as above) screened beside a MX line with a USMCA claim.
    The CN line has no usmca_claim value (null, as an empty CSV cell reads); its Chapter 99 measures must
    still apply."""
    result = screen_lines(
        {"package_id": "CN", "consignee_name": "A", "country_of_origin": "CN", "arrival_date": "2025-06-01",
         "declared_value": "100.00", "usmca_claim": None},
        {"package_id": "MX", "consignee_name": "B", "country_of_origin": "MX", "arrival_date": "2026-03-10",
         "declared_value": "100.00", "usmca_claim": "true"},
    )  # fmt: skip
    duties = dict(result.packages.select("package_id", "duty_usd").iter_rows())
    assert duties == {"CN": Decimal("54.00"), "MX": Decimal("0.00")}


@pytest.mark.skipif(not (SHARED / "tariff_programs_yale").is_dir(), reason="../shared/data not available")
def test_the_measures_folder_is_what_the_build_script_writes(tmp_path: Path) -> None:
    """tools/build_us_measures.py regenerates rules/us/measures byte for byte from ../shared/data."""
    pack = tmp_path / "us"
    (pack / "measures").mkdir(parents=True)
    shutil.copy(US_PACK / "measures" / "PROVENANCE.md", pack / "measures" / "PROVENANCE.md")
    script = ROOT / "tools" / "build_us_measures.py"
    subprocess.run(
        [sys.executable, str(script), "--shared", str(SHARED), "--pack", str(pack)],
        check=True,
        capture_output=True,
    )
    built = sorted(p.name for p in (pack / "measures").iterdir())
    shipped = sorted(p.name for p in (US_PACK / "measures").iterdir())
    assert built == shipped
    _match, mismatch, errors = filecmp.cmpfiles(
        pack / "measures", US_PACK / "measures", shipped, shallow=False
    )
    assert (mismatch, errors) == ([], [])


def test_every_ad_cvd_order_is_also_a_coverage_gap(us_pack: screening.RulePack) -> None:
    """An AD/CVD order's cash deposit is owed but not in the pack: its scope is a gap, so its lines are
    ``pack-incomplete`` rather than a total short of the deposit (DOMAIN.md 0.4 and 3a)."""
    orders = [r for r in us_pack.de_minimis.never_eligible if r.reason == "dm-excluded-adcvd"]
    gaps = {g.id: g for g in us_pack.tariff.gaps if g.component == "adcvd"}
    assert orders
    assert set(gaps) == {f"gap-{o.id}" for o in orders}
    for order in orders:
        gap = gaps[f"gap-{order.id}"]
        assert gap.origins == order.origins
        assert gap.hts_include == order.hts_prefixes
        assert (gap.effective_from, gap.effective_to) == (order.effective_from, order.effective_to)
        assert gap.confidence == order.confidence


def test_a_rule_whose_facts_are_not_in_domain_md_is_unconfirmed_and_cites_no_tag_of_it(
    us_pack: screening.RulePack,
) -> None:
    """pack.toml: a rule whose note says "NOT in DOMAIN.md" is unconfirmed, and one citing no DOMAIN.md tag is not
    confirmed. The Swiss 15% all-in of 2025-11-14 was confirmed, citing S18/S113/S99 (an August 2025 source and the
    tags of its Section 232 exemption heading, none of which supports a November fact); its 39% before it was
    confirmed with an end date from the Yale tracker alone; the Japanese vehicle rate was confirmed from a start
    date DOMAIN.md does not give; the USMCA-content gap's scope rests on a U.S. note the data lack."""
    rules = {r.id: r for r in us_pack.all_rules()}
    for rule in rules.values():
        if "NOT in DOMAIN.md" in (rule.note or "") or not rule.citation.sources:
            assert rule.confidence != "confirmed", rule.id
    for rule_id in ("ieepa-reciprocal-ch-all-in", "ieepa-reciprocal-li-all-in", "ieepa-reciprocal-kr-all-in"):
        assert rules[rule_id].citation.sources == (), rule_id
        assert "NOT in DOMAIN.md" in (rules[rule_id].note or "")
    for rule_id in ("ieepa-reciprocal-ch-annex-i", "s232-autos-jp", "gap-s232-autos-usmca-content"):
        assert rules[rule_id].confidence == "unconfirmed", rule_id
        assert "NOT in DOMAIN.md" in (rules[rule_id].note or ""), rule_id
    # DOMAIN.md's own Annex I origins keep their tags; the exemption heading's tags stay with them.
    assert {"S113", "S99"} <= set(rules["ieepa-reciprocal-vn-annex-i"].citation.sources)


def test_the_cn_fentanyl_heading_records_its_conflict_with_the_htsus_texts(
    us_pack: screening.RulePack,
) -> None:
    """DOMAIN.md 3b gives 9903.01.24 in every period; the HTSUS texts have 9903.01.20 (+10%, note 2(s)) and
    9903.01.24 (+10%, note 2(u)). The heading shown stays DOMAIN.md's and the amount keeps its confidence, as for
    Canada's 9903.01.26; the notes say which heading the texts point to."""
    measures = {m.id: m for m in us_pack.tariff.measures}
    for measure_id in ("ieepa-fentanyl-cn-10", "ieepa-fentanyl-cn-20"):
        measure = measures[measure_id]
        assert (measure.heading, measure.confidence) == ("9903.01.24", "confirmed")
        assert "CONFLICT" in (measure.note or "")
        assert "February's 10% was 9903.01.20" in (measure.note or "")
    assert "9903.01.20" in (measures["ieepa-fentanyl-cn-10-nov"].note or "")


def test_a_measure_beside_the_gap_owed_in_its_place_says_its_amount_may_not_be_owed(
    screen_lines: Screen,
) -> None:
    """CA crude oil paid the 10% energy rate, a coverage gap (gap-ieepa-ca-energy-potash), not the 25%
    fentanyl duty: the line's duty was rightly open, but the 25% component showed $250.00 as a settled amount
    with no assumption. It keeps its amount and now names the gap; a CA line outside the gap says nothing."""
    base = {
        "country_of_origin": "CA",
        "arrival_date": "2025-06-01",
        "mode": "cargo",
        "declared_value": "1000.00",
    }
    crude = screen_lines({**base, "hts_code": "2709.00.20.00", "description": "crude oil", "quantity": "5"})
    assert _package(crude)["duty_status"] == "pack-incomplete"
    assert crude.lines["duty_usd"].to_list() == [None]
    fentanyl = crude.components.filter(pl.col("measure_id") == "ieepa-fentanyl-ca-25-to-jun-3").row(
        0, named=True
    )
    assert fentanyl["amount_usd"] == Decimal("250.00")
    assert fentanyl["assumption"].startswith("line in coverage gap gap-ieepa-ca-energy-potash:")
    assert "may not be what is owed" in fentanyl["assumption"]
    shirt = screen_lines({**base, "description": "cotton t-shirt"})
    outside = shirt.components.filter(pl.col("measure_id") == "ieepa-fentanyl-ca-25-to-jun-3").row(
        0, named=True
    )
    assert (outside["amount_usd"], outside["assumption"]) == (Decimal("250.00"), None)


def test_an_ad_cvd_line_shows_the_duties_it_knows_and_no_total(screen_lines: Screen) -> None:
    result = screen_lines(
        {
            "country_of_origin": "CN",
            "hts_code": "0409.00.00.35",
            "description": "natural honey, 1 kg jar",
            "declared_value": "30.00",
            "arrival_date": "2026-11-23",
            "gross_weight_kg": "1.00",
        }
    )
    package = _package(result)
    assert package["de_minimis_reason"] == "dm-suspended-all"
    assert package["duty_status"] == "pack-incomplete"
    assert package["duty_usd"] is None
    assert package["total_due_usd"] is None
    components = result.components
    assert "gap-adcvd-cn-honey" in components["measure_id"].to_list()
    assert {"mfn", "s301-list3-25"} <= set(components["measure_id"].to_list())
    assert package["queue"] == "revenue-review"


def test_a_hong_kong_line_on_a_301_list_shows_the_unsettled_coverage(screen_lines: Screen) -> None:
    """DOMAIN.md 3a: whether Section 301 covers HK-origin goods is UNCONFIRMED. Not charged, but visible, and the
    row says why it is 0 (its citation is the list's, which imposes 7.5%)."""
    result = screen_lines({"country_of_origin": "HK", "arrival_date": "2026-11-23"})
    components = {r["measure_id"]: r for r in result.components.to_dicts()}
    assert components["s301-list4a-hk"]["amount_usd"] == Decimal("0.00")
    assert components["s301-list4a-hk"]["confidence"] == "unconfirmed"
    assert components["s301-list4a-hk"]["assumption"] == (
        "Hong Kong-origin coverage UNCONFIRMED (DOMAIN.md 3a): not charged; if covered, 7.5% as s301-list4a"
    )
    assert _package(result)["duty_usd"] == Decimal("16.50")
    china = screen_lines({"country_of_origin": "CN", "arrival_date": "2026-11-23"})
    assert "s301-list4a" in china.components["measure_id"].to_list()
    assert not [m for m in china.components["measure_id"].to_list() if m.endswith("-hk")]


def test_a_postal_line_under_the_all_duties_regime_names_the_unsettled_regime(screen_lines: Screen) -> None:
    """DOMAIN.md 0.13: the duty basis for mail from 2026-07-24 is UNCONFIRMED, and the form of the rule that makes
    the regime (interim final or proposed) a CONFLICT (DOMAIN.md 8): the regime shows on the line as `conflict`."""
    result = screen_lines({"mode": "postal", "arrival_date": "2026-11-23"})
    components = {r["component"]: r for r in result.components.to_dicts()}
    regime = components["postal_regime"]
    assert regime["measure_id"] == "postal-informal-entry"
    assert regime["amount_usd"] == Decimal("0.00")
    assert regime["confidence"] == "conflict"
    assert components["mfn"]["amount_usd"] == Decimal("16.50")
    flat = screen_lines({"mode": "postal", "arrival_date": "2026-03-10"})
    assert "postal_regime" not in flat.components["component"].to_list()
    assert "postal_ad_valorem" in flat.components["component"].to_list()


def test_lines_after_the_section_122_window_show_its_unsettled_lapse(screen_lines: Screen) -> None:
    """DOMAIN.md 0.12: that the surcharge simply lapsed on 2026-07-24 is UNCONFIRMED: 0, visible, same scope."""
    result = screen_lines({"arrival_date": "2026-11-23"})
    components = {r["measure_id"]: r for r in result.components.to_dicts()}
    assert components["s122-after-2026-07-24"]["amount_usd"] == Decimal("0.00")
    assert components["s122-after-2026-07-24"]["confidence"] == "unconfirmed"
    # The row cites the statute's 150-day limit (DOMAIN.md 1, 2026-07-24), not the proclamation that imposed 10%,
    # and says why it is 0.
    assert str(components["s122-after-2026-07-24"]["citation"]).startswith(
        "Trade Act of 1974 sec. 122 (19 U.S.C. 2132), statutory 150-day limit"
    )
    assert components["s122-after-2026-07-24"]["assumption"].startswith(
        "surcharge presumed lapsed on 2026-07-24"
    )
    assert "least-sure fact 1" in components["s122-after-2026-07-24"]["assumption"]
    assert _package(result)["duty_usd"] == Decimal("16.50")
    before = screen_lines({"arrival_date": "2026-07-23"})
    assert "s122-surcharge" in before.components["measure_id"].to_list()
    # A USMCA claim spares CA goods (9903.03.07): the measure shows as their exemption, not as a rate of 0.
    usmca = screen_lines({"arrival_date": "2026-11-23", "country_of_origin": "CA", "usmca_claim": "true"})
    spared = usmca.components.filter(pl.col("measure_id") == "s122-after-2026-07-24").row(0, named=True)
    assert (spared["heading"], spared["rate"], spared["amount_usd"]) == ("9903.03.07", 0, Decimal("0.00"))
    assert spared["assumption"].startswith("exempt: USMCA claim")


def _duty_rows(result: screening.Result) -> list[tuple[object, ...]]:
    """The only line's duty components: (component, measure, heading, base, rate, amount, assumption)."""
    duty = result.components.filter(pl.col("line_no").is_not_null()).sort("component", "measure_id")
    columns = ("component", "measure_id", "heading", "base_usd", "rate", "amount_usd", "assumption")
    return [tuple(r) for r in duty.select(columns).iter_rows()]


CLAIMED = "exempt: USMCA claim (the measure exempts goods claimed under USMCA)"


def test_a_usmca_claim_shows_the_measure_it_spares_at_0_with_the_exemption_s_heading(
    screen_lines: Screen,
) -> None:
    """A reviewer could not justify a duty left out: CA goods claimed under USMCA on 2025-03-10 ($900) had no
    IEEPA CA component and nothing saying why. The 25% (9903.01.10) spares USMCA goods from 2025-03-07; DOMAIN.md
    3b gives them heading 9903.01.26, which the HTSUS text contradicts (9903.01.14 is the USMCA heading): no
    heading is written. The claimed line now shows it at 0, saying why; its duty stays 0.00 (USMCA
    rate Free), the unclaimed line's 148.50 + 225.00. Section 122 (2026-03-10) spares USMCA goods of CA
    (9903.03.07) and MX (9903.03.08), DOMAIN.md 3f."""
    base = {"arrival_date": "2025-03-10", "declared_value": "900.00", "country_of_origin": "CA"}
    claimed = screen_lines({**base, "usmca_claim": "true"})
    assert _package(claimed)["duty_status"] == "assessed"
    assert _package(claimed)["duty_usd"] == Decimal("0.00")
    assert _duty_rows(claimed) == [
        (
            "ieepa_fentanyl",
            "ieepa-fentanyl-ca-25-to-jun-3",
            None,
            Decimal("900.00"),
            0,
            Decimal("0.00"),
            CLAIMED,
        ),
        ("mfn", "usmca", "6109.10.00", Decimal("900.00"), 0, Decimal("0.00"), None),
    ]
    plain = screen_lines({**base, "usmca_claim": "false"})
    assert _package(plain)["duty_usd"] == Decimal("373.50")
    assert _duty_rows(plain) == [
        ("ieepa_fentanyl", "ieepa-fentanyl-ca-25-to-jun-3", "9903.01.10", Decimal("900.00"), Decimal("0.25"),
         Decimal("225.00"), None),
        ("mfn", "mfn", "6109.10.00", Decimal("900.00"), Decimal("0.165"), Decimal("148.50"), None),
    ]  # fmt: skip
    for origin, heading in (("CA", "9903.03.07"), ("MX", "9903.03.08")):
        surcharge = screen_lines({**base, "arrival_date": "2026-03-10", "country_of_origin": origin,
                                  "usmca_claim": "true"})  # fmt: skip
        assert _package(surcharge)["duty_usd"] == Decimal("0.00")
        assert _duty_rows(surcharge) == [
            ("mfn", "usmca", "6109.10.00", Decimal("900.00"), 0, Decimal("0.00"), None),
            ("s122", "s122-surcharge", heading, Decimal("900.00"), 0, Decimal("0.00"), CLAIMED),
        ]


def test_a_measure_a_stacking_rule_takes_off_shows_at_0_naming_the_group_and_the_exemption_s_heading(
    screen_lines: Screen,
) -> None:
    """Section 122 is not charged on Section 232 goods (9903.03.06, DOMAIN.md 3e/3f), nor the reciprocal duty
    (9903.01.33, DOMAIN.md 3c), nor the IEEPA MX duty (EO 14289: the 232 steel duty ranks first; DOMAIN.md gives
    no heading). Each showed nothing; now each shows at 0 naming the group and its measure on the line, the
    duty unchanged: CN nails (7317.00.55, 2026-03-10) stay pack-incomplete (AD/CVD order), DE and MX steel
    coil (7208.10.15.00, MFN Free, 2025-07-01) owe the 50% steel duty alone, 450.00."""
    nails = screen_lines({"country_of_origin": "CN", "hts_code": "7317.00.55", "description": "steel nails",
                          "arrival_date": "2026-03-10", "declared_value": "900.00"})  # fmt: skip
    assert (_package(nails)["duty_status"], _package(nails)["duty_usd"]) == ("pack-incomplete", None)
    s122 = nails.components.filter(pl.col("component") == "s122")
    assert [tuple(r) for r in s122.select("measure_id", "heading", "rate", "amount_usd", "assumption").rows()] == [
        ("s122-surcharge", "9903.03.06", 0, Decimal("0.00"),
         "exempt: not with stacking group s232_steel (s232-steel-derivatives-ch73-50 is on the line), on the metal "
         "content only (that group's base); the duty on the non-metal content is not computed (coverage gap "
         "gap-s232-non-metal-content)"),
    ]  # fmt: skip
    coil = {"hts_code": "7208.10.15.00", "description": "hot-rolled steel coil", "arrival_date": "2025-07-01",
            "declared_value": "900.00"}  # fmt: skip
    steel = (
        "s232",
        "s232-steel-articles-50",
        "9903.81.87",
        Decimal("900.00"),
        Decimal("0.5"),
        Decimal("450.00"),
        None,
    )
    mfn = ("mfn", "mfn", "7208.10.15.00", Decimal("900.00"), 0, Decimal("0.00"), None)
    because = "exempt: not with stacking group s232_steel (s232-steel-articles-50 is on the line)"
    for origin, spared in (
        ("DE", ("ieepa_reciprocal", "ieepa-reciprocal-baseline", "9903.01.33")),
        ("MX", ("ieepa_fentanyl", "ieepa-fentanyl-mx-25", None)),
    ):
        result = screen_lines({**coil, "country_of_origin": origin})
        assert (_package(result)["duty_status"], _package(result)["duty_usd"]) == (
            "assessed",
            Decimal("450.00"),
        )
        assert _duty_rows(result) == [(*spared, Decimal("900.00"), 0, Decimal("0.00"), because), mfn, steel]


def test_before_june_4_2025_the_ca_mx_duty_takes_precedence_over_232_steel(screen_lines: Screen) -> None:
    """EO 14289 as first issued (for entries from 2025-03-04) ranked the IEEPA CA/MX duty above Section 232
    steel/aluminum; the revision DOMAIN.md dates 2025-06-04 reversed it. The amended order was applied on every
    date, so Canadian or Mexican steel in May 2025 showed the IEEPA duty exempt and the 232 duty charged (a refund
    of IEEPA duties summed $0), and a steel derivative of 40% steel content owed $129 instead of $279."""
    coil = {"hts_code": "7208.10.15.00", "description": "hot-rolled steel coil", "arrival_date": "2025-05-01",
            "declared_value": "900.00", "country_of_origin": "MX"}  # fmt: skip
    because = "exempt: not with stacking group ieepa_ca_mx (ieepa-fentanyl-mx-25-to-jun-3 is on the line)"
    assert _duty_rows(screen_lines(coil)) == [
        ("ieepa_fentanyl", "ieepa-fentanyl-mx-25-to-jun-3", "9903.01.01", Decimal("900.00"), Decimal("0.25"),
         Decimal("225.00"), None),
        ("mfn", "mfn", "7208.10.15.00", Decimal("900.00"), 0, Decimal("0.00"), None),
        ("s232", "s232-steel-articles-25", None, Decimal("900.00"), 0, Decimal("0.00"), because),
    ]  # fmt: skip
    # Claimed under USMCA, the goods owe no IEEPA duty, and the 232 duty is charged.
    claimed = screen_lines({**coil, "usmca_claim": "true"})
    assert (_package(claimed)["duty_usd"], _package(claimed)["duty_status"]) == (
        Decimal("225.00"),
        "assessed",
    )
    assert (
        "s232-steel-articles-25"
        in claimed.components.filter(pl.col("amount_usd") > 0)["measure_id"].to_list()
    )
    brackets = {"country_of_origin": "CA", "hts_code": "7326.90.86", "description": "steel brackets",
                "declared_value": "1000.00", "metal_content_share": "0.4"}  # fmt: skip
    derivative = screen_lines({**coil, **brackets})
    assert (_package(derivative)["duty_usd"], _package(derivative)["duty_status"]) == (
        Decimal("279.00"),
        "assessed",
    )
    # From 2025-06-04 the order is the amended one: 232 steel, no IEEPA duty.
    june = screen_lines({**coil, "arrival_date": "2025-06-04"})
    assert _package(june)["duty_usd"] == Decimal("450.00")


SHORT_CODE = (
    "the measure lists some of the goods under the declared code and not others: whether it applies depends on "
    "the longer code, not declared"
)
OPEN_STEEL = (
    "owed unless the longer code is under stacking group s232_steel (s232-steel-derivatives-inclusions-50 lists "
    "some of the goods under the declared code and not others, and this measure is not with that group): "
    "depends on the longer code, not declared"
)


@pytest.mark.parametrize(
    ("origin", "kept"),
    [
        ("VN", ("ieepa_reciprocal", "ieepa-reciprocal-vn-annex-i", "9903.02.69", Decimal("0.2"))),
        ("CA", ("ieepa_fentanyl", "ieepa-fentanyl-ca-35", "9903.01.10", Decimal("0.35"))),
    ],
)
def test_a_duty_kept_off_by_a_232_duty_a_short_code_leaves_open_is_shown_open(
    screen_lines: Screen, origin: str, kept: tuple[str, str, str, Decimal]
) -> None:
    """A refunds analyst summing IEEPA duty by program lost these lines: 8307.10 ($1000, 2025-09-10) covers
    8307.10.30 (on no 232 list: reciprocal 20% for VN, 9903.02.69; IEEPA CA 35%) and 8307.10.60 (steel
    derivative inclusions, 9903.81.91). The 232 duty was shown open, and the IEEPA duty, not_with its group,
    not at all. It is now shown open too, saying which group would keep it off; the line stays
    needs-longer-hts with no duty."""
    line = {"arrival_date": "2025-09-10", "hts_code": "8307.10", "description": "flexible tubing",
            "quantity": "10", "gross_weight_kg": "2", "declared_value": "1000.00", "country_of_origin": origin,
            "shipper_country": origin}  # fmt: skip
    result = screen_lines(line)
    assert (_package(result)["duty_status"], _package(result)["duty_usd"]) == ("needs-longer-hts", None)
    assert result.lines["duty_status"].to_list() == ["needs-longer-hts"]
    assert _duty_rows(result) == [
        (*kept[:3], Decimal("1000.00"), kept[3], None, OPEN_STEEL),
        ("mfn", "mfn", "8307.10.30.00", Decimal("1000.00"), Decimal("0.038"), Decimal("38.00"), None),
        ("s232", "gap-s232-non-metal-content", None, Decimal("1000.00"), None, None, SHORT_CODE),
        ("s232", "s232-steel-derivatives-inclusions-50", "9903.81.91", Decimal("1000.00"), Decimal("0.5"), None,
         SHORT_CODE),
    ]  # fmt: skip
    settled = screen_lines({**line, "hts_code": "8307.10.30"})
    assert _duty_rows(settled)[0] == (*kept[:3], Decimal("1000.00"), kept[3], kept[3] * 1000, None)


def test_an_exemption_beside_the_non_metal_gap_is_on_the_metal_content(screen_lines: Screen) -> None:
    """CN steel kitchenware (7323.93.00, $1000, 40% metal content, 2025-09-10): the 50% steel derivative duty is
    on the $400 of metal content, and the non-metal $600 owes the reciprocal duty, which the pack does not
    compute (gap-s232-non-metal-content). The reciprocal row claimed exemption on the full $1000; it is now
    on the $400 and names the gap, which says what it stands for. Duties and status are unchanged."""
    result = screen_lines({"country_of_origin": "CN", "shipper_country": "CN", "arrival_date": "2025-09-10",
                           "hts_code": "7323.93.00", "description": "steel pot", "quantity": "10",
                           "gross_weight_kg": "2", "declared_value": "1000.00", "metal_content_share": "0.4"})  # fmt: skip
    assert (_package(result)["duty_status"], _package(result)["duty_usd"]) == ("pack-incomplete", None)
    assert _duty_rows(result) == [
        ("ieepa_fentanyl", "ieepa-fentanyl-cn-20", "9903.01.24", Decimal("1000.00"), Decimal("0.2"),
         Decimal("200.00"), None),
        ("ieepa_reciprocal", "ieepa-reciprocal-baseline", "9903.01.33", Decimal("400.00"), 0, Decimal("0.00"),
         "exempt: not with stacking group s232_steel (s232-steel-derivatives-ch73-50 is on the line), on the "
         "metal content only (that group's base); the duty on the non-metal content is not computed (coverage "
         "gap gap-s232-non-metal-content)"),
        ("mfn", "mfn", "7323.93.00", Decimal("1000.00"), Decimal("0.02"), Decimal("20.00"), None),
        ("s232", "gap-s232-non-metal-content", None, Decimal("600.00"), None, None,
         "stands for the duties owed on the non-metal content (value x (1 - metal content share)), not "
         "computed: ieepa-reciprocal-baseline (shown exempt on the metal content)"),
        ("s232", "s232-steel-derivatives-ch73-50", "9903.81.89", Decimal("400.00"), Decimal("0.5"),
         Decimal("200.00"), None),
    ]  # fmt: skip
    # All metal content: no gap, and the exemption holds on the whole value.
    whole = screen_lines({"country_of_origin": "CN", "shipper_country": "CN", "arrival_date": "2025-09-10",
                          "hts_code": "7323.93.00", "description": "steel pot", "quantity": "10",
                          "gross_weight_kg": "2", "declared_value": "1000.00", "metal_content_share": "1"})  # fmt: skip
    assert [r for r in _duty_rows(whole) if r[0] in ("ieepa_reciprocal", "s232")] == [
        ("ieepa_reciprocal", "ieepa-reciprocal-baseline", "9903.01.33", Decimal("1000.00"), 0, Decimal("0.00"),
         "exempt: not with stacking group s232_steel (s232-steel-derivatives-ch73-50 is on the line)"),
        ("s232", "s232-steel-derivatives-ch73-50", "9903.81.89", Decimal("1000.00"), Decimal("0.5"),
         Decimal("500.00"), None),
    ]  # fmt: skip


@pytest.mark.parametrize(("day", "line"), [("2025-12-31", "0709.70.00.00"), ("2026-01-01", "0709.70.00")])
def test_a_tariff_revision_ends_the_day_before_the_next_begins(
    screen_lines: Screen, day: str, line: str
) -> None:
    """2025 Rev 32 rates 0709.70.00.00 on its own line; 2026 Rev 10 (from 2026-01-01) only at 8 digits:
    periods are half-open, so on 2026-01-01 only the 2026 line is in force."""
    result = screen_lines({"hts_code": "0709.70.00.00", "description": "spinach", "arrival_date": day})
    mfn = result.components.filter(pl.col("measure_id") == "mfn")
    assert mfn["heading"].to_list() == [line]
