"""How an error message shows a file's column headers without showing personal data.

A file without a header row (or read with the wrong separator or line ends) has data as its "headers": names and
addresses would land in error messages, which README promises never happens. Parquet, Arrow, NDJSON and in-memory
column names are names, listed as they are. A CSV or TSV file's first row is listed where it is plainly a header
row (most of its headers, two or more, are columns the engine knows: canonical names, or headers the column
mapping names), less
its headers that look like data (digit runs, dates, separators, ``@``, an address's house number), which are
counted; a row naming one known column is listed where no header looks like data. Otherwise its headers are
counted, and only those spelt like a known column (``Package ID``, ``package-id``) are shown, as the ones a user
renames or maps.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from screening.schema import MANIFEST, ROW_COL, SOURCE_COL

#: A header that is a number, date, code (digits with separators) or boolean is a data value, not a column name.
_VALUE = re.compile(r"^\s*(?:[-+$]?\d[\d.,/:\- ]*|true|false)\s*$", re.IGNORECASE)
#: Inside a header: a run of 3 or more digits (a ZIP, a phone, a year), a date, or a leading house number.
_DATA_INSIDE = re.compile(r"\d{3}|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|^\s*\d+[a-z]?\s+[^\W\d_]", re.IGNORECASE)
#: Characters of a separator other than the comma, or of an e-mail address: never in a header row read right.
_SEPARATORS = (";", "\t", "|", "@")
#: The longest header shown; longer text is a row or a field of data.
_LONGEST = 64
_SHOWN = 12


def looks_like_data(header: str) -> bool:
    """Whether ``header`` is unlike a column name: a value, a separator, a digit run, a date, an address."""
    return (
        len(header) > _LONGEST
        or any(s in header for s in _SEPARATORS)
        or bool(_VALUE.match(header) or _DATA_INSIDE.search(header))
    )


def _spelling(name: str) -> str:
    """``name`` in lower case without blanks or punctuation: ``Package ID`` and ``package_id`` are one spelling."""
    return re.sub(r"[\W_]+", "", name.lower())


_CANONICAL_SPELLINGS = frozenset(_spelling(n) for n in MANIFEST)


def _own(names: Iterable[str]) -> list[str]:
    """``names`` less the engine's own columns (lineage, ``__``-prefixed)."""
    return [n for n in names if not n.startswith("__") and n not in (SOURCE_COL, ROW_COL)]


#: How many headers of a text file's first row, each a canonical column or a mapped header, make it plainly a
#: header row (a row of data does not hold two column names) where they are most of its headers and none holds
#: a line break: its other headers are listed but the data-like. A file of CR line ends read as one row holds
#: its header row and its data rows (``gift\rP1``): most of it is no column name.
_HEADER_ROW_NAMES = 2


def shown_headers(
    names: Iterable[str],
    among: Iterable[str] | None = None,
    *,
    known: Collection[str] = (),
    from_text: bool = True,
) -> str:
    """Headers ``names`` of a file for a message: listed (at most 12), or counted where the file's headers
    (``among``, default ``names``) may be a row of data.

    Only a CSV or TSV file's (``from_text``) may: Parquet, Arrow, NDJSON and in-memory column names are names,
    listed as they are. A text file's first row is plainly a header row when most of its headers, at least two,
    are canonical columns or headers of ``known`` (the headers a column mapping names), none holding a line
    break: it is listed, less the headers that look like data (:func:`looks_like_data`: ``invoice_2024``,
    ``Contact @ consignee``), which are counted. Another row is listed where it names a known column and none
    of its headers looks like data; else it is counted, showing only the headers spelt like a canonical column
    or one of ``known`` that do not look like data (the ones a user renames or maps), with a hint where a
    header holds a separator.
    """
    headers = _own(names)
    if not headers:
        return "no columns"
    if not from_text:
        return _listed(headers)
    pool = _own(among) if among is not None else headers
    named = sum(n in MANIFEST or n in known for n in pool)
    if _plainly_header_row(pool, named):
        return _header_row(headers, known)
    if named and not any(looks_like_data(n) for n in pool):
        return _listed(headers)
    return _counted(headers, pool, known)


def _plainly_header_row(pool: list[str], named: int) -> bool:
    """Whether a text file's headers ``pool``, ``named`` of them known columns, are plainly a header row."""
    return (
        named >= _HEADER_ROW_NAMES and 2 * named > len(pool) and not any("\r" in n or "\n" in n for n in pool)
    )


def _header_row(headers: list[str], known: Collection[str]) -> str:
    """``headers`` of plainly a header row listed, those that are no known column first (the ones a user renames
    or maps: a misspelt ``declard_value`` is not cut off after 12), but those that look like data, counted."""
    kept = [n for n in headers if not looks_like_data(n)]
    kept = sorted(kept, key=lambda n: n in MANIFEST or n in known)  # stable: the given order otherwise
    withheld = len(headers) - len(kept)
    if not withheld:
        return _listed(kept)
    counted = (
        f"{withheld} header{'s' if withheld > 1 else ''} not shown, as {'they look' if withheld > 1 else 'it looks'}"
        " like data (a digit run, a date, an address, a separator or '@')"
    )
    return f"{_listed(kept)}, and {counted}" if kept else counted


def _counted(headers: list[str], pool: list[str], known: Collection[str]) -> str:
    """``headers`` of a text file's first row that may be data (``pool``, naming at most one known column)
    counted, but those spelt like a canonical column or one of ``known`` that do not look like data."""
    count = f"{len(headers)} header{'s' if len(headers) > 1 else ''}"
    spellings = _CANONICAL_SPELLINGS | {_spelling(k) for k in known}
    alike = [n for n in headers if _spelling(n) in spellings and not looks_like_data(n)][:_SHOWN]
    if any(looks_like_data(n) for n in pool):
        shown = f"; spelt like a column the engine knows: {alike}" if alike else ""
        return (
            f"{count} not shown, as the file's first row looks like data (numbers, dates, addresses or long "
            "text among its headers: no header row, another separator, or other line ends) and may hold names "
            f"and addresses{_separator_hint(pool)}{shown}"
        )
    why = "a file without its header row would show a row of data, names and addresses, here"
    if not alike:
        return f"{count}, none a column the engine knows, not shown: {why}"
    return (
        f"{count}, none a column the engine knows: {alike} spelt like one, "
        f"{len(headers) - len(alike)} more not shown: {why}"
    )


def _listed(headers: list[str]) -> str:
    """The first 12 of ``headers``, and how many more."""
    more = f" and {len(headers) - _SHOWN} more" if len(headers) > _SHOWN else ""
    return f"{headers[:_SHOWN]}{more}"


def _separated_by(headers: Collection[str]) -> list[str]:
    """The separators other than the comma (``;``, a tab, ``|``) that a header of ``headers`` holds."""
    return [s for s in _SEPARATORS[:3] if any(s in n for n in headers)]


def other_separator(names: Iterable[str], *, known: Collection[str] = ()) -> bool:
    """Whether a text file's headers ``names`` may be a row split by another separator than the comma: a header
    holds ``;``, a tab or ``|``, and the row is not plainly a header row (most of it, two or more, canonical
    columns or headers of ``known``)."""
    headers = _own(names)
    named = sum(n in MANIFEST or n in known for n in headers)
    return not _plainly_header_row(headers, named) and bool(_separated_by(headers))


def _separator_hint(pool: list[str]) -> str:
    """Where a header holds ``;``, a tab or ``|``: that the file may be separated by it, and what to do (no option
    reads another separator: a tab-separated file named .tsv is read as such, another is saved with commas)."""
    separated = _separated_by(pool)
    if not separated:
        return ""
    todo = (
        "name a tab-separated file .tsv (it is read as such), or save it comma-separated"
        if "\t" in separated
        else "save it comma-separated (no other separator is read)"
    )
    return f"; a header holds {' and '.join(map(repr, separated))}: the file may be separated by it, not by commas: {todo}"
