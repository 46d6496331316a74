"""The de minimis decisions users rely on (issue #2 acceptance), one test each."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import screening
from screening.explain import explain_package
from screening.explain_text import render_text
from screening.schema import MANIFEST_COLUMNS
from screening.stages.assess import OPEN_POSTAL_ASSUMPTION, PostalMethod

from ..conftest import BASE_LINE, US_PACK

Screen = Callable[..., screening.Result]


def reasons(result: screening.Result) -> dict[str, str]:
    return dict(result.packages.select("package_id", "de_minimis_reason").iter_rows())


def package_values(result: screening.Result, *columns: str) -> dict[str, tuple[object, ...]]:
    return {row[0]: row[1:] for row in result.packages.select("package_id", *columns).iter_rows()}


def test_two_packages_same_person_same_day_over_800_are_both_over_threshold(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "declared_value": "450"}, {"package_id": "P2", "declared_value": "400"}
    )
    assert reasons(result) == {"P1": "dm-over-threshold", "P2": "dm-over-threshold"}


def test_same_packages_on_different_days_are_both_eligible(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "declared_value": "450", "arrival_date": "2025-03-10"},
        {"package_id": "P2", "declared_value": "400", "arrival_date": "2025-03-11"},
    )
    assert reasons(result) == {"P1": "dm-eligible", "P2": "dm-eligible"}


def test_aggregate_of_exactly_800_is_eligible_and_800_01_is_not(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "consignee_name": "A", "declared_value": "500.00"},
        {"package_id": "P2", "consignee_name": "A", "declared_value": "300.00"},
        {"package_id": "P3", "consignee_name": "B", "declared_value": "500.00"},
        {"package_id": "P4", "consignee_name": "B", "declared_value": "300.01"},
    )
    assert reasons(result) == {
        "P1": "dm-eligible",
        "P2": "dm-eligible",
        "P3": "dm-over-threshold",
        "P4": "dm-over-threshold",
    }


def test_name_case_spacing_and_zip4_are_one_person(screen_lines: Screen) -> None:
    result = screen_lines(
        {
            "package_id": "P1",
            "consignee_name": "Anna Keller",
            "consignee_postal_code": "20001",
            "declared_value": "450",
        },
        {
            "package_id": "P2",
            "consignee_name": "anna  KELLER",
            "consignee_postal_code": "20001-4321",
            "declared_value": "400",
        },
    )
    assert result.packages["consignee_key"].n_unique() == 1
    assert set(reasons(result).values()) == {"dm-over-threshold"}


@pytest.mark.parametrize("written", ["DC 20001", "US-20001", "ZIP 20001", "DC 20001-4321", "USA 20001"])
def test_a_state_or_country_code_before_the_zip_is_one_person(screen_lines: Screen, written: str) -> None:
    """Only a ZIP at the start was read: "DC 20001" was another person than "20001", and two packages of $500
    and $400 to one buyer on one day were each eligible instead of one consignee-day of $900."""
    result = screen_lines(
        {"package_id": "P1", "consignee_postal_code": "20001", "declared_value": "500"},
        {"package_id": "P2", "consignee_postal_code": written, "declared_value": "400"},
    )
    assert set(result.packages["consignee_key"]) == {"name:anna keller|20001"}
    assert reasons(result) == {"P1": "dm-over-threshold", "P2": "dm-over-threshold"}


def test_a_placeholder_zip_is_no_zip_and_one_person_stays_one(screen_lines: Screen) -> None:
    """A ZIP left blank in one export and written `N/A`, `nan` or `-` in others made four people of one
    consignee: four $300 packages, each eligible, where one person's $1,200 day is over the threshold."""
    written = ["", "N/A", "nan", "-"]
    result = screen_lines(
        *(
            {"package_id": f"P{i}", "consignee_postal_code": zip_code, "declared_value": "300"}
            for i, zip_code in enumerate(written)
        )
    )
    assert set(result.packages["consignee_key"]) == {"name:anna keller|"}
    assert set(reasons(result).values()) == {"dm-over-threshold"}


@pytest.mark.parametrize(
    "placeholder",
    ["nan", "None", " NULL ", "\\N", "n/a", "<NA>", "#N/A", "-", "0", "000", "?", "unknown", "TBD", "n.a."],
)
def test_a_placeholder_consignee_id_is_no_id_and_keeps_people_apart(
    screen_lines: Screen, placeholder: str
) -> None:
    """What pandas' astype(str) and SQL exports write for a missing id (`nan`, `NULL`, `\\N`) was taken as an id:
    three people at $400 each became one consignee-day over the threshold, owing duty."""
    people = [("P1", "Anna Keller", "20001"), ("P2", "Bob Li", "94105"), ("P3", "Carla Diaz", "60601")]
    result = screen_lines(
        *(
            {
                "package_id": package,
                "consignee_id": placeholder,
                "consignee_name": name,
                "consignee_postal_code": zip_code,
                "declared_value": "400",
            }
            for package, name, zip_code in people
        )
    )
    keys = dict(result.packages.select("package_id", "consignee_key").iter_rows())
    assert keys == {"P1": "name:anna keller|20001", "P2": "name:bob li|94105", "P3": "name:carla diaz|60601"}
    assert set(reasons(result).values()) == {"dm-eligible"}
    # A real id still makes one person of different names.
    same = screen_lines(
        {
            "package_id": "P1",
            "consignee_id": "C-77",
            "consignee_name": "Anna Keller",
            "declared_value": "450",
        },
        {"package_id": "P2", "consignee_id": "C-77", "consignee_name": "A. Keller", "declared_value": "400"},
    )
    assert set(same.packages["consignee_key"]) == {"id:C77"}


def test_one_id_written_three_ways_is_one_person_over_the_threshold(screen_lines: Screen) -> None:
    """``C-001``, ``c-001`` and ``C001`` for one person were three consignee-days of $300, each eligible: writing
    the id another way was a way around the $800 rule. They are one consignee-day of $900."""
    result = screen_lines(
        *(
            {"package_id": f"R{i}", "consignee_id": written, "declared_value": "300"}
            for i, written in enumerate(["C-001", "c-001", "C001"], start=1)
        )
    )
    assert set(result.packages["consignee_key"]) == {"id:C001"}
    assert set(result.packages["consignee_day_value_usd"]) == {Decimal("900.00")}
    assert reasons(result) == dict.fromkeys(["R1", "R2", "R3"], "dm-over-threshold")
    # The lines keep the id as the filer wrote it.
    assert result.lines.sort("package_id")["consignee_id"].to_list() == ["C-001", "c-001", "C001"]


def test_cn_origin_is_eligible_on_2025_05_01_and_suspended_on_2025_05_02(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "country_of_origin": "CN", "arrival_date": "2025-05-01"},
        {
            "package_id": "P2",
            "country_of_origin": "CN",
            "arrival_date": "2025-05-02",
            "consignee_name": "Other",
        },
    )
    assert reasons(result) == {"P1": "dm-eligible", "P2": "dm-suspended-origin"}


def test_any_origin_on_2025_08_29_is_suspended_for_all(screen_lines: Screen) -> None:
    origins = ["DE", "JP", "GB", "CA", "MX", "CN", "BR"]
    result = screen_lines(
        *[
            {"package_id": f"P{i}", "country_of_origin": o, "arrival_date": "2025-08-29", "consignee_name": o}
            for i, o in enumerate(origins)
        ]
    )
    assert set(reasons(result).values()) == {"dm-suspended-all"}


def test_informational_materials_stay_outside_the_suspensions_for_all_countries(screen_lines: Screen) -> None:
    """DOMAIN.md 0.2 and 2: 50 U.S.C. 1702(b) items (informational materials among them) are outside the
    suspension. A $50 printed book (4901.99.00.93) on 2025-09-01 was suspended like any goods: an informal entry
    with $3.93 of fees by express, the 30% postal duty by mail. Alone in its package it is eligible again, naming
    the exception; beside a t-shirt the package stays suspended; the CN/HK suspension of 2025-05-02 (DOMAIN.md
    silent) and the suspension with the repeal from 2027-07-01 still reach it; a 6-digit code stays suspended."""
    book = {"hts_code": "4901.99.00.93", "description": "printed book", "declared_value": "50.00"}
    cases = {
        "VN": {"country_of_origin": "VN", "arrival_date": "2025-09-01"},
        "CN-mail": {"country_of_origin": "CN", "arrival_date": "2025-09-01", "mode": "postal"},
        "DE-2026": {"arrival_date": "2026-11-23"},
        "CN-may": {"country_of_origin": "CN", "arrival_date": "2025-06-01"},
        "DE-2027": {"arrival_date": "2027-08-01"},
        "DE-short": {"arrival_date": "2025-09-01", "hts_code": "4901.99"},
    }
    result = screen_lines(
        *({**book, "package_id": p, "consignee_name": p, **case} for p, case in cases.items()),
        {**book, "package_id": "mixed", "consignee_name": "M", "arrival_date": "2025-09-01"},
        {"package_id": "mixed", "line_no": "2", "consignee_name": "M", "arrival_date": "2025-09-01"},
    )
    exception = "1702b-informational-materials"
    assert package_values(result, "de_minimis_reason", "de_minimis_rule_id", "entry_type") == {
        "VN": ("dm-eligible", exception, "de-minimis"),
        "CN-mail": ("dm-eligible", exception, "de-minimis"),
        "DE-2026": ("dm-eligible", exception, "de-minimis"),
        "CN-may": ("dm-suspended-origin", "eo14256-cn-hk", "informal"),
        "DE-2027": ("dm-suspended-all", "suspension-and-repeal-2027", "informal"),
        "DE-short": ("dm-suspended-all", "eo14324-all", "informal"),
        "mixed": ("dm-suspended-all", "eo14324-all", "informal"),
    }
    assert package_values(result, "total_due_usd")["VN"] == (Decimal("0.00"),)
    assert package_values(result, "total_due_usd")["CN-mail"] == (Decimal("0.00"),)


def test_a_package_with_one_line_under_a_suspension_is_not_flagged_as_valued_just_under_the_threshold(
    screen_lines: Screen,
) -> None:
    """DE $400 + CN $360 on 2025-06-02 (CN suspended): de minimis is not in force for the package, so $760 is
    no value just under the $800 threshold; the same package of DE lines only is flagged."""
    day = {"arrival_date": "2025-06-02"}
    result = screen_lines(
        {**day, "package_id": "P1", "line_no": "1", "declared_value": "400.00"},
        {**day, "package_id": "P1", "line_no": "2", "declared_value": "360.00", "country_of_origin": "CN"},
        {**day, "package_id": "P2", "line_no": "1", "declared_value": "400.00", "consignee_name": "Other"},
        {**day, "package_id": "P2", "line_no": "2", "declared_value": "360.00", "consignee_name": "Other"},
    )
    assert package_values(result, "de_minimis_reason", "risk_flags") == {
        "P1": ("dm-suspended-origin", []),
        "P2": ("dm-eligible", ["value-just-under-threshold"]),
    }


def test_wine_is_excluded_as_excise(screen_lines: Screen) -> None:
    result = screen_lines({"hts_code": "2204.21.50.40", "quantity": "1", "declared_value": "20"})
    assert reasons(result) == {"P1": "dm-excluded-excise"}
    assert result.packages["de_minimis_rule_id"].to_list() == ["excise-alcohol"]


def test_perfume_with_alcohol_in_a_package_of_exactly_5_dollars_is_waived_and_5_01_is_not(
    screen_lines: Screen,
) -> None:
    """Excluded 'unless the aggregate value of the shipment is <= $5' (DOMAIN.md section 2)."""
    result = screen_lines(
        {"package_id": "P1", "hts_code": "3303.00.30.00", "declared_value": "5.00"},
        {
            "package_id": "P2",
            "hts_code": "3303.00.30.00",
            "declared_value": "5.01",
            "consignee_name": "Other",
        },
    )
    assert reasons(result) == {"P1": "dm-eligible", "P2": "dm-excluded-excise"}


def test_package_over_2500_is_a_formal_entry_and_2500_is_informal(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "consignee_name": "A", "declared_value": "2500.01"},
        {"package_id": "P2", "consignee_name": "B", "declared_value": "2500.00"},
    )
    entry = dict(result.packages.select("package_id", "entry_type").iter_rows())
    assert entry == {"P1": "formal", "P2": "informal"}


def test_each_package_names_the_rule_that_made_its_entry_type_and_the_summary_and_explain_cite_it(
    screen_lines: Screen, tmp_path: Path
) -> None:
    """The entry type is a decision too: a package used to say ``formal`` or ``postal`` without the rule that made
    it so, and ``screen explain`` had no source for it. Now ``entry_rule_id`` is the de minimis rule of a de minimis
    release, the postal regime of mail entered under one, else the informal-entry limit in force (within it:
    informal, so for a gift no de minimis release passes; over it: formal)."""
    result = screen_lines(
        {"package_id": "DM", "consignee_name": "A", "declared_value": "100.00", "gift": "false"},
        {
            "package_id": "GIFT",
            "consignee_name": "B",
            "declared_value": "90.00",
            "gift": "true",
            "shipper_name": "Aunt Abroad",
            "arrival_date": "2025-09-01",
        },
        {
            "package_id": "GIFT_MARCH",
            "consignee_name": "G",
            "declared_value": "90.00",
            "gift": "true",
            "shipper_name": "Aunt Abroad",
        },
        {"package_id": "FORMAL", "consignee_name": "C", "declared_value": "2500.01"},
        {"package_id": "INFORMAL", "consignee_name": "D", "declared_value": "2500.00"},
        {
            "package_id": "LATER",
            "consignee_name": "E",
            "declared_value": "900.00",
            "arrival_date": "2025-05-15",
        },
        # Mail: its first line's origin has no postal regime on the day, its second line's has (CN, 54%).
        {
            "package_id": "MAIL",
            "consignee_name": "F",
            "mode": "postal",
            "arrival_date": "2025-05-14",
            "declared_value": "900.00",
        },
        {
            "package_id": "MAIL",
            "line_no": "2",
            "consignee_name": "F",
            "mode": "postal",
            "arrival_date": "2025-05-14",
            "country_of_origin": "CN",
        },
    )
    entries = {
        row["package_id"]: (row["entry_type"], row["entry_rule_id"])
        for row in result.packages.select("package_id", "entry_type", "entry_rule_id").to_dicts()
    }
    assert entries == {
        "DM": ("de-minimis", "threshold-800"),
        "GIFT": ("informal", "informal-limit-2500-ch99-clause-suspended"),
        "GIFT_MARCH": ("de-minimis", "gift-100"),
        "FORMAL": ("formal", "informal-limit-2500"),
        "INFORMAL": ("informal", "informal-limit-2500"),
        "LATER": ("informal", "informal-limit-2500-ch99-clause-suspended"),
        "MAIL": ("postal", "postal-cn-hk-54"),
    }
    cited = result.summary["decision_rules"]
    assert {"informal-limit-2500", "informal-limit-2500-ch99-clause-suspended", "postal-cn-hk-54"} <= set(
        cited
    )
    assert "19 CFR 143.21" in cited["informal-limit-2500"]
    run = tmp_path / "run"
    result.write(run)
    text = render_text(explain_package(run, "FORMAL"))
    assert (
        "  entry type: formal  (rule informal-limit-2500; informal entry up to $2500.00; Chapter 99 articles up to"
        " $250.00; its note under RULE NOTES)"
        "\n  source: 19 CFR 143.21"
    ) in text


def test_chapter_99_articles_over_250_need_a_formal_entry_until_cbp_suspended_that_clause(
    screen_lines: Screen,
) -> None:
    """19 CFR 143.21(a): informal up to $2,500 "except for articles valued in excess of $250 classified in Chapter
    99, Subchapters III and IV", a clause CBP suspended from 2025-04-30. The engine used to make every package up
    to $2,500 informal, with the informal MPF."""
    result = screen_lines(
        # CN t-shirts charged Section 301 and IEEPA duties (9903): over $250 of them, formal.
        {"package_id": "CN-OVER", "consignee_name": "A", "country_of_origin": "CN", "declared_value": "900"},
        # $250.00 of Chapter 99 articles beside a DE line charged MFN only: informal.
        {"package_id": "MIXED", "consignee_name": "B", "country_of_origin": "CN", "declared_value": "250.00"},
        {"package_id": "MIXED", "line_no": "2", "consignee_name": "B", "declared_value": "700"},
        # The DE t-shirt alone on 2025-03-10: no Chapter 99 duty yet, informal.
        {"package_id": "DE", "consignee_name": "C", "declared_value": "900"},
        # The same CN package on the day the clause was suspended: informal.
        {
            "package_id": "CN-LATER",
            "consignee_name": "D",
            "country_of_origin": "CN",
            "declared_value": "900",
            "arrival_date": "2025-04-30",
        },
    )
    entry = dict(result.packages.select("package_id", "entry_type").iter_rows())
    assert entry == {"CN-OVER": "formal", "MIXED": "informal", "DE": "informal", "CN-LATER": "informal"}
    fees = result.components.filter(pl.col("line_no").is_null()).select(
        "package_id", "component", "assumption"
    )
    formal = fees.filter(pl.col("package_id") == "CN-OVER")
    assert formal["component"].sort().to_list() == ["express_consignment", "mpf_formal"]
    assert all(
        a.startswith(
            "formal entry: its Chapter 99 articles are worth $900.00, over the $250.00 informal limit"
        )
        and "(informal-limit-2500, unconfirmed)" in a
        for a in formal["assumption"].to_list()
    )
    later = fees.filter(pl.col("package_id") == "CN-LATER")["assumption"].to_list()
    assert (
        later
        == [
            "informal entry: its Chapter 99 articles are worth $900.00, over the $250.00 limit for them, which is "
            "suspended (informal-limit-2500-ch99-clause-suspended, unconfirmed)"
        ]
        * 2
    )
    assert fees.filter(~pl.col("package_id").is_in(["CN-OVER", "CN-LATER"]))["assumption"].null_count() == 4
    cn_fees = dict(result.packages.select("package_id", "fees_usd").iter_rows())
    assert (cn_fees["CN-OVER"], cn_fees["CN-LATER"]) == (Decimal("34.02"), Decimal("3.93"))


def test_an_entry_the_chapter_99_limit_leaves_open_or_decides_under_an_unconfirmed_rule_says_so(
    screen_lines: Screen,
) -> None:
    """A Chapter 99 duty left open (a code too short for the measure's list, a gap of a Section 232 duty) could
    make a package formal: its fees are not settled (they were those of an informal entry, ``assessed``). The
    clause's reading and its suspension are unconfirmed in the pack: the cargo packages they decide say so."""
    cargo = {"mode": "cargo", "description": "aluminum article", "declared_value": "900.00"}
    result = screen_lines(
        {
            **cargo,
            "package_id": "SHORT",
            "consignee_name": "A",
            "arrival_date": "2025-03-20",
            "hts_code": "7616.99",
        },
        {
            **cargo,
            "package_id": "GAP",
            "consignee_name": "B",
            "arrival_date": "2025-03-10",
            "hts_code": "7607.11.30.00",
        },
        {
            **cargo,
            "package_id": "LONG",
            "consignee_name": "C",
            "arrival_date": "2025-03-20",
            "hts_code": "7616.99.51.60",
        },
        {
            **cargo,
            "package_id": "SUSPENDED",
            "consignee_name": "D",
            "arrival_date": "2025-05-15",
            "hts_code": "7616.99.51.60",
        },
        # No Chapter 99 duty on a DE t-shirt before the reciprocal tariffs (2025-04-05).
        {
            **cargo,
            "package_id": "PLAIN",
            "consignee_name": "E",
            "arrival_date": "2025-03-20",
            "hts_code": "6109.10.00.12",
        },
    )
    got = {
        r["package_id"]: r
        for r in result.packages.select("package_id", "entry_type", "fee_status").to_dicts()
    }
    assert {p: (r["entry_type"], r["fee_status"]) for p, r in got.items()} == {
        "SHORT": ("informal", "fees-unknown"),
        "GAP": ("informal", "fees-unknown"),
        "LONG": ("formal", "assessed-unconfirmed"),
        "SUSPENDED": ("informal", "assessed-unconfirmed"),
        # Settled but for the harbor maintenance fee, which vessel cargo may owe (hmf-cargo: no amount).
        "PLAIN": ("informal", "assessed-unconfirmed"),
    }
    notes = dict(
        result.components.filter(pl.col("component").str.starts_with("mpf"))
        .select("package_id", "assumption")
        .iter_rows()
    )
    assert notes["SHORT"].startswith(
        "entry type open: Chapter 99 articles charged $0.00 and $900.00 of articles"
    )
    assert notes["GAP"].startswith(
        "entry type open: Chapter 99 articles charged $0.00 and $900.00 of articles"
    )
    assert notes["SUSPENDED"] == (
        "informal entry: its Chapter 99 articles are worth $900.00, over the $250.00 limit for them, which is "
        "suspended (informal-limit-2500-ch99-clause-suspended, unconfirmed)"
    )
    assert notes["PLAIN"] is None


def test_an_open_entry_s_fee_rows_of_informal_entries_only_have_no_amount_and_explain_says_open(
    screen_lines: Screen, tmp_path: Path
) -> None:
    """A $1,000 DE steel coil by express on 2025-03-11 (the Section 232 steel duty in a gap) has its entry
    open: its fees were unknown, yet its ``mpf_informal`` row charged $2.62, counted in ``money.by_component``
    as a known amount, and ``screen explain`` printed ``entry type: informal``. The MPF of an informal entry,
    which a formal one does not pay, now has no amount (an unknown amount in the summary); the express
    consignment fee, which the pack charges on informal and formal entries alike, keeps its $1.31."""
    result = screen_lines(
        {
            "package_id": "COIL",
            "arrival_date": "2025-03-11",
            "hts_code": "7208.36.00",
            "description": "hot-rolled steel coil",
            "declared_value": "1000.00",
        }
    )
    assert result.packages.select("entry_type", "fees_usd", "total_due_usd", "fee_status").row(0) == (
        "informal",
        None,
        None,
        "fees-unknown",
    )
    fees = result.components.filter(pl.col("line_no").is_null())
    assert dict(fees.select("component", "amount_usd").iter_rows()) == {
        "express_consignment": Decimal("1.31"),
        "mpf_informal": None,
    }
    open_note = (
        "entry type open: Chapter 99 articles charged $0.00 and $1000.00 of articles whose Chapter 99 duty is "
        "open, against the $250.00 informal limit for them (informal-limit-2500, unconfirmed): informal or formal"
    )
    assert dict(fees.select("component", "assumption").iter_rows()) == {
        "express_consignment": f"{open_note}; a fee of informal and formal entries alike",
        "mpf_informal": f"{open_note}; a fee of informal entries only: its amount is not known",
    }
    money = {row["component"]: row for row in result.summary["money"]["by_component"]}
    assert (money["mpf_informal"]["rows"], money["mpf_informal"]["unknown_amounts"]) == (0, 1)
    assert (money["express_consignment"]["rows"], money["express_consignment"]["amount_usd"]) == (1, "1.31")
    assert result.summary["money"]["packages_with_unknown_fees"] == 1
    result.write(tmp_path / "out")
    explained = explain_package(tmp_path / "out", "COIL")
    assert explained["entry"]["open"] == open_note.removeprefix("entry type open: ").removesuffix(
        ": informal or formal"
    )
    text = render_text(explained)
    assert "  entry type: open, informal or formal  (rule informal-limit-2500;" in text
    assert (
        "  entry type open: Chapter 99 articles charged $0.00 and $1000.00 of articles whose Chapter 99 duty is"
        " open, against the $250.00 informal limit for them (informal-limit-2500, unconfirmed)"
    ) in text.splitlines()
    assert "fees unknown (fees-unknown: the entry type is open)" in text


def test_a_package_takes_its_most_severe_line_reason(screen_lines: Screen) -> None:
    result = screen_lines(
        {"line_no": "1", "declared_value": "10"},
        {"line_no": "2", "declared_value": "10", "hts_code": "2204.21.50.40"},
    )
    assert reasons(result) == {"P1": "dm-excluded-excise"}
    assert result.lines["de_minimis_reason"].to_list() == ["dm-excluded-excise"] * 2


def test_a_package_with_a_line_of_unknown_duty_has_unknown_duty_and_its_worst_line_s_status(
    screen_lines: Screen,
) -> None:
    """CN shirt (duty $27.00) + CN 7317.00 (a code too short to rate) on 2025-09-10: the package's duty and
    total are unknown, not the shirt's duty alone, and its status is the worse of its lines'."""
    day = {"arrival_date": "2025-09-10", "country_of_origin": "CN", "declared_value": "50.00"}
    result = screen_lines({**day, "line_no": "1"}, {**day, "line_no": "2", "hts_code": "7317.00"})
    assert result.lines.select("line_no", "duty_status").rows() == [(1, "assessed"), (2, "needs-longer-hts")]
    assert package_values(result, "duty_status", "duty_usd", "total_due_usd") == {
        "P1": ("needs-longer-hts", None, None)
    }


@pytest.mark.parametrize("order", [["1", "2"], ["2", "1"]], ids=["in_order", "line_2_first"])
def test_a_package_s_origin_is_its_lowest_numbered_line_s_whatever_the_row_order(
    screen_lines: Screen, order: list[str]
) -> None:
    origin = {"1": "DE", "2": "CN"}
    result = screen_lines(*({"line_no": n, "country_of_origin": origin[n]} for n in order))
    assert package_values(result, "country_of_origin") == {"P1": ("DE",)}


def test_eligible_packages_owe_nothing_and_ineligible_ones_owe_mfn(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "P1", "consignee_name": "A", "declared_value": "100"},
        {"package_id": "P2", "consignee_name": "B", "declared_value": "1000"},
    )
    due = dict(result.packages.select("package_id", "duty_usd").iter_rows())
    assert due == {"P1": Decimal("0.00"), "P2": Decimal("165.00")}
    mfn = result.components.filter(pl.col("component") == "mfn")
    assert mfn["package_id"].to_list() == ["P2"]
    assert mfn["heading"].to_list() == ["6109.10.00"]


def test_missing_quantity_for_a_specific_rate_is_not_guessed(screen_lines: Screen) -> None:
    result = screen_lines({"hts_code": "2204.21.50.40", "quantity": None, "declared_value": "20"})
    package = result.packages.row(0, named=True)
    assert package["duty_status"] == "needs-quantity"
    assert package["duty_usd"] is None
    assert package["total_due_usd"] is None
    # The component that is open says which rate needs what.
    open_duty = result.components.filter(pl.col("amount_usd").is_null(), pl.col("line_no").is_not_null())
    assert open_duty.select("component", "measure_id", "heading").rows() == [
        ("mfn_specific", "mfn", "2204.21.50")
    ]
    assert "quantity" in open_duty["assumption"][0]


def test_a_weight_or_quantity_of_zero_for_a_specific_rate_counts_as_not_given(screen_lines: Screen) -> None:
    """Many manifests write 0 for a weight or count they do not know: beef at 4.4 cents/kg with a weight of 0
    and wine per liter with a quantity of 0 were assessed at $0.00, where a missing one needs the quantity."""
    beef = {"hts_code": "0201.10.05", "country_of_origin": "AU", "quantity": None, "declared_value": "900"}
    result = screen_lines(
        {**beef, "package_id": "BEEF", "gross_weight_kg": "0"},
        {
            **beef,
            "package_id": "WINE",
            "hts_code": "2204.21.50.40",
            "quantity": "0.0",
            "gross_weight_kg": None,
        },
        {**beef, "package_id": "BEEF3", "gross_weight_kg": "3"},
    )
    status = dict(result.packages.select("package_id", "duty_status").iter_rows())
    assert status == {"BEEF": "needs-quantity", "WINE": "needs-quantity", "BEEF3": "assessed"}
    open_duty = result.components.filter(pl.col("amount_usd").is_null(), pl.col("line_no").is_not_null())
    assert sorted(open_duty.select("package_id", "component").rows()) == [
        ("BEEF", "mfn_specific"),
        ("WINE", "mfn_specific"),
    ]
    # No specific component at $0.00 beside the open one.
    charged = result.components.filter(
        pl.col("component") == "mfn_specific", pl.col("amount_usd").is_not_null()
    )
    assert charged["package_id"].to_list() == ["BEEF3"]


def test_a_watch_rate_on_case_strap_and_battery_values_is_queued_not_guessed(screen_lines: Screen) -> None:
    # 9102.11.10: 44¢ each + 6% on the case + 14% on the strap + 5.3% on the battery; a manifest line has
    # only the watch's value, so no part of the duty is charged and the line waits for the part values.
    result = screen_lines({"hts_code": "9102.11.10.00", "quantity": "1", "declared_value": "1000"})
    package = result.packages.row(0, named=True)
    assert package["duty_status"] == "needs-part-values"
    assert (package["duty_usd"], package["total_due_usd"]) == (None, None)
    # Nothing is charged; one component without an amount names the rate and why it is open.
    mfn = result.components.filter(pl.col("component").str.starts_with("mfn"))
    assert mfn.select("measure_id", "heading", "amount_usd").rows() == [("mfn", "9102.11.10", None)]
    assert "part_values" in mfn["assumption"][0]
    assert "duty-not-computable" in package["risk_flags"]


def test_a_duty_the_pack_does_not_encode_yields_pack_incomplete_not_a_short_sum(screen_lines: Screen) -> None:
    # Copper articles from KR on 2025-09-15: the copper-content duty is encoded, the duties on the
    # non-copper remainder (reciprocal) are a declared gap of the pack.
    result = screen_lines(
        {
            "country_of_origin": "KR",
            "arrival_date": "2025-09-15",
            "hts_code": "7418.10.00.10",
            "declared_value": "100",
        }
    )
    package = result.packages.row(0, named=True)
    assert package["duty_status"] == "pack-incomplete"
    assert package["duty_usd"] is None
    gaps = result.components.filter(pl.col("amount_usd").is_null())
    assert gaps["measure_id"].to_list() == ["gap-s232-non-metal-content"]
    known = dict(
        result.components.filter(pl.col("amount_usd").is_not_null())
        .select("measure_id", "amount_usd")
        .iter_rows()
    )
    assert known["mfn"] == Decimal("3.00")
    assert known["s232-copper-50"] == Decimal("50.00")


def test_a_postal_line_under_a_regime_without_an_amount_per_item_pays_its_own_duties(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    # A hypothetical all-duties regime for DE beside the CN/HK regime (2025-06): the CN line is charged the
    # $100 per item, the DE line its own duties; the item is not "not computable" for lacking a DE amount.
    pack = tmp_path / "pack"
    shutil.copytree(US_PACK, pack)
    regime = (
        '\n[[postal]]\nid = "postal-de-all-duties"\norigins = ["DE"]\nmethod = "all-duties"\n'
        "effective_from = 2025-05-14\neffective_to = 2025-08-29\n"
        'citation = { instrument = "Hypothetical regime for tests" }\n'
    )
    (pack / "tariff.toml").write_text((pack / "tariff.toml").read_text() + regime)
    common = {"arrival_date": "2025-06-02", "mode": "postal", "declared_value": "50.00"}
    lines = manifest(
        {**common, "country_of_origin": "CN"}, {**common, "line_no": "2", "country_of_origin": "DE"}
    )
    result = screening.screen(lines, rules=screening.load_rules(pack), postal_method="specific")
    package = result.packages.row(0, named=True)
    assert (package["duty_status"], package["duty_usd"]) == ("assessed", Decimal("113.25"))


def test_the_gift_limit_counts_the_day_s_gifts_only(screen_lines: Screen) -> None:
    """$90 gift and a $50 purchase to one person while de minimis is suspended: the gifts total $90, within
    the $100 limit, so the gift passes free; a second $20 gift takes the gifts to $110 and both lose it."""
    day = {"arrival_date": "2025-09-02"}
    within = screen_lines(
        {**day, "package_id": "G1", "declared_value": "90.00", "gift": "true"},
        {**day, "package_id": "B1", "declared_value": "50.00"},
    )
    assert reasons(within) == {"G1": "gift-exempt", "B1": "dm-suspended-all"}
    over = screen_lines(
        {**day, "package_id": "G1", "declared_value": "90.00", "gift": "true"},
        {**day, "package_id": "G2", "declared_value": "20.00", "gift": "true"},
        {**day, "package_id": "B1", "declared_value": "50.00"},
    )
    assert reasons(over) == {"G1": "dm-suspended-all", "G2": "dm-suspended-all", "B1": "dm-suspended-all"}


def test_gifts_of_exactly_the_100_dollar_limit_pass_and_100_01_do_not(screen_lines: Screen) -> None:
    """Bona fide gifts <= $100 are exempt (DOMAIN.md section 2), here while de minimis is suspended (2025-09-02)."""
    day = {"arrival_date": "2025-09-02", "gift": "true"}
    result = screen_lines(
        {**day, "package_id": "G1", "declared_value": "100.00"},
        {**day, "package_id": "G2", "declared_value": "100.01", "consignee_name": "Other"},
    )
    assert package_values(result, "de_minimis_reason", "duty_usd") == {
        "G1": ("gift-exempt", Decimal("0.00")),
        "G2": ("dm-suspended-all", Decimal("16.50")),  # MFN 16.5 % of $100.01 (over the EU all-in 15 %)
    }


def test_lines_carry_the_consignee_day_gift_value_the_gift_limit_was_judged_on(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Two $60 gifts to one person on one day were charged (gifts worth $120, over the $100 limit) and a $60 gift
    beside a $500 purchase passed, but no output column held the gift value that decided it. ``lines`` now has
    ``consignee_day_gift_value_usd``: the whole day's in a whole-day run and in parts, the running total up to
    the package in batches (what each package was judged on)."""
    day = {"arrival_date": "2025-09-15", "gift": "true"}
    frame = manifest(
        {**day, "package_id": "GA1", "consignee_name": "Twin", "declared_value": "60.00"},
        {**day, "package_id": "GD1", "consignee_name": "Mix", "declared_value": "60.00"},
        {**day, "package_id": "GD2", "consignee_name": "Mix", "declared_value": "500.00", "gift": "false"},
        {**day, "package_id": "GA2", "consignee_name": "Twin", "declared_value": "60.00"},
    )
    columns = ["package_id", "consignee_day_value_usd", "consignee_day_gift_value_usd", "de_minimis_reason"]
    whole = screening.screen(frame, rules=us_pack).lines.select(columns).sort("package_id")
    assert whole.rows() == [
        ("GA1", Decimal("120.00"), Decimal("120.00"), "dm-suspended-all"),
        ("GA2", Decimal("120.00"), Decimal("120.00"), "dm-suspended-all"),
        ("GD1", Decimal("560.00"), Decimal("60.00"), "gift-exempt"),
        ("GD2", Decimal("560.00"), Decimal("60.00"), "dm-suspended-all"),
    ]
    path = tmp_path / "day.parquet"
    frame.write_parquet(path)
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    parts = pl.read_parquet(tmp_path / "parts" / "lines.parquet").select(columns).sort("package_id")
    assert_frame_equal(parts, whole)
    batched = screening.screen_batches(frame.iter_slices(1), rules=us_pack).lines.select(columns)
    assert batched.sort("package_id").rows() == [
        ("GA1", Decimal("60.00"), Decimal("60.00"), "gift-exempt"),
        ("GA2", Decimal("120.00"), Decimal("120.00"), "dm-suspended-all"),
        ("GD1", Decimal("60.00"), Decimal("60.00"), "gift-exempt"),
        ("GD2", Decimal("560.00"), Decimal("60.00"), "dm-suspended-all"),
    ]


def test_the_higher_gift_limit_follows_where_a_gift_is_sent_from_not_where_it_was_made(
    screen_lines: Screen,
) -> None:
    """$150 gifts on 2026-03-01 (de minimis suspended): $200 for gifts sent from Guam (19 CFR 10.152), by the
    export country, else the shipper's; a Guam-made gift sent from Germany, or one that says neither, has the
    $100 limit. The limit was keyed on the goods' origin: the first was charged and the second passed free."""
    gift = {"arrival_date": "2026-03-01", "declared_value": "150.00", "gift": "true"}
    result = screen_lines(
        {
            **gift,
            "package_id": "FROM_GU",
            "consignee_name": "A",
            "country_of_origin": "CN",
            "country_of_export": "GU",
        },
        {
            **gift,
            "package_id": "SHIPPER_GU",
            "consignee_name": "B",
            "country_of_origin": "CN",
            "shipper_country": "GU",
        },
        {
            **gift,
            "package_id": "MADE_IN_GU",
            "consignee_name": "C",
            "country_of_origin": "GU",
            "country_of_export": "DE",
        },
        {
            **gift,
            "package_id": "UNSAID",
            "consignee_name": "D",
            "country_of_origin": "GU",
            "shipper_country": None,
        },
    )
    assert reasons(result) == {
        "FROM_GU": "gift-exempt",
        "SHIPPER_GU": "gift-exempt",
        "MADE_IN_GU": "dm-suspended-all",
        "UNSAID": "dm-suspended-all",
    }


def test_a_gift_no_de_minimis_release_passes_is_entered_informal_except_by_post(screen_lines: Screen) -> None:
    """An express or cargo gift after 2025-08-29 read entry type ``de-minimis``, no fees (``none-due``): a Section
    321 release, which ACE has rejected since then (DOMAIN.md 0.3: every parcel needs an entry; 19 CFR 10.152
    enters gifts under informal procedures). So did a $60 gift of 2025-03-10 whose person's day came to $840, over
    the $800 de minimis. Such a gift stays duty-free (``gift-exempt``) on an informal entry, charged the pack's
    informal fees, which say why and that they are assumed; mail (19 CFR 145.32) and a gift within the person's
    $800 before the suspension stay de minimis releases."""
    gift = {"gift": "true", "declared_value": "60.00"}
    suspended = {**gift, "arrival_date": "2025-09-15"}
    result = screen_lines(
        {**suspended, "package_id": "EXPRESS", "consignee_name": "Gail"},
        {
            **gift,
            "package_id": "CARGO",
            "consignee_name": "Gus",
            "arrival_date": "2026-11-20",
            "mode": "cargo",
        },
        {**suspended, "package_id": "MAIL", "consignee_name": "Pat", "mode": "postal"},
        {**gift, "package_id": "OVER", "consignee_name": "Hal"},
        {"package_id": "BOUGHT", "consignee_name": "Hal", "declared_value": "780.00"},
        {**gift, "package_id": "WITHIN", "consignee_name": "Olga"},
    )
    decided = result.packages.select(
        "package_id", "de_minimis_reason", "entry_type", "entry_rule_id", "duty_usd", "fees_usd", "fee_status"
    )
    informal = ("gift-exempt", "informal")
    assert decided.sort("package_id").rows() == [
        ("BOUGHT", "dm-over-threshold", "informal", "informal-limit-2500", Decimal("128.70"), Decimal("3.93"),
         "assessed-unconfirmed"),
        ("CARGO", *informal, "informal-limit-2500-ch99-clause-suspended", Decimal("0.00"), Decimal("2.69"),
         "assessed-unconfirmed"),
        ("EXPRESS", *informal, "informal-limit-2500-ch99-clause-suspended", Decimal("0.00"), Decimal("3.93"),
         "assessed-unconfirmed"),
        ("MAIL", "gift-exempt", "de-minimis", "gift-100", Decimal("0.00"), Decimal("0.00"), "none-due"),
        ("OVER", *informal, "informal-limit-2500", Decimal("0.00"), Decimal("3.93"), "assessed-unconfirmed"),
        ("WITHIN", "gift-exempt", "de-minimis", "gift-100", Decimal("0.00"), Decimal("0.00"), "none-due"),
    ]  # fmt: skip
    assert result.lines.filter(pl.col("package_id") == "EXPRESS")["de_minimis_eligible"].to_list() == [True]
    # The entry's fees (not cargo's harbor maintenance fee, whose own note says it may not be owed).
    fees = result.components.filter(pl.col("line_no").is_null(), pl.col("component") != "hmf")
    notes = dict(fees.group_by("package_id").agg(pl.col("assumption").unique()).iter_rows())
    assert set(notes) == {"BOUGHT", "CARGO", "EXPRESS", "OVER"}
    assert notes["BOUGHT"] == [None]
    for package_id, why in [
        ("EXPRESS", "eo14324-all is in force"),
        ("CARGO", "eo-2026-02-20-all is in force"),
        ("OVER", "the consignee's day is worth $840.00, over the $800.00 threshold (threshold-800)"),
    ]:
        (note,) = notes[package_id]
        assert note.startswith(
            f"informal entry of a gift: gift-100 passes it free of duty, but no de minimis release does ({why})"
        )
        assert "UNCONFIRMED" in note, note


def test_a_package_names_the_rule_of_its_lowest_numbered_worst_line(screen_lines: Screen) -> None:
    """Two lines with the same (worst) reason from different rules: the package names line 1's rule, in
    either order of the lines."""
    wine = {"hts_code": "2204.21.50.40", "description": "red wine"}
    cigars = {"hts_code": "2402.10.30.00", "description": "cigars"}
    for first, second, rule in ((wine, cigars, "excise-alcohol"), (cigars, wine, "excise-tobacco")):
        result = screen_lines({**first, "line_no": "1"}, {**second, "line_no": "2"})
        package = result.packages.row(0, named=True)
        assert package["de_minimis_reason"] == "dm-excluded-excise"
        assert package["de_minimis_rule_id"] == rule


def test_a_pack_covers_dates_before_its_covers_to_only(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack)
    toml = pack / "pack.toml"
    toml.write_text(
        toml.read_text().replace(
            "covers_from = 2016-03-10", "covers_from = 2016-03-10\ncovers_to = 2026-01-01"
        )
    )
    result = screening.screen(
        manifest(
            {"package_id": "IN", "arrival_date": "2025-12-31"},
            {"package_id": "OUT", "arrival_date": "2026-01-01"},
        ),
        rules=screening.load_rules(pack),
    )
    assert result.packages["package_id"].to_list() == ["IN"]
    assert result.rejects.select("package_id", "code").rows() == [("OUT", "date-outside-pack")]


def test_mode_is_read_in_any_case(screen_lines: Screen) -> None:
    result = screen_lines(
        {"package_id": "A", "mode": "EXPRESS"},
        {"package_id": "B", "mode": " Postal "},
        {"package_id": "C", "mode": "cargo"},
    )
    assert result.rejects.height == 0
    assert dict(result.packages.select("package_id", "mode").iter_rows()) == {
        "A": "express",
        "B": "postal",
        "C": "cargo",
    }


def test_an_arrival_timestamp_with_a_time_zone_is_dated_in_the_pack_s_zone(
    tmp_path: Path, manifest: Callable[..., pl.DataFrame], us_pack: screening.RulePack
) -> None:
    """EO 14324 took effect at 12:01 a.m. EDT on 2025-08-29 (DOMAIN §1): 03:00 UTC that day is still 08-28 in
    the East, 22:00 PDT on 08-28 already 08-29. Timestamps without a zone keep the date they give."""
    at = [
        dt.datetime(2025, 8, 29, 3, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 8, 28, 22, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
        dt.datetime(2025, 8, 29, 3, 0, tzinfo=dt.UTC),
    ]
    frame = manifest(
        {"package_id": "UTC", "consignee_name": "A"},
        {"package_id": "PDT", "consignee_name": "B"},
        {"package_id": "LOCAL", "consignee_name": "C"},
    ).drop("arrival_date")
    aware = frame.with_columns(pl.Series("arrival_date", at).dt.convert_time_zone("UTC"))
    naive = aware.with_columns(pl.col("arrival_date").dt.replace_time_zone(None))
    packages = screening.screen(aware, rules=us_pack).packages
    assert packages.select("package_id", "arrival_date", "de_minimis_reason").rows() == [
        ("LOCAL", dt.date(2025, 8, 28), "dm-eligible"),
        ("PDT", dt.date(2025, 8, 29), "dm-suspended-all"),
        ("UTC", dt.date(2025, 8, 28), "dm-eligible"),
    ]
    # As UTC wall times without their zone: each the date it shows.
    local = screening.screen(naive, rules=us_pack).packages
    assert local.select("package_id", "arrival_date").rows() == [
        ("LOCAL", dt.date(2025, 8, 29)),
        ("PDT", dt.date(2025, 8, 29)),
        ("UTC", dt.date(2025, 8, 29)),
    ]
    # A pack without a zone dates such timestamps in UTC, whatever their zone (in its own, 22:00 PDT was 08-28).
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack)
    toml = pack / "pack.toml"
    toml.write_text(toml.read_text().replace('time_zone = "America/New_York"\n', ""))
    pacific = aware.with_columns(pl.col("arrival_date").dt.convert_time_zone("America/Los_Angeles"))
    in_utc = screening.screen(pacific, rules=screening.load_rules(pack)).packages
    assert in_utc.select("package_id", "arrival_date").rows() == [
        ("LOCAL", dt.date(2025, 8, 29)),
        ("PDT", dt.date(2025, 8, 29)),
        ("UTC", dt.date(2025, 8, 29)),
    ]


def test_a_pack_s_time_zone_must_be_known(tmp_path: Path) -> None:
    pack = tmp_path / "us"
    shutil.copytree(US_PACK, pack)
    toml = pack / "pack.toml"
    toml.write_text(toml.read_text().replace('"America/New_York"', '"America/Atlantis"'))
    with pytest.raises(screening.RulePackError, match="America/Atlantis"):
        screening.load_rules(pack)


def test_a_subheading_is_never_eligible_when_every_tariff_line_under_it_is_in_the_class(
    screen_lines: Screen,
) -> None:
    """AD/CVD honey from CN is 0409.00.00, the one tariff line of subheading 0409.00: a 6-digit code is in the
    class. Of the six lines of 7317.00 the CN nails order names two: the subheading is not judged in it, and its
    eligibility is left open (the package is not released: it takes the class's reason and rule)."""
    result = screen_lines(
        {"package_id": "H6", "consignee_name": "A", "country_of_origin": "CN", "hts_code": "0409.00"},
        {"package_id": "H8", "consignee_name": "B", "country_of_origin": "CN", "hts_code": "0409.00.00"},
        {"package_id": "DE", "consignee_name": "C", "country_of_origin": "DE", "hts_code": "0409.00"},
        {"package_id": "N6", "consignee_name": "D", "country_of_origin": "CN", "hts_code": "7317.00"},
        {"package_id": "N8", "consignee_name": "E", "country_of_origin": "CN", "hts_code": "7317.00.55"},
    )
    decided = result.packages.select(
        "package_id", "de_minimis_reason", "de_minimis_rule_id", "fee_status"
    ).rows()
    assert decided == [
        ("DE", "dm-eligible", "threshold-800", "none-due"),
        ("H6", "dm-excluded-adcvd", "adcvd-cn-honey", "assessed-unconfirmed"),
        ("H8", "dm-excluded-adcvd", "adcvd-cn-honey", "assessed-unconfirmed"),
        ("N6", "dm-excluded-adcvd", "adcvd-cn-steel-nails", "fees-unknown"),
        ("N8", "dm-excluded-adcvd", "adcvd-cn-steel-nails", "assessed-unconfirmed"),
    ]


def test_a_short_code_a_never_eligible_class_covers_in_part_leaves_eligibility_open(
    screen_lines: Screen, tmp_path: Path
) -> None:
    """DE cheese declared as 0406.90 on 2025-06-01 was released de minimis (dm-eligible, nothing due, no flag),
    though most 8-digit lines of the subheading are tariff-rate quota goods, which never take de minimis (DOMAIN.md
    2), and 0406.90.84 paid duty and fees; mail under a postal regime already left such a question open. The longer
    code decides, so the package is not released: it takes the reason and rule the class would give the line (its
    suspension's, for a gift after 2025-08-29), the line is ``needs-longer-hts``, the fees have no amount and say
    why (``fees-unknown``), and the package is flagged and queued. Mail with no postal regime in force is no
    different. A settled code (0406.90.84 in the class, 0406.90.05.00 outside it), a package ineligible anyway
    (over the threshold) and perfume of $5 or less (whose excise class is waived: 3303.00 holds perfume without
    alcohol too) are decided as before."""
    cheese = {
        "country_of_origin": "DE",
        "arrival_date": "2025-06-01",
        "description": "cheese",
        "declared_value": "60.00",
        "mode": "express",
        "gift": "false",
    }
    result = screen_lines(
        {**cheese, "package_id": "SHORT", "consignee_name": "A", "hts_code": "0406.90"},
        {**cheese, "package_id": "MAIL", "consignee_name": "B", "hts_code": "0406.90", "mode": "postal"},
        {**cheese, "package_id": "TRQ", "consignee_name": "C", "hts_code": "0406.90.84"},
        {**cheese, "package_id": "OUTSIDE", "consignee_name": "D", "hts_code": "0406.90.05.00"},
        {
            **cheese,
            "package_id": "OVER",
            "consignee_name": "E",
            "hts_code": "0406.90",
            "declared_value": "900.00",
        },
        {
            **cheese,
            "package_id": "GIFT",
            "consignee_name": "F",
            "hts_code": "0406.90",
            "gift": "true",
            "arrival_date": "2025-09-15",
        },
        {
            **cheese,
            "package_id": "SCENT4",
            "consignee_name": "G",
            "hts_code": "3303.00",
            "declared_value": "4.00",
        },
        {
            **cheese,
            "package_id": "SCENT50",
            "consignee_name": "H",
            "hts_code": "3303.00",
            "declared_value": "50.00",
        },
    )
    packages = result.packages.sort("package_id")
    columns = ("package_id", "de_minimis_reason", "de_minimis_rule_id", "de_minimis_eligible", "entry_type")
    assert packages.select(*columns, "fee_status").rows() == [
        ("GIFT", "dm-suspended-all", "eo14324-all", False, "informal", "fees-unknown"),
        ("MAIL", "dm-excluded-quota", "quota-trq", False, "informal", "fees-unknown"),
        ("OUTSIDE", "dm-eligible", "threshold-800", True, "de-minimis", "none-due"),
        ("OVER", "dm-over-threshold", "threshold-800", False, "informal", "assessed-unconfirmed"),
        ("SCENT4", "dm-eligible", "threshold-800", True, "de-minimis", "none-due"),
        ("SCENT50", "dm-excluded-excise", "excise-perfume-alcohol", False, "informal", "fees-unknown"),
        ("SHORT", "dm-excluded-quota", "quota-trq", False, "informal", "fees-unknown"),
        ("TRQ", "dm-excluded-quota", "quota-trq", False, "informal", "assessed-unconfirmed"),
    ]
    opened = packages.filter(pl.col("fee_status") == "fees-unknown")
    assert opened["duty_status"].unique().to_list() == ["needs-longer-hts"]
    assert opened.select(pl.col("fees_usd", "total_due_usd").null_count()).row(0) == (4, 4)
    assert all("duty-not-computable" in flags for flags in opened["risk_flags"])
    assert "release" not in opened["disposition"].to_list()
    fees = result.components.filter(pl.col("package_id") == "SHORT", pl.col("line_no").is_null())
    assert fees["amount_usd"].null_count() == fees.height == 2
    note = (
        "de minimis eligibility open: line 1 (0406.90) has a code that never-eligible class quota-trq "
        "(dm-excluded-quota) covers only in part"
    )
    assert all(a.startswith(note) for a in fees["assumption"]), fees["assumption"].to_list()
    assert all(note in a for a in result.components.filter(pl.col("package_id") == "SHORT")["assumption"])
    result.write(tmp_path / "out")
    explained = explain_package(tmp_path / "out", "SHORT")
    assert explained["decision"]["open"].startswith("line 1 (0406.90) has a code that never-eligible class")
    text = render_text(explained)
    assert "de minimis: open, not released" in text
    assert "fees unknown (fees-unknown: de minimis eligibility is open)" in text
    assert explain_package(tmp_path / "out", "TRQ")["decision"]["open"] is None


def test_a_gift_within_the_limit_stays_duty_free_beside_a_purchase_in_its_package(
    screen_lines: Screen, tmp_path: Path
) -> None:
    """19 U.S.C. 1321(a)(2)(A) exempts articles sent as bona fide gifts. On 2025-09-01 a $60 gift packed with a $20
    purchase (GB toys, express) took the package's reason (dm-suspended-all) and paid $6.00 of reciprocal duty,
    while the same gift packed alone paid none. The gift line stays ``gift-exempt`` and duty-free; the purchase
    line, the package's decision, entry and fees are as before. A gift over the $100 limit pays as a purchase."""
    toys = {
        "country_of_origin": "GB",
        "arrival_date": "2025-09-01",
        "hts_code": "9503.00.00.90",
        "description": "toy",
        "gift": "false",
        "line_no": "1",
    }
    result = screen_lines(
        {**toys, "package_id": "MIX", "consignee_name": "A", "declared_value": "60.00", "gift": "true"},
        {**toys, "package_id": "MIX", "consignee_name": "A", "declared_value": "20.00", "line_no": "2"},
        {**toys, "package_id": "GIFT", "consignee_name": "B", "declared_value": "60.00", "gift": "true"},
        {**toys, "package_id": "BUY", "consignee_name": "B", "declared_value": "20.00"},
        {**toys, "package_id": "BIG", "consignee_name": "C", "declared_value": "150.00", "gift": "true"},
        {**toys, "package_id": "BIG", "consignee_name": "C", "declared_value": "20.00", "line_no": "2"},
    )
    packages = result.packages.sort("package_id")
    assert packages.select(
        "package_id", "de_minimis_reason", "entry_type", "duty_usd", "fees_usd", "total_due_usd"
    ).rows() == [
        ("BIG", "dm-suspended-all", "informal", Decimal("17.00"), Decimal("3.93"), Decimal("20.93")),
        ("BUY", "dm-suspended-all", "informal", Decimal("2.00"), Decimal("3.93"), Decimal("5.93")),
        ("GIFT", "gift-exempt", "informal", Decimal("0.00"), Decimal("3.93"), Decimal("3.93")),
        ("MIX", "dm-suspended-all", "informal", Decimal("2.00"), Decimal("3.93"), Decimal("5.93")),
    ]
    lines = result.lines.sort("package_id", "line_no").select(
        "package_id",
        "line_no",
        "de_minimis_reason",
        "de_minimis_rule_id",
        "de_minimis_eligible",
        "duty_status",
        "duty_usd",
    )
    assert lines.filter(pl.col("package_id").is_in(["MIX", "BIG"])).rows() == [
        ("BIG", 1, "dm-suspended-all", "eo14324-all", False, "assessed", Decimal("15.00")),
        ("BIG", 2, "dm-suspended-all", "eo14324-all", False, "assessed", Decimal("2.00")),
        ("MIX", 1, "gift-exempt", "gift-100", True, "exempt", Decimal("0.00")),
        ("MIX", 2, "dm-suspended-all", "eo14324-all", False, "assessed", Decimal("2.00")),
    ]
    mixed = result.components.filter(pl.col("package_id") == "MIX", pl.col("line_no").is_not_null())
    assert mixed["line_no"].unique().to_list() == [2]
    result.write(tmp_path / "out")
    gift = explain_package(tmp_path / "out", "MIX")["decision"]["gift"]
    assert gift["applied"]
    assert "its gift lines pass free of duty, while the package takes" in gift["why"]


def test_lines_without_numbers_are_numbered_in_input_order_within_their_package(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Without a line_no column every line of a package was its line 1, and all but the first were rejected as
    copies: a $500 + $400 package was judged on $500 and released."""
    frame = manifest(
        {"package_id": "P1", "declared_value": "500"},
        {"package_id": "P2", "consignee_name": "Z"},
        {"package_id": "P1", "declared_value": "400", "description": "socks"},
    ).drop("line_no")
    result = screening.screen(frame, rules=us_pack)
    assert result.rejects.is_empty()
    assert result.lines.select("package_id", "line_no", "description").rows() == [
        ("P1", 1, "cotton t-shirt"),
        ("P1", 2, "socks"),
        ("P2", 1, "cotton t-shirt"),
    ]
    assert reasons(result) == {"P1": "dm-over-threshold", "P2": "dm-eligible"}
    # Blank numbers follow the package's highest given number.
    mixed = screening.screen(
        manifest(
            {"line_no": ""},
            {"line_no": "4"},
            {"line_no": " "},
            {"package_id": "P2", "consignee_name": "Z", "line_no": ""},
        ),
        rules=us_pack,
    )
    assert mixed.rejects.is_empty()
    assert mixed.lines.select("package_id", "line_no").rows() == [("P1", 4), ("P1", 5), ("P1", 6), ("P2", 1)]
    assert mixed.lines.filter(pl.col("line_no") == 5)["row"].to_list() == [1]


def test_a_package_with_a_rejected_line_is_not_screened_and_counts_toward_no_total(
    screen_lines: Screen,
) -> None:
    """P1's $400 line has a bad HTS code: its $500 line was judged alone and released as a $500 package. Now
    neither is screened, and Anna's other package is judged without them. A missing rate (RUB after 2022)
    rejects its package the same way; a copy of a kept line does not."""
    result = screen_lines(
        {"package_id": "P1", "declared_value": "500"},
        {"package_id": "P1", "line_no": "2", "declared_value": "400", "hts_code": "6109"},
        {"package_id": "P2", "declared_value": "350"},
        {"package_id": "P3", "consignee_name": "Z", "line_no": "1"},
        {"package_id": "P3", "consignee_name": "Z", "line_no": "2", "currency": "RUB"},
        {"package_id": "P4", "consignee_name": "Y"},
        {"package_id": "P4", "consignee_name": "Y"},
    )
    assert reasons(result) == {"P2": "dm-eligible", "P4": "dm-eligible"}
    assert result.lines.filter(pl.col("package_id") == "P2")["consignee_day_value_usd"].to_list() == [
        Decimal("350.00")
    ]
    rejected = result.rejects.select("row", "package_id", "code", "message").rows()
    assert [(row, package, code) for row, package, code, _ in rejected] == [
        (1, "P1", "package-incomplete"),
        (2, "P1", "invalid-hts"),
        (4, "P3", "package-incomplete"),
        (5, "P3", "missing-fx-rate"),
        (7, "P4", "duplicate-line"),
    ]
    assert (
        rejected[0][3]
        == "package P1 has a rejected line (<memory:0> row 2: invalid-hts); none of its lines is screened"
    )
    assert result.summary["counts"]["input_rows"] == result.lines.height + result.rejects.height == 7


#: One line of P1 in two versions: the $10 t-shirt from DE, and a $1,900 laptop from CN.
_SHIRT = {"package_id": "P1", "declared_value": "10.00"}
_LAPTOP = {
    "package_id": "P1",
    "declared_value": "1900.00",
    "country_of_origin": "CN",
    "hts_code": "8471.30.01.00",
    "description": "laptop",
}


@pytest.mark.parametrize("order", [(0, 1, 2), (1, 0, 2), (2, 1, 0)])
def test_a_line_given_in_two_versions_rejects_its_package_whatever_the_row_order(
    screen_lines: Screen, order: tuple[int, int, int]
) -> None:
    """P1's line 1 came twice, as a $10 t-shirt and as a $1,900 CN laptop. Only the key was compared: the first
    version was kept and the other called a copy, so the row order chose between a $10 dm-eligible release and
    a $1,900 formal entry with duty. Neither version is a copy: both are ``conflicting-line`` rejects, P1's
    other line is ``package-incomplete``, and Anna's other package is judged without P1, in any order."""
    rows = [_SHIRT, _LAPTOP, {"package_id": "P1", "line_no": "2", "declared_value": "300"}]
    result = screen_lines(*[rows[i] for i in order], {"package_id": "P2", "declared_value": "700"})
    assert reasons(result) == {"P2": "dm-eligible"}
    assert result.lines["consignee_day_value_usd"].to_list() == [Decimal("700.00")]
    rejected = result.rejects.sort("row")["code"]
    codes = {rows[i]["declared_value"]: code for i, code in zip(order, rejected, strict=True)}
    assert codes == {"10.00": "conflicting-line", "1900.00": "conflicting-line", "300": "package-incomplete"}
    conflicting = result.rejects.filter(pl.col("code") == "conflicting-line")
    assert set(conflicting["field"]) == {"line_no"}
    assert set(conflicting["message"]) == {
        "line_no 1 of package P1 is given 2 times in 2 different versions (they differ in country_of_origin, "
        "hts_code, description, declared_value); none of them is screened, nor the rest of the package: send "
        "the line once"
    }
    assert result.summary["counts"]["input_rows"] == result.lines.height + result.rejects.height == 4


def test_a_line_repeated_with_its_values_written_differently_is_a_copy(screen_lines: Screen) -> None:
    """A repeat equal as validated (``12.3`` and ``12.30``, ``usd`` and `` USD``, a column the engine does not
    read, where the lines stand) is a copy of the line: the first is kept, the repeat is ``duplicate-line``."""
    result = screen_lines(
        {"declared_value": "12.3", "currency": "usd", "note": "first"},
        {"declared_value": "12.30", "currency": " USD", "note": "resent"},
    )
    assert result.lines.select("row", "declared_value").rows() == [(1, Decimal("12.3"))]
    assert result.rejects.select("row", "field", "code").rows() == [(2, "line_no", "duplicate-line")]
    assert "same content" in result.rejects["message"].item()


def test_a_repeat_whose_hts_code_is_dotted_otherwise_or_whose_id_is_a_placeholder_is_a_copy(
    screen_lines: Screen,
) -> None:
    """``6109.10.00.12`` and ``6109100012`` are one code, and a placeholder id (``nan``) is no id, as every decision
    reads them: such a repeat was ``conflicting-line`` and rejected its whole package."""
    result = screen_lines(
        {"hts_code": "6109.10.00.12", "consignee_id": ""},
        {"hts_code": "6109100012", "consignee_id": "nan"},
    )
    assert result.lines.select("row", "hts_code").rows() == [(1, "6109.10.00.12")]
    assert result.rejects.select("row", "code").rows() == [(2, "duplicate-line")]
    # One id written two ways is one id.
    spelt = screen_lines({"consignee_id": "C-001"}, {"consignee_id": " c001"})
    assert spelt.rejects.select("row", "code").rows() == [(2, "duplicate-line")]
    # A placeholder ZIP is no ZIP, as the key reads it: a copy, not a conflict that rejected the package.
    no_zip = screen_lines({"consignee_postal_code": None}, {"consignee_postal_code": "nan"})
    assert no_zip.rejects.select("row", "code").rows() == [(2, "duplicate-line")]


#: A name in NFD (as macOS and some exports write it): ``e`` and a combining diaeresis, visibly ``ë``.
_ZOE_NFD = unicodedata.normalize("NFD", "Zoë Müller")


@pytest.mark.parametrize("reverse", [False, True], ids=["in order", "reversed"])
@pytest.mark.parametrize(
    ("field", "first", "second", "code"),
    [
        ("consignee_postal_code", "20001", "20001-4321", "conflicting-line"),
        ("consignee_postal_code", "20001-4321", "20001-9999", "conflicting-line"),
        ("consignee_name", "Zoë Müller", _ZOE_NFD, "duplicate-line"),
        ("description", "café filter", unicodedata.normalize("NFD", "café filter"), "duplicate-line"),
    ],
)
def test_a_line_given_twice_written_differently_is_judged_alike_whatever_the_row_order(
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    tmp_path: Path,
    reverse: bool,
    field: str,
    first: str,
    second: str,
    code: str,
) -> None:
    """``20001`` and ``20001-4321`` were compared by their five digits: a copy, the first kept, so the ZIP
    written depended on the row order. They are two versions (``conflicting-line``, both rows), as are two
    ZIP+4 of one ZIP. A name or description written in NFD is the same text in NFC: it was
    ``conflicting-line`` and left the package unscreened; it is a copy. The whole day, the day in parts and
    the Screener agree."""
    values = [second, first] if reverse else [first, second]
    frame = manifest(*[{field: value} for value in values], {"line_no": "2", "description": "socks"})
    whole = screening.screen(frame, rules=us_pack)
    if code == "conflicting-line":
        expected = [(1, "conflicting-line"), (2, "conflicting-line"), (3, "package-incomplete")]
        assert whole.lines.height == 0
    else:
        expected = [(2, "duplicate-line")]
        assert whole.lines.sort("line_no").select("row", "line_no").rows() == [(1, 1), (3, 2)]
        assert whole.lines.filter(pl.col("row") == 1)[field].item() == values[0]  # the first, as a copy is
    assert whole.rejects.sort("row").select("row", "code").rows() == expected
    batched = screening.Screener(us_pack).screen(frame)
    assert batched.rejects.sort("row").select("row", "code").rows() == expected
    screening.screen_to_folder(frame, tmp_path / "parts", rules=us_pack, part_lines=1)
    parts = pl.read_parquet(tmp_path / "parts" / "rejects.parquet")
    assert parts.sort("row").select("row", "code").rows() == expected


def test_every_reject_s_raw_names_every_canonical_field(screen_lines: Screen) -> None:
    """A row rejected in validation (an unknown country) had in ``raw`` only the columns its file has; one rejected
    after it (a copy) every canonical field: a warehouse loading ``raw`` saw keys come and go."""
    result = screen_lines(
        {"package_id": "BAD", "country_of_origin": "ZZ"},
        {"package_id": "P1"},
        {"package_id": "P1"},
    )
    assert sorted(result.rejects["code"].to_list()) == ["duplicate-line", "unknown-country"]
    keys = [list(json.loads(raw)) for raw in result.rejects["raw"].to_list()]
    assert keys[0] == keys[1] == [c.name for c in MANIFEST_COLUMNS]


def test_an_open_duty_names_which_specific_rate_wants_what_and_a_per_item_postal_duty_once(
    us_pack: screening.RulePack, screen_lines: Screen
) -> None:
    # 6505.00.08: 13.5 cents/kg + 1.9 cents each; the weight is given, the count is not.
    result = screen_lines(
        {"hts_code": "6505.00.08.00", "quantity": None, "gross_weight_kg": "2", "declared_value": "900"}
    )
    own = result.components.filter(
        pl.col("line_no").is_not_null(), pl.col("component").str.starts_with("mfn")
    )
    assert own.select("component", pl.col("amount_usd").is_null()).rows() == [
        ("mfn", False),
        ("mfn_specific", False),
        ("mfn_specific_2", True),
    ]
    # Mail charged per item: the package's component names the open per-item duty; no line adds another.
    postal = {**BASE_LINE, "mode": "postal", "country_of_origin": "DE", "arrival_date": "2025-09-15"}
    per_item = screening.screen(pl.DataFrame([postal]), rules=us_pack, postal_method="specific")
    assert per_item.components.filter(pl.col("amount_usd").is_null()).select(
        "line_no", "component"
    ).rows() == [(None, "postal_specific")]


def test_mail_charged_per_item_leaves_its_lines_without_a_duty_of_their_own(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Under the specific postal method a CN t-shirt line read duty 0.00 ``assessed`` while its package owed
    $100 per item in a package-level component: the lines' duties did not add up to the package's, and
    explain printed "duty $0.00 (assessed)". Such a line is now ``charged-per-item`` with no duty; the
    package's duty (the item's amount plus any line charged its own duties) and total are unchanged, and no
    risk rule takes the line for one whose duty could not be computed."""
    common = {**BASE_LINE, "package_id": "M1", "mode": "postal", "arrival_date": "2025-06-02"}
    lines = [
        {**common, "country_of_origin": "CN", "declared_value": "50.00"},
        {**common, "line_no": "2", "country_of_origin": "DE", "declared_value": "50.00"},
    ]
    result = screening.screen(pl.DataFrame(lines), rules=us_pack, postal_method="specific")
    assert result.lines.sort("line_no").select("duty_status", "duty_usd").rows() == [
        ("charged-per-item", None),
        ("assessed", Decimal("13.25")),  # DE, no postal regime for its origin: MFN 8.25 + reciprocal 5.00
    ]
    package = result.packages.row(0, named=True)
    assert (package["duty_status"], package["duty_usd"]) == ("assessed", Decimal("113.25"))
    assert package["total_due_usd"] == package["duty_usd"] + package["fees_usd"]
    per_item = result.components.filter(pl.col("component") == "postal_specific")
    assert per_item.select("line_no", "amount_usd").rows() == [(None, Decimal("100.00"))]
    assert "duty-not-computable" not in result.flags["rule_id"].to_list()
    assert result.summary["counts"]["packages_by_duty_status"] == {"assessed": 1}
    result.write(tmp_path / "out")
    text = render_text(explain_package(tmp_path / "out", "M1"))
    assert "duty charged per postal item" in text
    assert "duty $0.00" not in text


def test_a_late_reject_shows_its_row_as_given_while_its_message_names_the_package_day(
    screen_lines: Screen,
) -> None:
    """Lines take their package's date and port (its first line's) before the rate check; a reject found then
    (``missing-fx-rate``, ``package-incomplete``) still shows its own row in ``raw``, as the input gave it."""
    result = screen_lines(
        {"package_id": "P1", "line_no": "1", "arrival_date": "2025-03-10", "port_of_entry": "1704"},
        {"package_id": "P1", "line_no": "2", "arrival_date": "2025-03-11", "port_of_entry": "4701"},
        {"package_id": "P1", "line_no": "3", "arrival_date": "2025-03-12", "currency": "RUB"},
    )
    rejects = {r["row"]: r for r in result.rejects.iter_rows(named=True)}
    assert [rejects[r]["code"] for r in (1, 2, 3)] == ["package-incomplete"] * 2 + ["missing-fx-rate"]
    raw = {row: json.loads(rejects[row]["raw"]) for row in (1, 2, 3)}
    assert [raw[r]["arrival_date"] for r in (1, 2, 3)] == ["2025-03-10", "2025-03-11", "2025-03-12"]
    assert raw[2]["port_of_entry"] == "4701"
    # The rate was looked for on the package's day, and the message says so.
    assert "before arrival_date 2025-03-10" in rejects[3]["message"]


def test_a_fee_at_its_minimum_or_maximum_says_so_beside_base_and_rate(screen_lines: Screen) -> None:
    """The MPF row read base $2,500.01 x rate 0.003464 = $33.58 (the minimum), arithmetic that does not add
    up, with no word of the minimum; a fee between its bounds needs no note."""
    day = {"arrival_date": "2026-01-15"}
    result = screen_lines(
        {**day, "package_id": "MIN", "consignee_name": "A", "declared_value": "2500.01"},
        {**day, "package_id": "MAX", "consignee_name": "B", "declared_value": "1000000.00"},
        {**day, "package_id": "MID", "consignee_name": "C", "declared_value": "20000.00"},
    )
    mpf = result.components.filter(pl.col("component") == "mpf_formal")
    got = {r["package_id"]: (r["amount_usd"], r["assumption"]) for r in mpf.iter_rows(named=True)}
    assert got["MIN"] == (Decimal("33.58"), "the fee's minimum of $33.58 applied (base x rate = $8.66)")
    assert got["MAX"] == (Decimal("651.50"), "the fee's maximum of $651.50 applied (base x rate = $3464.00)")
    assert got["MID"] == (Decimal("69.28"), None)


@pytest.mark.parametrize("postal_method", ["ad-valorem", "specific"])
def test_mail_whose_code_covers_barred_goods_and_others_is_not_charged_the_postal_duty(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], postal_method: PostalMethod
) -> None:
    """AD/CVD and quota goods cannot use the postal method. 7317.00 (the steel nails order covers some of its
    lines) and 0406.10 (some lines under quota) were charged the flat postal duty as assessed; the same line
    by express is needs-longer-hts. Now open too, with its fees (postal $0 or an entry's fee: not known)."""
    mail = {
        "mode": "postal",
        "declared_value": "50.00",
        "country_of_origin": "CN",
        "arrival_date": "2025-09-10",
    }
    lines = manifest(
        {**mail, "package_id": "NAILS", "consignee_name": "A", "hts_code": "7317.00"},
        {
            **mail,
            "package_id": "CHEESE",
            "consignee_name": "B",
            "hts_code": "0406.10",
            "country_of_origin": "DE",
            "arrival_date": "2026-03-10",
        },
        {**mail, "package_id": "SHIRT", "consignee_name": "C", "hts_code": "6109.10"},
    )
    result = screening.screen(lines, rules=us_pack, postal_method=postal_method)
    got = {r["package_id"]: r for r in result.packages.iter_rows(named=True)}
    for open_ in ("NAILS", "CHEESE"):
        row = got[open_]
        assert (row["duty_status"], row["duty_usd"], row["fee_status"], row["total_due_usd"]) == (
            "needs-longer-hts",
            None,
            "fees-unknown",
            None,
        ), open_
        duty = result.components.filter(pl.col("package_id") == open_, pl.col("line_no").is_not_null())
        assert duty["amount_usd"].to_list() == [None]
        assert "cannot use the postal method" in duty["assumption"].item()
    assert (got["SHIRT"]["duty_status"], got["SHIRT"]["entry_type"]) == ("assessed", "postal")
    assert got["SHIRT"]["duty_usd"] > 0


def test_quota_tobacco_by_mail_is_barred_from_the_postal_method_though_excise_comes_first(
    screen_lines: Screen,
) -> None:
    """Leaf tobacco 2401.10.63 is in two never-eligible classes: excise (tobacco) and quota (a tariff-rate quota
    line). The line kept only its first class, excise, and so was entered `postal` at the flat rate, though quota
    goods cannot use the postal method (DOMAIN.md §1a). Cigarettes (excise only) stay postal."""
    mail = {"mode": "postal", "arrival_date": "2025-10-01", "declared_value": "50", "quantity": "1"}
    result = screen_lines(
        {**mail, "package_id": "LEAF", "consignee_name": "A", "hts_code": "2401.10.63"},
        {**mail, "package_id": "CIGS", "consignee_name": "B", "hts_code": "2402.20.80"},
    )
    got = {r["package_id"]: r for r in result.packages.iter_rows(named=True)}
    assert got["LEAF"]["de_minimis_reason"] == got["CIGS"]["de_minimis_reason"] == "dm-suspended-all"
    assert got["LEAF"]["entry_type"] == "informal"
    assert got["CIGS"]["entry_type"] == "postal"


def test_the_mpf_on_goods_claimed_under_usmca_is_marked_unsettled(screen_lines: Screen) -> None:
    """A $3,000 cargo entry of MX goods under a USMCA claim was charged the formal MPF as settled (assessed);
    the exemption of originating goods is not in the pack's sources, so the fee reads unconfirmed and says why.
    The same entry without a claim stays settled."""
    cargo = {
        "mode": "cargo",
        "country_of_origin": "MX",
        "declared_value": "3000.00",
        "arrival_date": "2026-01-15",
    }
    result = screen_lines(
        {**cargo, "package_id": "CLAIMED", "consignee_name": "A", "usmca_claim": "true"},
        {**cargo, "package_id": "PLAIN", "consignee_name": "B", "usmca_claim": "false"},
    )
    status = dict(result.packages.select("package_id", "fee_status").iter_rows())
    # PLAIN is settled but for the harbor maintenance fee, which vessel cargo may owe (hmf-cargo: no amount).
    assert status == {"CLAIMED": "assessed-unconfirmed", "PLAIN": "assessed-unconfirmed"}
    mpf = result.components.filter(pl.col("component") == "mpf_formal").sort("package_id")
    assert mpf["amount_usd"].to_list() == [Decimal("33.58"), Decimal("33.58")]
    claimed, plain = mpf["assumption"].to_list()
    assert claimed.startswith("USMCA claim: originating goods may be exempt from the MPF")
    # The README's fee_status table: no fee row of such a package need read unconfirmed; the assumption says why.
    fees = result.components.filter(pl.col("package_id") == "CLAIMED", pl.col("line_no").is_null())
    assert fees.sort("component").select("component", "confidence", "amount_usd").rows() == [
        ("hmf", "unconfirmed", None),
        ("mpf_formal", "confirmed", Decimal("33.58")),
    ]
    assert plain == "the fee's minimum of $33.58 applied (base x rate = $10.39)"


def test_cargo_lists_the_harbor_maintenance_fee_it_may_owe(
    screen_lines: Screen, us_pack: screening.RulePack
) -> None:
    """A $10,000 cargo entry of 2025-10-01 was charged the formal MPF alone, ``fee_status`` ``assessed`` (settled),
    though the harbor maintenance fee (0.125%, 19 CFR 24.24) is owed on vessel cargo, which a manifest's cargo mode
    does not tell from air cargo. It now lists the fee without an amount, its note saying why, left out of the fees
    and total (``assessed-unconfirmed``): no amount is guessed."""
    result = screen_lines(
        {"package_id": "SEA", "mode": "cargo", "arrival_date": "2025-10-01", "declared_value": "10000.00"}
    )
    sea = result.packages.row(0, named=True)
    assert (sea["entry_type"], sea["fees_usd"], sea["fee_status"]) == (
        "formal",
        Decimal("34.64"),
        "assessed-unconfirmed",
    )
    assert sea["total_due_usd"] == sea["duty_usd"] + Decimal("34.64")
    note = next(fee.note for fee in us_pack.fees.fees if fee.id == "hmf-cargo")
    assert "0.125%" in str(note)
    fees = result.components.filter(pl.col("line_no").is_null()).sort("component")
    assert fees.select("component", "measure_id", "amount_usd", "confidence", "assumption").rows() == [
        ("hmf", "hmf-cargo", None, "unconfirmed", note),
        ("mpf_formal", "mpf-formal-fy2026", Decimal("34.64"), "confirmed", None),
    ]


def test_a_fee_of_unknown_amount_says_why(
    screen_lines: Screen, us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Mail of 2026-08-03 (postal informal entry) had a fee row without an amount and without a reason, where every
    other amount left open says why: the fee's note is its assumption, and ``screen explain`` says which fee has no
    amount."""
    result = screen_lines(
        {"package_id": "PIE", "mode": "postal", "arrival_date": "2026-08-03", "declared_value": "100.00"}
    )
    assert result.packages.select("fees_usd", "fee_status").row(0) == (None, "fees-unknown")
    note = next(fee.note for fee in us_pack.fees.fees if fee.id == "postal-informal-entry-fees")
    fees = result.components.filter(pl.col("line_no").is_null())
    assert fees.select("component", "amount_usd", "assumption").rows() == [("postal_entry_fees", None, note)]
    result.write(tmp_path / "out")
    text = render_text(explain_package(tmp_path / "out", "PIE"))
    assert (
        "fees unknown (fees-unknown: postal_entry_fees [postal-informal-entry-fees] has no amount, its assumption"
        " says why)" in text
    )


@pytest.mark.parametrize(
    ("day", "postal_method", "regime"),
    [
        ("2025-09-10", "ad-valorem", "postal-all-ieepa-rate"),
        ("2025-09-10", "specific", "postal-all-ieepa-rate"),
        ("2026-03-01", "ad-valorem", "postal-all-s122"),
    ],
)
def test_a_usmca_claim_on_mail_under_a_postal_regime_says_what_the_pack_leaves_open(
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    day: str,
    postal_method: PostalMethod,
    regime: str,
) -> None:
    """By express the claim spares the goods the IEEPA CA/MX duty (and Section 122); by mail the postal duty
    took those rates and the claim was ignored without a word. The charge stays, with the regime's note."""
    mail = {"mode": "postal", "country_of_origin": "CA", "declared_value": "100.00", "arrival_date": day}
    lines = manifest(
        {**mail, "package_id": "CLAIMED", "consignee_name": "A", "usmca_claim": "true"},
        {**mail, "package_id": "PLAIN", "consignee_name": "B", "usmca_claim": "false"},
    )
    result = screening.screen(lines, rules=us_pack, postal_method=postal_method)
    postal = result.components.filter(pl.col("measure_id") == regime).sort("package_id")
    assert postal["package_id"].to_list() == ["CLAIMED", "PLAIN"]
    assert postal["amount_usd"].is_not_null().all()
    claimed, plain = postal["assumption"].to_list()
    assert claimed.startswith("USMCA claim: DOMAIN.md exempts USMCA goods")
    assert plain is None


def test_a_postal_item_already_at_the_regime_s_highest_amount_owes_it_whatever_its_other_lines(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Per item on 2025-09-10: CN goods (30 %) put the item in the $200 band, the most the regime charges, so a
    DE line (no rate in the pack) cannot change it; the item was not computable. With MX goods (25 %, $160)
    the DE line's band could still raise it: open."""
    item = {"mode": "postal", "arrival_date": "2025-09-10", "declared_value": "40.00"}
    lines = manifest(
        {**item, "package_id": "TOP", "consignee_name": "A", "line_no": "1", "country_of_origin": "CN"},
        {**item, "package_id": "TOP", "consignee_name": "A", "line_no": "2", "country_of_origin": "DE"},
        {**item, "package_id": "BELOW", "consignee_name": "B", "line_no": "1", "country_of_origin": "MX"},
        {**item, "package_id": "BELOW", "consignee_name": "B", "line_no": "2", "country_of_origin": "DE"},
    )
    result = screening.screen(lines, rules=us_pack, postal_method="specific")
    got = {r["package_id"]: (r["duty_status"], r["duty_usd"]) for r in result.packages.iter_rows(named=True)}
    assert got == {"TOP": ("assessed", Decimal("200.00")), "BELOW": ("not-computable", None)}


def test_an_open_postal_amount_per_item_says_why(us_pack: screening.RulePack) -> None:
    """Charged per item under a regime with no amount for the origin (AU mail, 2025-09-05), the package's
    postal_specific row had no amount and no assumption; the same line's ad valorem row says why."""
    mail = {**BASE_LINE, "mode": "postal", "arrival_date": "2025-09-05", "country_of_origin": "AU"}
    result = screening.screen(pl.DataFrame([mail]), rules=us_pack, postal_method="specific")
    row = result.components.filter(pl.col("component") == "postal_specific")
    assert row["amount_usd"].to_list() == [None]
    assert row["assumption"].item() == OPEN_POSTAL_ASSUMPTION


def test_the_specific_postal_method_where_the_regime_offers_none_says_ad_valorem_was_charged(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """postal-all-s122 (2026-02-24 to 07-23) has no amount per item (DOMAIN.md 1a: method B "none found"): under
    ``--postal-method specific`` its mail was charged 10% ad valorem without a word, while the summary said
    ``postal_method: specific``. The ad valorem row now says so; a regime that offers the method charges it."""
    mail = {"mode": "postal", "country_of_origin": "GB", "declared_value": "50.00"}
    lines = manifest(
        {**mail, "package_id": "P14", "consignee_name": "A", "arrival_date": "2026-02-24"},
        {**mail, "package_id": "P15", "consignee_name": "B", "arrival_date": "2026-07-23"},
        {**mail, "package_id": "BAND", "consignee_name": "C", "arrival_date": "2025-09-10"},
    )
    specific = screening.screen(lines, rules=us_pack, postal_method="specific")
    postal = specific.components.filter(pl.col("component").str.starts_with("postal_")).sort("package_id")
    note = "specific method not offered by postal-all-s122: ad valorem charged"
    assert postal.select("package_id", "component", "rate", "amount_usd", "assumption").rows() == [
        ("BAND", "postal_specific", None, Decimal("80.00"), None),
        ("P14", "postal_ad_valorem", Decimal("0.1"), Decimal("5.00"), note),
        ("P15", "postal_ad_valorem", Decimal("0.1"), Decimal("5.00"), note),
    ]
    # Under the ad valorem method nothing was asked that the regime does not offer.
    plain = screening.screen(lines, rules=us_pack, postal_method="ad-valorem")
    assert plain.components.filter(pl.col("component") == "postal_ad_valorem")["assumption"].is_null().all()
    specific.write(tmp_path / "out")
    assert f"assumption: {note}" in render_text(explain_package(tmp_path / "out", "P14"))


def test_mail_over_the_informal_limit_under_a_postal_duty_regime_is_formal_by_an_unconfirmed_assumption(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """DOMAIN.md gives formal entry for goods over $2,500 "or when CBP requires it" (section 4), but not whether
    mail over it leaves the postal duty method (section 1a). CN t-shirts by mail on 2025-05-05: $2,500.00 owed
    the postal 120% ($3,000.00); $2,500.01 was entered formal and charged every duty ($4,225.01) and the formal
    MPF with ``fee_status`` ``assessed`` and no word of the choice. The engine keeps the choice and says it is
    the pack's UNCONFIRMED assumption: on every duty and fee row, in ``fee_status`` and in ``screen explain``.
    Not by cargo (formal over the limit is no assumption there), nor under the postal informal entry of 2026-07-24,
    which charges every duty itself and whose regime records no such assumption."""
    shirts = {"hts_code": "6109.10.00.12", "country_of_origin": "CN", "mode": "postal"}
    lines = manifest(
        {
            **shirts,
            "package_id": "PM1",
            "consignee_name": "A",
            "arrival_date": "2025-05-05",
            "declared_value": "2500.00",
        },
        {
            **shirts,
            "package_id": "PM2",
            "consignee_name": "B",
            "arrival_date": "2025-05-05",
            "declared_value": "2500.01",
        },
        {
            **shirts,
            "package_id": "PM3",
            "consignee_name": "C",
            "arrival_date": "2025-09-10",
            "declared_value": "2500.01",
            "country_of_origin": "GB",
        },
        {
            **shirts,
            "package_id": "PM4",
            "consignee_name": "D",
            "arrival_date": "2026-03-10",
            "declared_value": "2500.01",
            "country_of_origin": "GB",
        },
        {
            **shirts,
            "package_id": "PX",
            "consignee_name": "E",
            "arrival_date": "2025-05-05",
            "declared_value": "2500.01",
            "mode": "cargo",
        },
        {
            **shirts,
            "package_id": "PI",
            "consignee_name": "F",
            "arrival_date": "2026-08-10",
            "declared_value": "2500.01",
            "country_of_origin": "GB",
        },
    )
    result = screening.screen(lines, rules=us_pack)
    packages = result.packages.sort("package_id")
    assert packages.select("package_id", "entry_type", "duty_usd", "fee_status").rows() == [
        ("PI", "formal", Decimal("412.50"), "assessed"),
        ("PM1", "postal", Decimal("3000.00"), "assessed-unconfirmed"),
        ("PM2", "formal", Decimal("4225.01"), "assessed-unconfirmed"),
        ("PM3", "formal", Decimal("662.50"), "assessed-unconfirmed"),
        ("PM4", "formal", Decimal("662.50"), "assessed-unconfirmed"),
        ("PX", "formal", Decimal("4225.01"), "assessed-unconfirmed"),  # the harbor maintenance fee, no amount
    ]
    regimes = {regime.id: regime.formal_entry_note for regime in us_pack.tariff.postal}
    assert regimes["postal-informal-entry"] is None
    for package_id, regime in (
        ("PM2", "postal-cn-hk-120"),
        ("PM3", "postal-all-ieepa-rate"),
        ("PM4", "postal-all-s122"),
    ):
        pack_note = regimes[regime]
        assert pack_note is not None
        assert "UNCONFIRMED" in pack_note
        assert "DOMAIN.md section 4" in pack_note
        note = (
            "formal entry of mail: the postal item is worth $2500.01, over the $2500.00 informal-entry limit, "
            f"while postal regime {regime} is in force: {pack_note}"
        )
        rows = result.components.filter(pl.col("package_id") == package_id)
        duties, fees = rows.filter(pl.col("line_no").is_not_null()), rows.filter(pl.col("line_no").is_null())
        assert duties.height
        assert fees.height
        assert all(str(a).endswith(note) for a in duties["assumption"]), duties["assumption"].to_list()
        assert all(str(a).startswith(note) for a in fees["assumption"]), fees["assumption"].to_list()
    for package_id in ("PM1", "PX", "PI"):
        notes = result.components.filter(pl.col("package_id") == package_id)["assumption"].drop_nulls()
        assert not any("formal entry of mail" in note for note in notes), (package_id, notes.to_list())
    result.write(tmp_path / "out")
    explained = explain_package(tmp_path / "out", "PM2")
    assert explained["entry"]["assumed"] is not None
    assert explained["entry"]["assumed"].startswith("the postal item is worth $2500.01")
    text = render_text(explained)
    assert (
        "entry type assumed: the postal item is worth $2500.01, over the $2500.00 informal-entry limit"
        in text
    )
    assert "(assessed-unconfirmed)" in text
    assert explain_package(tmp_path / "out", "PX")["entry"]["assumed"] is None


def _postal_item_lines() -> pl.DataFrame:
    """The reviewer's two postal items: three CN lines of $0.10 under the 54% regime, two DE lines of $10.05
    under the 10% one."""
    common = {**BASE_LINE, "mode": "postal", "quantity": "1"}
    rows = [
        *(
            {**common, "package_id": "P1", "line_no": str(n), "arrival_date": "2025-06-01"}
            | {"country_of_origin": "CN", "declared_value": "0.10", "consignee_name": "Ann Lee"}
            for n in (1, 2, 3)
        ),
        *(
            {**common, "package_id": "P2", "line_no": str(n), "arrival_date": "2026-03-01"}
            | {"country_of_origin": "DE", "declared_value": "10.05", "consignee_name": "Bo Li"}
            for n in (1, 2)
        ),
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String()))


def test_the_flat_postal_ad_valorem_duty_is_charged_on_the_postal_item_s_value_rounded_once(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """DOMAIN.md 1a: method A is ad valorem on the postal item's value. It was charged and rounded per line, so
    how a filer split an item into lines changed the money: three CN lines of $0.10 at 54% owed 3 x $0.05 =
    $0.15 (the item: $0.30 x 54% = $0.162, $0.16), two DE lines of $10.05 at 10% owed 2 x $1.01 = $2.02 (the
    item: $20.10 x 10% = $2.01). The item's duty is one package-level component, as a duty per item is, and
    its lines read ``charged-per-item`` with no duty of their own: alike whole day, in parts and in batches."""
    path = tmp_path / "mail.parquet"
    _postal_item_lines().write_parquet(path)
    whole = screening.screen(path, rules=us_pack)
    assert whole.packages.select("package_id", "duty_status", "duty_usd", "total_due_usd").rows() == [
        ("P1", "assessed", Decimal("0.16"), Decimal("0.16")),
        ("P2", "assessed", Decimal("2.01"), Decimal("2.01")),
    ]
    postal = whole.components.filter(pl.col("component") == "postal_ad_valorem")
    assert postal.select("package_id", "line_no", "measure_id", "base_usd", "rate", "amount_usd").rows() == [
        ("P1", None, "postal-cn-hk-54", Decimal("0.30"), Decimal("0.54"), Decimal("0.16")),
        ("P2", None, "postal-all-s122", Decimal("20.10"), Decimal("0.10"), Decimal("2.01")),
    ]
    assert set(whole.lines.select("duty_status", "duty_usd").rows()) == {("charged-per-item", None)}
    by_component = {
        (row["component"], row["measure_id"]): row["amount_usd"]
        for row in whole.summary["money"]["by_component"]
        if row["component"] == "postal_ad_valorem"
    }
    assert by_component == {
        ("postal_ad_valorem", "postal-cn-hk-54"): "0.16",
        ("postal_ad_valorem", "postal-all-s122"): "2.01",
    }
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    for name in ("lines", "packages", "components"):
        assert_frame_equal(pl.read_parquet(tmp_path / "parts" / f"{name}.parquet"), getattr(whole, name))
    screener = screening.Screener(us_pack)
    batches = list(screener.screen_all(_postal_item_lines().partition_by("package_id")))
    for name in ("lines", "packages", "components"):
        drop = ["source", "row", "queue_rank"]
        batched = pl.concat([getattr(b, name) for b in batches]).drop(drop, strict=False)
        assert_frame_equal(batched, getattr(whole, name).drop(drop, strict=False))
    whole.write(tmp_path / "out")
    text = render_text(explain_package(tmp_path / "out", "P1"))
    assert "duty charged per postal item (the package's postal_ad_valorem duty)" in text
    assert "package: postal_ad_valorem [postal-cn-hk-54]  base $0.30 x rate 0.54000000 = $0.16" in text
    assert "on the postal item's value: lines 1, 2, 3 (CN at 54%)" in text


def test_a_postal_item_in_another_currency_is_charged_on_the_sum_of_its_lines_usd_values(
    screen_lines: Screen,
) -> None:
    """The item's value is the sum of its lines' ``value_usd`` (each converted to the cent, as the lines output
    states it), the package's ``value_usd``: CNY 10.00 on one line is $1.38 (owes $1.66 at 120%), ten lines of
    CNY 1.00 are 10 x $0.14 = $1.40 (owe $1.68). README: splitting does not change the money in USD only."""
    mail = {"mode": "postal", "arrival_date": "2025-05-10", "country_of_origin": "CN", "currency": "CNY"}
    result = screen_lines(
        {**mail, "package_id": "X1", "declared_value": "10.00"},
        *(
            {**mail, "package_id": "X2", "consignee_name": "Bob", "line_no": str(n), "declared_value": "1.00"}
            for n in range(1, 11)
        ),
    )
    packages = result.packages.sort("package_id").select("package_id", "value_usd", "duty_usd").rows()
    assert packages == [("X1", Decimal("1.38"), Decimal("1.66")), ("X2", Decimal("1.40"), Decimal("1.68"))]
    postal = result.components.filter(pl.col("component") == "postal_ad_valorem").sort("package_id")
    assert postal["base_usd"].to_list() == [Decimal("1.38"), Decimal("1.40")]
    lines = result.lines.group_by("package_id").agg(pl.col("value_usd").sum()).sort("package_id")
    assert lines["value_usd"].to_list() == postal["base_usd"].to_list()


def test_an_item_of_several_origin_rates_pays_each_rate_on_its_lines_value_rounded_once_per_rate(
    us_pack: screening.RulePack,
) -> None:
    """Under the origin's IEEPA rate (2025-09-10), an item of CN goods (30%) and MX goods (25%) pays each rate
    on the value of its lines of that rate, rounded once per rate: CN $0.10 x 30% = $0.03 (per line it was
    2 x $0.02) and MX $0.20 x 25% = $0.05 (per line 2 x $0.03): $0.08, where the per-line sum was $0.10."""
    common = {**BASE_LINE, "package_id": "M1", "mode": "postal", "arrival_date": "2025-09-10"}
    lines = [
        {**common, "line_no": "1", "country_of_origin": "CN", "declared_value": "0.05"},
        {**common, "line_no": "2", "country_of_origin": "MX", "declared_value": "0.10"},
        {**common, "line_no": "3", "country_of_origin": "CN", "declared_value": "0.05"},
        {**common, "line_no": "4", "country_of_origin": "MX", "declared_value": "0.10"},
    ]
    result = screening.screen(pl.DataFrame(lines), rules=us_pack)
    assert result.packages.select("duty_status", "duty_usd").row(0) == ("assessed", Decimal("0.08"))
    postal = result.components.filter(pl.col("component") == "postal_ad_valorem")
    assert postal.select("line_no", "measure_id", "base_usd", "rate", "amount_usd").rows() == [
        (None, "postal-all-ieepa-rate", Decimal("0.20"), Decimal("0.25"), Decimal("0.05")),
        (None, "postal-all-ieepa-rate", Decimal("0.10"), Decimal("0.30"), Decimal("0.03")),
    ]
    assert result.lines["duty_status"].to_list() == ["charged-per-item"] * 4
