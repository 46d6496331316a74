"""Packages: one row per package, with its decision, entry type, duty, fees and total due."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from screening.errors import DutyStatus, EntryType
from screening.exprs.labels import label_at
from screening.schema import PACKAGE_KEY
from screening.stages.enrich import USMCA_CLAIMED
from screening.stages.entry_limits import (
    ASSUMED_ENTRY_NOTE,
    ELIGIBILITY_OPEN,
    ENTRY_COLUMNS,
    ENTRY_OPEN,
    ENTRY_UNCONFIRMED,
    MAIL_STANDING,
    POSTAL_BARRED_NOTE,
)

#: Worst first: the package's duty status is the first of these found on its lines.
DUTY_STATUS_ORDER = (
    DutyStatus.NO_TARIFF_LINE,
    DutyStatus.NOT_COMPUTABLE,
    DutyStatus.NEEDS_PART_VALUES,
    DutyStatus.NEEDS_QUANTITY,
    DutyStatus.NEEDS_LONGER_HTS,
    DutyStatus.PACK_INCOMPLETE,
    DutyStatus.ASSESSED,
    DutyStatus.CHARGED_PER_ITEM,
    DutyStatus.EXEMPT,
)
#: A line charged per postal item ranks as assessed: the package's duty is its own component's.
_RANKS_AS = {DutyStatus.CHARGED_PER_ITEM: DutyStatus.ASSESSED}
_STATUS_RANK = {str(s): DUTY_STATUS_ORDER.index(_RANKS_AS.get(s, s)) for s in DUTY_STATUS_ORDER}
_STATUS_LABELS = [str(s) for s in DUTY_STATUS_ORDER]

#: Package attributes are those of its lowest-numbered line.
FROM_FIRST_LINE = (
    "consignee_key",
    "arrival_date",
    "mode",
    "port_of_entry",
    "country_of_origin",
    "consignee_day_value_cents",
    "de_minimis_eligible",
    "de_minimis_reason",
    "de_minimis_rule_id",
    "entry_type",
    "entry_rule_id",
    ASSUMED_ENTRY_NOTE,
    MAIL_STANDING,
    POSTAL_BARRED_NOTE,
    ELIGIBILITY_OPEN,
)


def package_rows(lines: pl.LazyFrame, package_duties: pl.LazyFrame) -> pl.LazyFrame:
    """Roll lines up to packages: value, duty (null if any line's duty is unknown), worst duty status.

    A line ``charged-per-item`` has no duty of its own and does not make the package's unknown; it ranks as
    ``assessed`` (the package's duty is its postal components').

    ``lines`` must be sorted by package and line number, with :data:`~screening.schema.PACKAGE_KEY`:
    package attributes are its first line's.

    ``package_duties`` are duty components charged per package (the postal duty on the item); they add to
    the lines' duty, and an unknown one makes the package's duty unknown.
    """
    rank = pl.col("duty_status").replace_strict(_STATUS_RANK, return_dtype=pl.Int64())
    extra = package_duties.group_by(PACKAGE_KEY).agg(
        pl.col("amount_cents").sum().alias("package_duty_cents"),
        pl.col("amount_cents").is_null().any().alias("package_duty_unknown"),
    )
    in_order = lines.with_columns(pl.col(PACKAGE_KEY).set_sorted())
    rolled = in_order.group_by(PACKAGE_KEY, maintain_order=True).agg(
        pl.col("package_id").first(),
        *[pl.col(c).first() for c in FROM_FIRST_LINE],
        pl.len().cast(pl.Int64()).alias("lines"),
        pl.col("value_usd_cents").sum().alias("value_cents"),
        rank.min().alias("duty_status"),  # the worst status's rank; labelled below
        # A line whose code leaves open whether the item may use the postal method: so are its fees.
        pl.col("postal_open").any().alias("postal_open"),
        # A USMCA claim on CA/MX goods (a fee may say the pack does not settle it on such goods).
        pl.col(USMCA_CLAIMED).any().alias("usmca_claimed"),
        # A line charged per postal item has no duty of its own: the package's component holds it.
        pl.when(
            (
                pl.col("duty_cents").is_null() & (pl.col("duty_status") != str(DutyStatus.CHARGED_PER_ITEM))
            ).any()
        )
        .then(None)
        .otherwise(pl.col("duty_cents").sum())
        .alias("duty_cents"),
    )
    return (
        rolled.join(extra, on=PACKAGE_KEY, how="left")
        .with_columns(
            label_at(pl.col("duty_status"), _STATUS_LABELS).alias("duty_status"),
            pl.when(pl.col("package_duty_unknown").fill_null(False))
            .then(None)
            .otherwise(pl.col("duty_cents") + pl.col("package_duty_cents").fill_null(0))
            .alias("duty_cents"),
        )
        .drop("package_duty_cents", "package_duty_unknown")
    )


def settle_fees(
    packages: pl.LazyFrame,
    fees: pl.LazyFrame,
    schedule: pl.DataFrame,
    unconfirmed_fees: Sequence[str] = (),
    claim_noted_fees: Sequence[str] = (),
    unsure_fees: Sequence[str] = (),
) -> pl.LazyFrame:
    """``fees_cents``, ``fee_status`` and ``total_due_cents`` (null when duty or fees are unknown).

    ``fee_status``: ``none-due`` (de minimis), ``assessed``, ``assessed-unconfirmed`` (amounts charged, at
    least one by a fee rule the pack marks unconfirmed or in conflict, ids in ``unconfirmed_fees``: such as
    a fiscal year's amounts carried forward until its notice is read; or, on a package with a USMCA claim, by
    a fee whose ``usmca_claim_note`` says what the pack does not settle on such goods, ids in
    ``claim_noted_fees``; or a fee that may not be owed, ids in ``unsure_fees``, without an amount and left out of
    the fees: the harbor maintenance fee on cargo), ``fees-unknown`` (a fee in force has
    no amount: fees are owed, which and how much is not known; or a line's code leaves open whether the
    item may use the postal method, ``postal_open``, on which its fees depend; or its entry type depends on a
    Chapter 99 duty left open, :data:`~screening.stages.entry_limits.ENTRY_OPEN`; or whether it passes free of duty
    is left open by a short code, :data:`~screening.stages.entry_limits.ELIGIBILITY_OPEN`; an entry type the Chapter 99 limit
    decided under an unconfirmed rule, or formal mail the pack does not settle, ``ENTRY_UNCONFIRMED``, is
    ``assessed-unconfirmed``) or ``no-fee-schedule`` (the pack has no fees
    for the date and mode; ``schedule`` holds the ``arrival_date, mode`` pairs it has fees for).
    """
    unsure = pl.col("measure_id").is_in(list(unsure_fees))
    per_package = fees.group_by(PACKAGE_KEY).agg(
        pl.col("amount_cents").sum().alias("fee_cents"),
        (pl.col("amount_cents").is_null() & ~unsure).any().alias("__fee_unknown"),
        (pl.col("measure_id").is_in(list(unconfirmed_fees)) | unsure).any().alias("__fee_unconfirmed"),
        pl.col("measure_id").is_in(list(claim_noted_fees)).any().alias("__claim_noted"),
    )
    # A fee schedule is per day and mode: the pack may hold next year's mail fee before its express fees.
    keys = pl.struct("arrival_date", "mode")
    has_schedule = keys.is_in(schedule.select(keys).to_series().implode())
    fee_status = (
        pl.when(pl.col("entry_type") == str(EntryType.DE_MINIMIS))
        .then(pl.lit("none-due"))
        .when(~has_schedule)
        .then(pl.lit("no-fee-schedule"))
        .when(
            pl.col("__fee_unknown").fill_null(False)
            | pl.col("postal_open")
            | pl.col(ENTRY_OPEN)
            | pl.col(ELIGIBILITY_OPEN)
        )
        .then(pl.lit("fees-unknown"))
        .when(
            pl.col("__fee_unconfirmed").fill_null(False)
            | (pl.col("usmca_claimed") & pl.col("__claim_noted").fill_null(False))
            | pl.col(ENTRY_UNCONFIRMED)
        )
        .then(pl.lit("assessed-unconfirmed"))
        .otherwise(pl.lit("assessed"))
    )
    return (
        packages.join(per_package, on=PACKAGE_KEY, how="left", maintain_order="left")
        .with_columns(fee_status.alias("fee_status"))
        .with_columns(
            pl.when(pl.col("fee_status").is_in(["no-fee-schedule", "fees-unknown"]))
            .then(None)
            .otherwise(pl.col("fee_cents").fill_null(0))
            .alias("fees_cents")
        )
        .with_columns((pl.col("duty_cents") + pl.col("fees_cents")).alias("total_due_cents"))
        .drop(
            "fee_cents",
            "__fee_unknown",
            "__fee_unconfirmed",
            "__claim_noted",
            MAIL_STANDING,
            ELIGIBILITY_OPEN,
            *ENTRY_COLUMNS.names(),
        )
    )
