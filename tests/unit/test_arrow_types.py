"""Arrow types polars cannot read: converted in memory (``importable``), named in a file (``unreadable_columns``)."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest

from screening.io.arrow_types import far_value_columns, importable, temporal_columns, unreadable_columns

#: 2025-03-10 10:00 UTC, in microseconds.
INSTANT_US = 1_741_600_800_000_000
WIDE = pa.decimal256(40, 2)
UTC_US = pa.timestamp("us", tz="UTC")


def _wide(n: int = 2) -> pa.Array:
    return pa.array([Decimal("12.50")] * (n - 1) + [None], WIDE)


def _stamps(zone: str, n: int = 2) -> pa.Array:
    return pa.array([INSTANT_US] * (n - 1) + [None], pa.int64()).cast(pa.timestamp("us", tz=zone))


def _nested_columns() -> dict[str, tuple[pa.Array, pa.DataType]]:
    """Columns polars cannot read (a panic or its own error, in memory), each with the type it is read as."""
    return {
        "dictionary<decimal256(40, 2)>": (_wide().dictionary_encode(), pa.large_string()),
        "dictionary<decimal256(20, 2)>": (
            pa.array([Decimal("1.25"), None], pa.decimal256(20, 2)).dictionary_encode(),
            pa.decimal128(20, 2),
        ),
        "dictionary<timestamp +05:30>": (_stamps("+05:30").dictionary_encode(), UTC_US),
        "list<decimal256>": (pa.ListArray.from_arrays([0, 1, 2], _wide()), pa.list_(pa.large_string())),
        "list<dictionary<decimal256>>": (
            pa.ListArray.from_arrays([0, 2, 2], _wide().dictionary_encode()),
            pa.list_(pa.large_string()),
        ),
        "struct<decimal256>": (
            pa.StructArray.from_arrays([_wide()], ["d"]),
            pa.struct([("d", pa.large_string())]),
        ),
        "struct<timestamp +05:30>": (
            pa.StructArray.from_arrays([_stamps("+05:30")], ["at"]),
            pa.struct([("at", UTC_US)]),
        ),
        "map<string, decimal256>": (
            pa.MapArray.from_arrays([0, 1, 2], pa.array(["a", "b"]), _wide()),
            pa.map_(pa.string(), pa.large_string()),
        ),
        "large_list<struct<timestamp Z>>": (
            pa.LargeListArray.from_arrays([0, 1, 2], pa.StructArray.from_arrays([_stamps("Z")], ["at"])),
            pa.large_list(pa.struct([("at", UTC_US)])),
        ),
    }


@pytest.mark.parametrize("case", list(_nested_columns()))
def test_a_type_polars_cannot_read_is_converted_in_memory_at_any_depth(case: str) -> None:
    """polars panicked on a decimal256 and a fixed-offset timestamp inside a dictionary, list, struct or map
    ("operator does not support primitive Int256", "unable to parse time zone"): only top-level ones were
    converted."""
    column, readable = _nested_columns()[case]
    table = pa.table({"x": column})
    converted = importable(table)
    assert converted.schema.field("x").type == readable
    assert converted.column("x").to_pylist() == table.column("x").cast(readable).to_pylist()
    assert unreadable_columns(table.schema, converted=True) == []
    frame = pl.from_arrow(converted)
    assert isinstance(frame, pl.DataFrame)
    assert frame.height == 2


@pytest.mark.parametrize(
    "zone", ["Z", "+05", "-03", "+0530", "+05:30", "-03:00", "UTC+05:30", "GMT-3", "UTC+5"]
)
def test_a_timestamp_in_a_zone_written_as_an_offset_is_the_same_instant_in_utc(zone: str) -> None:
    """Polars reads zones of the time zone database only: ``Z`` (Arrow Java's UTC), ``+05`` and ``UTC+05:30``
    were polars' bare ComputeError naming no column (only ``±HH:MM`` and ``±HHMM`` were converted)."""
    converted = importable(pa.table({"at": _stamps(zone)}))
    assert converted.schema.field("at").type == UTC_US
    assert converted.column("at").cast(pa.int64()).to_pylist() == [INSTANT_US, None]
    assert pl.from_arrow(converted).schema["at"] == pl.Datetime("us", "UTC")  # type: ignore[union-attr]


@pytest.mark.parametrize("zone", ["UTC", "utc", "Asia/Kolkata", "Etc/GMT-5", "GMT+0"])
def test_a_timestamp_in_a_zone_polars_reads_is_left_as_it_is(zone: str) -> None:
    table = pa.table({"at": _stamps(zone)})
    assert importable(table).schema == table.schema
    assert unreadable_columns(table.schema) == []


@pytest.mark.parametrize("zone", ["Mars/Olympus", "+24:00", "+05:30:00", "EST5EDT4"])
def test_a_timestamp_in_a_zone_neither_known_nor_an_offset_is_named_at_any_depth(zone: str) -> None:
    """Such a zone was polars' bare ComputeError ("unable to parse time zone"), naming no column."""
    schema = pa.schema(
        [("at", pa.timestamp("us", tz=zone)), ("scan", pa.struct([("at", pa.timestamp("ms", tz=zone))]))]
    )
    for converted in (True, False):
        named = unreadable_columns(schema, converted=converted)
        assert [reason.split(" has type")[0] for reason in named] == ["column 'at'", "column 'scan'"]
        assert all("polars cannot read timestamps in a zone it does not know" in reason for reason in named)


@pytest.mark.parametrize(
    "kind",
    [
        pa.list_(WIDE),
        pa.dictionary(pa.int32(), WIDE),
        pa.struct([("at", pa.timestamp("us", tz="+05:30"))]),
        pa.dictionary(pa.int32(), pa.timestamp("us", tz="+05")),
        pa.map_(pa.string(), pa.list_(WIDE)),
    ],
)
def test_a_file_column_holding_a_type_polars_cannot_read_is_named(kind: pa.DataType) -> None:
    """A Parquet or Arrow IPC file with such a column nested in a list, struct or dictionary passed the
    check (top level only) and polars panicked reading it (exit 70)."""
    assert unreadable_columns(pa.schema([("ok", pa.int64()), ("extra", kind)])) == [
        f"column 'extra' has type {kind}, and polars cannot read "
        + (
            "256-bit decimals: write them as decimals of at most 38 digits or as text"
            if "decimal256" in str(kind)
            else "timestamps in a zone written as an offset: write them in UTC or a named zone (e.g. 'Asia/Kolkata')"
        )
        + ", or leave the column out"
    ]


@pytest.mark.parametrize("zone", ["Z", "+05", "UTC+05:30"])
def test_a_file_timestamp_in_a_zone_written_as_an_offset_is_named(zone: str) -> None:
    assert unreadable_columns(pa.schema([("arrival_date", pa.timestamp("us", tz=zone))])) == [
        f"column 'arrival_date' is a timestamp in the fixed-offset zone {zone!r}, which polars cannot read: write "
        "it in UTC or a named zone (e.g. 'Asia/Kolkata'), or as a date"
    ]


def test_a_dictionary_of_dates_is_checked_for_dates_beyond_year_9999() -> None:
    """polars panicked ("out-of-range date") on a dictionary of dates holding 300000-01-01, which the check of
    date columns passed (not a date32 column)."""
    days = pa.array([20157, 300_000 * 365], pa.date32()).dictionary_encode()
    table = pa.table({"arrival_date": days})
    assert temporal_columns(table.schema) == ["arrival_date"]
    assert far_value_columns(table)[0].startswith(
        "column 'arrival_date' holds a dictionary<values=date32[day], indices=int32, ordered=0> outside the "
        "years 1 to 9999 (first in row 2)"
    )
    converted = importable(table)
    assert converted.column("arrival_date").to_pylist() == ["2025-03-10", "day 109500000 of the Unix epoch"]


@pytest.mark.parametrize(("zone", "day"), [(None, "2025-08-29"), ("America/New_York", "2025-08-28")])
def test_a_zoned_timestamp_column_read_as_text_is_dated_in_the_pack_s_zone_else_in_utc(
    zone: str | None, day: str
) -> None:
    """03:00 UTC on 2025-08-29, in Chicago, beside a value past year 9999: dated in the pack's zone, or under a
    pack without one in UTC, as text with an offset is (in its own zone it was 08-28)."""
    seconds = [1_756_436_400, 300_000 * 365 * 86_400]
    stamps = pa.array(seconds, pa.int64()).cast(pa.timestamp("s", tz="America/Chicago"))
    converted = importable(pa.table({"arrival_date": stamps}), zone)
    assert converted.column("arrival_date").to_pylist()[0] == day
