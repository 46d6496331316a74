"""Route: each flagged package to its highest-priority queue, ranked within port and day under capacity,
plus the random compliance sample (stratified by mode and origin, by a stable hash).

Dispositions: ``inspect`` (targeted, within the queue's capacity for the port and day), ``sample``
(picked by the random compliance sample and not inspected as targeted), ``deferred`` (flagged
beyond capacity: kept in the queue, never dropped), ``release`` (neither).
"""

from __future__ import annotations

from typing import cast

import polars as pl

from screening.exprs.stable_hash import fnv1a64, mixed64
from screening.rulepack.risk_tables import PPM, ResolvedRisk
from screening.schema import PACKAGE_KEY, QUEUE_SCHEMA
from screening.seed import seed_text

QUEUE_GROUP = ("queue", "port_of_entry", "arrival_date")
#: A package's row number in the frame being routed.
_ROW = "__row"
_QUEUE_LOAD = {
    "queue": pl.String(),
    "port_of_entry": pl.String(),
    "arrival_date": pl.Date(),
    "queue_seen": pl.Int64(),
}


def assign_queues(
    packages: pl.DataFrame, risk: ResolvedRisk, queue_load: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``__row, queue, queue_rank, capacity, targeted`` for every flagged package (``__row``: its row in ``packages``).

    ``packages`` has ``package_id, arrival_date, port_of_entry, risk_score, risk_flags``. Within a
    queue, port and day: highest score first, then the seeded tie-break (:func:`tie_break`), then package
    id. ``queue_load`` (incremental mode) counts the packages earlier batches put in each queue, port and
    day: these packages rank after them.
    """
    queued = chosen_queues(packages.select("package_id", *_QUEUE_INPUTS), risk)
    queued = queued.with_columns(tie_break(queued["package_id"], risk))
    return rank_in_queues(queued, risk, [TIE_BREAK, "package_id"], queue_load).drop(TIE_BREAK, "package_id")


#: The column of a queued package's seeded tie-break (:func:`tie_break`).
TIE_BREAK = "__tie_break"


def tie_break(package_ids: pl.Series, risk: ResolvedRisk) -> pl.Series:
    """The order of packages of equal score within a queue, port and day: FNV-1a-64 of
    ``seed:queue:package_id`` (the sample's seed, another draw than the sample's), mixed by
    :func:`mixed64`. Package ids do not steer it: a shipper who picks ids that sort last is not thereby
    deferred past the capacity."""
    return mixed64(fnv1a64(package_ids, prefix=f"{seed_text(risk.seed)}:queue:")).alias(TIE_BREAK)


#: What choosing a package's queue and ranking it read, besides its identity.
_QUEUE_INPUTS = ("arrival_date", "port_of_entry", "risk_score", "risk_flags")


def chosen_queues(packages: pl.DataFrame, risk: ResolvedRisk) -> pl.DataFrame:
    """The flagged packages of ``packages`` that a route sends to a queue: ``__row`` (the package's row),
    ``queue`` (the route of highest priority among its flags, then the first queue by name), and
    ``packages``' columns but ``risk_flags``."""
    # Only the columns routing reads go through the explode, sorts and joins (wide rows cost more to
    # gather than to sort), linked back to ``packages`` by row number.
    flagged = packages.with_row_index(_ROW).filter(pl.col("risk_flags").list.len() > 0)
    chosen = (
        flagged.select(_ROW, pl.col("risk_flags").alias("rule_id"))
        .explode("rule_id")
        .join(risk.routes, on="rule_id", how="inner")
        .sort(_ROW, "priority", "queue")
        .unique(_ROW, keep="first", maintain_order=True)
        .select(_ROW, "queue")
    )
    return flagged.drop("risk_flags").join(chosen, on=_ROW, how="inner", maintain_order="left")


def rank_in_queues(
    queued: pl.DataFrame, risk: ResolvedRisk, ties: list[str], queue_load: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Each of ``queued`` (:func:`chosen_queues`) by its identifying columns (those but queue, port, day and
    score), with ``queue, queue_rank, capacity, targeted``: within a queue, port and day, highest score
    first, then ascending ``ties`` (together unique per package); ``queue_load`` as in :func:`assign_queues`."""
    defaults = risk.capacities.filter(pl.col("port_of_entry").is_null()).select(
        "queue", pl.col("capacity").alias("__default_capacity")
    )
    by_port = risk.capacities.filter(pl.col("port_of_entry").is_not_null())
    ranked = (
        queued.sort(
            [*_sort_codes(queued, ["queue", "port_of_entry"]), "arrival_date", "risk_score", *ties],
            descending=[False, False, False, True, *[False] * len(ties)],
        )
        .with_columns((pl.int_range(pl.len()).over(QUEUE_GROUP) + 1).cast(pl.Int64()).alias("queue_rank"))
        .join(
            queue_load if queue_load is not None else pl.DataFrame(schema=_QUEUE_LOAD),
            on=list(QUEUE_GROUP),
            how="left",
            maintain_order="left",
            nulls_equal=True,
        )
        .with_columns((pl.col("queue_rank") + pl.col("queue_seen").fill_null(0)).alias("queue_rank"))
        .join(defaults, on="queue", how="left", maintain_order="left")
        .join(by_port, on=["queue", "port_of_entry"], how="left", maintain_order="left")
        .with_columns(pl.coalesce("capacity", "__default_capacity").alias("capacity"))
    )
    identity = [c for c in queued.columns if c not in (*QUEUE_GROUP, "risk_score")]
    return ranked.select(
        *identity,
        "queue",
        "queue_rank",
        "capacity",
        # A queue without a limit (capacity null: "unlimited") targets every package routed to it.
        (pl.col("capacity").is_null() | (pl.col("queue_rank") <= pl.col("capacity"))).alias("targeted"),
    )


def random_sample(packages: pl.DataFrame, risk: ResolvedRisk) -> pl.Series:
    """Whether each package is in the random compliance sample (same order as ``packages``).

    The rate is the most specific stratum in force on the arrival date: mode and origin, then
    origin, then mode, then any. A package is chosen when the 64-bit FNV-1a hash of
    ``seed + ':' + package_id`` modulo one million is below the rate in parts per million.
    """
    strata = ["arrival_date", "mode", "origin"]
    keyed = packages.select("package_id", "arrival_date", "mode", pl.col("country_of_origin").alias("origin"))
    # A day has few strata (dates x modes x origins): each one's rate is found once, then looked up.
    rates = _stratum_rates(keyed.select(strata).unique(), risk.sample_rates)
    found = keyed.join(rates, on=strata, how="left", maintain_order="left", nulls_equal=True)
    bucket = (fnv1a64(found["package_id"], prefix=f"{seed_text(risk.seed)}:") % PPM).cast(pl.Int64())
    return found.select(
        (pl.Series(bucket) < pl.col("rate_ppm").fill_null(0)).fill_null(False).alias("random_sample")
    ).to_series()


def _stratum_rates(strata: pl.DataFrame, rates: pl.DataFrame) -> pl.DataFrame:
    """``strata`` (arrival date, mode, origin) with the ``rate_ppm`` of the most specific rate in force."""
    tiers = [("mode", "origin"), ("origin",), ("mode",), ()]
    found = strata.with_columns(pl.lit(None, dtype=pl.Int64()).alias("rate_ppm"))
    for tier in tiers:
        wanted = rates.filter(
            *[pl.col(c) != "*" for c in tier],
            *[pl.col(c) == "*" for c in ("mode", "origin") if c not in tier],
        ).select("arrival_date", *tier, pl.col("rate_ppm").alias("__tier_rate"))
        found = (
            found.join(wanted, on=["arrival_date", *tier], how="left", maintain_order="left")
            .with_columns(pl.coalesce("rate_ppm", "__tier_rate").alias("rate_ppm"))
            .drop("__tier_rate")
        )
    return found


def route_packages(
    packages: pl.DataFrame, risk: ResolvedRisk, queue_load: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``packages`` with ``queue``, ``queue_rank``, ``disposition`` and ``random_sample``."""
    assigned = assign_queues(packages, risk, queue_load)
    # Looked up by row number alone, then set beside the packages (no wide rows through the join).
    rows = pl.select(pl.int_range(packages.height, dtype=pl.get_index_type()).alias(_ROW))
    queued = rows.join(assigned, on=_ROW, how="left", maintain_order="left").drop(_ROW)
    return with_dispositions(with_random_sample(packages, risk), queued)


def with_random_sample(packages: pl.DataFrame, risk: ResolvedRisk) -> pl.DataFrame:
    """``packages`` with ``random_sample`` (each package's own draw: see :func:`random_sample`)."""
    return packages.with_columns(random_sample(packages, risk))


def with_dispositions(sampled: pl.DataFrame, queued: pl.DataFrame) -> pl.DataFrame:
    """Packages with ``random_sample`` and, beside them, ``queued``: each one's ``queue, queue_rank,
    capacity, targeted`` (null where not queued); with the ``disposition`` they give."""
    routed = sampled.hstack(queued)
    disposition = (
        pl.when(pl.col("targeted").fill_null(False))
        .then(pl.lit("inspect"))
        .when(pl.col("random_sample"))
        .then(pl.lit("sample"))
        .when(pl.col("queue").is_not_null())
        .then(pl.lit("deferred"))
        .otherwise(pl.lit("release"))
    )
    return routed.with_columns(disposition.alias("disposition")).drop("targeted")


def queued_for_routing(sampled: pl.DataFrame, risk: ResolvedRisk) -> pl.DataFrame:
    """What routing a day in parts keeps of each package of a part that goes to a queue: its key (unique
    across the day, in package id order), queue, port, day, score and tie-break (:func:`queues_by_key`)."""
    queued = chosen_queues(sampled.select(PACKAGE_KEY, "package_id", *_QUEUE_INPUTS), risk)
    return queued.select(
        PACKAGE_KEY,
        "queue",
        "port_of_entry",
        "arrival_date",
        "risk_score",
        tie_break(queued["package_id"], risk),
    )


def queues_by_key(queued: pl.DataFrame, risk: ResolvedRisk) -> pl.DataFrame:
    """``PACKAGE_KEY, queue, queue_rank, capacity, targeted`` of every queued package of a day (``queued``:
    :func:`queued_for_routing` of all its parts), in key order. The package key orders as the package id:
    the same ranks as :func:`assign_queues` over the whole day."""
    ranked = rank_in_queues(queued, risk, [TIE_BREAK, PACKAGE_KEY]).drop(TIE_BREAK)
    return ranked.sort(PACKAGE_KEY).with_columns(pl.col(PACKAGE_KEY).set_sorted())


def queued_by_key(packages: pl.DataFrame, by_key: pl.DataFrame) -> pl.DataFrame:
    """``queue, queue_rank, capacity, targeted`` of each of ``packages`` from :func:`queues_by_key` (null
    where not queued), for :func:`with_dispositions`."""
    keys = packages.get_column(PACKAGE_KEY)
    if keys.is_empty():
        return by_key.clear().drop(PACKAGE_KEY)
    # Only the rows of ``by_key`` within ``packages``' keys go into the join (``by_key`` is in key order):
    # a part's lookup does not hash the queued packages of the whole day.
    sorted_keys = by_key.get_column(PACKAGE_KEY)
    first = sorted_keys.search_sorted(cast(int, keys.min()), side="left")
    last = sorted_keys.search_sorted(cast(int, keys.max()), side="right")
    return (
        packages.select(PACKAGE_KEY)
        .join(by_key.slice(first, last - first), on=PACKAGE_KEY, how="left", maintain_order="left")
        .drop(PACKAGE_KEY)
    )


def queue_rows(routed: pl.DataFrame) -> pl.DataFrame:
    """The routed packages that went to a queue, with the columns of the ``queues`` output, in no set order."""
    return routed.select(list(QUEUE_SCHEMA)).filter(pl.col("queue").is_not_null())


def queue_table(routed: pl.DataFrame) -> pl.DataFrame:
    """The ``queues`` output: routed packages by queue, port and day, in rank order."""
    queued = queue_rows(routed)
    return queued.sort(
        [*_sort_codes(queued, ["queue", "port_of_entry"]), "arrival_date", "queue_rank"], nulls_last=True
    )


def _sort_codes(frame: pl.DataFrame, columns: list[str]) -> list[pl.Expr]:
    """Integer sort keys that order as the text columns do (null stays null): sorting on a few codes
    is much cheaper than on strings."""
    return [
        pl.col(c).cast(pl.Enum(frame[c].unique().drop_nulls().sort())).to_physical().alias(f"__{c}_code")
        for c in columns
    ]
