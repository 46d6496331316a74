"""Fail on a regression: compare a benchmark run with a saved baseline (for quiet machines).

    python -m bench.compare BASELINE.json CURRENT.json [--threshold 0.15]

Exit 1 when any benchmark present in both is slower by more than ``threshold`` (median wall time),
0 otherwise. CI prints timings but does not gate on them: shared runners are too noisy.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def medians(report: dict[str, Any]) -> dict[str, float]:
    """Median wall seconds per benchmark name."""
    return {b["fullname"]: float(b["stats"]["median"]) for b in report["benchmarks"]}


def regressions(baseline: dict[str, float], current: dict[str, float], threshold: float) -> list[str]:
    """One line per benchmark slower than the baseline by more than ``threshold``."""
    out = []
    for name in sorted(set(baseline) & set(current)):
        change = current[name] / baseline[name] - 1
        if change > threshold:
            out.append(f"{name}: {baseline[name]:.3f}s → {current[name]:.3f}s (+{change:.0%})")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("baseline", type=Path)
    parser.add_argument("current", type=Path)
    parser.add_argument("--threshold", type=float, default=0.15, help="allowed slowdown (0.15 = 15%%)")
    args = parser.parse_args(argv)
    base = medians(json.loads(args.baseline.read_text()))
    now = medians(json.loads(args.current.read_text()))
    found = regressions(base, now, args.threshold)
    for line in found:
        print(f"regression: {line}")
    compared = len(set(base) & set(now))
    print(f"{compared} benchmarks compared, {len(found)} regressions above {args.threshold:.0%}")
    return 1 if found or not compared else 0


if __name__ == "__main__":
    sys.exit(main())
