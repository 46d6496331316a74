"""Every input row in exactly one output: the run's own check, which must see a lost row even when another is
written twice (the counts then still add up)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import polars as pl
import pytest

import screening
from screening import folder_run, pipeline
from screening.errors import ScreeningError
from screening.result import Result, RowCover

from ..conftest import SAMPLE


def rows(source: str, numbers: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        {"source": [source] * len(numbers), "row": numbers}, schema={"source": pl.String(), "row": pl.Int64()}
    )


def test_rows_in_exactly_one_output_pass() -> None:
    cover = RowCover()
    cover.add(rows("a.csv", [3, 1]))
    cover.add(rows("a.csv", [2]))
    cover.add(rows("b.csv", [1]))
    cover.check({"a.csv": 3, "b.csv": 1, "empty.csv": 0})


@pytest.mark.parametrize(
    ("parts", "read", "says"),
    [
        ([[1, 2], [2]], 3, "a.csv: row 2 is in the outputs twice"),
        ([[1, 1, 3]], 3, "a.csv: row 1 is in the outputs twice"),
        ([[1, 3, 3]], 3, "a.csv: row 2 is in no output (1 rows)"),
        ([[1, 2, 3, 4]], 3, "a.csv: row 4 is in the outputs, of 3 rows read"),
        ([[1]], 3, "a.csv: row 2 is in no output (2 rows)"),
        ([[0, 1]], 2, "a.csv: an output row without a row number"),
    ],
    ids=[
        "twice-across-parts",
        "twice-in-a-part",
        "lost-one-doubled-another",
        "beyond-the-input",
        "lost-tail",
        "row-0",
    ],
)
def test_a_row_lost_or_doubled_is_an_internal_error(parts: list[list[int]], read: int, says: str) -> None:
    cover = RowCover()
    for numbers in parts:
        cover.add(rows("a.csv", numbers))
    with pytest.raises(ScreeningError, match="internal error: input rows not in exactly one output") as info:
        cover.check({"a.csv": read})
    assert says in str(info.value)
    assert info.value.exit_code == 70


def test_rows_of_a_source_not_read_are_an_internal_error() -> None:
    cover = RowCover()
    cover.add(rows("ghost.csv", [1]))
    with pytest.raises(ScreeningError, match=r"ghost\.csv: output rows of a source that was not read"):
        cover.check({})


def _lose_first_double_second(lines: pl.DataFrame) -> pl.DataFrame:
    """The counts still add up: one line gone, another written twice."""
    return pl.concat([lines.slice(1, 1), lines.slice(1)])


def test_a_whole_day_run_that_loses_a_line_and_doubles_another_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    collect = pipeline.collect_result

    def faulty(*args: object, **kwargs: object) -> Result:
        result = collect(*args, **kwargs)  # type: ignore[arg-type]
        return dataclasses.replace(result, lines=_lose_first_double_second(result.lines))

    monkeypatch.setattr(pipeline, "collect_result", faulty)
    with pytest.raises(ScreeningError, match="is in the outputs twice") as info:
        screening.screen(SAMPLE / "manifest_10k.parquet", rules="rules/us")
    assert info.value.exit_code == 70


def test_a_run_in_parts_that_loses_a_line_and_doubles_another_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pseudonymised = folder_run.pseudonymised

    def faulty(output: str, frame: pl.DataFrame, key: bytes | None) -> pl.DataFrame:
        frame = pseudonymised(output, frame, key)
        return _lose_first_double_second(frame) if output == "lines" else frame

    monkeypatch.setattr(folder_run, "pseudonymised", faulty)
    with pytest.raises(ScreeningError, match="is in the outputs twice"):
        screening.screen_to_folder(
            SAMPLE / "manifest_10k.parquet", tmp_path / "out", rules="rules/us", part_lines=2_000
        )
    assert not (tmp_path / "out").exists()
