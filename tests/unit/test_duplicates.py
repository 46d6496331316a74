"""Duplicate lines: a line that repeats the (package_id, line_no) of an earlier line is a later copy."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.stages.normalise import later_copies


def _first_of_each_key(lines: pl.DataFrame) -> pl.Series:
    """The definition, over every line at once: not the first line of its key in input order."""
    return lines.select(~pl.struct("package_id", "line_no").is_first_distinct()).to_series()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "ß", "", None]), st.one_of(st.none(), st.integers(0, 3))),
        max_size=60,
    )
)
def test_later_copies_are_the_lines_after_the_first_of_their_key(
    keys: list[tuple[str | None, int | None]],
) -> None:
    lines = pl.DataFrame(keys, schema={"package_id": pl.String(), "line_no": pl.Int64()}, orient="row")
    found = later_copies(lines)
    assert found.len() == lines.height
    assert found.to_list() == _first_of_each_key(lines).to_list()


def test_a_key_seen_once_is_never_a_copy_and_each_repeat_is() -> None:
    lines = pl.DataFrame({"package_id": ["P1", "P1", "P2", "P1", "P1", "P2"], "line_no": [1, 2, 1, 1, 1, 2]})
    assert later_copies(lines).to_list() == [False, False, False, True, True, False]
