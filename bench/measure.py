"""Run one contender in this fresh process and print its wall time, CPU time and peak memory as JSON.

    python -m bench.measure CONTENDER MANIFEST OUT_DIR [--rules rules/us]

Peak memory is the whole process's peak resident set (``VmHWM``), interpreter and libraries
included, as DESIGN.md §7 measures it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import screening
from screening.process_exit import exit_process

from .baselines import CONTENDERS, FIXED_COST


def measure_in_child(contender: str, manifest: Path, out: Path, rules: Path) -> dict[str, Any]:
    """Run ``contender`` in a fresh Python process; its measurements as a dict."""
    completed = subprocess.run(
        [sys.executable, "-m", "bench.measure", contender, str(manifest), str(out), "--rules", str(rules)],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    measured: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return measured


def peak_rss_bytes() -> int:
    """This process's peak resident set.

    ``VmHWM`` from ``/proc`` where there is one: ``ru_maxrss`` survives ``fork`` and ``exec``, so a child
    of a big process would report its parent's peak.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    # ru_maxrss is in kilobytes on Linux, in bytes on macOS.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("contender", choices=sorted(CONTENDERS))
    parser.add_argument("manifest", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rules", type=Path, default=Path("rules/us"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    # The floor needs no pack: loading one would add its memory to the floor's peak.
    pack = None if args.contender == "floor" else screening.load_rules(args.rules)
    if args.contender == "duckdb":
        import duckdb  # noqa: F401  imported before the clocks start, as every other contender's modules are

    before = os.times()
    started = time.perf_counter()
    rows = CONTENDERS[args.contender](args.manifest, args.out, pack)
    wall = time.perf_counter() - started
    after = os.times()
    cpu = (after.user - before.user) + (after.system - before.system)
    peak = peak_rss_bytes()
    fixed_wall, fixed_cpu = FIXED_COST.get(args.contender, (0.0, 0.0))
    measured = {
        "contender": args.contender,
        "rows": rows,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_bytes": peak,
        "fixed_wall_s": fixed_wall,
        "fixed_cpu_s": fixed_cpu,
    }
    print(json.dumps(measured))


if __name__ == "__main__":
    main()
    # DuckDB's and Arrow's thread pools can abort a finished process in their teardown: its figures are printed.
    exit_process(0)
