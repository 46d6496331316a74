"""End to end, every contender on the same manifest: the floor, the engine (whole day, and in
50,000-line batches from the file to the output folder and from Arrow batches to results in memory),
DuckDB SQL and per-row Python (see :mod:`bench.baselines`).

Run: ``pytest bench --benchmark-only --benchmark-json=bench.json`` then ``python -m bench.table bench.json``.
Each contender is timed in this process (pytest-benchmark, ``BENCH_ROUNDS`` rounds) and run once
more in a fresh process for its CPU time and peak memory (``extra_info``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import screening

from .baselines import CONTENDERS, FIXED_COST, PER_ROW_SLICE
from .conftest import BENCH_ROWS, ROOT
from .measure import measure_in_child

#: Timed rounds per contender (1 is enough at 4M lines).
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3" if BENCH_ROWS <= 1_000_000 else "1"))


@pytest.mark.parametrize("contender", list(CONTENDERS))
@pytest.mark.benchmark(group=f"end-to-end-{BENCH_ROWS}")
def test_contender(
    benchmark: BenchmarkFixture,
    contender: str,
    bench_manifest: Path,
    us_pack: screening.RulePack,
    tmp_path: Path,
) -> None:
    run = CONTENDERS[contender]
    if contender == "duckdb":
        # Imported before the clocks start, as every other contender's modules are (a dev-only dependency:
        # bench.baselines imports it only in the function, so that importing bench.baselines needs no DuckDB).
        import duckdb  # noqa: F401
    rows = benchmark.pedantic(lambda: run(bench_manifest, tmp_path, us_pack), rounds=ROUNDS, iterations=1)
    expected = min(BENCH_ROWS, PER_ROW_SLICE) if contender == "per-row" else BENCH_ROWS
    if contender == "duckdb":  # the SQL baseline drops the rows the engine rejects instead of reporting them
        assert 0.98 * BENCH_ROWS <= rows <= BENCH_ROWS
    else:
        assert rows == expected
    fixed_wall, _ = FIXED_COST.get(contender, (0.0, 0.0))  # of the last timed round
    child = measure_in_child(contender, bench_manifest, tmp_path / "child", ROOT / "rules" / "us")
    benchmark.extra_info.update(
        {
            "contender": contender,
            "manifest_rows": BENCH_ROWS,
            "rows_processed": expected,
            "cpu_s": child["cpu_s"],
            "peak_rss_bytes": child["peak_rss_bytes"],
            "fresh_process_wall_s": child["wall_s"],
            "fixed_wall_s": fixed_wall,
            "fresh_fixed_wall_s": child["fixed_wall_s"],
            "fixed_cpu_s": child["fixed_cpu_s"],
            "checked": True,  # last: bench.compare counts only benchmarks whose checks passed
        }
    )
