"""The summary's money by component and measure (``money.by_component``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

import screening
from screening.result import COMPONENT_TOTAL_SCHEMA, added_totals, component_totals, totals_in_summary
from screening.rulepack.loader import RulePack
from screening.schema import COMPONENT_SCHEMA
from screening.stages.assess import NOT_WITH_EXEMPTION, USMCA_EXEMPTION

from ..conftest import SAMPLE


def _components(rows: list[tuple[str, str, str | None, str | None]]) -> pl.DataFrame:
    """Components rows of (component, measure_id, amount, assumption); the other columns filled in."""
    return pl.DataFrame(
        {
            "package_id": [f"P{i}" for i in range(len(rows))],
            "line_no": [1] * len(rows),
            "component": [r[0] for r in rows],
            "measure_id": [r[1] for r in rows],
            "heading": [None] * len(rows),
            "base_usd": [None] * len(rows),
            "rate": [None] * len(rows),
            "amount_usd": [None if r[2] is None else Decimal(r[2]) for r in rows],
            "citation": ["c"] * len(rows),
            "confidence": ["confirmed"] * len(rows),
            "assumption": [r[3] for r in rows],
        },
        schema=COMPONENT_SCHEMA,
    )


def test_charged_unknown_and_exempt_rows_are_counted_apart() -> None:
    components = _components(
        [
            ("ieepa_fentanyl", "ieepa-fentanyl-ca-35", "3.50", None),
            ("ieepa_fentanyl", "ieepa-fentanyl-ca-35", "1.75", None),
            ("ieepa_fentanyl", "ieepa-fentanyl-ca-35", "0.00", USMCA_EXEMPTION),
            (
                "ieepa_fentanyl",
                "ieepa-fentanyl-ca-35",
                "0.00",
                NOT_WITH_EXEMPTION.format("s232_steel", "s232-x"),
            ),
            ("s232", "s232-copper-50", None, "owed unless ..."),
            ("mfn", "mfn", "2.10", None),
            ("mfn_specific", "mfn", "0.40", None),
        ]
    )
    totals = component_totals(components)
    expected = pl.DataFrame(
        {
            "component": ["ieepa_fentanyl", "mfn", "mfn_specific", "s232"],
            "measure_id": ["ieepa-fentanyl-ca-35", "mfn", "mfn", "s232-copper-50"],
            "rows": [2, 1, 1, 0],
            "amount_usd": [Decimal("5.25"), Decimal("2.10"), Decimal("0.40"), Decimal("0")],
            "unknown_amounts": [0, 0, 0, 1],
            "exempt_rows": [2, 0, 0, 0],
        },
        schema=COMPONENT_TOTAL_SCHEMA,
    )
    assert_frame_equal(totals, expected)


def test_parts_add_up_to_the_whole_and_survive_the_summary_json() -> None:
    rows = [
        ("mfn", "mfn", "1.01", None),
        ("s301", "s301-list3-25", "2.50", None),
        ("mfn", "mfn", "0.99", None),
        ("s301", "s301-list3-25", None, None),
        ("express_consignment", "express-consignment-fy2025", "1.31", None),
    ]
    whole = component_totals(_components(rows))
    parts = [component_totals(_components(rows[:2])), component_totals(_components(rows[2:]))]
    assert_frame_equal(added_totals(parts), whole)
    assert_frame_equal(added_totals([]), pl.DataFrame(schema=COMPONENT_TOTAL_SCHEMA))
    as_json = [{**row, "amount_usd": f"{row['amount_usd']:.2f}"} for row in whole.to_dicts()]
    assert_frame_equal(totals_in_summary({"money": {"by_component": as_json}}), whole)


def test_the_summary_totals_are_those_of_the_components_output(us_pack: RulePack, tmp_path: Path) -> None:
    """The engine adds up the components on their integer codes as it writes them; the summary must say what
    the written ``components`` output says, in memory and in parts."""
    source = SAMPLE / "manifest_10k.parquet"
    whole = screening.screen(source, rules=us_pack)
    expected = component_totals(whole.components)
    assert expected.height > 10
    assert_frame_equal(totals_in_summary(whole.summary), expected)
    summary, _ = screening.screen_to_folder(source, tmp_path / "parts", rules=us_pack, part_lines=2_500)
    assert_frame_equal(totals_in_summary(summary), expected)
    written = pl.read_parquet(tmp_path / "parts" / "components.parquet")
    assert_frame_equal(component_totals(written), expected)
