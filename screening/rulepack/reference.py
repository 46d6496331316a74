"""Reference code lists shipped with the engine (ISO 3166-1 countries)."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def known_countries() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes (from Debian iso-codes; see screening/reference/PROVENANCE.md)."""
    text = resources.files("screening.reference").joinpath("countries.csv").read_text(encoding="utf-8")
    return tuple(line for line in text.splitlines()[1:] if line)
