"""Running totals for incremental screening (DESIGN §4).

Whole-day mode judges every package against the day's final consignee-day totals. Incremental
mode judges each package against everything seen that day up to and including itself: the
totals carried from earlier batches plus the packages of this batch that arrived before it (a
package arrives with its first line). After the last batch the carried totals equal the
whole-day totals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from screening.exprs.stable_hash import fnv1a64
from screening.stages.aggregate import CONSIGNEE_DAY, consignee_day_sums, gift_cents, value_cents
from screening.stages.keyed_rows import KeyedRows
from screening.stages.lookup import attach

#: Which line came first in the batch (row order of the valid lines).
ARRIVAL = "__line"

#: The carried consignee-day totals.
CONSIGNEE_DAY_SCHEMA = pl.Schema(
    {
        "consignee_key": pl.String(),
        "arrival_date": pl.Date(),
        "consignee_day_value_cents": pl.Int64(),
        "consignee_day_gift_cents": pl.Int64(),
        "consignee_day_packages": pl.Int64(),
        "consignee_day_lines": pl.Int64(),
    }
)
#: The stable 64-bit hash (FNV-1a over UTF-8: the same in every run and library version, so a saved state
#: keeps it) of the consignee key that a line seen was totalled under.
CONSIGNEE_HASH = "consignee_hash"
#: Lines already seen, so that a line repeated in a later batch is a ``duplicate-line`` reject; ``counted``:
#: the line was screened (its package counted in the totals), not rejected with its package; ``arrival_date``:
#: its package's day (a package rejected in validation is marked, as line 0, with the latest date of its own rows
#: in the batch where one reads, else the batch's or the state's latest day; null when none is known), for
#: :meth:`RunningState.forget_before`; :data:`CONSIGNEE_HASH`: with ``arrival_date``, the consignee-day its
#: package's part was totalled under (null on a mark), so that a later part of the package totalled under another
#: consignee-day counts among that one's packages too, once.
SEEN_LINES_SCHEMA = pl.Schema(
    {
        "package_id": pl.String(),
        "line_no": pl.Int64(),
        "counted": pl.Boolean(),
        "arrival_date": pl.Date(),
        CONSIGNEE_HASH: pl.UInt64(),
    }
)
#: Beside the lines seen, in memory only: a hash of the package id (a batch finds its packages by it).
PACKAGE_HASH = "__package_hash"
#: Packages ranked so far in each queue, port and day (later batches rank after them).
QUEUE_LOAD_SCHEMA = pl.Schema(
    {
        "queue": pl.String(),
        "port_of_entry": pl.String(),
        "arrival_date": pl.Date(),
        "queue_seen": pl.Int64(),
    }
)
_TOTALS = [c for c in CONSIGNEE_DAY_SCHEMA if c not in CONSIGNEE_DAY]
#: A shipper-consignee-day: the shipper (normalised name and country), the consignee, the day.
SHIPPER_DAY = ("shipper_key", "consignee_key", "arrival_date")


def _summed_by_consignee_day(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.group_by(CONSIGNEE_DAY).agg(pl.col(_TOTALS).sum())


def consignee_day_rows(table: pl.DataFrame | None = None) -> KeyedRows:
    """Carried consignee-day totals (``table``: rows of :data:`CONSIGNEE_DAY_SCHEMA`, none by default),
    held for lookups by key; a consignee-day's totals are the sum of its rows."""
    empty = pl.DataFrame(schema=CONSIGNEE_DAY_SCHEMA)
    return KeyedRows.of(
        empty if table is None else table, CONSIGNEE_DAY, CONSIGNEE_DAY_SCHEMA, _summed_by_consignee_day
    )


@dataclass(frozen=True)
class RunningState:
    """What incremental screening carries from one batch to the next.

    ``consignee_days`` grows with the day and is looked up by key
    (:class:`~screening.stages.keyed_rows.KeyedRows`), so a batch costs what its own keys cost.
    ``seen_lines`` (:func:`seen_line_table`) is only appended to; a batch scans its package hashes for
    its own (:func:`seen_of`), which is cheap.
    """

    consignee_days: KeyedRows
    seen_lines: pl.DataFrame
    queue_load: pl.DataFrame
    rows_seen: int = 0
    batches: int = 0

    @classmethod
    def empty(cls) -> RunningState:
        """The state before the first batch."""
        return cls(
            consignee_days=consignee_day_rows(),
            seen_lines=seen_line_table(pl.DataFrame(schema=SEEN_LINES_SCHEMA)),
            queue_load=pl.DataFrame(schema=QUEUE_LOAD_SCHEMA),
        )

    def latest_day(self) -> dt.date | None:
        """The latest arrival date the state holds totals for (None before the first package)."""
        latest = self.consignee_days.rows.get_column("arrival_date").max()
        return latest if isinstance(latest, dt.date) else None

    def forget_before(self, day: dt.date) -> RunningState:
        """This state without the days before ``day``: their consignee-day totals, queue loads and lines seen
        (a package rejected in validation is marked with its rows' day; a mark without a day, of a batch in which
        no date read, is dropped). A package of such a day screened later is judged without them, and a line of it
        is no longer a copy."""
        kept_days = self.consignee_days.rows.filter(pl.col("arrival_date") >= day)
        return RunningState(
            consignee_days=consignee_day_rows(kept_days),
            seen_lines=self.seen_lines.filter(pl.col("arrival_date") >= day),
            queue_load=self.queue_load.filter(pl.col("arrival_date") >= day),
            rows_seen=self.rows_seen,
            batches=self.batches,
        )


def running_totals(
    lines: pl.LazyFrame, prior: KeyedRows, counted: pl.DataFrame | None = None
) -> pl.LazyFrame:
    """Per consignee-day and package of the batch: the totals up to and including that package.

    ``lines`` has ``__line`` (arrival order), ``consignee_key``, ``arrival_date``, ``package_id``,
    ``value_usd_cents`` and ``gift``; ``prior`` holds the totals of earlier batches
    (:func:`consignee_day_rows`); ``counted`` where earlier batches counted the batch's packages that have lines
    there (:func:`counted_parts`): such a package is not counted again among the packages of a consignee-day it
    was counted in, and is counted once in another one that its lines here are totalled under.
    """
    # A package arrives with its first line, whatever that line's consignee-day: a package whose lines fall on
    # two consignee keys or dates comes, in each, where its first line came.
    arrived = lines.with_columns(pl.col(ARRIVAL).min().over("package_id").alias("__arrival"))
    per_package = (
        arrived.group_by(*CONSIGNEE_DAY, "package_id")
        .agg(
            pl.col("__arrival").first(),
            value_cents().alias("__value"),
            gift_cents().alias("__gift"),
            pl.len().cast(pl.Int64()).alias("__lines"),
        )
        .collect(engine="in-memory")
    )
    new_there = (~counted_there(per_package, counted)).cast(pl.Int64())
    # Each consignee-day's packages side by side in arrival order: a running sum restarts at the first
    # package of each consignee-day (segmented sums, no window groups to build).
    first = pl.struct(*CONSIGNEE_DAY).is_first_distinct()
    cumulative = (
        per_package.with_columns(new_there.alias("__new"))
        .lazy()
        .sort(*CONSIGNEE_DAY, "__arrival")
        .with_columns(
            _running_within(pl.col("__value"), first).alias("__value"),
            _running_within(pl.col("__gift"), first).alias("__gift"),
            _running_within(pl.col("__new"), first).alias("__packages"),
            _running_within(pl.col("__lines"), first).alias("__lines"),
        )
    )
    before = (
        _summed_by_consignee_day(prior.matching(per_package.select(CONSIGNEE_DAY)))
        .lazy()
        .select(*CONSIGNEE_DAY, *[pl.col(c).alias(f"__prior_{c}") for c in _TOTALS])
    )
    joined = cumulative.join(before, on=list(CONSIGNEE_DAY), how="left", maintain_order="left")
    running = {
        "consignee_day_value_cents": "__value",
        "consignee_day_gift_cents": "__gift",
        "consignee_day_packages": "__packages",
        "consignee_day_lines": "__lines",
    }
    return joined.select(
        *CONSIGNEE_DAY,
        "package_id",
        *[(pl.col(f"__prior_{c}").fill_null(0) + pl.col(own)).alias(c) for c, own in running.items()],
    )


def consignee_hashes(keys: pl.Series) -> pl.Series:
    """The :data:`CONSIGNEE_HASH` of each consignee key (null for none)."""
    return fnv1a64(keys).alias(CONSIGNEE_HASH)


def counted_parts(seen: pl.DataFrame) -> pl.DataFrame:
    """Where earlier batches counted the packages of ``seen`` (their lines seen, :func:`seen_of`): each package's
    consignee-days (``package_id``, ``arrival_date``, :data:`CONSIGNEE_HASH`), once each."""
    return (
        seen.filter(pl.col("counted"))
        .select("package_id", "arrival_date", CONSIGNEE_HASH)
        .unique(maintain_order=True)
    )


def counted_there(rows: pl.DataFrame, counted: pl.DataFrame | None) -> pl.Series:
    """For each of ``rows`` (``package_id`` and the :data:`CONSIGNEE_DAY` it is totalled under in this batch):
    whether an earlier batch counted that package under that consignee-day (``counted``: :func:`counted_parts`;
    the keys compared by their :data:`CONSIGNEE_HASH`)."""
    if counted is None or counted.is_empty() or rows.is_empty():
        return pl.repeat(False, rows.height, dtype=pl.Boolean(), eager=True)
    indexed = rows.select("package_id", *CONSIGNEE_DAY).with_row_index("__row")
    # Only the continued packages' keys are hashed (few: those whose lines came in more than one batch).
    continued = indexed.filter(pl.col("package_id").is_in(counted.get_column("package_id").implode()))
    hashed = continued.with_columns(consignee_hashes(continued.get_column("consignee_key")))
    again = hashed.join(counted, on=["package_id", "arrival_date", CONSIGNEE_HASH], how="semi")
    return indexed.get_column("__row").is_in(again.get_column("__row").implode())


def _running_within(value: pl.Expr, starts: pl.Expr) -> pl.Expr:
    """The running sum of ``value`` restarting where ``starts`` is true (rows grouped, in order)."""
    total = value.cum_sum()
    before_group = pl.when(starts).then(total - value).forward_fill()
    return total - before_group


def shipper_running_totals(packages: pl.DataFrame) -> pl.DataFrame:
    """Per package of the batch, its shipper-consignee-day's packages and value (cents) over the batch's
    packages up to and including it (``shipper_consignee_day_packages``, ``shipper_consignee_day_value_cents``).

    ``packages`` has one row per package: the :data:`SHIPPER_DAY` columns, ``__arrival`` (its first line's
    arrival order) and ``__value`` (cents) beside any other columns, which the result keeps.
    """
    first = pl.struct(*SHIPPER_DAY).is_first_distinct()
    return packages.sort(*SHIPPER_DAY, "__arrival", nulls_last=True).with_columns(
        _running_within(pl.repeat(1, pl.len(), dtype=pl.Int64()), first).alias(
            "shipper_consignee_day_packages"
        ),
        _running_within(pl.col("__value"), first).alias("shipper_consignee_day_value_cents"),
    )


def attach_running(lines: pl.LazyFrame, running: pl.LazyFrame) -> pl.LazyFrame:
    """Join each line to the running totals of its package."""
    return attach(lines, running, [*CONSIGNEE_DAY, "package_id"])


def advance_consignee_days(
    prior: KeyedRows, lines: pl.DataFrame, counted: pl.DataFrame | None = None
) -> KeyedRows:
    """The carried totals after a batch whose decided lines are ``lines``: the batch's own totals are
    added as rows of their own (a consignee-day's totals are the sum of its rows). A package that an earlier
    batch counted under a consignee-day (``counted``: :func:`counted_parts`) is not counted there again."""
    batch = lines.group_by(CONSIGNEE_DAY).agg(consignee_day_sums())
    if counted is not None and not counted.is_empty():
        continued = (
            lines.filter(pl.col("package_id").is_in(counted.get_column("package_id").implode()))
            .select(*CONSIGNEE_DAY, "package_id")
            .unique()
        )
        again = continued.filter(counted_there(continued, counted))
        counts = again.group_by(CONSIGNEE_DAY).agg(pl.len().alias("__again"))
        packages = "consignee_day_packages"
        batch = (
            batch.join(counts, on=list(CONSIGNEE_DAY), how="left", nulls_equal=True, maintain_order="left")
            .with_columns((pl.col(packages) - pl.col("__again").fill_null(0)).cast(batch.schema[packages]))
            .drop("__again")
        )
    return prior.plus(batch)


def seen_line_table(lines: pl.DataFrame) -> pl.DataFrame:
    """``lines`` (the columns of :data:`SEEN_LINES_SCHEMA`) as the state holds them: with the hash of each
    package id."""
    typed = lines.select(list(SEEN_LINES_SCHEMA)).cast(SEEN_LINES_SCHEMA)
    return typed.with_columns(pl.col("package_id").hash().alias(PACKAGE_HASH))


def seen_of(seen: pl.DataFrame, lines: pl.DataFrame) -> pl.DataFrame:
    """The lines seen (the columns of :data:`SEEN_LINES_SCHEMA`) of the packages of ``lines``, and perhaps a few
    others (whose package hash is the same): a scan of integers, not of the seen package ids."""
    hashes = lines.get_column("package_id").unique().hash()
    return seen.filter(pl.col(PACKAGE_HASH).is_in(hashes.implode())).select(list(SEEN_LINES_SCHEMA))


def advance_seen_lines(prior: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """Lines seen after a batch whose kept (non-duplicate) lines are ``kept``."""
    return pl.concat([prior, seen_line_table(kept)])


def advance_queue_load(prior: pl.DataFrame, routed: pl.DataFrame) -> pl.DataFrame:
    """Packages ranked per queue, port and day after a batch routed as ``routed``."""
    batch = (
        routed.filter(pl.col("queue").is_not_null())
        .group_by("queue", "port_of_entry", "arrival_date")
        .agg(pl.len().cast(pl.Int64()).alias("queue_seen"))
    )
    both = pl.concat([prior, batch.select(list(QUEUE_LOAD_SCHEMA)).cast(QUEUE_LOAD_SCHEMA)])
    return both.group_by("queue", "port_of_entry", "arrival_date").agg(pl.col("queue_seen").sum())


def state_tables(state: RunningState) -> dict[str, pl.DataFrame]:
    """The state's tables, each in key order (a saved state's bytes depend only on its content)."""
    return {
        "consignee_days": state.consignee_days.table().sort(CONSIGNEE_DAY),
        "seen_lines": state.seen_lines.select(list(SEEN_LINES_SCHEMA)).sort(
            "package_id", "line_no", "counted"
        ),
        "queue_load": state.queue_load.sort("queue", "port_of_entry", "arrival_date", nulls_last=True),
    }
