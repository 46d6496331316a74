"""Where the engine's time goes: one whole-day run (``screen_to_folder``) with each stage timed
(``extra_info["stages"]``). The stages of the day's parts are summed over the parts (``part 3 of 16:
flagging risks`` counts as ``parts: flagging risks``); writing a part's outputs overlaps the next part."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import screening

from .conftest import BENCH_ROWS

_PART = re.compile(r"^part \d+ of \d+: ")


class StageClock:
    """Seconds spent in each stage the engine reports through ``on_stage``."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stage: str | None = None
        self._since = time.perf_counter()

    def __call__(self, stage: str) -> None:
        stage = _PART.sub("parts: ", stage)
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] = self.seconds.get(self._stage, 0.0) + now - self._since
        self._stage, self._since = stage, now


@pytest.mark.benchmark(group=f"stages-{BENCH_ROWS}")
def test_engine_stages(
    benchmark: BenchmarkFixture, bench_manifest: Path, us_pack: screening.RulePack, tmp_path: Path
) -> None:
    clocks: list[StageClock] = []

    def run() -> dict[str, Any]:
        clock = StageClock()
        clocks.append(clock)
        summary, _wall = screening.screen_to_folder(
            bench_manifest, tmp_path / "out", rules=us_pack, on_stage=clock
        )
        clock("done")
        return summary

    summary = benchmark.pedantic(run, rounds=1, iterations=1)
    assert summary["counts"]["input_rows"] == BENCH_ROWS
    stages = clocks[-1].seconds
    assert set(stages) >= {"reading and validating input", "writing outputs"}
    # In parts when the day is larger than one part, else in memory.
    assert stages.keys() & {"parts: flagging risks", "flagging risks"}
    benchmark.extra_info["stages"] = {name: round(seconds, 3) for name, seconds in stages.items()}
    benchmark.extra_info["checked"] = True
