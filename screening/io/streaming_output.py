"""Outputs written batch by batch (incremental runs), published atomically at the end.

Each output is one Parquet file grown by a row group per batch, in a hidden staging folder; the
folder replaces the output folder only when :meth:`StreamingOutput.publish` runs, so a crash
leaves the previous set. Memory follows one batch, not the run: a batch is encoded and written in a
background thread while the next one is screened, and at most one batch waits to be written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from screening.errors import ScreeningError
from screening.io.writers import (
    PARQUET_CODEC,
    PARQUET_LEVEL,
    discard,
    flush_to_disk,
    interrupts_held,
    publish,
    staging_dir,
    write_json,
)


class StreamingOutput:
    """Parquet outputs appended per batch into a staging folder beside ``out``."""

    def __init__(
        self, out: str | Path, names: Sequence[str], inputs: Sequence[Path] = (), history: Sequence[Path] = ()
    ) -> None:
        self.out = Path(out)
        self.names = tuple(names)
        self.staging = staging_dir(self.out, inputs, history)
        self._writers: dict[str, Any] = {}
        self._empty: dict[str, pl.DataFrame] = {}
        # One writing thread keeps each file's row groups in batch order.
        self._writer_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="screening-output")
        self._pending: Future[None] | None = None

    def __enter__(self) -> StreamingOutput:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if kind is not None:
            self.abort()

    def append(self, frames: Mapping[str, pl.DataFrame]) -> None:
        """Queue one batch's frames (every name of ``names``) for writing; returns once the previous
        batch is written (its errors are raised here)."""
        batch = {name: frames[name] for name in self.names}
        self._finish_pending()
        self._pending = self._writer_thread.submit(self._write_batch, batch)

    def _finish_pending(self) -> None:
        """Wait for the batch being written; raise what writing it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _write_batch(self, frames: Mapping[str, pl.DataFrame]) -> None:
        for name in self.names:
            frame = frames[name]
            if name not in self._writers:
                if frame.is_empty() and name not in self._empty:
                    self._empty[name] = frame.clear()
                    continue
                table = frame.to_arrow()
                self._writers[name] = pq.ParquetWriter(
                    self.staging / f"{name}.parquet",
                    table.schema,
                    compression=PARQUET_CODEC,
                    compression_level=PARQUET_LEVEL,
                )
            elif frame.is_empty():
                continue
            writer = self._writers[name]
            table = frame.to_arrow()
            if table.schema != writer.schema:
                try:
                    table = table.cast(writer.schema)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError) as exc:
                    raise ScreeningError(
                        f"internal error: {name} columns changed between batches: {exc}"
                    ) from exc
            writer.write_table(table)

    def staged(self, name: str) -> Path:
        """The staged file of output ``name`` (complete once :meth:`close_files` ran)."""
        return self.staging / f"{name}.parquet"

    def close_files(self) -> None:
        """Finish every file; outputs that never had a row are written empty."""
        self._finish_pending()
        self._writer_thread.shutdown()
        for name, writer in self._writers.items():
            writer.close()
            flush_to_disk(self.staged(name))
        for name, empty in self._empty.items():
            if name not in self._writers:
                empty.write_parquet(
                    self.staged(name), compression=PARQUET_CODEC, compression_level=PARQUET_LEVEL
                )
        self._writers.clear()

    def publish(self, summary: Mapping[str, Any]) -> Path:
        """Write ``summary.json`` and swap the staging folder in as the output folder."""
        write_json(summary, self.staging / "summary.json")
        publish(self.staging, self.out)
        return self.out

    def abort(self) -> None:
        """Drop the staging folder (the previous output set stays), whatever Ctrl-C says meanwhile."""
        with interrupts_held():
            with contextlib.suppress(Exception):
                self._finish_pending()
            self._writer_thread.shutdown()
            for writer in self._writers.values():
                with contextlib.suppress(OSError, pa.ArrowException):
                    writer.close()
            self._writers.clear()
            discard(self.staging)
