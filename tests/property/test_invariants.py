"""Invariants of the engine as property tests, one test per invariant (SYNTHETIC manifests).

Manifests come from :mod:`screening.testing` (text columns, skewed consignees, values around the threshold,
dates around rule changes). Outputs of two runs are compared after removing what legitimately differs:
the ``source`` and ``row`` lineage when the same rows arrive in other files or another order.

The conservation and row-order tests draw up to three duplicate lines (copies of earlier lines, interleaved);
the others one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import screening
from screening.errors import RejectCode
from screening.exprs.parties import consignee_key, padded_code, zip_plus4_padded
from screening.result import OUTPUTS
from screening.rulepack.risk_resolve import resolve_risk
from screening.schema import ZERO_PADDED
from screening.stages import route
from screening.testing import (
    BREAKAGES,
    COLUMNS,
    Breakage,
    DeMinimisPack,
    LabelledManifest,
    bundled_rule_change_dates,
    de_minimis_packs,
    labelled_manifests,
    manifests,
    rule_boundaries,
)

from ..conftest import OUTPUT_FILES as RUN_FILES
from .conftest import overlay

LINEAGE = ("source", "row")
#: The global row (0-based position in the whole manifest) that lineage maps to.
GROW = "__global_row"
OUTPUT_FILES = tuple(sorted(RUN_FILES))
COMPONENT_KEYS = ("package_id", "line_no", "component", "measure_id")
QUEUE_KEYS = ("queue", "port_of_entry", "arrival_date", "queue_rank")
#: Package columns set by routing (they depend on every package of a port and day).
ROUTING = ("queue", "queue_rank", "disposition", "random_sample")


# --- Helpers -------------------------------------------------------------------------------------------------


def screen(source: object, pack: screening.RulePack) -> screening.Result:
    return screening.screen(source, rules=pack)


def with_global_rows(frame: pl.DataFrame, positions: dict[str, Sequence[int]]) -> pl.DataFrame:
    """Replace ``source``/``row`` by the row's position in the whole manifest (``positions[label][row-1]``)."""
    table = pl.DataFrame(
        {
            "source": [label for label, rows in positions.items() for _ in rows],
            "row": [i + 1 for rows in positions.values() for i in range(len(rows))],
            GROW: [g for rows in positions.values() for g in rows],
        },
        schema={"source": pl.String(), "row": pl.Int64(), GROW: pl.Int64()},
    )
    joined = frame.join(table, on=["source", "row"], how="left")
    assert joined[GROW].null_count() == 0, "an output row names a source row that does not exist"
    return joined.drop(*LINEAGE).sort(GROW)


def by_global_row(result: screening.Result, positions: dict[str, Sequence[int]]) -> dict[str, pl.DataFrame]:
    """The four outputs with lineage as global rows and in a canonical order."""
    return {
        "lines": with_global_rows(result.lines, positions),
        "rejects": with_global_rows(result.rejects, positions),
        "packages": result.packages.sort("package_id"),
        "components": result.components.sort(COMPONENT_KEYS, nulls_last=True),
        "flags": result.flags.sort("package_id", "rule_id"),
        "queues": result.queues,
    }


def concat_parts(parts: Sequence[dict[str, pl.DataFrame]]) -> dict[str, pl.DataFrame]:
    out = {name: pl.concat([p[name] for p in parts], how="vertical") for name in OUTPUTS}
    out["lines"] = out["lines"].sort(GROW)
    out["rejects"] = out["rejects"].sort(GROW)
    out["packages"] = out["packages"].sort("package_id")
    out["components"] = out["components"].sort(COMPONENT_KEYS, nulls_last=True)
    out["flags"] = out["flags"].sort("package_id", "rule_id")
    out["queues"] = out["queues"].sort(QUEUE_KEYS, nulls_last=True)
    return out


def assert_same_outputs(got: dict[str, pl.DataFrame], want: dict[str, pl.DataFrame]) -> None:
    for name in OUTPUTS:
        try:
            assert_frame_equal(got[name], want[name], check_exact=True)
        except AssertionError as exc:
            raise AssertionError(f"{name} differ: {exc}") from None


def without_lineage(result: screening.Result) -> dict[str, pl.DataFrame]:
    """Outputs with no lineage at all (for runs whose rows may legitimately swap places)."""
    return {
        "lines": result.lines.drop(*LINEAGE).sort("package_id", "line_no"),
        "rejects": result.rejects.drop(*LINEAGE).sort(pl.all(), nulls_last=True),
        "packages": result.packages.sort("package_id"),
        "components": result.components.sort(COMPONENT_KEYS, nulls_last=True),
        "flags": result.flags.sort("package_id", "rule_id"),
        "queues": result.queues,
    }


def counts(result: screening.Result) -> tuple[int, int, int, int]:
    c = result.summary["counts"]
    return c["input_rows"], c["lines"], c["rejected"], c["packages"]


def chunks(frame: pl.DataFrame, cuts: Sequence[int]) -> list[pl.DataFrame]:
    edges = [0, *sorted(set(cuts)), frame.height]
    return [frame[a:b] for a, b in itertools.pairwise(edges)]


# --- Conservation --------------------------------------------------------------------------------------------


#: Unparseable values of columns with a default. They once silently took the default (line 1, false); they
#: are rejected now (tests/hostile: line_no_fraction, flag_not_boolean), and get a test of their own below.
DEFAULTED: tuple[Breakage, ...] = (
    ("line_no", RejectCode.INVALID_NUMBER, ("1.5", "abc")),
    ("usmca_claim", RejectCode.INVALID_FLAG, ("maybe", "2", "si")),
    ("gift", RejectCode.INVALID_FLAG, ("perhaps", "-1")),
)
SOUND: tuple[Breakage, ...] = tuple(
    (name, code, tuple(v for v in values if not any((name, code) == d[:2] and v in d[2] for d in DEFAULTED)))
    for name, code, values in BREAKAGES
    if not any((name, code) == d[:2] and set(values) <= set(d[2]) for d in DEFAULTED)
)


def assert_conserved(result: screening.Result, manifest: LabelledManifest) -> None:
    n = manifest.frame.height
    line_rows = result.lines["row"].to_list()
    reject_rows = result.rejects["row"].to_list()
    assert len(line_rows) + len(reject_rows) == n
    assert sorted(line_rows + reject_rows) == list(range(1, n + 1)), "a row is lost or appears twice"
    assert counts(result)[:3] == (n, len(line_rows), len(reject_rows))
    rejected = {
        row: (code, field) for row, code, field in result.rejects.select("row", "code", "field").rows()
    }
    for row, label in enumerate(manifest.labels, start=1):
        if label.kind == "valid":
            # A valid line is screened, unless the pack has no rate for its currency near its date.
            assert rejected.get(row, (RejectCode.MISSING_FX_RATE, "currency")) == (
                RejectCode.MISSING_FX_RATE,
                "currency",
            ), f"valid row {row} rejected: {rejected.get(row)}"
        else:
            assert rejected.get(row) == (label.code, label.field), f"row {row} ({label.kind})"


@given(manifest=labelled_manifests(max_broken=4, max_duplicates=3, breakages=SOUND))
def test_conservation_every_input_row_ends_in_exactly_one_of_lines_or_rejects(
    pack: screening.RulePack, manifest: LabelledManifest
) -> None:
    assert_conserved(screen(manifest.frame, pack), manifest)


@given(manifest=labelled_manifests(max_broken=3, max_packages=4, breakages=DEFAULTED))
def test_conservation_of_unparseable_line_numbers_and_flags(
    pack: screening.RulePack, manifest: LabelledManifest
) -> None:
    assert_conserved(screen(manifest.frame, pack), manifest)


# --- Row order -----------------------------------------------------------------------------------------------


@given(manifest=labelled_manifests(max_broken=2, max_duplicates=3), data=st.data())
def test_row_order_invariance(
    pack: screening.RulePack, manifest: LabelledManifest, data: st.DataObject
) -> None:
    frame = manifest.frame
    order = data.draw(st.permutations(range(frame.height)), label="order")
    shuffled = frame[list(order)] if order else frame
    # Duplicates are exact copies, so which copy is kept may change with the order: compare without lineage.
    assert_same_outputs(without_lineage(screen(shuffled, pack)), without_lineage(screen(frame, pack)))


@given(manifest=labelled_manifests(max_broken=1, max_duplicates=2, max_packages=6), data=st.data())
def test_row_order_invariance_of_a_line_given_in_two_versions(
    pack: screening.RulePack, manifest: LabelledManifest, data: st.DataObject
) -> None:
    """A valid line given again with another description is in conflict, not copied: every line of its key is a
    ``conflicting-line``, the other lines of its package are rejected (copies of them may be ``duplicate-line``, those
    without a rate ``missing-fx-rate``),
    nothing of the package is screened, and the outputs are the same in any row order (the first version
    was kept, so the order chose which one was screened)."""
    frame = manifest.frame
    valid = [i for i, label in enumerate(manifest.labels) if label.kind == "valid"]
    source = data.draw(st.sampled_from(valid), label="line")
    version = frame[source].with_columns(pl.col("description") + " (another version)")
    at = data.draw(st.integers(min_value=0, max_value=frame.height), label="at")
    frame = pl.concat([frame[:at], version, frame[at:]])
    package, line_no = version.select("package_id", "line_no").row(0)
    order = data.draw(st.permutations(range(frame.height)), label="order")
    result = screen(frame, pack)
    assert (
        result.summary["counts"]["input_rows"] == result.lines.height + result.rejects.height == frame.height
    )
    assert package not in result.lines["package_id"].to_list()
    of_package = result.rejects.filter(pl.col("package_id") == package)
    of_line = pl.col("line_no").cast(pl.Int64()) == int(line_no)
    assert set(of_package.filter(of_line)["code"]) == {"conflicting-line"}
    assert set(of_package.filter(~of_line)["code"]) <= {
        "package-incomplete",
        "duplicate-line",
        "missing-fx-rate",
    }
    # The rejected line a package-incomplete message names is the first in the order given: not compared.
    unnamed = pl.col("message").str.replace(r"\(<memory:0> row \d+: ", "(")
    shuffled = without_lineage(screen(frame[list(order)], pack))
    same = without_lineage(result)
    shuffled["rejects"] = shuffled["rejects"].with_columns(unnamed).sort(pl.all(), nulls_last=True)
    same["rejects"] = same["rejects"].with_columns(unnamed).sort(pl.all(), nulls_last=True)
    assert_same_outputs(shuffled, same)


# --- Batch size ----------------------------------------------------------------------------------------------


def _batched_in_memory(
    frame: pl.DataFrame, parts: list[pl.DataFrame], pack: screening.RulePack
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """The whole frame, and its parts passed as a list of frames, screened."""
    whole = by_global_row(screen(frame, pack), {"<memory:0>": range(frame.height)})
    offsets, positions = 0, {}
    for index, part in enumerate(parts):
        positions[f"<memory:{index}>"] = range(offsets, offsets + part.height)
        offsets += part.height
    return by_global_row(screen(parts, pack), positions), whole


def _batched_files(
    frame: pl.DataFrame, parts: list[pl.DataFrame], pack: screening.RulePack
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """The whole manifest as one CSV file, and its parts as CSV files in a folder, screened."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        whole_file = folder / "whole.csv"
        frame.write_csv(whole_file)
        whole = by_global_row(screen(whole_file, pack), {str(whole_file): range(frame.height)})
        (folder / "parts").mkdir()
        offsets, positions = 0, {}
        for index, part in enumerate(parts):
            path = folder / "parts" / f"part_{index:03d}.csv"
            part.write_csv(path)
            positions[str(path)] = range(offsets, offsets + part.height)
            offsets += part.height
        # A folder of files is read in name order, as one run.
        return by_global_row(screen(folder / "parts", pack), positions), whole


@given(
    manifest=labelled_manifests(max_broken=2, max_duplicates=1, min_packages=2),
    data=st.data(),
    as_files=st.booleans(),
)
def test_batch_size_invariance(
    pack: screening.RulePack, manifest: LabelledManifest, data: st.DataObject, as_files: bool
) -> None:
    """The manifest cut into batches of any sizes (in-memory frames as a list, or CSV files in a folder)
    gives the same outputs as the whole, row for row. Every example is cut at least once inside the frame
    (cuts drawn beyond its end made most examples a single batch)."""
    frame = manifest.frame
    cuts = data.draw(
        st.lists(st.integers(min_value=1, max_value=frame.height - 1), min_size=1, max_size=5), label="cuts"
    )
    parts = chunks(frame, cuts)
    batched, whole = (_batched_files if as_files else _batched_in_memory)(frame, parts, pack)
    assert_same_outputs(batched, whole)


@given(
    manifest=labelled_manifests(max_broken=2, max_duplicates=1),
    part_lines=st.integers(min_value=1, max_value=30),
    as_file=st.booleans(),
)
def test_part_size_invariance_of_a_folder_run(
    pack: screening.RulePack, manifest: LabelledManifest, part_lines: int, as_file: bool
) -> None:
    """``screen run`` screens a day in parts of whole packages against the whole day's totals: any part
    size (down to one line a part) writes the outputs of the whole day, row for row."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source: object = manifest.frame
        if as_file:
            source = folder / "manifest.csv"
            manifest.frame.write_csv(source)
        whole = screen(source, pack)
        screening.screen_to_folder(source, folder / "out", rules=pack, part_lines=part_lines)
        written = {name: pl.read_parquet(folder / "out" / f"{name}.parquet") for name in OUTPUTS}
    assert_same_outputs(written, {name: getattr(whole, name) for name in OUTPUTS})


# --- Partition -----------------------------------------------------------------------------------------------


def _partition_key(frame: pl.DataFrame, parts: int, seed: int) -> pl.Series:
    """The part of each row: a hash of its consignee key (as the engine forms it), modulo ``parts``."""
    clean = [
        pl.when(pl.col(c).str.strip_chars() != "").then(pl.col(c).str.strip_chars()).alias(c)
        for c in ("consignee_id", "consignee_name", "consignee_postal_code")
    ]
    postal_code = zip_plus4_padded(
        padded_code(pl.col("consignee_postal_code"), ZERO_PADDED["consignee_postal_code"])
    )
    key = consignee_key(
        pl.col("consignee_id"), pl.col("consignee_name"), postal_code, package_id=pl.col("package_id")
    )
    return frame.with_columns(clean).select((key.hash(seed=seed) % parts).fill_null(0)).to_series()


@given(
    manifest=labelled_manifests(max_broken=2, max_duplicates=1, max_consignees=6),
    parts=st.integers(min_value=2, max_value=3),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_partition_invariance_by_consignee_hash(
    pack: screening.RulePack, manifest: LabelledManifest, parts: int, seed: int
) -> None:
    frame = manifest.frame.with_row_index("__position")
    part_of = _partition_key(manifest.frame, parts, seed)
    whole_result = screen(manifest.frame, pack)
    whole = by_global_row(whole_result, {"<memory:0>": range(frame.height)})
    results, totals = [], [0, 0, 0, 0]
    for part in range(parts):
        rows = frame.filter(part_of == part)
        result = screen(rows.drop("__position"), pack)
        results.append(by_global_row(result, {"<memory:0>": rows["__position"].cast(pl.Int64()).to_list()}))
        totals = [a + b for a, b in zip(totals, counts(result), strict=True)]
    combined = concat_parts(results)
    # Queue ranks share one capacity per port and day across partitions: a partitioned run routes once
    # more over its combined packages (DESIGN §6), and must then agree with the whole run.
    risk = resolve_risk(pack, sorted(set(whole_result.packages["arrival_date"].to_list())))
    rerouted = route.route_packages(combined["packages"].drop(*ROUTING), risk)
    combined["packages"] = rerouted.select(whole["packages"].columns)
    combined["queues"] = route.queue_table(rerouted)
    assert_same_outputs(combined, whole)
    assert tuple(totals) == counts(whole_result)


# --- Monotonicity --------------------------------------------------------------------------------------------


def _ad_valorem(result: screening.Result, package_id: str, line_no: int) -> dict[tuple[str, str], Decimal]:
    """The line's ad valorem components (those with a value base): (component, measure) -> amount."""
    rows = result.components.filter(
        (pl.col("package_id") == package_id)
        & (pl.col("line_no") == line_no)
        & pl.col("base_usd").is_not_null()
        & pl.col("amount_usd").is_not_null()
    )
    return {(c, m): a for c, m, a in rows.select("component", "measure_id", "amount_usd").rows()}


@given(
    frame=manifests(max_consignees=3),
    delta=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("3000"), places=2),
    data=st.data(),
)
def test_monotonicity_raising_a_value_never_makes_a_consignee_day_eligible_nor_lowers_ad_valorem_duty(
    pack: screening.RulePack, frame: pl.DataFrame, delta: Decimal, data: st.DataObject
) -> None:
    before = screen(frame, pack)
    if before.lines.height == 0:
        return
    row = data.draw(st.sampled_from(before.lines["row"].to_list()), label="raised row")
    old = Decimal(str(frame["declared_value"][row - 1]).strip())
    raised = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == row - 1)
        .then(pl.lit(f"{old + delta}"))
        .otherwise(pl.col("declared_value"))
        .alias("declared_value")
    )
    after = screen(raised, pack)
    assert after.lines.height == before.lines.height

    # No package becomes eligible (the raised line's consignee-day only gets heavier).
    eligible = before.packages.select("package_id", "de_minimis_eligible", "entry_type").join(
        after.packages.select("package_id", "de_minimis_eligible", "entry_type"),
        on="package_id",
        suffix="_after",
    )
    newly = eligible.filter(pl.col("de_minimis_eligible_after") & ~pl.col("de_minimis_eligible"))
    assert newly.height == 0, f"raising row {row} made packages eligible: {newly['package_id'].to_list()}"

    line_before = before.lines.filter(pl.col("row") == row).row(0, named=True)
    line_after = after.lines.filter(pl.col("row") == row).row(0, named=True)
    assert line_after["value_usd"] >= line_before["value_usd"]
    assert line_after["consignee_day_value_usd"] >= line_before["consignee_day_value_usd"]

    # No ad valorem component of the raised line gets smaller.
    key = (line_before["package_id"], line_before["line_no"])
    av_before, av_after = _ad_valorem(before, *key), _ad_valorem(after, *key)
    for component in av_before.keys() & av_after.keys():
        assert av_after[component] >= av_before[component], component

    # Its duty does not fall either, as long as the package keeps its entry type (or was duty-free before).
    entry = eligible.filter(pl.col("package_id") == key[0]).row(0, named=True)
    known = line_before["duty_usd"] is not None and line_after["duty_usd"] is not None
    if known and entry["entry_type"] in (entry["entry_type_after"], "de-minimis"):
        assert line_after["duty_usd"] >= line_before["duty_usd"]


# --- Idempotent normalisation --------------------------------------------------------------------------------


@given(frame=manifests(), as_text=st.booleans())
def test_idempotent_normalisation(pack: screening.RulePack, frame: pl.DataFrame, as_text: bool) -> None:
    first = screen(frame, pack)
    normalised = first.lines.select(COLUMNS)
    again_input = normalised.select(pl.all().cast(pl.String())) if as_text else normalised
    second = screen(again_input, pack)
    assert second.rejects.height == 0, second.rejects["message"].to_list()
    assert_frame_equal(second.lines.select(COLUMNS), normalised, check_exact=True)
    # The first run's rejects are not fed back; everything derived from the lines must match.
    again, once = without_lineage(second), without_lineage(first)
    again["rejects"] = once["rejects"] = once["rejects"].clear()
    assert_same_outputs(again, once)


# --- Zero quantities ----------------------------------------------------------------------------------------

#: What a specific rate is charged on: 0 there counts as not given (README, "quantity", "gross_weight_kg").
MEASURES_OF_QUANTITY = ("quantity", "gross_weight_kg")


@given(frame=manifests(max_packages=8))
def test_a_zero_quantity_or_weight_decides_as_an_empty_one(
    pack: screening.RulePack, frame: pl.DataFrame
) -> None:
    """Many manifests write 0 for a weight or count they do not know: every quantity and weight of 0 made empty
    gives the same outputs (but those two columns, and the raw text of rejected rows). A specific rate on a 0
    was charged $0.00 where an empty cell made the line ``needs-quantity``."""
    emptied = frame.with_columns(
        pl.when(pl.col(c).str.strip_chars().cast(pl.Float64(), strict=False) == 0)
        .then(None)
        .otherwise(pl.col(c))
        .alias(c)
        for c in MEASURES_OF_QUANTITY
    )
    zero, empty = screen(frame, pack), screen(emptied, pack)
    got = {name: getattr(zero, name) for name in OUTPUTS}
    want = {name: getattr(empty, name) for name in OUTPUTS}
    for outputs in (got, want):
        outputs["lines"] = outputs["lines"].drop(*MEASURES_OF_QUANTITY)
        outputs["rejects"] = outputs["rejects"].drop("raw")
    assert_same_outputs(got, want)


# --- Period invariance ---------------------------------------------------------------------------------------


@st.composite
def same_period_dates(draw: st.DrawFn, boundaries: Sequence[dt.date]) -> tuple[dt.date, dt.date]:
    """Two dates inside one period between consecutive boundaries (the last period runs 5 years)."""
    ends = [*boundaries[1:], boundaries[-1] + dt.timedelta(days=5 * 365)]
    start, end = draw(st.sampled_from(list(zip(boundaries, ends, strict=True))))
    last = end - dt.timedelta(days=1)
    return draw(st.dates(start, last)), draw(st.dates(start, last))


def decisions(result: screening.Result) -> dict[str, pl.DataFrame]:
    """Outputs without the date itself (which differs by construction) or lineage."""
    outputs = without_lineage(result)
    outputs["lines"] = outputs["lines"].drop("arrival_date", "fx_rate_date")
    outputs["packages"] = outputs["packages"].drop("arrival_date")
    outputs["queues"] = outputs["queues"].drop("arrival_date")
    outputs["rejects"] = outputs["rejects"].select("package_id", "line_no", "field", "code")
    return outputs


def _on(frame: pl.DataFrame, day: dt.date) -> pl.DataFrame:
    return frame.with_columns(arrival_date=pl.lit(day.isoformat()))


@given(data=st.data())
def test_period_invariance_inside_a_rule_period_of_the_us_pack(
    pack: screening.RulePack, data: st.DataObject
) -> None:
    first, second = data.draw(same_period_dates(rule_boundaries(pack)), label="dates")
    # U.S. dollars only: exchange rates change every day, rules do not.
    frame = data.draw(manifests(dates=[first], currencies=["USD"], max_packages=8), label="manifest")
    assert_same_outputs(decisions(screen(_on(frame, second), pack)), decisions(screen(frame, pack)))


@given(small=de_minimis_packs(), data=st.data())
def test_period_invariance_inside_a_rule_period_of_small_packs(
    pack: screening.RulePack, small: DeMinimisPack, data: st.DataObject
) -> None:
    drawn = overlay(small, pack)
    boundaries = sorted({*rule_boundaries(drawn), *small.boundaries()})
    first, second = data.draw(same_period_dates(boundaries), label="dates")
    frame = data.draw(manifests(dates=[first], currencies=["USD"], max_packages=6), label="manifest")
    assert_same_outputs(decisions(screen(_on(frame, second), drawn)), decisions(screen(frame, drawn)))


@given(
    small=de_minimis_packs(),
    data=st.data(),
)
def test_small_pack_decisions_follow_the_reference_oracle(
    pack: screening.RulePack, small: DeMinimisPack, data: st.DataObject
) -> None:
    """Eligibility is exactly: not suspended for origin and mode that day, and the day's total within the
    threshold in force; a package takes its most severe line (README, 'How it decides').

    The oracle totals each person's day itself, from the declared values and who the generator says each
    line's consignee is (not from the engine's totals), on days drawn around the drawn pack's boundaries."""
    drawn = overlay(small, pack)
    # Days the pack covers (earlier ones are rejected `date-outside-pack`, which other tests check).
    near = [
        day
        for b in small.boundaries()
        for day in (b - dt.timedelta(days=1), b, b + dt.timedelta(days=1))
        if day >= small.covers_from
    ]
    anywhere = st.dates(max(dt.date(2024, 12, 1), small.covers_from), dt.date(2027, 1, 31))
    days = data.draw(
        st.lists(
            st.one_of(st.sampled_from(near), st.sampled_from(near), anywhere),
            min_size=1,
            max_size=3,
            unique=True,
        ),
        label="days",
    )
    # The suspended origins (and one other): lines meet a suspension's first and last days, not only its middle.
    origins = tuple(sorted({*(s.origins[0] for s in small.suspensions), "GB"}))
    labelled = data.draw(
        labelled_manifests(dates=days, currencies=["USD"], origins=origins, max_consignees=2),
        label="manifest",
    )
    rows = [
        {
            "package_id": row["package_id"],
            "line_no": int(row["line_no"]),
            "day": dt.date.fromisoformat(row["arrival_date"].strip()),
            "origin": row["country_of_origin"].strip().upper(),
            "mode": row["mode"].strip().lower(),
            "value": Decimal(row["declared_value"].strip()),
            "consignee": label.consignee,
        }
        for row, label in zip(labelled.frame.to_dicts(), labelled.labels, strict=True)
    ]
    totals: dict[tuple[str | None, dt.date], Decimal] = {}
    for row in rows:
        key = (row["consignee"], row["day"])
        totals[key] = totals.get(key, Decimal(0)) + row["value"]
    severity = ["dm-suspended-origin", "dm-over-threshold", "dm-eligible"]
    expected: dict[str, tuple[int, int, str, str]] = {}
    for row in rows:
        total = totals[(row["consignee"], row["day"])]
        reason, rule = small.expected_reason(row["origin"], row["mode"], row["day"], total)
        candidate = (severity.index(reason), row["line_no"], reason, rule)
        expected[row["package_id"]] = min(expected.get(row["package_id"], candidate), candidate)
    result = screen(labelled.frame, drawn)
    assert result.rejects.height == 0, result.rejects.select("code", "message").rows()
    got = {
        p: (r, i)
        for p, r, i in result.packages.select("package_id", "de_minimis_reason", "de_minimis_rule_id").rows()
    }
    assert got == {p: (reason, rule) for p, (_, _, reason, rule) in expected.items()}


# --- Determinism ---------------------------------------------------------------------------------------------


@given(manifest=labelled_manifests(max_broken=2, max_duplicates=1, max_packages=8))
def test_determinism_two_runs_write_byte_identical_outputs(
    pack: screening.RulePack, manifest: LabelledManifest
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for run in ("a", "b"):
            result = screen(manifest.frame, pack)
            result.write(folder / run / "parquet", fmt="parquet")
            result.write(folder / run / "csv", fmt="csv")
        for fmt, names in (
            ("parquet", OUTPUT_FILES),
            ("csv", [n.replace(".parquet", ".csv") for n in OUTPUT_FILES]),
        ):
            for name in names:
                first = (folder / "a" / fmt / name).read_bytes()
                assert first == (folder / "b" / fmt / name).read_bytes(), f"{fmt}/{name} differs between runs"


def test_the_default_arrival_dates_are_the_days_the_pack_s_law_changes(us_pack: screening.RulePack) -> None:
    """The strategies' dates were a hand list that had drifted: 51 of the pack's change days (2025-08-01, CA at
    35 %; 2026-06-08, the Section 232 annexes) and the days before them were never drawn."""
    dates = set(bundled_rule_change_dates())
    for day in rule_boundaries(us_pack):
        assert day in dates
        assert day == us_pack.meta.covers_from or day - dt.timedelta(days=1) in dates
    assert {dt.date(2025, 7, 31), dt.date(2025, 8, 1), dt.date(2026, 6, 7), dt.date(2026, 6, 8)} <= dates
