"""Which entries of a measure's HTS list match a tariff line of the pack (screening.rulepack.scope_lines)."""

from __future__ import annotations

import datetime as dt

import polars as pl

from screening.rulepack.models import Measure
from screening.rulepack.scope_lines import unmatched_summary

#: Two revisions: 39072000 until 2026, split into 39072100 and 39072900 from then; lines in both revisions.
MFN = pl.DataFrame(
    {
        "hts": ["39072000", "39072100", "39072900", "6109100012", "6109100040", "95030000"],
        "effective_from": [dt.date(2025, 1, 1), *[dt.date(2026, 1, 1)] * 2, *[dt.date(2025, 1, 1)] * 3],
        "effective_to": [dt.date(2026, 1, 1), None, None, None, None, None],
    }
)


def measure(ident: str, start: dt.date, end: dt.date | None = None) -> Measure:
    return Measure.model_validate(
        {
            "id": ident,
            "component": "test",
            "heading": "9903.99.99",
            "origins": ["DE"],
            "rate": "0.10",
            "stacking_group": "test",
            "hts_include": ["6109"],  # the scope frame below is what counts
            "effective_from": start,
            "effective_to": end,
            "citation": {"instrument": "Test instrument (synthetic)"},
        }
    )


#: A scope row: measure id, HTS prefix, kind, and the entry's own period.
Row = tuple[str, str, str, dt.date | None, dt.date | None]


def scope(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "measure_id": pl.String(),
            "hts_prefix": pl.String(),
            "kind": pl.String(),
            "effective_from": pl.Date(),
            "effective_to": pl.Date(),
        },
        orient="row",
    )


def summary(rows: list[Row], *rules: Measure) -> dict[tuple[str, str], tuple[int, int, list[str]]]:
    found = unmatched_summary(scope(rows), rules, MFN)
    return {
        (r["measure_id"], r["kind"]): (r["entries"], r["unmatched"], r["examples"]) for r in found.to_dicts()
    }


def test_a_prefix_matches_the_lines_below_it_and_a_code_the_line_above_it() -> None:
    rows = [
        ("m", "61", "include", None, None),  # a chapter: its lines
        ("m", "95030000", "include", None, None),  # the line itself
        ("m", "9503000073", "include", None, None),  # a statistical code below the 8-digit line
        ("m", "950310", "include", None, None),  # no line starts with it, nor is above it
        ("m", "6109100099", "exclude", None, None),  # a suffix no revision has
    ]
    assert summary(rows, measure("m", dt.date(2025, 6, 1))) == {
        ("m", "include"): (4, 1, ["950310"]),
        ("m", "exclude"): (1, 1, ["6109100099"]),
    }


def test_a_line_counts_only_in_the_measures_dates() -> None:
    rows = [("old", "39072000", "include", None, None), ("new", "39072100", "include", None, None)]
    in_2025 = (
        measure("old", dt.date(2025, 2, 1), dt.date(2025, 9, 1)),
        measure("new", dt.date(2025, 2, 1), dt.date(2025, 9, 1)),
    )
    assert summary(rows, *in_2025) == {
        ("old", "include"): (1, 0, []),
        ("new", "include"): (1, 1, ["39072100"]),
    }
    in_2026 = (measure("old", dt.date(2026, 2, 1)), measure("new", dt.date(2026, 2, 1)))
    assert summary(rows, *in_2026) == {
        ("old", "include"): (1, 1, ["39072000"]),
        ("new", "include"): (1, 0, []),
    }
    across = (measure("old", dt.date(2025, 2, 1)), measure("new", dt.date(2025, 2, 1)))
    assert summary(rows, *across) == {("old", "include"): (1, 0, []), ("new", "include"): (1, 0, [])}


def test_dates_before_every_revision_are_matched_against_any_revision() -> None:
    rows = [("m", "39072000", "include", None, None), ("m", "61099999", "include", None, None)]
    assert summary(rows, measure("m", dt.date(2018, 9, 24), dt.date(2019, 5, 10))) == {
        ("m", "include"): (2, 1, ["61099999"]),
    }


def test_an_entry_dated_outside_its_measure_is_not_counted() -> None:
    rows = [
        ("m", "95030000", "include", None, None),
        ("m", "61099999", "include", dt.date(2027, 1, 1), None),  # joins the shared list after m ends
        ("n", "95030000", "include", dt.date(2027, 1, 1), None),  # n's only entry: after n ends
    ]
    in_force = measure("m", dt.date(2025, 2, 1), dt.date(2026, 6, 1))
    assert summary(rows, in_force, measure("n", dt.date(2025, 2, 1), dt.date(2026, 6, 1))) == {
        ("m", "include"): (1, 0, []),
        ("n", "include"): (0, 0, []),  # no entry in its dates: a list that covers nothing as well
    }


def test_codes_of_chapters_the_table_never_holds_are_matched() -> None:
    """The engine matches a list against the declared code: a 9802.00.40 or 9903 entry covers the lines declared
    with it although the table (chapters 1-97) has no line there. They were counted as matching nothing, so a
    list of them alone was refused and ``rules check`` warned of 624 such entries in the U.S. pack."""
    rows = [
        ("m", "98020040", "include", None, None),
        ("m", "9903880100", "include", None, None),
        ("m", "98", "exclude", None, None),
        ("n", "98020040", "include", None, None),
        ("n", "61099999", "include", None, None),  # a code of chapter 61 that no line has still counts
    ]
    rules = (measure("m", dt.date(2025, 6, 1)), measure("n", dt.date(2025, 6, 1)))
    assert summary(rows, *rules) == {
        ("m", "include"): (2, 0, []),
        ("m", "exclude"): (1, 0, []),
        ("n", "include"): (2, 1, ["61099999"]),
    }
