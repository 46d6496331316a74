"""Tests of denied-party screening: name normalisation and ``match_parties`` against the SDN list."""

from __future__ import annotations

import contextlib
import dataclasses
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import screening
from screening import pipeline
from screening.explain import explain_package
from screening.explain_text import render_text
from screening.exprs.names import legal_form, name_tokens, normalise_name, normalised_words
from screening.rulepack.screening_list import SCREENING_LIST_SCHEMA, read_screening_list
from screening.stages.denied import (
    DENIED_SCHEMA,
    MAX_TOKEN_ENTRIES,
    entry_names,
    entry_prefixes,
    match_parties,
)

from ..conftest import BASE_LINE

ROOT = Path(__file__).resolve().parents[2]
PACK_LIST = ROOT / "rules" / "us" / "screening" / "ofac_sdn_2024-05-03.csv"

LEGAL_SUFFIXES = [
    *("CORP", "CORPORATION", "LTD", "LIMITED", "CO", "COMPANY", "LLC", "INC", "INCORPORATED", "GMBH"),
    *("SA", "SRL", "PLC", "LLP", "BV", "AG", "OOO", "PJSC", "JSC"),
]
GENERIC_TOKENS = ["TRADING", "INTERNATIONAL", "GROUP", "GLOBAL", "INDUSTRIAL", "THE", "AND", "OF"]
THRESHOLD = 0.8


@pytest.fixture(scope="module")
def sdn() -> pl.DataFrame:
    return read_screening_list(PACK_LIST)


def normalised(values: Sequence[str | None], suffixes: Sequence[str] = LEGAL_SUFFIXES) -> list[object]:
    frame = pl.DataFrame({"x": list(values)}, schema={"x": pl.String()})
    return frame.select(normalise_name(pl.col("x"), suffixes).alias("y"))["y"].to_list()


def entries(*rows: tuple[str, str, list[str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entry_id": [r[0] for r in rows],
            "name": [r[1] for r in rows],
            "aliases": [r[2] for r in rows],
            "weak_aliases": [[] for _ in rows],
            "program": ["TEST"] * len(rows),
            "entity_type": ["entity"] * len(rows),
            "source": ["test list"] * len(rows),
        },
        schema=SCREENING_LIST_SCHEMA,
    )


def screen(
    names: Sequence[str | None], table: pl.DataFrame, *, threshold: float = THRESHOLD, **options: int
) -> pl.DataFrame:
    frame = pl.LazyFrame({"party_name": list(names)}, schema={"party_name": pl.String()})
    result = match_parties(
        frame,
        table,
        legal_suffixes=LEGAL_SUFFIXES,
        generic_tokens=GENERIC_TOKENS,
        threshold=threshold,
        **options,
    )
    assert isinstance(result, pl.LazyFrame)
    return result.collect()


def hits(result: pl.DataFrame) -> dict[str, tuple[str, float, str]]:
    return {
        r["party_name"]: (r["denied_entry_id"], round(r["denied_score"], 4), r["denied_match"])
        for r in result.to_dicts()
    }


# --- Names ------------------------------------------------------------------------------------------------


def test_normalise_name() -> None:
    assert normalised(
        [
            "Banco Nacional de Cuba, S.A.",
            "ANGLO-CARIBBEAN CO., LTD.",
            "  acme   widgets  gmbh ",
            "Société Générale",
            "AL QA'IDA",
            "U.S.A. Imports L.L.C.",
            "Corp. Ltd.",
            None,
        ]
    ) == [
        "BANCO NACIONAL DE CUBA",
        "ANGLO CARIBBEAN",
        "ACME WIDGETS",
        "SOCIETE GENERALE",
        "AL QAIDA",
        "USA IMPORTS",
        "",
        None,
    ]


def test_symbols_and_superscripts_are_blanks_and_apostrophes_are_dropped() -> None:
    """NFKD spelt ™ as TM and ² as 2, glued to the word before: "Inkor™ LLC" read INKORTM, no hit; and it spelt
    the ´ of "O´BRIEN" as a blank and an accent, so that apostrophe split the name. ``&`` stays a blank."""
    assert normalised(
        [
            "Inkor™ LLC",
            "Inkor℠",
            "Inkor® Ltd",
            "Inkor²",
            "O´BRIEN",
            "O`BRIEN",
            "O＇BRIEN",
            "AT&T",
            "Acme +1 $5",
            "㈱ソニー",
        ]
    ) == ["INKOR", "INKOR", "INKOR", "INKOR", "OBRIEN", "OBRIEN", "OBRIEN", "AT T", "ACME 1 5", "株 ソニー"]


def test_legal_suffixes_come_from_the_caller() -> None:
    assert normalised(["Acme Widgets GmbH"], []) == ["ACME WIDGETS GMBH"]
    assert normalised(["Acme Widgets GmbH"], ["gmbh"]) == ["ACME WIDGETS"]
    # whole tokens only: CO inside COBRA and SA inside SAND stay
    assert normalised(["Hidden Cobra", "Sand Swan S.A."]) == ["HIDDEN COBRA", "SAND SWAN"]


def test_list_words_written_as_names_are_matched_as_names_are() -> None:
    """A pack suffix or generic word with dots or accents (``S.A.``, ``Société``) was never removed: names are
    normalised (``SA``, ``SOCIETE``) but the list words were only upper-cased."""
    assert normalised(["Banco Foo S.A.", "Acme Société Anonyme"], ["S.A.", "Société"]) == [
        "BANCO FOO",
        "ACME ANONYME",
    ]
    assert normalised_words(["Société", "S.A.", " ", "sa"]) == ["SA", "SOCIETE"]


def test_name_tokens() -> None:
    frame = pl.DataFrame({"x": ["CASTRO RUZ FIDEL", "", None]}, schema={"x": pl.String()})
    assert frame.select(name_tokens(pl.col("x")))["x"].to_list() == [["CASTRO", "RUZ", "FIDEL"], [], None]


def test_look_alike_letters_of_other_scripts_are_folded_for_screening_only() -> None:
    """A Latin name written with a Cyrillic or Greek letter drawn as a Latin one (``Mеgafon`` with a Cyrillic
    ``е``, a Cyrillic ``С`` in ``СIMEX``, Greek ``Τ`` in ``ΤARA``) kept that letter: no screening-list hit. The
    shipper key (no ``fold_confusables``) still leaves them."""
    names = ["Mеgafon PAO", "СIMEX", "ΤARA LΤD", "Banco Naсional", "ооо Neobit"]
    frame = pl.DataFrame({"x": names})
    folded = frame.select(normalise_name(pl.col("x"), ["PAO", "LTD", "OOO"], fold_confusables=True))["x"]
    assert folded.to_list() == ["MEGAFON", "CIMEX", "TARA", "BANCO NACIONAL", "NEOBIT"]
    assert normalised(names, ["PAO", "LTD", "OOO"]) == [
        "MЕGAFON",
        "СIMEX",
        "ΤARA LΤD",
        "BANCO NAСIONAL",
        "ООО NEOBIT",
    ]


# --- Matching against the SDN list in the pack ------------------------------------------------------------


def test_exact_match(sdn: pl.DataFrame) -> None:
    result = screen(["BANCO NACIONAL DE CUBA"], sdn)
    assert result.schema == pl.Schema(DENIED_SCHEMA)
    assert result.to_dicts() == [
        {
            "party_name": "BANCO NACIONAL DE CUBA",
            "denied_entry_id": "ofac-sdn-306",
            "denied_name": "BANCO NACIONAL DE CUBA",
            "denied_program": "CUBA",
            "denied_source": "OFAC SDN",
            "denied_score": 1.0,
            "denied_match": "exact",
        }
    ]


@pytest.mark.parametrize(
    "name",
    [
        "Banco Nacional de Cuba, S.A.",
        "banco  nacional de cuba ltd",
        "Banco-Nacional de Cuba Inc.",
        "Banco Naci\u200bonal de Cuba",  # a zero-width space inside a word (it split the word)
        "Banco Naci\u00adonal de Cuba",  # a soft hyphen
        "ＢＡＮＣＯ ＮＡＣＩＯＮＡＬ ＤＥ ＣＵＢＡ",
    ],
)
def test_punctuation_case_and_suffix_do_not_matter(sdn: pl.DataFrame, name: str) -> None:
    assert hits(screen([name], sdn)) == {name: ("ofac-sdn-306", 1.0, "exact")}


def test_reordered_individual_name_matches(sdn: pl.DataFrame) -> None:
    found = hits(screen(["Hasan Nasrallah", "nasrallah hasan"], sdn))
    assert found["Hasan Nasrallah"] == ("ofac-sdn-2686", 1.0, "fuzzy")  # published as "NASRALLAH, Hasan"
    assert found["nasrallah hasan"] == ("ofac-sdn-2686", 1.0, "exact")


def test_alias_matches() -> None:
    listed = entries(("x-1", "Banco Nacional de Cuba", ["National Bank of Cuba"]))
    result = screen(["national bank of cuba"], listed)
    assert hits(result) == {"national bank of cuba": ("x-1", 1.0, "exact")}
    # the reported name is the entry's primary name, not the alias
    assert result["denied_name"].item() == "Banco Nacional de Cuba"


@pytest.mark.parametrize("name", ["BNC", "Abu Muhammad", "Abu Hasan", "El Capitan", "Muhammad Abu"])
def test_a_weak_alias_is_never_matched_on_its_own(sdn: pl.DataFrame, name: str) -> None:
    """OFAC's SDN.CSV carries its weak aliases (nicknames, noms de guerre, common acronyms) in Remarks; OFAC does
    not expect them screened alone (FAQ 124). Every consignee named Abu Muhammad got an exact, critical hit."""
    assert hits(screen([name], sdn)) == {}
    assert "BNC" in sdn.filter(pl.col("entry_id") == "ofac-sdn-306")["weak_aliases"].item().to_list()


def test_partial_overlap_scores_by_dice(sdn: pl.DataFrame) -> None:
    # 4 of the 5 tokens of BANK MARKAZI JOMHOURI ISLAMI IRAN: 2*4/(4+5)
    found = hits(screen(["Bank Markazi Jomhouri Islami", "Bank Markazi Iran"], sdn))
    assert found == {"Bank Markazi Jomhouri Islami": ("ofac-sdn-4632", round(8 / 9, 4), "fuzzy")}
    # 3 of 5: 2*3/(3+5) = 0.75 passes a lower threshold
    assert hits(screen(["Bank Markazi Iran"], sdn, threshold=0.75)) == {
        "Bank Markazi Iran": ("ofac-sdn-4632", 0.75, "fuzzy")
    }


def test_unrelated_names_do_not_match(sdn: pl.DataFrame) -> None:
    names = [
        "Anna Keller",
        "Nordlicht Versand GmbH",
        "Acme Widgets Ltd",
        "Maria Garcia Lopez",
        "Hans Zimmermann",
    ]
    assert screen(names, sdn).height == 0


def test_nulls_and_duplicates(sdn: pl.DataFrame) -> None:
    listed = "Banco Nacional de Cuba"
    result = screen([None, listed, None, listed, listed.lower()], sdn)
    assert result["party_name"].to_list() == [listed, listed.lower()]


def test_empty_input(sdn: pl.DataFrame) -> None:
    result = screen([], sdn)
    assert result.height == 0
    assert result.schema == pl.Schema(DENIED_SCHEMA)
    assert screen([None, None], sdn).height == 0


def test_deterministic_under_row_shuffles(sdn: pl.DataFrame) -> None:
    names = [
        "BANCO NACIONAL DE CUBA",
        "Hasan Nasrallah",
        "Bank Markazi Jomhouri Islami",
        "Anna Keller",
        "Lazarus Group",
        None,
        *sdn["name"].sample(300, seed=3).to_list(),
        *(f"Customer {i} Example" for i in range(300)),
    ]
    expected = screen(names, sdn)
    assert expected.height >= 303
    frame = pl.DataFrame({"party_name": names}, schema={"party_name": pl.String()})
    for seed in range(3):
        shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)["party_name"].to_list()
        table = sdn.sample(fraction=1.0, shuffle=True, seed=seed)
        assert screen(shuffled, table).equals(expected)


def test_a_kept_index_and_prefixes_match_as_a_fresh_build(sdn: pl.DataFrame) -> None:
    """Batches reuse the list's index and prefix tokens: the matches are those of a fresh build."""
    names = [
        "BANCO NACIONAL DE CUBA",
        "Hasan Nasrallah",
        *sdn["name"].sample(200, seed=5).to_list(),
        "Anna Keller",
    ]
    expected = screen(names, sdn)
    index = entry_names(sdn, legal_suffixes=LEGAL_SUFFIXES, generic_tokens=GENERIC_TOKENS)
    prefixes = entry_prefixes(index, threshold=THRESHOLD, max_token_entries=MAX_TOKEN_ENTRIES)
    for batch in (names, names[::-1]):
        kept = match_parties(
            pl.LazyFrame({"party_name": batch}),
            sdn,
            legal_suffixes=LEGAL_SUFFIXES,
            generic_tokens=GENERIC_TOKENS,
            threshold=THRESHOLD,
            index=index,
            prefixes=prefixes,
        ).collect()
        assert kept.equals(expected)
    assert expected.height >= 200


# --- Matching rules on small lists ------------------------------------------------------------------------


def test_suffix_or_generic_overlap_never_matches() -> None:
    table = entries(
        ("t-1", "SUNSHINE TRADING CO LTD", []),
        ("t-2", "GLOBAL TRADING GROUP LTD", ["INTERNATIONAL TRADING CO"]),
        ("t-3", "THE ORIENT STAR SHIPPING AND TRADING COMPANY LIMITED", []),
    )
    names = [
        "ACME TRADING CO LTD",
        "Global Trading Company",  # t-2's generic words, not its name
        "Orient Trading Co Ltd",
        "The Star Trading Company",
    ]
    assert screen(names, table, threshold=0.01).height == 0
    # A name written as a listed one (here an alias) is an exact hit, even when every word is generic.
    assert hits(screen(["Global Trading Group Inc.", "International Trading Company"], table)) == {
        "Global Trading Group Inc.": ("t-2", 1.0, "exact"),
        "International Trading Company": ("t-2", 1.0, "exact"),
    }
    # with a real word in common it does match
    assert hits(screen(["Sunshine Trading Limited"], table)) == {
        "Sunshine Trading Limited": ("t-1", 1.0, "exact")
    }


def test_one_shared_token_is_not_enough() -> None:
    table = entries(("t-1", "CIMEX", []), ("t-2", "CIMEX IBERICA", []))
    found = hits(screen(["Cimex Tours", "CIMEX"], table, threshold=0.5))
    assert found == {"CIMEX": ("t-1", 1.0, "exact")}


def test_single_character_tokens_do_not_count() -> None:
    table = entries(("t-1", "A B DELTA EXPORTS", []))
    assert screen(["A B Omega", "X Y DELTA EXPORTS"], table, threshold=0.5)["party_name"].to_list() == [
        "X Y DELTA EXPORTS"
    ]


def test_best_match_is_chosen_deterministically() -> None:
    table = entries(
        ("t-9", "ORIENT STAR SHIPPING", []),
        ("t-10", "ORIENT STAR SHIPPING", []),
        ("t-2", "SHIPPING ORIENT STAR", []),
        ("t-1", "ORIENT STAR LINES", []),
    )
    found = hits(
        screen(
            [
                "Orient Star Shipping",
                "Star Orient Shipping",
                "Orient Star Lines",
                "Orient Star Shipping Lines",
            ],
            table,
        )
    )
    assert found == {
        # exact on t-9 and t-10 (smaller id in string order wins); fuzzy 1.0 on t-2 loses to exact
        "Orient Star Shipping": ("t-10", 1.0, "exact"),
        # fuzzy 1.0 on t-2, t-9, t-10: the smallest id
        "Star Orient Shipping": ("t-10", 1.0, "fuzzy"),
        "Orient Star Lines": ("t-1", 1.0, "exact"),
        # 2*3/(4+3) against all four: the smallest id
        "Orient Star Shipping Lines": ("t-1", round(6 / 7, 4), "fuzzy"),
    }


def test_common_tokens_are_not_join_keys_but_still_count() -> None:
    table = entries(
        ("t-1", "ALPHA BETA", []),
        ("t-2", "ALPHA GAMMA", []),
        ("t-3", "ALPHA DELTA EPSILON", []),
    )
    # ALPHA is in 3 entries: with max_token_entries=2 it is no join key
    found = hits(screen(["Alpha Beta Zeta", "Gamma Alpha", "Alpha Omega"], table, max_token_entries=2))
    assert found == {
        "Alpha Beta Zeta": ("t-1", 0.8, "fuzzy"),  # found through BETA; ALPHA still shared: 2*2/(3+2)
        "Gamma Alpha": ("t-2", 1.0, "fuzzy"),  # same token set
    }
    # a pair whose shared tokens are all common is not a candidate (unless the token sets are equal)
    table = entries(
        ("t-3", "ALPHA DELTA EPSILON", []), ("t-4", "DELTA EPSILON OMEGA", []), ("t-5", "ALPHA SIGMA", [])
    )
    assert screen(["Alpha Delta Epsilon Zeta"], table, max_token_entries=1).height == 0
    assert hits(screen(["Epsilon Delta Alpha"], table, max_token_entries=1)) == {
        "Epsilon Delta Alpha": ("t-3", 1.0, "fuzzy")
    }
    assert hits(screen(["Alpha Delta Epsilon Zeta"], table)) == {
        "Alpha Delta Epsilon Zeta": ("t-3", round(6 / 7, 4), "fuzzy")
    }


def test_bad_arguments_raise() -> None:
    table = entries(("t-1", "ALPHA BETA", []))
    with pytest.raises(ValueError, match="threshold"):
        screen(["x"], table, threshold=0.0)
    with pytest.raises(ValueError, match="threshold"):
        screen(["x"], table, threshold=1.5)
    with pytest.raises(ValueError, match="max_token_entries"):
        screen(["x"], table, max_token_entries=0)


def brute_force(names: list[str], table: pl.DataFrame, threshold: float) -> pl.DataFrame:
    """Every party against every list name (cross join), no index and no guards: the reference."""
    generic = set(GENERIC_TOKENS)

    def normal(name: pl.Expr, suffixes: Sequence[str]) -> pl.Expr:
        return normalise_name(name, suffixes, fold_confusables=True)

    def words(name: pl.Expr) -> pl.Expr:
        """All tokens with no legal form dropped, generic words out."""
        return name_tokens(normal(name, ())).list.eval(
            pl.element().filter(~pl.element().is_in(list(generic)))
        )

    def side(frame: pl.DataFrame, column: str) -> pl.DataFrame:
        return frame.with_columns(norm=normal(pl.col(column), LEGAL_SUFFIXES)).with_columns(
            tokens=name_tokens(pl.col("norm")).list.eval(
                pl.element().filter(~pl.element().is_in(list(generic)) & (pl.element().str.len_chars() > 1))
            )
        )

    parties = side(pl.DataFrame({"party_name": names}).unique(), "party_name").with_columns(
        plain=normal(pl.col("party_name"), ())
    )
    variants = table.select(
        "entry_id", "name", "entity_type", variant=pl.concat_list("name", "aliases")
    ).explode("variant")
    # An individual's surname, name by name: the part before the name's comma, else (an alias in natural order)
    # its words that are not the primary name's given names; none for entities or a name of neither.
    individual = pl.col("entity_type") == "individual"
    surname = (
        pl.when(individual & pl.col("variant").str.contains(","))
        .then(words(pl.col("variant").str.split(",").list.first()))
        .when(individual & pl.col("name").str.contains(","))
        .then(
            words(pl.col("variant")).list.set_difference(
                words(pl.col("name").str.split(",").list.slice(1).list.join(","))
            )
        )
    )
    list_names = side(variants.with_columns(surname=surname), "variant").with_columns(
        # the list name is one word only once a legal form is dropped
        form_dropped=pl.col("norm") != normal(pl.col("variant"), ())
    )
    pairs = parties.join(list_names, how="cross", suffix="_e").with_columns(
        shared=pl.col("tokens").list.set_intersection("tokens_e").list.unique().list.len(),
        total=pl.col("tokens").list.unique().list.len() + pl.col("tokens_e").list.unique().list.len(),
    )
    bare_word_of_a_company = (
        pl.col("form_dropped")
        & ~pl.col("norm").str.contains(" ")
        # the party carries no legal form: dropping the legal forms leaves its normal form as it was
        & (pl.col("plain") == pl.col("norm"))
    )
    score = 2.0 * pl.col("shared") / pl.col("total")
    surname_held = (
        pl.col("surname").is_null()
        | (pl.col("surname").list.set_intersection(name_tokens(pl.col("plain"))).list.len() > 0)
        | ((pl.col("shared") >= 3) & (score >= 0.9))
    )
    exact = pairs.filter(
        (pl.col("norm") == pl.col("norm_e")) & (pl.col("norm") != "") & ~bare_word_of_a_company & surname_held
    )
    fuzzy = pairs.filter((pl.col("shared") >= 2) & (score >= threshold) & surname_held).with_columns(
        score=score
    )
    return (
        pl.concat(
            [
                exact.select("party_name", "entry_id", score=pl.lit(1.0), rank=pl.lit(0)),
                fuzzy.select("party_name", "entry_id", "score", rank=pl.lit(1)),
            ]
        )
        .sort(["party_name", "score", "rank", "entry_id"], descending=[False, True, False, False])
        .unique("party_name", keep="first", maintain_order=True)
        .select("party_name", "entry_id", pl.col("score").round(9))
    )


@pytest.mark.parametrize("threshold", [0.5, 0.67, 0.8, 0.9, 1.0])
def test_index_and_prefix_filter_lose_no_pair(sdn: pl.DataFrame, threshold: float) -> None:
    """With the common-token guard off, the indexed search finds what a full cross join finds (listed people
    with aliases and surnames that are a legal form or one letter among them)."""
    table = sdn.sample(200, seed=11)
    people = entries(
        ("t-1", "QADHAFI, Muammar Muhammad", ["GADDAFI, Muammar Muhammad", "Moammar KADAFI"]),
        ("t-2", "PAO, Yu Liang", []),
        ("t-3", "O, Yong Ho", ["Yong Ho O"]),
    ).with_columns(entity_type=pl.lit("individual"))
    words = table.select(
        w=normalise_name(pl.col("name"), LEGAL_SUFFIXES)
        .str.split(" ")
        .list.eval(pl.element().shuffle(seed=4))
    )["w"]
    extra = pl.Series(["SMITH", "AL", "BANK", "NEW", "ZZQX", "MUHAMMAD", "TECH", "SHIPPING"] * 25)
    names = pl.concat(
        [
            words.list.join(" "),  # reordered
            words.list.slice(1).list.join(" "),  # first word dropped
            words.list.join(" ") + " " + extra,  # one word added
            extra + " " + words.list.slice(0, 2).list.join(" "),  # two words kept, one added
        ]
    ).to_list()
    names += [
        "Muammar Gaddafi",
        "Moammar Kadafi",
        "Muammar Muhammad",
        "Yu Liang",
        "Pao Yu Liang",
        "Kim Yong Ho",
    ]
    names += ["Yong Ho", "O Yong Ho", "Mr Yong Ho O", "Sеrgey Muammar Kadafi"]  # a Cyrillic е
    table = pl.concat([table, people])
    expected = brute_force(names, table, threshold)
    got = screen(names, table, threshold=threshold, max_token_entries=10**9).select(
        "party_name", entry_id="denied_entry_id", score=pl.col("denied_score").round(9)
    )
    assert expected.height > 150
    assert got.sort("party_name").equals(expected.sort("party_name"))


# --- The pack's own lists against its list (a compliance officer's checks) ---------------------------------


@pytest.fixture(scope="module")
def pack_config() -> dict[str, Any]:
    """The U.S. pack's ``[denied_parties]`` table."""
    import tomllib

    config: dict[str, Any] = tomllib.loads((ROOT / "rules" / "us" / "risk.toml").read_text(encoding="utf-8"))[
        "denied_parties"
    ]
    return config


@pytest.fixture(scope="module")
def pack_screen(
    sdn: pl.DataFrame, pack_config: dict[str, Any]
) -> Callable[..., dict[str, tuple[str, float, str]]]:
    """Screen names with the U.S. pack's suffixes, generic words and threshold against its list."""
    config = pack_config
    index = entry_names(
        sdn,
        legal_suffixes=config["legal_suffixes"],
        generic_tokens=config["generic_tokens"],
        party_types=config["party_types"],
    )

    def run(*names: str) -> dict[str, tuple[str, float, str]]:
        frame = pl.LazyFrame({"party_name": list(names)})
        found = match_parties(
            frame,
            sdn,
            legal_suffixes=config["legal_suffixes"],
            generic_tokens=config["generic_tokens"],
            threshold=config["threshold"],
            index=index,
        )
        return hits(found.collect())

    return run


def test_common_names_are_not_hits_without_the_listed_surname(pack_screen: Callable[..., dict]) -> None:
    """Two given names matched any listed individual of three names at 0.8 (16 % of the commonest Arabic and
    Persian name pairs were critical hits), and "Abu Muhammad" still matched "AL-JAWLANI, Abu Muhammad"."""
    assert pack_screen("Mohammad Reza", "Ali Hassan", "Mohammad Hassan", "Abu Muhammad", "Abu Mohammed") == {}
    # With the surname it is a match to review (given name and surname of a listed person).
    found = pack_screen("Sergey Ivanov", "Joaquin Guzman Loera")
    assert found["Sergey Ivanov"][1] == 0.8
    assert found["Joaquin Guzman Loera"][1] == 1.0


def test_a_surname_that_is_a_legal_form_or_one_letter_is_still_the_surname(
    pack_screen: Callable[..., dict],
) -> None:
    """PAO (a legal form) and O (one letter) were dropped from "PAO, Yu Liang" and "O, Yong Ho", leaving them no
    surname, which turned the surname rule off: "Yu Liang" was an exact, critical hit and "Kim Yong Ho" a 0.8
    one. Such a person still needs the surname written."""
    assert (
        pack_screen(
            "Yu Liang",
            "Chen Yu Liang",
            "Hua Chiang",
            "Kim Yong Ho",
            "Park Chong Ok",
            "Lee In Chun",
            "Kuk-Ryol Choe",
        )
        == {}
    )
    found = pack_screen("Pao Yu Liang", "Yu Liang Pao", "O Yong Ho", "Kuk-Ryol O")
    assert {name: hit[0] for name, hit in found.items()} == {
        "Pao Yu Liang": "ofac-sdn-11288",
        "Yu Liang Pao": "ofac-sdn-11288",
        "O Yong Ho": "ofac-sdn-34456",
        "Kuk-Ryol O": "ofac-sdn-15771",
    }


def test_a_courtesy_title_or_attention_word_does_not_hide_a_listed_person(
    pack_screen: Callable[..., dict],
) -> None:
    """Mr, Mrs, Dr and Sr counted as name words: "Mr. Sergey Ivanov" scored 0.67 where "Sergey Ivanov" is a 0.8
    match to review. A listed name holding such a word matches as listed."""
    titled = (
        "Mr. Sergey Ivanov",
        "Dr Andrey Ivanov",
        "Mrs Tatyana Ivanova",
        "Sr. Joaquin Guzman",
        "Attn Ms Tatyana Ivanova",
    )
    untitled = ("Sergey Ivanov", "Andrey Ivanov", "Tatyana Ivanova", "Joaquin Guzman", "Tatyana Ivanova")
    found, bare = pack_screen(*titled), pack_screen(*untitled)
    assert [found[name] for name in titled] == [bare[name] for name in untitled]
    assert all(score == 0.8 for _entry, score, _kind in found.values())
    assert set(pack_screen("Mr Handyman Ltd", "MS-13")) == {"Mr Handyman Ltd", "MS-13"}


def test_legal_forms_are_no_names(pack_screen: Callable[..., dict]) -> None:
    """C.V. and R.L. were ordinary words, so any one-word "X S. de R.L. de C.V." was a critical hit on
    "J & E S. DE R.L. DE C.V." (and "Farmacia SA de CV" on FARMACIA JERLYNE, S.A. DE C.V.)."""
    assert pack_screen("Muebles S. de R.L. de C.V.", "Farmacia SA de CV", "Grupo SA de CV") == {}
    found = pack_screen(
        "Rosneft Trading S de RL de CV", "Rosneft Trading S. A.", "Rosneft Trading Sp. z o.o."
    )
    assert {name: hit[0] for name, hit in found.items()} == dict.fromkeys(
        found, found["Rosneft Trading S. A."][0]
    )
    assert len(found) == 3


def test_a_one_word_company_is_found_under_its_legal_forms(pack_screen: Callable[..., dict]) -> None:
    """LIMITED LIABILITY COMPANY INKOR has one significant word: it matched only when written exactly, so "OOO
    Inkor" and "Inkor LLC" went through (the legal form written out is now dropped whole); names of no
    significant word never matched, even exactly. A one-word name is still never matched through generic words:
    "Alfa Trading Co., Ltd" is not ALFA LOGISTICS FZCO, nor "Forest Logistics LLC" the vessel FOREST."""
    found = pack_screen("OOO Inkor", "Inkor LLC", "General Technology Limited", "B R C SA")
    assert {name: (kind, score) for name, (_id, score, kind) in found.items()} == {
        "OOO Inkor": ("exact", 1.0),
        "Inkor LLC": ("exact", 1.0),
        "General Technology Limited": ("exact", 1.0),
        "B R C SA": ("exact", 1.0),
    }
    assert pack_screen("Alfa Trading Co., Ltd", "Forest Logistics LLC", "Fortune Trading Co., Ltd") == {}


def test_a_legal_form_written_out_and_abbreviated_is_dropped_whole(pack_screen: Callable[..., dict]) -> None:
    """ "Inkor Limited Liability Co." lost LIMITED and CO (each a legal form of its own) and kept LIABILITY: INKOR
    LIABILITY was no exact hit on LIMITED LIABILITY COMPANY INKOR, while "Inkor LLC" was."""
    names = (
        "Inkor Limited Liability Co.",
        "Inkor Ltd Liability Co",
        "Inkor Ltd. Liability Company",
        "Inkor LLC",
    )
    found = pack_screen(*names)
    assert {name: (kind, score) for name, (_id, score, kind) in found.items()} == dict.fromkeys(
        names, ("exact", 1.0)
    )
    assert len({entry for entry, _score, _kind in found.values()}) == 1


def test_a_legal_form_the_list_transliterates_is_its_abbreviation(pack_screen: Callable[..., dict]) -> None:
    """The list writes about 250 entities with their legal form transliterated in full (AKTSIONERNOE OBSHCHESTVO
    PASIT, OBSHCHESTVO S OGRANICHENNOI OTVETSTVENNOSTYU NEOBIT, INVERSIONES ZANZIBAR SOCIEDAD ANONIMA), which
    the pack did not drop: "AO Pasit", "Pasit JSC", "OOO Neobit" and "Inversiones Zanzibar S.A." went through."""
    expected = {
        "OOO Neobit": "ofac-sdn-31414",
        "Neobit LLC": "ofac-sdn-31414",
        "AO Pasit": "ofac-sdn-31412",
        "Pasit JSC": "ofac-sdn-31412",
        "Sovkombank Strakhovanie AO": "ofac-sdn-34766",
        "OOO VTB Foreks": "ofac-sdn-34536",
        "Inversiones Zanzibar S.A.": "ofac-sdn-28009",
        "High Nutrition S. de R.L.": "ofac-sdn-26470",
    }
    found = pack_screen(*expected)
    assert {name: hit[0] for name, hit in found.items()} == expected
    assert {hit[2] for hit in found.values()} == {"exact"}
    # A bare word is still no company of that word; the form is dropped only whole.
    assert pack_screen("Pasit", "Neobit") == {}
    assert normalised(
        ["Obshchestvo Pasit", "Aktsionernoe Obshchestvo Pasit"], ["AKTSIONERNOE OBSHCHESTVO"]
    ) == [
        "OBSHCHESTVO PASIT",
        "PASIT",
    ]


def test_a_listed_name_written_with_look_alike_letters_is_found(pack_screen: Callable[..., dict]) -> None:
    """One Cyrillic or Greek letter drawn as a Latin one hid a listed party (the textbook evasion of a name
    screen): ``Mеgafon PAO`` with a Cyrillic ``е`` released, ``Megafon PAO`` is a critical hit."""
    found = pack_screen("Mеgafon PAO", "СIMEX", "Sеrgey Ivanov", "Banco Naсional de Cuba", "ΤARA LΤD")
    assert {name: hit[0] for name, hit in found.items()} == {
        "Mеgafon PAO": "ofac-sdn-42086",
        "СIMEX": "ofac-sdn-535",
        "Sеrgey Ivanov": "ofac-sdn-36799",
        "Banco Naсional de Cuba": "ofac-sdn-306",
        "ΤARA LΤD": "ofac-sdn-23413",
    }


@pytest.mark.parametrize(
    "suffixes",
    [
        ["CO", "LIMITED", "LTD", "LIMITED LIABILITY CO", "LIMITED LIABILITY COMPANY"],
        ["LIMITED LIABILITY CO", "LIMITED LIABILITY COMPANY", "LTD", "LIMITED", "CO"],
    ],
)
def test_the_longest_legal_form_wins_whatever_the_list_order(suffixes: list[str]) -> None:
    assert normalised(
        ["Inkor Limited Liability Company", "Inkor Limited Liability Co.", "Limited Inkor Co Ltd"], suffixes
    ) == ["INKOR", "INKOR", "INKOR"]


def test_a_listed_vessel_or_aircraft_is_never_a_shipper_or_consignee(
    pack_screen: Callable[..., dict],
) -> None:
    """Vessels and aircraft were matched as parties: "Fortune Co., Ltd." was a critical exact hit on the Iranian
    vessel FORTUNE, a consignee "Dan" on the vessel DAN; the listed companies and people are still found."""
    assert pack_screen("Fortune Co., Ltd.", "Patriot LLC", "Snow Ltd", "Zeus GmbH", "Dan") == {}
    found = pack_screen("Inkor LLC", "AEROCARIBBEAN AIRLINES", "Joaquin Guzman Loera")
    assert set(found) == {"Inkor LLC", "AEROCARIBBEAN AIRLINES", "Joaquin Guzman Loera"}


def test_a_bare_first_name_is_no_listed_company_of_that_one_word_and_a_legal_form(
    pack_screen: Callable[..., dict[str, tuple[str, float, str]]],
) -> None:
    """Consignees known by a first name only were critical exact hits on listed companies one word long once their
    legal form was dropped: "Denise" on DENISE COMPANY, "Doris" on LIMITED LIABILITY COMPANY DORIS, "Tara" on TARA
    LIMITED, "Lia" on LIA COMPANY. Written with a legal form, wherever it stands and however written (AO, CO, SA
    without a dot too, as the list writes them), the name still matches, as does a party whose listed name is one
    word as listed."""
    assert pack_screen("Denise", "Doris", "Tara", "Lia", "Capital", "Zvezda", "Megafon") == {}
    named = {
        "Tara Ltd": "ofac-sdn-23413",
        "Tara Limited": "ofac-sdn-23413",
        "Tara Ao": "ofac-sdn-23413",
        "PAO Tara": "ofac-sdn-23413",
        "OOO Doris": "ofac-sdn-45961",
        "Doris Sa": "ofac-sdn-45961",
        "Lia Co.": "ofac-sdn-30465",
        "Lia Co": "ofac-sdn-30465",
        "Denise Company": "ofac-sdn-17829",
        # Both carry a legal form (LTD, S.A.L.): a match, whichever form each writes.
        "Capital Ltd": "ofac-sdn-28539",
        # Listed as one word, no legal form dropped: the bare name matches as before.
        "Cimex": "ofac-sdn-535",
        "Hizballah": "ofac-sdn-4697",
    }
    found = pack_screen(*named)
    assert {name: (entry, score, kind) for name, (entry, score, kind) in found.items()} == {
        name: (entry, 1.0, "exact") for name, entry in named.items()
    }
    # A generic word beside the one word names a business, not a person: still matched.
    assert pack_screen("Hoda Shipping")["Hoda Shipping"][2] == "exact"


@pytest.mark.parametrize(
    ("party", "entry"),
    [
        ("MEGAFON PAO", "ofac-sdn-42086"),
        ("Megafon PAO", "ofac-sdn-42086"),
        ("MAPLES SA", "ofac-sdn-19046"),
        ("SELKBAF CO", "ofac-sdn-30393"),
        ("KRYMTETS, AO", "ofac-sdn-25118"),
        ("AO INFORUS", "ofac-sdn-35262"),
        ("Inforus AO", "ofac-sdn-35262"),
        ("PAO ZVEZDA", "ofac-sdn-26513"),
        ("PAO Zvezda", "ofac-sdn-26513"),
        ("Zvezda PAO", "ofac-sdn-26513"),
        ("Zvezda SPA", "ofac-sdn-26513"),
        ("Zvezda KG", "ofac-sdn-26513"),
        ("Zvezda Est", "ofac-sdn-26513"),
        ("Co Zvezda", "ofac-sdn-26513"),
        ("SA Zvezda", "ofac-sdn-26513"),
        ("AG & CARLON", "ofac-sdn-18087"),
        ("AG & Carlon", "ofac-sdn-18087"),
    ],
)
def test_a_party_written_as_the_list_writes_a_one_word_company_is_an_exact_hit(
    pack_screen: Callable[..., dict[str, tuple[str, float, str]]], party: str, entry: str
) -> None:
    """A one-word company whose legal form has no dot or stands first (MEGAFON PAO, AO INFORUS, SELKBAF CO) was
    no hit when a party wrote it exactly as listed: the party's form was read as ``shipper_legal_form`` reads one,
    which takes no dotless AO, SA, CO nor a form standing first. A party carries a legal form when dropping the
    legal forms shortens its normal form, as the list's names are read."""
    assert pack_screen(party) == {party: (entry, 1.0, "exact")}


def test_every_one_word_company_of_the_list_is_hit_by_its_names_written_as_listed(
    sdn: pl.DataFrame, pack_config: dict[str, Any]
) -> None:
    """Each listed name that is one word once its legal form is dropped matches a party that writes it as listed."""
    suffixes, generic = pack_config["legal_suffixes"], pack_config["generic_tokens"]
    index = entry_names(
        sdn, legal_suffixes=suffixes, generic_tokens=generic, party_types=pack_config["party_types"]
    )
    one_word = index.filter(pl.col("form_dropped") & ~pl.col("norm").str.contains(" "))
    written = (
        sdn.select("entry_id", variant=pl.concat_list("name", pl.col("aliases").fill_null([])))
        .explode("variant")
        .with_columns(norm=normalise_name(pl.col("variant"), suffixes))
        .join(one_word.select("entry_id", "norm"), on=["entry_id", "norm"])
    )
    assert written.height > 700
    found = match_parties(
        written.select(party_name="variant").lazy(),
        sdn,
        legal_suffixes=suffixes,
        generic_tokens=generic,
        threshold=pack_config["threshold"],
        index=index,
    ).collect()
    assert (
        written.select("variant")
        .unique()
        .join(found, left_on="variant", right_on="party_name", how="anti")["variant"]
        .to_list()
        == []
    )


def test_a_bare_name_is_held_against_the_list_name_that_matched_not_the_entry() -> None:
    """An entry listed as a word and a legal form, with the bare word among its aliases, is matched by the bare
    name through that alias; without the alias it is not."""
    table = entries(("t-1", "TARA LIMITED", ["TARA"]), ("t-2", "DORIS LTD", []), ("t-3", "ACME", []))
    found = screen(["Tara", "Doris", "Acme", "Doris Ltd", "Acme GmbH"], table)
    assert hits(found) == {
        "Tara": ("t-1", 1.0, "exact"),
        "Acme": ("t-3", 1.0, "exact"),
        "Doris Ltd": ("t-2", 1.0, "exact"),
        "Acme GmbH": ("t-3", 1.0, "exact"),
    }


def test_party_types_choose_the_entries_matched() -> None:
    table = entries(
        ("t-1", "FORTUNE", []), ("t-2", "FORTUNE", []), ("t-3", "ZEUS AIR", []), ("t-4", "ACME WIDGETS", [])
    ).with_columns(entity_type=pl.Series(["vessel", "entity", "aircraft", None], dtype=pl.String()))
    index = entry_names(
        table,
        legal_suffixes=LEGAL_SUFFIXES,
        generic_tokens=GENERIC_TOKENS,
        party_types=["individual", "entity"],
    )
    assert sorted(set(index["entry_id"])) == ["t-2", "t-4"]  # an entry without a type is an entity
    frame = pl.LazyFrame({"party_name": ["Fortune Co", "Zeus Air", "Acme Widgets"]})
    found = match_parties(
        frame,
        table,
        legal_suffixes=LEGAL_SUFFIXES,
        generic_tokens=GENERIC_TOKENS,
        threshold=THRESHOLD,
        party_types=["individual", "entity"],
    ).collect()
    assert hits(found) == {"Fortune Co": ("t-2", 1.0, "exact"), "Acme Widgets": ("t-4", 1.0, "exact")}
    # Without party_types every entry is matched (the index of a list screened for other uses).
    everything = entry_names(table, legal_suffixes=LEGAL_SUFFIXES, generic_tokens=GENERIC_TOKENS)
    assert sorted(set(everything["entry_id"])) == ["t-1", "t-2", "t-3", "t-4"]


def test_the_summary_counts_the_entries_matched_as_parties(us_pack: screening.RulePack) -> None:
    listing = screening.screen(pl.DataFrame([BASE_LINE]), rules=us_pack).summary["risk"]["screening_list"]
    types = us_pack.screening_list["entity_type"].value_counts()
    count = dict(types.iter_rows())
    assert listing["entries"] == us_pack.screening_list.height == sum(count.values())
    assert listing["party_types"] == ["individual", "entity"]
    assert listing["party_entries"] == count["individual"] + count["entity"] < listing["entries"]


def test_an_alias_in_natural_order_keeps_the_listed_surname() -> None:
    """An individual's alias without a comma ("Mohammad Reza NAQDI") had no surname, so the surname rule was
    skipped for it and "Mohammad Reza" matched again; a long given part sharing three or more tokens at 0.9
    still matches without the surname (it often holds the family name)."""
    table = entries(
        ("t-1", "NAQDI, Mohammad Reza", ["Mohammad Reza NAQDI"]),
        ("t-2", "KHATUNI, Abd Salim Ibrahim Brukan Hamid Ismail", []),
    ).with_columns(entity_type=pl.lit("individual"))
    found = hits(screen(["Mohammad Reza", "Abd Salim Ibrahim Brukan Hamid Ismail"], table))
    assert set(found) == {"Abd Salim Ibrahim Brukan Hamid Ismail"}
    assert found["Abd Salim Ibrahim Brukan Hamid Ismail"][0] == "t-2"


def test_an_alias_s_own_surname_is_that_alias_s_surname() -> None:
    """Every alias was held to the primary name's surname: "Muammar Gaddafi" (2 of 3 tokens of the alias
    "GADDAFI, Muammar Muhammad", surname included) and "Mohammad Reza Naghdi" (the alias "Reza NAGHDI" and a
    listed given name) were no hits, as the README promises for a person "and its aliases"."""
    table = entries(
        ("t-1", "QADHAFI, Muammar Muhammad", ["GADDAFI, Muammar Muhammad", "KADAFI, Moammar Mohammed"]),
        ("t-2", "NAQDI, Mohammad Reza", ["Reza NAGHDI"]),
    ).with_columns(entity_type=pl.lit("individual"))
    names = ["Muammar Gaddafi", "Moammar Kadafi", "Mohammad Reza Naghdi", "Muammar Qadhafi"]
    found = hits(screen([*names, "Muammar Muhammad", "Mohammad Reza", "Moammar Mohammed"], table))
    assert found == {
        "Muammar Gaddafi": ("t-1", 0.8, "fuzzy"),
        "Moammar Kadafi": ("t-1", 0.8, "fuzzy"),
        "Mohammad Reza Naghdi": ("t-2", 0.8, "fuzzy"),
        "Muammar Qadhafi": ("t-1", 0.8, "fuzzy"),
    }


def test_a_list_changed_in_memory_is_screened_as_changed(us_pack: screening.RulePack) -> None:
    """The list's index is kept per process, keyed by the pack's files: a pack whose list was changed in memory
    (``dataclasses.replace``) kept the first list's index, so its new entry was never matched."""
    line = {**BASE_LINE, "consignee_name": "Zorblax Quintavelle"}
    assert screening.screen(pl.DataFrame([line]), rules=us_pack).flags.is_empty()
    entry = pl.DataFrame(
        {
            "entry_id": ["test-1"],
            "name": ["QUINTAVELLE, Zorblax"],
            "aliases": [[]],
            "weak_aliases": [[]],
            "program": ["TEST"],
            "entity_type": ["individual"],
            "source": ["test"],
        }
    )
    listed = pl.concat([us_pack.screening_list, entry.cast(us_pack.screening_list.schema)])
    changed = dataclasses.replace(us_pack, screening_list=listed)
    flags = screening.screen(pl.DataFrame([line]), rules=changed).flags
    assert flags["rule_id"].to_list() == ["denied-party"]


class _EvictingTogether(dict[tuple[Any, ...], Any]):
    """A list-index cache whose evictions wait (up to a second) for one in another thread: the interleaving
    of two runs that both found the cache full and both chose its oldest entry."""

    def __init__(self, entries: dict[tuple[Any, ...], Any]) -> None:
        super().__init__(entries)
        self.evicting = threading.Barrier(2, timeout=1)

    def _wait_for_the_other(self) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            self.evicting.wait()

    def __delitem__(self, key: tuple[Any, ...]) -> None:
        self._wait_for_the_other()
        super().__delitem__(key)

    def pop(self, key: tuple[Any, ...], *default: Any) -> Any:
        self._wait_for_the_other()
        return super().pop(key, *default)


def test_runs_in_threads_that_find_the_list_index_cache_full_both_screen(
    us_pack: screening.RulePack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs at once found the kept list indexes full and each evicted the oldest: both chose the same one,
    and the second delete raised a bare ``KeyError``. The cache is now looked up, built and trimmed under a
    lock, and each run keeps the index it built."""
    full = _EvictingTogether({("another pack", n): None for n in range(pipeline._LIST_INDEXES_KEPT)})
    monkeypatch.setattr(pipeline, "_LIST_INDEXES", full)
    line = {**BASE_LINE, "consignee_name": "Anna Keller"}
    errors: list[BaseException] = []
    flags: list[pl.DataFrame] = []

    def run() -> None:
        try:
            flags.append(screening.screen(pl.DataFrame([line]), rules=us_pack).flags)
        except BaseException as exc:  # reported by the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [f.height for f in flags] == [0, 0]
    assert len(full) == pipeline._LIST_INDEXES_KEPT
    assert sum(key[0] != "another pack" for key in full) == 1


# --- Every line's own parties ------------------------------------------------------------------------------------

#: OFAC SDN ofac-sdn-9750, an exact match; DUGIN, Aleksandr (ofac-sdn-17760), a token match.
LISTED_SHIPPER = "Beijing Alite Technologies Co., Ltd."
LISTED_CONSIGNEE = "Aleksandr Dugin"


def _later_line_parties() -> pl.DataFrame:
    """P1 names a listed shipper on line 2, P2 a listed consignee on line 2, P3 a listed shipper on line 1 only
    (line 2 another); P4 no one listed."""
    rows = [
        {"package_id": "P1", "line_no": "1", "shipper_name": "Nice Shop"},
        {"package_id": "P1", "line_no": "2", "shipper_name": LISTED_SHIPPER},
        {"package_id": "P2", "line_no": "1", "consignee_name": "Lee Buyer"},
        {"package_id": "P2", "line_no": "2", "consignee_name": LISTED_CONSIGNEE},
        {"package_id": "P3", "line_no": "1", "shipper_name": LISTED_SHIPPER},
        {"package_id": "P3", "line_no": "2", "shipper_name": "Nice Shop"},
        {"package_id": "P4", "line_no": "1"},
        {"package_id": "P4", "line_no": "2", "consignee_name": "Lee Buyer"},
    ]
    return pl.DataFrame([{**BASE_LINE, **row} for row in rows], schema=dict.fromkeys(BASE_LINE, pl.String()))


def _denied_flags(flags: pl.DataFrame) -> list[tuple[str, list[int], str]]:
    found = flags.filter(pl.col("rule_id") == "denied-party").sort("package_id")
    return [(r["package_id"], r["line_nos"], r["detail"]) for r in found.iter_rows(named=True)]


def test_a_listed_party_named_on_a_later_line_is_flagged_on_that_line(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """Every line of a package carries its line 1's shipper and consignee, and only those were screened: a
    listed shipper or consignee on line 2 was released with score 0, and ``screen explain`` showed nothing. Every
    name any line gives is screened now, and the flag names the lines that gave it."""
    result = screening.screen(_later_line_parties(), rules=us_pack)
    found = _denied_flags(result.flags)
    assert [(package, lines) for package, lines, _ in found] == [("P1", [2]), ("P2", [2]), ("P3", [1])]
    assert f"shipper '{LISTED_SHIPPER}' matches OFAC SDN ofac-sdn-9750 " in found[0][2]
    assert f"consignee '{LISTED_CONSIGNEE}' matches OFAC SDN ofac-sdn-17760 " in found[1][2]
    queues = dict(result.packages.select("package_id", "queue").iter_rows())
    assert [queues[p] for p in ("P1", "P2", "P3")] == ["denied-party"] * 3
    assert queues["P4"] != "denied-party"
    # The lines output keeps the package's names (its line 1's), as documented; the flag sits on line 2.
    p1 = result.lines.filter(pl.col("package_id") == "P1").sort("line_no")
    assert p1["shipper_name"].to_list() == ["Nice Shop", "Nice Shop"]
    assert p1["risk_flags"].to_list() == [[], ["denied-party"]]
    result.write(tmp_path / "out")
    explained = explain_package(tmp_path / "out", "P1")
    assert [(f["rule_id"], f["line_nos"]) for f in explained["flags"]] == [("denied-party", [2])]
    text = render_text(explained)
    assert "denied-party (critical, queue denied-party) on line(s) 2" in text
    assert f"match: shipper '{LISTED_SHIPPER}' matches OFAC SDN ofac-sdn-9750 " in text


def test_a_match_s_detail_names_the_name_that_matched(us_pack: screening.RulePack) -> None:
    """Line 2 named consignee ``Sergey Ivanov`` while line 1 named ``Anna Keller``: the flag read ``consignee
    matches ... 'IVANOV, Sergey Borisovich' (fuzzy, score 0.8)`` and no output held the name that matched
    (``lines`` shows the package's first line's). The detail names it; a pseudonymised run names it by the
    pseudonym ``lines`` gives that name, never in clear."""
    rows = [
        {"package_id": "FZ", "line_no": "1", "consignee_name": "Anna Keller"},
        {
            "package_id": "FZ",
            "line_no": "2",
            "consignee_name": "Sergey Ivanov",
            "description": "cotton socks",
        },
    ]
    frame = pl.DataFrame([{**BASE_LINE, **row} for row in rows], schema=dict.fromkeys(BASE_LINE, pl.String()))
    [(package, lines, detail)] = _denied_flags(screening.screen(frame, rules=us_pack).flags)
    assert (package, lines) == ("FZ", [2])
    assert detail.startswith(
        "consignee 'Sergey Ivanov' matches OFAC SDN ofac-sdn-36799 'IVANOV, Sergey Borisovich'"
    )
    assert detail.endswith("(fuzzy, score 0.8)")
    # Pseudonymised, with a package of Sergey Ivanov's own beside it: its lines show his name's pseudonym.
    alone = pl.DataFrame([{**BASE_LINE, **rows[1], "package_id": "SI", "line_no": "1"}])
    hidden = screening.screen(pl.concat([frame, alone]), rules=us_pack, pseudonymise_key="k1")
    pseudonymous = {p: d for p, _, d in _denied_flags(hidden.flags)}["FZ"]
    assert "Sergey Ivanov" not in pseudonymous
    named = hidden.lines.filter(pl.col("package_id") == "SI")["consignee_name"].item()
    assert named.startswith("p:")
    assert pseudonymous.startswith(f"consignee '{named}' matches OFAC SDN ofac-sdn-36799 ")


def test_a_listed_party_is_found_whichever_row_comes_first(us_pack: screening.RulePack) -> None:
    """Without line numbers the rows are numbered in order: swapping a package's two rows moved the listed
    shipper from line 1 to line 2 and the package from the denied-party queue to release."""
    rows = [
        {"package_id": "P1", "shipper_name": LISTED_SHIPPER, "description": "wifi module"},
        {"package_id": "P1", "shipper_name": "Nice Shop", "description": "wifi router"},
    ]
    columns = [c for c in BASE_LINE if c != "line_no"]
    for order, listed_line in ((rows, 1), (rows[::-1], 2)):
        frame = pl.DataFrame([{c: {**BASE_LINE, **row}[c] for c in columns} for row in order])
        result = screening.screen(frame, rules=us_pack)
        assert [(p, lines) for p, lines, _ in _denied_flags(result.flags)] == [("P1", [listed_line])]
        assert result.packages["queue"].to_list() == ["denied-party"]


def test_later_lines_parties_are_flagged_alike_whole_day_in_parts_and_in_batches(
    us_pack: screening.RulePack, tmp_path: Path
) -> None:
    """The names of every line are screened in each part and each batch as in the whole day."""
    frame = _later_line_parties()
    whole = screening.screen(frame, rules=us_pack)
    path = tmp_path / "day.parquet"
    frame.write_parquet(path)
    screening.screen_to_folder(path, tmp_path / "parts", rules=us_pack, part_lines=1)
    assert pl.read_parquet(tmp_path / "parts" / "flags.parquet").equals(whole.flags)
    batched = screening.Screener(us_pack)
    flags = [batched.screen(frame.slice(start, 2)).flags for start in range(0, frame.height, 2)]
    assert _denied_flags(pl.concat(flags)) == _denied_flags(whole.flags)
    assert [(p, lines) for p, lines, _ in _denied_flags(whole.flags)] == [
        ("P1", [2]),
        ("P2", [2]),
        ("P3", [1]),
    ]


def test_a_legal_form_is_read_where_a_name_ends_or_begins_and_a_name_like_one_only_with_a_dot() -> None:
    """A legal suffix anywhere in a name made it a company's (``Wang Ao``: AO, ``Nguyen Van Co``: CO). The form is
    the run of suffixes ending the name (or, three letters or more and not name-like, beginning it); a lone
    name-like form counts written as an abbreviation."""
    suffixes = [
        "CO",
        "LTD",
        "GMBH",
        "KG",
        "AO",
        "SA",
        "OOO",
        "AG",
        "KK",
        "SPA",
        "S.A. de C.V.",
        "S. A.",
        "LIMITED LIABILITY COMPANY",
    ]
    names = {
        "Shenzhen Xinda Trading Co., Ltd": "CO LTD",
        "Müller GmbH & Co. KG": "GMBH CO KG",
        "Banco Norte, S.A. de C.V.": "SA DE CV",
        "Xinda Trading Co.": "CO",
        "Lisboa S.A.": "SA",
        "Siemens AG": "AG",
        "OOO Inkor": "OOO",
        "Limited Liability Company Inkor": "LIMITED LIABILITY COMPANY",
        "Ltd": "LTD",
        "Wang Ao": None,
        "Maria de Sá": None,
        "Nguyen Van Co": None,
        "Ao Wang": None,  # a name-like form does not begin a name either
        "AG Smith": None,  # nor do initials
        "S A Rahman": None,  # initials that spell a form (the pack's "S. A.") are initials too
        "S. A. Rahman": None,
        "Xinda Ltd Shenzhen Branch": None,  # a form in the middle is not read
        "Ferrari SpA": "SPA",  # S.p.A. in its own mixed case
        "Terme Spa": None,
        # A surname and dotted initials cannot be told from a one-word company and its dotted form: a form.
        "Smith, A.G.": "AG",
        "Inditex, S.A.": "SA",
        "Ferrari, S.p.A.": "SPA",
        "Sony, K.K. Trading": None,
        "Siemens, AG": "AG",
        "Toyota Tsusho K.K.": "KK",
        "": None,
        None: None,
    }
    frame = pl.DataFrame({"name": list(names)}, schema={"name": pl.String()})
    read = frame.select(legal_form(pl.col("name"), suffixes)).to_series().to_list()
    assert dict(zip(names, read, strict=True)) == names
    assert frame.select(legal_form(pl.col("name"), ())).to_series().null_count() == len(names)
