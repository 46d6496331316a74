"""The benchmark table and the regression check read pytest-benchmark JSON as documented."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import screening
from bench.baselines import FIXED_COST, duckdb_baseline, engine_batches, per_row, screener_in_memory
from bench.compare import CompareError, compare, main, medians, regressions
from bench.table import render, rows_of
from screening.generate import COMMON_HTS_CODES, generate_manifest

from ..conftest import BASE_LINE, US_PACK


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
                    "checked": True,
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
    assert (
        "| screening, whole day, all outputs | 2.00 | 4.00 |  |  | 4.00 | 4.00 | 1.00 GiB | 1.00 | 500 |"
        in text
    )
    assert "≈10.00 | ≈20.00 |" in text
    # The slice's peak is its own (a whole-file run would hold more), and its lines/s extrapolated.
    assert "| ≈20.00 | ≈20.00 | 1.00 GiB (slice) | 1.00 (slice) | ≈100 |" in text
    measured["benchmarks"][1]["extra_info"]["fresh_process_wall_s"] = 1.5
    assert "| screening, whole day, all outputs | 2.00 | 4.00 |  | 1.50 | 4.00 |" in render(measured)


def test_table_names_a_contender_missing_from_the_report() -> None:
    """A contender whose checks failed (or that was not run) has no measurements: the table says so instead
    of leaving its row out."""
    text = render(report(("floor", 0.5, 1_000), ("engine", 2.0, 1_000)))
    assert "| DuckDB SQL, core decisions only | not in this report |" in text
    assert "| per-row Python + pydantic, core decisions only | not in this report |" in text
    assert "| screening, whole day, all outputs | 2.00 |" in text


def test_table_counts_a_sliced_baselines_fixed_cost_once() -> None:
    """The per-row baseline resolves the pack's tables once per run, whatever its slice: only the rest of
    its time grows with the file (scaling the whole of it overstated the per-row time at 4M lines)."""
    measured = report(("engine", 2.0, 1_000), ("per-row", 1.0, 100))
    info = measured["benchmarks"][1]["extra_info"]
    info.update(fixed_wall_s=0.2, fixed_cpu_s=0.3, fresh_process_wall_s=1.2, fresh_fixed_wall_s=0.4)
    row = rows_of(measured)["per-row"]
    assert row["wall_s"] == pytest.approx(0.2 + 0.8 * 10)
    assert row["cpu_s"] == pytest.approx(0.3 + (2.0 - 0.3) * 10)
    assert row["fresh_wall_s"] == pytest.approx(0.4 + 0.8 * 10)
    assert row["lines_per_s"] == pytest.approx(1_000 / 8.2)
    assert "| ≈8.20 | n/a | ≈4.10× | ≈8.40 | ≈17.30 | n/a | 1.00 GiB (slice) | n/a | ≈122 |" in render(
        measured
    )


def test_the_per_row_baseline_records_its_fixed_cost(tmp_path: Path, us_pack: screening.RulePack) -> None:
    manifest = tmp_path / "m.parquet"
    generate_manifest(manifest, rows=300, seed=7, hts_codes=COMMON_HTS_CODES)
    FIXED_COST.pop("per-row", None)
    per_row(manifest, tmp_path, us_pack)
    wall, cpu = FIXED_COST["per-row"]
    assert wall > 0
    assert cpu > 0


def test_the_in_memory_screener_contender_accounts_for_every_row_as_the_batched_run(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    """Several batches of the size the benchmark uses, with rows that are rejected: each row counted once."""
    manifest = tmp_path / "m.parquet"
    generate_manifest(manifest, rows=120_000, seed=11, hts_codes=COMMON_HTS_CODES)
    rows = pl.scan_parquet(manifest).select(pl.len()).collect().item()
    assert screener_in_memory(manifest, tmp_path / "a", us_pack) == rows
    assert engine_batches(manifest, tmp_path / "b", us_pack) == rows
    rejected = pl.scan_parquet(tmp_path / "b" / "run" / "rejects.parquet").select(pl.len()).collect().item()
    assert rejected > 0


class _TimedCallError(Exception):
    """Raised by :class:`_Timer` in place of the timed call."""


class _Timer:
    """A pytest-benchmark fixture that records whether DuckDB is loaded when the timed call would start."""

    def __init__(self) -> None:
        self.duckdb_loaded: list[bool] = []

    def pedantic(self, *_: object, **__: object) -> None:
        self.duckdb_loaded.append("duckdb" in sys.modules)
        raise _TimedCallError


def test_the_duckdb_contender_is_imported_before_its_timed_call(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, us_pack: screening.RulePack
) -> None:
    """``bench.baselines`` imports DuckDB inside the contender: the first timed round paid for the import."""
    from bench import test_end_to_end

    timer = _Timer()
    monkeypatch.delitem(sys.modules, "duckdb", raising=False)
    with pytest.raises(_TimedCallError):
        test_end_to_end.test_contender(timer, "duckdb", tmp_path / "manifest.parquet", us_pack, tmp_path)  # type: ignore[arg-type]
    assert timer.duckdb_loaded == [True]


def test_regression_check_flags_only_slowdowns_beyond_the_threshold() -> None:
    baseline = medians(report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000)))
    current = medians(report(("floor", 1.1, 1_000), ("engine", 2.6, 1_000)))
    found = regressions(baseline, current, threshold=0.15)
    assert len(found) == 1
    assert "engine" in found[0]
    assert "+30.0%" in found[0]
    assert regressions(baseline, baseline, threshold=0.0) == []


def test_regression_check_fails_when_a_benchmark_of_the_baseline_is_missing() -> None:
    baseline = report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000))
    status, lines = compare(baseline, report(("floor", 1.0, 1_000)), threshold=0.15)
    assert status == 1
    assert any(line.startswith("missing: ") and "engine" in line for line in lines)
    assert compare(baseline, baseline, threshold=0.15)[0] == 0


def test_regression_check_fails_a_benchmark_whose_checks_failed_after_its_timing() -> None:
    """pytest-benchmark keeps the median of a benchmark whose assertion fails after the timed call (an engine
    that lost a row): it passed as "0 regressions"."""
    baseline = report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000))
    broken = report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000))
    del broken["benchmarks"][1]["extra_info"]["checked"]
    status, lines = compare(baseline, broken, threshold=0.15)
    assert status == 1
    assert any(line.startswith("failed: ") and "engine" in line for line in lines)
    status, lines = compare(broken, baseline, threshold=0.15)
    assert status == 0
    assert any("failed its checks in the baseline" in line for line in lines)


def test_regression_check_fails_a_failed_benchmark_the_baseline_lacks() -> None:
    """A benchmark that failed its checks in the current run fails the comparison even when the baseline has no
    such benchmark (it passed as "0 regressions", exit 0, the failure never named)."""
    baseline = report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000))
    current = report(("floor", 1.0, 1_000), ("engine", 2.0, 1_000), ("screener", 3.0, 1_000))
    del current["benchmarks"][2]["extra_info"]["checked"]
    status, lines = compare(baseline, current, threshold=0.15)
    assert status == 1
    assert [line for line in lines if line.startswith("failed: ")] == [
        "failed: bench/test_end_to_end.py::test_contender[screener] (its checks failed in the current run)"
    ]
    assert lines[-1].endswith("0 missing, 1 failed")


def test_regression_check_refuses_a_median_that_is_no_timing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zero = report(("floor", 0.0, 1_000))
    (tmp_path / "zero.json").write_text(json.dumps(zero))
    (tmp_path / "ok.json").write_text(json.dumps(report(("floor", 1.0, 1_000))))
    assert main([str(tmp_path / "zero.json"), str(tmp_path / "ok.json")]) == 2
    assert "median of 0.0 s" in capsys.readouterr().err


def test_regression_check_refuses_runs_over_different_manifest_sizes() -> None:
    small = report(("floor", 1.0, 1_000))
    large = report(("floor", 0.5, 1_000))
    large["benchmarks"][0]["extra_info"]["manifest_rows"] = 200_000
    with pytest.raises(CompareError, match="different sizes"):
        compare(small, large, threshold=0.15)
    with pytest.raises(CompareError, match="no checked benchmark in common"):
        compare(small, report(("engine", 1.0, 1_000)), threshold=0.15)


def test_regression_check_warns_across_machines_and_exits_2_on_unreadable_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = report(("floor", 1.0, 1_000))
    other["machine_info"]["cpu"]["count"] = 64
    status, lines = compare(report(("floor", 1.0, 1_000)), other, threshold=0.15)
    assert status == 0
    assert lines[0].startswith("warning: measured on different machines")
    (tmp_path / "bad.json").write_text("{not json")
    assert main([str(tmp_path / "absent.json"), str(tmp_path / "bad.json")]) == 2
    assert "absent.json" in capsys.readouterr().err
    (tmp_path / "ok.json").write_text(json.dumps(report(("floor", 1.0, 1_000))))
    assert main([str(tmp_path / "ok.json"), str(tmp_path / "bad.json")]) == 2
    assert "bad.json: not JSON" in capsys.readouterr().err


def test_baselines_decide_as_the_engine_on_what_they_decide(tmp_path: Path) -> None:
    """DuckDB and per-row Python keep the rows the engine keeps and agree with it on values, consignee-day
    totals, eligibility (where only threshold and suspensions decide), entry type and MFN ad valorem duty
    (SYNTHETIC manifest)."""
    manifest = tmp_path / "manifest.parquet"
    generate_manifest(manifest, rows=3_000, seed=7, hts_codes=COMMON_HTS_CODES)
    # Values no number holds, on lines of packages with other lines (their packages are rejected whole).
    generated = pl.read_parquet(manifest)
    several = generated.filter(pl.col("package_id").is_duplicated())["package_id"].unique().sort().head(3)
    assert several.len() == 3
    bad = dict(zip(several.to_list(), [float("nan"), float("inf"), -float("inf")], strict=True))
    first_line = pl.col("package_id").is_in(several.implode()) & pl.col("package_id").is_first_distinct()
    generated.with_columns(
        pl.when(first_line)
        .then(pl.col("package_id").replace_strict(bad, default=None, return_dtype=pl.Float64()))
        .otherwise(pl.col("declared_value"))
        .alias("declared_value")
    ).write_parquet(manifest)
    pack = screening.load_rules(US_PACK)
    screening.screen_to_folder(manifest, tmp_path / "run", rules=pack)
    rejects = pl.read_parquet(tmp_path / "run" / "rejects.parquet")
    incomplete = rejects.filter(pl.col("code") == "package-incomplete")["package_id"].unique()
    assert set(several.to_list()) <= set(incomplete.to_list())
    lines = pl.read_parquet(tmp_path / "run" / "lines.parquet")
    packages = pl.read_parquet(tmp_path / "run" / "packages.parquet")
    mfn = pl.read_parquet(tmp_path / "run" / "components.parquet").filter(
        pl.col("measure_id") == "mfn", pl.col("component") == "mfn"
    )
    simple = packages.filter(
        pl.col("de_minimis_reason").is_in(
            ["dm-eligible", "dm-over-threshold", "dm-suspended-origin", "dm-suspended-all"]
        ),
        pl.col("entry_type") != "postal",
        # The baselines do not model the goods a suspension leaves out (informational materials).
        ~pl.col("de_minimis_rule_id").is_in([rule.id for rule in pack.de_minimis.suspension_exceptions]),
    )
    duckdb_baseline(manifest, tmp_path, pack)
    per_row(manifest, tmp_path, pack)
    for name in ("duckdb", "per_row"):
        decided = pl.read_parquet(tmp_path / f"{name}.parquet")
        assert (
            decided.select("package_id", "line_no")
            .sort(pl.all())
            .equals(lines.select("package_id", "line_no").sort(pl.all()))
        ), name
        both = lines.join(decided, on=["package_id", "line_no"])
        assert (both["value_usd"] * 100).cast(pl.Int64).equals(both["value_cents"], check_names=False)
        assert (
            (both["consignee_day_value_usd"] * 100)
            .cast(pl.Int64)
            .equals(both["day_cents"], check_names=False)
        )
        by_package = decided.group_by("package_id").agg(pl.col("eligible", "entry_type").first())
        judged = simple.join(by_package, on="package_id")
        assert judged.height > 1_000
        assert judged["de_minimis_eligible"].equals(judged["eligible"], check_names=False)
        entry = judged["entry_type_right"].replace("section-321", "de-minimis")
        assert judged["entry_type"].equals(entry, check_names=False)
        duties = decided.filter(~pl.col("eligible")).join(mfn, on=["package_id", "line_no"])
        assert duties.height > 500
        assert ((duties["amount_usd"] * 100).cast(pl.Int64) == duties["duty_cents"]).all()


def test_baselines_key_consignees_as_the_engine_does(tmp_path: Path) -> None:
    """An accented and a plain spelling are one person ($1,000); one name at two non-U.S. postal codes is two
    people, each $500 (the engine's key)."""
    people = [("Zoë Adams", "20001"), ("Zoe Adams", "20001"), ("Li Wei", "K1A 0B6"), ("Li Wei", "K1A 0C1")]
    rows = [
        {
            **BASE_LINE,
            "package_id": f"P{i}",
            "consignee_name": name,
            "consignee_postal_code": postal,
            "declared_value": 500.0,
            "line_no": 1,
            "quantity": 1.0,
            "arrival_date": dt.date(2025, 3, 10),
            "consignee_id": None,
        }
        for i, (name, postal) in enumerate(people)
    ]
    manifest = tmp_path / "people.parquet"
    pl.DataFrame(rows, schema_overrides={"consignee_id": pl.String()}).write_parquet(manifest)
    pack = screening.load_rules(US_PACK)
    engine = screening.screen(manifest, rules=pack).lines
    assert engine["consignee_key"].n_unique() == 3
    duckdb_baseline(manifest, tmp_path, pack)
    per_row(manifest, tmp_path, pack)
    for name in ("duckdb", "per_row"):
        decided = pl.read_parquet(tmp_path / f"{name}.parquet").sort("package_id")
        assert decided["day_cents"].to_list() == [100_000, 100_000, 50_000, 50_000], name
        assert decided["eligible"].to_list() == [False, False, True, True], name


def _crafted_manifest(path: Path, given: list[tuple[str, int | None, float, str]]) -> Path:
    """A one-day manifest of (package, line number, value, description) lines, one consignee per package, written
    to ``path``."""
    rows = [
        {
            **BASE_LINE,
            "package_id": package,
            "line_no": line_no,
            "consignee_name": f"Person {package}",
            "declared_value": value,
            "description": description,
            "quantity": 1.0,
            "arrival_date": dt.date(2025, 5, 1),
            "consignee_id": None,
        }
        for package, line_no, value, description in given
    ]
    pl.DataFrame(rows, schema_overrides={"consignee_id": pl.String(), "line_no": pl.Int64()}).write_parquet(
        path
    )
    return path


def _baselines(manifest: Path, pack: screening.RulePack) -> dict[str, pl.DataFrame]:
    """What the DuckDB and per-row baselines decide on ``manifest``, sorted by package and line."""
    duckdb_baseline(manifest, manifest.parent, pack)
    per_row(manifest, manifest.parent, pack)
    return {
        name: pl.read_parquet(manifest.parent / f"{name}.parquet").sort("package_id", "line_no")
        for name in ("duckdb", "per_row")
    }


def test_baselines_number_lines_and_reject_line_numbers_as_the_engine_does(tmp_path: Path) -> None:
    """Lines without a number are numbered after their package's highest number, in file order (E: $300 and $600
    are lines 1 and 2, $900, not eligible; G: 5, 6, 7), and a package with a line numbered below 1 is rejected
    whole (F). The baselines kept one of E's lines ($300, eligible) and answered for F."""
    given: list[tuple[str, int | None, float]] = [
        ("E", None, 300.0), ("E", None, 600.0), ("F", 0, 50.0), ("F", 1, 60.0),
        ("G", None, 10.0), ("G", 5, 20.0), ("G", None, 30.0), ("H", 2, 40.0), ("H", -1, 40.0),
    ]  # fmt: skip
    manifest = _crafted_manifest(tmp_path / "numbers.parquet", [(*line, "cotton t-shirt") for line in given])
    pack = screening.load_rules(US_PACK)
    engine = screening.screen(manifest, rules=pack).lines.sort("package_id", "line_no")
    assert engine.select("package_id", "line_no").rows() == [("E", 1), ("E", 2), ("G", 5), ("G", 6), ("G", 7)]
    for name, decided in _baselines(manifest, pack).items():
        assert decided.select("package_id", "line_no", "value_cents").rows() == [
            ("E", 1, 30_000), ("E", 2, 60_000), ("G", 5, 2_000), ("G", 6, 1_000), ("G", 7, 3_000),
        ], name  # fmt: skip
        assert (engine["consignee_day_value_usd"] * 100).cast(pl.Int64).to_list() == decided[
            "day_cents"
        ].to_list(), name
        assert decided["eligible"].to_list() == engine["de_minimis_eligible"].to_list(), name
        assert decided["eligible"].to_list() == [False, False, True, True, True], name


def test_baselines_reject_a_package_with_a_line_given_in_two_versions_as_the_engine_does(
    tmp_path: Path,
) -> None:
    """Package J gives line 2 as $100 and as $999 (and an unnumbered $100 line): the engine rejects both versions
    (``conflicting-line``) and the rest of J (``package-incomplete``); the baselines kept the first version, as
    lines 2 and 3 of J. R's line 1 differs only in its description: rejected too. Exact copies (Q) are kept once,
    and two unnumbered lines alike (T) are two lines."""
    given: list[tuple[str, int | None, float, str]] = [
        ("J", None, 100.0, "cotton t-shirt"), ("J", 2, 100.0, "cotton t-shirt"), ("J", 2, 999.0, "cotton t-shirt"),
        ("Q", 1, 100.0, "cotton t-shirt"), ("Q", 1, 100.0, "cotton t-shirt"),
        ("R", 1, 70.0, "cotton t-shirt"), ("R", 1, 70.0, "wool socks"), ("R", 2, 5.0, "cotton t-shirt"),
        ("S", 1, 50.0, "cotton t-shirt"), ("T", None, 10.0, "cotton t-shirt"), ("T", None, 10.0, "cotton t-shirt"),
    ]  # fmt: skip
    manifest = _crafted_manifest(tmp_path / "versions.parquet", given)
    pack = screening.load_rules(US_PACK)
    result = screening.screen(manifest, rules=pack)
    kept = [("Q", 1, 10_000), ("S", 1, 5_000), ("T", 1, 1_000), ("T", 2, 1_000)]
    engine = result.lines.sort("package_id", "line_no")
    assert engine.select("package_id", "line_no", (pl.col("value_usd") * 100).cast(pl.Int64)).rows() == kept
    assert result.rejects.filter(pl.col("code") == "conflicting-line")["package_id"].sort().to_list() == [
        "J", "J", "R", "R",
    ]  # fmt: skip
    for name, decided in _baselines(manifest, pack).items():
        assert decided.select("package_id", "line_no", "value_cents").rows() == kept, name


def test_regression_check_refuses_malformed_reports_and_stage_runs_of_another_size(tmp_path: Path) -> None:
    (tmp_path / "odd.json").write_text(json.dumps({"benchmarks": [{"name": "x"}]}))
    (tmp_path / "ok.json").write_text(json.dumps(report(("floor", 1.0, 1_000))))
    assert main([str(tmp_path / "ok.json"), str(tmp_path / "odd.json")]) == 2
    stage = {"fullname": "bench/test_stages.py::test_stage[decide]", "stats": {"median": 0.1}}
    small = {"benchmarks": [{**stage, "group": "stages-5000"}]}
    large = {"benchmarks": [{**stage, "group": "stages-100000"}]}
    with pytest.raises(CompareError, match="different sizes"):
        compare(small, large, threshold=0.15)
