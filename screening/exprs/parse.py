"""Expressions that turn text into typed values without raising: failures become null."""

from __future__ import annotations

import polars as pl

from screening.exprs.floats import exact_whole, shortest_decimal

ISO_DATE = "%Y-%m-%d"
#: An ISO date's text, ASCII digits only: the parser alone read ``2025-08-2``, ``2025-08- 2`` and ``2025-8-29`` as
#: dates (a date cut short in export was screened on 2 August) and ``025-08-29`` as year 25.
_ISO_DATE_TEXT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
#: An ISO 8601 date-time as text (:func:`parse_date_time_text`): date, ``T``, ``t`` or a blank, ``HH:MM``, seconds,
#: optional fractional seconds (any number of digits), optional ``Z``, ``z`` or ``±HH:MM`` (RFC 3339).
_DATE_TIME = r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}):(\d{2})(?:\.\d+)?([Zz]|[+-]\d{2}:\d{2})?$"


def parse_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Parse a string expression as ``dtype``; unparseable values become null.

    Dates must be ISO ``YYYY-MM-DD``, two-digit month and day (:func:`iso_date`); booleans accept true/false, yes/no, y/n, 1/0
    in any case; numbers accept surrounding blanks, and whole numbers zero decimals (``2.0``).
    """
    text = expr.str.strip_chars()
    if dtype == pl.Date():
        return iso_date(text)
    if dtype == pl.Boolean():
        lowered = text.str.to_lowercase()
        return (
            pl.when(lowered.is_in(["true", "yes", "y", "1", "t"]))
            .then(True)
            .when(lowered.is_in(["false", "no", "n", "0", "f", ""]))
            .then(False)
            .otherwise(None)
        )
    if isinstance(dtype, pl.Decimal) and dtype.scale is not None:
        text = _cut_past_scale(plain_decimal(text), dtype.scale)
    if dtype.is_integer():
        # A whole number written with zero decimals (``1.0``, as spreadsheets and float columns export it) is
        # that number, as it is in a typed file.
        text = text.str.replace(r"^([+-]?\d+)\.0*$", "${1}")
    return text.cast(dtype, strict=False)


#: The decimals a float is read to without its text (:func:`_to_decimal`): those that a float below 10^9 holds
#: exactly enough; a float with more takes the text path.
_FLOAT_PLACES = 6
#: The largest exponent of a number in exponent form read as a decimal (:func:`plain_decimal`).
MAX_EXPONENT = 20
_EXPONENT_FORM = r"^([+-]?)(\d+)(?:\.(\d*))?[eE]([+-]?\d{1,4})$"
_ZEROS = "0" * MAX_EXPONENT


def parse_date_time_text(expr: pl.Expr, time_zone: str | None) -> pl.Expr:
    """The date of text that is an ISO date (``YYYY-MM-DD``) or date-time (``YYYY-MM-DDTHH:MM:SS``, ``T``, ``t`` or
    a blank between, optional fractional seconds of any number of digits, optional ``Z``, ``z`` or ``±HH:MM``), as
    a typed column of it is dated (:func:`coerce`): a date-time with an offset is an instant, dated in
    ``time_zone`` (the rule pack's; none: in UTC, as a typed timestamp in a fixed-offset zone is); one without an
    offset gives the date it shows, as a naive timestamp does. A leap second (seconds ``60``) is read as second
    59, the last of its minute: ``23:59:60`` stays in its day. Other text, and an impossible date, time or offset
    (``24:00:00``), is null."""
    text = expr.str.strip_chars()
    date_only = iso_date(text)
    # Only text longer than a date can be a date-time: the rest (nearly every row) reach the parsers as nulls.
    parts = pl.when(text.str.len_bytes() > len("YYYY-MM-DD")).then(text).str.extract_groups(_DATE_TIME)
    # The parser reads second 60 as the next minute's 0 (2025-08-28T23:59:60 was 08-29): a leap second is 59.
    seconds = pl.when(parts.struct[2] == "60").then(pl.lit("59")).otherwise(parts.struct[2])
    shown = pl.concat_str(
        parts.struct[0], pl.lit("T"), parts.struct[1], pl.lit(":"), seconds
    ).str.to_datetime("%Y-%m-%dT%H:%M:%S", time_unit="us", strict=False)
    zone = parts.struct[3].str.to_uppercase()
    hours, minutes = zone.str.slice(1, 2).cast(pl.Int64()), zone.str.slice(4, 2).cast(pl.Int64())
    sign = pl.when(zone.str.starts_with("-")).then(-1).otherwise(1)
    offset = (
        pl.when(zone == "Z")
        .then(pl.lit(0, dtype=pl.Int64()))
        .when((hours < 24) & (minutes < 60))
        .then(sign * (hours * 60 + minutes))
    )
    instant = (shown - pl.duration(minutes=offset)).dt.replace_time_zone("UTC")
    if time_zone is not None:
        instant = instant.dt.convert_time_zone(time_zone)
    timed = pl.when(zone.is_null()).then(shown.dt.date()).otherwise(instant.dt.date())
    return pl.coalesce(date_only, timed)


def iso_date(text: pl.Expr) -> pl.Expr:
    """The date of text written ``YYYY-MM-DD`` exactly (four-digit year, two-digit month and day, ASCII digits,
    nothing around); other text (``2025-08-2``, ``2025-8-29``, ``2025-08- 2``) and an impossible date are null."""
    return pl.when(text.str.contains(_ISO_DATE_TEXT)).then(text).str.to_date(ISO_DATE, strict=False)


def plain_decimal(text: pl.Expr) -> pl.Expr:
    """Trimmed number text with a number in exponent form (``d[.ddd]e±n``, ``n`` up to :data:`MAX_EXPONENT`)
    written out in plain form, digit for digit (``1.5e3`` is ``1500.0``, ``8.000049999e2`` ``800.0049999``,
    ``1e-7`` ``0.0000001``; casting such text rounded it to the scale first: ``800.005``). A number below
    10^-20 is written as one of about 10^-21 (it reads as 0 once cut to a scale up to 20). Other text with an ``e`` (a larger exponent, or not
    in that form) is null; text without one is returned as it is."""
    parts = text.str.extract_groups(_EXPONENT_FORM)
    sign, whole, fraction = parts.struct[0], parts.struct[1], parts.struct[2].fill_null("")
    exponent = parts.struct[3].cast(pl.Int32())
    # The decimal point's place in the digits, then in the digits padded with zeros on both sides.
    point = (whole.str.len_chars().cast(pl.Int32()) + exponent).clip(lower_bound=-MAX_EXPONENT) + MAX_EXPONENT
    digits = pl.concat_str(pl.lit(_ZEROS), whole, fraction, pl.lit(_ZEROS))
    head = digits.str.slice(0, point).str.strip_chars_start("0")
    tail = digits.str.slice(point).str.strip_chars_end("0")
    written = pl.concat_str(
        sign,
        pl.when(head == "").then(pl.lit("0")).otherwise(head),
        pl.lit("."),
        pl.when(tail == "").then(pl.lit("0")).otherwise(tail),
    )
    has_exponent = text.str.contains("[eE]")
    return (
        pl.when(~has_exponent)
        .then(text)
        .when(exponent <= MAX_EXPONENT)
        .then(written)
        .otherwise(pl.lit(None, dtype=pl.String()))
    )


def _cut_past_scale(text: pl.Expr, scale: int) -> pl.Expr:
    """Decimal text without its digits past ``scale`` decimals (a non-negative number in plain form only).

    Cut, not rounded: rounded to the scale and again to the cent later, 800.0049999 became 800.005 and then
    800.01; cut, it is 800.004999, and 800.00 as exact rounding gives (cutting a non-negative value keeps
    every comparison with a shorter number, such as a half cent). A negative value is left to be refused, and
    a number in exponent form to be parsed whole.
    """
    return text.str.replace(rf"^(\+?\d*\.\d{{{scale}}})\d+$", "${1}")


def coerce(
    expr: pl.Expr, source: pl.DataType, target: pl.DataType, *, time_zone: str | None = None
) -> pl.Expr:
    """Bring a column of type ``source`` to ``target``: parse text, convert other types strictly.

    Values that do not convert become null (and the row is rejected by the checks). A timestamp becomes a
    date as given when it has no time zone; with one, in ``time_zone`` when given (the rule pack's zone),
    else in UTC, as text with an offset is (:func:`parse_date_time_text`).
    """
    if source == target:
        return expr
    if source == pl.String():
        return parse_text(expr, target)
    if target == pl.String():
        return expr.cast(pl.String())
    return _from_typed(expr, source, target, time_zone)


def _from_typed(expr: pl.Expr, source: pl.DataType, target: pl.DataType, time_zone: str | None) -> pl.Expr:
    if target == pl.Date():
        return _to_date(expr, source, time_zone)
    if isinstance(target, pl.Decimal):
        return _to_decimal(expr, source, target)
    if target.is_integer():
        return _to_integer(expr, source, target)
    if target == pl.Boolean() and source.is_integer():
        # As in text: 1 and 0 only (a 2 or a -1 is not a yes/no answer).
        return pl.when(expr == 1).then(True).when(expr == 0).then(False).otherwise(None)
    if source.is_float() and target == pl.Float64():
        # A narrow float is the number of its own shortest decimal (100.2), not of its 64-bit widening
        # (100.19999694824219: a duty of 2.5 cents per kg on 100.2 kg came out $2.50, not $2.51).
        return shortest_decimal(expr, source)
    return expr.cast(target, strict=False)


def _to_date(expr: pl.Expr, source: pl.DataType, time_zone: str | None) -> pl.Expr:
    # Datetimes give their date; numbers are not dates (no guessing at days since 1970).
    if not isinstance(source, pl.Datetime):
        return pl.lit(None, dtype=pl.Date())
    if source.time_zone is not None:
        # Under a pack without a zone, in UTC: dated in its own zone, 22:00 in Chicago was a day before the
        # same instant written as text with its offset.
        expr = expr.dt.convert_time_zone(time_zone or "UTC")
    return expr.dt.date()


def _to_integer(expr: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    """A number as an integer where it is a whole one, as text is read (``2.0``, not ``1.5``); else null."""
    if source.is_float():
        # A whole number its type holds exactly, as a float column's package_id: a fraction, and a number from
        # 2^bits up (2049 in a Float16 is 2048), is none.
        return pl.when(exact_whole(expr, source)).then(expr).cast(target, strict=False)
    if isinstance(source, pl.Decimal):
        # A cast cut 1.50 to 1.
        return pl.when(expr == expr.floor()).then(expr).cast(target, strict=False)
    return expr.cast(target, strict=False)


def _to_decimal(expr: pl.Expr, source: pl.DataType, target: pl.Decimal) -> pl.Expr:
    if isinstance(source, pl.Decimal) and (source.scale or 0) > (target.scale or 0):
        return parse_text(expr.cast(pl.String()), target)  # cut as text is (see parse_text)
    if source == pl.Float16():
        # A 16-bit float's own shortest decimal (20.4, not 20.40625), read as the 64-bit float of it is.
        return _to_decimal(shortest_decimal(expr, source), pl.Float64(), target)
    if source.is_float():
        # A float is read as its shortest decimal text (2.675, 800.0049999), then cut as text is: rounded to
        # 6 decimals first, 800.0049999 became 800.005 and a cent more; cast directly, values above about
        # 10^10 came out a cent low.
        # Only a float with more than 6 decimals, or too large for its 6 decimals to be exact in a float,
        # takes the text path (the others are null there: cheap); 723347347957.975 was cast 723347347957.974912.
        plausible = expr.is_finite() & (expr.abs() < 1e15)
        if source == pl.Float32():
            # A 32-bit float's own shortest text (799.995), not that of its 64-bit widening (799.994995...).
            return pl.when(plausible).then(parse_text(expr.cast(pl.String()), target))
        rounded = expr.round(_FLOAT_PLACES)
        longer = plausible & ((rounded != expr) | (expr.abs() >= 1e9))
        as_text = parse_text(pl.when(longer).then(expr).cast(pl.String()), target)
        # To more decimals through a decimal of 6: cast to 12 directly, 123456789.123456 came out
        # 123456789.123456001282.
        if (target.scale or 0) > _FLOAT_PLACES:
            rounded = rounded.cast(pl.Decimal(38, _FLOAT_PLACES), strict=False)
        return pl.when(longer).then(as_text).when(plausible).then(rounded.cast(target, strict=False))
    return expr.cast(target, strict=False)
