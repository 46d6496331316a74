"""Turn USITC HTSUS JSON exports into the pack's tariff-line table.

Rate lines are the 8-digit lines (and the rare 10-digit line with its own rate);
10-digit statistical lines inherit the rate of their 8-digit parent, which the
engine finds by longest prefix. Successive revisions become half-open periods.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from screening.rulepack.rates import parse_general_rate
from screening.rulepack.tables import MFN_SCHEMA


@dataclass(frozen=True, slots=True)
class Revision:
    """One HTSUS export and the date from which the pack applies it."""

    label: str
    path: Path
    effective_from: dt.date


def read_rate_lines(path: Path) -> pl.DataFrame:
    """Rate lines of one export: ``hts`` (digits), ``general`` (raw text), ``units``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        rows = json.load(handle)
    records = [
        {"hts": r["htsno"].replace(".", ""), "general": (r.get("general") or "").strip()}
        for r in rows
        if r.get("htsno") and not r["htsno"].startswith("99")
    ]
    table = pl.DataFrame(records, schema={"hts": pl.String(), "general": pl.String()})
    return table.filter(
        (pl.col("hts").str.len_chars() == 8)
        | ((pl.col("hts").str.len_chars() == 10) & (pl.col("general") != ""))
    ).unique("hts", keep="first")


def build_mfn_table(revisions: Sequence[Revision], *, only: Iterable[str] | None = None) -> pl.DataFrame:
    """Merge revisions into effective-dated rows, optionally only the lines covering ``only`` codes.

    A line whose rate text is unchanged from one revision to the next keeps one
    open period; a change closes the old period where the next revision starts.
    """
    frames = [
        read_rate_lines(r.path).with_columns(
            revision=pl.lit(r.label), effective_from=pl.lit(r.effective_from, dtype=pl.Date())
        )
        for r in sorted(revisions, key=lambda r: r.effective_from)
    ]
    lines = pl.concat(frames)
    if only is not None:
        wanted = sorted({code[:8] for code in only} | set(only))
        lines = lines.filter(pl.col("hts").is_in(wanted))
    ends = {r.effective_from: _next_start(r, revisions) for r in revisions}
    merged: list[dict[str, object]] = []
    for (hts,), group in lines.sort("hts", "effective_from").group_by("hts", maintain_order=True):
        merged.extend(_periods(str(hts), group.to_dicts(), ends))
    return _with_parsed_rates(pl.DataFrame(merged))


def _next_start(revision: Revision, revisions: Sequence[Revision]) -> dt.date | None:
    later = [r.effective_from for r in revisions if r.effective_from > revision.effective_from]
    return min(later) if later else None


def _periods(
    hts: str, rows: list[dict[str, object]], ends: dict[dt.date, dt.date | None]
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for row in rows:
        start = row["effective_from"]
        assert isinstance(start, dt.date)
        if out and out[-1]["general"] == row["general"] and out[-1]["effective_to"] == start:
            out[-1]["effective_to"] = ends[start]
            out[-1]["revision"] = f"{out[-1]['revision']};{row['revision']}"
            continue
        out.append(
            {
                "hts": hts,
                "effective_from": start,
                "effective_to": ends[start],
                "general": row["general"],
                "revision": row["revision"],
            }
        )
    return out


def _with_parsed_rates(table: pl.DataFrame) -> pl.DataFrame:
    parsed = [parse_general_rate(text) for text in table["general"].to_list()]
    return table.with_columns(
        status=pl.Series([p.status for p in parsed], dtype=pl.String()),
        ad_valorem=pl.Series([p.ad_valorem for p in parsed], dtype=pl.Decimal(18, 8)),
        specific_usd=pl.Series([p.specific_usd for p in parsed], dtype=pl.Decimal(18, 8)),
        specific_unit=pl.Series([p.specific_unit for p in parsed], dtype=pl.String()),
    ).select(list(MFN_SCHEMA))


def write_mfn_csv(table: pl.DataFrame, path: Path) -> None:
    """Write the table as the pack's CSV (sorted, decimals as plain strings)."""
    table.sort("hts", "effective_from").write_csv(path)
