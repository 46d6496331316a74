"""The canonical manifest schema and the output schemas.

The manifest has one row per line item (DESIGN §3.1). Users' own headers are
mapped onto these names with a mapping file; columns not named here pass
through untouched into the ``lines`` output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

#: Money in outputs: exact decimal dollars with cents.
MONEY: Final = pl.Decimal(18, 2)
#: Rates in outputs and packs: exact decimal fractions (0.165 = 16.5 %).
RATE: Final = pl.Decimal(18, 8)
#: A declared value (and a part's value) as read: 12 decimals, the digits past them cut (a value in another
#: currency is converted from these, :func:`screening.exprs.money.converted_cents`); 18 integer digits, though a
#: value over 10^12 is refused.
VALUE: Final = pl.Decimal(30, 12)
#: Exchange rates (U.S. dollars per unit): a table whose every rate has at most 10 decimals (the bundled ECB
#: cross rates) is held with 10; any other with 18 (:func:`screening.rulepack.tables.read_fx_table`).
FX_RATE: Final = pl.Decimal(24, 10)
FX_RATE_LONG: Final = pl.Decimal(32, 18)
#: Rates are below this many dollars per unit (the pack refuses others): the conversion of a value up to
#: 10^12 is then exact within polars' 38 digits.
FX_RATE_BOUND: Final = 10_000


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical manifest column."""

    name: str
    dtype: pl.DataType
    required: bool
    doc: str
    default: object = None


MANIFEST_COLUMNS: Final[tuple[Column, ...]] = (
    Column("package_id", pl.String(), True, "house bill / tracking number of the package"),
    # No default: a line without a number is numbered after its package's numbered lines, in input order
    # (screening.stages.normalise.number_lines): the first line of a package without numbers is line 1.
    Column("line_no", pl.Int64(), False, "line within the package (numbered in input order when absent)"),
    Column("arrival_date", pl.Date(), True, "date of arrival in the importing country (ISO)"),
    Column("mode", pl.String(), True, "express, postal or cargo"),
    Column("carrier", pl.String(), False, "carrier or filer code"),
    Column("port_of_entry", pl.String(), False, "4-digit CBP port code"),
    Column("shipper_name", pl.String(), True, "the party causing the shipment"),
    Column("shipper_country", pl.String(), False, "ISO 3166-1 alpha-2"),
    Column("consignee_id", pl.String(), False, "stable identifier of the person, when known"),
    Column("consignee_name", pl.String(), True, "the person claiming the goods"),
    Column("consignee_address", pl.String(), False, "street address"),
    Column("consignee_postal_code", pl.String(), False, "postal code (5-digit ZIP is used)"),
    Column("country_of_origin", pl.String(), True, "ISO 3166-1 alpha-2"),
    Column("country_of_export", pl.String(), False, "ISO 3166-1 alpha-2"),
    Column("hts_code", pl.String(), True, "6 to 10 digits, dots allowed"),
    Column("description", pl.String(), True, "goods description"),
    Column("quantity", pl.Float64(), False, "units in the tariff line's unit of quantity (specific duties)"),
    Column("declared_value", VALUE, True, "fair retail value in currency"),
    Column("currency", pl.String(), True, "ISO 4217"),
    Column("gross_weight_kg", pl.Float64(), False, "gross weight in kilograms"),
    Column(
        "metal_content_share", pl.Float64(), False, "share of value that is steel/aluminum/copper (0 to 1)"
    ),
    Column(
        "part_values",
        pl.String(),
        False,
        "values (in currency, of the whole line) and counts of the parts a rate is charged on: 'case=12.50; "
        "battery=0.40; jewel=17' (jewel: of one article, charged quantity times; other counts: the line's)",
    ),
    Column("usmca_claim", pl.Boolean(), False, "USMCA preference claimed", False),
    Column("gift", pl.Boolean(), False, "bona fide gift", False),
)

MANIFEST: Final[dict[str, Column]] = {c.name: c for c in MANIFEST_COLUMNS}
REQUIRED_COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in MANIFEST_COLUMNS if c.required)
MODES: Final[tuple[str, ...]] = ("express", "postal", "cargo")

#: Lineage columns added to every input row: the source label and its 1-based data row.
SOURCE_COL: Final = "source"
ROW_COL: Final = "row"
#: Internal column of a CSV source: null for a record read as a row, else why it cannot be one.
MALFORMED_COL: Final = "__malformed_row"
#: An input's own (passthrough) columns carry this prefix from validation to the ``lines`` output, so that a
#: name the engine uses for a working column (``entry_type``, ``duty_cents``, ...) cannot meet it on the way.
#: Input names may not start with ``__``: no input column can take one of these names.
PASSTHROUGH_PREFIX: Final = "__pass_"


def passthrough_columns(schema: pl.Schema) -> list[str]:
    """Input columns that are neither canonical nor lineage: they pass through untouched."""
    return [c for c in schema.names() if c not in MANIFEST and c not in (SOURCE_COL, ROW_COL, MALFORMED_COL)]


#: Internal integer package key of the decided lines: lines are in (package_id, line_no) order and this
#: numbers their packages 0, 1, 2, ... in that order, so grouping, joining or sorting on it is the same as on
#: ``package_id``, without hashing or comparing strings.
PACKAGE_KEY: Final = "__pkg"

#: Columns of the ``rejects`` output, in order.
REJECT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "source": pl.String(),
    "row": pl.Int64(),
    "package_id": pl.String(),
    "line_no": pl.String(),
    "field": pl.String(),
    "code": pl.String(),
    "message": pl.String(),
    "value": pl.String(),
    "raw": pl.String(),
}

#: Columns of the ``components`` output, in order.
COMPONENT_SCHEMA: Final[dict[str, pl.DataType]] = {
    "package_id": pl.String(),
    "line_no": pl.Int64(),
    "component": pl.String(),
    "measure_id": pl.String(),
    "heading": pl.String(),
    "base_usd": MONEY,
    "rate": RATE,
    "amount_usd": MONEY,
    "citation": pl.String(),
    "confidence": pl.String(),
    "assumption": pl.String(),
}

#: The ``lines`` output: the canonical columns, then these derived ones, then passthrough.
LINE_DERIVED_COLUMNS: Final[tuple[str, ...]] = (
    "source",
    "row",
    "hts_digits",
    "value_usd",
    "fx_usd_per_unit",
    "fx_rate_date",
    "consignee_key",
    "consignee_day_value_usd",
    "consignee_day_gift_value_usd",
    "consignee_day_packages",
    "consignee_day_lines",
    "de_minimis_eligible",
    "de_minimis_reason",
    "de_minimis_rule_id",
    "tariff_line",
    "duty_status",
    "duty_usd",
    "risk_flags",
)

#: A ``package_id`` (or ``port_of_entry``) that is one of these (any case, trimmed) is an export's word for none, not an id: such
#: rows are ``missing-field`` (``NA`` and ``NaN`` merged strangers' parcels into one package). Not
#: :data:`~screening.exprs.parties.MISSING_ID_TOKENS`, which hold short words a tracking number can be (``N``).
NO_PACKAGE_ID: Final = ("nan", "na", "n/a", "#n/a", "<na>", "none", "null", "nil", "\\n")
#: Codes whose leading zeros an integer drops (ZIP 02134 stored as 2134, port 0101 as 101), with the width they
#: are padded back to; a larger number is left as it is (a six-digit foreign postal code).
ZERO_PADDED: Final[dict[str, int]] = {"consignee_postal_code": 5, "port_of_entry": 4}

#: Columns of the ``packages`` output, in order.
PACKAGE_COLUMNS: Final[tuple[str, ...]] = (
    "package_id",
    "consignee_key",
    "arrival_date",
    "mode",
    "port_of_entry",
    "country_of_origin",
    "lines",
    "value_usd",
    "consignee_day_value_usd",
    "de_minimis_eligible",
    "de_minimis_reason",
    "de_minimis_rule_id",
    "entry_type",
    "entry_rule_id",
    "duty_status",
    "duty_usd",
    "fees_usd",
    "total_due_usd",
    "risk_score",
    "risk_flags",
    "queue",
    "queue_rank",
    "disposition",
    "random_sample",
)

#: Columns of the ``flags`` output: one row per package and risk rule that fired (its contribution).
FLAG_SCHEMA: Final[dict[str, pl.DataType]] = {
    "package_id": pl.String(),
    "rule_id": pl.String(),
    "severity": pl.String(),
    "weight": pl.Int64(),
    "queue": pl.String(),
    "line_nos": pl.List(pl.Int64()),
    "detail": pl.String(),
}

#: Columns of the ``queues`` output: per queue, port and day, the routed packages in rank order.
QUEUE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "queue": pl.String(),
    "port_of_entry": pl.String(),
    "arrival_date": pl.Date(),
    "queue_rank": pl.Int64(),
    "package_id": pl.String(),
    "risk_score": pl.Int64(),
    "risk_flags": pl.List(pl.String()),
    "disposition": pl.String(),
    "capacity": pl.Int64(),
}

#: The ``queues`` output's row order.
QUEUE_ORDER: Final = ("queue", "port_of_entry", "arrival_date", "queue_rank")


@dataclass(frozen=True, slots=True)
class RiskColumn:
    """A column that risk-rule conditions may name (the whitelist of DESIGN §5)."""

    name: str
    dtype: pl.DataType
    doc: str


#: Every column a risk condition may use, line grain (one row per valid line). Money as float dollars
#: here: conditions compare, they never compute amounts owed.
RISK_COLUMNS: Final[tuple[RiskColumn, ...]] = (
    RiskColumn("package_id", pl.String(), "house bill / tracking number"),
    RiskColumn("line_no", pl.Int64(), "line within the package"),
    RiskColumn("arrival_date", pl.Date(), "arrival date"),
    RiskColumn("mode", pl.String(), "express, postal or cargo"),
    RiskColumn("carrier", pl.String(), "carrier or filer code"),
    RiskColumn("port_of_entry", pl.String(), "4-digit port code"),
    RiskColumn("shipper_name", pl.String(), "shipper as declared"),
    RiskColumn("shipper_country", pl.String(), "shipper's ISO country"),
    RiskColumn("consignee_name", pl.String(), "consignee as declared"),
    RiskColumn("consignee_postal_code", pl.String(), "consignee postal code"),
    RiskColumn("country_of_origin", pl.String(), "ISO country of origin"),
    RiskColumn("country_of_export", pl.String(), "ISO country of export (null when not given)"),
    RiskColumn("hts_code", pl.String(), "HTS digits without dots"),
    RiskColumn("hts_chapter", pl.String(), "first 2 HTS digits"),
    RiskColumn("hts_heading", pl.String(), "first 4 HTS digits"),
    RiskColumn("hts_subheading", pl.String(), "first 6 HTS digits"),
    RiskColumn("description", pl.String(), "goods description as declared"),
    RiskColumn("description_norm", pl.String(), "description lower-cased, punctuation to blanks"),
    RiskColumn("description_length", pl.Int64(), "characters of description_norm"),
    RiskColumn("description_family", pl.String(), "first keyword family the description matches"),
    RiskColumn("hts_description_mismatch", pl.Boolean(), "description family's chapters exclude the HTS"),
    RiskColumn("shipper_name_norm", pl.String(), "shipper name lower-cased, punctuation to blanks"),
    RiskColumn(
        "shipper_legal_form",
        pl.Boolean(),
        "the shipper's name ends (or begins) with a legal form of the pack's legal_suffixes (LTD, GmbH, LLC, ...)",
    ),
    RiskColumn("consignee_name_norm", pl.String(), "consignee name lower-cased, punctuation to blanks"),
    RiskColumn("quantity", pl.Float64(), "units"),
    RiskColumn("gross_weight_kg", pl.Float64(), "gross weight of the line"),
    RiskColumn("usmca_claim", pl.Boolean(), "USMCA claimed"),
    RiskColumn("gift", pl.Boolean(), "declared a gift"),
    RiskColumn("value_usd", pl.Float64(), "line value in USD"),
    RiskColumn(
        "value_per_kg_usd",
        pl.Float64(),
        "line value per kg, to 12 significant digits (null without a weight)",
    ),
    RiskColumn("chapter_min_usd_per_kg", pl.Float64(), "pack's plausible minimum value per kg"),
    RiskColumn("package_value_usd", pl.Float64(), "package value in USD"),
    RiskColumn("package_lines", pl.Int64(), "lines in the package"),
    RiskColumn("consignee_day_value_usd", pl.Float64(), "consignee-day value in USD"),
    RiskColumn("consignee_day_packages", pl.Int64(), "consignee-day packages"),
    RiskColumn("consignee_day_lines", pl.Int64(), "consignee-day lines"),
    RiskColumn("shipper_consignee_day_packages", pl.Int64(), "packages from this shipper to this consignee"),
    RiskColumn("shipper_consignee_day_value_usd", pl.Float64(), "their value in USD"),
    RiskColumn("consignee_prior_days", pl.Int64(), "earlier days with packages (history input)"),
    RiskColumn("consignee_prior_packages", pl.Int64(), "earlier packages (history input)"),
    RiskColumn("consignee_prior_value_usd", pl.Float64(), "value of earlier packages (history input)"),
    RiskColumn("threshold_usd", pl.Float64(), "de minimis threshold in force (null: none)"),
    RiskColumn("de_minimis_in_force", pl.Boolean(), "threshold in force, origin and mode not suspended"),
    RiskColumn("de_minimis_eligible", pl.Boolean(), "package decision"),
    RiskColumn("de_minimis_reason", pl.String(), "package reason code"),
    RiskColumn("duty_status", pl.String(), "line duty status"),
    RiskColumn("hts_in_force", pl.Boolean(), "the HTS code has a tariff line in force on the date"),
    RiskColumn("tariff_covers_date", pl.Boolean(), "the pack's tariff table covers the date"),
    RiskColumn(
        "denied_party_match",
        pl.Boolean(),
        "the shipper or consignee the line names matches the screening list",
    ),
    RiskColumn(
        "denied_party_score", pl.Float64(), "best match score of the line's shipper or consignee (0 to 1)"
    ),
)
#: Postal regime methods whose duty replaces every other duty of a line (ad valorem, or an amount per item).
FLAT_POSTAL_METHODS: Final = ("flat-ad-valorem", "origin-rate")
RISK_COLUMN_TYPES: Final[dict[str, pl.DataType]] = {c.name: c.dtype for c in RISK_COLUMNS}
