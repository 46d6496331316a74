"""Exact money: integer cents, rounded half up, and decimal dollars for output."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Final

import polars as pl

from screening.errors import MoneyLimitError
from screening.schema import MONEY, VALUE

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


#: Decimals of a product (:func:`exact_product`): 6 of a quantity or a part count, and up to 10 of a rate (a
#: duty rate has 8). A value times an exchange rate is :func:`converted_cents`.
_PRODUCT_SCALE: Final = 16
_QUOTIENT_SCALE: Final = 20
_VALUE_SCALE: Final = VALUE.scale
#: The decimals of an exchange rate multiplied at once (:func:`converted_cents`), and the most converted.
_RATE_HEAD: Final = 10
_LONG_RATE_SCALE: Final = 18


def exact_product(quantity: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """``quantity × rate`` without rounding (polars gives a product the larger scale of the two, rounded:
    3.694073 × 4.06055863 would come out 15.00000000 instead of 14.99999999999999, and 0.31 CAD at
    0.7258064516 USD 0.2250000000 instead of 0.224999999996, a cent too much once rounded half up)."""
    wide = pl.Decimal(38, _PRODUCT_SCALE)
    return quantity.cast(wide) * rate.cast(wide)


def converted_cents(value: pl.Expr, rate: pl.Expr, rate_type: pl.DataType) -> pl.Expr:
    """A value in another currency (:data:`~screening.schema.VALUE`: up to 10^12, 12 decimals) times its
    exchange rate (a decimal of ``rate_type``: below :data:`~screening.schema.FX_RATE_BOUND`, up to 18
    decimals) → integer cents, rounded once, half up, from the exact product.

    In integers (DESIGN §7), of the value's units of its 12th decimal ``v`` (up to 10^24) and the rate's units of
    its 10th ``r`` (below 10^14): ``(v·r + 10^20/2) // 10^20``, whose product fits a 128-bit integer (10^38); a
    decimal product held more digits than polars' 38 and was rounded. A rate of 18 decimals adds its last 8
    digits apart (:func:`_rest_of_a_long_rate`). GBP 654.8623454 at 1.2216384187 is 800.00500010... dollars,
    $800.01 (cut to 654.862345 first, it was 800.0049996, $800.00).
    """
    scale = rate_type.scale if isinstance(rate_type, pl.Decimal) else 0
    if scale > _LONG_RATE_SCALE:
        raise ValueError(f"an exchange rate of {scale} decimals: at most {_LONG_RATE_SCALE} are converted")
    units = (value * _power(_VALUE_SCALE)).cast(pl.Int128())
    head = (rate * _power(_RATE_HEAD)).cast(pl.Int128())  # the rate cut to 10 decimals, in units of the 10th
    on_head = units * head
    shift = _VALUE_SCALE + _RATE_HEAD - 2  # the product's decimals, less the cent's 2
    if scale <= _RATE_HEAD:
        return _half_up_division(on_head, shift).cast(pl.Int64())
    return _rest_of_a_long_rate(units, on_head, rate, shift)


def _rest_of_a_long_rate(units: pl.Expr, on_head: pl.Expr, rate: pl.Expr, shift: int) -> pl.Expr:
    """The cents of a value times a rate of 18 decimals: its first 10 decimals (``on_head``, the value's units
    times them) and its last 8 (``tail``, below 10^8) multiplied apart, as ``v·r`` is up to 10^46: with
    ``on_head = q·10^shift + rest``, the cents are ``q + (rest·10^8 + v·tail + 10^(shift+8)/2) //
    10^(shift+8)``, no term above 10^33."""
    places = _LONG_RATE_SCALE - _RATE_HEAD
    scaled = rate * _power(_RATE_HEAD)
    tail = ((scaled - scaled.cast(pl.Int128()).cast(pl.Decimal(38, 0))) * _power(places)).cast(pl.Int128())
    whole = pl.lit(_power(shift), dtype=pl.Int128())
    below = on_head.mod(whole) * _power(places) + units * tail
    return (on_head.floordiv(whole) + _half_up_division(below, shift + places)).cast(pl.Int64())


def _half_up_division(number: pl.Expr, places: int) -> pl.Expr:
    """A non-negative 128-bit integer divided by 10^places, rounded half up."""
    half, divisor = _power(places) // 2, _power(places)
    return (number + pl.lit(half, dtype=pl.Int128())).floordiv(pl.lit(divisor, dtype=pl.Int128()))


def _power(places: int) -> int:
    """10^places (an ``int`` for the type checker: ``10**n`` is ``Any``)."""
    return int(10**places)


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
