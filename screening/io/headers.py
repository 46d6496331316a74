"""How an error message shows a file's column headers without showing personal data.

A file without a header row (or read with the wrong line ends) has data as its "headers": names and addresses
would land in error messages, which README promises never happens. Such headers are counted, not shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from screening.schema import ROW_COL, SOURCE_COL

#: A header that is a number, date or code (digits with separators) is a data value, not a column name.
_DATA_LIKE = re.compile(r"^\s*[-+$]?\d[\d.,/:\- ]*\s*$")
_SHOWN = 12


def shown_headers(names: Iterable[str], among: Iterable[str] | None = None) -> str:
    """Headers ``names`` of a file for a message: listed (at most 12), or counted where some of the file's
    headers (``among``, default ``names``) look like data."""
    headers = [n for n in names if not n.startswith("__") and n not in (SOURCE_COL, ROW_COL)]
    if not headers:
        return "no columns"
    if any(_DATA_LIKE.match(n) for n in ([*among] if among is not None else headers)):
        return (
            f"{len(headers)} headers not shown, as the file's first row looks like data (numbers or dates among "
            "its headers: no header row, or other line ends) and may hold names and addresses"
        )
    more = f" and {len(headers) - _SHOWN} more" if len(headers) > _SHOWN else ""
    return f"{headers[:_SHOWN]}{more}"
