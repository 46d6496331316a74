"""Name expressions for denied-party screening: one normal form for party and list names.

Pure expression builders: the legal-suffix list comes from rule-pack data and is passed in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import polars as pl

#: Dotted initials such as ``S.A.``, ``L.L.C.``, ``U.S.A.``: two single letters joined by a dot.
_DOTTED_PAIR = r"\b(\p{L})\.(\p{L})\b\.?"
#: Apostrophes inside words are dropped (``QA'IDA`` → ``QAIDA``, ``O'BRIEN`` → ``OBRIEN``), the full-width one too.
_APOSTROPHES = r"['\u2018\u2019\u02bc`´\uff07]"
#: Symbols (``™``, ``℠``, ``®``, ``°``, ``+``, ``$``; ``\p{S}``) and superscript and subscript characters (``²``,
#: ``₂``, ``ⁿ``) are blanks, taken out before Unicode folding: NFKC/NFKD spells ``™`` as ``TM`` and ``²`` as
#: ``2``, glued to the word before (``vape™`` read ``vapetm``, ``Inkor™`` ``INKORTM``). Kept for folding: symbols
#: that stand for letters or numbers, not beside them: the enclosed and squared letters and numbers (U+2460-U+24FF,
#: U+1F100-U+1F1FF: ``ⓥⓐⓟⓔ`` is ``vape``, ``①`` is ``1``), the letterlike symbols but ``™`` and ``℠`` (U+2100-U+214F:
#: ``№`` is ``No``, ``℃`` is ``°C``), the CJK enclosed and squared forms (U+3200-U+33FF: ``㈱`` is ``(株)``, ``㎏``
#: is ``kg``), and fractions and other numbers (``½`` is ``1⁄2``, read ``1 2`` as ``1/2`` is). Punctuation (``&``,
#: ``%``) is a blank later anyway.
SYMBOLS = (
    r"[[[\p{S}\x{B2}\x{B3}\x{B9}\x{2070}-\x{209F}]"
    r"--[\x{2100}-\x{214F}\x{2460}-\x{24FF}\x{3200}-\x{33FF}\x{1F100}-\x{1F1FF}]]\x{2120}\x{2122}]"
)

#: Latin letters that Unicode does not decompose, as the ASCII a name written without them has (lower case):
#: letters with a stroke or bar and the dotless i (``ł``, ``ø``, ``đ``, ``ı``, ``ħ``, ``ŧ``), and letters
#: transliterated as two (``ß`` as ``ss``, ``æ`` as ``ae``, ``œ`` as ``oe``, ``þ`` as ``th``), ``ð`` as ``d``.
#: NFKD leaves them whole, so ``Łukasz Wałęsa`` and ``Lukasz Walesa`` were two people and ``OOO Inkør`` missed
#: ``INKOR``. Input hygiene (how carriers' systems write names), not law.
LATIN_LETTER_FOLDS: Final[dict[str, str]] = {
    "ß": "ss",
    "ł": "l",
    "ø": "o",
    "đ": "d",
    "ı": "i",
    "ħ": "h",
    "ŧ": "t",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "ð": "d",
}
#: :data:`LATIN_LETTER_FOLDS` in upper case, for text already upper case: ``Ł`` as ``L``, capital ``ẞ`` as ``SS``
#: (upper case writes ``ß`` as ``SS`` and ``ı`` as ``I`` itself).
UPPER_LATIN_LETTER_FOLDS: Final[dict[str, str]] = {
    **{
        letter.upper(): ascii_text.upper()
        for letter, ascii_text in LATIN_LETTER_FOLDS.items()
        if len(letter.upper()) == 1 and letter.upper() != ascii_text.upper()
    },
    "ẞ": "SS",
}


#: Cyrillic and Greek capitals drawn as a Latin capital is, as that letter (``А`` U+0410 → ``A``, ``Τ`` U+03A4 →
#: ``T``): read after upper-casing, so the lower-case look-alikes (``а``, ``е``, ``о``, ``р``, ``с``, ``у``, ``х``,
#: ``і``, ``ј``, ``ѕ``, Greek ``ο``) are folded too. For denied-party matching only (``fold_confusables``): a Latin
#: name written with one look-alike letter (``Mеgafon PAO``, ``СIMEX``) was no hit, the textbook evasion of a name
#: screen. A name in those scripts is folded alike (``ОАО`` is ``OAO``); since the screening list is Latin, it
#: matches nothing it did not before unless every letter of a listed word is a look-alike. Input hygiene, not law.
CONFUSABLE_FOLDS: Final[dict[str, str]] = {
    # Cyrillic
    "А": "A",
    "В": "B",
    "Е": "E",
    "К": "K",
    "М": "M",
    "Н": "H",
    "О": "O",
    "Р": "P",
    "С": "C",
    "Т": "T",
    "У": "Y",
    "Х": "X",
    "І": "I",
    "Ӏ": "I",
    "Ј": "J",
    "Ѕ": "S",
    "Һ": "H",
    "Ү": "Y",
    "Ԛ": "Q",
    "Ԝ": "W",
    # Greek
    "Α": "A",
    "Β": "B",
    "Ε": "E",
    "Ζ": "Z",
    "Η": "H",
    "Ι": "I",
    "Κ": "K",
    "Μ": "M",
    "Ν": "N",
    "Ο": "O",
    "Ρ": "P",
    "Τ": "T",
    "Υ": "Y",
    "Χ": "X",
}


_CONFUSABLE_AND_LATIN_FOLDS: Final[dict[str, str]] = {**UPPER_LATIN_LETTER_FOLDS, **CONFUSABLE_FOLDS}


def normalised_words(words: Sequence[str]) -> list[str]:
    """Words of a pack's list in the normal form of names (:func:`normalise_name`: ``S.A.`` → ``SA``,
    ``Société`` → ``SOCIETE``), distinct and sorted, empty ones dropped: a list word written as names are
    written would otherwise never match a normalised name."""
    if not words:
        return []
    normal = pl.select(normalise_name(pl.lit(pl.Series(list(words), dtype=pl.String())), ())).to_series()
    return sorted({word for word in normal.to_list() if word})


def suffix_pattern(legal_suffixes: Sequence[str]) -> str | None:
    """The regex matching any of ``legal_suffixes`` as whole tokens of a normalised name (``None`` when
    empty)."""
    words = sorted(normalised_words(legal_suffixes), key=lambda w: (-len(w), w))
    if not words:
        return None
    return r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"


def normalise_name(
    expr: pl.Expr, legal_suffixes: Sequence[str], *, fold_confusables: bool = False
) -> pl.Expr:
    """Canonical form of a party name: ``'Banco Nacional de Cuba, S.A.'`` → ``'BANCO NACIONAL DE CUBA'``.

    Steps: apostrophes removed, symbols and superscripts (:data:`SYMBOLS`: ``Inkor™`` is ``INKOR``) replaced
    by a blank, Unicode NFKD with combining marks and invisible format characters (soft hyphen, zero-width
    space) removed (``É`` → ``E``), upper case, the Latin letters Unicode does not decompose as ASCII
    (:data:`UPPER_LATIN_LETTER_FOLDS`: ``Ø`` → ``O``, ``Æ`` → ``AE``), dotted initials
    joined (``S.A.`` → ``SA``), every other character that is not a letter or a
    digit replaced by a blank, whole tokens in ``legal_suffixes`` (case-insensitive) dropped wherever
    they stand, blanks collapsed and stripped. A name that is nothing but suffixes becomes ``''``;
    null stays null.

    Args:
        expr: a string expression.
        legal_suffixes: words such as ``LTD``, ``LLC``, ``GMBH`` (from rule-pack data); a form of several words
            (``JOINT STOCK COMPANY``) is dropped only whole.
        fold_confusables: also write the Cyrillic and Greek letters drawn as Latin ones as those
            (:data:`CONFUSABLE_FOLDS`: ``Mеgafon`` with a Cyrillic ``е`` is ``MEGAFON``), in the same pass as
            the Latin folds; denied-party matching does, the shipper key does not.
    """
    cleaned = (
        expr.cast(pl.String())
        # apostrophes before the symbols (` and ´ are symbols) and before NFKD (which spells ´ as a blank)
        .str.replace_all(_APOSTROPHES, "")
        .str.replace_all(SYMBOLS, " ")
        .str.normalize("NFKD")
        .str.replace_all(r"[\p{M}\p{Cf}]+", "")
        .str.to_uppercase()
        .str.replace_many(_CONFUSABLE_AND_LATIN_FOLDS if fold_confusables else UPPER_LATIN_LETTER_FOLDS)
        .str.replace_all(_DOTTED_PAIR, "${1}${2}")
        .str.replace_all(r"[^\p{L}\p{N}]+", " ")
    )
    pattern = suffix_pattern(legal_suffixes)
    if pattern is not None:
        cleaned = cleaned.str.replace_all(pattern, " ")
    return cleaned.str.replace_all(r"\s+", " ").str.strip_chars()


def name_tokens(expr: pl.Expr) -> pl.Expr:
    """The blank-separated tokens of a (normalised) name as ``list[str]``; ``''`` gives ``[]``."""
    return expr.str.extract_all(r"\S+")


#: Legal forms that are also parts of a person's name or plain words: a given name or surname (``Wang Ao``,
#: ``Maria de Sá``, ``Nguyen Van Co``, ``Pao``, ``Sal``), initials (``KG``), a word (``Spa``, ``Est``,
#: ``Private``). Alone, one of them is a legal form only where it is written as an abbreviation, with a dot
#: (``Trading Co.``, ``S.A.``, ``S.p.A.``, ``Est.``); within a longer form it is one (``CO LTD``, ``GMBH CO KG``).
NAME_LIKE_FORMS = frozenset({"AO", "CO", "EST", "KG", "PAO", "PRIVATE", "SA", "SAL", "SPA"})


def legal_form(name: pl.Expr, legal_suffixes: Sequence[str]) -> pl.Expr:
    """The legal form a party name carries, in the normal form of names (``'Xinda Trading Co., Ltd'`` →
    ``'CO LTD'``), null where none: the run of ``legal_suffixes`` that ends the name (``GMBH CO KG``,
    ``SA DE CV``), else one that begins it (``OOO Inkor``: a form of three letters or more, not
    :data:`NAME_LIKE_FORMS`, as initials come first: ``A.G. Smith``). A form in the middle is no form of the
    name's owner (``Nguyen Co Trading`` is read as no company), and a lone :data:`NAME_LIKE_FORMS` word counts
    only when written with a dot (``Trading Co.``, not ``Wang Ao``, ``Maria de Sá``, ``Nguyen Van Co``) or, for
    S.p.A., as ``SpA``."""
    words = sorted(normalised_words(legal_suffixes), key=lambda w: (-len(w), w))
    if not words:
        return pl.when(pl.lit(False)).then(name.cast(pl.String()))  # null, a row per name
    one = "(?:" + "|".join(re.escape(w) for w in words) + ")"
    run = f"{one}(?: {one})*"
    plain = normalise_name(name, ())
    last, first = plain.str.extract(f"(?:^| )({run})$"), plain.str.extract(f"^({run})(?: |$)")
    name_like = pl.lit(pl.Series(sorted(NAME_LIKE_FORMS), dtype=pl.String())).implode()
    written = name.cast(pl.String())
    last_word = written.str.extract(r"([\p{L}\p{N}.]+)[^\p{L}\p{N}]*$")
    # ``SpA`` in its own mixed case is the abbreviation of S.p.A. (no person's name is written so).
    dotted = last_word.str.contains(".", literal=True) | (last_word == "SpA")
    return pl.coalesce(
        pl.when(~last.is_in(name_like) | dotted).then(last),
        # A leading run of single letters is initials (``S. A. Rahman``), whatever forms they spell.
        pl.when(
            ~first.is_in(name_like) & (first.str.len_chars() > 2) & ~first.str.contains(r"^\p{L}( \p{L})*$")
        ).then(first),
    )
