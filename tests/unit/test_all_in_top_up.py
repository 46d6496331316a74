""" "All-in" top-ups (15% all-in: the rate less the line's MFN rate, not below 0) over compound MFN rates."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import polars as pl
import pytest

import screening
from screening.stages.assess import _measure_rate

Screen = Callable[..., screening.Result]

#: 6402.91.20: 90 cents/pair + 37.5%, rubber boots: the ad valorem part alone is above 15%.
BOOTS = {
    "hts_code": "6402.91.20.00",
    "arrival_date": "2025-11-13",
    "declared_value": "200.00",
    "quantity": "3",
}


@pytest.mark.parametrize(
    ("origin", "measure"), [("DE", "ieepa-reciprocal-eu-all-in"), ("JP", "ieepa-reciprocal-jp-all-in")]
)
def test_an_all_in_top_up_over_a_compound_rate_at_or_above_the_cap_is_zero(
    screen_lines: Screen, origin: str, measure: str
) -> None:
    """DE/JP boots at 90 cents/pr. + 37.5% were left not-computable ("top-up needs the ad valorem equivalent of
    a specific MFN rate"): with 37.5% alone the MFN rate is over 15%, so the top-up is 0 whatever the 90 cents."""
    result = screen_lines({**BOOTS, "country_of_origin": origin})
    package = result.packages.row(0, named=True)
    # 37.5% x 200 = 75.00 + 3 pairs x 0.90 = 2.70
    assert (package["duty_status"], package["duty_usd"]) == ("assessed", Decimal("77.70"))
    top_up = result.components.filter(pl.col("measure_id") == measure).row(0, named=True)
    assert (top_up["rate"], top_up["amount_usd"]) == (Decimal(0), Decimal("0.00"))
    assert top_up["assumption"] is None


def test_an_all_in_top_up_over_a_compound_rate_at_or_above_the_cap_is_zero_without_the_quantity(
    screen_lines: Screen,
) -> None:
    """The top-up does not depend on the specific part: without the pairs the line waits for the quantity
    (its own MFN specific part), not for the top-up."""
    result = screen_lines({**BOOTS, "country_of_origin": "DE", "quantity": None})
    assert result.packages["duty_status"][0] == "needs-quantity"
    top_up = result.components.filter(pl.col("measure_id") == "ieepa-reciprocal-eu-all-in").row(0, named=True)
    assert (top_up["rate"], top_up["amount_usd"]) == (Decimal(0), Decimal("0.00"))


def test_an_all_in_top_up_over_a_compound_rate_below_the_cap_stays_open(screen_lines: Screen) -> None:
    """0402.29.50 ($1.104/kg + 14.9%): the top-up is 15% less an MFN rate of 14.9% and the ad valorem
    equivalent of the $1.104/kg, which the engine does not compute: left open."""
    result = screen_lines(
        {
            "hts_code": "0402.29.50.00",
            "arrival_date": "2025-11-13",
            "gross_weight_kg": "2",
            "declared_value": "50",
        }
    )
    assert result.packages["duty_status"][0] == "not-computable"
    top_up = result.components.filter(pl.col("measure_id") == "ieepa-reciprocal-eu-all-in").row(0, named=True)
    assert (top_up["rate"], top_up["amount_usd"]) == (None, None)
    assert (
        top_up["assumption"] == "top-up needs the ad valorem equivalent of a specific MFN rate: not computed"
    )


def test_the_top_up_rate_is_known_where_the_ad_valorem_part_alone_meets_the_cap() -> None:
    """The top-up rate by the line's MFN rate: ad valorem only (the rate less it, not below 0); with a specific
    part, 0 where the ad valorem part alone is at or above the cap, else unknown; a rate not computed, unknown."""
    rates = pl.DataFrame(
        {
            "rate_rule": ["top_up", "top_up", "top_up", "top_up", "top_up", "top_up", "fixed"],
            "rate": ["0.15"] * 7,
            "rate_ad_valorem": ["0.10", "0.20", "0.15", "0.149", "0.375", None, None],
            "rate_specific_usd": [None, None, "0.009", "0.463", "0.90", "0.019", None],
            "rate_status": ["computable"] * 4 + ["not-computable", "computable", "computable"],
        },
        schema_overrides={c: pl.Decimal(18, 8) for c in ("rate", "rate_ad_valorem", "rate_specific_usd")},
    )
    top_up = rates.select(_measure_rate().alias("top_up"))["top_up"].to_list()
    assert top_up == [Decimal("0.05"), Decimal(0), Decimal(0), None, None, None, Decimal("0.15")]


@pytest.mark.parametrize(
    ("line", "measure", "heading", "rate", "duty"),
    [
        # 6109.10.00.12, MFN 16.5%: the EU heading for a column 1 rate of 15% or more (nothing added).
        ({"country_of_origin": "DE"}, "ieepa-reciprocal-eu-all-in", "9903.02.19", "0", "16.50"),
        # 9503.00.00.90, MFN free: the heading for a rate under 15% (15% added).
        (
            {"country_of_origin": "DE", "hts_code": "9503.00.00.90"},
            "ieepa-reciprocal-eu-all-in",
            "9903.02.20",
            "0.15",
            "15.00",
        ),
        ({"country_of_origin": "JP"}, "ieepa-reciprocal-jp-all-in", "9903.02.72", "0", "16.50"),
        (
            {"country_of_origin": "KR", "arrival_date": "2025-12-01"},
            "ieepa-reciprocal-kr-all-in",
            "9903.02.79",
            "0",
            "16.50",
        ),
        (
            {"country_of_origin": "CH", "arrival_date": "2025-12-01"},
            "ieepa-reciprocal-ch-all-in",
            "9903.02.82",
            "0",
            "16.50",
        ),
        # A compound MFN rate whose ad valorem part alone (37.5%) is over 15%: the heading of 15% or more.
        ({**BOOTS, "country_of_origin": "DE"}, "ieepa-reciprocal-eu-all-in", "9903.02.19", "0", "77.70"),
    ],
)
def test_an_all_in_top_up_reports_the_heading_of_the_line_s_mfn_rate(
    screen_lines: Screen, line: dict[str, str], measure: str, heading: str, rate: str, duty: str
) -> None:
    """An EU T-shirt (MFN 16.5%) on 2025-09-01 reported 9903.02.20, the EU heading for a column 1 rate under 15%,
    where 9903.02.19 (15% or more, nothing added) applies; the amounts were and are right."""
    result = screen_lines({"arrival_date": "2025-09-01", "declared_value": "100.00", **line})
    package = result.packages.row(0, named=True)
    assert (package["duty_status"], package["duty_usd"]) == ("assessed", Decimal(duty))
    top_up = result.components.filter(pl.col("measure_id") == measure).row(0, named=True)
    assert (top_up["heading"], top_up["rate"]) == (heading, Decimal(rate))
