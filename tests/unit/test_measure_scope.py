"""Measures in measures/*.toml files, scoped by prefix tables, apply exactly to their HTS scope."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

import screening
from screening.errors import RulePackError

from ..conftest import BASE_LINE, US_PACK

MEASURE = """
[[measures]]
id = "test-duty"
component = "test_duty"
heading = "9903.99.99"
origins = ["DE"]
rate = "0.25"
stacking_group = "test"
hts_include_file = "measures/test_scope.csv"
hts_exclude = ["6109100040"]
effective_from = 2025-01-01
citation = { instrument = "Test instrument (synthetic)" }
"""


def pack_with_measure(tmp_path: Path, scope_csv: str) -> screening.RulePack:
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures").mkdir(exist_ok=True)
    (root / "measures" / "test.toml").write_text(MEASURE)
    (root / "measures" / "test_scope.csv").write_text(scope_csv)
    return screening.load_rules(root)


def test_measure_applies_to_included_prefixes_minus_exclusions(tmp_path: Path) -> None:
    pack = pack_with_measure(tmp_path, "hts_prefix\n6109\n9503000073\n")
    lines = [
        {"package_id": "T1", "hts_code": "6109.10.00.12"},  # included by 6109
        {"package_id": "T2", "hts_code": "6109.10.00.40"},  # excluded
        {"package_id": "T3", "hts_code": "9503.00.00.73"},  # included exactly
        {"package_id": "T4", "hts_code": "9503.00.00.90"},  # not listed
    ]
    rows = [{**BASE_LINE, "declared_value": "1000", "consignee_name": r["package_id"], **r} for r in lines]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    applied = result.components.filter(pl.col("measure_id") == "test-duty")
    assert dict(applied.select("package_id", "amount_usd").iter_rows()) == {
        "T1": Decimal("250.00"),
        "T3": Decimal("250.00"),
    }
    assert set(applied["citation"]) == {"Test instrument (synthetic)"}


def test_a_malformed_prefix_table_names_the_file_and_measure(tmp_path: Path) -> None:
    with pytest.raises(RulePackError) as caught:
        pack_with_measure(tmp_path, "hts_prefix\n61.09\n")
    assert "test_scope.csv" in str(caught.value)
    assert "test-duty" in str(caught.value)


def test_an_id_repeated_across_measure_files_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures").mkdir(exist_ok=True)
    (root / "measures" / "dup.toml").write_text(
        MEASURE.replace("test-duty", "s122-surcharge").replace(
            'hts_include_file = "measures/test_scope.csv"\n', ""
        )
    )
    with pytest.raises(RulePackError) as caught:
        screening.load_rules(root)
    assert "dup.toml" in str(caught.value)
    assert "s122-surcharge" in str(caught.value)


def test_a_dated_scope_row_counts_only_inside_its_period(tmp_path: Path) -> None:
    pack = pack_with_measure(tmp_path, "hts_prefix,effective_from,effective_to\n6109,2025-06-01,\n")
    rows = [
        {**BASE_LINE, "package_id": p, "consignee_name": p, "declared_value": "1000", "arrival_date": d}
        for p, d in (("BEFORE", "2025-05-30"), ("AFTER", "2025-06-02"))
    ]
    result = screening.screen(pl.DataFrame(rows), rules=pack)
    applied = result.components.filter(pl.col("measure_id") == "test-duty")
    assert applied["package_id"].to_list() == ["AFTER"]


def test_a_table_named_by_two_measures_scopes_both_in_declaration_order(tmp_path: Path) -> None:
    """A prefix table is read once however many measures (or sides of one) name it; each gets its rows, inline
    prefixes before the table's, includes before excludes, measures in the order the pack declares them."""
    second = (
        MEASURE.replace('id = "test-duty"', 'id = "test-duty-2"').replace(
            'heading = "9903.99.99"', 'heading = "9903.99.98"'
        )
    ).replace(
        'hts_exclude = ["6109100040"]', 'hts_include = ["4202"]\nhts_exclude_file = "measures/test_scope.csv"'
    )
    root = tmp_path / "us"
    shutil.copytree(US_PACK, root)
    (root / "measures" / "test.toml").write_text(MEASURE + second)
    (root / "measures" / "test_scope.csv").write_text("hts_prefix\n6109\n6110\n")
    scope = screening.load_rules(root).measure_scope.filter(pl.col("measure_id").str.starts_with("test-duty"))
    assert scope.select("measure_id", "kind", "hts_prefix").rows() == [
        ("test-duty", "include", "6109"),
        ("test-duty", "include", "6110"),
        ("test-duty", "exclude", "6109100040"),
        ("test-duty-2", "include", "4202"),
        ("test-duty-2", "include", "6109"),
        ("test-duty-2", "include", "6110"),
        ("test-duty-2", "exclude", "6109"),
        ("test-duty-2", "exclude", "6110"),
    ]
