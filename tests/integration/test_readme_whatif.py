"""The README's what-if comparison (*Rule packs*, "What-ifs, refunds and backfills", step 4), run as written.

Its key (package, line, component, measure) once matched the components of the two runs row by row, but mail's
ad valorem duty is one package-level row per rate: a postal item of a $30 VN line at 20 % and a $40 TH line at
19 % has two rows of one measure, which a VN rate of 19 % makes one. The join paired each with the other run's
row, and the differences added to +$13.00 where the package's total fell by $0.30.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import textwrap
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import screening
from screening.rules_show import rules_in_force

from ..conftest import BASE_LINE, ROOT, US_PACK


def readme_recipe() -> str:
    """The Python block of the README's what-if steps, dedented out of its list item."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**What-ifs, refunds and backfills.**") :]
    block = re.search(r"\n( *)```python\n(.*?)\n\1```\n", section, flags=re.DOTALL)
    assert block is not None, "the what-if steps hold no Python block"
    return textwrap.dedent(block.group(2))


def test_the_readme_comparison_gives_each_package_the_change_of_its_total_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whatif = tmp_path / "rules-whatif"
    shutil.copytree(US_PACK, whatif, ignore=shutil.ignore_patterns("scenarios"))
    tariff = whatif / "tariff.toml"
    text = tariff.read_text(encoding="utf-8")
    assert text.count('VN = "0.20"') == 4  # every postal regime charging the origin's IEEPA rate
    tariff.write_text(text.replace('VN = "0.20"', 'VN = "0.19"'), encoding="utf-8")
    common = {**BASE_LINE, "arrival_date": "2025-09-15", "mode": "postal", "hts_code": "6110.20.20"}
    lines: list[dict[str, Any]] = [
        # One postal item of a VN line and a TH line: two rates, then one.
        {**common, "package_id": "M1", "line_no": "1", "country_of_origin": "VN", "declared_value": "30.00"},
        {**common, "package_id": "M1", "line_no": "2", "country_of_origin": "TH", "declared_value": "40.00"},
        # VN goods alone, and an express package the change leaves as it was (with its fees).
        {
            **common,
            "package_id": "M2",
            "consignee_name": "B",
            "country_of_origin": "VN",
            "declared_value": "50.00",
        },
        {**common, "package_id": "E1", "consignee_name": "C", "mode": "express", "declared_value": "900.00"},
    ]
    manifest = pl.DataFrame(lines, schema=dict.fromkeys(lines[0], pl.String()))
    screening.screen_to_folder(manifest, tmp_path / "baseline", rules=US_PACK)
    screening.screen_to_folder(manifest, tmp_path / "whatif", rules=whatif)
    monkeypatch.chdir(tmp_path)
    names: dict[str, Any] = {}
    exec(compile(readme_recipe(), "README.md (what-if step 4)", "exec"), names)

    def total_due(run: str) -> dict[str, Decimal]:
        packages = pl.read_parquet(tmp_path / run / "packages.parquet")
        return dict(packages.select("package_id", "total_due_usd").iter_rows())

    before, after = total_due("baseline"), total_due("whatif")
    assert before["M1"] - after["M1"] == Decimal(
        "0.30"
    )  # 30 x 20 % = 6.00 and 40 x 19 % = 7.60; 70 x 19 % = 13.30
    expected = {package: after[package] - before[package] for package in before}
    assert dict(names["by_package"].iter_rows()) == expected
    changes = names["changes"].filter(pl.col("change_usd") != 0)
    assert changes.select("package_id", "component", "measure_id", "change_usd").rows() == [
        ("M1", "postal_ad_valorem", "postal-all-ieepa-rate", Decimal("-0.30")),
        ("M2", "postal_ad_valorem", "postal-all-ieepa-rate", Decimal("-0.50")),
    ]


#: The IEEPA fentanyl duties on CN/HK goods (tariff.toml): struck down from their first day (DOMAIN.md 3g).
FENTANYL_CN = ("ieepa-fentanyl-cn-10", "ieepa-fentanyl-cn-20", "ieepa-fentanyl-cn-10-nov")


def test_a_measure_never_lawfully_in_force_is_taken_out_as_step_2_says(tmp_path: Path) -> None:
    """A refund of a duty struck down from its first day: ending it on that day was refused (`effective_to
    2025-02-04 must be after effective_from 2025-02-04`), and deleting it failed on what named it. Marked
    ``in_force_as_written = false`` as step 2 says, the pack loads and a CN package of 2025-05-02 owes every other
    duty as before, without the fentanyl one; the measure is neither charged, cited nor listed in force."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    steps = readme[readme.index("**What-ifs, refunds and backfills.**") :]
    step_2 = " ".join(steps[steps.index("\n2. ") : steps.index("\n3. ")].split())
    assert "never lawfully in force" in step_2
    assert "`in_force_as_written = false`" in step_2
    whatif = tmp_path / "rules-whatif"
    shutil.copytree(US_PACK, whatif, ignore=shutil.ignore_patterns("scenarios"))
    tariff = whatif / "tariff.toml"
    text = tariff.read_text(encoding="utf-8")
    for measure in FENTANYL_CN:
        text = text.replace(f'id = "{measure}"\n', f'id = "{measure}"\nin_force_as_written = false\n', 1)
    assert text.count("in_force_as_written = false") == len(FENTANYL_CN)
    tariff.write_text(text, encoding="utf-8")
    pack = screening.load_rules(whatif)
    line = {**BASE_LINE, "arrival_date": "2025-05-02", "country_of_origin": "CN"}
    manifest = pl.DataFrame([line], schema=dict.fromkeys(line, pl.String()))
    baseline, struck = screening.screen(manifest, rules=US_PACK), screening.screen(manifest, rules=pack)
    columns = [
        "package_id",
        "line_no",
        "component",
        "measure_id",
        "heading",
        "rate",
        "amount_usd",
        "citation",
    ]
    before = baseline.components.select(columns)
    assert before.filter(pl.col("component") == "ieepa_fentanyl")["amount_usd"].to_list() == [
        Decimal("20.00")
    ]
    assert struck.components.select(columns).equals(before.filter(pl.col("component") != "ieepa_fentanyl"))
    duty = [r.packages["duty_usd"][0] for r in (baseline, struck)]
    assert duty[0] - duty[1] == Decimal("20.00")
    assert struck.summary["rules"]["content_hash"] != baseline.summary["rules"]["content_hash"]
    assert not set(FENTANYL_CN) & {e.rule_id for e in rules_in_force(pack, dt.date(2025, 5, 2), origin="CN")}
