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

from screening.errors import RejectCode, UsageError
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


def key_bytes(key: str | bytes | None) -> bytes | None:
    """A pseudonymisation key as bytes (None: no pseudonymisation); an empty key is a :class:`UsageError`."""
    if key is not None and not isinstance(key, str | bytes):
        raise UsageError(f"the pseudonymisation key must be text or bytes, not {type(key).__name__}")
    as_bytes = key.encode() if isinstance(key, str) else key
    if as_bytes is not None and not as_bytes:
        raise UsageError("the pseudonymisation key is empty")
    return as_bytes


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
    malformed = rejects["code"] == str(RejectCode.MALFORMED_ROW)
    party = pseudonymise_frame(unpacked, key)
    hidden = pl.DataFrame({c: _pseudonyms_where(malformed, unpacked[c], party[c], key) for c in fields})
    party_value = (pl.col("field").is_in(PARTY_FIELDS) | pl.lit(malformed)) & pl.col("value").is_not_null()
    values = _mapping(rejects.filter(party_value)["value"].to_list(), key)
    return rejects.with_columns(
        # A malformed record's package id and line number come from shifted fields too.
        *[_pseudonyms_where(malformed, rejects[c], rejects[c], key) for c in ("package_id", "line_no")],
        pl.when(party_value)
        .then(pl.col("value").replace_strict(values, default=None, return_dtype=pl.String()))
        .otherwise(pl.col("value"))
        .alias("value"),
        hidden.select(pl.struct(fields).struct.json_encode()).to_series().alias("raw"),
    )


def _pseudonyms_where(rows: pl.Series, values: pl.Series, otherwise: pl.Series, key: bytes) -> pl.Series:
    """The pseudonym of each of ``values`` on ``rows``, ``otherwise`` elsewhere (text columns)."""
    pseudonyms = _mapping(values.filter(rows).to_list(), key)
    replaced = values.replace_strict(pseudonyms, default=None, return_dtype=pl.String())
    return pl.select(pl.when(pl.lit(rows)).then(replaced).otherwise(otherwise)).to_series().alias(values.name)
