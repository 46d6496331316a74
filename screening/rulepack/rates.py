"""Parse HTSUS column-1 rate text into a structured rate.

Handles ``Free``, ad valorem (``6.8%``), specific (``1¢/kg``, ``$1.02/doz.``) and
compound (``46.3¢/kg + 14.9%``) rates with one specific and one ad valorem part.
Anything else keeps its text and is ``not-computable``: never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

_NUMBER: Final = r"(\d+(?:\.\d+)?)"
_AD_VALOREM: Final = re.compile(rf"^{_NUMBER}%$")
_SPECIFIC: Final = re.compile(rf"^(?:{_NUMBER}¢|\${_NUMBER})\s*(?:/\s*([A-Za-z.²0-9 ]+?)|\s(each))\.?$")

#: Units of quantity as the HTSUS writes them → the canonical unit the engine knows.
UNITS: Final[dict[str, str]] = {
    "kg": "kg",
    "liter": "liter",
    "l": "liter",
    "no": "each",
    "each": "each",
    "doz": "dozen",
    "pair": "pair",
    "pr": "pair",
    "m2": "m2",
    "m²": "m2",
    "gross": "gross",
    "thousand": "thousand",
    "dozen pairs": "dozen-pairs",
    "doz. pairs": "dozen-pairs",
}


@dataclass(frozen=True, slots=True)
class ParsedRate:
    """A structured rate: ad valorem fraction and/or a specific amount per unit."""

    status: str
    ad_valorem: Decimal | None = None
    specific_usd: Decimal | None = None
    specific_unit: str | None = None


NOT_COMPUTABLE: Final = ParsedRate(status="not-computable")


def parse_general_rate(text: str) -> ParsedRate:
    """Parse one column-1 general rate, e.g. ``'46.3¢/kg + 14.9%'``."""
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    if not cleaned:
        return NOT_COMPUTABLE
    if cleaned.lower() == "free":
        return ParsedRate(status="computable", ad_valorem=Decimal(0))
    parts = [p.strip() for p in cleaned.split("+")]
    if len(parts) > 2:
        return NOT_COMPUTABLE
    ad_valorem: Decimal | None = None
    specific: tuple[Decimal, str] | None = None
    for part in parts:
        if (m := _AD_VALOREM.match(part)) and ad_valorem is None:
            ad_valorem = Decimal(m.group(1)) / 100
        elif (s := _parse_specific(part)) and specific is None:
            specific = s
        else:
            return NOT_COMPUTABLE
    return ParsedRate(
        status="computable",
        ad_valorem=ad_valorem,
        specific_usd=specific[0] if specific else None,
        specific_unit=specific[1] if specific else None,
    )


def _parse_specific(part: str) -> tuple[Decimal, str] | None:
    m = _SPECIFIC.match(part)
    if not m:
        return None
    cents, dollars, per_unit, each = m.groups()
    unit = "each" if each else UNITS.get(per_unit.strip().rstrip(".").lower())
    if unit is None:
        return None
    amount = Decimal(cents) / 100 if cents is not None else Decimal(dollars)
    return amount, unit
