"""Fail on a regression: compare a benchmark run with a saved baseline (for quiet machines).

    python -m bench.compare BASELINE.json CURRENT.json [--threshold 0.15]

Compares the median wall time of every benchmark of the baseline with the current run's.

Exit codes:
    0  no benchmark slower than the baseline by more than ``threshold``;
    1  a regression, a benchmark of the baseline missing from the current run, or a benchmark of the current
       run that failed, whether or not the baseline has it (a contender that failed or was deselected must
       not pass as "no regression"): a benchmark counts only when it recorded ``extra_info["checked"]``,
       which each benchmark does after its checks pass (pytest-benchmark keeps the timing of a benchmark
       whose assertion failed after the timed call);
    2  the files cannot be compared: missing or not pytest-benchmark JSON, a median that is not a positive
       number, no checked benchmark in common, or runs over manifests of different sizes.

Runs from different machines (CPU count, processor, Python version) are compared with a warning:
timings only compare on one machine. CI prints timings but does not gate on them: shared runners are
too noisy.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any


class CompareError(Exception):
    """Two runs that cannot be compared; the message says why."""


def load(path: Path) -> dict[str, Any]:
    """A pytest-benchmark JSON report, or :class:`CompareError` naming the file."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CompareError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except ValueError as exc:
        raise CompareError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(report, dict) or not isinstance(report.get("benchmarks"), list):
        raise CompareError(f"{path}: not a pytest-benchmark report (no 'benchmarks' list)")
    for entry in report["benchmarks"]:
        try:
            median = float(entry["stats"]["median"])
            str(entry["fullname"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CompareError(f"{path}: not a pytest-benchmark report (a benchmark lacks {exc})") from exc
        if not median > 0 or median == float("inf"):
            raise CompareError(f"{path}: {entry['fullname']} has a median of {median} s: not a timing")
    return report


def medians(report: dict[str, Any]) -> dict[str, float]:
    """Median wall seconds per benchmark name, of the benchmarks whose checks passed."""
    return {b["fullname"]: float(b["stats"]["median"]) for b in report["benchmarks"] if _checked(b)}


def failed(report: dict[str, Any]) -> list[str]:
    """The benchmarks that were timed but did not record passing their checks."""
    return sorted(b["fullname"] for b in report["benchmarks"] if not _checked(b))


def _checked(entry: dict[str, Any]) -> bool:
    return (entry.get("extra_info") or {}).get("checked") is True


def manifest_sizes(report: dict[str, Any]) -> set[int]:
    """The manifest sizes (lines) the report's benchmarks ran on: their groups are named for them
    (``end-to-end-100000``, ``stages-100000``), and the end-to-end ones record them."""
    sizes = {
        int(b["extra_info"]["manifest_rows"])
        for b in report["benchmarks"]
        if "manifest_rows" in (b.get("extra_info") or {})
    }
    return sizes | {
        int(m.group(1)) for b in report["benchmarks"] if (m := _SIZED.search(b.get("group") or ""))
    }


#: A benchmark group named for the manifest size it ran on.
_SIZED = re.compile(r"-(\d+)$")


def machine(report: dict[str, Any]) -> tuple[object, ...]:
    """What identifies the machine a report was measured on."""
    info = report.get("machine_info", {})
    cpu = info.get("cpu", {})
    return (cpu.get("count"), cpu.get("brand_raw"), info.get("python_version"))


def regressions(baseline: dict[str, float], current: dict[str, float], threshold: float) -> list[str]:
    """One line per benchmark slower than the baseline by more than ``threshold``."""
    out = []
    for name in sorted(set(baseline) & set(current)):
        change = current[name] / baseline[name] - 1
        if change > threshold:
            out.append(f"{name}: {baseline[name]:.3f}s → {current[name]:.3f}s (+{change:.1%})")
    return out


def compare(
    base_report: dict[str, Any], now_report: dict[str, Any], threshold: float
) -> tuple[int, list[str]]:
    """The exit code and the lines to print for two loaded reports (see the module docstring)."""
    sizes = (manifest_sizes(base_report), manifest_sizes(now_report))
    if all(sizes) and sizes[0] != sizes[1]:
        shown = [", ".join(f"{n:,}" for n in sorted(s)) for s in sizes]
        raise CompareError(
            f"the runs screened manifests of different sizes (baseline {shown[0]} lines, current {shown[1]}): "
            "set BENCH_ROWS as the baseline did"
        )
    base, now = medians(base_report), medians(now_report)
    common = set(base) & set(now)
    if not common:
        raise CompareError("the runs have no checked benchmark in common")
    out = []
    if machine(base_report) != machine(now_report):
        out.append(
            f"warning: measured on different machines ({machine(base_report)} vs {machine(now_report)}): "
            "timings only compare on one machine"
        )
    out += [
        f"warning: {name} failed its checks in the baseline: not compared" for name in failed(base_report)
    ]
    # Every benchmark that failed in the current run, whether or not the baseline has it.
    now_failed = failed(now_report)
    out += [f"failed: {name} (its checks failed in the current run)" for name in now_failed]
    missing = sorted(set(base) - set(now) - set(now_failed))
    out += [f"missing: {name} (in the baseline, not in the current run)" for name in missing]
    out += [f"new: {name} (not in the baseline)" for name in sorted(set(now) - set(base))]
    found = regressions(base, now, threshold)
    out += [f"regression: {line}" for line in found]
    out.append(
        f"{len(common)} benchmarks compared, {len(found)} regressions above {threshold:.0%}, {len(missing)} missing, "
        f"{len(now_failed)} failed"
    )
    return (1 if found or missing or now_failed else 0), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument("--threshold", type=float, default=0.15, help="allowed slowdown (0.15 = 15%%)")
    args = parser.parse_args(argv)
    try:
        status, lines = compare(load(args.baseline), load(args.current), args.threshold)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
