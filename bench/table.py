"""Print the comparison table from a pytest-benchmark JSON file (``--benchmark-json``).

    python -m bench.table bench.json

Wall time is the median of the timed rounds (in the benchmark's process, which made the manifest);
the fresh-process wall time, CPU time and peak memory (whole process) come from one more run in a
fresh process, as ``screen run`` starts. The per-row baseline runs on a slice: its time on the whole file
is extrapolated (marked ``≈``): what it spends once per run (its pack tables, ``fixed_*`` in
``extra_info``) counted once, the rest scaled by the file's lines over the slice's; lines per second
are the file's lines over that time. Its peak memory is the slice's own, marked ``(slice)``: a run over the
whole file would hold more. ``× floor`` is the contender's wall time over the floor's, ``CPU × floor`` and
``peak × floor`` the same for CPU time and peak memory (fresh processes); ``× engine`` is the contender's wall
time over the whole-day engine's (below 1: the contender is faster).
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path
from typing import Any

ORDER = ("floor", "engine", "engine-batches", "screener", "duckdb", "per-row")
LABELS = {
    "floor": "floor: polars read → write Parquet (zstd)",
    "engine": "screening, whole day, all outputs",
    "engine-batches": "screening.Screener, 50k-line batches, all outputs",
    "screener": "screening.Screener, 50k-line Arrow batches in memory, all results",
    "duckdb": "DuckDB SQL, core decisions only",
    "per-row": "per-row Python + pydantic, core decisions only",
}


def rows_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per contender: wall (s, whole file), cpu (s), peak (bytes), lines per second, extrapolated?"""
    out: dict[str, dict[str, Any]] = {}
    for bench in report["benchmarks"]:
        info = bench.get("extra_info", {})
        if "contender" not in info:
            continue
        median = float(bench["stats"]["median"])
        scale = info["manifest_rows"] / info["rows_processed"]
        wall = _scaled(median, float(info.get("fixed_wall_s", 0.0)), scale)
        out[info["contender"]] = {
            "rows": info["manifest_rows"],
            "wall_s": wall,
            "cpu_s": _scaled(float(info["cpu_s"]), float(info.get("fixed_cpu_s", 0.0)), scale),
            "fresh_wall_s": _scaled(
                float(info["fresh_process_wall_s"]), float(info.get("fresh_fixed_wall_s", 0.0)), scale
            )
            if "fresh_process_wall_s" in info
            else None,
            "peak_rss_bytes": int(info["peak_rss_bytes"]),
            "lines_per_s": info["manifest_rows"] / wall,
            "extrapolated": scale != 1,
        }
    return out


def _scaled(seconds: float, fixed: float, scale: float) -> float:
    """A slice's time on the whole file: its fixed part once, the rest ``scale`` times."""
    return fixed + (seconds - fixed) * scale


def render(report: dict[str, Any]) -> str:
    """The table as Markdown, with the machine and versions above it."""
    rows = rows_of(report)
    machine = report.get("machine_info", {})
    lines_in = next(iter(rows.values()))["rows"] if rows else 0
    floor = rows.get("floor", {}).get("wall_s")
    floor_cpu = rows.get("floor", {}).get("cpu_s")
    floor_peak = rows.get("floor", {}).get("peak_rss_bytes")
    engine = rows.get("engine", {}).get("wall_s")
    head = [
        f"{lines_in:,} lines · {machine.get('cpu', {}).get('count', '?')} cores · "
        f"Python {machine.get('python_version', platform.python_version())} · {report.get('datetime', '')[:10]}",
        "",
        "| contender | wall s | × floor | × engine | fresh process: wall s | CPU s | CPU × floor | peak RSS "
        "| peak × floor | lines/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    body = []
    for name in ORDER:
        if name not in rows:
            # Not run, or its test failed (a contender's measurements are recorded once its checks pass).
            body.append(f"| {LABELS[name]} | not in this report |  |  |  |  |  |  |  |  |")
            continue
        row = rows[name]
        approx = "≈" if row["extrapolated"] else ""
        ratio = f"{approx}{row['wall_s'] / floor:.2f}" if floor else "n/a"
        faster = (
            f"{approx}{row['wall_s'] / engine:.2f}×" if engine and name not in ("engine", "floor") else ""
        )
        fresh = f"{approx}{row['fresh_wall_s']:.2f}" if row["fresh_wall_s"] is not None else ""
        cpu_ratio = f"{approx}{row['cpu_s'] / floor_cpu:.2f}" if floor_cpu else "n/a"
        slice_ = " (slice)" if row["extrapolated"] else ""
        peak_ratio = f"{row['peak_rss_bytes'] / floor_peak:.2f}{slice_}" if floor_peak else "n/a"
        body.append(
            f"| {LABELS[name]} | {approx}{row['wall_s']:.2f} | {ratio} | {faster} | {fresh} | "
            f"{approx}{row['cpu_s']:.2f} | {cpu_ratio} | {row['peak_rss_bytes'] / 2**30:.2f} GiB{slice_} | "
            f"{peak_ratio} | {approx}{row['lines_per_s']:,.0f} |"
        )
    stages = next(
        (b["extra_info"]["stages"] for b in report["benchmarks"] if "stages" in b.get("extra_info", {})), None
    )
    if stages:
        total = sum(stages.values())
        body += ["", "| engine stage | s | share |", "|---|---:|---:|"]
        body += [f"| {name} | {sec:.2f} | {sec / total:.0%} |" for name, sec in stages.items()]
    return "\n".join(head + body)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("report", type=Path, help="pytest-benchmark JSON (--benchmark-json)")
    args = parser.parse_args(argv)
    print(render(json.loads(args.report.read_text())))


if __name__ == "__main__":
    main()
