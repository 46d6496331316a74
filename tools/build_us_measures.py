"""Regenerate the U.S. pack's Chapter 99 measures (rules/us/measures/) from the public data in ../shared/data.

    python tools/build_us_measures.py [--shared ../shared/data] [--pack rules/us]

Writes one TOML file per program (s301, ieepa_reciprocal, ieepa_fentanyl, s232, s122) and the prefix
tables they use (``*.csv``, column ``hts_prefix`` with optional ``effective_from``/``effective_to`` and a
``source`` column saying where each row comes from). Every run rewrites the whole folder's generated files,
so the pack is reproducible from:

- ``tariff_programs_yale/`` (Yale Budget Lab tariff-rate tracker resources, MIT; see its PROVENANCE.md):
  Section 301 product lists, Section 232 derivative and copper lists, the IEEPA reciprocal Annex II list,
  the Section 122 exemption list, the 2026 Section 232 metals annex, and ``master_tariff_list.json``
  (cross-check of country rates and dates only);
- ``usitc_hts/`` (USITC HTSUS JSON exports 2025 Rev 32 and 2026 Rev 10, public domain): the Chapter 99
  heading texts (country-rate headings of the reciprocal annexes) and the footnotes of chapters 1-97 that
  point tariff lines to Section 301 headings (used to sharpen the Yale lists to 10 digits where the HTS
  itself splits an 8-digit line).

Facts that are not tabular (rates, dates, stacking, citations) are written out below, each with the
DOMAIN.md source tags it rests on. The legal instruments are cited, not the Yale files.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import difflib
import gzip
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------------------------
# Small helpers: dates, TOML output, CSV output
# --------------------------------------------------------------------------------------------------------

D = dt.date.fromisoformat
EASTERN = ZoneInfo("America/New_York")


def one_minute_past_midnight(day: dt.date) -> str:
    """``12:01 a.m. EST`` or ``12:01 a.m. EDT``, as Eastern time is at that minute of ``day`` (a fixed ``EDT``
    labelled a measure from 2025-12-05, when New York keeps standard time)."""
    return f"12:01 a.m. {dt.datetime.combine(day, dt.time(0, 1), EASTERN).tzname()}"


#: ISO codes of the 27 EU member states (the EU "15% all-in" formulas apply to products of the EU).
EU27 = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
    "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
)  # fmt: skip

#: Countries of HTSUS general note 3(b) (column 2): no reciprocal duty (heading 9903.01.29).
COLUMN2 = ("CU", "KP", "RU", "BY")

#: Stacking groups of the Section 232 programs encoded as measures.
S232_GROUPS = ("s232_steel", "s232_aluminum", "s232_copper", "s232_metals", "s232_autos", "s232_wood")

IEEPA_END = D("2026-02-24")
#: The stacking group of the IEEPA border duties on CA and MX (EO 14289 orders them against Section 232).
BORDER_GROUP = "ieepa_ca_mx"
#: EO 14289's order revised (DOMAIN.md 1, 2025-06-04): Section 232 steel/aluminum over the CA/MX duties.
STACKING_REVISED = D("2025-06-04")
IEEPA_END_TIME = "12:00 a.m. EST on 2026-02-24 (CSMS 67834313)"
METALS_RESTRUCTURE = D("2026-04-06")


def cite(instrument: str, url: str, sources: Iterable[str], pinpoint: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"instrument": instrument}
    if pinpoint:
        out["pinpoint"] = pinpoint
    out["url"] = url
    out["sources"] = list(sources)
    return out


def exemption_headings(
    entry: dict[str, Any],
    sources: Iterable[str],
    *,
    usmca: dict[str, str] | None = None,
    not_with: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``entry`` with the headings DOMAIN.md gives goods exempt from the measure (by origin for a USMCA claim, by
    ``not_with`` group) and the source tags those headings rest on added to its citation. Only headings
    DOMAIN.md states, never inferred: a group or origin it gives none for is left out (its exemption still
    shows on the line, without a heading). The headings the HTSUS texts give where DOMAIN.md is silent
    (informational materials, U.S. content) are written by :func:`excepted_heading`, which checks them."""
    out = dict(entry)
    if usmca:
        out["usmca_exempt_headings"] = dict(usmca)
    if not_with:
        out["not_with_headings"] = {g: h for g, h in not_with.items() if g in entry["not_with"]}
    cited = out["citation"]["sources"]
    out["citation"] = {**out["citation"], "sources": [*cited, *(t for t in sources if t not in cited)]}
    return out


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


#: Key order of every written entry (readers see id, scope, rate, period, then the record).
KEY_ORDER = (
    "id", "component", "heading", "origins", "origins_exclude", "modes", "hts_include", "hts_include_file",
    "hts_exclude", "hts_exclude_file", "rate", "rate_rule", "heading_at_or_above_rate", "base", "stacking_group", "priority", "not_with",
    "not_with_headings", "in_place_of", "usmca_exempt", "usmca_exempt_headings", "effective_from", "effective_to", "effective_time", "confidence", "assumption", "note", "citation",
)  # fmt: skip


def toml_entries(table: str, entries: Iterable[dict[str, Any]]) -> str:
    blocks = []
    for entry in entries:
        unknown = set(entry) - set(KEY_ORDER)
        if unknown:
            raise KeyError(f"{entry.get('id')}: unknown keys {unknown}")
        # table paths are relative to the pack root
        relative = {k: (f"measures/{v}" if k.endswith("_file") else v) for k, v in entry.items()}
        lines = [f"[[{table}]]"]
        lines += [f"{key} = {_toml_value(relative[key])}" for key in KEY_ORDER if key in relative]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def write_toml(path: Path, header: str, measures: list[dict[str, Any]], gaps: list[dict[str, Any]]) -> None:
    parts = [header.rstrip() + "\n"]
    if measures:
        parts.append(toml_entries("measures", measures) + "\n")
    if gaps:
        parts.append(
            "# --- Coverage gaps of this program " + "-" * 70 + "\n\n" + toml_entries("gaps", gaps) + "\n"
        )
    path.write_text("\n".join(parts), encoding="utf-8")


class Table:
    """A prefix table: rows of (hts_prefix, effective_from, effective_to, source), written sorted."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], str] = {}

    def add(self, prefix: str, source: str, start: dt.date | None = None, end: dt.date | None = None) -> None:
        if not re.fullmatch(r"\d{2,10}", prefix):
            raise ValueError(f"bad HTS prefix {prefix!r}")
        key = (prefix, start.isoformat() if start else "", end.isoformat() if end else "")
        self.rows[key] = self.rows.get(key) or source

    def prefixes(self) -> set[str]:
        return {p for p, _, _ in self.rows}

    def write(self, path: Path) -> int:
        dated = any(s or e for _, s, e in self.rows)
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(
                ["hts_prefix", "effective_from", "effective_to", "source"]
                if dated
                else ["hts_prefix", "source"]
            )
            for (prefix, start, end), source in sorted(self.rows.items()):
                writer.writerow([prefix, start, end, source] if dated else [prefix, source])
        return len(self.rows)


# --------------------------------------------------------------------------------------------------------
# The HTSUS exports: 8/10-digit lines, their footnotes, Chapter 99 heading texts
# --------------------------------------------------------------------------------------------------------


class Hts:
    """One USITC JSON export: tariff lines (digits), their footnote texts, Chapter 99 general/description."""

    def __init__(self, path: Path) -> None:
        with gzip.open(path) as handle:
            rows = json.loads(handle.read())
        self.footnotes: dict[str, str] = {}
        self.children: dict[str, list[str]] = defaultdict(list)
        self.ch99: dict[str, tuple[str, str]] = {}
        self.codes: set[str] = set()
        for row in rows:
            dotted = row.get("htsno") or ""
            digits = dotted.replace(".", "")
            if not digits:
                continue
            text = " ".join(f.get("value", "") for f in row.get("footnotes") or [])
            if digits.startswith("99"):
                self.ch99[dotted] = (
                    row.get("general") or "",
                    re.sub(r"<[^>]+>", "", row.get("description") or ""),
                )
                continue
            self.codes.add(digits)
            self.footnotes[digits] = text
            if len(digits) == 10:
                self.children[digits[:8]].append(digits)

    def six_digit(self) -> set[str]:
        return {c[:6] for c in self.codes if len(c) >= 8}

    def lines_naming(self, heading: str) -> tuple[set[str], set[str]]:
        """8-digit and 10-digit lines whose footnotes name ``heading`` (e.g. 'See 9903.88.15')."""
        pattern = re.compile(re.escape(heading) + r"(?!\d)")
        hit = {c for c, text in self.footnotes.items() if pattern.search(text)}
        return {c for c in hit if len(c) == 8}, {c for c in hit if len(c) == 10}


#: How a top-up heading's text says which column 1 rates it is for: "less than 15 percent" (the top-up) or
#: "equal to or greater than 15 percent" (nothing added).
_BELOW = re.compile(r"less than (\d+) percent")
_AT_OR_ABOVE = re.compile(r"equal to or greater than (\d+) percent")


def _revisions_with_both(heading: str, other: str, revisions: Iterable[Hts]) -> list[Hts]:
    """The HTSUS revisions that have ``heading``, each checked to have ``other`` too; none is refused."""
    having = [hts for hts in revisions if heading in hts.ch99]
    if not having:
        raise ValueError(f"{heading} is in no HTSUS revision of the data")
    for hts in having:
        if other not in hts.ch99:
            raise ValueError(f"{heading}: {other} is not in the same HTSUS revision")
    return having


def heading_at_or_above(below: str, at_or_above: str, rate: str, revisions: Iterable[Hts]) -> str:
    """``at_or_above``, checked against the HTSUS texts as the heading of goods whose column 1 rate is at or
    above ``rate`` beside the top-up heading ``below`` (a measure's ``heading_at_or_above_rate``).

    In every revision that has ``below``, its text must read "less than N percent" and its rate column N%,
    ``at_or_above``'s "equal to or greater than N percent" with nothing added ("The duty provided in the
    applicable subheading" or "No change"), N being ``rate``, and the two texts must otherwise be alike (the
    same goods): a pair the data does not show is refused, never written.
    """
    percent = str(int(Decimal(rate) * 100))
    for hts in _revisions_with_both(below, at_or_above, revisions):
        (rate_below, text_below), (rate_above, text_above) = hts.ch99[below], hts.ch99[at_or_above]
        if [m.group(1) for m in _BELOW.finditer(text_below)] != [
            percent
        ] or rate_below.strip() != f"{percent}%":
            raise ValueError(
                f"{below}: not a top-up to {percent}% for a column 1 rate under it: {text_below!r}"
            )
        nothing_added = rate_above.strip().lower() in (
            "the duty provided in the applicable subheading",
            "no change",
        )
        if [m.group(1) for m in _AT_OR_ABOVE.finditer(text_above)] != [percent] or not nothing_added:
            raise ValueError(
                f"{at_or_above}: not the heading of a column 1 rate of {percent}% or more: {text_above!r}"
            )

        def plain(text: str) -> str:
            swapped = _AT_OR_ABOVE.sub("RATE", _BELOW.sub("RATE", text))
            return re.sub(r"[\s.]", "", swapped).lower()

        alike = difflib.SequenceMatcher(None, plain(text_below), plain(text_above)).ratio()
        if alike < 0.97:
            raise ValueError(f"{below} and {at_or_above} describe different goods (texts {alike:.0%} alike)")
    return at_or_above


#: A Chapter 99 heading or a range of them ("9903.01.26-9903.01.33", with a hyphen or an en dash).
_HEADING_OR_RANGE = re.compile(r"(9903\.\d{2}\.\d{2})(?:\s*[-\u2013]\s*(9903\.\d{2}\.\d{2}))?")
#: What the heading of goods that owe nothing more reads in the rate column.
_NOTHING_ADDED = "the duty provided in the applicable subheading"


def excepted_heading(charged: str, exempt: str, goods: str, revisions: Iterable[Hts]) -> str:
    """``exempt``, checked against the HTSUS texts as the heading of goods ``charged`` leaves out.

    In every revision that has ``charged``, its text must except ``exempt`` (named after its first "xcept", or
    inside a range named there), and ``exempt``'s text must read ``goods`` (its words, case aside) with nothing
    added in its rate column ("The duty provided in the applicable subheading"). A pair the data does not show
    is refused, never written: the heading is then a fact of the data, not of this script.
    """
    for hts in _revisions_with_both(charged, exempt, revisions):
        text = hts.ch99[charged][1]
        start = text.find("xcept")
        named = [m.groups() for m in _HEADING_OR_RANGE.finditer(text[start:])] if start >= 0 else []
        if not any(first == exempt or (last and first <= exempt <= last) for first, last in named):
            raise ValueError(f"{charged} does not except {exempt}: {text!r}")
        rate, description = hts.ch99[exempt]
        if rate.strip().lower() != _NOTHING_ADDED or goods.lower() not in description.lower():
            raise ValueError(
                f"{exempt}: not the heading of {goods!r} with nothing added: {rate!r}, {description!r}"
            )
    return exempt


# --------------------------------------------------------------------------------------------------------
# Section 301 (China)
# --------------------------------------------------------------------------------------------------------

S301_URL = "https://ilogixchb.com/section301"
S301_SOURCES = ["S107", "S108", "S109", "S110"]

#: What DOMAIN.md leaves open about the Section 301 lists (their confidence is "unconfirmed" for it).
S301_OPEN = (
    "DOMAIN.md 3a marks UNCONFIRMED whether Hong Kong-origin goods are covered, and 3d the exclusions' "
    "status after 2026-11-10."
)
#: (measure id, Yale list, heading, rate, from, to, priority, instrument, confidence, note)
S301_MEASURES: list[tuple[str, str, str, str, str, str | None, int, str, str, str]] = [
    ("s301-list1", "1", "9903.88.01", "0.25", "2018-07-06", None, 40,
     "USTR Notice of Action, 83 FR 28710 (2018-06-20): List 1 ($34 billion)", "unconfirmed", S301_OPEN),
    ("s301-list2", "2", "9903.88.02", "0.25", "2018-08-23", None, 41,
     "USTR Notice of Action, 83 FR 40823 (2018-08-16): List 2 ($16 billion)", "unconfirmed", S301_OPEN),
    ("s301-list3-10", "3", "9903.88.03", "0.10", "2018-09-24", "2019-05-10", 42,
     "USTR Notice of Modification, 83 FR 47974 (2018-09-21): List 3 ($200 billion) at 10%", "unconfirmed", S301_OPEN),
    ("s301-list3-25", "3", "9903.88.03", "0.25", "2019-05-10", None, 42,
     "USTR Notice of Modification, 84 FR 20459 (2019-05-09): List 3 raised to 25%", "unconfirmed", S301_OPEN),
    ("s301-list3-addl-10", "3_addl", "9903.88.04", "0.10", "2018-09-24", "2019-05-10", 43,
     "USTR Notice of Modification, 83 FR 47974 (2018-09-21): List 3 products of U.S. note 20(g)", "unconfirmed",
     "Heading 9903.88.04 carries List 3 products described in U.S. note 20(g) (partial 8-digit lines); DOMAIN gives "
     "'9903.88.03 (and .04)' with the List 3 dates, the product list is the Yale tracker's."),
    ("s301-list3-addl-25", "3_addl", "9903.88.04", "0.25", "2019-05-10", None, 43,
     "USTR Notice of Modification, 84 FR 20459 (2019-05-09): List 3 raised to 25%", "unconfirmed",
     "Heading 9903.88.04 carries List 3 products described in U.S. note 20(g) (partial 8-digit lines)."),
    ("s301-list4a-15", "4A", "9903.88.15", "0.15", "2019-09-01", "2020-02-14", 50,
     "USTR Notice of Modification, 84 FR 43304 (2019-08-20) and 84 FR 45821 (2019-08-30): List 4A at 15%", "unconfirmed",
     "DOMAIN.md gives List 4A only at 7.5% from 2020-02-14; the 15% period 2019-09-01 to 2020-02-13 is from the "
     "USTR notices and is UNCONFIRMED in DOMAIN."),
    ("s301-list4a", "4A", "9903.88.15", "0.075", "2020-02-14", None, 50,
     "USTR Notice of Modification, 85 FR 3741 (2020-01-22): List 4A reduced to 7.5% (Phase One agreement)", "unconfirmed", S301_OPEN),
]  # fmt: skip

#: 2024 four-year review (89 FR 76581): heading, Yale list, rate, from, priority.
#: Priorities order the 301 stacking group by rate (the review rates replace, not add to, a List rate).
S301_REVIEW: list[tuple[str, str, str, str, int, str]] = [
    ("9903.91.03", "biden_100", "1.00", "2024-09-27", 1, "EVs, syringes and needles 100% (2024)"),
    ("9903.91.08", "biden_jan26", "1.00", "2026-01-01", 2, "medical gloves 100% (2026)"),
    ("9903.91.02", "biden_50", "0.50", "2024-09-27", 3, "solar cells 50% (2024)"),
    (
        "9903.91.05",
        "biden_50_jan25",
        "0.50",
        "2025-01-01",
        4,
        "semiconductors, polysilicon/wafers, medical gloves 50% (2025)",
    ),
    ("9903.91.07", "biden_jan26", "0.50", "2026-01-01", 5, "textile face masks 50% (2026)"),
    (
        "9903.91.01",
        "biden_25",
        "0.25",
        "2024-09-27",
        6,
        "steel/aluminum products, critical minerals, EV batteries, masks 25% (2024)",
    ),
    ("9903.91.11", "biden_25_jan25", "0.25", "2025-01-01", 7, "tungsten products 25% (2025)"),
    (
        "9903.91.06",
        "biden_jan26",
        "0.25",
        "2026-01-01",
        8,
        "non-EV lithium-ion batteries, natural graphite, permanent magnets 25% (2026)",
    ),
]


#: 8-digit lines that the HTS footnotes give to a review heading and to List 4A at once, where the statistical
#: lines say which products the review covers: (heading, 8-digit line) -> the covered 10-digit lines.
S301_SPLITS = {
    # Face masks (2024 review, 25%): the mask statistical lines of 6307.90.98 (the same lines 9903.91.07 names in 2026).
    ("9903.91.01", "63079098"): ["6307909842", "6307909844", "6307909850", "6307909870", "6307909875"],
    # Lithium-ion EV batteries (2024 review, 25%): 8507.60.00.10 'of a kind used as the primary source of
    # electrical power for electrically powered vehicles'; other lithium-ion batteries stay on List 4A until 2026.
    ("9903.91.01", "85076000"): ["8507600010"],
}


def s301_scope(heading: str, yale: set[str], revisions: list[Hts]) -> Table:
    """Prefixes for one 301 heading: the Yale 8-digit list, sharpened with the HTS footnotes.

    An 8-digit line whose own footnote names the heading, or whose 10-digit lines all do, is listed at 8
    digits. Where the HTS names the heading only on some 10-digit lines of an 8-digit line, those 10-digit
    lines are listed instead. Yale lines the HTS does not mention stay at 8 digits; lines the HTS names but
    Yale lacks are added.
    """
    fn8: set[str] = set()
    fn10: set[str] = set()
    partial10: dict[str, set[str]] = defaultdict(set)
    for hts in revisions:
        eight, ten = hts.lines_naming(heading)
        fn8 |= eight
        fn10 |= ten
        for code in ten:
            if code[:8] in eight:
                continue
            siblings = hts.children.get(code[:8], [])
            if any(s not in ten for s in siblings):
                partial10[code[:8]].add(code)
    full = fn8 | ({c[:8] for c in fn10} - set(partial10))
    table = Table()
    for p8 in sorted(yale | full | set(partial10)):
        if (heading, p8) in S301_SPLITS:
            for p10 in S301_SPLITS[heading, p8]:
                table.add(p10, "hts-statistical-line")
        elif p8 in full:
            table.add(p8, "yale+hts" if p8 in yale else "hts-footnote")
        elif p8 in partial10:
            for p10 in sorted(partial10[p8]):
                table.add(p10, "yale+hts-10-digit" if p8 in yale else "hts-footnote-10-digit")
        else:
            table.add(p8, "yale")
    return table


def build_s301(shared: Path, out: Path, revisions: list[Hts], report: list[str]) -> tuple[list, list]:
    yale: dict[str, set[str]] = defaultdict(set)
    with (shared / "tariff_programs_yale" / "s301_product_lists.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["list"] != "4B":  # List 4B (9903.88.16) is suspended: not encoded
                yale[row["ch99_code"]].add(row["hts8"])
    measures: list[dict[str, Any]] = []
    written: dict[str, str] = {}

    def scope_file(heading: str) -> str:
        if heading in written:
            return written[heading]
        name = f"s301_{heading.replace('.', '_')}.csv"
        table = s301_scope(heading, yale[heading], revisions)
        count = table.write(out / name)
        report.append(f"s301 {heading}: {count} prefixes ({name})")
        written[heading] = name
        return name

    common_note = (
        "Origin CN only: Hong Kong-origin goods are a separate country of origin for duty purposes and are not "
        "charged (DOMAIN.md 3a: HK coverage UNCONFIRMED; shown at rate 0 by the measure of the same id + '-hk'). Product exclusions (9903.88.69/.70, extended to "
        "2026-11-10; status after that UNCONFIRMED) are described below the 10-digit level and are NOT encoded: an "
        "excluded product is charged. One 301 rate per line: where a line is on two lists the higher rate is "
        "charged (stacking group s301, priority by rate)."
    )
    for mid, _list, heading, rate, start, end, prio, instrument, conf, note in S301_MEASURES:
        entry: dict[str, Any] = {
            "id": mid, "component": "s301", "heading": heading, "origins": ["CN"],
            "hts_include_file": scope_file(heading), "rate": rate, "stacking_group": "s301",
            "priority": prio, "effective_from": D(start),
        }  # fmt: skip
        if end:
            entry["effective_to"] = D(end)
        entry["effective_time"] = one_minute_past_midnight(D(start))
        entry["confidence"] = conf
        entry["note"] = (note + " " if note else "") + common_note
        entry["citation"] = cite(
            instrument + "; Section 301, Trade Act of 1974 (19 U.S.C. 2411)",
            S301_URL,
            S301_SOURCES,
            f"heading {heading}; HTSUS subchapter III U.S. note 20",
        )
        measures.append(entry)

    review_note = (
        "2024 four-year review (89 FR 76581): the increased rate replaces, not adds to, a List 1-4A rate on the "
        "same line (one 301 rate per line: stacking group s301). Rates and dates per DOMAIN.md 3d; the 9903.91.xx "
        "headings are UNCONFIRMED in DOMAIN (they are those of the HTSUS 2025/2026 text and the Yale list)."
    )
    for heading, _list, rate, start, prio, what in S301_REVIEW:
        entry = {
            "id": "s301-review-" + heading.split(".")[-1],
            "component": "s301", "heading": heading, "origins": ["CN"],
            "hts_include_file": scope_file(heading), "rate": rate, "stacking_group": "s301",
            "priority": prio, "effective_from": D(start), "confidence": "unconfirmed",
            "note": f"{what}. {review_note} {common_note}",
            "citation": cite("USTR Notice of Modification (four-year review), 89 FR 76581 (2024-09-18); CSMS 62411889",
                             "https://greatlakescustomslaw.com/tag/trade/", ["S109", "S138", "S110"],
                             f"heading {heading}; HTSUS subchapter III U.S. note 31"),
        }  # fmt: skip
        if heading == "9903.91.03":
            enteral = Table()
            enteral.add("9018310080", "hts-9903.91.10", None, D("2026-01-01"))
            enteral.write(out / "s301_9903_91_03_exclude.csv")
            entry["hts_exclude_file"] = "s301_9903_91_03_exclude.csv"
            entry["note"] += (
                " Enteral syringes (9018.31.0080) are excepted before 2026-01-01 (heading 9903.91.10)."
            )
        measures.append(entry)

    # Hong Kong: whether Section 301 covers HK-origin goods is UNCONFIRMED (DOMAIN.md 3a). Not charged, but each
    # list is shown on HK lines at rate 0 and unconfirmed, so the doubt is visible in the components.
    measures += [
        {
            **entry,
            "id": entry["id"] + "-hk",
            "origins": ["HK"],
            "rate": "0",
            "confidence": "unconfirmed",
            "note": (
                f"Hong Kong-origin goods on the lines of {entry['id']} (heading {entry['heading']}): whether Section 301 "
                "covers them is UNCONFIRMED (DOMAIN.md 3a). Charged 0 (HK is a separate country of origin for duty "
                f"purposes), shown so that the doubt is visible; if covered, the duty is that of {entry['id']}."
            ),
            "assumption": (
                "Hong Kong-origin coverage UNCONFIRMED (DOMAIN.md 3a): not charged; if covered, "
                f"{(Decimal(entry['rate']) * 100).normalize():f}% as {entry['id']}"
            ),
        }
        for entry in list(measures)
    ]

    chassis = Table()
    for p in ("8716390090", "87169030", "87169050"):
        chassis.add(p, "hts-9903.91.12-text")
    chassis.write(out / "s301_9903_91_12.csv")
    gaps = [{
        "id": "gap-s301-chassis-2026-11-10", "component": "s301", "origins": ["CN"],
        "hts_include_file": "s301_9903_91_12.csv", "effective_from": D("2026-11-10"), "confidence": "unconfirmed",
        "note": ("Intermodal chassis and parts (8716.39.0090, 8716.90.30, 8716.90.50) of China: +100% for entries on or "
                 "after 2026-11-10 per the HTSUS 2026 Rev 10 text of heading 9903.91.12 (maritime 301 action, deferred "
                 "to that date under the 2025-11-04 US-China arrangement). Not in DOMAIN.md; whether it took effect on "
                 "2026-11-10 or was deferred again is UNCONFIRMED (DOMAIN.md 0, line 14: nothing found after "
                 "mid-2026), so these lines are flagged rather than charged. Ship-to-shore cranes (9903.92.10, "
                 "9903.91.14) are described below the HTS line and are not encoded (a crane in a parcel is not "
                 "plausible)."),
        "citation": cite("HTSUS 2026 Revision 10, heading 9903.91.12; USTR maritime Section 301 action", "https://hts.usitc.gov/",
                         ["S30"], "heading 9903.91.12"),
    }]  # fmt: skip
    return measures, gaps


# --------------------------------------------------------------------------------------------------------
# IEEPA reciprocal duties (EO 14257 as amended), 2025-04-05 to 2026-02-24
# --------------------------------------------------------------------------------------------------------

#: Country names used in the Chapter 99 heading texts and master_tariff_list.json, to ISO 3166-1 alpha-2.
COUNTRY_NAMES = {
    "Afghanistan": "AF", "Algeria": "DZ", "Angola": "AO", "Bangladesh": "BD", "Bolivia": "BO",
    "Bosnia and Herzegovina": "BA", "Botswana": "BW", "Brazil": "BR", "Brunei": "BN", "Cambodia": "KH",
    "Cameroon": "CM", "Chad": "TD", "China": "CN", "Costa Rica": "CR", "Côte d`Ivoire": "CI", "Côte d’Ivoire": "CI",
    "Democratic Republic of the Congo": "CD", "the Democratic Republic of the Congo": "CD", "Ecuador": "EC",
    "Equatorial Guinea": "GQ", "Falkland Islands": "FK", "Fiji": "FJ", "Ghana": "GH", "Guyana": "GY",
    "Iceland": "IS", "India": "IN", "Indonesia": "ID", "Iraq": "IQ", "Israel": "IL", "Japan": "JP", "Jordan": "JO",
    "Kazakhstan": "KZ", "Laos": "LA", "Lesotho": "LS", "Libya": "LY", "Liechtenstein": "LI", "Madagascar": "MG",
    "Malawi": "MW", "Malaysia": "MY", "Mauritius": "MU", "Moldova": "MD", "Mozambique": "MZ", "Myanmar": "MM",
    "Myanmar (Burma)": "MM", "Namibia": "NA", "Nauru": "NR", "New Zealand": "NZ", "Nicaragua": "NI", "Nigeria": "NG",
    "North Macedonia": "MK", "Norway": "NO", "Pakistan": "PK", "Papua New Guinea": "PG", "Philippines": "PH",
    "the Philippines": "PH", "Serbia": "RS", "South Africa": "ZA", "South Korea": "KR", "Sri Lanka": "LK",
    "Switzerland": "CH", "Syria": "SY", "Taiwan": "TW", "Thailand": "TH", "Trinidad and Tobago": "TT",
    "Tunisia": "TN", "Turkey": "TR", "Uganda": "UG", "the United Kingdom": "GB", "Vanuatu": "VU",
    "Venezuela": "VE", "Vietnam": "VN", "Zambia": "ZM", "Zimbabwe": "ZW",
    # master_tariff_list.json spellings
    "Sweden": "SE", "Finland": "FI", "Denmark, except Greenland": "DK", "Ireland": "IE", "Netherlands": "NL",
    "Belgium": "BE", "Luxembourg": "LU", "France": "FR", "Germany (Federal Republic of Germany)": "DE",
    "Austria": "AT", "Czech Republic": "CZ", "Slovakia": "SK", "Hungary": "HU", "Estonia": "EE", "Latvia": "LV",
    "Lithuania": "LT", "Poland": "PL", "Spain": "ES", "Portugal": "PT", "Malta": "MT", "Italy": "IT",
    "Croatia": "HR", "Slovenia": "SI", "Greece": "GR", "Romania": "RO", "Bulgaria": "BG", "Cyprus": "CY",
    "Syria (Syrian Arab Republic)": "SY", "Moldova (Republic of Moldova)": "MD", "Burma (Myanmar)": "MM",
    "Laos (Lao People's Democratic Republic)": "LA", "South Korea (Republic of Korea)": "KR",
    "Congo, Democratic Republic of the Congo (formerly Za": "CD", "Macao": "MO", "Hong Kong": "HK",
    "Canada": "CA", "Mexico": "MX", "United Kingdom": "GB", "Russia": "RU",
}  # fmt: skip

RECIP_URL = "https://www.mallorygroup.com/ieepa-reciprocal-tariffs"
ANNEX_I_INSTRUMENT = "Executive Order 14326 'Further Modifying the Reciprocal Tariff Rates' (2025-07-31; 90 FR 37963, FR Doc 2025-15010); CSMS 65829726"
ANNEX_I_URL = "https://www.federalregister.gov/documents/2025/08/06/2025-15010/further-modifying-the-reciprocal-tariff-rates"


def _countries(text: str) -> list[str]:
    """ISO codes of 'X', 'X or Y', 'X, Y, or Z' as written in a heading ('the European Union' = EU27)."""
    names = [n.strip() for n in re.split(r",\s*or\s+|,\s*|\s+or\s+", text) if n.strip()]
    codes: list[str] = []
    for name in names:
        codes += list(EU27) if name == "the European Union" else [COUNTRY_NAMES[name]]
    return codes


def _rate(general: str) -> str:
    match = re.search(r"(\d+(?:\.\d+)?)%", general)
    if not match:
        raise ValueError(f"no rate in {general!r}")
    rate = Decimal(match.group(1)) / 100
    return f"{rate:.2f}" if rate == rate.quantize(Decimal("0.01")) else format(rate, "f")


def country_headings(hts: Hts, first: str, last: str) -> list[tuple[str, str, list[str]]]:
    """(heading, rate, ISO codes) for the country-rate headings first..last of the HTSUS Chapter 99."""
    out = []
    for heading, (general, description) in sorted(hts.ch99.items()):
        if not first <= heading <= last:
            continue
        match = re.search(
            r"articles the product of (.+?)(?:,? as provided| with an|, that are|$)", description
        )
        if not match or "%" not in general:
            continue
        names = match.group(1).replace(", including Hong Kong and Macau", "")
        out.append((heading, _rate(general), _countries(names)))
    return out


def master_adjustments(shared: Path, authority: str, name: str) -> list[tuple[str, str, str]]:
    """(ISO, date, rate) country adjustments of one program in master_tariff_list.json (cross-check only)."""
    data = json.loads((shared / "tariff_programs_yale" / "master_tariff_list.json").read_text())
    out = []
    for program in data:
        if program["tariff_authority"] == authority and program["tariff_name"] == name:
            for item in program["effective_date"]:
                if "country_name" in item:
                    out.append(
                        (COUNTRY_NAMES[item["country_name"]], item["adjust_date"], str(item["adjust_rate"]))
                    )
    return out


def subheading_of(code: str, revisions: list[Hts]) -> str:
    """The 8-digit subheading a 10-digit list entry stands for, else the entry itself.

    The tracker writes an 8-digit subheading of an annex as its 10 digits with ``00`` (0901.22.00 as
    0901220000). Such an entry is the whole subheading where no export has that 10-digit line, or where it is
    the subheading's only statistical line (1801.00.00.00 in 2025, split into .10 and .90 in 2026). Kept at
    10 digits, a line declared at 8 digits read as partly listed (``needs-longer-hts``) where the subheading is
    the tariff line.
    """
    subheading = code[:8]
    if len(code) != 10 or not code.endswith("00") or not any(subheading in h.codes for h in revisions):
        return code
    if all(code not in h.codes or h.children[subheading] == [code] for h in revisions):
        return subheading
    return code


def add_whole_subheadings(table: Table, revisions: list[Hts], source: str) -> int:
    """Add to ``table`` each 8-digit subheading whose every statistical line it lists for one period (in each
    export that has the subheading): a line declared at those 8 digits is then listed, not left open for the
    longer code. Returns how many were added."""
    periods: dict[tuple[str, str], set[str]] = defaultdict(set)
    for prefix, start, end in table.rows:
        periods[(start, end)].add(prefix)
    added = 0
    for (start, end), prefixes in sorted(periods.items()):
        for subheading in sorted({p[:8] for p in prefixes if len(p) == 10} - prefixes):
            lines = [set(h.children[subheading]) for h in revisions if h.children.get(subheading)]
            if lines and all(found <= prefixes for found in lines):
                table.add(
                    subheading,
                    f"{source}-all-statistical-lines-of-{subheading}",
                    D(start) if start else None,
                    D(end) if end else None,
                )
                added += 1
    return added


#: The stacking group of the zero-rate measures that mark informational materials (50 U.S.C. 1702(b)(3)): every
#: IEEPA duty is not_with it.
INFO_GROUP = "ieepa_informational"
#: The stacking group of the zero-rate measure that marks products of the United States (U.S. content, 9903.01.34):
#: the reciprocal duties are not_with it.
US_CONTENT_GROUP = "ieepa_us_content"
#: The rows of the tracker's Annex II list that are informational materials (heading 9903.01.31, not Annex II's
#: 9903.01.32): chapter 49 (books, newspapers, pictures, maps, printed matter) and headings 9701-9706 (paintings,
#: prints, sculptures, stamps, collections, antiques), which the tracker lists undated beside the annex.
INFORMATIONAL_PREFIXES = ("49", "9701", "9702", "9703", "9704", "9705", "9706")
#: Where the informational materials table comes from (each row keeps the tracker's own source tag too).
INFO_FILE = "ieepa_informational_materials.csv"


def annex_ii_tables(shared: Path, revisions: list[Hts], report: list[str]) -> tuple[Table, Table]:
    """The tracker's reciprocal exemption list (``ieepa_exempt_products.csv``), dated, split in two: the Annex II
    products (9903.01.32) and the informational materials (9903.01.31, :data:`INFORMATIONAL_PREFIXES`), which the
    tracker merges. An informational row must be undated (exempt from the first day of every IEEPA duty): a dated
    one would be an annex addition this split misreads, so it is refused."""
    annex = Table()
    with (shared / "tariff_programs_yale" / "ieepa_exempt_products.csv").open() as handle:
        for row in csv.DictReader(handle):
            code = row["hts10"]
            source = "yale-annex-ii"
            if len(code) > 10:
                code, source = code[:10], "yale-annex-ii-truncated-from-" + row["hts10"]
            elif (subheading := subheading_of(code, revisions)) != code:
                code, source = subheading, "yale-annex-ii-subheading-written-" + code
            start = None if row["effective_date_start"] == "NA" else D(row["effective_date_start"])
            # The tracker's end date is the last exempt day (removals end 2025-07-31, 09-07, 10-13, the eves of
            # the copper, EO 14346 and wood actions); the pack's periods end on the first day without the rule.
            end = (
                None
                if row["effective_date_end"] == "NA"
                else D(row["effective_date_end"]) + dt.timedelta(days=1)
            )
            annex.add(code, source, start, end)
    whole = add_whole_subheadings(annex, revisions, "yale-annex-ii")
    info = Table()
    for key, source in list(annex.rows.items()):
        prefix, start, end = key
        if prefix.startswith(INFORMATIONAL_PREFIXES):
            if start or end:
                raise ValueError(
                    f"informational material {prefix} is dated in the tracker's list ({start}, {end})"
                )
            info.rows[key] = source
            del annex.rows[key]
    listed = info.prefixes()
    unlisted = sorted(
        {c for h in revisions for c in h.codes if len(c) == 10 and c.startswith(INFORMATIONAL_PREFIXES)}
        - {c for c in (c for h in revisions for c in h.codes) if any(c.startswith(p) for p in listed)}
    )
    report.append(
        f"ieepa reciprocal exemption list: {whole} subheadings whose every statistical line is listed"
    )
    report.append(
        f"informational materials: {len(listed)} prefixes; statistical lines of chapter 49 and 9701-9706 not "
        f"listed: {len(unlisted)} {unlisted[:8]}"
    )
    return annex, info


def build_reciprocal(  # noqa: PLR0912, PLR0915 (one program, written out in order)
    shared: Path, out: Path, revisions: list[Hts], annex: Table, report: list[str]
) -> tuple[list, list]:
    hts26 = revisions[-1]
    not_with = [*S232_GROUPS, "ieepa_reciprocal_exempt", INFO_GROUP, US_CONTENT_GROUP]
    annex_ii_note = (
        "Annex II products (heading 9903.01.32, dated list) are exempt through the zero-rate measure "
        "ieepa-reciprocal-annex-ii, Section 232 goods (9903.01.33) through not_with the s232 groups, informational "
        "materials (50 U.S.C. 1702(b)(3); 9903.01.31) through not_with group ieepa_informational (measures/"
        "ieepa_informational.toml) and products of the United States (U.S. content, 9903.01.34) through not_with "
        "group ieepa_us_content (ieepa-reciprocal-us-content). Goods in transit, the U.S. content of goods of "
        "other origins, transshipment (+40%, 9903.02.01), donations and accompanied baggage cannot be seen in a "
        "manifest and are not encoded. For a 232 derivative on a metal-content base "
        "the whole line is treated as 232-covered (the non-metal content's reciprocal duty is the coverage gap "
        "gap-s232-non-metal-content)."
    )
    measures: list[dict[str, Any]] = []

    # Annex II exemption list (dated), as a zero-rate measure that the reciprocal measures are not_with.
    report.append(
        f"ieepa reciprocal Annex II: {annex.write(out / 'ieepa_reciprocal_annex_ii.csv')} dated prefixes"
    )
    measures.append({
        "id": "ieepa-reciprocal-annex-ii", "component": "ieepa_reciprocal", "heading": "9903.01.32",
        "origins": ["*"], "origins_exclude": ["CA", "MX", *COLUMN2],
        "hts_include_file": "ieepa_reciprocal_annex_ii.csv", "rate": "0", "stacking_group": "ieepa_reciprocal_exempt",
        "priority": 0, "effective_from": D("2025-04-05"), "effective_to": IEEPA_END,
        "effective_time": "12:01 a.m. EDT on 2025-04-05 to " + IEEPA_END_TIME, "confidence": "unconfirmed",
        "note": ("Annex II of EO 14257 as amended (energy, pharmaceuticals, semiconductors, critical minerals, the "
                 "2025-04-11 electronics memorandum retroactive to 2025-04-05, later additions and removals with "
                 "their dates, e.g. agricultural products from 2025-11-13): these lines report 9903.01.32 and owe "
                 "no reciprocal duty. This zero-rate measure marks them; every reciprocal measure (and the India "
                 "Russian-oil duty, 9903.01.86) is not_with its group. The list is the Yale tracker's compilation of "
                 "the annex (one 12-digit entry truncated to 10 digits); UNCONFIRMED against the annex text. The "
                 "tracker's list also holds chapter 49 and headings 9701-9706 (undated): informational materials, "
                 "exempt under 9903.01.31 (50 U.S.C. 1702(b)(3)), not 9903.01.32, so they are left out of this "
                 "list and marked by the ieepa-1702b-informational-materials measures (measures/ieepa_informational.toml)."),
        "citation": cite("Executive Order 14257 (90 FR 15041), Annex II, as amended (EO 14346 etc.); HTSUS subchapter III U.S. note 2(v)(iii)",
                         RECIP_URL, ["S18", "S111", "S113"], "heading 9903.01.32"),
    })  # fmt: skip
    us_content = excepted_heading(
        "9903.01.25", "9903.01.34", "The U.S. content of articles the product of any country", revisions
    )
    measures.append({
        "id": "ieepa-reciprocal-us-content", "component": "ieepa_reciprocal", "heading": us_content,
        "origins": ["US"], "rate": "0", "stacking_group": US_CONTENT_GROUP, "priority": 0,
        "effective_from": D("2025-04-05"), "effective_to": IEEPA_END,
        "effective_time": "12:01 a.m. EDT on 2025-04-05 to " + IEEPA_END_TIME, "confidence": "unconfirmed",
        "note": ("Products of the United States (country_of_origin US, returned American goods say) owe no "
                 "reciprocal duty: heading 9903.01.34 reads 'The U.S. content of articles the product of any "
                 "country, in which the U.S. content of the article provides at least 20 percent of the Customs "
                 "value of the imported article' with nothing added, and 9903.01.25 and every country heading "
                 "except 'as provided for in heading 9903.01.34' (HTSUS texts in ../shared/data/usitc_hts, 2025 Rev "
                 "32 and 2026 Rev 10, which the build checks). A product of the United States is read as all U.S. "
                 "content, so none of its value owes the duty: this zero-rate measure marks such lines, and every "
                 "reciprocal measure is not_with its group. NOT in DOMAIN.md, so unconfirmed. Not encoded: the U.S. "
                 "content of goods of other origins (no manifest field gives the share), and whether goods of Puerto "
                 "Rico, the U.S. Virgin Islands, Guam, American Samoa or the other insular possessions count as U.S. "
                 "goods here (DOMAIN.md and the heading texts do not say): they are charged as other origins. Section "
                 "122 (9903.03.01) has no U.S.-content heading: U.S.-origin goods pay the surcharge."),
        "citation": cite("Executive Order 14257 (90 FR 15041) as amended; HTSUS subchapter III U.S. note 2(v)", "https://hts.usitc.gov/",
                         [], f"heading {us_content}"),
    })  # fmt: skip

    base = {"component": "ieepa_reciprocal", "stacking_group": "ieepa_reciprocal", "not_with": not_with}
    measures.append({
        "id": "ieepa-reciprocal-baseline", **base, "heading": "9903.01.25", "origins": ["*"],
        "origins_exclude": ["CA", "MX", *COLUMN2], "rate": "0.10", "priority": 100,
        "effective_from": D("2025-04-05"), "effective_to": IEEPA_END,
        "effective_time": "12:01 a.m. EDT on 2025-04-05 to " + IEEPA_END_TIME, "confidence": "confirmed",
        "note": ("10% baseline for every origin without its own rate (country rates share the stacking group with "
                 "priority 10 and replace it). CA and MX are outside the reciprocal regime (IEEPA border duties "
                 "instead); column-2 countries (CU, KP, RU, BY: 9903.01.29) are exempt. CN/HK/MO pay this 10% "
                 "from 2025-05-14 (EO 14298; held at 10% by the 2025-11-04 orders). All IEEPA duties stopped for "
                 "entries from 2026-02-24 12:00 a.m. EST (Learning Resources v. Trump; CSMS 67834313). " + annex_ii_note),
        "citation": cite("Executive Order 14257 (90 FR 15041), 2025-04-02; ended by EO 'Ending Certain Tariff Actions' (2026-02-20), CSMS 67834313",
                         "https://www.thompsoncoburn.com/insights/trump-imposes-10-reciprocal-tariffs-on-all-countries-enhanced-tariffs-on-certain-countries-with-higher-u-s-trade-deficit/",
                         ["S05", "S111", "S113", "S37"], "heading 9903.01.25"),
    })  # fmt: skip

    # China, Hong Kong, Macau: 84% on 2025-04-09, 125% 2025-04-10 to 2025-05-13, then the 10% baseline.
    cn = ["CN", "HK", "MO"]
    cn_note = (
        "Heading 9903.01.63 covers 'articles the product of China, including Hong Kong and Macau'. DOMAIN.md 3c "
        "lists 34% for 04-09 then 84% and 125%; the 34% announced on 2025-04-02 for 2025-04-09 was raised to 84% by "
        "EO 14259 (signed 2025-04-08) before it took effect, so 84% applied on 2025-04-09 (master_tariff_list.json "
        "agrees: 84% from 04-09, 125% from 04-10, 10% from 05-14); the heading text now reads 34% (suspended "
        "to 10% by EO 14298). Macau is not named in DOMAIN.md 3c but is in the heading text and the Geneva row. "
    )
    measures.append({
        "id": "ieepa-reciprocal-cn-84", **base, "heading": "9903.01.63", "origins": cn, "rate": "0.84",
        "priority": 10, "effective_from": D("2025-04-09"), "effective_to": D("2025-04-10"),
        "effective_time": "12:01 a.m. EDT", "confidence": "conflict",
        "note": cn_note + annex_ii_note,
        "citation": cite("Executive Order 14259 (2025-04-08; FR Doc 2025-06378)", RECIP_URL,
                         ["S18", "S14", "S15", "S113"], "heading 9903.01.63"),
    })  # fmt: skip
    measures.append({
        "id": "ieepa-reciprocal-cn-125", **base, "heading": "9903.01.63", "origins": cn, "rate": "1.25",
        "priority": 10, "effective_from": D("2025-04-10"), "effective_to": D("2025-05-14"),
        "effective_time": "12:01 a.m. EDT", "confidence": "confirmed",
        "note": "125% until EO 14298 (Geneva, 2025-05-12) cut it to 10% from 2025-05-14 12:01 a.m. EDT. " + cn_note + annex_ii_note,
        "citation": cite("Executive Order 14266 (2025-04-09); Executive Order 14298 (2025-05-12)",
                         "https://www.greenworldwide.com/new-executive-order-on-china-trade-temporary-tariff-relief-for-u-s-importers-begins-may-14/",
                         ["S14", "S15", "S16", "S113"], "heading 9903.01.63"),
    })  # fmt: skip

    # 2025-04-09 only: the country-specific rates took effect at 12:01 a.m. EDT and were paused from 2025-04-10.
    for heading, rate, codes in country_headings(hts26, "9903.01.43", "9903.01.76"):
        if "CN" in codes:
            continue
        measures.append({
            "id": f"ieepa-reciprocal-{heading.split('.')[-1]}-2025-04-09", **base, "heading": heading,
            "origins": codes, "rate": rate, "priority": 10,
            "effective_from": D("2025-04-09"), "effective_to": D("2025-04-10"), "effective_time": "12:01 a.m. EDT",
            "confidence": "conflict",
            "note": ("Country-specific rate of EO 14257 Annex I in force for entries on 2025-04-09 only: the 90-day "
                     "pause (EO 14266) applied from 2025-04-10. DOMAIN.md 3c shows only the 10% baseline in force "
                     "from 04-05 to 08-06 while its timeline dates the pause from 04-10 (CONFLICT); rate and "
                     "countries are from the HTSUS text of this heading. Goods loaded before 04-09 and entered "
                     "before 05-27 kept 10% (not detectable). " + annex_ii_note),
            "citation": cite("Executive Order 14257 (90 FR 15041), Annex I; paused by EO 14266 (2025-04-09)", RECIP_URL,
                             ["S18", "S111", "S112", "S113"], f"heading {heading}"),
        })  # fmt: skip

    # From 2025-08-07: Annex I of EO 14326 (headings 9903.02.02-.71), with later changes.
    eu_jp = {"EU": ("9903.02.20", list(EU27)), "JP": ("9903.02.73", ["JP"])}
    #: The heading of goods whose column 1 rate is 15% or more (nothing added), beside each all-in heading: the
    #: HTSUS texts' pairs (heading_at_or_above checks them).
    all_in_at_or_above = {
        "9903.02.20": "9903.02.19",
        "9903.02.73": "9903.02.72",
        "9903.02.80": "9903.02.79",
        "9903.02.83": "9903.02.82",
        "9903.02.88": "9903.02.87",
    }
    # None of the three is in DOMAIN.md (3c has no CH or LI row, and KR's reads a plain 15% with no later change):
    # the formula is the HTSUS heading text's, the date the Yale tracker's, so each is unconfirmed.
    later_top_up = {  # origin: (top-up heading, top-up start, instrument, where the start date comes from)
        "CH": (
            "9903.02.83",
            "2025-11-14",
            "Implementing the U.S.-Switzerland-Liechtenstein framework (FR Doc 2025-23316)",
            "tariff_programs_yale/master_tariff_list.json: Switzerland 39% -> 15% from 2025-11-14; the heading is in "
            "the 2026 Rev 10 export, not in 2025 Rev 32",
        ),
        "LI": (
            "9903.02.88",
            "2025-11-14",
            "Implementing the U.S.-Switzerland-Liechtenstein framework (FR Doc 2025-23316)",
            "Switzerland's date under the same framework (master_tariff_list.json has no Liechtenstein change); the "
            "heading is in the 2026 Rev 10 export, not in 2025 Rev 32",
        ),
        "KR": (
            "9903.02.80",
            "2025-11-14",
            "Implementing the U.S.-Korea Strategic Trade and Investment Deal (FR Doc 2025-21940)",
            "usitc_hts/revision_dates.csv rev_32: 'S. Korea floor (15%) ... legally retroactive to Nov 14'",
        ),
    }
    #: Origins with a row of their own in DOMAIN.md 3c (the Annex I rates of the others are the HTSUS texts').
    domain_3c = {"VN", "IN", "TH", "KR", "GB", "TW", "MY", "ID", "TR", "PK", "BD"}
    encoded: dict[str, str] = {}
    for heading, rate, codes in country_headings(hts26, "9903.02.02", "9903.02.71"):
        if len(codes) > 1:
            continue  # the European Union: the all-in formula (9903.02.19/.20), below
        (code,) = codes
        if code == "JP":
            continue  # replaced retroactively by the JP all-in formula (9903.02.73)
        end = D(later_top_up[code][1]) if code in later_top_up else IEEPA_END
        note = (
            f"Annex I rate of EO 14326 for {code} from 2025-08-07 (goods loaded before 08-07 and entered before "
            "10-05 kept the earlier rate: not detectable). "
        )
        conf = "confirmed"
        if code not in domain_3c:
            note += (
                "Rate not in DOMAIN.md's table (3c: 'Rates for other countries are in [S18]'): the HTSUS heading text "
                f"of {heading} (../shared/data/usitc_hts/hts_2026_rev_10.json.gz), which confirms it. "
            )
        if code == "IN":
            conf = "unconfirmed"
            note += (
                "A cut to 18% was announced in February 2026 with an unclear implementing date (DOMAIN.md 3c): "
                "25% is kept to 2026-02-24 (master_tariff_list.json also keeps 25%). The separate 25% "
                "Russian-oil duty is ieepa-india-russian-oil. "
            )
        if code == "TW":
            conf = "unconfirmed"
            note += "A later Taiwan deal is UNCONFIRMED (DOMAIN.md 3c); 20% is kept. "
        if code == "VN":
            note += "Transshipped goods 40% (9903.02.01): not detectable. "
        if code == "BR":
            note += "The separate 40% Brazil duty is ieepa-brazil-40. "
        if code in later_top_up:
            note += (
                f"Replaced from {later_top_up[code][1]} by the 15% all-in formula ({later_top_up[code][0]}). "
            )
            conf = "unconfirmed"
            note += (
                ("The rate is DOMAIN.md's (3c). " if code in domain_3c else "")
                + "The end date, the date of the all-in formula, is NOT in DOMAIN.md (from ../shared/data/"
                f"{later_top_up[code][3]}): UNCONFIRMED. "
            )
        encoded[code] = rate
        measures.append({
            "id": f"ieepa-reciprocal-{code.lower()}-annex-i", **base, "heading": heading, "origins": [code],
            "rate": rate, "priority": 10, "effective_from": D("2025-08-07"), "effective_to": end,
            "effective_time": "12:01 a.m. EDT" + (" to 12:00 a.m. EST on 2026-02-24" if end == IEEPA_END else ""),
            "confidence": conf, "note": note + annex_ii_note,
            "citation": cite(ANNEX_I_INSTRUMENT, ANNEX_I_URL, ["S114", "S115", "S18"], f"heading {heading}"),
        })  # fmt: skip
    for key, (heading, origins) in eu_jp.items():
        what = "the European Union" if key == "EU" else "Japan"
        above = heading_at_or_above(heading, all_in_at_or_above[heading], "0.15", revisions)
        measures.append({
            "id": f"ieepa-reciprocal-{key.lower()}-all-in", **base, "heading": heading, "origins": origins,
            "rate": "0.15", "rate_rule": "top_up", "heading_at_or_above_rate": above, "priority": 10,
            "effective_from": D("2025-08-07"), "effective_to": IEEPA_END, "effective_time": "12:01 a.m. EDT",
            "confidence": "confirmed",
            "note": (f"'15% all-in' for products of {what}: the reciprocal duty is 15% minus the column 1 rate "
                     f"where that rate is below 15% (heading {heading}) and 0 where it is 15% or more (heading "
                     f"{above}, which such a line's component reports: heading_at_or_above_rate). "
                     + ("The EU exemptions of 9903.02.74-.77 (from 2025-09-01: certain natural resources, civil "
                        "aircraft, generic pharmaceuticals) are not encoded. " if key == "EU" else
                        "The Annex I rate of 15% (9903.02.30) was replaced retroactively to 2025-08-07 by this formula "
                        "(DOMAIN.md 3c). ")
                     + annex_ii_note),
            "citation": cite(ANNEX_I_INSTRUMENT + ("" if key == "EU" else "; EO implementing the U.S.-Japan agreement (FR Doc 2025-17908)"),
                             ANNEX_I_URL, ["S115", "S105", "S23"], f"headings {heading}, {above}"),
        })  # fmt: skip
    for code, (heading, start, instrument, dated_by) in later_top_up.items():
        above = heading_at_or_above(heading, all_in_at_or_above[heading], "0.15", revisions)
        measures.append({
            "id": f"ieepa-reciprocal-{code.lower()}-all-in", **base, "heading": heading, "origins": [code],
            "rate": "0.15", "rate_rule": "top_up", "heading_at_or_above_rate": above, "priority": 10,
            "effective_from": D(start), "effective_to": IEEPA_END, "confidence": "unconfirmed",
            "note": (f"'15% all-in' formula for {code} from {start} (15% minus the column 1 rate, 0 where that is 15% or "
                     f"more: heading {above}, which such a line's component reports). NOT in DOMAIN.md, so "
                     f"unconfirmed: the formula and both headings are the HTSUS heading texts of {heading} and {above} "
                     "(../shared/data/usitc_hts/hts_2026_rev_10.json.gz), the date from ../shared/data/"
                     f"{dated_by}. No source tag of DOMAIN.md supports it (sources left empty; its Section 232 "
                     "exemption heading 9903.01.33 is DOMAIN.md's, 3c [S113][S99], and says nothing of this measure). "
                     + annex_ii_note),
            "citation": cite(instrument, "https://hts.usitc.gov/", [], f"headings {heading}, {above}"),
        })  # fmt: skip

    # Cross-check against master_tariff_list.json (fork data): report differences.
    for code, date, rate in master_adjustments(shared, "ieepa", "reciprocal"):
        if date == "2025-08-07" and code not in EU27 and code != "JP":
            mine = encoded.get(code)
            if mine is None or abs(float(mine) - float(rate)) > 1e-9:
                report.append(f"reciprocal cross-check: master {code} {rate} on {date}, encoded {mine}")

    measures.append({
        "id": "ieepa-india-russian-oil", "component": "ieepa_india", "heading": "9903.01.84", "origins": ["IN"],
        "rate": "0.25", "stacking_group": "ieepa_india", "not_with": [*S232_GROUPS, "ieepa_reciprocal_exempt", INFO_GROUP],
        "not_with_headings": {INFO_GROUP: excepted_heading("9903.01.84", "9903.01.89", "the product of India that are informational materials", revisions)},
        "effective_from": D("2025-08-27"), "effective_to": D("2026-02-07"), "effective_time": "12:01 a.m. EDT",
        "confidence": "confirmed",
        "note": ("Additional 25% on products of India (Russian-oil order, EO 14329), on top of the 25% reciprocal "
                 "rate (50% together); removed from 2026-02-07 (DOMAIN.md 1). DOMAIN.md 3c dates it 'from Aug 2025' "
                 "and gives no heading: heading, rate and day are the HTSUS text of 9903.01.84 (../shared/data/usitc_hts: "
                 "2025 Rev 32, '+ 25%' on goods entered 'after 12:01 a.m. eastern daylight time on August 27, 2025'; "
                 "2026 Rev 10, 'provision terminated as of February 7, 2026'). Exempt: Annex II products (9903.01.86), "
                 "Section 232 goods (9903.01.87) and informational materials (9903.01.89: not_with group "
                 "ieepa_informational, the heading from the HTSUS text); in-transit goods and donations not "
                 "detectable."),
        "citation": cite("Executive Order 14329 (2025-08-06); notice FR Doc 2025-16419; removed by EO of 2026-02-06",
                         "https://www.federalregister.gov/documents/2025/08/27/2025-16419/notice-of-implementation-of-additional-duties-on-products-of-india-pursuant-to-the-presidents",
                         ["S114", "S118", "S119"], "heading 9903.01.84"),
    })  # fmt: skip
    measures.append({
        "id": "ieepa-brazil-40", "component": "ieepa_brazil", "heading": "9903.01.77", "origins": ["BR"],
        "rate": "0.40", "stacking_group": "ieepa_brazil", "not_with": [*S232_GROUPS, INFO_GROUP],
        "not_with_headings": {INFO_GROUP: excepted_heading("9903.01.77", "9903.01.80", "the product of Brazil that are informational materials", revisions)},
        "effective_from": D("2025-08-06"), "effective_to": IEEPA_END,
        "effective_time": "12:01 a.m. EDT on 2025-08-06 to " + IEEPA_END_TIME, "confidence": "unconfirmed",
        "note": ("40% on products of Brazil (EO 14323), in addition to the 10% reciprocal rate (Annex I, 9903.02.09). "
                 "master_tariff_list.json dates the combined 50% from 2025-08-07 (the Annex I date); EO 14323 and "
                 "CSMS 65807735 give 2025-08-06 12:01 a.m. EDT, used here. Not on Section 232 goods (9903.01.83) nor "
                 "on informational materials (9903.01.80, the HTSUS text's heading: not_with group ieepa_informational). "
                 "The order's own exemption annex (9903.01.81: civil aircraft, energy, orange juice, wood pulp, "
                 "etc.) and the November 2025 agricultural exemptions are NOT in the data and not encoded, so "
                 "those goods are over-charged here. Ended 2026-02-24 (DOMAIN.md 3g)."),
        "citation": cite("Executive Order 14323 'Addressing Threats to the United States by the Government of Brazil' (2025-07-30; 90 FR 37739); CSMS 65807735",
                         "https://www.mondaq.com/unitedstates/international-trade-investment/1661550/administration-implements-40-ieepa-tariffs-on-brazil",
                         ["S120", "S37", "S48"], "heading 9903.01.77"),
    })  # fmt: skip
    # DOMAIN.md 3c: "232-covered goods were exempt from reciprocal via 9903.01.33 [S113][S99]". The Annex II
    # heading (9903.01.32) and the India and Brazil duties' 232 headings are not in DOMAIN.md: none given. The tags
    # go to a measure's own sources only where DOMAIN.md has the measure (sources given): for one it lacks
    # (sources = []) they would seem to support a rate and date they say nothing of.
    s232_heading = dict.fromkeys(S232_GROUPS, "9903.01.33")
    measures = [
        exemption_headings(m, ["S113", "S99"] if m["citation"]["sources"] else [], not_with=s232_heading)
        if m["stacking_group"] == "ieepa_reciprocal"
        else m
        for m in measures
    ]
    # The informational materials' and U.S. content's headings are the HTSUS texts' (not DOMAIN.md's: no source
    # tag is added), checked against each measure's own heading text.
    for m in measures:
        if m["stacking_group"] == "ieepa_reciprocal":
            m["not_with_headings"] = {
                **m["not_with_headings"],
                INFO_GROUP: excepted_heading(
                    m["heading"], "9903.01.31", "Articles that are informational materials", revisions
                ),
                US_CONTENT_GROUP: excepted_heading(
                    m["heading"], "9903.01.34", "The U.S. content of articles", revisions
                ),
            }
    return measures, []


# --------------------------------------------------------------------------------------------------------
# IEEPA "fentanyl / border" duties on CA and MX (the CN/HK measures are in tariff.toml)
# --------------------------------------------------------------------------------------------------------


#: The heading of informational materials beside each IEEPA border duty (the HTSUS texts': excepted_heading checks
#: each against the duty's own heading).
INFO_HEADING_OF = {"CN": "9903.01.22", "CA": "9903.01.12", "MX": "9903.01.03"}
#: How those headings name the origins.
COUNTRY_OF = {"CN": "China and Hong Kong", "CA": "Canada", "MX": "Mexico"}


#: Why the USMCA heading of the CA fentanyl measures is written as DOMAIN.md gives it, and what reads otherwise.
CA_USMCA_HEADING_NOTE = (
    "A USMCA claim shows the exemption without a heading. CONFLICT: DOMAIN.md 3b gives 9903.01.26 for USMCA goods "
    "of Canada, but the HTSUS text of 9903.01.26 (2025 Rev 32, 2026 Rev 10) reads 'Articles the product of "
    "Canada, as provided for in subdivision (v)(iv) of U.S. note 2' (a reciprocal-duty subdivision), while "
    "9903.01.14 reads 'Articles that are entered free of duty under the terms of general note 11 ... as related "
    "to the USMCA'; which heading a claimed line reports is not settled here, so none is written."
)


def build_fentanyl(revisions: list[Hts]) -> tuple[list, list]:
    # The CN/HK fentanyl measures (ieepa-fentanyl-cn-10, -cn-20, -cn-10-nov) stay in tariff.toml, where the loader
    # tests expect them; they stack with 232, 301 and the reciprocal duty (EO 14289 orders only the CA/MX duties).
    measures: list[dict[str, Any]] = []
    border_not_with = ["s232_autos", "s232_steel", "s232_aluminum", "s232_wood"]
    stacking = (
        "Stacking (EO 14289, 90 FR 18907): from 2025-06-04 not charged where a Section 232 autos/parts, "
        "steel/aluminum or wood duty applies (EO 14289 as amended 2025-06-04: autos > steel/aluminum > CA > MX, "
        "only the highest-priority duty; wood > CA/MX): not_with those groups. Before 2025-06-04 (EO 14289 as "
        "first issued 2025-04-29, for entries from 2025-03-04) autos > CA/MX > steel/aluminum: this duty is not "
        "charged where the 232 autos/parts duty applies, and the 232 steel/aluminum duty is not charged where this "
        "one applies (the steel/aluminum measures of 2025-03-12 to 2025-06-03 are not_with group "
        f"{BORDER_GROUP}). DOMAIN.md 1 dates the revision of the order 2025-06-04 and 3b/3e give the amended "
        "order; the order before it is from the sources of that row (S95: the June EO 'revises the tariff "
        "stacking hierarchy promulgated at the end of April' for goods under both; the April EO: 'items subject "
        "to the IEEPA tariffs on Canada or Mexico will not be subject to the Section 232 tariffs on aluminum or "
        "steel'), not stated in DOMAIN.md: the steel/aluminum measures of that period are unconfirmed. Copper 232 "
        "goods are not exempted here (DOMAIN.md is silent: UNCONFIRMED; the charge on a Canadian copper line "
        "keeps this measure's confidence, as one heading has one entry per origin and day). "
    )
    ca_url = "https://www.mondaq.com/canada/international-trade-investment/1662276/ieepa-tariffs-on-canada-increased-to-35"
    mx_url = "https://www.mondaq.com/uk/international-trade-investment/1677524/fentanyl-tariffs"
    periods = [
        ("ca-25-pre-usmca", "CA", "9903.01.10", "0.25", "2025-03-04", "2025-03-07", False, "12:01 a.m. EST"),
        ("ca-25-to-jun-3", "CA", "9903.01.10", "0.25", "2025-03-07", "2025-06-04", True, "12:01 a.m. EST"),
        ("ca-25", "CA", "9903.01.10", "0.25", "2025-06-04", "2025-08-01", True, "12:01 a.m. EDT"),
        (
            "ca-35",
            "CA",
            "9903.01.10",
            "0.35",
            "2025-08-01",
            None,
            True,
            "12:01 a.m. EDT on 2025-08-01 to " + IEEPA_END_TIME,
        ),
        ("mx-25-pre-usmca", "MX", "9903.01.01", "0.25", "2025-03-04", "2025-03-07", False, "12:01 a.m. EST"),
        ("mx-25-to-jun-3", "MX", "9903.01.01", "0.25", "2025-03-07", "2025-06-04", True, "12:01 a.m. EST"),
        (
            "mx-25",
            "MX",
            "9903.01.01",
            "0.25",
            "2025-06-04",
            None,
            True,
            "12:01 a.m. EDT on 2025-06-04 to " + IEEPA_END_TIME,
        ),
    ]
    for suffix, origin, heading, rate, start, end, usmca, time in periods:
        if origin == "CA":
            what = (
                "Canada: 25% from 2025-03-04 (EO 14193 as amended by EO 14226), 35% from 2025-08-01 (EO of "
                "2025-07-31, CSMS 65798609). Transshipped goods 40% (9903.01.16) cannot be detected from a "
                "manifest and are charged the ordinary rate. Energy and potash at 10% (9903.01.13/.15) are the "
                "gap gap-ieepa-ca-energy-potash. "
            )
            if rate == "0.35":
                instrument = "Executive Orders 14193 and 14226 (CA), as amended 2025-07-31; CSMS 65798609"
                sources, url = ["S116", "S117", "S37b", "S10"], ca_url
            else:  # the 25% of 2025-03-04 (DOMAIN.md 1: EO 14226, signed 2025-03-02) [S10][S117]
                instrument = (
                    "Executive Orders 14193 and 14226 (CA; EO 14226 signed 2025-03-02, in force 2025-03-04)"
                )
                sources, url = ["S10", "S117", "S37b"], mx_url
        else:
            what = (
                "Mexico: 25% from 2025-03-04 (EO 14194 as amended by EO 14227), unchanged to the end (90-day "
                "extension of 2025-07-31). DOMAIN.md marks the heading 9903.01.01 UNCONFIRMED; the HTSUS 2026 "
                "Rev 10 text of 9903.01.01 reads '+25% ... articles the product of Mexico', which supports it; the "
                "measure stays unconfirmed as DOMAIN.md has it. "
                "Potash at 10% (9903.01.05) is the gap gap-ieepa-mx-potash; energy goods owe the 25%. "
            )
            instrument = "Executive Orders 14194 and 14227 (MX; 90 FR 11371), as amended"
            sources = ["S117", "S137", "S10"]
            url = mx_url
        info_heading = excepted_heading(
            heading,
            INFO_HEADING_OF[origin],
            f"the product of {COUNTRY_OF[origin]} that are informational materials",
            revisions,
        )
        what += (
            f"Informational materials (50 U.S.C. 1702(b)(3)) are exempt ({info_heading}, the HTSUS text's heading): "
            f"not_with group {INFO_GROUP}. Donations ({'9903.01.11' if origin == 'CA' else '9903.01.02'}) cannot be "
            "seen in a manifest and are charged. "
        )
        usmca_text = (
            "USMCA-qualifying goods (usmca_claim) are exempt from 2025-03-07 (9903.01.04/.14); this period, "
            "2025-03-04 to 2025-03-06, charges them."
            if not usmca
            else "USMCA-qualifying goods (usmca_claim true) are exempt (9903.01.04/.14/.26/.27)."
        )
        entry = {
            "id": f"ieepa-fentanyl-{suffix}", "component": "ieepa_fentanyl", "heading": heading, "origins": [origin],
            "rate": rate, "stacking_group": BORDER_GROUP,
            "not_with": [*(border_not_with if D(start) >= STACKING_REVISED else ["s232_autos"]), INFO_GROUP],
            "not_with_headings": {INFO_GROUP: info_heading}, "usmca_exempt": usmca,
            "effective_from": D(start), "effective_to": D(end) if end else IEEPA_END, "effective_time": time,
            "confidence": "confirmed" if origin == "CA" else "unconfirmed", "note": what + usmca_text + " " + stacking + "All IEEPA duties ended 2026-02-24.",
            "citation": cite(instrument, url, sources, f"heading {heading}"),
        }  # fmt: skip
        if usmca and origin == "CA":
            # DOMAIN.md 3b (and 1, 2025-08-01) gives 9903.01.26 for USMCA goods of CA [S116][S37b]; the HTSUS texts
            # read otherwise (see the note): CONFLICT, so no heading is written. MX: DOMAIN.md gives none.
            entry["note"] += " " + CA_USMCA_HEADING_NOTE
        measures.append(entry)
    # DOMAIN.md 3b: CA "25% from 2025-03-04 (energy/potash 10%)", MX "25% from 2025-03-04 (potash 10%)": energy
    # at 10% is Canadian only (the HTSUS Mexico heading 9903.01.01 excepts only .02-.05, and 9903.01.05 reads
    # "Potash that is a product of Mexico"), so a Mexican chapter 27 line owes the 25%: one gap per country.
    scope_note = "The product scope is a definition, not an HTS list, and is not in the data: "
    gaps = [
        {
            "id": "gap-ieepa-ca-energy-potash", "component": "ieepa_fentanyl", "origins": ["CA"],
            "hts_include": ["27", "2612", "2844", "3104"], "in_place_of": BORDER_GROUP, "usmca_exempt": True,
            "effective_from": D("2025-03-04"), "effective_to": IEEPA_END, "confidence": "unconfirmed",
            "note": ("Canadian energy and energy resources (crude oil, natural gas, refined products, uranium, coal, "
                     "biofuels, critical minerals as defined by 30 U.S.C. 1606(a)(3): 9903.01.13) and Canadian "
                     "potash (9903.01.15) paid 10%, not 25/35% (DOMAIN.md 3b, CA: 'energy/potash 10%'). "
                     + scope_note + "lines in chapter 27, uranium (2612, 2844) and potassic fertilisers (3104) "
                     "are flagged (critical minerals elsewhere are NOT flagged and are charged the full rate)."),
            "citation": cite("Executive Orders 14193 and 14226 (CA), as amended", ca_url, ["S10", "S116", "S117"],
                             "headings 9903.01.13, 9903.01.15"),
        },
        {
            "id": "gap-ieepa-mx-potash", "component": "ieepa_fentanyl", "origins": ["MX"],
            "hts_include": ["3104"], "in_place_of": BORDER_GROUP, "usmca_exempt": True,
            "effective_from": D("2025-03-04"), "effective_to": IEEPA_END, "confidence": "unconfirmed",
            "note": ("Mexican potash paid 10%, not 25% (DOMAIN.md 3b, MX: '25% from 2025-03-04 (potash 10%)'; HTSUS "
                     "9903.01.05, 2025 Rev 32 and 2026 Rev 10: 'Potash that is a product of Mexico', + 10%). "
                     "Potash only: 9903.01.01 (+25%) excepts only the goods of 9903.01.02-.05 (donations, "
                     "informational materials, USMCA, potash), so Mexican energy goods owe the 25%. "
                     + scope_note + "potassic fertilisers (3104) are flagged."),
            "citation": cite("Executive Orders 14194 and 14227 (MX; 90 FR 11371), as amended", mx_url,
                             ["S10", "S117", "S137"], "heading 9903.01.05"),
        },
    ]  # fmt: skip
    return measures, gaps


# --------------------------------------------------------------------------------------------------------
# 50 U.S.C. 1702(b)(3): informational materials, outside every IEEPA duty
# --------------------------------------------------------------------------------------------------------

#: (id suffix, component, origins, origins excluded, the IEEPA headings whose text excepts the marker's heading,
#: the marker's heading, how that heading's text reads, from, effective time)
INFO_MARKERS: list[tuple[str, str, list[str], list[str], tuple[str, ...], str, str, str, str]] = [
    ("-cn-hk", "ieepa_fentanyl", ["CN", "HK"], [], ("9903.01.20", "9903.01.24"), "9903.01.22",
     "the product of China and Hong Kong that are informational materials", "2025-02-04", "12:01 a.m. EST"),
    ("-ca", "ieepa_fentanyl", ["CA"], [], ("9903.01.10",), "9903.01.12",
     "the product of Canada that are informational materials", "2025-03-04", "12:01 a.m. EST"),
    ("-mx", "ieepa_fentanyl", ["MX"], [], ("9903.01.01",), "9903.01.03",
     "the product of Mexico that are informational materials", "2025-03-04", "12:01 a.m. EST"),
    ("", "ieepa_reciprocal", ["*"], ["CN", "HK", "CA", "MX", *COLUMN2], ("9903.01.25",), "9903.01.31",
     "Articles that are informational materials", "2025-04-05", "12:01 a.m. EDT"),
]  # fmt: skip


def build_informational(out: Path, info: Table, revisions: list[Hts], report: list[str]) -> tuple[list, list]:
    """Zero-rate measures that mark informational materials, one per origin set with the heading the HTSUS gives
    them beside that origin's first IEEPA duty; every IEEPA duty is not_with their group (:data:`INFO_GROUP`)."""
    report.append(f"informational materials: {info.write(out / INFO_FILE)} prefixes")
    measures = []
    # Their origins do not meet; the priorities (in list order) only say so to the loader's overlap check, which
    # does not read origins_exclude.
    for priority, (suffix, component, origins, excluded, charged, heading, goods, start, time) in enumerate(
        INFO_MARKERS
    ):
        for duty in charged:
            excepted_heading(duty, heading, goods, revisions)
        who = "these origins" if origins != ["*"] else "the other origins (BR and IN included)"
        measure = {
            "id": "ieepa-1702b-informational-materials" + suffix, "component": component, "heading": heading,
            "origins": origins, "hts_include_file": INFO_FILE, "rate": "0", "stacking_group": INFO_GROUP,
            "priority": priority, "effective_from": D(start), "effective_to": IEEPA_END,
            "effective_time": f"{time} on {start} to {IEEPA_END_TIME}", "confidence": "unconfirmed",
            "note": (
                "Informational materials (publications, films, posters, phonograph records, photographs, ..., "
                "artworks and news wire feeds) owe no IEEPA duty: 50 U.S.C. 1702(b)(3) withholds from the President "
                "the authority to regulate their importation, and the HTSUS gives them a heading of their own with "
                f"nothing added beside each IEEPA duty: {heading} ('{goods}'), which {' and '.join(charged)} "
                f"{'except' if len(charged) > 1 else 'excepts'} (HTSUS texts in ../shared/data/usitc_hts, 2025 Rev 32 and 2026 Rev 10, which the build "
                f"checks). This zero-rate measure marks such lines of {who}; every IEEPA duty on them (fentanyl/border "
                "CN/HK, CA, MX; reciprocal; Brazil 40%; India Russian-oil) is not_with its group and shows at 0 with "
                "its own informational heading (9903.01.22, .12, .03, .31, .80, .89). NOT in DOMAIN.md as an "
                "exemption from the duties (DOMAIN.md names 50 U.S.C. 1702(b) items as outside the de minimis "
                "suspension, sections 0 and 2 [S38], and informational materials among the Section 122 exclusions, "
                "3f), so unconfirmed. Scope: the rows of the Yale tracker's reciprocal exemption list in chapter 49 "
                f"and headings 9701-9706 ({INFO_FILE}, each row's source kept), which the tracker lists undated "
                "with the Annex II products; which of its rows are informational materials is this pack's reading "
                "(stamps, collections and antiques of 9704-9706 included as it lists them). Films, recorded media "
                "and other informational materials classified elsewhere (chapter 37, heading 8523) are not in the "
                "list and are charged; donations and accompanied baggage cannot be seen in a manifest."
            ),
            "citation": cite(
                "50 U.S.C. 1702(b)(3); Executive Orders 14193, 14194, 14195, 14257, 14323 and 14329, as amended",
                "https://hts.usitc.gov/", [], f"heading {heading}",
            ),
        }  # fmt: skip
        if excluded:
            measure["origins_exclude"] = excluded
        measures.append(measure)
    return measures, []


# --------------------------------------------------------------------------------------------------------
# Section 232 (steel, aluminum, copper, autos, wood) and the programs kept as gaps
# --------------------------------------------------------------------------------------------------------

#: DOMAIN.md's source for the 25% of 2025-03-12 (S104; S232_URL, S96, is the 50% of 2025-06-04).
S232_25_URL = "https://www.thompsonhinesmartrade.com/category/section-232-investigations/page/2/"
S232_URL = "https://www.strtrade.com/trade-news-resources/str-trade-report/trade-report/june/section-232-tariffs-on-steel-and-aluminum-doubled-to-50-percent"
METALS_INSTRUMENT = "Proclamations 9704/9705 (2018) as amended by Proclamations 10895/10896 (2025-02-10, eff. 2025-03-12) and 10947 (2025-06-03, eff. 2025-06-04)"

#: Steel articles, Proclamation 9705 clause 1 (6-digit ranges, inclusive).
STEEL_ARTICLE_RANGES = [
    ("720610", "721650"),
    ("721699", "730110"),
    ("730210", "730210"),
    ("730240", "730290"),
    ("730410", "730690"),
]
ALUMINUM_ARTICLES = ["7601", "7604", "7605", "7606", "7607", "7608", "7609", "7616995160", "7616995170"]
#: Derivatives of Proclamations 9980 (2020): steel nails/tacks, bumper and body stampings; aluminum stranded wire and stampings.
STEEL_DERIVATIVES_2020_OTHER = ["87081030", "87082921"]
PASSENGER_VEHICLES = [
    "870321",
    "870322",
    "870323",
    "870324",
    "870331",
    "870332",
    "870333",
    "870340",
    "870350",
    "870360",
    "870370",
    "870380",
    "870390",
]
#: Approximate light-truck scope: the list of U.S. note 33(b) is not in the data; the goods vehicles of G.V.W.
#: not exceeding 5 tonnes stand in for "light trucks" (every line of these prefixes has a 25% column 1 rate).
LIGHT_TRUCKS = ["870421", "870431", "870441", "870451"]
#: Approximate auto-parts scope: Annex I of Proclamation 10908 (U.S. note 33(g)) is not in the data, so the
#: measures use the main parts headings; parts classified elsewhere are not charged (understated).
AUTO_PARTS_APPROX = [
    "8706", "8707", "8708", "401110", "401120", "840734", "840820", "840991", "840999", "841330", "841459",
    "842123", "842131", "848310", "850710", "851110", "851140", "851150", "851180", "851220", "851230",
    "851240", "854430", "700711", "700721", "700910", "940120",
]  # fmt: skip
SOFTWOOD = [
    "440311",
    "440321",
    "440322",
    "440323",
    "440324",
    "440325",
    "440326",
    "440711",
    "440712",
    "440713",
    "440714",
    "440719",
]
UPHOLSTERED_WOOD = ["940161"]
KITCHEN_CABINETS = ["940340"]


#: Where the start date of the Japanese auto rates comes from (DOMAIN.md 3e gives the rate, not the date).
JP_DEAL_DATE = (
    "from 2025-09-16: that date is NOT in DOMAIN.md, which gives the rate and headings without one (3e: 'JP 15% "
    "all-in (9903.94.41/.43)'); it is the Yale tracker's (../shared/data/tariff_programs_yale/master_tariff_list.json: "
    "Japan autos and auto_parts 15% from 2025-09-16; usitc_hts/revision_dates.csv rev_23), and the HTSUS 2025 Rev 32 "
    "heading texts give the rate, not the date: UNCONFIRMED (FR Doc 2025-17908)."
)


def _in_ranges(code6: str) -> bool:
    return any(lo <= code6 <= hi for lo, hi in STEEL_ARTICLE_RANGES)


# --- Section 232 metals from 2026-04-06: the annex regime (headings 9903.82.01-.26) -------------------------

METALS_1C = D("2026-06-08")
#: Annex IV part B of Proclamation 11021: (c)(ix)/(x) join (c)(vi)/(vii) and 9903.82.07/.08/.10/.11/.12/.17
#: end; the temporary Annex I-C list of Proclamation 11032 runs to 2027-12-31 (Yale: then part of Annex I-B).
METALS_FOLD = D("2028-01-01")
#: Countries of heading 9903.82.22 (Annex I-C, 15% from 2026-06-08).
ANNEX_1C_PARTNERS = ("AR", "EC", "SV", "GT", "JP", "KR", "LI", "CH", "TW", "GB", *EU27)
#: Derivative-steel lines of chapter 76 on the (c)(iv) list (note 16(c) as quoted from the proclamation's annexes
#: when the regime was encoded: not in ../shared/data, unchecked); the rest of chapter 76 on Annex I-A is (c)(i)/(ii)
#: aluminum.
STEEL_LINES_OF_CH76 = ("76141010", "7616995150", "7616995175")
#: Also on the (c)(viii) copper list (as quoted from the annex, not in ../shared/data: "Copper Articles 8544.42.10
#: 8544.42.20 8544.42.90 ...").
ALSO_COPPER = ("85444290",)


def _note16_metal(prefix: str, annex: str, metal: str) -> str:
    """The Yale list labels the (c)(i) aluminum articles (7601, 7604-7609, 7616.99.51.60/.70) 'steel' and two
    (c)(iv) lines 'aluminum': on Annex I-A the metal of a chapter 76 line follows the note 16(c) lists."""
    if annex == "1a" and prefix.startswith("76"):
        return "steel" if prefix in STEEL_LINES_OF_CH76 else "aluminum"
    return metal


#: Prefixes whose metal was set by _note16_metal / ALSO_COPPER (marked in the tables' source column).
FIXED_METAL: set[str] = set()
Members = frozenset[tuple[str, str]]
Segment = tuple[dt.date, dt.date | None, Members]


def annex_segments(path: Path) -> dict[str, list[Segment]]:
    """Per listed prefix, its (annex, metal) memberships over time.

    A row dated 2026-06-08 replaces the prefix's earlier rows (Proclamation 11032 moved lines between lists);
    from 2028-01-01 Annex III and Annex I-C lines count as Annex I-B (METALS_FOLD).
    """
    dated: dict[str, dict[dt.date, set[tuple[str, str]]]] = defaultdict(lambda: defaultdict(set))
    with path.open() as handle:
        for row in csv.DictReader(handle):
            prefix, annex, metal = row["hts_prefix"], row["annex"], row["metal_type"]
            fixed = _note16_metal(prefix, annex, metal)
            if fixed != metal:
                FIXED_METAL.add(prefix)
            dated[prefix][D(row["effective_date"])].add((annex, fixed))
            if prefix in ALSO_COPPER:
                FIXED_METAL.add(prefix)
                dated[prefix][D(row["effective_date"])].add((annex, "copper"))
    out: dict[str, list[Segment]] = {}
    for prefix, by_date in dated.items():
        days = sorted(by_date)
        segments: list[Segment] = []
        for i, start in enumerate(days):
            end = days[i + 1] if i + 1 < len(days) else None
            members: Members = frozenset(by_date[start])
            folded = frozenset(("1b" if annex in ("3", "1c") else annex, m) for annex, m in members)
            if folded == members or (end is not None and end <= METALS_FOLD):
                segments.append((start, end, members))
                continue
            if start < METALS_FOLD:
                segments.append((start, METALS_FOLD, members))
            segments.append((max(start, METALS_FOLD), end, folded))
        out[prefix] = segments
    return out


def _label(prefix: str, members: Members, start: dt.date) -> str:
    text = "+".join(f"{annex}-{metal}" for annex, metal in sorted(members))
    if prefix in FIXED_METAL:
        text += " (metal per note 16(c))"
    return text + (" (Annex IV part B, 2028)" if start == METALS_FOLD else "")


def _merge(rows: list[tuple[dt.date, dt.date | None, str]]) -> list[tuple[dt.date, dt.date | None, str]]:
    """Join touching periods of one prefix (sources joined with ' then ')."""
    merged: list[tuple[dt.date, dt.date | None, str]] = []
    for start, end, source in sorted(rows, key=lambda r: (r[0], r[1] or dt.date.max, r[2])):
        if merged and merged[-1][1] == start:
            first, _, text = merged[-1]
            merged[-1] = (first, end, text if source == text else f"{text} then {source}")
        else:
            merged.append((start, end, source))
    return merged


def _overlap(a: tuple[dt.date, dt.date | None], b: tuple[dt.date, dt.date | None]) -> tuple | None:
    start = max(a[0], b[0])
    ends = [e for e in (a[1], b[1]) if e is not None]
    end = min(ends) if ends else None
    return (start, end) if end is None or start < end else None


Keep = Callable[[str, Members], bool]


def hts_tree(codes: Iterable[str]) -> dict[str, set[str]]:
    """Prefix -> its next-level (two more digits) prefixes, over the lines of the schedules."""
    tree: dict[str, set[str]] = defaultdict(set)
    for code in codes:
        for n in range(4, len(code) + 1, 2):
            tree[code[: n - 2]].add(code[:n])
    return tree


def annex_scope(  # noqa: PLR0912 (nested periods and prefixes, written out in order)
    segments: dict[str, list[Segment]], keep: Keep, tree: dict[str, set[str]]
) -> tuple[Table, Table]:
    """Include and exclude tables for the lines whose MOST SPECIFIC listed prefix satisfies ``keep``.

    The Yale list nests prefixes of different annexes (8501 on Annex I-B, 8501.53.40 on Annex II; 7326.90 on
    I-B, 7326.90.10 on I-A): the most specific listing governs, so a listed prefix that does not satisfy
    ``keep`` under one that does is excluded for the overlapping period. Where such a prefix itself has a
    listed descendant that satisfies ``keep`` (870829 I-B > 8708.29.21 Annex II > 8708.29.21.20 Annex III),
    the exclusion is spelled out as the prefix's other branches in the schedules.
    """
    include, exclude = Table(), Table()
    for prefix, segs in segments.items():
        rows = [(s, e, "yale-annex-" + _label(prefix, m, s)) for s, e, m in segs if keep(prefix, m)]
        for start, end, source in _merge(rows):
            include.add(prefix, source, start, end)
    bounds = sorted({d for segs in segments.values() for s, e, _ in segs for d in (s, e) if d is not None})
    periods = [(a, b) for a, b in itertools.pairwise([*bounds, None])]

    def spare(prefix: str, period: tuple[dt.date, dt.date | None]) -> set[str]:
        """Listed descendants of ``prefix`` that satisfy ``keep`` within ``period``."""
        return {
            d
            for d, segs in segments.items()
            if d != prefix and d.startswith(prefix)
            for s, e, m in segs
            if keep(d, m) and _overlap((s, e), period)
        }

    def branches(prefix: str, keepers: set[str]) -> list[str]:
        out: list[str] = []
        for child in sorted(tree.get(prefix, ())):
            if child in keepers:
                continue
            out += branches(child, keepers) if any(k.startswith(child) for k in keepers) else [child]
        return out

    rows_by_prefix: dict[str, list[tuple[dt.date, dt.date | None, str]]] = defaultdict(list)
    for child, segs in segments.items():
        for n in range(4, len(child), 2):
            parent = child[:n]
            for s1, e1, m1 in segs:
                if keep(child, m1):
                    continue
                for s2, e2, m2 in segments.get(parent, []):
                    both = _overlap((s1, e1), (s2, e2)) if keep(parent, m2) else None
                    if not both:
                        continue
                    source = f"listed-more-specifically:{_label(child, m1, s1)}(under {parent})"
                    for period in periods:
                        part = _overlap(both, period)
                        if not part:
                            continue
                        keepers = spare(child, part)
                        if not keepers:
                            rows_by_prefix[child].append((*part, source))
                        for prefix in branches(child, keepers) if keepers else []:
                            rows_by_prefix[prefix].append((*part, f"{source[:-1]}, branch of {child})"))
    for prefix, rows in rows_by_prefix.items():
        for start, end, source in _merge(sorted(set(rows), key=lambda r: (r[0], r[1] or dt.date.max, r[2]))):
            exclude.add(prefix, source, start, end)
    return include, exclude


def check_annex_scope(
    segments: dict[str, list[Segment]], keep: Keep, include: Table, exclude: Table, codes: Iterable[str]
) -> None:
    """Every line (leaf) of the schedules: include-and-not-exclude equals 'most specific listing satisfies keep'."""

    def active(rows: dict[str, list[tuple[str, str]]], code: str, day: dt.date) -> bool:
        return any(
            (not s or D(s) <= day) and (not e or day < D(e))
            for n in range(2, len(code) + 1, 2)
            for s, e in rows.get(code[:n], [])
        )

    by_prefix: list[dict[str, list[tuple[str, str]]]] = []
    for table in (include, exclude):
        index: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for prefix, start, end in table.rows:
            index[prefix].append((start, end))
        by_prefix.append(index)
    for code in codes:
        for day in (METALS_RESTRUCTURE, METALS_1C - dt.timedelta(days=1), METALS_1C, METALS_FOLD):
            truth = False
            for n in range(len(code), 3, -2):
                hit = [m for s, e, m in segments.get(code[:n], []) if s <= day and (e is None or day < e)]
                if hit:
                    truth = keep(code[:n], hit[0])
                    break
            engine = active(by_prefix[0], code, day) and not active(by_prefix[1], code, day)
            if truth != engine:
                raise AssertionError(f"annex scope mismatch for {code} on {day}: expected {truth}")


def _is_aluminum_article(prefix: str) -> bool:
    """(c)(i) articles of aluminum (9903.85.67 for Russia) as against derivative aluminum articles (9903.85.68)."""
    return prefix.startswith(tuple(ALUMINUM_ARTICLES))


#: Scope tables of the annex measures: key -> (file stem, which lines).
ANNEX_SCOPES: dict[str, tuple[str, Keep]] = {
    "1a": ("s232_metals_2026_annex_1a", lambda _p, m: any(a == "1a" for a, _ in m)),
    "1b": ("s232_metals_2026_annex_1b_1c", lambda _p, m: any(a in ("1b", "1c") for a, _ in m)),
    "1c": ("s232_metals_2026_annex_1c", lambda _p, m: any(a == "1c" for a, _ in m)),
    "3": ("s232_metals_2026_annex_3", lambda _p, m: any(a == "3" for a, _ in m)),
    "ru-al-articles": (
        "s232_metals_2026_ru_aluminum_articles",
        lambda p, m: _is_aluminum_article(p) and ("1a", "aluminum") in m,
    ),
    "ru-al-derivatives": (
        "s232_metals_2026_ru_aluminum_derivatives",
        lambda p, m: not _is_aluminum_article(p) and any(a != "2" and x == "aluminum" for a, x in m),
    ),
}


def metals_annex_tables(
    path: Path, codes: set[str], tables: dict[str, Table]
) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """Add the annex scope tables to ``tables``: key -> (include file, exclude file or None), and the copper-only
    Annex I-B prefixes ((c)(viii), left out of the UK rate 9903.82.05)."""
    segments = annex_segments(path)
    tree = hts_tree(codes | set(segments))
    files: dict[str, tuple[str, str | None]] = {}
    for key, (stem, keep) in ANNEX_SCOPES.items():
        include, exclude = annex_scope(segments, keep, tree)
        check_annex_scope(
            segments, keep, include, exclude, sorted(c for c in codes | set(segments) if c not in tree)
        )
        tables[f"{stem}.csv"] = include
        if exclude.rows:
            tables[f"{stem}_exclude.csv"] = exclude
        files[key] = (f"{stem}.csv", f"{stem}_exclude.csv" if exclude.rows else None)
    # The UK rates leave out the copper lists ((c)(v), (c)(viii)): inline exclusions, checked here.
    copper_only = {p for p, segs in segments.items() if all(m == "copper" for s in segs for _, m in s[2])}
    non_copper = set(segments) - copper_only
    assert {p for p in copper_only if any(a == "1a" for s in segments[p] for a, _ in s[2])} == {
        p for p in copper_only if p.startswith("74")
    }
    assert not any(p.startswith("74") for p in non_copper)
    return files, sorted(p for p in copper_only if not p.startswith("74"))


def autos_country_deal(
    rule_id: str,
    heading: str,
    origins: list[str],
    scope: Iterable[str],
    rate: str,
    rule: str,
    start: str,
    confidence: str,
    note: str,
    citation: dict[str, Any],
    *,
    at_or_above: str | None = None,
) -> dict[str, Any]:
    """A country's rate replacing the 25% of the s232_autos group (vehicles or parts); ``rule`` fixed or top_up
    (``at_or_above``: the heading of goods whose column 1 rate is at or above the rate, for a top-up)."""
    entry: dict[str, Any] = {
        "id": rule_id, "component": "s232", "heading": heading, "origins": origins, "hts_include": scope,
        "rate": rate, "stacking_group": "s232_autos", "priority": 10, "effective_from": D(start),
        "confidence": confidence, "note": note, "citation": citation,
    }  # fmt: skip
    if rule == "top_up":
        entry["rate_rule"] = "top_up"
        if at_or_above is not None:
            entry["heading_at_or_above_rate"] = at_or_above
    return entry


def no_at_or_above_note(heading: str) -> str:
    """What a top-up's note says where the HTSUS texts name no heading for goods at or above its rate."""
    return (
        " The HTSUS texts (../shared/data/usitc_hts: 2025 Rev 32, 2026 Rev 10) name no heading of their own for "
        f"these goods where the column 1 rate is 15% or more ({heading} alone, its rate column a bare '15%'): "
        f"such a line reports {heading} at rate 0 (no heading_at_or_above_rate)."
    )


def at_or_above_note(heading: str, at_or_above: str) -> str:
    """What a top-up's note says of the heading of goods whose column 1 rate is at or above its rate."""
    return (
        f" Where the column 1 rate is 15% or more nothing is added: heading {at_or_above} (the HTSUS texts' pair "
        f"of {heading}), which such a line's component reports (heading_at_or_above_rate)."
    )


def build_s232(  # noqa: PLR0912, PLR0915 (one program, written out in order)
    shared: Path, out: Path, hts25: Hts, hts26: Hts, report: list[str]
) -> tuple[list, list]:
    yale = shared / "tariff_programs_yale"
    six = hts25.six_digit()
    tables: dict[str, Table] = defaultdict(Table)
    for code in sorted(six):
        if code.startswith(("72", "73")) and _in_ranges(code):
            tables["s232_steel_articles.csv"].add(code, "proclamation-9705-clause-1")
        elif code.startswith("73") and not code.startswith("7303"):
            tables["s232_steel_derivatives_ch73.csv"].add(code, "ch73-remainder")
    for code in STEEL_DERIVATIVES_2020_OTHER:
        tables["s232_steel_derivatives_other.csv"].add(code, "proclamation-9980")
    for code in ALUMINUM_ARTICLES:
        tables["s232_aluminum_articles.csv"].add(code, "proclamation-9704-clause-1")
    alu_by_heading: dict[str, str] = {
        "9903.85.04": "s232_aluminum_derivatives_9903_85_04.csv",
        "9903.85.07": "s232_aluminum_derivatives_9903_85_07.csv",
        "9903.85.08": "s232_aluminum_derivatives_9903_85_08.csv",
    }
    with (yale / "s232_derivative_products.csv").open() as handle:
        for row in csv.DictReader(handle):
            start = D(row["effective_date"]) if row["effective_date"] else None
            if row["derivative_type"] == "steel":
                tables["s232_steel_derivatives_9903_81_91.csv"].add(
                    row["hts_prefix"], "yale-derivatives", start
                )
            else:
                tables[alu_by_heading[row["ch99_code"]]].add(row["hts_prefix"], "yale-derivatives", start)
    with (yale / "s232_copper_products.csv").open() as handle:
        for row in csv.DictReader(handle):
            tables["s232_copper.csv"].add(row["hts10"], "yale-copper")
    # Gap scopes.
    derivative_files = [
        "s232_steel_derivatives_ch73.csv",
        "s232_steel_derivatives_other.csv",
        "s232_steel_derivatives_9903_81_91.csv",
        *alu_by_heading.values(),
    ]
    for name in derivative_files:
        for (prefix, start, _end), _src in tables[name].rows.items():
            tables["s232_non_metal_content.csv"].add(
                prefix, name.removesuffix(".csv"), D(start) if start else None
            )
    for (prefix, _s, _e), _src in tables["s232_copper.csv"].rows.items():
        tables["s232_non_metal_content.csv"].add(prefix, "s232_copper", D("2025-08-01"))
    for name in ("s232_steel_articles.csv", "s232_aluminum_articles.csv"):
        for (prefix, _s, _e), _src in tables[name].rows.items():
            tables["s232_metals_before_2025_03_12.csv"].add(prefix, name.removesuffix(".csv"))
    for prefix in [
        "73170030",
        "73170055",
        "73170065",
        *STEEL_DERIVATIVES_2020_OTHER,
        "76141050",
        "76149020",
        "76149040",
        "76149050",
    ]:
        tables["s232_metals_before_2025_03_12.csv"].add(prefix, "proclamation-9980", D("2020-02-08"))
    annex_files, annex_1b_copper = metals_annex_tables(
        yale / "s232_annex_products.csv", hts25.codes | hts26.codes, tables
    )
    for name, table in sorted(tables.items()):
        report.append(f"s232 {name}: {table.write(out / name)} prefixes")

    measures: list[dict[str, Any]] = []
    steel_url, alu_sources = S232_URL, ["S96", "S97", "S98", "S104"]
    content_note = (
        "Base: metal content (value x metal_content_share; full value with an assumption note when the share is "
        "not given), per DOMAIN.md 3e for derivatives. The non-metal content owes the other duties (reciprocal, "
        "IEEPA CA/MX, Section 122) from 2025-06-04: the gap gap-s232-non-metal-content flags those lines. "
    )
    period_note = (
        "25% from 2025-03-12 (country exemptions, quotas and TRQs ended), 50% from 2025-06-04 12:01 a.m. EDT. "
        "Ends 2026-04-06, when the metals regime was restructured into annex tiers under 9903.82 (Proclamation "
        "11021, HTSUS 2026 Rev 5; not in DOMAIN.md): measures s232-metals-* (group s232_metals). Earlier periods: "
        "gap-s232-metals-before-2025-03-12. "
        "Exact Chapter 99 lines are UNCONFIRMED in DOMAIN.md; headings here are those of the HTSUS 2025 text. "
        "Stacking: autos > steel/aluminum > IEEPA CA > IEEPA MX (EO 14289 as amended): not_with s232_autos; "
        "reciprocal, Brazil/India IEEPA and Section 122 are not_with this group. "
    )

    before_revision_note = (
        "Before 2025-06-04 (EO 14289 as first issued, for entries from 2025-03-04): autos > IEEPA CA/MX > "
        "steel/aluminum, so this duty is not charged where the IEEPA CA or MX duty applies (not_with "
        f"{BORDER_GROUP}; a USMCA claim that spares the goods that duty leaves them this one). The order before "
        "the revision DOMAIN.md dates 2025-06-04 is not stated in DOMAIN.md (its source S95; see "
        "measures/ieepa_fentanyl.toml): UNCONFIRMED. "
    )

    def metal(
        mid: str,
        group: str,
        heading: str,
        rate: str,
        start: str,
        end: dt.date,
        prio: int,
        scope: str,
        base_kind: str,
        origins: list[str],
        instrument: str,
        note: str,
        conf: str = "unconfirmed",
    ) -> None:
        entry: dict[str, Any] = {
            "id": mid, "component": "s232", "heading": heading, "origins": origins, "hts_include_file": scope,
            "rate": rate, "base": base_kind, "stacking_group": group, "priority": prio,
            "not_with": ["s232_autos", BORDER_GROUP] if end <= STACKING_REVISED else ["s232_autos"],
            "effective_from": D(start), "effective_to": end, "effective_time": "12:01 a.m. EDT",
            "confidence": conf, "note": note + before_revision_note if end <= STACKING_REVISED else note,
            "citation": cite(instrument, steel_url if end > STACKING_REVISED else S232_25_URL, alu_sources, f"heading {heading}; HTSUS subchapter III U.S. notes 16 and 19"),
        }  # fmt: skip
        measures.append(entry)

    for rate, start, end in (
        ("0.25", "2025-03-12", D("2025-06-04")),
        ("0.50", "2025-06-04", METALS_RESTRUCTURE),
    ):
        tag = rate.replace("0.", "")
        metal(
            f"s232-steel-articles-{tag}",
            "s232_steel",
            "9903.81.87",
            rate,
            start,
            end,
            100,
            "s232_steel_articles.csv",
            "value",
            ["*"],
            METALS_INSTRUMENT,
            "Steel articles (Proclamation 9705 clause 1: 7206.10-7216.50, 7216.99-7301.10, 7302.10, 7302.40-7302.90, 7304.10-7306.90), full value. "
            + period_note,
        )
        metal(
            f"s232-steel-derivatives-ch73-{tag}",
            "s232_steel",
            "9903.81.89",
            rate,
            start,
            end,
            101,
            "s232_steel_derivatives_ch73.csv",
            "metal_content",
            ["*"],
            METALS_INSTRUMENT,
            "Derivative iron or steel articles of chapter 73 (all of chapter 73 outside the steel articles, except 7303 cast-iron tubes): the list of U.S. note 16 is not in the data; the scope is an approximation corroborated by the 2026 annex (chapter 73 in annexes 1a/1b), UNCONFIRMED. "
            + content_note
            + period_note,
        )
        metal(
            f"s232-steel-derivatives-other-{tag}",
            "s232_steel",
            "9903.81.90",
            rate,
            start,
            end,
            102,
            "s232_steel_derivatives_other.csv",
            "metal_content",
            ["*"],
            METALS_INSTRUMENT,
            "Derivative steel articles outside chapter 73 known from Proclamation 9980 (bumper and body stampings 8708.10.30, 8708.29.21). Other non-chapter-73 derivatives listed in March 2025 are not in the data and NOT encoded (understated if imported). "
            + content_note
            + period_note,
        )
        metal(
            f"s232-aluminum-articles-{tag}",
            "s232_aluminum",
            "9903.85.02",
            rate,
            start,
            end,
            100,
            "s232_aluminum_articles.csv",
            "value",
            ["*"],
            METALS_INSTRUMENT,
            "Aluminum articles (Proclamation 9704 clause 1: 7601, 7604-7609, castings and forgings 7616.99.51.60/.70), full value. DOMAIN.md: 10% -> 25% (2025-03-12) -> 50%; master_tariff_list.json dates the 25% from 2025-03-07 (CONFLICT; DOMAIN's 2025-03-12 used). "
            + period_note,
        )
        for heading, name in alu_by_heading.items():
            metal(
                f"s232-aluminum-derivatives-{heading.split('.')[-1]}-{tag}",
                "s232_aluminum",
                heading,
                rate,
                start,
                end,
                100 + int(heading[-2:]),
                name,
                "metal_content",
                ["*"],
                METALS_INSTRUMENT
                + (
                    "; BIS inclusions 90 FR (FR Doc 2025-15819, eff. 2025-08-18)"
                    if end > STACKING_REVISED
                    else ""
                ),
                f"Derivative aluminum articles of heading {heading} (Yale derivative list; rows dated 2025-08-18 are the BIS inclusions). "
                + content_note
                + period_note,
            )
    metal(
        "s232-steel-derivatives-inclusions-50",
        "s232_steel",
        "9903.81.91",
        "0.50",
        "2025-08-18",
        METALS_RESTRUCTURE,
        103,
        "s232_steel_derivatives_9903_81_91.csv",
        "metal_content",
        ["*"],
        METALS_INSTRUMENT + "; BIS inclusions (FR Doc 2025-15819, eff. 2025-08-18)",
        "407 derivative HTS lines added from 2025-08-18 at 50% of the steel content (DOMAIN.md 3e) (steel rows of the Yale derivative list). "
        + content_note
        + period_note,
    )
    # United Kingdom 25% from 2025-06-04 (same scopes), Russia aluminum 200%.
    gb = [
        ("s232-steel-articles-gb", "s232_steel", "9903.81.94", "s232_steel_articles.csv", "value"),
        (
            "s232-steel-derivatives-ch73-gb",
            "s232_steel",
            "9903.81.96",
            "s232_steel_derivatives_ch73.csv",
            "metal_content",
        ),
        (
            "s232-steel-derivatives-other-gb",
            "s232_steel",
            "9903.81.97",
            "s232_steel_derivatives_other.csv",
            "metal_content",
        ),
        (
            "s232-steel-derivatives-inclusions-gb",
            "s232_steel",
            "9903.81.98",
            "s232_steel_derivatives_9903_81_91.csv",
            "metal_content",
        ),
        ("s232-aluminum-articles-gb", "s232_aluminum", "9903.85.12", "s232_aluminum_articles.csv", "value"),
        (
            "s232-aluminum-derivatives-04-gb",
            "s232_aluminum",
            "9903.85.13",
            alu_by_heading["9903.85.04"],
            "metal_content",
        ),
        (
            "s232-aluminum-derivatives-07-gb",
            "s232_aluminum",
            "9903.85.14",
            alu_by_heading["9903.85.07"],
            "metal_content",
        ),
        (
            "s232-aluminum-derivatives-08-gb",
            "s232_aluminum",
            "9903.85.15",
            alu_by_heading["9903.85.08"],
            "metal_content",
        ),
    ]
    for i, (mid, group, heading, scope, base_kind) in enumerate(gb):
        metal(
            mid,
            group,
            heading,
            "0.25",
            "2025-06-04",
            METALS_RESTRUCTURE,
            10 + i,
            scope,
            base_kind,
            ["GB"],
            METALS_INSTRUMENT,
            "United Kingdom kept at 25% when the rate went to 50% on 2025-06-04 (DOMAIN.md 3e; master_tariff_list.json). "
            + (content_note if base_kind == "metal_content" else "")
            + period_note,
        )
    for i, (mid, heading, scopes) in enumerate(
        [
            ("s232-aluminum-articles-ru", "9903.85.67", ["s232_aluminum_articles.csv"]),
            ("s232-aluminum-derivatives-ru", "9903.85.68", list(alu_by_heading.values())),
        ]
    ):
        if len(scopes) > 1:
            merged = Table()
            for name in scopes:
                for (prefix, start, _e), _src in tables[name].rows.items():
                    merged.add(prefix, name.removesuffix(".csv"), D(start) if start else None)
            merged.write(out / "s232_aluminum_derivatives_all.csv")
            scope = "s232_aluminum_derivatives_all.csv"
        else:
            scope = scopes[0]
        metal(
            mid,
            "s232_aluminum",
            heading,
            "2.00",
            "2025-03-12",
            METALS_RESTRUCTURE,
            1 + i,
            scope,
            "value",
            ["RU"],
            "Proclamation 10522 (2023-02-24; FR Doc 2023-04470), 200% on aluminum of Russia, from 2023-03-10",
            "Russia: 200% on aluminum articles and derivatives (products of Russia; aluminum smelted or cast in Russia is not detectable), from 2023-03-10; encoded from 2025-03-12 (earlier periods are a gap), on full value per the heading text. Column 2 MFN rates for Russia are not applied by the engine. "
            + period_note,
        )

    copper_note = (
        "50% on the copper content of semi-finished copper and intensive copper derivatives (copper list of the "
        "Yale tracker), value x metal_content_share (full value with an assumption note when not given; the "
        "engine has one share column, so a line also under steel/aluminum uses the same share). Non-copper "
        "content (9903.78.02) owes the other duties: gap gap-s232-non-metal-content. Not stacked on autos "
        "(not_with s232_autos). Ends 2026-04-06 (copper moved into the 2026 metals annexes, (c)(v) and (c)(viii) of "
        "U.S. note 16): measures s232-metals-1a-50 / s232-metals-1b-25."
    )
    measures.append({
        "id": "s232-copper-50", "component": "s232", "heading": "9903.78.01", "origins": ["*"],
        "hts_include_file": "s232_copper.csv", "rate": "0.50", "base": "metal_content", "stacking_group": "s232_copper",
        "not_with": ["s232_autos"], "effective_from": D("2025-08-01"), "effective_to": METALS_RESTRUCTURE,
        "effective_time": "12:01 a.m. EDT", "confidence": "confirmed", "note": copper_note,
        "citation": cite("Proclamation 10962 'Adjusting Imports of Copper into the United States' (2025-07-30; FR Doc 2025-14893); CSMS 65794272",
                         "https://www.mallorygroup.com/customs-guidance-tariffs-on-copper", ["S99", "S100"], "heading 9903.78.01"),
    })  # fmt: skip

    # --- Metals from 2026-04-06: the annex regime of Proclamation 11021 (U.S. note 16, headings 9903.82) ---
    p11021 = (
        "Proclamation 11021 'Strengthening Actions Taken To Adjust Imports of Aluminum, Steel, and Copper Into the "
        "United States' (2026-04-02; 91 FR 18201, FR Doc 2026-06960); CSMS 68253075; technical corrections CSMS 68554727"
    )
    p11021_url = "https://www.federalregister.gov/documents/2026/04/09/2026-06960/strengthening-actions-taken-to-adjust-imports-of-aluminum-steel-and-copper-into-the-united-states"
    p11032 = (
        "Proclamation 11032 'Further Adjusting the Tariff Regimes for Imports of Aluminum, Steel, and Copper Into the "
        "United States' (2026-06-01; 91 FR 34085, FR Doc 2026-11314, eff. 2026-06-08); CSMS 68855869"
    )
    p11032_url = "https://www.federalregister.gov/documents/2026/06/04/2026-11314/further-adjusting-the-tariff-regimes-for-imports-of-aluminum-steel-and-copper-into-the-united-states"
    annex_note = (
        "Regime of Proclamation 11021 from 2026-04-06 12:01 a.m. EDT (HTSUS 2026 Rev 5, U.S. note 16; amended by "
        "Proclamation 11032 from 2026-06-08, Rev 10). NOT in DOMAIN.md (which cites 9903.81/.85 with exact lines "
        "UNCONFIRMED), so unconfirmed: rates and headings from the HTSUS 2026 Rev 10 heading texts 9903.82.01-.26 "
        "(../shared/data/usitc_hts/hts_2026_rev_10.json.gz), the lists from the Yale tracker's annex list "
        "(../shared/data/tariff_programs_yale/s232_annex_products.csv), the dates from usitc_hts/revision_dates.csv "
        "(2026_rev_5, 2026_rev_10); the wording of U.S. note 16 quoted here and the proclamation and CSMS texts are "
        "NOT in that data (the HTSUS exports hold no U.S. notes) and are not checked. Base: FULL customs value (note "
        "16(c): 'Headings "
        "9903.82.02-9903.82.17 apply to the full customs value'; no non-metal remainder). Scope: the Yale annex list; "
        "where prefixes of different annexes nest, the most specific listing governs (the *_exclude tables); a line "
        "on no list (incl. Annex II) owes no metals duty. APPROXIMATED: (1) 9903.82.03 (outside chapters 72, 73, 74 "
        "and 76, listed metal under 15% of the article's WEIGHT: no duty) and 9903.82.01 (no aluminum, steel or "
        "copper: no duty) need the metal weight, filed as a second quantity on the entry (CSMS 68253075) but not a "
        "manifest field: the duty is CHARGED on every listed line, overstated for a line that qualifies; (2) "
        "reductions the importer must claim and a manifest cannot show are not applied (overstated if claimed): "
        "U.S.-smelted/melted metal (9903.82.06 +10%; .07/.08 10% total), motorcycle parts (.13), CA/MX limited "
        "quantities (.18/.19, from 2026-04-23), and from 2026-06-08 parts for agricultural/industrial equipment "
        "(.23-.26); (3) aluminum smelted or cast in Russia in goods of other origins (200%, 9903.85.67/.68) is not "
        "detectable (understated). No USMCA exemption (note 16(b): collected in addition to any special rate). "
        "Stacking: one 9903.82 heading per line, so one group s232_metals (lowest priority wins: Russian aluminum "
        "1-2, Russia and column 2 5-6, country rates 9-10, general 100); not_with s232_autos (autos > metals, "
        "carried over from EO 14289, UNCONFIRMED for 2026); Section 122 is not_with this group (9903.03.06); "
        "Section 301 stacks. "
    )

    # The no-duty cases .01 and .03 turn on the metal's weight, which no manifest field gives: a measure whose list
    # reaches outside the metal chapters says so on each of its components.
    metal_weight_assumption = (
        "charged on the full value: an article with no aluminum, steel or copper (9903.82.01), or one outside "
        "chapters 72, 73, 74 and 76 whose listed metal is under 15% of its weight (9903.82.03), owes no metals duty; "
        "the manifest does not give the metal's weight, so this amount is overstated for such an article"
    )
    metal_chapters = ("72", "73", "74", "76")

    def annex_measure(
        mid: str,
        heading: str,
        origins: list[str],
        scope: str,
        rate: str,
        prio: int,
        text: str,
        *,
        rule: str = "fixed",
        start: dt.date = METALS_RESTRUCTURE,
        end: dt.date | None = None,
        exclude: list[str] | None = None,
        instrument: str = p11021,
        url: str = p11021_url,
        # The 2026 regime is not in DOMAIN.md: no source tag of it supports these measures (the instrument does).
        sources: tuple[str, ...] = (),
        pinpoint: str = "",
        at_or_above: str | None = None,
    ) -> None:
        include_file, exclude_file = annex_files[scope]
        entry: dict[str, Any] = {
            "id": mid, "component": "s232", "heading": heading, "origins": origins, "hts_include_file": include_file,
        }  # fmt: skip
        if exclude:
            entry["hts_exclude"] = exclude
        if exclude_file:
            entry["hts_exclude_file"] = exclude_file
        entry |= {"rate": rate}
        if rule != "fixed":
            entry["rate_rule"] = rule
        if at_or_above is not None:
            entry["heading_at_or_above_rate"] = heading_at_or_above(
                heading, at_or_above, rate, [hts25, hts26]
            )
        entry |= {
            "base": "value", "stacking_group": "s232_metals", "priority": prio, "not_with": ["s232_autos"],
            "effective_from": start,
        }  # fmt: skip
        if end:
            entry["effective_to"] = end
        entry |= {"effective_time": "12:01 a.m. EDT", "confidence": "unconfirmed"}
        if any(not p.startswith(metal_chapters) for p in tables[include_file].prefixes()):
            entry["assumption"] = metal_weight_assumption
        headings = f"headings {heading}, {at_or_above}" if at_or_above else f"heading {heading}"
        entry |= {
            "note": text + " " + annex_note,
            "citation": cite(instrument, url, sources, f"{headings}; HTSUS subchapter III U.S. note 16{pinpoint}"),
        }  # fmt: skip
        measures.append(entry)

    amended = p11021 + "; as amended by " + p11032
    annex_measure(
        "s232-metals-1a-50", "9903.82.02", ["*"], "1a", "0.50", 100,
        "Annex I-A (note 16(c)(i)-(v): articles of aluminum, derivative aluminum of (c)(ii), articles of steel, "
        "derivative steel of (c)(iv), copper articles of (c)(v)): the column 1 rate + 50% of the full value.",
        pinpoint="(c)(i)-(v)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-1b-25", "9903.82.09", ["*"], "1b", "0.25", 100,
        "Annex I-B (note 16(c)(vi)-(viii): derivative aluminum and steel articles, copper articles): + 25% of the "
        "full value. From 2026-06-08 the heading also names Annex I-C ((c)(xi), mobile industrial equipment; the "
        "partner countries have 9903.82.22) and Proclamation 11032 moves lines between the lists (dated rows). From "
        "2028-01-01 Annex III joins I-B (Annex IV part B of Proclamation 11021: (c)(ix)/(x) into (c)(vi)/(vii)); "
        "Annex I-C is temporary to 2027-12-31 and counted as I-B afterwards (Yale's reading, UNCONFIRMED).",
        instrument=amended, pinpoint="(c)(vi)-(viii), (xi)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-annex-3-15", "9903.82.10", ["*"], "3", "0.15", 100,
        "Annex III (note 16(c)(ix)-(x)): a column 1 rate under 15% is topped up to 15% in total (9903.82.10, note "
        "16(f)); at 15% or more nothing is added: heading 9903.82.11, which such a line's component reports at "
        "rate 0 (heading_at_or_above_rate). "
        "The ad valorem equivalent of a specific or compound column 1 rate is not computed: a compound rate whose "
        "ad valorem part alone reaches 15% adds 0; any other specific or compound rate leaves the line "
        "not-computable. Proclamation 11032 moves lines from (c)(vii) to (c)(x) on 2026-06-08 (dated rows). Ends "
        "2028-01-01 (Annex IV part B: .07/.08/.10/.11/.12/.17 terminated; the lines then pay 9903.82.09).",
        rule="top_up", end=METALS_FOLD, instrument=amended, pinpoint="(c)(ix)-(x), (f)", at_or_above="9903.82.11",
    )  # fmt: skip
    annex_measure(
        "s232-metals-gb-1a-25", "9903.82.04", ["GB"], "1a", "0.25", 10,
        "United Kingdom, (c)(i)-(iv): + 25% instead of 50%. Note 16(d) requires at least 95% of the aluminum "
        "smelted or cast, or of the steel melted and poured, in the UK: ASSUMED for UK-origin goods (not a manifest "
        "field). UK copper of (c)(v) (chapter 74, hts_exclude) has no UK rate and pays 9903.82.02.",
        exclude=["74"], pinpoint="(c)(i)-(iv), (d)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-gb-1b-15", "9903.82.05", ["GB"], "1b", "0.15", 10,
        "United Kingdom, (c)(vi)-(vii): + 15% instead of 25% (separable from the copper list (c)(viii) by the "
        "metal of each annex row: 8544.42.10, 8544.42.20 and 8544.49.10 are excluded and pay 9903.82.09; 8544.42.90 "
        "is also on the aluminum list (c)(vi) and keeps the UK rate). Note 16(d) UK-metal condition ASSUMED as for "
        "9903.82.04. UK Annex I-C lines take 9903.82.22 (priority 9) from 2026-06-08 to 2028-01-01; UK Annex III "
        "lines pay 9903.82.10 until 2028-01-01 and this heading afterwards.",
        exclude=annex_1b_copper, pinpoint="(c)(vi)-(vii), (d)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-1c-partners-15", "9903.82.22", list(ANNEX_1C_PARTNERS), "1c", "0.15", 9,
        "Annex I-C (note 16(c)(xi), mobile industrial equipment) of Argentina, Ecuador, El Salvador, Guatemala, "
        "Japan, Korea, Liechtenstein, Switzerland, Taiwan, the UK and EU members: 15% instead of 9903.82.09's 25%, "
        "read as 15% IN TOTAL with the column 1 rate (top_up). Support: the heading's rate column reads a bare "
        "'15%' in the HTSUS 2026 Rev 10 export (../shared/data/usitc_hts), the form of the all-in headings "
        "9903.82.10, 9903.94.41/.43, 9903.76.21/.22 and 9903.02.20, against 'The duty provided in the applicable "
        "subheading + 15%' of the additive 9903.82.05; secondary summaries: '15% inclusive of MFN'. No note-16 "
        "text on (c)(xi) or .22 was read: UNCONFIRMED. Temporary: ends 2028-01-01 (Proclamation 11032, to "
        "2027-12-31). USMCA goods of CA/MX (.20/.21): gap gap-s232-metals-1c-usmca-content."
        + no_at_or_above_note("9903.82.22"),
        rule="top_up", start=METALS_1C, end=METALS_FOLD, instrument=p11032, url=p11032_url, pinpoint="(c)(xi)",
    )  # fmt: skip
    russia_alu = (
        "Russia: 200% on the full value (Proclamation 10522, 2023-03-10; kept by Proclamation 11021: 9903.82.02, "
        ".06, .07-.12 all except 9903.85.67/.68); continues the measures of the same heading that end on "
        "2026-04-06. Scope APPROXIMATE: the note 19 lists are not in the data, so the aluminum lines of Annexes I-A, "
        "I-B and III stand in (as in the Yale tracker; UNCONFIRMED). Products of Russia only; column 2 MFN rates "
        "for Russia are not applied by the engine."
    )
    ru_instrument = "Proclamation 10522 (2023-02-24; FR Doc 2023-04470); " + p11021
    annex_measure(
        "s232-metals-ru-aluminum-articles-200", "9903.85.67", ["RU"], "ru-al-articles", "2.00", 1,
        "Aluminum articles ((c)(i): 7601, 7604-7609, 7616.99.51.60/.70). " + russia_alu,
        instrument=ru_instrument, sources=("S96", "S97", "S104"), pinpoint="(c)(i); note 19",
    )  # fmt: skip
    annex_measure(
        "s232-metals-ru-aluminum-derivatives-200", "9903.85.68", ["RU"], "ru-al-derivatives", "2.00", 2,
        "Derivative aluminum articles (the other aluminum lines of Annexes I-A, I-B and III). " + russia_alu,
        instrument=ru_instrument, sources=("S96", "S97", "S104"), pinpoint="(c)(ii), (vi), (ix); note 19",
    )  # fmt: skip
    annex_measure(
        "s232-metals-ru-1a-50", "9903.82.14", ["RU"], "1a", "0.50", 5,
        "Russia, steel and copper of (c)(iii)-(v): + 50% (the general rate, own heading); Russian aluminum lines "
        "pay 9903.85.67/.68 (priority 1-2). Column 2 MFN rates for Russia are not applied by the engine.",
        pinpoint="(c)(iii)-(v)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-ru-1b-25", "9903.82.16", ["RU"], "1b", "0.25", 5,
        "Russia, derivative steel and copper of (c)(vii)-(viii), and (c)(xi) from 2026-06-08: + 25%; Russian "
        "aluminum lines pay 9903.85.68. The U.S.-content alternative 9903.82.15 (+10%) is not applied.",
        instrument=amended, pinpoint="(c)(vii)-(viii), (xi)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-ru-annex-3-25", "9903.82.17", ["RU"], "3", "0.25", 5,
        "Russia, derivative steel of Annex III (c)(x): + 25% instead of the 15% total; Russian aluminum of (c)(ix) "
        "pays 9903.85.68. Terminated 2028-01-01 (Annex IV part B).",
        end=METALS_FOLD, instrument=amended, pinpoint="(c)(x)",
    )  # fmt: skip
    annex_measure(
        "s232-metals-column2-annex-3-25", "9903.82.12", ["BY", "CU", "KP"], "3", "0.25", 6,
        "Countries of general note 3(b) other than Russia (Belarus, Cuba, North Korea), Annex III (c)(ix)-(x): "
        "+ 25% instead of the 15% total (Russia: 9903.82.17 and 9903.85.68). Terminated 2028-01-01.",
        end=METALS_FOLD, instrument=amended, pinpoint="(c)(ix)-(x)",
    )  # fmt: skip

    autos_cite = (
        "Proclamation 10908 'Adjusting Imports of Automobiles and Automobile Parts' (2025-03-26; FR Doc 2025-05930)",
        "https://www.thompsonhinesmartrade.com/category/section-232-investigations/page/2/",
    )
    vehicles_rule = (
        "USMCA vehicles of CA/MX pay on non-U.S. content only (9903.94.03): gap gap-s232-autos-usmca-content. "
        "Takes priority over steel/aluminum/copper 232 and IEEPA CA/MX (EO 14289); no reciprocal (9903.01.33). "
    )
    trucks_scope = (
        "Light trucks, scope APPROXIMATE: the list of U.S. note 33(b) is not in the data; the prefixes "
        "8704.21/.31/.41/.51 (goods vehicles of G.V.W. not exceeding 5 tonnes) stand in for 'light trucks'. Light "
        "trucks classified elsewhere are NOT charged; lines of these prefixes that are not note-33 light trucks are "
        "overcharged. Every line of these prefixes has a 25% column 1 rate. "
    )
    autos_note = (
        "Passenger vehicles (8703.21-8703.90), full value; light trucks of JP/EU/KR have their own measures "
        "(s232-light-trucks-jp/eu/kr), other light trucks pay the 25% of s232-autos-25. " + vehicles_rule
    )
    # One base measure for passenger vehicles and light trucks: heading 9903.94.01 names both, and a heading
    # may carry only one measure per origin and period.
    measures.append({
        "id": "s232-autos-25", "component": "s232", "heading": "9903.94.01", "origins": ["*"],
        "hts_include": PASSENGER_VEHICLES + LIGHT_TRUCKS, "rate": "0.25", "stacking_group": "s232_autos",
        "priority": 100, "effective_from": D("2025-04-03"), "effective_time": "12:01 a.m. EDT",
        "confidence": "unconfirmed",
        "note": ("25% from 2025-04-03 (DOMAIN.md 3e). Passenger vehicles (8703.21-8703.90) and light trucks (heading "
                 "9903.94.01 names both), full value. " + trucks_scope + "Unconfirmed for the light-truck scope "
                 "only. The UK vehicle rate (9903.94.31) names passenger vehicles only, so UK light trucks pay this "
                 "25%. " + vehicles_rule),
        "citation": cite(autos_cite[0], autos_cite[1], ["S104", "S105", "S23"], "heading 9903.94.01; U.S. note 33(b)"),
    })  # fmt: skip
    autos_country = [
        (
            "gb",
            ["GB"],
            "9903.94.31",
            "0.075",
            "fixed",
            "2025-06-30",
            "United Kingdom: +7.5% (10% with the 2.5% MFN rate) within the 100,000-vehicle annual quota (quota not tracked); from 2025-06-30 per the heading text (master_tariff_list.json: 2025-07-01, UNCONFIRMED). The heading names passenger vehicles only (not light trucks); cargo vans, passenger vehicles under note 33, classified in 8704 are charged 25% as light trucks (note 33(i) not read: UNCONFIRMED).",
            "Executive Order implementing the U.S.-UK Economic Prosperity Deal (2025-06-16)",
        ),
        (
            "jp",
            ["JP"],
            "9903.94.41",
            "0.15",
            "top_up",
            "2025-09-16",
            "Japan: 15% all-in (15% minus the column 1 rate) " + JP_DEAL_DATE,
            "Implementing the U.S.-Japan agreement (FR Doc 2025-17908)",
        ),
        (
            "eu",
            list(EU27),
            "9903.94.51",
            "0.15",
            "top_up",
            "2025-09-25",
            "European Union: 15% all-in from 2025-09-25 (FR Doc 2025-18660; said to be retroactive to 2025-08-01, not modelled: UNCONFIRMED).",
            "Implementing the U.S.-EU framework (FR Doc 2025-18660)",
        ),
        (
            "kr",
            ["KR"],
            "9903.94.61",
            "0.15",
            "top_up",
            "2025-12-05",
            "South Korea: 15% all-in from 2025-12-05 per master_tariff_list.json (FR Doc 2025-21940; an earlier legal effective date is UNCONFIRMED).",
            "Implementing the U.S.-Korea deal (FR Doc 2025-21940)",
        ),
    ]
    #: The headings of JP/EU/KR vehicles and parts whose column 1 rate is 15% or more (nothing added), beside the
    #: all-in headings (heading_at_or_above checks each pair against the HTSUS texts).
    autos_at_or_above = {
        "9903.94.41": "9903.94.40",
        "9903.94.51": "9903.94.50",
        "9903.94.61": "9903.94.60",
        "9903.94.43": "9903.94.42",
        "9903.94.53": "9903.94.52",
        "9903.94.63": "9903.94.62",
    }
    for code, origins, heading, rate, rule, start, text, instrument in autos_country:
        above = (
            heading_at_or_above(heading, autos_at_or_above[heading], rate, [hts25, hts26])
            if rule == "top_up"
            else None
        )
        pinpoint = f"headings {heading}, {above}" if above else f"heading {heading}"
        measures.append(autos_country_deal(
            f"s232-autos-{code}", heading, origins, PASSENGER_VEHICLES, rate, rule, start,
            "unconfirmed", text + (at_or_above_note(heading, above) if above else "")
            + " Replaces the 25% in the s232_autos group. " + autos_note,
            cite(instrument + "; " + autos_cite[0], autos_cite[1], ["S104", "S105", "S23"], pinpoint),
            at_or_above=above,
        ))  # fmt: skip

    # Light trucks of the country deals: the JP/EU/KR headings name "passenger vehicles and light trucks", with a
    # separate heading where the column 1 rate is 15% or more (all light-truck lines: 25%).
    trucks_heading = {"jp": "9903.94.40", "eu": "9903.94.50", "kr": "9903.94.60"}
    for code, origins, heading, rate, rule, start, text, instrument in autos_country:
        if code not in trucks_heading:
            continue
        assert rule == "top_up", code
        measures.append({
            "id": f"s232-light-trucks-{code}", "component": "s232", "heading": trucks_heading[code], "origins": origins,
            "hts_include": LIGHT_TRUCKS, "rate": rate, "rate_rule": rule, "stacking_group": "s232_autos",
            "priority": 10, "effective_from": D(start), "confidence": "unconfirmed",
            "note": (text + f" Light trucks: heading {trucks_heading[code]} (column 1 rate of 15% or more: nothing "
                     f"added; {heading} for a rate under 15% applies to none of these lines), so the 15% all-in "
                     "computes 0. Replaces the 25% of s232-autos-25 in the s232_autos group. " + trucks_scope
                     + "Full value. " + vehicles_rule),
            "citation": cite(instrument + "; " + autos_cite[0], autos_cite[1], ["S104", "S105", "S23"],
                             f"heading {trucks_heading[code]}; U.S. note 33(b)"),
        })  # fmt: skip

    parts_note = (
        "Scope APPROXIMATE: Annex I of Proclamation 10908 (U.S. note 33(g)) and the later inclusions (note 33(p), "
        "9903.94.07) are not in the data; the prefixes are the main parts headings (8706-8708, tires 4011.10/.20, "
        "engines and engine parts, pumps, filters, transmission shafts, batteries, ignition/lighting, wiring sets, "
        "safety glass, mirrors, vehicle seats), whole prefixes although the annex lists some lines only in part. "
        "Parts classified elsewhere are NOT charged (total understated); lines of these prefixes that are not "
        "annex parts are overcharged. Full value. USMCA-compliant parts of CA/MX (usmca_claim) are exempt "
        "(usmca_exempt); non-USMCA parts of CA/MX pay the 232 and no IEEPA CA/MX duty. Same group as vehicles "
        "(s232_autos): takes priority over steel/aluminum/copper 232 and IEEPA CA/MX (EO 14289); no reciprocal "
        "(9903.01.33), no Brazil/India IEEPA, no Section 122 (9903.03.06); China's IEEPA fentanyl duty and "
        "Section 301 stack. Taiwan parts (9903.94.66-.69, 15% all-in from 2026-05-01 per master_tariff_list.json "
        "and the HTSUS 2026 headings) are NOT given a country rate here (no Taiwan vehicle deal in this pack): "
        "they pay the base 25%. "
    )
    parts_cite = (autos_cite[0], autos_cite[1], ["S104", "S105"])
    measures.append({
        "id": "s232-auto-parts-25", "component": "s232", "heading": "9903.94.05", "origins": ["*"],
        "hts_include": AUTO_PARTS_APPROX, "rate": "0.25", "stacking_group": "s232_autos", "priority": 100,
        "usmca_exempt": True, "effective_from": D("2025-05-03"), "effective_time": "12:01 a.m. EDT",
        "confidence": "unconfirmed",
        "note": "Automobile parts 25% from 2025-05-03 (DOMAIN.md 3e: autos / auto parts 25%, 2025-04-03 / 2025-05-03). " + parts_note,
        "citation": cite(parts_cite[0], parts_cite[1], parts_cite[2], "heading 9903.94.05; U.S. note 33(g)"),
    })  # fmt: skip
    parts_country = [
        (
            "gb",
            ["GB"],
            "9903.94.32",
            "0.10",
            "fixed",
            "2025-06-30",
            "United Kingdom: 10% instead of 25% from 2025-06-30 (DOMAIN.md 3e: UK parts 10%; start per the heading text, as for UK vehicles; master_tariff_list.json: 2025-07-01). Read as 10% in addition to the column 1 rate (the heading's rate column says '10%', as additional-duty headings do; U.S. note 33(j) not read: UNCONFIRMED). 9903.94.33 (UK parts added by inclusion, note 33(q)) has the same rate and is covered by the same prefixes.",
            "Executive Order 14309 implementing the U.S.-UK Economic Prosperity Deal (2025-06-16; 90 FR 26419); CSMS 65475725",
        ),
        (
            "jp",
            ["JP"],
            "9903.94.43",
            "0.15",
            "top_up",
            "2025-09-16",
            "Japan: 15% all-in (15% minus the column 1 rate), as for Japanese vehicles, "
            + JP_DEAL_DATE
            + " 9903.94.54/.55 (inclusion parts) follow the same rule.",
            "Implementing the U.S.-Japan agreement (FR Doc 2025-17908)",
        ),
        (
            "eu",
            list(EU27),
            "9903.94.53",
            "0.15",
            "top_up",
            "2025-09-25",
            "European Union: 15% all-in (9903.94.52/.53; .44/.45 for inclusion parts) from 2025-09-25 (FR Doc 2025-18660; said to be retroactive to 2025-08-01, not modelled: UNCONFIRMED), as for EU vehicles.",
            "Implementing the U.S.-EU framework (FR Doc 2025-18660)",
        ),
        (
            "kr",
            ["KR"],
            "9903.94.63",
            "0.15",
            "top_up",
            "2025-12-05",
            "South Korea: 15% all-in (9903.94.62/.63; .64/.65 for inclusion parts) from 2025-12-05 per master_tariff_list.json (auto_parts entry; FR Doc 2025-21940, the same instrument as the Korean vehicle rate; an earlier legal effective date is UNCONFIRMED).",
            "Implementing the U.S.-Korea deal (FR Doc 2025-21940)",
        ),
    ]
    for code, origins, heading, rate, rule, start, text, instrument in parts_country:
        above = (
            heading_at_or_above(heading, autos_at_or_above[heading], rate, [hts25, hts26])
            if rule == "top_up"
            else None
        )
        pinpoint = f"headings {heading}, {above}" if above else f"heading {heading}"
        measures.append(autos_country_deal(
            f"s232-auto-parts-{code}", heading, origins, AUTO_PARTS_APPROX, rate, rule, start, "unconfirmed",
            text + (at_or_above_note(heading, above) if above else "")
            + " Replaces the 25% in the s232_autos group. " + parts_note,
            cite(instrument + "; " + parts_cite[0], parts_cite[1], parts_cite[2], pinpoint),
            at_or_above=above,
        ))  # fmt: skip

    wood_cite = (
        "Proclamation 10976 'Adjusting Imports of Timber, Lumber, and Their Derivative Products' (2025-09-29; FR Doc 2025-19482); CSMS 66492057; "
        "deferral proclamation of 2025-12-31",
        "https://www.universallogistics.ca/route-newsletter-articles/new-us-section-232-tariffs-on-imports-october-2025",
    )
    wood_sources = ["S101", "S102", "S103", "S140"]
    wood_note = (
        "Product scope: U.S. note 37 lists are not in the data; the HTS lines used here are an approximation "
        "(UNCONFIRMED). Wood-232 goods pay no reciprocal, Brazil or India IEEPA duty and no IEEPA CA/MX duty "
        "(order autos > wood > CA/MX) and no Section 122 surcharge: those measures are not_with s232_wood. "
    )
    increase = (
        "The increase on 2027-01-01 is a CONFLICT: four sources give upholstered 30% and cabinets/vanities 50% "
        "[S101][S102][S140], ITCU gives the reverse [S103]; from 2027-01-01 the gap gap-s232-wood-2027 applies. "
    )
    wood = [
        (
            "s232-wood-softwood-10",
            "9903.76.01",
            SOFTWOOD,
            "0.10",
            102,
            None,
            "Softwood timber (coniferous logs 4403.11, 4403.21-.26) and lumber (coniferous sawn wood 4407.11-.19), 10%, all origins (the UK/EU/JP caps cover only upholstered furniture and cabinets). ",
        ),
        (
            "s232-wood-upholstered-25",
            "9903.76.02",
            UPHOLSTERED_WOOD,
            "0.25",
            100,
            D("2027-01-01"),
            "Upholstered wooden furniture: seats with wooden frames, upholstered (9401.61), 25%; parts are the gap gap-s232-wood-vanities-parts. "
            + increase,
        ),
        (
            "s232-wood-cabinets-25",
            "9903.76.03",
            KITCHEN_CABINETS,
            "0.25",
            101,
            D("2027-01-01"),
            "Kitchen cabinets: wooden furniture of a kind used in the kitchen (9403.40), 25%; vanities and parts are the gap gap-s232-wood-vanities-parts. "
            + increase,
        ),
    ]
    for mid, heading, scope, rate, prio, end, text in wood:
        entry = {
            "id": mid, "component": "s232", "heading": heading, "origins": ["*"], "hts_include": scope, "rate": rate,
            "stacking_group": "s232_wood", "priority": prio, "not_with": ["s232_autos"],
            "effective_from": D("2025-10-14"), "effective_time": "12:01 a.m. EDT", "confidence": "unconfirmed",
            "note": text + wood_note, "citation": cite(wood_cite[0], wood_cite[1], wood_sources, f"heading {heading}"),
        }  # fmt: skip
        if end:
            entry["effective_to"] = end
        measures.append(entry)
    wood_caps = [
        (
            "gb",
            ["GB"],
            "9903.76.20",
            "0.10",
            "fixed",
            "2025-10-14",
            "United Kingdom: 10% (DOMAIN.md 3e: UK <= 10%).",
        ),
        ("jp", ["JP"], "9903.76.21", "0.15", "top_up", "2025-10-14", "Japan: 15% including MFN."),
        (
            "eu",
            list(EU27),
            "9903.76.22",
            "0.15",
            "top_up",
            "2025-10-14",
            "European Union: 15% including MFN.",
        ),
        (
            "kr",
            ["KR"],
            "9903.76.23",
            "0.15",
            "top_up",
            "2025-12-05",
            "South Korea: 15% including MFN from 2025-12-05 (master_tariff_list.json; not in DOMAIN.md).",
        ),
        (
            "tw",
            ["TW"],
            "9903.76.24",
            "0.15",
            "top_up",
            "2026-05-01",
            "Taiwan: 15% including MFN from 2026-05-01 (master_tariff_list.json, HTSUS 2026 Rev 9; not in DOMAIN.md).",
        ),
    ]
    for code, origins, heading, rate, rule, start, cap_text in wood_caps:
        text = cap_text + (no_at_or_above_note(heading) if rule == "top_up" else "")
        day = D(start)
        entry = {
            "id": f"s232-wood-{code}", "component": "s232", "heading": heading, "origins": origins,
            "hts_include": UPHOLSTERED_WOOD + KITCHEN_CABINETS, "rate": rate, "stacking_group": "s232_wood",
            "priority": 10, "not_with": ["s232_autos"], "effective_from": day,
            "effective_time": one_minute_past_midnight(day),
            # The HTS lines of the capped classes are an approximation (UNCONFIRMED) for every origin.
            "confidence": "unconfirmed",
            "note": text + " Cap on upholstered furniture and kitchen cabinets (U.S. note 37(d),(f)); replaces the 25% in the s232_wood group and continues after 2027-01-01. " + wood_note,
            "citation": cite(wood_cite[0], wood_cite[1], wood_sources, f"heading {heading}"),
        }  # fmt: skip
        if rule == "top_up":
            entry["rate_rule"] = "top_up"
        measures.append(entry)

    gap_cite = cite(
        "Section 232, Trade Expansion Act of 1962 (19 U.S.C. 1862); proclamations of 2018-2026",
        S232_URL,
        ["S96", "S99", "S101", "S104", "S23"],
    )
    gaps = [
        {
            "id": "gap-s232-metals-before-2025-03-12", "component": "s232", "origins": ["*"],
            "hts_include_file": "s232_metals_before_2025_03_12.csv", "effective_from": D("2018-03-23"),
            "effective_to": D("2025-03-12"), "confidence": "unconfirmed",
            "note": ("Steel 25% and aluminum 10% (2018-03-23) with country exemptions, absolute quotas and TRQs (AR, AU, "
                     "BR, CA, MX, KR, EU, JP, UK) and the 2020 derivatives: not encoded before 2025-03-12."),
            "citation": gap_cite,
        },
        {
            "id": "gap-s232-non-metal-content", "component": "s232", "origins": ["*"], "usmca_exempt": True,
            "hts_include_file": "s232_non_metal_content.csv", "hts_exclude": AUTO_PARTS_APPROX,
            "base": "non_metal_content", "effective_from": D("2025-06-04"), "effective_to": METALS_RESTRUCTURE, "confidence": "confirmed",
            "note": ("For steel/aluminum derivatives and copper articles on a metal-content base, the NON-metal content "
                     "owes the reciprocal duty (or IEEPA CA/MX, Brazil, India) from 2025-06-04 and the Section 122 "
                     "surcharge from 2026-02-24 (9903.03.06 exempts only the 232 portion). The engine cannot apply a "
                     "duty to value x (1 - metal_content_share), so these lines are flagged pack-incomplete (base "
                     "non_metal_content: not a line whose metal_content_share is 1, which has no non-metal content). "
                     "USMCA-claimed CA/MX lines are not flagged: they owe none of those duties. Nor are the auto-parts "
                     "prefixes (hts_exclude): the auto-parts 232 (s232_autos group, from 2025-05-03, full value) "
                     "replaces the metal duties there and none of those other duties applies. Ends 2026-04-06: "
                     "from then on the 232 duty is charged on the full customs value (U.S. note 16(c) of Proclamation "
                     "11021), so no non-metal remainder is left to owe Section 122."),
            "citation": cite("Proclamation 10947 (2025-06-03) cl. on non-steel/aluminum content; Proclamation 10962 (copper); CSMS 65236374",
                             "https://www.thompsonhinesmartrade.com/2025/06/section-232-aluminum-and-steel-tariffs-increased-to-50-except-for-uk-significant-changes-made-to-calculating-and-stacking-of-tariffs/",
                             ["S97", "S99", "S139", "S36"]),
        },
        {
            "id": "gap-s232-metals-1c-usmca-content", "component": "s232", "origins": ["CA", "MX"],
            "hts_include_file": annex_files["1c"][0], "in_place_of": "s232_metals", "effective_from": METALS_1C,
            "effective_to": METALS_FOLD, "confidence": "unconfirmed",
            "note": ("What stays of the former gap gap-s232-metals-annex-2026 (the annex regime is encoded as the "
                     "s232-metals-* measures from 2026-04-06). USMCA goods of Canada/Mexico on Annex I-C ((c)(xi), "
                     "mobile industrial equipment, 2026-06-08 to 2027-12-31) pay 25% on the non-U.S. content and on "
                     "U.S. content above 40% of the value (9903.82.20) and nothing on U.S. content up to 40% "
                     "(9903.82.21; note 16(j), quoted from HTSUS Rev 10 by a third party); secondary sources add a "
                     "15% minimum (UNCONFIRMED). The U.S. content share is not a manifest field and a gap cannot tell "
                     "USMCA claims apart, so every CA/MX Annex I-C line is flagged (non-USMCA lines would pay "
                     "9903.82.09's 25%), as for gap-s232-autos-usmca-content. Russia, the column 2 countries and the "
                     "UK are encoded; the claim-only reductions (.01, .03, .06-.08, .13, .18/.19, .23-.26) are "
                     "charged at the default rate and said so in the measures' notes."),
            "citation": cite(p11032, p11032_url, [], "headings 9903.82.20-9903.82.21; U.S. note 16(j)"),
        },
        {
            "id": "gap-s232-autos-usmca-content", "component": "s232", "origins": ["CA", "MX"],
            "hts_include": PASSENGER_VEHICLES + LIGHT_TRUCKS, "in_place_of": "s232_autos", "effective_from": D("2025-04-03"),
            "confidence": "unconfirmed",
            "note": "USMCA-qualifying passenger vehicles and light trucks of Canada/Mexico pay 25% on the non-U.S. content only (9903.94.03, 'certain passenger vehicles and light trucks'). NOT in DOMAIN.md, so unconfirmed: the HTSUS 2025 Rev 32 text of 9903.94.03 (../shared/data/usitc_hts) gives the date and base ('Effective with respect to entries on or after April 3, 2025', '+ a duty of 25% upon the value of the non-U.S. content'), but which vehicles are 'certain' is U.S. note 33(d), not in that data. The U.S. content share is not a manifest field, so CA/MX passenger vehicles and light trucks are flagged (claims cannot be told apart by a gap). Light trucks: the approximate prefixes of s232-autos-25 (8704.21/.31/.41/.51).",
            "citation": cite(autos_cite[0], autos_cite[1], ["S104"], "heading 9903.94.03"),
        },
        {
            "id": "gap-s232-medium-heavy-vehicles", "component": "s232", "origins": ["*"],
            "hts_include": ["870120", "8702", "870422", "870423", "870432", "870442", "870443", "870452"],
            "effective_from": D("2025-11-01"), "confidence": "unconfirmed",
            "note": "Medium/heavy-duty vehicles and parts 25%, buses 10% from 2025-11-01 (9903.74.xx; DOMAIN.md 3e: trucks 25%, proclamation not read). Vehicle scope approximated; MHD parts are NOT flagged.",
            "citation": cite("Proclamation 'Adjusting Imports of Medium- and Heavy-Duty Vehicles, Parts and Buses' (FR Doc 2025-19639)",
                             "https://www.federalregister.gov/documents/2025/10/22/2025-19639/", ["S23"], "headings 9903.74.01-9903.74.11"),
        },
        {
            "id": "gap-s232-semiconductors", "component": "s232", "origins": ["*"], "hts_include": ["8541", "8542"],
            "effective_from": D("2026-01-15"), "confidence": "unconfirmed",
            "note": "Section 232 semiconductors 25% from 2026-01-15 (9903.79; master_tariff_list.json, HTSUS 2026 Rev 1; not in DOMAIN.md). Scope and rules not in the data.",
            "citation": cite("Proclamation 'Adjusting Imports of Semiconductors, Semiconductor Manufacturing Equipment, and Their Derivative Products' (FR Doc 2026-01052)",
                             "https://www.federalregister.gov/documents/2026/01/20/2026-01052/", [], "heading 9903.79"),
        },
        {
            "id": "gap-s232-pharmaceuticals", "component": "s232", "origins": ["*"], "hts_include": ["3003", "3004"],
            "effective_from": D("2026-09-29"), "confidence": "unconfirmed",
            "note": "Branded pharmaceuticals 100% announced (DOMAIN.md 3e: UNCONFIRMED); master_tariff_list.json gives 100% from 2026-09-29 with 15% caps for the EU, JP, KR, CH, LI and 10% for the UK. Scope not in the data.",
            "citation": cite("Proclamation 'Adjusting Imports of Pharmaceuticals and Pharmaceutical Ingredients' (FR Doc 2026-06956)",
                             "https://www.federalregister.gov/documents/2026/04/09/2026-06956/", ["S141"]),
        },
        {
            "id": "gap-s232-wood-vanities-parts", "component": "s232", "origins": ["*"],
            "hts_include": ["940360", "940391", "940199"], "effective_from": D("2025-10-14"), "confidence": "unconfirmed",
            "note": "Vanities (within other wooden furniture, 9403.60) and parts of kitchen cabinets, vanities and upholstered wooden furniture (9403.91, 9401.99) owe the wood 232 duty (25%, caps for UK/EU/JP/KR/TW); they are described below the HTS line, so these lines are flagged.",
            "citation": cite(wood_cite[0], wood_cite[1], wood_sources, "headings 9903.76.02-9903.76.03"),
        },
        {
            "id": "gap-s232-wood-2027", "component": "s232", "origins": ["*"],
            "origins_exclude": ["GB", "JP", "KR", "TW", *EU27], "hts_include": UPHOLSTERED_WOOD + KITCHEN_CABINETS,
            "effective_from": D("2027-01-01"), "confidence": "conflict",
            "note": "Deferred increases from 2027-01-01 (DOMAIN.md 1 and 3e): upholstered 25% -> 30% and cabinets/vanities 25% -> 50% per [S101][S102][S140], the reverse per ITCU [S103] (CONFLICT). Origins with caps keep them (measures s232-wood-gb/jp/eu/kr/tw).",
            "citation": cite(wood_cite[0], "https://www.greenworldwide.com/section-232-wood-products-tariffs-remain-unchanged-through-2026", wood_sources),
        },
    ]  # fmt: skip
    return measures, gaps


# --------------------------------------------------------------------------------------------------------
# Section 122 surcharge (moved from tariff.toml, id kept) with its product exemptions
# --------------------------------------------------------------------------------------------------------


def build_s122(shared: Path, out: Path, report: list[str]) -> tuple[list, list]:
    exempt = Table()
    with (shared / "tariff_programs_yale" / "s122_exempt_products.csv").open() as handle:
        for row in csv.DictReader(handle):
            exempt.add(row["hts8"], "yale-s122-annex")
    report.append(f"s122 exemptions: {exempt.write(out / 's122_exempt.csv')} prefixes")
    measure = {
        "id": "s122-surcharge", "component": "s122", "heading": "9903.03.01", "origins": ["*"],
        "hts_exclude_file": "s122_exempt.csv", "rate": "0.10", "stacking_group": "s122", "not_with": list(S232_GROUPS),
        "usmca_exempt": True, "effective_from": D("2026-02-24"), "effective_to": D("2026-07-24"),
        # DOMAIN.md section 8 registers the rate (10% proclaimed, 15% announced) as a CONFLICT.
        "effective_time": "12:01 a.m. EST to 12:01 a.m. EDT", "confidence": "conflict",
        "note": ("10% temporary import surcharge (Trade Act of 1974 sec. 122, 19 U.S.C. 2132). Exempt: the annex "
                 "products (9903.03.03/.04: energy, critical minerals, pharmaceuticals, certain electronics, ...) and "
                 "civil aircraft (9903.03.05), as listed in s122_exempt.csv (the Yale tracker's compilation of the "
                 "annex, UNCONFIRMED against it); Section 232 goods (9903.03.06: not_with the s232 groups; for "
                 "metal-content derivatives the non-232 portion is the gap gap-s232-non-metal-content, to 2026-04-06; from then on the metals 232 is on the full value, group s232_metals); USMCA goods of "
                 "CA/MX (9903.03.07/.08, when usmca_claim is true). NOT encoded: CAFTA-DR textiles and apparel of "
                 "CR/DO/SV/GT/HN/NI (9903.03.09: no CAFTA-DR claim field), goods in transit (9903.03.02), donations "
                 "and informational materials (9903.03.10/.11, whose use is UNCONFIRMED: DOMAIN.md 3f). The 15% announced on 2026-02-21 was never proclaimed "
                 "(CONFLICT in some sources). Its lapse on 2026-07-24 is UNCONFIRMED."),
        "citation": cite("Proclamation 'Imposing a Temporary Import Surcharge' (2026-02-20; FR Doc 2026-03824); CSMS 67844987",
                         "https://www.craneww.com/knowledge-center/trade-advisory-notices/temporary-10-import-duty-imposed-under-section-122-of-the-trade-act-of-1974",
                         ["S33", "S34", "S35", "S36"], "heading 9903.03.01"),
    }  # fmt: skip
    # DOMAIN.md 3f: exemptions .06 Sec. 232 goods, .07 USMCA CA, .08 USMCA MX [S36][S33]; 3e: 9903.03.06 [S36][S133].
    measure = exemption_headings(
        measure,
        ["S36", "S33", "S133"],
        usmca={"CA": "9903.03.07", "MX": "9903.03.08"},
        not_with=dict.fromkeys(S232_GROUPS, "9903.03.06"),
    )
    # DOMAIN.md 0.6 and 0.12 ("least-sure fact 1"): no extension or replacement was found, but that the surcharge
    # simply lapsed is UNCONFIRMED. Not charged from 2026-07-24; shown at rate 0 on the lines it covered, so the
    # doubt is visible with their duties.
    after = {
        **measure, "id": "s122-after-2026-07-24", "rate": "0", "effective_from": D("2026-07-24"),
        "effective_time": "12:01 a.m. EDT", "confidence": "unconfirmed",
        "note": ("The lines the Section 122 surcharge covered (same scope and exemptions as s122-surcharge), from "
                 "2026-07-24 12:01 a.m. EDT, when it ended by its own terms (19 U.S.C. 2132: 150 days unless "
                 "extended by Congress). No extension or replacement was found, but that it simply lapsed is "
                 "UNCONFIRMED (DOMAIN.md section 0, lines 6 and 12): charged 0, shown so that the doubt is visible; "
                 "if extended, the duty is that of s122-surcharge."),
        # DOMAIN.md 1 dates the change of 2026-07-24 to the statute's 150-day limit [S34][S133], not the
        # proclamation that imposed the 10%: the zero rate is cited to the limit, and says why it is 0.
        "citation": cite("Trade Act of 1974 sec. 122 (19 U.S.C. 2132), statutory 150-day limit: the surcharge of the "
                         "Proclamation of 2026-02-20 ends 2026-07-24 12:01 a.m. EDT unless extended by Act of Congress",
                         "https://www.junologistics.com/customs-updates/temporary-10-import-surcharge-imposed-under-section-122",
                         ["S34", "S133", *(t for t in measure["citation"]["sources"] if t not in ("S34", "S133"))],
                         "heading 9903.03.01"),
        "assumption": ("surcharge presumed lapsed on 2026-07-24 (150-day limit, 19 U.S.C. 2132; no extension found: "
                       "UNCONFIRMED, DOMAIN.md 0.12, least-sure fact 1): not charged; if extended, 10%"),
    }  # fmt: skip
    del after["effective_to"]
    return [measure, after], []


# --------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------

HEADER = """# {title}
# GENERATED by tools/build_us_measures.py from ../shared/data (see PROVENANCE.md in this folder): edit the
# script, not this file. Rates, dates and stacking follow ../shared/DOMAIN.md (source tags [Sn] in `sources`);
# uncertain facts carry confidence "unconfirmed"/"conflict" with the reason in `note`.
# stacking_group: only the lowest priority number inside a group applies to a line; not_with: the measure is
# dropped from a line that also carries a measure of one of these groups. Such a line, and a USMCA claim on goods
# a usmca_exempt measure spares, shows the measure at $0.00 saying why; usmca_exempt_headings (by origin) and
# not_with_headings (by group) give the exemption's heading where DOMAIN.md states one (for informational materials
# and U.S. content, where the HTSUS texts do: the build checks each against the measure's own heading text).
"""

PROGRAMS = {
    "s301.toml": "Section 301 (China): Lists 1, 2, 3, 4A and the 2024 four-year-review increases.",
    "ieepa_reciprocal.toml": "IEEPA reciprocal duties (EO 14257 as amended), Brazil and India IEEPA duties: 2025-04-05 to 2026-02-24.",
    "ieepa_fentanyl.toml": "IEEPA 'fentanyl/border' duties on CA and MX, 2025-03-04 to 2026-02-24 (CN/HK: tariff.toml).",
    "ieepa_informational.toml": "50 U.S.C. 1702(b)(3): informational materials, outside every IEEPA duty (zero-rate measures every IEEPA duty is not_with), 2025-02-04 to 2026-02-24.",
    "s232.toml": "Section 232: steel, aluminum, copper (annex regime from 2026-04-06), passenger vehicles, light trucks, auto parts, wood; other 232 programs as coverage gaps.",
    "s122.toml": "Section 122 temporary import surcharge: 2026-02-24 to 2026-07-24.",
}

KEEP = {"PROVENANCE.md", "LICENSE-MIT-Budget-Lab-Yale.txt"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--pack", type=Path, default=ROOT / "rules" / "us")
    args = parser.parse_args()
    out = args.pack / "measures"
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.name not in KEEP and stale.suffix in (".csv", ".toml"):
            stale.unlink()
    hts25 = Hts(args.shared / "usitc_hts" / "hts_2025_rev_32.json.gz")
    hts26 = Hts(args.shared / "usitc_hts" / "hts_2026_rev_10.json.gz")
    report: list[str] = []
    annex, info = annex_ii_tables(args.shared, [hts25, hts26], report)
    built = {
        "s301.toml": build_s301(args.shared, out, [hts25, hts26], report),
        "ieepa_reciprocal.toml": build_reciprocal(args.shared, out, [hts25, hts26], annex, report),
        "ieepa_fentanyl.toml": build_fentanyl([hts25, hts26]),
        "ieepa_informational.toml": build_informational(out, info, [hts25, hts26], report),
        "s232.toml": build_s232(args.shared, out, hts25, hts26, report),
        "s122.toml": build_s122(args.shared, out, report),
    }
    for name, (measures, gaps) in built.items():
        write_toml(out / name, HEADER.format(title=PROGRAMS[name]), measures, gaps)
        report.append(f"{name}: {len(measures)} measures, {len(gaps)} gaps")
    licence = args.shared / "tariff_programs_yale" / "LICENSE-MIT-Budget-Lab-Yale.txt"
    (out / "LICENSE-MIT-Budget-Lab-Yale.txt").write_bytes(licence.read_bytes())
    print("\n".join(report))


if __name__ == "__main__":
    main()
