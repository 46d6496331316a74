"""Outputs written batch by batch (incremental runs), published atomically at the end.

Each output is one Parquet file grown batch by batch in a hidden staging folder, by polars' own writer
(:class:`~screening.io.appending.AppendingFile`: the same encoding as a whole-day run's outputs); the
folder replaces the output folder only when :meth:`StreamingOutput.publish` runs, so a crash leaves the
previous set. Memory follows a batch, not the run: a batch is encoded and written in background threads
while the next one is screened, and at most one batch per output waits to be written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl

from screening.io.appending import AppendingFiles
from screening.io.writers import (
    PARQUET_CODEC,
    PARQUET_LEVEL,
    discard,
    flush_to_disk,
    publish,
    staging_dir,
    write_json,
)


class StreamingOutput:
    """Parquet outputs appended per batch into a staging folder beside ``out``."""

    def __init__(self, out: str | Path, names: Sequence[str]) -> None:
        self.out = Path(out)
        self.names = tuple(names)
        self.staging = staging_dir(self.out)
        self._files = AppendingFiles()
        self._opened: set[str] = set()
        self._empty: dict[str, pl.DataFrame] = {}

    def __enter__(self) -> StreamingOutput:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None:
            self.abort()

    def append(self, frames: Mapping[str, pl.DataFrame]) -> None:
        """Queue one batch's frames (every name of ``names``) for writing; waits while an earlier batch
        of an output is still queued (writing errors are raised here)."""
        for name in self.names:
            frame = frames[name]
            if frame.is_empty():
                # A file is opened with the columns of its first rows: an empty frame may lack the
                # types rows give (all null); it is kept in case the output never gets a row.
                self._empty.setdefault(name, frame)
                continue
            self._files.append(self.staging / name, "parquet", frame)
            self._opened.add(name)

    def staged(self, name: str) -> Path:
        """The staged file of output ``name`` (complete once :meth:`close_files` ran)."""
        return self.staging / f"{name}.parquet"

    def close_files(self) -> None:
        """Finish every file; outputs that never had a row are written empty."""
        self._files.close()
        for name, empty in self._empty.items():
            if name not in self._opened:
                empty.write_parquet(
                    self.staged(name), compression=PARQUET_CODEC, compression_level=PARQUET_LEVEL
                )
                flush_to_disk(self.staged(name))

    def publish(self, summary: Mapping[str, Any]) -> Path:
        """Write ``summary.json`` and swap the staging folder in as the output folder."""
        write_json(summary, self.staging / "summary.json")
        publish(self.staging, self.out)
        return self.out

    def abort(self) -> None:
        """Drop the staging folder (the previous output set stays)."""
        with contextlib.suppress(Exception):
            self._files.abort()
        discard(self.staging)
