"""Float columns read as the numbers they were written as: whole numbers each type holds exactly, and the
shortest decimal of a narrow float."""

from __future__ import annotations

import polars as pl

#: Bits of the integers each float type holds exactly (its mantissa's): every integer below 2^bits, none
#: beyond it for certain (2^53 + 1 stored in a Float64 is 2^53, 2049 in a Float16 is 2048).
EXACT_INTEGER_BITS: dict[type[pl.DataType], int] = {pl.Float16: 11, pl.Float32: 24, pl.Float64: 53}
#: The decimal places a Float16's shortest decimal is sought at: from tens of thousands (its largest value is
#: 65504) to 10^-8 (its smallest, 2^-24, is about 6e-8).
_FLOAT16_PLACES = range(-4, 9)


def exact_integer_bits(dtype: pl.DataType) -> int:
    """The bits of the integers float type ``dtype`` holds exactly (:data:`EXACT_INTEGER_BITS`)."""
    return EXACT_INTEGER_BITS[type(dtype)]


def arithmetic(number: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A float of type ``dtype`` in a type whose arithmetic holds: a Float16 as the Float32 of the same value
    (polars 2.1 floors a Float16 to itself: 1.5 read as a whole number), others as they are."""
    return number.cast(pl.Float32()) if dtype == pl.Float16() else number


def beyond_exact_integers(number: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Whether a float (of type ``dtype``) is too large for its type to hold every integer near it: from
    2^bits up (:data:`EXACT_INTEGER_BITS`), its value may be another number's rounding (a 32-bit float holds
    ``6109100012`` as ``6109100032``)."""
    bound: int = 2 ** exact_integer_bits(dtype)
    return arithmetic(number, dtype).abs() >= bound


def exact_whole(number: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Whether a float of type ``dtype`` is a whole number its type holds exactly, as every integer below it
    (below 2^53 in a Float64, 2^24 in a Float32, 2^11 in a Float16): such a float reads as the integer; 2^bits
    itself and larger ones may be another's rounding."""
    wide = arithmetic(number, dtype)
    return wide.is_finite() & (wide == wide.floor()) & ~beyond_exact_integers(number, dtype)


def is_whole(number: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Whether a float of type ``dtype`` is finite and whole, however large."""
    wide = arithmetic(number, dtype)
    return wide.is_finite() & (wide == wide.floor())


def shortest_decimal(number: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A float of type ``dtype`` as the Float64 of its shortest decimal, the decimal it was most likely written
    as: a Float32's 100.2, not its widening 100.19999694824219; a Float16's 20.4, not 20.40625 (for a Float16,
    the value rounded to the fewest decimal places that still reads back as it, which next to a power of two
    may be a digit longer than the shortest: 2^-6 is 0.015625, not 0.01563). A Float64 is its own; a value that
    is not finite stays as it is."""
    if dtype == pl.Float32():
        # polars writes a Float32 as its own shortest text.
        return number.cast(pl.String()).cast(pl.Float64(), strict=False)
    if dtype != pl.Float16():
        return number.cast(pl.Float64())
    # polars writes a Float16 digit for digit (20.40625): its value is rounded to each number of places,
    # coarsest first, and the first that reads back as the same Float16 is taken.
    wide = number.cast(pl.Float64())

    def reads_back(places: int) -> pl.Expr:
        down, up = pl.lit(10.0 ** max(-places, 0)), pl.lit(10.0 ** max(places, 0))
        return _rounded(wide, down, up).cast(pl.Float16()) == number

    places = pl.coalesce(
        *[pl.when(reads_back(each)).then(pl.lit(each, dtype=pl.Int64())) for each in _FLOAT16_PLACES]
    )
    # Scales per row, not literals: polars divides by a literal as it multiplies by its inverse (6 / 10^8 came
    # out 6.000000000000001e-08), by a column exactly.
    up = pl.lit(10, dtype=pl.Int64()).pow(places.clip(lower_bound=0)).cast(pl.Float64())
    down = pl.lit(10, dtype=pl.Int64()).pow((-places).clip(lower_bound=0)).cast(pl.Float64())
    return pl.when(places.is_not_null()).then(_rounded(wide, down, up)).otherwise(wide)


def _rounded(number: pl.Expr, down: pl.Expr, up: pl.Expr) -> pl.Expr:
    """``number`` rounded to a multiple of ``down / up`` (one of them 1: tens with ``down`` 10, tenths with
    ``up`` 10)."""
    return (number / down * up).round() * down / up
