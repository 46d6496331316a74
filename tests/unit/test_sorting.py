"""Parquet files rewritten in sorted order a chunk at a time (``screening.io.sorting``): the same rows in
the same order as one stable sort of them all, with no chunk much larger than asked."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from screening.io import appending, sorting
from screening.io.sorting import write_sorted

ORDER = ("queue", "port", "day", "rank")

rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["documentation", "origin", "structuring", None]),
        st.sampled_from(["LAX", "JFK", "ORD", "MIA", None]),
        st.sampled_from([dt.date(2025, 8, 28), dt.date(2025, 8, 29), None]),
        st.integers(1, 6),
    ),
    max_size=120,
)


def frame_of(rows: list[tuple[str | None, str | None, dt.date | None, int]], first: int = 0) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "queue": [r[0] for r in rows],
            "port": [r[1] for r in rows],
            "day": [r[2] for r in rows],
            "rank": [r[3] for r in rows],
            # The row's place in the input: equal keys must keep it.
            "place": list(range(first, first + len(rows))),
            "flags": [[f"flag-{r[3]}"] * (r[3] % 3) for r in rows],
        },
        schema={
            "queue": pl.String(),
            "port": pl.String(),
            "day": pl.Date(),
            "rank": pl.Int64(),
            "place": pl.Int64(),
            "flags": pl.List(pl.String()),
        },
    )


@settings(max_examples=60, deadline=None)
@given(
    first=rows_strategy,
    second=rows_strategy,
    chunk_rows=st.integers(1, 50),
    groups=st.integers(1, 4),
    whole_rows=st.sampled_from([0, 30, 1000]),
)
def test_chunked_sort_equals_one_stable_sort(
    tmp_path_factory: pytest.TempPathFactory,
    first: list[tuple[str | None, str | None, dt.date | None, int]],
    second: list[tuple[str | None, str | None, dt.date | None, int]],
    chunk_rows: int,
    groups: int,
    whole_rows: int,
) -> None:
    folder = tmp_path_factory.mktemp("sorted")
    parts = [frame_of(first), frame_of(second, first=len(first))]
    sources = []
    for index, part in enumerate(parts):
        path = folder / f"in-{index}.parquet"
        part.write_parquet(path)
        sources.append(path)
    written = write_sorted(
        sources, folder / "out", "parquet", ORDER, groups=groups, chunk_rows=chunk_rows, whole_rows=whole_rows
    )
    expected = pl.concat(parts).sort(ORDER, nulls_last=True, maintain_order=True)
    assert_frame_equal(pl.read_parquet(written), expected)


def test_no_chunk_holds_more_than_its_rows_and_one_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 600 rows in 6 groups of 100 (queue, port). Groups starting at sorted rows 0 and 100 share the chunk of
    # rows 0-149, the group at 200 has 150-299, those at 300 and 400 share 300-449, and the one at 500 its own.
    keys = list(itertools.product(["documentation", "origin"], ["JFK", "LAX", "ORD"]))
    rows = [(queue, port, dt.date(2025, 8, 28), rank) for queue, port in keys for rank in range(100)]
    source = tmp_path / "in.parquet"
    frame_of(rows[::-1]).write_parquet(source)
    heights: list[int] = []
    append = appending.AppendingFiles.append

    def recording(self: appending.AppendingFiles, path: Path, fmt: str, frame: pl.DataFrame) -> None:
        heights.append(frame.height)
        append(self, path, fmt, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(sorting.AppendingFiles, "append", recording)
    written = write_sorted(
        [source], tmp_path / "out", "parquet", ORDER, groups=2, chunk_rows=150, whole_rows=0
    )
    assert heights == [200, 100, 200, 100]
    assert_frame_equal(pl.read_parquet(written), frame_of(rows[::-1]).sort(ORDER))


def test_no_rows_writes_the_columns(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    frame_of([]).write_parquet(source)
    written = write_sorted([source], tmp_path / "out", "parquet", ORDER, groups=3)
    assert pl.read_parquet(written).schema == frame_of([]).schema
    assert pl.read_parquet(written).is_empty()


def test_csv_output_is_sorted_text(tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    frame_of([("origin", "LAX", None, 2), ("documentation", "=cmd", None, 1)]).write_parquet(source)
    written = write_sorted([source], tmp_path / "out", "csv", ORDER, groups=1, whole_rows=0)
    assert written.suffix == ".csv"
    text = written.read_text().splitlines()
    assert text[1].startswith("documentation,'=cmd,")
    assert text[2].startswith("origin,LAX,")


@pytest.mark.parametrize(("groups", "chunk_rows"), [(0, 10), (5, 10), (2, 0)])
def test_arguments_checked(tmp_path: Path, groups: int, chunk_rows: int) -> None:
    with pytest.raises(ValueError, match="must"):
        write_sorted(
            [tmp_path / "x.parquet"], tmp_path / "out", "parquet", ORDER, groups=groups, chunk_rows=chunk_rows
        )


def test_a_file_of_many_row_groups_is_read_in_few_stretches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batched run's file holds a row group per batch; each read also parses the footer, which grows with
    the row groups, so reading them one by one took time quadratic in their number."""
    rows = [
        (queue, "LAX", dt.date(2025, 8, 28), rank)
        for rank in range(500)
        for queue in ("origin", "documentation")
    ]
    source = tmp_path / "in.parquet"
    frame_of(rows).write_parquet(source, row_group_size=10)
    assert pq.ParquetFile(source).metadata.num_row_groups == 100
    monkeypatch.setattr(sorting, "_READ_ROWS", 64)
    stretches = sorting._stretches(source)
    assert stretches == [(start, 70) for start in range(0, 980, 70)] + [(980, 20)]
    written = write_sorted(
        [source], tmp_path / "out", "parquet", ORDER, groups=3, chunk_rows=150, whole_rows=0
    )
    assert_frame_equal(pl.read_parquet(written), frame_of(rows).sort(ORDER, maintain_order=True))
