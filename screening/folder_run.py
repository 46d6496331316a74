"""Whole-day runs written straight into an output folder (``screen run`` without ``--batch-size``).

The day is screened in parts of whole packages against the whole day's totals
(:mod:`screening.day_parts`), so memory follows a part, not the day. Each part's lines, components
and flags are appended to their files by writing threads while the next part is screened; the
packages are routed across the whole day at the end. The outputs are those of
``screen(...).write(out)`` whatever the part size, and the new set is published atomically.
"""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Unpack

import polars as pl

from screening.day_parts import DayParts, day_totals, part_bounds, split_day
from screening.errors import UsageError
from screening.exprs.money import money_fits
from screening.io.appending import AppendingFiles
from screening.io.sorting import write_sorted
from screening.io.sources import refuse_changed_files
from screening.io.writers import (
    OutputFormat,
    discard,
    output_lock,
    publish,
    refused_when_full,
    staging_dir,
    write_frame,
    write_frames,
    write_json,
)
from screening.keyword_options import refuse_unknown_options
from screening.pipeline import (
    IN_MEMORY,
    RUN_OPTIONS,
    DayTotals,
    RunInputs,
    RunOptions,
    input_counts,
    packages_output,
    pseudonymised,
    recorded_options,
    run_inputs,
    screen_candidates,
    screen_inputs,
    sorted_rejects,
)
from screening.result import (
    SUMMARY_PACKAGE_COLUMNS,
    RowCover,
    added_totals,
    build_summary,
    check_conservation,
)
from screening.rulepack.resolved_cache import ResolvedCache
from screening.schema import PACKAGE_KEY, QUEUE_ORDER
from screening.stages import route
from screening.stages.normalise import first_rejects

#: Lines per part by default. Peak memory follows the part: measured on 2 cores at 4M lines, parts of 150k,
#: 200k, 225k and 250k peaked at 1.07, 1.23, 1.35 and 1.44 GiB (500k: 2.3 GiB), parts of 200k taking about
#: 1-3 % longer than 250k (150k: about 12 %).
PART_LINES: Final = 200_000


#: Progress of a part (after ``part I of N: ``), besides the stages of :func:`screen_candidates`.
PART_READING = "reading its lines"
PART_WRITING = "writing its lines, components and flags"


def screen_to_folder(
    source: Any,
    out: str | Path,
    *,
    fmt: OutputFormat = "parquet",
    part_lines: int = PART_LINES,
    **options: Unpack[RunOptions],
) -> tuple[dict[str, Any], float]:
    """Screen ``source`` as :func:`screening.screen` does (the same keyword options) and write every
    output into folder ``out``.

    The day is screened in parts of about ``part_lines`` lines (whole packages), each against the
    whole day's totals: the outputs are the same whatever the part size, and memory follows the part.
    The folder afterwards holds the complete new set (the same data ``screen(...).write(out)``
    writes); on failure it keeps the previous one. Returns the run summary and the wall time.

    Raises:
        TypeError: an option is not one of :func:`screening.screen`'s (a misspelt one), before anything is read
            or written.
        InputSchemaError, RulePackError, MoneyLimitError: as :func:`screening.screen` raises them.
        UsageError: as :func:`screening.screen` raises it; or ``fmt`` is unknown, ``part_lines`` is not a
            whole number of at least 1, another run is writing ``out``
            (:func:`~screening.io.writers.output_lock`), it holds a manifest or the history's packages file, or it
            cannot be replaced or written.
    """
    # Unpack[RunOptions] is not checked when the function is called: a misspelt option was ignored.
    refuse_unknown_options("screen_to_folder", options, ("fmt", "part_lines", *RUN_OPTIONS))
    if fmt not in ("parquet", "csv"):
        raise UsageError(f"unknown output format {fmt!r}: use 'parquet' or 'csv'")
    if isinstance(part_lines, bool) or not isinstance(part_lines, int) or part_lines < 1:
        raise UsageError(f"part_lines must be a whole number of at least 1, not {part_lines!r}")
    inputs = run_inputs(source, **options)
    target = Path(out)
    read = [source.path for source in inputs.sources if source.path is not None]
    with output_lock(target, read, inputs.history_files):
        staging = staging_dir(target, read, inputs.history_files)
        try:
            with refused_when_full(target, "the output folder"):
                with money_fits():
                    summary = _screen_in_parts(inputs, staging, fmt, part_lines)
                write_json(summary, staging / "summary.json")
                publish(staging, target)
        except BaseException:
            discard(staging)
            raise
    return summary, time.perf_counter() - inputs.started


def _screen_in_parts(inputs: RunInputs, staging: Path, fmt: OutputFormat, part_lines: int) -> dict[str, Any]:
    """Screen the day part by part into ``staging``; the checked summary of the run."""
    bounds = part_bounds(inputs.sources, part_lines)
    if not bounds.cuts:
        return _screen_whole(inputs, staging, fmt)
    work = staging / ".parts"
    work.mkdir()
    inputs.report("reading and validating input")
    parts = split_day(inputs.sources, inputs.pack, work, part_lines, bounds)
    tables = ResolvedCache(inputs.pack, seed=inputs.seed)
    inputs.report("totalling consignee-days")
    totals, dates, screened_dates = day_totals(parts, tables, work)
    if inputs.history is not None:
        # Every part reads it: once from its files.
        inputs.history = inputs.history.collect(engine=IN_MEMORY).lazy()
    day = _Day(inputs, tables, totals, dates, work)
    screened = _screen_parts(day, parts, staging, fmt)
    inputs.report("routing to queues")
    by_key = route.queues_by_key(pl.concat(screened.queued), day.risk)
    screened.queued.clear()
    inputs.report("writing outputs")
    summary_packages = _write_packages(day, screened.package_files, by_key, staging, fmt)
    rejects = pseudonymised("rejects", sorted_rejects(screened.rejects).collect(engine=IN_MEMORY), inputs.key)
    write_frame(rejects, staging / "rejects", fmt)
    screened.cover.add(rejects)
    counts = input_counts(inputs.sources).collect(engine=IN_MEMORY)
    refuse_changed_files(inputs.sources)  # every row read: the summary lists the bytes screened
    summary = build_summary(
        pack=inputs.pack,
        sources=inputs.sources,
        input_counts=counts,
        line_count=screened.line_count,
        packages=pl.scan_parquet(summary_packages, glob=False),
        components=added_totals(screened.money),
        rejects=rejects,
        dates=screened_dates,
        risk=day.risk,
        citations=tables.rules(dates).citations,
        options=recorded_options(inputs, day.risk),
    )
    check_conservation(summary)
    screened.cover.check_summary(summary)
    shutil.rmtree(work)
    return summary


def _screen_whole(inputs: RunInputs, staging: Path, fmt: OutputFormat) -> dict[str, Any]:
    """Screen a day that fits in one part in memory, as :func:`screening.screen` does, into ``staging``
    (no temporary files, no totals pass: the part is the day); the checked summary of the run."""
    result = screen_inputs(inputs)
    write_frames(result.frames(), staging, fmt)
    return result.summary


class _Day:
    """What every part of a day is screened with: the run's inputs, the resolved tables, the whole day's
    totals and dates, the day's risk tables, and the folder for temporary files."""

    def __init__(
        self, inputs: RunInputs, tables: ResolvedCache, totals: DayTotals, dates: list[dt.date], work: Path
    ) -> None:
        self.inputs = inputs
        self.tables = tables
        self.totals = totals
        self.dates = dates
        self.risk = tables.risk(dates)
        self.work = work


@dataclass
class _Screened:
    """The parts screened: what routing needs of the packages that go to a queue, each part's packages (in
    a temporary file, with their random sample), the rejects (validation's first) and the number of lines
    written."""

    queued: list[pl.DataFrame]
    package_files: list[Path]
    #: Each part's :func:`component_totals`.
    money: list[pl.DataFrame]
    rejects: list[pl.DataFrame]
    line_count: int
    cover: RowCover


def _screen_parts(day: _Day, parts: DayParts, staging: Path, fmt: OutputFormat) -> _Screened:
    """Screen each part, appending its lines, components and flags to their files; its packages wait in
    a temporary file for the day's routing (package keys numbered across the day)."""
    inputs = day.inputs
    screened = _Screened(
        queued=[], package_files=[], money=[], rejects=[parts.source_rejects], line_count=0, cover=RowCover()
    )
    packages_before = 0
    labels = [source.label for source in inputs.sources]
    rejected = first_rejects([parts.source_rejects], labels)
    with AppendingFiles() as files:
        for index in range(parts.count):
            label = f"part {index + 1} of {parts.count}: "
            inputs.report(label + PART_READING)
            part = screen_candidates(
                parts.part(index),
                day.tables,
                _prefixed(inputs.report, label),
                postal_method=inputs.postal_method,
                history=inputs.history,
                pseudonymise_key=inputs.key,
                day=day.totals,
                dates=day.dates,
                sources=labels,
                rejected=rejected,
            )
            inputs.report(label + PART_WRITING)
            outputs: dict[str, pl.LazyFrame | pl.DataFrame] = {
                "lines": part.lines,
                "components": part.components,
                "flags": part.flags,
            }
            for name, output in outputs.items():
                frame = pseudonymised(name, _collected(output), inputs.key)
                if name == "lines":
                    screened.line_count += frame.height
                    screened.cover.add(frame)
                files.append(staging / name, fmt, frame)
                del frame
            key = part.scored.schema[PACKAGE_KEY]
            sampled = route.with_random_sample(
                part.scored.with_columns((pl.col(PACKAGE_KEY) + packages_before).cast(key)), day.risk
            )
            packages_before += sampled.height
            screened.queued.append(route.queued_for_routing(sampled, day.risk))
            path = day.work / f"packages-{index:05d}.parquet"
            sampled.write_parquet(path, compression="lz4")
            screened.package_files.append(path)
            screened.rejects.append(part.rejects)
            screened.money.append(part.money)
            del part, sampled
    return screened


def _write_packages(
    day: _Day, package_files: list[Path], by_key: pl.DataFrame, staging: Path, fmt: OutputFormat
) -> Path:
    """Write each part's routed packages to the ``packages`` output and its queued ones to the ``queues``
    output (sorted across the day, a chunk at a time), and the columns the summary reads to a temporary
    Parquet file (whatever the output format); that file's path."""
    summary_path = day.work / "summary-packages"
    queue_rows = day.work / "queue-rows"
    with AppendingFiles() as files:
        for path in package_files:
            sampled = pl.read_parquet(path, glob=False)
            routed = route.with_dispositions(sampled, route.queued_by_key(sampled, by_key))
            files.append(queue_rows, "parquet", route.queue_rows(routed))
            frame = pseudonymised(
                "packages", packages_output(routed).collect(engine=IN_MEMORY), day.inputs.key
            )
            files.append(staging / "packages", fmt, frame)
            files.append(summary_path, "parquet", frame.select(SUMMARY_PACKAGE_COLUMNS))
            path.unlink()
    write_sorted([queue_rows.with_suffix(".parquet")], staging / "queues", fmt, QUEUE_ORDER, groups=3)
    return summary_path.with_suffix(".parquet")


def _prefixed(report: Callable[[str], None], label: str) -> Callable[[str], None]:
    """``report`` with ``label`` before every stage."""

    def prefixed(stage: str) -> None:
        report(label + stage)

    return prefixed


def _collected(frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else frame.collect(engine=IN_MEMORY)
