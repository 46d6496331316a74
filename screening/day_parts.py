"""A whole day screened in parts, so memory follows a part and not the day.

The $800 rule does not stream by nature: no line is final until its consignee-day is complete
(DESIGN §7). So the day is cut into parts of whole packages, and the totals that cross packages are
computed for the whole day first:

1. every source is validated once, streaming, into a temporary Parquet file; each line is marked
   with its part, a range of package ids (:func:`split_day`);
2. the parts' narrow columns give the whole day's arrival dates and its consignee-day and
   shipper-consignee-day totals (:func:`day_totals`);
3. each part is screened against those totals (:func:`screening.pipeline.screen_candidates`). Parts
   come in package id order, so their outputs put end to end are the whole day's outputs.

Routing (ranks and quotas across the day) runs once, on all the packages, at the end
(:mod:`screening.folder_run`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from screening.io.sources import Source
from screening.pipeline import IN_MEMORY, DayTotals, run_vocabulary, validate_sources
from screening.rulepack.loader import RulePack
from screening.rulepack.resolved_cache import ResolvedCache
from screening.schema import ROW_COL, SOURCE_COL
from screening.stages import aggregate, enrich, normalise, risk

#: The part of each validated line (in the temporary file).
PART = "__part"
#: Columns the whole day's totals are computed from.
DAY_INPUTS = (
    SOURCE_COL,
    ROW_COL,
    "package_id",
    "line_no",
    "arrival_date",
    "currency",
    "declared_value",
    "gift",
    "consignee_key",
    "shipper_name",
    "shipper_country",
)


@dataclass
class DayParts:
    """A day's validated lines cut into ``count`` parts of whole packages, in package id order, and the
    rejects of validation. The lines are in a temporary Parquet file (``file``) or, for inputs already
    in memory, in ``frame``."""

    count: int
    source_rejects: pl.DataFrame
    file: Path | None
    frame: pl.DataFrame | None

    def part(self, index: int, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """The validated lines of part ``index`` (``columns`` of them), in input order."""
        lines = pl.scan_parquet(self.file) if self.file is not None else self._frame().lazy()
        chosen = lines.filter(pl.col(PART) == index)
        chosen = chosen.select(columns) if columns is not None else chosen.drop(PART)
        return chosen.collect(engine=IN_MEMORY)

    def arrival_dates(self) -> list[dt.date]:
        """Every arrival date of the validated lines (duplicates included), sorted."""
        lines = pl.scan_parquet(self.file) if self.file is not None else self._frame().lazy()
        found = lines.select(pl.col("arrival_date").unique().drop_nulls().sort()).collect(engine=IN_MEMORY)
        return found.to_series().to_list()

    def _frame(self) -> pl.DataFrame:
        assert self.frame is not None, "a day in parts holds its lines in a file or a frame"
        return self.frame


def split_day(sources: Sequence[Source], pack: RulePack, workdir: Path, part_lines: int) -> DayParts:
    """Validate ``sources`` under ``pack`` and cut the valid lines into parts of about ``part_lines``
    lines (whole packages). Files are validated streaming into ``workdir``."""
    bounds = _part_bounds(sources, part_lines)
    part = pl.sum_horizontal(
        pl.lit(0, dtype=pl.UInt32()), *[(pl.col("package_id") >= b).cast(pl.UInt32()) for b in bounds]
    ).alias(PART)
    checked = [normalise.split_source(s.frame, run_vocabulary(pack)) for s in sources]
    into = workdir / "validated.parquet" if any(s.path is not None for s in sources) else None
    candidates, rejects = validate_sources(sources, checked, into=into, columns=[part])
    return DayParts(count=len(bounds) + 1, source_rejects=rejects, file=into, frame=candidates)


def _part_bounds(sources: Sequence[Source], part_lines: int) -> list[str]:
    """Package ids that start a new part: cut points of the sorted package ids, about ``part_lines``
    lines apart (none when the day is smaller). Read from the raw package ids (cheap: one column);
    a package's lines always fall in one part, whatever the cut points."""
    if part_lines < 1:
        raise ValueError("part_lines must be at least 1")
    readable = [s for s in sources if "package_id" in s.frame.collect_schema().names()]
    streaming = any(s.path is not None for s in readable)
    try:
        ids = (
            pl.concat([s.frame.select(pl.col("package_id").cast(pl.String())) for s in readable])
            .drop_nulls()
            .sort("package_id")
            .collect(engine="streaming" if streaming else IN_MEMORY)
            .to_series()
        )
    except (pl.exceptions.PolarsError, OSError):
        return []  # validation names the source that cannot be read
    count = -(-ids.len() // part_lines)
    cuts = [ids.len() * i // count for i in range(1, count)]
    return sorted(set(ids.gather(cuts).to_list())) if cuts else []


def day_totals(parts: DayParts, tables: ResolvedCache) -> tuple[DayTotals, list[dt.date]]:
    """The whole day's consignee-day and shipper-consignee-day totals, and its arrival dates, from every part.

    Computed over the lines the decisions see: duplicates dropped, lines without an exchange rate
    left out, exactly as :func:`screening.pipeline.screen_candidates` does for each part.
    """
    # Rates are resolved per arrival date, alone: those of every date read (duplicates included) hold
    # the rates of the dates kept.
    fx = tables.rules(parts.arrival_dates()).fx
    dates: set[dt.date] = set()
    consignee_days, shipper_days = [], []
    for index in range(parts.count):
        lines = parts.part(index, DAY_INPUTS)
        kept = lines.filter(~normalise.later_copies(lines))
        del lines
        dates.update(kept["arrival_date"].unique().drop_nulls().to_list())
        valued = enrich.add_value(enrich.with_fx(kept, fx)).collect(engine=IN_MEMORY)
        consignee_days.append(aggregate.consignee_day_partials(valued))
        shipper_days.append(risk.shipper_consignee_day_partials(valued))
    totals = DayTotals(
        consignee_days=aggregate.spanning_totals(
            consignee_days, aggregate.CONSIGNEE_DAY, aggregate.CONSIGNEE_DAY_TOTALS
        ),
        shipper_consignee_days=aggregate.spanning_totals(
            shipper_days, risk.SHIPPER_CONSIGNEE_DAY, risk.SHIPPER_CONSIGNEE_DAY_TOTALS
        ),
    )
    return totals, sorted(dates)
