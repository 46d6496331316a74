"""The tolerant CSV reader: Python's ``csv`` semantics, polars' where polars reads the file, one pass.

A CSV source is read by polars; only a file polars cannot read goes to ``read_csv_tolerant``, where a
record with more fields than the header becomes one ``malformed-row`` reject and a bare quote inside
an unquoted field is a literal character.
"""

from __future__ import annotations

import csv
import gzip
import io
import zlib
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

import screening
from screening.errors import InputSchemaError, RejectCode
from screening.io import sources
from screening.io.sources import MALFORMED_COL, open_sources, read_csv_tolerant

from ..conftest import BASE_LINE, SAMPLE

NAMES = ["h0", "h1", "h2"]
HEADER = ",".join(NAMES)
COLUMNS = list(BASE_LINE)


def tolerant(body: str, names: list[str] = NAMES, separator: str = ",") -> pl.DataFrame:
    text = separator.join(names) + "\n" + body
    return read_csv_tolerant(text.encode(), names, separator, label="test.csv")


def ends_inside_quotes(text: str, separator: str = ",") -> bool:
    """Whether Python's csv state machine (non-strict) ends ``text`` inside a quoted field."""
    state = "start"
    for char in text:
        if state == "quoted":
            state = "quote" if char == '"' else "quoted"
        elif state == "quote":
            state = "quoted" if char == '"' else "start" if char in (separator, "\n") else "field"
        elif char in (separator, "\n"):
            state = "start"
        elif state == "start" and char == '"':
            state = "quoted"
        else:
            state = "field"
    return state == "quoted"


def python_rows(body: str, width: int) -> list[tuple[str | None, ...]]:
    """Rows as Python's csv module reads ``body``: the first ``width`` fields ('' for missing) + malformed."""
    rows = []
    for record in csv.reader(io.StringIO(body, newline="")):
        fields = record or [""]  # csv yields [] for an empty line: a row of empty fields
        padded = (fields + [""] * width)[:width]
        rows.append((*padded, "malformed" if len(fields) > width else None))
    return rows


def our_rows(frame: pl.DataFrame) -> list[tuple[str | None, ...]]:
    """Rows of the tolerant reader with null read as '' (Python's csv has no null) and the flag kept."""
    values = frame.select(
        *[pl.col(c).fill_null("") for c in NAMES],
        pl.when(pl.col(MALFORMED_COL).is_not_null()).then(pl.lit("malformed")).alias(MALFORMED_COL),
    )
    return [tuple(r) for r in values.iter_rows()]


# --- The reader against Python's csv module and polars ------------------------------------------------------

BODIES = st.text(alphabet='ab ,"\n', max_size=40)


@settings(max_examples=400, deadline=None)
@given(BODIES)
@example('a,"b\nc",d\nx,y"z,1\n')
@example('"ab"c,d\n"x""y",,\n')
@example("a,b,c,d,e\n\n1\n")
@example('a,"b\n')
def test_the_tolerant_reader_reads_as_pythons_csv_module(body: str) -> None:
    if ends_inside_quotes(body):
        with pytest.raises(InputSchemaError, match="never closed"):
            tolerant(body)
        return
    assert our_rows(tolerant(body)) == python_rows(body, len(NAMES))


@settings(max_examples=400, deadline=None)
@given(BODIES)
@example('"x\ny",a\n"",b\n')
@example("a,b\n\n,\n")
def test_the_tolerant_reader_reads_as_polars_where_polars_reads_as_python(body: str) -> None:
    """Where polars and Python's csv read a file alike, the tolerant reader agrees, nulls included.

    So a record reads the same whichever reader another record of its file sends it to. (Polars reads a
    few records otherwise, and then the two readers differ: ``""a"`` is ``a`` to polars, ``a"`` to
    Python; polars takes ``,,,`` under a 3-column header and a quote left open on the last line.)
    """
    try:
        expected = pl.read_csv((HEADER + "\n" + body).encode(), infer_schema=False)
    except pl.exceptions.PolarsError:
        return
    if ends_inside_quotes(body):
        return
    python = python_rows(body, len(NAMES))
    if our_rows(expected.with_columns(pl.lit(None, pl.String()).alias(MALFORMED_COL))) != python:
        return
    assert_frame_equal(tolerant(body), expected.with_columns(pl.lit(None, pl.String()).alias(MALFORMED_COL)))


def test_the_sample_manifest_reads_as_polars_reads_it() -> None:
    path = SAMPLE / "manifest_10k.csv"
    expected = pl.read_csv(path, infer_schema=False)
    got = read_csv_tolerant(path.read_bytes(), expected.columns, label=str(path))
    assert_frame_equal(got, expected.with_columns(pl.lit(None, pl.String()).alias(MALFORMED_COL)))


def test_a_record_with_more_fields_keeps_the_header_width_and_says_why() -> None:
    frame = tolerant('1,2,3\n4,5,6,7,"8"\n9\n')
    assert frame.drop(MALFORMED_COL).rows() == [("1", "2", "3"), ("4", "5", "6"), ("9", None, None)]
    assert frame[MALFORMED_COL].to_list() == [
        None,
        "the record has 5 fields but the header has 3; a field holding ',' must be quoted",
        None,
    ]


def test_quotes_line_breaks_and_empty_fields() -> None:
    frame = tolerant('cotton 12" shirt,"a ""b"", c","x\r\ny"\n"",,\n"q"tail,\n')
    assert frame.drop(MALFORMED_COL).rows() == [
        ('cotton 12" shirt', 'a "b", c', "x\ny"),
        ("", None, None),
        ("qtail", None, None),
    ]


def test_tabs_bom_and_bytes_that_are_not_utf8() -> None:
    data = b'\xef\xbb\xbfh0\th1\th2\nJ\xfcrgen\t12" pipe\tb\n1\t2\t3\t4\n'
    frame = read_csv_tolerant(data, NAMES, "\t", label="test.tsv")
    assert frame.drop(MALFORMED_COL).rows() == [("J\ufffdrgen", '12" pipe', "b"), ("1", "2", "3")]
    assert frame[MALFORMED_COL].to_list() == [
        None,
        "the record has 4 fields but the header has 3; a field holding '\\t' must be quoted",
    ]


def test_an_unclosed_quote_names_the_row_where_it_opens() -> None:
    with pytest.raises(InputSchemaError, match=r"test\.csv: a quoted field in row 2 is never closed"):
        tolerant('1,2,3\n4,"5\n6,7,8\n')


def test_a_header_wider_than_the_plain_pattern_allows_is_split_field_by_field() -> None:
    names = [f"c{i}" for i in range(1200)]
    row = ",".join(str(i) for i in range(1200))
    frame = tolerant(f'{row}\n{row},1\n"x"\n', names)
    assert frame["c1199"].to_list() == ["1199", "1199", None]
    assert frame[MALFORMED_COL].is_null().to_list() == [True, False, True]


# --- Through screen(): one reject per malformed record, the rest screened ------------------------------------


def csv_line(**overrides: str) -> str:
    row = {**BASE_LINE, **overrides}
    return ",".join(f'"{row[c]}"' if "\n" in row[c] else row[c] for c in COLUMNS)


def write(path: Path, lines: list[str], separator: str = ",") -> Path:
    text = "\n".join([separator.join(COLUMNS), *lines]) + "\n"
    path.write_text(text if separator == "," else text.replace(",", separator), encoding="utf-8")
    return path


def test_rows_stay_numbered_by_record_around_a_malformed_one(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    path = write(
        tmp_path / "m.csv",
        [
            csv_line(package_id="P1", description="cotton\nshirt"),
            csv_line(package_id="P2") + ",extra",
            csv_line(package_id="P3", description='12" pipe'),
            csv_line(package_id="P4", description="two\nlines\nmore"),
            csv_line(package_id="P5"),
        ],
    )
    result = screening.screen(path, rules=us_pack)
    assert result.rejects.select("source", "row", "field", "code", "package_id").rows() == [
        (str(path), 2, None, RejectCode.MALFORMED_ROW, "P2")
    ]
    assert "15 fields but the header has 14" in result.rejects["message"][0]
    lines = result.lines.sort("row")
    assert lines.select("row", "package_id").rows() == [(1, "P1"), (3, "P3"), (4, "P4"), (5, "P5")]
    assert lines["description"].to_list() == [
        "cotton\nshirt",
        '12" pipe',
        "two\nlines\nmore",
        "cotton t-shirt",
    ]
    assert result.summary["counts"]["input_rows"] == 5
    assert "__malformed_row" not in result.lines.columns


def test_a_tsv_with_a_stray_quote(tmp_path: Path, us_pack: screening.RulePack) -> None:
    path = write(tmp_path / "m.tsv", [csv_line(package_id="P1", description='5" nails')], separator="\t")
    result = screening.screen(path, rules=us_pack)
    assert result.lines["description"].to_list() == ['5" nails']
    assert result.rejects.height == 0


def test_a_well_formed_file_is_read_by_polars_alone(
    tmp_path: Path, us_pack: screening.RulePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> pl.DataFrame:
        raise AssertionError("the tolerant reader ran for a well-formed file")

    monkeypatch.setattr(sources, "read_csv_tolerant", refuse)
    path = write(tmp_path / "m.csv", [csv_line(package_id=f"P{i}", description="a\nb") for i in range(3)])
    result = screening.screen(path, rules=us_pack)
    assert result.lines.height == 3


def test_a_malformed_file_is_read_once(
    tmp_path: Path, us_pack: screening.RulePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = sources.read_csv_tolerant

    def counted(*args: object, **kwargs: object) -> pl.DataFrame:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sources, "read_csv_tolerant", counted)
    path = write(tmp_path / "m.csv", [csv_line(package_id="P1"), csv_line(package_id="P2") + ",x"])
    result = screening.screen(path, rules=us_pack)
    assert (result.lines.height, result.rejects.height, result.summary["counts"]["input_rows"]) == (1, 1, 2)
    assert len(calls) == 1


def test_an_unclosed_quote_still_fails_the_file_naming_it(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    path = write(
        tmp_path / "m.csv", [csv_line(package_id="P1"), csv_line(package_id="P2", description='"open')]
    )
    with pytest.raises(InputSchemaError, match="row 2 is never closed") as info:
        screening.screen(path, rules=us_pack)
    assert info.value.source == str(path)


def test_a_csv_source_counts_its_rows_without_reading_them_again(tmp_path: Path) -> None:
    path = write(tmp_path / "m.csv", [csv_line(package_id="P1"), csv_line(package_id="P2") + ",x"])
    (source,) = open_sources([path])
    assert source.frame.collect().height == 2
    assert source.frame.select(pl.len()).collect().item() == 2


def test_the_marker_column_is_not_shown_as_one_of_the_files_columns(tmp_path: Path) -> None:
    path = tmp_path / "not_a_manifest.csv"
    path.write_text("package_id,tracking,amount\nP1,A1,10\n", encoding="utf-8")
    with pytest.raises(InputSchemaError, match=r"it has \['amount', 'tracking', 'package_id'\]\."):
        open_sources([path])


def test_a_blank_line_is_rejected_as_a_blank_row(tmp_path: Path, us_pack: screening.RulePack) -> None:
    lines = [csv_line(package_id="P1"), "", ",".join([""] * len(COLUMNS)), csv_line(package_id="P2")]
    path = write(tmp_path / "m.csv", lines)
    result = screening.screen(path, rules=us_pack)
    assert result.lines["package_id"].to_list() == ["P1", "P2"]
    rejects = result.rejects.sort("row")
    assert rejects["row"].to_list() == [2, 3]
    assert set(rejects["field"]) == {"package_id"}
    assert set(rejects["message"]) == {"the row is blank (every field is empty); package_id is required"}


def test_a_row_missing_only_its_package_id_is_not_called_blank(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    path = write(tmp_path / "m.csv", [csv_line(package_id="")])
    result = screening.screen(path, rules=us_pack)
    assert result.rejects["message"].to_list() == ["package_id is required but empty"]


# --- Compressed files: polars' reader decompresses them, and so must the tolerant one ------------------------


def _zstd(data: bytes) -> bytes:
    return bytes(pa.Codec("zstd").compress(data, asbytes=True))


def _two_gzip_members(data: bytes) -> bytes:
    cut = data.index(b"\n") + 1
    return gzip.compress(data[:cut]) + gzip.compress(data[cut:])


_COMPRESSIONS = [gzip.compress, zlib.compress, _zstd, _two_gzip_members]


@pytest.mark.parametrize("compress", _COMPRESSIONS, ids=["gzip", "zlib", "zstd", "gzip-two-members"])
def test_a_compressed_file_is_read_decompressed_as_polars_reads_it(
    compress: Callable[[bytes], bytes],
) -> None:
    body = '1,2,3\n4,5,6,7\ncotton 12" shirt,b,c\n'
    data = (HEADER + "\n" + body).encode()
    got = read_csv_tolerant(compress(b"\xef\xbb\xbf" + data), NAMES, label="test.csv")
    assert_frame_equal(got, tolerant(body))
    assert got.height == 3


@pytest.mark.parametrize("compress", _COMPRESSIONS[:3], ids=["gzip", "zlib", "zstd"])
def test_compressed_data_cut_short_names_the_file(compress: Callable[[bytes], bytes]) -> None:
    data = compress((HEADER + "\n" + "1,2,3\n" * 200).encode())
    with pytest.raises(InputSchemaError, match=r"test\.csv: .*compressed .* decompress it"):
        read_csv_tolerant(data[: len(data) // 2], NAMES, label="test.csv")


def test_a_gzip_compressed_csv_with_a_malformed_record_loses_no_row(
    tmp_path: Path, us_pack: screening.RulePack
) -> None:
    """The row count, the screened rows and the batches agree: the tolerant reader decompresses as polars does."""
    plain = write(
        tmp_path / "plain.csv",
        [
            csv_line(package_id=f"P{i}", description='12" pipe' if i == 3 else "cotton t-shirt")
            for i in range(6)
        ]
        + [csv_line(package_id="P9") + ",extra"],
    )
    path = tmp_path / "day.csv"
    path.write_bytes(gzip.compress(plain.read_bytes()))
    whole = screening.screen(path, rules=us_pack)
    assert whole.summary["counts"]["input_rows"] == 7
    assert whole.lines.height == 6
    assert whole.rejects.select("row", "code").rows() == [(7, RejectCode.MALFORMED_ROW)]
    assert whole.lines.filter(pl.col("package_id") == "P3")["description"].to_list() == ['12" pipe']
    summary, _ = screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=2)
    assert (summary["counts"]["lines"], summary["counts"]["rejected"]) == (6, 1)
    batched = screening.screen_batches([path], rules=us_pack)
    assert (batched.lines.height, batched.rejects.height) == (6, 1)
