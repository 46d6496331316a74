"""Parse HTSUS column-1 rate text into a structured rate.

Handles ``Free``, ad valorem (``6.8%``), specific (``1¢/kg``, ``$1.02/doz.``,
``10.5¢/bbl``, ``3.7¢/kg on drained weight``) and compound rates of one ad
valorem part and up to two specific parts (``13.5¢/kg + 6.3% + 1.9¢/article``).
Conditional or derived text (``The rate applicable to ...``, ``... on the
battery``, ``less ... for each degree``) keeps its text and is
``not-computable``: never guessed. The special-rate column is searched for the
rate that lists a program (USMCA: ``S`` or ``S+``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

_NUMBER: Final = r"(\d+(?:\.\d+)?)"
_AD_VALOREM: Final = re.compile(rf"^{_NUMBER}%$")
_SPECIFIC: Final = re.compile(rf"^(?:{_NUMBER}¢|\${_NUMBER})\s*(?:/\s*(.+?)|\s(each))$")
_CONTENT: Final = re.compile(r"^kg on (\w+) content$")
_SPECIAL_GROUP: Final = re.compile(r"([^()]*?)\s*\(([^)]*)\)")

#: Units of quantity as the HTSUS writes them → the unit the engine uses. Only ``kg`` is
#: taken from ``gross_weight_kg``; every other unit from ``quantity``, which must be
#: reported in that unit (``thousand``, ``dozen``, ``gross`` divide the count).
UNITS: Final[dict[str, str]] = {
    "kg": "kg",
    "liter": "liter",
    "l": "liter",
    "pf.liter": "proof-liter",
    "pf. liter": "proof-liter",
    "pf. liter on ethyl alcohol content": "proof-liter",
    "no": "each",
    "each": "each",
    "article": "each",
    "head": "head",
    "jewel": "jewel",
    "doz": "dozen",
    "dozen": "dozen",
    "pair": "pair",
    "pr": "pair",
    "doz. pairs": "dozen-pairs",
    "dozen pairs": "dozen-pairs",
    "m2": "m2",
    "m²": "m2",
    "m3": "m3",
    "gross": "gross",
    "1000": "thousand",
    "thousand": "thousand",
    "bbl": "barrel",
    "t": "metric-ton",
    "clean kg": "clean-kg",
    "kg on drained weight": "kg-drained-weight",
    "kg of total sugars": "kg-total-sugars",
    "kg on entire contents of container": "kg-contents",
    "kg on contents and container": "kg-contents-and-container",
}


@dataclass(frozen=True, slots=True)
class ParsedRate:
    """A structured rate: an ad valorem fraction and up to two specific amounts per unit."""

    status: str
    ad_valorem: Decimal | None = None
    specific_usd: Decimal | None = None
    specific_unit: str | None = None
    specific2_usd: Decimal | None = None
    specific2_unit: str | None = None


NOT_COMPUTABLE: Final = ParsedRate(status="not-computable")


def parse_general_rate(text: str) -> ParsedRate:
    """Parse one column-1 rate, e.g. ``'46.3¢/kg + 14.9%'``."""
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    if not cleaned:
        return NOT_COMPUTABLE
    if cleaned.lower() == "free":
        return ParsedRate(status="computable", ad_valorem=Decimal(0))
    parts = [p.strip() for p in cleaned.split("+")]
    ad_valorem: Decimal | None = None
    specifics: list[tuple[Decimal, str]] = []
    for part in parts:
        if (m := _AD_VALOREM.match(part)) and ad_valorem is None:
            ad_valorem = Decimal(m.group(1)) / 100
        elif (s := _parse_specific(part)) and len(specifics) < 2:
            specifics.append(s)
        else:
            return NOT_COMPUTABLE
    units = [unit for _, unit in specifics]
    if len(units) == 2 and (units[0] == units[1] or "kg" not in units):
        return NOT_COMPUTABLE  # only weight + one count can come from the line (gross weight, quantity)
    first = specifics[0] if specifics else (None, None)
    second = specifics[1] if len(specifics) > 1 else (None, None)
    return ParsedRate(
        status="computable",
        ad_valorem=ad_valorem,
        specific_usd=first[0],
        specific_unit=first[1],
        specific2_usd=second[0],
        specific2_unit=second[1],
    )


def _parse_specific(part: str) -> tuple[Decimal, str] | None:
    m = _SPECIFIC.match(part)
    if not m:
        return None
    cents, dollars, per_unit, each = m.groups()
    unit = "each" if each else _unit(per_unit)
    if unit is None:
        return None
    amount = Decimal(cents) / 100 if cents is not None else Decimal(dollars)
    return amount, unit


def _unit(text: str) -> str | None:
    key = text.strip().rstrip(".").lower()
    if key in UNITS:
        return UNITS[key]
    if content := _CONTENT.match(key):
        return f"kg-{content.group(1)}-content"
    return None


def parse_special_rate(text: str, programs: tuple[str, ...] = ("S", "S+")) -> tuple[str, ParsedRate] | None:
    """The rate of the special column's group that lists one of ``programs``, with its raw text.

    ``None`` when no group lists them (the general rate applies).
    """
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    for rate_text, listed in _SPECIAL_GROUP.findall(cleaned):
        names = {p.strip() for p in listed.split(",")}
        if names & set(programs):
            rate = rate_text.strip()
            return rate, parse_general_rate(rate)
    return None
