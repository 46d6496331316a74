"""The engine's stages stay vectorised: no per-row Python."""

from __future__ import annotations

import re
from pathlib import Path

STAGES = Path(__file__).resolve().parents[2] / "screening" / "stages"
FORBIDDEN = re.compile(
    r"map_elements|map_rows|iter_rows|\.apply\(|to_dicts\(|\.rows\(|for \w+ in .*\.(iter_rows|rows)\("
)


def test_stages_have_no_per_row_python() -> None:
    offenders = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted(STAGES.glob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if FORBIDDEN.search(line)
    ]
    assert list(STAGES.glob("*.py")), "no stage modules found"
    assert offenders == []
