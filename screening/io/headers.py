"""How an error message shows a file's column headers without showing personal data.

A file without a header row (or read with the wrong separator or line ends) has data as its "headers": names and
addresses would land in error messages, which README promises never happens. A file's headers are listed only
where they look like a header row: each header short, without separators, digit runs, dates or an address's
house number, and at least one of them a column the engine knows (a canonical name, or a header the column
mapping names). Otherwise they are counted, and only the headers spelt like a known column (``Package ID``,
``package-id``) are shown, as the ones a user renames or maps.
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


def shown_headers(
    names: Iterable[str],
    among: Iterable[str] | None = None,
    *,
    known: Collection[str] = (),
    from_text: bool = True,
) -> str:
    """Headers ``names`` of a file for a message: listed (at most 12) where the file's headers (``among``,
    default ``names``) look like a header row, else counted.

    A header row holds no data-like header (:func:`looks_like_data`) and, ``from_text`` (the headers are a CSV
    or TSV file's first row, which may be a row of data), names a canonical column or one of ``known`` (the
    headers a column mapping names): else only the headers spelt like one of those are shown.
    """
    headers = _own(names)
    if not headers:
        return "no columns"
    pool = _own(among) if among is not None else headers
    count = f"{len(headers)} header{'s' if len(headers) > 1 else ''}"
    if any(looks_like_data(n) for n in pool):
        separated = [s for s in _SEPARATORS[:3] if any(s in n for n in pool)]
        hint = (
            f"; a header holds {' and '.join(map(repr, separated))}: the file may be separated by it, not by commas"
            + (" (a tab-separated file is read as such when named .tsv)" if "\t" in separated else "")
            if separated
            else ""
        )
        return (
            f"{count} not shown, as the file's first row looks like data (numbers, dates, addresses or long "
            "text among its headers: no header row, another separator, or other line ends) and may hold names "
            f"and addresses{hint}"
        )
    if from_text and not any(n in MANIFEST or n in known for n in pool):
        spellings = _CANONICAL_SPELLINGS | {_spelling(k) for k in known}
        alike = [n for n in headers if _spelling(n) in spellings][:_SHOWN]
        why = "a file without its header row would show a row of data, names and addresses, here"
        if not alike:
            return f"{count}, none a column the engine knows, not shown: {why}"
        return (
            f"{count}, none a column the engine knows: {alike} spelt like one, "
            f"{len(headers) - len(alike)} more not shown: {why}"
        )
    more = f" and {len(headers) - _SHOWN} more" if len(headers) > _SHOWN else ""
    return f"{headers[:_SHOWN]}{more}"
