"""The engine stays vectorised: no per-row Python in its stages or in the modules that drive them."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "screening"
#: The stages, and the modules that run them over a day, its parts and its batches.
ENGINE = [
    *sorted((PACKAGE / "stages").glob("*.py")),
    *(PACKAGE / name for name in ("pipeline.py", "screener.py", "day_parts.py", "folder_run.py")),
]
FORBIDDEN = re.compile(
    r"map_elements|map_rows|iter_rows|(?<!mapping)\.apply\(|to_dicts\(|\.rows\(|for \w+ in .*\.(iter_rows|rows)\("
)


def test_the_engine_has_no_per_row_python() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in ENGINE
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert all(path.is_file() for path in ENGINE), "an engine module moved"
    assert len(ENGINE) > 10
    assert offenders == []


def test_the_guard_sees_per_row_python() -> None:
    """The pattern catches the usual forms (a guard that matches nothing passes for ever)."""
    lines = [
        "frame.map_rows(f)",
        "col.map_elements(f)",
        "for row in frame.iter_rows(named=True):",
        "rows = frame.to_dicts()",
        "series.apply(f)",
    ]
    assert all(FORBIDDEN.search(line) for line in lines)
    assert not FORBIDDEN.search("frame = self.mapping.apply(scan, label=label)")
