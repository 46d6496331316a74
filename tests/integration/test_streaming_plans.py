"""The validation pass streams: no step of its plan falls back to the in-memory engine.

A whole day is validated in one streaming pass whose memory follows a morsel, not the input
(:func:`screening.pipeline.validate_into`). One expression that polars' streaming engine cannot run
morsel by morsel makes it collect the whole input first: ``replace("", None)`` on the text fields once
took the validation of 4M lines from 0.9 GB to 2.8 GB, with every output unchanged. This test reads
polars' own physical plan, where such steps are marked.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

import screening
from screening.day_parts import PART, part_bounds, split_day
from screening.pipeline import run_inputs, run_vocabulary, validation_rows
from screening.stages import normalise

from ..conftest import SAMPLE

#: Node colours of polars' physical plan graph (its legend): in-memory engine fallback, and potentially
#: memory-intensive node.
_FALLBACK = "0.0 0.3 1.0"
_MEMORY_INTENSIVE = "0.16 0.3 1.0"


def _marked_nodes(plan: pl.LazyFrame) -> list[tuple[str, str]]:
    """The (label, colour) of every node of the streaming physical plan that polars marks."""
    graph = plan.show_graph(engine="streaming", plan_stage="physical", raw_output=True)
    assert isinstance(graph, str)
    assert "streaming engine node" in graph, "the plan graph's legend changed"
    nodes = re.findall(r'\[label="((?:[^"\\]|\\.)*)",style=filled,fillcolor="([^"]+)"\]', graph)
    return [(label.split("\\n")[0], colour) for label, colour in nodes]


def test_the_detector_sees_a_step_that_holds_the_whole_input(tmp_path: Path) -> None:
    path = tmp_path / "text.parquet"
    pl.DataFrame({"text": [" a", "", "b "]}).write_parquet(path)
    held = pl.scan_parquet(path).with_columns(pl.col("text").str.strip_chars().replace("", None))
    streamed = pl.scan_parquet(path).with_columns(
        pl.when(pl.col("text").str.strip_chars() == "").then(None).otherwise(pl.col("text").str.strip_chars())
    )
    assert _FALLBACK in {colour for _, colour in _marked_nodes(held)}
    assert _marked_nodes(streamed) == []


def test_validating_files_streams_every_step(us_pack: screening.RulePack) -> None:
    # The sample's two files (Parquet and CSV), validated together as a whole-day run does.
    inputs = run_inputs(SAMPLE, rules=us_pack)
    assert len(inputs.sources) >= 2
    vocabulary = run_vocabulary(us_pack)
    checked = [normalise.check_source(s.frame, vocabulary) for s in inputs.sources]
    part = (pl.col("package_id") >= "P").cast(pl.UInt32()).alias(PART)
    assert _marked_nodes(validation_rows(checked, columns=[part])) == []


def test_rows_that_pass_hold_nothing_for_a_reject(us_pack: screening.RulePack) -> None:
    # The held columns are null on every row that passed (the sample has rows of both kinds), and the
    # rejected rows' held columns give back exactly the rejects the checks build directly.
    inputs = run_inputs(SAMPLE, rules=us_pack)
    vocabulary = run_vocabulary(us_pack)
    for source in inputs.sources:
        checked = normalise.check_source(source.frame, vocabulary)
        rows = checked.candidates_and_held().collect()
        passed = rows.filter(pl.col(normalise.CHECK_INDEX).is_null())
        rejected = rows.filter(pl.col(normalise.CHECK_INDEX).is_not_null())
        assert passed.height > 0, source.name
        assert rejected.height > 0, source.name
        held = [c for c in rows.columns if c.startswith(normalise.HELD)]
        # The text columns are held together, as one JSON column: the only held column of text.
        (text,) = [c for c in held if rows.schema[c] == pl.String()]
        assert passed.select(pl.col(held).null_count()).row(0) == (passed.height,) * len(held)
        assert rejected.get_column(text).null_count() == 0
        rebuilt = checked.rejects_from_held(rejected.lazy()).collect()
        assert rebuilt.equals(checked.rejects().collect())


def test_many_files_of_one_layout_validate_into_a_frame_of_one_width(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    """Each source held its reject columns under names of its own: 1,000 small files made a validation frame
    6,000 columns wide (13 GiB to validate 10,000 lines). Files of one layout now share them, and a folder of
    files screens to the lines and rejects of the same rows in one file."""
    rows = pl.read_csv(SAMPLE / "manifest_10k.csv", infer_schema=False).head(400)
    folder = tmp_path / "files"
    folder.mkdir()
    for number in range(40):
        rows.slice(number * 10, 10).write_csv(folder / f"m{number:03d}.csv")
    rows.write_csv(tmp_path / "one.csv")

    def validated_width(source: Path, work: Path) -> int:
        sources = run_inputs(source, rules=us_pack).sources
        split_day(sources, us_pack, work, 100, part_bounds(sources, 100))
        return max(len(pl.read_parquet_schema(f)) for f in (work / "validated").glob("*.parquet"))

    assert validated_width(folder, tmp_path / "a") == validated_width(tmp_path / "one.csv", tmp_path / "b")
    split = screening.screen(folder, rules=us_pack)
    whole = screening.screen(tmp_path / "one.csv", rules=us_pack)
    assert split.rejects.height == whole.rejects.height > 0
    assert split.lines.drop("source", "row").equals(whole.lines.drop("source", "row"))
    # The same rejects; a package's message names the file and row of its rejected line.
    order = ("package_id", "line_no", "code")
    assert (
        split.rejects.drop("source", "row", "message")
        .sort(order)
        .equals(whole.rejects.drop("source", "row", "message").sort(order))
    )
