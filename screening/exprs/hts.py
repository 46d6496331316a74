"""HTS code expressions: normalise to digits and take prefixes."""

from __future__ import annotations

import polars as pl

#: A valid code after removing dots and blanks: 6, 8 or 10 digits.
VALID_HTS_DIGITS = r"^[0-9]{6}([0-9]{2}){0,2}$"
#: A valid code as written: 6, 8 or 10 digits with dots and blanks anywhere (:func:`is_valid_hts_code`).
VALID_HTS_CODE = r"^(?:[.\s]*[0-9]){6}(?:(?:[.\s]*[0-9]){2}){0,2}[.\s]*$"


def hts_digits(code: pl.Expr) -> pl.Expr:
    """``'6109.10.00.12'`` → ``'6109100012'`` (dots and blanks removed, nothing else changed)."""
    return code.str.replace_all(r"[.\s]", "")


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
