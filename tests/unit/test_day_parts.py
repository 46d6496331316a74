"""A day in parts: totals of the parts' spanning keys plus windows over each part give the whole day's
totals; parts are written one after another into one file."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from screening.day_parts import DayParts
from screening.errors import ScreeningError
from screening.io.appending import AppendingFile, AppendingFiles
from screening.schema import PACKAGE_KEY
from screening.stages import aggregate

# SYNTHETIC lines: a package belongs to one consignee and day; values and gift flags vary by line.
_LINES = st.lists(
    st.tuples(
        st.integers(0, 12),  # package
        st.integers(0, 3),  # consignee of the package (by package, see below)
        st.integers(0, 2),  # day of the package
        st.integers(0, 90_000),  # value in cents
        st.booleans(),  # gift
    ),
    min_size=1,
    max_size=40,
)


def _frame(rows: list[tuple[int, int, int, int, bool]]) -> pl.DataFrame:
    """Lines in package order, each package with the consignee and day of its first line."""
    first = {}
    for package, consignee, day, _, _ in rows:
        first.setdefault(package, (consignee, day))
    rows = sorted(rows, key=lambda r: r[0])
    return pl.DataFrame(
        {
            "package_id": [f"P{p:03d}" for p, *_ in rows],
            "consignee_key": [None if first[p][0] == 0 else f"C{first[p][0]}" for p, *_ in rows],
            "arrival_date": [dt.date(2025, 8, 28) + dt.timedelta(days=first[p][1]) for p, *_ in rows],
            "value_usd_cents": [v for *_, v, _ in rows],
            "gift": [g for *_, g in rows],
        },
        schema={
            "package_id": pl.String(),
            "consignee_key": pl.String(),
            "arrival_date": pl.Date(),
            "value_usd_cents": pl.Int64(),
            "gift": pl.Boolean(),
        },
    ).with_columns(pl.col("package_id").rle_id().alias(PACKAGE_KEY))


@given(rows=_LINES, cuts=st.lists(st.integers(0, 12), max_size=4))
def test_spanning_totals_and_windows_over_each_part_give_the_whole_days_totals(
    rows: list[tuple[int, int, int, int, bool]], cuts: list[int]
) -> None:
    lines = _frame(rows)
    bounds = sorted({f"P{c:03d}" for c in cuts})
    part_of = lines.with_columns(
        pl.sum_horizontal(pl.lit(0), *[(pl.col("package_id") >= b).cast(pl.Int32()) for b in bounds]).alias(
            "p"
        )
    )["p"]
    parts = [lines.filter(part_of == index) for index in range(len(bounds) + 1)]
    # Partial tables of one part each, and of two neighbouring parts read together: both count parts.
    numbered = lines.with_columns(part_of.alias("part"))
    chunks = [numbered.filter(part_of.is_between(first, first + 1)) for first in range(0, len(parts), 2)]
    table = aggregate.spanning_totals(
        [aggregate.consignee_day_partials(chunk, "part") for chunk in chunks],
        aggregate.CONSIGNEE_DAY,
        aggregate.CONSIGNEE_DAY_TOTALS,
    )
    # Only keys in more than one part are kept (null consignees form one key, as in a window).
    keys = list(aggregate.CONSIGNEE_DAY)
    per_part = pl.concat([part.select(keys).unique() for part in parts])
    spanning = per_part.group_by(keys).len().filter(pl.col("len") > 1)
    assert table.height == spanning.height
    judged = pl.concat([aggregate.attach_day_totals(part, table) for part in parts])
    assert_frame_equal(judged, aggregate.attach_consignee_day(lines))


def test_parts_are_appended_in_order_and_typed_as_the_first(tmp_path: Path) -> None:
    schema = pl.Schema({"n": pl.Int64(), "tag": pl.String(), "codes": pl.List(pl.String())})
    file = AppendingFile(tmp_path / "out", "parquet", schema)
    first = pl.DataFrame({"n": [1, 2], "tag": ["a", None], "codes": [["x"], []]}, schema=schema)
    # A part whose text column happens to be all null (typed Null) is cast to the file's types.
    second = pl.DataFrame({"n": [3], "tag": [None], "codes": [None]})
    for part in (first, second, first.clear()):
        file.append(part)
    path = file.close()
    assert path == tmp_path / "out.parquet"
    assert_frame_equal(pl.read_parquet(path), pl.concat([first, second.cast(schema)]))


def test_appended_csv_has_one_header_and_quotes_formula_like_text(tmp_path: Path) -> None:
    schema = pl.Schema({"n": pl.Int64(), "text": pl.String()})
    file = AppendingFile(tmp_path / "out", "csv", schema)
    file.append(pl.DataFrame({"n": [1], "text": ["=SUM(A1)"]}, schema=schema))
    file.append(pl.DataFrame({"n": [2], "text": ["plain"]}, schema=schema))
    assert file.close().read_text() == "n,text\n1,'=SUM(A1)\n2,plain\n"


def test_a_part_with_other_columns_is_refused(tmp_path: Path) -> None:
    file = AppendingFile(tmp_path / "out", "parquet", pl.Schema({"n": pl.Int64()}))
    with pytest.raises(ScreeningError, match="columns changed between parts"):
        file.append(pl.DataFrame({"m": [1]}))
    file.abort()


def test_a_failing_writer_raises_in_the_appending_thread(tmp_path: Path) -> None:
    file = AppendingFile(tmp_path / "missing" / "out", "parquet", pl.Schema({"n": pl.Int64()}))
    part = pl.DataFrame({"n": [1]})

    def append_then_close() -> None:
        for _ in range(5):
            file.append(part)
        file.close()

    with pytest.raises((OSError, pl.exceptions.PolarsError)):
        append_then_close()


def test_appending_files_finish_together_or_stop_together(tmp_path: Path) -> None:
    part = pl.DataFrame({"n": [1, 2]})
    with AppendingFiles() as files:
        for _ in range(3):
            files.append(tmp_path / "a", "parquet", part)
            files.append(tmp_path / "b", "csv", part)
    assert pl.read_parquet(tmp_path / "a.parquet")["n"].to_list() == [1, 2] * 3
    assert pl.read_csv(tmp_path / "b.csv")["n"].to_list() == [1, 2] * 3

    def fail_midway() -> None:
        with AppendingFiles() as failing:
            failing.append(tmp_path / "c", "parquet", part)
            raise RuntimeError("screening failed")

    with pytest.raises(RuntimeError, match="screening failed"):
        fail_midway()
    # The writing threads stopped: no thread named after the file is left running.
    assert not [t for t in threading.enumerate() if t.name == "screening-c" and t.is_alive()]


@pytest.mark.parametrize(
    ("count", "lines", "expected"),
    [
        (7, 2_500, [(0, 1), (2, 3), (4, 5), (6, 6)]),
        (3, 10_000, [(0, 2)]),
        (3, 500, [(0, 0), (1, 1), (2, 2)]),
    ],
)
def test_chunks_cover_every_part_once_in_order(
    count: int, lines: int, expected: list[tuple[int, int]]
) -> None:
    def no_lines(_first: int, _last: int) -> pl.LazyFrame:
        return pl.LazyFrame()

    parts = DayParts(count=count, part_lines=1_000, source_rejects=pl.DataFrame(), lines=no_lines)
    assert parts.chunks(lines) == expected
