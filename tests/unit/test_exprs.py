"""Tests of the expression helpers: money rounding, HTS codes, the consignee key and text parsing."""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from screening.exprs.floats import shortest_decimal
from screening.exprs.gather import gathered
from screening.exprs.hts import VALID_HTS_DIGITS, dotted, hts_digits, hts_prefix, is_valid_hts_code
from screening.exprs.money import (
    apply_rate_half_up,
    cents_to_money,
    converted_cents,
    exact_product,
    to_cents_half_up,
)
from screening.exprs.names import normalise_name
from screening.exprs.parse import parse_text
from screening.exprs.parties import (
    PLAIN_NAME,
    PLAIN_ZIP,
    consignee_key,
    consignee_key_inputs,
    consignee_key_of_inputs,
    folded_name,
    given_consignee_id,
    history_key,
    matched_zip,
    normalised_name,
    padded_code,
    zip5,
)
from screening.schema import FX_RATE, FX_RATE_LONG, MONEY, RATE
from screening.schema import VALUE as DECLARED_VALUE

VALUE = pl.Decimal(24, 6)  # dollars to six decimals


def column(values: list[object], dtype: pl.DataType, expr: pl.Expr) -> list[object]:
    """Evaluate ``expr`` (over column ``x``) on ``values``."""
    return pl.DataFrame({"x": values}, schema={"x": dtype}).select(expr.alias("y"))["y"].to_list()


def cents_of(values: list[Decimal]) -> list[object]:
    return column(list(values), VALUE, to_cents_half_up(pl.col("x")))


def keys(ids: list[str | None], names: list[str | None], zips: list[str | None]) -> list[str]:
    """The consignee keys of packages ``P0``, ``P1``, ... with these ids, names and ZIPs."""
    frame = pl.DataFrame(
        {"id": ids, "name": names, "zip": zips, "package": [f"P{i}" for i in range(len(ids))]},
        schema={"id": pl.String(), "name": pl.String(), "zip": pl.String(), "package": pl.String()},
    )
    key = consignee_key(pl.col("id"), pl.col("name"), pl.col("zip"), package_id=pl.col("package"))
    return frame.select(key.alias("k"))["k"].to_list()


# --- Money -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dollars", "cents"),
    [
        ("0.125", 13),
        ("800.005", 80001),
        ("2.675", 268),  # 267.4999… as a binary float; exact as a decimal
        ("0.005", 1),
        ("0.004999", 0),
        ("0.015", 2),
        ("0.025", 3),  # half to even would give 2
        ("0", 0),
        ("800.00", 80000),
        ("799.994999", 79999),
    ],
)
def test_to_cents_rounds_half_up(dollars: str, cents: int) -> None:
    assert cents_of([Decimal(dollars)]) == [cents]


def test_to_cents_keeps_nulls() -> None:
    assert cents_of([None, Decimal("1.00")]) == [None, 100]  # type: ignore[list-item]


def test_to_cents_returns_int64() -> None:
    frame = pl.DataFrame({"x": [Decimal("1.5")]}, schema={"x": VALUE})
    assert frame.select(to_cents_half_up(pl.col("x"))).dtypes == [pl.Int64()]


@pytest.mark.parametrize(
    ("cents", "rate", "expected"),
    [
        (80001, "0.165", 13200),  # 13200.165
        (80000, "0.165", 13200),
        (100, "0.165", 17),  # 16.5 → 17 (half up)
        (300, "0.165", 50),  # 49.5 → 50
        (1, "0.165", 0),
        (0, "0.165", 0),
        (12345, "0", 0),
        (12345, "1.20", 14814),
        (10000, "0.003464", 35),  # 34.64
    ],
)
def test_apply_rate_half_up(cents: int, rate: str, expected: int) -> None:
    frame = pl.DataFrame({"c": [cents], "r": [Decimal(rate)]}, schema={"c": pl.Int64(), "r": RATE})
    out = frame.select(apply_rate_half_up(pl.col("c"), pl.col("r")).alias("y"))
    assert out.dtypes == [pl.Int64()]
    assert out["y"].to_list() == [expected]


def test_apply_rate_with_a_literal_rate() -> None:
    out = column([80001], pl.Int64(), apply_rate_half_up(pl.col("x"), pl.lit(Decimal("0.165"), dtype=RATE)))
    assert out == [13200]


@pytest.mark.parametrize(
    ("value", "rate", "rate_type", "cents"),
    [
        ("654.8623454", "1.2216384187", FX_RATE, 80001),  # 800.00500010...: cut to 654.862345, 80000
        ("654.862345", "1.2216384187", FX_RATE, 80000),  # 800.0049996...
        ("0.31", "0.7258064516", FX_RATE, 22),  # 0.224999999996
        ("1.5", "1.03", FX_RATE, 155),  # 1.545 exactly: half up
        ("826234.56", "0.0030257813", FX_RATE, 250001),  # 2500.0050...
        ("0.000000000001", "0.0000000001", FX_RATE, 0),
        ("1000000000000", "9999.9999999999", FX_RATE, 999999999999990000),  # the largest: no overflow
        ("999999999999.999999999999", "9999.999999999999999999", FX_RATE_LONG, 10**18),
        ("13040100", "0.000061349693251534", FX_RATE_LONG, 80001),  # IDR at 1/16300: 800.0061...
        ("2", "0.002500000000000000", FX_RATE_LONG, 1),  # 0.005 exactly: half up
        ("0.999999999999", "0.000000000000000001", FX_RATE_LONG, 0),
    ],
)
def test_a_converted_value_is_rounded_once_from_the_exact_product(
    value: str, rate: str, rate_type: pl.DataType, cents: int
) -> None:
    """The value (12 decimals) times the rate (10 or 18), every digit of the product kept, then half up to the
    cent: a value cut to 6 decimals first, or a product rounded to polars' scale, was a second rounding."""
    expected = int((Decimal(value) * Decimal(rate) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    assert expected == cents
    frame = pl.DataFrame(
        {"v": [Decimal(value)], "r": [Decimal(rate)]}, schema={"v": DECLARED_VALUE, "r": rate_type}
    )
    out = frame.select(converted_cents(pl.col("v"), pl.col("r"), rate_type).alias("c"))
    assert out.schema["c"] == pl.Int64()
    assert out["c"].to_list() == [cents]


def test_cents_to_money_is_decimal_18_2() -> None:
    frame = pl.DataFrame({"x": [80001, 0, 1, 5, None]}, schema={"x": pl.Int64()})
    out = frame.select(cents_to_money(pl.col("x")).alias("y"))
    assert out.schema["y"] == MONEY
    assert out.schema["y"] == pl.Decimal(18, 2)
    assert out["y"].to_list() == [Decimal("800.01"), Decimal("0.00"), Decimal("0.01"), Decimal("0.05"), None]


@settings(max_examples=200, deadline=None)
@given(
    st.decimals(
        min_value=Decimal(0),
        max_value=Decimal("999999999.999999"),
        places=6,
        allow_nan=False,
        allow_infinity=False,
    )
)
def test_cents_half_up_matches_decimal_quantize(dollars: Decimal) -> None:
    expected = int(dollars.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    assert cents_of([dollars]) == [expected]


@settings(max_examples=200, deadline=None)
@given(
    cents=st.integers(min_value=0, max_value=10**12),
    rate=st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=8),
)
def test_apply_rate_half_up_matches_decimal_quantize(cents: int, rate: Decimal) -> None:
    expected = int((Decimal(cents) * rate).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    frame = pl.DataFrame({"c": [cents], "r": [rate]}, schema={"c": pl.Int64(), "r": RATE})
    assert frame.select(apply_rate_half_up(pl.col("c"), pl.col("r")))[:, 0].to_list() == [expected]


@settings(max_examples=200, deadline=None)
@given(
    quantity=st.decimals(min_value=Decimal(0), max_value=Decimal(10_000), places=6),
    rate=st.decimals(min_value=Decimal(0), max_value=Decimal(5), places=8),
    per=st.sampled_from([1, 12, 144, 1000]),
)
def test_a_rate_per_dozen_or_gross_rounds_as_exact_arithmetic(
    quantity: Decimal, rate: Decimal, per: int
) -> None:
    # A specific rate per count: 100 cents x quantity x rate / count, half up. The division must come last:
    # 5 of a 0.144 rate per gross is 0.005 dollars exactly, 1 cent; 5/144 cut to six places first gave 0.
    expected = int((100 * quantity * rate / per).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    frame = pl.DataFrame(
        {"q": [quantity], "r": [rate], "d": [per]},
        schema={"q": pl.Decimal(24, 6), "r": RATE, "d": pl.Int64()},
    )
    amount = apply_rate_half_up(
        pl.lit(100, dtype=pl.Int64()), exact_product(pl.col("q"), pl.col("r")), per=pl.col("d")
    )
    assert frame.select(amount)[:, 0].to_list() == [expected]


def test_a_product_just_under_a_half_cent_rounds_down() -> None:
    # 100 x 3.694073 x 4.06055863 / 1000 = 1.499999999999999 cents: 1, though polars rounds the plain product
    # (15.00000000) and the quotient to their scales.
    frame = pl.DataFrame(
        {"q": [Decimal("3.694073")], "r": [Decimal("4.06055863")]}, schema={"q": pl.Decimal(24, 6), "r": RATE}
    )
    amount = apply_rate_half_up(
        pl.lit(100, dtype=pl.Int64()), exact_product(pl.col("q"), pl.col("r")), per=pl.lit(1000)
    )
    assert frame.select(amount)[:, 0].to_list() == [1]


def test_five_combs_at_a_rate_per_gross_owe_a_cent() -> None:
    frame = pl.DataFrame(
        {"q": [Decimal(5)], "r": [Decimal("0.144")]}, schema={"q": pl.Decimal(24, 6), "r": RATE}
    )
    amount = apply_rate_half_up(pl.lit(100, dtype=pl.Int64()), pl.col("q") * pl.col("r"), per=pl.lit(144))
    assert frame.select(amount)[:, 0].to_list() == [1]


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_to_money_is_exact_division_by_100(cents: int) -> None:
    assert column([cents], pl.Int64(), cents_to_money(pl.col("x"))) == [Decimal(cents) / 100]


# --- HTS -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "digits"),
    [
        ("6109.10.00.12", "6109100012"),
        ("6109.10.00", "61091000"),
        ("6109 10 00 12", "6109100012"),
        ("610910", "610910"),
        (" 6109.10 ", "610910"),
        ("6109-10", "6109-10"),  # only dots and blanks are removed; validation rejects the rest
    ],
)
def test_hts_digits(code: str, digits: str) -> None:
    assert column([code], pl.String(), hts_digits(pl.col("x"))) == [digits]


@pytest.mark.parametrize(
    ("digits", "text"),
    [
        ("6109100012", "6109.10.00.12"),
        ("61091000", "6109.10.00"),
        ("610910", "6109.10"),
        ("6109", "6109"),
    ],
)
def test_dotted(digits: str, text: str) -> None:
    assert column([digits], pl.String(), dotted(pl.col("x"))) == [text]


def test_hts_prefix_is_null_when_too_short() -> None:
    assert column(["6109100012", "610910"], pl.String(), hts_prefix(pl.col("x"), 8)) == ["61091000", None]


@given(st.from_regex(r"\A\d{6}(\d{2}){0,2}\Z"))
def test_dotted_then_digits_round_trips(digits: str) -> None:
    frame = pl.DataFrame({"x": [digits]})
    out = frame.select(hts_digits(dotted(pl.col("x"))))[:, 0].to_list()
    assert out == [digits]


#: Text that looks like an HTS code, often: digits (ASCII and other scripts'), dots, blanks of every
#: kind, and a few other characters.
_HTS_LIKE = st.text(st.sampled_from(list("0123456789..  \t\n\u00a0\u0663-xA")), max_size=16)


@settings(max_examples=400, deadline=None)
@given(codes=st.lists(_HTS_LIKE | st.from_regex(r"\A[\d.\s]{4,14}\Z"), min_size=1, max_size=20))
def test_valid_hts_code_is_the_digits_check_in_one_pass(codes: list[str]) -> None:
    one_pass = column(list(codes), pl.String(), is_valid_hts_code(pl.col("x")))
    by_digits = column(list(codes), pl.String(), hts_digits(pl.col("x")).str.contains(VALID_HTS_DIGITS))
    assert one_pass == by_digits


@pytest.mark.parametrize(
    ("code", "valid"),
    [
        ("6109.10.00.12", True),
        ("610910", True),
        (" 6109 10 00 ", True),
        ("6109.1", False),
        ("6109-10", False),
    ],
)
def test_valid_hts_code(code: str, valid: bool) -> None:
    assert column([code], pl.String(), is_valid_hts_code(pl.col("x"))) == [valid]


# --- Consignee key ---------------------------------------------------------------------------------------


def test_same_person_spelt_differently_has_one_key() -> None:
    a, b = keys([None, None], ["Anna Keller", "anna  KELLER"], ["20001", "20001-4321"])
    assert a == b
    assert a == "name:anna keller|20001"


def test_punctuation_is_a_blank_in_the_name_key_and_no_spelling_is_guessed() -> None:
    # As the README states: an apostrophe is a blank, so O'Brien is O Brien; OBrien is another name.
    a, b, c = keys([None] * 3, ["Sean O'Brien", "Sean O Brien", "Sean OBrien"], ["20001"] * 3)
    assert a == b == "name:sean o brien|20001"
    assert c == "name:sean obrien|20001"


def test_different_zip_is_a_different_person() -> None:
    a, b = keys([None, None], ["Anna Keller", "Anna Keller"], ["20001", "20002"])
    assert a != b


def test_consignee_id_wins_when_given() -> None:
    a, b, c = keys(["C-1", " C-1 ", "C-2"], ["Anna Keller", "Bob Stone", "Anna Keller"], ["20001"] * 3)
    assert a == b == "id:C1"
    assert c == "id:C2"


def test_one_id_written_in_other_case_blanks_or_punctuation_is_one_person() -> None:
    """``C-001``, ``c-001`` and ``C001`` were three consignees: three $300 packages of one person, each eligible
    (a trivial way around the $800 rule). Ids are compared by their letters and digits, in capitals."""
    written = ["C-001", "c-001", "C001", " c.001 ", "C 001", "C/001", "c_001", "Ｃ００１"]
    assert set(keys(written, ["Anna Keller"] * len(written), ["20001"] * len(written))) == {"id:C001"}
    # Other letters or digits are another id.
    assert len(set(keys(["C001", "C0001", "D001", "C-0-1"], ["Anna Keller"] * 4, ["20001"] * 4))) == 4


def test_ids_of_digits_keep_their_punctuation() -> None:
    """An EIN (``12-3456789``) and an SSN (``123-45-6789``) of two importers were one id ``123456789`` once
    punctuation was dropped: two $500 packages one consignee-day over the threshold. Blanks and dashes between
    digits are one hyphen, and full-width digits are digits."""
    ein, ssn, spaced, wide = keys(
        ["12-3456789", "123-45-6789", " 12 - 3456789 ", "１２-３４５６７８９"],
        ["A", "B", "C", "D"],
        ["1"] * 4,
    )
    assert (ein, ssn) == ("id:12-3456789", "id:123-45-6789")
    assert spaced == wide == ein
    assert column(["000-00-0000", "--"], pl.String(), given_consignee_id(pl.col("x"))) == [None, None]
    # An EIN and an SSN written with blanks stay two ids; an en dash, a non-breaking hyphen or a minus sign, as
    # word processors write them, is a hyphen.
    blank_ein, blank_ssn, dash, nb_hyphen, minus = keys(
        ["12 3456789", "123 45 6789", "12\u20133456789", "12\u20113456789", "12\u22123456789"],
        ["A"] * 5,
        ["1"] * 5,
    )
    assert (blank_ein, blank_ssn) == (ein, ssn)
    assert dash == nb_hyphen == minus == ein
    # An id column of whole numbers saved from floats writes 123456789.0: the number, as a ZIP's is.
    assert keys(["123456789.0", "123456789"], ["A", "B"], ["1", "1"]) == ["id:123456789"] * 2


@pytest.mark.parametrize(
    "no_id", ["-", "--", " - ", "?", "...", "0", "000", "0-0", "unknown", "UNK", "tbd", "n.a.", "N/A", "\\N"]
)
def test_an_id_without_letters_or_digits_zeros_or_a_word_for_none_is_no_id(no_id: str) -> None:
    """Three strangers with consignee_id ``-`` were one consignee-day ($900, over the threshold, flagged as
    structuring): such an id is none, and the name and ZIP say who each is."""
    a, b = keys([no_id, no_id], ["Amy Archer", "Bo Brandt"], ["10001", "60614"])
    assert (a, b) == ("name:amy archer|10001", "name:bo brandt|60614")
    assert column([no_id], pl.String(), given_consignee_id(pl.col("x"))) == [None]


def test_a_placeholder_zip_is_no_zip_in_keys_and_in_earlier_runs_keys() -> None:
    placeholders = ["N/A", "nan", "NULL", "-", "Ｎ／Ａ", "unknown", " n.a. "]
    assert set(keys([None] * 7, ["Ann Lee"] * 7, placeholders)) == {"name:ann lee|"}
    # A ZIP that holds digits is a ZIP, whatever words are around it.
    assert keys([None], ["Ann Lee"], ["DC 20001"]) == ["name:ann lee|20001"]
    earlier = ["name:ann lee|N/A", "name:ann lee|NAN", "name:ann lee|20001", "name:ann lee|"]
    assert column(earlier, pl.String(), history_key(pl.col("x"))) == [
        "name:ann lee|",
        "name:ann lee|",
        "name:ann lee|20001",
        "name:ann lee|",
    ]


def test_ids_that_contain_a_word_for_none_or_a_zero_are_ids() -> None:
    ids = ["NA1", "0A", "10", "UNKNOWN-2", "NONE5", "N0"]
    assert column(ids, pl.String(), given_consignee_id(pl.col("x"))) == [
        "NA1",
        "0A",
        "10",
        "UNKNOWN2",
        "NONE5",
        "N0",
    ]


@pytest.mark.parametrize(
    ("text", "zip_code", "port"),
    [
        ("2134.0", "02134", "2134"),
        ("20001.0", "20001", "20001"),
        ("02134.00", "02134", "2134"),
        ("110001.0", "110001", "110001"),
        ("0.0", "00000", "0000"),
        ("101.0", "00101", "0101"),
        ("101", "101", "0101"),
        ("1", "1", "0001"),
        ("2134", "2134", "2134"),
        ("02134", "02134", "02134"),
        ("2134.5", "2134.5", "2134.5"),
        ("2134.", "2134.", "2134."),
        ("K1A0B1", "K1A0B1", "K1A0B1"),
        (None, None, None),
    ],
)
def test_a_code_written_as_a_whole_decimal_is_that_number_padded(
    text: str | None, zip_code: str | None, port: str | None
) -> None:
    """As an integer or float column's code is (``_zero_padded``): 2134 and 2134.0 are ``02134``; a port's text
    of fewer than 4 digits is padded too."""
    assert column([text], pl.String(), padded_code(pl.col("x"), 5)) == [zip_code]
    assert column([text], pl.String(), padded_code(pl.col("x"), 4, pad_short=True)) == [port]


def test_an_earlier_run_s_keys_are_read_as_this_version_keys_them() -> None:
    """History written before ids were compared by their letters and digits keeps the id as written."""
    old = ["id:C-001", "id:c001", "id:C001", "name:ann keller|20001.0", "name:ann keller|200014321.0"]
    kept = ["id:-", "id:unknown", "name:ann keller|21340", "name:ann keller|", "p:0123456789abcdef0123"]
    read = column(old + kept, pl.String(), history_key(pl.col("x")))
    assert read == ["id:C001"] * 3 + ["name:ann keller|20001"] * 2 + kept


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_blank_consignee_id_falls_back_to_name(blank: str | None) -> None:
    (key,) = keys([blank], ["Anna Keller"], ["20001"])
    assert key == "name:anna keller|20001"


def test_missing_postal_code_still_gives_a_key() -> None:
    (key,) = keys([None], ["Anna Keller"], [None])
    assert key == "name:anna keller|"


def test_normalised_name_and_zip5() -> None:
    assert column(["  Anna-Maria  O'Neil "], pl.String(), normalised_name(pl.col("x"))) == [
        "anna maria o neil"
    ]
    assert column(["20001-4321", "SW1A 1AA", " 20001"], pl.String(), zip5(pl.col("x"))) == [
        "20001",
        "SW1A1AA",
        "20001",
    ]


#: Text near the fast paths' edges: ASCII letters, digits and blanks (plain names and ZIPs), and what takes them
#: off the fast path (punctuation, dashes, a trailing newline, tabs, accents, full-width digits, symbols).
_NEAR_PLAIN = st.text(alphabet="aZ09 -.\n\t'é９™ßŁ", max_size=12)


@settings(max_examples=300, deadline=None)
@given(names=st.lists(st.one_of(_NEAR_PLAIN, st.text(max_size=8), st.from_regex(PLAIN_NAME, fullmatch=True))))
def test_a_plain_name_s_normal_form_is_that_of_the_folding_steps(names: list[str]) -> None:
    """normalised_name takes a plain ASCII name's lower case instead of folding it: the same text either way."""
    assert column(names, pl.String(), normalised_name(pl.col("x"))) == column(
        names, pl.String(), folded_name(pl.col("x"))
    )


@settings(max_examples=300, deadline=None)
@given(codes=st.lists(st.one_of(_NEAR_PLAIN, st.text(max_size=8), st.from_regex(PLAIN_ZIP, fullmatch=True))))
def test_a_plain_zip_is_read_as_the_zip_pattern_reads_it(codes: list[str]) -> None:
    """zip5 takes a plain ZIP or ZIP+4's first five characters instead of matching it: the same ZIP either way."""
    assert column(codes, pl.String(), zip5(pl.col("x"))) == column(
        codes, pl.String(), matched_zip(pl.col("x"))
    )


def test_the_key_of_its_inputs_as_columns_is_the_key_of_one_expression() -> None:
    """The validation pass computes the key's inputs as columns first: the keys are those of consignee_key."""
    frame = pl.DataFrame(
        {
            "id": [None, "c-001", None, None, " ", None],
            "name": ["Anna Keller", "Bo", "N/A", "n/a", "José García", "anna  KELLER"],
            "zip": ["20001-4321", None, "20001", None, "DC 20001", "20001"],
            "package": ["P0", "P1", "P2", "P3", "P4", "P5"],
        }
    )
    inputs = (pl.col("id"), pl.col("name"), pl.col("zip"))
    staged = frame.with_columns(consignee_key_inputs(*inputs)).select(
        consignee_key_of_inputs(pl.col("package"))
    )
    whole = frame.select(consignee_key(*inputs, package_id=pl.col("package")))
    assert (
        staged.to_series().to_list()
        == whole.to_series().to_list()
        == [
            "name:anna keller|20001",
            "id:C001",
            "name:|20001",
            "package:P3",
            "name:jose garcia|20001",
            "name:anna keller|20001",
        ]
    )


def test_a_six_digit_postal_code_is_kept_whole() -> None:
    """Six-digit codes (IN, CN, SG, RU) were cut to five: Raj Kumar at 110001 and Raj Kumar at 110002 were one
    person's day ($200, over a CAD 150 threshold). A ZIP+4 is still its ZIP."""
    codes = ["110001", "110002", "200014321", "20001 4321", "20001\u20134321", "20001 USA", "2000143", "2000"]
    assert column(codes, pl.String(), zip5(pl.col("x"))) == [
        "110001",
        "110002",
        "20001",
        "20001",
        "20001",  # an en dash: a ZIP+4 written any way is its ZIP
        "20001",
        "2000143",
        "2000",
    ]
    a, b = keys([None, None], ["Raj Kumar", "Raj Kumar"], ["110001", "110002"])
    assert a != b


def test_a_state_or_country_code_before_a_zip_is_dropped_and_other_codes_are_kept_whole() -> None:
    """Only a ZIP at the start was read: "DC 20001", "MA 02134-1234" and "ZIP: 20001" were kept whole."""
    codes = [
        "DC 20001",
        "US-20001",
        "ZIP 20001",
        "zip code: 20001",
        "MA 02134-1234",
        "D.C. 20001",
        "USA 20001",
    ]
    assert column(codes, pl.String(), zip5(pl.col("x"))) == ["20001"] * 4 + ["02134", "20001", "20001"]
    # Not a U.S. ZIP: foreign codes, a word before the digits, six digits or four (no leading zero is guessed).
    others = ["SW1A 1AA", "K1A 0B1", "1234 AB", "Washington 20001", "DC 2134", "ABC 123456", "2134"]
    # Another country's code before five digits is that country's code, not a ZIP (FR-75001 read 75001).
    foreign = ["FR-75001", "LT-01100", "BOX 12345"]
    assert column(foreign, pl.String(), zip5(pl.col("x"))) == ["FR-75001", "LT-01100", "BOX12345"]
    assert column(others, pl.String(), zip5(pl.col("x"))) == [
        "SW1A1AA",
        "K1A0B1",
        "1234AB",
        "WASHINGTON20001",
        "DC2134",
        "ABC123456",
        "2134",
    ]


def _simple_case(char: str) -> bool:
    """Letters whose upper and lower forms are single characters that map back to each other."""
    upper, lower = char.upper(), char.lower()
    return len(upper) == 1 and len(lower) == 1 and upper.lower() == lower and lower.upper() == upper


#: Letters with a simple, context-free case mapping (no final sigma, dotted/dotless i, long s, sharp s,
#: titlecase digraphs or Greek symbol variants, whose case forms are different letters or strings).
_LETTERS = st.characters(categories=["Lu", "Ll"], exclude_characters="Σσςİıſẞßǅǈǋǲϐϑϕϖϰϱϵẛιΐΰ").filter(
    _simple_case
)
_WORDS = st.lists(st.text(_LETTERS, min_size=1, max_size=8), min_size=1, max_size=4)


@settings(max_examples=150, deadline=None)
@given(
    words=_WORDS,
    cases=st.lists(st.booleans(), min_size=40, max_size=40),
    gaps=st.lists(st.sampled_from([" ", "  ", "\t", " \t ", "   "]), min_size=5, max_size=5),
    zip_code=st.from_regex(r"\A[0-9]{5}\Z"),
    plus4=st.from_regex(r"\A[0-9]{4}\Z"),
)
def test_consignee_key_is_invariant_under_case_and_spacing(
    words: list[str], cases: list[bool], gaps: list[str], zip_code: str, plus4: str
) -> None:
    plain = " ".join(words)
    flipped = "".join(c.upper() if cases[i % len(cases)] else c.lower() for i, c in enumerate(plain))
    spaced = gaps[0] + "".join(w + gaps[(i + 1) % len(gaps)] for i, w in enumerate(flipped.split(" ")))
    a, b = keys([None, None], [plain, spaced], [zip_code, f"{zip_code}-{plus4}"])
    assert a == b
    assert a.startswith("name:")
    assert a.endswith(f"|{zip_code}")


# --- Text parsing ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-03-10", "2025-03-10"),
        (" 2025-03-10 ", "2025-03-10"),
        ("2024-02-29", "2024-02-29"),
        ("2025-02-30", None),
        ("2025-02-29", None),
        ("03/10/2025", None),
        ("10.03.2025", None),
        ("20250310", None),
        # A month or day of one digit, or a blank in it, is no ISO date (the parser read 2025-08-2 as 08-02).
        ("2025-08-2", None),
        ("2025-08- 2", None),
        ("2025-8-29", None),
        ("025-08-29", None),
        ("\uff12\uff10\uff12\uff15-08-29", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_text_dates(text: str | None, expected: str | None) -> None:
    out = column([text], pl.String(), parse_text(pl.col("x"), pl.Date()))
    assert out == [dt.date.fromisoformat(expected) if expected else None]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        *[(t, True) for t in ("yes", "YES", "Yes", "1", "true", "TRUE", "True", " yes ")],
        *[(t, False) for t in ("no", "NO", "No", "0", "false", "FALSE", "False")],
        ("maybe", None),
        ("2", None),
        ("oui", None),
        (None, None),
    ],
)
def test_parse_text_booleans(text: str | None, expected: bool | None) -> None:
    assert column([text], pl.String(), parse_text(pl.col("x"), pl.Boolean())) == [expected]


def test_parse_text_numbers() -> None:
    out = column([" 12.50 ", "abc", "1e3"], pl.String(), parse_text(pl.col("x"), pl.Float64()))
    assert out == [12.5, None, 1000.0]


def test_consignee_key_folds_accents_of_latin_letters_and_keeps_marks_of_other_scripts() -> None:
    composed, decomposed = (unicodedata.normalize(form, "Zoë Müller") for form in ("NFC", "NFD"))
    a, b, c, d, e = keys(
        [None] * 5, [composed, decomposed, "Zoe Muller", "राम शर्मा", "रीम शर्मा"], ["20001"] * 5
    )
    assert a == b == c == "name:zoe muller|20001"
    assert d != e  # the vowel signs tell the two names apart
    assert keys([None], ["Strauß"], ["20001"]) == ["name:strauss|20001"]


@pytest.mark.parametrize(
    ("written", "ascii_name"),
    [
        ("Łukasz Wałęsa", "Lukasz Walesa"),  # letters with a stroke
        ("ŁUKASZ WAŁĘSA", "lukasz walesa"),
        ("Søren Ørsted", "Soren Orsted"),
        ("Đặng Văn Đức", "Dang Van Duc"),
        ("Ħamrun Ŧorr", "Hamrun Torr"),
        ("Mehmet Yılmaz", "MEHMET YILMAZ"),  # the dotless i
        ("Æsa Cœur", "Aesa Coeur"),  # ligatures
        ("Þóra Guðmundsdóttir", "Thora Gudmundsdottir"),  # thorn and eth
        ("STRAẞE", "Strasse"),  # the capital sharp s
    ],
)
def test_latin_letters_unicode_does_not_decompose_fold_as_ascii_in_both_normal_forms(
    written: str, ascii_name: str
) -> None:
    """NFKD leaves ł, ø, đ, ı, ħ, ŧ, æ, œ, þ, ð whole: one consignee whose carriers wrote ``Łukasz Wałęsa`` and
    ``Lukasz Walesa`` was two (two $500 packages, each eligible), and ``OOO Inkør`` missed ``OOO Inkor``."""
    a, b = keys([None, None], [written, ascii_name], ["20001", "20001"])
    assert a == b
    assert a.isascii()
    listed = column([written, ascii_name], pl.String(), normalise_name(pl.col("x"), ()))
    assert listed[0] == listed[1] == ascii_name.upper()


def test_an_earlier_run_s_placeholder_name_keys_with_a_zip_are_read_as_the_empty_name() -> None:
    """An earlier run keyed ``N/A`` at ZIP 20001 ``name:n a|20001``; this version keys it ``name:|20001``. Without a
    ZIP the key is a package's own now (``package:P1``): the earlier key stays as it was, matching no one."""
    earlier = ["name:n a|20001", "name:nan|20001.0", "name:|20001", "name:nan|", "name:nan lee|20001"]
    assert column(earlier, pl.String(), history_key(pl.col("x"))) == [
        "name:|20001",
        "name:|20001",
        "name:|20001",
        "name:nan|",
        "name:nan lee|20001",
    ]


def test_an_earlier_run_s_name_keys_are_read_with_the_letters_folded() -> None:
    """History in clear keyed before ł, ø, ı, ... were folded: read as this version keys the same people."""
    earlier = [
        "name:łukasz wałesa|20001",
        "name:søren ørsted|",
        "name:mehmet yılmaz|20001.0",
        "name:đang van đuc|",
    ]
    assert column(earlier, pl.String(), history_key(pl.col("x"))) == [
        "name:lukasz walesa|20001",
        "name:soren orsted|",
        "name:mehmet yilmaz|20001",
        "name:dang van duc|",
    ]


@pytest.mark.parametrize(
    "no_name", ["nan", "NaN", "NULL", "null", "None", "\\N", "<NA>", "N/A", "#N/A", "unknown", "-", "?"]
)
def test_a_consignee_name_that_names_no_one_and_no_zip_keys_the_package_alone(no_name: str) -> None:
    """Three strangers named ``nan`` (pandas' word for a missing value) with no id and no ZIP were one key
    ``name:nan|``: one $900 consignee-day, each package over the threshold. A name that names no one is none, as
    such an id is: with no id and no ZIP either, each package is a consignee of its own."""
    assert keys([None, None, ""], [no_name] * 3, ["", None, "N/A"]) == [
        "package:P0",
        "package:P1",
        "package:P2",
    ]
    # An id still says who it is; a name holding such a word is a name.
    assert keys(["C-1"], [no_name], [""]) == ["id:C1"]
    assert keys([None], ["Nan Lee"], ["20001"]) == ["name:nan lee|20001"]


@pytest.mark.parametrize(
    "no_name",
    ["N/A", "Nan", "Na", "N. A.", "Unk", "Tbd", "N", "-", "nan", "NULL", "\\N", "<NA>", "unknown", "?", ""],
)
def test_consignees_no_one_named_at_one_zip_are_one_consignee(no_name: str) -> None:
    """Packages split to one address under ``N/A`` (no id) were each keyed ``package:<id>``, so three $300
    packages to ZIP 20001 were each eligible: every name that names no one is the empty name, one consignee per
    ZIP (``name:|20001``; ``20001-4321`` is that ZIP, another ZIP another consignee)."""
    assert keys([None] * 4, [no_name, "N/A", "nan", "-"], ["20001", "20001-4321", "20001", "10001"]) == [
        "name:|20001",
        "name:|20001",
        "name:|20001",
        "name:|10001",
    ]


@pytest.mark.parametrize(
    "disguised",
    [
        "Ａｎｎａ Ｋｅｌｌｅｒ",  # full-width letters
        "Anna Kel\u00adler",  # soft hyphen inside a word
        "An\u200bna Keller",  # zero-width space inside a word
        "Anna Kel\u200dler",  # zero-width joiner
        "\ufeffAnna Keller",  # a byte-order mark
        "ANNA  KELLER.",
    ],
)
def test_invisible_and_full_width_characters_do_not_make_another_person(disguised: str) -> None:
    """Each split one buyer's day in two (two $500 packages, each eligible, no structuring flag)."""
    plain, other = keys([None, None], ["Anna Keller", disguised], ["20001", "２０００\u200b１"])
    assert plain == other == "name:anna keller|20001"


@pytest.mark.parametrize(
    ("marked", "plain"),
    [
        ("Anna Keller™", "Anna Keller"),
        ("Anna℠ Keller", "Anna Keller"),
        ("Anna Keller²", "Anna Keller"),  # a superscript is no digit of the name
        ("Anna® Keller", "Anna Keller"),
        ("Sean O´Brien", "Sean O'Brien"),  # the acute accent sign is an apostrophe, not an accent left behind
        ("AT&T", "AT T"),  # punctuation, as before: a blank
        ("㈱ソニー", "(株)ソニー"),  # CJK enclosed and squared forms still fold (NFKC)
        ("Ⓐⓝⓝⓐ Keller", "Anna Keller"),  # letters written as symbols are letters (they were erased)
        ("🄰nna Keller", "Anna Keller"),
    ],
)
def test_symbols_and_superscripts_are_blanks_in_the_name_key(marked: str, plain: str) -> None:
    """NFKC spelt ™ as TM and ² as 2, glued to the word before: "Anna Keller™" was "anna kellertm", another
    person; "O´Brien" kept a stray accent mark and was not "O'Brien"."""
    a, b = keys([None, None], [marked, plain], ["20001", "20001"])
    assert a == b


def test_enclosed_letters_and_letterlike_symbols_fold_to_what_they_stand_for() -> None:
    """Circled and squared letters are symbols (So) that stand for letters: blanking every symbol erased them, so
    "ⓥⓐⓟⓔ pen" read "pen" (no e-cigarette flag) and "ⒾⓃⓀⓄⓇ LLC" read "" (no denied-party hit); "№" and "℃"
    lost their letters too."""
    texts = ["ⓥⓐⓟⓔ pen", "ⒾⓃⓀⓄⓇ LLC", "№ 5 ①", "28℃"]
    assert column(texts, pl.String(), normalised_name(pl.col("x"))) == [
        "vape pen",
        "inkor llc",
        "no 5 1",
        "28 c",
    ]
    folded = column(texts[:2], pl.String(), normalise_name(pl.col("x"), ["LLC"]))
    assert folded == ["VAPE PEN", "INKOR"]


def test_descriptions_read_symbols_and_superscripts_as_blanks_and_fractions_as_numbers() -> None:
    texts = ["vape™", "cotton t-shirt 100% · 2 pcs", "rug 5 m²", "silencer ½x28"]
    assert column(texts, pl.String(), normalised_name(pl.col("x"))) == [
        "vape",
        "cotton t shirt 100 2 pcs",
        "rug 5 m",
        "silencer 1 2x28",
    ]


def test_hts_codes_take_ascii_digits_only() -> None:
    frame = pl.DataFrame({"code": ["2402.20.8000", "２４０２.２０.８０００", "٢٤٠٢٢٠٨٠٠٠"]})
    valid = frame.select(is_valid_hts_code(pl.col("code")))["code"].to_list()
    assert valid == [True, False, False]


def test_all_null_columns_of_other_types_gathered_side_by_side_keep_their_types() -> None:
    """polars 2.1's optimizer took all-null Series literals of one length for one another whatever their types: a
    batch whose shippers had no legal form and no list match read a String feature as an Enum."""
    index = pl.col("code")
    columns = [
        pl.Series("boolean", [None, None, None], dtype=pl.Boolean()),
        pl.Series("text", [None, None, None], dtype=pl.String()),
        pl.Series("number", [None, None, None], dtype=pl.Float64()),
        pl.Series("kind", [None, None, None], dtype=pl.Enum([])),
        pl.Series("given", [True, None, False], dtype=pl.Boolean()),
    ]
    frame = pl.LazyFrame({"code": [0, 1, 2, 0]}, schema={"code": pl.UInt32()})
    out = frame.with_columns(gathered(values, index) for values in columns).collect(engine="in-memory")
    assert out.schema == pl.Schema({"code": pl.UInt32(), **{values.name: values.dtype for values in columns}})
    assert out["given"].to_list() == [True, None, False, True]
    assert out["text"].null_count() == 4


def test_every_float16_reads_as_a_decimal_that_reads_back_as_it_the_shortest_but_beside_a_power_of_two() -> (
    None
):
    """A Float16 is read as the decimal it was most likely written as (20.40625 as 20.4): every finite one as a
    number that reads back as the same Float16, numpy's shortest decimal but for 2^-6 (0.015625: the nearest
    decimal of 5 places, 0.01562, reads back as another, where 0.01563 reads back as 2^-6)."""
    every = np.arange(2**16, dtype=np.uint16).view(np.float16)
    finite = every[np.isfinite(every)]
    read = pl.select(
        shortest_decimal(pl.lit(pl.Series(finite, dtype=pl.Float16())), pl.Float16())
    ).to_series()
    got = read.to_numpy()
    assert (got.astype(np.float16) == finite).all()
    shortest = np.array([float(np.format_float_positional(value, unique=True)) for value in finite])
    assert {abs(float(value)) for value in finite[got != shortest]} == {0.015625}
    assert read.filter(pl.Series(finite == np.float16(20.4))).to_list() == [20.4]
