"""A table that grows batch by batch and is looked up by key, at a cost that follows the batch.

Incremental screening carries the consignee-day totals across a day's batches: each batch looks up
its own keys and adds its rows. A join against the whole table hashes all of it for every batch, so a
day of many batches costs the square of its size. Here the rows are only appended, and an index keeps
a 64-bit hash of each row's key beside the row's position, in sorted runs, each larger than the next
(with batches of one size, the runs are a binary counter's bits): a lookup is a binary search per key
of the batch in each of the few runs, and a batch's hashes are sorted on their own and merged into
older runs only when those are no larger, so each hash is copied a logarithmic number of times over
the day, not once per batch.

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
#: Key hashes in sorted order, and beside each the position of its row.
_Run = tuple[np.ndarray, np.ndarray]


class _HashIndex:
    """Key hashes beside the position of their row, in sorted runs, oldest first, each larger than the
    next (so there are at most about log2 of the entries). Immutable: adding hashes returns a new index
    that shares the runs it did not merge."""

    def __init__(self, runs: tuple[_Run, ...] = ()) -> None:
        self.runs = runs

    def plus(self, hashes: np.ndarray, positions: np.ndarray) -> _HashIndex:
        """This index and ``hashes`` at ``positions``."""
        order = np.argsort(hashes, kind="stable")
        runs = [*self.runs, (hashes[order], positions[order])]
        while len(runs) > 1 and len(runs[-2][0]) <= len(runs[-1][0]):
            newer = runs.pop()
            runs.append(_merged(runs.pop(), newer))
        return _HashIndex(tuple(runs))

    def positions_of(self, hashes: np.ndarray) -> np.ndarray:
        """The positions of every entry whose hash is one of ``hashes`` (each entry once)."""
        wanted = np.unique(hashes)  # sorted, each hash once
        found = [np.empty(0, np.int64)]
        for held, held_positions in self.runs:
            # One binary search per hash (the first entry not below it), then a step along the run per
            # entry of the same hash: a key has few entries, and each step reads a neighbour.
            at = np.searchsorted(held, wanted, side="left")
            hash_of = wanted
            while len(at):
                inside = at < len(held)
                at, hash_of = at[inside], hash_of[inside]
                equal = held[at] == hash_of
                at, hash_of = at[equal], hash_of[equal]
                found.append(held_positions[at])
                at = at + 1
        return np.concatenate(found)


def _merged(older: _Run, newer: _Run) -> _Run:
    """One sorted run of the entries of two."""
    at = np.searchsorted(older[0], newer[0], side="right")
    return np.insert(older[0], at, newer[0]), np.insert(older[1], at, newer[1])


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
        rows = np.sort(self.index.positions_of(self._hash(wanted)))  # gathered in the order they came
        found = self.rows[pl.Series(rows, dtype=pl.Int64())]
        return found.join(wanted, on=self.keys, how="semi")

    def table(self) -> pl.DataFrame:
        """Every row, merged into one table (columns of the schema, in no particular order)."""
        return self.merge(self.rows).select(list(self.schema))

    def _hash(self, rows: pl.DataFrame) -> np.ndarray:
        hashed = rows.select(pl.struct(self.keys).hash()).to_series()
        return hashed.to_numpy().astype(np.uint64, copy=False)
