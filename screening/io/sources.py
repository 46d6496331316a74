"""Readers: files (Parquet, CSV, Arrow IPC, NDJSON; globs, folders) and in-memory Arrow/polars data.

Every source becomes a lazy frame with ``source`` (its label) and ``row`` (the
1-based data row in that source; a CSV header is not counted) ahead of its own
columns, after the column mapping is applied.
"""

from __future__ import annotations

import glob
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa

from screening.errors import InputSchemaError
from screening.io.mapping import ColumnMapping
from screening.schema import MANIFEST, REQUIRED_COLUMNS, ROW_COL, SOURCE_COL

SUFFIXES = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".arrow": "ipc",
    ".ipc": "ipc",
    ".feather": "ipc",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}


@dataclass(frozen=True)
class Source:
    """One input: its label, the file path (None in memory), and its lazy frame."""

    label: str
    path: Path | None
    frame: pl.LazyFrame


def expand_paths(specs: Sequence[str | Path]) -> list[Path]:
    """Files named by paths, globs and folders (a folder contributes its manifest files, sorted)."""
    files: list[Path] = []
    for spec in specs:
        text = str(spec)
        if any(ch in text for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            if not matches:
                raise InputSchemaError(text, "no file matches this pattern")
            files += [m for m in matches if m.is_file()]
        elif Path(text).is_dir():
            found = sorted(p for p in Path(text).iterdir() if p.suffix.lower() in SUFFIXES and p.is_file())
            if not found:
                raise InputSchemaError(
                    text, "folder holds no manifest files (.parquet, .csv, .arrow, .ndjson)"
                )
            files += found
        elif Path(text).is_file():
            files.append(Path(text))
        else:
            raise InputSchemaError(text, "file not found")
    return files


def scan_file(path: Path) -> pl.LazyFrame:
    """A lazy scan of one file, chosen by suffix; CSV columns are read as text (validation types them)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputSchemaError(
            str(path), f"unknown file type {path.suffix!r}; use {', '.join(sorted(SUFFIXES))}"
        )
    try:
        if kind == "parquet":
            return pl.scan_parquet(path)
        if kind == "ipc":
            return pl.scan_ipc(path)
        if kind == "ndjson":
            return pl.scan_ndjson(path, infer_schema_length=None)
        return pl.scan_csv(
            path,
            separator="\t" if kind == "tsv" else ",",
            infer_schema=False,
            encoding="utf8-lossy",
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputSchemaError(str(path), f"cannot be read: {exc}") from exc


def from_memory(obj: Any) -> pl.LazyFrame:
    """A lazy frame from a polars frame, a pyarrow Table/RecordBatch/RecordBatchReader or an Arrow stream."""
    if isinstance(obj, pl.LazyFrame):
        return obj
    if isinstance(obj, pl.DataFrame):
        return obj.lazy()
    if isinstance(obj, pa.RecordBatchReader):
        return pl.from_arrow(obj.read_all()).lazy()  # type: ignore[union-attr]
    if isinstance(obj, pa.Table | pa.RecordBatch):
        return pl.from_arrow(obj).lazy()  # type: ignore[union-attr]
    if hasattr(obj, "__arrow_c_stream__"):
        return pl.from_arrow(pa.RecordBatchReader.from_stream(obj).read_all()).lazy()  # type: ignore[union-attr]
    raise TypeError(f"cannot read {type(obj).__name__}: pass paths, Arrow or polars data")


def with_lineage(frame: pl.LazyFrame, label: str) -> pl.LazyFrame:
    """Prefix ``source`` and ``row`` (1-based) to a frame."""
    return frame.with_row_index(ROW_COL, offset=1).select(
        pl.lit(label).alias(SOURCE_COL), pl.col(ROW_COL).cast(pl.Int64()), pl.all().exclude(ROW_COL)
    )


def open_sources(specs: Iterable[Any], mapping: ColumnMapping | None = None) -> list[Source]:
    """Every input as a :class:`Source`, mapped to canonical names and checked for required columns.

    Raises:
        InputSchemaError: a path does not exist, a file cannot be read, or it lacks required columns.
    """
    mapping = mapping or ColumnMapping()
    sources: list[Source] = []
    memory_index = 0
    for spec in specs:
        if isinstance(spec, str | Path):
            for path in expand_paths([spec]):
                frame = mapping.apply(scan_file(path), label=str(path))
                sources.append(Source(str(path), path, with_lineage(frame, str(path))))
        else:
            label = f"<memory:{memory_index}>"
            memory_index += 1
            frame = mapping.apply(from_memory(spec), label=label)
            sources.append(Source(label, None, with_lineage(frame, label)))
    if not sources:
        raise InputSchemaError("<none>", "no input given")
    for source in sources:
        require_columns(source)
    return sources


def require_columns(source: Source) -> None:
    """Raise :class:`InputSchemaError` naming the file and its missing required columns."""
    try:
        names = set(source.frame.collect_schema().names())
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputSchemaError(source.label, f"cannot be read: {_first_line(exc)}") from exc
    repeated = sorted({m.group(1) for n in names if (m := _DUPLICATED.match(n))})
    if repeated:
        raise InputSchemaError(
            source.label, f"repeated column headers {repeated}: each column must appear once"
        )
    check_types(source)
    missing = tuple(c for c in REQUIRED_COLUMNS if c not in names)
    if missing:
        present = sorted(names - {SOURCE_COL, ROW_COL})
        hint = f"; it has {present[:12]}" if present else "; it has no columns"
        raise InputSchemaError(
            source.label,
            f"not a manifest: missing required columns {list(missing)}{hint}. "
            "Map your headers with --mapping (see README, 'Column mapping').",
            missing=missing,
        )


_DUPLICATED = re.compile(r"^(.*)_duplicated_\d+$")
_NUMERIC_TARGETS = ("quantity", "declared_value", "gross_weight_kg", "metal_content_share", "line_no")


def check_types(source: Source) -> None:
    """Raise :class:`InputSchemaError` naming a canonical column whose input type cannot hold its values."""
    schema = source.frame.collect_schema()
    for name, dtype in schema.items():
        if name not in MANIFEST or dtype == pl.String():
            continue
        nested = isinstance(dtype, pl.List | pl.Array | pl.Struct) or dtype in (pl.Binary(), pl.Object())
        target = MANIFEST[name].dtype
        wrong = (
            nested
            or (name in _NUMERIC_TARGETS and not dtype.is_numeric())
            or (target == pl.Boolean() and not (dtype == pl.Boolean() or dtype.is_integer()))
            or (target == pl.Date() and not (dtype.is_temporal() or dtype.is_numeric()))
        )
        if wrong:
            raise InputSchemaError(
                source.label, f"column {name!r} has type {dtype}; expected text or {target}", missing=()
            )


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
