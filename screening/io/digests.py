"""Digests that record what a run read: files, and the history of earlier runs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from screening.errors import UsageError
from screening.io.history import packages_file


class FileDigest(NamedTuple):
    """What one reading of a file found: the ``sha256:`` of its bytes and how many bytes they were."""

    sha256: str
    size: int


def file_digest(path: Path) -> str:
    """``sha256:`` of a file's bytes, read in 1 MiB blocks."""
    return sized_digest(path).sha256


def sized_digest(path: Path) -> FileDigest:
    """The :class:`FileDigest` of a file's bytes (read once, in 1 MiB blocks: a file that grows meanwhile gives
    the size of the bytes hashed, not its new size)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
            size += len(block)
    return FileDigest("sha256:" + digest.hexdigest(), size)


def refuse_changed(path: Path, before: str, after: str) -> None:
    """Raise :class:`UsageError` unless the file ``path`` had the SHA-256 ``after`` once read that it had
    (``before``) when its reading began: a run lists a file by the digest of the bytes it screened, and a state
    records it so (a later, longer file recorded would be refused as screened, its new rows never screened; an
    earlier, shorter one would let the complete file be screened again, its first rows as copies)."""
    if before != after:
        raise UsageError(
            f"{path}: the file changed while it was read (a producer still writing it?): nothing of it was "
            "screened or recorded; screen it again once it is complete"
        )


def history_digest(history: Sequence[str | Path]) -> str | None:
    """A digest of the history sources' packages files (None without history), in any order: what a run's
    repeat-consignee checks read, for its summary and for a resumed job (it must read the same)."""
    if not history:
        return None
    digests = sorted(file_digest(packages_file(Path(source))) for source in history)
    return "sha256:" + hashlib.sha256("\n".join(digests).encode()).hexdigest()
