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
    Column("line_no", pl.Int64(), False, "line within the package", 1),
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
    Column("declared_value", pl.Decimal(24, 6), True, "fair retail value in currency"),
    Column("currency", pl.String(), True, "ISO 4217"),
    Column("gross_weight_kg", pl.Float64(), False, "gross weight in kilograms"),
    Column(
        "metal_content_share", pl.Float64(), False, "share of value that is steel/aluminum/copper (0 to 1)"
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
    "consignee_day_packages",
    "consignee_day_lines",
    "de_minimis_eligible",
    "de_minimis_reason",
    "de_minimis_rule_id",
    "tariff_line",
    "duty_status",
    "duty_usd",
)

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
    "duty_status",
    "duty_usd",
    "fees_usd",
    "total_due_usd",
)
