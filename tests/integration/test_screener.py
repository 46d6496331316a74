"""The incremental Screener: running totals, resumable state, batches on the command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import inspect
import io
import itertools
import json
import os
import random
import re
import sys
import threading
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal

import screening
from screening import screener as screener_module
from screening.cli import main
from screening.errors import InputSchemaError
from screening.io import sorting
from screening.io.digests import file_digest
from screening.io.mapping import ColumnMapping
from screening.io.streaming_output import StreamingOutput
from screening.schema import QUEUE_ORDER
from screening.screener import _file_batches, screen_files_in_batches, whole_packages

from ..conftest import OUTPUT_FILES, SAMPLE, US_PACK, write_ipc_stream

SAMPLE_CSV = SAMPLE / "manifest_10k.csv"


def three_packages(manifest: Callable[..., pl.DataFrame]) -> pl.DataFrame:
    """One person, one day before the 2025-08-29 suspension: $300, then $400, then $200."""
    return manifest(
        {"package_id": "P1", "declared_value": "300"},
        {"package_id": "P2", "declared_value": "400"},
        {"package_id": "P3", "declared_value": "200"},
    )


def test_each_package_is_judged_on_the_running_total_including_itself(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    frame = three_packages(manifest)
    incremental = screening.Screener(us_pack).screen(frame)
    decided = incremental.lines.select("package_id", "consignee_day_value_usd", "de_minimis_reason")
    assert decided["consignee_day_value_usd"].cast(pl.Float64()).to_list() == [300.0, 700.0, 900.0]
    assert decided["de_minimis_reason"].to_list() == ["dm-eligible", "dm-eligible", "dm-over-threshold"]
    # The whole day judges all three on the final $900.
    whole = screening.screen(frame, rules=us_pack)
    assert whole.lines["de_minimis_reason"].unique().to_list() == ["dm-over-threshold"]


def test_packages_are_judged_in_arrival_order_not_in_package_id_order(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """B arrives before A: B is judged on its own $500, A on $900 (sorting the lines by package to give each
    line its package's attributes once judged A first)."""
    frame = manifest(
        {"package_id": "B", "declared_value": "500"}, {"package_id": "A", "declared_value": "400"}
    )
    result = screening.Screener(us_pack).screen(frame)
    assert dict(result.packages.select("package_id", "de_minimis_reason").iter_rows()) == {
        "B": "dm-eligible",
        "A": "dm-over-threshold",
    }


def test_a_waiver_by_package_value_is_not_given_to_a_package_continued_from_an_earlier_batch(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Perfume with alcohol is never eligible unless its package is worth $5.00 or less: a $10 t-shirt in one
    batch and $4 of perfume of the same package in the next released the perfume duty-free (the batch saw $4),
    where the whole day excludes the $14 package."""
    shirt = manifest({"package_id": "G", "line_no": "1", "declared_value": "10.00"})
    perfume = manifest(
        {"package_id": "G", "line_no": "2", "hts_code": "3303.00.30.00", "declared_value": "4.00"}
    )
    screener = screening.Screener(us_pack)
    screener.screen(shirt)
    later = screener.screen(perfume)
    assert later.packages["de_minimis_reason"].to_list() == ["dm-excluded-excise"]
    whole = screening.screen(pl.concat([shirt, perfume]), rules=us_pack)
    assert whole.packages["de_minimis_reason"].to_list() == ["dm-excluded-excise"]
    # Alone in one batch, $4 of perfume is waived.
    alone = screening.Screener(us_pack).screen(perfume.with_columns(pl.lit("H").alias("package_id")))
    assert alone.packages["de_minimis_reason"].to_list() == ["dm-eligible"]


def test_a_shipper_s_split_is_judged_on_the_batch_s_packages_before_it_not_after(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """The shipper-consignee-day totals looked ahead within a batch: P1 ($500) was flagged as a split because
    P2, after it in the batch, counted. In a batch each package sees the packages before it and itself, as the
    whole day over that prefix does (earlier batches are not counted: a stated limit)."""
    frame = manifest(
        {"package_id": "P1", "declared_value": "500"},
        {"package_id": "P2", "declared_value": "400"},
        {"package_id": "P3", "declared_value": "300", "shipper_name": "Other Co"},
    )

    def split(result: screening.Result) -> set[str]:
        return set(result.flags.filter(pl.col("rule_id") == "structuring-shipper-split")["package_id"])

    assert split(screening.Screener(us_pack).screen(frame)) == {"P2"}
    for i, package in enumerate(("P1", "P2", "P3")):
        prefix = screening.screen(frame.head(i + 1), rules=us_pack)
        assert (package in split(prefix)) == (package == "P2")


def test_a_package_rejected_in_an_earlier_batch_is_not_screened_on_a_later_line(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P's lines of the first batch were all rejected (one bad code). Its line 3 of the next batch was then
    screened alone, as if P were worth $100 (and, before that, taken for a package counted there): a package
    is screened whole or not at all, so its later lines are rejected too, and P counts in no total."""
    first = manifest(
        {"package_id": "P", "line_no": "1", "hts_code": "12"},
        {"package_id": "P", "line_no": "2"},
    )
    second = manifest({"package_id": "P", "line_no": "3", "declared_value": "100"})
    screener = screening.Screener(us_pack)
    assert screener.screen(first).lines.is_empty()
    later = screener.screen(second)
    assert later.lines.is_empty()
    assert later.rejects.select("line_no", "code").rows() == [("3", "package-incomplete")]
    assert "rejected in an earlier batch" in later.rejects["message"].item()
    assert screener.totals().is_empty()


def test_a_rejected_line_after_a_screened_batch_says_the_earlier_lines_stand(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P's line 1 was screened (and released) in the first batch; its lines 2 and 3 come in the next, line 3 with
    a bad code. The reject of line 2 said that none of P's lines is screened, which the first batch's output
    contradicts: it says the lines of this batch are not, and that those of the earlier batch stand."""
    screener = screening.Screener(us_pack)
    first = screener.screen(manifest({"package_id": "P", "line_no": "1", "declared_value": "500"}))
    assert first.packages["disposition"].to_list() == ["release"]
    later = screener.screen(
        manifest(
            {"package_id": "P", "line_no": "2", "declared_value": "100"},
            {"package_id": "P", "line_no": "3", "hts_code": "12"},
            {"package_id": "Q", "line_no": "1", "hts_code": "6109", "consignee_name": "Other Person"},
            {"package_id": "Q", "line_no": "2", "consignee_name": "Other Person"},
        )
    )
    incomplete = later.rejects.filter(pl.col("code") == "package-incomplete").sort("package_id")
    assert incomplete["package_id"].to_list() == ["P", "Q"]
    p_message, q_message = incomplete["message"].to_list()
    assert "none of its lines in this batch is screened" in p_message
    assert "its lines of an earlier batch were screened there and stand" in p_message
    assert q_message.endswith("; none of its lines is screened")


def test_a_corrected_resend_of_a_rejected_package_is_not_screened_in_part(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P's line 2 had a bad code, so P was rejected whole. Resent corrected in the next batch, its line 1 was a
    copy (seen with its package) and its line 2 was screened alone: a $900 package released as a $400 one."""
    lines = [
        {"package_id": "P", "line_no": "1", "declared_value": "500"},
        {"package_id": "P", "line_no": "2", "declared_value": "400"},
    ]
    screener = screening.Screener(us_pack)
    first = screener.screen(manifest(lines[0], {**lines[1], "hts_code": "6109"}))
    assert sorted(first.rejects["code"].to_list()) == ["invalid-hts", "package-incomplete"]
    again = screener.screen(manifest(*lines))
    assert again.lines.is_empty()
    assert again.packages.is_empty()
    assert again.rejects.select("line_no", "code").sort("line_no").rows() == [
        ("1", "duplicate-line"),
        ("2", "package-incomplete"),
    ]
    assert screener.totals().is_empty()


def test_the_lines_of_a_package_rejected_in_an_earlier_batch_get_the_codes_the_readme_gives(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """README (*Incremental screening*): a package rejected in a batch stays rejected, but not every later line of
    it is a ``duplicate-line`` or ``package-incomplete``. A line that passed validation there (rejected with its
    package, or for want of a rate) is a ``duplicate-line`` when resent; one that validation rejected there (or
    that came in two versions) left no key in the state and is validated again: still wrong, its own code again;
    corrected, ``package-incomplete``, as is any new line of the package."""
    no_rate = {"arrival_date": "2026-11-20", "currency": "EUR"}  # the pack's EUR rates end 2026-10-30
    screener = screening.Screener(us_pack)
    first = screener.screen(
        manifest(
            {"package_id": "P1", "line_no": "1", "hts_code": "12"},
            {"package_id": "P1", "line_no": "2"},
            {"package_id": "P4", "line_no": "1", "declared_value": "10"},
            {"package_id": "P4", "line_no": "1", "declared_value": "11"},
            {"package_id": "P4", "line_no": "2"},
            {"package_id": "P5", "line_no": "1", **no_rate},
            {"package_id": "P5", "line_no": "2", "arrival_date": "2026-11-20"},
        )
    )
    assert first.rejects.sort("row").select("package_id", "line_no", "code").rows() == [
        ("P1", "1", "invalid-hts"),
        ("P1", "2", "package-incomplete"),
        ("P4", "1", "conflicting-line"),
        ("P4", "1", "conflicting-line"),
        ("P4", "2", "package-incomplete"),
        ("P5", "1", "missing-fx-rate"),
        ("P5", "2", "package-incomplete"),
    ]
    again = screener.screen(
        manifest(
            {"package_id": "P1", "line_no": "1", "hts_code": "12"},  # still wrong
            {"package_id": "P1", "line_no": "2"},
            {"package_id": "P1", "line_no": "3"},  # new
            {"package_id": "P4", "line_no": "1", "declared_value": "10"},  # one version
            {"package_id": "P4", "line_no": "2"},
            {"package_id": "P5", "line_no": "1", **no_rate},
            {"package_id": "P5", "line_no": "3", "arrival_date": "2026-11-20"},  # new
        )
    )
    assert again.rejects.sort("row").select("package_id", "line_no", "code").rows() == [
        ("P1", "1", "invalid-hts"),
        ("P1", "2", "duplicate-line"),
        ("P1", "3", "package-incomplete"),
        ("P4", "1", "package-incomplete"),
        ("P4", "2", "duplicate-line"),
        ("P5", "1", "duplicate-line"),
        ("P5", "3", "package-incomplete"),
    ]
    # The new line names the wrong line of its own batch (row 8: the rows count on from the first batch's 7).
    new_line = again.rejects.filter(package_id="P1", line_no="3")["message"].item()
    assert "row 8: invalid-hts" in new_line, new_line
    corrected = screener.screen(manifest({"package_id": "P1", "line_no": "1"}))
    assert corrected.rejects.select("package_id", "line_no", "code").rows() == [
        ("P1", "1", "package-incomplete")
    ]
    assert "rejected in an earlier batch" in corrected.rejects["message"].item()
    assert again.lines.is_empty()
    assert corrected.lines.is_empty()
    assert screener.totals().is_empty()


def test_a_line_given_in_two_versions_in_one_batch_is_rejected_and_its_package_stays_rejected(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P's line 1 came twice in one batch, for $500 and for $900: the first version was screened as a copy's
    original ($500, released) whatever the other said. Both are ``conflicting-line`` now, and P stays rejected:
    a version resent in a later batch is not screened alone. A line whose key came in an earlier batch is a
    ``duplicate-line`` whatever it says (the state keeps keys, not content), and its message claims no copy."""
    screener = screening.Screener(us_pack)
    first = screener.screen(
        manifest(
            {"package_id": "P", "declared_value": "500"},
            {"package_id": "P", "declared_value": "900"},
            {"package_id": "Q", "declared_value": "100"},
        )
    )
    assert first.rejects.select("row", "code").rows() == [(1, "conflicting-line"), (2, "conflicting-line")]
    assert first.packages["package_id"].to_list() == ["Q"]
    again = screener.screen(
        manifest({"package_id": "P", "declared_value": "500"}, {"package_id": "Q", "declared_value": "150"})
    )
    assert again.lines.is_empty()
    assert again.rejects.select("package_id", "code").rows() == [
        ("P", "package-incomplete"),
        ("Q", "duplicate-line"),
    ]
    assert "rejected in an earlier batch" in again.rejects["message"][0]
    resent = again.rejects["message"][1]
    assert "not compared" in resent
    assert "first occurrence is kept" not in resent
    assert screener.totals()["consignee_day_value_cents"].to_list() == [10_000]


def test_versions_of_a_line_screened_in_an_earlier_batch_are_copies_not_conflicts(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P's line 1 was screened (and released) in batch 1; batch 2 resends it twice, for $10 and for $900, beside
    a new line 2. Both resent rows were ``conflicting-line`` saying "none of them is screened", and line 2 was
    ``package-incomplete``, though P had been released: a line whose key came earlier is a ``duplicate-line``
    whatever it says (README), and line 2 is screened as the package's next part."""
    screener = screening.Screener(us_pack)
    first = screener.screen(manifest({"package_id": "P", "declared_value": "10"}))
    assert first.packages["package_id"].to_list() == ["P"]
    again = screener.screen(
        manifest(
            {"package_id": "P", "declared_value": "10"},
            {"package_id": "P", "declared_value": "900"},
            {"package_id": "P", "line_no": "2", "declared_value": "5"},
        )
    )
    assert again.rejects.select("line_no", "code").rows() == [
        ("1", "duplicate-line"),
        ("1", "duplicate-line"),
    ]
    assert again.lines.select("package_id", "line_no").rows() == [("P", 2)]


def test_totals_carry_across_batches_and_equal_the_whole_day(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    frame = three_packages(manifest)
    screener = screening.Screener(us_pack)
    first = screener.screen(frame.head(2))
    second = screener.screen(frame.tail(1).to_arrow())
    assert first.lines["de_minimis_reason"].to_list() == ["dm-eligible", "dm-eligible"]
    assert second.lines["consignee_day_value_usd"].cast(pl.Float64()).to_list() == [900.0]
    assert second.lines["de_minimis_reason"].to_list() == ["dm-over-threshold"]
    totals = screener.totals()
    assert totals.height == 1
    assert totals.row(0, named=True) | {"consignee_key": None} == {
        "consignee_key": None,
        "arrival_date": frame["arrival_date"].str.to_date()[0],
        "consignee_day_value_cents": 90_000,
        "consignee_day_gift_cents": 0,
        "consignee_day_packages": 3,
        "consignee_day_lines": 3,
    }


def test_batches_screened_by_two_threads_at_once_count_as_one_after_the_other(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two threads share one screener, each screening one $500 package of one consignee and day. Each batch's
    plan was built from the state both read before either had kept its own, so both packages came out
    ``dm-eligible`` and the totals held one of them ($500). A batch now waits for the other: the second is
    over the $800 threshold and the totals hold both."""
    built = threading.Barrier(2, timeout=1)
    real_build_plan = screener_module.build_plan

    def build_plan_then_wait_for_the_other_thread(*args: Any, **kwargs: Any) -> Any:
        plan = real_build_plan(*args, **kwargs)
        # Forces the interleaving that the race needs: both plans built before either state is kept. Taking
        # turns, the first batch waits here alone (up to the timeout) and the second does not wait.
        with contextlib.suppress(threading.BrokenBarrierError):
            built.wait()
        return plan

    monkeypatch.setattr(screener_module, "build_plan", build_plan_then_wait_for_the_other_thread)
    screener = screening.Screener(us_pack)
    results: dict[str, screening.Result] = {}

    def screen(package: str) -> None:
        line = {"package_id": package, "declared_value": "500.00", "arrival_date": "2025-05-01"}
        results[package] = screener.screen(manifest(line))

    threads = [threading.Thread(target=screen, args=(package,)) for package in ("P1", "P2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reasons = sorted(results[p].packages["de_minimis_reason"].item() for p in ("P1", "P2"))
    assert reasons == ["dm-eligible", "dm-over-threshold"]
    assert screener.totals()["consignee_day_value_cents"].to_list() == [100_000]
    assert screener.state.batches == 2


def test_a_state_saved_by_one_thread_is_not_replaced_by_an_older_save_of_another(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``save_state`` let go of the screener as soon as its copy was written, before renaming it into place: a
    thread held up there (forced here) renamed its state of batch 1 over the state of batch 2 that the other
    thread had screened and saved meanwhile. Saves and batches now wait for the renaming."""
    from screening.io import state_file

    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(40)
    path = tmp_path / "day.state"
    screener = screening.Screener(us_pack)
    screener.screen(sample.head(20))
    renaming, overtaken = threading.Event(), threading.Event()

    class HeldUpBeforeRenaming:
        """``os`` for the state file's writer, with the first thread's renaming held up."""

        def __getattr__(self, name: str) -> Any:
            return getattr(os, name)

        @staticmethod
        def replace(source: Path, target: Path) -> None:
            if threading.current_thread().name == "held-up":
                renaming.set()
                overtaken.wait(timeout=0.5)  # until the other thread has saved, if it can meanwhile
            os.replace(source, target)

    monkeypatch.setattr(state_file, "os", HeldUpBeforeRenaming())
    first_save = threading.Thread(target=screener.save_state, args=(path,), name="held-up")
    first_save.start()
    assert renaming.wait(timeout=60)
    screener.screen(sample.tail(20))
    screener.save_state(path)
    overtaken.set()
    first_save.join()
    saved = screening.Screener.restore(path, us_pack)
    assert (saved.state.batches, saved.state.rows_seen) == (2, 40)


def _progress(screener: screening.Screener) -> tuple[Any, ...]:
    """What a screener has counted: batches, rows, each source's rows, files screened, extra columns' types."""
    return (
        screener.state.batches,
        screener.state.rows_seen,
        dict(screener._stream_rows),
        list(screener.files_screened),
        screener._extra_types.to_json(),
    )


def _commit_lines() -> list[int]:
    """The lines of code of ``Screener._screen_rows`` from its check of the plan's next state to its return:
    where the batch is counted."""
    code = screening.Screener._screen_rows.__code__
    source = inspect.getsource(code).splitlines()
    start = next(i for i, line in enumerate(source) if "plan.next_state is not None" in line)
    end = max(i for i, line in enumerate(source) if line.strip() == "return result")
    span = range(code.co_firstlineno + start, code.co_firstlineno + end + 1)
    return sorted({line for *_, line in code.co_lines() if line in span})


@contextlib.contextmanager
def _ctrl_c_at(line: int) -> Iterator[None]:
    """A Ctrl-C raised in ``Screener._screen_rows`` as it reaches ``line`` (once), as a pending SIGINT is raised
    between two steps of Python; a trace hook forces it there."""
    code = screening.Screener._screen_rows.__code__

    def in_screen_rows(frame: Any, event: str, _arg: Any) -> Any:
        if event == "line" and frame.f_lineno == line:
            sys.settrace(None)
            frame.f_trace = None
            raise KeyboardInterrupt(f"Ctrl-C at line {line}")
        return in_screen_rows

    def tracer(frame: Any, _event: str, _arg: Any) -> Any:
        return in_screen_rows if frame.f_code is code else None

    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        yield
    finally:
        sys.settrace(previous)


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_a_batch_interrupted_as_it_is_counted_is_counted_whole_or_not_at_all(
    us_pack: screening.RulePack, tmp_path: Path, kind: str
) -> None:
    """A Ctrl-C between the screener's stores of its new state (batches and rows counted) and of the rows of
    each source (or the files screened) left it half advanced: the batch retried, its lines were copies of
    themselves (``duplicate-line``) under the same row numbers. Wherever it lands, the batch is counted in
    every part of the state or in none, and a batch not counted is screened as if it had not been tried."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(60)
    first, second = sample.head(30), sample.tail(30)
    batch: Any = second
    if kind == "file":
        batch = tmp_path / "hour-2.parquet"
        second.write_parquet(batch)
    straight = screening.Screener(us_pack)
    straight.screen(first)
    before = _progress(straight)
    expected = straight.screen(batch)
    after = _progress(straight)
    assert expected.rejects.filter(pl.col("code") == "duplicate-line").is_empty()
    outcomes = set()
    for line in _commit_lines():
        screener = screening.Screener(us_pack)
        screener.screen(first)
        with contextlib.suppress(KeyboardInterrupt), _ctrl_c_at(line):
            screener.screen(batch)
        progress = _progress(screener)
        assert progress in (before, after), f"half counted after a Ctrl-C at line {line}"
        outcomes.add(progress == after)
        if progress == before:
            assert screener.screen(batch).equals(expected), f"retried after a Ctrl-C at line {line}"
    assert outcomes == {False, True}


def test_a_line_seen_in_an_earlier_batch_is_a_duplicate_and_rows_count_on(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    frame = three_packages(manifest)
    screener = screening.Screener(us_pack, label="hourly")
    screener.screen(frame)
    again = screener.screen(frame.head(1))
    assert again.lines.is_empty()
    assert again.rejects.select("source", "row", "code").to_dicts() == [
        {"source": "hourly", "row": 4, "code": "duplicate-line"}
    ]
    assert screener.totals()["consignee_day_value_cents"].to_list() == [90_000]


def test_saved_and_restored_state_gives_the_same_results_as_one_screener(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    batches = [sample.slice(i, 2500) for i in range(0, sample.height, 2500)]
    straight = screening.Screener(us_pack)
    expected = [straight.screen(b) for b in batches]
    first = screening.Screener(us_pack)
    got = [first.screen(b) for b in batches[:2]]
    first.save_state(tmp_path / "day.state")
    resumed = screening.Screener.restore(tmp_path / "day.state", us_pack)
    got += [resumed.screen(b) for b in batches[2:]]
    for want, have in zip(expected, got, strict=True):
        for name, frame in want.frames().items():
            assert frame.equals(getattr(have, name)), name
    assert resumed.totals().equals(straight.totals())
    assert resumed.state.rows_seen == sample.height


def _state_texts(path: Path) -> list[bytes]:
    """A state file's bytes, and each of its members' bytes as stored before compression."""
    with zipfile.ZipFile(path) as archive:
        return [path.read_bytes(), *(archive.read(name) for name in archive.namelist())]


def test_a_state_records_a_private_seed_by_its_fingerprint_and_resumes_only_with_it(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    secret = "Wd8-state-private-seed-31"
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    batches = [sample.slice(i, 2500) for i in range(0, sample.height, 2500)]
    public = screening.Screener(us_pack, seed=secret)
    expected = [public.screen(b) for b in batches]
    first = screening.Screener(us_pack, seed=screening.PrivateSeed(secret))
    got = [first.screen(b) for b in batches[:2]]
    path = first.save_state(tmp_path / "day.state")
    assert not [text for text in _state_texts(path) if secret.encode() in text]
    with zipfile.ZipFile(path) as archive:
        options = json.loads(archive.read("meta.json"))["options"]
    fingerprint = hmac.new(secret.encode(), b"screening seed id", hashlib.sha256).hexdigest()[:16]
    assert "seed" not in options
    assert (options["seed_private"], options["seed_id"]) == ("true", fingerprint)
    resumed = screening.Screener.restore(path, us_pack, seed=screening.PrivateSeed(secret))
    got += [resumed.screen(b) for b in batches[2:]]
    for want, have in zip(expected, got, strict=True):
        for name, frame in want.frames().items():
            assert frame.equals(getattr(have, name)), name
    other = screening.PrivateSeed("another private seed")
    for seed in (other, None):
        with pytest.raises(screening.UsageError, match="another seed") as refused:
            screening.Screener.restore(path, us_pack, seed=seed)
        assert fingerprint in str(refused.value)
        assert secret not in str(refused.value)
        assert "another private seed" not in str(refused.value)
    # The same seed given in clear: the state's outputs so far record no seed; refused too.
    with pytest.raises(screening.UsageError, match="another seed"):
        screening.Screener.restore(path, us_pack, seed=secret)


def test_a_saved_state_s_bytes_depend_only_on_its_content(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    screener = screening.Screener(us_pack)
    screener.screen(pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(500))
    first = screener.save_state(tmp_path / "first.state").read_bytes()
    later = time.time() + 3_600
    monkeypatch.setattr(time, "time", lambda: later)
    assert screener.save_state(tmp_path / "second.state").read_bytes() == first


def test_restore_refuses_another_pack_or_a_foreign_file(us_pack: screening.RulePack, tmp_path: Path) -> None:
    screener = screening.Screener(us_pack)
    path = screener.save_state(tmp_path / "day.state")
    with zipfile.ZipFile(path) as archive:
        meta = json.loads(archive.read("meta.json"))
        members = {n: archive.read(n) for n in archive.namelist()}
    meta["rules_content_hash"] = "sha256:other"
    with zipfile.ZipFile(tmp_path / "other.state", "w") as archive:
        for name, data in members.items():
            archive.writestr(name, json.dumps(meta) if name == "meta.json" else data)
    with pytest.raises(screening.UsageError, match="saved under rule pack") as refused:
        screening.Screener.restore(tmp_path / "other.state", us_pack)
    # A way forward, as for another engine version: the day's earlier batches were decided by that pack.
    assert str(refused.value).endswith(
        "the day's earlier batches were decided under that pack; resume with it, or screen the day again from "
        "its first batch"
    )
    (tmp_path / "junk.state").write_text("not a zip")
    with pytest.raises(screening.UsageError, match="not a screening state file"):
        screening.Screener.restore(tmp_path / "junk.state", us_pack)
    with pytest.raises(screening.UsageError, match="options"):
        screening.Screener.restore(path, us_pack, seed="another")


def _rewritten_state(
    source: Path, target: Path, meta_change: Callable[[Any], Any], tables: dict[str, bytes]
) -> Path:
    """A copy of the state file ``source`` with its header changed and some tables replaced."""
    with zipfile.ZipFile(source) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    meta = meta_change(json.loads(members.pop("meta.json")))
    with zipfile.ZipFile(target, "w") as archive:
        archive.writestr("meta.json", json.dumps(meta))
        for name, data in {**members, **tables}.items():
            archive.writestr(name, data)
    return target


def _parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("meta_change", "tables", "message"),
    [
        (lambda meta: [meta], {}, "header is not a JSON object"),
        (lambda meta: {**meta, "rows_seen": "12"}, {}, "rows_seen not a count"),
        (lambda meta: {**meta, "batches": -1}, {}, "batches not a count"),
        (lambda meta: {**meta, "engine_version": "0.0.1"}, {}, "saved by screening 0.0.1"),
        (lambda meta: {**meta, "engine_build": "sha256:0ld"}, {}, "saved by another build"),
        (lambda meta: {k: v for k, v in meta.items() if k != "engine_build"}, {}, "saved by another build"),
        (
            lambda meta: {**meta, "extra_column_types": {"note": "Int32"}},
            {},
            "extra_column_types: not a list",
        ),
        (
            lambda meta: {
                **meta,
                "extra_column_types": [
                    {"column": "note", "type": ["Int33"], "input": "<stream>", "shown": "b"}
                ],
            },
            {},
            r"extra_column_types: not a data type: \['Int33'\]",
        ),
        (
            lambda meta: meta,
            {"seen_lines.parquet": _parquet(pl.DataFrame({"package_id": ["P"]}))},
            "seen_lines",
        ),
        (
            lambda meta: meta,
            {"seen_lines.parquet": _parquet(pl.DataFrame({"package_id": ["P"], "line_no": ["one"]}))},
            "seen_lines",
        ),
    ],
    ids=[
        "header-list",
        "rows-seen-text",
        "batches-negative",
        "other-engine",
        "other-build",
        "no-build",
        "extra-types-not-a-list",
        "extra-type-unknown",
        "column-missing",
        "column-type",
    ],
)
def test_restore_refuses_a_damaged_state_as_a_usage_error(
    us_pack: screening.RulePack,
    tmp_path: Path,
    meta_change: Callable[[Any], Any],
    tables: dict[str, bytes],
    message: str,
) -> None:
    saved = screening.Screener(us_pack).save_state(tmp_path / "day.state")
    damaged = _rewritten_state(saved, tmp_path / "damaged.state", meta_change, tables)
    with pytest.raises(screening.UsageError, match=message):
        screening.Screener.restore(damaged, us_pack)


def _with_column(table: bytes, column: str, value: object) -> bytes:
    frame = pl.read_parquet(io.BytesIO(table))
    return _parquet(frame.with_columns(pl.lit(value, dtype=frame.schema[column]).alias(column)))


@pytest.mark.parametrize(
    ("table", "column", "value", "message"),
    [
        ("consignee_days", "consignee_day_value_cents", -150_000, "a negative consignee_day_value_cents"),
        ("consignee_days", "consignee_day_packages", -1, "a negative consignee_day_packages"),
        ("consignee_days", "consignee_day_gift_cents", 1_000_000, "a gift value above the value"),
        (
            "consignee_days",
            "consignee_day_value_cents",
            2**63 - 50_000,
            r"a consignee_day_value_cents beyond 10\^16 dollars",
        ),
        ("consignee_days", "consignee_key", None, "a null consignee_key"),
        ("seen_lines", "line_no", None, "a null line_no"),
        ("seen_lines", "consignee_hash", None, "a counted line without its consignee"),
        ("queue_load", "queue_seen", -5, "a negative queue_seen"),
    ],
)
def test_restore_refuses_a_state_whose_totals_are_impossible(
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    tmp_path: Path,
    table: str,
    column: str,
    value: object,
    message: str,
) -> None:
    """A state rewritten with a negative day total (or a null key) was restored and changed decisions: a
    $1,500 package became dm-eligible on a day total of -$1,500 carried in. It is refused as damaged."""
    screener = screening.Screener(us_pack)
    first = screener.screen(
        manifest(
            {"package_id": "P1", "declared_value": "100", "description": "pill press", "hts_code": "8479.30"}
        )
    )
    assert first.queues.height == 1  # queue_load has a row to damage
    saved = screener.save_state(tmp_path / "day.state")
    with zipfile.ZipFile(saved) as archive:
        original = archive.read(f"{table}.parquet")
    damaged = _rewritten_state(
        saved,
        tmp_path / "damaged.state",
        lambda meta: meta,
        {f"{table}.parquet": _with_column(original, column, value)},
    )
    with pytest.raises(
        screening.UsageError, match=rf"damaged state file \(table {table}: 1 row with {message}[;)]"
    ):
        screening.Screener.restore(damaged, us_pack)
    # The state as saved: the $1,500 package is over the threshold on the day's $1,600.
    resumed = screening.Screener.restore(saved, us_pack).screen(
        manifest({"package_id": "P2", "declared_value": "1500"})
    )
    assert resumed.packages["de_minimis_reason"].to_list() == ["dm-over-threshold"]


def _small_state(us_pack: screening.RulePack, path: Path) -> Path:
    screener = screening.Screener(us_pack)
    screener.screen(pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(20))
    return screener.save_state(path)


def _with_compression_method(data: bytes, method: int) -> bytes:
    """``data`` (a ZIP) with every entry's compression method in the central directory set to ``method``."""
    patched = bytearray(data)
    start = 0
    while (start := patched.find(b"PK\x01\x02", start)) != -1:
        patched[start + 10 : start + 12] = method.to_bytes(2, "little")
        start += 4
    return bytes(patched)


def _with_flag(data: bytes, flag: int) -> bytes:
    """``data`` (a ZIP) with ``flag`` set in every entry's general-purpose flags in the central directory."""
    patched = bytearray(data)
    start = 0
    while (start := patched.find(b"PK\x01\x02", start)) != -1:
        flags = int.from_bytes(patched[start + 8 : start + 10], "little") | flag
        patched[start + 8 : start + 10] = flags.to_bytes(2, "little")
        start += 4
    return bytes(patched)


def _with_meta(data: bytes, meta: bytes) -> bytes:
    """``data`` (a ZIP) with ``meta.json`` replaced by ``meta`` (its CRC right)."""
    target = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(target, "w") as archive:
        for name in source.namelist():
            archive.writestr(name, meta if name == "meta.json" else source.read(name))
    return target.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: _with_meta(data, b'{"format":"\xff\xfe"}'),
        lambda data: _with_compression_method(data, 99),
        lambda data: _with_compression_method(data, zipfile.ZIP_DEFLATED),
        lambda data: _with_compression_method(data, zipfile.ZIP_LZMA),
        lambda data: _with_flag(data, 0x1),
        lambda data: _with_flag(data, 0x40),
        lambda data: data[: len(data) // 2],
    ],
    ids=[
        "meta-not-utf8",
        "unknown-method",
        "deflate-on-stored",
        "lzma-on-stored",
        "encrypted",
        "strong-encryption",
        "cut",
    ],
)
def test_restore_refuses_a_damaged_zip_as_not_a_state_file(
    us_pack: screening.RulePack, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    """A header that is not UTF-8 or an entry with an unknown compression method ended in exit 70 (a
    UnicodeDecodeError, a NotImplementedError): the ZIP and JSON layers' errors are the state's refusal too."""
    saved = _small_state(us_pack, tmp_path / "day.state")
    damaged = tmp_path / "damaged.state"
    damaged.write_bytes(damage(saved.read_bytes()))
    with pytest.raises(screening.UsageError, match="not a screening state file") as caught:
        screening.Screener.restore(damaged, us_pack)
    assert caught.value.exit_code == 2


def test_a_state_file_with_any_bytes_changed_is_restored_or_refused_never_a_crash(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Of 300 random byte flips of a state file 2 ended in NotImplementedError (exit 70). Every damaged copy
    is now refused as a usage error (or, where the flip is in bytes nothing reads, restored): flips of the
    whole file, and flips inside a table whose ZIP checksum is then made right again."""
    saved = _small_state(us_pack, tmp_path / "day.state")
    data = saved.read_bytes()
    with zipfile.ZipFile(saved) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    rng = random.Random(20261205)
    damaged = tmp_path / "damaged.state"
    outcomes = Counter[str]()
    for trial in range(600):
        if trial % 2:
            copy = bytearray(data)
            for _ in range(rng.randint(1, 3)):
                copy[rng.randrange(len(copy))] = rng.randrange(256)
            damaged.write_bytes(bytes(copy))
        else:
            name = rng.choice(sorted(members))
            table = bytearray(members[name])
            for _ in range(rng.randint(1, 3)):
                table[rng.randrange(len(table))] = rng.randrange(256)
            with zipfile.ZipFile(damaged, "w") as archive:
                for member, content in members.items():
                    archive.writestr(member, bytes(table) if member == name else content)
        try:
            screening.Screener.restore(damaged, us_pack)
        except screening.UsageError:
            outcomes["refused"] += 1
        else:
            outcomes["restored"] += 1
    assert outcomes["refused"] > 400


def test_save_state_into_a_missing_folder_names_the_target(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    target = tmp_path / "absent" / "day.state"
    with pytest.raises(screening.UsageError, match=r"day\.state: the state's folder does not exist"):
        screening.Screener(us_pack).save_state(target)
    assert not (tmp_path / "absent").exists()


@pytest.mark.parametrize("sort_chunk", [None, 40])
def test_a_batched_run_writes_its_queues_in_the_documented_order(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sort_chunk: int | None
) -> None:
    """The run's queue rows are sorted at its end: in one frame, or (``sort_chunk``) in chunks of about
    that many rows, as a day of many queued packages is."""
    if sort_chunk is not None:
        monkeypatch.setattr(sorting, "SORT_WHOLE_ROWS", 0)
        monkeypatch.setattr(sorting, "SORT_CHUNK_ROWS", sort_chunk)
    source = SAMPLE / "manifest_10k.parquet"
    screen_files_in_batches([source], out=tmp_path / "out", batch_size=1_000, rules=us_pack)
    written = pl.read_parquet(tmp_path / "out" / "queues.parquet")
    assert written.height > 100
    assert written.equals(written.sort(QUEUE_ORDER, nulls_last=True, maintain_order=True))
    sample = pl.read_parquet(source)
    # The batches the run screens: slices of 1,000 rows, each ending before its last package's lines.
    slices = [sample.slice(i, 1_000) for i in range(0, sample.height, 1_000)]
    in_memory = screening.screen_batches(list(whole_packages(slices, "package_id")), rules=us_pack)
    assert written.equals(in_memory.queues)


def test_a_package_arrives_with_its_first_line_bringing_its_other_lines_of_the_batch(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """README: packages are judged in the order of their first lines; a package's later lines in the batch
    come with it. One consignee on a day the $800 threshold applies (2025-03-10, DE goods)."""
    batch = manifest(
        {"package_id": "P1", "line_no": "1", "declared_value": "500.00"},
        {"package_id": "P2", "line_no": "1", "declared_value": "400.00"},
        {"package_id": "P1", "line_no": "2", "declared_value": "10.00"},
    )
    packages = screening.Screener(us_pack).screen(batch).packages.sort("package_id")
    assert packages["consignee_day_value_usd"].cast(pl.String()).to_list() == ["510.00", "910.00"]
    assert packages["de_minimis_reason"].to_list() == ["dm-eligible", "dm-over-threshold"]


def test_queue_ranks_continue_across_batches(us_pack: screening.RulePack) -> None:
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    result = screening.screen_batches(
        [sample.slice(i, 1000) for i in range(0, sample.height, 1000)], rules=us_pack
    )
    ranks = result.queues.group_by("queue", "port_of_entry", "arrival_date").agg(
        pl.col("queue_rank").sort().alias("ranks"), pl.len().alias("n")
    )
    for row in ranks.iter_rows(named=True):
        assert row["ranks"] == list(range(1, row["n"] + 1))
    counts = result.summary["counts"]
    assert counts["input_rows"] == sample.height == counts["lines"] + counts["rejected"]


def test_cli_batch_size_conserves_rows_and_names_rejects_as_the_whole_day_run(tmp_path: Path) -> None:
    runner = CliRunner()
    whole = runner.invoke(
        main, ["run", str(SAMPLE_CSV), "--rules", str(US_PACK), "--out", str(tmp_path / "w"), "-q"]
    )
    assert whole.exit_code == 0, whole.output
    batched = runner.invoke(
        main,
        [
            "run",
            str(SAMPLE_CSV),
            "--rules",
            str(US_PACK),
            "--out",
            str(tmp_path / "b"),
            "--batch-size",
            "2000",
            "-q",
        ],
    )
    assert batched.exit_code == 0, batched.output
    keys = ["source", "row", "code"]
    assert (
        pl.read_parquet(tmp_path / "b" / "rejects.parquet")
        .select(keys)
        .equals(pl.read_parquet(tmp_path / "w" / "rejects.parquet").select(keys))
    )
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["counts"]["input_rows"] == 10_000
    assert summary["options"]["mode"] == "incremental"
    assert summary["inputs"][0]["sha256"]


def test_cli_state_file_lets_a_second_file_resume_the_day(tmp_path: Path) -> None:
    sample = pl.read_csv(SAMPLE_CSV, infer_schema=False)
    sample.head(6000).write_csv(tmp_path / "a.csv")
    sample.tail(4000).write_csv(tmp_path / "b.csv")
    runner = CliRunner()

    def run(files: list[Path], out: str, *extra: str) -> None:
        args = [
            "run",
            *map(str, files),
            "--rules",
            str(US_PACK),
            "--out",
            str(tmp_path / out),
            "--batch-size",
            "3000",
        ]
        outcome = runner.invoke(main, [*args, *extra, "-q"])
        assert outcome.exit_code == 0, outcome.output

    run([tmp_path / "a.csv", tmp_path / "b.csv"], "together")
    state = tmp_path / "day.state"
    run([tmp_path / "a.csv"], "morning", "--state", str(state))
    saved = file_digest(state)
    run([tmp_path / "b.csv"], "afternoon", "--state", str(state))
    # The afternoon's summary says what it went on from: the morning's state, its 2 batches and 6,000 rows.
    morning, afternoon = (
        json.loads((tmp_path / out / "summary.json").read_text())["options"]
        for out in ("morning", "afternoon")
    )
    assert morning["resumed_state"] == "none (a new state)"
    assert (afternoon["resumed_state"], afternoon["resumed_batches"], afternoon["resumed_rows"]) == (
        saved,
        "2",
        "6000",
    )
    together = pl.read_parquet(tmp_path / "together" / "packages.parquet")
    parts = pl.concat(
        [pl.read_parquet(tmp_path / out / "packages.parquet") for out in ("morning", "afternoon")]
    )
    decision = ["package_id", "value_usd", "de_minimis_reason", "entry_type", "duty_usd"]
    assert parts.select(decision).sort("package_id").equals(together.select(decision).sort("package_id"))


def test_an_hour_screened_again_into_its_state_is_refused_and_its_outputs_kept(tmp_path: Path) -> None:
    """A scheduler's retry of an hour that had finished screened it again against the state that already held
    it: every line a duplicate-line, and the hour's output folder republished with no package. The state now
    records the files it took in, and the output says whether a run resumed a state or began one."""
    sample = pl.read_csv(SAMPLE_CSV, infer_schema=False)
    sample.head(300).write_csv(tmp_path / "h09.csv")
    sample.slice(300, 200).write_csv(tmp_path / "h10.csv")
    state = tmp_path / "day.state"
    runner = CliRunner()

    def run(hour: str) -> Any:
        args = ["run", str(tmp_path / f"{hour}.csv"), "--rules", str(US_PACK), "--out", str(tmp_path / hour)]
        return runner.invoke(main, [*args, "--batch-size", "100", "--state", str(state)])

    first = run("h09")
    assert first.exit_code == 0, first.output
    assert "state: a new state" in first.output
    published = (tmp_path / "h09" / "packages.parquet").read_bytes()
    saved = state.read_bytes()
    again = run("h09")
    assert again.exit_code == 2
    assert "already screened into the state" in again.output
    assert (tmp_path / "h09" / "packages.parquet").read_bytes() == published
    assert state.read_bytes() == saved
    later = run("h10")
    assert later.exit_code == 0, later.output
    assert "state: resumed (3 batches, 300 rows before this run" in later.output


def _hourly_job(tmp_path: Path) -> tuple[Callable[[str, str], dict[str, Any]], Path]:
    """The sample's first 600 rows as ``a.csv`` and the next 400 as ``b.csv`` in ``tmp_path``, and a job that
    screens one of them (``job(file, out)``: its summary) in 300-line batches with the state file it returns."""
    sample = pl.read_csv(SAMPLE_CSV, infer_schema=False)
    sample.head(600).write_csv(tmp_path / "a.csv")
    sample.slice(600, 400).write_csv(tmp_path / "b.csv")
    state = tmp_path / "day.state"

    def job(file: str, out: str) -> dict[str, Any]:
        summary, _ = screen_files_in_batches(
            [tmp_path / file], out=tmp_path / out, batch_size=300, rules=US_PACK, state_path=state
        )
        return summary

    return job, state


def test_a_job_whose_outputs_fail_to_publish_leaves_the_state_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, state = _hourly_job(tmp_path)
    job("a.csv", "morning")
    saved = state.read_bytes()

    def disk_full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(StreamingOutput, "publish", disk_full)
        with pytest.raises(screening.UsageError, match="No space left"):
            job("b.csv", "afternoon")
    assert state.read_bytes() == saved, "the state took in lines whose outputs were never published"
    again = job("b.csv", "afternoon")
    rejects = pl.read_parquet(tmp_path / "afternoon" / "rejects.parquet")
    assert again["counts"]["input_rows"] == 400
    assert "duplicate-line" not in rejects["code"].to_list()


def test_a_job_whose_state_cannot_be_saved_publishes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a full disk the state's save failed after the outputs were published (exit 2, the previous state
    kept): the hour's folder was out, though the README says such a failure leaves things as they were."""
    job, state = _hourly_job(tmp_path)
    job("a.csv", "morning")
    saved = state.read_bytes()
    before = sorted(p.name for p in tmp_path.iterdir())

    def disk_full(*_args: object, **_kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(zipfile.ZipFile, "writestr", disk_full)  # the state's archive only
        with pytest.raises(
            screening.UsageError, match=f"{state}: the state cannot be written: No space left"
        ):
            job("b.csv", "afternoon")
    assert state.read_bytes() == saved
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "outputs published without their state"
    again = job("b.csv", "afternoon")
    rejects = pl.read_parquet(tmp_path / "afternoon" / "rejects.parquet")
    assert again["counts"]["input_rows"] == 400
    assert "duplicate-line" not in rejects["code"].to_list()
    assert screening.Screener.restore(state, US_PACK).state.rows_seen == 1000


def test_a_quiet_hour_resumes_the_state_and_writes_empty_outputs(tmp_path: Path) -> None:
    sample = pl.read_csv(SAMPLE_CSV, infer_schema=False)
    sample.head(300).write_csv(tmp_path / "a.csv")
    sample.head(0).write_csv(tmp_path / "quiet.csv")
    state = tmp_path / "day.state"
    for file, out in (("a.csv", "morning"), ("quiet.csv", "noon")):
        screen_files_in_batches(
            [tmp_path / file], out=tmp_path / out, batch_size=100, rules=US_PACK, state_path=state
        )
    noon = tmp_path / "noon"
    assert {p.name for p in noon.iterdir()} == OUTPUT_FILES
    assert pl.read_parquet(noon / "lines.parquet").height == 0
    assert json.loads((noon / "summary.json").read_text())["counts"]["input_rows"] == 0
    assert screening.Screener.restore(state, US_PACK).state.rows_seen == 300


def test_every_output_has_the_same_schema_whole_day_and_incremental(us_pack: screening.RulePack) -> None:
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(300)
    whole = screening.screen(frame, rules=us_pack).frames()
    batch = screening.Screener(us_pack).screen(frame).frames()
    assert {n: f.schema for n, f in batch.items()} == {n: f.schema for n, f in whole.items()}


def test_a_batch_can_be_a_file_path(us_pack: screening.RulePack, tmp_path: Path) -> None:
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(500)
    frame.write_parquet(tmp_path / "hour-09.parquet")
    from_path = screening.Screener(us_pack).screen(tmp_path / "hour-09.parquet")
    from_frame = screening.Screener(us_pack).screen(frame)
    assert from_path.packages.equals(from_frame.packages)
    assert set(from_path.rejects["source"]) <= {str(tmp_path / "hour-09.parquet")}
    # A second file's rejects name its own rows, from 1 (as screen run --batch-size does).
    bad = frame.head(1).with_columns(pl.lit("12").alias("hts_code"))
    bad.write_parquet(tmp_path / "hour-10.parquet")
    screener = screening.Screener(us_pack)
    screener.screen(tmp_path / "hour-09.parquet")
    later = screener.screen(tmp_path / "hour-10.parquet")
    assert later.rejects.select("source", "row").rows() == [(str(tmp_path / "hour-10.parquet"), 1)]


def _rows(result: screening.Result) -> tuple[set[str], list[int]]:
    """The sources and the sorted row numbers of a result's lines and rejects."""
    rows = pl.concat([result.lines.select("source", "row"), result.rejects.select("source", "row")])
    return set(rows["source"]), sorted(rows["row"])


def test_a_file_batch_does_not_advance_the_row_numbers_of_the_batches_in_memory(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """A stream of 50 rows, a file of 40, a stream of 30: the second stream's rows were 91-120, counted on from the
    file's rows, though a reject's ``row`` is the data row of its ``source`` (README): 51-80 now. A batch named by
    ``source`` counts its own rows, and a saved state keeps the counts."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    hour = tmp_path / "hour-10.parquet"
    sample.slice(50, 40).write_parquet(hour)
    screener = screening.Screener(us_pack)
    assert _rows(screener.screen(sample.head(50))) == ({"<stream>"}, list(range(1, 51)))
    assert _rows(screener.screen(hour)) == ({str(hour)}, list(range(1, 41)))
    assert _rows(screener.screen(sample.slice(90, 30))) == ({"<stream>"}, list(range(51, 81)))
    assert _rows(screener.screen(sample.slice(120, 5), source="feed-b")) == ({"feed-b"}, [1, 2, 3, 4, 5])
    assert _rows(screener.screen(sample.slice(125, 5))) == ({"<stream>"}, list(range(81, 86)))
    assert screener.state.rows_seen == 130  # every row screened, whatever its source
    saved = screener.save_state(tmp_path / "day.state")
    with zipfile.ZipFile(saved) as archive:
        assert json.loads(archive.read("meta.json"))["stream_rows"] == {
            "<stream>": 85,
            str(hour): 40,
            "feed-b": 5,
        }
    restored = screening.Screener.restore(saved, us_pack)
    assert _rows(restored.screen(sample.slice(130, 5), source="feed-b")) == ({"feed-b"}, list(range(6, 11)))
    assert _rows(restored.screen(sample.slice(135, 5))) == ({"<stream>"}, list(range(86, 91)))


def test_batches_in_memory_named_by_a_file_s_source_number_on_after_its_rows(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """A file of 40 rows screened by path, then a batch in memory of 30 named by the file's path as its source: the
    batch's rows were 1-30 again beside the file's 1-40 under one source; they are 41-70. A file screened under a
    source after batches in memory of it numbers its own rows from 1 (README), and the next batch in memory numbers
    on after the higher of the two. The count is kept in a saved state."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    hour, other = tmp_path / "hour-10.parquet", tmp_path / "hour-11.parquet"
    sample.slice(0, 40).write_parquet(hour)
    sample.slice(100, 20).write_parquet(other)
    screener = screening.Screener(us_pack)
    assert _rows(screener.screen(hour)) == ({str(hour)}, list(range(1, 41)))
    assert _rows(screener.screen(sample.slice(40, 30), source=str(hour))) == (
        {str(hour)},
        list(range(41, 71)),
    )
    # The other order: batches in memory of a source, then a file screened under it (from 1), then one in memory.
    assert _rows(screener.screen(sample.slice(70, 10), source="feed")) == ({"feed"}, list(range(1, 11)))
    assert _rows(screener.screen(other, source="feed")) == ({"feed"}, list(range(1, 21)))
    assert _rows(screener.screen(sample.slice(80, 5), source="feed")) == ({"feed"}, list(range(21, 26)))
    restored = screening.Screener.restore(screener.save_state(tmp_path / "day.state"), us_pack)
    assert _rows(restored.screen(sample.slice(85, 5), source=str(hour))) == ({str(hour)}, list(range(71, 76)))
    assert _rows(restored.screen(sample.slice(90, 5), source="feed")) == ({"feed"}, list(range(26, 31)))


def test_the_row_counts_of_the_latest_sources_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file batch counts its source: a state carried across many hourly files keeps the latest sources'
    counts (a source counted again is the latest), not one per file ever screened."""
    monkeypatch.setattr(screener_module, "_FILES_KEPT", 3)
    counts: dict[str, int] = {}
    for source, rows in (("<stream>", 5), ("a", 1), ("b", 2), ("<stream>", 7), ("c", 3)):
        counts = screener_module._counted(counts, source, rows)
    assert counts == {"b": 2, "<stream>": 7, "c": 3}


def test_a_restore_between_a_stream_and_a_file_numbers_the_stream_on(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Saved after a stream and a file, the next stream batch of the restored screener numbers on from the first
    stream's rows, as one screener does."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    hour = tmp_path / "hour-10.parquet"
    sample.slice(50, 40).write_parquet(hour)
    straight = screening.Screener(us_pack, label="feed")
    first = screening.Screener(us_pack, label="feed")
    for screener in (straight, first):
        screener.screen(sample.head(50))
        screener.screen(hour)
    first.save_state(tmp_path / "day.state")
    resumed = screening.Screener.restore(tmp_path / "day.state", us_pack, label="feed")
    want, have = straight.screen(sample.slice(90, 30)), resumed.screen(sample.slice(90, 30))
    assert _rows(have) == ({"feed"}, list(range(51, 81)))
    for name, frame in want.frames().items():
        assert frame.equals(getattr(have, name)), name


def test_a_state_saved_without_stream_rows_numbers_on_after_every_row_it_holds(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """A state whose header has no ``stream_rows`` (edited: one saved before them is another build's, refused)
    restores as such a state did: batches in memory number on after all the rows it holds, so none repeats; a
    ``stream_rows`` that is not a count per source is a damaged state."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    hour = tmp_path / "hour-10.parquet"
    sample.slice(50, 40).write_parquet(hour)
    screener = screening.Screener(us_pack)
    screener.screen(sample.head(50))
    screener.screen(hour)
    saved = screener.save_state(tmp_path / "day.state")
    old = _rewritten_state(
        saved, tmp_path / "old.state", lambda meta: {k: v for k, v in meta.items() if k != "stream_rows"}, {}
    )
    restored = screening.Screener.restore(old, us_pack)
    assert _rows(restored.screen(sample.slice(90, 30))) == ({"<stream>"}, list(range(91, 121)))
    for damaged in ({"<stream>": -1}, {"<stream>": "50"}, ["<stream>", 50], {"<stream>": True}):
        bad = _rewritten_state(
            saved, tmp_path / "bad.state", lambda meta, damaged=damaged: {**meta, "stream_rows": damaged}, {}
        )
        with pytest.raises(screening.UsageError, match=r"damaged state file \(stream_rows"):
            screening.Screener.restore(bad, us_pack)


def test_screen_batches_stacks_batches_with_different_extra_columns(us_pack: screening.RulePack) -> None:
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(600)
    first = frame.head(300).with_columns(note=pl.lit("dock 4"))
    combined = screening.screen_batches([first, frame.tail(300)], rules=us_pack)
    assert combined.lines.height + combined.rejects.height == 600
    from_first = combined.lines["row"] <= first.height  # rows count on across batches
    assert combined.lines.filter(from_first)["note"].to_list() == ["dock 4"] * int(from_first.sum())
    assert combined.lines.filter(~from_first)["note"].null_count() == int((~from_first).sum())


def test_a_batch_whose_extra_column_type_does_not_stack_with_earlier_batches_is_refused_before_it_is_screened(
    us_pack: screening.RulePack,
) -> None:
    """Batches were stacked to polars' supertype after all were screened: ``screen_batches`` of an integer
    ``note`` then a list ``note`` raised a raw ``SchemaError`` at the end, and a date beside an integer came back
    as day counts. The conflicting batch is now refused before it is screened, naming the column, both types and
    both batches; the screener goes on as before it."""
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(12)
    first, second = (
        frame.head(6).with_columns(note=pl.lit(7)),
        frame.slice(6, 6).with_columns(note=pl.lit(["a"])),
    )
    screener = screening.Screener(us_pack)
    screener.screen(first)
    refused = (
        r"^<stream>: extra column 'note' is Int32 in batch 1 \(<stream>, rows 1-6\) but List\(String\) in "
        r"batch 2 \(<stream>, rows 7-12\): .*cast it to one type in every input, or rename it"
    )
    with pytest.raises(InputSchemaError, match=refused):
        screener.screen(second)
    assert (screener.state.batches, screener.state.rows_seen) == (1, 6)  # not screened
    # Wider integers stack with the first batch's: screened, as if the refused batch had not come.
    later = screener.screen(second.with_columns(note=pl.lit(2**40)))
    assert later.lines["row"].min() == 7
    with pytest.raises(InputSchemaError, match=refused):
        screening.screen_batches([first, second], rules=us_pack)
    with pytest.raises(InputSchemaError, match=r"'note' is Date in batch 1 .* but Int32 in batch 2"):
        screening.screen_batches(
            [first.with_columns(note=pl.lit(dt.date(2025, 5, 1))), second.with_columns(note=pl.lit(42))],
            rules=us_pack,
        )
    combined = screening.screen_batches([first, second.with_columns(note=pl.lit(2**40))], rules=us_pack)
    assert combined.lines.schema["note"] == pl.Int64()
    assert set(combined.lines["note"].to_list()) <= {7, 2**40}


@pytest.mark.parametrize(
    ("before", "after", "types"),
    [
        (pl.lit(7), pl.lit(["a"]), r"Int32 in batch 1 \(<stream>, rows 1-6\) but List\(String\) in batch 2"),
        (pl.lit(7, dtype=pl.Int128()), pl.lit(1.5), "Int128 in batch 1 .* but Float64 in batch 2"),
        (
            pl.struct(code=pl.lit("x").cast(pl.Enum(["x", "y"]))),
            pl.lit(dt.date(2025, 5, 1)),
            r"Struct\(\{'code': Enum\(categories=\['x', 'y'\]\)\}\) in batch 1 .* but Date in batch 2",
        ),
    ],
    ids=["list-after-integer", "float-after-int128", "date-after-struct-of-enum"],
)
def test_a_restored_screener_refuses_a_batch_whose_extra_column_type_conflicts_with_one_before_the_save(
    us_pack: screening.RulePack, tmp_path: Path, before: pl.Expr, after: pl.Expr, types: str
) -> None:
    """A screener restored from a state forgot the extra columns' types of the batches screened before the save:
    an hourly job resumed from its state screened a list ``note`` after an integer one, and the hours' outputs
    had ``note`` of other types. The state keeps them (those Parquet cannot hold too): the restored screener
    refuses the batch as the screener that saved the state does, with the same message."""
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(12)
    first, second = frame.head(6).with_columns(note=before), frame.slice(6, 6).with_columns(note=after)
    screener = screening.Screener(us_pack)
    screener.screen(first)
    saved = screener.save_state(tmp_path / "day.state")
    with pytest.raises(InputSchemaError) as unrestored:
        screener.screen(second)
    restored = screening.Screener.restore(saved, us_pack)
    with pytest.raises(InputSchemaError, match=f"^<stream>: extra column 'note' is {types}") as refused:
        restored.screen(second)
    assert (str(refused.value), refused.value.source) == (str(unrestored.value), unrestored.value.source)
    assert (restored.state.batches, restored.state.rows_seen) == (1, 6)  # not screened
    # Saved again, the state still holds the first batch's type.
    resaved = restored.save_state(tmp_path / "again.state")
    with pytest.raises(InputSchemaError, match=types):
        screening.Screener.restore(resaved, us_pack).screen(second)


def test_a_state_saved_without_extra_column_types_still_restores(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """A state whose header has no ``extra_column_types`` (the layout before states kept them) restores with no
    type known, as it did: a batch is checked against the batches screened after the restore only."""
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(12)
    screener = screening.Screener(us_pack)
    screener.screen(frame.head(6).with_columns(note=pl.lit(7)))
    saved = screener.save_state(tmp_path / "day.state")
    with zipfile.ZipFile(saved) as archive:
        assert json.loads(archive.read("meta.json"))["extra_column_types"] == [
            {
                "column": "note",
                "type": ["Int32"],
                "input": "<stream>",
                "shown": "batch 1 (<stream>, rows 1-6)",
            }
        ]
    old = _rewritten_state(
        saved,
        tmp_path / "old.state",
        lambda meta: {k: v for k, v in meta.items() if k != "extra_column_types"},
        {},
    )
    restored = screening.Screener.restore(old, us_pack)
    later = restored.screen(frame.slice(6, 6).with_columns(note=pl.lit(["a"])))
    assert later.lines.schema["note"] == pl.List(pl.String())
    assert restored.state.rows_seen == 12
    with pytest.raises(
        InputSchemaError, match=r"'note' is List\(String\) in batch 2 .* but Int32 in batch 3"
    ):
        restored.screen(frame.head(1).with_columns(note=pl.lit(7)))


def test_cli_state_resumes_the_extra_column_types_of_earlier_hours(tmp_path: Path) -> None:
    """``screen run --batch-size --state``: an hour whose extra column's type does not stack with an earlier
    hour's screened into the state is refused before any work (exit 3), naming both, as one run of both files
    refuses it; the state is left as it was, and an hour of a type that stacks is screened."""
    sample = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    sample.head(300).with_columns(ref=pl.lit(12_345, dtype=pl.Int64())).write_parquet(
        tmp_path / "h09.parquet"
    )
    sample.slice(300, 200).with_columns(ref=pl.lit(dt.date(2025, 5, 1))).write_parquet(
        tmp_path / "h10.parquet"
    )
    sample.slice(500, 200).with_columns(ref=pl.lit(7, dtype=pl.Int16())).write_parquet(
        tmp_path / "h11.parquet"
    )
    state = tmp_path / "day.state"
    runner = CliRunner()

    def run(hour: str) -> Any:
        args = [
            "run",
            str(tmp_path / f"{hour}.parquet"),
            "--rules",
            str(US_PACK),
            "--out",
            str(tmp_path / hour),
        ]
        return runner.invoke(main, [*args, "--batch-size", "100", "--state", str(state), "-q"])

    assert run("h09").exit_code == 0
    saved = state.read_bytes()
    refused = run("h10")
    assert refused.exit_code == 3, refused.output
    hours = [re.escape(str(tmp_path / f"{hour}.parquet")) for hour in ("h09", "h10")]
    assert re.search(
        rf"extra column 'ref' is Int64 in batch 1 \({hours[0]}, rows 1-\d+\) but Date in {hours[1]}",
        " ".join(refused.output.split()),
    )
    assert not (tmp_path / "h10").exists()
    assert state.read_bytes() == saved
    later = run("h11")
    assert later.exit_code == 0, later.output
    assert pl.read_parquet(tmp_path / "h11" / "lines.parquet")["ref"].unique().to_list() == [7]


def test_cli_state_needs_batch_size(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main, ["run", str(SAMPLE_CSV), "--out", str(tmp_path / "o"), "--state", str(tmp_path / "s"), "-q"]
    )
    assert outcome.exit_code == 2
    assert "--state needs --batch-size" in outcome.output


def test_cli_part_lines_applies_without_batch_size_only(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main,
        [
            "run",
            str(SAMPLE_CSV),
            "--out",
            str(tmp_path / "o"),
            "--batch-size",
            "9",
            "--part-lines",
            "9",
            "-q",
        ],
    )
    assert outcome.exit_code == 2
    assert "--part-lines applies without --batch-size only" in outcome.output
    assert not (tmp_path / "o").exists()


def test_batched_outputs_appear_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").write_text('{"previous": true}')
    frames = {"lines": pl.DataFrame({"a": [1, 2]}), "rejects": pl.DataFrame({"b": ["x"]})}

    def crash_between_batches() -> None:
        with StreamingOutput(out, ["lines", "rejects"]) as output:
            output.append(frames)
            raise RuntimeError("crash between batches")

    with pytest.raises(RuntimeError):
        crash_between_batches()
    assert json.loads((out / "summary.json").read_text()) == {"previous": True}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
    with StreamingOutput(out, ["lines", "rejects"]) as output:
        output.append(frames)
        output.append(
            {"lines": pl.DataFrame({"a": [3]}), "rejects": pl.DataFrame({"b": []}, schema={"b": pl.String()})}
        )
        output.close_files()
        output.publish({"batches": 2})
    assert pl.read_parquet(out / "lines.parquet")["a"].to_list() == [1, 2, 3]
    assert pl.read_parquet(out / "rejects.parquet")["b"].to_list() == ["x"]
    assert json.loads((out / "summary.json").read_text()) == {"batches": 2}


def test_batched_outputs_take_their_columns_from_the_first_rows(tmp_path: Path) -> None:
    """An output empty in the first batch gets the later batches' rows; one that never gets a row is
    written empty, with its columns."""
    out = tmp_path / "run"
    empty_flags = pl.DataFrame(schema={"rule_id": pl.String(), "weight": pl.Int64()})
    with StreamingOutput(out, ["lines", "flags"]) as output:
        output.append({"lines": pl.DataFrame(schema={"a": pl.Int64()}), "flags": empty_flags})
        output.append({"lines": pl.DataFrame({"a": [1, 2]}), "flags": empty_flags})
        output.append({"lines": pl.DataFrame({"a": [3]}), "flags": empty_flags})
        output.close_files()
        output.publish({"batches": 3})
    assert pl.read_parquet(out / "lines.parquet")["a"].to_list() == [1, 2, 3]
    flags = pl.read_parquet(out / "flags.parquet")
    assert flags.is_empty()
    assert flags.schema == empty_flags.schema


def test_cli_batch_size_writes_every_output(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(
        main,
        [
            "run",
            str(SAMPLE / "manifest_10k.parquet"),
            "--rules",
            str(US_PACK),
            "--out",
            str(tmp_path / "o"),
            "--batch-size",
            "4000",
            "-q",
        ],
    )
    assert outcome.exit_code == 0, outcome.output
    assert {p.name for p in (tmp_path / "o").iterdir()} == OUTPUT_FILES
    lines = pl.read_parquet(tmp_path / "o" / "lines.parquet")
    rejects = pl.read_parquet(tmp_path / "o" / "rejects.parquet")
    packages = pl.read_parquet(tmp_path / "o" / "packages.parquet")
    assert lines.height + rejects.height == 10_000
    # The summary is built from the staged files read back compactly: it must agree with the files.
    summary = json.loads((tmp_path / "o" / "summary.json").read_text())
    by_reason = dict(packages.group_by("de_minimis_reason").len().iter_rows())
    assert summary["counts"]["packages_by_reason"] == by_reason
    assert summary["counts"]["packages"] == packages.height
    assert summary["money"]["duty_usd"] == f"{packages['duty_usd'].drop_nulls().sum():.2f}"
    flagged = int((packages["risk_flags"].list.len() > 0).sum())
    assert summary["risk"]["packages_flagged"] == flagged
    decided_by = set(packages["de_minimis_rule_id"].drop_nulls()) | set(
        packages["entry_rule_id"].drop_nulls()
    )
    # The gift rule in force is listed whether or not a gift passed (screen explain says why one did not).
    assert set(summary["decision_rules"]) == decided_by | {"gift-100"}
    # Money by component and measure, added over the batches, agrees with the components file.
    components = pl.read_parquet(tmp_path / "o" / "components.parquet")
    by_component = summary["money"]["by_component"]
    assert sum(r["rows"] + r["unknown_amounts"] + r["exempt_rows"] for r in by_component) == components.height
    charged = components.filter(
        pl.col("amount_usd").is_not_null() & ~pl.col("assumption").str.starts_with("exempt:").fill_null(False)
    )
    for row in by_component:
        of_row = charged.filter(component=row["component"], measure_id=row["measure_id"])
        assert row["rows"] == of_row.height
        assert row["amount_usd"] == f"{of_row['amount_usd'].sum():.2f}"
    assert len(by_component) > 10  # the sample's day has duties of many measures, and fees


def test_a_file_s_last_package_is_screened_with_its_last_batch(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """The last package of every file was held back into a batch of its own: it took a batch more per file,
    and its shipper's earlier packages (which the shipper-split rule counts within a batch) were not beside it."""
    lines = manifest(
        {"package_id": "P1", "declared_value": "500.00"},
        {"package_id": "P2", "declared_value": "500.00"},
    )
    assert [b["package_id"].to_list() for b in whole_packages([lines], "package_id")] == [["P1", "P2"]]
    source = tmp_path / "day.parquet"
    lines.write_parquet(source)
    summary, _ = screen_files_in_batches([source], out=tmp_path / "out", batch_size=1000, rules=us_pack)
    assert summary["options"]["batches"] == "1"
    flags = pl.read_parquet(tmp_path / "out" / "flags.parquet")
    assert sorted(flags.filter(pl.col("package_id") == "P2")["rule_id"]) == [
        "structuring-consignee-day",
        "structuring-shipper-split",
    ]


def test_batches_of_a_file_in_canonical_names_keep_packages_whole_under_a_mapping(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """A mapping that renames ``package_id`` (from ``HAWB``) left a file already in canonical names without its
    regrouping: ``--batch-size 1`` split M1 into two entries."""
    lines = manifest(
        {"package_id": "M1", "line_no": "1", "declared_value": "500.00"},
        {"package_id": "M1", "line_no": "2", "declared_value": "400.00"},
        {"package_id": "M2", "line_no": "1", "declared_value": "10.00", "consignee_name": "Other Person"},
    )
    canonical = tmp_path / "canonical.csv"
    lines.write_csv(canonical)
    carrier = tmp_path / "carrier.csv"
    lines.rename({"package_id": "HAWB"}).with_columns(pl.col("HAWB") + "C").write_csv(carrier)
    mapping = ColumnMapping(columns={"package_id": "HAWB"})
    screen_files_in_batches(
        [canonical, carrier], out=tmp_path / "out", batch_size=1, rules=us_pack, mapping=mapping
    )
    packages = pl.read_parquet(tmp_path / "out" / "packages.parquet").sort("package_id")
    assert packages.select("package_id", "lines").rows() == [("M1", 2), ("M1C", 2), ("M2", 1), ("M2C", 1)]


def test_cli_batch_size_applies_the_column_mapping(tmp_path: Path) -> None:
    kcs = SAMPLE / "kcs_synthetic"
    args = [
        "run",
        str(kcs / "df_syn_valid_eng.csv"),
        "--rules",
        str(US_PACK),
        "--mapping",
        str(kcs / "mapping.toml"),
    ]
    runner = CliRunner()
    whole = runner.invoke(main, [*args, "--out", str(tmp_path / "w"), "--json", "-q"])
    batched = runner.invoke(
        main, [*args, "--out", str(tmp_path / "b"), "--batch-size", "3000", "--json", "-q"]
    )
    assert whole.exit_code == 0, whole.output
    assert batched.exit_code == 0, batched.output
    for key in ("input_rows", "lines", "rejected", "rejects_by_code"):
        assert json.loads(batched.output)["counts"][key] == json.loads(whole.output)["counts"][key]


def test_cli_batch_size_names_an_unreadable_file_and_exits_3(tmp_path: Path) -> None:
    broken = tmp_path / "broken.parquet"
    broken.write_bytes((SAMPLE / "manifest_10k.parquet").read_bytes()[:5000])
    outcome = CliRunner().invoke(
        main, ["run", str(broken), "--out", str(tmp_path / "o"), "--batch-size", "100", "-q"]
    )
    assert outcome.exit_code == 3
    assert "broken.parquet" in outcome.output
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".csv", ".ipc"])
def test_files_are_read_in_batches_of_every_row_in_order(tmp_path: Path, suffix: str) -> None:
    source = pl.read_parquet(SAMPLE / "manifest_10k.parquet")
    path = tmp_path / f"manifest{suffix}"
    if suffix == ".parquet":
        source.write_parquet(path, row_group_size=3_000)  # batches that cross row groups
    elif suffix == ".arrow":
        source.write_ipc(path)
    elif suffix == ".ipc":  # an IPC stream (a saved Flight stream) of record batches of 333 rows
        table = source.to_arrow()
        with pa.ipc.new_stream(path, table.schema) as writer:
            for batch in table.to_batches(max_chunksize=333):
                writer.write_batch(batch)
    else:
        source.write_csv(path)
    batches = list(_file_batches(path, 777, ColumnMapping()))
    assert sum(b.height for b in batches) == 10_000
    read = pl.concat(batches, how="vertical_relaxed")
    assert read["package_id"].to_list() == source["package_id"].to_list()
    assert read["line_no"].cast(pl.Int64()).to_list() == source["line_no"].cast(pl.Int64()).to_list()
    if suffix != ".csv":
        # Parquet and Arrow files (and streams) are read as slices of exactly the batch size.
        assert [b.height for b in batches] == [777] * 12 + [10_000 - 777 * 12]


@pytest.mark.parametrize("batch_size", [2**32, 10**20])
@pytest.mark.parametrize("suffix", [".parquet", ".arrow", ".csv", ".ipc"])
def test_a_batch_size_above_the_file_s_rows_reads_it_in_one_batch(
    us_pack: screening.RulePack, tmp_path: Path, suffix: str, batch_size: int
) -> None:
    """``--batch-size 4294967296`` (or any size past 2^32) on a Parquet or Arrow file was an internal error (an
    ``OverflowError`` slicing the file), on a CSV file past 2^64: a batch larger than the file is the file."""
    source = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(300)
    path = tmp_path / f"manifest{suffix}"
    if suffix == ".parquet":
        source.write_parquet(path)
    elif suffix == ".arrow":
        source.write_ipc(path)
    elif suffix == ".ipc":
        write_ipc_stream(path, source.to_arrow(), 100)
    else:
        source.write_csv(path)
    assert [b.height for b in _file_batches(path, batch_size, ColumnMapping())] == [300]
    summary, _ = screen_files_in_batches([path], out=tmp_path / "out", batch_size=batch_size, rules=us_pack)
    assert summary["counts"]["input_rows"] == 300
    assert summary["options"]["batches"] == "1"


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, True])
def test_a_batch_size_that_is_not_a_whole_number_of_rows_is_refused(
    us_pack: screening.RulePack, tmp_path: Path, batch_size: object
) -> None:
    """A batch size of 0 was an internal error (``range`` with a step of 0), not a usage error."""
    path = tmp_path / "manifest.parquet"
    pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(10).write_parquet(path)
    with pytest.raises(screening.UsageError, match="batch_size"):
        screen_files_in_batches([path], out=tmp_path / "out", batch_size=batch_size, rules=us_pack)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_an_ipc_stream_is_screened_as_it_is_read_not_held_whole(tmp_path: Path) -> None:
    """A stream's batches come as its record batches are read: a stream cut short mid-way (a Flight transfer
    that broke) gives its first batches before the error naming the file."""
    table = pl.read_parquet(SAMPLE / "manifest_10k.parquet").to_arrow()
    whole = write_ipc_stream(tmp_path / "whole.ipc", table, 1_000)
    cut = tmp_path / "cut.ipc"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    batches = _file_batches(cut, 1_000, ColumnMapping())
    first = next(batches)
    assert first["package_id"].to_list() == table["package_id"].to_pylist()[:1_000]
    with pytest.raises(screening.InputSchemaError, match=r"cut\.ipc"):
        list(batches)


def test_a_resumed_screener_must_read_the_history_its_earlier_batches_read(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    def history(folder: str, value: str) -> Path:
        run = tmp_path / folder
        run.mkdir()
        pl.DataFrame(
            {
                "package_id": ["H1"],
                "consignee_key": ["name:x|1"],
                "arrival_date": ["2025-03-01"],
                "value_usd": [value],
            }
        ).write_parquet(run / "packages.parquet")
        return run

    first, same, other = history("a", "10.00"), history("b", "10.00"), history("c", "99.00")
    screener = screening.Screener(us_pack, history=[first])
    screener.screen(pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(100))
    path = screener.save_state(tmp_path / "day.state")
    assert screening.Screener.restore(path, us_pack, history=[same]).state.rows_seen == 100
    with pytest.raises(screening.UsageError, match="other history sources"):
        screening.Screener.restore(path, us_pack, history=[other])


def test_a_package_without_line_numbers_is_numbered_on_across_batches(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """Its second batch's line follows the lines seen before: no line of it is taken for a copy."""
    frame = manifest(
        {"package_id": "P1", "declared_value": "500"},
        {"package_id": "P1", "declared_value": "400"},
        {"package_id": "P2", "consignee_name": "Z"},
    ).drop("line_no")
    screener = screening.Screener(us_pack)
    first = screener.screen(frame.head(1))
    second = screener.screen(frame.tail(2))
    assert second.rejects.is_empty()
    assert first.lines.select("package_id", "line_no").rows() == [("P1", 1)]
    assert second.lines.select("package_id", "line_no").rows() == [("P1", 2), ("P2", 1)]
    assert screener.totals()["consignee_day_value_cents"].sum() == 100_000


def test_a_package_arrives_with_its_first_line_even_when_another_consignee_day_holds_it(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """P's first row (its line 2) names Carl, its line 1 Bob: P is Bob's (its lowest-numbered line's) and came
    before Q, so it is judged on itself alone. It was ordered by its first line among Bob's lines, after Q, and
    the two decisions were swapped."""
    frame = manifest(
        {"package_id": "P", "line_no": "2", "consignee_name": "Carl Dee", "declared_value": "10"},
        {"package_id": "Q", "consignee_name": "Bob Roe", "declared_value": "500"},
        {"package_id": "P", "line_no": "1", "consignee_name": "Bob Roe", "declared_value": "400"},
    )
    result = screening.Screener(us_pack).screen(frame)
    assert result.lines.select("package_id", "consignee_name", "consignee_day_value_usd").rows() == [
        ("P", "Bob Roe", Decimal("410.00")),
        ("P", "Bob Roe", Decimal("410.00")),
        ("Q", "Bob Roe", Decimal("910.00")),
    ]
    assert dict(result.packages.select("package_id", "de_minimis_reason").iter_rows()) == {
        "P": "dm-eligible",
        "Q": "dm-over-threshold",
    }


def test_a_package_split_across_batches_counts_once_among_the_day_s_packages(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A batch cut through a package (as ``--batch-size`` cuts a file) counted it again in the next batch."""
    frame = manifest(
        {"package_id": "P1"},
        {"package_id": "P1", "line_no": "2"},
        {"package_id": "P2"},
        {"package_id": "P2", "line_no": "2"},
    )
    screener = screening.Screener(us_pack)
    screener.screen(frame.head(1))
    second = screener.screen(frame.slice(1, 2))
    third = screener.screen(frame.tail(1))
    assert second.lines["consignee_day_packages"].to_list() == [1, 2]
    assert third.lines["consignee_day_packages"].to_list() == [2]
    whole = screening.Screener(us_pack)
    whole.screen(frame)
    assert screener.totals().equals(whole.totals())
    assert screener.totals()["consignee_day_packages"].to_list() == [2]


def test_a_package_continued_under_another_consignee_day_counts_once_among_its_packages(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """P1's line 2 came in a later batch naming Bo: it was totalled among Bo's value and lines ($900, 2 lines)
    but not his packages (1), so structuring-consignee-day stayed quiet on Q while structuring-shipper-split
    counted P1's part. It counts once in each consignee-day it is totalled under (the state, saved and restored
    between batches, keeps where), and not again where it was counted."""
    bo = {"consignee_name": "Bo Ng"}
    screener = screening.Screener(us_pack)
    screener.screen(manifest({"package_id": "P1", "declared_value": "500"}))
    second = screener.screen(
        manifest(
            {**bo, "package_id": "P1", "line_no": "2", "declared_value": "500"},
            {**bo, "package_id": "Q", "declared_value": "400"},
        )
    )
    assert second.lines.select("package_id", "consignee_day_value_usd", "consignee_day_packages").rows() == [
        ("P1", Decimal("500.00"), 1),
        ("Q", Decimal("900.00"), 2),
    ]
    flagged = second.flags.filter(pl.col("rule_id").str.starts_with("structuring"))
    assert sorted(flagged.select("package_id", "rule_id").rows()) == [
        ("Q", "structuring-consignee-day"),
        ("Q", "structuring-shipper-split"),
    ]
    restored = screening.Screener.restore(screener.save_state(tmp_path / "day.state"), us_pack)
    third = restored.screen(manifest({**bo, "package_id": "P1", "line_no": "3", "declared_value": "1"}))
    fourth = restored.screen(
        manifest({"package_id": "P1", "line_no": "4", "arrival_date": "2025-03-11", "declared_value": "1"})
    )
    assert third.lines["consignee_day_packages"].to_list() == [2]  # counted among Bo's already
    assert fourth.lines["consignee_day_packages"].to_list() == [1]  # Anna's next day
    totals = restored.totals().sort("consignee_key", "arrival_date")
    assert totals.select(
        "consignee_key", "arrival_date", "consignee_day_packages", "consignee_day_lines"
    ).rows() == [
        ("name:anna keller|20001", dt.date(2025, 3, 10), 1, 1),
        ("name:anna keller|20001", dt.date(2025, 3, 11), 1, 1),
        ("name:bo ng|20001", dt.date(2025, 3, 10), 2, 3),
    ]


def test_a_package_with_a_rejected_line_in_a_batch_is_not_screened_and_its_repeat_is_a_copy(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    frame = manifest(
        {"package_id": "P1", "declared_value": "500"},
        {"package_id": "P1", "line_no": "2", "hts_code": "6109"},
        {"package_id": "P2", "declared_value": "350"},
    )
    screener = screening.Screener(us_pack)
    first = screener.screen(frame)
    assert first.packages["package_id"].to_list() == ["P2"]
    assert first.rejects["code"].to_list() == ["package-incomplete", "invalid-hts"]
    assert screener.totals()["consignee_day_value_cents"].to_list() == [35_000]
    again = screener.screen(frame.head(1))
    assert again.rejects["code"].to_list() == ["duplicate-line"]


def test_cli_batches_never_cut_a_package_whose_lines_are_together(
    manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """A $3,000 package of three lines, cut by ``--batch-size 2``, was entered twice: two informal entries,
    each with its own MPF and express fee, where the whole day makes one formal entry."""
    frame = manifest(
        *[
            {"package_id": "Y1", "line_no": str(n), "arrival_date": "2026-03-02", "declared_value": "1000"}
            for n in (1, 2, 3)
        ],
        {"package_id": "Y2", "arrival_date": "2026-03-02", "consignee_name": "Other Person"},
    )
    source = tmp_path / "day.parquet"
    frame.write_parquet(source)
    runner = CliRunner()
    outputs = {}
    for name, extra in (("whole", []), ("batched", ["--batch-size", "2"])):
        out = tmp_path / name
        run = runner.invoke(
            main, ["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", *extra]
        )
        assert run.exit_code == 0, run.output
        outputs[name] = pl.read_parquet(out / "packages.parquet").sort("package_id")
    columns = ["package_id", "lines", "value_usd", "entry_type", "duty_usd", "fees_usd"]
    assert outputs["batched"].select(columns).equals(outputs["whole"].select(columns))
    assert outputs["batched"].filter(pl.col("package_id") == "Y1")["entry_type"].to_list() == ["formal"]


def test_a_batch_never_ends_between_lines_whose_package_ids_differ_by_blanks(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """Validation strips blanks around a package id, so ``"P5"`` and ``" P5 "`` are one package: a batch of
    ``--batch-size 1`` must not end between them (its first $500 line was released de minimis)."""
    lines = manifest(
        {"package_id": "P5", "line_no": "1", "declared_value": "500.00"},
        {"package_id": " P5 ", "line_no": "2", "declared_value": "400.00"},
        {"package_id": "P6", "line_no": "1", "declared_value": "10.00"},
        {"package_id": "", "line_no": "1", "declared_value": "10.00"},
        {"package_id": "  ", "line_no": "1", "declared_value": "10.00"},
    )
    regrouped = [
        b["package_id"].to_list() for b in whole_packages([lines.slice(i, 1) for i in range(5)], "package_id")
    ]
    # The rows without an id after P6 go with it (a package of P6 might have gone on after them).
    assert regrouped == [["P5", " P5 "], ["P6", "", "  "]]
    source = tmp_path / "day.parquet"
    lines.head(3).write_parquet(source)
    screen_files_in_batches([source], out=tmp_path / "out", batch_size=1, rules=us_pack)
    packages = pl.read_parquet(tmp_path / "out" / "packages.parquet").sort("package_id")
    assert packages.select("package_id", "lines", "de_minimis_reason").rows() == [
        ("P5", 2, "dm-over-threshold"),
        ("P6", 1, "dm-over-threshold"),  # the same consignee and day: $910
    ]


def test_a_batch_never_ends_between_lines_whose_package_ids_validation_reads_as_one(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """Validation reads ``101.0`` (a float column saved as CSV) as package ``101``, but the batch cutter compared
    the text: ``--batch-size 3`` ended a batch between ``101`` and ``101.0``, and released the first $500 line
    de minimis (whole-day: one $1,000 informal entry)."""
    bob = {"consignee_name": "Bob Ray", "consignee_postal_code": "10001"}
    lines = manifest(
        {"package_id": "100", "declared_value": "10.00"},
        {"package_id": "101", "line_no": "1", "declared_value": "500.00", **bob},
        {"package_id": "101.0", "line_no": "2", "declared_value": "500.00", **bob},
        {"package_id": "102", "declared_value": "10.00"},
    )
    source = tmp_path / "day.csv"
    lines.write_csv(source)
    columns = ["package_id", "lines", "value_usd", "de_minimis_reason", "entry_type", "total_due_usd"]
    whole = screening.screen(source, rules=us_pack).packages.filter(pl.col("package_id") == "101")
    assert whole.select("lines", "de_minimis_reason").rows() == [(2, "dm-over-threshold")]
    for size in (1, 2, 3):
        out = tmp_path / f"batch-{size}"
        screen_files_in_batches([source], out=out, batch_size=size, rules=us_pack)
        batched = pl.read_parquet(out / "packages.parquet").filter(pl.col("package_id") == "101")
        assert batched.select(columns).rows() == whole.select(columns).rows(), size


#: Rows without a package id (validation rejects each, ``missing-field``), as a CSV file may hold them.
ROWS_WITHOUT_PACKAGE_ID = {
    "blank line": "",
    "blanks only": "   ",
    "bare commas": ",,,,",
    "a word for none": "N/A,2,2025-03-10",
    "nan": "nan,2,2025-03-10",
}


@pytest.mark.parametrize("size", [1, 2, 3])
@pytest.mark.parametrize("between", ROWS_WITHOUT_PACKAGE_ID)
def test_a_row_without_a_package_id_inside_a_package_does_not_split_it_in_batches(
    us_pack: screening.RulePack,
    manifest: Callable[..., pl.DataFrame],
    tmp_path: Path,
    between: str,
    size: int,
) -> None:
    """A blank row (or one whose package id is none) between P1's $500 and $400 lines ended the trailing run of
    P1 in the batch cutter: ``--batch-size 2`` released the $500 line de minimis as a package of its own and
    charged the $400 one. Batched outputs equal the whole day's (one consignee: no running total differs), the
    row rejected once, with its own row number."""
    lines = manifest(
        {"package_id": "P1", "line_no": "1", "declared_value": "500.00"},
        {"package_id": "P1", "line_no": "2", "declared_value": "400.00"},
        {"package_id": "P2", "line_no": "1", "declared_value": "50.00", "consignee_name": "Bob Ray"},
    )
    rows = lines.write_csv().splitlines()
    source = tmp_path / "day.csv"
    source.write_text("\n".join([*rows[:2], ROWS_WITHOUT_PACKAGE_ID[between], *rows[2:]]) + "\n")
    whole = screening.screen(source, rules=us_pack)
    assert whole.packages.sort("package_id").select("package_id", "lines", "de_minimis_reason").rows() == [
        ("P1", 2, "dm-over-threshold"),
        ("P2", 1, "dm-eligible"),
    ]
    assert whole.rejects.select("row", "field", "code").rows() == [(2, "package_id", "missing-field")]
    out = tmp_path / "batched"
    run = CliRunner().invoke(
        main,
        ["run", str(source), "--rules", str(US_PACK), "--out", str(out), "-q", "--batch-size", str(size)],
    )
    assert run.exit_code == 0, run.output
    for name in ("packages", "lines", "components", "rejects"):
        batched = pl.read_parquet(out / f"{name}.parquet")
        expected = whole.frames()[name]
        assert_frame_equal(batched, expected, check_row_order=False)


def test_the_batch_cutter_passes_over_rows_without_a_package_id(
    manifest: Callable[..., pl.DataFrame],
) -> None:
    """Rows whose package id validation reads as none (blank, null, a word for none) travel with the package that
    may go on after them: a batch ends only after a package's last line where another package follows (rows 3 and
    8 here), whatever the batch size, and rows keep their order."""
    ids = ["P1", "", "P1", None, "N/A", "P2", "  ", "P2", "P3", None]
    lines = manifest(*({"line_no": str(n)} for n in range(1, len(ids) + 1))).with_columns(
        pl.Series("package_id", ids)
    )
    for size, ends in ((1, [3, 8, 10]), (2, [3, 10]), (3, [3, 8, 10]), (4, [3, 10])):
        slices = [lines.slice(i, size) for i in range(0, lines.height, size)]
        regrouped = list(whole_packages(slices, "package_id"))
        assert pl.Series([b.height for b in regrouped]).cum_sum().to_list() == ends, size
        assert pl.concat(regrouped).equals(lines), size
    # Rows without an id and no package before them hold nothing to keep whole: they are not held back.
    blank = manifest({"line_no": "1"}, {"line_no": "2"}).with_columns(pl.Series("package_id", ["", None]))
    assert [b.height for b in whole_packages([blank.head(1), blank.tail(1)], "package_id")] == [1, 1]


#: Package ids as files hold them, typed as each format may type them: spellings that validation reads as one
#: id (or as none) although their values differ.
HOSTILE_PACKAGE_IDS: dict[str, pl.Series] = {
    "text": pl.Series(
        [
            "101",
            "101.0",
            "101.00",
            " 101.0 ",
            "\u00a0101\u3000",
            "-7.0",
            "0101.0",
            "101.",
            "1.50",
            "1e21",
            "9.405511899223197e+21",
            "P5",
            "\tP5\u2003",
            "\u2028P5\u205f",
            "\ufeffP5",
            "P5\u200b",
            "",
            "   ",
            "\u00a0",
            None,
            "NaN",
            " n/a ",
            "NULL",
            "\\N",
            "<NA>",
            "#N/A",
            "None",
            "nil",
            "N1",
            "NA1",
        ],
        dtype=pl.String(),
    ),
    "int64": pl.Series([101, 101, None, -5, 0], dtype=pl.Int64()),
    "uint64": pl.Series([2**64 - 1, 7, None], dtype=pl.UInt64()),
    "float64": pl.Series(
        [101.0, 101.0, 101.5, float("nan"), None, 2.0**53, float("inf"), -0.0, 1e21], dtype=pl.Float64()
    ),
    "float32": pl.Series([101.0, float("nan"), 2.0**24, 0.1], dtype=pl.Float32()),
    "decimal": pl.Series(["101.00", "101.50", None], dtype=pl.Decimal(10, 2)),
    "categorical": pl.Series([" P5", "P5", "nan", "", "101.0", "101"], dtype=pl.Categorical()),
    "enum": pl.Series(["P5 ", "P5", "N/A", "101.00"], dtype=pl.Enum(["P5 ", "P5", "N/A", "101.00"])),
}


@pytest.mark.parametrize("typed", HOSTILE_PACKAGE_IDS)
def test_the_batch_cutter_reads_each_package_id_as_validation_does(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], typed: str
) -> None:
    """The ids the batch cutter compares equal, row for row, the ``package_id`` validation gives each row (that
    of its line or its reject): a cutter that read ids otherwise could end a batch inside a package."""
    ids = HOSTILE_PACKAGE_IDS[typed].alias("package_id")
    lines = manifest(*({"line_no": str(n)} for n in range(1, ids.len() + 1))).with_columns(ids)
    result = screening.screen(lines, rules=us_pack)
    rows = [frame.select("row", "package_id") for frame in (result.lines, result.rejects)]
    validated = pl.concat(rows).sort("row").get_column("package_id")
    assert validated.len() == ids.len()
    assert screener_module._package_ids_as_validated(ids).to_list() == validated.to_list()
    # Read a row at a time, batches end after a package's last line where validation reads another package next
    # (rows it reads without one passed over: they go with the next package), and only there (but not for the
    # last row: the last batch, read with the package held back for it, keeps it).
    regrouped = whole_packages([lines.slice(i, 1) for i in range(lines.height)], "package_id")
    ends = pl.Series([batch.height for batch in regrouped]).cum_sum().to_list()
    given = [(row, package) for row, package in enumerate(validated.to_list()) if package is not None]
    changes = [end + 1 for (end, before), (row, after) in itertools.pairwise(given) if before != after]
    starts = [row for (_, before), (row, after) in itertools.pairwise(given) if before != after]
    assert ends == [
        *(end for end, row in zip(changes, starts, strict=True) if row < ids.len() - 1),
        ids.len(),
    ]


def test_a_batch_holding_a_package_whole_does_not_split_it_at_its_end(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """A $500 line of A, B, then A's $400 line: the file is one batch of ``--batch-size 1000``. Moving A's last
    run to a next batch released its first $500 as a de minimis entry of its own."""
    lines = manifest(
        {"package_id": "A", "line_no": "1", "declared_value": "500.00"},
        {"package_id": "B", "line_no": "1", "declared_value": "10.00"},
        {"package_id": "A", "line_no": "2", "declared_value": "400.00"},
    )
    assert [b.height for b in whole_packages([lines], "package_id")] == [3]
    # With more to come, a contiguous last package still waits for its next lines; the last batch keeps its own.
    tail = manifest({"package_id": "C", "line_no": "1"}, {"package_id": "D", "line_no": "1"})
    more = manifest({"package_id": "D", "line_no": "2"}, {"package_id": "E", "line_no": "1"})
    assert [b["package_id"].to_list() for b in whole_packages([lines, tail, more], "package_id")] == [
        ["A", "B", "A"],
        ["C"],
        ["D", "D", "E"],
    ]
    source = tmp_path / "day.parquet"
    lines.write_parquet(source)
    screen_files_in_batches([source], out=tmp_path / "out", batch_size=1000, rules=us_pack)
    written = pl.read_parquet(tmp_path / "out" / "packages.parquet").sort("package_id")
    in_memory = screening.Screener(us_pack).screen(lines).packages.sort("package_id")
    assert written.select("package_id", "lines", "de_minimis_reason").rows() == [
        ("A", 2, "dm-over-threshold"),
        ("B", 1, "dm-over-threshold"),
    ]
    assert written.equals(in_memory)


def test_a_state_kept_for_some_days_forgets_the_older_ones(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """A state carried across days kept every day: it grew with their lines, and a tracking number reused weeks
    later was a duplicate-line. ``--state-keep-days N`` (``Screener.forget_before``) keeps the N latest days,
    counted from the latest arrival date when the state is saved."""
    files = {
        "d1": ("1Z999", "2025-04-14"),
        "d2": ("1Z999", "2025-04-15"),  # the next day: the number is still a copy
        "d3": ("OTHER", "2025-05-04"),  # weeks later: this run's save forgets April
        "d4": ("1Z999", "2025-05-05"),  # so the number is a new package
    }
    for name, (package, day) in files.items():
        row = {"package_id": package, "arrival_date": day, "declared_value": "500", "consignee_name": name}
        manifest(row).write_csv(tmp_path / f"{name}.csv")
    state = tmp_path / "day.state"
    runner = CliRunner()

    def run(name: str, *extra: str) -> Any:
        args = ["run", str(tmp_path / f"{name}.csv"), "--rules", str(US_PACK), "--out", str(tmp_path / name)]
        done = runner.invoke(main, [*args, "--batch-size", "10", "--state", str(state), "-q", *extra])
        assert done.exit_code == 0, done.output
        return done

    run("d1", "--state-keep-days", "2")
    run("d2", "--state-keep-days", "2")
    assert pl.read_parquet(tmp_path / "d2" / "rejects.parquet")["code"].to_list() == ["duplicate-line"]
    run("d3", "--state-keep-days", "2")
    kept = screening.Screener.restore(state, us_pack)
    assert kept.totals()["arrival_date"].cast(pl.String()).to_list() == ["2025-05-04"]
    assert kept.state.seen_lines["arrival_date"].cast(pl.String()).to_list() == ["2025-05-04"]
    run("d4", "--state-keep-days", "2")
    assert pl.read_parquet(tmp_path / "d4" / "packages.parquet")["package_id"].to_list() == ["1Z999"]
    alone = ["run", str(tmp_path / "d1.csv"), "--out", str(tmp_path / "x"), "--state-keep-days", "1"]
    assert runner.invoke(main, alone).exit_code == 2


def test_keeping_days_forgets_nothing_of_the_days_kept(
    manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """With --state-keep-days, every save forgot the packages rejected in validation (their marks had no day),
    so BAD's second line was screened alone the next hour; one mistyped arrival date a century ahead made the
    save forget every real day (A's resent line was screened twice); and an empty hour's file, sent again, was
    refused as already screened."""
    hours = {
        "h1": [
            {"package_id": "BAD", "line_no": "1", "declared_value": "abc"},
            {"package_id": "A", "line_no": "1", "declared_value": "700", "consignee_name": "Ann"},
            {"package_id": "TYPO", "arrival_date": "2125-03-10", "consignee_name": "Tim"},
        ],
        "h2": [
            {"package_id": "BAD", "line_no": "2", "declared_value": "100"},
            {"package_id": "A", "line_no": "1", "declared_value": "700", "consignee_name": "Ann"},
        ],
    }
    for name, rows in hours.items():
        manifest(*rows).write_csv(tmp_path / f"{name}.csv")
    for name in ("e1", "e2"):
        manifest({}).head(0).write_csv(tmp_path / f"{name}.csv")
    state = tmp_path / "day.state"
    runner = CliRunner()

    def run(name: str) -> Any:
        args = ["run", str(tmp_path / f"{name}.csv"), "--rules", str(US_PACK), "--out", str(tmp_path / name)]
        done = runner.invoke(
            main, [*args, "--batch-size", "10", "--state", str(state), "--state-keep-days", "7"]
        )
        assert done.exit_code == 0, done.output
        return done

    for name in ("h1", "e1", "e2", "h2"):
        run(name)
    rejects = pl.read_parquet(tmp_path / "h2" / "rejects.parquet").sort("package_id")
    assert rejects.select("package_id", "code").rows() == [
        ("A", "duplicate-line"),
        ("BAD", "package-incomplete"),
    ]
    assert pl.read_parquet(tmp_path / "h2" / "packages.parquet").is_empty()


#: 10:30 UTC on 2025-08-29: 06:30 that day in New York (the U.S. pack's zone), already 08-30 on Kiritimati (UTC+14)
#: and still 08-28 on Pago Pago (UTC-11).
_CLOCK = dt.datetime(2025, 8, 29, 10, 30, tzinfo=dt.UTC).timestamp()


@pytest.mark.parametrize("host_zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"])
def test_keeping_days_counts_tomorrow_in_the_pack_s_zone_whatever_the_host_s(
    manifest: Callable[..., pl.DataFrame],
    us_pack: screening.RulePack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    host_zone: str,
) -> None:
    """--state-keep-days counts from the latest arrival date up to tomorrow, and "tomorrow" came from the host's
    zone (``TZ``): the same files at the same instant kept 08-29 on Pago Pago (08-31 was past tomorrow) and forgot
    it on Kiritimati (08-31 was tomorrow). Tomorrow is now 08-30, in the pack's zone (New York) on every host."""
    path = tmp_path / "h1.csv"
    manifest(
        {"package_id": "A", "arrival_date": "2025-08-29", "consignee_name": "Ann"},
        {"package_id": "B", "arrival_date": "2025-08-31", "consignee_name": "Bob"},
    ).write_csv(path)
    state = tmp_path / "day.state"
    monkeypatch.setattr(time, "time", lambda: _CLOCK)
    monkeypatch.setenv("TZ", host_zone)
    time.tzset()
    try:
        args = ["run", str(path), "--rules", str(US_PACK), "--out", str(tmp_path / "out"), "-q"]
        done = CliRunner().invoke(
            main, [*args, "--batch-size", "10", "--state", str(state), "--state-keep-days", "1"]
        )
    finally:
        monkeypatch.undo()
        time.tzset()
    assert done.exit_code == 0, done.output
    kept = screening.Screener.restore(state, us_pack).totals()["arrival_date"].cast(pl.String())
    assert sorted(kept) == ["2025-08-29", "2025-08-31"]


def test_today_is_taken_in_the_pack_s_zone_and_in_utc_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The day the guard of --state-keep-days counts tomorrow from: the pack's zone's, else UTC's, never the
    host's."""
    monkeypatch.setattr(time, "time", lambda: _CLOCK)
    assert screener_module._today_in("America/New_York") == dt.date(2025, 8, 29)
    assert screener_module._today_in("Pacific/Kiritimati") == dt.date(2025, 8, 30)
    assert screener_module._today_in("Pacific/Pago_Pago") == dt.date(2025, 8, 28)
    assert screener_module._today_in(None) == dt.date(2025, 8, 29)


@pytest.mark.parametrize("batch_size", ["1", "100"])
@pytest.mark.parametrize("beside", [0, 2])
def test_a_package_rejected_in_validation_is_forgotten_with_its_day_however_the_batches_are_cut(
    manifest: Callable[..., pl.DataFrame], tmp_path: Path, batch_size: str, beside: int
) -> None:
    """A package rejected in validation leaves a mark (line 0) so that its later lines are rejected too. The mark
    took the latest day of its batch's kept lines: alone in its batch (an hour of bad rows, or --batch-size 1) it
    had no day, --state-keep-days never forgot it, and the tracking number reused weeks later was rejected
    package-incomplete, while beside valid lines it was forgotten and the reuse screened. The mark now takes the
    rejected row's own date, however the batches are cut."""
    others = [
        {"package_id": f"O{n}", "arrival_date": "2025-08-25", "consignee_name": f"C{n}"}
        for n in range(beside)
    ]
    hours = {
        "h1": [{"package_id": "REUSE1", "hts_code": "61O9100012", "arrival_date": "2025-08-25"}, *others],
        "h2": [{"package_id": "LATER", "arrival_date": "2025-09-10"}],
        "h3": [{"package_id": "REUSE1", "arrival_date": "2025-09-15"}],
    }
    for name, rows in hours.items():
        manifest(*rows).write_csv(tmp_path / f"{name}.csv")
    state = tmp_path / "day.state"
    runner = CliRunner()
    for name in hours:
        args = ["run", str(tmp_path / f"{name}.csv"), "--rules", str(US_PACK), "--out", str(tmp_path / name)]
        done = runner.invoke(
            main, [*args, "--batch-size", batch_size, "--state", str(state), "--state-keep-days", "1", "-q"]
        )
        assert done.exit_code == 0, done.output
    assert pl.read_parquet(tmp_path / "h1" / "rejects.parquet")["code"].to_list() == ["invalid-hts"]
    assert pl.read_parquet(tmp_path / "h3" / "rejects.parquet").is_empty()
    assert pl.read_parquet(tmp_path / "h3" / "packages.parquet")["package_id"].to_list() == ["REUSE1"]


def test_a_rejected_row_whose_date_does_not_read_is_marked_with_the_batch_s_or_the_state_s_latest_day(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A rejected row's own date where it reads; else the batch's latest readable date (of its rejected rows
    too), else the state's latest day; a mark with no day at all is dropped by ``forget_before`` (it was kept
    for good)."""
    screener = screening.Screener(us_pack)

    def marks() -> dict[str, Any]:
        seen = screener.state.seen_lines.filter(pl.col("line_no") == 0).sort("package_id")
        return dict(seen.select("package_id", "arrival_date").iter_rows())

    screener.screen(manifest({"package_id": "X", "arrival_date": "someday"}))
    assert marks() == {"X": None}
    screener.forget_before(dt.date(2025, 3, 1))
    assert marks() == {}
    screener.screen(manifest({"package_id": "A", "arrival_date": "2025-03-10"}))
    screener.screen(manifest({"package_id": "X", "arrival_date": "someday"}))
    screener.screen(
        manifest(
            {"package_id": "Y", "arrival_date": "someday"},
            {"package_id": "Z", "arrival_date": "2025-03-12", "declared_value": "abc"},
        )
    )
    assert marks() == {"X": dt.date(2025, 3, 10), "Y": dt.date(2025, 3, 12), "Z": dt.date(2025, 3, 12)}
    screener.forget_before(dt.date(2025, 3, 11))
    assert marks() == {"Y": dt.date(2025, 3, 12), "Z": dt.date(2025, 3, 12)}


def test_a_rejected_row_dated_outside_the_pack_or_after_the_batch_s_lines_does_not_date_its_mark(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A rejected row's own date dated its package's mark whatever the year: a 2015 typo
    (``date-outside-pack``) was forgotten at once, so the package's other line next hour was screened alone
    (``dm-eligible``) instead of ``package-incomplete``; a 2052 typo was never forgotten, so the tracking
    number reused two months later was ``package-incomplete``. A rejected row's date counts only within the
    pack's coverage and not after the batch's latest kept line; else the batch's, or the state's, latest day."""
    screener = screening.Screener(us_pack)

    def marks() -> dict[str, Any]:
        seen = screener.state.seen_lines.filter(pl.col("line_no") == 0).sort("package_id")
        return dict(seen.select("package_id", "arrival_date").iter_rows())

    first = screener.screen(
        manifest(
            {"package_id": "PKG1", "arrival_date": "2015-08-25"},
            {"package_id": "PKG2", "arrival_date": "2052-08-25", "hts_code": "61091"},
            {"package_id": "OTHER", "arrival_date": "2025-08-25"},
        )
    )
    assert first.rejects.select("package_id", "code").rows() == [
        ("PKG1", "date-outside-pack"),
        ("PKG2", "invalid-hts"),
    ]
    assert marks() == {"PKG1": dt.date(2025, 8, 25), "PKG2": dt.date(2025, 8, 25)}
    screener.forget_before(dt.date(2025, 8, 22))
    later = screener.screen(manifest({"package_id": "PKG1", "line_no": "2", "arrival_date": "2025-08-25"}))
    assert later.rejects.select("package_id", "code").rows() == [("PKG1", "package-incomplete")]
    assert later.packages.is_empty()
    # A batch of no kept line: the state's latest day, not 2015.
    screener.screen(manifest({"package_id": "PKG3", "arrival_date": "2015-09-01"}))
    assert marks()["PKG3"] == dt.date(2025, 8, 25)
    screener.screen(manifest({"package_id": "OTHER2", "arrival_date": "2025-10-29"}))
    screener.forget_before(dt.date(2025, 10, 22))
    assert marks() == {}
    reused = screener.screen(manifest({"package_id": "PKG2", "arrival_date": "2025-10-30"}))
    assert reused.rejects.is_empty()
    assert reused.packages["package_id"].to_list() == ["PKG2"]


def test_a_mark_s_date_is_bounded_by_the_day_known_and_not_by_the_batch_s_cut(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> None:
    """A 2052 typo in a batch of rejected rows only was not bounded (no kept line to bound it): its mark stayed
    for good and the number reused two months later was ``package-incomplete``. And a package rejected on its own
    day (08-26) beside a kept line of 08-25 was marked 08-25, beside one of 08-27 marked 08-26: forgetting before
    08-26 then screened its next line alone in one cut and not in the other. A rejected row's date counts up to
    ``MARK_DATE_GRACE_DAYS`` after the latest day known (the batch's kept lines' and the state's)."""

    def marks(screener: screening.Screener) -> dict[str, Any]:
        seen = screener.state.seen_lines.filter(pl.col("line_no") == 0).sort("package_id")
        return dict(seen.select("package_id", "arrival_date").iter_rows())

    screener = screening.Screener(us_pack)
    screener.screen(manifest({"package_id": "OTHER", "arrival_date": "2025-08-25"}))
    screener.screen(manifest({"package_id": "PKG2", "arrival_date": "2052-08-25", "hts_code": "61091"}))
    assert marks(screener) == {"PKG2": dt.date(2025, 8, 25)}
    screener.screen(manifest({"package_id": "OTHER2", "arrival_date": "2025-10-29"}))
    screener.forget_before(dt.date(2025, 10, 22))
    reused = screener.screen(manifest({"package_id": "PKG2", "arrival_date": "2025-10-30"}))
    assert reused.rejects.is_empty()
    assert reused.packages["package_id"].to_list() == ["PKG2"]
    outcomes = set()
    for other_day in ("2025-08-25", "2025-08-27"):
        cut = screening.Screener(us_pack)
        cut.screen(
            manifest(
                {"package_id": "OTHER", "arrival_date": other_day},
                {"package_id": "P", "arrival_date": "2025-08-26", "hts_code": "61091"},
            )
        )
        assert marks(cut) == {"P": dt.date(2025, 8, 26)}
        cut.forget_before(dt.date(2025, 8, 26))
        later = cut.screen(manifest({"package_id": "P", "line_no": "2", "arrival_date": "2025-08-26"}))
        outcomes.add(tuple(later.rejects.select("package_id", "code").rows()))
    assert outcomes == {(("P", "package-incomplete"),)}


def test_keeping_more_days_than_the_calendar_holds_forgets_nothing(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame], tmp_path: Path
) -> None:
    """``--state-keep-days 999999`` counted back past 0001-01-01: OverflowError (exit 70) after the hour's
    outputs were published, and the state was not saved. A count that reaches before the first date forgets
    nothing; a count that is not a whole number of 1 or more is refused (exit 2) before any work."""
    manifest({"package_id": "A", "declared_value": "500"}).write_csv(tmp_path / "h1.csv")
    manifest({"package_id": "B", "declared_value": "400"}).write_csv(tmp_path / "h2.csv")
    state = tmp_path / "day.state"
    runner = CliRunner()

    def run(name: str, keep: str) -> Any:
        args = ["run", str(tmp_path / f"{name}.csv"), "--rules", str(US_PACK), "--out", str(tmp_path / name)]
        return runner.invoke(
            main, [*args, "--batch-size", "10", "--state", str(state), "--state-keep-days", keep]
        )

    assert run("h1", "999999").exit_code == 0
    done = run("h2", str(10**30))
    assert done.exit_code == 0, done.output
    assert screening.Screener.restore(state, us_pack).state.rows_seen == 2
    assert pl.read_parquet(tmp_path / "h2" / "packages.parquet")["de_minimis_reason"].to_list() == [
        "dm-over-threshold"
    ]
    manifest({"package_id": "C", "declared_value": "100"}).write_csv(tmp_path / "h3.csv")
    summary, _ = screen_files_in_batches(
        [tmp_path / "h3.csv"],
        out=tmp_path / "h3",
        batch_size=10,
        rules=us_pack,
        state_path=state,
        state_keep_days=10**12,
    )
    assert summary["counts"]["lines"] == 1
    assert screening.Screener.restore(state, us_pack).totals()["consignee_day_packages"].to_list() == [3]
    for bad in (0, -1, True, "7", 1.5):
        with pytest.raises(screening.UsageError, match="state_keep_days"):
            screen_files_in_batches(
                [tmp_path / "h3.csv"],
                out=tmp_path / "h4",
                batch_size=10,
                rules=us_pack,
                state_path=tmp_path / "other.state",
                state_keep_days=bad,  # type: ignore[arg-type]
            )
    assert not (tmp_path / "h4").exists()


def test_a_file_screened_again_through_the_api_is_refused_as_screen_run_refuses_it(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """``Screener.screen(path)`` recorded no file in the state: an hour screened again (a retry) made every line
    a duplicate-line, and ``screen run`` resumed from that state took the file again too. A file is recorded
    by its SHA-256 as ``screen run --state`` records it, and screened again (or a copy of its bytes) it is
    refused with the same UsageError (exit 2), before any row is screened."""
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(200)
    hour = tmp_path / "h05.parquet"
    frame.write_parquet(hour)
    screener = screening.Screener(us_pack)
    first = screener.screen(hour)
    assert screener.files_screened == [file_digest(hour)]
    with pytest.raises(screening.UsageError, match="already screened into") as refused:
        screener.screen(hour)
    assert refused.value.exit_code == 2
    assert str(hour) in str(refused.value)
    (tmp_path / "copy.parquet").write_bytes(hour.read_bytes())
    with pytest.raises(screening.UsageError, match="already screened into"):
        screener.screen(tmp_path / "copy.parquet")
    assert screener.state.rows_seen == first.lines.height + first.rejects.height
    state = screener.save_state(tmp_path / "day.state")
    with pytest.raises(screening.UsageError, match="already screened into"):
        screening.Screener.restore(state, us_pack).screen(hour)
    args = ["run", str(hour), "--rules", str(US_PACK), "--out", str(tmp_path / "out")]
    again = CliRunner().invoke(main, [*args, "--batch-size", "100", "--state", str(state)])
    assert again.exit_code == 2
    assert "already screened into the state" in again.output
    # The same rows given in memory are no file: their lines are copies, as before.
    copies = screening.Screener.restore(state, us_pack).screen(frame)
    assert copies.lines.is_empty()
    # A file of no row is not recorded (an empty hour's file may come again).
    frame.head(0).write_parquet(tmp_path / "empty.parquet")
    screener.screen(tmp_path / "empty.parquet")
    screener.screen(tmp_path / "empty.parquet")
    assert screener.files_screened == [file_digest(hour)]


@pytest.mark.parametrize("api", ["Screener.screen", "screen_batches"])
def test_a_file_batch_s_result_refuses_an_output_folder_that_holds_the_file(
    us_pack: screening.RulePack, tmp_path: Path, api: str
) -> None:
    """A manifest named ``lines.csv`` in a folder of an earlier output set: ``screen(path).write(folder)`` refused,
    but ``Screener(pack).screen(path).write(folder)`` and ``screen_batches([path]).write(folder)`` replaced the
    folder, manifest and all (their summaries listed the file without its bytes and SHA-256, and a result
    protects the inputs it has a digest of). They list it as ``screen`` does and refuse, the file kept."""
    folder = tmp_path / "day"
    folder.mkdir()
    lines = folder / "lines.csv"
    pl.read_csv(SAMPLE_CSV, infer_schema=False).head(20).write_csv(lines)
    (folder / "summary.json").write_text("{}", encoding="utf-8")
    result = (
        screening.Screener(us_pack).screen(lines)
        if api == "Screener.screen"
        else screening.screen_batches([lines], rules=us_pack)
    )
    listed = {"source": str(lines), "rows": 20, "bytes": lines.stat().st_size, "sha256": file_digest(lines)}
    assert result.summary["inputs"] == [listed]
    with pytest.raises(screening.UsageError, match="the output folder holds the input"):
        result.write(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["lines.csv", "summary.json"]
    # A batch named otherwise lists the file's path beside its name; stacked with an in-memory batch, the file
    # stays listed (the frame is no file).
    frame = pl.read_csv(SAMPLE_CSV, infer_schema=False).slice(20, 10)
    named = screening.screen_batches([lines, frame], rules=us_pack, label="hour-09")
    assert named.summary["inputs"] == [listed, {"source": "hour-09", "rows": 10}]
    screener = screening.Screener(us_pack)
    labelled = screener.screen(lines, source="hour-09")
    assert labelled.summary["inputs"] == [{**listed, "source": "hour-09", "path": str(lines)}]
    with pytest.raises(screening.UsageError, match="the output folder holds the input"):
        labelled.write(folder)
    assert lines.is_file()


@pytest.mark.parametrize("api", ["screen", "Screener.screen", "screen_batches"])
def test_a_result_of_a_relative_path_refuses_its_input_s_folder_after_the_working_folder_changes(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api: str
) -> None:
    """``screen("hour/lines.csv")`` (or a Screener's) from one folder, then ``result.write(<the hour folder>)``
    after a change of working folder: ``write`` read the inputs' paths back from the summary's text, relative to
    the new working folder, found none inside and replaced the folder, manifest and all. A result refuses the files
    it read as they were resolved when it read them."""
    folder = tmp_path / "work" / "hour"
    folder.mkdir(parents=True)
    lines = folder / "lines.csv"
    pl.read_csv(SAMPLE_CSV, infer_schema=False).head(20).write_csv(lines)
    (folder / "summary.json").write_text("{}", encoding="utf-8")
    kept = lines.read_bytes()
    monkeypatch.chdir(tmp_path / "work")
    relative = "hour/lines.csv"
    result = {
        "screen": lambda: screening.screen(relative, rules=us_pack),
        "Screener.screen": lambda: screening.Screener(us_pack).screen(relative),
        "screen_batches": lambda: screening.screen_batches([relative], rules=us_pack),
    }[api]()
    assert result.summary["inputs"][0]["source"] == relative
    monkeypatch.chdir(tmp_path)
    with pytest.raises(screening.UsageError, match="the output folder holds the input"):
        result.write(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["lines.csv", "summary.json"]
    assert lines.read_bytes() == kept


@pytest.mark.parametrize("change", ["moved", "grown"])
def test_a_file_batch_s_summary_lists_the_bytes_screened_when_the_file_changes_once_read(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    """``Screener.screen(path)`` took the file's size from the file once its rows were screened: an hourly file
    archived meanwhile raised a bare FileNotFoundError (the batch lost), and one a producer appended to was listed
    with its new size beside the digest of the bytes screened. The summary lists the bytes read, the batch taken."""
    hour = tmp_path / "hour.csv"
    frame = pl.read_csv(SAMPLE_CSV, infer_schema=False).head(30)
    frame.head(20).write_csv(hour)
    screened = hour.read_bytes()
    plan = screener_module.build_plan

    def plan_then_change(*args: Any, **kwargs: Any) -> Any:
        built = plan(*args, **kwargs)
        if change == "moved":
            hour.rename(tmp_path / "archived.csv")  # another process archives the file handed over
        else:
            with hour.open("a", encoding="utf-8") as handle:  # the producer appends to it
                handle.write(frame.tail(10).write_csv(include_header=False))
        return built

    monkeypatch.setattr(screener_module, "build_plan", plan_then_change)
    screener = screening.Screener(us_pack)
    result = screener.screen(hour)
    digest = "sha256:" + hashlib.sha256(screened).hexdigest()
    assert result.summary["inputs"] == [
        {"source": str(hour), "rows": 20, "bytes": len(screened), "sha256": digest}
    ]
    assert (screener.files_screened, screener.state.batches) == ([digest], 1)


def test_a_state_run_s_summary_lists_the_bytes_screened_when_the_file_moves_once_read(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``screen run --state`` kept each file's digest but took its size from the file for the summary, after the
    batches: a file archived once read failed the run with a bare FileNotFoundError, nothing published. The size
    is kept beside the digest as the file was hashed."""
    hour = tmp_path / "hour.csv"
    pl.read_csv(SAMPLE_CSV, infer_schema=False).head(20).write_csv(hour)
    screened = hour.read_bytes()
    sort = screener_module.write_sorted

    def archive_then_sort(*args: Any, **kwargs: Any) -> Any:
        hour.rename(tmp_path / "archived.csv")  # every batch is read: the file is archived
        return sort(*args, **kwargs)

    monkeypatch.setattr(screener_module, "write_sorted", archive_then_sort)
    summary, _ = screen_files_in_batches(
        [hour], out=tmp_path / "out", batch_size=7, rules=us_pack, state_path=tmp_path / "day.state"
    )
    digest = "sha256:" + hashlib.sha256(screened).hexdigest()
    assert summary["inputs"] == [{"source": str(hour), "rows": 20, "bytes": len(screened), "sha256": digest}]
    assert (
        json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["inputs"]
        == summary["inputs"]
    )


def test_a_file_that_changes_while_the_screener_reads_it_is_refused_not_recorded(
    us_pack: screening.RulePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Screener.screen(path)`` took the file's digest after reading it: a producer finishing the hour's file in
    between left the state recording the complete file's bytes, one row screened of three, and the complete file
    given again was refused as already screened (two rows never screened). A file that changes while it is read
    is refused now, the state as it was; given again once complete, every row is screened."""
    hour = tmp_path / "hour09.csv"
    frame = pl.read_csv(SAMPLE_CSV, infer_schema=False).head(3)
    frame.head(1).write_csv(hour)
    read = screener_module._read_one_file

    def read_then_finished(path: Path, file: Path, mapping: ColumnMapping) -> pl.DataFrame:
        data = read(path, file, mapping)
        frame.write_csv(hour)  # the producer finishes writing the hour's file right after the read
        return data

    monkeypatch.setattr(screener_module, "_read_one_file", read_then_finished)
    screener = screening.Screener(us_pack)
    with pytest.raises(screening.UsageError, match="changed while it was read") as refused:
        screener.screen(hour)
    assert str(refused.value).startswith(f"{hour}: ")
    assert (screener.files_screened, screener.state.rows_seen, screener.state.batches) == ([], 0, 0)
    monkeypatch.undo()
    complete = screener.screen(hour)
    assert complete.summary["counts"]["input_rows"] == 3
    assert screener.files_screened == [file_digest(hour)]


def test_cli_state_refuses_a_file_that_changes_while_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``screen run --state`` took a file's digest before reading it: rows a producer added while the run read the
    file were screened but the state recorded the shorter file, so the complete file was taken again (its
    first rows copies). The run is refused now (exit 2), nothing published and the state not saved."""
    hour = tmp_path / "h09.csv"
    sample = pl.read_csv(SAMPLE_CSV, infer_schema=False)
    sample.head(200).write_csv(hour)
    state = tmp_path / "day.state"
    batches = screener_module._file_batches

    def producer_goes_on(path: Path, batch_size: int, mapping: ColumnMapping) -> Any:
        yield from batches(path, batch_size, mapping)
        sample.head(300).write_csv(hour)  # more rows, written after the run read the file

    monkeypatch.setattr(screener_module, "_file_batches", producer_goes_on)
    with pytest.raises(screening.UsageError, match="changed while it was read"):
        screen_files_in_batches([hour], out=tmp_path / "out", batch_size=100, rules=US_PACK, state_path=state)
    assert not state.exists()
    assert not (tmp_path / "out").exists()
    monkeypatch.undo()
    summary, _ = screen_files_in_batches(
        [hour], out=tmp_path / "out", batch_size=100, rules=US_PACK, state_path=state
    )
    assert summary["counts"]["input_rows"] == 300
    assert summary["inputs"][0]["sha256"] == file_digest(hour)


@pytest.mark.parametrize("when", ["while read", "once read"])
def test_a_batch_run_without_a_state_lists_the_bytes_screened_or_refuses_a_changing_file(
    tmp_path: Path, when: str
) -> None:
    """``screen run --batch-size`` without ``--state`` hashed each file for its summary after screening it: 20,000
    rows were listed under the SHA-256 of the 20,003-row file a producer had appended to meanwhile. Each file is
    hashed before it is read, as with a state: one that changed while its batches were read is refused (nothing
    published), one appended to once read is listed with the size and SHA-256 of the bytes screened."""
    sample = pl.read_csv(SAMPLE_CSV, infer_schema=False)
    hour = tmp_path / "hour.csv"
    sample.head(120).write_csv(hour)
    screened = hour.read_bytes()
    appended: list[str] = []

    def producer(reported: str) -> None:
        # While read: as the second batch is screened; once read: as the outputs are written.
        second = reported.startswith("screening hour.csv from row ") and not reported.endswith(" row 1")
        if not appended and (second if when == "while read" else reported == "writing outputs"):
            with hour.open("a", encoding="utf-8") as handle:
                handle.write(sample.slice(120, 3).write_csv(include_header=False))
            appended.append(reported)

    out = tmp_path / "out"

    def run() -> tuple[dict[str, Any], float]:
        return screen_files_in_batches([hour], out=out, batch_size=50, rules=US_PACK, progress=producer)

    if when == "while read":
        with pytest.raises(screening.UsageError, match="changed while it was read"):
            run()
        assert appended
        assert not out.exists()
        return
    summary, _ = run()
    assert appended
    digest = "sha256:" + hashlib.sha256(screened).hexdigest()
    assert summary["inputs"] == [{"source": str(hour), "rows": 120, "bytes": len(screened), "sha256": digest}]
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["inputs"] == summary["inputs"]
