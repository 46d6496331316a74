"""--pseudonymise-key-env: party fields leave the outputs as keyed hashes; decisions do not change."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest

import screening

from ..conftest import ROOT, SAMPLE, US_PACK

MANIFEST = SAMPLE / "handchecked" / "manifest.csv"
PARTY_COLUMNS = ["shipper_name", "consignee_name", "consignee_address", "consignee_postal_code"]


def run(out: Path, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCREEN_TEST_KEY": key} if key is not None else dict(os.environ)
    args = ["run", str(MANIFEST), "--out", str(out), "--quiet"]
    if key is not None:
        args += ["--pseudonymise-key-env", "SCREEN_TEST_KEY"]
    return subprocess.run(
        [sys.executable, "-m", "screening", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_names_and_addresses_leave_no_trace_in_any_output(tmp_path: Path) -> None:
    assert run(tmp_path / "o", "k1").returncode == 0
    source = pl.read_csv(MANIFEST, infer_schema=False)
    names = [c for c in ("shipper_name", "consignee_name") if c in source.columns]
    secrets = {v for c in names for v in source[c].drop_nulls()}
    for file in (tmp_path / "o").iterdir():
        text = file.read_bytes()
        if file.suffix == ".parquet":
            text = pl.read_parquet(file).write_ndjson().encode()
        assert not [s for s in secrets if s.encode() in text], file.name
    lines = pl.read_parquet(tmp_path / "o" / "lines.parquet")
    for column in PARTY_COLUMNS:
        assert lines[column].drop_nulls().str.starts_with("p:").all(), column


def test_same_key_same_pseudonyms_and_same_decisions(tmp_path: Path) -> None:
    for name, key in (("a", "k1"), ("b", "k1"), ("c", "k2"), ("plain", None)):
        assert run(tmp_path / name, key).returncode == 0
    a, b, c, plain = (pl.read_parquet(tmp_path / n / "packages.parquet") for n in ("a", "b", "c", "plain"))
    assert a.equals(b)
    assert not a["consignee_key"].equals(c["consignee_key"])
    assert a.drop("consignee_key").equals(plain.drop("consignee_key"))
    assert a["consignee_key"].str.starts_with("p:").all()


def test_an_empty_key_is_a_usage_error(tmp_path: Path) -> None:
    done = run(tmp_path / "o", "")
    assert done.returncode == 2
    assert "SCREEN_TEST_KEY" in done.stderr


@pytest.mark.parametrize("names_first", [False, True])
def test_a_malformed_record_leaves_no_party_text_in_its_reject(tmp_path: Path, names_first: bool) -> None:
    # An unquoted comma in the name shifts the fields after it (the address into country_of_origin, or, with
    # the party columns first, into package_id): every field of a malformed record is replaced.
    columns = ["package_id", "line_no", "arrival_date", "mode", "shipper_name", "shipper_country"]
    columns += ["consignee_name", "consignee_postal_code", "consignee_address", "country_of_origin"]
    columns += ["hts_code", "description", "quantity", "declared_value", "currency"]
    values = ["P2", "1", "2025-03-10", "express", "Nordlicht GmbH", "DE", "Keller, Anna", "20001"]
    values += ["12 Elm Street", "DE", "6109.10.00.12", "cotton t-shirt", "1", "100.00", "USD"]
    order = sorted(range(len(columns)), key=lambda i: (columns[i] != "consignee_name") if names_first else i)
    manifest = tmp_path / "shifted.csv"
    manifest.write_text(
        ",".join(columns[i] for i in order) + "\n" + ",".join(values[i] for i in order) + "\n"
    )
    result = screening.screen(manifest, rules=US_PACK, pseudonymise_key="k1")
    assert result.rejects["code"].to_list() == ["malformed-row"]
    text = result.rejects.write_ndjson()
    assert not [s for s in ("Elm Street", "Keller", "Anna", "Nordlicht", "20001") if s in text], text


def test_batches_are_pseudonymised_as_the_whole_day_is(tmp_path: Path) -> None:
    env = {**os.environ, "SCREEN_TEST_KEY": "k1"}
    args = ["run", str(MANIFEST), "--quiet", "--pseudonymise-key-env", "SCREEN_TEST_KEY"]
    for out, extra in (("whole", []), ("batches", ["--batch-size", "7", "--state", str(tmp_path / "s")])):
        done = subprocess.run(
            [sys.executable, "-m", "screening", *args, "--out", str(tmp_path / out), *extra],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    source = pl.read_csv(MANIFEST, infer_schema=False)
    secrets = {v for c in ("shipper_name", "consignee_name") for v in source[c].drop_nulls()}
    for file in (tmp_path / "batches").iterdir():
        text = pl.read_parquet(file).write_ndjson() if file.suffix == ".parquet" else file.read_text()
        assert not [s for s in secrets if s in text], file.name
    whole, batched = (pl.read_parquet(tmp_path / n / "lines.parquet") for n in ("whole", "batches"))
    for column in PARTY_COLUMNS:
        assert batched[column].drop_nulls().str.starts_with("p:").all(), column
    pseudonyms = ["package_id", "line_no", *PARTY_COLUMNS, "consignee_key"]
    assert (
        batched.select(pseudonyms)
        .sort("package_id", "line_no")
        .equals(whole.select(pseudonyms).sort("package_id", "line_no"))
    )


def test_a_resumed_screener_must_use_the_key_of_its_earlier_batches(tmp_path: Path) -> None:
    batch = pl.read_csv(MANIFEST, infer_schema=False)
    screener = screening.Screener(US_PACK, pseudonymise_key="k1")
    screener.screen(batch)
    path = screener.save_state(tmp_path / "day.state")
    assert screening.Screener.restore(path, US_PACK, pseudonymise_key="k1").state.rows_seen == batch.height
    with pytest.raises(screening.UsageError, match="another pseudonymisation key"):
        screening.Screener.restore(path, US_PACK, pseudonymise_key="k2")
    with pytest.raises(screening.UsageError, match="options"):
        screening.Screener.restore(path, US_PACK)
    with pytest.raises(screening.UsageError, match="empty"):
        screening.Screener(US_PACK, pseudonymise_key="")


def test_every_party_field_is_replaced_in_lines_packages_and_rejects(
    manifest: Callable[..., pl.DataFrame],
) -> None:
    party = {
        "shipper_name": "Vexmoor Trading",
        "consignee_id": "CID-77421",
        "consignee_name": "Quentin Marlowe",
        "consignee_address": "17 Larkspur Row",
        "consignee_postal_code": "20001",
    }
    frame = manifest({**party, "package_id": "P1"}, {**party, "package_id": "P2", "hts_code": "12"})
    result = screening.screen(frame, rules=US_PACK, pseudonymise_key="k1")
    assert result.rejects["code"].to_list() == ["invalid-hts"]
    for column in [*party, "consignee_key"]:
        assert result.lines[column].str.starts_with("p:").all(), column
    text = " ".join(f.write_ndjson() for f in (result.lines, result.packages, result.rejects))
    assert not [v for v in party.values() if v in text]
