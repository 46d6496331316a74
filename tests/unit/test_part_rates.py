"""Rates charged on parts of a good (watches, jewels): computed from ``part_values``, never guessed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

import screening
from screening.rulepack.rates import PartComponent, parse_general_rate, part_components

Screen = Callable[..., screening.Result]

#: 9102.11.10: 44 cents each + 6% on the case + 14% on the strap, band or bracelet + 5.3% on the battery.
WATCH: dict[str, Any] = {
    "hts_code": "9102.11.10.00",
    "country_of_origin": "CH",
    "declared_value": "1000.00",
    "quantity": "1",
}


def duty(result: screening.Result, package_id: str = "P1") -> tuple[str, Decimal | None]:
    row = result.packages.filter(pl.col("package_id") == package_id).row(0, named=True)
    return row["duty_status"], row["duty_usd"]


def test_a_watch_with_its_part_values_is_assessed_component_by_component(screen_lines: Screen) -> None:
    result = screen_lines({**WATCH, "part_values": "case=300; strap=50; battery=2.00"})
    # 0.44 + 6% x 300 + 14% x 50 + 5.3% x 2.00 (0.106, half up 0.11) = 25.55
    assert duty(result) == ("assessed", Decimal("25.55"))
    parts = result.components.filter(pl.col("component").str.starts_with("mfn")).sort("component")
    assert parts.select("component", "base_usd", "amount_usd").rows() == [
        ("mfn_part_battery", Decimal("2.00"), Decimal("0.11")),
        ("mfn_part_case", Decimal("300.00"), Decimal("18.00")),
        ("mfn_part_strap", Decimal("50.00"), Decimal("7.00")),
        ("mfn_specific", None, Decimal("0.44")),
    ]
    assert set(parts["heading"]) == {"9102.11.10"}


def test_a_missing_part_charges_no_part_of_the_rate(screen_lines: Screen) -> None:
    result = screen_lines({**WATCH, "part_values": "case=300; strap=50"})
    assert duty(result) == ("needs-part-values", None)
    # No part is charged: one component without an amount says the part values are wanted.
    mfn = result.components.filter(pl.col("component").str.starts_with("mfn"))
    assert mfn.select("component", "amount_usd").rows() == [("mfn", None)]
    assert "part_values" in mfn["assumption"][0]


def test_part_values_are_in_the_lines_currency(screen_lines: Screen) -> None:
    usd = screen_lines({**WATCH, "part_values": "case=300;strap=50;battery=2"})
    eur = screen_lines({**WATCH, "currency": "EUR", "part_values": "Case = 300 ; STRAP=50 ; battery=2 ;"})
    rate = eur.lines["fx_usd_per_unit"][0]
    case = eur.components.filter(pl.col("component") == "mfn_part_case").row(0, named=True)
    assert case["base_usd"] == (Decimal(300) * rate).quantize(Decimal("0.01"))
    assert duty(eur)[1] is not None
    assert duty(usd)[1] is not None
    assert duty(eur)[1] > duty(usd)[1]  # type: ignore[operator]


def test_jewels_over_seven_are_counted_from_part_values(screen_lines: Screen) -> None:
    # 9105.19.30: 43 cents each + 2.8 cents/jewel over 7 + 3.7% on the case.
    line = {
        "hts_code": "9105.19.30.00",
        "country_of_origin": "CH",
        "declared_value": "900.00",
        "quantity": "2",
    }
    result = screen_lines({**line, "part_values": "jewel=17; case=100"})
    # 2 x 0.43 = 0.86; 2 x (17 - 7) x 0.028 = 0.56 (jewel is one movement's count); 3.7% x 100 = 3.70 -> 5.12
    assert duty(result) == ("assessed", Decimal("5.12"))
    few = screen_lines({**line, "part_values": "jewel=5; case=100"})
    assert duty(few) == ("assessed", Decimal("4.56"))  # no jewel over 7: 0.86 + 0 + 3.70


#: 9105.19.30: 43 cents each + 2.8 cents/jewel over 7 + 3.7% on the case.
CLOCK: dict[str, Any] = {
    "hts_code": "9105.19.30.00",
    "country_of_origin": "CH",
    "declared_value": "900.00",
    "part_values": "case=300; jewel=17",
}


def mfn_rows(result: screening.Result) -> list[tuple[Any, ...]]:
    parts = result.components.filter(pl.col("component").str.starts_with("mfn")).sort("component")
    return parts.select("component", "base_usd", "rate", "amount_usd").rows()


def test_jewels_are_counted_per_article_times_the_quantity(screen_lines: Screen) -> None:
    """jewel=17 is one clock's movement: 2 clocks owe 2 x (17 - 7) x 2.8 cents = $0.56 (were charged $0.28)."""
    two = screen_lines({**CLOCK, "quantity": "2"})
    assert mfn_rows(two) == [
        ("mfn_part_case", Decimal("300.00"), Decimal("0.037"), Decimal("11.10")),
        ("mfn_part_jewel", None, Decimal("0.028"), Decimal("0.56")),
        ("mfn_specific", None, Decimal("0.43"), Decimal("0.86")),
    ]
    assert duty(two) == ("assessed", Decimal("12.52"))  # 0.86 + 0.56 + 11.10
    # A rate per jewel without "over" (9105.99.10: 17 cents each + 2.5% + 1 cent/jewel): 3 x 17 x 1 cent.
    three = screen_lines({**CLOCK, "hts_code": "9105.99.10.00", "quantity": "3", "part_values": "jewel=17"})
    jewel = three.components.filter(pl.col("component") == "mfn_part_jewel")
    assert jewel.select("base_usd", "rate", "amount_usd").rows() == [(None, Decimal("0.01"), Decimal("0.51"))]


def test_one_article_s_jewels_and_no_quantity_charge_no_guess(screen_lines: Screen) -> None:
    """A quantity of 1 charges one movement's jewels; none (or 0) is never taken as 1: the line waits for it."""
    one = screen_lines({**CLOCK, "quantity": "1"})
    assert ("mfn_part_jewel", None, Decimal("0.028"), Decimal("0.28")) in mfn_rows(one)
    assert duty(one) == ("assessed", Decimal("11.81"))  # 0.43 + 0.28 + 11.10
    half = screen_lines({**CLOCK, "quantity": "2", "part_values": "case=300; jewel=17.5"})
    # A fractional count is charged as written: 2 x 10.5 x 0.028 = 0.588, half up 0.59.
    assert ("mfn_part_jewel", None, Decimal("0.028"), Decimal("0.59")) in mfn_rows(half)
    for quantity in (None, "0"):
        assert duty(screen_lines({**CLOCK, "quantity": quantity})) == ("needs-part-values", None)


def test_only_jewels_are_per_article_other_counts_are_the_line_s(screen_lines: Screen) -> None:
    """Proof liters and kilograms of lead content are the line's totals, as the quantity beside them is."""
    result = screen_lines(
        {**CLOCK, "package_id": "JEWEL", "consignee_name": "A", "quantity": "4"},
        # 2204.30.00: 4.4 cents/liter + 31.4 cents/pf. liter; 10 liters holding 3 proof liters.
        {
            "package_id": "WINE",
            "consignee_name": "B",
            "hts_code": "2204.30.00.00",
            "declared_value": "900.00",
            "quantity": "10",
            "part_values": "proof-liter=3",
        },
        # 2620.19.60: 0.7 cents/kg on copper content (quantity) + 0.7 cents/kg on lead content.
        {
            "package_id": "ASH",
            "consignee_name": "C",
            "hts_code": "2620.19.60.00",
            "declared_value": "900.00",
            "quantity": "100",
            "part_values": "kg-lead-content=50",
        },
    )
    counts = (
        result.components.filter(
            pl.col("component").is_in(["mfn_part_jewel", "mfn_part_proof-liter", "mfn_part_kg-lead-content"])
        )
        .sort("package_id")
        .select("package_id", "amount_usd")
        .rows()
    )
    # 4 x 10 x 0.028 = 1.12; 3 x 0.314 = 0.942, half up 0.94; 50 x 0.007 = 0.35.
    assert counts == [("ASH", Decimal("0.35")), ("JEWEL", Decimal("1.12")), ("WINE", Decimal("0.94"))]


def test_malformed_part_values_are_rejected_with_their_own_code(screen_lines: Screen) -> None:
    result = screen_lines(
        {**WATCH, "package_id": "OK", "part_values": "case=1"},
        {**WATCH, "package_id": "BAD", "part_values": "case: 12"},
    )
    assert result.rejects.select("package_id", "field", "code").rows() == [
        ("BAD", "part_values", "invalid-part-values")
    ]


def test_part_values_are_ignored_by_ordinary_rates(screen_lines: Screen) -> None:
    plain = screen_lines({"declared_value": "1000", "part_values": None})
    with_parts = screen_lines({"declared_value": "1000", "part_values": "case=300"})
    assert duty(plain) == duty(with_parts) == ("assessed", Decimal("165.00"))


def test_a_second_count_comes_only_from_part_values() -> None:
    components = part_components(
        '[{"kind":"specific","amount":"0.044","base":"liter"},'
        '{"kind":"specific","amount":"0.314","base":"proof-liter"}]'
    )
    assert components == [
        PartComponent(0, "specific", Decimal("0.044"), "liter", "quantity"),
        PartComponent(1, "specific", Decimal("0.314"), "proof-liter", "part", "proof-liter"),
    ]


def test_a_part_value_past_six_decimals_is_cut_not_rounded_twice(screen_lines: Screen) -> None:
    """case=0.0849999 is $0.08 to the cent: rounded to 6 decimals first (0.085000), it was $0.09."""
    result = screen_lines({**WATCH, "part_values": "case=0.0849999; strap=50; battery=2.00"})
    case = result.components.filter(pl.col("component") == "mfn_part_case").row(0, named=True)
    assert (case["base_usd"], case["amount_usd"]) == (Decimal("0.08"), Decimal("0.00"))


def test_a_quantity_of_zero_leaves_a_part_rate_s_specific_part_open(screen_lines: Screen) -> None:
    """A watch of quantity 0 (what many manifests write for unknown) was assessed at 44 cents each x 0 = $0.00
    for its specific part; it now waits for the quantity, as a missing one does."""
    parts = "case=300; strap=50; battery=2.00"
    zero = screen_lines({**WATCH, "quantity": "0", "part_values": parts})
    missing = screen_lines({**WATCH, "quantity": None, "part_values": parts})
    assert duty(zero) == duty(missing) == ("needs-part-values", None)


#: 9301.90.30: 4.7% on the value of the rifle + 20% on the value of the telescopic sight, if any.
RIFLE: dict[str, Any] = {
    "hts_code": "9301.90.30.00",
    "country_of_origin": "DE",
    "arrival_date": "2026-08-17",
    "declared_value": "500.00",
}


def test_a_part_the_rate_charges_if_any_counts_as_zero_when_not_given(screen_lines: Screen) -> None:
    """A rifle without a telescopic sight owes 4.7% x $500 = $23.50: it was needs-part-values until
    ``telescopic-sight=0`` was written, as if the rate needed a sight."""
    result = screen_lines({**RIFLE, "part_values": "rifle=500"})
    parts = result.components.filter(pl.col("component").str.starts_with("mfn")).sort("component")
    assert parts.select("component", "base_usd", "amount_usd").rows() == [
        ("mfn_part_rifle", Decimal("500.00"), Decimal("23.50")),
        ("mfn_part_telescopic-sight", Decimal("0.00"), Decimal("0.00")),
    ]
    sight = parts.row(1, named=True)
    assert sight["assumption"] == 'telescopic-sight not in part_values: none (the rate charges it "if any")'
    assert parts.row(0, named=True)["assumption"] is None
    given = screen_lines({**RIFLE, "part_values": "rifle=500; telescopic-sight=0"})
    lines = [r.lines.select("duty_status", "duty_usd").row(0) for r in (result, given)]
    assert lines == [("assessed", Decimal("23.50"))] * 2
    with_sight = screen_lines({**RIFLE, "part_values": "rifle=400; telescopic-sight=100"})
    assert with_sight.lines.select("duty_status", "duty_usd").row(0) == ("assessed", Decimal("38.80"))


def test_a_part_the_rate_charges_if_any_does_not_stand_for_the_others(screen_lines: Screen) -> None:
    """Only the sight may be absent: without the rifle's value the rate is open, as with no part values at all."""
    for parts in ("telescopic-sight=100", None):
        result = screen_lines({**RIFLE, "part_values": parts})
        assert duty(result) == ("needs-part-values", None)


def test_a_part_name_the_rate_does_not_know_leaves_an_if_any_part_open(screen_lines: Screen) -> None:
    """``rifle=500; sight=300`` (the sight misspelt) was assessed at 4.7% x $500 = $23.50, the telescopic sight
    "if any" charged on $0, while ``telescopic-sight=300`` owes $83.50: a name unknown to the rate may be the
    part, so the "if any" part is not taken as absent and the line stays needs-part-values, naming the name."""
    typo = screen_lines({**RIFLE, "declared_value": "800.00", "part_values": "rifle=500; sight=300"})
    assert duty(typo) == ("needs-part-values", None)
    assert typo.components.filter(pl.col("component").str.starts_with("mfn_part")).is_empty()
    open_row = typo.components.filter(pl.col("component") == "mfn").row(0, named=True)
    assert open_row["assumption"] == (
        "the rate is charged on parts of the article: not given: telescopic-sight (part_values); sight is not a "
        "part of this rate (its parts: rifle, telescopic-sight)"
    )
    two = screen_lines({**RIFLE, "part_values": "rifle=500; scope=300; optic=1"})
    assert two.components.filter(pl.col("component") == "mfn")["assumption"].to_list() == [
        "the rate is charged on parts of the article: not given: telescopic-sight (part_values); optic, scope "
        "are not parts of this rate (its parts: rifle, telescopic-sight)"
    ]
    named = screen_lines(
        {**RIFLE, "declared_value": "800.00", "part_values": "rifle=500; telescopic-sight=300"}
    )
    assert duty(named) == ("assessed", Decimal("83.50"))
    # With every part named, a name more changes nothing: nothing is taken as absent.
    extra = screen_lines({**RIFLE, "part_values": "rifle=500; telescopic-sight=0; scope=1"})
    assert duty(extra) == ("assessed", Decimal("23.50"))
    # A part the rate needs in any case is named missing, and the unknown name beside it.
    watch = screen_lines({**WATCH, "part_values": "case=300; strp=50; battery=2"})
    assert watch.components.filter(pl.col("component") == "mfn")["assumption"].to_list() == [
        "the rate is charged on parts of the article: not given: strap (part_values); strp is not a part of this "
        "rate (its parts: case, strap, battery)"
    ]


def test_the_open_part_rate_names_what_is_not_given(screen_lines: Screen) -> None:
    """The assumption said only "a part's value or count ... is not given"; it names the parts (and the quantity
    or weight) missing, in the rate's order, not those the rate charges "if any"."""
    result = screen_lines(
        {**WATCH, "package_id": "W", "consignee_name": "A", "part_values": "case=300"},
        {**RIFLE, "package_id": "R", "consignee_name": "B", "part_values": None},
        {**CLOCK, "package_id": "C", "consignee_name": "C", "quantity": None, "part_values": "case=300"},
    )
    open_rows = result.components.filter(pl.col("component") == "mfn").sort("package_id")
    prefix = "the rate is charged on parts of the article: not given: "
    assert open_rows.select("package_id", "amount_usd", "assumption").rows() == [
        ("C", None, prefix + "quantity, jewel (part_values)"),
        ("R", None, prefix + "rifle (part_values)"),
        ("W", None, prefix + "strap (part_values), battery (part_values)"),
    ]


def test_if_any_is_kept_from_the_rate_text() -> None:
    rate = parse_general_rate(
        "4.7% on the value of the rifle + 20% on the value of the telescopic sight, if any"
    )
    assert rate.status == "needs-part-values"
    assert rate.parts is not None
    assert part_components(rate.parts) == [
        PartComponent(0, "ad_valorem", Decimal("0.047"), "rifle", "part", "rifle"),
        PartComponent(
            1, "ad_valorem", Decimal("0.2"), "telescopic-sight", "part", "telescopic-sight", if_any=True
        ),
    ]


def test_a_malformed_if_any_is_not_a_part_the_engine_reads() -> None:
    """``if_any`` is true or false, and only on a part's value: anything else is a pack error, not a guess."""
    for item in (
        '{"kind":"ad_valorem","amount":"0.2","base":"telescopic-sight","if_any":"yes"}',
        '{"kind":"ad_valorem","amount":"0.2","base":"value","if_any":true}',
    ):
        with pytest.raises(TypeError, match="if_any"):
            part_components(f"[{item}]")
