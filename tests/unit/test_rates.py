"""Tests of the HTSUS column-1 general rate parser on real rate texts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from screening.rulepack.rates import NOT_COMPUTABLE, ParsedRate, parse_general_rate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Free", ParsedRate(status="computable", ad_valorem=Decimal("0"))),
        ("free", ParsedRate(status="computable", ad_valorem=Decimal("0"))),
        ("6.8%", ParsedRate(status="computable", ad_valorem=Decimal("0.068"))),
        ("16.5%", ParsedRate(status="computable", ad_valorem=Decimal("0.165"))),
        ("  6.8%  ", ParsedRate(status="computable", ad_valorem=Decimal("0.068"))),
        ("1¢/kg", ParsedRate(status="computable", specific_usd=Decimal("0.01"), specific_unit="kg")),
        (
            "46.3¢/kg + 14.9%",
            ParsedRate(
                status="computable",
                ad_valorem=Decimal("0.149"),
                specific_usd=Decimal("0.463"),
                specific_unit="kg",
            ),
        ),
        (
            "$1.02/doz.",
            ParsedRate(status="computable", specific_usd=Decimal("1.02"), specific_unit="dozen"),
        ),
        (
            "0.3¢ each + 4.2%",
            ParsedRate(
                status="computable",
                ad_valorem=Decimal("0.042"),
                specific_usd=Decimal("0.003"),
                specific_unit="each",
            ),
        ),
        (
            "6.3¢/liter",
            ParsedRate(status="computable", specific_usd=Decimal("0.063"), specific_unit="liter"),
        ),
        ("32.8¢/kg", ParsedRate(status="computable", specific_usd=Decimal("0.328"), specific_unit="kg")),
    ],
)
def test_parses_computable_rates_exactly(text: str, expected: ParsedRate) -> None:
    parsed = parse_general_rate(text)
    assert parsed == expected
    for field in ("ad_valorem", "specific_usd"):
        value = getattr(parsed, field)
        assert value is None or isinstance(value, Decimal)


def test_free_is_zero_ad_valorem_without_specific_part() -> None:
    parsed = parse_general_rate("Free")
    assert parsed.ad_valorem == Decimal(0)
    assert parsed.specific_usd is None
    assert parsed.specific_unit is None


def test_compound_rate_order_does_not_matter() -> None:
    assert parse_general_rate("14.9% + 46.3¢/kg") == parse_general_rate("46.3¢/kg + 14.9%")


def test_no_binary_float_error_in_percentages() -> None:
    # 6.8 / 100 in floats is 0.06799999...; the parser must stay in exact decimals.
    assert parse_general_rate("6.8%").ad_valorem == Decimal("0.068")
    assert str(parse_general_rate("46.3¢/kg").specific_usd) == "0.463"


@pytest.mark.parametrize(
    "text",
    [
        "See 9903.88.15",
        "",
        "   ",
        "2.5% on the value of the bottles",
        "1¢/kg + 2% + 3%",
        "2% + 3%",
        "1¢/kg + 2¢/kg",
        "5¢/furlong",
        "ten percent",
    ],
)
def test_not_computable_rates_are_never_guessed(text: str) -> None:
    parsed = parse_general_rate(text)
    assert parsed == NOT_COMPUTABLE
    assert parsed.status == "not-computable"
    assert parsed.ad_valorem is None
    assert parsed.specific_usd is None
    assert parsed.specific_unit is None
