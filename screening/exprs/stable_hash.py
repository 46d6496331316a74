"""A hash that is the same on every machine, run and library version: 64-bit FNV-1a over UTF-8.

polars' own ``hash`` may change between versions, so random sampling cannot use it. This
one is computed with numpy over the Arrow buffers, one vector step per byte position (a
loop over at most the longest string's length, never over rows).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa

FNV_OFFSET_BASIS = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)


def fnv1a64(values: pl.Series, *, prefix: str = "") -> pl.Series:
    """FNV-1a (64-bit) of ``prefix + value`` for each string; null for a null value.

    >>> fnv1a64(pl.Series(["a"])).item() == 0xAF63DC4C8601EC8C
    True
    """
    start = int(FNV_OFFSET_BASIS)
    for byte in prefix.encode():
        start = ((start ^ byte) * int(FNV_PRIME)) % (1 << 64)
    state = np.uint64(start)
    array = pa.array(values.cast(pl.String()).to_arrow()).cast(pa.large_string())
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    count = len(array)
    offsets_buffer, data_buffer = array.buffers()[1], array.buffers()[2]
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64, count=count + 1, offset=array.offset * 8)
    data = (
        np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    )
    starts = offsets[:-1]
    lengths = offsets[1:] - starts
    # Longest strings first: at byte position p the strings still going are a prefix of that order,
    # so each step works on a slice (no index of the active rows to find or scatter back through).
    order = np.argsort(-lengths, kind="stable")
    ordered_starts = starts[order]
    ordered_lengths = lengths[order]
    longest = int(ordered_lengths[0]) if count else 0
    # going[p]: how many strings are longer than p.
    going = np.searchsorted(-ordered_lengths, -np.arange(longest), side="left")
    ordered = np.full(count, state, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for position in range(longest):
            active = int(going[position])
            octets = data[ordered_starts[:active] + position].astype(np.uint64)
            ordered[:active] = (ordered[:active] ^ octets) * FNV_PRIME
    hashes = np.empty(count, dtype=np.uint64)
    hashes[order] = ordered
    result = pl.Series(values.name, hashes, dtype=pl.UInt64())
    return result.set(values.is_null(), None) if values.null_count() else result


def mixed64(hashes: pl.Series) -> pl.Series:
    """MurmurHash3's 64-bit finaliser (``fmix64``) of each hash; null stays null.

    FNV-1a leaves the high bits of ids that differ only in their last characters close together: ordered by
    the raw hash, such ids stay in clusters. The finaliser spreads every input bit over the whole word, so an
    order by the mixed hash is as good as random, and the same everywhere.
    """
    values = hashes.cast(pl.UInt64()).fill_null(0).to_numpy().copy()
    with np.errstate(over="ignore"):
        values ^= values >> np.uint64(33)
        values *= np.uint64(0xFF51AFD7ED558CCD)
        values ^= values >> np.uint64(33)
        values *= np.uint64(0xC4CEB9FE1A85EC53)
        values ^= values >> np.uint64(33)
    result = pl.Series(hashes.name, values, dtype=pl.UInt64())
    return result.set(hashes.is_null(), None) if hashes.null_count() else result
