"""Tests of the screening-list readers: OFAC's SDN.CSV layout and the pack's canonical CSV.

``tests/fixtures/ofac_sdn_sample.csv`` holds 13 rows copied byte for byte from OFAC's ``sdn.csv`` of
2024-05-03 (public domain; see rules/us/screening/PROVENANCE.md), with the file's CRLF line ends,
``-0- `` nulls and closing ``0x1A`` line.
"""

from __future__ import annotations

import typing
from pathlib import Path

import polars as pl
import pytest

from screening.errors import RulePackError
from screening.rulepack.risk_models import ListEntityType
from screening.rulepack.screening_list import (
    ENTITY_TYPES,
    SCREENING_LIST_SCHEMA,
    read_ofac_sdn,
    read_screening_list,
    write_screening_list,
)

ROOT = Path(__file__).resolve().parents[2]
SDN_SAMPLE = ROOT / "tests" / "fixtures" / "ofac_sdn_sample.csv"
PACK_LIST = ROOT / "rules" / "us" / "screening" / "ofac_sdn_2024-05-03.csv"


@pytest.fixture(scope="module")
def sample() -> pl.DataFrame:
    return read_ofac_sdn(SDN_SAMPLE)


def entry(frame: pl.DataFrame, entry_id: str) -> dict[str, object]:
    rows = frame.filter(pl.col("entry_id") == entry_id).to_dicts()
    assert len(rows) == 1, entry_id
    return rows[0]


# --- OFAC SDN.CSV -----------------------------------------------------------------------------------------


def test_fixture_reproduces_the_published_layout() -> None:
    raw = SDN_SAMPLE.read_bytes()
    assert raw.endswith(b"\r\n\x1a")
    assert raw.count(b"\r\n") == 13
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert b",-0- ," in raw
    assert not raw.startswith(b"ent_num")


def test_sdn_rows_and_columns(sample: pl.DataFrame) -> None:
    assert sample.schema == pl.Schema(SCREENING_LIST_SCHEMA)
    assert sample.height == 13  # the 0x1A end-of-file line is not an entry
    assert sample["entry_id"].is_unique().all()
    assert sample["entry_id"].str.starts_with("ofac-sdn-").all()
    assert not sample["entry_id"].str.contains("\x1a", literal=True).any()
    assert sample["source"].unique().to_list() == ["OFAC SDN"]
    assert sample["entry_id"].to_list()[:3] == ["ofac-sdn-36", "ofac-sdn-173", "ofac-sdn-306"]


def test_sdn_entry_306_and_its_alias(sample: pl.DataFrame) -> None:
    assert entry(sample, "ofac-sdn-306") == {
        "entry_id": "ofac-sdn-306",
        "name": "BANCO NACIONAL DE CUBA",
        "aliases": [],  # strong aliases are in OFAC's alt.csv
        "weak_aliases": ["BNC"],  # Remarks holds OFAC's weak aliases
        "program": "CUBA",
        "entity_type": "entity",
        "source": "OFAC SDN",
    }


def test_sdn_programs_are_split_and_joined(sample: pl.DataFrame) -> None:
    assert entry(sample, "ofac-sdn-4632")["program"] == "IRAN; SDGT; IRGC; IFSR"
    assert entry(sample, "ofac-sdn-2686")["program"] == "SDGT; SYRIA"
    assert not sample["program"].str.contains(r"[\[\]]").any()


def test_sdn_entity_types(sample: pl.DataFrame) -> None:
    types = dict(zip(sample["entry_id"], sample["entity_type"], strict=True))
    assert types["ofac-sdn-2686"] == "individual"
    assert types["ofac-sdn-4238"] == "vessel"
    assert types["ofac-sdn-15431"] == "aircraft"
    assert types["ofac-sdn-36"] == "entity"  # SDN_Type is the -0- null marker
    assert set(types.values()) == {"individual", "vessel", "aircraft", "entity"}
    # A pack's [denied_parties] party_types may name each type a list holds, and only those.
    assert set(typing.get_args(ListEntityType)) == set(ENTITY_TYPES) == set(types.values())


def test_sdn_names_are_kept_as_published(sample: pl.DataFrame) -> None:
    assert entry(sample, "ofac-sdn-2686")["name"] == "NASRALLAH, Hasan"
    assert entry(sample, "ofac-sdn-173")["name"] == "ANGLO-CARIBBEAN CO., LTD."


def test_sdn_weak_aliases_from_remarks(sample: pl.DataFrame) -> None:
    assert entry(sample, "ofac-sdn-4243")["weak_aliases"] == ["ANA I", "SAND SWAN"]  # f.k.a.
    assert entry(sample, "ofac-sdn-3754")["weak_aliases"] == ["ABU-'UMAR"]  # quote inside the alias
    # Remarks truncated by OFAC: the unterminated last alias ('WHOIS HACKIN…) is left out.
    assert entry(sample, "ofac-sdn-27307")["weak_aliases"] == [
        "HIDDEN COBRA",
        "OFFICE 91",
        "GUARDIANS OF PEACE",
        "THE NEW ROMANTIC CYBER ARMY TEAM",
    ]
    assert entry(sample, "ofac-sdn-36")["weak_aliases"] == []  # Remarks is -0-: empty list, not null
    assert sample["weak_aliases"].null_count() == 0
    assert sample["aliases"].list.len().sum() == 0


def test_sdn_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="not found") as info:
        read_ofac_sdn(tmp_path / "sdn.csv")
    assert info.value.file == str(tmp_path / "sdn.csv")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA"\r\n', "4 columns"),
        (b"entry_id,name,aliases,program,entity_type,source\nx,y,,p,entity,s\n", "columns"),
        (
            b"ent_num,SDN_Name,SDN_Type,Program,Title,Call_Sign,Vess_type,Tonnage,GRT,Vess_flag,"
            b"Vess_owner,Remarks\r\n"
            b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            "not an integer",
        ),
        (b'36,"X","organisation","CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n', "SDN_Type"),
        (b'36,-0- ,-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n', "no SDN_Name"),
        (
            b'36,"A",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
            b'36,"B",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
            "repeated",
        ),
        (b"\x1a", "SDN.CSV"),
        (b"", "SDN.CSV"),
    ],
)
def test_sdn_malformed_file_raises(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "sdn.csv"
    path.write_bytes(content)
    with pytest.raises(RulePackError, match=message) as info:
        read_ofac_sdn(path)
    assert info.value.file == str(path)


# --- Canonical screening-list CSV -------------------------------------------------------------------------


def test_round_trip(sample: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    write_screening_list(sample, path)
    back = read_screening_list(path)
    assert back.schema == pl.Schema(SCREENING_LIST_SCHEMA)
    assert back.sort("entry_id").equals(sample.sort("entry_id"))
    header = path.read_text().splitlines()[0]
    assert header == "entry_id,name,aliases,weak_aliases,program,entity_type,source"
    assert "HIDDEN COBRA | OFFICE 91 | GUARDIANS OF PEACE" in path.read_text()


def test_written_order_is_deterministic(sample: pl.DataFrame, tmp_path: Path) -> None:
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    write_screening_list(sample, first)
    write_screening_list(sample.sample(fraction=1.0, shuffle=True, seed=7), second)
    assert first.read_bytes() == second.read_bytes()
    ids = read_screening_list(first)["entry_id"].to_list()
    assert ids[:4] == ["ofac-sdn-36", "ofac-sdn-173", "ofac-sdn-306", "ofac-sdn-424"]  # numeric order
    assert ids[-1] == "ofac-sdn-48907"


def test_optional_columns_get_defaults(tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text("entry_id,name,note\nx-1,Acme Widgets,ignored\n")
    table = read_screening_list(path)
    assert table.to_dicts() == [
        {
            "entry_id": "x-1",
            "name": "Acme Widgets",
            "aliases": [],
            "weak_aliases": [],
            "program": None,
            "entity_type": "entity",
            "source": "mine.csv",
        }
    ]


@pytest.mark.parametrize("missing", ["entry_id", "name"])
def test_missing_required_column_names_file_and_column(tmp_path: Path, missing: str) -> None:
    columns = [c for c in ("entry_id", "name", "program") if c != missing]
    path = tmp_path / "list.csv"
    path.write_text(",".join(columns) + "\n" + ",".join("v" for _ in columns) + "\n")
    with pytest.raises(RulePackError, match=missing) as info:
        read_screening_list(path)
    assert info.value.file == str(path)
    assert info.value.key_path == missing


@pytest.mark.parametrize(
    ("content", "key_path"),
    [
        ("entry_id,name\nx-1,A\nx-1,B\n", "entry_id"),
        ("entry_id,name\nx-1,\n", "name"),
        ("entry_id,name,entity_type\nx-1,A,company\n", "entity_type"),
    ],
)
def test_invalid_values_raise(tmp_path: Path, content: str, key_path: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(content)
    with pytest.raises(RulePackError) as info:
        read_screening_list(path)
    assert info.value.key_path == key_path


def test_missing_list_file_raises(tmp_path: Path) -> None:
    with pytest.raises(RulePackError, match="missing"):
        read_screening_list(tmp_path / "nope.csv")


def test_alias_containing_the_separator_is_refused(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {"entry_id": ["x-1"], "name": ["A"], "aliases": [["B | C"]]},
        schema={"entry_id": pl.String(), "name": pl.String(), "aliases": pl.List(pl.String())},
    )
    with pytest.raises(RulePackError, match="separator"):
        write_screening_list(frame, tmp_path / "list.csv")


# --- The converted list in the U.S. pack ------------------------------------------------------------------


@pytest.fixture(scope="module")
def pack_list() -> pl.DataFrame:
    return read_screening_list(PACK_LIST)


def test_pack_list_counts(pack_list: pl.DataFrame) -> None:
    assert pack_list.height == 14_965
    assert pack_list["entry_id"].is_unique().all()
    assert pack_list["source"].unique().to_list() == ["OFAC SDN"]
    counts = dict(pack_list["entity_type"].value_counts().iter_rows())
    assert counts == {"entity": 6_884, "individual": 6_854, "vessel": 851, "aircraft": 376}


def test_pack_list_entry_306(pack_list: pl.DataFrame) -> None:
    row = entry(pack_list, "ofac-sdn-306")
    assert row["name"] == "BANCO NACIONAL DE CUBA"
    assert "BNC" in row["weak_aliases"]  # type: ignore[operator]


def test_pack_list_agrees_with_the_parser(sample: pl.DataFrame, pack_list: pl.DataFrame) -> None:
    """The pack file is what read_ofac_sdn makes of the published rows."""
    subset = pack_list.join(sample.select("entry_id"), on="entry_id", how="semi")
    assert subset.sort("entry_id").equals(sample.sort("entry_id"))
