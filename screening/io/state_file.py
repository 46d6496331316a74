"""One file holding a few tables and a JSON header: the saved state of incremental screening.

The file is a ZIP archive of ``meta.json`` and one Parquet file per table. It is written to a
hidden sibling first, flushed, then renamed over the target: a crash leaves the previous file.
"""

from __future__ import annotations

import contextlib
import io
import json
import lzma
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from screening.errors import UsageError
from screening.io.writers import (
    discard,
    finished,
    held_lock,
    hidden_name,
    keep_access,
    refused_when_full,
    remove_stale_staging,
    staging_name,
    track_staging,
    usable_resolved,
)

try:
    import fcntl
except ImportError:  # not POSIX
    fcntl = None  # type: ignore[assignment]

_META = "meta.json"


def write_state_file(path: str | Path, tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Any]) -> Path:
    """Write ``tables`` and ``meta`` to ``path`` atomically. A ``path`` that is a symbolic link stays one: the
    file it points to is replaced.

    Raises:
        UsageError: the folder of ``path`` does not exist, ``path`` is a folder, or the disk is full.
    """
    with state_file_staged(path, tables, meta):
        pass
    return Path(path)


@contextlib.contextmanager
def state_file_staged(
    path: str | Path, tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Any]
) -> Iterator[None]:
    """Write ``tables`` and ``meta`` to a hidden copy beside ``path`` (flushed to disk), then run the block: the
    copy replaces ``path`` when the block ends, and is removed if the block fails (``path`` as it was). For a
    state saved with something else published in the block (a run's outputs): a state that cannot be written
    is found before, and a failure in the block leaves the previous state. The new state keeps the group and
    permissions of the one it replaces (:func:`~screening.io.writers.keep_access`: it holds names and ZIPs).

    Raises:
        UsageError: the folder of ``path`` does not exist, ``path`` is a folder, or the disk is full.
    """
    target = Path(path)
    check_state_path(target)
    real = target.resolve()
    remove_stale_staging(real.parent, real.name)
    staging = real.with_name(staging_name(real.name))
    track_staging(staging)
    try:
        with refused_when_full(target, "the state"):
            with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_STORED) as archive:
                with contextlib.suppress(FileNotFoundError):
                    keep_access(staging, real.stat())  # before its first byte
                archive.writestr(_entry(_META), json.dumps(dict(meta), indent=2, sort_keys=True))
                for name, frame in tables.items():
                    buffer = io.BytesIO()
                    frame.write_parquet(buffer, compression="zstd")
                    archive.writestr(_entry(f"{name}.parquet"), buffer.getvalue())
            with staging.open("rb") as handle:
                os.fsync(handle.fileno())
        yield
        with refused_when_full(target, "the state"):
            os.replace(staging, real)
        finished(staging)
    except BaseException:
        discard(staging)
        raise


def check_state_path(path: Path) -> None:
    """Raise :class:`UsageError` unless a state file can be written at ``path``: its folder exists and takes
    a new file, ``path`` is not a folder, and the system can look it up (a name of at most 255 bytes, no loop of
    symbolic links): checked before a run's work (found after it, the run's outputs were published without
    their state)."""
    real = state_path_resolved(path)
    if not real.parent.is_dir():
        raise UsageError(f"{path}: the state's folder does not exist")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; name the state file to write (e.g. {path / 'day.state'})")
    probe = real.parent / staging_name(real.name)
    try:
        probe.touch(exist_ok=False)
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"{path}: the state cannot be written there: {exc.strerror or exc}") from exc


def state_path_resolved(path: Path) -> Path:
    """``path`` resolved (its symbolic links followed), once the system can look it up.

    Raises:
        UsageError: a name over 255 bytes, a path over 4,096, a loop of symbolic links, or a file where a folder
            above ``path`` must be (``afile/day.state``).
    """
    return usable_resolved(path, "the state's path", "name a state file in a folder")


@contextlib.contextmanager
def state_lock(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock (a ``.<name>.lock`` file beside it) for a run that restores and saves that state.
    A ``path`` that is a symbolic link is locked as the file it points to (``.<that name>.lock`` beside that
    file), so that a run naming the link and one naming the file do not both take the state.

    Two runs on one state each restore the same old state and the last save wins, losing the other's lines
    from the day's totals and its keys: the second run is refused instead. Where file locks are not
    available (off POSIX), nothing is locked.

    Raises:
        UsageError: another run holds the lock, or the lock file cannot be opened
            (:func:`~screening.io.writers.held_lock`).
    """
    if fcntl is None:
        yield
        return
    real = state_path_resolved(path)
    try:
        handle = held_lock(real.parent / hidden_name(real.name, "lock"))
    except BlockingIOError as exc:
        raise UsageError(
            f"{path}: another run is using this state (locked); run the batches that share it one after another"
        ) from exc
    with handle:  # closing it releases the lock
        yield


def _entry(name: str) -> zipfile.ZipInfo:
    """An archive entry stamped with a fixed time, so a state's bytes depend only on its content."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def read_state_file(path: str | Path) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The tables and header of a state file.

    Raises:
        UsageError: the file is missing or is not a state file (damaged, truncated, not a ZIP of a JSON
            header and Parquet tables).
    """
    source = Path(path)
    try:
        with zipfile.ZipFile(source) as archive:
            meta: dict[str, Any] = json.loads(archive.read(_META))
            tables = {
                name.removesuffix(".parquet"): _parquet_table(archive.read(name))
                for name in archive.namelist()
                if name.endswith(".parquet")
            }
    except _DAMAGED as exc:
        raise UsageError(f"{source}: not a screening state file ({type(exc).__name__})") from exc
    return tables, meta


def _parquet_table(data: bytes) -> pl.DataFrame:
    """A table of a state file. Read by pyarrow and checked whole (text that is not UTF-8 included) before
    polars takes it: on a damaged table polars' reader could panic or abort the process."""
    table = pq.read_table(pa.BufferReader(data))
    table.validate(full=True)
    # Names are decoded here (text that is not UTF-8 raises) and metadata left behind: polars panics on either.
    plain = pa.schema([pa.field(field.name, field.type) for field in table.schema])
    frame = pl.from_arrow(pa.Table.from_arrays(table.columns, schema=plain))
    assert isinstance(frame, pl.DataFrame), "a Parquet file is a table"
    return frame


#: What reading a damaged state file raises: the ZIP layer (a bad header, an entry's CRC, an unknown
#: compression method or flag: NotImplementedError, RuntimeError for an encrypted entry, EOFError, zlib and
#: lzma errors), the header (not UTF-8, not JSON: ValueError) and the tables (pyarrow's errors are OSError,
#: ValueError or NotImplementedError; polars' own, and its panic on data pyarrow let through).
_DAMAGED: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    KeyError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    pa.ArrowException,
    pl.exceptions.PolarsError,
    pl.exceptions.PanicException,
)
