"""Incremental screening (``Screener``) against whole-day screening (DESIGN §4).

- After the last batch, the carried consignee-day totals equal the whole-day totals.
- A package's incremental decision equals the whole-day decision over the prefix of arrivals
  that ends with that package.
"""

from __future__ import annotations

import itertools

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

import screening
from screening.testing import LabelledManifest, labelled_manifests

#: Package columns that the de minimis decision and duty determine.
DECISION = ["package_id", "value_usd", "de_minimis_reason", "de_minimis_eligible", "entry_type", "duty_usd"]


def packages_in_arrival_order(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows with each package's lines together, packages in order of their first line."""
    return (
        frame.with_row_index("__i")
        .with_columns(pl.col("__i").min().over("package_id").alias("__first"))
        .sort("__first", "__i")
        .drop("__i", "__first")
    )


def package_boundaries(frame: pl.DataFrame) -> list[int]:
    """Row positions where a new package starts (cuts there keep every package whole)."""
    starts = frame.select(
        (pl.col("package_id").ne_missing(pl.col("package_id").shift(1))).arg_true()
    ).to_series()
    return [int(i) for i in starts.to_list() if i > 0]


def cut(frame: pl.DataFrame, positions: list[int]) -> list[pl.DataFrame]:
    edges = [0, *sorted(set(positions)), frame.height]
    return [frame.slice(a, b - a) for a, b in itertools.pairwise(edges) if b > a]


def screen_incrementally(pack: screening.RulePack, parts: list[pl.DataFrame]) -> screening.Screener:
    screener = screening.Screener(pack)
    for part in parts:
        screener.screen(part)
    return screener


@given(manifest=labelled_manifests(max_broken=2, max_duplicates=1), data=st.data())
def test_final_state_totals_equal_whole_day_totals(
    pack: screening.RulePack, manifest: LabelledManifest, data: st.DataObject
) -> None:
    """Whatever the batch cuts, the value, gift value and line totals carried at the end are the whole
    day's; the package counts are too when no package is split across batches."""
    frame = packages_in_arrival_order(manifest.frame)
    split_anywhere = data.draw(st.booleans(), label="split packages")
    candidates = list(range(1, frame.height)) if split_anywhere else package_boundaries(frame)
    positions = data.draw(st.lists(st.sampled_from(candidates), max_size=4) if candidates else st.just([]))
    screener = screen_incrementally(pack, cut(frame, positions))
    whole = screening.screen(frame, rules=pack)
    expected = (
        whole.lines.group_by("consignee_key", "arrival_date")
        .agg(
            (pl.col("value_usd").sum() * 100).cast(pl.Int64()).alias("consignee_day_value_cents"),
            pl.len().cast(pl.Int64()).alias("consignee_day_lines"),
            pl.col("package_id").n_unique().cast(pl.Int64()).alias("consignee_day_packages"),
        )
        .sort("consignee_key", "arrival_date")
    )
    carried = screener.totals().sort("consignee_key", "arrival_date")
    columns = ["consignee_key", "arrival_date", "consignee_day_value_cents", "consignee_day_lines"]
    if not split_anywhere:
        columns.append("consignee_day_packages")
    assert carried.select(columns).equals(expected.select(columns))
    assert screener.state.rows_seen == frame.height


@given(
    manifest=labelled_manifests(max_packages=6, max_consignees=2, max_broken=1, max_duplicates=1),
    data=st.data(),
)
def test_incremental_decision_equals_whole_day_decision_over_the_prefix(
    pack: screening.RulePack, manifest: LabelledManifest, data: st.DataObject
) -> None:
    """Every package: decision, duty, risk flags (but the shipper split's) and its lines' consignee-day totals as a
    whole-day run over the
    rows up to its last line would give them. Package ids may run against the order of arrival (packages are
    judged in arrival order, not in id order)."""
    frame = packages_in_arrival_order(manifest.frame)
    if data.draw(st.booleans(), label="ids against arrival order"):
        ids = frame["package_id"].unique(maintain_order=True).to_list()
        frame = frame.with_columns(
            pl.col("package_id").replace({old: f"Z{len(ids) - i:05d}" for i, old in enumerate(ids)})
        )
    boundaries = package_boundaries(frame)
    positions = data.draw(st.lists(st.sampled_from(boundaries), max_size=3) if boundaries else st.just([]))
    screener = screening.Screener(pack)
    results = [screener.screen(part) for part in cut(frame, positions)]
    incremental = pl.concat([r.packages for r in results])
    incremental_lines = pl.concat([r.lines for r in results])
    day_totals = ["line_no", "consignee_day_value_usd", "consignee_day_packages", "de_minimis_reason"]
    for package in incremental["package_id"].to_list():
        last_row = int(frame.select((pl.col("package_id") == package).arg_true().max()).item())
        prefix = screening.screen(frame.head(last_row + 1), rules=pack)
        # Risk flags too, but for the shipper split, whose totals count the current batch only (README).
        flags = pl.col("risk_flags").list.set_difference(["structuring-shipper-split"]).list.sort()
        got = incremental.filter(pl.col("package_id") == package).select(*DECISION, flags)
        want = prefix.packages.filter(pl.col("package_id") == package).select(*DECISION, flags)
        assert got.equals(want), f"incremental {got.to_dicts()} vs prefix {want.to_dicts()}"
        got_lines = incremental_lines.filter(pl.col("package_id") == package).select(day_totals)
        want_lines = prefix.lines.filter(pl.col("package_id") == package).select(day_totals)
        assert got_lines.equals(want_lines), (
            f"{package}: {got_lines.to_dicts()} vs prefix {want_lines.to_dicts()}"
        )
