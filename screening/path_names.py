"""Paths whose names the readers and writers cannot take (below every layer: the rule pack's loader, the input
and history readers and the output writers each refuse such a name before reading or writing)."""

from __future__ import annotations

from pathlib import Path


def non_utf8_name(path: Path) -> str | None:
    """The bytes of ``path`` as a message shows them (``b'Zoll\\xfc.parquet'``) when its name is not UTF-8 text,
    else None. Python holds such a name with surrogate escapes, which the Parquet, Arrow and CSV readers and
    writers refuse (polars' with an internal ``TypeError``)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return repr(str(path).encode("utf-8", "surrogateescape"))
    return None
