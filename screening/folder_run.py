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
from pathlib import Path
from typing import Any, Final, Unpack

import polars as pl

from screening.day_parts import DayParts, day_totals, split_day
from screening.io.appending import AppendingFile
from screening.io.writers import OutputFormat, discard, publish, staging_dir, write_frames, write_json
from screening.pipeline import (
    IN_MEMORY,
    DayTotals,
    RunInputs,
    RunOptions,
    input_counts,
    packages_output,
    pseudonymised,
    queues_output,
    recorded_options,
    run_inputs,
    screen_candidates,
    sorted_rejects,
)
from screening.result import build_summary, check_conservation
from screening.rulepack.resolved_cache import ResolvedCache
from screening.schema import PACKAGE_KEY
from screening.stages import route

#: Lines per part by default: about 1 GiB at the peak, and within a few percent of the whole day's speed.
PART_LINES: Final = 500_000


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
    """
    inputs = run_inputs(source, **options)
    target = Path(out)
    staging = staging_dir(target)
    try:
        summary = _screen_in_parts(inputs, staging, fmt, part_lines)
        write_json(summary, staging / "summary.json")
        publish(staging, target)
    except BaseException:
        discard(staging)
        raise
    return summary, time.perf_counter() - inputs.started


def _screen_in_parts(inputs: RunInputs, staging: Path, fmt: OutputFormat, part_lines: int) -> dict[str, Any]:
    """Screen the day part by part into ``staging``; the checked summary of the run."""
    work = staging / ".parts"
    work.mkdir()
    inputs.report("reading and validating input")
    parts = split_day(inputs.sources, inputs.pack, work, part_lines)
    tables = ResolvedCache(inputs.pack, seed=inputs.seed)
    inputs.report("totalling consignee-days")
    totals, dates = day_totals(parts, tables)
    if inputs.history is not None:
        # Every part reads it: once from its files.
        inputs.history = inputs.history.collect(engine=IN_MEMORY).lazy()
    scored, rejects, line_count = _screen_parts(inputs, parts, tables, totals, dates, staging, fmt)
    shutil.rmtree(work)
    inputs.report("routing to queues")
    risk_inputs = tables.risk(dates)
    routed = route.route_packages(pl.concat(scored), risk_inputs, None)
    del scored
    packages = pseudonymised("packages", packages_output(routed).collect(engine=IN_MEMORY), inputs.key)
    all_rejects = pseudonymised("rejects", sorted_rejects(rejects).collect(engine=IN_MEMORY), inputs.key)
    inputs.report("writing outputs")
    write_frames(
        {"packages": packages, "queues": queues_output(routed), "rejects": all_rejects}, staging, fmt
    )
    summary = build_summary(
        pack=inputs.pack,
        sources=inputs.sources,
        input_counts=input_counts(inputs.sources).collect(engine=IN_MEMORY),
        line_count=line_count,
        packages=packages,
        rejects=all_rejects,
        dates=dates,
        risk=risk_inputs,
        citations=tables.rules(dates).citations,
        options=recorded_options(inputs, risk_inputs),
    )
    check_conservation(summary)
    return summary


def _screen_parts(
    inputs: RunInputs,
    parts: DayParts,
    tables: ResolvedCache,
    totals: DayTotals,
    dates: list[dt.date],
    staging: Path,
    fmt: OutputFormat,
) -> tuple[list[pl.DataFrame], list[pl.DataFrame], int]:
    """Screen each part, appending its lines, components and flags to their files.

    Returns the scored packages of every part (package keys numbered across the day), the rejects
    (validation's first) and the number of lines written.
    """
    files: dict[str, AppendingFile] = {}
    scored: list[pl.DataFrame] = []
    rejects = [parts.source_rejects]
    line_count = packages_before = 0
    try:
        for index in range(parts.count):
            inputs.report(f"screening part {index + 1} of {parts.count}")
            screened = screen_candidates(
                parts.part(index),
                tables,
                postal_method=inputs.postal_method,
                history=inputs.history,
                history_key=inputs.key,
                day=totals,
                dates=dates,
            )
            outputs: dict[str, pl.LazyFrame | pl.DataFrame] = {
                "lines": screened.lines,
                "components": screened.components,
                "flags": screened.flags,
            }
            for name, output in outputs.items():
                frame = pseudonymised(name, _collected(output), inputs.key)
                line_count += frame.height if name == "lines" else 0
                if name not in files:
                    files[name] = AppendingFile(staging / name, fmt, frame.schema)
                files[name].append(frame)
                del frame
            scored.append(
                screened.scored.with_columns(
                    (pl.col(PACKAGE_KEY) + packages_before).cast(screened.scored.schema[PACKAGE_KEY])
                )
            )
            packages_before += screened.scored.height
            rejects.append(screened.rejects)
            del screened
        for file in files.values():
            file.close()
    except BaseException:
        for file in files.values():
            file.abort()
        raise
    return scored, rejects, line_count


def _collected(frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else frame.collect(engine=IN_MEMORY)
