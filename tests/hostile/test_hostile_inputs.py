"""Hostile input catalogue: every case is a row of a table, documented in docs/hostile_inputs.md.

Row-level cases are files (CSV or Parquet) screened through the Python API: each asserts the exact
rejects (row, field, code), that lines + rejects == the rows written (counted here, not by the engine),
and, in a second test, that every reject names its file (``source``), row and field (in the message).
File-level cases run the CLI and assert the exit code, that stderr names the file (and the column, where
one is at fault) and that no output folder appears.

A case the engine gets wrong carries ``bug=``: its test states the right behaviour and is a strict xfail.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import pyarrow as pa
import pyarrow.parquet
import pytest
from click.testing import CliRunner

import screening
from screening.cli import main
from screening.errors import RejectCode

from ..conftest import BASE_LINE, ROOT, SAMPLE, US_PACK

#: The code of a record with more fields than the header. README defines none yet, nor does RejectCode.
MALFORMED_ROW = "malformed-row"
#: Since "blank flags take their defaults" (0fd54db) the default fills every null after parsing, unparseable too.
DEFAULTED_BUG = "an unparseable value silently takes the column's default (line 1, false) instead of a reject"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The conftest's valid line plus the optional text columns some cases attack.
LINE: dict[str, str | None] = {
    **BASE_LINE,
    "carrier": "DHL",
    "consignee_address": "1 Maple St",
    "gift": "false",
    "part_values": None,
}
COLUMNS = list(LINE)

# --- Building hostile files ----------------------------------------------------------------------------------


def values(**overrides: str | None) -> list[str | None]:
    """LINE's values in column order, with overrides (of existing columns only)."""
    unknown = set(overrides) - set(LINE)
    assert not unknown, f"not a column of LINE: {unknown}"
    row = {**LINE, **overrides}
    return [row[c] for c in COLUMNS]


def quote(value: str | None) -> str:
    if value is None:
        return ""
    if any(ch in value for ch in ',"\n\r'):
        return '"' + value.replace('"', '""') + '"'
    return value


def line(**overrides: str | None) -> str:
    """One CSV data line (RFC 4180 quoting) from LINE with overrides."""
    return ",".join(quote(v) for v in values(**overrides))


def raw_line(**overrides: str | None) -> str:
    """One CSV data line with NO quoting at all (to write malformed CSV on purpose)."""
    return ",".join("" if v is None else v for v in values(**overrides))


HEADER = ",".join(COLUMNS)


def three(middle: str) -> list[str]:
    """A valid row P1, the hostile row (package P2), a valid row P3."""
    return [line(package_id="P1"), middle, line(package_id="P3")]


def write_csv(
    name: str,
    lines: Sequence[str],
    *,
    header: str = HEADER,
    bom: bool = False,
    newline: str = "\n",
    encoding: str = "utf-8",
) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        text = newline.join([header, *lines]) + newline
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding))
        return path

    return build


def write_bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data)
        return path

    return build


def compressed(compress: Callable[[bytes], bytes], build: Callable[[Path], Path]) -> Callable[[Path], Path]:
    """The file ``build`` writes, compressed in place (its name kept)."""

    def build_compressed(tmp: Path) -> Path:
        path = build(tmp)
        path.write_bytes(compress(path.read_bytes()))
        return path

    return build_compressed


def _ndjson(
    name: str, *, second: str | None = None, third: str | None = None, bom: bool = False
) -> Callable[[Path], Path]:
    """Three valid records as NDJSON, with the second (and third) replaced by the text given."""

    def build(tmp: Path) -> Path:
        records = [json.dumps(row) for row in base_frame().to_dicts()]
        if second is not None:
            records[1] = second
        if third is not None:
            records.insert(2, third)
        path = tmp / name
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + ("\n".join(records) + "\n").encode())
        return path

    return build


def base_frame(n: int = 3) -> pl.DataFrame:
    rows = [{**LINE, "package_id": f"P{i + 1}"} for i in range(n)]
    return pl.DataFrame(rows, schema=dict.fromkeys(COLUMNS, pl.String()))


def write_parquet(name: str, change: Callable[[pl.DataFrame], pl.DataFrame]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        change(base_frame()).write_parquet(path)
        return path

    return build


def column(
    name: str, data: list[Any], dtype: pl.DataType | None = None
) -> Callable[[pl.DataFrame], pl.DataFrame]:
    return lambda frame: frame.with_columns(pl.Series(name, data, dtype=dtype))


# --- Checks on results ---------------------------------------------------------------------------------------


def line_value(name: str, expected: object, package: str = "P2") -> Callable[[screening.Result], None]:
    def check(result: screening.Result) -> None:
        got = result.lines.filter(pl.col("package_id") == package)[name].to_list()
        assert got == [expected], f"{name} of {package}: {got!r}"

    return check


def all_of(*checks: Callable[[screening.Result], None]) -> Callable[[screening.Result], None]:
    def check(result: screening.Result) -> None:
        for each in checks:
            each(result)

    return check


def csv_outputs_neutralise_formulas(result: screening.Result, tmp: Path) -> None:
    """Every text cell of every CSV output that a spreadsheet would read as a formula starts with '."""
    out = result.write(tmp / "csv_out", fmt="csv")
    for path in sorted(out.glob("*.csv")):
        frame = pl.read_csv(path, infer_schema=False)
        for name in frame.columns:
            bad = [v for v in frame[name].drop_nulls().to_list() if v.startswith(FORMULA_START)]
            assert not bad, f"{path.name}.{name} holds formula-like cells {bad[:3]}"


def _package_value(name: str, expected: object, package: str = "P2") -> Callable[[screening.Result], None]:
    def check(result: screening.Result) -> None:
        got = result.packages.filter(pl.col("package_id") == package)[name].to_list()
        assert got == [expected], f"{name} of {package}: {got!r}"

    return check


def _denied_party_on(package: str, line_nos: list[int]) -> Callable[[screening.Result], None]:
    """Only ``package`` is flagged ``denied-party``, on ``line_nos``, and queued for it."""

    def check(result: screening.Result) -> None:
        denied = result.flags.filter(pl.col("rule_id") == "denied-party")
        assert denied.select("package_id", "line_nos").rows() == [(package, line_nos)]
        queued = result.packages.filter(pl.col("queue") == "denied-party")["package_id"].to_list()
        assert queued == [package]

    return check


def _same_consignee_key(result: screening.Result) -> None:
    keys = result.lines.sort("package_id")["consignee_key"].to_list()
    assert keys == ["name:anna keller|20001"] * 2, keys


def _batched_as_whole_day(name: str, *sizes: int) -> Callable[[screening.Result, Path], None]:
    """``screen run --batch-size`` of the case's file ``name``, at each of ``sizes``, writes the whole day's
    packages, lines, components and rejects (for a file of one consignee, whose running total is the day's)."""

    def check(result: screening.Result, tmp: Path) -> None:
        for size in sizes:
            out = tmp / f"batched-{size}"
            args = ["run", str(tmp / name), "--rules", str(US_PACK), "--out", str(out), "-q"]
            done = CliRunner().invoke(main, [*args, "--batch-size", str(size)], catch_exceptions=False)
            assert done.exit_code == 0, done.output
            for output in ("packages", "lines", "components", "rejects"):
                batched = pl.read_parquet(out / f"{output}.parquet")
                whole = result.frames()[output]
                assert batched.sort(batched.columns).equals(whole.sort(whole.columns)), (size, output)

    return check


def _pack_without_zone(tmp: Path) -> Path:
    """The U.S. pack without its ``time_zone``, in ``tmp``."""
    pack = tmp / "us_without_zone"
    if not pack.exists():
        shutil.copytree(US_PACK, pack)
        toml = pack / "pack.toml"
        toml.write_text(toml.read_text().replace('time_zone = "America/New_York"\n', ""))
    return pack


#: 2025-08-29 03:00 UTC: 2025-08-28 22:00 in Chicago, as text with its offset.
_LATE_AUGUST_AT_OFFSET = "2025-08-28T22:00:00-05:00"


def _typed_as_the_text_is(result: screening.Result, tmp: Path) -> None:
    """The same three rows with ``arrival_date`` a typed timestamp in ``America/Chicago`` (P2 at the text's
    instant) are dated as the text is, under the same pack."""
    chicago = ZoneInfo("America/Chicago")
    at = [dt.datetime(2025, 3, 10, 12, tzinfo=chicago), dt.datetime(2025, 8, 28, 22, tzinfo=chicago)]
    frame = base_frame().with_columns(
        pl.Series("arrival_date", [at[0], at[1], at[0]], dtype=pl.Datetime("us", "America/Chicago"))
    )
    path = tmp / "date_offset_typed.parquet"
    frame.write_parquet(path)
    typed = screening.screen(path, rules=screening.load_rules(_pack_without_zone(tmp))).packages
    text = result.packages
    columns = ["package_id", "arrival_date", "de_minimis_reason"]
    assert typed.select(columns).rows() == text.select(columns).rows()


# --- The catalogue: row-level cases --------------------------------------------------------------------------


@dataclass(frozen=True)
class RowCase:
    """A hostile file that must be screened: ``rows`` data rows in, these rejects out, the rest lines."""

    id: str
    input: str
    build: Callable[[Path], Path]
    rows: int
    rejects: tuple[tuple[int, str | None, str], ...] = ()
    check: Callable[[screening.Result], None] | None = None
    check_outputs: Callable[[screening.Result, Path], None] | None = None
    bug: str | None = None
    message_bug: str | None = None
    #: Builds the rule pack the case is screened with (else the U.S. pack).
    rules: Callable[[Path], Path] | None = None


def value_case(case_id: str, text: str, code: RejectCode, what: str) -> RowCase:
    return RowCase(
        case_id,
        f"declared_value {what} ({text!r})",
        write_csv(f"{case_id}.csv", three(line(package_id="P2", declared_value=text))),
        3,
        ((2, "declared_value", code),),
    )


def field_case(case_id: str, name: str, text: str, code: RejectCode, what: str) -> RowCase:
    return RowCase(
        case_id,
        f"{what} ({name} {text!r})",
        write_csv(f"{case_id}.csv", three(line(**{"package_id": "P2", name: text}))),
        3,
        ((2, name, code),),
    )


def accepted_case(
    case_id: str, name: str, text: str, what: str, check: Callable[[screening.Result], None]
) -> RowCase:
    return RowCase(
        case_id,
        f"{what} ({name} {text!r}): screened as a line",
        write_csv(f"{case_id}.csv", three(line(package_id="P2", **{name: text}))),
        3,
        (),
        check,
    )


_QUANTITY = {"value": 2, "unit": "pcs"}
_FORMULAS = {
    "description": '=HYPERLINK("http://example.invalid","click")',
    "consignee_name": "+cmd|' /C calc'!A0",
    "shipper_name": "-2+3",
    "carrier": "@SUM(1+1)",
    "consignee_address": "\t=1+1",
}
_LATIN1_NAME = "J\u00fcrgen M\u00fcller"
_ONE_MB = "cotton t-shirt " * (1 << 16)

ROW_CASES: tuple[RowCase, ...] = (
    # Numbers
    value_case("value_nan", "NaN", RejectCode.NON_FINITE_VALUE, "not a number"),
    value_case("value_inf", "inf", RejectCode.NON_FINITE_VALUE, "infinite"),
    value_case("value_minus_inf", "-inf", RejectCode.NON_FINITE_VALUE, "minus infinity"),
    value_case("value_negative", "-12.50", RejectCode.NEGATIVE_VALUE, "negative"),
    RowCase(
        "value_zero",
        "declared_value zero ('0'): screened, $0.00, eligible",
        write_csv("value_zero.csv", three(line(package_id="P2", declared_value="0"))),
        3,
        check=all_of(line_value("value_usd", Decimal("0.00")), line_value("de_minimis_eligible", True)),
    ),
    value_case("value_absurd_exponent", "1e300", RejectCode.INVALID_VALUE, "absurdly large"),
    value_case("value_absurd_digits", "10000000000000", RejectCode.INVALID_VALUE, "over 10^12"),
    accepted_case(
        "value_exponent_form",
        "declared_value",
        "8.000049999e2",
        "declared_value in exponent form, as a float column saved as text may hold it",
        line_value("value_usd", Decimal("800.00")),
    ),
    value_case(
        "value_thousands_separator", "1,234.50", RejectCode.INVALID_VALUE, "with a thousands separator"
    ),
    value_case("value_currency_symbol", "$12.00", RejectCode.INVALID_VALUE, "with a currency symbol"),
    value_case("value_currency_suffix", "12.00 EUR", RejectCode.INVALID_VALUE, "with a currency code"),
    replace(
        field_case("line_no_fraction", "line_no", "1.5", RejectCode.INVALID_NUMBER, "fractional line number"),
    ),
    field_case("line_no_zero", "line_no", "0", RejectCode.INVALID_NUMBER, "line number zero"),
    field_case(
        "line_no_past_bound",
        "line_no",
        "9223372036854775807",
        RejectCode.INVALID_NUMBER,
        "line number 2^63 - 1 (a line of its package without one, numbered after it, wrapped to -2^63)",
    ),
    field_case("quantity_negative", "quantity", "-1", RejectCode.INVALID_NUMBER, "negative quantity"),
    field_case("quantity_infinite", "quantity", "inf", RejectCode.INVALID_NUMBER, "infinite quantity"),
    field_case("quantity_absurd", "quantity", "1e18", RejectCode.INVALID_NUMBER, "quantity of 10^18"),
    replace(
        field_case("flag_not_boolean", "gift", "maybe", RejectCode.INVALID_FLAG, "gift flag not a boolean"),
    ),
    field_case(
        "part_values_malformed",
        "part_values",
        "case: 12",
        RejectCode.INVALID_PART_VALUES,
        "part values not name=number pairs",
    ),
    field_case(
        "part_values_absurd",
        "part_values",
        "case=99999999999999999",
        RejectCode.INVALID_PART_VALUES,
        "a part value of 10^17 (the run crashed converting it to cents)",
    ),
    RowCase(
        "part_values_jewels_times_quantity_absurd",
        "10^7 jewels per article times a quantity of 10^12 (part_values 'case=300; jewel=10000000'): the run "
        "crashed multiplying them",
        write_csv(
            "part_values_jewels_times_quantity_absurd.csv",
            three(
                line(
                    package_id="P2",
                    hts_code="9105.19.30",
                    part_values="case=300; jewel=10000000",
                    quantity="1000000000000",
                )
            ),
        ),
        3,
        ((2, "part_values", RejectCode.INVALID_PART_VALUES),),
    ),
    field_case("mode_unknown", "mode", "sea", RejectCode.INVALID_MODE, "unknown mode"),
    # Codes
    field_case("country_unknown", "country_of_origin", "XX", RejectCode.UNKNOWN_COUNTRY, "unknown country"),
    field_case(
        "country_not_iso", "shipper_country", "UK", RejectCode.UNKNOWN_COUNTRY, "UK is not ISO 3166-1"
    ),
    accepted_case(
        "country_lower_case",
        "country_of_origin",
        "de",
        "lower-case country",
        line_value("country_of_origin", "DE"),
    ),
    accepted_case(
        "country_padded",
        "country_of_origin",
        "  DE ",
        "padded country",
        line_value("country_of_origin", "DE"),
    ),
    accepted_case(
        "country_placeholder_optional",
        "shipper_country",
        "N/A",
        "optional country written as a word for none (it was `unknown-country`, rejecting the package)",
        line_value("shipper_country", None),
    ),
    field_case(
        "country_placeholder_required",
        "country_of_origin",
        "nan",
        RejectCode.MISSING_FIELD,
        "required country written as a word for none (it was `unknown-country`)",
    ),
    field_case("currency_unknown", "currency", "ZZZ", RejectCode.UNKNOWN_CURRENCY, "unknown currency"),
    accepted_case(
        "currency_lower_case", "currency", "eur", "lower-case currency", line_value("currency", "EUR")
    ),
    accepted_case("currency_padded", "currency", " EUR  ", "padded currency", line_value("currency", "EUR")),
    field_case(
        "hts_letters", "hts_code", "6109.1O.00.12", RejectCode.INVALID_HTS, "HTS code with a letter O"
    ),
    field_case("hts_too_few_digits", "hts_code", "6109", RejectCode.INVALID_HTS, "HTS code of 4 digits"),
    field_case("hts_nine_digits", "hts_code", "6109.10.00.1", RejectCode.INVALID_HTS, "HTS code of 9 digits"),
    accepted_case(
        "hts_dots_in_odd_places",
        "hts_code",
        "61.0910.0012",
        "dots in odd places (README: dots allowed; the digits count)",
        line_value("hts_digits", "6109100012"),
    ),
    # Dates
    field_case("date_us_format", "arrival_date", "03/10/2025", RejectCode.INVALID_DATE, "U.S. date format"),
    field_case("date_compact", "arrival_date", "20250310", RejectCode.INVALID_DATE, "compact date"),
    field_case("date_dotted", "arrival_date", "10.03.2025", RejectCode.INVALID_DATE, "day-first dotted date"),
    accepted_case(
        "date_with_time",
        "arrival_date",
        "2025-03-10T12:00:00",
        "date and time, read as a timestamp's date (it was invalid-date, where a typed timestamp was read)",
        line_value("arrival_date", dt.date(2025, 3, 10)),
    ),
    field_case(
        "date_with_time_zone_name",
        "arrival_date",
        "2025-03-10T12:00:00 EST",
        RejectCode.INVALID_DATE,
        "date and time with a zone's name, not an offset",
    ),
    RowCase(
        "date_offset_and_zoned_timestamp_without_pack_zone",
        "under a pack without `time_zone`, arrival_date as text with an offset "
        f"({_LATE_AUGUST_AT_OFFSET!r}, 03:00 UTC on 2025-08-29) and as a typed Parquet timestamp in "
        "America/Chicago of the same instant: the text was dated in UTC (08-29), the timestamp in its own zone (08-28)",
        write_csv(
            "date_offset_without_pack_zone.csv",
            three(line(package_id="P2", arrival_date=_LATE_AUGUST_AT_OFFSET)),
        ),
        3,
        check=all_of(
            line_value("arrival_date", dt.date(2025, 8, 29)),
            line_value("de_minimis_reason", "dm-suspended-all"),
        ),
        check_outputs=_typed_as_the_text_is,
        rules=_pack_without_zone,
    ),
    field_case(
        "date_unpadded",
        "arrival_date",
        "2025-8-29",
        RejectCode.INVALID_DATE,
        "month of one digit (it was read as 2025-08-29)",
    ),
    field_case(
        "date_truncated",
        "arrival_date",
        "2025-08-2",
        RejectCode.INVALID_DATE,
        "day cut to one digit (it was read as 2 August and screened on that day)",
    ),
    field_case("date_impossible_day", "arrival_date", "2025-02-30", RejectCode.INVALID_DATE, "30 February"),
    field_case("date_impossible_month", "arrival_date", "2025-13-01", RejectCode.INVALID_DATE, "month 13"),
    field_case(
        "date_before_pack", "arrival_date", "1999-12-31", RejectCode.DATE_OUTSIDE_PACK, "before coverage"
    ),
    RowCase(
        "date_far_future_usd",
        "arrival_date 2999-01-01 in USD: not a plausible arrival date (the engine accepts 1900-2199)",
        write_csv("date_far_future_usd.csv", three(line(package_id="P2", arrival_date="2999-01-01"))),
        3,
        ((2, "arrival_date", RejectCode.INVALID_DATE),),
    ),
    RowCase(
        "date_far_future_fx",
        "arrival_date 2026-11-20 in EUR: no exchange rate within 7 days (the pack's rates end 2026-10-30)",
        write_csv(
            "date_far_future_fx.csv", three(line(package_id="P2", arrival_date="2026-11-20", currency="EUR"))
        ),
        3,
        ((2, "currency", RejectCode.MISSING_FX_RATE),),
    ),
    RowCase(
        "date_year_10000",
        "arrival_date '+10000-01-01' (parsed as year 10000)",
        write_csv("date_year_10000.csv", three(line(package_id="P2", arrival_date="+10000-01-01"))),
        3,
        ((2, "arrival_date", RejectCode.INVALID_DATE),),
    ),
    # Missing and repeated
    RowCase(
        "package_id_null",
        "package_id null (Parquet)",
        write_parquet("package_id_null.parquet", column("package_id", ["P1", None, "P3"])),
        3,
        ((2, "package_id", RejectCode.MISSING_FIELD),),
    ),
    field_case("package_id_blank", "package_id", "   ", RejectCode.MISSING_FIELD, "blank package_id"),
    RowCase(
        "package_id_nan_float",
        "package_id Float64 NaN (Parquet; NaN ids merged strangers' parcels into one package 'NaN')",
        write_parquet("package_id_nan_float.parquet", column("package_id", [1.0, float("nan"), 3.0])),
        3,
        ((2, "package_id", RejectCode.MISSING_FIELD),),
    ),
    RowCase(
        "package_id_na_text",
        "package_id 'NA' in two rows (an export's word for none: the two made one package 'NA')",
        write_csv(
            "package_id_na_text.csv",
            [line(package_id="NA"), line(package_id="na", line_no="2"), line(package_id="N1")],
        ),
        3,
        ((1, "package_id", RejectCode.MISSING_FIELD), (2, "package_id", RejectCode.MISSING_FIELD)),
        line_value("value_usd", Decimal("100.00"), package="N1"),
    ),
    RowCase(
        "package_id_whole_float",
        "package_id Float64 101.0 (Parquet): read as 101, as an integer column's 101 is",
        write_parquet("package_id_whole_float.parquet", column("package_id", [1.0, 101.0, 3.0])),
        3,
        check=line_value("package_id", "101", package="101"),
    ),
    RowCase(
        "port_nan_float",
        "port_of_entry Float64 NaN (Parquet; it was port 'NaN', a port group of its own with a queue's full "
        "capacity): no port, as a blank is",
        write_parquet("port_nan_float.parquet", column("port_of_entry", [101.0, float("nan"), 2704.0])),
        3,
        check=all_of(line_value("port_of_entry", None), line_value("port_of_entry", "0101", package="P1")),
    ),
    RowCase(
        "duplicate_line",
        "the same package and line twice",
        write_csv(
            "duplicate_line.csv", [line(package_id="P1"), line(package_id="P1"), line(package_id="P3")]
        ),
        3,
        ((2, "line_no", RejectCode.DUPLICATE_LINE),),
    ),
    RowCase(
        "duplicate_lines_interleaved",
        "two packages each repeated, interleaved: P1, P2, P1, P2 (Parquet)",
        write_parquet(
            "duplicate_lines_interleaved.parquet",
            lambda _: base_frame(4).with_columns(pl.Series("package_id", ["P1", "P2", "P1", "P2"])),
        ),
        4,
        ((3, "line_no", RejectCode.DUPLICATE_LINE), (4, "line_no", RejectCode.DUPLICATE_LINE)),
    ),
    RowCase(
        "conflicting_line",
        "the same package and line twice, for $100.00 and for $900.00",
        write_csv(
            "conflicting_line.csv",
            [line(package_id="P1"), line(package_id="P1", declared_value="900.00"), line(package_id="P3")],
        ),
        3,
        ((1, "line_no", RejectCode.CONFLICTING_LINE), (2, "line_no", RejectCode.CONFLICTING_LINE)),
    ),
    RowCase(
        "duplicate_line_written_differently",
        "the same line twice, its value and currency written differently (100.00 and 100, USD and usd)",
        write_csv(
            "duplicate_line_written_differently.csv",
            [
                line(package_id="P1"),
                line(package_id="P1", declared_value="100", currency="usd"),
                line(package_id="P3"),
            ],
        ),
        3,
        ((2, "line_no", RejectCode.DUPLICATE_LINE),),
    ),
    RowCase(
        "listed_party_on_a_later_line",
        "a package whose line 1 names an ordinary shipper and line 2 a listed one (OFAC SDN, exact)",
        write_csv(
            "listed_party_on_a_later_line.csv",
            [
                line(package_id="P1"),
                line(package_id="P2"),
                line(package_id="P2", line_no="2", shipper_name="Beijing Alite Technologies Co., Ltd."),
                line(package_id="P3"),
            ],
        ),
        4,
        check=_denied_party_on("P2", [2]),
    ),
    RowCase(
        "blank_line_in_csv",
        "an empty line between two rows (counted as a row with every field empty)",
        write_csv("blank_line_in_csv.csv", [line(package_id="P1"), "", line(package_id="P3")]),
        3,
        ((2, "package_id", RejectCode.MISSING_FIELD),),
    ),
    RowCase(
        "blank_line_inside_package_batch_size_1",
        "an empty line between a package's $500 and $400 lines, with --batch-size 1 (the blank row ended the "
        "package's run: its $500 line was released de minimis as a package of its own)",
        write_csv(
            "blank_line_inside_package_batch_size_1.csv",
            [line(declared_value="500.00"), "", line(line_no="2", declared_value="400.00")],
        ),
        3,
        ((2, "package_id", RejectCode.MISSING_FIELD),),
        check=_package_value("value_usd", Decimal("900.00"), "P1"),
        check_outputs=_batched_as_whole_day("blank_line_inside_package_batch_size_1.csv", 1),
    ),
    RowCase(
        "blank_line_inside_package_batch_size_2",
        "the same, with --batch-size 2 (the batch [$500 line, blank row] ended inside the package)",
        write_csv(
            "blank_line_inside_package_batch_size_2.csv",
            [line(declared_value="500.00"), "", line(line_no="2", declared_value="400.00")],
        ),
        3,
        ((2, "package_id", RejectCode.MISSING_FIELD),),
        check=_package_value("value_usd", Decimal("900.00"), "P1"),
        check_outputs=_batched_as_whole_day("blank_line_inside_package_batch_size_2.csv", 2),
    ),
    RowCase(
        "package_id_null_inside_package_batches",
        "package_id null (Parquet) in a row between a package's $500 and $400 lines, with --batch-size 1 and 2",
        write_parquet(
            "package_id_null_inside_package_batches.parquet",
            lambda frame: frame.with_columns(
                pl.Series("package_id", ["P1", None, "P1"]),
                pl.Series("line_no", ["1", "2", "2"]),
                pl.Series("declared_value", ["500.00", "100.00", "400.00"]),
            ),
        ),
        3,
        ((2, "package_id", RejectCode.MISSING_FIELD),),
        check=_package_value("value_usd", Decimal("900.00"), "P1"),
        check_outputs=_batched_as_whole_day("package_id_null_inside_package_batches.parquet", 1, 2),
    ),
    # Text
    RowCase(
        "description_1mb",
        "a 1 MB description",
        write_csv("description_1mb.csv", three(line(package_id="P2", description=_ONE_MB))),
        3,
        check=line_value("description", _ONE_MB.strip()),
    ),
    RowCase(
        "control_characters_in_names",
        "BEL, ESC and NUL in names",
        write_csv(
            "control_characters_in_names.csv",
            three(
                line(package_id="P2", consignee_name="Anna\x07 Kel\x00ler\x1b", shipper_name="Nord\x01licht")
            ),
        ),
        3,
        check=line_value("consignee_name", "Anna\x07 Kel\x00ler\x1b"),
    ),
    RowCase(
        "emoji_in_names",
        "emoji in the consignee's name: the same person as without",
        write_csv(
            "emoji_in_names.csv",
            [
                line(package_id="P1"),
                line(package_id="P2", consignee_name="Anna \U0001f600 Keller \U0001f9f8"),
            ],
        ),
        2,
        check=_same_consignee_key,
    ),
    RowCase(
        "formula_injection",
        "text fields starting with =, +, -, @ and a tab; an HTS code '=1+1' (CSV output)",
        write_csv(
            "formula_injection.csv",
            [*three(line(package_id="P2", **_FORMULAS)), line(package_id="P4", hts_code="=1+1")],
        ),
        4,
        ((4, "hts_code", RejectCode.INVALID_HTS),),
        check_outputs=csv_outputs_neutralise_formulas,
    ),
    RowCase(
        "formula_in_list_column",
        "a passthrough List column holding '=cmd' (Parquet in, CSV out)",
        write_parquet("formula_in_list_column.parquet", column("tags", [["=cmd"], ["+x", "ok"], ["@y"]])),
        3,
        check_outputs=csv_outputs_neutralise_formulas,
    ),
    # Encodings and CSV syntax
    RowCase(
        "byte_order_mark",
        "UTF-8 byte-order mark before the header",
        write_csv("byte_order_mark.csv", three(line(package_id="P2")), bom=True),
        3,
        check=line_value("package_id", "P1", package="P1"),
    ),
    RowCase(
        "crlf_line_ends",
        "CRLF line ends (no stray carriage return in the last field)",
        write_csv("crlf_line_ends.csv", three(line(package_id="P2", currency="EUR")), newline="\r\n"),
        3,
        check=line_value("currency", "EUR"),
    ),
    RowCase(
        "latin1_bytes",
        "a Latin-1 encoded name (read as U+FFFD: Jürgen and Jörgen would read alike, one person's day)",
        write_csv(
            "latin1_bytes.csv", three(line(package_id="P2", consignee_name=_LATIN1_NAME)), encoding="latin-1"
        ),
        3,
        ((2, "consignee_name", RejectCode.INVALID_TEXT),),
    ),
    RowCase(
        "latin1_package_ids",
        "two package ids that differ only in a byte that is not UTF-8 (P\\xe91, P\\xe81: one package)",
        write_bytes(
            "latin1_package_ids.csv",
            "\n".join([HEADER, line(package_id="P@1"), line(package_id="P#1"), line(package_id="P3"), ""])
            .encode()
            .replace(b"@", b"\xe9")
            .replace(b"#", b"\xe8"),
        ),
        3,
        ((1, "package_id", RejectCode.INVALID_TEXT), (2, "package_id", RejectCode.INVALID_TEXT)),
    ),
    RowCase(
        "latin1_description",
        "a Latin-1 encoded description (read lossily: U+FFFD replaces the bytes, the row is kept)",
        write_csv(
            "latin1_description.csv",
            three(line(package_id="P2", description="caf\u00e9 cup")),
            encoding="latin-1",
        ),
        3,
        check=line_value("description", "caf\ufffd cup"),
    ),
    RowCase(
        "invalid_utf8_in_hts",
        "invalid UTF-8 bytes inside the HTS code",
        write_bytes(
            "invalid_utf8_in_hts.csv",
            "\n".join([HEADER, *three(line(package_id="P2", hts_code="6109@@10.00")), ""])
            .encode()
            .replace(b"@@", b"\xff\xfe"),
        ),
        3,
        ((2, "hts_code", RejectCode.INVALID_HTS),),
    ),
    RowCase(
        "quoted_newline",
        "a quoted description holding a line break (rows are records, not lines)",
        write_csv("quoted_newline.csv", three(line(package_id="P2", description="cotton\nshirt, blue"))),
        3,
        check=line_value("description", "cotton\nshirt, blue"),
    ),
    RowCase(
        "ragged_row_short",
        "a row with 5 of 17 fields (the missing ones read as empty)",
        write_csv("ragged_row_short.csv", three(",".join(raw_line(package_id="P2").split(",")[:5]))),
        3,
        ((2, "consignee_name", RejectCode.MISSING_FIELD),),
    ),
    RowCase(
        "ragged_row_long",
        "a row with 2 fields more than the header",
        write_csv("ragged_row_long.csv", three(raw_line(package_id="P2") + ",extra,more")),
        3,
        ((2, None, MALFORMED_ROW),),
    ),
    RowCase(
        "stray_quote",
        'a bare double quote inside an unquoted field (cotton 12" shirt)',
        write_csv("stray_quote.csv", three(raw_line(package_id="P2", description='cotton 12" shirt'))),
        3,
        check=line_value("description", 'cotton 12" shirt'),
    ),
    RowCase(
        "gzip_csv_ragged_row",
        "a gzip-compressed CSV named .csv with a row of 2 fields more than the header (the tolerant reader "
        "parsed the compressed bytes: every row lost to a few garbage rows)",
        compressed(
            gzip.compress, write_csv("gzip_csv_ragged_row.csv", three(raw_line(package_id="P2") + ",x,y"))
        ),
        3,
        ((2, None, MALFORMED_ROW),),
    ),
    RowCase(
        "zstd_csv_stray_quote",
        'a zstd-compressed CSV named .csv with a bare quote inside an unquoted field (cotton 12" shirt)',
        compressed(
            lambda data: bytes(pa.Codec("zstd").compress(data, asbytes=True)),
            write_csv(
                "zstd_csv_stray_quote.csv", three(raw_line(package_id="P2", description='cotton 12" shirt'))
            ),
        ),
        3,
        check=line_value("description", 'cotton 12" shirt'),
    ),
    RowCase(
        "ndjson_object_for_a_number",
        'an NDJSON record whose quantity is a JSON object ({"value": 2, "unit": "pcs"}) where the others give a '
        "number: the whole file was refused (exit 3), naming no record",
        write_bytes(
            "object_quantity.ndjson",
            "".join(
                json.dumps({**row, "quantity": _QUANTITY if row["package_id"] == "P2" else 1}) + "\n"
                for row in base_frame().to_dicts()
            ).encode(),
        ),
        3,
        ((2, "quantity", RejectCode.INVALID_NUMBER),),
    ),
    RowCase(
        "header_only",
        "a header and no rows",
        write_csv("header_only.csv", []),
        0,
    ),
    # Typed columns (Parquet) of the wrong type
    RowCase(
        "wrong_type_date_as_integer",
        "arrival_date as Int64 20250310 (Parquet)",
        write_parquet(
            "wrong_type_date_as_integer.parquet", column("arrival_date", [20250310, 20250310, 20250310])
        ),
        3,
        tuple((row, "arrival_date", RejectCode.INVALID_DATE) for row in (1, 2, 3)),
    ),
    RowCase(
        "wrong_type_date_as_day_number",
        "arrival_date as Int32 day numbers (20157) (Parquet)",
        write_parquet(
            "wrong_type_date_as_day_number.parquet",
            column("arrival_date", [20157, 20157, 20157], pl.Int32()),
        ),
        3,
        tuple((row, "arrival_date", RejectCode.INVALID_DATE) for row in (1, 2, 3)),
    ),
    RowCase(
        "wrong_type_value_float_huge",
        "declared_value Float64 1e20 in one row (Parquet)",
        write_parquet("wrong_type_value_float_huge.parquet", column("declared_value", [1.0, 1e20, 2.0])),
        3,
        ((2, "declared_value", RejectCode.INVALID_VALUE),),
    ),
    RowCase(
        "wrong_type_line_no_float",
        "line_no Float64 with 1.5 (Parquet)",
        write_parquet("wrong_type_line_no_float.parquet", column("line_no", [1.0, 1.5, 2.0])),
        3,
        ((2, "line_no", RejectCode.INVALID_NUMBER),),
    ),
    RowCase(
        "wrong_type_line_no_decimal",
        "line_no Decimal(10, 2) with 1.50 (Parquet; it was cut to line 1)",
        write_parquet(
            "wrong_type_line_no_decimal.parquet",
            column("line_no", [Decimal("1.00"), Decimal("1.50"), Decimal("2.00")], pl.Decimal(10, 2)),
        ),
        3,
        ((2, "line_no", RejectCode.INVALID_NUMBER),),
    ),
    RowCase(
        "wrong_type_package_id_float16",
        "package_id Float16 2048 (Parquet; 2049 is 2048 in a Float16: two producers' ids were one package)",
        write_parquet(
            "wrong_type_package_id_float16.parquet", column("package_id", [1.0, 2048.0, 2047.0], pl.Float16())
        ),
        3,
        ((2, "package_id", RejectCode.INVALID_NUMBER),),
    ),
    RowCase(
        "wrong_type_country_as_integer",
        "country_of_origin as Int64 (Parquet)",
        write_parquet("wrong_type_country_as_integer.parquet", column("country_of_origin", [1, 2, 3])),
        3,
        tuple((row, "country_of_origin", RejectCode.UNKNOWN_COUNTRY) for row in (1, 2, 3)),
    ),
)


def _params(cases: Sequence[Any], bug: Callable[[Any], str | None]) -> list[Any]:
    return [
        pytest.param(case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=f"BUG: {bug(case)}")])
        if bug(case)
        else pytest.param(case, id=case.id)
        for case in cases
    ]


def run_case(case: RowCase, tmp_path: Path, pack: screening.RulePack) -> tuple[Path, screening.Result]:
    path = case.build(tmp_path)
    if case.rules is not None:
        pack = screening.load_rules(case.rules(tmp_path))
    return path, screening.screen(path, rules=pack)


@pytest.mark.parametrize("case", _params(ROW_CASES, lambda c: c.bug))
def test_hostile_row_input(case: RowCase, tmp_path: Path, us_pack: screening.RulePack) -> None:
    path, result = run_case(case, tmp_path, us_pack)
    got = sorted(result.rejects.select("row", "field", "code").rows(), key=lambda r: r[0])
    assert got == [(row, fld, str(code)) for row, fld, code in case.rejects]
    assert result.lines.height + result.rejects.height == case.rows, "rows lost or invented"
    assert sorted([*result.lines["row"], *result.rejects["row"]]) == list(range(1, case.rows + 1))
    assert set(result.rejects["source"]) <= {str(path)}
    assert result.summary["counts"]["input_rows"] == case.rows
    if case.check is not None:
        case.check(result)
    if case.check_outputs is not None:
        case.check_outputs(result, tmp_path)


_WITH_REJECTS = [c for c in ROW_CASES if c.rejects]


@pytest.mark.parametrize("case", _params(_WITH_REJECTS, lambda c: c.bug or c.message_bug))
def test_hostile_row_input_reject_names_file_row_and_field(
    case: RowCase, tmp_path: Path, us_pack: screening.RulePack
) -> None:
    path, result = run_case(case, tmp_path, us_pack)
    assert result.rejects.height == len(case.rejects)
    for reject in result.rejects.iter_rows(named=True):
        assert reject["source"] == str(path)
        assert isinstance(reject["row"], int)
        assert reject["row"] >= 1
        if reject["field"] is None:
            assert "field" in reject["message"], reject["message"]
        else:
            assert reject["field"] in reject["message"], reject["message"]


# --- The catalogue: file-level cases (CLI) -------------------------------------------------------------------


@dataclass(frozen=True)
class FileCase:
    """A hostile input or output the CLI must refuse (or survive) with an exit code and a message."""

    id: str
    input: str
    build: Callable[[Path], list[str]]
    exit_code: int
    names: Callable[[Path], list[str]] = field(default=lambda _tmp: [])
    out: Callable[[Path], Path] = field(default=lambda tmp: tmp / "out")
    extra: tuple[str, ...] = ()
    bug: str | None = None
    #: Run ``python -m screening`` in a process of its own (else the click command in this process: faster).
    process: bool = False


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str | Path, process: bool = False) -> Ran:
    if not process:
        done = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        return Ran(done.exit_code, done.stdout, done.stderr)
    env = {**os.environ, "RUST_BACKTRACE": "0", "COLUMNS": "400"}
    ran = subprocess.run(
        [sys.executable, "-m", "screening", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=120,
    )
    return Ran(ran.returncode, ran.stdout, ran.stderr)


def one(build: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda tmp: [str(build(tmp))]


def named(*parts: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [str(tmp / p) if "/" in p or "." in p else p for p in parts]


def _truncated_parquet(tmp: Path) -> Path:
    data = (SAMPLE / "manifest_10k.parquet").read_bytes()
    path = tmp / "truncated.parquet"
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupted_parquet(tmp: Path) -> Path:
    data = bytearray((SAMPLE / "manifest_10k.parquet").read_bytes())
    middle = len(data) // 3
    data[middle : middle + 2000] = b"A" * 2000
    path = tmp / "corrupted.parquet"
    path.write_bytes(bytes(data))
    return path


def _arrow_file_with_repeated_column(tmp: Path) -> Path:
    table = base_frame().with_columns(note=pl.lit("a")).to_arrow()
    table = table.append_column("note", table.column("note"))
    path = tmp / "repeated.arrow"
    with pa.ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)
    return path


def _arrow_with_column(name: str, values: pa.Array, *, parquet: bool) -> Callable[[Path], Path]:
    """Three valid lines with an extra column ``values`` (or ``arrival_date`` replaced), as a Parquet file or an
    Arrow IPC stream named ``name``."""

    def build(tmp: Path) -> Path:
        table = base_frame().to_arrow()
        if "arrival_date" in name:
            table = table.set_column(table.schema.get_field_index("arrival_date"), "arrival_date", values)
        else:
            table = table.append_column("fees", values)
        path = tmp / name
        if parquet:
            pa.parquet.write_table(table, path)
        else:
            with pa.ipc.new_stream(path, table.schema) as writer:
                writer.write_table(table)
        return path

    return build


#: 2025-03-10 10:00 UTC (15:30 at +05:30), three times.
_STAMPS_AT_PLUS_0530 = pa.array([1741600800_000000] * 3, pa.int64()).cast(pa.timestamp("us", tz="+05:30"))
_WIDE_DECIMALS = pa.array([Decimal("1.00")] * 3, pa.decimal256(40, 2))


def _file_in_the_way(tmp: Path) -> Path:
    blocker = tmp / "blocker.txt"
    blocker.write_text("not a folder\n")
    return blocker


def _read_only_folder(tmp: Path) -> Path:
    folder = tmp / "read_only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "out"


def _empty_folder(tmp: Path) -> Path:
    folder = tmp / "empty_dir"
    folder.mkdir()
    return folder


def _folder_with_appledouble_file(tmp: Path) -> list[str]:
    """A folder copied from macOS: a valid CSV beside its AppleDouble file ``._valid.csv`` (a resource fork)."""
    folder = tmp / "incoming"
    folder.mkdir()
    _VALID_CSV(folder)
    (folder / "._valid.csv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02")
    return [str(folder)]


def _manifest_in_its_folder(tmp: Path) -> list[str]:
    """A valid CSV manifest in folder ``day`` beside a file of notes (``--out day`` must not touch them)."""
    folder = tmp / "day"
    folder.mkdir()
    (folder / "notes.txt").write_text("the analyst's notes\n")
    return [str(_VALID_CSV(folder))]


def _manifest_named_like_an_output(name: str) -> Callable[[Path], list[str]]:
    """A manifest saved as ``day/<name>`` beside a ``summary.json``: the folder reads as an earlier output set,
    and a run into it replaced the manifest with its own output of that name."""

    def build(tmp: Path) -> list[str]:
        folder = tmp / "day"
        folder.mkdir()
        source = _VALID_CSV(tmp)
        if name.endswith(".parquet"):
            pl.read_csv(source, infer_schema=False).write_parquet(folder / name)
        else:
            shutil.copy(source, folder / name)
        (folder / "summary.json").write_text("{}\n")
        return [str(folder / name)]

    return build


def _drop_folder_with(make: Callable[[Path], None]) -> Callable[[Path], list[str]]:
    """A drop folder ``drop`` holding a valid CSV and the entry ``make`` puts there; the folder is the input."""

    def build(tmp: Path) -> list[str]:
        folder = tmp / "drop"
        folder.mkdir()
        _VALID_CSV(folder)
        make(folder)
        return [str(folder)]

    return build


def _dangling_link(folder: Path) -> None:
    """``hour-10.parquet``: a link into an archive whose file was moved on."""
    (folder / "hour-10.parquet").symlink_to(Path("..") / "archive" / "hour-10.parquet")


def _link_loop(folder: Path) -> None:
    (folder / "hour-10.parquet").symlink_to("hour-10.parquet")


def _named_pipe(folder: Path) -> None:
    os.mkfifo(folder / "hour-11.csv")


def _glob_of(build: Callable[[Path], list[str]], pattern: str) -> Callable[[Path], list[str]]:
    return lambda tmp: [str(Path(build(tmp)[0]) / pattern)]


def _named_pipe_alone(tmp: Path) -> list[str]:
    os.mkfifo(tmp / "hour-11.csv")
    return [str(tmp / "hour-11.csv")]


def _same_file_twice(tmp: Path) -> list[str]:
    path = _VALID_CSV(tmp)
    (tmp / "sub").mkdir()
    return [str(path), str(tmp / "sub" / ".." / path.name)]


def _files_with_enum_extras_of_other_categories(tmp: Path) -> list[str]:
    """Two Parquet files whose extra column ``colour`` is an Enum of different categories."""
    first = write_parquet("red.parquet", lambda f: f.with_columns(colour=pl.lit("red", pl.Enum(["red"]))))(
        tmp
    )
    second = write_parquet(
        "green.parquet",
        lambda f: f.with_columns(pl.col("package_id") + "G", colour=pl.lit("green", pl.Enum(["green"]))),
    )(tmp)
    return [str(first), str(second)]


def _files_with_different_extra_columns(tmp: Path) -> list[str]:
    """A Parquet file with an extra integer column ``note``, and a CSV file without it."""
    first = write_parquet("with_note.parquet", lambda f: f.with_columns(note=pl.lit(7)))(tmp)
    second = write_csv("without_note.csv", [line(package_id="P9")])(tmp)
    return [str(first), str(second)]


def _files_with_extra_columns_of_types(*types: tuple[str, pl.Expr]) -> Callable[[Path], list[str]]:
    """Parquet files (``types``: each file's name and its extra column ``ref``), of packages of their own."""

    def build(tmp: Path) -> list[str]:
        return [
            str(
                write_parquet(
                    name, lambda f, i=i, ref=ref: f.with_columns(pl.col("package_id") + str(i), ref=ref)
                )(tmp)
            )
            for i, (name, ref) in enumerate(types)
        ]

    return build


_DATE_BESIDE_INTEGER = _files_with_extra_columns_of_types(
    ("ref_date.parquet", pl.lit(dt.date(2025, 5, 1))), ("ref_int.parquet", pl.lit(42, pl.Int32()))
)
_DATE_BESIDE_INTEGER_NAMED = named("ref_date.parquet", "ref_int.parquet", "'ref'", "Date", "Int32", "cast it")


def _struct_column(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(meta=pl.struct(pl.lit(1).alias("a"), pl.lit("x").alias("b")))


_VALID_CSV = write_csv("valid.csv", [line(package_id="P1")])

FILE_CASES: tuple[FileCase, ...] = (
    FileCase(
        "missing_required_columns",
        "a CSV with headers tracking,amount",
        one(write_bytes("not_a_manifest.csv", b"tracking,amount\nA1,10\n")),
        3,
        named("not_a_manifest.csv", "package_id", "declared_value"),
    ),
    FileCase(
        "unexpected_parquet_schema",
        "a Parquet file whose columns are all upper case (PACKAGE_ID, ...)",
        one(write_parquet("upper_case.parquet", lambda f: f.rename({c: c.upper() for c in f.columns}))),
        3,
        named("upper_case.parquet", "package_id"),
    ),
    FileCase(
        "empty_file", "a CSV file of 0 bytes", one(write_bytes("empty.csv", b"")), 3, named("empty.csv")
    ),
    FileCase(
        "truncated_parquet",
        "the first half of a Parquet file",
        one(_truncated_parquet),
        3,
        named("truncated.parquet"),
    ),
    FileCase(
        "corrupted_parquet_page",
        "a Parquet file with 2,000 bytes of a data page overwritten (footer intact)",
        one(_corrupted_parquet),
        3,
        named("corrupted.parquet", "not a valid Parquet file"),
    ),
    FileCase(
        "corrupted_parquet_page_in_batches",
        "the same, screened in batches",
        one(_corrupted_parquet),
        3,
        named("corrupted.parquet", "not a valid Parquet file"),
        extra=("--batch-size", "2000"),
    ),
    FileCase(
        "not_parquet_at_all",
        "PNG bytes in a .parquet file",
        one(write_bytes("photo.parquet", b"\x89PNG\r\n\x1a\n" + b"\0" * 100)),
        3,
        named("photo.parquet"),
    ),
    FileCase(
        "empty_arrow_file",
        "an .arrow file of 0 bytes (a half-copied file)",
        one(write_bytes("empty.arrow", b"")),
        3,
        named("empty.arrow", "not a valid Arrow IPC file or stream"),
    ),
    FileCase(
        "text_in_arrow_file",
        "a line of text in a .feather file, screened in batches",
        one(write_bytes("notes.feather", b"not arrow at all\n")),
        3,
        named("notes.feather", "not a valid Arrow IPC file or stream"),
        extra=("--batch-size", "10"),
    ),
    FileCase(
        "arrow_file_with_repeated_column",
        "an Arrow IPC file with two columns named note (polars panicked reading it)",
        one(_arrow_file_with_repeated_column),
        3,
        named("repeated.arrow", "repeated column headers (['note'])"),
        process=True,
    ),
    FileCase(
        "parquet_list_of_256_bit_decimals",
        "a Parquet file whose extra column 'fees' is a list of 256-bit decimals (polars panicked reading it: the "
        "file check looked at top-level types only)",
        one(
            _arrow_with_column(
                "fees.parquet", pa.ListArray.from_arrays([0, 1, 2, 3], _WIDE_DECIMALS), parquet=True
            )
        ),
        3,
        named("fees.parquet", "column 'fees' has type list<item: decimal256(40, 2)>", "256-bit decimals"),
        process=True,
    ),
    FileCase(
        "arrow_stream_dictionary_of_offset_timestamps",
        "an Arrow IPC stream whose arrival_date is a dictionary of timestamps at +05:30 (polars panicked: "
        "'unable to parse time zone')",
        one(
            _arrow_with_column("arrival_date.arrow", _STAMPS_AT_PLUS_0530.dictionary_encode(), parquet=False)
        ),
        0,
        process=True,
    ),
    FileCase(
        "ndjson_broken_record",
        "an NDJSON file whose second record has a doubled comma",
        one(_ndjson("broken.ndjson", second='{"package_id": "P9",, "mode": "express"}')),
        3,
        named("broken.ndjson", "record 2 (line 2) is not valid JSON"),
    ),
    FileCase(
        "ndjson_record_nested_too_deeply",
        "an NDJSON file whose second record nests arrays 100,000 deep (an internal RecursionError, exit 70)",
        one(_ndjson("deep.ndjson", second='{"package_id": ' + "[" * 100_000 + "]" * 100_000 + "}")),
        3,
        named("deep.ndjson", "record 2 (line 2) is not valid JSON: arrays or objects nested too deeply"),
    ),
    FileCase(
        "ndjson_record_not_an_object",
        "an NDJSON file whose second record (after a blank line) is a JSON list",
        one(_ndjson("list.ndjson", second="", third="[1, 2]")),
        3,
        named("list.ndjson", "record 2 (line 3) is a JSON list, not an object"),
    ),
    FileCase(
        "ndjson_extra_column_number_and_object",
        "an NDJSON file whose extra column 'ref' holds numbers, then an object in record 3 (polars' 'SchemaError', "
        "naming no record)",
        one(
            _ndjson(
                "mixed.ndjson",
                second=json.dumps({**LINE, "ref": 7}),
                third=json.dumps({**LINE, "ref": {"a": 1}}),
            )
        ),
        3,
        named("mixed.ndjson", "record 3 (line 3)", "'ref' holds a JSON object", "record 2 holds a number"),
    ),
    FileCase(
        "ndjson_with_byte_order_mark",
        "an NDJSON file that starts with a UTF-8 byte-order mark (polars' reader refused it)",
        one(_ndjson("bom.ndjson", bom=True)),
        0,
    ),
    FileCase(
        "mapping_with_byte_order_mark",
        "a --mapping file saved as 'UTF-8 with BOM' (it said only 'Invalid statement (at line 1, column 1)')",
        lambda tmp: [
            str(_VALID_CSV(tmp)),
            "--mapping",
            str(write_bytes("mapping.toml", b'\xef\xbb\xbf[defaults]\ncarrier = "DHL"\n')(tmp)),
        ],
        2,
        named("mapping.toml", "byte-order mark", "save it as UTF-8"),
    ),
    FileCase(
        "folder_with_appledouble_file",
        "a folder copied from macOS: a valid CSV beside its hidden AppleDouble file ._valid.csv (read as a "
        "manifest, it failed the run)",
        _folder_with_appledouble_file,
        0,
    ),
    FileCase(
        "empty_ndjson_file",
        "an NDJSON file of 0 bytes beside a valid CSV, in batches (a quiet hour's file)",
        lambda tmp: [str(write_bytes("quiet.ndjson", b"")(tmp)), str(_VALID_CSV(tmp))],
        0,
        extra=("--batch-size", "10"),
    ),
    FileCase(
        "state_inside_the_output_folder",
        "--state inside the --out folder, which each run replaces whole",
        one(_VALID_CSV),
        2,
        named("the state must be kept outside the output folder"),
        extra=("--batch-size", "10", "--state", "{out}/day.state"),
    ),
    FileCase(
        "unknown_suffix",
        "a manifest named .xlsx",
        one(write_bytes("manifest.xlsx", b"PK\x03\x04")),
        3,
        named("manifest.xlsx"),
    ),
    FileCase(
        "path_does_not_exist",
        "a path that does not exist",
        lambda tmp: [str(tmp / "nope.parquet")],
        3,
        named("nope.parquet"),
    ),
    FileCase(
        "empty_folder",
        "a folder without manifest files",
        lambda tmp: [str(_empty_folder(tmp))],
        3,
        named("empty_dir"),
    ),
    FileCase(
        "glob_matches_nothing",
        "a glob that matches no file",
        lambda tmp: [str(tmp / "*.nothing.csv")],
        3,
        named("*.nothing.csv"),
    ),
    FileCase(
        "unterminated_quote",
        "a quoted field never closed (the rest of the file would be one field)",
        one(write_csv("unterminated.csv", three(raw_line(package_id="P2", description='"cotton t-shirt')))),
        3,
        named("unterminated.csv"),
    ),
    FileCase(
        "reserved_column_name",
        "an extra column named __part (the engine's own names start with __)",
        one(write_csv("reserved.csv", [line(package_id="P1") + ",x"], header=HEADER + ",__part")),
        3,
        named("reserved.csv", "__part", "reserved"),
    ),
    FileCase(
        "reserved_column_name_in_parts",
        "the same, screened in parts of one line",
        one(write_csv("reserved.csv", [line(package_id="P1") + ",x"], header=HEADER + ",__failed_check")),
        3,
        named("reserved.csv", "__failed_check", "reserved"),
        extra=("--part-lines", "1"),
    ),
    FileCase(
        "engine_malformed_column_name_parquet",
        "a Parquet column named __malformed_row (the engine's CSV column), screened in batches",
        one(write_parquet("malformed_named.parquet", column("__malformed_row", ["my note"] * 3))),
        3,
        named("malformed_named.parquet", "__malformed_row", "reserved"),
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "engine_malformed_column_name_csv",
        "a CSV header __malformed_row",
        one(
            write_csv(
                "malformed_named.csv", [line(package_id="P1") + ",x"], header=HEADER + ",__malformed_row"
            )
        ),
        3,
        named("malformed_named.csv", "__malformed_row", "reserved"),
    ),
    FileCase(
        "lineage_column_name",
        "an extra column named row (the engine's lineage column), screened in batches",
        one(write_csv("lineage.csv", [line(package_id="P1") + ",7"], header=HEADER + ",row")),
        3,
        named("lineage.csv", "row", "lineage"),
        extra=("--batch-size", "10"),
    ),
    FileCase(
        "duplicate_header",
        "package_id twice in the header",
        one(
            write_csv(
                "duplicate_header.csv",
                [line(package_id="P1") + ",P9"],
                header=HEADER + ",package_id",
            )
        ),
        3,
        named("duplicate_header.csv", "package_id"),
    ),
    FileCase(
        "duplicate_header_ragged_row",
        "gift twice in the header, and a later row with a field more than the header (the header row went "
        "unread, and the second gift passed through as gift_duplicated_0)",
        one(
            write_csv(
                "duplicate_header_ragged.csv",
                [line(package_id="P1") + ",true", line(package_id="P2") + ",true,extra"],
                header=HEADER + ",gift",
            )
        ),
        3,
        named("duplicate_header_ragged.csv", "repeated column headers", "gift"),
    ),
    FileCase(
        "duplicate_header_stray_quote",
        'gift twice in the header, and a later row with a bare quote inside a quoted field ("red wine 5" screen)',
        one(
            write_csv(
                "duplicate_header_quote.csv",
                [
                    line(package_id="P1") + ",true",
                    raw_line(package_id="P2", description='"red wine 5" screen') + ",true",
                ],
                header=HEADER + ",gift",
            )
        ),
        3,
        named("duplicate_header_quote.csv", "repeated column headers", "gift"),
    ),
    FileCase(
        "wrong_type_value_boolean",
        "declared_value as a Boolean column (Parquet)",
        one(write_parquet("bool_value.parquet", column("declared_value", [True, False, None]))),
        3,
        named("bool_value.parquet", "declared_value"),
    ),
    FileCase(
        "wrong_type_value_list",
        "declared_value as a List column (Parquet)",
        one(write_parquet("list_value.parquet", column("declared_value", [[1.0], [2.0], [3.0]]))),
        3,
        named("list_value.parquet", "declared_value"),
    ),
    FileCase(
        "wrong_type_name_binary",
        "consignee_name as Binary holding invalid UTF-8 (Parquet)",
        one(write_parquet("binary_name.parquet", column("consignee_name", [b"Anna", b"\xff\xfe", b"Ben"]))),
        3,
        named("binary_name.parquet", "consignee_name"),
    ),
    FileCase(
        "struct_column_to_csv",
        "an extra Struct column passed through, written with --format csv",
        one(write_parquet("struct_column.parquet", _struct_column)),
        0,
        extra=("--format", "csv"),
    ),
    FileCase(
        "interleaved_duplicates_cli",
        "P1, P2, P1, P2 in a Parquet file, through the CLI",
        one(
            write_parquet(
                "interleaved.parquet",
                lambda _: base_frame(4).with_columns(pl.Series("package_id", ["P1", "P2", "P1", "P2"])),
            )
        ),
        0,
        process=True,
    ),
    FileCase(
        "output_parent_is_a_file",
        "--out below a regular file",
        one(_VALID_CSV),
        2,
        lambda tmp: [str(tmp / "blocker.txt")],
        out=lambda tmp: _file_in_the_way(tmp) / "out",
    ),
    FileCase(
        "output_is_a_file",
        "--out naming an existing regular file",
        one(_VALID_CSV),
        2,
        lambda tmp: [str(tmp / "blocker.txt")],
        out=_file_in_the_way,
    ),
    FileCase(
        "output_folder_holds_other_files",
        "--out naming the folder that holds the manifest and other files (not an earlier output set)",
        _manifest_in_its_folder,
        2,
        lambda tmp: [str(tmp / "day")],
        out=lambda tmp: tmp / "day",
    ),
    FileCase(
        "output_folder_holds_other_files_batches",
        "the same, with --batch-size",
        _manifest_in_its_folder,
        2,
        lambda tmp: [str(tmp / "day")],
        out=lambda tmp: tmp / "day",
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "output_folder_holds_the_input_named_like_an_output",
        "--out naming the folder of an earlier output set that holds the manifest as lines.csv (CSV out)",
        _manifest_named_like_an_output("lines.csv"),
        2,
        lambda tmp: [str(tmp / "day" / "lines.csv")],
        out=lambda tmp: tmp / "day",
        extra=("--format", "csv"),
    ),
    FileCase(
        "output_folder_holds_the_input_named_like_an_output_batches",
        "the same as lines.parquet, with --batch-size",
        _manifest_named_like_an_output("lines.parquet"),
        2,
        lambda tmp: [str(tmp / "day" / "lines.parquet")],
        out=lambda tmp: tmp / "day",
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "state_folder_missing",
        "--batch-size with --state in a folder that does not exist",
        one(_VALID_CSV),
        2,
        named("no_such_state_folder"),
        extra=("--batch-size", "2", "--state", "no_such_state_folder/day.state"),
    ),
    FileCase(
        "header_only_batches",
        "a header and no rows, with --batch-size (a quiet hour)",
        one(write_csv("header_only.csv", [])),
        0,
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "same_file_twice",
        "one file named twice (as valid.csv and sub/../valid.csv)",
        _same_file_twice,
        0,
    ),
    FileCase(
        "folder_with_dangling_link",
        "a drop folder holding a valid CSV and hour-10.parquet, a link whose target was moved away: the link was "
        "left out unsaid and the run screened the rest (exit 0)",
        _drop_folder_with(_dangling_link),
        3,
        named("drop/hour-10.parquet", "a symbolic link to", "which does not exist"),
    ),
    FileCase(
        "glob_with_dangling_link",
        "the same folder matched by a glob ('drop/*.parquet'): as above",
        _glob_of(_drop_folder_with(_dangling_link), "*.parquet"),
        3,
        named("drop/hour-10.parquet", "which does not exist"),
    ),
    FileCase(
        "folder_with_link_loop",
        "a drop folder holding a valid CSV and hour-10.parquet, a link to itself: left out unsaid (exit 0)",
        _drop_folder_with(_link_loop),
        3,
        named("drop/hour-10.parquet", "cannot be read", "symbolic links"),
    ),
    FileCase(
        "folder_with_named_pipe",
        "a drop folder holding a valid CSV and hour-11.csv, a named pipe (FIFO): left out unsaid (exit 0)",
        _drop_folder_with(_named_pipe),
        3,
        named("drop/hour-11.csv", "not a regular file (a named pipe)"),
    ),
    FileCase(
        "named_pipe_as_input",
        'a named pipe (FIFO) named as the input: refused as "file not found"',
        _named_pipe_alone,
        3,
        named("hour-11.csv", "not a regular file (a named pipe)"),
    ),
    FileCase(
        "all_empty_optional_column_parquet",
        "gross_weight_kg without a value, stored with Arrow's Null type (Parquet)",
        one(write_parquet("null_weight.parquet", lambda f: f.with_columns(gross_weight_kg=pl.lit(None)))),
        0,
    ),
    FileCase(
        "extra_columns_differ_between_files_batches",
        "an extra column in one file only (and of another type than text), with --batch-size",
        _files_with_different_extra_columns,
        0,
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "enum_extra_columns_differ_between_files_batches",
        "an extra Enum column whose categories differ between two files, with --batch-size",
        _files_with_enum_extras_of_other_categories,
        0,
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "extra_column_types_differ_between_files",
        "an extra column ref of dates in one Parquet file and of integers in another",
        _DATE_BESIDE_INTEGER,
        3,
        _DATE_BESIDE_INTEGER_NAMED,
    ),
    FileCase(
        "extra_column_types_differ_between_files_in_parts",
        "the same, screened in parts of one line",
        _DATE_BESIDE_INTEGER,
        3,
        _DATE_BESIDE_INTEGER_NAMED,
        extra=("--part-lines", "1"),
    ),
    FileCase(
        "extra_column_types_differ_between_files_batches",
        "the same, with --batch-size",
        _DATE_BESIDE_INTEGER,
        3,
        _DATE_BESIDE_INTEGER_NAMED,
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "extra_column_types_stack_between_files_batches",
        "an extra column ref of 32-bit integers, 64-bit integers and no value (Null type) in three files, with --batch-size",
        _files_with_extra_columns_of_types(
            ("ref_int32.parquet", pl.lit(7, pl.Int32())),
            ("ref_int64.parquet", pl.lit(2**40)),
            ("ref_empty.parquet", pl.lit(None)),
        ),
        0,
        extra=("--batch-size", "2"),
    ),
    FileCase(
        "output_folder_read_only",
        "--out inside a read-only folder (skipped as root, who may write anywhere)",
        one(_VALID_CSV),
        2,
        lambda tmp: [str(tmp / "read_only")],
        out=_read_only_folder,
    ),
)


@pytest.mark.parametrize("case", _params(FILE_CASES, lambda c: c.bug))
def test_hostile_file_input(case: FileCase, tmp_path: Path) -> None:
    if case.id == "output_folder_read_only" and os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    inputs = case.build(tmp_path)
    out = case.out(tmp_path)
    before = out.read_bytes() if out.is_file() else None
    held = {p.name: p.read_bytes() for p in out.iterdir()} if out.is_dir() else None
    extra = [arg.replace("{out}", str(out)) for arg in case.extra]
    done = cli("run", *inputs, "--rules", US_PACK, "--out", out, "--quiet", *extra, process=case.process)
    assert done.returncode == case.exit_code, done.stderr[-2000:]
    if case.exit_code == 0:
        assert {p.name for p in out.iterdir()} >= {"summary.json"}
        return
    assert "Traceback" not in done.stderr
    message = " ".join(done.stderr.split())
    for name in case.names(tmp_path):
        assert name in message, f"stderr does not name {name!r}: {done.stderr!r}"
    if before is not None:
        assert out.read_bytes() == before, "the file in the way was changed"
    elif held is not None:
        assert {p.name: p.read_bytes() for p in out.iterdir()} == held, "the folder in the way was changed"
    else:
        assert not out.exists(), "an output folder appeared although the run failed"
    leftovers = [p.name for p in out.parent.iterdir() if ".staging-" in p.name] if out.parent.is_dir() else []
    assert not leftovers, leftovers


def test_catalogue_has_at_least_35_cases() -> None:
    assert len(ROW_CASES) + len(FILE_CASES) >= 35
    ids = [c.id for c in (*ROW_CASES, *FILE_CASES)]
    assert len(ids) == len(set(ids))


def test_docs_table_lists_every_case() -> None:
    from .test_rule_pack_hostility import CASES as PACK_CASES

    table = (ROOT / "docs" / "hostile_inputs.md").read_text(encoding="utf-8")
    missing = [c.id for c in (*ROW_CASES, *FILE_CASES, *PACK_CASES) if f"`{c.id}`" not in table]
    assert not missing, f"docs/hostile_inputs.md lacks {missing}"
