"""One output file written part by part, by polars' own writer, while the next part is computed.

A writing thread runs a polars sink whose source is the queue of parts handed to :meth:`AppendingFile.append`:
the file is encoded exactly as ``write_parquet``/``write_csv`` encode a frame (same types, same
compression) and rows keep the order of the parts. At most one part waits in the queue, so memory
follows a part, not the file.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from screening.errors import ScreeningError
from screening.io.writers import PARQUET_CODEC, PARQUET_LEVEL, OutputFormat, csv_ready, flush_to_disk

#: Seconds between checks that the writing thread is still alive while a part waits to be queued.
_POLL = 0.2
_END = None


class AppendingFile:
    """``path.<fmt>`` written from the frames appended to it, in order (all with ``schema``)."""

    def __init__(self, path: Path, fmt: OutputFormat, schema: pl.Schema) -> None:
        self.path = path.with_suffix(f".{fmt}")
        self.schema = schema
        self._fmt = fmt
        self._parts: queue.Queue[pl.DataFrame | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, name=f"screening-{path.name}", daemon=True)
        self._thread.start()

    def append(self, frame: pl.DataFrame) -> None:
        """Queue ``frame`` to be written after the frames before it; waits while another part is queued."""
        if frame.schema != self.schema:
            # A part can lack a value that gives a column its type (all null): same names, cast.
            if frame.columns != self.schema.names():
                raise ScreeningError(f"internal error: {self.path.name} columns changed between parts")
            frame = frame.cast(self.schema)
        self._put(frame)

    def close(self) -> Path:
        """Finish the file (flushed to disk); raises what writing it raised."""
        self._put(_END)
        self._thread.join()
        self._raise_error()
        flush_to_disk(self.path)
        return self.path

    def abort(self) -> None:
        """Stop writing (the file is left unfinished: remove its folder)."""
        if self._thread.is_alive():
            self._put(_END, raise_error=False)
            self._thread.join()

    def _put(self, item: pl.DataFrame | None, *, raise_error: bool = True) -> None:
        while self._thread.is_alive():
            try:
                self._parts.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue
        if raise_error:
            self._raise_error()
            raise ScreeningError(f"internal error: the writer of {self.path.name} stopped early")

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _write(self) -> None:
        try:
            frames = register_io_source(self._frames, schema=self.schema)
            if self._fmt == "parquet":
                frames.sink_parquet(
                    self.path, compression=PARQUET_CODEC, compression_level=PARQUET_LEVEL, statistics=True
                )
            else:
                csv_ready(frames).sink_csv(self.path)
        except BaseException as exc:  # handed to the appending thread
            self._error = exc
            self._drain()

    def _frames(self, with_columns: list[str] | None, *_ignored: Any) -> Iterator[pl.DataFrame]:
        while (frame := self._parts.get()) is not None:
            yield frame if with_columns is None else frame.select(with_columns)

    def _drain(self) -> None:
        """Empty the queue so a waiting :meth:`append` returns (and sees the error)."""
        while True:
            try:
                self._parts.get_nowait()
            except queue.Empty:
                return


class AppendingFiles:
    """Several outputs written part by part, each an :class:`AppendingFile` opened at its first part.

    A context manager: on leaving, every file is finished, or, after an error, every file is abandoned
    (its staging folder is the caller's to remove).
    """

    def __init__(self) -> None:
        self._files: dict[Path, AppendingFile] = {}

    def __enter__(self) -> AppendingFiles:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        files = list(self._files.values())
        if kind is None:
            try:
                for file in files:
                    file.close()
            except BaseException:
                self._abort(files)
                raise
        else:
            self._abort(files)

    def append(self, path: Path, fmt: OutputFormat, frame: pl.DataFrame) -> None:
        """Append ``frame`` to ``path.<fmt>`` (opened with ``frame``'s columns at its first part)."""
        file = self._files.get(path)
        if file is None:
            file = self._files[path] = AppendingFile(path, fmt, frame.schema)
        file.append(frame)

    @staticmethod
    def _abort(files: list[AppendingFile]) -> None:
        for file in files:
            file.abort()
