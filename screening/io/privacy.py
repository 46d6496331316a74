"""Pseudonymise party fields in the outputs with a keyed hash (HMAC-SHA256).

The same key gives the same pseudonym for the same value in every run and on every
machine, so outputs stay joinable; without the key the names cannot be recovered
by hashing guesses. Decisions are made before this step, on the real values.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import polars as pl

from screening.errors import RejectCode
from screening.schema import MANIFEST_COLUMNS

#: Columns that name or locate a person or a shipper.
PARTY_FIELDS = (
    "shipper_name",
    "consignee_id",
    "consignee_name",
    "consignee_address",
    "consignee_postal_code",
    "consignee_key",
)


def pseudonym(value: str, key: bytes) -> str:
    """``p:`` and the first 20 hex digits of HMAC-SHA256(key, value)."""
    return "p:" + hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def _mapping(values: Iterable[str | None], key: bytes) -> dict[str, str]:
    """Pseudonyms of the distinct values (one HMAC per distinct value, not per row)."""
    return {v: pseudonym(v, key) for v in set(values) if v is not None}


def pseudonymise_frame(frame: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Replace every party field of ``frame`` by its pseudonym (nulls stay null)."""
    present = [c for c in PARTY_FIELDS if c in frame.columns]
    return frame.with_columns(
        pl.col(c).replace_strict(_mapping(frame[c].to_list(), key), default=None, return_dtype=pl.String())
        for c in present
    )


def pseudonymise_rejects(rejects: pl.DataFrame, key: bytes) -> pl.DataFrame:
    """Rejects: the offending ``value`` when it is a party field, and the party fields inside ``raw``.

    A malformed record's fields are in no known place (an unquoted comma in a name moves the address into
    the next column), so every field of its ``raw`` and its ``value`` are replaced. ``raw`` is re-encoded
    with every canonical column (absent ones as null).
    """
    if rejects.height == 0:
        return rejects
    fields = [c.name for c in MANIFEST_COLUMNS]
    raw_type = pl.Struct(dict.fromkeys(fields, pl.String()))
    unpacked = rejects.select(pl.col("raw").str.json_decode(raw_type).alias("__raw")).unnest("__raw")
    malformed_rows = rejects["code"] == str(RejectCode.MALFORMED_ROW)
    malformed = pl.lit(malformed_rows)
    shifted = unpacked.filter(malformed_rows)
    every_field = {c: _mapping(shifted[c].to_list(), key) for c in fields}
    hidden = pseudonymise_frame(unpacked, key).with_columns(
        pl.when(malformed)
        .then(unpacked[c].replace_strict(every_field[c], default=None, return_dtype=pl.String()))
        .otherwise(pl.col(c))
        .alias(c)
        for c in fields
    )
    party_value = (pl.col("field").is_in(PARTY_FIELDS) | malformed) & pl.col("value").is_not_null()
    values = _mapping(rejects.filter(party_value)["value"].to_list(), key)
    # A malformed record's package id and line number come from shifted fields too.
    keys = {
        c: _mapping(rejects.filter(malformed_rows)[c].cast(pl.String()).to_list(), key)
        for c in ("package_id", "line_no")
        if c in rejects.columns
    }
    return rejects.with_columns(
        *[
            pl.when(malformed)
            .then(pl.col(c).cast(pl.String()).replace_strict(keys[c], default=None, return_dtype=pl.String()))
            .otherwise(pl.col(c))
            .cast(rejects.schema[c])
            .alias(c)
            for c in keys
            if rejects.schema[c] == pl.String()
        ],
        pl.when(party_value)
        .then(pl.col("value").replace_strict(values, default=None, return_dtype=pl.String()))
        .otherwise(pl.col("value"))
        .alias("value"),
        hidden.select(pl.struct(fields).struct.json_encode()).to_series().alias("raw"),
    )
