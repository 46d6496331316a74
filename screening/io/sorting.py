"""Parquet files rewritten in sorted order, a bounded number of rows at a time.

Sorting a day's rows in one frame holds them twice over, and more while the file is encoded: the
``queues`` of a 4M-line day (about a million rows) took about 470 MiB that way, and three times as
many rows three times as much. Here the rows are cut into chunks of whole groups of the leading sort
columns, in sorted group order. One pass reads the files a few row groups at a time and spills each row
into its chunk's temporary Arrow file; then each chunk is read, sorted and appended to the output.
Memory follows a chunk, and the files are read once, whatever their size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from screening.io.appending import AppendingFiles
from screening.io.writers import OutputFormat, full_disk_named, write_frame

#: Rows a chunk starts with, about (a chunk also holds the rest of the last group it starts).
SORT_CHUNK_ROWS: Final = 250_000
#: Files of at most this many rows are sorted in one frame: up to about here that is faster and needs no
#: more memory than chunks. Measured on ``queues`` rows, 2 cores, one frame against chunks of 250k
#: (peak above the interpreter's): 271k rows 0.13 s / 172 MiB against 0.27 s / 218 MiB; 600k rows 0.22 s /
#: 287 MiB against 0.44 s / 264 MiB; 1.08M rows 0.46 s / 470 MiB against 0.71 s / 313 MiB; 3.2M rows
#: 1.9 s / 1.45 GiB against 2.6 s / 350 MiB.
SORT_WHOLE_ROWS: Final = 600_000
_POSITION = "__position"
_ROWS = "__rows"
_CHUNK = "__chunk"
#: Rows of the input read at a time while spilling, at least (whole row groups).
_READ_ROWS: Final = 65_536
#: Spilled rows are read back once, soon: left uncompressed (about a fifth faster than lz4).
_SPILL_OPTIONS: Final = pa.ipc.IpcWriteOptions(compression=None)


def write_sorted(
    source: Sequence[Path],
    target: Path,
    fmt: OutputFormat,
    by: Sequence[str],
    *,
    groups: int,
    chunk_rows: int | None = None,
    whole_rows: int | None = None,
) -> Path:
    """Write the rows of the Parquet files ``source`` as ``target.<fmt>``, sorted by ``by`` (nulls last;
    rows equal on ``by`` keep their order in ``source``), holding about ``chunk_rows`` rows at a time.

    Chunks are cut between groups of the first ``groups`` columns of ``by``, so a chunk holds at most
    ``chunk_rows`` rows plus one group; files of at most ``whole_rows`` rows in all are sorted in one
    frame (by default :data:`SORT_CHUNK_ROWS` and :data:`SORT_WHOLE_ROWS`). Chunks are spilled to Arrow
    IPC files, which do not hold Categorical or Int128 columns (the ``queues`` output has neither), in a
    hidden folder beside ``target``, removed afterwards. Returns the path written.
    """
    chunk_rows = SORT_CHUNK_ROWS if chunk_rows is None else chunk_rows
    whole_rows = SORT_WHOLE_ROWS if whole_rows is None else whole_rows
    if not 1 <= groups <= len(by):
        raise ValueError("groups must name a leading part of by")
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be at least 1")
    keys = list(by[:groups])
    chunks = _chunks(source, keys, chunk_rows)
    if chunks.get_column(_ROWS).sum() <= whole_rows:
        whole = pl.scan_parquet(list(source), glob=False).collect(engine="streaming")
        return write_frame(whole.sort(by, nulls_last=True, maintain_order=True), target, fmt)
    with (
        tempfile.TemporaryDirectory(prefix=f".{target.name}.sorting-", dir=target.parent) as folder,
        full_disk_named(target.parent),  # told before the folder's removal makes room again
    ):
        spilled = _spill(source, chunks.select(*keys, _CHUNK), keys, Path(folder))
        with AppendingFiles() as files:
            for path in spilled:
                ordered = (
                    pl.scan_ipc(path, glob=False)
                    .collect()
                    .sort([*by, _POSITION], nulls_last=True)
                    .drop(_POSITION)
                )
                path.unlink()
                files.append(target, fmt, ordered)
                del ordered
    return target.with_suffix(f".{fmt}")


def _chunks(source: Sequence[Path], keys: list[str], chunk_rows: int) -> pl.DataFrame:
    """Each group of ``keys`` in sorted order, numbered with its chunk: the groups that start within the
    same stretch of ``chunk_rows`` sorted rows share one."""
    counted = (
        pl.scan_parquet(list(source), glob=False)
        .group_by(keys)
        .agg(pl.len().alias(_ROWS))
        .sort(keys, nulls_last=True)
        .collect(engine="streaming")
    )
    starts = counted.get_column(_ROWS).cum_sum() - counted.get_column(_ROWS)
    return counted.with_columns((starts // chunk_rows).cast(pl.UInt32()).alias(_CHUNK))


def _spill(source: Sequence[Path], chunks: pl.DataFrame, keys: list[str], folder: Path) -> list[Path]:
    """Read ``source`` a stretch of whole row groups at a time and append each row, with its place in
    ``source``, to its chunk's Arrow file in ``folder``; those files in chunk order."""
    spills: dict[int, tuple[Path, Any]] = {}  # chunk: its file and writer
    position = 0
    try:
        for path in source:
            for offset, count in _stretches(path):
                rows = pl.scan_parquet(path, glob=False).slice(offset, count).collect()
                rows = rows.with_row_index(_POSITION, offset=position)
                position += count
                tagged = rows.join(chunks, on=keys, how="left", nulls_equal=True, maintain_order="left")
                for (chunk,), members in tagged.partition_by(_CHUNK, as_dict=True).items():
                    table = members.drop(_CHUNK).to_arrow()
                    if chunk not in spills:
                        spill = folder / f"{chunk:08d}.arrow"
                        spills[chunk] = spill, pa.ipc.new_file(spill, table.schema, options=_SPILL_OPTIONS)
                    spills[chunk][1].write_table(table)
    finally:
        for _, writer in spills.values():
            writer.close()
    return [spills[chunk][0] for chunk in sorted(spills)]


def _stretches(path: Path) -> list[tuple[int, int]]:
    """``(offset, rows)`` of consecutive stretches of whole row groups of ``path``, each of at least
    :data:`_READ_ROWS` rows but the last. Polars decodes only the row groups a slice covers (pyarrow's
    batch reader held more, in a pool of its own); each slice also reads the file's footer, which grows
    with its row groups, so a file of many small ones (a batched run's, one per batch) is read in few."""
    metadata = pq.ParquetFile(path).metadata
    stretches: list[tuple[int, int]] = []
    start = rows = 0
    for group in range(metadata.num_row_groups):
        rows += metadata.row_group(group).num_rows
        if rows >= _READ_ROWS:
            stretches.append((start, rows))
            start, rows = start + rows, 0
    if rows:
        stretches.append((start, rows))
    return stretches
