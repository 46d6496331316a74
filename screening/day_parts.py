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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import polars.selectors as cs

from screening import pipeline
from screening.io.sources import Source
from screening.pipeline import (
    IN_MEMORY,
    DayTotals,
    run_vocabulary,
    validate_into,
    validate_sources,
    validated_files,
)
from screening.rulepack.loader import RulePack
from screening.rulepack.resolved_cache import ResolvedCache
from screening.stages import aggregate, enrich, normalise, risk

#: The part of each validated line (in the temporary file).
PART = "__part"
#: Lines whose narrow columns are read at once for the day's totals (:func:`day_totals`).
TOTALS_LINES = 250_000
#: Columns the whole day's totals are computed from.
DAY_INPUTS = (
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
    rejects of validation. ``lines(first, last)`` reads the validated lines of parts ``first`` to ``last``
    with their :data:`PART` (from temporary Parquet files, one set per part, or, for inputs already in
    memory, from a frame)."""

    count: int
    #: Lines a part holds, about.
    part_lines: int
    source_rejects: pl.DataFrame
    lines: Callable[[int, int], pl.LazyFrame]

    def part(self, index: int) -> pl.DataFrame:
        """The validated lines of part ``index``, in input order."""
        return self.lines(index, index).drop(PART).collect(engine=IN_MEMORY)

    def lines_of(self, first: int, last: int, columns: Sequence[str]) -> pl.DataFrame:
        """``columns`` and :data:`PART` of the validated lines of parts ``first`` to ``last``, in input order
        within each part."""
        return self.lines(first, last).select(*columns, PART).collect(engine=IN_MEMORY)

    def chunks(self, lines: int) -> list[tuple[int, int]]:
        """Consecutive ranges of parts (first, last) of about ``lines`` lines each."""
        step = max(1, lines // self.part_lines)
        return [(first, min(first + step, self.count) - 1) for first in range(0, self.count, step)]

    def arrival_dates(self) -> list[dt.date]:
        """Every arrival date of the validated lines (duplicates included), sorted."""
        dates = self.lines(0, self.count - 1).select(pl.col("arrival_date").unique().drop_nulls().sort())
        return dates.collect(engine=IN_MEMORY).to_series().to_list()


@dataclass(frozen=True)
class PartBounds:
    """Where a day is cut into parts (:func:`part_bounds`)."""

    #: Package ids that start a new part, in order (none: the day is one part).
    cuts: list[str]
    #: The input's order mixes the parts: most stretches of rows hold lines of several parts.
    scattered: bool = False


def split_day(
    sources: Sequence[Source], pack: RulePack, workdir: Path, part_lines: int, bounds: PartBounds
) -> DayParts:
    """Validate ``sources`` under ``pack`` and cut the valid lines into parts of about ``part_lines``
    lines (whole packages) at ``bounds`` (:func:`part_bounds`).

    Files are validated streaming into ``workdir``. When the input comes roughly in package id order,
    into one file whose row groups a part's read mostly skips; when its order scatters the parts
    (``bounds.scattered``), each part into files of its own (slower to write, but a part is then read
    without decoding the whole day, a cost that would grow with the square of the day's size).
    """
    part = pl.sum_horizontal(
        pl.lit(0, dtype=pl.UInt32()), *[(pl.col("package_id") >= b).cast(pl.UInt32()) for b in bounds.cuts]
    ).alias(PART)
    count = len(bounds.cuts) + 1
    vocabulary = run_vocabulary(pack)
    checked = [normalise.check_source(s.frame, vocabulary) for s in sources]
    if any(s.path is not None for s in sources):
        into = workdir / "validated"
        by_part = bounds.scattered
        rejects = validate_into(sources, checked, into, columns=[part], partition=PART if by_part else None)
        schema = pl.scan_parquet(validated_files(into), glob=False).collect_schema()

        def from_files(first: int, last: int) -> pl.LazyFrame:
            if by_part:
                files = [f for index in range(first, last + 1) for f in validated_files(into, index)]
            else:
                files = validated_files(into)
            written = pl.scan_parquet(files, glob=False) if files else pl.LazyFrame(schema=schema)
            # The rows of the parts that passed every check, without what the rejects were built from.
            chosen = pl.col(normalise.CHECK_INDEX).is_null() & pl.col(PART).is_between(first, last)
            return written.filter(chosen).drop(normalise.CHECK_INDEX, cs.starts_with(normalise.HELD))

        return DayParts(count, part_lines, source_rejects=rejects, lines=from_files)
    candidates, rejects = validate_sources(
        sources, [(c.candidates(), c.rejects()) for c in checked], columns=[part]
    )

    def from_memory(first: int, last: int) -> pl.LazyFrame:
        return candidates.lazy().filter(pl.col(PART).is_between(first, last))

    return DayParts(count, part_lines, source_rejects=rejects, lines=from_memory)


#: :func:`part_bounds` judges the input's order on one package id in this many.
_SAMPLE_EVERY = 16


def part_bounds(sources: Sequence[Source], part_lines: int) -> PartBounds:
    """Package ids that start a new part: cut points of the sorted package ids, about ``part_lines``
    lines apart (none when the day is smaller). Read from the raw package ids (cheap: one column);
    a package's lines always fall in one part, whatever the cut points.

    The input is ``scattered`` when its stretches of rows (a row group of the validated file, of
    :data:`~screening.pipeline.VALIDATION_MORSEL_ROWS`) hold lines of more than three parts each on
    average: reading each part from one file would then decode the day over three times (the cost of
    writing files per part instead is less than that).
    """
    if part_lines < 1:
        raise ValueError("part_lines must be at least 1")
    readable = [s for s in sources if "package_id" in s.frame.collect_schema().names()]
    streaming = any(s.path is not None for s in readable)
    try:
        ids = (
            pl.concat([s.frame.select(pl.col("package_id").cast(pl.String())) for s in readable])
            .drop_nulls()
            .collect(engine="streaming" if streaming else IN_MEMORY)
            .to_series()
        )
    except (pl.exceptions.PolarsError, OSError):
        return PartBounds([])  # validation names the source that cannot be read
    # A lazy sort of the one-column frame: about 40 % faster than ``Series.sort`` (polars 2.1, 4M ids).
    ordered = ids.to_frame().lazy().sort("package_id").collect(engine=IN_MEMORY).to_series()
    count = -(-ids.len() // part_lines)
    cuts = [ids.len() * i // count for i in range(1, count)]
    bounds = sorted(set(ordered.gather(cuts).to_list())) if cuts else []
    del ordered
    if not bounds:
        return PartBounds([])
    # Judged on every 16th id (whose stretch still holds thousands of them), the same for the same input.
    sampled = ids.gather_every(_SAMPLE_EVERY)
    parts = pl.Series(bounds, dtype=pl.String()).search_sorted(sampled, side="right")
    rows = pipeline.VALIDATION_MORSEL_ROWS
    stretch = pl.int_range(0, ids.len(), _SAMPLE_EVERY, dtype=pl.UInt64(), eager=True) // rows
    # Distinct (stretch, part) pairs, as one integer each (parts are fewer than 2^32).
    pairs = (stretch * (1 << 32) + parts.cast(pl.UInt64())).n_unique()
    return PartBounds(bounds, scattered=pairs > 3 * -(-ids.len() // rows))


def day_totals(
    parts: DayParts, tables: ResolvedCache, workdir: Path, chunk_lines: int = TOTALS_LINES
) -> tuple[DayTotals, list[dt.date], list[dt.date]]:
    """The whole day's consignee-day and shipper-consignee-day totals, and its arrival dates, from every part:
    those of the lines kept (copies dropped), which the rules are resolved for, and those of the packages
    screened (the summary's: a package rejected whole, for a line rejected or without a rate, decides nothing).

    Computed over the lines the decisions see: duplicates dropped, lines without an exchange rate
    left out, exactly as :func:`screening.pipeline.screen_candidates` does for each part. The narrow
    columns of consecutive parts of about ``chunk_lines`` lines are read together; their partial totals
    wait in ``workdir`` (see :class:`_Partials`).
    """
    # Rates are resolved per arrival date, alone: those of every date read (duplicates included) hold
    # the rates of the dates kept.
    fx = tables.rules(parts.arrival_dates()).fx
    dates: set[dt.date] = set()
    screened_dates: set[dt.date] = set()
    consignee_days = _Partials(
        workdir / "consignee-days", aggregate.CONSIGNEE_DAY, aggregate.CONSIGNEE_DAY_TOTALS
    )
    shipper_days = _Partials(
        workdir / "shipper-consignee-days", risk.SHIPPER_CONSIGNEE_DAY, risk.SHIPPER_CONSIGNEE_DAY_TOTALS
    )
    rejected = normalise.rejected_packages([parts.source_rejects]).select(pl.col("package_id").unique())
    suffixes = pipeline.shipper_suffixes(tables.pack)
    for first, last in parts.chunks(chunk_lines):
        # Numbered as each part numbers its lines (a package's lines are all in one part).
        lines = normalise.number_lines(parts.lines_of(first, last, DAY_INPUTS))
        later = normalise.later_copies(lines)
        kept = lines.filter(~later)
        conflicting = _conflicting_keys(parts, first, last, lines.get_column("package_id").filter(later))
        del lines
        if conflicting.height:  # every version of such a line is rejected, and its package with it
            kept = kept.join(conflicting, on=normalise.LINE_KEY, how="anti", maintain_order="left")
        kept = normalise.with_package_attributes(kept)
        dates.update(kept["arrival_date"].unique().drop_nulls().to_list())
        # Packages screened not at all (a line rejected, or without a rate) count toward no total.
        without_fx = kept.filter(~enrich.has_rate(kept, fx)).select(pl.col("package_id").unique())
        incomplete = pl.concat(
            [rejected, without_fx, conflicting.select(pl.col("package_id").unique())]
        ).get_column("package_id")
        kept = kept.filter(~pl.col("package_id").is_in(incomplete.implode()))
        screened_dates.update(kept["arrival_date"].unique().drop_nulls().to_list())
        valued = enrich.add_value(enrich.with_fx(kept, fx)).collect(engine=IN_MEMORY)
        del kept
        consignee_days.add(aggregate.consignee_day_partials(valued, PART))
        shipper_days.add(risk.shipper_consignee_day_partials(valued, PART, suffixes))
    totals = DayTotals(
        consignee_days=consignee_days.spanning(), shipper_consignee_days=shipper_days.spanning()
    )
    return totals, sorted(dates), sorted(screened_dates)


def _conflicting_keys(parts: DayParts, first: int, last: int, repeated: pl.Series) -> pl.DataFrame:
    """The keys (``package_id``, ``line_no``) that parts ``first`` to ``last`` give in lines of different
    content (:func:`~screening.stages.normalise.conflicting_keys`). ``repeated``: the packages of their lines
    that repeat a key; only those packages (none in most days) are read whole."""
    if not repeated.len():
        return pl.DataFrame(schema={"package_id": pl.String(), "line_no": pl.Int64()})
    columns = [*normalise.LINE_KEY, *normalise.LINE_CONTENT]
    packages = parts.lines(first, last).filter(pl.col("package_id").is_in(repeated.unique().implode()))
    # Numbered as above: a package's lines keep their order, so its unnumbered lines the same numbers.
    whole = normalise.number_lines(packages.select(columns).collect(engine=IN_MEMORY))
    return normalise.conflicting_keys(whole)


#: A hash of a partial table's key columns (:class:`_Partials`).
_KEY_HASH = "__key_hash"


class _Partials:
    """Partial totals of one kind of key (a consignee-day, a shipper-consignee-day), chunk by chunk.

    A day has millions of keys but few span parts. Each chunk's partial table is written to a
    Parquet file in ``folder``; memory keeps a 64-bit hash of each key and the parts it was seen in.
    A hash seen in more than one part is a key in several parts, or several keys sharing the hash: the
    partial rows of those hashes are then read back and summed by the key itself, which keeps exactly
    the keys in several parts (:func:`screening.stages.aggregate.spanning_totals`).
    """

    def __init__(self, folder: Path, keys: Sequence[str], totals: pl.Schema) -> None:
        self.folder = folder
        self.keys = list(keys)
        self.totals = totals
        self.files: list[Path] = []
        self.seen: list[pl.DataFrame] = []
        folder.mkdir()

    def add(self, partial: pl.DataFrame) -> None:
        """Keep one chunk's partial totals (:func:`~screening.stages.aggregate.consignee_day_partials` or
        :func:`~screening.stages.risk.shipper_consignee_day_partials`)."""
        hashed = partial.with_columns(pl.struct(self.keys).hash().alias(_KEY_HASH))
        path = self.folder / f"{len(self.files):05d}.parquet"
        hashed.write_parquet(path, compression="lz4")
        self.files.append(path)
        self.seen.append(hashed.select(_KEY_HASH, aggregate.PARTS_SEEN))

    def spanning(self) -> pl.DataFrame:
        """The exact totals of the keys with lines in more than one part."""
        if not self.files:
            return pl.DataFrame(schema={**{k: pl.String() for k in self.keys}, **self.totals})
        seen = (
            pl.concat(self.seen)
            .group_by(_KEY_HASH)
            .agg(pl.col(aggregate.PARTS_SEEN).sum())
            .filter(pl.col(aggregate.PARTS_SEEN) > 1)
            .get_column(_KEY_HASH)
        )
        self.seen.clear()
        candidates = (
            pl.scan_parquet(self.files, glob=False)
            .filter(pl.col(_KEY_HASH).is_in(seen.implode()))
            .drop(_KEY_HASH)
            .collect(engine=IN_MEMORY)
        )
        return aggregate.spanning_totals([candidates], self.keys, self.totals)
