"""Normalise: type and clean the canonical columns, and split off every bad row.

A bad row is data, not an exception: it becomes a row of the ``rejects`` output
with the code, field, message and input value of the first failing check (in
the order of :func:`checks`). Messages are built for rejected rows only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from screening.errors import RejectCode
from screening.exprs.floats import beyond_exact_integers, exact_integer_bits, exact_whole, is_whole
from screening.exprs.hts import (
    LOST_LEADING_ZERO,
    hts_code_as_number,
    hts_code_of_numbers,
    hts_digits,
    is_valid_hts_code,
)
from screening.exprs.parse import MAX_EXPONENT, coerce, parse_date_time_text
from screening.exprs.parties import (
    consignee_key_inputs,
    consignee_key_of_inputs,
    given_consignee_id,
    given_postal_code,
    padded_code,
    zip_plus4_padded,
)
from screening.schema import (
    MALFORMED_COL,
    MANIFEST_COLUMNS,
    MODES,
    NO_PACKAGE_ID,
    PASSTHROUGH_PREFIX,
    ROW_COL,
    SOURCE_COL,
    ZERO_PADDED,
    Column,
    passthrough_columns,
)

PARSED = "__parsed_"
CHECK_INDEX = "__failed_check"
_PART: Final = r"\s*[a-z][a-z0-9-]*\s*=\s*[0-9]+(?:\.[0-9]+)?\s*"
#: ``part_values``: ``name=number`` pairs separated by ``;`` (a trailing ``;`` is allowed).
PART_VALUES_PATTERN: Final = rf"^{_PART}(?:;{_PART})*;?\s*$"
#: Values above this (in any currency) are refused: no parcel is worth a trillion, and cents must fit Int64.
MAX_DECLARED_VALUE = 10**12
#: Quantities and weights above this are data errors (and would overflow the exact duty arithmetic).
MAX_MEASURE = 1e12
#: The highest ``line_no``: lines given without one are numbered after their package's highest, which must not
#: overflow (after 2^63 - 1 the next was -2^63, the package's first line).
MAX_LINE_NO = 10**9
#: A country code that is one of these is no country: :data:`NO_PACKAGE_ID` but ``NA``, Namibia's code.
NO_COUNTRY: Final = tuple(token for token in NO_PACKAGE_ID if token != "na")
#: The text columns that read a word for none (any case, trimmed) as no value, and the words each reads so: a
#: float column's NaN (written ``NaN``) too. An optional column's is then not given (a port ``nan`` was a port
#: group of its own, a country of export ``N/A`` rejected its package as ``unknown-country``); a required
#: column's is ``missing-field``.
NONE_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "package_id": NO_PACKAGE_ID,
    "port_of_entry": NO_PACKAGE_ID,
    "country_of_origin": NO_COUNTRY,
    "shipper_country": NO_COUNTRY,
    "country_of_export": NO_COUNTRY,
}
_NONE_WORD_BYTES = max(len(token) for token in NO_PACKAGE_ID)
#: A whole number written as a decimal (``101.0``): what a float column saved as text writes of an integer id.
WHOLE_NUMBER_TEXT: Final = r"^-?[0-9]+\.0+$"
#: A number in exponent form (``9.405511899223197e+21``): what a float column saved as text writes of an id too
#: large for it to hold exactly; refused as a ``package_id`` (``invalid-number``), as the float itself is.
EXPONENT_NUMBER_TEXT: Final = r"(?i)^-?[0-9](?:\.[0-9]+)?e[+-]?[0-9]+$"
#: Why an ``arrival_date`` that does not read is ``invalid-date``: the forms text may take.
ARRIVAL_DATE_FORMS: Final = (
    "is not a valid ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS, T or a blank between, with optional "
    "fractional seconds and Z or an offset ±HH:MM)"
)

_TEXT_FIELDS = tuple(c.name for c in MANIFEST_COLUMNS if c.dtype == pl.String())
_UPPER_FIELDS = ("country_of_origin", "shipper_country", "country_of_export", "currency")
#: Text that keys a package or a person, or is matched against denied parties: where it holds U+FFFD (what a
#: CSV's bytes that are not UTF-8 are read as), two different values can read alike.
_IDENTITY_TEXT = ("package_id", "consignee_id", "consignee_name", "consignee_postal_code", "shipper_name")
_REPLACEMENT_CHARACTER = "\ufffd"
#: Codes whose text of fewer digits than their width is padded as a number is: a U.S. port code has 4 digits
#: (``101`` is ``0101``). A ZIP of four digits is not: other countries' postal codes have four (README).
_PADDED_WHEN_SHORT = ("port_of_entry",)


@dataclass(frozen=True)
class Vocabulary:
    """What counts as known: countries, currencies, and the pack's date coverage."""

    countries: Sequence[str]
    currencies: Sequence[str]
    covers_from: dt.date
    covers_to: dt.date | None
    #: The pack's zone: arrival timestamps with a time zone are dated there.
    time_zone: str | None = None

    def covers(self, date: pl.Expr) -> pl.Expr:
        """Whether a typed arrival date lies within the pack's coverage (else ``date-outside-pack``)."""
        inside = date >= self.covers_from
        return inside if self.covers_to is None else inside & (date < self.covers_to)


@dataclass(frozen=True)
class Check:
    """One vectorised check: rows where ``failed`` is true get ``code`` for ``field`` (None: the record)."""

    field: str | None
    code: RejectCode
    failed: pl.Expr
    message: pl.Expr


def parsed(name: str) -> pl.Expr:
    """The typed, cleaned version of canonical column ``name``."""
    return pl.col(PARSED + name)


def raw_text(name: str) -> pl.Expr:
    """The input value of ``name`` as text, for messages."""
    return pl.col(name).cast(pl.String())


def _typed(column: Column, dtype: pl.DataType, time_zone: str | None) -> pl.Expr:
    """Input ``column`` of type ``dtype`` as its canonical type: text of ``arrival_date`` may be a date-time, dated
    as a typed timestamp is (:func:`~screening.exprs.parse.parse_date_time_text`)."""
    if column.name == "arrival_date" and dtype == pl.String():
        return parse_date_time_text(pl.col(column.name), time_zone)
    return coerce(pl.col(column.name), dtype, column.dtype, time_zone=time_zone)


def add_parsed_columns(frame: pl.LazyFrame, schema: pl.Schema, time_zone: str | None = None) -> pl.LazyFrame:
    """Add ``__parsed_<col>`` for every canonical column; absent optional columns become defaults.
    Timestamps with a time zone are dated in ``time_zone`` (the pack's)."""
    exprs = []
    for column in MANIFEST_COLUMNS:
        numbers = schema.get(column.name, pl.String()).is_numeric()
        if column.name in ZERO_PADDED and numbers:
            value = _zero_padded(pl.col(column.name), ZERO_PADDED[column.name], schema[column.name])
        elif column.name == "hts_code" and numbers:
            value = hts_code_of_numbers(pl.col(column.name), schema[column.name])
        elif column.name == "package_id":
            given = pl.col(column.name) if column.name in schema else pl.lit(None, dtype=pl.String())
            value = package_id_as_read(given, schema.get(column.name, pl.String()))
        elif column.name in schema:
            value = _typed(column, schema[column.name], time_zone)
        else:
            value = (
                pl.lit(column.default, dtype=column.dtype)
                if column.default is not None
                else pl.lit(None, dtype=column.dtype)
            )
        if column.name in _TEXT_FIELDS and column.name != "package_id":
            value = _cleaned_text(value, column.name)
        if column.name in ZERO_PADDED:
            # Text (and a decimal column's values) read as the number it writes, as an integer column's is:
            # ``2134.0`` is ``02134`` whatever the column's type; a ZIP+4 of eight digits has its zero back.
            value = padded_code(value, ZERO_PADDED[column.name], pad_short=column.name in _PADDED_WHEN_SHORT)
        if column.name == "consignee_postal_code":
            value = zip_plus4_padded(value)
        if column.name == "hts_code" and not numbers:
            # A float column saved as text (``90121.0``) as the float itself, its lost leading zero back.
            value = hts_code_as_number(value)
        if column.name in _UPPER_FIELDS:
            value = value.str.to_uppercase()
        if column.name == "mode":
            value = value.str.to_lowercase()
        exprs.append(value.alias(PARSED + column.name))
    return frame.with_columns(exprs)


def package_id_as_read(package_id: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """An input ``package_id`` column of type ``dtype`` (dictionary text decoded) as validation reads it, the id
    packages are keyed by: text trimmed, blank or a word for none (:data:`NO_PACKAGE_ID`) null, a whole number
    written as a decimal (``101.0``, ``101.00``) its integer; a float column's as :func:`_float_package_id`
    reads it. The batch cutter (:func:`screening.screener.whole_packages`) compares ids so too."""
    text = (
        _float_package_id(package_id, dtype) if dtype.is_float() else coerce(package_id, dtype, pl.String())
    )
    text = _cleaned_text(text, "package_id")
    # A float (or decimal) column's whole number saved as text is the integer, as the float column itself
    # reads: a resend of its lines as CSV is the same package.
    return pl.when(text.str.contains(WHOLE_NUMBER_TEXT)).then(text.str.replace(r"\.0+$", "")).otherwise(text)


def _cleaned_text(value: pl.Expr, name: str) -> pl.Expr:
    """Text column ``name``'s value trimmed, with a blank and a word for none (:func:`_none_word_as_null`) null."""
    value = value.str.strip_chars()
    # Not ``replace("", None)``: twice as fast in memory, but polars 2.1's streaming engine then
    # held the whole input (validation of 4M lines peaked at 2.8 GB instead of 0.9 GB).
    value = pl.when(value == "").then(None).otherwise(value)
    return _none_word_as_null(value, name)


def _none_word_as_null(value: pl.Expr, name: str) -> pl.Expr:
    """Column ``name``'s trimmed text with a word for none (:data:`NONE_WORDS`, any case) as null; another
    column's as it is."""
    if name not in NONE_WORDS:
        return value
    # Only short values can be a word for none: the others are set aside first (nulls cost nothing).
    short = pl.when(value.str.len_bytes() <= _NONE_WORD_BYTES).then(value)
    return pl.when(short.str.to_lowercase().is_in(NONE_WORDS[name])).then(None).otherwise(value)


def _float_package_id(package_id: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A float ``package_id`` (what pandas makes of integer ids with gaps) as text: a whole one as its integer
    (101.0 is ``101``, as in an integer column), NaN as null (``missing-field``), others as their text (refused
    as ``invalid-number``: not an id that can be read exactly)."""
    whole = exact_whole(package_id, dtype)
    as_integer = pl.when(whole).then(package_id).cast(pl.Int64(), strict=False).cast(pl.String())
    return pl.when(whole).then(as_integer).when(~package_id.is_nan()).then(package_id.cast(pl.String()))


def _zero_padded(code: pl.Expr, width: int, dtype: pl.DataType) -> pl.Expr:
    """A numeric code as text, with the leading zeros of a ``width``-digit code back (2134 → ``02134``). A float
    column (what pandas makes of integers with gaps) is read so too where its value is whole (2134.0), else
    as its text."""
    if dtype.is_float():
        whole = is_whole(code, dtype)
        as_integer = pl.when(whole).then(code).cast(pl.Int64(), strict=False)
        return (
            pl.when(whole).then(_zero_padded(as_integer, width, pl.Int64())).otherwise(code.cast(pl.String()))
        )
    text = code.cast(pl.String())
    return pl.when(code.is_between(0, 10**width, closed="left")).then(text.str.zfill(width)).otherwise(text)


def checks(schema: pl.Schema, vocabulary: Vocabulary) -> list[Check]:
    """The ordered list of checks for an input with ``schema``."""
    out: list[Check] = []
    present = set(schema.names())
    if MALFORMED_COL in present:
        # Its fields cannot be trusted: no other check is meaningful.
        out.append(
            Check(None, RejectCode.MALFORMED_ROW, pl.col(MALFORMED_COL).is_not_null(), pl.col(MALFORMED_COL))
        )

    def shown(name: str) -> pl.Expr:
        """The input text of ``name`` for messages (the typed value when the input lacks the column)."""
        return raw_text(name) if name in present else parsed(name).cast(pl.String())

    required = [c.name for c in MANIFEST_COLUMNS if c.required]
    for name in required:
        message = pl.lit(f"{name} is required but empty")
        if name == required[0]:
            # A blank line of a CSV file (or a row of nothing but nulls) says so, not just its first field.
            message = (
                pl.when(_every_field_blank(schema))
                .then(pl.lit(f"the row is blank (every field is empty); {name} is required"))
                .otherwise(message)
            )
        if name in NONE_WORDS and name in present:
            what = "an id" if name == "package_id" else "a country code"
            message = (
                pl.when(_given(name, schema[name]))
                .then(
                    pl.format(
                        f"{name} {{}} is NaN or a word for none, not {what}; {name} is required", shown(name)
                    )
                )
                .otherwise(message)
            )
        out.append(Check(name, RejectCode.MISSING_FIELD, _missing(name, schema), message))
    package_type = schema.get("package_id", pl.String())
    if "package_id" in present and not package_type.is_float():
        out.append(
            Check(
                "package_id",
                RejectCode.INVALID_NUMBER,
                parsed("package_id").str.contains(EXPONENT_NUMBER_TEXT),
                pl.format(
                    "package_id {} is a number in exponent form, as a float column saved as text writes an id too "
                    "large for it to hold exactly, so it cannot be read as an id: write the ids as text",
                    shown("package_id"),
                ),
            )
        )
    if package_type.is_float():
        package_id = pl.col("package_id")
        out.append(
            Check(
                "package_id",
                RejectCode.INVALID_NUMBER,
                package_id.is_not_nan() & ~exact_whole(package_id, package_type),
                pl.format(
                    f"package_id {{}} is a {package_type} that is not a whole number it holds exactly (below "
                    f"2^{exact_integer_bits(package_type)}), so it cannot be read as an id: write the ids as text",
                    shown("package_id"),
                ),
            )
        )
    for name in _IDENTITY_TEXT:
        if name in present:
            out.append(
                Check(
                    name,
                    RejectCode.INVALID_TEXT,
                    parsed(name).str.contains(_REPLACEMENT_CHARACTER, literal=True),
                    pl.lit(
                        f"{name} holds bytes that are not UTF-8 (read as U+FFFD), so two different values could "
                        "read alike: save the file as UTF-8"
                    ),
                )
            )
    out += _parse_checks(schema)
    date = parsed("arrival_date")
    out.append(
        Check(
            "arrival_date",
            RejectCode.INVALID_DATE,
            ~_plausible(date),
            pl.format("arrival_date {} is not a plausible arrival date", shown("arrival_date")),
        )
    )
    out.append(
        Check(
            "arrival_date",
            RejectCode.DATE_OUTSIDE_PACK,
            ~vocabulary.covers(date),
            pl.format(
                "arrival_date {} is outside the rule pack's coverage (from {})",
                date,
                pl.lit(vocabulary.covers_from.isoformat()),
            ),
        )
    )
    out.append(
        Check(
            "mode",
            RejectCode.INVALID_MODE,
            ~parsed("mode").is_in(MODES),
            pl.format("mode {} is not one of {}", shown("mode"), pl.lit(", ".join(MODES))),
        )
    )
    for name in ("country_of_origin", "shipper_country", "country_of_export"):
        value = parsed(name)
        out.append(
            Check(
                name,
                RejectCode.UNKNOWN_COUNTRY,
                value.is_not_null() & ~value.is_in(vocabulary.countries),
                pl.format("{} {} is not an ISO 3166-1 alpha-2 country code", pl.lit(name), shown(name)),
            )
        )
    hts_message = pl.format("hts_code {} must have 6, 8 or 10 digits (dots allowed)", shown("hts_code"))
    # Text of 5, 7 or 9 digits may be a number's, saved as text without its leading zero: the filer can tell.
    lost_zero = parsed("hts_code").str.contains(LOST_LEADING_ZERO)
    hts_message = (
        pl.when(lost_zero)
        .then(
            pl.format(
                "{}; if a spreadsheet dropped its leading zero, write it as text: 0{}",
                hts_message,
                parsed("hts_code"),
            )
        )
        .otherwise(hts_message)
    )
    hts_type = schema.get("hts_code", pl.String())
    invalid_hts = ~is_valid_hts_code(parsed("hts_code"))
    if hts_type.is_float():
        # Refused even where its text reads as a code: a Float16's 61091 is 61088.0, code 610880.
        coarse = pl.col("hts_code").is_finite() & beyond_exact_integers(pl.col("hts_code"), hts_type)
        invalid_hts = invalid_hts | coarse
        hts_message = (
            pl.when(coarse)
            .then(
                pl.format(
                    "hts_code {} is a {} too large to hold a code's digits exactly: write the codes as text",
                    shown("hts_code"),
                    pl.lit(str(hts_type)),
                )
            )
            .otherwise(hts_message)
        )
    out.append(Check("hts_code", RejectCode.INVALID_HTS, invalid_hts, hts_message))
    out += _value_checks(schema)
    currency = parsed("currency")
    out.append(
        Check(
            "currency",
            RejectCode.UNKNOWN_CURRENCY,
            ~currency.is_in(vocabulary.currencies),
            pl.format("currency {} is not an ISO 4217 code the rule pack has rates for", shown("currency")),
        )
    )
    return out


def _missing(name: str, schema: pl.Schema) -> pl.Expr:
    """True where the input gives no value for ``name``: its parsed value is null and its input is blank
    (a value that does not parse is invalid, not missing)."""
    if name in _TEXT_FIELDS:
        # Parsed text is the stripped input, null where that is empty (or, for a package id, NaN or a word for
        # none): null already means blank.
        return parsed(name).is_null()
    return parsed(name).is_null() & _raw_blank(name, schema)


def _every_field_blank(schema: pl.Schema) -> pl.Expr:
    """True where every canonical column the input has is blank."""
    given = [c.name for c in MANIFEST_COLUMNS if c.name in schema]
    return pl.all_horizontal([_raw_blank(name, schema) for name in given]) if given else pl.lit(True)


def _raw_blank(name: str, schema: pl.Schema) -> pl.Expr:
    """True where the input has no value for ``name`` (null or blank text), or lacks the column."""
    if name not in schema:
        return pl.lit(True)
    if schema[name] == pl.String():
        return pl.col(name).is_null() | (pl.col(name).str.strip_chars() == "")
    return pl.col(name).is_null()


def _given(name: str, dtype: pl.DataType) -> pl.Expr:
    """True where the input has a value for ``name`` (not null, and for text not blank).

    A number, date, time or boolean is never blank as text: those need no formatting as text to tell.
    """
    if dtype.is_numeric() or dtype.is_temporal() or dtype == pl.Boolean():
        return pl.col(name).is_not_null()
    raw = raw_text(name)
    return raw.is_not_null() & (raw.str.strip_chars() != "")


def _parse_checks(schema: pl.Schema) -> list[Check]:
    """A value that is present but does not parse as its type."""
    specs = [
        ("arrival_date", RejectCode.INVALID_DATE, ARRIVAL_DATE_FORMS),
        ("line_no", RejectCode.INVALID_NUMBER, "is not a whole number"),
        ("quantity", RejectCode.INVALID_NUMBER, "is not a number"),
        ("gross_weight_kg", RejectCode.INVALID_NUMBER, "is not a number"),
        ("metal_content_share", RejectCode.INVALID_NUMBER, "is not a number"),
        ("usmca_claim", RejectCode.INVALID_FLAG, "is not true/false"),
        ("gift", RejectCode.INVALID_FLAG, "is not true/false"),
    ]
    out = []
    for name, code, text in specs:
        if name not in schema:
            continue
        raw = raw_text(name)
        given = _given(name, schema[name])
        message = pl.format("{} {} " + text, pl.lit(name), raw)
        if name == "line_no":
            message = _line_no_message(schema[name], message)
        out.append(Check(name, code, given & parsed(name).is_null(), message))
    share = parsed("metal_content_share")
    out.append(
        Check(
            "metal_content_share",
            RejectCode.INVALID_NUMBER,
            share.is_not_null() & (~share.is_finite() | (share < 0) | (share > 1)),
            pl.format("metal_content_share {} must be a number from 0 to 1", share.cast(pl.String())),
        )
    )
    for name in ("quantity", "gross_weight_kg"):
        value = parsed(name)
        out.append(
            Check(
                name,
                RejectCode.INVALID_NUMBER,
                value.is_not_null() & (~value.is_finite() | (value < 0)),
                pl.format(
                    "{} {} must be a finite number not below zero", pl.lit(name), value.cast(pl.String())
                ),
            )
        )
        out.append(
            Check(
                name,
                RejectCode.INVALID_NUMBER,
                value > MAX_MEASURE,
                pl.format(
                    "{} {} is implausibly large (over 10^12); check the unit and the decimal separator",
                    pl.lit(name),
                    value.cast(pl.String()),
                ),
            )
        )
    out.append(
        Check(
            "line_no",
            RejectCode.INVALID_NUMBER,
            parsed("line_no") < 1,
            pl.format("line_no {} must be 1 or more", parsed("line_no").cast(pl.String())),
        )
    )
    out.append(
        Check(
            "line_no",
            RejectCode.INVALID_NUMBER,
            parsed("line_no") > MAX_LINE_NO,
            pl.format(
                "line_no {} is above 10^9, the highest line number", parsed("line_no").cast(pl.String())
            ),
        )
    )
    parts = parsed("part_values")
    out.append(
        Check(
            "part_values",
            RejectCode.INVALID_PART_VALUES,
            parts.is_not_null() & ~parts.str.to_lowercase().str.contains(PART_VALUES_PATTERN),
            pl.format(
                "part_values {} must be name=number pairs separated by ';' (e.g. case=12.50; jewel=17)",
                parts,
            ),
        )
    )
    out.append(_part_values_in_range(parts))
    return out


def _part_values_in_range(parts: pl.Expr) -> Check:
    """A ``part_values`` number above :data:`MAX_DECLARED_VALUE`, or jewels per article times the quantity above
    it, is a data error (and would overflow the exact duty arithmetic): refused as ``invalid-part-values``."""
    numbers = parts.str.extract_all(r"=\s*[0-9]+(?:\.[0-9]+)?").list.eval(
        pl.element().str.strip_chars("= \t").cast(pl.Float64())
    )
    jewels = (
        parts.str.to_lowercase()
        .str.extract(r"(?:^|;)\s*jewel\s*=\s*([0-9]+(?:\.[0-9]+)?)")
        .cast(pl.Float64())
    )
    too_large = (numbers.list.max() > MAX_DECLARED_VALUE) | (
        jewels * parsed("quantity").fill_null(0) > MAX_DECLARED_VALUE
    )
    return Check(
        "part_values",
        RejectCode.INVALID_PART_VALUES,
        parts.is_not_null() & too_large.fill_null(False),
        pl.format(
            "part_values {} holds a number above 10^12 (or jewels times the quantity above it): a data error",
            parts,
        ),
    )


def _line_no_message(dtype: pl.DataType, otherwise: pl.Expr) -> pl.Expr:
    """The message for a ``line_no`` that does not parse: a whole number too large for a line number says
    so (2^63 was "not a whole number"), a negative one that it must be 1 or more, a float's number from its
    type's bound up that its type cannot hold exactly; ``otherwise`` else."""
    raw = raw_text("line_no")
    if dtype.is_float():
        value = pl.col("line_no")
        negative = value < 0
        # From its type's bound up to the highest line number, a float may be another's rounding (2049 in a
        # Float16 is 2048): said so, not "too large" (every float from the bound up is whole).
        inexact = ~negative & beyond_exact_integers(value, dtype) & (value <= MAX_LINE_NO)
        whole = is_whole(value, dtype) & ~inexact
        otherwise = (
            pl.when(inexact)
            .then(
                pl.format(
                    f"line_no {{}} is a {dtype} from 2^{exact_integer_bits(dtype)} up, which it cannot tell from "
                    "its neighbour: write line numbers as integers",
                    raw,
                )
            )
            .otherwise(otherwise)
        )
    else:
        whole = raw.str.contains(r"^\s*[+-]?\d+(?:\.0*)?\s*$")
        negative = raw.str.strip_chars().str.starts_with("-")
    return (
        pl.when(whole & negative)
        .then(pl.format("line_no {} must be 1 or more", raw))
        .when(whole)
        .then(pl.format("line_no {} is too large for a line number", raw))
        .otherwise(otherwise)
    )


def _value_checks(schema: pl.Schema) -> list[Check]:
    """declared_value: parses, is finite, is not negative."""
    raw = raw_text("declared_value")
    as_float = (
        raw.str.strip_chars().cast(pl.Float64(), strict=False)
        if schema.get("declared_value") == pl.String()
        else pl.col("declared_value").cast(pl.Float64(), strict=False)
    )
    non_finite = as_float.is_not_null() & ~as_float.is_finite()
    value = parsed("declared_value")
    # Exponent form (1.5e3, what a float column saved as text may hold) is read digit for digit (plain_decimal);
    # past its bound it does not parse.
    unparsed = pl.format("declared_value {} is not a plain decimal number (no symbols or separators)", raw)
    if schema.get("declared_value") == pl.String():
        unparsed = (
            pl.when(raw.str.contains("[eE]"))
            .then(
                pl.format(
                    "declared_value {} is not a number in exponent form (d.ddde±n, n up to {}) nor a plain "
                    "decimal number (no symbols or separators)",
                    raw,
                    pl.lit(MAX_EXPONENT),
                )
            )
            .otherwise(unparsed)
        )
    return [
        Check(
            "declared_value",
            RejectCode.NON_FINITE_VALUE,
            non_finite,
            pl.format("declared_value {} is not a finite number", raw),
        ),
        Check(
            "declared_value",
            RejectCode.INVALID_VALUE,
            # By the float too: a number past the decimal type (10^18 and up) does not parse at all.
            (value.abs() > MAX_DECLARED_VALUE) | (as_float.abs() > float(MAX_DECLARED_VALUE)),
            pl.format(
                "declared_value {} is implausibly large (over 10^12); check the decimal separator", raw
            ),
        ),
        Check("declared_value", RejectCode.INVALID_VALUE, value.is_null(), unparsed),
        Check(
            "declared_value",
            RejectCode.NEGATIVE_VALUE,
            value < 0,
            pl.format("declared_value {} is negative", raw),
        ),
    ]


def first_failed_check(ordered: Sequence[Check]) -> pl.Expr:
    """The index of the first failing check of each row, or null when all pass."""
    chain: Any = pl.when(ordered[0].failed.fill_null(False)).then(0)
    for index, check in enumerate(ordered[1:], start=1):
        chain = chain.when(check.failed.fill_null(False)).then(index)
    first: pl.Expr = chain.otherwise(None).cast(pl.Int32()).alias(CHECK_INDEX)
    return first


def _pick(ordered: Sequence[Check], value: Any) -> pl.Expr:
    """A per-row choice among the checks' values by the failed check's index."""
    index = pl.col(CHECK_INDEX)
    chain: Any = pl.when(index == 0).then(value(ordered[0]))
    for i, check in enumerate(ordered[1:], start=1):
        chain = chain.when(index == i).then(value(check))
    picked: pl.Expr = chain.otherwise(None).cast(pl.String())
    return picked


def split_source(
    frame: pl.LazyFrame, vocabulary: Vocabulary, *, dated: bool = False
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Split one source into typed candidate lines and its rejects (``rejects`` output columns; with
    ``dated``, each reject's arrival date where it reads too, as :data:`REJECT_DAY`).

    Candidates have the canonical names bound to typed, cleaned values, then ``source``,
    ``row``, the passthrough columns and the ``consignee_key`` (DESIGN §4). Duplicates and FX are checked later, across sources.
    """
    checked = check_source(frame, vocabulary)
    return checked.candidates(), checked.rejects(dated=dated)


#: A rejected row's arrival date where it reads as a date the pack covers, else null
#: (:meth:`CheckedSource.rejects`): incremental mode dates the mark of its package's lines seen by it. A date
#: outside the coverage (a year typo, ``date-outside-pack``) would forget the mark at once, or never.
REJECT_DAY = "__reject_arrival_date"


def _plausible(date: pl.Expr) -> pl.Expr:
    """Whether a typed arrival date is a plausible one (from 1900 to 2199)."""
    return (date >= dt.date(1900, 1, 1)) & (date < dt.date(2200, 1, 1))


#: Prefix of the columns a rejected row keeps for its reject (:meth:`CheckedSource.candidates_and_held`).
HELD = "__held_"


@dataclass(frozen=True)
class CheckedSource:
    """One source typed and checked, not yet split: ``checked`` has the input columns, their typed
    versions and each row's first failed check; the candidates and the rejects are two projections of it."""

    checked: pl.LazyFrame
    candidate_columns: tuple[pl.Expr, ...]
    reject_columns: tuple[pl.Expr, ...]
    #: A rejected row's arrival date where it is plausible and the pack covers it, else null (:data:`REJECT_DAY`).
    reject_day: pl.Expr

    def candidates(self) -> pl.LazyFrame:
        """The rows that pass every check, typed (see :func:`split_source`)."""
        return self.checked.filter(pl.col(CHECK_INDEX).is_null()).select(self.candidate_columns)

    def rejects(self, *, dated: bool = False) -> pl.LazyFrame:
        """The rows that fail a check, as ``rejects`` rows; with ``dated``, their arrival date too, where it
        reads as a date the pack covers (:data:`REJECT_DAY`)."""
        day = [self.reject_day.alias(REJECT_DAY)] if dated else []
        return self.checked.filter(pl.col(CHECK_INDEX).is_not_null()).select(*self.reject_columns, *day)

    def _held_text(self) -> str:
        """The column that holds a rejected row's text columns (:meth:`candidates_and_held`), as one JSON
        object. Every source holds them there: a source's rows are decoded with its own columns."""
        return f"{HELD}text"

    def candidates_and_held(self) -> pl.LazyFrame:
        """Every row in one frame: the candidate columns, the failed check, and for rejected rows only
        (null elsewhere) the columns their reject is built from (:meth:`_held`).

        One projection for both outcomes: a file can be validated in one streaming pass whose rows all
        go to one sink (a plan with two outputs buffers the rows between them), and the few rejects are
        built afterwards from the held columns (:meth:`rejects_from_held`). The text columns are held
        in one JSON column: a Parquet writer spends about as long on a text column that is almost all
        null as on a full one (4M lines: a second less CPU than a column each).
        """
        rejected = pl.col(CHECK_INDEX).is_not_null()
        text, other = self._held()
        # Passing rows are nulled before encoding (a null encodes fast, as the text "null", a third of the
        # cost of encoding the row), then masked again so that they hold a real null.
        encoded = pl.when(rejected).then(pl.struct(text)).struct.json_encode()
        held_text = pl.when(rejected).then(encoded).alias(self._held_text())
        return self.checked.select(
            *self.candidate_columns,
            pl.col(CHECK_INDEX),
            *[pl.when(rejected).then(pl.col(name)).alias(alias) for name, alias in other.items()],
            *([held_text] if text else []),
        )

    def rejects_from_held(self, rows: pl.LazyFrame) -> pl.LazyFrame:
        """The ``rejects`` rows of this source's rejected rows of :meth:`candidates_and_held` (``rows``: this
        source's only; other sources hold their columns under the same names)."""
        text, other = self._held()
        decoded = pl.col(self._held_text()).str.json_decode(pl.Struct({name: pl.String() for name in text}))
        restored = rows.select(
            SOURCE_COL,
            ROW_COL,
            CHECK_INDEX,
            *[pl.col(alias).alias(name) for name, alias in other.items()],
            *([decoded] if text else []),
        )
        if text:
            restored = restored.unnest(self._held_text())
        return restored.select(self.reject_columns)

    def _held(self) -> tuple[list[str], dict[str, str]]:
        """The columns a reject is built from: the text ones (held together, under :meth:`_held_text`), and
        the others, each with the name it is held under: its name and type, shared by the sources that have
        such a column (a name per source made a thousand files' validation frame 6,000 columns wide)."""
        read = {name for expr in self.reject_columns for name in expr.meta.root_names()}
        read -= {SOURCE_COL, ROW_COL, CHECK_INDEX}
        schema = self.checked.collect_schema()
        names = sorted(read)
        text = [name for name in names if schema[name] == pl.String()]
        return text, {name: f"{HELD}{name}:{schema[name]}" for name in names if name not in text}


def check_source(frame: pl.LazyFrame, vocabulary: Vocabulary) -> CheckedSource:
    """Type and check one source (see :func:`split_source`)."""
    schema = frame.collect_schema()
    ordered = checks(schema, vocabulary)
    present = set(schema.names())
    checked = add_parsed_columns(frame, schema, vocabulary.time_zone).with_columns(
        first_failed_check(ordered),
        # Each input of the key once (a column each), for the key below.
        *consignee_key_inputs(
            parsed("consignee_id"), parsed("consignee_name"), parsed("consignee_postal_code")
        ),
    )
    candidates = (
        pl.col(SOURCE_COL),
        pl.col(ROW_COL),
        *[_with_default(c) for c in MANIFEST_COLUMNS],
        *[pl.col(c).alias(PASSTHROUGH_PREFIX + c) for c in passthrough_columns(schema)],
        # Here, not later on the whole frame: a file's rows are keyed morsel by morsel, on every core.
        consignee_key_of_inputs(package_id=parsed("package_id")).alias("consignee_key"),
    )
    raw_columns = canonical_present(schema)
    rejects = (
        pl.col(SOURCE_COL),
        pl.col(ROW_COL),
        parsed("package_id").alias("package_id"),
        (raw_text("line_no") if "line_no" in present else pl.lit(None, dtype=pl.String())).alias("line_no"),
        _pick(ordered, lambda c: pl.lit(c.field)).alias("field"),
        _pick(ordered, lambda c: pl.lit(str(c.code))).alias("code"),
        _pick(ordered, lambda c: c.message).alias("message"),
        _pick(
            ordered, lambda c: raw_text(c.field) if c.field in present else pl.lit(None, pl.String())
        ).alias("value"),
        # Every canonical field, null where the file lacks it: one JSON shape whatever the reject (those found
        # after validation show every field too).
        _raw_json(
            raw_text(c.name) if c.name in raw_columns else pl.lit(None, dtype=pl.String()).alias(c.name)
            for c in MANIFEST_COLUMNS
        ).alias("raw"),
    )
    date = parsed("arrival_date")
    reject_day = pl.when(_plausible(date) & vocabulary.covers(date)).then(date)
    return CheckedSource(checked, candidates, rejects, reject_day)


def _with_default(column: Column) -> pl.Expr:
    """The typed value, or the column's default where the input left it blank (checks have passed)."""
    value = parsed(column.name)
    if column.default is not None:
        value = value.fill_null(pl.lit(column.default, dtype=column.dtype))
    return value.alias(column.name)


def _raw_json(columns: Any) -> pl.Expr:
    exprs = list(columns)
    if not exprs:
        return pl.lit(None, dtype=pl.String())
    return pl.struct(exprs).struct.json_encode()


def rejects_from_lines(
    lines: pl.DataFrame,
    *,
    code: RejectCode,
    field: str,
    message: pl.Expr,
    own: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rejects (``rejects`` output columns) for typed candidate lines found bad later (few rows, eager).

    ``own``: the lines' own package attributes (:func:`own_attributes`), where ``lines`` carry their package's
    (:func:`with_package_attributes`): ``raw`` shows the row as given, the message the values judged.
    """
    raw = {c.name: pl.col(c.name) for c in MANIFEST_COLUMNS}
    if own is not None and lines.height:
        taken = [c for c in own.columns if c not in (SOURCE_COL, ROW_COL)]
        # The few rows rejected, found by their integer row first (cheap), then joined by source and row.
        own = own.filter(pl.col(ROW_COL).is_in(lines.get_column(ROW_COL).implode()))
        lines = lines.join(
            own.rename({c: _OWN + c for c in taken}),
            on=[SOURCE_COL, ROW_COL],
            how="left",
            maintain_order="left",
        )
        raw |= {c: pl.col(_OWN + c) for c in taken}
    # rechunk: polars 2.1 can panic formatting strings of a freshly filtered frame ("i < self.len()").
    return lines.rechunk().select(
        pl.col(SOURCE_COL),
        pl.col(ROW_COL),
        pl.col("package_id"),
        pl.col("line_no").cast(pl.String()),
        pl.lit(field).alias("field"),
        pl.lit(str(code)).alias("code"),
        message.alias("message"),
        pl.col(field).cast(pl.String()).alias("value"),
        _raw_json(raw[c.name].cast(pl.String()).alias(c.name) for c in MANIFEST_COLUMNS).alias("raw"),
    )


#: Prefix of a line's own package attribute beside its package's (:func:`rejects_from_lines`).
_OWN = "__own_"


def number_lines(candidates: pl.DataFrame, seen: pl.DataFrame | None = None) -> pl.DataFrame:
    """``candidates`` with a ``line_no`` for the lines that have none (a blank, or no such column): in input
    order within each package, after the highest number of its lines here and in ``seen`` (the lines of
    earlier batches, ``package_id, line_no``). A package without numbers gets 1, 2, 3, ...

    A package's lines must all be in ``candidates`` (or ``seen``): a day in parts numbers each part alone.
    Lines without numbers cannot be told from their copies, so none of them is a ``duplicate-line``.
    """
    if not candidates.get_column("line_no").has_nulls():
        return candidates
    unnumbered = pl.col("line_no").is_null()
    highest = pl.col("line_no").max().over("package_id").fill_null(0)
    if seen is not None and not seen.is_empty():
        earlier = seen.group_by("package_id").agg(pl.col("line_no").max().alias("__seen_highest"))
        found = candidates.select("package_id").join(
            earlier, on="package_id", how="left", maintain_order="left"
        )
        highest = pl.max_horizontal(highest, pl.lit(found.get_column("__seen_highest")).fill_null(0))
    numbered = highest + unnumbered.cast(pl.Int64()).cum_sum().over("package_id")
    return candidates.with_columns(
        pl.when(unnumbered).then(numbered).otherwise(pl.col("line_no")).alias("line_no")
    )


#: Columns naming a package's first rejected line (:func:`first_rejects`, :func:`split_incomplete`).
FIRST_REJECT = ("package_id", SOURCE_COL, ROW_COL, "code")


def rejected_packages(rejects: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The rows of ``rejects`` (``rejects`` output rows, :data:`FIRST_REJECT` columns) that reject their package
    whole: copies of a kept line do not, nor rows without a package id."""
    found = pl.concat([r.select(FIRST_REJECT) for r in rejects], how="vertical")
    return found.filter(
        pl.col("package_id").is_not_null() & (pl.col("code") != str(RejectCode.DUPLICATE_LINE))
    )


def first_rejects(rejects: Sequence[pl.DataFrame], sources: Sequence[str]) -> pl.DataFrame:
    """Per package with a rejected line (:func:`rejected_packages`): the first such line's ``source``, ``row``
    and ``code``, by the source's place in ``sources`` (the run's source labels in the order given: not by
    name, ``z.csv`` given before ``a.csv`` comes first), then by row."""
    place = pl.col(SOURCE_COL).replace_strict(
        list(sources), range(len(sources)), default=None, return_dtype=pl.UInt32()
    )
    return (
        rejected_packages(rejects)
        .sort(place, pl.col(SOURCE_COL), pl.col(ROW_COL), nulls_last=True)
        .unique("package_id", keep="first", maintain_order=True)
    )


def split_incomplete(
    lines: pl.DataFrame,
    rejected: pl.DataFrame,
    own: pl.DataFrame | None = None,
    screened_before: pl.Series | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``lines`` without those of the packages in ``rejected`` (:func:`first_rejects`), and those as
    ``package-incomplete`` rejects: a package is screened whole or not at all, so none of it is decided,
    released or charged on part of its value. ``own``: as in :func:`rejects_from_lines`.
    ``screened_before`` (incremental mode): the packages with lines screened in an earlier batch, whose
    message says that those lines were screened there."""
    incomplete = lines.get_column("package_id").is_in(rejected.get_column("package_id").implode())
    if not incomplete.any():
        return lines, rejects_from_lines(
            lines.clear(), code=RejectCode.PACKAGE_INCOMPLETE, field="package_id", message=pl.lit("")
        )
    named = lines.filter(incomplete).join(
        rejected.select(
            "package_id",
            pl.col(SOURCE_COL).alias("__first_source"),
            pl.col(ROW_COL).alias("__first_row"),
            pl.col("code").alias("__first_code"),
        ),
        on="package_id",
        how="left",
        maintain_order="left",
    )
    cause = pl.format(
        "package {} has a rejected line ({} row {}: {}); ",
        pl.col("package_id"),
        pl.col("__first_source"),
        pl.col("__first_row"),
        pl.col("__first_code"),
    )
    before = pl.col("package_id").is_in(screened_before.implode()) if screened_before is not None else False
    message = cause + pl.when(before).then(
        pl.lit(
            "none of its lines in this batch is screened (its lines of an earlier batch were screened there and "
            "stand: screen the day again to judge the package whole)"
        )
    ).otherwise(pl.lit("none of its lines is screened"))
    rejects = rejects_from_lines(
        named, code=RejectCode.PACKAGE_INCOMPLETE, field="package_id", message=message, own=own
    )
    return lines.filter(~incomplete), rejects


def split_rejected_earlier(
    lines: pl.DataFrame, seen: pl.DataFrame, own: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``lines`` without those of packages rejected in an earlier batch (a ``seen`` row of theirs is not
    ``counted``), and those as ``package-incomplete`` rejects (incremental mode): a package is screened whole
    or not at all, so a resent or later line of it is not screened alone. ``own``: as in
    :func:`rejects_from_lines`."""
    rejected = seen.filter(~pl.col("counted")).get_column("package_id").unique().implode()
    earlier = lines.get_column("package_id").is_in(rejected)
    message = pl.format(
        "package {} was rejected in an earlier batch; none of its lines is screened (screen the day again "
        "with the corrected package)",
        pl.col("package_id"),
    )
    rejects = rejects_from_lines(
        lines.filter(earlier),
        code=RejectCode.PACKAGE_INCOMPLETE,
        field="package_id",
        message=message,
        own=own,
    )
    return lines.filter(~earlier), rejects


#: A line's key: a package gives each of its lines once.
LINE_KEY: Final = ("package_id", "line_no")
#: What two lines of one key are compared on (:func:`split_duplicates`): every other canonical field as
#: validated (typed and cleaned: ``12.3`` and ``12.30``, ``usd`` and ``USD`` are equal). Lineage
#: (``source``, ``row``) and passthrough columns are not the line's content.
LINE_CONTENT: Final = tuple(c.name for c in MANIFEST_COLUMNS if c.name not in LINE_KEY)
_LATER = "__later_copy"
_VERSIONS = "__versions"
_ROWS = "__rows"
_DIFFERING = "__differing"


def split_duplicates(candidates: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines whose (package_id, line_no) repeats, split off as rejects; the rest kept, in input order.

    A later copy of a line (its key and its content, :data:`LINE_CONTENT`, equal to an earlier line's) is a
    ``duplicate-line`` reject and the first is kept. Lines of one key that differ in content are not copies:
    which of them the filer declares cannot be told, and keeping the first would let the row order choose,
    so every line of that key is a ``conflicting-line`` reject (the rest of its package then goes as
    ``package-incomplete``, :func:`first_rejects`). Only the lines whose hash of the key repeats are compared
    (none in most manifests: then ``candidates`` is returned as it is).

    Eager on purpose: "first" is defined by the frame's row order (sources in the order given,
    rows in file order), which an in-memory frame guarantees.
    """
    may_repeat = _may_repeat(candidates)
    if not may_repeat.len():
        return candidates, rejects_from_lines(
            candidates.clear(), code=RejectCode.DUPLICATE_LINE, field="line_no", message=pl.lit("")
        )
    repeated = candidates[may_repeat].with_columns((~pl.struct(LINE_KEY).is_first_distinct()).alias(_LATER))
    repeated = repeated.join(_conflicts(repeated), on=LINE_KEY, how="left", maintain_order="left")
    conflicting = pl.col(_VERSIONS).is_not_null()
    copy_message = pl.format(
        "line_no {} of package {} appears more than once with the same content; the first occurrence is kept",
        pl.col("line_no"),
        pl.col("package_id"),
    )
    conflict_message = pl.format(
        "line_no {} of package {} is given {} times in {} different versions (they differ in {}); none of "
        "them is screened, nor the rest of the package: send the line once",
        pl.col("line_no"),
        pl.col("package_id"),
        pl.col(_ROWS),
        pl.col(_VERSIONS),
        pl.col(_DIFFERING),
    )
    rejects = pl.concat(
        [
            rejects_from_lines(
                repeated.filter(pl.col(_LATER) & ~conflicting),
                code=RejectCode.DUPLICATE_LINE,
                field="line_no",
                message=copy_message,
            ),
            rejects_from_lines(
                repeated.filter(conflicting),
                code=RejectCode.CONFLICTING_LINE,
                field="line_no",
                message=conflict_message,
            ),
        ]
    )
    dropped = repeated.select(pl.col(_LATER) | conflicting).to_series()
    rejected = pl.repeat(False, candidates.height, dtype=pl.Boolean(), eager=True).scatter(
        may_repeat, dropped
    )
    return candidates.filter(~rejected), rejects


def later_copies(candidates: pl.DataFrame) -> pl.Series:
    """Whether each line repeats the (package_id, line_no) of a line before it, whatever its content (a copy,
    or another version of a line: see :func:`split_duplicates`).

    Equal keys have equal hashes: only the lines whose hash of the key repeats (the copies, and the
    rare lines that share a hash) can be copies, and their keys themselves decide, in input order.
    Half the time of finding the first of each key among all lines.
    """
    may_repeat = _may_repeat(candidates)
    later = pl.repeat(False, candidates.height, dtype=pl.Boolean(), eager=True)
    if may_repeat.len():
        among = candidates.select(LINE_KEY)[may_repeat].select(~pl.struct(LINE_KEY).is_first_distinct())
        later = later.scatter(may_repeat, among.to_series())
    return later.alias("later_copy")


def conflicting_keys(lines: pl.DataFrame) -> pl.DataFrame:
    """The (``package_id``, ``line_no``) that ``lines`` (numbered, with :data:`LINE_CONTENT`) give in lines of
    different content: every line of such a key is a ``conflicting-line`` reject (:func:`split_duplicates`)."""
    return _conflicts(lines.select(*LINE_KEY, *LINE_CONTENT)[_may_repeat(lines)]).select(LINE_KEY)


def _may_repeat(lines: pl.DataFrame) -> pl.Series:
    """The positions of the lines whose hash of the key repeats: those that can share a key with another."""
    hashed = lines.select(pl.col("package_id").hash(1) ^ pl.col("line_no").hash(2)).to_series()
    return hashed.is_duplicated().arg_true()


def _conflicts(repeated: pl.DataFrame) -> pl.DataFrame:
    """Per key of ``repeated`` (lines whose key may repeat) given in more than one version of its content: how
    many versions, in how many lines, and the fields that differ. Text is compared in Unicode NFC (``Zoë``
    written with a combining diaeresis, as macOS writes it, is ``Zoë``); an HTS code by its digits, a consignee
    id as the one-person key reads it and a ZIP as given (``20001`` and ``20001-4321`` differ: the written line
    would depend on the row order), a placeholder such as ``nan`` being none, as the decisions read them."""
    text = [name for name in LINE_CONTENT if repeated.schema[name] == pl.String()]
    repeated = repeated.with_columns(pl.col(text).str.normalize("NFC")).with_columns(
        hts_digits(pl.col("hts_code")).alias("hts_code"),
        given_consignee_id(pl.col("consignee_id")).alias("consignee_id"),
        given_postal_code(pl.col("consignee_postal_code")).alias("consignee_postal_code"),
    )
    per_key = repeated.group_by(LINE_KEY).agg(
        pl.struct(LINE_CONTENT).n_unique().alias(_VERSIONS),
        pl.len().alias(_ROWS),
        *[(pl.col(name).n_unique() > 1).alias(name) for name in LINE_CONTENT],
    )
    differing = pl.concat_str(
        [pl.when(pl.col(name)).then(pl.lit(name)) for name in LINE_CONTENT], separator=", ", ignore_nulls=True
    )
    conflicting = per_key.filter(pl.col(_VERSIONS) > 1)
    return conflicting.select(*LINE_KEY, _VERSIONS, _ROWS, differing.alias(_DIFFERING))


#: What a package has once, whatever its lines say: its lowest-numbered line's value is every line's (for
#: :data:`FIRST_GIVEN_ATTRIBUTES`, that of its lowest-numbered line that gives one; for the consignee, see
#: :data:`CONSIGNEE_ATTRIBUTES`).
PACKAGE_ATTRIBUTES = (
    "arrival_date",
    "mode",
    "carrier",
    "port_of_entry",
    "consignee_key",
    "consignee_id",
    "consignee_name",
    "consignee_address",
    "consignee_postal_code",
    "shipper_name",
    "shipper_country",
    "country_of_export",
)


#: Optional attributes that stand alone (not part of the consignee's identity or of the day): a package whose
#: first line leaves one blank takes it from its next line that gives it, so a later line's country of
#: export still counts (a blank first line would otherwise hide a route through a third country).
FIRST_GIVEN_ATTRIBUTES = ("carrier", "port_of_entry", "shipper_country", "country_of_export")

#: The consignee's identity: each field is that of the package's lowest-numbered line that gives it as the key
#: reads it (an id, a name that names someone, a ZIP: not a blank or a placeholder), and the package's key is
#: made of them (:func:`_package_consignee`). An id on line 2 alone still keys the package by it: keyed by line
#: 1's name, one person's day was split (a $500 package and a $400 one, each eligible).
CONSIGNEE_ATTRIBUTES = ("consignee_key", "consignee_id", "consignee_name", "consignee_postal_code")


def own_attributes(lines: pl.DataFrame) -> pl.DataFrame:
    """Each line's own package attributes (:data:`PACKAGE_ATTRIBUTES`), by source and row: what
    :func:`with_package_attributes` replaces, for the ``raw`` of rejects found after it."""
    return lines.select(SOURCE_COL, ROW_COL, *[c for c in PACKAGE_ATTRIBUTES if c in lines.columns])


#: The package attributes the screening list is matched against as each line gives them (:func:`own_party_names`).
PARTY_NAMES = ("shipper_name", "consignee_name")


def own_party_names(own: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The lines of ``lines`` (carrying their package's attributes, :func:`with_package_attributes`) whose own
    shipper or consignee name (``own``: :func:`own_attributes` of the same rows, in the same order) is not
    their package's: source, row and the :data:`PARTY_NAMES` as the line gives them.

    The screening list is matched against every name a package gives, not only its first line's: a listed
    shipper on line 2 is found. Few rows: most packages give one shipper and one consignee.
    """
    present = [c for c in PARTY_NAMES if c in own.columns]
    differs = pl.repeat(False, own.height, dtype=pl.Boolean(), eager=True)
    for name in present:
        differs = differs | own.get_column(name).ne_missing(lines.get_column(name))
    return own.select(SOURCE_COL, ROW_COL, *present).filter(differs)


def with_package_attributes(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` (numbered, without copies), in their order, each line carrying its package's attributes
    (:data:`PACKAGE_ATTRIBUTES`): those of the package's lowest-numbered line (of its lowest-numbered line
    that gives one, for :data:`FIRST_GIVEN_ATTRIBUTES` and :data:`CONSIGNEE_ATTRIBUTES`).

    A package arrives once, for one consignee, by one mode: a $500 line of 10 March and a $400 line of
    11 March in one package make a $900 package of 10 March, not two packages under $800 on two days.
    The row order (the order of arrival, in batches) is kept: the first line of each package is found in a
    permutation to package order (cheap on input in package order), not by sorting the lines.
    """
    present = [c for c in PACKAGE_ATTRIBUTES if c in lines.columns]
    if not present or lines.height < 2:
        return lines
    order = lines.select(pl.arg_sort_by("package_id", "line_no", maintain_order=True)).to_series()
    package = lines.get_column("package_id").gather(order)
    starts = package.ne_missing(package.shift(1)).fill_null(True)
    position = pl.Series(range(len(order)), dtype=order.dtype)
    first_in_order = pl.select(pl.when(starts).then(position).forward_fill()).to_series()
    back = order.arg_sort()
    # The row of each package's first line, for each row in package order, then for each row in input order.
    first_row = order.gather(first_in_order).gather(back)
    # The last position of each row's package, in package order.
    last_in_order = pl.select(
        pl.when(starts.shift(-1).fill_null(True)).then(position).backward_fill()
    ).to_series()
    # Per attribute taken from a line that gives it: for each row in package order, the position of that line.
    at = {
        c: _first_given(lines.get_column(c).gather(order).is_not_null(), first_in_order, last_in_order)
        for c in present
        if c in FIRST_GIVEN_ATTRIBUTES
    }
    key: list[pl.Series] = []
    if "consignee_key" in present:
        package_key, consignee_at = _package_consignee(lines, order, first_in_order, last_in_order)
        key.append(package_key.gather(back))
        at.update({c: rows for c, rows in consignee_at.items() if c in present})
    return lines.with_columns(
        pl.col([c for c in present if c not in at and c != "consignee_key"]).gather(first_row),
        *[pl.col(c).gather(order.gather(rows).gather(back)) for c, rows in at.items()],
        *key,
    )


def _package_consignee(
    lines: pl.DataFrame, order: pl.Series, first: pl.Series, last: pl.Series
) -> tuple[pl.Series, dict[str, pl.Series]]:
    """For each row in package order (``order``; ``first``/``last``: the positions of its package's first and
    last row): its package's ``consignee_key``, and the position of the line whose ``consignee_id``,
    ``consignee_name`` and ``consignee_postal_code`` the package takes (:data:`CONSIGNEE_ATTRIBUTES`).

    Read from the lines' own keys (the only consignee column of a day's totals pass): the first id key, else a
    name key of the first name that names someone and the first ZIP given (``name:|20001`` with no such name;
    the first line's own key, ``package:...``, with neither)."""
    keys = lines.get_column("consignee_key").gather(order)
    given = pl.DataFrame({"key": keys}).select(
        pl.col("key").str.starts_with("id:").alias("id"),
        (pl.col("key").str.starts_with("name:") & ~pl.col("key").str.starts_with("name:|")).alias("name"),
        (pl.col("key").str.starts_with("name:") & ~pl.col("key").str.ends_with("|")).alias("zip"),
    )
    is_id, named, zipped = given.get_column("id"), given.get_column("name"), given.get_column("zip")
    id_at = _first_given(is_id, first, last)
    name_at = _first_given(named, first, last)
    zip_at = _first_given(zipped, first, last)
    has_id = is_id.gather(id_at)
    package_key = keys.gather(pl.select(pl.when(has_id).then(id_at).otherwise(first)).to_series())
    # A name key made of two lines (few): the name of one, the ZIP of a later one, or the reverse.
    merged = ~has_id & ((name_at != first) | (zip_at != first))
    if merged.any():
        parts = pl.DataFrame(
            {
                "name_key": keys.gather(name_at.filter(merged)),
                "named": named.gather(name_at.filter(merged)),
                "zip_key": keys.gather(zip_at.filter(merged)),
                "zipped": zipped.gather(zip_at.filter(merged)),
            }
        )
        made = parts.select(
            pl.format(
                "name:{}|{}",
                pl.when("named")
                .then(pl.col("name_key").str.extract(r"^name:([^|]*)\|", 1))
                .otherwise(pl.lit("")),
                pl.when("zipped")
                .then(pl.col("zip_key").str.extract(r"^name:[^|]*\|(.*)$", 1))
                .otherwise(pl.lit("")),
            )
        ).to_series()
        package_key = package_key.scatter(merged.arg_true(), made)
    # Shown on every line: an id package's name and ZIP are the first given (the key does not read them there).
    postal = (
        lines.get_column("consignee_postal_code").gather(order).is_not_null()
        if "consignee_postal_code" in lines.columns
        else pl.repeat(False, keys.len(), dtype=pl.Boolean(), eager=True)
    )
    rows = {
        "consignee_id": id_at,
        "consignee_name": _first_given(named | is_id, first, last),
        "consignee_postal_code": _first_given(zipped | (is_id & postal), first, last),
    }
    return package_key.alias("consignee_key"), rows


def _first_given(given: pl.Series, first: pl.Series, last: pl.Series) -> pl.Series:
    """For each row (in package order; ``given``: whether the row gives the value; ``first``/``last``: the
    positions of its package's first and last row), the position of its package's first row that gives it (its
    first row where there is none)."""
    position = pl.Series(range(given.len()), dtype=first.dtype)
    next_given = pl.select(pl.when(given).then(position).backward_fill()).to_series()
    # The nearest value given at or after the package's first row, if it lies within the package.
    candidate = next_given.gather(first)
    return pl.select(
        pl.when(candidate.is_not_null() & (candidate <= last)).then(candidate).otherwise(first)
    ).to_series()


def split_seen(kept: pl.DataFrame, seen: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Lines whose key came in an earlier batch become ``duplicate-line`` rejects (incremental mode), whatever
    their content: only the keys are kept from one batch to the next.

    ``seen``: ``package_id`` and ``line_no`` of the lines screened before, at least those of the packages
    of ``kept`` (see :func:`screening.stages.running.seen_of`).
    """
    keys = ["package_id", "line_no"]
    earlier = kept.join(seen, on=keys, how="semi", maintain_order="left")
    new = kept.join(seen, on=keys, how="anti", maintain_order="left")
    # Not "a copy": the state keeps the keys of the lines seen, not their content, so none is compared.
    message = pl.format(
        "line_no {} of package {} came in an earlier batch (screened or rejected there): this one is not "
        "screened, and its content is not compared with the earlier one's (screen the day again to correct it)",
        pl.col("line_no"),
        pl.col("package_id"),
    )
    rejects = rejects_from_lines(earlier, code=RejectCode.DUPLICATE_LINE, field="line_no", message=message)
    return new, rejects


def canonical_present(schema: pl.Schema) -> list[str]:
    """Canonical columns the input actually has, in schema order."""
    return [c.name for c in MANIFEST_COLUMNS if c.name in schema]
