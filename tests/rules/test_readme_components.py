"""README's `components.parquet` row names every fee component a pack can give (a loader that picks fee rows by
the names listed there missed `postal_entry_fees`)."""

from __future__ import annotations

import typing

from screening.rulepack.models import Fee

from ..conftest import ROOT


def test_the_readme_components_row_names_every_fee_component() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| `components.parquet` |"))
    components = typing.get_args(Fee.model_fields["component"].annotation)
    assert "postal_entry_fees" in components
    assert [c for c in components if f"`{c}`" not in row] == []
