"""A table that grows batch by batch and is looked up by key, at a cost that follows the batch.

Incremental screening carries the consignee-day totals across a day's batches: each batch looks up
its own keys and adds its rows. A join against the whole table hashes all of it for every batch,
so a day of many batches costs the square of its size. Here the rows
are only appended, and an index keeps a 64-bit hash of each row's key in sorted order beside the
row's position: a lookup is a binary search per key of the batch, and adding a batch inserts its
hashes (a vectorised search and one move of the index's memory, no hashing of the table).

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
        index: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        self.keys = list(keys)
        self.schema = schema
        self.merge = merge
        self.rows = rows if rows is not None else pl.DataFrame(schema=schema)
        #: The key hashes of the rows, sorted, and the row each belongs to.
        self.hashes, self.positions = index or (np.empty(0, np.uint64), np.empty(0, np.int64))

    @classmethod
    def of(cls, table: pl.DataFrame, keys: Sequence[str], schema: pl.Schema, merge: Merge) -> KeyedRows:
        """``table`` (columns of ``schema``) as the first rows."""
        return cls(keys, schema, merge).plus(table)

    @property
    def height(self) -> int:
        """Rows held."""
        return self.rows.height

    def plus(self, rows: pl.DataFrame) -> KeyedRows:
        """These rows and ``rows`` (columns of the schema) after them."""
        added = rows.select(list(self.schema)).cast(self.schema)
        hashes = self._hash(added)
        order = np.argsort(hashes, kind="stable")
        at = np.searchsorted(self.hashes, hashes[order])
        index = (
            np.insert(self.hashes, at, hashes[order]),
            np.insert(self.positions, at, order.astype(np.int64) + self.rows.height),
        )
        return type(self)(self.keys, self.schema, self.merge, pl.concat([self.rows, added]), index)

    def matching(self, query: pl.DataFrame) -> pl.DataFrame:
        """The rows (columns of the schema) whose key equals the key of a row of ``query``.

        A key with a null never matches (as in a join). Rows come in no particular order.
        """
        wanted = query.select(self.keys).drop_nulls().unique()
        hashes = np.unique(self._hash(wanted))
        first = np.searchsorted(self.hashes, hashes, side="left")
        counts = np.searchsorted(self.hashes, hashes, side="right") - first
        # Every index entry of every hash found: each run [first, first + count) laid end to end.
        offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
        rows = self.positions[np.repeat(first, counts) + offsets]
        found = self.rows[pl.Series(rows, dtype=pl.Int64())]
        return found.join(wanted, on=self.keys, how="semi")

    def table(self) -> pl.DataFrame:
        """Every row, merged into one table (columns of the schema, in no particular order)."""
        return self.merge(self.rows).select(list(self.schema))

    def _hash(self, rows: pl.DataFrame) -> np.ndarray:
        hashed = rows.select(pl.struct(self.keys).hash()).to_series()
        return hashed.to_numpy().astype(np.uint64, copy=False)
