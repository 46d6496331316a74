"""Benchmark data: SYNTHETIC manifests from `screen generate`, made once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import screening
from screening.generate import COMMON_HTS_CODES, generate_manifest

ROOT = Path(__file__).resolve().parent.parent
#: Rows of the end-to-end benchmark manifest; BENCH_ROWS=1000000 or 4000000 on demand.
BENCH_ROWS = int(os.environ.get("BENCH_ROWS", "100000"))


@pytest.fixture(scope="session")
def us_pack() -> screening.RulePack:
    return screening.load_rules(ROOT / "rules" / "us")


@pytest.fixture(scope="session")
def bench_manifest(tmp_path_factory: pytest.TempPathFactory, us_pack: screening.RulePack) -> Path:
    path = tmp_path_factory.mktemp("bench") / f"manifest_{BENCH_ROWS}.parquet"
    generate_manifest(path, rows=BENCH_ROWS, seed=2026, hts_codes=COMMON_HTS_CODES)
    return path
