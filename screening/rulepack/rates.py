"""Parse HTSUS column-1 rate text into a structured rate.

Every rate is read as a sum of components: ad valorem on the line's value
(``6.8%``), specific per unit (``1¢/kg``, ``$1.02/doz.``, ``10.5¢/bbl``,
``3.7¢/kg on drained weight``, ``2¢/jewel``), and ad valorem on the value of a
named part of the good (``6% on the case``, ``5.3% on the battery``,
``2.5% on the value of the lead content``). The result has one of three statuses:

- ``computable``: the components draw only on the line's value, ``quantity`` and
  ``gross_weight_kg`` (at most one ad valorem part and two specific parts, of
  which at most one is a count), so the engine computes the duty;
- ``needs-part-values``: fully parsed, but some component is charged on the value
  of a part (watch cases, straps, batteries, movements, lead content) or on a
  second count (jewels, proof liters beside liters) that a manifest line does not
  carry; the structure is kept in ``parts`` (JSON) and the engine queues the line
  until they are given (a part the rate charges "if any", a rifle's telescopic sight,
  is marked ``if_any`` and counts as 0 when not given);
- ``not-computable``: conditional or derived text (``The rate applicable to
  ...``, ``less ... for each degree``, ``See additional U.S. note``) keeps its
  text and is never guessed.

The special-rate column is searched for the rate that lists a program (USMCA:
``S`` or ``S+``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

_NUMBER: Final = r"(\d+(?:\.\d+)?)"
_AD_VALOREM: Final = re.compile(rf"^{_NUMBER}%$")
_AD_VALOREM_ON_PART: Final = re.compile(rf"^{_NUMBER}% on (?:the )?(?:value of the )?(.+?)(, if any)?$")
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
    "1,000 pins": "thousand",
    "thousand": "thousand",
    "bbl": "barrel",
    "t": "metric-ton",
    "clean kg": "clean-kg",
    "kg on drained weight": "kg-drained-weight",
    "kg of total sugars": "kg-total-sugars",
    "kg on entire contents of container": "kg-contents",
    "kg on contents and container": "kg-contents-and-container",
}

#: Counts a rate may be charged on that are not the article count a manifest reports
#: (jewels in a watch movement): parsed, but they need a part value from the filer.
PART_COUNTS: Final[dict[str, str]] = {
    "jewel": "jewel",
    "jewel over 7": "jewel-over-7",
}

#: Every unit a specific rate of the tariff-line table may name (the values of :data:`UNITS` and
#: :data:`PART_COUNTS`), besides the content units :data:`CONTENT_UNIT` matches.
SPECIFIC_UNITS: Final = frozenset(UNITS.values()) | frozenset(PART_COUNTS.values())
#: A unit charged on a content of the good (``kg-copper-content``): "kg on copper content".
CONTENT_UNIT: Final = r"^kg-\w+-content$"

#: ``part_values`` counts given for ONE article of the line (a "17-jewel movement"): the rate's "per jewel
#: (over N)" is charged per article, so the engine multiplies by the line's ``quantity``. Every other count
#: (``proof-liter``, ``kg-lead-content``) is the line's total, as the ``quantity`` beside it is.
PER_ARTICLE_COUNTS: Final = frozenset({"jewel"})

#: Parts of a good whose own value is the base of an ad valorem component.
#: ``value`` means the whole line (``6.5% on the entire set``).
PARTS: Final[dict[str, str]] = {
    "entire set": "value",
    "case": "case",
    "strap, band or bracelet": "strap",
    "case and strap, band or bracelet": "case-and-strap",
    "movement": "movement",
    "movement and case": "movement-and-case",
    "battery": "battery",
    "apparatus": "apparatus",
    "lead content": "lead-content",
    "rifle": "rifle",
    "telescopic sight": "telescopic-sight",
}


@dataclass(frozen=True, slots=True)
class RateComponent:
    """One part of a rate: ``amount`` per ``unit`` (specific) or a fraction of ``base``'s value; ``if_any``: the
    rate charges it on a part the article may lack ("20% on the value of the telescopic sight, if any")."""

    kind: str  # "ad_valorem" or "specific"
    amount: Decimal
    base: str  # ad valorem: "value" or a part of PARTS; specific: a unit of UNITS or PART_COUNTS
    if_any: bool = False


@dataclass(frozen=True, slots=True)
class ParsedRate:
    """A structured rate: an ad valorem fraction and up to two specific amounts per unit.

    ``parts`` holds the whole structure as JSON when the status is ``needs-part-values``.
    """

    status: str
    ad_valorem: Decimal | None = None
    specific_usd: Decimal | None = None
    specific_unit: str | None = None
    specific2_usd: Decimal | None = None
    specific2_unit: str | None = None
    parts: str | None = None


NOT_COMPUTABLE: Final = ParsedRate(status="not-computable")


def parse_general_rate(text: str) -> ParsedRate:
    """Parse one column-1 rate, e.g. ``'46.3¢/kg + 14.9%'``."""
    cleaned = " ".join(text.replace("\u00a0", " ").split())
    if not cleaned:
        return NOT_COMPUTABLE
    if cleaned.lower() == "free":
        return ParsedRate(status="computable", ad_valorem=Decimal(0))
    components: list[RateComponent] = []
    for part in (p.strip() for p in cleaned.split("+")):
        component = _parse_component(part)
        if component is None:
            return NOT_COMPUTABLE
        components.append(component)
    if not _well_formed(components):
        return NOT_COMPUTABLE
    return _flat(components) or _needs_part_values(components)


def _well_formed(components: list[RateComponent]) -> bool:
    """At most one ad valorem part on each base and one specific part per unit (``2% + 3%`` is not a rate)."""
    keys = [(c.kind, c.base) for c in components]
    return len(keys) == len(set(keys))


def _parse_component(part: str) -> RateComponent | None:
    if m := _AD_VALOREM.match(part):
        return RateComponent("ad_valorem", Decimal(m.group(1)) / 100, "value")
    if m := _AD_VALOREM_ON_PART.match(part):
        base = PARTS.get(m.group(2).strip().lower())
        if base is None:
            return None
        return RateComponent("ad_valorem", Decimal(m.group(1)) / 100, base, if_any=m.group(3) is not None)
    if s := _parse_specific(part):
        return RateComponent("specific", s[0], s[1])
    return None


def _flat(components: list[RateComponent]) -> ParsedRate | None:
    """The engine's flat form (value, quantity and gross weight only), or None if the rate needs more."""
    ad_valorem = [c for c in components if c.kind == "ad_valorem"]
    specifics = [c for c in components if c.kind == "specific"]
    if len(ad_valorem) > 1 or any(c.base != "value" for c in ad_valorem) or len(specifics) > 2:
        return None
    units = [c.base for c in specifics]
    if any(unit in PART_COUNTS.values() for unit in units):
        return None
    if len(units) == 2 and (units[0] == units[1] or "kg" not in units):
        return None  # only weight + one count can come from the line (gross weight, quantity)
    first = specifics[0] if specifics else None
    second = specifics[1] if len(specifics) > 1 else None
    return ParsedRate(
        status="computable",
        ad_valorem=ad_valorem[0].amount if ad_valorem else None,
        specific_usd=first.amount if first else None,
        specific_unit=first.base if first else None,
        specific2_usd=second.amount if second else None,
        specific2_unit=second.base if second else None,
    )


def _needs_part_values(components: list[RateComponent]) -> ParsedRate:
    structure = [
        {"kind": c.kind, "amount": format(c.amount.normalize(), "f"), "base": c.base}
        | ({"if_any": True} if c.if_any else {})
        for c in components
    ]
    return ParsedRate(status="needs-part-values", parts=json.dumps(structure, separators=(",", ":")))


@dataclass(frozen=True, slots=True)
class PartComponent:
    """One component of a ``needs-part-values`` rate and where its base comes from on a line.

    ``source``: ``value`` (the line's value), ``quantity`` or ``weight`` (the line's
    ``quantity`` or ``gross_weight_kg``), or ``part`` (the ``part_values`` entry named
    ``part``, less ``over`` for counts such as jewels over 7; a count of :data:`PER_ARTICLE_COUNTS`
    is per article, times the line's ``quantity``). ``if_any``: a part the article may lack, charged
    on 0 when ``part_values`` does not name it.
    """

    index: int
    kind: str
    amount: Decimal
    base: str
    source: str
    part: str | None = None
    over: int = 0
    if_any: bool = False


def part_components(parts: str) -> list[PartComponent]:
    """The components of a ``needs-part-values`` rate (its ``parts`` JSON), each with its source.

    The first count unit of a rate may come from ``quantity``; a second count (proof
    liters beside liters, lead beside copper content) only from ``part_values``.
    """
    out: list[PartComponent] = []
    counted = False
    for index, item in enumerate(json.loads(parts)):
        kind, amount, base = item["kind"], Decimal(item["amount"]), item["base"]
        if kind == "ad_valorem":
            source, part = ("value", None) if base == "value" else ("part", base)
            if_any = item.get("if_any", False)
            if not isinstance(if_any, bool) or (if_any and part is None):
                raise TypeError(f"if_any is true or false, on a part's value only: {item!r}")
            out.append(PartComponent(index, kind, amount, base, source, part, if_any=if_any))
        elif base == "kg":
            out.append(PartComponent(index, kind, amount, base, "weight"))
        elif base in PART_COUNTS.values():
            over = int(base.rsplit("-", 1)[1]) if "-over-" in base else 0
            out.append(PartComponent(index, kind, amount, base, "part", "jewel", over))
        elif not counted:
            counted = True
            out.append(PartComponent(index, kind, amount, base, "quantity"))
        else:
            out.append(PartComponent(index, kind, amount, base, "part", base))
    return out


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
    if key in PART_COUNTS:
        return PART_COUNTS[key]
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
