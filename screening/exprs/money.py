"""Exact money: integer cents, rounded half up, and decimal dollars for output."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Final

import polars as pl

from screening.errors import MoneyLimitError
from screening.schema import MONEY

_HALF = pl.lit(Decimal("0.5"), dtype=pl.Decimal(4, 1))
_CENT = pl.lit(Decimal("0.01"), dtype=pl.Decimal(3, 2))


def to_cents_half_up(dollars: pl.Expr) -> pl.Expr:
    """Non-negative decimal dollars → integer cents, rounding half up (not half to even)."""
    return ((dollars * 100) + _HALF).floor().cast(pl.Int64())


def apply_rate_half_up(cents: pl.Expr, rate: pl.Expr, per: pl.Expr | None = None) -> pl.Expr:
    """``cents × rate`` (an exact decimal rate), divided by the integer ``per`` when given (a rate per dozen:
    12) → integer cents, rounding half up.

    The division comes last: a quotient taken first (5 of a rate per gross: 5/144) is cut to the decimal's
    scale and can round a half cent down. The quotient is taken at 20 decimals: polars rounds it to its
    scale, and a product of a few decimals divided by at most a thousand is never that close to a half cent
    without being one.
    """
    product = cents.cast(pl.Decimal(38, 0)) * rate
    if per is not None:
        product = product.cast(pl.Decimal(38, _QUOTIENT_SCALE)) / per.cast(pl.Decimal(38, 0))
    return (product + _HALF).floor().cast(pl.Int64())


#: Decimals of a product (:func:`exact_product`): 6 of a quantity or declared value, and up to 10 of a rate
#: (a duty rate has 8, an exchange rate 10).
_PRODUCT_SCALE: Final = 16
_QUOTIENT_SCALE: Final = 20


def exact_product(quantity: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """``quantity × rate`` without rounding (polars gives a product the larger scale of the two, rounded:
    3.694073 × 4.06055863 would come out 15.00000000 instead of 14.99999999999999, and 0.31 CAD at
    0.7258064516 USD 0.2250000000 instead of 0.224999999996, a cent too much once rounded half up)."""
    wide = pl.Decimal(38, _PRODUCT_SCALE)
    return quantity.cast(wide) * rate.cast(wide)


def cents_to_money(cents: pl.Expr) -> pl.Expr:
    """Integer cents → exact decimal dollars (``Decimal(18, 2)``)."""
    # A product by 0.01 is exact and about three times faster than a decimal division by 100.
    return (cents.cast(pl.Decimal(18, 0)) * _CENT).cast(MONEY)


#: polars' error for an amount that its cast to the outputs' decimal type (:func:`cents_to_money`) cannot hold.
_BEYOND_MONEY = re.compile(r"to `decimal\[18,\s*\d+\]` failed in column '([^']*)'")


@contextmanager
def money_fits() -> Iterator[None]:
    """Raise :class:`MoneyLimitError`, naming the column and the limit, where the outputs' ``Decimal(18, 2)``
    cannot hold an amount (polars' ``InvalidOperationError`` of that cast); any other error passes as it is."""
    try:
        yield
    except pl.exceptions.InvalidOperationError as exc:
        beyond = _BEYOND_MONEY.search(str(exc))
        if beyond is None:
            raise
        raise MoneyLimitError(
            f"{beyond.group(1)}: a money amount beyond $10^16, the most the outputs' Decimal(18, 2) holds (a "
            "package's or consignee-day's value, duty or total: about ten thousand lines at the $10^12 value "
            "limit); a known limit: nothing is written or recorded"
        ) from exc


def dollar_text(cents: pl.Expr) -> pl.Expr:
    """Non-negative cents as dollar text with two decimals (``3358`` → ``33.58``)."""
    return pl.format("{}.{}", cents // 100, (cents % 100).cast(pl.String()).str.zfill(2))
