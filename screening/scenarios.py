"""Golden scenarios of a rule pack: small manifests with the package decisions they must produce.

A scenario file (``<pack>/scenarios/*.toml``) holds ``[scenario]`` (id, description,
citation of what it checks), ``[[lines]]`` (canonical manifest rows) and
``[[expect]]`` (per package: any of the ``packages`` output columns, as text, a list as a TOML array or its
items joined by ``,``; ``"null"``
expects an empty value). ``[scenario] postal_method`` selects the postal method.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from screening.errors import RulePackError
from screening.pipeline import screen
from screening.rulepack.loader import RulePack, read_toml, visible_toml_files
from screening.schema import MANIFEST


class ScenarioMeta(BaseModel):
    """What a scenario checks and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    description: str
    source: str = ""
    postal_method: Literal["ad-valorem", "specific"] = "ad-valorem"


class Scenario(BaseModel):
    """One scenario file."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    scenario: ScenarioMeta
    lines: list[dict[str, Any]] = Field(min_length=1)
    expect: list[dict[str, Any]] = Field(min_length=1)


@dataclass(frozen=True)
class Outcome:
    """A scenario's result: the mismatches found (empty when it passes)."""

    file: Path
    scenario_id: str
    mismatches: tuple[str, ...]

    @property
    def passed(self) -> bool:
        """True when every expectation held."""
        return not self.mismatches


def load_scenarios(pack: RulePack) -> list[tuple[Path, Scenario]]:
    """Every scenario file of the pack, validated: known manifest columns in its lines, an id no other scenario
    has. Raises :class:`RulePackError` on a bad file."""
    folder = pack.root / "scenarios"
    out = []
    ids: dict[str, str] = {}
    for file in visible_toml_files(folder):
        try:
            # Named from the pack folder: a scenario linked to another file of the pack is inside it.
            scenario = Scenario.model_validate(read_toml(pack.root, f"scenarios/{file.name}"))
        except ValidationError as exc:
            first = exc.errors()[0]
            raise RulePackError(str(file), ".".join(map(str, first["loc"])), first["msg"]) from exc
        for index, line in enumerate(scenario.lines):
            unknown = sorted(set(line) - set(MANIFEST))
            if unknown:  # a misspelt column would be screened as an extra column, its value unused
                raise RulePackError(str(file), f"lines[{index}]", f"not manifest columns: {unknown}")
        if scenario.scenario.id in ids:
            raise RulePackError(
                str(file),
                "scenario.id",
                f"{scenario.scenario.id!r} is also the id in {ids[scenario.scenario.id]}",
            )
        ids[scenario.scenario.id] = file.name
        out.append((file, scenario))
    return out


def run_scenario(pack: RulePack, file: Path, scenario: Scenario) -> Outcome:
    """Screen the scenario's lines under ``pack`` and compare with its expectations."""
    manifest = pl.DataFrame([{k: _text(v) for k, v in row.items()} for row in scenario.lines])
    result = screen(manifest, rules=pack, postal_method=scenario.scenario.postal_method)
    packages = as_text(result.packages)
    rows = {r["package_id"]: r for r in packages.to_dicts()}
    mismatches = []
    for expected in scenario.expect:
        package_id = str(expected.get("package_id"))
        actual = rows.get(package_id)
        if actual is None:
            rejected = result.rejects.filter(pl.col("package_id") == package_id)["code"].to_list()
            mismatches.append(f"{package_id}: no package in the output (rejects: {rejected})")
            continue
        for column, value in expected.items():
            if column not in actual:
                mismatches.append(f"{package_id}: unknown column {column!r}")
            elif actual[column] != _expected(value):
                mismatches.append(f"{package_id}.{column}: expected {_text(value)!r}, got {actual[column]!r}")
    return Outcome(file, scenario.scenario.id, tuple(mismatches))


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column as text, as scenarios write expectations (lists joined with ``,``)."""
    return frame.with_columns(
        pl.col(c).list.join(",") if isinstance(t, pl.List) else pl.col(c).cast(pl.String())
        for c, t in frame.schema.items()
    )


def run_scenarios(pack: RulePack) -> list[Outcome]:
    """Run every scenario of the pack."""
    return [run_scenario(pack, file, scenario) for file, scenario in load_scenarios(pack)]


def _expected(value: Any) -> str | None:
    """An expectation as text; the string ``"null"`` expects an empty value (e.g. a duty not computable)."""
    return None if value == "null" else _text(value)


def _text(value: Any) -> str | None:
    """A TOML value as the text :func:`as_text` makes of a column: an array as its items joined by ``,``."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(str(_text(item)) for item in value)
    return str(value)
