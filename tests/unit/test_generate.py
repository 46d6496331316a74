"""Tests of the synthetic manifest generator."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
import pytest

from screening.generate import DEFAULT_DATES, GENERATED, generate_manifest
from screening.schema import MANIFEST_COLUMNS

HTS = [
    "6109100012",
    "6110202079",
    "4202923100",
    "8517620090",
    "9503000073",
    "3304990000",
    "6404199060",
    "7117909000",
    "8471300100",
    "2204215040",
]
NAMES = [c.name for c in MANIFEST_COLUMNS if c.name in GENERATED]
_ECB = {"USD", "EUR", "GBP", "JPY", "CNY", "HKD", "KRW", "INR", "CAD", "MXN", "TRY", "THB"}
ARROW_TYPES = {
    "line_no": pa.int64(),
    "arrival_date": pa.date32(),
    "quantity": pa.float64(),
    "declared_value": pa.float64(),
    "gross_weight_kg": pa.float64(),
    "usmca_claim": pa.bool_(),
    "gift": pa.bool_(),
}


def _share(mask: pl.Series) -> float:
    """The share of true values in a boolean series."""
    return int(mask.sum()) / max(mask.len(), 1)


def _write(path: Path, rows: int = 2_000, seed: int = 1, **kwargs: Any) -> int:
    return generate_manifest(path, rows=rows, seed=seed, hts_codes=HTS, **kwargs)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """20,000 rows over several chunks, shared by the content tests."""
    path = tmp_path_factory.mktemp("gen") / "m.parquet"
    _write(path, rows=20_000, seed=42, chunk_rows=6_000)
    return pl.read_parquet(path)


@pytest.mark.parametrize(("rows", "chunk_rows"), [(0, 100), (1, 250_000), (999, 250_000), (2_345, 500)])
def test_writes_exactly_the_requested_rows(tmp_path: Path, rows: int, chunk_rows: int) -> None:
    seen: list[int] = []
    path = tmp_path / "m.parquet"
    assert _write(path, rows=rows, chunk_rows=chunk_rows, on_progress=seen.append) == rows
    assert pq.read_metadata(path).num_rows == rows
    assert seen == [min(rows, (i + 1) * chunk_rows) for i in range(-(-rows // chunk_rows))]


def test_csv_has_one_header_and_exact_rows(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    assert _write(path, rows=1_234, chunk_rows=300) == 1_234
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1_235
    assert lines[0] == ",".join(f'"{name}"' for name in NAMES)
    assert sum(line.startswith('"package_id"') for line in lines) == 1


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_same_arguments_give_identical_bytes(tmp_path: Path, suffix: str) -> None:
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    _write(first, rows=3_000, seed=9, chunk_rows=700)
    _write(second, rows=3_000, seed=9, chunk_rows=700)
    assert first.read_bytes() == second.read_bytes()


def test_different_seeds_differ(tmp_path: Path) -> None:
    _write(tmp_path / "a.parquet", seed=1)
    _write(tmp_path / "b.parquet", seed=2)
    first, second = pl.read_parquet(tmp_path / "a.parquet"), pl.read_parquet(tmp_path / "b.parquet")
    assert not first.equals(second)
    assert first["consignee_name"].to_list() != second["consignee_name"].to_list()


def test_parquet_has_canonical_columns_and_types(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    _write(path)
    schema = pq.read_schema(path)
    assert schema.names == NAMES
    for field in schema:
        assert field.type == ARROW_TYPES.get(field.name, pa.string()), field.name


def test_parquet_is_labelled_synthetic(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    _write(path, seed=123)
    meta = pq.read_metadata(path).metadata
    assert meta is not None
    assert meta[b"screening.synthetic"] == b"true"
    assert meta[b"screening.generator"] == b"screening.generate v1"
    assert meta[b"screening.seed"] == b"123"


def test_csv_values_are_text_with_iso_dates(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    _write(path, rows=20_000, chunk_rows=7_000)
    frame = pl.read_csv(path, infer_schema=False)
    assert frame.columns == NAMES
    dates = frame["arrival_date"]
    assert dates.str.contains(r"^\d{4}-\d{2}-\d{2}$").all()
    assert set(dates.unique()) <= {d.isoformat() for d in DEFAULT_DATES} | {"2025-02-30"}
    assert (dates == "2025-02-30").sum() > 0
    assert set(frame["usmca_claim"].unique()) == {"true", "false"}


def test_packages_have_unique_ids_and_lines(sample: pl.DataFrame) -> None:
    assert sample["line_no"].is_between(1, 4).all()
    assert sample["package_id"].str.contains(r"^SYN\d+$").all()
    assert _share(sample["line_no"] == 1) > 0.6
    first_lines = sample.filter(pl.col("line_no") == 1)
    # Ids are unique across chunks: only the injected duplicates repeat a (package, line) pair.
    assert first_lines["package_id"].n_unique() > 0.99 * first_lines.height


def test_realistic_mix(sample: pl.DataFrame) -> None:
    assert 0.38 < _share(sample["country_of_origin"] == "CN") < 0.52
    assert 0.55 < _share(sample["mode"] == "express") < 0.85
    assert 0.5 < _share(sample["currency"] == "USD") < 0.75
    assert 0.6 < _share(sample["consignee_id"].is_null()) < 0.8
    assert set(sample["currency"].unique()) <= {*_ECB, "ZZZ"}
    per_person = sorted(sample.group_by("consignee_name").len()["len"].to_list())
    assert per_person[-1] > 20 * per_person[len(per_person) // 2]  # a few people receive many packages
    dotted = sample["hts_code"].str.contains(r"\.")
    assert 0.4 < _share(dotted) < 0.6


def _bad_row_mask(frame: pl.DataFrame) -> pl.Series:
    value = pl.col("declared_value")
    checks = [
        value < 0,
        value.is_nan(),
        pl.col("hts_code").str.contains("[A-Za-z]"),
        pl.col("country_of_origin") == "XX",
        pl.col("currency") == "ZZZ",
        pl.col("mode") == "sea",
        pl.col("consignee_name").is_null(),
        pl.struct("package_id", "line_no").is_duplicated(),
    ]
    return frame.select(pl.any_horizontal(checks).alias("bad"))["bad"]


def test_bad_rows_at_roughly_the_requested_share(sample: pl.DataFrame) -> None:
    bad = int(_bad_row_mask(sample).sum())
    assert 50 <= bad <= 180  # 0.5 % of 20,000 = 100; duplicates count twice
    assert (sample["declared_value"] < 0).sum() > 0
    assert sample["declared_value"].is_nan().sum() > 0
    assert (sample["country_of_origin"] == "XX").sum() > 0
    assert sample.select(pl.struct("package_id", "line_no").is_duplicated().sum()).item() > 0


def test_no_bad_rows_when_share_is_zero(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    _write(path, rows=5_000, bad_row_share=0.0)
    assert not _bad_row_mask(pl.read_parquet(path)).any()


def test_bump_of_packages_just_under_800_usd(sample: pl.DataFrame) -> None:
    totals = (
        sample.filter(pl.col("currency") == "USD", pl.col("declared_value") >= 0)
        .group_by("package_id")
        .agg(pl.col("declared_value").sum())
    )["declared_value"]
    in_bump = int(totals.is_between(700, 800, closed="left").sum())
    assert in_bump > 0.01 * totals.len()
    assert in_bump > 10 * int(totals.is_between(600, 700, closed="left").sum())


def test_dates_come_from_the_arguments(tmp_path: Path) -> None:
    path = tmp_path / "m.parquet"
    _write(path, dates=[datetime.date(2025, 1, 2)])
    assert pl.read_parquet(path)["arrival_date"].unique().to_list() == [datetime.date(2025, 1, 2)]


@pytest.mark.parametrize("name", ["m.json", "m"])
def test_rejects_unknown_suffix(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="suffix"):
        _write(tmp_path / name)


def test_files_of_one_day_can_take_package_ranges_of_their_own(tmp_path: Path) -> None:
    first = generate_manifest(tmp_path / "a.parquet", rows=500, seed=1, hts_codes=HTS)
    assert first == 500
    generate_manifest(tmp_path / "b.parquet", rows=500, seed=2, hts_codes=HTS, first_package=1_000_000)
    a, b = (pl.read_parquet(tmp_path / n)["package_id"] for n in ("a.parquet", "b.parquet"))
    assert a.min() == "SYN0000000001"
    assert b.min() == "SYN0001000000"
    assert not set(a) & set(b)
    generate_manifest(tmp_path / "c.parquet", rows=500, seed=1, hts_codes=HTS, first_package=1)
    assert (tmp_path / "c.parquet").read_bytes() == (tmp_path / "a.parquet").read_bytes()
    with pytest.raises(ValueError, match="first_package"):
        generate_manifest(tmp_path / "d.parquet", rows=10, seed=1, hts_codes=HTS, first_package=10**10 - 5)
