"""Party expressions: the consignee key that decides "one person"."""

from __future__ import annotations

from typing import Final

import polars as pl

from screening.exprs.names import SYMBOLS

#: What exports write for a consignee id they do not have, compared lower case after stripping blanks:
#: pandas' ``astype(str)`` writes ``nan``, ``None`` or ``<NA>``, SQL exports ``NULL`` or ``\N``, spreadsheets
#: ``N/A`` or ``#N/A``. Input hygiene, not law: taken as an id, one such token made one person of every
#: consignee without an id (three people at $400 each one consignee-day over the threshold).
MISSING_ID_TOKENS: Final = ("nan", "none", "<na>", "null", r"\n", "n/a", "#n/a")


def normalised_name(name: pl.Expr) -> pl.Expr:
    """A name folded to one spelling per person, then lower case, punctuation to blanks, runs of blanks
    collapsed: ``'anna  KELLER'`` → ``'anna keller'``.

    Symbols and superscripts (:data:`~screening.exprs.names.SYMBOLS`: ``™``, ``®``, ``²``) are blanks, before any
    folding: ``vape™`` is ``vape``, not ``vapetm``. Folded: compatibility forms (Unicode NFKC: full-width ``Ａｎｎａ`` and the ``ﬁ`` ligature are ``anna`` and
    ``fi``), invisible format characters dropped (a soft hyphen or zero-width space inside a word does not
    split it), accents off Latin letters (``José García`` is ``jose garcia``) and ``ß`` as ``ss``. The marks of
    other scripts stay (the vowel signs of Devanagari names keep different names apart). Look-alike letters of
    other scripts (a Cyrillic ``а`` in a Latin name) are not folded."""
    return (
        name.str.replace_all(SYMBOLS, " ")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Cf}+|(\p{Latin})\p{Mn}+", "${1}")  # one pass: a format run has no group 1
        .str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_all("ß", "ss", literal=True)
        .str.replace_all(r"[^\p{L}\p{M}\p{N}]+", " ")
        .str.strip_chars()
    )


# fmt: off
#: The codes a U.S. postal address writes before its ZIP: the USPS state, district, territory, freely associated
#: state and armed forces codes, and the country (input hygiene: how addresses are written, not law).
US_ADDRESS_CODES: Final = (
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH",
    "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
    "AS", "GU", "MP", "PR", "VI", "UM", "FM", "MH", "PW", "AA", "AE", "AP", "US", "USA",
)
# fmt: on
#: A U.S. ZIP or ZIP+4 in a postal code without blanks or dots, upper case: a U.S. state, territory or country
#: code (:data:`US_ADDRESS_CODES`: ``DC``, ``U.S.``, ``USA``) or the word ZIP/ZIPCODE and punctuation may stand
#: before it; then five digits (group 1), then four more or none, then anything but a digit. Another country's
#: code before five digits (``FR-75001``) is not a ZIP.
ZIP_PATTERN: Final = (
    rf"^(?:{'|'.join(sorted(US_ADDRESS_CODES, key=len, reverse=True))}|ZIPCODE|ZIP)?"
    r"\p{P}*([0-9]{5})(?:[0-9]{4})?(?:[^0-9]|$)"
)


def zip5(postal_code: pl.Expr) -> pl.Expr:
    """The five digits of a U.S. ZIP or ZIP+4 (``'20001-4321'``, ``'200014321'``, ``'20001 USA'``,
    ``'DC 20001'``, ``'D.C. 20001'``, ``'MA 02134-1234'``, ``'US-20001'``, ``'ZIP: 20001'`` → ``'20001'``:
    :data:`ZIP_PATTERN`), else the code without blanks: another country's code before five digits
    (``'FR-75001'``) whole; a six-digit code (``'110001'``) whole (cut to five, two neighbours' codes were one);
    four digits (``'2134'``) as written (which leading zero was lost is not guessed)."""
    cleaned = postal_code.str.normalize("NFKC").str.to_uppercase().str.replace_all(r"[\s\p{Cf}]", "")
    return pl.coalesce(cleaned.str.replace_all(".", "", literal=True).str.extract(ZIP_PATTERN, 1), cleaned)


def consignee_key(consignee_id: pl.Expr, name: pl.Expr, postal_code: pl.Expr) -> pl.Expr:
    """``id:<consignee_id>`` when given, else ``name:<normalised name>|<zip5>`` (DESIGN §4).

    An id that is blank or one of :data:`MISSING_ID_TOKENS` (``nan``, ``NULL``, ...) is not given."""
    given_id = given_consignee_id(consignee_id)
    by_name = pl.concat_str(
        pl.lit("name:"),
        normalised_name(name),
        pl.lit("|"),
        zip5(postal_code).fill_null(""),
        ignore_nulls=False,
    )
    return pl.when(given_id.is_not_null()).then(pl.lit("id:") + given_id).otherwise(by_name)


def given_consignee_id(consignee_id: pl.Expr) -> pl.Expr:
    """The consignee id without blanks around it; null where it is blank or one of :data:`MISSING_ID_TOKENS`."""
    stripped = consignee_id.str.strip_chars()
    return pl.when((stripped != "") & ~stripped.str.to_lowercase().is_in(MISSING_ID_TOKENS)).then(stripped)
