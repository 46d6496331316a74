"""The benchmark table and the regression check read pytest-benchmark JSON as documented."""

from __future__ import annotations

from typing import Any

from bench.compare import medians, regressions
from bench.table import render, rows_of


def report(*entries: tuple[str, float, int]) -> dict[str, Any]:
    """A minimal pytest-benchmark report: (contender, median seconds, rows processed) per benchmark."""
    return {
        "machine_info": {"cpu": {"count": 2}, "python_version": "3.11.7"},
        "datetime": "2026-11-23T12:00:00",
        "benchmarks": [
            {
                "fullname": f"bench/test_end_to_end.py::test_contender[{name}]",
                "stats": {"median": median},
                "extra_info": {
                    "contender": name,
                    "manifest_rows": 1_000,
                    "rows_processed": processed,
                    "cpu_s": median * 2,
                    "peak_rss_bytes": 2**30,
                },
            }
            for name, median, processed in entries
        ],
    }


def test_table_scales_a_sliced_baseline_to_the_whole_file_and_marks_it() -> None:
    measured = report(("floor", 0.5, 1_000), ("engine", 2.0, 1_000), ("per-row", 1.0, 100))
    rows = rows_of(measured)
    assert rows["per-row"]["wall_s"] == 10.0
    assert rows["per-row"]["extrapolated"] is True
    assert rows["engine"]["lines_per_s"] == 500
    text = render(measured)
    assert "| screening, whole day, all outputs | 2.00 | 4.00 |  |  | 4.00 |" in text
    assert "≈10.00 | ≈20.00 |" in text
    measured["benchmarks"][1]["extra_info"]["fresh_process_wall_s"] = 1.5
    assert "| screening, whole day, all outputs | 2.00 | 4.00 |  | 1.50 | 4.00 |" in render(measured)


def test_regression_check_flags_only_slowdowns_beyond_the_threshold() -> None:
    baseline = medians(report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000)))
    current = medians(report(("floor", 1.1, 1_000), ("engine", 2.6, 1_000)))
    found = regressions(baseline, current, threshold=0.15)
    assert len(found) == 1
    assert "engine" in found[0]
    assert "+30%" in found[0]
    assert regressions(baseline, baseline, threshold=0.0) == []
