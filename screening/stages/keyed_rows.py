"""A table that grows batch by batch and is looked up by key, at a cost that follows the batch.

Incremental screening carries the consignee-day totals across a day's batches: each batch looks up
its own keys and adds its rows. A join against the whole table hashes all of it for every batch,
so a day of many batches costs the square of its size. Here the rows
are only appended, and an index keeps a 64-bit hash of each row's key in sorted order beside the
row's position, in buckets by the hash's top bits: a lookup is a binary search per key of the batch,
and adding a batch inserts its hashes into small arrays (no hashing of the table, and no move of the
whole index).

Rows are additive partials: a key may have several rows, and a reader sums them (or keeps them
all). The hash only narrows the search; keys are then compared exactly, so a collision cannot
change a result. The hash is polars' own (it may change between versions): the index lives in
memory only, and a saved state holds the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import polars as pl

#: How a table's rows are combined into one table (for instance, sums by key).
Merge = Callable[[pl.DataFrame], pl.DataFrame]


class _HashIndex:
    """Key hashes, sorted, beside the position of their row; in :data:`_BUCKETS` buckets by the top bits
    of the hash, so that an insertion moves a few kilobytes, not the whole index. Immutable: adding
    hashes returns a new index that shares the buckets it did not change."""

    def __init__(self, buckets: list[tuple[np.ndarray, np.ndarray]] | None = None) -> None:
        empty = (np.empty(0, np.uint64), np.empty(0, np.int64))
        self.buckets = buckets if buckets is not None else [empty] * _BUCKETS

    def plus(self, hashes: np.ndarray, positions: np.ndarray) -> _HashIndex:
        """This index and ``hashes`` at ``positions``."""
        order = np.argsort(hashes, kind="stable")
        hashes, positions = hashes[order], positions[order]
        bounds = _bucket_bounds(hashes)
        buckets = list(self.buckets)
        for bucket in np.flatnonzero(np.diff(bounds)):
            new = slice(bounds[bucket], bounds[bucket + 1])
            held, held_positions = buckets[bucket]
            at = np.searchsorted(held, hashes[new], side="right")
            buckets[bucket] = (
                np.insert(held, at, hashes[new]),
                np.insert(held_positions, at, positions[new]),
            )
        return _HashIndex(buckets)

    def positions_of(self, hashes: np.ndarray) -> np.ndarray:
        """The positions of every entry whose hash is one of ``hashes`` (each entry once)."""
        hashes = np.sort(hashes)
        distinct = np.ones(len(hashes), dtype=bool)
        distinct[1:] = hashes[1:] != hashes[:-1]
        hashes = hashes[distinct]  # each hash once
        bounds = _bucket_bounds(hashes)
        found = [np.empty(0, np.int64)]
        for bucket in np.flatnonzero(np.diff(bounds)):
            held, held_positions = self.buckets[bucket]
            wanted = hashes[bounds[bucket] : bounds[bucket + 1]]
            first = np.searchsorted(held, wanted, side="left")
            counts = np.searchsorted(held, wanted, side="right") - first
            # Every entry of every hash found: each run [first, first + count) laid end to end.
            offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            found.append(held_positions[np.repeat(first, counts) + offsets])
        return np.concatenate(found)


#: Buckets of a :class:`_HashIndex` (by the top 6 bits of the hash): a day's four million keys make
#: buckets of about 60,000 entries (half a megabyte each).
_BUCKET_BITS = 6
_BUCKETS = 1 << _BUCKET_BITS
_BUCKET_STARTS = np.arange(_BUCKETS, dtype=np.uint64) << np.uint64(64 - _BUCKET_BITS)


def _bucket_bounds(sorted_hashes: np.ndarray) -> np.ndarray:
    """Where each bucket starts in ``sorted_hashes``, and their length at the end."""
    return np.append(np.searchsorted(sorted_hashes, _BUCKET_STARTS), len(sorted_hashes))


class KeyedRows:
    """Rows keyed by ``keys`` (columns of ``schema``), appended batch by batch, found by key.

    ``merge`` combines the rows into the table :meth:`table` returns (for instance, sums by key).
    """

    def __init__(
        self,
        keys: Sequence[str],
        schema: pl.Schema,
        merge: Merge,
        rows: pl.DataFrame | None = None,
        index: _HashIndex | None = None,
    ) -> None:
        self.keys = list(keys)
        self.schema = schema
        self.merge = merge
        self.rows = rows if rows is not None else pl.DataFrame(schema=schema)
        self.index = index or _HashIndex()

    @classmethod
    def of(cls, table: pl.DataFrame, keys: Sequence[str], schema: pl.Schema, merge: Merge) -> KeyedRows:
        """``table`` (columns of ``schema``) as the first rows."""
        return cls(keys, schema, merge).plus(table)

    def plus(self, rows: pl.DataFrame) -> KeyedRows:
        """These rows and ``rows`` (columns of the schema) after them."""
        added = rows.select(list(self.schema)).cast(self.schema)
        positions = np.arange(self.rows.height, self.rows.height + added.height, dtype=np.int64)
        index = self.index.plus(self._hash(added), positions)
        return type(self)(self.keys, self.schema, self.merge, pl.concat([self.rows, added]), index)

    def matching(self, query: pl.DataFrame) -> pl.DataFrame:
        """The rows (columns of the schema) whose key equals the key of a row of ``query``.

        A key with a null never matches (as in a join). Rows come in no particular order.
        """
        wanted = query.select(self.keys).drop_nulls().unique()
        rows = self.index.positions_of(self._hash(wanted))
        found = self.rows[pl.Series(rows, dtype=pl.Int64())]
        return found.join(wanted, on=self.keys, how="semi")

    def table(self) -> pl.DataFrame:
        """Every row, merged into one table (columns of the schema, in no particular order)."""
        return self.merge(self.rows).select(list(self.schema))

    def _hash(self, rows: pl.DataFrame) -> np.ndarray:
        hashed = rows.select(pl.struct(self.keys).hash()).to_series()
        return hashed.to_numpy().astype(np.uint64, copy=False)
