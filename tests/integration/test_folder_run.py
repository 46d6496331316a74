"""``screen_to_folder`` (what ``screen run`` does): the same files as ``screen(...).write(...)``, atomically."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import screening
from screening import folder_run, pipeline
from screening.cli import main
from screening.day_parts import PartBounds, day_totals, part_bounds, split_day
from screening.errors import UsageError
from screening.io import sorting
from screening.io.appending import AppendingFile
from screening.io.sources import Source, open_sources
from screening.io.writers import OutputFormat
from screening.rulepack.resolved_cache import ResolvedCache
from screening.screener import screen_files_in_batches

from ..conftest import BASE_LINE, OUTPUT_FILES, SAMPLE, US_PACK


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_the_folder_holds_the_same_bytes_as_a_written_result(
    us_pack: screening.RulePack, tmp_path: Path, fmt: OutputFormat
) -> None:
    """A day that fits in one part (the 10k sample) is screened in memory, with no temporary files."""
    source = SAMPLE / "manifest_10k.parquet"
    screening.screen(source, rules=us_pack, pseudonymise_key="k").write(tmp_path / "result", fmt=fmt)
    stages: list[str] = []
    summary, wall = screening.screen_to_folder(
        source,
        tmp_path / "folder",
        rules=us_pack,
        pseudonymise_key="k",
        fmt=fmt,
        on_stage=stages.append,
    )
    assert "flagging risks" in stages
    assert not any(stage.startswith("part ") for stage in stages)
    names = sorted(p.name for p in (tmp_path / "result").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "folder").iterdir())
    assert len(names) == len(OUTPUT_FILES)
    for name in names:
        assert (tmp_path / "result" / name).read_bytes() == (tmp_path / "folder" / name).read_bytes(), name
    assert json.loads((tmp_path / "folder" / "summary.json").read_text()) == json.loads(
        json.dumps(summary, default=str)
    )
    assert (
        summary["counts"]["input_rows"]
        == summary["counts"]["lines"] + summary["counts"]["rejected"]
        == 10_000
    )
    assert wall > 0


def _read(path: Path) -> pl.DataFrame:
    return pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)


@pytest.mark.parametrize(("fmt", "sort_chunk"), [("parquet", None), ("csv", None), ("parquet", 40)])
def test_a_day_in_many_parts_gives_the_whole_days_outputs(
    us_pack: screening.RulePack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fmt: OutputFormat,
    sort_chunk: int | None,
) -> None:
    """Parts of 1,500 lines (seven parts of the 10k sample): consignee-days, shipper-consignee-days and
    queues span parts, and every output is the whole day's, row for row. With ``sort_chunk``, the day's
    queue rows are sorted in chunks of about that many rows, as a day of many queued packages is."""
    if sort_chunk is not None:
        monkeypatch.setattr(sorting, "SORT_WHOLE_ROWS", 0)
        monkeypatch.setattr(sorting, "SORT_CHUNK_ROWS", sort_chunk)
    source = SAMPLE / "manifest_10k.csv"
    whole = screening.screen(source, rules=us_pack)
    whole.write(tmp_path / "whole", fmt=fmt)
    stages: list[str] = []
    summary, _ = screening.screen_to_folder(
        source, tmp_path / "parts", rules=us_pack, fmt=fmt, part_lines=1_500, on_stage=stages.append
    )
    assert "part 7 of 7: flagging risks" in stages
    for name in sorted(p.name for p in (tmp_path / "whole").iterdir()):
        if name == "summary.json":
            continue
        assert_frame_equal(_read(tmp_path / "parts" / name), _read(tmp_path / "whole" / name))
        if fmt == "csv":  # text has one spelling: the same bytes
            assert (tmp_path / "parts" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes()
    for section in ("counts", "money", "risk", "dates_resolved", "options", "decision_rules"):
        assert json.loads(json.dumps(summary[section], default=str)) == json.loads(
            json.dumps(whole.summary[section], default=str)
        ), section
    # Consignee-days and shipper-consignee-days do span parts here: the equality above is not by luck.
    with tempfile.TemporaryDirectory() as work:
        sources = open_sources([source], None)
        parts = split_day(sources, us_pack, Path(work), 1_500, part_bounds(sources, 1_500))
        totals, _, _ = day_totals(parts, ResolvedCache(us_pack), Path(work))
    assert totals.consignee_days.height > 0
    assert totals.shipper_consignee_days.height > 0


@pytest.mark.parametrize("as_file", [False, True])
def test_a_day_in_parts_counts_no_version_of_a_line_given_in_two(
    us_pack: screening.RulePack, tmp_path: Path, manifest: Callable[..., pl.DataFrame], as_file: bool
) -> None:
    """P1's line 1 came as $300 and as $1,900: in parts, the day's totals kept the first and added Anna's $300 to
    P2's $600, over $800. Neither version is screened nor counted (P1 is rejected whole), in parts as in the
    whole day: P2 is eligible at $600 (parts of one package, so Anna's day spans parts)."""
    frame = manifest(
        {"package_id": "P1", "declared_value": "300"},
        {"package_id": "P2", "declared_value": "600"},
        {"package_id": "P1", "declared_value": "1900", "description": "laptop", "hts_code": "8471.30.01.00"},
        {"package_id": "P3", "declared_value": "50", "consignee_name": "Ben Ode"},
    )
    source: object = frame
    if as_file:
        source = tmp_path / "manifest.parquet"
        frame.write_parquet(source)
    whole = screening.screen(source, rules=us_pack)
    screening.screen_to_folder(source, tmp_path / "parts", rules=us_pack, part_lines=1)
    for name in ("lines", "packages", "rejects"):
        assert_frame_equal(_read(tmp_path / "parts" / f"{name}.parquet"), getattr(whole, name))
    packages = whole.packages.select("package_id", "value_usd", "de_minimis_reason").rows()
    assert packages == [("P2", Decimal("600.00"), "dm-eligible"), ("P3", Decimal("50.00"), "dm-eligible")]
    assert whole.rejects.select("row", "code").rows() == [(1, "conflicting-line"), (3, "conflicting-line")]


def test_the_arrival_dates_decided_are_those_of_the_packages_screened(
    us_pack: screening.RulePack, tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P2 (euros a week after the pack's facts, past its last rate: ``missing-fx-rate``) and P3 (a day later, a
    line with a bad HTS code: ``package-incomplete``) are screened not at all, yet their dates counted as decided:
    in ``dates_resolved``, ``arrival_dates_after_facts`` (and the run's note) and the screening list's age at the
    latest arrival. Only P1's date counts now, for the whole day, the day in parts and batches alike."""
    as_of = us_pack.meta.facts_as_of
    assert as_of is not None
    late = as_of + dt.timedelta(days=7)
    late_next = str(late + dt.timedelta(days=1))
    frame = manifest(
        {"package_id": "P1"},
        {"package_id": "P2", "arrival_date": str(late), "currency": "EUR", "consignee_name": "Ben Ode"},
        {"package_id": "P3", "arrival_date": late_next, "consignee_name": "Cy Ode", "hts_code": "12"},
        {"package_id": "P3", "line_no": "2", "arrival_date": late_next, "consignee_name": "Cy Ode"},
    )
    path = tmp_path / "manifest.parquet"
    frame.write_parquet(path)
    whole = screening.screen(frame, rules=us_pack)
    assert whole.rejects.select("package_id", "code").rows() == [
        ("P2", "missing-fx-rate"),
        ("P3", "invalid-hts"),
        ("P3", "package-incomplete"),
    ]
    parts, _ = screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    batched = screening.screen_batches([frame.head(2), frame.tail(2)], rules=us_pack)
    files, _ = screen_files_in_batches([path], out=tmp_path / "batches", batch_size=1, rules=us_pack)
    for summary in (whole.summary, parts, batched.summary, files):
        assert summary["dates_resolved"] == [BASE_LINE["arrival_date"]]
        assert summary["rules"]["arrival_dates_after_facts"] == 0
        listing = summary["risk"]["screening_list"]
        age = dt.date.fromisoformat(BASE_LINE["arrival_date"]) - dt.date.fromisoformat(listing["published"])
        assert listing["age_days_at_latest_arrival"] == age.days


def test_an_entry_a_chapter_99_gap_leaves_open_is_open_whatever_other_days_the_run_holds(
    us_pack: screening.RulePack, tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A $1,000 DE steel coil of 2025-03-11 is in the gap of the Section 232 steel duty (a Chapter 99 duty, in
    force from 2025-03-12): its entry is open, ``fees-unknown``. Screened alone, or in batches of a line, it read
    ``assessed`` (informal fees of $2.62): the Chapter 99 kinds of duty were those of the measures in force on
    the run's dates, and none of Section 232 was before 2025-03-12 unless a later day was in the run."""
    coil = {
        "package_id": "COIL",
        "arrival_date": "2025-03-11",
        "mode": "cargo",
        "hts_code": "7208.36.00",
        "description": "hot-rolled steel coil",
        "declared_value": "1000.00",
    }
    shirt = {
        "package_id": "SHIRT",
        "arrival_date": "2025-03-12",
        "mode": "cargo",
        "consignee_name": "Ben Ode",
    }
    frame = manifest(coil, shirt)
    path = tmp_path / "manifest.parquet"
    frame.write_parquet(path)
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    screener = screening.Screener(us_pack)
    runs = {
        "alone": screening.screen(manifest(coil), rules=us_pack).packages,
        "with a later day": screening.screen(frame, rules=us_pack).packages,
        "in parts of a line": _read(tmp_path / "parts" / "packages.parquet"),
        "in batches of a line": pl.concat([screener.screen(frame.slice(i, 1)).packages for i in range(2)]),
    }
    got = {
        run: packages.filter(pl.col("package_id") == "COIL")
        .select("entry_type", "fees_usd", "fee_status")
        .row(0)
        for run, packages in runs.items()
    }
    assert got == dict.fromkeys(runs, ("informal", None, "fees-unknown"))


@pytest.mark.parametrize("order", ["package id order", "shuffled"])
def test_small_validation_morsels_keep_the_input_order_and_the_callers_polars_setting(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, order: str
) -> None:
    """The validation pass streams in morsels of its own size: many morsels give the whole day's lines
    and rejects (first copies kept by input order), and the caller's own polars setting comes back.
    Input in package id order is validated into one file; shuffled input, whose stretches of rows mix
    the parts, into files per part: the same outputs either way."""
    frame = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False)
    if order == "shuffled":
        frame = frame.sample(fraction=1.0, shuffle=True, seed=7)
    source = tmp_path / "manifest.parquet"
    frame.write_parquet(source)
    whole = screening.screen(source, rules=us_pack)
    monkeypatch.setattr(pipeline, "VALIDATION_MORSEL_ROWS", 997)
    monkeypatch.setattr(pipeline, "PARTITIONED_MORSEL_ROWS", 997)
    layouts: list[bool] = []

    def recorded_bounds(*args: Any) -> PartBounds:
        bounds = part_bounds(*args)
        layouts.append(bounds.scattered)
        return bounds

    monkeypatch.setattr(folder_run, "part_bounds", recorded_bounds)
    with pl.Config(streaming_chunk_size=12_345):
        screening.screen_to_folder(source, tmp_path / "parts", rules=us_pack, part_lines=2_500)
        assert os.environ["POLARS_IDEAL_MORSEL_SIZE"] == "12345"
    assert "POLARS_IDEAL_MORSEL_SIZE" not in os.environ
    assert layouts == [order == "shuffled"]
    assert_frame_equal(pl.read_parquet(tmp_path / "parts" / "lines.parquet"), whole.lines)
    assert_frame_equal(pl.read_parquet(tmp_path / "parts" / "packages.parquet"), whole.packages)
    assert_frame_equal(pl.read_parquet(tmp_path / "parts" / "rejects.parquet"), whole.rejects)


def _manifest_in_parts(tmp_path: Path) -> Path:
    """A Parquet file of 2,000 lines of the sample, screened in parts of 500 lines (a validation pass)."""
    source = tmp_path / "manifest.parquet"
    pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False).head(2_000).write_parquet(source)
    return source


def _inside_validation(monkeypatch: pytest.MonkeyPatch, inside: Callable[[], None]) -> None:
    """Calls ``inside()`` in each thread's first validation pass, while its morsel size is set."""
    entered: set[int] = set()
    real_in_schema = pipeline._in_schema

    def in_schema(rows: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
        if threading.get_ident() not in entered:
            entered.add(threading.get_ident())
            inside()
        return real_in_schema(rows, schema)

    monkeypatch.setattr(pipeline, "_in_schema", in_schema)


def test_a_run_in_parts_keeps_polars_settings_made_while_it_validates(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The validation pass set its morsel size with ``pl.Config(...)``, whose exit resets every polars setting
    to the defaults and then to those at its entry: a setting another thread of the process made meanwhile
    was lost. Only the morsel size is set now, and put back to the caller's own when the run ends."""
    source = _manifest_in_parts(tmp_path)
    seen: list[str | None] = []

    def another_request_sets_a_display_option() -> None:
        seen.append(os.environ.get("POLARS_IDEAL_MORSEL_SIZE"))
        pl.Config.set_tbl_rows(50)

    _inside_validation(monkeypatch, another_request_sets_a_display_option)
    with pl.Config():  # the test's own settings come back after it
        pl.Config.set_streaming_chunk_size(12_345).set_fmt_str_lengths(200)
        screening.screen_to_folder(source, tmp_path / "parts", rules=us_pack, part_lines=500)
        assert seen in ([str(pipeline.VALIDATION_MORSEL_ROWS)], [str(pipeline.PARTITIONED_MORSEL_ROWS)])
        assert os.environ.get("POLARS_FMT_MAX_ROWS") == "50"
        assert os.environ.get("POLARS_FMT_STR_LEN") == "200"
        assert os.environ.get("POLARS_IDEAL_MORSEL_SIZE") == "12345"


def test_overlapping_runs_in_parts_put_the_morsel_size_back_as_it_was(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run A starts validating, then run B, then A ends, then B: B's ``pl.Config`` block had saved A's morsel
    size at its entry and put it back at its exit, so the size stayed set after both runs had ended. The
    setting now comes back to the caller's when the last run ends, whichever that is."""
    source = _manifest_in_parts(tmp_path)
    a_validating, b_validating, a_done = threading.Event(), threading.Event(), threading.Event()

    def inside() -> None:
        if threading.current_thread().name == "A":
            a_validating.set()
            assert b_validating.wait(timeout=60)  # B starts validating while A is
        else:
            b_validating.set()
            assert a_done.wait(timeout=60)  # B ends after A

    _inside_validation(monkeypatch, inside)
    errors: list[BaseException] = []

    def run(out: str) -> None:
        try:
            screening.screen_to_folder(source, tmp_path / out, rules=us_pack, part_lines=500)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    before = os.environ.get("POLARS_IDEAL_MORSEL_SIZE")
    a = threading.Thread(target=run, args=("a",), name="A")
    b = threading.Thread(target=run, args=("b",), name="B")
    a.start()
    assert a_validating.wait(timeout=60)
    b.start()
    a.join()
    a_done.set()
    b.join()
    assert errors == []
    assert os.environ.get("POLARS_IDEAL_MORSEL_SIZE") == before
    assert (tmp_path / "a" / "lines.parquet").read_bytes() == (tmp_path / "b" / "lines.parquet").read_bytes()


def test_a_run_in_parts_leaves_the_process_warning_filters_alone(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing each part's lines to files of their own, the run silenced polars' unstable-feature warning with
    ``warnings.catch_warnings()``, which swaps the process-wide filter list (for every thread): two runs at
    once could leave an 'ignore' filter behind. The filters every thread sees are now left as they are."""
    source = tmp_path / "manifest.parquet"
    frame = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False).head(2_000)
    frame.sample(fraction=1.0, shuffle=True, seed=7).write_parquet(source)
    filters_seen: list[list[Any]] = []
    real_partition_by = pl.PartitionBy

    def partition_by(*args: Any, **kwargs: Any) -> pl.PartitionBy:
        filters_seen.append(list(warnings.filters))
        return real_partition_by(*args, **kwargs)

    monkeypatch.setattr(pl, "PartitionBy", partition_by)
    before = list(warnings.filters)
    screening.screen_to_folder(source, tmp_path / "parts", rules=us_pack, part_lines=500)
    assert filters_seen
    assert all(filters == before for filters in filters_seen)
    assert warnings.filters == before


def _ids_source(ids: list[str]) -> list[Source]:
    return [Source("ids", None, pl.LazyFrame({"package_id": ids}))]


def test_part_bounds_cut_whole_packages_and_tell_a_scattered_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cuts fall between packages, about ``part_lines`` lines apart; an input is scattered when its
    stretches of rows (here of 100) hold more than three parts each on average."""
    monkeypatch.setattr(pipeline, "VALIDATION_MORSEL_ROWS", 100)
    ids = [f"P{i // 3:05d}" for i in range(3_000)]  # synthetic: packages of three lines
    in_order = part_bounds(_ids_source(ids), 500)
    assert len(in_order.cuts) == 5
    # Each cut is the package holding line 500 k: its first line is at most two lines before.
    assert [500 * k - int(cut[1:]) * 3 for k, cut in enumerate(in_order.cuts, start=1)] == [2, 1, 0, 2, 1]
    assert not in_order.scattered
    # Two sorted halves interleaved row by row: each stretch holds two or three parts, not scattered.
    interleaved = [ids[i // 2 + (i % 2) * 1_500] for i in range(3_000)]
    assert not part_bounds(_ids_source(interleaved), 500).scattered
    shuffled = pl.Series(ids).shuffle(seed=3).to_list()
    mixed = part_bounds(_ids_source(shuffled), 500)
    assert mixed.cuts == in_order.cuts
    assert mixed.scattered


def test_a_frame_in_memory_is_screened_in_parts_too(us_pack: screening.RulePack, tmp_path: Path) -> None:
    frame = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False).head(3_000)
    whole = screening.screen(frame, rules=us_pack)
    summary, _ = screening.screen_to_folder(frame, tmp_path / "parts", rules=us_pack, part_lines=700)
    assert_frame_equal(pl.read_parquet(tmp_path / "parts" / "lines.parquet"), whole.lines)
    assert_frame_equal(pl.read_parquet(tmp_path / "parts" / "packages.parquet"), whole.packages)
    assert_frame_equal(pl.read_parquet(tmp_path / "parts" / "rejects.parquet"), whole.rejects)
    assert summary["counts"]["input_rows"] == 3_000


#: Text a rejected row must keep exactly in its reject (held in JSON between validation and the rejects).
_AWKWARD_TEXT = [
    'quote " and backslash \\ and slash /',
    "tab\tnew\nline",
    "  padded  ",
    "Ünïcödé 漢字 — emoji 📦",
    '{"json": "look-alike", "n": 1}',
    "null",
    "",
]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_rejects_of_a_day_in_parts_keep_every_input_text_exactly(
    us_pack: screening.RulePack, tmp_path: Path, suffix: str
) -> None:
    """Rejected rows with awkward text in four text fields: the rejects of a run in parts (which validates
    into files) equal those of the whole day in memory, raw values and messages included."""
    frame = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False).head(2_000)
    awkward = pl.Series(_AWKWARD_TEXT * (2_000 // len(_AWKWARD_TEXT) + 1)).head(2_000)
    bad = pl.int_range(pl.len()) % 9 == 0  # every ninth row fails: a bad HTS code
    frame = frame.with_columns(
        pl.when(bad).then(pl.lit("bad")).otherwise(pl.col("hts_code")).alias("hts_code"),
        *[
            pl.when(bad).then(pl.lit(awkward)).otherwise(pl.col(c)).alias(c)
            for c in ("description", "consignee_name", "consignee_address", "carrier")
        ],
    )
    path = tmp_path / f"manifest{suffix}"
    if suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path)
    whole = screening.screen(path, rules=us_pack)
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=300)
    rejects = pl.read_parquet(tmp_path / "parts" / "rejects.parquet")
    assert rejects.height == whole.rejects.height >= 2_000 // 9
    assert_frame_equal(rejects, whole.rejects)
    # Every awkward text is in a reject's raw values (a blank one fails as missing instead).
    assert set(_AWKWARD_TEXT) - {""} <= {json.loads(r)["description"] for r in rejects["raw"]}


def _keeps_previous_set(out: Path) -> None:
    assert sorted(p.name for p in out.parent.iterdir()) == ["run"]
    assert json.loads((out / "summary.json").read_text()) == {"previous": True}


@pytest.fixture
def previous_run(tmp_path: Path) -> Path:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text('{"previous": true}')
    return out


def test_a_failed_write_keeps_the_previous_set(
    us_pack: screening.RulePack, previous_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = folder_run.write_frames

    def fail_on_rejects(frames: dict[str, pl.DataFrame], folder: Path, fmt: OutputFormat) -> list[Path]:
        if "rejects" in frames:
            raise OSError("disk full")
        return real(frames, folder, fmt)

    monkeypatch.setattr(folder_run, "write_frames", fail_on_rejects)
    with pytest.raises(OSError, match="disk full"):
        screening.screen_to_folder(SAMPLE / "manifest_10k.parquet", previous_run, rules=us_pack)
    _keeps_previous_set(previous_run)


def test_a_part_that_fails_to_write_stops_the_run_and_keeps_the_previous_set(
    us_pack: screening.RulePack, previous_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writing thread's error reaches the run (no hang, no half-written set)."""
    real = AppendingFile._frames

    def fail_on_third_part(self: AppendingFile, *args: Any) -> Iterator[pl.DataFrame]:
        for index, frame in enumerate(real(self, *args)):
            if index == 2 and self.path.stem == "lines":
                raise OSError("disk full")
            yield frame

    monkeypatch.setattr(AppendingFile, "_frames", fail_on_third_part)
    with pytest.raises((OSError, pl.exceptions.PolarsError), match="disk full"):
        screening.screen_to_folder(
            SAMPLE / "manifest_10k.parquet", previous_run, rules=us_pack, part_lines=2_000
        )
    _keeps_previous_set(previous_run)


def test_a_day_in_parts_numbers_lines_without_numbers_as_the_whole_day(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Each part numbers its packages' lines, and the totals pass numbers them the same way."""
    frame = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False).head(3_000).drop("line_no")
    whole = screening.screen(frame, rules=us_pack)
    assert whole.lines["line_no"].max() > 1
    path = tmp_path / "unnumbered.parquet"
    frame.sample(fraction=1.0, shuffle=True, seed=5).write_parquet(path)
    shuffled = screening.screen(path, rules=us_pack)
    summary, _ = screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=700)
    assert summary["counts"]["input_rows"] == 3_000
    for name in ("lines", "packages", "rejects"):
        assert_frame_equal(pl.read_parquet(tmp_path / "parts" / f"{name}.parquet"), getattr(shuffled, name))
    assert whole.rejects.height == shuffled.rejects.height


def test_a_package_takes_the_date_consignee_and_mode_of_its_lowest_numbered_line(
    us_pack: screening.RulePack, tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Lines of one package naming another day, consignee or mode were totalled on their own: a $900 package
    of $500 on 10 March and $400 on 11 March (or for another name) was released as de minimis. Whole day,
    in parts and in batches alike, it is one $900 package of its line 1's day, consignee and mode."""
    frame = manifest(
        {"package_id": "P", "line_no": "2", "declared_value": "400", "arrival_date": "2025-03-11"},
        {"package_id": "Q", "declared_value": "90", "consignee_name": "Bob Roe"},
        {"package_id": "P", "line_no": "1", "declared_value": "500"},
        {
            "package_id": "P",
            "line_no": "3",
            "declared_value": "5",
            "consignee_name": "Bob Roe",
            "mode": "postal",
        },
    )
    path = tmp_path / "day.parquet"
    frame.write_parquet(path)
    whole = screening.screen(path, rules=us_pack)
    assert whole.rejects.is_empty()
    assert whole.packages.select(
        "package_id", "arrival_date", "mode", "value_usd", "de_minimis_reason"
    ).rows() == [
        ("P", dt.date(2025, 3, 10), "express", Decimal("905.00"), "dm-over-threshold"),
        ("Q", dt.date(2025, 3, 10), "express", Decimal("90.00"), "dm-eligible"),
    ]
    assert (
        whole.lines.filter(pl.col("package_id") == "P")["consignee_day_value_usd"].to_list()
        == [Decimal("905.00")] * 3
    )
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    for name in ("lines", "packages"):
        assert_frame_equal(pl.read_parquet(tmp_path / "parts" / f"{name}.parquet"), getattr(whole, name))
    batched = screening.Screener(us_pack).screen(path)
    assert_frame_equal(
        batched.packages.drop("queue_rank", strict=False), whole.packages.drop("queue_rank", strict=False)
    )


def test_a_package_takes_the_consignee_id_and_zip_of_its_lowest_numbered_line_that_gives_them(
    us_pack: screening.RulePack, tmp_path: Path, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Package A gave consignee id C-77 on its line 2 only, B on its one line: A was keyed by line 1's name and
    ZIP, so the person's $900 day was split ($500 and $400, both eligible; 19 U.S.C. 1321(a)(2)(C)). So with a
    ZIP on line 2 only (Z1), and a name that names no one on line 1 (N1). Each identity field is taken from the
    lowest-numbered line that gives it, and the key made of them: whole day, in parts and in batches alike."""
    frame = manifest(
        {"package_id": "A", "line_no": "2", "consignee_id": "C-77", "declared_value": "250"},
        {"package_id": "A", "line_no": "1", "consignee_id": "", "declared_value": "250"},
        {"package_id": "B", "consignee_id": "c77", "consignee_name": "A. Lee", "declared_value": "400"},
        {"package_id": "Z1", "consignee_name": "Bo Ng", "consignee_postal_code": "", "declared_value": "250"},
        {
            "package_id": "Z1",
            "line_no": "2",
            "consignee_name": "Bo Ng",
            "consignee_postal_code": "30303-1111",
            "declared_value": "250",
        },
        {
            "package_id": "Z2",
            "consignee_name": "Bo Ng",
            "consignee_postal_code": "30303",
            "declared_value": "400",
        },
        {"package_id": "N1", "consignee_name": "N/A", "consignee_postal_code": "", "declared_value": "250"},
        {"package_id": "N1", "line_no": "2", "consignee_name": "Cy Po", "declared_value": "250"},
        {"package_id": "N2", "consignee_name": "Cy Po", "declared_value": "400"},
    )
    path = tmp_path / "day.parquet"
    frame.write_parquet(path)
    whole = screening.screen(path, rules=us_pack)
    assert whole.rejects.is_empty()
    assert whole.packages.select("package_id", "consignee_key", "value_usd", "de_minimis_reason").rows() == [
        ("A", "id:C77", Decimal("500.00"), "dm-over-threshold"),
        ("B", "id:C77", Decimal("400.00"), "dm-over-threshold"),
        ("N1", "name:cy po|20001", Decimal("500.00"), "dm-over-threshold"),
        ("N2", "name:cy po|20001", Decimal("400.00"), "dm-over-threshold"),
        ("Z1", "name:bo ng|30303", Decimal("500.00"), "dm-over-threshold"),
        ("Z2", "name:bo ng|30303", Decimal("400.00"), "dm-over-threshold"),
    ]
    # Every line shows its package's consignee: each field as the line that gave it wrote it.
    shown = whole.lines.filter(pl.col("package_id").is_in(["A", "N1", "Z1"])).sort("package_id", "line_no")
    assert shown.select("consignee_id", "consignee_name", "consignee_postal_code").rows() == [
        ("C-77", "Anna Keller", "20001"),
        ("C-77", "Anna Keller", "20001"),
        (None, "Cy Po", "20001"),
        (None, "Cy Po", "20001"),
        (None, "Bo Ng", "30303-1111"),
        (None, "Bo Ng", "30303-1111"),
    ]
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    for name in ("lines", "packages"):
        assert_frame_equal(pl.read_parquet(tmp_path / "parts" / f"{name}.parquet"), getattr(whole, name))
    # In batches each package is judged on the running total up to itself; the day's totals are the same.
    screener = screening.Screener(us_pack)
    batched = screener.screen(path)
    assert (
        batched.lines.select("package_id", "line_no", "consignee_key")
        .sort("package_id", "line_no")
        .equals(whole.lines.select("package_id", "line_no", "consignee_key").sort("package_id", "line_no"))
    )
    assert screener.totals().select("consignee_key", "consignee_day_value_cents").rows() == [
        ("id:C77", 90_000),
        ("name:bo ng|30303", 90_000),
        ("name:cy po|20001", 90_000),
    ]


def test_an_unknown_output_format_is_refused_before_any_work(tmp_path: Path) -> None:
    """``fmt="xlsx"`` wrote CSV files named ``lines.xlsx`` over the previous output set."""
    with pytest.raises(UsageError, match="unknown output format 'xlsx'"):
        screening.screen_to_folder(
            SAMPLE / "manifest_10k.parquet", tmp_path / "out", rules=US_PACK, fmt="xlsx"
        )  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    "api", ["screen_to_folder", "screen", "Screener.screen", "screen_batches", "screen_files_in_batches"]
)
@pytest.mark.parametrize("given", ["folder", "packages file"])
def test_an_output_folder_that_holds_the_run_s_history_is_refused(
    us_pack: screening.RulePack, tmp_path: Path, api: str, given: str
) -> None:
    """``history=out`` with ``out`` as the output folder (day 2 read day 1's packages, then replaced day 1's folder
    with its own set): the history is an input of the run, and the folder holds none of its inputs (README). It is
    refused as a manifest inside the folder is, and day 1's outputs are kept."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    day2 = tmp_path / "day2.parquet"
    sample.slice(300, 300).write_parquet(day2)
    out = tmp_path / "out"
    screening.screen_to_folder(sample.head(300), out, rules=us_pack)
    kept = _folder_bytes(out)
    history = out if given == "folder" else out / "packages.parquet"
    call: Callable[[Path], object] = {
        "screen_to_folder": lambda to: screening.screen_to_folder(day2, to, rules=us_pack, history=history),
        "screen": lambda to: screening.screen(day2, rules=us_pack, history=history).write(to),
        "Screener.screen": lambda to: screening.Screener(us_pack, history=history).screen(day2).write(to),
        "screen_batches": lambda to: screening.screen_batches(
            [sample.slice(300, 300)], rules=us_pack, history=[history]
        ).write(to),
        "screen_files_in_batches": lambda to: screen_files_in_batches(
            [day2], out=to, batch_size=100, rules=us_pack, history=[history]
        ),
    }[api]
    with pytest.raises(
        UsageError, match=r"^.*out: the output folder holds the history .*packages\.parquet; "
    ):
        call(out)
    assert _folder_bytes(out) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day2.parquet", "out"]  # no staging or lock left
    call(tmp_path / "day2")  # another folder takes the run
    assert json.loads((tmp_path / "day2" / "summary.json").read_text())["options"]["history_sources"] == "1"


@pytest.mark.parametrize("batched", [[], ["--batch-size", "100"]], ids=["whole day", "batches"])
def test_cli_refuses_an_output_folder_that_holds_the_history(tmp_path: Path, batched: list[str]) -> None:
    """``screen run day2 --history out --out out`` exited 0 and replaced day 1's outputs with day 2's: exit 2 now,
    naming the history, and day 1's folder as it was."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    sample.head(300).write_parquet(tmp_path / "day1.parquet")
    sample.slice(300, 300).write_parquet(tmp_path / "day2.parquet")
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["run", str(tmp_path / "day1.parquet"), "--out", str(out), "-q"])
    assert first.exit_code == 0, first.output
    kept = _folder_bytes(out)
    args = ["run", str(tmp_path / "day2.parquet"), "--history", str(out), "--out", str(out), *batched, "-q"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == 2, refused.output
    assert f"{out}: the output folder holds the history {out / 'packages.parquet'}" in refused.output
    assert _folder_bytes(out) == kept


def _growing_hour(tmp_path: Path) -> tuple[Path, Callable[[str], None], bytes]:
    """A 120-row CSV file, a progress hook that appends 3 rows to it (a producer still writing it) when the run
    first reports deciding, and the file's bytes before."""
    sample = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False)
    hour = tmp_path / "hour.csv"
    sample.head(120).write_csv(hour)
    appended: list[str] = []

    def producer(stage: str) -> None:
        if not appended and "deciding" in stage:
            with hour.open("a", encoding="utf-8") as handle:
                handle.write(sample.slice(120, 3).write_csv(include_header=False))
            appended.append(stage)

    return hour, producer, hour.read_bytes()


@pytest.mark.parametrize("api", ["screen", "screen_to_folder", "screen_to_folder in parts"])
def test_a_whole_day_run_refuses_a_file_that_changes_while_it_is_read(
    us_pack: screening.RulePack, tmp_path: Path, api: str
) -> None:
    """Without a state, a whole-day run hashed each file for its summary after screening it: a producer appending
    3 rows meanwhile left ``summary.json`` listing 120 rows under the size and SHA-256 of the 123-row file
    (21,961 bytes, not the 21,450 screened). The file is hashed before it is read and again after: a file that
    changed is refused (a ``UsageError``, nothing written), as ``--state`` runs refuse it; given again once
    complete, its summary lists the bytes screened."""
    hour, producer, before = _growing_hour(tmp_path)
    out = tmp_path / "out"
    run: Callable[[Callable[[str], None] | None], dict[str, Any]] = {
        "screen": lambda hook: screening.screen(hour, rules=us_pack, on_stage=hook).summary,
        "screen_to_folder": lambda hook: screening.screen_to_folder(hour, out, rules=us_pack, on_stage=hook)[
            0
        ],
        "screen_to_folder in parts": lambda hook: screening.screen_to_folder(
            hour, out, rules=us_pack, on_stage=hook, part_lines=40
        )[0],
    }[api]
    with pytest.raises(UsageError, match=r"the file changed while it was read") as refused:
        run(producer)
    assert str(refused.value).startswith(f"{hour}: ")
    assert hour.read_bytes() != before
    assert not out.exists()
    complete = hour.read_bytes()
    summary = run(None)
    assert summary["inputs"] == [
        {
            "source": str(hour),
            "rows": 123,
            "bytes": len(complete),
            "sha256": "sha256:" + hashlib.sha256(complete).hexdigest(),
        }
    ]


#: What rejects P1's line 2 in the second file given (a.csv), beside line 3, valid.
_SECOND_FILE_FAULT: dict[str, list[dict[str, str]]] = {
    "invalid-hts": [{"line_no": "2", "hts_code": "12"}],
    "missing-fx-rate": [{"line_no": "2", "currency": "RUB"}],
    "conflicting-line": [{"line_no": "2"}, {"line_no": "2", "declared_value": "900.00"}],
}


@pytest.mark.parametrize("fault", sorted(_SECOND_FILE_FAULT))
def test_package_incomplete_names_the_first_rejected_line_in_the_order_the_files_are_given(
    us_pack: screening.RulePack, tmp_path: Path, manifest: Callable[..., pl.DataFrame], fault: str
) -> None:
    """``screen run z.csv a.csv``: P1's line 1 in z.csv (given first) has a bad mode, its line 2 in a.csv is
    rejected too. Line 3's ``package-incomplete`` named ``a.csv row 1``, the first rejected line by file name, not
    in the order given. It names z.csv's row 1 now, in the whole day, in parts and from ``screen`` alike."""
    z_csv, a_csv = tmp_path / "z.csv", tmp_path / "a.csv"
    manifest({"mode": "bicycle"}).write_csv(z_csv)
    manifest(*_SECOND_FILE_FAULT[fault], {"line_no": "3"}).write_csv(a_csv)
    whole = screening.screen([z_csv, a_csv], rules=us_pack).rejects
    screening.screen_to_folder([z_csv, a_csv], tmp_path / "whole", rules=us_pack)
    screening.screen_to_folder([z_csv, a_csv], tmp_path / "parts", rules=us_pack, part_lines=1)
    expected = f"package P1 has a rejected line ({z_csv} row 1: invalid-mode); none of its lines is screened"
    for rejects in (
        whole,
        *(pl.read_parquet(tmp_path / run / "rejects.parquet") for run in ("whole", "parts")),
    ):
        incomplete = rejects.filter(pl.col("code") == "package-incomplete")
        assert incomplete.select("source", "row", "message").rows() == [
            (str(a_csv), 1 + len(_SECOND_FILE_FAULT[fault]), expected)
        ]
