"""Shared fixtures: the U.S. pack (loaded once) and a builder for small manifests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest

import screening
from screening.result import OUTPUTS

ROOT = Path(__file__).resolve().parent.parent
US_PACK = ROOT / "rules" / "us"
SAMPLE = ROOT / "sample_data"
#: The files of a run's output folder (Parquet format).
OUTPUT_FILES = frozenset({*(f"{name}.parquet" for name in OUTPUTS), "summary.json"})

#: A valid line; tests override the fields they care about.
BASE_LINE: dict[str, Any] = {
    "package_id": "P1",
    "line_no": "1",
    "arrival_date": "2025-03-10",
    "mode": "express",
    "shipper_name": "Nordlicht Versand GmbH",
    "shipper_country": "DE",
    "consignee_name": "Anna Keller",
    "consignee_postal_code": "20001",
    "country_of_origin": "DE",
    "hts_code": "6109.10.00.12",
    "description": "cotton t-shirt",
    "quantity": "1",
    "declared_value": "100.00",
    "currency": "USD",
}


@pytest.fixture(scope="session")
def us_pack() -> screening.RulePack:
    """The bundled U.S. rule pack."""
    return screening.load_rules(US_PACK)


@pytest.fixture
def manifest() -> Callable[..., pl.DataFrame]:
    """Build a manifest frame from line overrides: ``manifest({"declared_value": "450"}, {...})``."""

    def build(*overrides: dict[str, Any]) -> pl.DataFrame:
        rows = [{**BASE_LINE, **o} for o in overrides]
        return pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String()))

    return build


@pytest.fixture
def screen_lines(
    us_pack: screening.RulePack, manifest: Callable[..., pl.DataFrame]
) -> Callable[..., screening.Result]:
    """Screen a few lines given as overrides of a valid base line."""

    def run(*overrides: dict[str, Any]) -> screening.Result:
        return screening.screen(manifest(*overrides), rules=us_pack)

    return run


def write_ipc_stream(path: Path, table: pa.Table, batch_rows: int) -> Path:
    """``table`` saved as an Arrow IPC stream (as a Flight stream is) of record batches of ``batch_rows``."""
    with pa.ipc.new_stream(path, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=batch_rows):
            writer.write_batch(batch)
    return path


def screen_without_permission_bypass(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """``screen ARGS`` in a process of its own in which file modes apply: as root (who reads any file), without
    the capabilities that bypass them; skipped where they cannot be dropped."""
    command = [sys.executable, "-m", "screening", *map(str, args)]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("runs as root, and setpriv is not at hand to drop the file-permission capabilities")
        command = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]
    ran = subprocess.run(command, capture_output=True, text=True, check=False, timeout=300)
    if ran.stderr.startswith("setpriv:"):
        pytest.skip(f"cannot drop the file-permission capabilities: {ran.stderr.strip()}")
    return ran
