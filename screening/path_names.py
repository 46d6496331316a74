"""Paths whose names the readers and writers cannot take (below every layer: the rule pack's loader, the input
and history readers and the output writers each refuse such a name before reading or writing)."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Final


def non_utf8_name(path: Path) -> str | None:
    """The bytes of ``path`` as a message shows them (``b'Zoll\\xfc.parquet'``) when its name is not UTF-8 text,
    else None. Python holds such a name with surrogate escapes, which the Parquet, Arrow and CSV readers and
    writers refuse (polars' with an internal ``TypeError``)."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return repr(str(path).encode("utf-8", "surrogateescape"))
    return None


#: The system's errors that say a path names nothing it can look up, whatever is on the disk: a name over 255
#: bytes or a path over 4,096 (``File name too long``), and a loop of symbolic links (:func:`unusable_path`).
UNUSABLE_PATH: Final = (errno.ENAMETOOLONG, errno.ELOOP)


def unusable_path(path: Path) -> str | None:
    """Why the system cannot look ``path`` up, in its words (``File name too long``, ``Too many levels of
    symbolic links``, ``Permission denied`` for a folder above it that may not be searched); None where it can,
    whether or not ``path`` exists (a folder above it that is a file: :func:`file_above`). ``Path.exists`` and
    ``Path.resolve`` raise on such a path (an ``OSError``, a ``RuntimeError``)."""
    try:
        os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    except ValueError:  # a NUL byte: no path can hold it
        return "the path holds a NUL character"
    return None


def file_above(path: Path) -> Path | None:
    """The file (anything but a folder) that stands where a folder above ``path`` must be (``afile`` for
    ``afile/sub/out``), None when there is none."""
    for above in reversed(path.parents):
        try:
            mode = above.stat().st_mode
        except OSError:  # not there (nor anything below it), or not to be looked at
            return None
        if not stat.S_ISDIR(mode):
            return above
    return None
