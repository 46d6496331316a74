"""Integer codes for distinct keys, and labels chosen by position."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from screening.exprs.labels import first_label, label_at
from screening.stages import lookup
from screening.stages.lookup import dense_codes

FRAME = pl.DataFrame(
    {
        "day": [dt.date(2025, 5, 1), dt.date(2025, 5, 2), dt.date(2025, 5, 1), None, dt.date(2025, 5, 1)],
        "code": ["61", "61", "61", None, "62"],
        "flag": [True, None, True, False, True],
    }
)


def test_codes_number_each_distinct_combination_once_nulls_included() -> None:
    codes, keys = dense_codes(FRAME, ["day", "code", "flag"])
    assert keys.height == 4
    assert codes[0] == codes[2]
    assert_frame_equal(keys[codes], FRAME)


def test_codes_fall_back_to_ranking_when_the_key_would_not_fit_64_bits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lookup, "_combined_key", lambda *_: None)
    codes, keys = dense_codes(FRAME, ["day", "code", "flag"])
    assert keys.height == 4
    assert_frame_equal(keys[codes], FRAME)


def test_codes_of_an_empty_frame() -> None:
    codes, keys = dense_codes(FRAME.head(0), ["day", "code", "flag"])
    assert codes.len() == 0
    assert keys.height == 0


def test_first_label_matches_a_when_then_chain() -> None:
    frame = pl.DataFrame({"a": [True, None, False, False], "b": [False, True, None, True]})
    cases = [(pl.col("a"), "A"), (pl.col("b"), "B")]
    chosen = frame.select(first_label(cases, otherwise="C").alias("x"))
    chained = frame.select(
        pl.when(pl.col("a"))
        .then(pl.lit("A"))
        .when(pl.col("b"))
        .then(pl.lit("B"))
        .otherwise(pl.lit("C"))
        .alias("x")
    )
    assert_frame_equal(chosen, chained)
    assert chosen["x"].to_list() == ["A", "B", "C", "B"]


def test_label_at_keeps_nulls() -> None:
    frame = pl.DataFrame({"p": [1, None, 0]})
    assert frame.select(label_at(pl.col("p"), ["x", "y"]).alias("x"))["x"].to_list() == ["y", None, "x"]
