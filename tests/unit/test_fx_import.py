"""Tests of the ECB import that builds the bundled exchange-rate table (``tools/build_us_tables.py``)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import polars as pl
import pytest

from screening.rulepack.fx_import import usd_rates_from_ecb

from ..conftest import US_PACK

#: An excerpt in the ECB file's layout: newest first, N/A for a currency not quoted, a trailing comma.
_ECB = """Date,USD,JPY,HUF,PLN,GBP,RUB,
2025-11-13,1.1619,179.12,384,4.2412,0.88265,N/A,
2021-02-22,1.2133,128,358.6,4.4960,0.86440,89.9900,
2018-09-18,1.1697,130.90,324.52,4.3008,0.88923,79.1750,
2015-12-31,1.0887,131.07,315.98,4.2639,0.73395,80.6736,
"""


def _half_up(usd: str, quote: str) -> Decimal:
    return (Decimal(usd) / Decimal(quote)).quantize(Decimal("1e-10"), rounding=ROUND_HALF_UP)


def test_cross_rates_round_exact_ties_half_up(tmp_path: Path) -> None:
    """1.1619/384 = 0.00302578125 exactly: polars' decimal division rounded the tie half to even, 0.0030257812,
    and HUF 826,234.56 on 2025-11-13 came out $2500.00 (informal) instead of $2500.01 (formal). Every rate is
    now the quotient rounded half up, as the exact decimal arithmetic gives it."""
    csv = tmp_path / "eurofxref-hist.csv"
    csv.write_text(_ECB, encoding="utf-8")
    rates = usd_rates_from_ecb(csv, since=dt.date(2016, 1, 1))
    assert rates.schema["usd_per_unit"] == pl.Decimal(24, 10)
    held = {(c, d.isoformat()): r for c, d, r in rates.select("currency", "date", "usd_per_unit").iter_rows()}
    assert held[("HUF", "2025-11-13")] == Decimal("0.0030257813")
    assert held[("JPY", "2021-02-22")] == Decimal("0.0094789063")  # 1.2133/128 = 0.00947890625
    assert held[("PLN", "2018-09-18")] == Decimal("0.2719726563")  # 1.1697/4.3008 = 0.27197265625
    rows = [line.split(",") for line in _ECB.splitlines()]
    header = rows[0]
    expected = {
        (currency, row[0]): _half_up(row[1], quote)
        for row in rows[1:]
        if row[0] >= "2016-01-01"
        for currency, quote in zip(header[2:-1], row[2:-1], strict=True)
        if quote != "N/A"
    } | {("EUR", row[0]): Decimal(row[1]) for row in rows[1:] if row[0] >= "2016-01-01"}
    assert held == expected  # RUB on 2025-11-13 (N/A) and 2015 dropped
    assert set(rates["source"]) == {"ecb-cross"}


def test_a_quote_with_more_decimals_than_divided_exactly_is_refused(tmp_path: Path) -> None:
    csv = tmp_path / "eurofxref-hist.csv"
    csv.write_text("Date,USD,JPY,\n2025-11-13,1.1619,179.1234567,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="7 decimals"):
        usd_rates_from_ecb(csv, since=dt.date(2016, 1, 1))


def test_the_bundled_table_holds_the_ties_rounded_half_up() -> None:
    """The three exact ties of the bundled table (rebuilt with tools/build_us_tables.py) are rounded half up."""
    table = pl.read_parquet(US_PACK / "fx" / "usd_rates.parquet")
    ties = {("HUF", dt.date(2025, 11, 13)), ("JPY", dt.date(2021, 2, 22)), ("PLN", dt.date(2018, 9, 18))}
    held = {
        (c, d): r
        for c, d, r in table.select("currency", "date", "usd_per_unit").iter_rows()
        if (c, d) in ties
    }
    assert held == {
        ("HUF", dt.date(2025, 11, 13)): Decimal("0.0030257813"),
        ("JPY", dt.date(2021, 2, 22)): Decimal("0.0094789063"),
        ("PLN", dt.date(2018, 9, 18)): Decimal("0.2719726563"),
    }
