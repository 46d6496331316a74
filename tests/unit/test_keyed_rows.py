"""Keyed rows: lookups by key over a table grown batch by batch find exactly the rows a join would."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from screening.stages.keyed_rows import KeyedRows

SCHEMA = pl.Schema({"key": pl.String(), "day": pl.Int32(), "value": pl.Int64()})
KEYS = ["key", "day"]

# SYNTHETIC rows: few distinct keys so that batches share them.
_ROWS = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c", "d", "ee", "f"]), st.integers(0, 2), st.integers(-50, 50)),
    max_size=12,
)


def _summed(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.group_by(KEYS).agg(pl.col("value").sum())


class _AllCollide(KeyedRows):
    """Every key hashes alike: lookups must still compare the keys themselves."""

    def _hash(self, rows: pl.DataFrame) -> np.ndarray:
        return np.full(rows.height, 7 << 60, dtype=np.uint64)


def _frame(rows: list[tuple[str, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(KEYS)


@settings(max_examples=100, deadline=None)
@given(
    batches=st.lists(_ROWS, min_size=1, max_size=9),
    query=st.lists(st.tuples(st.sampled_from(["a", "c", "ee", "zz", None]), st.integers(0, 3)), max_size=6),
    collide=st.booleans(),
)
def test_matching_rows_sum_to_the_totals_of_every_batch(
    batches: list[list[tuple[str, int, int]]], query: list[tuple[str | None, int]], collide: bool
) -> None:
    kind = _AllCollide if collide else KeyedRows
    table = kind(KEYS, SCHEMA, _summed)
    for batch in batches:
        table = table.plus(_frame(batch))
    everything = pl.concat([pl.DataFrame(schema=SCHEMA), *[_frame(b) for b in batches]])
    wanted = pl.DataFrame(query, schema={"key": pl.String(), "day": pl.Int32()}, orient="row")
    # What a join of the whole table gives (a null key matches nothing).
    expected = _summed(everything.join(wanted.unique(), on=KEYS, how="semi"))
    assert_frame_equal(_sorted(_summed(table.matching(wanted))), _sorted(expected), check_row_order=False)
    assert_frame_equal(_sorted(table.table()), _sorted(_summed(everything)))


def test_rows_added_in_many_batches_are_found_by_key() -> None:
    table = KeyedRows(KEYS, SCHEMA, _summed)
    for batch in range(64):
        rows = pl.DataFrame(
            {"key": [f"k{batch}-{i}" for i in range(10)], "day": [0] * 10, "value": list(range(10))},
            schema=SCHEMA,
        )
        table = table.plus(rows)
    assert table.rows.height == 640
    query = pl.DataFrame(
        {"key": ["k63-9", "k0-0", "k64-0"], "day": [0, 0, 0]}, schema={"key": pl.String(), "day": pl.Int32()}
    )
    assert sorted(table.matching(query)["value"].to_list()) == [0, 9]
    # Each run of the index is in hash order and larger than the next; together they name each row once.
    runs = table.index.runs
    assert all((np.diff(hashes.astype(np.float64)) >= 0).all() for hashes, _ in runs)
    sizes = [len(hashes) for hashes, _ in runs]
    assert sizes == sorted(set(sizes), reverse=True)
    assert len(runs) <= 7  # 64 batches: at most log2(64) + 1 runs
    assert sorted(np.concatenate([positions for _, positions in runs]).tolist()) == list(range(640))
