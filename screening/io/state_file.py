"""One file holding a few tables and a JSON header: the saved state of incremental screening.

The file is a ZIP archive of ``meta.json`` and one Parquet file per table. It is written to a
hidden sibling first, flushed, then renamed over the target: a crash leaves the previous file.
"""

from __future__ import annotations

import io
import json
import os
import uuid
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from screening.errors import UsageError

_META = "meta.json"


def write_state_file(path: str | Path, tables: Mapping[str, pl.DataFrame], meta: Mapping[str, Any]) -> Path:
    """Write ``tables`` and ``meta`` to ``path`` atomically.

    Raises:
        UsageError: the folder of ``path`` does not exist, or ``path`` is a folder.
    """
    target = Path(path)
    if not target.resolve().parent.is_dir():
        raise UsageError(f"{target}: the state's folder does not exist")
    if target.is_dir():
        raise UsageError(f"{target}: is a folder; name the state file to write (e.g. {target / 'day.state'})")
    staging = target.with_name(f".{target.name}.staging-{uuid.uuid4().hex}")
    try:
        with zipfile.ZipFile(staging, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_entry(_META), json.dumps(dict(meta), indent=2, sort_keys=True))
            for name, frame in tables.items():
                buffer = io.BytesIO()
                frame.write_parquet(buffer, compression="zstd")
                archive.writestr(_entry(f"{name}.parquet"), buffer.getvalue())
        with staging.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(staging, target)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    return target


def _entry(name: str) -> zipfile.ZipInfo:
    """An archive entry stamped with a fixed time, so a state's bytes depend only on its content."""
    return zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))


def read_state_file(path: str | Path) -> tuple[dict[str, pl.DataFrame], dict[str, Any]]:
    """The tables and header of a state file.

    Raises:
        UsageError: the file is missing or is not a state file.
    """
    source = Path(path)
    try:
        with zipfile.ZipFile(source) as archive:
            meta: dict[str, Any] = json.loads(archive.read(_META))
            tables = {
                name.removesuffix(".parquet"): pl.read_parquet(io.BytesIO(archive.read(name)))
                for name in archive.namelist()
                if name.endswith(".parquet")
            }
    except (OSError, KeyError, zipfile.BadZipFile, json.JSONDecodeError, pl.exceptions.PolarsError) as exc:
        raise UsageError(f"{source}: not a screening state file ({type(exc).__name__})") from exc
    return tables, meta
