"""HTS code expressions: normalise to digits and take prefixes."""

from __future__ import annotations

import polars as pl

from screening.exprs.floats import exact_whole

#: A valid code after removing dots and blanks: 6, 8 or 10 digits.
VALID_HTS_DIGITS = r"^[0-9]{6}([0-9]{2}){0,2}$"
#: A valid code as written: 6, 8 or 10 digits with dots and blanks anywhere (:func:`is_valid_hts_code`).
VALID_HTS_CODE = r"^(?:[.\s]*[0-9]){6}(?:(?:[.\s]*[0-9]){2}){0,2}[.\s]*$"
#: The digits of a whole number that lost the leading zero of chapters 01 to 09: 5, 7 or 9 digits, the first not a
#: zero (a valid code has 6, 8 or 10, and chapter 00 does not exist, so one zero, and only a leading one, was lost).
LOST_LEADING_ZERO = r"^[1-9](?:[0-9]{2}){2,4}$"


def hts_digits(code: pl.Expr) -> pl.Expr:
    """``'6109.10.00.12'`` → ``'6109100012'`` (dots and blanks removed, nothing else changed)."""
    return code.str.replace_all(r"[.\s]", "")


def hts_code_of_numbers(code: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """An HTS code column of numbers (``dtype``: integers, floats or decimals) as the codes they write: a whole
    number's digits (``6109100012.0`` is ``'6109100012'``), with the leading zero a number of 5, 7 or 9 digits lost
    back (:data:`LOST_LEADING_ZERO`: ``90121`` is ``'090121'``, 0901.21 roasted coffee, not 9012.10
    microscopes); any other value as its text (``'6109.1'``, a float too large to hold its digits exactly: no
    code, an ``invalid-hts`` reject)."""
    if dtype.is_float():
        whole = exact_whole(code, dtype)
        digits = pl.when(whole).then(code).cast(pl.Int64(), strict=False).cast(pl.String())
        return pl.when(whole).then(_leading_zero_back(digits)).otherwise(code.cast(pl.String()))
    text = code.cast(pl.String())  # an integer's digits, a decimal's exact text (``90121.00``)
    if dtype.is_integer():
        return _leading_zero_back(text)
    # A decimal's whole number of 5 to 10 digits is a code as an integer's is; a shorter one is a dotted code
    # written as a decimal (``9503.00``, heading 9503 subheading .00), read as written.
    digits = text.str.extract(r"^([0-9]{5,10})(?:\.0+)?$", 1)
    return pl.when(digits.is_not_null()).then(_leading_zero_back(digits)).otherwise(text)


def hts_code_as_number(code: pl.Expr) -> pl.Expr:
    """An HTS code given as text (trimmed) that writes a whole number of 5 to 10 digits as a float does, with one
    ``.0`` (``'6109100012.0'``, ``'90121.0'``: what a float column saved as text holds), as that number's code, as
    :func:`hts_code_of_numbers` reads the float (``'090121'``); no code's dotted form is so written (its digits
    would be 6 to 11 with the 0). Anything else is the code as written: digits without a decimal point
    (``'90121'`` has 5 digits: ``invalid-hts``), and a dotted code ending in zeros (``'9503.00'``, 9503.00)."""
    digits = code.str.extract(r"^([0-9]{5,10})\.0$", 1)
    return pl.when(digits.is_not_null()).then(_leading_zero_back(digits)).otherwise(code)


def _leading_zero_back(digits: pl.Expr) -> pl.Expr:
    return pl.when(digits.str.contains(LOST_LEADING_ZERO)).then(pl.lit("0") + digits).otherwise(digits)


def is_valid_hts_code(code: pl.Expr) -> pl.Expr:
    """Whether ``code`` has 6, 8 or 10 digits once dots and blanks are removed (``hts_digits`` matches
    :data:`VALID_HTS_DIGITS`), read in one pass without building the digits."""
    return code.str.contains(VALID_HTS_CODE)


def hts_prefix(digits: pl.Expr, length: int) -> pl.Expr:
    """The first ``length`` digits, or null when the code is shorter."""
    return pl.when(digits.str.len_chars() >= length).then(digits.str.slice(0, length)).otherwise(None)


def dotted(digits: pl.Expr) -> pl.Expr:
    """``'61091000'`` → ``'6109.10.00'`` (4.2.2.2 grouping)."""
    return pl.concat_str(
        digits.str.slice(0, 4),
        pl.when(digits.str.len_chars() > 4).then(pl.lit(".") + digits.str.slice(4, 2)).otherwise(pl.lit("")),
        pl.when(digits.str.len_chars() > 6).then(pl.lit(".") + digits.str.slice(6, 2)).otherwise(pl.lit("")),
        pl.when(digits.str.len_chars() > 8).then(pl.lit(".") + digits.str.slice(8, 2)).otherwise(pl.lit("")),
    )
