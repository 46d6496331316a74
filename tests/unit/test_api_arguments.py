"""Arguments of the Python API taken as documented, and refused with a UsageError when they cannot be (an
embedding review): one history path, a Screener batch's row numbering and label, comparing results, a mapping's
integer code default, the day a Screener forgets before, a blank seed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
import pytest

import screening
from screening.errors import UsageError


def test_one_history_path_is_one_source_not_one_per_character(
    tmp_path: Path, us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``history="run"`` was read as the sources "r", "u", "n" ("r: history file not found"), and
    ``history=Path("run")`` raised a bare TypeError."""
    earlier = manifest({"package_id": "E1", "arrival_date": "2025-03-07"})
    screening.screen(earlier, rules=us_pack).write(tmp_path / "run")
    as_list = screening.screen(manifest({}), rules=us_pack, history=[tmp_path / "run"])
    for one in (str(tmp_path / "run"), tmp_path / "run"):
        assert screening.screen(manifest({}), rules=us_pack, history=one).equals(as_list)
        screener = screening.Screener(us_pack, history=one)
        assert screener.screen(manifest({})).packages.height == 1
    with pytest.raises(UsageError, match="history must be a path or a list of paths"):
        screening.screen(manifest({}), rules=us_pack, history=[tmp_path / "run", 5])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("options", "refused"),
    [
        ({"first_row": 0}, "first_row"),
        ({"first_row": -5}, "first_row"),
        ({"first_row": "3"}, "first_row"),
        ({"first_row": True}, "first_row"),
        ({"source": 5}, "source"),
        ({"source": " "}, "source"),
    ],
)
def test_a_screener_batch_s_row_numbering_and_label_are_checked(
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    options: dict[str, object],
    refused: str,
) -> None:
    """``first_row=0`` numbered rows from 0 (rows count from 1), a negative one or text raised polars' or
    Python's own errors, and ``source=5`` an AssertionError: each is a UsageError now, before any work."""
    screener = screening.Screener(us_pack)
    with pytest.raises(UsageError, match=refused):
        screener.screen(manifest({}), **options)  # type: ignore[arg-type]
    assert screener.screen(manifest({}), first_row=3, source="hour-09").lines.select(
        "source", "row"
    ).rows() == [("hour-09", 3)]
    # Any integer type (a numpy count, say) is a row number.
    numbered = screener.screen(manifest({"package_id": "P9"}), first_row=np.int64(1001))
    assert numbered.lines["row"].to_list() == [1001]


def test_results_compare_with_equals_and_show_their_shapes(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """``r1 == r2`` raised "the truth value of a DataFrame is ambiguous", ``hash(r1)`` raised, and ``repr`` printed
    every frame (32 KB for 50 lines)."""
    first = screening.screen(manifest({}, {"package_id": "P2"}), rules=us_pack)
    again = screening.screen(manifest({}, {"package_id": "P2"}), rules=us_pack)
    other = screening.screen(manifest({}), rules=us_pack)
    assert first.equals(again)
    assert not first.equals(other)
    assert not first.equals(None)
    assert first != again  # identity, as for any object holding frames
    assert len({first, again}) == 2
    assert repr(first).startswith("Result(lines=2, packages=2, ")


def test_an_integer_port_default_has_its_leading_zero_as_an_integer_column_has(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A mapping default ``port_of_entry = 101`` gave port "101", while a column of 101 gives "0101" (README): one
    port was two queue groups depending on how it was given."""
    lines = manifest({}).drop("port_of_entry", strict=False)
    mapped = screening.ColumnMapping(defaults={"port_of_entry": 101, "consignee_postal_code": 2134.0})
    result = screening.screen(lines.drop("consignee_postal_code"), rules=us_pack, mapping=mapped)
    assert result.lines.select("port_of_entry", "consignee_postal_code").row(0) == ("0101", "02134")


@pytest.mark.parametrize(
    "day",
    [dt.datetime(2025, 8, 29, 6, 0), None, "2025-08-29", 20250829],
    ids=["datetime", "none", "text", "number"],
)
def test_forget_before_takes_a_day_only(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], day: object
) -> None:
    """``forget_before`` took anything: a datetime (compared as its midnight) forgot its own day too, None
    forgot every day (a resent batch was screened again, not refused as copies), text raised polars' own error.
    Each is a UsageError now, and the state is left as it was."""
    screener = screening.Screener(us_pack)
    screener.screen(
        manifest({"arrival_date": "2025-08-28"}, {"package_id": "P2", "arrival_date": "2025-08-29"})
    )
    kept = screener.totals()
    with pytest.raises(UsageError, match=r"forget_before takes a day, a datetime\.date"):
        screener.forget_before(day)  # type: ignore[arg-type]
    assert screener.totals().equals(kept)
    screener.forget_before(dt.date(2025, 8, 29))
    assert screener.totals()["arrival_date"].to_list() == [dt.date(2025, 8, 29)]


@pytest.mark.parametrize("seed", ["", " ", "\t\n"], ids=repr)
def test_a_blank_seed_is_refused_as_an_empty_one_is(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], seed: str
) -> None:
    """``seed="  "`` and ``PrivateSeed("  ")`` were taken, though an empty seed is refused: a blank draws a sample
    anyone can repeat, recorded as if chosen (``--seed "$SEED "`` with SEED unset)."""
    with pytest.raises(UsageError, match="the seed is empty"):
        screening.screen(manifest({}), rules=us_pack, seed=seed)
    with pytest.raises(UsageError, match="the seed is empty"):
        screening.Screener(us_pack, seed=seed)
    with pytest.raises(UsageError, match="a private seed must be a non-empty text"):
        screening.PrivateSeed(seed)
