"""The hand-checked manifest: every expected cell worked out by hand (sample_data/handchecked)."""

from __future__ import annotations

import polars as pl
import pytest

import screening
from screening.scenarios import as_text

from ..conftest import SAMPLE

FOLDER = SAMPLE / "handchecked"
EXPECTED = pl.read_csv(FOLDER / "expected_packages.csv", infer_schema=False)
CHECKED_COLUMNS = [c for c in EXPECTED.columns if c not in ("package_id", "why")]


@pytest.fixture(scope="module")
def result(us_pack: screening.RulePack) -> screening.Result:
    return screening.screen(FOLDER / "manifest.csv", rules=us_pack)


@pytest.mark.parametrize("expected", EXPECTED.to_dicts(), ids=EXPECTED["package_id"].to_list())
def test_package_matches_hand_computation(result: screening.Result, expected: dict[str, str | None]) -> None:
    packages = as_text(result.packages)
    actual = packages.filter(pl.col("package_id") == expected["package_id"]).to_dicts()
    assert len(actual) == 1, f"package {expected['package_id']} missing"
    for column in CHECKED_COLUMNS:
        want = expected[column]
        if want is None:
            continue  # not asserted; the 'why' column says why
        assert actual[0][column] == (None if want == "null" else want), (column, expected["why"])


def test_bad_rows_are_rejected_with_file_row_and_field(result: screening.Result) -> None:
    expected = pl.read_csv(FOLDER / "expected_rejects.csv", schema_overrides={"row": pl.Int64})
    actual = result.rejects.select("row", "package_id", "code", "field")
    assert actual.to_dicts() == expected.to_dicts()
    assert set(result.rejects["source"]) == {str(FOLDER / "manifest.csv")}


def test_every_row_is_a_line_or_a_reject(result: screening.Result) -> None:
    rows = pl.read_csv(FOLDER / "manifest.csv", infer_schema=False).height
    assert result.lines.height + result.rejects.height == rows
    assert result.summary["counts"]["input_rows"] == rows
    assert result.packages.height == EXPECTED.height
