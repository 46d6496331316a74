"""Measures in measures/*.toml files, scoped by prefix tables, apply exactly to their HTS scope."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import screening
from screening.errors import RulePackError
from screening.rules_show import rules_in_force
from screening.stages import assess

from ..conftest import BASE_LINE, US_PACK

MEASURE = """
[[measures]]
id = "test-duty"
component = "test_duty"
heading = "9903.99.99"
origins = ["DE"]
rate = "0.25"
stacking_group = "test"
hts_include_file = "measures/test_scope.csv"
hts_exclude = ["6109100040"]
effective_from = 2025-01-01
citation = { instrument = "Test instrument (synthetic)" }
"""


def pack_with_measure(tmp_path: Path, scope_csv: str, measure: str = MEASURE) -> screening.RulePack:
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures").mkdir(exist_ok=True)
    (root / "measures" / "test.toml").write_text(measure)
    (root / "measures" / "test_scope.csv").write_text(scope_csv)
    declare_test_group(root)
    return screening.load_rules(root)


def declare_test_group(root: Path) -> None:
    """A pack that declares its stacking groups needs the test measures' group declared."""
    tariff = root / "tariff.toml"
    tariff.write_text(tariff.read_text().replace("[stacking_groups]\n", '[stacking_groups]\ntest = "test"\n'))


def test_measure_applies_to_included_prefixes_minus_exclusions(tmp_path: Path) -> None:
    pack = pack_with_measure(tmp_path, "hts_prefix\n6109\n9503000073\n")
    lines = [
        {"package_id": "T1", "hts_code": "6109.10.00.12"},  # included by 6109
        {"package_id": "T2", "hts_code": "6109.10.00.40"},  # excluded
        {"package_id": "T3", "hts_code": "9503.00.00.73"},  # included exactly
        {"package_id": "T4", "hts_code": "9503.00.00.90"},  # not listed
    ]
    rows = [{**BASE_LINE, "declared_value": "1000", "consignee_name": r["package_id"], **r} for r in lines]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    applied = result.components.filter(pl.col("measure_id") == "test-duty")
    assert dict(applied.select("package_id", "amount_usd").iter_rows()) == {
        "T1": Decimal("250.00"),
        "T3": Decimal("250.00"),
    }
    assert set(applied["citation"]) == {"Test instrument (synthetic)"}


def test_a_measure_s_own_assumption_rides_on_its_components_unless_a_more_specific_one_applies(
    tmp_path: Path,
) -> None:
    """The 2026 metals duties were charged on every listed line with no assumption, though the pack knows a
    line may owe nothing (a fact no manifest field gives): a measure's ``assumption`` now says so on each of its
    components, and an assumption of the engine about the line itself (a metal share not given) comes first."""
    said = "owes nothing when the article is not what the manifest can show"
    measure = MEASURE.replace(
        'stacking_group = "test"', f'stacking_group = "test"\nbase = "metal_content"\nassumption = "{said}"'
    )
    pack = pack_with_measure(tmp_path, "hts_prefix\n6109\n", measure)
    rows = [
        {
            **BASE_LINE,
            "declared_value": "1000",
            "package_id": p,
            "consignee_name": p,
            "metal_content_share": share,
        }
        for p, share in (("GIVEN", 0.4), ("NOT-GIVEN", None))
    ]
    frame = pl.DataFrame(rows).with_columns(pl.col("metal_content_share").cast(pl.Float64()))
    result = screening.screen(frame, rules=pack)
    applied = result.components.filter(pl.col("measure_id") == "test-duty").sort("package_id")
    assert applied.select("package_id", "amount_usd", "assumption").rows() == [
        ("GIVEN", Decimal("100.00"), said),
        ("NOT-GIVEN", Decimal("250.00"), "metal content share not given: full value assumed"),
    ]


def test_a_gap_owed_in_place_of_a_group_marks_that_group_s_components_only_on_lines_in_the_gap(
    tmp_path: Path,
) -> None:
    """A measure beside a gap owed in its place kept a settled-looking amount. Now its component names the gap;
    a line that is all metal is not in a gap on the non-metal content, and its measure says nothing more."""
    gap = (
        '\n[[gaps]]\nid = "test-gap"\ncomponent = "test_duty"\norigins = ["DE"]\nhts_include = ["6109"]\n'
        'base = "non_metal_content"\nin_place_of = "test"\neffective_from = 2025-01-01\n'
        'citation = { instrument = "Test instrument (synthetic)" }\n'
    )
    pack = pack_with_measure(tmp_path, "hts_prefix\n6109\n", MEASURE + gap)
    rows = [
        {
            **BASE_LINE,
            "declared_value": "1000",
            "package_id": p,
            "consignee_name": p,
            "metal_content_share": share,
        }
        for p, share in (("PART-METAL", 0.5), ("ALL-METAL", 1.0))
    ]
    frame = pl.DataFrame(rows).with_columns(pl.col("metal_content_share").cast(pl.Float64()))
    result = screening.screen(frame, rules=pack)
    assert dict(result.packages.select("package_id", "duty_status").iter_rows()) == {
        "PART-METAL": "pack-incomplete",
        "ALL-METAL": "assessed",
    }
    applied = result.components.filter(pl.col("measure_id") == "test-duty").sort("package_id")
    assert applied["amount_usd"].to_list() == [Decimal("250.00"), Decimal("250.00")]
    assert applied["assumption"][0] is None
    assert applied["assumption"][1].startswith("line in coverage gap test-gap:")


def test_a_malformed_prefix_table_names_the_file_and_measure(tmp_path: Path) -> None:
    with pytest.raises(RulePackError) as caught:
        pack_with_measure(tmp_path, "hts_prefix\n61.09\n")
    assert "test_scope.csv" in str(caught.value)
    assert "test-duty" in str(caught.value)


def test_an_id_repeated_across_measure_files_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures").mkdir(exist_ok=True)
    (root / "measures" / "dup.toml").write_text(
        MEASURE.replace("test-duty", "s122-surcharge").replace(
            'hts_include_file = "measures/test_scope.csv"\n', ""
        )
    )
    with pytest.raises(RulePackError) as caught:
        screening.load_rules(root)
    assert "dup.toml" in str(caught.value)
    assert "s122-surcharge" in str(caught.value)


def test_a_dated_scope_row_counts_only_inside_its_period(tmp_path: Path) -> None:
    pack = pack_with_measure(tmp_path, "hts_prefix,effective_from,effective_to\n6109,2025-06-01,\n")
    rows = [
        {**BASE_LINE, "package_id": p, "consignee_name": p, "declared_value": "1000", "arrival_date": d}
        for p, d in (("BEFORE", "2025-05-30"), ("AFTER", "2025-06-02"))
    ]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    applied = result.components.filter(pl.col("measure_id") == "test-duty")
    assert applied["package_id"].to_list() == ["AFTER"]


def test_a_table_named_by_two_measures_scopes_both_in_declaration_order(tmp_path: Path) -> None:
    """A prefix table is read once however many measures (or sides of one) name it; each gets its rows, inline
    prefixes before the table's, includes before excludes, measures in the order the pack declares them."""
    second = (
        MEASURE.replace('id = "test-duty"', 'id = "test-duty-2"').replace(
            'heading = "9903.99.99"', 'heading = "9903.99.98"'
        )
    ).replace(
        'hts_exclude = ["6109100040"]', 'hts_include = ["4202"]\nhts_exclude_file = "measures/test_scope.csv"'
    )
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures" / "test.toml").write_text(MEASURE + second)
    (root / "measures" / "test_scope.csv").write_text("hts_prefix\n6109\n6110\n")
    declare_test_group(root)
    scope = screening.load_rules(root).measure_scope.filter(pl.col("measure_id").str.starts_with("test-duty"))
    assert scope.select("measure_id", "kind", "hts_prefix").rows() == [
        ("test-duty", "include", "6109"),
        ("test-duty", "include", "6110"),
        ("test-duty", "exclude", "6109100040"),
        ("test-duty-2", "include", "4202"),
        ("test-duty-2", "include", "6109"),
        ("test-duty-2", "include", "6110"),
        ("test-duty-2", "exclude", "6109"),
        ("test-duty-2", "exclude", "6110"),
    ]


def test_a_code_shorter_than_the_scope_leaves_the_duty_open_instead_of_guessing(tmp_path: Path) -> None:
    # The measure lists one 10-digit line under 9503.00.00 and excludes one under 6109.10.00 (in scope by 6109).
    pack = pack_with_measure(tmp_path, "hts_prefix\n6109\n9503000073\n")
    lines = [
        {"package_id": "S1", "hts_code": "9503.00.00"},  # some lines under it listed, others not
        {"package_id": "S2", "hts_code": "6109.10.00"},  # in scope, with an exclusion below it
        {"package_id": "S3", "hts_code": "9503.00.00.73"},  # the listed line itself
        {"package_id": "S4", "hts_code": "6110.20.20"},  # nothing listed under it
    ]
    rows = [{**BASE_LINE, "declared_value": "1000", "consignee_name": r["package_id"], **r} for r in lines]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    status = dict(result.packages.select("package_id", "duty_status").iter_rows())
    assert status == {"S1": "needs-longer-hts", "S2": "needs-longer-hts", "S3": "assessed", "S4": "assessed"}
    duty = dict(result.packages.select("package_id", "duty_usd").iter_rows())
    assert duty["S1"] is None
    assert duty["S2"] is None
    applied = result.components.filter(pl.col("measure_id") == "test-duty").sort("package_id")
    assert applied["package_id"].to_list() == ["S1", "S2", "S3"]
    assert applied["amount_usd"].to_list() == [None, None, Decimal("250.00")]
    assert "longer code" in str(applied["assumption"][0])
    flagged = result.flags.filter(pl.col("rule_id") == "duty-not-computable")["package_id"].to_list()
    assert sorted(flagged) == ["S1", "S2"]


def screen_short_code_under_zero_rate(tmp_path: Path, *, other: str = "") -> screening.Result:
    """A $1,000 line of 9503.00.00 under a copy of the U.S. pack with the test measure at rate 0 listing one
    10-digit line under it (``other``: more measures for the same file)."""
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures" / "test.toml").write_text(MEASURE.replace('rate = "0.25"', 'rate = "0"') + other)
    (root / "measures" / "test_scope.csv").write_text("hts_prefix\n9503000073\n")
    declare_test_group(root)
    if other:  # its group declared too
        tariff = root / "tariff.toml"
        tariff.write_text(
            tariff.read_text().replace("[stacking_groups]\n", '[stacking_groups]\ntest_other = "x"\n')
        )
    line = {
        **BASE_LINE,
        "declared_value": "1000",
        "consignee_name": "Z",
        "package_id": "Z",
        "hts_code": "9503.00.00",
    }
    return screening.screen(pl.DataFrame([line]), rules=screening.load_rules(root))


def test_a_zero_rate_left_open_by_a_short_code_charges_nothing_either_way(tmp_path: Path) -> None:
    """A measure at 0 that lists some goods under a short code settles at 0 (the duty is known: the other
    duties alone), with the reason; the pack's Section 122 after 2026-07-24 and HK Section 301 are such."""
    result = screen_short_code_under_zero_rate(tmp_path)
    assert result.packages.select("duty_status", "duty_usd").row(0) == ("assessed", Decimal("0.00"))
    applied = result.components.filter(pl.col("measure_id") == "test-duty")
    assert applied["amount_usd"].to_list() == [Decimal("0.00")]
    assert "nothing whether it applies or not" in str(applied["assumption"][0])


def test_a_zero_rate_that_removes_other_duties_stays_open_on_a_short_code(tmp_path: Path) -> None:
    """The same measure, but another measure is not_with its group: whether it applies decides that other
    duty, so the short code leaves the duty open."""
    other = (
        MEASURE.replace('id = "test-duty"', 'id = "test-other"')
        .replace('heading = "9903.99.99"', 'heading = "9903.99.98"')
        .replace('stacking_group = "test"', 'stacking_group = "test_other"\nnot_with = ["test"]')
        .replace('hts_include_file = "measures/test_scope.csv"', 'hts_include = ["9503"]')
    )
    result = screen_short_code_under_zero_rate(tmp_path, other=other)
    assert result.packages.select("duty_status", "duty_usd").row(0) == ("needs-longer-hts", None)


def test_an_eight_digit_code_whose_every_statistical_line_is_exempt_is_exempt(
    us_pack: screening.RulePack,
) -> None:
    # Annex II of EO 14257 lists 3004.20.00 (the tracker writes it 3004200000, beside each of its statistical
    # lines): the 8-digit code is exempt from the reciprocal duty as its 10-digit lines are. Once it was charged
    # the India rates in full (the list read at 10 digits only), then left open as partly listed.
    base = {**BASE_LINE, "arrival_date": "2025-09-15", "country_of_origin": "IN", "declared_value": "500"}
    rows = [
        {**base, "package_id": "A8", "consignee_name": "A8", "hts_code": "3004.20.00"},
        {**base, "package_id": "A10", "consignee_name": "A10", "hts_code": "3004.20.00.10"},
    ]
    result = screening.screen(pl.DataFrame(rows), rules=us_pack)
    packages = {r["package_id"]: r for r in result.packages.iter_rows(named=True)}
    for package_id in ("A8", "A10"):
        assert (packages[package_id]["duty_status"], packages[package_id]["duty_usd"]) == (
            "assessed",
            Decimal("0.00"),
        )
    duties = result.components.filter(pl.col("package_id") == "A8", pl.col("line_no").is_not_null())
    assert duties.filter(pl.col("amount_usd").is_null() | (pl.col("amount_usd") > 0)).height == 0
    assert "ieepa-reciprocal-annex-ii" in duties["measure_id"].to_list()


def test_one_metal_share_is_not_charged_once_per_metal(us_pack: screening.RulePack) -> None:
    # 8708.10.30 (bumpers) is on the steel and the aluminum derivative lists of 2025-03-12: with one share
    # for all metals, each duty was charged on the whole 60 % (twice the metal). One list alone is charged.
    base = {**BASE_LINE, "arrival_date": "2025-04-01", "declared_value": "1000"}
    rows = [
        {
            **base,
            "package_id": "B1",
            "consignee_name": "B1",
            "hts_code": "8708.10.30",
            "metal_content_share": 0.6,
        },
        {
            **base,
            "package_id": "B4",
            "consignee_name": "B4",
            "hts_code": "7326.90.86.88",
            "metal_content_share": 0.5,
        },
    ]
    frame = pl.DataFrame(rows).with_columns(pl.col("metal_content_share").cast(pl.Float64()))
    result = screening.screen(frame, rules=us_pack)
    packages = {r["package_id"]: r for r in result.packages.iter_rows(named=True)}
    assert (packages["B1"]["duty_status"], packages["B1"]["duty_usd"]) == ("not-computable", None)
    metal = result.components.filter(pl.col("measure_id").str.starts_with("s232-")).sort(
        "package_id", "measure_id"
    )
    b1 = metal.filter(pl.col("package_id") == "B1")
    assert b1["measure_id"].to_list() == [
        "s232-aluminum-derivatives-04-25",
        "s232-steel-derivatives-other-25",
    ]
    assert b1["amount_usd"].to_list() == [None, None]
    assert all("more than one metal" in a for a in b1["assumption"].to_list())
    b4 = metal.filter(pl.col("package_id") == "B4")
    assert b4.select("measure_id", "base_usd", "amount_usd").rows() == [
        ("s232-steel-derivatives-ch73-25", Decimal("500.00"), Decimal("125.00"))
    ]
    assert packages["B4"]["duty_status"] == "assessed"


def test_a_six_digit_code_takes_the_tariff_lines_under_it_when_they_charge_alike(
    us_pack: screening.RulePack,
) -> None:
    """6109.10 was "no tariff line in force" (flagged as an unknown code, no duty, no revenue review) though its
    one line 6109.10.00 is in force; 6110.20 holds lines of several rates and needs the longer code."""
    lines = [
        {"package_id": "ONE", "hts_code": "6109.10"},  # one 8-digit line under it: 16.5 %
        {"package_id": "EIGHT", "hts_code": "6109.10.00"},
        {"package_id": "MANY", "hts_code": "6110.20"},  # lines under it at different rates
    ]
    rows = [{**BASE_LINE, "declared_value": "900", "consignee_name": r["package_id"], **r} for r in lines]
    result = screening.screen(pl.DataFrame(rows), rules=us_pack)
    assert result.rejects.is_empty()
    got = {r["package_id"]: r for r in result.lines.iter_rows(named=True)}
    assert (got["ONE"]["tariff_line"], got["ONE"]["duty_status"]) == ("61091000", "assessed")
    assert got["ONE"]["duty_usd"] == got["EIGHT"]["duty_usd"] > 0
    assert (got["MANY"]["tariff_line"], got["MANY"]["duty_status"], got["MANY"]["duty_usd"]) == (
        None,
        "needs-longer-hts",
        None,
    )
    flags = result.flags.select("package_id", "rule_id").rows()
    assert ("MANY", "duty-not-computable") in flags
    assert not [f for f in flags if f[1] == "hts-unknown-on-date"]


def test_a_short_code_is_judged_by_the_rates_of_the_program_its_goods_take(
    us_pack: screening.RulePack,
) -> None:
    """0201.10's three lines charge 4.4 ¢/kg to 26.4 % in general, and all are Free under USMCA: a USMCA claim on
    Canadian beef was needs-longer-hts though every line it could be owes nothing. Without a claim, or on goods
    of an origin the claim cannot cover, the general rates still differ and the longer code decides."""
    beef = {"hts_code": "0201.10", "arrival_date": "2026-01-15", "declared_value": "900"}
    lines = [
        {**beef, "package_id": "CLAIM", "country_of_origin": "CA", "usmca_claim": "true"},
        {**beef, "package_id": "NOCLAIM", "country_of_origin": "CA", "usmca_claim": "false"},
        {**beef, "package_id": "CN", "country_of_origin": "CN", "usmca_claim": "true"},
        {
            **beef,
            "package_id": "LONG",
            "country_of_origin": "CA",
            "usmca_claim": "true",
            "hts_code": "0201.10.50",
        },
    ]
    rows = [{**BASE_LINE, "consignee_name": r["package_id"], **r} for r in lines]
    result = screening.screen(pl.DataFrame(rows), rules=us_pack)
    assert result.rejects.is_empty()
    got = {r["package_id"]: r for r in result.lines.iter_rows(named=True)}
    assert (got["CLAIM"]["duty_status"], got["CLAIM"]["tariff_line"]) == ("assessed", "02011005")
    assert got["CLAIM"]["duty_usd"] == got["LONG"]["duty_usd"]
    own = result.components.filter(pl.col("package_id") == "CLAIM", pl.col("component") == "mfn")
    assert own.select("measure_id", "amount_usd").rows() == [("usmca", Decimal("0.00"))]
    for open_ in ("NOCLAIM", "CN"):
        assert (got[open_]["duty_status"], got[open_]["tariff_line"], got[open_]["duty_usd"]) == (
            "needs-longer-hts",
            None,
            None,
        ), open_


def test_a_short_code_whose_lines_charge_different_formulas_on_parts_needs_the_longer_code(
    us_pack: screening.RulePack,
) -> None:
    """9102.11's watch lines charge on their parts by different formulas (9102.11.10: case 6 %, 9102.11.25: case
    8.5 %); the formulas are not among the parsed rate columns, so for a while the short code took its first
    line's formula and was charged $99.76, where the line it could also be charges $102.72."""
    watch = {
        **BASE_LINE,
        "arrival_date": "2026-03-02",
        "country_of_origin": "CH",
        "declared_value": "900.00",
        "description": "wrist watch",
        "part_values": "case=120.00; strap=15; battery=0.40; jewel=17; movement=300",
    }
    lines = [
        {**watch, "package_id": p, "consignee_name": p, "hts_code": code}
        for p, code in (("SHORT", "9102.11"), ("LONG", "9102.11.25"))
    ]
    result = screening.screen(pl.DataFrame(lines), rules=us_pack)
    got = {r["package_id"]: r for r in result.lines.iter_rows(named=True)}
    assert (got["SHORT"]["duty_status"], got["SHORT"]["tariff_line"], got["SHORT"]["duty_usd"]) == (
        "needs-longer-hts",
        None,
        None,
    )
    assert (got["LONG"]["duty_status"], got["LONG"]["duty_usd"]) == ("assessed", Decimal("102.72"))


def test_rules_show_says_which_program_a_short_code_settles(us_pack: screening.RulePack) -> None:
    [line] = [
        r
        for r in rules_in_force(us_pack, dt.date(2026, 1, 15), hts="0201.10", origin="CA")
        if r.kind == "tariff-line"
    ]
    assert "give the longer code" in line.summary
    assert "under a USMCA claim on CA/MX goods every one of them charges USMCA Free" in line.summary


def test_a_short_code_whose_lines_charge_alike_keeps_their_rates_on_parts_and_is_no_unknown_code(
    us_pack: screening.RulePack,
) -> None:
    """7801.99 (its lines all charged on the lead content) lost its rate on parts when its tariff line was the
    short code itself; a de minimis line with a code too short for its lines was flagged unknown on the date."""
    lines = [
        {
            "package_id": "SHORT",
            "hts_code": "7801.99",
            "part_values": "lead-content=400",
            "declared_value": "900",
        },
        {
            "package_id": "LONG",
            "hts_code": "7801.99.90",
            "part_values": "lead-content=400",
            "declared_value": "900",
        },
        {"package_id": "FREE", "hts_code": "6110.20", "declared_value": "100"},
    ]
    rows = [
        {**BASE_LINE, "description": "unwrought lead", "consignee_name": r["package_id"], **r} for r in lines
    ]
    result = screening.screen(pl.DataFrame(rows), rules=us_pack)
    got = {r["package_id"]: r for r in result.lines.iter_rows(named=True)}
    assert (got["SHORT"]["duty_status"], got["SHORT"]["duty_usd"]) == ("assessed", got["LONG"]["duty_usd"])
    assert got["SHORT"]["tariff_line"].startswith("780199")
    assert got["FREE"]["duty_status"] == "exempt"
    assert "hts-unknown-on-date" not in result.flags["rule_id"].to_list()


def _test_duty_by_package(pack: screening.RulePack, codes: dict[str, str]) -> tuple[dict, dict]:
    rows = [
        {**BASE_LINE, "declared_value": "1000", "consignee_name": p, "package_id": p, "hts_code": c}
        for p, c in codes.items()
    ]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    assert result.rejects.is_empty()
    status = dict(result.packages.select("package_id", "duty_status").iter_rows())
    applied = result.components.filter(pl.col("measure_id") == "test-duty")
    return status, dict(applied.select("package_id", "amount_usd").iter_rows())


def test_a_short_code_whose_every_tariff_line_is_listed_is_charged_not_left_open(tmp_path: Path) -> None:
    """2827.49 holds two 10-digit lines at 5.5 %; a list naming both covers the 6-digit code (it was left open
    as needs-longer-hts, with an assumption that some goods under the code are listed and others not). A list
    naming one of them leaves the code open; a list at 10 digits under an 8-digit line leaves that line open."""
    both = pack_with_measure(tmp_path / "both", "hts_prefix\n2827491000\n2827495000\n6109100012\n")
    status, amount = _test_duty_by_package(both, {"ALL": "2827.49", "TENUNDER": "6109.10"})
    assert (status["ALL"], amount["ALL"]) == ("assessed", Decimal("250.00"))
    assert (status["TENUNDER"], amount["TENUNDER"]) == ("needs-longer-hts", None)
    one = pack_with_measure(tmp_path / "one", "hts_prefix\n2827491000\n")
    status, amount = _test_duty_by_package(one, {"SOME": "2827.49"})
    assert (status["SOME"], amount["SOME"]) == ("needs-longer-hts", None)


def test_a_short_code_whose_every_tariff_line_is_excluded_owes_nothing_under_the_measure(
    tmp_path: Path,
) -> None:
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    excluding = MEASURE.replace('hts_exclude = ["6109100040"]', 'hts_exclude = ["2827491000", "2827495000"]')
    (root / "measures" / "test.toml").write_text(excluding)
    (root / "measures" / "test_scope.csv").write_text("hts_prefix\n2827\n")
    declare_test_group(root)
    status, amount = _test_duty_by_package(
        screening.load_rules(root), {"EXCLUDED": "2827.49", "OTHER": "2827.39"}
    )
    assert status["EXCLUDED"] == "assessed"
    assert "EXCLUDED" not in amount
    assert amount["OTHER"] == Decimal("250.00")


def test_a_short_code_whose_only_tariff_line_is_on_a_chapter_99_list_is_charged(
    us_pack: screening.RulePack,
) -> None:
    """0302.11 (trout) has one tariff line, 0302.11.00, on Section 301 list 3: the 6-digit code owes what the
    8-digit one does (it was needs-longer-hts)."""
    base = {**BASE_LINE, "arrival_date": "2025-09-10", "country_of_origin": "CN", "declared_value": "100"}
    rows = [
        {**base, "package_id": p, "consignee_name": p, "hts_code": c}
        for p, c in (("SIX", "0302.11"), ("TEN", "0302.11.00.10"))
    ]
    result = screening.screen(pl.DataFrame(rows), rules=us_pack)
    got = {r["package_id"]: (r["duty_status"], r["duty_usd"]) for r in result.packages.iter_rows(named=True)}
    assert got["SIX"] == got["TEN"] == ("assessed", Decimal("55.00"))


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ('not_with_headings = { s232_steel = "9903.03.06" }', "not_with_headings for groups that are not in"),
        ('usmca_exempt_headings = { DE = "9903.99.90" }', "usmca_exempt is false"),
        (
            'usmca_exempt = true\nusmca_exempt_headings = { CA = "9903.99.90" }',
            "origins the measure does not",
        ),
    ],
)
def test_an_exemption_heading_must_be_for_a_group_or_claim_that_removes_the_measure(
    tmp_path: Path, fields: str, said: str
) -> None:
    """A heading for a group the measure is not ``not_with``, or for a USMCA claim on goods it does not spare,
    would never show: refused when the pack loads."""
    measure = MEASURE.replace('stacking_group = "test"', f'stacking_group = "test"\n{fields}')
    with pytest.raises(RulePackError, match=said):
        pack_with_measure(tmp_path, "hts_prefix\n6109100012\n", measure)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ('heading_at_or_above_rate = "9903.99.98"', "rate_rule is not top_up"),
        ('rate_rule = "top_up"\nheading_at_or_above_rate = "9903.99.99"', "is the measure's heading"),
        ('rate_rule = "top_up"\nheading_at_or_above_rate = "9903.9998"', "heading_at_or_above_rate"),
    ],
)
def test_a_heading_at_or_above_the_rate_is_for_a_top_up_and_names_another_heading(
    tmp_path: Path, fields: str, said: str
) -> None:
    """The heading of goods whose column 1 rate is at or above the rate only means something for a top-up (a
    fixed rate is charged whatever that rate), and is another heading written as headings are: else refused."""
    measure = MEASURE.replace('stacking_group = "test"', f'stacking_group = "test"\n{fields}')
    with pytest.raises(RulePackError, match=said):
        pack_with_measure(tmp_path, "hts_prefix\n6109100012\n", measure)


def test_a_usmca_exemption_shows_only_where_the_measure_s_list_holds_the_declared_code(
    tmp_path: Path,
) -> None:
    """A USMCA claim on goods of a listed line shows the measure at 0 with the exemption's heading; an 8-digit
    code the list covers only in part (6109.10.00: one of its statistical lines) is not known to be in scope, so
    nothing is shown for it. Unclaimed, the listed line pays the 25%."""
    measure = MEASURE.replace('origins = ["DE"]', 'origins = ["CA"]').replace(
        'stacking_group = "test"',
        'stacking_group = "test"\nusmca_exempt = true\nusmca_exempt_headings = { CA = "9903.99.90" }',
    )
    pack = pack_with_measure(tmp_path, "hts_prefix\n6109100012\n", measure)
    base = {**BASE_LINE, "declared_value": "1000", "country_of_origin": "CA", "arrival_date": "2025-02-01"}
    lines = [
        {**base, "package_id": "LISTED", "usmca_claim": "true"},
        {**base, "package_id": "SHORT", "usmca_claim": "true", "hts_code": "6109.10.00"},
        {**base, "package_id": "PLAIN", "usmca_claim": "false"},
    ]
    rows = [{**r, "consignee_name": r["package_id"]} for r in lines]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    shown = result.components.filter(pl.col("measure_id") == "test-duty").sort("package_id")
    columns = ("package_id", "heading", "rate", "amount_usd", "assumption")
    assert [tuple(r) for r in shown.select(columns).rows()] == [
        ("LISTED", "9903.99.90", 0, Decimal("0.00"), assess.USMCA_EXEMPTION),
        ("PLAIN", "9903.99.99", Decimal("0.25"), Decimal("250.00"), None),
    ]
    statuses = dict(result.packages.select("package_id", "duty_status").iter_rows())
    assert statuses == {"LISTED": "assessed", "SHORT": "assessed", "PLAIN": "assessed"}


#: A zero-rate measure whose stacking group the test measure is ``not_with``, and a coverage gap, both on DE
#: t-shirts (``{flag}``: their ``in_force_as_written``).
KEPT_FOR_THE_RECORD = """
[[measures]]
id = "test-blocker"
component = "test_duty"
heading = "9903.99.98"
origins = ["DE"]
hts_include = ["6109"]
rate = "0"
stacking_group = "blocker"
effective_from = 2025-01-01
in_force_as_written = {flag}
citation = {{ instrument = "Test instrument (synthetic)" }}

[[gaps]]
id = "test-gap"
component = "test_duty"
origins = ["DE"]
hts_include = ["6109"]
effective_from = 2025-01-01
in_force_as_written = {flag}
citation = {{ instrument = "Test instrument (synthetic)" }}
"""


@pytest.mark.parametrize("in_force", [True, False])
def test_a_measure_or_gap_not_in_force_as_written_is_never_applied(tmp_path: Path, in_force: bool) -> None:
    """``in_force_as_written = false`` (a measure struck down from its first day, kept for the record) was refused
    on a measure or gap. Such a measure charges nothing and keeps no measure that is ``not_with`` its group off
    the line; such a gap leaves no duty open. In force, the same two keep the test duty off and the line open."""
    measure = MEASURE.replace('stacking_group = "test"', 'stacking_group = "test"\nnot_with = ["blocker"]')
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root, ignore=shutil.ignore_patterns("scenarios"))
    flag = "true" if in_force else "false"
    (root / "measures" / "test.toml").write_text(measure + KEPT_FOR_THE_RECORD.format(flag=flag))
    (root / "measures" / "test_scope.csv").write_text("hts_prefix\n6109100012\n")
    tariff = root / "tariff.toml"
    groups = '[stacking_groups]\ntest = "test"\nblocker = "blocker"\n'
    tariff.write_text(tariff.read_text().replace("[stacking_groups]\n", groups))
    pack = screening.load_rules(root)
    result = screening.screen(pl.DataFrame([{**BASE_LINE, "declared_value": "1000"}]), rules=pack)
    package = result.packages.row(0, named=True)
    test_rows = result.components.filter(pl.col("measure_id").str.starts_with("test-"))
    shown = test_rows.select("measure_id", "amount_usd", "assumption").rows()
    if in_force:
        assert package["duty_status"] == "pack-incomplete"
        assert (
            "test-duty",
            Decimal("0.00"),
            "exempt: not with stacking group blocker (test-blocker is on the line)",
        ) in shown
    else:
        assert (package["duty_status"], package["duty_usd"]) == ("assessed", Decimal("415.00"))  # 16.5% + 25%
        assert shown == [("test-duty", Decimal("250.00"), None)]
    listed = {e.rule_id for e in rules_in_force(pack, dt.date(2025, 3, 10), origin="DE")}
    assert {"test-blocker", "test-gap"} <= listed if in_force else not {"test-blocker", "test-gap"} & listed
