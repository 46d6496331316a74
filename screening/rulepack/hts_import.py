"""Turn USITC HTSUS JSON exports into the pack's tariff-line table.

Rate lines are the 8-digit lines (and the 10-digit lines that carry their own
rate); other 10-digit statistical lines inherit the rate of their 8-digit parent,
which the engine finds by longest prefix. Revisions are merged in date order
into half-open periods: a line whose rate texts did not change keeps its period
open; a changed or deleted line is closed where the new revision starts.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl

from screening.errors import RulePackError
from screening.rulepack.rates import parse_special_rate
from screening.rulepack.tables import MFN_SCHEMA, parsed_rates

TEXT_COLUMNS = ("general", "usmca_text")
#: Chapters whose lines the tariff table never holds (:func:`read_rate_lines` skips them). A measure's list may
#: still name their codes: the engine matches a list against the code declared, not against the table.
CHAPTERS_NOT_IN_TABLE: Final = ("98", "99")


@dataclass(frozen=True, slots=True)
class Revision:
    """One HTSUS export and the date from which the pack applies it."""

    label: str
    path: Path
    effective_from: dt.date


@dataclass(frozen=True, slots=True)
class Coverage:
    """How many rate lines (chapters 1-97) parse into a structured rate.

    ``computable`` rates draw only on value, quantity and gross weight;
    ``needs_part_values`` rates are fully structured but charged on parts of the good
    (watch cases, batteries, jewels) that a manifest line does not carry. Both are
    parsed; the rest keep their text as ``not-computable``.
    """

    rate_lines: int
    computable: int
    needs_part_values: int = 0

    @property
    def parsed(self) -> int:
        """Rate lines parsed into a structured rate (computable or needing part values)."""
        return self.computable + self.needs_part_values

    @property
    def share(self) -> float:
        """Parsed (structured) share of rate lines (1.0 when there are none)."""
        return self.parsed / self.rate_lines if self.rate_lines else 1.0

    @property
    def computable_share(self) -> float:
        """Share of rate lines the engine computes from value, quantity and weight alone."""
        return self.computable / self.rate_lines if self.rate_lines else 1.0


def read_rate_lines(path: Path) -> pl.DataFrame:
    """Rate lines of one export: ``hts`` (digits), ``general``, ``usmca_text`` (null: no USMCA preference) and
    ``units``: the units of quantity (``doz.|kg``), the line's own or, for an 8-digit line, those of its
    10-digit statistical lines."""
    rows = _export_rows(path)
    records = []
    child_units: dict[str, list[str]] = {}
    for row in rows:
        code = (row.get("htsno") or "").replace(".", "")
        general = (row.get("general") or "").strip()
        if not code or code.startswith(CHAPTERS_NOT_IN_TABLE) or len(code) not in (8, 10):
            continue
        units = [" ".join(str(u).split()) for u in row.get("units") or [] if str(u).strip()]
        if len(code) == 10 and not general:
            known = child_units.setdefault(code[:8], [])
            known += [u for u in units if u not in known]
            continue
        special = parse_special_rate(row.get("special") or "")
        records.append(
            {
                "hts": code,
                "general": general,
                "usmca_text": special[0] if special else None,
                "units": "|".join(units) or None,
            }
        )
    schema = {"hts": pl.String(), "general": pl.String(), "usmca_text": pl.String(), "units": pl.String()}
    inherited = pl.DataFrame(
        {"hts": list(child_units), "child_units": ["|".join(u) or None for u in child_units.values()]},
        schema={"hts": pl.String(), "child_units": pl.String()},
    )
    return (
        pl.DataFrame(records, schema=schema)
        .unique("hts", keep="first", maintain_order=True)
        .join(inherited, on="hts", how="left", maintain_order="left")
        .select("hts", "general", "usmca_text", pl.coalesce("units", "child_units").alias("units"))
    )


#: An in-quota line of a tariff-rate quota: "Described in additional U.S. note 3 to this chapter and
#: entered pursuant to its provisions" (also "U.S. note 20 to this subchapter", "U.S.note 18").
_IN_QUOTA: Final = re.compile(
    r"described in (?:additional )?u\.s\.\s?note \d+ to (?:this (?:chapter|subchapter)|chapter \d+) "
    r"and entered pursuant to its provisions",
    re.IGNORECASE,
)


def tariff_rate_quota_lines(path: Path) -> list[str]:
    """8-digit lines (chapters 1-97) of the export under a tariff-rate quota, sorted.

    A quota's in-quota line is described by an additional U.S. note "and entered pursuant
    to its provisions"; its over-quota ("Other") lines are its siblings under the same
    parent row within the same 6-digit subheading. Both are quota goods.
    """
    rows = _export_rows(path)
    indents = [int(row.get("indent") or 0) for row in rows]
    codes = [(row.get("htsno") or "").replace(".", "") for row in rows]
    quota: set[str] = set()
    for index, row in enumerate(rows):
        code = codes[index]
        description = row.get("description") or ""
        if not code or code.startswith(CHAPTERS_NOT_IN_TABLE) or not _IN_QUOTA.search(description):
            continue
        depth = indents[index]
        start = index
        while start > 0 and indents[start - 1] >= depth:
            start -= 1
        end = index + 1
        while end < len(rows) and indents[end] >= depth:
            end += 1
        quota.update(c[:8] for c in codes[start:end] if len(c) >= 8 and c[:6] == code[:6])
    return sorted(quota)


def column2_rate_lines(path: Path) -> list[str]:
    """Rate lines (chapters 1-97: the 8-digit lines, and the 10-digit lines with their own rate) whose column 2
    rate text (``other``: the countries of general note 3(b)) differs from the column 1 general rate, sorted:
    the lines on which goods of those countries owe more than the tariff table charges."""
    lines: set[str] = set()
    for row in _export_rows(path):
        code = (row.get("htsno") or "").replace(".", "")
        general = " ".join((row.get("general") or "").split())
        if not code or code.startswith(CHAPTERS_NOT_IN_TABLE) or len(code) not in (8, 10) or not general:
            continue
        if " ".join((row.get("other") or "").split()) != general:
            lines.add(code)
    return sorted(lines)


def _export_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of a USITC JSON export (gzip or plain)."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            rows = json.load(handle)
    except (OSError, ValueError, RecursionError) as exc:
        raise RulePackError(str(path), "", f"not a readable USITC JSON export: {exc}") from exc
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise RulePackError(str(path), "", "not a USITC JSON export: expected a list of rows (JSON objects)")
    if not any(row.get("htsno") for row in rows):
        raise RulePackError(str(path), "", "not a USITC JSON export: no row has an `htsno`")
    return rows


def ended_lines(before: pl.DataFrame, after: pl.DataFrame) -> int:
    """How many lines open in ``before`` are closed in ``after`` (changed or gone in the new revision)."""
    open_before = before.filter(pl.col("effective_to").is_null()).select("hts", "effective_from")
    closed_after = after.filter(pl.col("effective_to").is_not_null()).select("hts", "effective_from")
    return int(open_before.join(closed_after, on=["hts", "effective_from"], how="semi").height)


def chapters_left_out(existing: pl.DataFrame, lines: pl.DataFrame) -> list[str]:
    """The chapters with open lines in ``existing`` that the export ``lines`` has no line in: merged, every
    such line would end (a partial export, not a revision that deletes whole chapters)."""
    open_chapters = set(existing.filter(pl.col("effective_to").is_null())["hts"].str.slice(0, 2).to_list())
    return sorted(open_chapters - set(lines["hts"].str.slice(0, 2).to_list()))


def coverage(lines: pl.DataFrame) -> Coverage:
    """Parse coverage of a revision's rate lines (lines with a general rate text)."""
    rated = lines.filter(pl.col("general") != "")
    parsed = parsed_rates(rated["general"])
    statuses = rated.join(parsed, left_on="general", right_on="text")["status"]
    return Coverage(
        rate_lines=rated.height,
        computable=int((statuses == "computable").sum()),
        needs_part_values=int((statuses == "needs-part-values").sum()),
    )


def build_mfn_table(revisions: Sequence[Revision], *, only: Iterable[str] | None = None) -> pl.DataFrame:
    """Merge revisions (any order given; applied by date), optionally only the lines covering ``only``."""
    table: pl.DataFrame | None = None
    for revision in sorted(revisions, key=lambda r: r.effective_from):
        lines = read_rate_lines(revision.path)
        if only is not None:
            wanted = sorted({code[:8] for code in only} | set(only))
            lines = lines.filter(pl.col("hts").is_in(wanted))
        table = merge_revision(table, lines, revision)
    assert table is not None, "no revisions given"
    return table


def merge_revision(existing: pl.DataFrame | None, lines: pl.DataFrame, revision: Revision) -> pl.DataFrame:
    """Add one revision to the table: close changed or deleted open lines, open new ones.

    Raises:
        RulePackError: the revision is not later than every period already in the table.
    """
    start = revision.effective_from
    if not revision.label.strip() or ";" in revision.label:
        raise RulePackError(revision.label, "revision", "a revision label must be non-empty and hold no ';'")
    if (
        existing is not None
        and existing.height
        and existing["revision"].str.split(";").list.contains(revision.label).any()
    ):
        raise RulePackError(revision.label, "revision", "this revision is already in the table")
    new = _with_parsed_rates(lines).with_columns(
        effective_from=pl.lit(start, dtype=pl.Date()),
        effective_to=pl.lit(None, dtype=pl.Date()),
        revision=pl.lit(revision.label),
    )
    if existing is None or existing.height == 0:
        return new.select(list(MFN_SCHEMA)).sort("hts", "effective_from")
    latest = existing.select(pl.col("effective_from").max()).item()
    if isinstance(latest, dt.date) and latest >= start:
        raise RulePackError(
            revision.label, "effective_from", f"must be after the latest period start {latest.isoformat()}"
        )
    is_open = pl.col("effective_to").is_null()
    open_rows = existing.filter(is_open)
    same = open_rows.join(
        new.select("hts", *TEXT_COLUMNS), on=["hts", *TEXT_COLUMNS], how="semi", nulls_equal=True
    )
    extended = (
        same.drop("units")
        .join(new.select("hts", "units"), on="hts", how="left")
        .with_columns(pl.concat_str(pl.col("revision"), pl.lit(f";{revision.label}")).alias("revision"))
    )
    closed = open_rows.join(same.select("hts"), on="hts", how="anti").with_columns(
        pl.lit(start, dtype=pl.Date()).alias("effective_to")
    )
    opened = new.join(same.select("hts"), on="hts", how="anti")
    return (
        pl.concat([f.select(list(MFN_SCHEMA)) for f in (existing.filter(~is_open), closed, extended, opened)])
        .select(list(MFN_SCHEMA))
        .sort("hts", "effective_from")
    )


def _with_parsed_rates(lines: pl.DataFrame) -> pl.DataFrame:
    general = parsed_rates(lines["general"])
    usmca = parsed_rates(lines["usmca_text"]).rename(lambda c: c if c == "text" else f"usmca_{c}")
    return (
        lines.join(general, left_on="general", right_on="text", how="left")
        .join(usmca, left_on="usmca_text", right_on="text", how="left")
        .with_columns(pl.col("status").fill_null("not-computable"))
    )


def write_mfn_csv(table: pl.DataFrame, path: Path, *, parquet: bool = False) -> None:
    """Write the table as the pack's CSV (sorted, decimals as plain strings), or as Parquet."""
    ordered = table.select(list(MFN_SCHEMA)).sort("hts", "effective_from")
    if parquet:
        ordered.write_parquet(path)
    else:
        ordered.write_csv(path)
