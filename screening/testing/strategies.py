"""Hypothesis strategies: SYNTHETIC manifests (valid and deliberately broken lines) and small rule packs.

Everything drawn here is invented. Manifests come as polars frames of text
columns (as a CSV would be read) with every canonical column, and look like a
day's express, postal and cargo traffic: many packages to few consignees (the
same person spelt several ways), values around the de minimis threshold, and
arrival dates around the bundled U.S. pack's rule changes, a person's packages
often meeting on one day. Ids, quantities and weights come as exports write them
when they have none: placeholder ids (``nan``, ``NULL``, ``N/A``) and zeros.
Every knob has a keyword argument, so tests can draw HTS codes and dates from
the pack they use.

This module depends only on :mod:`screening.schema` and :mod:`screening.errors`
(and Hypothesis and polars): it never loads a pack or runs the engine.

Example::

    from hypothesis import given
    from screening.testing import manifests

    @given(manifests(max_packages=8))
    def test_something(frame): ...
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal

import polars as pl
from hypothesis import strategies as st

from screening.errors import RejectCode
from screening.schema import MANIFEST_COLUMNS, MODES, REQUIRED_COLUMNS
from screening.testing.boundaries import bundled_rule_change_dates

#: A manifest row: every canonical column, as text (None for an empty cell).
Row = dict[str, str | None]

#: The canonical columns, in schema order: the columns of every frame drawn here.
COLUMNS: Final[tuple[str, ...]] = tuple(c.name for c in MANIFEST_COLUMNS)

# fmt: off
#: 10-digit HTS codes whose tariff lines are in the bundled U.S. pack (apparel, phones, toys, jewellery, a
#: wine under an excise exclusion with a specific rate per liter, honey with a specific rate per kg and an
#: AD/CVD order from CN), plus one it lacks (live horses: no tariff line).
DEFAULT_HTS_CODES: Final[tuple[str, ...]] = (
    "6109100012", "6110202075", "6403999065", "8517130000", "8518301000", "9503000073", "7113115000",
    "3304100000", "4202221500", "0902101050", "2204215015", "0409000035", "0101210010",
)
#: Currencies of the bundled pack (USD most often, as in real manifests).
DEFAULT_CURRENCIES: Final[tuple[str, ...]] = ("USD", "USD", "USD", "EUR", "CNY", "GBP", "JPY", "CAD")
#: Origins: CN-led, with HK, Europe, Asia and the USMCA partners.
DEFAULT_ORIGINS: Final[tuple[str, ...]] = ("CN", "CN", "CN", "HK", "DE", "GB", "JP", "VN", "CA", "MX")
#: Declared values on and around the $800 threshold, the $250 informal-entry limit for Chapter 99 articles
#: and the $2,500 informal-entry limit.
BOUNDARY_VALUES: Final[tuple[str, ...]] = (
    "0", "0.00", "0.01", "1", "99.99", "249.99", "250.00", "250.01", "266.67", "399.99", "400.00", "799.99",
    "800", "800.00", "800.01", "1600.00", "2499.99", "2500.00", "2500.01",
)
#: The informal-entry limits :func:`de_minimis_packs` draws (the bundled pack's $2,500 and two others).
INFORMAL_LIMITS: Final[tuple[Decimal, ...]] = (Decimal("2500.00"), Decimal("1000.00"), Decimal("250.00"))
#: The lower limits for Chapter 99 articles :func:`de_minimis_packs` draws (the bundled pack's $250 and two others).
CHAPTER99_LIMITS: Final[tuple[Decimal, ...]] = (Decimal("250.00"), Decimal("100.00"), Decimal("0.00"))
#: What exports write in a ``consignee_id`` cell they have no id for (pandas' ``nan``, ``None`` and ``<NA>``,
#: SQL's ``NULL`` and ``\N``, spreadsheets' ``N/A`` and ``#N/A``, filers' ``unknown``, ``TBD``, ``-`` and ``0``,
#: blanks): no id, so the name and ZIP say who the consignee is (README, "consignee_id").
PLACEHOLDER_IDS: Final[tuple[str, ...]] = (
    "nan", "NaN", "None", "<NA>", "NULL", "null", "\\N", "N/A", "n/a", "#N/A", "", "  ",
    "-", "--", "0", "000", "unknown", "UNK", "TBD", "n.a.",
)
#: README: an id whose letters and digits are one of these words is none (``N`` is SQL's ``\N``).
_NO_ID_WORDS: Final = frozenset({"NAN", "NONE", "NULL", "NA", "N", "UNKNOWN", "UNK", "TBD"})
#: Quantities and gross weights: mostly counts and kilograms, sometimes none, sometimes 0 (which exports
#: write for "unknown": a specific rate on it is ``needs-quantity``, not $0.00).
QUANTITIES: Final[tuple[str | None, ...]] = (None, "1", "1", "2", "3", "0.5", "0", "0.000")
WEIGHTS: Final[tuple[str | None, ...]] = (None, "0.2", "1.5", "4", "0", "0.0")
_FIRST: Final = ("Anna", "Ben", "Carla", "Dmitri", "Elif", "Farid", "Greta", "Hiro", "Ines", "Jonas")
_LAST: Final = ("Keller", "Brandt", "Okafor", "Lindqvist", "Nakamura", "Ibarra", "Petrov", "Moreau")
_STREETS: Final = ("Maple St", "Oak Ave", "Cedar Rd", "Pine Ln", "Elm Dr", "Willow Way")
_SHIPPERS: Final = (
    "Shenzhen Yixin Trading Co., Ltd", "Kowloon Supply Limited", "Nordlicht Versand GmbH",
    "Thameside Goods Ltd", "Sakurada Shoji K.K.", "Bluepeak Export Ltd",
)
_DESCRIPTIONS: Final = (
    "cotton t-shirt", "knitted sweater", "leather boots", "smartphone", "bluetooth earphones",
    "plush toy", "silver necklace", "face cream", "handbag", "green tea", "red wine", "honey", "gift", "parts",
)
_CARRIERS: Final = {"express": ("DHL", "FDX", "UPS"), "postal": ("USPS",), "cargo": ("CX", "LH", "5Y")}
_PORTS: Final = ("4701", "2720", "3901", "5206", "1704")
# fmt: on

#: One way to break a row: the field, the reject code it must get, and values that break it.
Breakage = tuple[str, RejectCode, tuple[str | None, ...]]

#: Every way :func:`broken_rows` breaks a row (plus a date before the pack's coverage). With every other
#: field valid, the code is the first failing check (README, "Codes").
BREAKAGES: Final[tuple[Breakage, ...]] = (
    *((name, RejectCode.MISSING_FIELD, (None, "", "   ")) for name in REQUIRED_COLUMNS),
    (
        "arrival_date",
        RejectCode.INVALID_DATE,
        ("2025-02-30", "2025-13-01", "03/10/2025", "2025/03/10", "10.03.2025", "20250310", "yesterday"),
    ),
    ("line_no", RejectCode.INVALID_NUMBER, ("1.5", "abc", "0", "-1")),
    ("quantity", RejectCode.INVALID_NUMBER, ("-1", "abc", "inf", "NaN")),
    ("gross_weight_kg", RejectCode.INVALID_NUMBER, ("-0.5", "heavy")),
    ("usmca_claim", RejectCode.INVALID_FLAG, ("maybe", "2", "si")),
    ("gift", RejectCode.INVALID_FLAG, ("perhaps", "-1")),
    ("part_values", RejectCode.INVALID_PART_VALUES, ("case", "case=abc", "=5", "case=1,5", "case=-2")),
    ("mode", RejectCode.INVALID_MODE, ("sea", "air", "rail", "courier", "EXP")),
    ("country_of_origin", RejectCode.UNKNOWN_COUNTRY, ("XX", "UK", "DEU", "D", "12")),
    ("shipper_country", RejectCode.UNKNOWN_COUNTRY, ("ZZ", "EU")),
    ("country_of_export", RejectCode.UNKNOWN_COUNTRY, ("QQ", "CHN")),
    (
        "hts_code",
        RejectCode.INVALID_HTS,
        ("6109", "61091", "6109.1O.00", "ABCDEFGHIJ", "61091000123", "6109-10"),
    ),
    ("declared_value", RejectCode.NON_FINITE_VALUE, ("NaN", "nan", "inf", "-inf")),
    (
        "declared_value",
        RejectCode.INVALID_VALUE,
        ("1,234.50", "$12.00", "12 USD", "12.00€", "twelve", "1e300", "10000000000000"),
    ),
    ("declared_value", RejectCode.NEGATIVE_VALUE, ("-0.01", "-5", "-800.00")),
    ("currency", RejectCode.UNKNOWN_CURRENCY, ("ZZZ", "XYZ", "US$", "DOLLAR")),
)


def id_letters_and_digits(consignee_id: str) -> str:
    """An id with a letter as README compares such ids: its letters and digits (after NFKC), in capitals
    (``c-001`` is ``C001``). The ids drawn here all have one (an id of digits keeps its punctuation)."""
    text = unicodedata.normalize("NFKC", consignee_id)
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN").upper()


def is_placeholder_id(consignee_id: str | None) -> bool:
    """Whether a ``consignee_id`` cell gives no id (README): empty, no letter or digit, zeros only, or a word
    for none (:data:`PLACEHOLDER_IDS` are such cells)."""
    if consignee_id is None:
        return True
    compact = id_letters_and_digits(consignee_id)
    return not compact.strip("0") or compact in _NO_ID_WORDS


@dataclass(frozen=True)
class Person:
    """An invented consignee: name, ZIP and (sometimes) a filer's stable id, or a placeholder for none."""

    name: str
    zip5: str
    consignee_id: str | None
    street: str

    @property
    def key(self) -> str:
        """Who this is, as the README defines one person: the filer's id, else (no id, or a placeholder such as
        ``nan``) the name and ZIP (however a filer spells them)."""
        if self.consignee_id is None or is_placeholder_id(self.consignee_id):
            return f"name:{self.name}|{self.zip5}"
        return f"id:{id_letters_and_digits(self.consignee_id)}"


@dataclass(frozen=True)
class BrokenRow:
    """A manifest row broken in one field, with the reject the engine must give it."""

    row: Row
    field: str
    code: RejectCode


@dataclass(frozen=True)
class RowLabel:
    """What must become of one row of a :class:`LabelledManifest`.

    ``valid`` rows end in ``lines`` (or, for a currency without a rate near the date, in rejects as
    ``missing-fx-rate``); ``broken`` rows in rejects with ``code`` for ``field``; ``duplicate`` rows are
    exact copies of an earlier valid row and end in rejects as ``duplicate-line``.
    """

    kind: Literal["valid", "broken", "duplicate"]
    code: RejectCode | None = None
    field: str | None = None
    #: A valid row's consignee (:attr:`Person.key`), for oracles that total a person's day themselves.
    consignee: str | None = None


@dataclass(frozen=True)
class LabelledManifest:
    """A drawn manifest frame and, row by row, what must become of each row."""

    frame: pl.DataFrame
    labels: tuple[RowLabel, ...]

    @property
    def valid_rows(self) -> list[int]:
        """1-based rows of valid lines (the ``row`` column of the outputs)."""
        return [i for i, label in enumerate(self.labels, start=1) if label.kind == "valid"]


def to_frame(rows: Sequence[Row]) -> pl.DataFrame:
    """Rows as a frame of text columns in canonical order (an empty frame keeps the columns)."""
    return pl.DataFrame(
        {name: [row.get(name) for row in rows] for name in COLUMNS},
        schema=dict.fromkeys(COLUMNS, pl.String()),
    )


# --- Building blocks -----------------------------------------------------------------------------------------


def declared_values(*, max_value: int = 3000) -> st.SearchStrategy[str]:
    """Plain decimal text: boundary values ($800, $2,500 and neighbours), cents and whole dollars."""
    cents = st.decimals(min_value=0, max_value=max_value, places=2, allow_nan=False, allow_infinity=False)
    return st.one_of(
        st.sampled_from(BOUNDARY_VALUES),
        cents.map(lambda d: f"{d:.2f}"),
        st.integers(min_value=0, max_value=min(max_value, 900)).map(str),
    )


def persons(*, with_ids: bool = True, placeholders: bool = True) -> st.SearchStrategy[Person]:
    """An invented consignee. About a third carry a ``consignee_id`` (none unless ``with_ids``); about one in
    six (unless ``placeholders`` is false) writes one of :data:`PLACEHOLDER_IDS` in its place, which is no id."""
    real_id = st.integers(1, 10**6).map(lambda n: f"C{n:09d}")
    no_id = st.one_of(st.none(), st.sampled_from(PLACEHOLDER_IDS)) if placeholders else st.none()
    return st.builds(
        Person,
        name=st.tuples(st.sampled_from(_FIRST), st.sampled_from(_LAST)).map(" ".join),
        zip5=st.integers(min_value=1001, max_value=99950).map(lambda n: f"{n:05d}"),
        consignee_id=(st.one_of(st.none(), no_id, real_id) if with_ids else no_id),
        street=st.tuples(st.integers(1, 999), st.sampled_from(_STREETS)).map(lambda t: f"{t[0]} {t[1]}"),
    )


def _spelling(draw: st.DrawFn, person: Person, messy: bool) -> tuple[str, str]:
    """The person's name and ZIP as one filer might write them (all variants are the same person)."""
    if not messy:
        return person.name, person.zip5
    first, last = person.name.split(" ", 1)
    name = draw(
        st.sampled_from(
            (
                person.name,
                person.name,
                f"{first.lower()}  {last.upper()}",
                person.name.upper(),
                f"{person.name}.",
                f" {first}  {last} ",
                f"{first}-{last}",
            )
        )
    )
    plus4 = draw(st.integers(min_value=1, max_value=9999))
    # A float column saved as text writes the ZIP as a decimal without its leading zero (02134 as 2134.0); an
    # integer column a ZIP+4 without it (02134-1234 as 21341234).
    postal = draw(
        st.sampled_from(
            (
                person.zip5,
                person.zip5,
                f"{person.zip5}-{plus4:04d}",
                f"{int(person.zip5)}.0",
                str(int(f"{person.zip5}{plus4:04d}")),
            )
        )
    )
    return name, postal


def _variant(draw: st.DrawFn, text: str, messy: bool, *, lower: bool = True) -> str:
    """``text`` as written by a careless filer: lower case or padded (normalisation undoes both)."""
    if not messy:
        return text
    options = [text, text, f" {text} "] + ([text.lower()] if lower else [])
    return draw(st.sampled_from(options))


def _consignee_id(draw: st.DrawFn, person: Person, messy: bool) -> str | None:
    """The person's id, sometimes in lower case, padded or with punctuation (``c-000000123``: the same id);
    for a person without one, sometimes another way of writing none (a blank, ``nan``, ``NULL``, ``-``, ...:
    the same person, keyed by name and ZIP)."""
    given = person.consignee_id
    if not messy:
        return given
    if given is None or is_placeholder_id(given):
        return draw(st.one_of(st.just(given), st.sampled_from((None, *PLACEHOLDER_IDS))))
    return draw(st.sampled_from((given, given, given.lower(), f"{given[:1]}-{given[1:]}", f" {given} ")))


def _port_text(draw: st.DrawFn, port: str | None, messy: bool) -> str | None:
    """A 4-digit port code as written, sometimes as a float column saved as text writes it (``2720.0``)."""
    if not messy or port is None:
        return port
    return draw(st.sampled_from((port, port, f"{int(port)}.0")))


def _hts_text(draw: st.DrawFn, code: str, messy: bool) -> str:
    """A 10-digit code as 10, 8 or 6 digits, plain or dotted (``6109.10.00.12``)."""
    # Mostly the full code; sometimes 8 digits; rarely 6 (which no tariff line of a pack matches).
    digits = draw(st.sampled_from((code, code, code, code, code[:8], code[:8], code[:6]))) if messy else code
    if not messy:
        return digits
    groups = [digits[:4], digits[4:6], digits[6:8], digits[8:10]]
    dotted = ".".join(g for g in groups if g)
    return draw(st.sampled_from((digits, dotted, dotted)))


# --- Rows and manifests --------------------------------------------------------------------------------------


@st.composite
def _package(
    draw: st.DrawFn,
    *,
    package_id: str,
    person: Person,
    hts_codes: Sequence[str],
    days: st.SearchStrategy[dt.date],
    currencies: Sequence[str],
    origins: Sequence[str],
    modes: Sequence[str],
    max_lines: int,
    messy: bool,
    values: st.SearchStrategy[str] | None = None,
) -> list[Row]:
    """The lines of one package: one arrival date (from ``days``), mode, origin, currency and consignee."""
    day = draw(days)
    mode = draw(st.sampled_from(modes))
    origin = draw(st.sampled_from(origins))
    currency = draw(st.sampled_from(currencies))
    carrier = draw(st.one_of(st.none(), st.sampled_from(_CARRIERS.get(mode, ("DHL",)))))
    port = draw(st.one_of(st.none(), st.sampled_from(_PORTS)))
    shipper = draw(st.sampled_from(_SHIPPERS))
    usmca = (
        draw(st.sampled_from((None, None, "false", "true", "yes", "0"))) if origin in ("CA", "MX") else None
    )
    count = draw(st.integers(min_value=1, max_value=max_lines))
    numbers = draw(st.permutations(range(1, count + 1))) if messy else list(range(1, count + 1))
    rows: list[Row] = []
    for line_no in numbers:
        name, postal = _spelling(draw, person, messy)
        rows.append(
            {
                "package_id": package_id,
                "line_no": str(line_no),
                "arrival_date": _variant(draw, day.isoformat(), messy, lower=False),
                "mode": draw(st.sampled_from((mode, mode.upper(), mode.title()))) if messy else mode,
                "carrier": carrier,
                "port_of_entry": _port_text(draw, port, messy),
                "shipper_name": shipper,
                "shipper_country": draw(st.sampled_from((origin, None))),
                "consignee_id": _consignee_id(draw, person, messy),
                "consignee_name": name,
                "consignee_address": draw(st.sampled_from((person.street, None))),
                "consignee_postal_code": postal,
                "country_of_origin": _variant(draw, origin, messy),
                "country_of_export": draw(st.sampled_from((origin, None))),
                "hts_code": _hts_text(draw, draw(st.sampled_from(hts_codes)), messy),
                "description": draw(st.sampled_from(_DESCRIPTIONS)),
                "quantity": draw(st.sampled_from(QUANTITIES)),
                "declared_value": draw(declared_values() if values is None else values),
                "currency": _variant(draw, currency, messy),
                "gross_weight_kg": draw(st.sampled_from(WEIGHTS)),
                "usmca_claim": usmca,
                "gift": draw(st.sampled_from((None, None, "false", "no"))),
            }
        )
    return rows


def manifest_rows(
    *,
    hts_codes: Sequence[str] = DEFAULT_HTS_CODES,
    dates: Sequence[dt.date] | None = None,
    currencies: Sequence[str] = DEFAULT_CURRENCIES,
    origins: Sequence[str] = DEFAULT_ORIGINS,
    modes: Sequence[str] = MODES,
    messy: bool = True,
) -> st.SearchStrategy[Row]:
    """One valid manifest row (every canonical column, as text).

    ``messy`` draws harmless variants the engine must normalise: upper- or lower-case codes and modes,
    padding, dotted and shortened HTS codes, ZIP+4 and the consignee's name spelt several ways.
    """
    return st.builds(
        lambda person, pid: (person, pid),
        persons(),
        st.integers(0, 99_999).map(lambda n: f"PKG{n:05d}"),
    ).flatmap(
        lambda pair: _package(
            package_id=pair[1],
            person=pair[0],
            hts_codes=hts_codes,
            days=st.sampled_from(bundled_rule_change_dates() if dates is None else dates),
            currencies=currencies,
            origins=origins,
            modes=modes,
            max_lines=1,
            messy=messy,
        ).map(lambda rows: rows[0])
    )


@st.composite
def broken_rows(
    draw: st.DrawFn,
    *,
    valid: st.SearchStrategy[Row] | None = None,
    breakages: Sequence[Breakage] = BREAKAGES,
    before_coverage: dt.date | None = dt.date(2016, 3, 9),
) -> BrokenRow:
    """A valid row (from ``valid``, default :func:`manifest_rows`) broken in exactly one field.

    The breakage is one of ``breakages`` (default: all of :data:`BREAKAGES`) or, unless
    ``before_coverage`` is None, a date on or before it (``date-outside-pack``). The returned
    :class:`BrokenRow` says which field broke and the reject code it must get.
    """
    row = dict(draw(valid if valid is not None else manifest_rows()))
    kinds = list(breakages)
    if before_coverage is not None:
        earlier = before_coverage.replace(year=max(1, before_coverage.year - 15))
        kinds.append(
            ("arrival_date", RejectCode.DATE_OUTSIDE_PACK, (before_coverage.isoformat(), earlier.isoformat()))
        )
    if not kinds:
        raise ValueError("no breakage to draw from")
    field, code, values = draw(st.sampled_from(kinds))
    row[field] = draw(st.sampled_from(values))
    return BrokenRow(row=row, field=field, code=code)


@st.composite
def _labelled_manifests(
    draw: st.DrawFn,
    *,
    min_packages: int,
    max_packages: int,
    max_lines: int,
    max_consignees: int,
    max_broken: int,
    max_duplicates: int,
    hts_codes: Sequence[str],
    dates: Sequence[dt.date],
    currencies: Sequence[str],
    origins: Sequence[str],
    modes: Sequence[str],
    messy: bool,
    values: st.SearchStrategy[str] | None,
    breakages: Sequence[Breakage],
) -> LabelledManifest:
    people = draw(st.lists(persons(), min_size=1, max_size=max_consignees))
    # Half of the packages arrive on one of a few busy days, so that a person's packages meet on one day (drawn
    # from all the dates, few of them would: the consignee-day totals would mostly be a single package's).
    busy = draw(st.lists(st.sampled_from(dates), min_size=1, max_size=2, unique=True))
    days = st.one_of(st.sampled_from(busy), st.sampled_from(dates))
    # Skew: the first person is drawn about half the time, so a few people get many packages.
    pick_person = st.one_of(st.just(0), st.integers(0, len(people) - 1))
    packages = draw(st.integers(min_value=min_packages, max_value=max_packages))
    rows: list[Row] = []
    labels: list[RowLabel] = []
    for index in range(packages):
        person = people[draw(pick_person)]
        lines = draw(
            _package(
                package_id=f"PKG{index + 1:05d}",
                person=person,
                hts_codes=hts_codes,
                days=days,
                currencies=currencies,
                origins=origins,
                modes=modes,
                max_lines=max_lines,
                messy=messy,
                values=values,
            )
        )
        rows += lines
        labels += [RowLabel("valid", consignee=person.key)] * len(lines)
    valid = manifest_rows(
        hts_codes=hts_codes, dates=dates, currencies=currencies, origins=origins, modes=modes, messy=messy
    )
    for n in range(draw(st.integers(min_value=0, max_value=max_broken))):
        broken = draw(broken_rows(valid=valid, breakages=breakages))
        if broken.field != "package_id":
            broken.row["package_id"] = f"BAD{n + 1:04d}"
        at = draw(st.integers(min_value=0, max_value=len(rows)))
        rows.insert(at, broken.row)
        labels.insert(at, RowLabel("broken", broken.code, broken.field))
    originals = [i for i, label in enumerate(labels) if label.kind == "valid"]
    for _ in range(draw(st.integers(min_value=0, max_value=max_duplicates)) if originals else 0):
        source = draw(st.sampled_from(originals))
        at = draw(st.integers(min_value=source + 1, max_value=len(rows)))
        rows.insert(at, dict(rows[source]))
        labels.insert(at, RowLabel("duplicate", RejectCode.DUPLICATE_LINE, "line_no"))
        originals = [i if i < at else i + 1 for i in originals]
    return LabelledManifest(frame=to_frame(rows), labels=tuple(labels))


def labelled_manifests(
    *,
    min_packages: int = 1,
    max_packages: int = 12,
    max_lines: int = 4,
    max_consignees: int = 4,
    max_broken: int = 0,
    max_duplicates: int = 0,
    hts_codes: Sequence[str] = DEFAULT_HTS_CODES,
    dates: Sequence[dt.date] | None = None,
    currencies: Sequence[str] = DEFAULT_CURRENCIES,
    origins: Sequence[str] = DEFAULT_ORIGINS,
    modes: Sequence[str] = MODES,
    messy: bool = True,
    values: st.SearchStrategy[str] | None = None,
    breakages: Sequence[Breakage] = BREAKAGES,
) -> st.SearchStrategy[LabelledManifest]:
    """Manifests with, for each row, what must become of it (see :class:`RowLabel`).

    ``dates`` default to the days the bundled pack's law changes and the days before them
    (:func:`~screening.testing.boundaries.bundled_rule_change_dates`).

    Packages have 1 to ``max_lines`` lines sharing one date, mode, origin, currency and consignee, drawn
    from at most ``max_consignees`` people (skewed: one person gets about half of the packages); about half
    of the packages arrive on one of one or two busy days of the manifest. Up to ``max_broken`` broken rows
    (:func:`broken_rows` with ``breakages``, package ids ``BADnnnn``) are inserted anywhere, and up to
    ``max_duplicates`` exact copies of earlier valid rows somewhere after their original. Declared values come
    from ``values`` (default :func:`declared_values`): a test can put them on the limits of the pack it draws.
    """
    if min_packages < 0 or max_packages < min_packages or max_lines < 1 or max_consignees < 1:
        raise ValueError("need 0 <= min_packages <= max_packages, max_lines >= 1 and max_consignees >= 1")
    if dates is None:
        dates = bundled_rule_change_dates()
    if not hts_codes or not dates or not currencies or not origins or not modes:
        raise ValueError("hts_codes, dates, currencies, origins and modes must not be empty")
    return _labelled_manifests(
        min_packages=min_packages,
        max_packages=max_packages,
        max_lines=max_lines,
        max_consignees=max_consignees,
        max_broken=max_broken,
        max_duplicates=max_duplicates,
        hts_codes=tuple(hts_codes),
        dates=tuple(dates),
        currencies=tuple(currencies),
        origins=tuple(origins),
        modes=tuple(modes),
        messy=messy,
        values=values,
        breakages=tuple(breakages),
    )


def manifests(
    *,
    min_packages: int = 1,
    max_packages: int = 12,
    max_lines: int = 4,
    max_consignees: int = 4,
    max_broken: int = 0,
    max_duplicates: int = 0,
    hts_codes: Sequence[str] = DEFAULT_HTS_CODES,
    dates: Sequence[dt.date] | None = None,
    currencies: Sequence[str] = DEFAULT_CURRENCIES,
    origins: Sequence[str] = DEFAULT_ORIGINS,
    modes: Sequence[str] = MODES,
    messy: bool = True,
    values: st.SearchStrategy[str] | None = None,
) -> st.SearchStrategy[pl.DataFrame]:
    """Manifest frames (text columns, canonical order); see :func:`labelled_manifests` for the knobs."""
    return labelled_manifests(
        min_packages=min_packages,
        max_packages=max_packages,
        max_lines=max_lines,
        max_consignees=max_consignees,
        max_broken=max_broken,
        max_duplicates=max_duplicates,
        hts_codes=hts_codes,
        dates=dates,
        currencies=currencies,
        origins=origins,
        modes=modes,
        messy=messy,
        values=values,
    ).map(lambda labelled: labelled.frame)


# --- Small rule packs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SuspensionSpec:
    """One suspension of a :class:`DeMinimisPack`: origins, modes and a half-open period."""

    id: str
    origins: tuple[str, ...]
    modes: tuple[str, ...]
    effective_from: dt.date
    effective_to: dt.date | None

    def covers(self, origin: str, mode: str, day: dt.date) -> bool:
        """Whether it suspends de minimis for ``origin`` and ``mode`` on ``day``."""
        in_period = self.effective_from <= day and (self.effective_to is None or day < self.effective_to)
        return in_period and ("*" in self.origins or origin in self.origins) and mode in self.modes


@dataclass(frozen=True)
class DeMinimisPack:
    """A small, valid ``de_minimis.toml``: one or two thresholds, a few suspensions, an informal limit and,
    sometimes, a lower informal limit for articles charged under some Chapter 99 headings (19 CFR 143.21(a)),
    in force until ``chapter99_until`` (when a second entry limit without it, or with it suspended, takes over:
    ``chapter99_end``) or throughout.

    Lay :meth:`toml` over a copy of a full pack (it replaces that pack's ``de_minimis.toml``). There are
    no never-eligible classes, so the decision follows :meth:`expected_reason` exactly.
    """

    covers_from: dt.date
    thresholds: tuple[tuple[dt.date, Decimal], ...]
    suspensions: tuple[SuspensionSpec, ...]
    informal_max_usd: Decimal
    chapter99_max_usd: Decimal | None = None
    chapter99_headings: tuple[str, ...] = ()
    chapter99_until: dt.date | None = None
    #: What becomes of the lower limit on ``chapter99_until``: ``dropped`` (an entry limit without it follows) or
    #: ``suspended`` (it stays, with ``chapter99_suspended = true``, as the U.S. pack's from 2025-04-30).
    chapter99_end: Literal["dropped", "suspended"] = "dropped"
    #: The entry limits' ``confidence`` (the U.S. pack's are ``unconfirmed``).
    entry_limit_confidence: Literal["confirmed", "unconfirmed"] = "confirmed"

    def threshold_on(self, day: dt.date) -> tuple[str, Decimal]:
        """The id and amount of the threshold in force on ``day``."""
        current = [(i, t) for i, t in enumerate(self.thresholds) if t[0] <= day]
        index, (_, amount) = current[-1]
        return f"threshold-{index + 1}", amount

    def suspension_on(self, origin: str, mode: str, day: dt.date) -> SuspensionSpec | None:
        """The suspension in force for ``origin`` and ``mode`` on ``day``, if any."""
        return next((s for s in self.suspensions if s.covers(origin, mode, day)), None)

    def expected_reason(
        self, origin: str, mode: str, day: dt.date, day_total_usd: Decimal
    ) -> tuple[str, str]:
        """A line's own reason code and rule id: suspended, over the threshold, or eligible."""
        suspension = self.suspension_on(origin, mode, day)
        if suspension is not None:
            return "dm-suspended-origin", suspension.id
        rule, amount = self.threshold_on(day)
        return ("dm-over-threshold" if day_total_usd > amount else "dm-eligible"), rule

    def boundaries(self) -> tuple[dt.date, ...]:
        """Every date on which something in this file starts or ends."""
        days = {self.covers_from, *(d for d, _ in self.thresholds)}
        if self.chapter99_until is not None:
            days.add(self.chapter99_until)
        for s in self.suspensions:
            days.add(s.effective_from)
            if s.effective_to is not None:
                days.add(s.effective_to)
        return tuple(sorted(days))

    def toml(self) -> str:
        """The file's text."""
        cite = 'citation = { instrument = "Synthetic rule for property tests" }\n'
        parts = ["# SYNTHETIC de minimis rules drawn by screening.testing.strategies.\n"]
        for index, (start, amount) in enumerate(self.thresholds):
            end = self.thresholds[index + 1][0] if index + 1 < len(self.thresholds) else None
            parts.append(
                f'[[thresholds]]\nid = "threshold-{index + 1}"\namount_usd = "{amount:.2f}"\n'
                f"effective_from = {start.isoformat()}\n"
                + (f"effective_to = {end.isoformat()}\n" if end else "")
                + cite
            )
        for s in self.suspensions:
            origins = ", ".join(f'"{o}"' for o in s.origins)
            modes = ", ".join(f'"{m}"' for m in s.modes)
            parts.append(
                f'[[suspensions]]\nid = "{s.id}"\norigins = [{origins}]\nmodes = [{modes}]\n'
                f'reason = "dm-suspended-origin"\neffective_from = {s.effective_from.isoformat()}\n'
                + (f"effective_to = {s.effective_to.isoformat()}\n" if s.effective_to else "")
                + cite
            )
        informal = f'informal_max_usd = "{self.informal_max_usd:.2f}"\n'
        if self.entry_limit_confidence != "confirmed":
            informal += f'confidence = "{self.entry_limit_confidence}"\n'
        if self.chapter99_max_usd is None:
            parts.append(
                f'[[entry_limits]]\nid = "informal-limit"\n{informal}'
                f"effective_from = {self.covers_from.isoformat()}\n" + cite
            )
            return "\n".join(parts)
        headings = ", ".join(f'"{h}"' for h in self.chapter99_headings)
        clause = f'chapter99_max_usd = "{self.chapter99_max_usd:.2f}"\nchapter99_headings = [{headings}]\n'
        until = self.chapter99_until
        parts.append(
            f'[[entry_limits]]\nid = "informal-limit-chapter99"\n{informal}{clause}'
            f"effective_from = {self.covers_from.isoformat()}\n"
            + (f"effective_to = {until.isoformat()}\n" if until else "")
            + cite
        )
        if until is not None and self.chapter99_end == "suspended":
            parts.append(
                f'[[entry_limits]]\nid = "informal-limit-chapter99-clause-suspended"\n{informal}{clause}'
                f"chapter99_suspended = true\neffective_from = {until.isoformat()}\n" + cite
            )
        elif until is not None:
            parts.append(
                f'[[entry_limits]]\nid = "informal-limit-chapter99-suspended"\n{informal}'
                f"effective_from = {until.isoformat()}\n" + cite
            )
        return "\n".join(parts)


@st.composite
def de_minimis_packs(
    draw: st.DrawFn,
    *,
    covers_from: dt.date = dt.date(2016, 3, 10),
    window: tuple[dt.date, dt.date] = (dt.date(2025, 1, 1), dt.date(2026, 12, 31)),
    origins: Sequence[str] = ("CN", "HK", "DE", "GB", "VN"),
    informal_limits: Sequence[Decimal] = INFORMAL_LIMITS,
    chapter99_limits: Sequence[Decimal] = CHAPTER99_LIMITS,
    chapter99_always: bool = False,
    chapter99_suspensions: bool = False,
) -> DeMinimisPack:
    """A small valid de minimis rule file; its changes fall inside ``window``.

    Thresholds: one from ``covers_from``, sometimes a second from a date in the window. Suspensions:
    at most one per origin (so periods never overlap), some open-ended, some for some modes only. About
    half (every one with ``chapter99_always``) have a lower informal limit for Chapter 99 articles
    (``chapter99_max_usd``, one of ``chapter99_limits``; ``chapter99_headings``: the bundled pack's 9903 and 9904,
    or others), some of them ended on a date in the window. With ``chapter99_suspensions``, about half of those
    that end are suspended instead (``chapter99_end``: the limit stays with ``chapter99_suspended = true``, as
    the bundled pack's from 2025-04-30), and about half of the packs' entry limits are ``unconfirmed``. The
    informal limit is one of ``informal_limits``.
    """
    amounts = st.decimals(min_value=0, max_value=2000, places=2).map(lambda d: d.quantize(Decimal("0.01")))
    days = st.dates(min_value=window[0], max_value=window[1])
    thresholds = [(covers_from, draw(st.one_of(st.just(Decimal("800.00")), amounts)))]
    if draw(st.booleans()):
        thresholds.append((draw(days), draw(amounts)))
    suspended = draw(st.lists(st.sampled_from(tuple(origins)), unique=True, max_size=3))
    suspensions = []
    for origin in suspended:
        start = draw(days)
        length = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=400)))
        modes = draw(st.lists(st.sampled_from(MODES), unique=True, min_size=1, max_size=3))
        suspensions.append(
            SuspensionSpec(
                id=f"suspension-{origin.lower()}",
                origins=(origin,),
                modes=tuple(sorted(modes, key=MODES.index)),
                effective_from=start,
                effective_to=None if length is None else start + dt.timedelta(days=length),
            )
        )
    informal = draw(st.sampled_from(tuple(informal_limits)))
    chapter99_max: Decimal | None = None
    headings: tuple[str, ...] = ()
    until: dt.date | None = None
    if chapter99_always or draw(st.booleans()):
        chapter99_max = draw(st.sampled_from(tuple(chapter99_limits)))
        headings = tuple(
            sorted(draw(st.lists(st.sampled_from(("9903", "9904", "9902")), unique=True, min_size=1)))
        )
        until = draw(st.one_of(st.none(), days))
    end: Literal["dropped", "suspended"] = "dropped"
    confidence: Literal["confirmed", "unconfirmed"] = "confirmed"
    if chapter99_suspensions:
        if until is not None and draw(st.booleans()):
            end = "suspended"
        if draw(st.booleans()):
            confidence = "unconfirmed"
    return DeMinimisPack(
        covers_from=covers_from,
        thresholds=tuple(thresholds),
        suspensions=tuple(suspensions),
        informal_max_usd=informal,
        chapter99_max_usd=chapter99_max,
        chapter99_headings=headings,
        chapter99_until=until,
        chapter99_end=end,
        entry_limit_confidence=confidence,
    )
