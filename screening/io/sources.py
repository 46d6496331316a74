"""Readers: files (Parquet, CSV, Arrow IPC, NDJSON; globs, folders) and in-memory Arrow/polars data.

Every source becomes a lazy frame with ``source`` (its label) and ``row`` (the
1-based data row in that source; a CSV header is not counted) ahead of its own
columns, after the column mapping is applied.

A CSV (or TSV) source also has :data:`MALFORMED_COL`: null for a record read as a row, else why the
record cannot be one (more fields than the header). Polars' reader reads the file; only when it fails
does :func:`read_csv_tolerant` read it again, record by record, so that one bad record becomes one reject
instead of failing the file.
"""

from __future__ import annotations

import base64
import codecs
import contextlib
import datetime as dt
import glob
import gzip
import io
import json
import os
import re
import stat
import unicodedata
import zlib
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import polars as pl
import polars.selectors as cs
import pyarrow as pa
import pyarrow.parquet as pq
from polars.io.plugins import register_io_source

from screening.errors import InputSchemaError, UsageError
from screening.io.arrow_types import far_value_columns, importable, temporal_columns, unreadable_columns
from screening.io.digests import FileDigest, refuse_changed, sized_digest
from screening.io.extra_columns import ExtraColumnTypes
from screening.io.headers import other_separator, shown_headers
from screening.io.mapping import ColumnMapping
from screening.path_names import non_utf8_name
from screening.schema import (
    LINE_DERIVED_COLUMNS,
    MALFORMED_COL,
    MANIFEST,
    REQUIRED_COLUMNS,
    ROW_COL,
    SOURCE_COL,
)

if TYPE_CHECKING:
    from polars._typing import PolarsDataType

#: Names of the engine's own working columns start with this; an input column may not.
RESERVED_PREFIX: Final = "__"

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
    """One input: its label, the file path (None in memory), and its lazy frame; a file's digest and size
    (``read``), taken before its rows were read, for the summary (:func:`refuse_changed_files` checks that the
    rows screened were those bytes)."""

    label: str
    path: Path | None
    frame: pl.LazyFrame
    read: FileDigest | None = None


def expand_paths(specs: Sequence[str | Path]) -> list[Path]:
    """Files named by paths, globs and folders (a folder contributes its manifest files, sorted); a file
    reached twice (named again, or by its folder and by name) is read once, where first reached."""
    return _first_reached(_named_files(specs), set())


def _first_reached(files: Sequence[Path], seen: set[Path]) -> list[Path]:
    """``files`` but those already in ``seen`` (resolved paths; each one kept is added to it)."""
    once: list[Path] = []
    for path in files:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            once.append(path)
    return once


def _folder_files(folder: Path) -> list[Path]:
    """The manifest files of a folder (by suffix), sorted by name; hidden files (``.name``: the ``._name.csv``
    resource forks macOS copies leave, editors' swap files) are left out, as a glob's ``*`` leaves them, and so
    are subfolders. Every other entry of a manifest suffix is kept, a link whose target is gone or a named pipe
    too: :func:`_named_files` refuses it, naming it, where leaving it out would lose its rows unsaid.

    Raises:
        InputSchemaError: the folder cannot be listed or searched, or holds no manifest files.
    """
    try:
        entries = list(folder.iterdir())
    except OSError as exc:
        raise InputSchemaError(str(folder), f"folder cannot be read: {_os_reason(exc)}") from exc
    named = [p for p in entries if p.suffix.lower() in SUFFIXES and not p.name.startswith(".")]
    try:
        found = sorted(p for p in named if not p.is_dir())
    except OSError as exc:  # listed but not searchable (``chmod 744``): its entries cannot be looked up
        raise InputSchemaError(
            str(folder), f"folder cannot be read: {_os_reason(exc)} (its entries cannot be looked up)"
        ) from exc
    if not found:
        raise InputSchemaError(str(folder), f"folder holds no manifest files ({', '.join(sorted(SUFFIXES))})")
    return found


def _named_files(specs: Sequence[str | Path]) -> list[Path]:
    """The files named by ``specs``: a path that exists is read as written (a file named ``hour[09].parquet``
    is that file), one that does not is expanded as a glob pattern when it holds ``*``, ``?`` or ``[``.

    Raises:
        InputSchemaError: a spec names nothing, a file's name is not UTF-8 (the readers take text paths), or a
            file named, matched or in a folder is no regular file (:func:`_refuse_irregular`).
    """
    files: list[Path] = []
    for spec in specs:
        text = str(spec)
        if Path(text).is_dir():
            files += _folder_files(Path(text))
        elif os.path.lexists(text):  # a file, or a link whose target is gone (refused below, naming it)
            files.append(Path(text))
        elif any(ch in text for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
            if not matches:
                raise InputSchemaError(text, "no file matches this pattern")
            # A matched folder is read as a named one is (hourly folders under ``incoming/2025-06-10*``).
            for match in matches:
                files += _folder_files(match) if match.is_dir() else [match]
        else:
            raise InputSchemaError(text, "file not found")
    for path in files:
        if (shown := non_utf8_name(path)) is not None:
            raise InputSchemaError(shown, "the file name is not UTF-8 text: rename the file")
        _refuse_irregular(path)
    return files


_FILE_KINDS: Final = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _refuse_irregular(path: Path) -> None:
    """Raise :class:`InputSchemaError` naming ``path`` unless it is a regular file (or a link to one): a link
    whose target is gone, a link loop, or a named pipe, device or socket (``/dev/stdin``). A run reads each
    file more than once (its digest, its columns, its rows, its digest again), which a pipe cannot give.
    """
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if isinstance(exc, FileNotFoundError) and path.is_symlink():
            reason = f"a symbolic link to {os.readlink(path)}, which does not exist"
        else:
            reason = _os_reason(exc)
        raise InputSchemaError(str(path), f"cannot be read: {reason}") from exc
    if not stat.S_ISREG(mode):
        kind = next((name for test, name in _FILE_KINDS if test(mode)), "no file")
        raise InputSchemaError(
            str(path),
            f"not a regular file ({kind}): a run reads each input more than once (its digest, its columns, its "
            "rows), so save the data to a file and name that",
        )


def _os_reason(exc: OSError) -> str:
    """Why the system refused, in its words (``Permission denied``)."""
    return exc.strerror or type(exc).__name__


def scan_file(path: Path, mapping: ColumnMapping | None = None) -> pl.LazyFrame:
    """A lazy scan of one file, chosen by suffix; CSV columns are read as text (validation types them), as are
    NDJSON columns that become canonical ones (under ``mapping``) where a record holds an object or array
    (:func:`_scan_ndjson`)."""
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise InputSchemaError(
            str(path), f"unknown file type {path.suffix!r}; use {', '.join(sorted(SUFFIXES))}"
        )
    try:
        if kind in ("parquet", "ipc"):
            days = _date_columns(_refuse_unreadable_types(path, kind))
        if kind == "parquet":
            return _as_dates(pl.scan_parquet(path, glob=False), days)
        if kind == "ipc":
            return _as_dates(_scan_ipc(path), days)
        if kind == "ndjson":
            return _scan_ndjson(path, {*MANIFEST, *(mapping.columns.values() if mapping is not None else ())})
        return scan_csv(path, "\t" if kind == "tsv" else ",")
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputSchemaError(str(path), f"cannot be read: {_first_line(exc)}") from exc


_UTF8_BOM = b"\xef\xbb\xbf"


def _scan_ndjson(path: Path, canonical: Collection[str]) -> pl.LazyFrame:
    """An NDJSON file, scanned lazily; one that starts with a UTF-8 byte-order mark (which polars' reader
    refuses) is read into memory without it; one without a record is an empty manifest.

    A column of ``canonical`` (the headers that become canonical columns) that polars types as an object or
    array, because a record holds one where a number or text belongs (``"quantity": {"value": 2}``), is read
    as text: each record's value as its JSON text, as polars reads a column of numbers and text. The validator
    then rejects the records whose value is no number (or date, or code), not the whole file.
    """
    with path.open("rb") as handle:
        head = handle.read(1 << 16)
    if len(head) < 1 << 16 and not head.removeprefix(_UTF8_BOM).strip():
        # No record at all (a quiet hour's file): no rows, as a header-only CSV has none.
        return pl.LazyFrame(schema=dict.fromkeys(REQUIRED_COLUMNS, pl.String()))

    def scan(texts: Sequence[str] = ()) -> pl.LazyFrame:
        overrides = dict.fromkeys(texts, pl.String())
        if head.startswith(_UTF8_BOM):
            data = io.BytesIO(path.read_bytes()[len(_UTF8_BOM) :])
            return pl.scan_ndjson(data, infer_schema_length=None, schema_overrides=overrides)
        # The name escaped: polars takes it for a glob pattern (``hour[09].ndjson`` would read ``hour9.ndjson``).
        return pl.scan_ndjson(glob.escape(str(path)), infer_schema_length=None, schema_overrides=overrides)

    frame = scan()
    try:
        schema = frame.collect_schema()  # polars keeps it: the later reads of the frame do not infer it again
    except (pl.exceptions.PolarsError, OSError):
        return frame  # refused where the schema is read, naming the record (:func:`ndjson_fault`)
    nested = [name for name, dtype in schema.items() if name in canonical and _nested(dtype)]
    return scan(nested) if nested else frame


def _nested(dtype: PolarsDataType) -> bool:
    return isinstance(dtype, pl.List | pl.Array | pl.Struct)


def ndjson_fault(path: Path) -> str | None:
    """Where an NDJSON file that polars cannot read goes wrong, by record number (blank lines not counted, as in
    ``rejects.row``) and line: its first record that is not a JSON object, or that holds a value of a kind polars
    cannot put in one column with the values of that key before it (an object after numbers, an array after an
    object, 1 after true; text after anything, or anything after text, makes a text column). Read only once the
    file has failed, to name the record; None when no record is at fault.

    Raises:
        InputSchemaError: the file is compressed, and its compressed data are cut short.
    """
    record = 0
    #: Per key, the kind of column its values so far make, and the record that made it so.
    columns: dict[str, tuple[str, int]] = {}
    for number, text in enumerate(_ndjson_lines(path), start=1):
        if not text.strip():
            continue
        record += 1
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as exc:
            return (
                f"record {record:,} (line {number:,}) is not valid JSON: {exc.msg} at character {exc.colno}"
            )
        except RecursionError:
            return (
                f"record {record:,} (line {number:,}) is not valid JSON: arrays or objects nested too deeply"
            )
        if not isinstance(parsed, dict):
            return f"record {record:,} (line {number:,}) is a JSON {type(parsed).__name__}, not an object"
        for key, value in parsed.items():
            kind = _json_kind(value)
            if kind is None:
                continue
            column, since = columns.setdefault(key, (kind, record))
            if column in (kind, "text"):
                continue
            if kind == "text":
                columns[key] = (kind, record)
                continue
            return (
                f"record {record:,} (line {number:,}): {key!r} holds {kind} where record {since:,} holds {column}; "
                f"give every record's {key!r} values of one kind (or text)"
            )
    return None


def _json_kind(value: object) -> str | None:
    """What a parsed JSON value is, in words (None for null)."""
    if value is None:
        return None
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "text"
    return "true/false" if isinstance(value, bool) else "a number"


def _ndjson_lines(path: Path) -> Iterator[str]:
    """The lines of an NDJSON file as text (bytes that are not UTF-8 as U+FFFD), decompressed as polars'
    reader decompresses it (:func:`decompressed`)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if compression(head) is None:
        with path.open("r", encoding="utf-8-sig", errors="replace") as handle:
            yield from handle
        return
    text = decompressed(path.read_bytes(), str(path)).decode("utf-8-sig", errors="replace")
    yield from io.StringIO(text, newline=None)


def _date_columns(schema: pa.Schema | None) -> list[str]:
    """The names of the date columns of a file's Arrow ``schema`` (none when it is None)."""
    if schema is None:
        return []
    return [
        field.name for field in schema if pa.types.is_date32(field.type) or pa.types.is_date64(field.type)
    ]


def _as_dates(frame: pl.LazyFrame, names: Sequence[str]) -> pl.LazyFrame:
    """``frame`` with its columns among ``names`` (a file's dates, as pyarrow reads it) that polars reads as
    timestamps as dates: an Arrow ``date64`` (days counted in milliseconds; a Parquet file keeps it as a date,
    and the Arrow type in its metadata, which polars follows) is a date, as in-memory Arrow data has it
    (:func:`~screening.io.arrow_types.importable`)."""
    if not names:
        return frame
    schema = frame.collect_schema()
    stamped = [name for name in names if isinstance(schema.get(name), pl.Datetime)]
    return frame.with_columns(pl.col(name).dt.date() for name in stamped) if stamped else frame


def _refuse_unreadable_types(path: Path, kind: str) -> pa.Schema | None:
    """Raise :class:`InputSchemaError` if the Parquet or Arrow IPC file has columns polars cannot read
    (:func:`~screening.io.arrow_types.unreadable_columns`), or a date or timestamp outside years 1 to 9999
    (polars would panic on them); return the file's Arrow schema. An IPC stream is read through pyarrow and
    converted instead (a record batch holding such a date is refused as it is read): None, as for a file
    pyarrow cannot read (polars' reader then names what is wrong)."""
    try:
        if kind == "parquet":
            schema = pq.read_schema(path)
        elif is_ipc_stream(path):
            return None
        else:
            with pa.ipc.open_file(path) as reader:
                schema = reader.schema
    except (pa.ArrowException, OSError):
        return None  # polars' own reader names what is wrong with the file
    refuse_repeated_names(schema.names, str(path))
    stored = _stored_arrow_schema(path) if kind == "parquet" else None
    unreadable = (stored is not None and unreadable_columns(stored)) or unreadable_columns(schema)
    if unreadable:
        raise InputSchemaError(str(path), "; ".join(unreadable))
    dated = temporal_columns(schema)
    if not dated:
        return schema
    # Polars panics on a date or timestamp beyond its years; read those columns alone here to find one.
    try:
        if kind == "parquet":
            dated = _unproven_in_range(pq.ParquetFile(path).metadata, dated)
            if not dated:
                return schema
            values = pq.read_table(path, columns=dated)
        else:
            wanted = pa.ipc.IpcReadOptions(included_fields=[schema.get_field_index(n) for n in dated])
            with pa.memory_map(str(path)) as mapped, pa.ipc.open_file(mapped, options=wanted) as reader:
                values = reader.read_all()
    except (pa.ArrowException, OSError):
        return None  # polars' own reader names what is wrong with the file
    far = far_value_columns(values)
    if far:
        raise InputSchemaError(str(path), "; ".join(far))
    return schema


def _stored_arrow_schema(path: Path) -> pa.Schema | None:
    """The Arrow schema a Parquet file written by Arrow keeps in its metadata (``ARROW:schema``), which polars
    reads the file by: pyarrow reads the file without some of it (a dictionary of timestamps as timestamps in
    UTC); None where there is none (or it cannot be read)."""
    try:
        stored = (pq.read_metadata(path).metadata or {}).get(b"ARROW:schema")
        return None if stored is None else pa.ipc.read_schema(pa.py_buffer(base64.b64decode(stored)))
    except (pa.ArrowException, OSError, ValueError):
        return None


def _unproven_in_range(metadata: pq.FileMetaData, names: Sequence[str]) -> list[str]:
    """The columns among ``names`` whose Parquet statistics do not show every value in years 1 to 9999:
    a minimum and a maximum in each row group that Python reads as a date or datetime (which it cannot
    beyond those years). The others must be read to tell."""
    unproven = []
    for name in names:
        found = [i for i in range(metadata.num_columns) if metadata.schema.column(i).path == name]
        if len(found) != 1:
            unproven.append(name)
            continue
        for group in range(metadata.num_row_groups):
            stats = metadata.row_group(group).column(found[0]).statistics
            try:
                proven = stats is not None and stats.has_min_max and isinstance(stats.min, dt.date)
                proven = proven and isinstance(stats.max, dt.date)
            except (OverflowError, ValueError):
                proven = False
            if not proven:
                unproven.append(name)
                break
    return unproven


#: The first bytes of an Arrow IPC *file*; the IPC *stream* format (what a Flight stream or
#: ``RecordBatchStreamWriter`` saves) has no such magic and no footer.
_IPC_FILE_MAGIC = b"ARROW1"


def _scan_ipc(path: Path) -> pl.LazyFrame:
    """An Arrow IPC file or stream, scanned lazily (a stream record batch by record batch, each time the
    frame is collected: it has no footer to find its rows by)."""
    with path.open("rb") as handle:
        magic = handle.read(len(_IPC_FILE_MAGIC))
    if magic == _IPC_FILE_MAGIC:
        return pl.scan_ipc(path, glob=False)
    schema = schema_frame(path).collect_schema()
    return register_io_source(
        _IpcStreamReader(path), schema=schema, is_pure=True, explain_name="Arrow IPC stream"
    )


class _IoSource:
    """A polars IO source (:func:`polars.io.plugins.register_io_source`) over the frames of
    :meth:`batches`: it hands polars the asked columns, the rows the predicate keeps, at most ``n_rows``."""

    def batches(self, columns: list[str] | None) -> Iterator[pl.DataFrame]:
        """The source's rows in frames, with at least ``columns`` (None: every column)."""
        raise NotImplementedError

    def __call__(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        _batch: int | None,
    ) -> Iterator[pl.DataFrame]:
        if n_rows == 0:
            return
        for batch in self.batches(with_columns):
            frame = batch
            if with_columns is not None:
                # drop, not select: a frame of no columns keeps its height (a row count projects nothing).
                frame = frame.drop([c for c in frame.columns if c not in with_columns])
            if predicate is not None:
                frame = frame.filter(predicate)
            if n_rows is not None:
                frame = frame.head(n_rows)
                n_rows -= frame.height
            yield frame
            if n_rows == 0:
                return


class _IpcStreamReader(_IoSource):
    """The IO source of one Arrow IPC stream: its record batches as they are read, so memory follows a
    batch, not the stream."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def batches(self, columns: list[str] | None) -> Iterator[pl.DataFrame]:
        """The stream's record batches as frames, every column; a damaged or cut stream raises polars'
        ``ComputeError`` (worded by the caller as damaged data, without quoting the file)."""
        del columns  # a stream's record batches hold every column
        try:
            with pa.ipc.open_stream(self.path) as reader:
                read = 0
                for batch in reader:
                    table = pa.Table.from_batches([batch], schema=reader.schema)
                    _refuse_far_values(table, self.path, read)
                    read += table.num_rows
                    yield _arrow_frame(table, str(self.path))
        except (pa.ArrowException, OSError) as exc:
            raise pl.exceptions.ComputeError(f"{self.path}: damaged Arrow IPC stream") from exc


def _refuse_far_values(table: pa.Table, path: Path, rows_before: int) -> None:
    """Raise :class:`InputSchemaError` if a record batch of the IPC stream at ``path`` (after ``rows_before``
    rows) holds a date or timestamp outside years 1 to 9999: converted to text, its column would change
    type in the middle of the stream."""
    far = far_value_columns(table.select(temporal_columns(table.schema)), first_row=rows_before + 1)
    if far:
        raise InputSchemaError(str(path), "; ".join(far))


def _is_ndjson(path: Path) -> bool:
    return SUFFIXES.get(path.suffix.lower()) == "ndjson"


def is_csv(path: Path) -> bool:
    """Whether ``path`` is read as CSV (or TSV), with :data:`MALFORMED_COL`."""
    return SUFFIXES.get(path.suffix.lower()) in ("csv", "tsv")


#: How pandas names a DataFrame's index in Arrow data (``pa.Table.from_pandas``, ``to_parquet``) where it is not
#: a plain range 0, 1, 2, ... (a filtered or sampled frame's).
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


def _reserved_message(names: Sequence[str]) -> str:
    """Why columns ``names`` (reserved: ``__``-prefixed) are refused; pandas' index columns as what they are."""
    index = sorted(n for n in names if _PANDAS_INDEX.fullmatch(n))
    others = sorted(n for n in names if n not in index)
    reasons = []
    if others:
        reasons.append(
            f"column names starting with {RESERVED_PREFIX!r} are reserved for the engine's own columns: "
            f"rename {others}"
        )
    if index:
        shown = f"column {index[0]!r} is" if len(index) == 1 else f"columns {index} are"
        reasons.append(
            f"{shown} the index of a pandas DataFrame (an index other than 0, 1, 2, ... in order, as after "
            "filtering or sampling rows), not a manifest column: leave it out (df.reset_index(drop=True), or "
            "pa.Table.from_pandas(df, preserve_index=False); df.to_parquet(path, index=False) for a file), or "
            "make it a column of its own (df.reset_index())"
        )
    return "; ".join(reasons)


def is_ipc_stream(path: Path) -> bool:
    """Whether ``path`` is an Arrow IPC *stream* (scanned record batch by record batch by :func:`scan_file`;
    in frames of a set size by :func:`ipc_stream_batches`)."""
    if SUFFIXES.get(path.suffix.lower()) != "ipc":
        return False
    with path.open("rb") as handle:
        return handle.read(len(_IPC_FILE_MAGIC)) != _IPC_FILE_MAGIC


def schema_frame(path: Path, mapping: ColumnMapping | None = None) -> pl.LazyFrame:
    """A frame with the columns of the file at ``path``, for its schema: as :func:`scan_file` (under
    ``mapping``), but an IPC stream's schema is read without its rows.

    Raises:
        InputSchemaError: the file cannot be read (an IPC file that is neither an Arrow file nor a stream).
    """
    if not is_ipc_stream(path):
        return scan_file(path, mapping)
    try:
        with pa.ipc.open_stream(path) as reader:
            schema = reader.schema
    except (pa.ArrowException, OSError) as exc:
        raise InputSchemaError(
            str(path), f"cannot be read: not a valid Arrow IPC file or stream ({_first_line(exc)})"
        ) from exc
    refuse_repeated_names(schema.names, str(path))
    refuse_unconvertible(schema, str(path))
    return _arrow_frame(schema.empty_table(), str(path)).lazy()


def ipc_stream_batches(path: Path, rows: int) -> Iterator[pl.DataFrame]:
    """The rows of an Arrow IPC stream in frames of exactly ``rows`` rows (the last may be shorter), read
    as they come: memory follows one frame, not the stream. A damaged or cut stream raises polars'
    ``ComputeError`` after the frames read before it."""
    pending: list[pl.DataFrame] = []
    held = 0
    for batch in _IpcStreamReader(path).batches(None):
        pending.append(batch)
        held += batch.height
        while held >= rows:
            table = pl.concat(pending)
            yield table.slice(0, rows).rechunk()
            rest = table.slice(rows)
            pending, held = [rest], rest.height
    if held:
        yield pl.concat(pending).rechunk()


def scan_csv(path: Path, separator: str) -> pl.LazyFrame:
    """A lazy read of a CSV file as text, plus :data:`MALFORMED_COL`, that survives malformed records.

    The header is read now (a file without one raises). The data are read when the frame is collected:
    by polars' reader, and only if that fails by :func:`read_csv_tolerant`.
    """
    _refuse_repeated_headers(path, separator)
    names = _polars_csv(path, separator).collect_schema().names()
    reserved = [name for name in names if name.startswith(RESERVED_PREFIX)]
    if reserved:  # before MALFORMED_COL joins them (a header of that name would be taken for it)
        raise InputSchemaError(str(path), _reserved_message(reserved))
    reader = _CsvReader(path, separator, names)
    schema = {**dict.fromkeys(names, pl.String()), MALFORMED_COL: pl.String()}
    return register_io_source(reader, schema=schema, is_pure=True, explain_name="CSV (tolerant)")


def _refuse_repeated_headers(path: Path, separator: str) -> None:
    """Raise :class:`InputSchemaError` if the header row of the CSV file at ``path`` has a header more than once.

    Polars' reader names the second ``ref`` ``ref_duplicated_0``; the header row itself is read here, as a row,
    to tell that from a column of that name. Where polars cannot read the file's first row so (a stray quote
    further on), a ``X_duplicated_N`` beside an ``X`` among the header names is taken for a repeated ``X``.
    """
    try:
        row = (
            pl.scan_csv(
                path,
                separator=separator,
                has_header=False,
                infer_schema=False,
                encoding="utf8-lossy",
                glob=False,
                truncate_ragged_lines=True,  # a longer row further on must not hide the header row
            )
            .head(1)
            .collect()
        )
        headers = ["" if h is None else h for h in row.row(0)] if row.height else []
        repeated = sorted(h for h, times in Counter(headers).items() if times > 1)
    except (pl.exceptions.PolarsError, OSError):
        try:
            headers = _polars_csv(path, separator).collect_schema().names()
        except (pl.exceptions.PolarsError, OSError):
            return  # left to the reader to report
        renamed = (_POLARS_REPEAT.fullmatch(h) for h in headers)
        repeated = sorted({m.group(1) for m in renamed if m is not None and m.group(1) in headers})
    if repeated:
        shown = shown_headers(repeated, among=headers, from_text=True)
        raise InputSchemaError(str(path), f"repeated column headers ({shown}): each column must appear once")


#: How polars' CSV reader names the repeats of a header: ``ref``, ``ref_duplicated_0``, ...
_POLARS_REPEAT = re.compile(r"(.*)_duplicated_\d+", re.DOTALL)


def _polars_csv(path: Path, separator: str) -> pl.LazyFrame:
    return pl.scan_csv(path, separator=separator, infer_schema=False, encoding="utf8-lossy", glob=False)


class _CsvReader(_IoSource):
    """The IO source of one CSV file: polars' reader first, :func:`read_csv_tolerant` where it fails.

    The first read of every column decides which reader the file needs; later reads (a row count, a
    few columns) use the same one, so every read of a file sees the same rows.
    """

    def __init__(self, path: Path, separator: str, names: list[str]) -> None:
        self.path = path
        self.separator = separator
        self.names = names
        #: Whether the file needs the tolerant reader; None until a read of every column decides.
        self.tolerant: bool | None = None
        #: The number of data rows, once a read of every column has counted them.
        self.rows: int | None = None

    def batches(self, columns: list[str] | None) -> Iterator[pl.DataFrame]:
        return self.read(columns)

    def read(self, columns: list[str] | None) -> Iterator[pl.DataFrame]:
        """The file's rows in batches; polars' reader fails before the first batch is handed on."""
        if columns == [] and self.rows is not None:
            return iter([pl.DataFrame(height=self.rows)])
        if self.tolerant:
            return iter([self.read_tolerant()])
        if self.tolerant is False and columns is not None:
            return iter([self.read_narrow(columns)])
        try:
            # A first pass parses every record and keeps only the count: a malformed record fails it
            # before any row is handed on, and memory follows a batch, not the file.
            rows = sum(batch.height for batch in self._polars_batches())
        except pl.exceptions.ComputeError:
            self.tolerant = True
            return iter([self.read_tolerant()])
        self.tolerant = False
        self.rows = rows
        return (batch.with_columns(_WELL_FORMED) for batch in self._polars_batches())

    def _polars_batches(self) -> Iterator[pl.DataFrame]:
        # Batches as polars' reader makes them: polars 2.1 can panic formatting strings of one big
        # collected frame later in the plan ("i < self.len()").
        return _polars_csv(self.path, self.separator).collect_batches()

    def read_narrow(self, columns: list[str]) -> pl.DataFrame:
        """Some columns of a file polars has read whole before (a row count reads none)."""
        wanted = [c for c in columns if c in self.names]
        scan = _polars_csv(self.path, self.separator)
        if wanted:
            frame = scan.select(wanted).collect()
        else:
            frame = pl.DataFrame(height=scan.select(pl.len()).collect().item())
        return frame.with_columns(_WELL_FORMED)

    def read_tolerant(self) -> pl.DataFrame:
        frame = read_csv_tolerant(self.path.read_bytes(), self.names, self.separator, label=str(self.path))
        self.rows = frame.height
        return frame.rechunk()


_WELL_FORMED = pl.lit(None, dtype=pl.String()).alias(MALFORMED_COL)


#: The compressions polars' CSV and NDJSON readers undo, known by their first bytes as polars knows them
#: (polars-io ``utils/compression``): gzip (every member), zlib (its four usual headers) and zstd.
_COMPRESSIONS: Final = (
    ("gzip", (b"\x1f\x8b",)),
    ("zlib", (b"\x78\x01", b"\x78\x5e", b"\x78\x9c", b"\x78\xda")),
    ("zstd", (b"\x28\xb5\x2f\xfd",)),
)


def compression(data: bytes) -> str | None:
    """The compression polars' readers find at the start of ``data`` (``gzip``, ``zlib``, ``zstd``), or None."""
    return next((name for name, magics in _COMPRESSIONS if data.startswith(magics)), None)


def decompressed(data: bytes, label: str) -> bytes:
    """``data`` as polars' CSV and NDJSON readers read them: decompressed where they start as gzip, zlib or
    zstd data do, else as they are.

    Raises:
        InputSchemaError: compressed data that are cut short or damaged (naming ``label``).
    """
    kind = compression(data)
    try:
        if kind == "gzip":
            return gzip.decompress(data)
        if kind == "zlib":
            return zlib.decompress(data)
        if kind == "zstd":
            return bytes(pa.CompressedInputStream(pa.BufferReader(data), "zstd").read())
    except (OSError, EOFError, zlib.error, pa.ArrowException) as exc:
        raise InputSchemaError(
            label,
            f"cannot be read: its {kind}-compressed data are cut short or damaged ({_first_line(exc)}); "
            "decompress it, or copy it again",
        ) from exc
    return data


def read_csv_tolerant(data: bytes, names: Sequence[str], separator: str = ",", *, label: str) -> pl.DataFrame:
    """The data rows of CSV ``data`` as text columns ``names`` plus :data:`MALFORMED_COL`, vectorised.

    Records are read as Python's ``csv`` module reads them: a field that starts with a quote is quoted
    (``""`` inside is one quote; text after the closing quote is kept), a quote anywhere else is a literal
    character, and a line break inside quotes continues the record. As with polars, an empty unquoted
    field is null, missing trailing fields are null and an empty line is a row of nulls. A record with
    more fields than the header keeps its first ``len(names)`` fields and gets a message in
    :data:`MALFORMED_COL`. Bytes that are not UTF-8 become U+FFFD; a line break inside a quoted field
    reads as a line feed. Data compressed with gzip, zlib or zstd are decompressed first, as polars'
    reader does (:func:`decompressed`).

    Records that are plain RFC 4180 with no more fields than the header (almost all, as a rule) are
    handed back to polars' reader; only the others are split here, field by field.

    Raises:
        InputSchemaError: a quoted field is never closed (the rest of the file would be one field), or
            compressed data are cut short.
    """
    data = decompressed(data, label)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    grammar = _CsvGrammar(separator, len(names))
    lines = _lines_in_records(pl.read_lines(data, name="line"), grammar)
    last = lines.tail(1)
    if last.height and last["inside_after"][0]:
        unclosed = last["record"][0]
        where = f"in row {unclosed}" if unclosed else "in the header"
        raise InputSchemaError(
            label, f"a quoted field {where} is never closed (the rest of the file would be one field)"
        )
    records = _records(lines).slice(1)  # record 0 is the header
    plain = (
        records.select(pl.col("text").str.contains(grammar.plain_record)).to_series()
        if grammar.plain_record
        else pl.repeat(False, records.height, eager=True)
    )
    parts = [_split(records.filter(~plain), names, grammar)]
    if plain.any():
        # Plain records go back to polars' reader, under a header of placeholder names.
        header = separator.join(f"c{i}" for i in range(len(names)))
        body = records.select(pl.col("text").filter(plain).str.join("\n")).item()
        read = pl.read_csv(f"{header}\n{body}\n".encode(), separator=separator, infer_schema=False)
        parts.insert(
            0,
            read.rename(dict(zip(read.columns, names, strict=True))).with_columns(
                _WELL_FORMED, records["record"].filter(plain)
            ),
        )
    return pl.concat(parts, how="vertical").sort("record").drop("record")


def _lines_in_records(lines: pl.DataFrame, grammar: _CsvGrammar) -> pl.DataFrame:
    """Physical lines with ``record`` (0 for the header) and ``inside_after`` (a quoted field runs on).

    Each line maps the quoting state at its start to the state at its end: f0 from a record's start,
    f1 from inside a quoted field. Where f0 == f1 that is a constant; else the identity or the
    negation. So the state after a line is the last constant's value, flipped once per negation since.
    """
    f0, f1 = pl.col("f0"), pl.col("f1")
    return (
        lines.lazy()
        .with_columns(
            f0=pl.col("line").str.contains(grammar.ends_quoted_from_start),
            f1=pl.col("line").str.contains(grammar.ends_quoted_from_inside),
        )
        .with_columns(constant=f0 == f1, value=f0, flips=(f0 & ~f1).cast(pl.Int64()).cum_sum())
        .with_columns(
            base=pl.when("constant").then("value").forward_fill().fill_null(False),
            flips_at_base=pl.when("constant").then("flips").forward_fill().fill_null(0),
        )
        .select(
            "line",
            inside_after=pl.col("base") ^ ((pl.col("flips") - pl.col("flips_at_base")) % 2 == 1),
        )
        .with_columns(starts=~pl.col("inside_after").shift(1, fill_value=False))
        .with_columns(record=pl.col("starts").cast(pl.Int64()).cum_sum() - 1)
        .collect()
    )


def _records(lines: pl.DataFrame) -> pl.DataFrame:
    """``record`` and its ``text`` (lines joined by a line feed), in file order."""
    whole = pl.col("starts") & ~pl.col("inside_after")
    single = lines.filter(whole).select("record", text="line")
    spread = (
        lines.filter(~whole)
        .group_by("record", maintain_order=True)
        .agg(pl.col("line").str.join("\n").alias("text"))
    )
    return single.merge_sorted(spread, key="record") if spread.height else single


def _split(records: pl.DataFrame, names: Sequence[str], grammar: _CsvGrammar) -> pl.DataFrame:
    """Records split field by field: ``names``, :data:`MALFORMED_COL` and ``record``."""
    fields = records.select(
        "record",
        (pl.col("text") + pl.lit(grammar.separator))
        .str.extract_all(grammar.field)
        .list.eval(grammar.value(pl.element()))
        .alias("fields"),
    )
    count = pl.col("fields").list.len()
    width = len(names)
    return fields.select(
        *[pl.col("fields").list.get(i, null_on_oob=True).alias(name) for i, name in enumerate(names)],
        pl.when(count > width)
        .then(
            pl.format(
                "the record has {} fields but the header has {}; a field holding '{}' must be quoted",
                count,
                pl.lit(width),
                pl.lit(_shown(grammar.separator)),
            )
        )
        .otherwise(None)
        .alias(MALFORMED_COL),
        "record",
    )


def _shown(separator: str) -> str:
    return "\\t" if separator == "\t" else separator


_WIDEST_PLAIN = 1000


class _CsvGrammar:
    """Regular expressions for the records of one separator (Python ``csv`` semantics, non-strict)."""

    def __init__(self, separator: str, width: int) -> None:
        sep = f"\\x{{{ord(separator):x}}}"  # the regex escape of any one character
        closed = f'"(?:[^"]|"")*"(?:[^{sep}"][^{sep}]*)?'  # a quoted field, with any text after it
        unquoted = f'[^{sep}"][^{sep}]*'
        field = f"(?:{closed}|{unquoted})?"
        still_open = '"(?:[^"]|"")*'  # a quoted field not closed by the line's end
        #: A line that, read from a record's start, ends inside a quoted field.
        self.ends_quoted_from_start = f"^(?:{field}{sep})*{still_open}$"
        #: A line that, read from inside a quoted field, ends inside one (the same or a later one).
        self.ends_quoted_from_inside = (
            f'^(?:[^"]|"")*(?:"(?:[^{sep}"][^{sep}]*)?{sep}(?:{field}{sep})*{still_open})?$'
        )
        #: One field and the separator after it (a record is matched with a separator appended).
        self.field = f"(?s){field}{sep}"
        #: A record of RFC 4180 fields (quotes only around a whole field), at most ``width`` of them
        #: (None for a header so wide that the pattern would pass the regex engine's size limit).
        strict = f'(?:"(?:[^"]|"")*"|[^{sep}"]*)'
        self.plain_record = (
            f"^(?:{strict}{sep}){{0,{width - 1}}}{strict}$" if 0 < width <= _WIDEST_PLAIN else None
        )
        self.separator = separator

    def value(self, token: pl.Expr) -> pl.Expr:
        """A field's value from its token: unquoted, ``""`` read as ``"``; empty and unquoted is null."""
        body = token.str.strip_suffix(self.separator)
        quoted = body.str.extract(r'(?s)^"((?:[^"]|"")*)"', 1).str.replace_all('""', '"', literal=True)
        after = body.str.extract(r'(?s)^"(?:[^"]|"")*"(.*)$', 1)
        return (
            pl.when(body.str.starts_with('"'))
            .then(quoted + after)
            .when(body == "")
            .then(None)
            .otherwise(body)
        )


def from_memory(obj: Any, *, time_zone: str | None = None, label: str = "<memory>") -> pl.LazyFrame:
    """A lazy frame from a polars frame, a pyarrow Table/RecordBatch/RecordBatchReader or an Arrow stream.

    The data is made contiguous (one chunk per column): polars 2.1 panics ("i < self.len()") formatting
    strings of frames in several chunks, as tables of several record batches are. A frame already in one
    chunk is not copied. Arrow data is made importable (:func:`~screening.io.arrow_types.importable`; a
    timestamp column with a zone that holds a value beyond year 9999 becomes dates in ``time_zone``).

    Raises:
        UsageError: ``obj`` is not a table.
        InputSchemaError: Arrow data has a repeated column name or a column of a type polars cannot read, or a
            lazy frame or Arrow stream fails when read (a file it scans is missing or damaged, a cast in its plan
            fails): named ``label`` (the input's, ``<memory:1>``, or a batch's) and the cause.
    """
    if isinstance(obj, pl.LazyFrame):
        with _read_as_input(label):
            frame = obj.collect(engine="in-memory")
    elif isinstance(obj, pl.DataFrame):
        frame = obj
    elif isinstance(obj, pa.RecordBatchReader):
        with _read_as_input(label):
            table = obj.read_all()
        frame = _from_arrow(table, time_zone, label)
    elif isinstance(obj, pa.Table | pa.RecordBatch):
        frame = _from_arrow(obj, time_zone, label)
    elif isinstance(obj, pl.Series | pa.Array | pa.ChunkedArray):
        raise UsageError(f"cannot read a {type(obj).__name__} (one column): pass a table of manifest lines")
    elif hasattr(obj, "__arrow_c_stream__"):
        try:
            stream = pa.RecordBatchReader.from_stream(obj)
        except pa.ArrowException as exc:
            raise UsageError(f"cannot read {type(obj).__name__} as a table of manifest lines: {exc}") from exc
        with _read_as_input(label):
            table = stream.read_all()
        frame = _from_arrow(table, time_zone, label)
    else:
        raise UsageError(f"cannot read {type(obj).__name__}: pass paths, Arrow or polars data")
    return frame.rechunk().lazy()


#: What reading a lazy frame or an Arrow stream raises where its data cannot be read: polars' errors and panics,
#: the system's (a file it scans is missing) and pyarrow's (a stream cut short).
_STREAM_READ_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException, OSError, pa.ArrowException)


@contextlib.contextmanager
def _read_as_input(label: str) -> Iterator[None]:
    """Inside the block (reading an in-memory input), a failure of its data raised as the
    :class:`InputSchemaError` that a file that cannot be read is, naming ``label`` and the cause."""
    try:
        yield
    except _STREAM_READ_ERRORS as exc:
        raise InputSchemaError(label, f"cannot be read: {_first_line(exc)}") from exc


def _from_arrow(data: pa.Table | pa.RecordBatch, time_zone: str | None, label: str) -> pl.DataFrame:
    refuse_repeated_names(data.schema.names, label)
    refuse_unconvertible(data.schema, label)
    return _arrow_frame(data, label, time_zone)


#: What reading Arrow data into polars raises where it cannot: polars' errors, its panics (a BaseException,
#: not an Exception) and pyarrow's (a conversion).
_ARROW_READ_ERRORS = (pl.exceptions.PolarsError, pl.exceptions.PanicException, pa.ArrowException)


def _arrow_frame(data: pa.Table | pa.RecordBatch, label: str, time_zone: str | None = None) -> pl.DataFrame:
    """Arrow ``data`` made importable (:func:`~screening.io.arrow_types.importable`, in ``time_zone``) as a
    polars frame in one chunk per column.

    Raises:
        InputSchemaError: polars cannot read it all the same (a type the conversion misses), naming ``label``
            and the first column polars cannot read alone.
    """
    try:
        frame = pl.from_arrow(importable(data, time_zone), rechunk=True)
    except _ARROW_READ_ERRORS as exc:
        reason = _unreadable_column(data, time_zone) or f"polars cannot read it ({_first_line(exc)})"
        raise InputSchemaError(label, reason) from exc
    assert isinstance(frame, pl.DataFrame), "a table converts to a frame"
    return frame


def _unreadable_column(data: pa.Table | pa.RecordBatch, time_zone: str | None) -> str | None:
    """Why the first column of Arrow ``data`` that polars cannot read alone cannot be read; None: each can."""
    for i, field in enumerate(data.schema):
        try:
            pl.from_arrow(importable(data.select([i]), time_zone))
        except _ARROW_READ_ERRORS as exc:
            return (
                f"column {field.name!r} has type {field.type}, which polars cannot read ({_first_line(exc)}): "
                "write it as text, or leave the column out"
            )
    return None


def decoded_text(frame: pl.LazyFrame, schema: pl.Schema | None = None) -> pl.LazyFrame:
    """``frame`` (of ``schema``, read when not given) with its dictionary-encoded text columns (Categorical,
    Enum) as plain text, and its Arrow extension columns (``arrow.json``, as a Parquet file of DuckDB's holds
    JSON) as their storage type: neither output writer writes an extension type (one nested in a list or struct
    is refused, :func:`check_types`)."""
    schema = frame.collect_schema() if schema is None else schema
    storage = [
        pl.col(name).ext.storage() for name, dtype in schema.items() if isinstance(dtype, pl.BaseExtension)
    ]
    if storage:
        frame = frame.with_columns(storage)
    return frame.with_columns(cs.categorical().cast(pl.String()), cs.enum().cast(pl.String()))


def with_lineage(frame: pl.LazyFrame, label: str, first_row: int = 1) -> pl.LazyFrame:
    """Prefix ``source`` and ``row`` (``first_row``, then counting up) to a frame, with its dictionary-encoded
    text (Categorical, Enum: an Arrow dictionary column) decoded to text, as the checks read text: a
    blank value is then a missing field, as in a plain text column.

    Raises:
        InputSchemaError: the frame has a column of its own named ``source`` or ``row``.
    """
    try:
        schema = frame.collect_schema()
    except (pl.exceptions.PolarsError, OSError):
        # Unreadable: reported, naming the file, where the schema is checked (require_columns).
        schema = pl.Schema()
    names = schema.names()
    taken = [name for name in (SOURCE_COL, ROW_COL) if name in names]
    if taken:
        raise InputSchemaError(
            label,
            f"columns {taken} are the engine's lineage columns (each line's file and row): rename them",
        )
    derived = [name for name in LINE_DERIVED_COLUMNS if name in names and name not in (SOURCE_COL, ROW_COL)]
    if derived:
        raise InputSchemaError(
            label,
            f"columns {derived} are names of columns the engine adds to the lines output (an earlier run's "
            "lines screened again?): drop or rename them",
        )
    return (
        decoded_text(frame, schema)
        .with_row_index(ROW_COL, offset=first_row)
        .select(pl.lit(label).alias(SOURCE_COL), pl.col(ROW_COL).cast(pl.Int64()), pl.all().exclude(ROW_COL))
    )


def open_sources(
    specs: Iterable[Any], mapping: ColumnMapping | None = None, *, time_zone: str | None = None
) -> list[Source]:
    """Every input as a :class:`Source`, mapped to canonical names and checked for required columns;
    ``time_zone`` (the rule pack's) dates in-memory timestamps that must be read as text
    (:func:`from_memory`).

    Raises:
        InputSchemaError: a path does not exist, a file cannot be read, or it lacks required columns; or an
            extra column has types in two inputs that do not stack (:func:`refuse_unstackable_extras`).
    """
    mapping = mapping or ColumnMapping()
    sources: list[Source] = []
    memory_index = 0
    seen: set[Path] = set()
    for spec in specs:
        if isinstance(spec, str | Path):
            for path in _first_reached(_named_files([spec]), seen):
                read = read_digest(str(path), path)  # before any of it is read (its header, its schema)
                frame = mapping.apply(scan_file(path, mapping), label=str(path))
                sources.append(Source(str(path), path, with_lineage(frame, str(path)), read=read))
        else:
            label = f"<memory:{memory_index}>"
            memory_index += 1
            frame = mapping.apply(from_memory(spec, time_zone=time_zone, label=label), label=label)
            sources.append(Source(label, None, with_lineage(frame, label)))
    if not sources:
        raise InputSchemaError("<none>", "no input given")
    for source in sources:
        require_columns(source)
    refuse_unstackable_extras(sources)
    return sources


def read_digest(label: str, path: Path) -> FileDigest:
    """The :func:`~screening.io.digests.sized_digest` of the file ``path`` (named ``label``).

    Raises:
        InputSchemaError: it cannot be read.
    """
    try:
        return sized_digest(path)
    except OSError as exc:
        raise InputSchemaError(label, f"cannot be read: {_os_reason(exc)}") from exc


def refuse_changed_files(sources: Sequence[Source]) -> None:
    """Raise :class:`UsageError` if a file of ``sources``, its rows read, no longer has the digest taken before
    they were (:func:`~screening.io.digests.refuse_changed`: a producer still writing it): the summary would list
    bytes the run did not screen, and the rows read may be part of a line. Hashes each file once more.

    Raises:
        UsageError: a file changed while it was read.
        InputSchemaError: a file cannot be read now (moved or removed meanwhile).
    """
    for source in sources:
        if source.path is not None and source.read is not None:
            refuse_changed(source.path, source.read.sha256, read_digest(source.label, source.path).sha256)


def refuse_unstackable_extras(sources: Sequence[Source]) -> None:
    """Raise :class:`InputSchemaError` if an extra column has types in two of ``sources`` that one column of
    ``lines`` cannot hold without changing values (:mod:`screening.io.extra_columns`); reads schemas only."""
    types = ExtraColumnTypes()
    for source in sources:
        types = types.with_input(source.frame.collect_schema(), source.label)


def require_columns(source: Source, *, from_csv: bool = False) -> None:
    """Raise :class:`InputSchemaError` naming the file and its missing required columns, or columns of names the
    engine uses itself; ``from_csv``: the rows were read from a CSV file (in memory now, e.g. a batch)."""
    try:
        names = set(source.frame.collect_schema().names())
    except (pl.exceptions.PolarsError, OSError) as exc:
        fault = ndjson_fault(source.path) if source.path is not None and _is_ndjson(source.path) else None
        raise InputSchemaError(source.label, f"cannot be read: {fault or _first_line(exc)}") from exc
    # Rows read from CSV carry the engine's MALFORMED_COL (scan_csv refused a header of that name); in any
    # other input it is the input's own. A CSV file's headers may be a row of data (no header row).
    # (A CSV file's repeated headers were refused as it was opened, :func:`scan_csv`.)
    from_csv = from_csv or (source.path is not None and is_csv(source.path))
    own = MALFORMED_COL if from_csv else None
    reserved = sorted(n for n in names if n.startswith(RESERVED_PREFIX) and n != own)
    if reserved:
        raise InputSchemaError(source.label, _reserved_message(reserved))
    refuse_near_canonical(names, source.label)
    check_types(source)
    missing = tuple(c for c in REQUIRED_COLUMNS if c not in names)
    if missing:
        # Headers the engine does not know first: the one to map (``pakage_id``) is not cut off after 12.
        hint = (
            f"; it has {shown_headers(sorted(names, key=lambda n: (n in MANIFEST, n)), from_text=from_csv)}"
        )
        # A file of another separator needs saving with commas, not a mapping (its one "header" is its row).
        advice = (
            ""
            if from_csv and other_separator(names)
            else " Map your headers with --mapping (mapping= in Python; see README, 'Column mapping')."
        )
        raise InputSchemaError(
            source.label,
            f"not a manifest: missing required columns {list(missing)}{hint}.{advice}",
            missing=missing,
        )


def refuse_near_canonical(names: Iterable[str], label: str) -> None:
    """Raise :class:`InputSchemaError` naming the columns whose header differs from a canonical name only in
    case, surrounding blanks or invisible characters (``Gift``, ``usmca_claim `` with a trailing blank,
    ``\\ufeffgift`` with the byte-order mark a CSV file's first header keeps where read by Python's ``csv``
    module, ``gift\\u200b`` with a zero-width space: Unicode format characters, category Cf).

    Such a column would pass through untouched while the canonical column took its default (a gift charged
    duty, a USMCA claim lost), as a misspelt mapped header would (:meth:`ColumnMapping.apply`); beside the
    canonical column itself, which of the two is meant is not known.
    """
    present = set(names)
    near = sorted(
        (name, canonical)
        for name in present
        if name not in MANIFEST and (canonical := _visible(name).strip().lower()) in MANIFEST
    )
    if not near:
        return
    shown = "; ".join(
        f"{name!r} beside {canonical!r} (which one holds the values? drop or rename one)"
        if canonical in present
        else f"{name!r} (it would pass through as an extra column, not be read as {canonical})"
        for name, canonical in near
    )
    plural = ("s differ", "each column") if len(near) > 1 else (" differs", "the column")
    raise InputSchemaError(
        label,
        f"{len(near)} column header{plural[0]} from a canonical name only in case, blanks or invisible characters "
        f"(a byte-order mark, a zero-width space): {shown}; rename {plural[1]} to its canonical name, or map it "
        f"in a column mapping ([columns] {near[0][1]} = {_toml_text(near[0][0])})",
    )


def _visible(name: str) -> str:
    """``name`` without Unicode format characters (category Cf: a byte-order mark, a zero-width space, a soft
    hyphen), which no one sees in a header."""
    return "".join(c for c in name if unicodedata.category(c) != "Cf")


def _toml_text(text: str) -> str:
    """``text`` as a TOML basic string, a character that does not print (``\\ufeff``) as its escape."""
    escaped = (
        "\\" + c
        if c in '"\\'
        else c
        if c.isprintable()
        else f"\\u{ord(c):04x}"
        if ord(c) < 0x10000
        else f"\\U{ord(c):08x}"
        for c in text
    )
    return f'"{"".join(escaped)}"'


_NUMERIC_TARGETS = ("quantity", "declared_value", "gross_weight_kg", "metal_content_share", "line_no")


def check_types(source: Source) -> None:
    """Raise :class:`InputSchemaError` naming a canonical column whose input type cannot hold its values, or an
    extra column of a type no output can be written with (it would pass screening, then fail the run's write)."""
    schema = source.frame.collect_schema()
    for name, dtype in schema.items():
        unwritable = _unwritable(dtype)
        if unwritable is not None and name not in MANIFEST:
            raise InputSchemaError(
                source.label,
                f"extra column {name!r} {unwritable}, which neither output writer (Parquet, CSV) can write: "
                "convert it to text, numbers or a struct, or leave the column out",
                missing=(),
            )
        # A column without a single value (type Null: how Arrow writers store an all-empty column) is
        # read as missing everywhere, whatever its type should be.
        if name not in MANIFEST or dtype in (pl.String(), pl.Null()):
            continue
        nested = isinstance(dtype, pl.List | pl.Array | pl.Struct) or dtype in (pl.Binary(), pl.Object())
        target = MANIFEST[name].dtype
        wrong = (
            nested
            or (name in _NUMERIC_TARGETS and not dtype.is_numeric())
            or (target == pl.Boolean() and not (dtype == pl.Boolean() or dtype.is_integer()))
            # A duration or a time of day is temporal, but no date.
            or (target == pl.Date() and not (isinstance(dtype, pl.Date | pl.Datetime) or dtype.is_numeric()))
        )
        if wrong:
            # A date column also reads a timestamp's date.
            expected = "text, a date or a timestamp" if target == pl.Date() else f"text or {target}"
            raise InputSchemaError(
                source.label, f"column {name!r} has type {dtype}; expected {expected}", missing=()
            )


def _unwritable(dtype: pl.DataType) -> str | None:
    """What ``dtype`` holds that cannot be written out (None: it can be): Python objects (polars ``Object``), or
    an Arrow extension type inside a list, array or struct (one at the top is read as its storage type,
    :func:`decoded_text`)."""
    if dtype == pl.Object():
        return "holds Python objects (type Object)"
    if isinstance(dtype, pl.List | pl.Array | pl.Struct) and _holds_extension(dtype):
        return f"has type {dtype}, an Arrow extension type inside a list or struct"
    return None


def _holds_extension(dtype: PolarsDataType) -> bool:
    if isinstance(dtype, pl.BaseExtension):
        return True
    if isinstance(dtype, pl.List | pl.Array):
        return _holds_extension(dtype.inner)
    if isinstance(dtype, pl.Struct):
        return any(_holds_extension(field.dtype) for field in dtype.fields)
    return False


def refuse_repeated_names(names: Sequence[str], label: str) -> None:
    """Raise :class:`InputSchemaError` if Arrow data has a column name more than once (polars refuses such
    data, or panics reading an IPC file of it)."""
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputSchemaError(
            label,
            f"repeated column headers ({shown_headers(repeated, among=names, from_text=False)}): each column must "
            "appear once",
        )


def refuse_unconvertible(schema: pa.Schema, label: str) -> None:
    """Raise :class:`InputSchemaError` naming the columns of Arrow data (converted by
    :func:`~screening.io.arrow_types.importable`) that polars cannot read: intervals, unions."""
    unreadable = unreadable_columns(schema, converted=True)
    if unreadable:
        raise InputSchemaError(label, "; ".join(unreadable))


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
