"""Benchmark data: SYNTHETIC manifests from `screen generate`, made once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import screening
from screening.generate import generate_manifest

ROOT = Path(__file__).resolve().parent.parent
#: Rows of the end-to-end benchmark manifest; BENCH_ROWS=1000000 or 4000000 on demand.
BENCH_ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


@pytest.fixture(scope="session")
def us_pack() -> screening.RulePack:
    return screening.load_rules(ROOT / "rules" / "us")


@pytest.fixture(scope="session")
def bench_manifest(tmp_path_factory: pytest.TempPathFactory, us_pack: screening.RulePack) -> Path:
    path = tmp_path_factory.mktemp("bench") / f"manifest_{BENCH_ROWS}.parquet"
    # In a child process: the contenders timed in this process should not inherit the memory the
    # generator touched (at 4M lines that slowed the whole-day engine by about a third).
    subprocess.run([sys.executable, "-c", _GENERATE, str(path), str(BENCH_ROWS)], check=True)
    return path


_GENERATE = f"""
import sys
from pathlib import Path
from {generate_manifest.__module__} import COMMON_HTS_CODES, generate_manifest
generate_manifest(Path(sys.argv[1]), rows=int(sys.argv[2]), seed=2026, hts_codes=COMMON_HTS_CODES)
from screening.process_exit import exit_process
exit_process(0)  # the manifest is written: skip the thread pools' teardown (screening.process_exit)
"""
