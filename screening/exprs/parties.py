"""Party expressions: the consignee key that decides "one person"."""

from __future__ import annotations

from typing import Final

import polars as pl

from screening.exprs.names import LATIN_LETTER_FOLDS, SYMBOLS

#: What a consignee id with a letter is compared as (:func:`given_consignee_id`): its letters and digits, in
#: capitals, after NFKC (full-width ``Ｃ００１`` is ``C001``). Blanks and punctuation are how filers write one such
#: id (``C-001``, ``c 001``, ``C.001``), not part of it; upper case keeps the key of an id written in capitals and
#: digits, the common form, as earlier versions wrote it. An id of digits only keeps its punctuation, blanks and
#: dashes read as one ``-`` (:func:`_digit_id`): the hyphens tell U.S. importer numbers apart (EIN
#: ``12-3456789``, SSN ``123-45-6789``).
ID_SEPARATORS: Final = r"[^\p{L}\p{N}]+"
#: What exports write for a consignee id they do not have, compared as ids are (:data:`ID_SEPARATORS`):
#: pandas' ``astype(str)`` writes ``nan``, ``None`` or ``<NA>`` (``NA``), SQL exports ``NULL`` or ``\N``
#: (``N``), spreadsheets ``N/A`` or ``#N/A``; filers ``unknown``, ``unk``, ``TBD`` or ``n.a.`` for an id still to
#: come. Input hygiene, not law: taken as an id, one such word made one person of every consignee without an id
#: (three people at $400 each one consignee-day over the threshold). An id with no letter or digit (``-``,
#: ``?``) or of zeros only (``0``, ``000-000``) is none either.
MISSING_ID_TOKENS: Final = ("NAN", "NONE", "NULL", "NA", "N", "UNKNOWN", "UNK", "TBD")

#: A name whose normal form (:func:`normalised_name`) is its lower case: ASCII letters and digits in words one blank
#: apart, no blank before or after.
PLAIN_NAME: Final = r"^[A-Za-z0-9]+(?: [A-Za-z0-9]+)*$"


def normalised_name(name: pl.Expr) -> pl.Expr:
    """A name folded to one spelling per person, then lower case, punctuation to blanks, runs of blanks
    collapsed: ``'anna  KELLER'`` → ``'anna keller'``.

    Symbols and superscripts (:data:`~screening.exprs.names.SYMBOLS`: ``™``, ``®``, ``²``) are blanks, before any
    folding: ``vape™`` is ``vape``, not ``vapetm``. Folded: compatibility forms (Unicode NFKC: full-width ``Ａｎｎａ`` and the ``ﬁ`` ligature are ``anna`` and
    ``fi``), invisible format characters dropped (a soft hyphen or zero-width space inside a word does not
    split it), accents off Latin letters (``José García`` is ``jose garcia``) and the Latin letters Unicode does
    not decompose as ASCII (:data:`~screening.exprs.names.LATIN_LETTER_FOLDS`: ``Łukasz`` is ``lukasz``,
    ``Søren`` ``soren``, ``Yılmaz`` ``yilmaz``, ``ß`` ``ss``, ``æ`` ``ae``). The marks of
    other scripts stay (the vowel signs of Devanagari names keep different names apart). Look-alike letters of
    other scripts (a Cyrillic ``а`` in a Latin name) are not folded."""
    # Most names are ASCII words single-spaced already (``Anna Keller``): their normal form is their lower case.
    # Only the others take the folding steps (every branch of a when/then is computed for every row, so the plain
    # names are set aside first: nulls cost nothing).
    plain = name.str.contains(PLAIN_NAME)
    folded = folded_name(pl.when(~plain).then(name))
    return pl.when(plain).then(name.str.to_lowercase()).otherwise(folded)


def folded_name(name: pl.Expr) -> pl.Expr:
    """:func:`normalised_name` by its folding steps alone, for every name (:func:`normalised_name` skips them for a
    :data:`PLAIN_NAME`, whose normal form is its lower case)."""
    return (
        name.str.replace_all(SYMBOLS, " ")
        .str.normalize("NFKD")
        .str.replace_all(r"\p{Cf}+|(\p{Latin})\p{Mn}+", "${1}")  # one pass: a format run has no group 1
        .str.normalize("NFC")
        .str.to_lowercase()
        .str.replace_many(LATIN_LETTER_FOLDS)
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

#: A ZIP or ZIP+4 as most manifests write it (``20001``, ``200014321``, ``20001-4321``): its ZIP is its first five
#: characters (:func:`zip5`).
PLAIN_ZIP: Final = r"^[0-9]{5}(?:-?[0-9]{4})?$"


def zip5(postal_code: pl.Expr) -> pl.Expr:
    """The five digits of a U.S. ZIP or ZIP+4 (``'20001-4321'``, ``'200014321'``, ``'20001 USA'``,
    ``'DC 20001'``, ``'D.C. 20001'``, ``'MA 02134-1234'``, ``'US-20001'``, ``'ZIP: 20001'`` → ``'20001'``:
    :data:`ZIP_PATTERN`), else the code without blanks: another country's code before five digits
    (``'FR-75001'``) whole; a six-digit code (``'110001'``) whole (cut to five, two neighbours' codes were one);
    four digits (``'2134'``) as written (which leading zero was lost is not guessed). A code as the manifest reader
    gives it: a whole number written as a decimal (``'2134.0'``) is its digits already (:func:`padded_code`)."""
    # Most codes are a ZIP or ZIP+4 written plainly (``20001``, ``20001-4321``): their first five characters. Only
    # the others are cleaned and matched (set aside first: the branches of a when/then are computed for every row).
    plain = postal_code.str.contains(PLAIN_ZIP)
    matched = matched_zip(pl.when(~plain).then(postal_code))
    return pl.when(plain).then(postal_code.str.slice(0, 5)).otherwise(matched)


def matched_zip(postal_code: pl.Expr) -> pl.Expr:
    """:func:`zip5` by cleaning and :data:`ZIP_PATTERN` alone, for every code (:func:`zip5` skips them for a
    :data:`PLAIN_ZIP`)."""
    cleaned = postal_code.str.normalize("NFKC").str.to_uppercase().str.replace_all(r"[\s\p{Cf}]", "")
    return pl.coalesce(cleaned.str.replace_all(".", "", literal=True).str.extract(ZIP_PATTERN, 1), cleaned)


def padded_code(code: pl.Expr, width: int, *, pad_short: bool = False) -> pl.Expr:
    """A code given as text (trimmed), read as an integer column's code is: a whole number written as a decimal
    (``'2134.0'``, what a float column saved as text holds) is that number, with the leading zeros of a
    ``width``-digit code back where it is below ``10**width`` (``'02134'``; ``'110001.0'`` is ``'110001'``);
    with ``pad_short``, so is text of fewer than ``width`` digits (port ``'101'`` is ``'0101'``). Other text is
    returned as it is. Done before any dot is dropped: ``'2134.0'`` read as ``'21340'`` was another ZIP."""
    digits = code.str.extract(r"^([0-9]+)\.0+$", 1)
    if pad_short:
        digits = pl.coalesce(digits, code.str.extract(rf"^([0-9]{{1,{width - 1}}})$", 1))
    number = digits.str.strip_chars_start("0")
    number = pl.when(number == "").then(pl.lit("0")).otherwise(number)
    padded = pl.when(number.str.len_chars() <= width).then(number.str.zfill(width)).otherwise(number)
    return pl.when(digits.is_not_null()).then(padded).otherwise(code)


#: A U.S. ZIP+4 held as a number loses its ZIP's leading zero: eight digits (``21341234``) are ``02134-1234``.
ZIP_PLUS4_WITHOUT_ZERO: Final = r"^[0-9]{8}$"


def zip_plus4_padded(postal_code: pl.Expr) -> pl.Expr:
    """A postal code of eight digits (as an integer or a whole float writes it, or as text: ``21341234``) as the
    ZIP+4 whose leading zero a number dropped, nine digits (``021341234``: ZIP 02134); other codes as they are.
    Read after :func:`padded_code` (``21341234.0`` is ``21341234`` there)."""
    return (
        pl.when(postal_code.str.contains(ZIP_PLUS4_WITHOUT_ZERO))
        .then(pl.lit("0") + postal_code)
        .otherwise(postal_code)
    )


#: The columns :func:`consignee_key_inputs` computes and :func:`consignee_key_of_inputs` reads: the consignee id as
#: compared, the name's normal form and the ZIP.
KEY_INPUT_ID: Final = "__key_id"
KEY_INPUT_NAME: Final = "__key_name"
KEY_INPUT_ZIP: Final = "__key_zip"


def consignee_key(
    consignee_id: pl.Expr, name: pl.Expr, postal_code: pl.Expr, *, package_id: pl.Expr
) -> pl.Expr:
    """``id:<consignee id>`` when given (as :func:`given_consignee_id` reads it: ``C-001`` and ``c001`` are
    ``id:C001``), else ``name:<normalised name>|<zip5>`` (DESIGN §4). A name that names no one (no letter or
    digit, or a word for none: :func:`is_no_name`) is the empty name: every such package at one ZIP is one
    consignee (``name:|20001``: ``N/A`` and ``nan`` at one address add up, as a split shipment would); with no
    ZIP either, the package is a consignee of its own, ``package:<package id>`` (three strangers named ``nan``
    nationwide were one consignee-day over the threshold).

    One expression, for a few rows; over many, :func:`consignee_key_inputs` then :func:`consignee_key_of_inputs`
    compute each input once (here the name's normal form is computed where each use of it needs it)."""
    given_id, normal, zip_code = _key_inputs(consignee_id, name, postal_code)
    return _key_of(given_id, normal, zip_code, package_id)


def consignee_key_inputs(consignee_id: pl.Expr, name: pl.Expr, postal_code: pl.Expr) -> list[pl.Expr]:
    """The inputs of :func:`consignee_key` as columns (:data:`KEY_INPUT_ID`, :data:`KEY_INPUT_NAME`,
    :data:`KEY_INPUT_ZIP`), each computed once; :func:`consignee_key_of_inputs` makes the key of them."""
    given_id, normal, zip_code = _key_inputs(consignee_id, name, postal_code)
    return [given_id.alias(KEY_INPUT_ID), normal.alias(KEY_INPUT_NAME), zip_code.alias(KEY_INPUT_ZIP)]


def consignee_key_of_inputs(package_id: pl.Expr) -> pl.Expr:
    """:func:`consignee_key` of the columns of :func:`consignee_key_inputs`."""
    return _key_of(pl.col(KEY_INPUT_ID), pl.col(KEY_INPUT_NAME), pl.col(KEY_INPUT_ZIP), package_id)


def _key_inputs(
    consignee_id: pl.Expr, name: pl.Expr, postal_code: pl.Expr
) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """The consignee id as compared, the name's normal form and the ZIP ("" for none)."""
    return (
        given_consignee_id(consignee_id),
        normalised_name(name),
        zip5(given_postal_code(postal_code)).fill_null(""),
    )


def _key_of(given_id: pl.Expr, normal: pl.Expr, zip_code: pl.Expr, package_id: pl.Expr) -> pl.Expr:
    """The consignee key of its inputs (:func:`_key_inputs`)."""
    no_name = is_no_name(normal)
    by_name = pl.concat_str(
        pl.lit("name:"),
        pl.when(no_name).then(pl.lit("")).otherwise(normal),
        pl.lit("|"),
        zip_code,
        ignore_nulls=False,
    )
    return (
        pl.when(given_id.is_not_null())
        .then(pl.lit("id:") + given_id)
        .when(no_name & (zip_code == ""))
        .then(pl.lit("package:") + package_id)
        .otherwise(by_name)
    )


#: The longest of :data:`MISSING_ID_TOKENS` (``UNKNOWN``): a longer name is not one of them.
_LONGEST_TOKEN = max(len(token) for token in MISSING_ID_TOKENS)


def is_no_name(normal: pl.Expr) -> pl.Expr:
    """Whether a party name in its normal form (:func:`normalised_name`, or
    :func:`~screening.exprs.names.normalise_name`) names no one: empty (the name had no letter or digit: ``-``,
    ``?``) or a word for none as an id is (:data:`MISSING_ID_TOKENS`, any case, blanks aside: ``nan``, ``NULL``,
    ``\\N``, ``<NA>``, ``N/A``, ``unknown``). False for null (no name given is a reject, not a key)."""
    # Only short names can be such a word: the others are set aside first (nulls cost nothing).
    short = pl.when(normal.str.len_bytes() <= _LONGEST_TOKEN).then(normal)
    compact = short.str.replace_all(" ", "", literal=True).str.to_uppercase()
    return ((normal == "") | compact.is_in(MISSING_ID_TOKENS)).fill_null(False)


def given_consignee_id(consignee_id: pl.Expr) -> pl.Expr:
    """The consignee id as ids are compared: an id with a letter by its letters and digits in capitals, an id of
    digits by its digits and punctuation (:data:`ID_SEPARATORS`); null where it has no letter or digit, is zeros
    only, or is one of :data:`MISSING_ID_TOKENS` (``nan``, ``N/A``, ...)."""
    # Most ids are written so already (capitals and digits): only the others are normalised (every branch of a
    # when/then is computed for every row, so the others' text is set aside first: nulls cost nothing).
    written_so = consignee_id.str.contains(r"^[0-9A-Z]+$")
    folded = pl.when(~written_so).then(consignee_id).str.normalize("NFKC").str.to_uppercase()
    letters_digits = folded.str.replace_all(ID_SEPARATORS, "")
    compact = (
        pl.when(written_so)
        .then(consignee_id)
        .when(letters_digits.str.contains(r"\p{L}"))
        .then(letters_digits)
        .otherwise(_digit_id(folded))
    )
    bare = pl.when(written_so).then(consignee_id).otherwise(letters_digits)
    missing = bare.str.contains(r"^0*$") | bare.is_in(MISSING_ID_TOKENS)
    return pl.when(~missing).then(compact)


def given_postal_code(postal_code: pl.Expr) -> pl.Expr:
    """The consignee's postal code, null where it is a placeholder as an id is (no letter or digit, or one of
    :data:`MISSING_ID_TOKENS`: ``N/A``, ``nan``, ``-``): an export's word for a missing ZIP split one person into
    several (``ann|``, ``ann|N/A``, ``ann|NAN``). Zeros stay a code (``00000-1234`` reads as ``00000``)."""
    # A code with a digit holds no placeholder word: only the others (few) are folded and compared.
    others = pl.when(~postal_code.str.contains(r"[0-9]")).then(postal_code)
    compact = others.str.normalize("NFKC").str.to_uppercase().str.replace_all(ID_SEPARATORS, "")
    placeholder = (compact == "") | compact.is_in(MISSING_ID_TOKENS)
    return pl.when(~placeholder.fill_null(False)).then(postal_code)


def _digit_id(folded: pl.Expr) -> pl.Expr:
    """An id of digits (NFKC, trimmed) as compared: a whole number written as a decimal (``123456789.0``, what a
    float column of ids holds) is its digits; runs of blanks and dashes (an en dash or a non-breaking hyphen
    as Word writes it) are one ``-``, so ``12 3456789``, ``12 - 3456789`` and ``12–3456789`` are ``12-3456789``
    while ``123-45-6789`` stays another id; other punctuation is kept."""
    text = folded.str.strip_chars()
    whole = text.str.extract(r"^([0-9]+)\.0+$", 1)
    dashed = text.str.replace_all(r"[\s\p{Cf}\p{Pd}\x{2212}]+", "-").str.strip_chars("-")
    return pl.coalesce(whole, dashed)


def history_key(key: pl.Expr) -> pl.Expr:
    """A consignee key of an earlier run's output as this version keys the same consignee: an id key's id
    read by :func:`given_consignee_id` (``id:C-001`` is ``id:C001``), a name key's ZIP written as a decimal
    by :func:`padded_code` (``name:ann|20001.0`` is ``name:ann|20001``), a ZIP+4 of eight digits by
    :func:`zip_plus4_padded` (``name:ann|21341234`` is ``name:ann|02134``), a name key's letters folded as
    :data:`~screening.exprs.names.LATIN_LETTER_FOLDS` folds them (``name:søren|`` is ``name:soren|``). A key
    that cannot be read again stays as it is: a pseudonym, a placeholder id (``id:-``, whose consignee is not
    known), a placeholder name without a ZIP (``name:nan|``, now the package's own key: it matches no one) or
    a ZIP whose decimal point was dropped (``2134.0`` was keyed ``21340``). A placeholder name with a ZIP is the
    empty name (``name:nan|20001`` is ``name:|20001``, as :func:`consignee_key` keys it)."""
    # A name key of an earlier version may hold letters now folded (``name:łukasz|``: ``name:lukasz|``).
    key = pl.when(key.str.starts_with("name:")).then(key.str.replace_many(LATIN_LETTER_FOLDS)).otherwise(key)
    placeholder_name = is_no_name(key.str.extract(r"^name:([^|]*)\|.", 1))
    key = pl.when(placeholder_name).then(key.str.replace(r"^name:[^|]*", "name:")).otherwise(key)
    old_id = given_consignee_id(key.str.strip_prefix("id:"))
    zip_code = key.str.extract(r"^name:[^|]*\|([0-9]+\.0+|[0-9]{8})$", 1)
    name_part = key.str.extract(r"^(name:[^|]*\|)", 1)
    by_name = name_part + zip5(zip_plus4_padded(padded_code(zip_code, 5)))
    # A placeholder ZIP (``name:ann|N/A``) was keyed as written: now it is none (``name:ann|``).
    old_zip = key.str.extract(r"^name:[^|]*\|(.+)$", 1)
    placeholder_zip = old_zip.is_not_null() & given_postal_code(old_zip).is_null()
    return (
        pl.when(key.str.starts_with("id:") & old_id.is_not_null())
        .then(pl.lit("id:") + old_id)
        .when(zip_code.is_not_null())
        .then(by_name)
        .when(placeholder_zip)
        .then(name_part)
        .otherwise(key)
    )
