"""End-to-end throughput against the floor (read + write Parquet). Run: pytest bench --benchmark-only."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import screening

from .conftest import BENCH_ROWS


@pytest.mark.benchmark(group=f"end-to-end-{BENCH_ROWS}")
def test_floor_read_write_parquet(benchmark: BenchmarkFixture, bench_manifest: Path, tmp_path: Path) -> None:
    def floor() -> None:
        pl.scan_parquet(bench_manifest).sink_parquet(tmp_path / "copy.parquet", compression="zstd")

    benchmark.pedantic(floor, rounds=3, iterations=1)
    assert pl.scan_parquet(tmp_path / "copy.parquet").select(pl.len()).collect().item() == BENCH_ROWS


@pytest.mark.benchmark(group=f"end-to-end-{BENCH_ROWS}")
def test_screen_and_write(
    benchmark: BenchmarkFixture, bench_manifest: Path, us_pack: screening.RulePack, tmp_path: Path
) -> None:
    def run() -> screening.Result:
        result = screening.screen(bench_manifest, rules=us_pack)
        result.write(tmp_path / "out")
        return result

    result = benchmark.pedantic(run, rounds=3, iterations=1)
    counts = result.summary["counts"]
    assert counts["lines"] + counts["rejected"] == BENCH_ROWS
    benchmark.extra_info["lines_per_second"] = round(BENCH_ROWS / benchmark.stats.stats.median)
