"""Every golden scenario of the U.S. pack holds, and a wrong expectation is caught."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import screening
from screening.scenarios import load_scenarios, run_scenario

from ..conftest import US_PACK

SCENARIOS = load_scenarios(screening.load_rules(US_PACK))


@pytest.mark.parametrize(("file", "scenario"), SCENARIOS, ids=[s.scenario.id for _, s in SCENARIOS])
def test_scenario_holds(us_pack: screening.RulePack, file: Path, scenario: object) -> None:
    outcome = run_scenario(us_pack, file, scenario)  # type: ignore[arg-type]
    assert outcome.mismatches == ()


def test_pack_has_golden_scenarios() -> None:
    assert len(SCENARIOS) >= 10


def test_a_wrong_expectation_is_reported(tmp_path: Path) -> None:
    pack_dir = tmp_path / "us"
    shutil.copytree(US_PACK, pack_dir)
    scenario = pack_dir / "scenarios" / "formal_entry.toml"
    scenario.write_text(scenario.read_text().replace('duty_usd = "429.00"', 'duty_usd = "428.99"'))
    pack = screening.load_rules(pack_dir)
    # Only the changed scenario is run (test_scenario_holds runs each of them; all 129 again cost 20 s).
    outcomes = {
        o.scenario_id: o for o in [run_scenario(pack, f, s) for f, s in load_scenarios(pack) if f == scenario]
    }
    assert outcomes["formal-entry"].mismatches == ("P1.duty_usd: expected '428.99', got '429.00'",)


def test_a_list_column_can_be_expected_as_a_toml_array(tmp_path: Path) -> None:
    """``risk_flags = [...]`` was compared as its Python text (``"['x', 'y']"``), so it never matched."""
    pack_dir = tmp_path / "us"
    shutil.copytree(US_PACK, pack_dir)
    scenario = pack_dir / "scenarios" / "formal_entry.toml"
    original = scenario.read_text()

    def mismatches(expectation: str) -> tuple[str, ...]:
        scenario.write_text(original + expectation)
        pack = screening.load_rules(pack_dir)
        (outcome,) = [run_scenario(pack, f, s) for f, s in load_scenarios(pack) if f == scenario]
        return outcome.mismatches

    assert mismatches("risk_flags = []\n") == ()  # the package raises no flag
    assert mismatches('risk_flags = ["x", "y"]\n') == ("P1.risk_flags: expected 'x,y', got ''",)
