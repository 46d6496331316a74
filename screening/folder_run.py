"""Whole-day runs written straight into an output folder (``screen run`` without ``--batch-size``).

Each output is collected, handed to a writing thread, and let go while the next one is collected,
so the run never holds every output at once and files are encoded while the engine works. The new
set is published atomically, as :meth:`screening.Result.write` does.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Unpack

import polars as pl

from screening.io.writers import OutputFormat, discard, publish, staging_dir, write_frame, write_json
from screening.pipeline import IN_MEMORY, PreparedRun, RunOptions, prepare_run, pseudonymised
from screening.result import build_summary, check_conservation

#: Outputs in the order they are collected: the largest first, to free the plan's frames early.
_ORDER = ("lines", "components", "packages", "flags", "queues", "rejects")


def screen_to_folder(
    source: Any, out: str | Path, *, fmt: OutputFormat = "parquet", **options: Unpack[RunOptions]
) -> tuple[dict[str, Any], float]:
    """Screen ``source`` as :func:`screening.screen` does (the same keyword options) and write every
    output into folder ``out``.

    The folder afterwards holds the complete new set (the same files ``screen(...).write(out)``
    writes); on failure it keeps the previous one. Returns the run summary and the wall time.
    """
    run = prepare_run(source, **options)
    target = Path(out)
    staging = staging_dir(target)
    try:
        summary = _write_outputs(run, staging, fmt)
        write_json(summary, staging / "summary.json")
        publish(staging, target)
    except BaseException:
        discard(staging)
        raise
    return summary, time.perf_counter() - run.started


def _write_outputs(run: PreparedRun, staging: Path, fmt: OutputFormat) -> dict[str, Any]:
    """Collect and write each output in turn; the checked summary of the run."""
    outputs = run.plan.take_outputs()
    kept: dict[str, pl.DataFrame] = {}
    line_count = 0
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening-output") as writer:
        pending: Future[Path] | None = None
        for name in _ORDER:
            frame = pseudonymised(name, _collected(outputs.pop(name)), run.key)
            if name == "lines":
                line_count = frame.height
            if name in ("packages", "rejects"):
                kept[name] = frame  # the summary reads them
            if pending is not None:
                pending.result()
            pending = writer.submit(write_frame, frame, staging / name, fmt)
            del frame
        if pending is not None:
            pending.result()
    summary = build_summary(
        pack=run.pack,
        sources=run.sources,
        input_counts=_collected(outputs.pop("input_counts")),
        line_count=line_count,
        packages=kept["packages"],
        rejects=kept["rejects"],
        dates=run.plan.dates,
        risk=run.plan.risk,
        citations=run.plan.citations,
        options=run.options,
    )
    check_conservation(summary)
    return summary


def _collected(frame: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    return frame if isinstance(frame, pl.DataFrame) else frame.collect(engine=IN_MEMORY)
