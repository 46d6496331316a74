"""The README's targeting-lift table is what ``tools/kcs_lift.py`` measures today (it once went stale when a
risk rule changed, showing a lift the engine no longer had)."""

from __future__ import annotations

import importlib.util
import re

from ..conftest import ROOT


def test_the_readme_lift_table_is_what_the_tool_measures() -> None:
    spec = importlib.util.spec_from_file_location("kcs_lift", ROOT / "tools" / "kcs_lift.py")
    assert spec is not None
    assert spec.loader is not None
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for capacity in (1, 3):
        measured = tool.measure(capacity, ROOT / "rules" / "us")
        row = (
            f"| {capacity} | {measured['inspected']:,} | {measured['targeted_fraud_share']:.1%} | "
            f"{measured['sample_fraud_share']:.1%} | {measured['all_fraud_share']:.1%} | "
            f"{measured['lift_vs_sample']:.2f} | {measured['lift_vs_all']:.2f} |"
        )
        assert re.sub(r"(\d) %", r"\1%", row) in re.sub(r"(\d) %", r"\1%", readme), row
        assert measured["lift_vs_all"] > 1  # targeting beats picking at random from all declarations
