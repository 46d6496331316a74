"""Column mapping: carriers' own headers onto the canonical names, from a TOML file.

```toml
[columns]                 # canonical name = the header in your file
package_id = "HAWB"
declared_value = "Value"

[defaults]                # a constant for a canonical column your file lacks
mode = "express"
currency = "USD"
```
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tomllib
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from screening.errors import InputSchemaError, UsageError
from screening.io.headers import other_separator, shown_headers
from screening.rulepack.loader import byte_order_mark_hint
from screening.schema import MALFORMED_COL, MANIFEST, ZERO_PADDED


class ColumnMapping(BaseModel):
    """Renames (canonical → source header) and constant defaults for absent canonical columns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: dict[str, str] = {}
    defaults: dict[str, str | int | float | bool] = {}

    @field_validator("columns", "defaults")
    @classmethod
    def _canonical_keys(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = sorted(set(value) - set(MANIFEST))
        if unknown:
            raise ValueError(f"not canonical column names: {unknown}")
        return value

    @field_validator("defaults", mode="before")
    @classmethod
    def _dates_as_text(cls, value: object) -> object:
        """A TOML date (``arrival_date = 2025-09-15``, unquoted) as its ISO text, as if quoted; a date-time is
        refused (an arrival date is a date: as text, every line would be an ``invalid-date`` reject)."""
        if not isinstance(value, dict):
            return value
        timed = sorted(k for k, v in value.items() if isinstance(v, dt.datetime | dt.time))
        if timed:
            raise ValueError(
                f"{', '.join(timed)}: a date-time or time is not a default; give a date (2025-09-15)"
            )
        return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in value.items()}

    @field_validator("columns")
    @classmethod
    def _one_name_per_header(cls, value: dict[str, str]) -> dict[str, str]:
        shared = sorted({header for header in value.values() if list(value.values()).count(header) > 1})
        if shared:
            names = {header: sorted(c for c, h in value.items() if h == header) for header in shared}
            raise ValueError(f"one header mapped to several canonical names: {names}")
        return value

    @classmethod
    def from_toml(cls, path: str | Path) -> ColumnMapping:
        """Load a mapping file. Raises :class:`UsageError` naming the file when it is invalid."""
        try:
            with Path(path).open("rb") as handle:
                return cls.model_validate(tomllib.load(handle))
        except FileNotFoundError as exc:
            raise UsageError(f"{path}: mapping file not found") from exc
        except tomllib.TOMLDecodeError as exc:
            raise UsageError(
                f"{path}: invalid column mapping: {exc}{byte_order_mark_hint(Path(path))}"
            ) from exc
        except ValidationError as exc:
            raise UsageError(f"{path}: invalid column mapping: {exc}") from exc
        except UnicodeDecodeError as exc:
            raise UsageError(
                f"{path}: invalid column mapping: not UTF-8 text: {exc.reason} at byte {exc.start}"
            ) from exc
        except RecursionError as exc:
            raise UsageError(f"{path}: invalid column mapping: arrays or tables nested too deeply") from exc
        except OSError as exc:
            raise UsageError(f"{path}: mapping file cannot be read: {exc.strerror or exc}") from exc

    def digest(self) -> str:
        """``sha256:`` of the mapping's content (``none`` for a mapping that changes nothing), for summaries:
        the same file under another mapping is another input."""
        if not self.columns and not self.defaults:
            return "none"
        text = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()

    def apply(self, frame: pl.LazyFrame, *, label: str) -> pl.LazyFrame:
        """Rename mapped headers to canonical names and add defaults for columns still absent."""
        if not self.columns and not self.defaults:
            return frame
        try:
            names = frame.collect_schema().names()
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputSchemaError(label, f"cannot be read: {exc}") from exc
        renames = {source: canonical for canonical, source in self.columns.items() if source in names}
        # A mapped header the file lacks (a misspelling, say) would leave its column to the engine's default:
        # refused, unless the file has the canonical column itself or the mapping gives it a default.
        absent = {
            canonical: source
            for canonical, source in self.columns.items()
            if source not in names and canonical not in names and canonical not in self.defaults
        }
        if absent:
            shown = ", ".join(f"{source!r} for {canonical}" for canonical, source in sorted(absent.items()))
            known, from_text = set(self.columns.values()), MALFORMED_COL in names
            # A file of another separator needs saving with commas, not another mapping (the hint says so).
            advice = (
                ""
                if from_text and other_separator(names, known=known)
                else "; fix the mapping, or give the column a value under [defaults] for files without it"
            )
            raise InputSchemaError(
                label,
                f"the mapping names header {shown}, which the file lacks (its headers: "
                f"{shown_headers(names, known=known, from_text=from_text)}){advice}",
                missing=tuple(sorted(absent)),
            )
        clashes = [c for c in renames.values() if c in names and c not in renames]
        if clashes:
            raise InputSchemaError(label, f"mapping targets {clashes} also exist as columns in the file")
        mapped = frame.rename(renames)
        present = set(mapped.collect_schema().names())
        return mapped.with_columns(
            pl.lit(_default_text(name, value)).alias(name)
            for name, value in self.defaults.items()
            if name not in present
        )


def _default_text(name: str, value: str | int | float | bool) -> str:
    """A default as the text a column of it would hold: a boolean in lower case, an integer code with the leading
    zeros an integer drops (port ``101`` is ``0101``, as an integer column's is)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a whole float is read as its integer, as a float column's is (2134.0 is 02134)
    if isinstance(value, int) and name in ZERO_PADDED and 0 <= value < 10 ** ZERO_PADDED[name]:
        return str(value).zfill(ZERO_PADDED[name])
    return str(value)


def column_mapping(mapping: object) -> ColumnMapping | None:
    """The mapping an API call's ``mapping`` gives: a :class:`ColumnMapping` as it is, the TOML file a path names
    read, None as none.

    Raises:
        UsageError: it is none of these (a dict of headers: give ``ColumnMapping(columns=...)``), or the file
            is not a valid mapping (:meth:`ColumnMapping.from_toml`).
    """
    if mapping is None or isinstance(mapping, ColumnMapping):
        return mapping
    if isinstance(mapping, str | os.PathLike) and isinstance(os.fspath(mapping), str):
        return ColumnMapping.from_toml(os.fspath(mapping))
    hint = " (give ColumnMapping(columns={...}))" if isinstance(mapping, dict) else ""
    raise UsageError(
        f"mapping must be a column-mapping TOML file (a path) or a ColumnMapping, not a "
        f"{type(mapping).__name__}{hint}"
    )
