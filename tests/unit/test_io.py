"""Tests of input and output: column mapping, opening sources, in-memory inputs and writing results."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet  # type: ignore[import-untyped,unused-ignore]
import pytest
from polars.testing import assert_frame_equal
from pydantic import ValidationError

import screening
from screening.errors import InputSchemaError, UsageError
from screening.exprs.parties import history_key
from screening.io import sources
from screening.io.extra_columns import stacked_type
from screening.io.history import read_history
from screening.io.mapping import ColumnMapping
from screening.io.sources import open_sources
from screening.io.type_json import type_from_json, type_to_json
from screening.io.writers import _HOST_ID, csv_cell, csv_ready, write_frame
from screening.result import OUTPUTS, Result
from screening.rulepack.loader import RulePack, load_rules
from screening.schema import REQUIRED_COLUMNS, ROW_COL, SOURCE_COL
from screening.screener import screen_files_in_batches
from screening.stages.risk import consignee_history

from ..conftest import (
    BASE_LINE,
    OUTPUT_FILES,
    ROOT,
    SAMPLE,
    US_PACK,
    screen_without_permission_bypass,
    write_ipc_stream,
)

PACK_PATH = Path(__file__).resolve().parents[2] / "rules" / "us"


_NAMES = ("Anna Keller", "Bob Stone", "Chen Li", "Dana Ruiz")


def manifest(n: int = 3, **columns: list[Any]) -> pl.DataFrame:
    """A small valid manifest (all required canonical columns, text values), with overrides."""
    data: dict[str, list[Any]] = {
        "package_id": [f"P{i}" for i in range(n)],
        "arrival_date": ["2025-03-10"] * n,
        "mode": ["express"] * n,
        "shipper_name": ["Berlin Shirts GmbH"] * n,
        "consignee_name": [_NAMES[i % len(_NAMES)] for i in range(n)],
        "country_of_origin": ["DE"] * n,
        "hts_code": ["6109.10.00.12"] * n,
        "description": ["cotton t-shirt"] * n,
        "declared_value": [f"{10 * (i + 1)}.00" for i in range(n)],
        "currency": ["EUR"] * n,
    }
    data.update(columns)
    return pl.DataFrame(data)


@pytest.fixture(scope="module")
def pack() -> RulePack:
    return load_rules(PACK_PATH)


def screen(source: Any, pack: RulePack, **kwargs: Any) -> Result:
    return screening.screen(source, rules=pack, **kwargs)


# --- Column mapping --------------------------------------------------------------------------------------

_CARRIER_HEADERS = {
    "package_id": "HAWB",
    "declared_value": "Value",
    "arrival_date": "Arrived",
    "shipper_name": "Shipper",
    "consignee_name": "Receiver",
    "country_of_origin": "Origin",
    "hts_code": "HS",
    "description": "Goods",
}


def carrier_csv(path: Path) -> Path:
    """A manifest as a carrier might send it: its own headers, no mode or currency column."""
    manifest().drop("mode", "currency").rename(_CARRIER_HEADERS).write_csv(path)
    return path


def test_mapping_renames_and_defaults(tmp_path: Path, pack: RulePack) -> None:
    source = carrier_csv(tmp_path / "carrier.csv")
    mapping = ColumnMapping(columns=_CARRIER_HEADERS, defaults={"mode": "express", "currency": "EUR"})
    result = screen(source, pack, mapping=mapping)
    assert result.rejects.height == 0
    assert result.lines.height == 3
    for canonical in REQUIRED_COLUMNS:
        assert canonical in result.lines.columns
    for header in _CARRIER_HEADERS.values():
        assert header not in result.lines.columns
    assert result.lines["package_id"].to_list() == ["P0", "P1", "P2"]
    assert set(result.lines["mode"]) == {"express"}
    assert set(result.lines["currency"]) == {"EUR"}
    assert result.packages["package_id"].to_list() == ["P0", "P1", "P2"]


def test_mapping_from_toml_gives_the_same_result(tmp_path: Path, pack: RulePack) -> None:
    source = carrier_csv(tmp_path / "carrier.csv")
    toml = tmp_path / "mapping.toml"
    toml.write_text(
        "[columns]\n"
        + "".join(f'{canonical} = "{header}"\n' for canonical, header in _CARRIER_HEADERS.items())
        + '[defaults]\nmode = "express"\ncurrency = "EUR"\n',
        encoding="utf-8",
    )
    from_file = screen(source, pack, mapping=toml)
    from_object = screen(
        source,
        pack,
        mapping=ColumnMapping(columns=_CARRIER_HEADERS, defaults={"mode": "express", "currency": "EUR"}),
    )
    assert_frame_equal(from_file.packages, from_object.packages)
    assert_frame_equal(from_file.lines, from_object.lines)


def test_a_toml_date_in_the_defaults_is_read_as_its_iso_text(tmp_path: Path, pack: RulePack) -> None:
    """`arrival_date = 2025-09-15` (a TOML date, unquoted) was refused with a dump of four validation errors."""
    source = tmp_path / "undated.csv"
    manifest().drop("arrival_date").write_csv(source)
    dated, quoted = tmp_path / "dated.toml", tmp_path / "quoted.toml"
    dated.write_text("[defaults]\narrival_date = 2025-09-15\n", encoding="utf-8")
    quoted.write_text('[defaults]\narrival_date = "2025-09-15"\n', encoding="utf-8")
    assert ColumnMapping.from_toml(dated) == ColumnMapping.from_toml(quoted)
    assert ColumnMapping.from_toml(dated).digest() == ColumnMapping.from_toml(quoted).digest()
    result = screen(source, pack, mapping=dated)
    assert set(result.lines["arrival_date"]) == {dt.date(2025, 9, 15)}
    # A TOML date-time is refused, naming the key: as text, every line would be an invalid-date reject.
    with pytest.raises(ValidationError, match="arrival_date: a date-time or time is not a default"):
        ColumnMapping(defaults={"arrival_date": dt.datetime(2025, 9, 15, 10, 30)})
    stamped = tmp_path / "stamped.toml"
    stamped.write_text("[defaults]\narrival_date = 2025-09-15T10:00:00\n", encoding="utf-8")
    with pytest.raises(UsageError, match="a date-time or time is not a default"):
        ColumnMapping.from_toml(stamped)


def test_default_does_not_override_a_present_column(tmp_path: Path, pack: RulePack) -> None:
    source = tmp_path / "m.csv"
    manifest(mode=["postal", "postal", "postal"]).write_csv(source)
    result = screen(source, pack, mapping=ColumnMapping(defaults={"mode": "express"}))
    assert set(result.lines["mode"]) == {"postal"}


def test_unknown_canonical_key_is_refused_at_construction() -> None:
    with pytest.raises(ValidationError, match="hawb_number"):
        ColumnMapping(columns={"hawb_number": "HAWB"})
    with pytest.raises(ValidationError, match="origin"):
        ColumnMapping(defaults={"origin": "CN"})


def test_one_header_mapped_to_two_canonical_names_is_refused() -> None:
    # Renaming can give a header one name only: the other column would silently go missing.
    with pytest.raises(ValidationError, match=r"'HAWB': \['package_id', 'shipper_name'\]"):
        ColumnMapping(columns={"package_id": "HAWB", "shipper_name": "HAWB"})


@pytest.mark.parametrize(
    "text",
    [
        '[columns]\nhawb_number = "HAWB"\n',
        '[defaults]\norigin = "CN"\n',
        '[colums]\npackage_id = "HAWB"\n',
        '[columns]\npackage_id = "HAWB"\nline_no = "HAWB"\n',
        "[columns\n",
    ],
)
def test_invalid_mapping_file_raises_usage_error(tmp_path: Path, text: str) -> None:
    toml = tmp_path / "mapping.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        ColumnMapping.from_toml(toml)
    assert info.value.exit_code == 2
    assert "mapping.toml" in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"[columns]\npackage_id = " + b"[" * 1_000 + b"]" * 1_000 + b"\n", "nested too deeply"),
        (b'[columns]\npackage_id = "\xff"\n', "not UTF-8 text"),
    ],
    ids=["nested-1000-deep", "not-utf8"],
)
def test_a_mapping_file_nested_too_deeply_or_not_utf8_is_a_usage_error(
    tmp_path: Path, content: bytes, message: str
) -> None:
    """Arrays nested 1,000 deep (or bytes that are not UTF-8) in a ``--mapping`` file ended in an internal
    RecursionError (UnicodeDecodeError), exit 70, naming no file."""
    toml = tmp_path / "mapping.toml"
    toml.write_bytes(content)
    with pytest.raises(UsageError, match=rf"mapping\.toml: invalid column mapping: .*{message}") as info:
        ColumnMapping.from_toml(toml)
    assert info.value.exit_code == 2


def test_a_mapping_file_saved_with_a_byte_order_mark_says_so(tmp_path: Path) -> None:
    """A mapping saved as 'UTF-8 with BOM' (Windows Notepad) said only 'Invalid statement (at line 1, column 1)';
    a rule-pack file with the mark gets the hint, and so does a mapping file."""
    toml = tmp_path / "mapping.toml"
    toml.write_bytes(b'\xef\xbb\xbf[defaults]\ncarrier = "DHL"\n')
    with pytest.raises(
        UsageError, match=r"mapping\.toml: invalid column mapping: .*byte-order mark.*save it as UTF-8"
    ):
        ColumnMapping.from_toml(toml)


def test_a_mapping_path_that_is_a_folder_is_a_usage_error(tmp_path: Path) -> None:
    """A folder given as ``--mapping`` ended in an internal IsADirectoryError (exit 70)."""
    with pytest.raises(UsageError, match="mapping file cannot be read") as info:
        ColumnMapping.from_toml(tmp_path)
    assert info.value.exit_code == 2


def test_missing_mapping_file_raises_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"nowhere\.toml"):
        ColumnMapping.from_toml(tmp_path / "nowhere.toml")


def test_mapping_onto_a_column_that_already_exists(tmp_path: Path) -> None:
    source = tmp_path / "m.csv"
    manifest().with_columns(HAWB=pl.lit("X")).write_csv(source)
    with pytest.raises(InputSchemaError, match="package_id"):
        open_sources([source], ColumnMapping(columns={"package_id": "HAWB"}))


def test_a_mapped_header_the_file_lacks_is_refused_unless_defaulted_or_canonical(
    tmp_path: Path, pack: RulePack
) -> None:
    """A misspelt header (`gift = "Is_Gift"` for a column `IsGift`) was ignored: every line took the default
    (not a gift) and owed duty."""
    source = tmp_path / "carrier.csv"
    manifest().with_columns(IsGift=pl.lit("true")).write_csv(source)
    typo = ColumnMapping(columns={"gift": "Is_Gift", "quantity": "Qty"})
    with pytest.raises(InputSchemaError, match=r"carrier\.csv") as info:
        screen(source, pack, mapping=typo)
    assert "the mapping names header 'Is_Gift' for gift, 'Qty' for quantity, which the file lacks" in str(
        info.value
    )
    assert "'IsGift'" in str(info.value)  # the headers it has
    assert info.value.missing == ("gift", "quantity")
    with pytest.raises(InputSchemaError, match="Is_Gift"):
        screening.Screener(pack, mapping=typo).screen(pl.read_csv(source))
    # Files without the column, foreseen by a default: the default applies.
    defaulted = ColumnMapping(columns={"gift": "Is_Gift"}, defaults={"gift": False})
    assert screen(source, pack, mapping=defaulted).lines["gift"].to_list() == [False] * 3
    # A file that has the canonical column itself keeps it.
    canonical = tmp_path / "canonical.csv"
    manifest().with_columns(gift=pl.lit("true")).write_csv(canonical)
    gift_typo = ColumnMapping(columns={"gift": "Is_Gift"})
    assert screen(canonical, pack, mapping=gift_typo).lines["gift"].to_list() == [True] * 3
    right = ColumnMapping(columns={"gift": "IsGift"})
    assert screen(source, pack, mapping=right).lines["gift"].to_list() == [True] * 3


def test_a_header_that_differs_from_a_canonical_name_only_in_case_or_blanks_is_refused(
    tmp_path: Path, pack: RulePack
) -> None:
    """`Gift`, `Gross_Weight_Kg` and `usmca_claim ` (a trailing blank) passed through as extra columns while
    `gift`, `gross_weight_kg` and `usmca_claim` took their defaults: a gift charged duty, a claim lost."""
    near = manifest().with_columns(
        Gift=pl.lit("yes"), Gross_Weight_Kg=pl.lit("1.0"), **{"usmca_claim ": pl.lit("yes")}
    )
    source = tmp_path / "carrier.csv"
    near.write_csv(source)
    with pytest.raises(InputSchemaError, match=r"carrier\.csv") as info:
        screen(source, pack)
    assert info.value.exit_code == 3
    assert (
        "3 column headers differ from a canonical name only in case, blanks or invisible characters"
        in str(info.value)
    )
    assert "'Gift'" in str(info.value)
    assert "'Gross_Weight_Kg'" in str(info.value)
    assert "'usmca_claim '" in str(info.value)
    # In memory, batch by batch and file by file in batches alike.
    with pytest.raises(InputSchemaError, match="'Gift'"):
        screen(near, pack)
    with pytest.raises(InputSchemaError, match="'Gift'"):
        screening.Screener(pack).screen(near)
    with pytest.raises(InputSchemaError, match="'Gift'"):
        screen_files_in_batches([source], out=tmp_path / "out", batch_size=2, rules=pack)
    # Beside the canonical column itself, which one holds the values is not known.
    both = manifest(gift=["no"] * 3).with_columns(Gift=pl.lit("yes"))
    with pytest.raises(InputSchemaError, match="'Gift' beside 'gift'"):
        screen(both, pack)
    # Mapped, the column is read.
    mapped = ColumnMapping(
        columns={"gift": "Gift", "gross_weight_kg": "Gross_Weight_Kg", "usmca_claim": "usmca_claim "}
    )
    lines = screen(source, pack, mapping=mapped).lines
    assert lines.select("gift", "usmca_claim").unique().rows() == [(True, True)]
    assert lines["gross_weight_kg"].to_list() == [1.0] * 3


def test_a_canonical_header_with_an_invisible_character_is_refused(tmp_path: Path, pack: RulePack) -> None:
    """``\\ufeffgift`` (a byte-order mark, as Python's csv module reads a BOM file's first header) and
    ``gift\\u200b`` (a zero-width space) passed through as extra columns: every line a gift, screened as none.
    ``\\ufeffpackage_id`` was a missing ``package_id``, its header cut off the list of the file's headers."""
    gifts = manifest(gift=["true"] * 3)
    escaped = {"\ufeffgift": r'"\ufeffgift"', "gift\u200b": r'"gift\u200b"', "gi\u00adft": r'"gi\u00adft"'}
    for header, toml in escaped.items():
        near = gifts.rename({"gift": header})
        with pytest.raises(InputSchemaError, match="invisible characters") as info:
            screen(near.to_arrow(), pack)
        assert repr(header) in str(info.value)  # escaped: \ufeff, not an invisible character
        with pytest.raises(InputSchemaError, match=re.escape(repr(header))):
            screening.Screener(pack).screen(near)
        # Mapped (a TOML basic string with the escape, as the message suggests), the column is read.
        assert f"[columns] gift = {toml})" in str(info.value)
        mapped = ColumnMapping(columns={"gift": header})
        assert screen(near, pack, mapping=mapped).lines["gift"].to_list() == [True] * 3
    source = tmp_path / "carrier.csv"
    gifts.rename({"gift": "gift\u200b"}).write_csv(source)
    with pytest.raises(InputSchemaError, match=r"carrier\.csv: .*'gift\\u200b'"):
        screen(source, pack)
    required = manifest().rename({"package_id": "\ufeffpackage_id"})
    with pytest.raises(InputSchemaError, match=r"'\\ufeffpackage_id' \(it would pass through"):
        screen(required.to_arrow(), pack)


def test_a_missing_column_error_lists_the_headers_the_engine_does_not_know_first(pack: RulePack) -> None:
    """The file's headers were listed in name order, the first 12: a misspelt ``pakage_id`` sorted after them
    and was never shown, though it is the one header to map."""
    misspelt = manifest(
        carrier=["DHL"] * 3, consignee_id=["C1"] * 3, gross_weight_kg=["1"] * 3, quantity=["1"] * 3
    ).rename({"package_id": "pakage_id"})
    with pytest.raises(InputSchemaError, match=r"missing required columns \['package_id'\]") as info:
        screen(misspelt.to_arrow(), pack)
    assert "it has ['pakage_id', 'arrival_date'," in str(info.value)


# --- Opening sources -------------------------------------------------------------------------------------


def write_parts(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    first, second = folder / "a.csv", folder / "b.csv"
    manifest(2).write_csv(first)
    manifest(2, package_id=["Q0", "Q1"]).write_csv(second)
    (folder / "README.txt").write_text("not a manifest", encoding="utf-8")
    return [first, second]


def test_open_sources_with_a_glob(tmp_path: Path) -> None:
    paths = write_parts(tmp_path / "in")
    sources = open_sources([str(tmp_path / "in" / "*.csv")])
    assert [s.path for s in sources] == paths
    assert [s.label for s in sources] == [str(p) for p in paths]


def test_open_sources_with_a_folder(tmp_path: Path) -> None:
    paths = write_parts(tmp_path / "in")
    sources = open_sources([tmp_path / "in"])
    assert [s.path for s in sources] == paths  # sorted; README.txt ignored


def test_a_folder_leaves_its_hidden_files_out(tmp_path: Path) -> None:
    """A folder copied from macOS holds AppleDouble files (``._a.csv``, resource forks, not CSV): taken for
    manifests, they failed the whole run (exit 3). Hidden files are left out, as a glob's ``*`` leaves them; one
    named is read."""
    paths = write_parts(tmp_path / "in")
    (tmp_path / "in" / "._a.csv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02")
    (tmp_path / "in" / ".b.csv.swp.csv").write_text("not a manifest", encoding="utf-8")
    assert [s.path for s in open_sources([tmp_path / "in"])] == paths
    assert [s.path for s in open_sources([str(tmp_path / "in*")])] == paths
    (tmp_path / "hidden_only").mkdir()
    (tmp_path / "hidden_only" / "._a.csv").write_bytes(b"\x00\x05\x16\x07")
    with pytest.raises(InputSchemaError, match="hidden_only: folder holds no manifest files"):
        open_sources([tmp_path / "hidden_only"])
    with pytest.raises(InputSchemaError, match=r"\._a\.csv"):
        open_sources([tmp_path / "hidden_only" / "._a.csv"])


def test_a_folder_keeps_every_entry_of_a_manifest_suffix_but_subfolders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Entries that are no regular file were left out unsaid (a link whose target is gone: its rows lost, exit 0);
    they are refused naming them. A subfolder named like a manifest stays left out, and a folder that cannot be
    listed is refused with the system's reason (it was an internal error, exit 70)."""
    paths = write_parts(tmp_path / "in")
    (tmp_path / "in" / "hour.parquet").mkdir()
    assert [s.path for s in open_sources([tmp_path / "in"])] == paths
    (tmp_path / "in" / "moved.csv").symlink_to(tmp_path / "archive" / "moved.csv")
    with pytest.raises(InputSchemaError, match=r"moved\.csv: cannot be read: a symbolic link to .*archive"):
        open_sources([tmp_path / "in"])

    def denied(self: Path) -> Iterator[Path]:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", denied)
    with pytest.raises(InputSchemaError, match=r"in: folder cannot be read: Permission denied"):
        open_sources([tmp_path / "in"])


def test_a_glob_reads_the_folders_it_matches(tmp_path: Path) -> None:
    """`incoming/2025-06-10*` over hourly folders screened none of their files, without a word."""
    hour_one = write_parts(tmp_path / "incoming" / "2025-06-10T01")
    hour_two = write_parts(tmp_path / "incoming" / "2025-06-10T02")
    (tmp_path / "incoming" / "2025-06-10-notes").mkdir()
    (tmp_path / "incoming" / "2025-06-10-notes" / "notes.txt").write_text("no manifest here")
    with pytest.raises(InputSchemaError, match="2025-06-10-notes: folder holds no manifest files") as refused:
        open_sources([str(tmp_path / "incoming" / "2025-06-10*")])
    # Every suffix a folder is read for is named (the message listed four of nine).
    assert all(suffix in str(refused.value) for suffix in (".pq", ".tsv", ".ipc", ".feather", ".jsonl"))
    sources = open_sources([str(tmp_path / "incoming" / "2025-06-10T*")])
    assert [s.path for s in sources] == [*hour_one, *hour_two]


# --- NDJSON: an object or array where a canonical value belongs ---------------------------------------------


def _ndjson_file(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return path


def _records(n: int, **columns: list[Any]) -> list[dict[str, Any]]:
    frame = manifest(n).to_dicts()
    return [{**row, **{name: values[i] for name, values in columns.items()}} for i, row in enumerate(frame)]


def test_an_ndjson_object_where_a_number_belongs_rejects_that_record_alone(
    tmp_path: Path, pack: RulePack
) -> None:
    """One record's quantity given as an object refused the whole file (exit 3), naming no record: the column
    is read as text (the object as its JSON text), and the validator rejects that row only, in every reader."""
    quantity = {"value": 2, "unit": "pcs"}
    path = _ndjson_file(tmp_path / "day.ndjson", _records(4, quantity=[1, 2, quantity, 1.5]))
    result = screen(path, pack)
    assert result.rejects.select("row", "field", "code").rows() == [(3, "quantity", "invalid-number")]
    assert '{"value": 2, "unit": "pcs"}' in result.rejects["value"][0]
    assert sorted(result.lines["quantity"].to_list()) == [1.0, 1.5, 2.0]
    summary, _ = screening.screen_to_folder(path, tmp_path / "parts", rules=pack, part_lines=1)
    assert (summary["counts"]["lines"], summary["counts"]["rejected"]) == (3, 1)
    summary, _ = screen_files_in_batches([path], out=tmp_path / "batches", batch_size=2, rules=pack)
    assert (summary["counts"]["lines"], summary["counts"]["rejected"]) == (3, 1)
    assert screening.Screener(pack).screen(path).rejects["row"].to_list() == [3]
    # Under a mapped header too.
    mapped = _ndjson_file(tmp_path / "mapped.ndjson", _records(2, Qty=[quantity, 1]))
    result = screen(mapped, pack, mapping=ColumnMapping(columns={"quantity": "Qty"}))
    assert result.rejects.select("row", "field", "code").rows() == [(1, "quantity", "invalid-number")]


def test_an_ndjson_extra_object_column_passes_through_as_it_is(tmp_path: Path, pack: RulePack) -> None:
    path = _ndjson_file(tmp_path / "day.ndjson", _records(2, ref=[{"a": 1}, {"a": 2}]))
    assert screen(path, pack).lines.sort("row")["ref"].to_list() == [{"a": 1}, {"a": 2}]


@pytest.mark.parametrize(
    ("column", "values", "fault"),
    [
        (
            "quantity",
            [[1, 2], None, {"value": 2}],
            "record 3 (line 3): 'quantity' holds a JSON object where record 1 holds a JSON array",
        ),
        (
            "ref",
            [7, 8, {"a": 1}],
            "record 3 (line 3): 'ref' holds a JSON object where record 1 holds a number",
        ),
        ("gift", [True, None, 1], "record 3 (line 3): 'gift' holds a number where record 1 holds true/false"),
    ],
    ids=["array-then-object", "numbers-then-object", "true-then-a-number"],
)
def test_an_ndjson_column_of_objects_and_other_values_names_the_record(
    tmp_path: Path, pack: RulePack, column: str, values: list[Any], fault: str
) -> None:
    """Files polars cannot read at all (its 'failed to determine supertype of struct[11] and struct[11]',
    'SchemaError', or for true beside 1 a 'ComputeError'): the message names the first record whose value is of
    another kind than an earlier one's. Text before them makes a text column, which polars reads."""
    path = _ndjson_file(tmp_path / "day.ndjson", _records(3, **{column: values}))
    with pytest.raises(InputSchemaError, match=re.escape(fault)) as info:
        screen(path, pack)
    assert info.value.source == str(path)
    readable = _ndjson_file(tmp_path / "text.ndjson", _records(4, **{column: ["text", *values]}))
    assert screen(readable, pack).summary["counts"]["input_rows"] == 4


def test_open_sources_with_several_paths(tmp_path: Path) -> None:
    first, second = write_parts(tmp_path / "in")
    sources = open_sources([second, str(first)])
    assert [s.path for s in sources] == [second, first]


def test_sources_carry_lineage(tmp_path: Path) -> None:
    first, _ = write_parts(tmp_path / "in")
    (source,) = open_sources([first])
    frame = source.frame.collect()
    assert frame.columns[:2] == [SOURCE_COL, ROW_COL]
    assert frame[SOURCE_COL].to_list() == [str(first)] * 2
    assert frame[ROW_COL].to_list() == [1, 2]  # 1-based data rows; the CSV header is not counted


def test_screening_a_folder_reads_every_file(tmp_path: Path, pack: RulePack) -> None:
    write_parts(tmp_path / "in")
    result = screen(tmp_path / "in", pack)
    assert result.packages["package_id"].to_list() == ["P0", "P1", "Q0", "Q1"]
    assert result.summary["counts"]["input_rows"] == 4


def test_dictionary_encoded_text_is_checked_as_text(pack: RulePack) -> None:
    # A blank required field is missing whatever the column's Arrow type: dictionary-encoded columns (as
    # Categorical) used to let "" through, and a package with no mode or origin was released duty-free.
    blanks = ["consignee_name", "mode", "country_of_origin", "hts_code", "currency"]
    rows = [{}, *({"package_id": f"B{i}", field: " "} for i, field in enumerate(blanks))]
    plain = pl.DataFrame([{**BASE_LINE, **r} for r in rows], schema=dict.fromkeys(BASE_LINE, pl.String()))
    encoded = pa.table({c: pa.compute.dictionary_encode(plain.to_arrow()[c]) for c in plain.columns})
    for source in (plain, encoded, plain.with_columns(pl.all().cast(pl.Categorical()))):
        result = screening.screen(source, rules=pack)
        assert result.packages["package_id"].to_list() == ["P1"]
        assert sorted(result.rejects.select("package_id", "code").rows()) == [
            (f"B{i}", "missing-field") for i in range(len(blanks))
        ]


def test_an_arrow_ipc_stream_is_read_as_the_ipc_file_format_is(tmp_path: Path) -> None:
    # A saved Flight stream (RecordBatchStreamWriter) has no footer: the file reader cannot scan it.
    frame = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(300)
    frame.write_ipc(tmp_path / "as_file.arrow")
    frame.write_ipc_stream(tmp_path / "as_stream.arrow")
    (as_file,) = open_sources([tmp_path / "as_file.arrow"])
    (as_stream,) = open_sources([tmp_path / "as_stream.arrow"])
    assert_frame_equal(as_stream.frame.drop(SOURCE_COL).collect(), as_file.frame.drop(SOURCE_COL).collect())


def test_an_arrow_ipc_stream_is_scanned_record_batch_by_record_batch(tmp_path: Path) -> None:
    """A whole-day run reads a stream several times (package ids, then every column): each read goes through
    its record batches, never holding the stream (a 1M-line stream peaked at 1.41 GiB read whole, 1.07 GiB
    scanned; the same day as Parquet 1.08 GiB)."""
    table = pl.read_parquet(SAMPLE / "manifest_10k.parquet").head(2_500).to_arrow()
    path = write_ipc_stream(tmp_path / "stream.arrow", table, 1_000)
    scan = sources.scan_file(path)
    assert "Arrow IPC stream" in scan.explain()  # read by the source's own reader, not a frame in memory
    expected = pl.from_arrow(table)
    assert isinstance(expected, pl.DataFrame)
    assert scan.select(pl.len()).collect().item() == 2_500
    assert_frame_equal(
        scan.select("package_id", "line_no").head(1_500).collect(),
        expected.select("package_id", "line_no").head(1_500),
    )
    wanted = pl.col("package_id") == expected["package_id"][1_700]
    assert_frame_equal(scan.filter(wanted).collect(), expected.filter(wanted))


def test_a_damaged_arrow_ipc_stream_is_named_as_such(tmp_path: Path, pack: RulePack) -> None:
    table = pl.read_parquet(SAMPLE / "manifest_10k.parquet").to_arrow()
    whole = write_ipc_stream(tmp_path / "whole.arrow", table, 1_000)
    cut = tmp_path / "cut.arrow"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    for part_lines in (200_000, 3_000):  # the day in one part; in parts
        with pytest.raises(InputSchemaError, match=r"cut\.arrow: cannot be read: damaged data") as info:
            screening.screen_to_folder(cut, tmp_path / "out", rules=pack, part_lines=part_lines)
        assert info.value.exit_code == 3
        assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["missing.csv", "missing-folder", "nothing-*.csv"])
def test_missing_path(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    with pytest.raises(InputSchemaError) as info:
        open_sources([path])
    assert info.value.exit_code == 3
    assert str(path) in str(info.value)
    assert info.value.source == str(path)


def test_folder_without_manifests(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InputSchemaError, match="no manifest files"):
        open_sources([tmp_path])


def test_parquet_lacking_required_columns(tmp_path: Path) -> None:
    path = tmp_path / "partial.parquet"
    manifest().drop("hts_code", "currency").write_parquet(path)
    with pytest.raises(InputSchemaError) as info:
        open_sources([path])
    exc = info.value
    assert exc.exit_code == 3
    assert exc.missing == ("hts_code", "currency")
    message = str(exc)
    assert str(path) in message
    assert "hts_code" in message
    assert "currency" in message
    assert "package_id" not in message.split("it has", maxsplit=1)[0]


def test_no_input() -> None:
    with pytest.raises(InputSchemaError):
        open_sources([])


def test_unsupported_in_memory_object() -> None:
    with pytest.raises(UsageError, match="cannot read object"):
        open_sources([object()])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda pack, _out: screening.screen(42, rules=pack), "cannot read int"),
        (lambda pack, _out: screening.Screener(pack, pseudonymise_key=3), "key must be text or bytes"),
        (
            lambda pack, out: screening.screen_to_folder(
                SAMPLE / "manifest_10k.parquet", out, rules=pack, part_lines=0
            ),
            "part_lines",
        ),
    ],
    ids=["source", "key", "part-lines"],
)
def test_a_wrong_call_is_a_usage_error(
    pack: RulePack, tmp_path: Path, call: Callable[[RulePack, Path], object], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        call(pack, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --- In-memory inputs ------------------------------------------------------------------------------------


class ArrowStream:
    """An object that exposes only the Arrow PyCapsule stream interface."""

    def __init__(self, table: pa.Table | pa.RecordBatchReader) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._table.__arrow_c_stream__(requested_schema)

    @classmethod
    def of_reader(cls, reader: pa.RecordBatchReader) -> ArrowStream:
        """The stream of ``reader``'s batches (read when the stream is)."""
        return cls(reader)


def _in_memory_variants(frame: pl.DataFrame) -> dict[str, Any]:
    table = frame.to_arrow()
    return {
        "pyarrow-table": table,
        "record-batch-reader": pa.RecordBatchReader.from_batches(table.schema, table.to_batches()),
        "polars-dataframe": frame,
        "polars-lazyframe": frame.lazy(),
        "arrow-c-stream": ArrowStream(table),
    }


@pytest.mark.parametrize(
    "kind", ["pyarrow-table", "record-batch-reader", "polars-dataframe", "polars-lazyframe", "arrow-c-stream"]
)
def test_in_memory_inputs_screen_like_a_file(tmp_path: Path, pack: RulePack, kind: str) -> None:
    frame = manifest(4, currency=["EUR", "USD", "GBP", "EUR"], country_of_origin=["DE", "CN", "GB", "DE"])
    path = tmp_path / "m.parquet"
    frame.write_parquet(path)
    from_file = screen(path, pack)
    from_memory = screen(_in_memory_variants(frame)[kind], pack)
    assert from_file.packages.height == 4
    assert_frame_equal(from_memory.packages, from_file.packages)
    assert_frame_equal(from_memory.lines.drop(SOURCE_COL), from_file.lines.drop(SOURCE_COL))
    assert set(from_memory.lines[SOURCE_COL]) == {"<memory:0>"}


@pytest.mark.parametrize(
    "kind", ["pyarrow-table", "record-batch-reader", "polars-dataframe", "polars-lazyframe"]
)
def test_in_memory_inputs_in_several_chunks_screen_like_a_file(pack: RulePack, kind: str) -> None:
    """Tables of several record batches (as Flight streams and readers deliver them) and frames in
    several chunks: polars 2.1 panicked formatting their strings until inputs were made contiguous."""
    source = SAMPLE / "manifest_10k.csv"
    # As polars' CSV reader leaves it: several chunks, each with its own string buffers.
    chunked = pl.concat(
        [
            pl.read_csv(source, infer_schema=False, skip_rows_after_header=skip, n_rows=rows)
            for skip, rows in ((0, 2_500), (2_500, 3_500), (6_000, None))
        ],
        rechunk=False,
    )
    assert chunked.n_chunks() > 1
    assert chunked.height == 10_000
    from_file = screen(source, pack)
    from_memory = screen(_in_memory_variants(chunked)[kind], pack)
    assert_frame_equal(from_memory.packages, from_file.packages)
    # Messages naming another line's source (package-incomplete) name the file or the in-memory input.
    label = pl.col("message").str.replace_all(str(source), "<memory:0>", literal=True)
    assert_frame_equal(
        from_memory.rejects.drop(SOURCE_COL), from_file.rejects.drop(SOURCE_COL).with_columns(label)
    )


def test_in_memory_typed_columns_screen_like_text(tmp_path: Path, pack: RulePack) -> None:
    text = manifest()
    typed = text.with_columns(
        pl.col("arrival_date").str.to_date(),
        pl.col("declared_value").cast(pl.Decimal(24, 6)),
    )
    assert_frame_equal(screen(typed, pack).packages, screen(text, pack).packages)


@pytest.mark.parametrize("dtype", [pl.Int8, pl.Int64, pl.UInt32])
def test_integer_flags_are_yes_no_only_at_one_and_zero_as_in_text(pack: RulePack, dtype: pl.DataType) -> None:
    as_text = manifest(4, gift=["1", "0", "2", None])
    as_integers = as_text.with_columns(pl.col("gift").cast(dtype))
    from_text, from_integers = screen(as_text, pack), screen(as_integers, pack)
    assert from_integers.rejects.select("row", "code", "field").to_dicts() == [
        {"row": 3, "code": "invalid-flag", "field": "gift"}
    ]
    assert_frame_equal(from_integers.packages, from_text.packages)
    assert_frame_equal(from_integers.rejects.drop("message"), from_text.rejects.drop("message"))


def _typed_numbers(frame: pl.DataFrame, names: list[str], dtype: pl.DataType) -> pl.DataFrame:
    """``frame`` with the text columns ``names`` as numbers of ``dtype`` (a float through its 64-bit value)."""
    if dtype == pl.String():
        return frame
    numbers = pl.col(names) if isinstance(dtype, pl.Decimal) else pl.col(names).cast(pl.Float64())
    return frame.with_columns(numbers.cast(dtype))


_NUMBER_TYPES = [pl.String(), pl.Float64(), pl.Float32(), pl.Float16(), pl.Decimal(10, 2), pl.Decimal(10, 1)]


@pytest.mark.parametrize("dtype", _NUMBER_TYPES, ids=str)
def test_a_fractional_line_no_is_invalid_number_whatever_the_column_s_type(
    pack: RulePack, dtype: pl.DataType
) -> None:
    """A decimal column's line_no 1.50 was cut to line 1, and 1.9 too: a package numbered 1.5 and 2 was screened as
    lines 1 and 2, one numbered 1, 1.5 and 2 rejected as a ``conflicting-line`` 1 (the fault never named); a
    Float16's as well (polars 2.1 floors a Float16 to itself). As text or a 64-bit float the fraction is
    ``invalid-number``, and the rest of its package ``package-incomplete``: now whatever the column's type.
    Whole numbers (``2.00``) are still the line numbers they write."""
    text = manifest(5, package_id=["P1", "P1", "P1", "P2", "P2"], line_no=["1", "1.5", "2", "1.9", "2"])
    result = screen(_typed_numbers(text, ["line_no"], dtype), pack)
    assert result.lines.height == 0
    assert result.rejects.sort("row").select("row", "field", "code").rows() == [
        (1, "package_id", "package-incomplete"),
        (2, "line_no", "invalid-number"),
        (3, "package_id", "package-incomplete"),
        (4, "line_no", "invalid-number"),
        (5, "package_id", "package-incomplete"),
    ]
    whole = manifest(2, package_id=["P1", "P1"], line_no=["1.0", "2"])
    assert screen(_typed_numbers(whole, ["line_no"], dtype), pack).lines["line_no"].to_list() == [1, 2]


@pytest.mark.parametrize(("dtype", "bits"), [(pl.Float16(), 11), (pl.Float32(), 24), (pl.Float64(), 53)])
def test_a_float_package_id_or_line_no_from_its_type_s_exact_integers_up_is_invalid_number(
    pack: RulePack, dtype: pl.DataType, bits: int
) -> None:
    """2049 and 2048 in a Float16 column are both 2048: two producers' parcels were one package ``2048`` (a
    Float32 refused its ids from 2^24 up, which it cannot tell from their neighbours, but a Float16 was held to
    2^53), and 1.5 was package ``1``. Every float type now refuses a package id from its own bound up (2^11 in a
    Float16) and a fraction, and a line number too (a Float32's from 2^24 was a line); below the bound a whole
    number is the id or line it writes."""
    top = float(2**bits)
    frame = manifest(4).with_columns(
        pl.Series("package_id", [top - 1, top, 1.5, 7.0], dtype=dtype),
        pl.Series("line_no", [1.0, 1.0, 1.0, top], dtype=dtype),
    )
    result = screen(frame, pack)
    assert result.lines.select("package_id", "line_no").rows() == [(str(2**bits - 1), 1)]
    rejects = result.rejects.sort("row")
    assert rejects.select("row", "field", "code").rows() == [
        (2, "package_id", "invalid-number"),
        (3, "package_id", "invalid-number"),
        (4, "line_no", "invalid-number"),
    ]
    assert f"below 2^{bits}" in rejects["message"][0]
    if bits < 30:  # a line number from 2^53 up is above 10^9, the highest, and said so
        assert f"2^{bits}" in rejects["message"][2], rejects["message"][2]


@pytest.mark.parametrize("dtype", [pl.Int32, pl.Int64, pl.UInt64])
def test_integer_postal_codes_and_ports_get_their_leading_zeros_back(
    pack: RulePack, dtype: pl.DataType
) -> None:
    """An integer column dropped leading zeros: ZIP 02134 read as 2134 split one person in two (the same person
    written 02134 in another file), and port 0101 became 101. A six-digit foreign code stays whole."""
    as_text = manifest(
        4,
        consignee_name=["Anna Keller"] * 3 + ["Bob Stone"],
        consignee_postal_code=["02134", "02134", "00501", "110001"],
        port_of_entry=["0101", "0101", "2704", "0901"],
    )
    as_integers = as_text.with_columns(pl.col("consignee_postal_code", "port_of_entry").cast(dtype))
    lines = screen(as_integers, pack).lines
    assert lines["consignee_postal_code"].to_list() == ["02134", "02134", "00501", "110001"]
    assert lines["port_of_entry"].to_list() == ["0101", "0101", "2704", "0901"]
    assert_frame_equal(screen(as_integers, pack).packages, screen(as_text, pack).packages)
    # One person across a text file and an integer one.
    both = screen([as_text.head(1), as_integers.slice(1, 1)], pack)
    assert both.packages["consignee_key"].to_list() == ["name:anna keller|02134"] * 2


def test_whole_float_postal_codes_and_ports_get_their_leading_zeros_back(pack: RulePack) -> None:
    """What pandas makes of an integer column with gaps: ZIP 02134 as 2134.0 was read "2134.0", another person
    than the 02134 of a text file; a value that is not whole stays as its text."""
    as_text = manifest(
        3,
        consignee_name=["Anna Keller"] * 3,
        consignee_postal_code=["02134", None, "110001"],
        port_of_entry=["0101", None, "2704"],
    )
    as_floats = as_text.with_columns(pl.col("consignee_postal_code", "port_of_entry").cast(pl.Float64()))
    lines = screen(as_floats, pack).lines
    assert lines["consignee_postal_code"].to_list() == ["02134", None, "110001"]
    assert lines["port_of_entry"].to_list() == ["0101", None, "2704"]
    assert_frame_equal(screen(as_floats, pack).packages, screen(as_text, pack).packages)
    halves = as_floats.head(1).with_columns(pl.lit(2134.5).alias("consignee_postal_code"))
    assert screen(halves, pack).lines["consignee_postal_code"].to_list() == ["2134.5"]


def test_postal_codes_and_ports_written_as_decimals_in_a_csv_read_as_in_a_parquet_file(
    tmp_path: Path, pack: RulePack
) -> None:
    """A float column saved as CSV writes ``2134.0``: read as text, the dot was dropped and ZIP 02134 became
    21340 (another ZIP), ``20001.0`` stayed itself (another person than 20001), and ports ``101`` and
    ``101.0`` were not the ``0101`` a Parquet file of the same numbers gives."""
    floats = manifest(
        4,
        consignee_name=["Anna Keller"] * 2 + ["Bob Stone"] * 2,
        consignee_postal_code=[2134.0, 2134.0, 20001.0, 110001.0],
        port_of_entry=[101.0, 101.0, 2720.0, 2720.0],
    )
    parquet, csv_file = tmp_path / "m.parquet", tmp_path / "m.csv"
    floats.write_parquet(parquet)
    floats.write_csv(csv_file)
    assert "2134.0" in csv_file.read_text()
    from_csv, from_parquet = screen(csv_file, pack), screen(parquet, pack)
    assert from_csv.lines["consignee_postal_code"].to_list() == ["02134", "02134", "20001", "110001"]
    assert from_csv.lines["port_of_entry"].to_list() == ["0101", "0101", "2720", "2720"]
    assert from_csv.packages["consignee_key"].to_list() == [
        "name:anna keller|02134",
        "name:anna keller|02134",
        "name:bob stone|20001",
        "name:bob stone|110001",
    ]
    assert_frame_equal(from_csv.packages, from_parquet.packages)
    # One person and one port however the number is written: as text of its digits, as a decimal, as a number.
    texts = manifest(
        4,
        consignee_name=["Anna Keller"] * 4,
        consignee_postal_code=["02134", "2134.0", " 02134.00 ", "02134"],
        port_of_entry=["0101", "101", "101.0", "1"],
    )
    lines = screen(texts, pack).lines
    assert lines["consignee_key"].unique().to_list() == ["name:anna keller|02134"]
    assert lines["port_of_entry"].to_list() == ["0101", "0101", "0101", "0001"]
    # Text that is not a whole number is kept as written: a four-digit ZIP is another country's code.
    others = manifest(
        3, consignee_postal_code=["2134", "2134.5", "K1A 0B1"], port_of_entry=["JFK", "12345", "27-20"]
    )
    kept = screen(others, pack).lines
    assert kept["consignee_postal_code"].to_list() == ["2134", "2134.5", "K1A 0B1"]
    assert kept["port_of_entry"].to_list() == ["JFK", "12345", "27-20"]


def test_a_zip_plus_4_that_lost_its_leading_zero_is_its_zip(tmp_path: Path, pack: RulePack) -> None:
    """ZIP+4 02134-1234 held as a number is 21341234: keyed ``21341234`` whole, another person than the
    ``02134-1234`` of a text file (two $500 packages of one person's day each eligible). Eight digits, as an
    integer, a float, a decimal written as text or digits alone, are a ZIP+4 with its zero back (``021341234``),
    keyed by its first five; four digits stay as written (another country's code)."""
    text = manifest(
        6,
        consignee_name=["Zoe Ray"] * 6,
        consignee_postal_code=["02134-1234", "21341234", "21341234.0", " 21341234 ", "2134", "110001234"],
        declared_value=["500.00"] * 6,
        currency=["USD"] * 6,
    )
    lines = screen(text, pack).lines.sort("package_id")
    assert lines["consignee_postal_code"].to_list() == [
        "02134-1234",
        "021341234",
        "021341234",
        "021341234",
        "2134",
        "110001234",
    ]
    assert lines["consignee_key"].to_list() == ["name:zoe ray|02134"] * 4 + [
        "name:zoe ray|2134",
        "name:zoe ray|11000",
    ]
    numbers = text.head(2).with_columns(pl.Series("consignee_postal_code", [21341234, 21341234]))
    floats = numbers.with_columns(pl.col("consignee_postal_code").cast(pl.Float64()))
    for frame in (numbers, floats):
        packages = screen([text.head(1), frame.slice(1, 1)], pack).packages
        assert packages["consignee_key"].to_list() == ["name:zoe ray|02134"] * 2
        assert packages["de_minimis_reason"].to_list() == ["dm-over-threshold"] * 2
    # Read back from an earlier run's output, such a key is this version's.
    assert pl.select(history_key(pl.lit("name:zoe ray|21341234"))).item() == "name:zoe ray|02134"


@pytest.mark.parametrize("dtype", [pl.Int64, pl.Float64, pl.Decimal(12, 2)], ids=str)
def test_hts_codes_in_a_number_column_are_the_codes_they_write(
    tmp_path: Path, pack: RulePack, dtype: pl.DataType
) -> None:
    """pandas makes numeric codes with gaps a float column: ``6109100012.0`` and ``610910.0`` were rejected
    invalid-hts (read as their text), and ``90121.0`` (0901.21 roasted coffee, its leading zero lost) was screened
    as 901210, microscopes; an integer column's ``90121`` was rejected. A whole number is the code it writes, one
    of 5, 7 or 9 digits with the leading zero of chapters 01 to 09 back, as ZIPs and ports get theirs; so is such
    a column saved as CSV (``90121.0``)."""
    as_text = manifest(
        5,
        hts_code=["6109.10.00.12", "6109.10", "0901.21", "0901.21.00", "0901.21.00.20"],
        consignee_name=["Anna Keller"] * 5,
    )
    as_numbers = as_text.with_columns(
        pl.Series("hts_code", [6109100012, 610910, 90121, 9012100, 901210020]).cast(dtype)
    )
    csv_file = tmp_path / "m.csv"
    as_numbers.write_csv(csv_file)
    expected = screen(as_text, pack)
    # A float column saved as CSV writes one ``.0``; an integer column, digits alone (see the next test); a decimal
    # column, ``.00``, as a dotted code may end (``9503.00``): read as written (see below).
    for result in [screen(as_numbers, pack)] + [screen(csv_file, pack)] * (dtype == pl.Float64()):
        assert result.rejects.is_empty()
        assert result.lines["hts_code"].to_list() == [
            "6109100012",
            "610910",
            "090121",
            "09012100",
            "0901210020",
        ]
        assert result.lines["tariff_line"].to_list() == expected.lines["tariff_line"].to_list()
        assert result.lines["tariff_line"].to_list()[2:] == ["09012100"] * 3
        assert_frame_equal(result.packages, expected.packages)
        assert_frame_equal(result.components.drop("line_no"), expected.components.drop("line_no"))


def test_a_dotted_code_ending_in_zeros_is_the_code_it_writes(pack: RulePack) -> None:
    """A first reading of float text took any digits followed by ``.0+`` as a whole number: ``9503.00`` (toys,
    heading 9503 subheading .00) became ``9503``, ``invalid-hts``. Only one ``.0`` after 5 to 10 digits is a
    float's text; a dotted code keeps its digits."""
    written = ["9503.00", "610910.00", "6109.10.0", "90121.0"]
    result = screen(manifest(4, hts_code=written), pack)
    assert result.rejects["message"].to_list() == [
        "hts_code 6109.10.0 must have 6, 8 or 10 digits (dots allowed)"
    ]
    assert result.lines["hts_code"].to_list() == ["9503.00", "610910.00", "090121"]
    # A decimal column: a whole number of 5 to 10 digits is a code (90121.00: 090121), a shorter one is a
    # dotted code (9503.00, 8471.3000), as text.
    decimals = manifest(3).with_columns(
        pl.Series("hts_code", ["9503.00", "90121.00", "8471.30"]).cast(pl.Decimal(12, 4))
    )
    read = screen(decimals, pack)
    assert read.rejects.is_empty()
    assert read.lines["hts_code"].to_list() == ["9503.0000", "090121", "8471.3000"]


def test_hts_codes_a_number_cannot_be_are_still_invalid(pack: RulePack) -> None:
    """Not every number is a code: a fraction (``6109.1``), 11 digits, a negative number, a float too large to
    hold the code's digits (a 32-bit float's ``6109100012`` is ``6109100032``), or text of 5 digits without a
    decimal point (typed, a digit may be missing anywhere: the message says how to write a lost zero back)."""
    floats = manifest(2).with_columns(pl.Series("hts_code", [6109.1, 6109100012.0], dtype=pl.Float32()))
    integers = manifest(2, package_id=["Q0", "Q1"]).with_columns(pl.Series("hts_code", [12345678901, -90121]))
    text = manifest(1, package_id=["R0"], hts_code=[" 90121"])
    rejects = screen([floats, integers, text], pack).rejects
    assert rejects["code"].unique().to_list() == ["invalid-hts"]
    assert rejects["message"].to_list() == [
        "hts_code 6109.1 must have 6, 8 or 10 digits (dots allowed)",
        "hts_code 6109100000.0 is a Float32 too large to hold a code's digits exactly: write the codes as text",
        "hts_code 12345678901 must have 6, 8 or 10 digits (dots allowed)",
        "hts_code -90121 must have 6, 8 or 10 digits (dots allowed)",
        "hts_code  90121 must have 6, 8 or 10 digits (dots allowed); if a spreadsheet dropped its leading zero, "
        "write it as text: 090121",
    ]


@pytest.mark.parametrize(("code", "dtype"), [(61091.0, pl.Float16()), (901210000.0, pl.Float32())])
def test_a_float_hts_code_its_type_cannot_hold_exactly_is_invalid_even_when_it_reads_as_a_code(
    pack: RulePack, code: float, dtype: pl.DataType
) -> None:
    """A float too large to hold a code's digits was refused only where its text did not read as a code: a
    Float16's 61091 (61088.0) was screened as ``610880``, a Float32's 901210000 (0901.21.00.00 without its zero,
    stored 901209984.0) as ``9012099840``. Such a float is ``invalid-hts`` whatever its text reads as."""
    frame = manifest(1).with_columns(pl.Series("hts_code", [code], dtype=dtype))
    rejects = screen(frame, pack).rejects
    assert rejects.select("field", "code").rows() == [("hts_code", "invalid-hts")]
    assert f"is a {dtype} too large to hold a code's digits exactly" in rejects["message"][0]


def test_extra_columns_pass_through_to_lines(tmp_path: Path, pack: RulePack) -> None:
    frame = manifest(order_ref=["A-1", "A-2", "A-3"], weight_note=["light", None, "heavy"])
    path = tmp_path / "m.csv"
    frame.write_csv(path)
    for source in (path, frame):
        result = screen(source, pack)
        assert result.lines.columns[-2:] == ["order_ref", "weight_note"]
        assert result.lines["order_ref"].to_list() == ["A-1", "A-2", "A-3"]
        assert result.lines["weight_note"].to_list() == ["light", None, "heavy"]
        assert "order_ref" not in result.packages.columns


#: Names the engine gives its own working columns (``entry_type`` is also a ``packages`` column): an input
#: column of one of these names crashed the run with a duplicate-column error.
WORKING_NAMES = (
    "entry_type",
    "rate_status",
    "rate_program",
    "rate_ad_valorem",
    "postal_rate",
    "postal_per_item",
    "postal_item_rate",
    "postal_regime_id",
    "in_gap",
    "mfn_applies",
    "mfn_cents",
    "duty_cents",
    "component_cents",
    "consignee_day_value_cents",
    "value_usd_cents",
    "threshold_rule_id",
    "queue",
    "risk_score",
)


def test_extra_columns_named_like_working_columns_pass_through(tmp_path: Path, pack: RulePack) -> None:
    frame = manifest(3).with_columns(pl.lit("mine").alias(name) for name in WORKING_NAMES)
    plain = screen(manifest(3), pack)
    path = tmp_path / "m.parquet"
    frame.write_parquet(path)
    screened = [
        screen(frame, pack),
        screening.Screener(pack).screen(frame),
        screen_to_folder_result(path, tmp_path / "out", pack),
    ]
    for result in screened:
        assert result.lines.columns[-len(WORKING_NAMES) :] == list(WORKING_NAMES)
        assert result.lines.select(WORKING_NAMES).unique().rows() == [("mine",) * len(WORKING_NAMES)]
        assert_frame_equal(result.packages, plain.packages)


def screen_to_folder_result(path: Path, out: Path, pack: RulePack) -> Result:
    """The outputs of a whole-day run in parts (of one line) read back as a :class:`Result`'s frames."""
    screening.screen_to_folder(path, out, rules=pack, part_lines=1)
    return Result(**{name: pl.read_parquet(out / f"{name}.parquet") for name in OUTPUTS}, summary={})


@pytest.mark.parametrize(
    ("first", "second", "stacked"),
    [
        (pl.Date(), pl.Date(), pl.Date()),
        (pl.Null(), pl.Date(), pl.Date()),
        (pl.List(pl.String()), pl.Null(), pl.List(pl.String())),
        (pl.Int32(), pl.Int64(), pl.Int64()),
        (pl.Int64(), pl.UInt64(), pl.Int128()),
        (pl.Float32(), pl.Float64(), pl.Float64()),
        (pl.Int32(), pl.Float32(), pl.Float64()),
        (pl.Int16(), pl.Float32(), pl.Float32()),
        (pl.Decimal(10, 2), pl.Decimal(20, 4), pl.Decimal(20, 4)),
        (pl.Int64(), pl.Decimal(10, 2), pl.Decimal(38, 2)),
        (pl.Int64(), pl.String(), pl.String()),
        (pl.Float32(), pl.String(), pl.String()),
        (pl.Boolean(), pl.String(), pl.String()),
        (pl.Date(), pl.String(), pl.String()),
        (pl.Datetime("us"), pl.String(), pl.String()),
        (pl.UInt128(), pl.UInt64(), pl.UInt128()),
        (pl.Float16(), pl.Float32(), pl.Float32()),
        (pl.Float16(), pl.Int8(), pl.Float16()),
        (pl.Float16(), pl.UInt8(), pl.Float16()),
        (pl.Float16(), pl.Int16(), pl.Float32()),
        # Refused: the stacked type would change values, or polars cannot stack them.
        (pl.UInt128(), pl.Int64(), None),  # Int128: values past 2^127 were null
        (pl.UInt128(), pl.Int8(), None),
        (pl.Float16(), pl.Date(), None),
        (pl.Float16(), pl.Int64(), None),
        (pl.Date(), pl.Int32(), None),  # day counts
        (pl.Boolean(), pl.Int64(), None),  # true as 1
        (pl.Struct({"a": pl.String()}), pl.Int64(), None),  # 7 as {'a': '7'}
        (pl.List(pl.String()), pl.Int32(), None),
        (pl.Int64(), pl.Float64(), None),  # a 64-bit id loses digits past 2^53
        (pl.Decimal(10, 2), pl.Float64(), None),
        (pl.Date(), pl.Datetime("us"), None),
        (pl.Datetime("us"), pl.Datetime("ms"), None),  # stacked in milliseconds
        (pl.Datetime("us", "UTC"), pl.Datetime("us"), None),
        (pl.Datetime("us", "UTC"), pl.String(), None),  # written with an offset, not its zone
        (pl.Time(), pl.String(), None),  # written without its microseconds
        (pl.Duration("us"), pl.String(), None),
        (pl.Binary(), pl.String(), None),  # the text became binary
        (pl.List(pl.Int32()), pl.List(pl.Int64()), None),
    ],
)
def test_extra_column_types_stack_only_into_a_type_that_keeps_every_value(
    first: pl.DataType, second: pl.DataType, stacked: pl.DataType | None
) -> None:
    assert stacked_type(first, second) == stacked
    assert stacked_type(second, first) == stacked


@pytest.mark.parametrize(
    "dtype",
    [
        pl.Int8(),
        pl.UInt64(),
        pl.Int128(),
        pl.UInt128(),
        pl.Float16(),
        pl.Float64(),
        pl.String(),
        pl.Boolean(),
        pl.Binary(),
        pl.Null(),
        pl.Object(),
        pl.Date(),
        pl.Time(),
        pl.Datetime("ms"),
        pl.Datetime("ns", "Europe/Paris"),
        pl.Duration("ms"),
        pl.Decimal(10, 2),
        pl.Categorical(),
        pl.Categorical(pl.Categories("sizes", "shop", pl.UInt8())),
        pl.Enum(["S", "M", "L"]),
        pl.List(pl.String()),
        pl.Array(pl.Int32(), (2, 3)),
        pl.Struct({"a": pl.Enum(["x"]), "b": pl.List(pl.Int128()), "c": pl.Struct({})}),
        pl.Map(pl.String(), pl.Int32()),
        pl.Extension("shop.size", pl.Int8(), "v1"),
    ],
    ids=str,
)
def test_a_data_type_written_as_json_reads_back_as_itself(dtype: pl.DataType) -> None:
    """A saved state keeps the extra columns' types as JSON: each reads back equal to itself, named alike (the
    refusal of a batch after a restore names it), also those Parquet does not hold (Int128, an enum)."""
    written = json.loads(json.dumps(type_to_json(dtype)))
    back = type_from_json(written)
    assert (back, repr(back), hash(back)) == (dtype, repr(dtype), hash(dtype))


@pytest.mark.parametrize(
    "value",
    [
        None,
        "Int32",
        [],
        ["Int33"],
        ["DataType"],
        ["Int32", 1],
        ["Datetime", "xs", None],
        ["Decimal", True, 0],
        ["Enum", ["a", "a"]],
        ["Categorical", "c", "", ["Int64"]],
        ["Array", ["Int8"], -1],
        ["Struct", [["a", ["Int8"]], ["a", ["Int16"]]]],
        ["Struct", [[5, ["Int8"]]]],
        ["List", ["List", ["Nope"]]],
        pytest.param(
            functools.reduce(lambda inner, _: ["List", inner], range(5_000), ["Int8"]), id="5000-deep"
        ),
    ],
    ids=str,
)
def test_a_json_value_that_names_no_data_type_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match="not a data type"):
        type_from_json(value)


def test_an_extra_column_typed_differently_in_two_inputs_is_refused_not_rewritten(
    tmp_path: Path, pack: RulePack
) -> None:
    """Extra columns of one name were stacked to polars' supertype whatever it did to the values: dates beside
    integers came back as day counts (20209), a boolean as 1, an integer beside a one-field struct as
    ``{'a': '7'}``; a list beside an integer failed with ``cannot be read: SchemaError``, naming neither the
    column nor the types. Such inputs are refused before any work, naming the column, both types and both inputs.
    """
    (tmp_path / "in").mkdir()
    manifest(2).with_columns(ref=pl.lit(dt.date(2025, 5, 1))).write_parquet(tmp_path / "in" / "a.parquet")
    manifest(2, package_id=["Q0", "Q1"]).with_columns(ref=pl.lit(42, pl.Int32())).write_parquet(
        tmp_path / "in" / "b.parquet"
    )
    refused = r"extra column 'ref' is Date in .*a\.parquet but Int32 in .*b\.parquet: .*cast it to one type"
    with pytest.raises(InputSchemaError, match=refused) as raised:
        screen(tmp_path / "in", pack)
    assert raised.value.exit_code == 3
    assert raised.value.source == f"{tmp_path / 'in' / 'a.parquet'}, {tmp_path / 'in' / 'b.parquet'}"
    with pytest.raises(InputSchemaError, match=refused):
        screening.screen_to_folder(tmp_path / "in", tmp_path / "out", rules=pack, part_lines=1)
    assert not (tmp_path / "out").exists()
    second = manifest(1, package_id=["Q0"])
    for mine, theirs in [
        (pl.lit(True), pl.lit(1)),
        (pl.struct(a=pl.lit("x")), pl.lit(7)),
        (pl.lit(7, pl.Int32()), pl.lit(["a"])),
    ]:
        with pytest.raises(InputSchemaError, match=r"^<memory:0>, <memory:1>: extra column 'note' is \w+"):
            screen([manifest(1).with_columns(note=mine), second.with_columns(note=theirs)], pack)


def test_extra_columns_whose_types_stack_keep_every_value(tmp_path: Path, pack: RulePack) -> None:
    """Integers and floats of other widths widen, an all-empty column takes the other's type, and numbers beside
    text become their text, as before: such runs are unchanged."""
    first = manifest(1).with_columns(
        count=pl.lit(7, pl.Int32()), empty=pl.lit(None), share=pl.lit(0.5, pl.Float32()), ref=pl.lit(7)
    )
    first.write_parquet(tmp_path / "a.parquet")
    second = manifest(1, package_id=["Q0"]).with_columns(
        count=pl.lit(2**40), empty=pl.lit(dt.date(2025, 5, 1)), share=pl.lit(0.1), ref=pl.lit("x")
    )
    second.write_csv(tmp_path / "b.csv")
    lines = screen([tmp_path / "a.parquet", second], pack).lines
    assert lines.select("count", "empty", "share", "ref").schema == pl.Schema(
        {"count": pl.Int64(), "empty": pl.Date(), "share": pl.Float64(), "ref": pl.String()}
    )
    assert lines.sort("package_id").select("count", "empty", "share", "ref").rows() == [
        (7, None, 0.5, "7"),
        (2**40, dt.date(2025, 5, 1), 0.1, "x"),
    ]
    # A CSV file's columns are text: its ref beside the Parquet file's integer is text, as it always was.
    beside_csv = screen([tmp_path / "a.parquet", tmp_path / "b.csv"], pack).lines.sort("package_id")
    assert beside_csv["ref"].to_list() == ["7", "x"]


def test_a_uint128_extra_column_beside_a_signed_one_is_refused_not_nulled(pack: RulePack) -> None:
    """A UInt128 beside an Int64 stacked as Int128, and its values past 2^127 came out null (silently); beside a
    UInt64 it stacks as UInt128, every value kept."""
    big = [2**127, 2**128 - 1, 5]
    unsigned = manifest(3).with_columns(pl.Series("ref", big, dtype=pl.UInt128()))
    signed = manifest(3, package_id=["Q0", "Q1", "Q2"]).with_columns(pl.Series("ref", [1, 2, 3]))
    refused = r"extra column 'ref' is UInt128 in <memory:0> but Int64 in <memory:1>"
    with pytest.raises(InputSchemaError, match=refused):
        screen([unsigned, signed], pack)
    with pytest.raises(InputSchemaError, match=r"'ref' is UInt128 in batch 1 .* but Int64 in batch 2"):
        screening.screen_batches([unsigned, signed], rules=pack)
    wide = signed.with_columns(pl.col("ref").cast(pl.UInt64()))
    lines = screen([unsigned, wide], pack).lines.sort("package_id")
    assert lines.schema["ref"] == pl.UInt128()
    assert lines["ref"].to_list() == [*big, 1, 2, 3]


def test_a_float16_extra_column_stacks_as_floats_do(tmp_path: Path, pack: RulePack) -> None:
    """A Float16 column beside a Float32, an integer or a date raised a bare KeyError (exit 70): it stacks beside
    floats and 8-bit integers (a Float16 holds integers up to 2^11 exactly), and is refused beside a date."""
    half = arrow_manifest().append_column("weight_lb", pa.array([1.5, 2048.0], pa.float16()))
    single = arrow_manifest().append_column("weight_lb", pa.array([0.25, 3.0], pa.float32()))
    small = arrow_manifest().append_column("weight_lb", pa.array([-128, 127], pa.int8()))
    day = arrow_manifest().append_column("weight_lb", pa.array([dt.date(2025, 5, 1)] * 2))
    lines = screen([half, single], pack).lines.sort("source", "row")
    assert (lines.schema["weight_lb"], lines["weight_lb"].to_list()) == (
        pl.Float32(),
        [1.5, 2048.0, 0.25, 3.0],
    )
    screener = screening.Screener(pack)
    screener.screen(half)
    assert screener.screen(small).lines["weight_lb"].to_list() == [-128.0, 127.0]
    with pytest.raises(
        InputSchemaError, match=r"'weight_lb' is Float16 in <memory:0> but Date in <memory:1>"
    ):
        screen([half, day], pack)
    with pytest.raises(InputSchemaError, match=r"'weight_lb' is Float16 in batch 1 .* but Date in batch 3"):
        screener.screen(day)
    screen(half, pack).write(tmp_path / "csv", fmt="csv")
    assert pl.read_csv(tmp_path / "csv" / "lines.csv")["weight_lb"].to_list() == [1.5, 2048.0]


def _json_column(values: list[str | None]) -> pa.Array:
    return pa.array(values, pa.string()).cast(pa.json_())


def test_an_extension_type_column_is_read_as_its_storage_type(tmp_path: Path, pack: RulePack) -> None:
    """An ``arrow.json`` column (as DuckDB and pyarrow write JSON) passed through as polars' extension type, and
    the CSV writer failed with exit 70 after the whole run; a JSON address was "malformed data". It is text now,
    in memory, in files, nested in a list, and as a canonical column."""
    notes = ['{"broker": "A1"}', None]
    table = arrow_manifest().append_column("customs_notes", _json_column(notes))
    listed = pa.ListArray.from_arrays(pa.array([0, 1, 1], pa.int32()), _json_column(['{"a": 1}']))
    table = table.append_column("listed", listed)
    addressed = arrow_manifest().append_column(
        "consignee_address", _json_column(['{"street": "1 Main"}'] * 2)
    )
    parquet = tmp_path / "m.parquet"
    pa.parquet.write_table(table.drop_columns(["listed"]), parquet)
    for source in (table, parquet):
        for result in (screen(source, pack), screening.Screener(pack).screen(source)):
            assert result.lines.schema["customs_notes"] == pl.String()
            assert result.lines["customs_notes"].to_list() == notes
            result.write(tmp_path / "csv", fmt="csv")
            assert pl.read_csv(tmp_path / "csv" / "lines.csv")["customs_notes"].to_list() == notes
    assert screen(table, pack).lines["listed"].to_list() == [['{"a": 1}'], []]
    assert screen(addressed, pack).lines["consignee_address"].to_list() == ['{"street": "1 Main"}'] * 2


def test_an_extra_column_no_output_can_hold_is_refused_up_front(tmp_path: Path, pack: RulePack) -> None:
    """A polars Object column (and an extension type inside a list, from a file) passed screening, then both
    writers failed after the whole run (exit 70); they are refused before any work, naming the column."""
    objects = manifest(2).with_columns(pl.Series("ref", [{"k": 1}, {"k": 2}], dtype=pl.Object()))
    with pytest.raises(
        InputSchemaError, match=r"^<memory:0>: extra column 'ref' holds Python objects"
    ) as raised:
        screen(objects, pack)
    assert raised.value.exit_code == 3
    with pytest.raises(InputSchemaError, match="extra column 'ref' holds Python objects"):
        screening.Screener(pack).screen(objects)
    listed = pa.ListArray.from_arrays(pa.array([0, 1, 1], pa.int32()), _json_column(["{}"]))
    path = tmp_path / "m.parquet"
    pa.parquet.write_table(arrow_manifest().append_column("listed", listed), path)
    with pytest.raises(InputSchemaError, match=r"m\.parquet: extra column 'listed' has type List\(Extension"):
        screen(path, pack)


def test_a_decimal_of_negative_scale_is_read_as_the_whole_numbers_it_holds(
    tmp_path: Path, pack: RulePack
) -> None:
    """``decimal128(5, -2)`` (valid Arrow: 1200 stored as 12) raised polars' ComputeError ("Decimal scale is not a
    valid integer") from screen and Screener, and an Arrow IPC file of it "NegativeFooterLength", naming no
    column. In memory and in a stream it is ``decimal128(7, 0)``, exact; a file is refused naming the column."""
    totals = pa.array([Decimal("1200"), Decimal("-99900")], pa.decimal128(5, -2))
    table = arrow_manifest().append_column("invoice_total", totals)
    as_value = arrow_manifest(declared_value=pa.array([Decimal("100"), Decimal("200")], pa.decimal128(3, -1)))
    stream = write_ipc_stream(tmp_path / "m.ipc", table, 1)
    for source in (table, stream):
        for result in (screen(source, pack), screening.Screener(pack).screen(source)):
            assert result.lines.schema["invoice_total"] == pl.Decimal(7, 0)
            assert result.lines["invoice_total"].to_list() == [Decimal("1200"), Decimal("-99900")]
    assert screen(as_value, pack).lines["declared_value"].to_list() == [Decimal("100"), Decimal("200")]
    file = tmp_path / "m.arrow"
    _write_ipc_file(table, file)
    with pytest.raises(
        InputSchemaError, match=r"m\.arrow: column 'invoice_total' has type decimal128\(5, -2\), a "
    ):
        screen(file, pack)


def test_a_date64_column_is_a_date_as_a_date32_is(tmp_path: Path, pack: RulePack) -> None:
    """polars reads an Arrow ``date64`` as a millisecond timestamp: beside a ``date32`` column of another input
    it was refused as "Datetime(ms) ... but Date"."""
    days = [dt.date(2025, 5, 1), None]
    long_days = arrow_manifest().append_column("cleared_on", pa.array(days, pa.date64()))
    short_days = arrow_manifest().append_column("cleared_on", pa.array(days, pa.date32()))
    parquet, ipc = tmp_path / "m.parquet", tmp_path / "m.arrow"
    pa.parquet.write_table(long_days, parquet)
    _write_ipc_file(long_days, ipc)
    for source in (long_days, parquet, ipc):
        lines = screen([source, short_days], pack).lines.sort("source", "row")
        assert lines.schema["cleared_on"] == pl.Date()
        assert lines["cleared_on"].to_list() == days * 2


def test_a_refused_in_memory_input_is_named_by_its_label(pack: RulePack) -> None:
    """Arrow data refused for a column type or a repeated name was named ``<memory>``, whichever of several
    inputs it was; other refusals named ``<memory:N>``. A Screener's batch is named by its source."""
    interval = arrow_manifest().append_column(
        "dwell", pa.array([pa.MonthDayNano([0, 1, 0])] * 2, pa.month_day_nano_interval())
    )
    repeated = arrow_manifest()
    repeated = repeated.append_column("mode", repeated.column("mode"))
    with pytest.raises(InputSchemaError, match=r"^<memory:2>: column 'dwell' has type"):
        screen([arrow_manifest(), arrow_manifest(), interval], pack)
    with pytest.raises(InputSchemaError, match=r"^<memory:1>: repeated column headers"):
        screen([arrow_manifest(), repeated], pack)
    with pytest.raises(InputSchemaError, match=r"^hour-09: column 'dwell' has type"):
        screening.Screener(pack).screen(interval, source="hour-09")
    with pytest.raises(InputSchemaError, match=r"^<stream>: column 'dwell' has type"):
        screening.Screener(pack).screen(interval)


def _failing_in_memory_inputs(tmp_path: Path) -> dict[str, Callable[[], Any]]:
    """In-memory inputs whose reading fails, each made afresh (a reader is read once)."""
    table = manifest(40).to_arrow()
    good = tmp_path / "good.parquet"
    manifest(40).write_parquet(good)
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=10):
            writer.write_batch(batch)
    stream = sink.getvalue().to_pybytes()
    return {
        "missing-file": lambda: pl.scan_parquet(tmp_path / "missing.parquet"),
        "truncated-file": lambda: pl.scan_parquet(truncated),
        "failing-cast": lambda: manifest(3).lazy().with_columns(pl.col("package_id").cast(pl.Int64())),
        "cut-stream": lambda: pa.ipc.open_stream(stream[: len(stream) - 300]),
        "cut-c-stream": lambda: ArrowStream.of_reader(pa.ipc.open_stream(stream[: len(stream) - 300])),
    }


@pytest.mark.parametrize(
    "kind", ["missing-file", "truncated-file", "failing-cast", "cut-stream", "cut-c-stream"]
)
def test_an_in_memory_input_that_fails_when_read_is_an_input_schema_error(
    tmp_path: Path, pack: RulePack, kind: str
) -> None:
    """A lazy frame or Arrow stream that failed when read raised polars' or Arrow's own error
    (``FileNotFoundError``, ``ComputeError``, ``InvalidOperationError``, ``OSError``), where the same file given
    as a path is an :class:`InputSchemaError`; a Screener goes on as before the batch."""
    make = _failing_in_memory_inputs(tmp_path)[kind]
    with pytest.raises(InputSchemaError, match=r"^<memory:1>: cannot be read: \S") as caught:
        screen([manifest(2), make()], pack)
    assert caught.value.exit_code == 3
    screener = screening.Screener(pack)
    screener.screen(manifest(2))
    before = (screener.state.batches, screener.state.rows_seen, dict(screener._stream_rows))
    with pytest.raises(InputSchemaError, match=r"^hour-09: cannot be read: \S"):
        screener.screen(make(), source="hour-09")
    with pytest.raises(InputSchemaError, match=r"^<stream>: cannot be read: \S"):
        screener.screen(make())
    assert (screener.state.batches, screener.state.rows_seen, dict(screener._stream_rows)) == before
    assert screener.screen(manifest(2)).lines["row"].to_list() == [3, 4]


def test_absurd_declared_value_is_rejected_not_raised(pack: RulePack) -> None:
    frame = manifest(currency=["USD"] * 3, declared_value=["100000000000000000", "1.00", "2.00"])
    result = screen(frame, pack)
    assert result.lines.height + result.rejects.height == 3
    assert result.rejects["package_id"].to_list() == ["P0"]


# --- Writing results -------------------------------------------------------------------------------------


def test_write_refuses_a_folder_holding_the_run_s_input(tmp_path: Path, pack: RulePack) -> None:
    """A manifest kept as ``out/lines.csv`` beside an earlier ``summary.json`` was replaced by the run's own
    ``lines.csv`` when ``Result.write`` wrote into ``out`` (``screen run`` already refused it)."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("{}\n")
    source = out / "lines.csv"
    manifest().write_csv(source)
    kept = source.read_bytes()
    result = screening.screen(source, rules=pack)
    with pytest.raises(UsageError, match="holds the input"):
        result.write(out, fmt="csv")
    assert source.read_bytes() == kept


def test_write_twice_leaves_one_complete_set(tmp_path: Path, pack: RulePack) -> None:
    result = screen(manifest(), pack)
    parent = tmp_path / "work"
    parent.mkdir()
    out = parent / "out"
    assert result.write(out) == out
    first = (out / "summary.json").read_bytes()
    result.write(out)
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert [p.name for p in parent.iterdir()] == ["out"]  # no staging or retired folders beside it
    assert (out / "summary.json").read_bytes() == first
    assert_frame_equal(pl.read_parquet(out / "packages.parquet"), result.packages)
    assert_frame_equal(pl.read_parquet(out / "lines.parquet"), result.lines)


@contextlib.contextmanager
def _another_run_writing(out: Path) -> Iterator[None]:
    """The lock a run holds on output folder ``out`` while it writes it (as another process would hold it)."""
    with (out.parent / f".{out.name}.lock").open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        yield


def test_an_output_folder_another_run_is_writing_is_refused(tmp_path: Path, pack: RulePack) -> None:
    """Two runs into one folder were neither locked nor detected: the one finishing last (perhaps the one
    started first, on yesterday's manifest) silently replaced the other's set. Every writer takes the lock."""
    source = tmp_path / "day.csv"
    manifest().write_csv(source)
    out = tmp_path / "out"
    result = screen(source, pack)
    result.write(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    writers: dict[str, Callable[[], object]] = {
        "Result.write": lambda: result.write(out),
        "screen_to_folder": lambda: screening.screen_to_folder(source, out, rules=pack),
        "in parts": lambda: screening.screen_to_folder(source, out, rules=pack, part_lines=1),
        "in batches": lambda: screen_files_in_batches([source], out=out, batch_size=2, rules=pack),
    }
    with _another_run_writing(out):
        for name, write in writers.items():
            with pytest.raises(UsageError, match="another run is writing this output folder") as info:
                write()
            assert info.value.exit_code == 2, name
            assert str(out) in str(info.value), name
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "screening",
                "run",
                str(source),
                "--rules",
                str(US_PACK),
                "--out",
                str(out),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2, done.stderr
        assert "another run is writing this output folder" in done.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "day.csv", "out"]  # the holder's lock
    # Once the holder is gone, a run takes the lock (the file left by a killed run blocks nothing), publishes,
    # and removes the lock file: nothing of it is left beside the folder, nor inside the set.
    screening.screen_to_folder(source, out, rules=pack)
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv", "out"]


def test_a_write_removes_the_staging_folders_of_ended_runs_only(tmp_path: Path, pack: RulePack) -> None:
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], check=True, capture_output=True, text=True
    )
    dead_pid = int(ended.stdout)
    parent = tmp_path / "work"
    parent.mkdir()
    left = {
        "dead": parent / f".out.staging-{_HOST_ID}-{dead_pid}-0123456789ab",
        "running": parent / f".out.staging-{_HOST_ID}-{os.getpid()}-0123456789ab",
        "other machine": parent / f".out.staging-00000000-{dead_pid}-0123456789ab",
        "other output": parent / f".other.staging-{_HOST_ID}-{dead_pid}-0123456789ab",
        "older name": parent / ".out.staging-0123456789ab",
    }
    for folder in left.values():
        (folder / ".parts").mkdir(parents=True)
    screen(manifest(), pack).write(parent / "out")
    assert sorted(p.name for p in parent.iterdir()) == sorted(
        ["out", *(folder.name for kind, folder in left.items() if kind != "dead")]
    )


def test_write_replaces_a_previous_csv_set(tmp_path: Path, pack: RulePack) -> None:
    result = screen(manifest(), pack)
    out = tmp_path / "out"
    result.write(out, fmt="csv")
    result.write(out)
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES


def test_csv_output_neutralises_formulas(tmp_path: Path, pack: RulePack) -> None:
    descriptions = ['=HYPERLINK("http://x","y")', "+1 shirt", "cotton t-shirt"]
    result = screen(manifest(description=descriptions), pack)
    out = tmp_path / "out"
    result.write(out, fmt="csv")
    assert {p.name for p in out.iterdir()} == {n.replace(".parquet", ".csv") for n in OUTPUT_FILES}
    lines = pl.read_csv(out / "lines.csv", infer_schema=False).sort("package_id")
    assert lines["description"].to_list() == [
        '\'=HYPERLINK("http://x","y")',
        "'+1 shirt",
        "cotton t-shirt",
    ]
    # The in-memory result is untouched.
    assert result.lines.sort("package_id")["description"].to_list() == descriptions


def test_csv_output_neutralises_a_header_named_like_a_formula(tmp_path: Path, pack: RulePack) -> None:
    """An extra input column passes through to ``lines``; its name is a cell of the CSV header too."""
    result = screen(manifest(**{'=HYPERLINK("http://x")': ["a", "b", "c"]}), pack)
    result.write(tmp_path / "out", fmt="csv")
    header = (tmp_path / "out" / "lines.csv").read_text().splitlines()[0]
    assert header.endswith('"\'=HYPERLINK(""http://x"")"')
    assert result.lines.columns[-1] == '=HYPERLINK("http://x")'


def test_csv_output_holds_binary_duration_and_map_columns_as_text(tmp_path: Path, pack: RulePack) -> None:
    """Extra columns of binary (a UUID), duration or map type stopped a CSV write (exit 70: polars writes no
    such column to CSV) while Parquet took them: binary is now hex, a duration ISO 8601, a map JSON (a null map
    an empty cell, as every null)."""
    uuid = bytes(range(16))
    extra = {
        "parcel_uuid": pl.Series([uuid, b"=\x00", None], dtype=pl.Binary()),
        "dwell": pl.Series([dt.timedelta(days=1, hours=2), dt.timedelta(seconds=-1.5), None]),
        "attributes": pl.Series([{"colour": 1}, {}, None], dtype=pl.Map(pl.String(), pl.Int64())),
        "scans": pl.Series([{7: b"\xff"}, None, None], dtype=pl.Map(pl.Int64(), pl.Binary())),
        "tags": pl.Series([[b"\x01"], [b"\x02\x03"], None], dtype=pl.List(pl.Binary())),
    }
    result = screen(manifest().with_columns(**extra), pack)
    result.write(tmp_path / "out", fmt="csv")
    lines = pl.read_csv(tmp_path / "out" / "lines.csv", infer_schema=False).sort("package_id")
    assert lines.select(list(extra)).rows() == [
        (uuid.hex(), "P1DT2H", '{"colour":1}', '{"7":"ff"}', '["01"]'),
        ("3d00", "'-PT1.5S", "{}", None, '["0203"]'),
        (None, None, None, None, None),
    ]
    # The Parquet output and the in-memory result keep the types.
    result.write(tmp_path / "parquet")
    assert pl.read_parquet(tmp_path / "parquet" / "lines.parquet").select(list(extra)).schema == {
        name: column.dtype for name, column in extra.items()
    }


def test_unknown_output_format_raises_usage_error(tmp_path: Path, pack: RulePack) -> None:
    result = screen(manifest(), pack)
    out = tmp_path / "out"
    result.write(out)
    with pytest.raises(UsageError):
        result.write(out, fmt="xlsx")  # type: ignore[arg-type]
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_file_lacking_required_columns_says_how_many_columns_are_not_shown(tmp_path: Path) -> None:
    path = tmp_path / "wide.parquet"
    pl.DataFrame({f"col{i:02d}": [1] for i in range(15)}).write_parquet(path)
    with pytest.raises(InputSchemaError, match=r"it has \['col00', .*'col11'\] and 3 more\."):
        open_sources([path])


#: One way to fail each check, in the README's order of reject codes (the first failing one is reported).
_FAILING = (
    ("missing-field", {"description": ""}),
    ("invalid-date", {"arrival_date": "2025-13-01"}),
    ("invalid-number", {"quantity": "abc"}),
    ("invalid-flag", {"gift": "maybe"}),
    ("invalid-part-values", {"part_values": "case"}),
    ("date-outside-pack", {"arrival_date": "2010-01-01"}),
    ("invalid-mode", {"mode": "rail"}),
    ("unknown-country", {"country_of_origin": "ZZ"}),
    ("invalid-hts", {"hts_code": "12"}),
    ("non-finite-value", {"declared_value": "NaN"}),
    ("invalid-value", {"declared_value": "1,000"}),
    ("negative-value", {"declared_value": "-5"}),
    ("unknown-currency", {"currency": "XXX"}),
)


def test_a_row_failing_two_checks_is_rejected_for_the_first_in_the_readme_s_order(
    us_pack: screening.RulePack,
) -> None:
    rows, expected = [], {}
    for i, (first, early) in enumerate(_FAILING):
        for later, late in _FAILING[i + 1 :]:
            if set(early) & set(late):
                continue  # one field cannot fail two ways at once
            package = f"{first}+{later}"
            rows.append(
                {**BASE_LINE, "part_values": None, "gift": None, "package_id": package, **late, **early}
            )
            expected[package] = first
    assert len(rows) > 60
    frame = pl.DataFrame(rows, schema=dict.fromkeys(rows[0], pl.String()))
    rejects = screening.screen(frame, rules=us_pack).rejects
    assert dict(rejects.select("package_id", "code").iter_rows()) == expected


def test_an_unreadable_history_says_it_cannot_be_read(tmp_path: Path) -> None:
    """``--history`` naming a run whose ``packages.parquet`` could not be read said "not a packages output of an
    earlier run (needs consignee_key, ...)", which it may well be: it says the file cannot be read, and why."""
    (tmp_path / "set").mkdir()
    earlier = tmp_path / "set" / "packages.parquet"
    pl.DataFrame(
        {
            "consignee_key": ["k1"],
            "arrival_date": ["2025-03-01"],
            "package_id": ["P0"],
            "value_usd": ["10.00"],
        }
    ).write_parquet(earlier)
    day = manifest(1)
    day.write_csv(tmp_path / "day.csv")
    earlier.chmod(0)
    try:
        ran = screen_without_permission_bypass(
            "run",
            tmp_path / "day.csv",
            "--history",
            tmp_path / "set",
            "--rules",
            US_PACK,
            "--out",
            tmp_path / "out",
        )
    finally:
        earlier.chmod(0o644)
    assert ran.returncode == 3, ran.stderr[-2000:]
    said = " ".join(ran.stderr.split())
    assert f"{earlier}: history file cannot be read: Permission denied" in said, said
    assert "not a packages output" not in said


def test_a_folder_that_can_be_listed_but_not_searched_is_an_input_error_naming_it(tmp_path: Path) -> None:
    """An input folder readable but not searchable (``chmod 744``, another user's) ended in an internal error
    (``PermissionError``, exit 70) while its entries were looked at: it is an input error (exit 3) naming the
    folder and the system's reason."""
    folder = tmp_path / "in"
    folder.mkdir()
    manifest(1).write_csv(folder / "day.csv")
    folder.chmod(0o644)
    try:
        ran = screen_without_permission_bypass("run", folder, "--rules", US_PACK, "--out", tmp_path / "out")
    finally:
        folder.chmod(0o755)
    assert ran.returncode == 3, ran.stderr[-2000:]
    said = " ".join(ran.stderr.split())
    assert f"{folder}: folder cannot be read: Permission denied" in said, said
    assert "Traceback" not in ran.stderr


def test_a_csv_output_given_as_history_is_read_as_its_parquet_twin(tmp_path: Path, pack: RulePack) -> None:
    """Package ``-123`` was written to CSV as ``'-123`` (the formula guard) and read back so: the same earlier run
    given as Parquet and as CSV counted that package twice (3 prior packages, $300, instead of 2 and $200)."""
    earlier = manifest(
        2,
        package_id=["-123", "456"],
        arrival_date=["2025-03-01"] * 2,
        consignee_name=["Hal Hist"] * 2,
        declared_value=["100.00"] * 2,
        currency=["USD"] * 2,
    )
    result = screen(earlier, pack)
    result.write(tmp_path / "pq")
    result.write(tmp_path / "csv", fmt="csv")
    assert "'-123" in (tmp_path / "csv" / "packages.csv").read_text()
    assert read_history([tmp_path / "csv"]).collect()["package_id"].sort().to_list() == ["-123", "456"]
    current = pl.LazyFrame(
        {"consignee_key": [result.packages["consignee_key"][0]], "arrival_date": [dt.date(2025, 3, 10)]}
    )
    for given in ([tmp_path / "pq", tmp_path / "csv"], [tmp_path / "csv", tmp_path / "csv"]):
        prior = consignee_history(current, read_history(given), 30).collect()
        assert prior.select("consignee_prior_packages", "consignee_prior_value_usd").row(0) == (2, 200.0)


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'-1", "''=x"])
def test_csv_ready_quotes_every_formula_prefix(text: str) -> None:
    ready = csv_ready(pl.LazyFrame({"cell": [text, "plain", "'plain"]})).collect()
    assert ready["cell"].to_list() == [f"'{text}", "plain", "'plain"]
    # ... and a reader of the CSV gets the text back (explain, history).
    assert ready.select(csv_cell(pl.col("cell")))["cell"].to_list() == [text, "plain", "'plain"]


def test_csv_ready_writes_a_null_list_struct_or_map_as_an_empty_cell(tmp_path: Path) -> None:
    """A null list, array, struct or map was written as the text ``null``, where every other null is an empty
    cell; a null inside one is JSON's ``null`` still, and an empty list ``[]``."""
    frame = pl.DataFrame(
        {
            "tags": pl.Series([["a"], None, [], ["b", None]], dtype=pl.List(pl.String())),
            "pair": pl.Series([[1, 2], None, [3, None], [4, 5]], dtype=pl.Array(pl.Int64(), 2)),
            "box": pl.Series([{"w": 1}, None, {"w": None}, {"w": 2}], dtype=pl.Struct({"w": pl.Int64()})),
            "kv": pl.Series([{"k": 1}, None, {}, {"k": None}], dtype=pl.Map(pl.String(), pl.Int64())),
            "note": ["x", None, "y", "z"],
        }
    )
    ready = csv_ready(frame.lazy()).collect()
    assert ready.rows() == [
        ('["a"]', "[1,2]", '{"w":1}', '{"k":1}', "x"),
        (None, None, None, None, None),
        ("[]", "[3,null]", '{"w":null}', "{}", "y"),
        ('["b",null]', "[4,5]", '{"w":2}', '{"k":null}', "z"),
    ]
    path = tmp_path / "nulls.csv"
    ready.write_csv(path)
    assert path.read_text(encoding="utf-8").splitlines()[2] == ",,,,"


#: Process-wide polars display settings a host may have made; none of them may change a written file.
_HOST_DISPLAY_SETTINGS: dict[str, Callable[[], Any]] = {
    "trim_decimal_zeros": lambda: pl.Config.set_trim_decimal_zeros(True),
    "fmt_float_full": lambda: pl.Config.set_fmt_float("full"),
    "float_precision": lambda: pl.Config.set_float_precision(1),
    "thousands_separator": lambda: pl.Config.set_thousands_separator(","),
    "decimal_separator": lambda: pl.Config.set_decimal_separator(","),
    "fmt_str_lengths": lambda: pl.Config.set_fmt_str_lengths(3),
    "cell_list_len": lambda: pl.Config.set_fmt_table_cell_list_len(1),
}


@pytest.mark.parametrize("setting", sorted(_HOST_DISPLAY_SETTINGS))
def test_csv_bytes_do_not_follow_a_host_polars_display_setting(setting: str, tmp_path: Path) -> None:
    """``pl.Config.set_trim_decimal_zeros(True)`` in the host process wrote ``210.2`` for ``210.20`` and ``0``
    for ``0.00``, at the top level and inside nested columns' JSON."""
    money = pl.Decimal(18, 2)
    frame = pl.DataFrame(
        {
            "amount": pl.Series([Decimal("210.20"), Decimal("0.00"), Decimal("-1.50")], dtype=money),
            "rate": [0.2, 1234567.125, 1e-20],
            "parts": pl.Series([[Decimal("1.10")], [], None], dtype=pl.List(money)),
            "pair": pl.Series([[Decimal("2.00"), None]] * 3, dtype=pl.Array(money, 2)),
            "box": pl.Series(
                [{"v": Decimal("3.00"), "w": 1.0}] * 3, dtype=pl.Struct({"v": money, "w": pl.Float64()})
            ),
            "kv": pl.Series([{"k": Decimal("4.00")}] * 3, dtype=pl.Map(pl.String(), money)),
            "dk": pl.Series([{Decimal("5.00"): "x"}] * 3, dtype=pl.Map(money, pl.String())),
        }
    )
    plain = write_frame(frame, tmp_path / "plain", "csv").read_bytes()
    assert plain.splitlines()[1].startswith(b'210.20,0.2,"[""1.10""]","[""2.00"",null]"')
    assert plain.splitlines()[3].startswith(b"-1.50,")  # a number, not text taken for a formula
    with pl.Config():
        _HOST_DISPLAY_SETTINGS[setting]()
        hosted = write_frame(frame, tmp_path / "hosted", "csv").read_bytes()
    assert hosted == plain


def test_csv_outputs_do_not_follow_trim_decimal_zeros(tmp_path: Path, pack: RulePack) -> None:
    """``Result.write`` and ``screen_to_folder`` in CSV wrote ``210.2`` for ``210.20`` under the host's
    ``pl.Config.set_trim_decimal_zeros(True)``: the same input, other bytes."""
    lines = manifest(4, declared_value=["210.20", "10.00", "800.00", "5.50"])
    written: dict[str, dict[str, bytes]] = {}
    for mode in ("plain", "trim"):
        with pl.Config():
            if mode == "trim":
                pl.Config.set_trim_decimal_zeros(True)
            screen(lines, pack).write(tmp_path / f"write-{mode}", fmt="csv")
            screening.screen_to_folder(lines, tmp_path / f"folder-{mode}", rules=pack, fmt="csv")
        for how in ("write", "folder"):
            folder = tmp_path / f"{how}-{mode}"
            written[f"{how}-{mode}"] = {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv"))}
    assert b",0.00," in written["write-plain"]["packages.csv"]
    for how in ("write", "folder"):
        assert written[f"{how}-trim"] == written[f"{how}-plain"]


def test_a_column_named_like_an_engine_output_column_is_refused_naming_it(tmp_path: Path) -> None:
    """An earlier run's lines fed back in crashed the run (exit 70, a duplicate column in polars)."""
    frame = pl.DataFrame([{**BASE_LINE}]).with_columns(pl.lit("1.00").alias("value_usd"))
    path = tmp_path / "again.parquet"
    frame.write_parquet(path)
    for spec in (frame, path):
        with pytest.raises(InputSchemaError) as caught:
            screening.screen(spec, rules=US_PACK)
        assert caught.value.exit_code == 3
        assert "['value_usd']" in str(caught.value)
    with pytest.raises(InputSchemaError, match="value_usd"):
        screening.Screener(US_PACK).screen(frame)


# --- Arrow types polars cannot import ----------------------------------------------------------------------


def arrow_manifest(**columns: Any) -> pa.Table:
    """Two valid lines as an Arrow table, with ``columns`` replaced."""
    table = manifest(2).with_columns(pl.col("declared_value").cast(pl.Float64())).to_arrow()
    for name, values in columns.items():
        table = table.set_column(table.schema.get_field_index(name), name, values)
    return table


def test_arrow_types_polars_cannot_import_are_converted_in_memory(pack: RulePack) -> None:
    """A ``decimal256`` value and a timestamp in a fixed-offset zone made polars panic (not an Exception)."""
    plain = screen(arrow_manifest(), pack)
    wide_decimal = arrow_manifest(declared_value=pa.array([10, 20]).cast(pa.decimal256(40, 2)))
    # 2025-03-10 08:00 at +05:30 is 2025-03-09 22:30 in New York: dated 2025-03-09 in the pack's zone.
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    offset = arrow_manifest(arrival_date=pa.array([dt.datetime(2025, 3, 10, 8, tzinfo=india)] * 2))
    for source in (wide_decimal, offset):
        for result in (screen(source, pack), screening.Screener(pack).screen(source)):
            assert result.rejects.height == 0
            assert result.lines.height == 2
    assert_frame_equal(screen(wide_decimal, pack).packages, plain.packages)
    assert screen(offset, pack).packages["arrival_date"].to_list() == [dt.date(2025, 3, 9)] * 2


def test_arrow_data_with_a_repeated_column_name_is_an_input_schema_error(pack: RulePack) -> None:
    """polars raised its own DuplicateError (not a ScreeningError) for such a table."""
    table = arrow_manifest()
    table = table.append_column("description", table.column("description"))
    for run in (lambda: screen(table, pack), lambda: screening.Screener(pack).screen(table)):
        with pytest.raises(InputSchemaError, match=r"repeated column headers \(\['description'\]"):
            run()


def test_a_column_named_like_a_polars_duplicate_header_is_an_extra_column(
    tmp_path: Path, pack: RulePack
) -> None:
    """``ref_duplicated_0`` without a column ``ref`` was refused as "repeated column headers (['ref'])": the
    name is how polars renames a CSV file's repeated header, but only a file whose header row repeats a name
    has repeated headers (Arrow data's repeated names are refused as such)."""
    extra = manifest(ref_duplicated_0=["a", "b", "c"])
    source = tmp_path / "m.csv"
    extra.write_csv(source)
    both = tmp_path / "both.csv"
    extra.with_columns(ref=pl.lit("r")).write_csv(both)  # ref and ref_duplicated_0: two names, no repeat
    for given in (extra, extra.to_arrow(), source, both):
        assert screen(given, pack).lines["ref_duplicated_0"].to_list() == ["a", "b", "c"]
    assert screening.Screener(pack).screen(extra).lines["ref_duplicated_0"].to_list() == ["a", "b", "c"]
    # A header row that repeats a name is refused, as before.
    repeated = tmp_path / "repeated.csv"
    text = source.read_text(encoding="utf-8").splitlines()
    repeated.write_text(
        "\n".join([text[0].replace("ref_duplicated_0", "ref,ref"), *(f"{row},x" for row in text[1:])]) + "\n",
        encoding="utf-8",
    )
    with pytest.raises(InputSchemaError, match=r"repeated\.csv: repeated column headers \(\['ref'\]\)"):
        screen(repeated, pack)
    with pytest.raises(InputSchemaError, match=r"repeated column headers \(\['ref'\]\)"):
        screen_files_in_batches([repeated], out=tmp_path / "out", batch_size=2, rules=pack)


def _with_pandas_index(table: pa.Table) -> pa.Table:
    """``table`` as ``pa.Table.from_pandas`` makes a DataFrame whose index is not a plain range (a filtered or
    sampled one): its index a column ``__index_level_0__`` named in the schema's ``pandas`` metadata."""
    index = pa.array(range(7, 7 + 2 * table.num_rows, 2))
    metadata = {"index_columns": ["__index_level_0__"], "column_indexes": [], "columns": []}
    return table.append_column("__index_level_0__", index).replace_schema_metadata(
        {b"pandas": json.dumps(metadata).encode()}
    )


def test_a_pandas_index_column_is_refused_as_one(tmp_path: Path, pack: RulePack) -> None:
    """A sampled pandas frame (``pa.Table.from_pandas(df.sample(frac=0.5))``, or the frame itself) was refused
    as if its index were a column of the user's to rename: "names starting with '__' are reserved ...: rename
    ['__index_level_0__']"."""
    indexed = _with_pandas_index(arrow_manifest())
    parquet = tmp_path / "sampled.parquet"
    pa.parquet.write_table(indexed, parquet)
    ipc = tmp_path / "sampled.arrow"
    _write_ipc_file(indexed, ipc)
    stream = tmp_path / "sampled_stream.arrow"
    write_ipc_stream(stream, indexed, 1)
    for given, label in (
        (indexed, "<memory:0>"),
        (parquet, "sampled.parquet"),
        (ipc, "sampled.arrow"),
        (stream, "sampled_stream.arrow"),
    ):
        with pytest.raises(InputSchemaError, match=re.escape(label)) as info:
            screen(given, pack)
        message = str(info.value)
        assert "'__index_level_0__' is the index of a pandas DataFrame" in message
        assert "reset_index(drop=True)" in message
        assert "preserve_index=False" in message
        assert "rename" not in message
    with pytest.raises(InputSchemaError, match="index of a pandas DataFrame"):
        screening.Screener(pack).screen(indexed)
    # Beside another reserved name, each is refused for what it is.
    both = indexed.append_column("__tmp", pa.array(["x", "y"]))
    with pytest.raises(
        InputSchemaError, match=r"rename \['__tmp'\]; column '__index_level_0__' is the index"
    ):
        screen(both, pack)
    # Mapped to a canonical column, the index is read (it is not dropped).
    as_line_no = ColumnMapping(columns={"line_no": "__index_level_0__"})
    assert screen(indexed, pack, mapping=as_line_no).lines["line_no"].to_list() == [7, 9]


def test_a_date_beyond_year_9999_is_one_reject_not_a_crash(pack: RulePack) -> None:
    far = arrow_manifest(arrival_date=pa.array([20157, 300_000 * 365], pa.date32()))
    for result in (screen(far, pack), screening.Screener(pack).screen(far)):
        assert result.lines["package_id"].to_list() == ["P0"]
        reject = result.rejects.row(0, named=True)
        assert (reject["row"], reject["field"], reject["code"]) == (2, "arrival_date", "invalid-date")
        assert reject["value"] == "day 109500000 of the Unix epoch"


def test_a_file_column_polars_cannot_read_is_refused_naming_it(tmp_path: Path, pack: RulePack) -> None:
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    path = tmp_path / "m.parquet"
    pa.parquet.write_table(
        arrow_manifest(arrival_date=pa.array([dt.datetime(2025, 3, 10, 8, tzinfo=india)] * 2)), path
    )
    with pytest.raises(
        InputSchemaError, match=r"m\.parquet: column 'arrival_date' is a timestamp in the fixed"
    ):
        screen(path, pack)


def _odd_and_plain_columns() -> dict[str, tuple[str, pa.Array, pa.Array]]:
    """Columns of types polars cannot read, nested or dictionary-encoded or in a zone written unusually, each
    with its column's name and the same values in a type polars reads."""
    wide = pa.array([Decimal("10.00"), Decimal("20.00")], pa.decimal256(40, 2))
    stamps = pa.array([1741600800_000000] * 2, pa.int64())
    india = stamps.cast(pa.timestamp("us", tz="+05:30"))
    utc = stamps.cast(pa.timestamp("us", tz="UTC"))
    return {
        "declared_value dictionary<decimal256>": (
            "declared_value",
            wide.dictionary_encode(),
            wide.cast(pa.string()),
        ),
        "arrival_date dictionary<timestamp +05:30>": ("arrival_date", india.dictionary_encode(), utc),
        "arrival_date timestamp Z": ("arrival_date", stamps.cast(pa.timestamp("us", tz="Z")), utc),
        "arrival_date timestamp +05": ("arrival_date", stamps.cast(pa.timestamp("us", tz="+05")), utc),
        "arrival_date timestamp UTC+05:30": (
            "arrival_date",
            stamps.cast(pa.timestamp("us", tz="UTC+05:30")),
            utc,
        ),
        "extra dictionary<decimal256>": ("fee", wide.dictionary_encode(), wide.cast(pa.large_string())),
        "extra dictionary<timestamp +05:30>": ("scanned_at", india.dictionary_encode(), utc),
        "extra list<decimal256>": (
            "fees",
            pa.ListArray.from_arrays([0, 1, 2], wide),
            pa.ListArray.from_arrays([0, 1, 2], wide.cast(pa.large_string())),
        ),
        "extra struct<decimal256>": (
            "fee",
            pa.StructArray.from_arrays([wide], ["d"]),
            pa.StructArray.from_arrays([wide.cast(pa.large_string())], ["d"]),
        ),
        "extra struct<timestamp +05:30>": (
            "scan",
            pa.StructArray.from_arrays([india], ["at"]),
            pa.StructArray.from_arrays([utc], ["at"]),
        ),
    }


def _with_column(name: str, values: pa.Array) -> pa.Table:
    table = arrow_manifest()
    if name in table.column_names:
        return table.set_column(table.schema.get_field_index(name), name, values)
    return table.append_column(name, values)


@pytest.mark.parametrize("case", list(_odd_and_plain_columns()))
def test_a_nested_or_dictionary_column_polars_cannot_read_is_screened_as_its_plain_form(
    tmp_path: Path, pack: RulePack, case: str
) -> None:
    """polars panicked (not an Exception: "operator does not support primitive Int256", "unable to parse time
    zone '+05:30'") or raised its bare ComputeError naming no column on these, in memory and in an IPC stream."""
    name, odd, plain = _odd_and_plain_columns()[case]
    odd_table, plain_table = _with_column(name, odd), _with_column(name, plain)
    expected = screen(plain_table, pack)
    assert expected.rejects.height == 0
    for entry in (lambda table: screen(table, pack), lambda table: screening.Screener(pack).screen(table)):
        result, plain_result = entry(odd_table), entry(plain_table)
        for output in ("lines", "packages", "rejects"):
            assert_frame_equal(getattr(result, output), getattr(plain_result, output))
    stream = write_ipc_stream(tmp_path / "m.ipc", odd_table, 1)
    from_stream = screen(stream, pack)
    assert_frame_equal(from_stream.lines.drop(SOURCE_COL), expected.lines.drop(SOURCE_COL))
    assert_frame_equal(from_stream.packages, expected.packages)


@pytest.mark.parametrize("suffix", ["parquet", "arrow"])
@pytest.mark.parametrize(
    "case",
    [
        "arrival_date dictionary<timestamp +05:30>",
        "arrival_date timestamp Z",
        "extra dictionary<decimal256>",
        "extra list<decimal256>",
        "extra struct<timestamp +05:30>",
    ],
)
def test_a_file_with_a_nested_column_polars_cannot_read_is_refused_naming_it(
    tmp_path: Path, pack: RulePack, case: str, suffix: str
) -> None:
    """The file check looked at top-level types only: polars panicked reading such a file (exit 70)."""
    name, odd, _ = _odd_and_plain_columns()[case]
    path = tmp_path / f"m.{suffix}"
    if suffix == "parquet":
        pa.parquet.write_table(_with_column(name, odd), path)
    else:
        _write_ipc_file(_with_column(name, odd), path)
    for run in (lambda: screen(path, pack), lambda: screening.Screener(pack).screen(path)):
        with pytest.raises(
            InputSchemaError, match=rf"m\.{suffix}: column '{name}' (has type|is a timestamp)"
        ):
            run()


def test_a_timestamp_in_a_zone_polars_does_not_know_is_refused_naming_it(
    tmp_path: Path, pack: RulePack
) -> None:
    """polars raised its bare ComputeError ("unable to parse time zone"), naming neither input nor column."""
    stamps = pa.array([1741600800_000000] * 2, pa.int64()).cast(pa.timestamp("us", tz="Mars/Olympus"))
    table = _with_column("scan", pa.StructArray.from_arrays([stamps], ["at"]))
    stream = write_ipc_stream(tmp_path / "m.ipc", table, 1)
    expected = r"column 'scan' has type .*, and polars cannot read timestamps in a zone it does not know"
    for run in (
        lambda: screen(table, pack),
        lambda: screening.Screener(pack).screen(table),
        lambda: screen(stream, pack),
    ):
        with pytest.raises(InputSchemaError, match=expected):
            run()


def test_arrow_data_polars_fails_on_all_the_same_is_refused_naming_the_column(
    monkeypatch: pytest.MonkeyPatch, pack: RulePack
) -> None:
    """A type the conversion misses made polars panic (a BaseException: it escaped an embedder's ``except
    Exception``) or raise its own error naming no column."""

    def unconverted(data: pa.Table, time_zone: str | None = None) -> pa.Table:
        del time_zone
        return data

    monkeypatch.setattr(sources, "importable", unconverted)
    table = _with_column("fee", pa.array([Decimal("1.00")] * 2, pa.decimal256(40, 2)))
    for run in (lambda: screen(table, pack), lambda: screening.Screener(pack).screen(table)):
        with pytest.raises(
            InputSchemaError, match=r"column 'fee' has type decimal256\(40, 2\), which polars cannot"
        ):
            run()


def test_wrong_calls_raise_clear_errors(tmp_path: Path, pack: RulePack) -> None:
    with pytest.raises(UsageError, match="cannot read a Series"):
        screen(pl.Series("a", [1]), pack)
    with pytest.raises(UsageError, match="cannot read a ChunkedArray"):
        screen(pa.chunked_array([["a"]]), pack)
    with pytest.raises(UsageError, match="is a folder; name the state file"):
        screening.Screener(pack).save_state(tmp_path)
    assert list(tmp_path.iterdir()) == []
    durations = manifest(2).with_columns(pl.duration(days=pl.lit(1)).alias("arrival_date"))
    with pytest.raises(InputSchemaError, match="column 'arrival_date' has type Duration"):
        screen(durations, pack)


@pytest.mark.parametrize(
    ("column", "shown"),
    [(pl.duration(days=pl.lit(1)), "Duration(time_unit='us')"), (pl.lit(dt.time(3)), "Time")],
    ids=["duration", "time"],
)
def test_an_arrival_date_of_no_date_type_names_every_type_read(
    pack: RulePack, column: pl.Expr, shown: str
) -> None:
    """A duration or time of day in arrival_date was refused as "expected text or Date", though a timestamp
    is read too."""
    frame = manifest(2).with_columns(column.alias("arrival_date"))
    expected = f"column 'arrival_date' has type {shown}; expected text, a date or a timestamp"
    with pytest.raises(InputSchemaError, match=re.escape(expected)):
        screen(frame, pack)


def test_a_value_past_six_decimals_is_cut_not_rounded_twice(pack: RulePack) -> None:
    """800.0049999 is $800.00 to the cent (half up): rounded to 6 decimals first (800.005000), it became
    $800.01 and over the threshold, while 800.004999 stayed eligible."""
    frame = manifest(3, declared_value=["800.0049999", "0.0049999", "800.0050000001"], currency=["USD"] * 3)
    as_decimals = frame.with_columns(pl.col("declared_value").cast(pl.Decimal(38, 10)))
    as_floats = frame.with_columns(pl.col("declared_value").cast(pl.Float64()))
    for source in (frame, as_decimals, as_floats):
        packages = screen(source, pack).packages.sort("package_id")
        assert packages["value_usd"].to_list() == [Decimal("800.00"), Decimal("0.00"), Decimal("800.01")]
        assert packages["de_minimis_reason"].to_list()[0] == "dm-eligible"


def test_a_float_value_is_read_as_its_shortest_decimal(pack: RulePack) -> None:
    """2.675 is 2.67499999... in binary (read as 2.675: $2.68), and 723347347957.975 was cast 723347347957.974912
    ($0.01 low)."""
    frame = manifest(2, declared_value=["2.675", "723347347957.975"], currency=["USD"] * 2).with_columns(
        pl.col("declared_value").cast(pl.Float64())
    )
    values = screen(frame, pack).packages.sort("package_id")["value_usd"].to_list()
    assert values == [Decimal("2.68"), Decimal("723347347957.98")]


def test_a_32_bit_float_value_is_read_as_its_own_shortest_decimal(pack: RulePack) -> None:
    """A float32 799.995 was read through its 64-bit widening (799.994995...): $799.99, where the same value as
    text or float64 is $800.00."""
    frame = manifest(3, declared_value=["799.995", "2.675", "0.1"], currency=["USD"] * 3).with_columns(
        pl.col("declared_value").cast(pl.Float32())
    )
    values = screen(frame, pack).packages.sort("package_id")["value_usd"].to_list()
    assert values == [Decimal("800.00"), Decimal("2.68"), Decimal("0.10")]


def test_a_16_bit_float_value_is_read_as_its_own_shortest_decimal(pack: RulePack) -> None:
    """A Float16 20.4 (20.40625) was read digit for digit, $20.41, and 249.2 (249.25) $249.25, where a Float32
    is read as its shortest decimal: a Float16 now is too (the shortest decimal it is the nearest Float16 of)."""
    frame = manifest(4, declared_value=["20.4", "249.2", "0.1", "16384"], currency=["USD"] * 4).with_columns(
        pl.col("declared_value").cast(pl.Float64()).cast(pl.Float16())
    )
    values = screen(frame, pack).packages.sort("package_id")["value_usd"].to_list()
    assert values == [Decimal("20.40"), Decimal("249.20"), Decimal("0.10"), Decimal("16380.00")]


def test_a_value_in_a_foreign_currency_is_rounded_once_from_the_exact_product(pack: RulePack) -> None:
    """0.31 CAD at 0.7258064516 is 0.224999999996 USD: $0.22. Polars' product kept 10 decimals, rounded half to
    even (0.2250000000), and the half-up rounding to the cent made it $0.23."""
    frame = manifest(1, declared_value=["0.31"], currency=["CAD"], arrival_date=["2025-08-04"])
    line = screen(frame, pack).lines.row(0, named=True)
    assert line["fx_usd_per_unit"] == Decimal("0.7258064516")
    assert line["value_usd"] == Decimal("0.22")


def test_a_value_in_another_currency_is_converted_from_its_digits_past_the_sixth_decimal(
    pack: RulePack,
) -> None:
    """GBP 654.8623454 at 1.2216384187 (2025-01-15) is 800.0050001 dollars: $800.01, over $800. The value was cut
    to 654.862345 before the rate was applied (800.0049996: $800.00 and eligible), a second rounding, from text,
    a float (a price times a quantity) and a wide decimal alike; the cut is now past the 12th decimal."""
    # A float of 6 decimals is read without its text, through a decimal of 6 places (cast to 12 directly,
    # 123456789.123456 was 123456789.123456001282).
    values = ["654.8623454", "0.0000000000019", "123456789.123456"]
    frame = manifest(3, declared_value=values, currency=["GBP"] * 3, arrival_date=["2025-01-15"] * 3)
    as_decimals = frame.with_columns(pl.col("declared_value").cast(pl.Decimal(38, 18)))
    as_floats = frame.with_columns(pl.col("declared_value").cast(pl.Float64()))
    for source in (frame, as_decimals, as_floats):
        lines = screen(source, pack).lines.sort("package_id")
        assert lines["declared_value"].to_list() == [
            Decimal("654.8623454"),
            Decimal("0.000000000001"),
            Decimal("123456789.123456"),
        ]
        assert lines["fx_usd_per_unit"][0] == Decimal("1.2216384187")
        # 123456789.123456 x 1.2216384187 = 150819556.6425... dollars.
        assert lines["value_usd"].to_list() == [Decimal("800.01"), Decimal("0.00"), Decimal("150819556.64")]
        assert lines["de_minimis_reason"][0] == "dm-over-threshold"


def test_a_value_at_a_bundled_rate_that_was_an_exact_tie_is_converted_at_the_half_up_rate(
    pack: RulePack,
) -> None:
    """HUF on 2025-11-13 is 1.1619/384 = 0.00302578125 dollars, an exact tie the table held as 0.0030257812 (half
    to even): HUF 826,234.56 came out $2500.00 and informal; at 0.0030257813 it is $2500.01, a formal entry."""
    frame = manifest(
        1,
        declared_value=["826234.56"],
        currency=["HUF"],
        arrival_date=["2025-11-13"],
        country_of_origin=["HU"],
    )
    result = screen(frame, pack)
    assert result.lines["fx_usd_per_unit"].to_list() == [Decimal("0.0030257813")]
    assert result.packages.select("value_usd", "entry_type").rows() == [(Decimal("2500.01"), "formal")]


def test_a_value_in_exponent_form_is_read_digit_for_digit(pack: RulePack) -> None:
    """polars writes a small float to CSV as ``1e-7``: as text it was ``invalid-value``, as the Parquet float
    $0.00. Exponent form is now read exactly (``8.000049999e2`` is 800.0049999, cut to $800.00; a cast would have
    rounded it to 800.005 and $800.01); an exponent past 20 is refused."""
    values = ["1e-7", "1.5E+03", "8.000049999e2", "2.5e-3", "1e20", "1e-21x", "5e-25"]
    result = screen(manifest(len(values), declared_value=values, currency=["USD"] * len(values)), pack)
    assert result.lines.sort("row").select("package_id", "value_usd").rows() == [
        ("P0", Decimal("0.00")),
        ("P1", Decimal("1500.00")),
        ("P2", Decimal("800.00")),
        ("P3", Decimal("0.00")),
        ("P6", Decimal("0.00")),
    ]
    assert result.rejects.sort("row").select("package_id", "code", "message").rows() == [
        (
            "P4",
            "invalid-value",
            "declared_value 1e20 is implausibly large (over 10^12); check the decimal separator",
        ),
        (
            "P5",
            "invalid-value",
            "declared_value 1e-21x is not a number in exponent form (d.ddde±n, n up to 20) nor a plain decimal "
            "number (no symbols or separators)",
        ),
    ]


def test_a_float_value_gives_the_same_answer_from_csv_and_parquet(pack: RulePack, tmp_path: Path) -> None:
    """The same float column written by polars to CSV (``1e-7``, ``2.5e-5``) and to Parquet reads alike."""
    floats = [1e-7, 2.5e-5, 1500.0, 799.995, 0.1 + 0.2, 123456.1234567, 999999999999.99]
    frame = manifest(len(floats), currency=["USD"] * len(floats)).with_columns(
        pl.Series("declared_value", floats)
    )
    frame.write_csv(tmp_path / "m.csv")
    frame.write_parquet(tmp_path / "m.parquet")
    assert "1e-7" in (tmp_path / "m.csv").read_text()
    from_csv, from_parquet = (screen(tmp_path / name, pack) for name in ("m.csv", "m.parquet"))
    assert from_csv.rejects.is_empty()
    assert from_parquet.rejects.is_empty()
    assert from_csv.lines["value_usd"].to_list() == from_parquet.lines["value_usd"].to_list()


def test_a_value_past_the_decimal_type_is_called_implausibly_large(pack: RulePack) -> None:
    """Twenty digits (or uint64's largest) do not parse as a decimal at all: they were called 'not a plain decimal
    number (no symbols or separators)', which they are."""
    text = screen(manifest(3, declared_value=["99999999999999999999", "10000000000000", "1e300"]), pack)
    unsigned = screen(
        manifest(1).with_columns(pl.lit(2**64 - 1, dtype=pl.UInt64()).alias("declared_value")), pack
    )
    messages = [*text.rejects.sort("row")["message"], *unsigned.rejects["message"]]
    assert [m.split(" is ", 1)[1] for m in messages] == [
        "implausibly large (over 10^12); check the decimal separator",
        "implausibly large (over 10^12); check the decimal separator",
        "implausibly large (over 10^12); check the decimal separator",
        "implausibly large (over 10^12); check the decimal separator",
    ]


@pytest.mark.parametrize("exchange", [True, False], ids=["renameat2", "rename-aside"])
def test_publish_puts_the_staged_folder_itself_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    """Atomic publishing renames the complete staged folder into place (with renameat2's exchange, or by moving
    the old one aside): the output is then the staged folder itself, and no file is copied over the old set."""
    from screening.io import writers

    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text("old")
    (out / "lines.parquet").write_bytes(b"old lines")
    staging = tmp_path / ".out.staging-test"
    staging.mkdir()
    (staging / "summary.json").write_text("new")
    staged_inode = os.stat(staging).st_ino
    if not exchange:
        monkeypatch.setattr(writers, "_exchange", lambda _a, _b: False)

    def no_copy(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a file was copied into the output")

    monkeypatch.setattr(shutil, "copyfile", no_copy)
    monkeypatch.setattr(shutil, "copy2", no_copy)
    writers.publish(staging, out)
    assert os.stat(out).st_ino == staged_inode
    assert {p.name: p.read_text() for p in out.iterdir()} == {"summary.json": "new"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_whole_numbers_with_zero_decimals_in_text_are_read_as_in_a_typed_file(
    tmp_path: Path, pack: RulePack
) -> None:
    """A CSV's ``line_no`` of ``1.0`` (how a float column exports) rejected every line as "not a whole number",
    where the same file as Parquet (float ``line_no``) screened them."""
    text = manifest(2, package_id=["A", "A"], line_no=["1.0", "2.00"])
    text.write_csv(tmp_path / "m.csv")
    typed = text.with_columns(pl.col("line_no").cast(pl.Float64()))
    typed.write_parquet(tmp_path / "m.parquet")
    from_csv, from_parquet = (screen(tmp_path / name, pack) for name in ("m.csv", "m.parquet"))
    assert from_csv.rejects.is_empty()
    assert from_csv.lines["line_no"].to_list() == from_parquet.lines["line_no"].to_list() == [1, 2]
    halves = screen(pl.DataFrame(manifest(1, line_no=["1.5"])), pack)
    assert halves.rejects["code"].to_list() == ["invalid-number"]


@pytest.mark.parametrize(
    ("line_no", "shown"),
    [
        (pa.array([2**63], pa.uint64()), "9223372036854775808"),
        (pa.array([2.0**60]), "1.152921504606847e+18"),
        (pa.array(["9223372036854775808"]), "9223372036854775808"),
    ],
)
def test_a_line_number_too_large_is_rejected_as_too_large_not_as_no_whole_number(
    pack: RulePack, line_no: pa.Array, shown: str
) -> None:
    """2^63 and 2^60 were rejected as "not a whole number": they are whole numbers, too large for a line."""
    table = manifest(1).to_arrow().append_column("line_no", line_no)
    rejects = screen(table, pack).rejects
    assert rejects.select("code", "message").row(0) == (
        "invalid-number",
        f"line_no {shown} is too large for a line number",
    )
    fraction = screen(manifest(1, line_no=["1.5"]), pack).rejects
    assert fraction["message"].to_list() == ["line_no 1.5 is not a whole number"]


_INT64_MAX = 2**63 - 1


def test_a_line_number_above_the_bound_is_refused_so_numbering_cannot_overflow(pack: RulePack) -> None:
    """A line numbered after 2^63 - 1 wrapped to -2^63 and became the package's first line, its date and
    consignee the package's (08-29, K9, not 08-28, K1). Line numbers above 10^9 are refused."""
    frame = manifest(
        3,
        package_id=["P1", "P1", "P2"],
        line_no=[_INT64_MAX, None, 1_000_000_000],
        arrival_date=["2025-08-28", "2025-08-29", "2025-08-28"],
        consignee_id=["K1", "K9", "K2"],
    ).with_columns(pl.col("line_no").cast(pl.Int64()))
    for result in (screen(frame, pack), screening.Screener(pack).screen(frame)):
        assert result.lines.select("package_id", "line_no").rows() == [("P2", 1_000_000_000)]
        rejects = result.rejects.sort("row")
        assert rejects.select("row", "code").rows() == [(1, "invalid-number"), (2, "package-incomplete")]
        assert rejects["message"][0] == f"line_no {_INT64_MAX} is above 10^9, the highest line number"


def test_a_missing_or_placeholder_package_id_is_no_id(pack: RulePack) -> None:
    """NaN ids (a float column) and ``NA`` ids (text) merged strangers' parcels into one package: $300, $400 and
    $500 were one $1,200 package 'NaN' over the threshold. Such an id is ``missing-field``, as a blank is; a short
    real id (``N1``, ``NAB``) stays an id."""
    floats = manifest(3, consignee_id=["K1", "K2", "K3"]).with_columns(
        pl.Series("package_id", [float("nan")] * 3)
    )
    words = ["NA", " n/a ", "None", "NULL", "#N/A", "<NA>", "nil", "\\N", "nan", "N1", "NAB"]
    texts = manifest(len(words), package_id=words, consignee_id=[f"K{i}" for i in range(len(words))])
    for frame, kept in ((floats, []), (texts, ["N1", "NAB"])):
        result = screen(frame, pack)
        assert sorted(result.packages["package_id"]) == kept
        rejects = result.rejects.sort("row")
        assert set(rejects.select("field", "code").rows()) == {("package_id", "missing-field")}
        assert rejects.height == frame.height - len(kept)
        assert rejects["message"][0].endswith("is NaN or a word for none, not an id; package_id is required")


def test_a_nan_or_placeholder_port_is_no_port_as_a_blank_one_is(pack: RulePack) -> None:
    """A Float64 port column's NaN read as port ``NaN`` and text ``nan`` or ``N/A`` as ports of those names: each
    a port group of its own with a queue's full capacity, and explain said "at port NaN". Such a port is now no
    port (null), as a blank is, whether the column is a float or text; a real code stays a code."""
    chem = {"hts_code": ["2933.39.91.00"] * 4, "description": ["chem"] * 4}
    floats = manifest(4, **chem).with_columns(
        pl.Series("port_of_entry", [101.0, float("nan"), None, float("nan")], dtype=pl.Float64())
    )
    words = ["nan", "NaN", " N/A ", "NULL", "None", "<NA>", "#N/A", "nil", "\\N", "na", None, "0101", "JFK"]
    texts = manifest(
        len(words),
        port_of_entry=words,
        hts_code=["2933.39.91.00"] * len(words),
        description=["chem"] * len(words),
    )
    for frame, ports in (
        (floats, ["0101", None, None, None]),
        (texts, [None] * 11 + ["0101", "JFK"]),
    ):
        result = screen(frame, pack)
        assert result.rejects.height == 0
        assert result.lines.sort("row")["port_of_entry"].to_list() == ports
        unported = result.queues.filter(pl.col("port_of_entry").is_null())
        assert sorted(unported["queue_rank"]) == list(range(1, ports.count(None) + 1))
        assert set(result.queues["port_of_entry"].drop_nulls()) == set(ports) - {None}


def test_a_country_written_as_a_word_for_none_is_no_country(pack: RulePack) -> None:
    """``shipper_country`` or ``country_of_export`` written ``nan``, ``NaN``, ``N/A`` or ``NULL`` rejected the
    whole package as ``unknown-country``, though both may be left out. Such a word in an optional country column
    is now no country (null), the package screened; in ``country_of_origin``, which is required, it is
    ``missing-field``, saying the value is a word for none. ``NA`` is Namibia's code, not a word for none."""
    words = ["nan", "NaN", " N/A ", "NULL", "None", "<NA>", "#N/A", "nil", "\\N"]
    optional = manifest(
        len(words) + 1,
        shipper_country=[*words, "NA"],
        country_of_export=[*reversed(words), "na"],
    )
    result = screen(optional, pack)
    assert result.rejects.height == 0
    lines = result.lines.sort("row")
    assert lines["shipper_country"].to_list() == [None] * len(words) + ["NA"]
    assert lines["country_of_export"].to_list() == [None] * len(words) + ["NA"]
    required = manifest(len(words) + 1, country_of_origin=[*words, "NA"])
    result = screen(required, pack)
    assert result.lines["country_of_origin"].to_list() == ["NA"]
    rejects = result.rejects.sort("row")
    assert set(rejects.select("field", "code").rows()) == {("country_of_origin", "missing-field")}
    assert rejects["message"].to_list() == [
        f"country_of_origin {word} is NaN or a word for none, not a country code; country_of_origin is required"
        for word in words
    ]


def test_a_float_package_id_reads_as_its_integer_or_is_refused(pack: RulePack, tmp_path: Path) -> None:
    """Int64 101 in one file and Float64 101.0 in another were two packages, ``101`` and ``101.0``; a float id
    past 2^53 (9.405511899223197e+21) or a fraction is no id that can be read exactly: ``invalid-number``."""
    manifest(1, package_id=[101], declared_value=["500.00"], currency=["USD"]).write_parquet(
        tmp_path / "a.parquet"
    )
    manifest(1, package_id=[101.0], line_no=[2], declared_value=["450.00"], currency=["USD"]).write_parquet(
        tmp_path / "b.parquet"
    )
    both = screen([tmp_path / "a.parquet", tmp_path / "b.parquet"], pack)
    assert both.packages.select("package_id", "lines", "value_usd").rows() == [("101", 2, Decimal("950.00"))]
    floats = manifest(4).with_columns(
        pl.Series("package_id", [9405511899223197428490.0, 1.5, 2.0**53, 2.0**53 - 1])
    )
    result = screen(floats, pack)
    # 2^53 itself is refused: 2^53 + 1 stored in a Float64 is 2^53, so it may be another id's rounding.
    assert result.lines["package_id"].to_list() == ["9007199254740991"]
    assert result.rejects.select("package_id", "field", "code").rows() == [
        ("9.405511899223197e+21", "package_id", "invalid-number"),
        ("1.5", "package_id", "invalid-number"),
        ("9007199254740992", "package_id", "invalid-number"),
    ]
    assert result.rejects["message"][1] == (
        "package_id 1.5 is a Float64 that is not a whole number it holds exactly (below 2^53), so it cannot be "
        "read as an id: write the ids as text"
    )


def test_a_float_package_id_saved_as_text_reads_as_the_float_column_does(
    pack: RulePack, tmp_path: Path
) -> None:
    """A Float64 id 101.0 read as ``101`` from Parquet, but the same frame saved as CSV (``101.0``) kept ``101.0``:
    a resend of the hour's lines as CSV was a new package, its consignee-day counted twice. Text of a whole
    number written as a decimal is the integer; an id in exponent form, as a float column writes one too large
    to hold exactly, is ``invalid-number`` as the float is."""
    frame = manifest(1, package_id=[101.0], line_no=[1], declared_value=["500.00"], currency=["USD"])
    frame.write_parquet(tmp_path / "h1.parquet")
    frame.write_csv(tmp_path / "h2.csv")
    both = screen([tmp_path / "h1.parquet", tmp_path / "h2.csv"], pack)
    assert both.packages.select("package_id", "lines", "value_usd").rows() == [("101", 1, Decimal("500.00"))]
    assert both.rejects.select("source", "package_id", "code").rows() == [
        (str(tmp_path / "h2.csv"), "101", "duplicate-line")
    ]
    texts = manifest(6).with_columns(
        pl.Series("package_id", ["101.00", "-5.0", "9.405511899223197e+21", "1E22", "AB1.0", "1e5x"])
    )
    result = screen(texts, pack)
    assert sorted(result.lines["package_id"].to_list()) == ["-5", "101", "1e5x", "AB1.0"]
    assert result.rejects.select("package_id", "field", "code").rows() == [
        ("9.405511899223197e+21", "package_id", "invalid-number"),
        ("1E22", "package_id", "invalid-number"),
    ]


def _write_ipc_file(table: pa.Table, path: Path) -> None:
    with pa.ipc.new_file(path, table.schema) as writer:
        writer.write_table(table)


@pytest.mark.parametrize(
    "far",
    [
        pa.array(
            [1756468800_000000, _INT64_MAX], pa.timestamp("us", tz="UTC")
        ),  # DuckDB 'infinity'::timestamptz
        pa.array([1756468800_000000, -_INT64_MAX], pa.timestamp("us")),
        pa.array([1756468800_000, _INT64_MAX], pa.timestamp("ms", tz="America/New_York")),
        pa.array([1756468800_000, 300_000 * 365 * 86_400_000], pa.timestamp("ms")),
        pa.array([1756468800, 1756468800 + 2**61], pa.timestamp("s")),
    ],
    ids=["us-utc-infinity", "us-minus-infinity", "ms-zoned", "ms-year-300000", "s-wrapping"],
)
def test_a_timestamp_beyond_year_9999_is_one_reject_not_a_crash(pack: RulePack, far: pa.Array) -> None:
    """Such a timestamp made polars panic (invalid or out-of-range datetime, not an Exception); a second count
    that overflows as milliseconds wrapped around to 2025-08-29 and was screened on that day."""
    table = arrow_manifest(arrival_date=far)
    for result in (screen(table, pack), screening.Screener(pack).screen(table)):
        assert result.lines["package_id"].to_list() == ["P0"]
        assert result.lines["arrival_date"].to_list() == [dt.date(2025, 8, 29)]
        reject = result.rejects.row(0, named=True)
        assert (reject["row"], reject["field"], reject["code"]) == (2, "arrival_date", "invalid-date")
        assert reject["value"].endswith(f" {far[1].cast(pa.int64())} of the Unix epoch")


#: Arrival date-times as text, each with the same instant (or wall time) as a typed timestamp and the date it is
#: screened on in the pack's zone (America/New_York): 03:00 UTC on 2025-08-29 is still 08-28 there.
_ZONED_TEXT = (
    ("2025-08-29T03:00:00Z", dt.datetime(2025, 8, 29, 3, tzinfo=dt.UTC), dt.date(2025, 8, 28)),
    ("2025-08-29T00:00:00-04:00", dt.datetime(2025, 8, 29, 4, tzinfo=dt.UTC), dt.date(2025, 8, 29)),
    (
        "2025-08-29 08:00:00.5+05:30",
        dt.datetime(2025, 8, 29, 2, 30, 0, 500000, tzinfo=dt.UTC),
        dt.date(2025, 8, 28),
    ),
    (
        "2025-08-29T04:00:00.123456789Z",
        dt.datetime(2025, 8, 29, 4, 0, 0, 123456, tzinfo=dt.UTC),
        dt.date(2025, 8, 29),
    ),
)
_NAIVE_TEXT = (
    ("2025-08-29 00:00:00", dt.datetime(2025, 8, 29), dt.date(2025, 8, 29)),
    ("2025-08-28T23:59:59.999", dt.datetime(2025, 8, 28, 23, 59, 59, 999000), dt.date(2025, 8, 28)),
    ("2025-08-29T03:00:00", dt.datetime(2025, 8, 29, 3), dt.date(2025, 8, 29)),
)


@pytest.mark.parametrize("forms", [_ZONED_TEXT, _NAIVE_TEXT], ids=["zoned", "naive"])
def test_an_arrival_date_time_in_text_is_dated_as_the_typed_timestamp_is(
    tmp_path: Path, pack: RulePack, forms: tuple[tuple[str, dt.datetime, dt.date], ...]
) -> None:
    """``2025-08-29T03:00:00Z`` in a CSV file was ``invalid-date``, while a Parquet timestamp column of that
    instant was screened on 2025-08-28 (README: a timestamp with a zone is dated in the pack's zone). Text with
    an offset or ``Z`` is dated as the typed zoned timestamp, text without one as the typed naive timestamp
    (the date it shows), in CSV and in a Parquet column of text alike."""
    texts, instants, dates = (list(column) for column in zip(*forms, strict=True))
    text = manifest(len(texts), arrival_date=texts)
    typed = text.with_columns(pl.Series("arrival_date", instants))
    assert isinstance(typed.schema["arrival_date"], pl.Datetime)
    paths = {
        "csv": tmp_path / "m.csv",
        "text.parquet": tmp_path / "t.parquet",
        "typed": tmp_path / "d.parquet",
    }
    text.write_csv(paths["csv"])
    text.write_parquet(paths["text.parquet"])
    typed.write_parquet(paths["typed"])
    for name, path in paths.items():
        result = screen(path, pack)
        assert result.rejects.height == 0, (name, result.rejects.select("value", "message").rows())
        got = result.lines.sort("package_id").select("package_id", "arrival_date").rows()
        assert got == [(f"P{i}", day) for i, day in enumerate(dates)], name


@pytest.mark.parametrize(
    ("text", "day"),
    [
        # A leap second is the last second of its minute: the parser read 60 as the next minute's 0 (08-29).
        ("2025-08-28T23:59:60", dt.date(2025, 8, 28)),
        ("2016-12-31 23:59:60", dt.date(2016, 12, 31)),
        ("2016-12-31T23:59:60.5", dt.date(2016, 12, 31)),
        # With an offset, an instant as second 59 is: 23:59:60 UTC is 19:59 in New York, 08-28.
        ("2025-08-28T23:59:60Z", dt.date(2025, 8, 28)),
        ("2025-08-29T03:59:60+00:00", dt.date(2025, 8, 28)),
        ("2025-08-29T04:59:60+00:00", dt.date(2025, 8, 29)),
        # RFC 3339 allows a lower-case t and z.
        ("2025-08-29t03:00:00z", dt.date(2025, 8, 28)),
        ("2025-08-29T03:00:00z", dt.date(2025, 8, 28)),
        ("2025-08-29t03:00:00", dt.date(2025, 8, 29)),
        # Any number of fractional digits: those past nanoseconds do not change the day.
        ("2025-08-29T03:00:00.1234567891Z", dt.date(2025, 8, 28)),
        ("2025-08-28T23:59:59.99999999999999", dt.date(2025, 8, 28)),
    ],
)
def test_a_leap_second_lower_case_t_and_z_and_long_fractions_are_dated_as_they_show(
    tmp_path: Path, pack: RulePack, text: str, day: dt.date
) -> None:
    """``2025-08-28T23:59:60`` was dated 2025-08-29; a lower-case ``t`` or ``z`` and more than nine fractional
    digits were ``invalid-date``."""
    path = tmp_path / "m.csv"
    manifest(1, arrival_date=[text]).write_csv(path)
    result = screen(path, pack)
    assert result.rejects.select("code", "value").rows() == []
    assert result.lines["arrival_date"].to_list() == [day]


def test_other_arrival_date_times_in_text_stay_invalid_dates(tmp_path: Path, pack: RulePack) -> None:
    """Text that is not an ISO date or date-time (no seconds, an hour 25 or 24, a second 61, a point without
    digits, a zone name, an offset without its colon, a lone ``T``) is ``invalid-date``, its message naming the
    forms read."""
    texts = [
        "2025-08-29T03:00",
        "2025-08-29T25:00:00Z",
        "2025-08-29T24:00:00",
        "2025-08-28T23:59:61",
        "2025-08-29T03:00:00.Z",
        "2025-08-29T03:00:00 EST",
        "2025-08-29T03:00:00+0530",
        "2025-08-29T",
        "2025-02-30T03:00:00Z",
    ]
    path = tmp_path / "m.csv"
    manifest(len(texts), arrival_date=texts).write_csv(path)
    result = screen(path, pack)
    assert result.lines.height == 0
    rejects = result.rejects.sort("row")
    assert rejects.select("field", "code", "value").rows() == [
        ("arrival_date", "invalid-date", text) for text in texts
    ]
    forms = (
        "is not a valid ISO date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM:SS, T or a blank between, "
        "with optional fractional seconds and Z or an offset ±HH:MM)"
    )
    assert rejects["message"].to_list() == [f"arrival_date {text} {forms}" for text in texts]


def test_a_date_with_a_one_digit_month_or_day_is_an_invalid_date(tmp_path: Path, pack: RulePack) -> None:
    """``2025-08-2`` (a date cut short in export), ``2025-08- 2`` and ``2025-8-29`` were read as 2 August and
    29 August and screened on those days (``2025-08-2`` was dutiable as 08-02, de minimis as 08-02), while
    ``2025-08-2T03:00:00Z`` was ``invalid-date``: README's ISO date is ``YYYY-MM-DD``, in a file and in a
    mapping's default alike."""
    texts = ["2025-08-2", "2025-08- 2", "2025-8-29", "025-08-29", "2025-08-2T03:00:00Z", "\uff12025-08-29"]
    path = tmp_path / "m.csv"
    manifest(len(texts), arrival_date=texts).write_csv(path)
    result = screen(path, pack)
    assert result.lines.height == 0
    assert result.rejects.sort("row").select("field", "code", "value").rows() == [
        ("arrival_date", "invalid-date", text) for text in texts
    ]
    undated = tmp_path / "undated.csv"
    manifest(1).drop("arrival_date").write_csv(undated)
    defaulted = screen(undated, pack, mapping=ColumnMapping(defaults={"arrival_date": "2025-9-15"}))
    assert defaulted.rejects.select("field", "code").rows() == [("arrival_date", "invalid-date")]


def test_a_timestamp_column_read_as_text_dates_its_instants_in_the_pack_s_zone(pack: RulePack) -> None:
    """03:00 UTC on 2025-08-29 arrived on 08-28 in New York, also beside an instant beyond year 9999 (the
    column is then read as text)."""
    instants = [dt.datetime(2025, 8, 29, 3, tzinfo=dt.UTC), dt.datetime(2025, 8, 29, 3, tzinfo=dt.UTC)]
    plain = pa.array(instants, pa.timestamp("us", tz="UTC"))
    far = pa.array([plain[0].value, _INT64_MAX], pa.timestamp("us", tz="UTC"))
    assert (
        screen(arrow_manifest(arrival_date=plain), pack).lines["arrival_date"].to_list()
        == [dt.date(2025, 8, 28)] * 2
    )
    for result in (
        screen(arrow_manifest(arrival_date=far), pack),
        screening.Screener(pack).screen(arrow_manifest(arrival_date=far)),
    ):
        assert result.lines["arrival_date"].to_list() == [dt.date(2025, 8, 28)]
        assert result.rejects["code"].to_list() == ["invalid-date"]


@pytest.mark.parametrize("suffix", ["parquet", "arrow", "ipc"])
@pytest.mark.parametrize(
    "far",
    [
        pa.array([20157, 300_000 * 365], pa.date32()),
        pa.array([1756468800_000000, _INT64_MAX], pa.timestamp("us", tz="UTC")),
    ],
    ids=["date32", "timestamp"],
)
def test_a_file_with_a_date_beyond_year_9999_is_refused_naming_the_column_and_row(
    tmp_path: Path, pack: RulePack, suffix: str, far: pa.Array
) -> None:
    """Polars panicked reading such a file (exit 70, the whole day lost, and no word of where)."""
    table = arrow_manifest(arrival_date=far)
    path = tmp_path / f"m.{suffix}"
    if suffix == "parquet":
        pa.parquet.write_table(table, path)
    elif suffix == "arrow":
        _write_ipc_file(table, path)
    else:
        write_ipc_stream(path, table, 1)
    expected = r"m\.\w+: column 'arrival_date' holds a .* outside the years 1 to 9999 \(first in row 2\)"
    for run in (lambda: screen(path, pack), lambda: screening.Screener(pack).screen(path)):
        with pytest.raises(InputSchemaError, match=expected):
            run()


def _arrow_columns_polars_cannot_read() -> dict[str, pa.Array]:
    values = pa.array([1, 2])
    return {
        "interval": pa.array([pa.MonthDayNano([1, 2, 3])] * 2, pa.month_day_nano_interval()),
        "sparse-union": pa.UnionArray.from_sparse(
            pa.array([0, 1], pa.int8()), [values, pa.array(["a", "b"])]
        ),
        "dense-union": pa.UnionArray.from_dense(
            pa.array([0, 1], pa.int8()), pa.array([0, 0], pa.int32()), [values, pa.array(["a"])]
        ),
        "interval-in-list": pa.array(
            [[pa.MonthDayNano([1, 2, 3])]] * 2, pa.list_(pa.month_day_nano_interval())
        ),
    }


def test_run_end_encoded_and_list_view_columns_are_read_as_their_values(pack: RulePack) -> None:
    """polars raised its own ComputeError ("+r" is still not supported) for such columns, extra ones too."""
    plain = screen(arrow_manifest(), pack)
    table = arrow_manifest(
        mode=pyarrow.compute.run_end_encode(pa.array(["express", "express"])),
        declared_value=pyarrow.compute.run_end_encode(pa.array([10.0, 20.0])),
    )
    table = table.append_column(
        "parts",
        pa.ListViewArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array([1, 1], pa.int32()), [7, 8]),
    )
    for result in (screen(table, pack), screening.Screener(pack).screen(table)):
        assert result.rejects.height == 0
        assert_frame_equal(result.packages, plain.packages)
        assert result.lines.sort("line_no")["parts"].to_list() == [[7], [8]]


@pytest.mark.parametrize("kind", list(_arrow_columns_polars_cannot_read()))
def test_an_interval_or_union_column_is_refused_naming_it(tmp_path: Path, pack: RulePack, kind: str) -> None:
    """polars raised its own ComputeError in memory and panicked reading an Arrow IPC file (exit 70)."""
    table = arrow_manifest().append_column("extra", _arrow_columns_polars_cannot_read()[kind])
    file, stream = tmp_path / "m.arrow", tmp_path / "m.ipc"
    _write_ipc_file(table, file)
    write_ipc_stream(stream, table, 1)
    for source in (table, file, stream):
        with pytest.raises(InputSchemaError, match=r"column 'extra' has type .*, and polars cannot read"):
            screen(source, pack)
        with pytest.raises(InputSchemaError, match=r"column 'extra' has type .*, and polars cannot read"):
            screening.Screener(pack).screen(source)


@pytest.mark.parametrize("kind", ["run-end", "list-view"])
def test_a_file_with_a_run_end_encoded_or_list_view_column_is_refused_naming_it(
    tmp_path: Path, pack: RulePack, kind: str
) -> None:
    """polars panicked reading such an Arrow IPC file ("not yet implemented", exit 70)."""
    values = (
        pyarrow.compute.run_end_encode(pa.array([1, 2]))
        if kind == "run-end"
        else pa.ListViewArray.from_arrays(pa.array([0, 1], pa.int32()), pa.array([1, 1], pa.int32()), [7, 8])
    )
    path = tmp_path / "m.arrow"
    _write_ipc_file(arrow_manifest().append_column("extra", values), path)
    with pytest.raises(
        InputSchemaError, match=r"m\.arrow: column 'extra' has type .*, and polars cannot read"
    ):
        screen(path, pack)
    stream = write_ipc_stream(tmp_path / "m.ipc", arrow_manifest().append_column("extra", values), 1)
    assert screen(stream, pack).rejects.height == 0  # a stream is read through pyarrow, and converted


def test_a_32_or_16_bit_float_weight_quantity_or_metal_share_is_read_as_its_shortest_decimal(
    pack: RulePack,
) -> None:
    """100.2 as a 32-bit float was widened to 100.19999694824219 kg: 2.5 cents per kg on 0712.90.20.00
    owed $2.50, not the $2.51 of the same weight as text or a 64-bit float. A 16-bit float's 100.2 (100.1875)
    is read as its own shortest decimal too."""
    text = manifest(
        1,
        arrival_date=["2025-06-10"],
        mode=["cargo"],
        hts_code=["0712.90.20.00"],
        declared_value=["1500"],
        currency=["USD"],
        gross_weight_kg=["100.2"],
        quantity=["100.2"],
        metal_content_share=["0.3"],
    )
    measures = ["gross_weight_kg", "quantity", "metal_content_share"]
    for dtype in (pl.Float64(), pl.Float32(), pl.Float16()):
        typed = text.with_columns(pl.col(measures).cast(pl.Float64()).cast(dtype))
        result = screen(typed, pack)
        assert result.lines.select(measures).row(0) == (100.2, 100.2, 0.3)
        duties = result.components.filter(pl.col("component") == "mfn_specific")
        assert duties["amount_usd"].to_list() == [Decimal("2.51")]
