"""Generate SYNTHETIC manifests for tests, demos and benchmarks.

Every value written here is invented: people, addresses, companies, prices and
the choice of ports and carriers are drawn at random and describe no real
shipment. Parquet output is labelled with ``screening.synthetic = true``.

Rows are built and written chunk by chunk with vectorised numpy/pyarrow code, so
peak memory follows ``chunk_rows``, not ``rows``. Chunk ``i`` draws from
``PCG64(SeedSequence([seed, i]))``, so the file's bytes depend only on the arguments.
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]
import pyarrow.compute as pc  # type: ignore[import-untyped,unused-ignore]
import pyarrow.csv as pacsv  # type: ignore[import-untyped,unused-ignore]
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

from screening.schema import MANIFEST_COLUMNS

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
U64Array = npt.NDArray[np.uint64]

#: Arrival days around two rule changes (2025-05-02 and 2025-08-29).
DEFAULT_DATES: Final[tuple[datetime.date, ...]] = (
    datetime.date(2025, 5, 1),
    datetime.date(2025, 5, 2),
    datetime.date(2025, 8, 28),
    datetime.date(2025, 8, 29),
)
GENERATOR: Final = "screening.generate v1"
#: Canonical columns the generator fills (a synthetic parcel has no known metal content share).
GENERATED: Final = frozenset(c.name for c in MANIFEST_COLUMNS) - {"metal_content_share", "part_values"}

#: Real 10-digit HTSUS codes of goods common in low-value e-commerce parcels (apparel, footwear, bags,
#: electronics, toys, cosmetics, jewellery, wine and tobacco for the excise rules, ...).
COMMON_HTS_CODES: Final[tuple[str, ...]] = (
    "6109100012", "6109100040", "6110202079", "6110303059", "6402993165", "6404199060", "6403999065",
    "4202221500", "8517620090", "8517130000", "8518301000", "8471300100", "8543708800", "8544429090",
    "9503000073", "9503000090", "3304100000", "3305100000", "7117909000", "7113115000", "9004100000",
    "6117808710", "9506910030", "8214100000", "8215990500", "6307909891", "8523510000", "2204215040",
    "2403110000", "2106909998", "0902101050", "4901990050", "8516310000", "6506106030", "9617001000",
    "6912005000",
)  # fmt: skip

# fmt: off
# Origin mix (weights in percent): CN leads, then HK and a tail.
_ORIGIN_WEIGHTS: Final = {
    "CN": 45, "HK": 5, "DE": 5, "GB": 4, "JP": 4, "KR": 4, "VN": 4, "IN": 3, "TR": 3, "FR": 3, "IT": 3,
    "CA": 3, "MX": 3, "TW": 2, "TH": 2, "NL": 1, "ES": 1, "PL": 1, "ID": 1, "MY": 1, "BR": 1,
}
_COUNTRY_CURRENCY: Final = {
    "CN": "CNY", "HK": "HKD", "DE": "EUR", "FR": "EUR", "IT": "EUR", "NL": "EUR", "ES": "EUR", "GB": "GBP",
    "JP": "JPY", "KR": "KRW", "IN": "INR", "TR": "TRY", "CA": "CAD", "MX": "MXN", "TH": "THB",
}
# Fixed approximate USD per unit (synthetic); only currencies that have ECB reference rates.
_USD_PER_UNIT: Final = {
    "USD": 1.0, "EUR": 1.15, "GBP": 1.33, "JPY": 0.0068, "CNY": 0.14, "HKD": 0.128,
    "KRW": 0.00072, "INR": 0.0115, "CAD": 0.72, "MXN": 0.053, "TRY": 0.024, "THB": 0.030,
}
_MODES: Final = ("express", "postal", "cargo")
# Illustrative carrier codes per mode: express integrators, the postal service, air cargo airlines.
_CARRIERS: Final = (("DHL", "FDX", "UPS"), ("USPS",), ("CX", "LH", "KE", "5Y"))
# Illustrative CBP port codes: JFK, LAX airport, Chicago, Miami airport, Atlanta, Newark, Los Angeles.
_PORTS: Final = ("4701", "2720", "3901", "5206", "1704", "4601", "2704")
_FIRST: Final = (
    "Anna", "Ben", "Carla", "David", "Elena", "Frank", "Grace", "Hugo", "Ines", "Jonah", "Kira", "Liam",
    "Maya", "Noah", "Olga", "Pavel", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Will", "Xena",
    "Yusuf", "Zoe", "Aiko", "Bruno", "Chen", "Dana", "Emil", "Farah", "Gino", "Hana", "Ivan", "Jade",
)
_LAST: Final = (
    "Keller", "Brandt", "Castell", "Dorsey", "Engel", "Fairlie", "Garnier", "Holt", "Ibarra", "Janssen",
    "Kowal", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Petrov", "Quist", "Ramos", "Sato", "Ulrich",
    "Varga", "Whitlow", "Yilmaz", "Zielin", "Abbot", "Birchley", "Crane", "Dunmore", "Ellery", "Fenwick",
)
_TREES: Final = ("Maple", "Oak", "Cedar", "Pine", "Elm", "Willow", "Aspen", "Juniper", "Laurel", "Alder")
_STREETS: Final = [f"{tree} {kind}" for tree in _TREES for kind in ("St", "Ave", "Rd", "Ln", "Dr", "Way")]
# Invented shipper names: "<place> [<root>] <legal suffix>", in a style per origin.
_SHIPPER_STYLE: Final = {
    "CN": ("Shenzhen Yiwu Guangzhou Dongguan Hangzhou", "Trading Co., Ltd|E-Commerce Co., Ltd|Technology Co., Ltd"),
    "HK": ("Kowloon Harbourfront Tsuen", "Trading Limited|Supply Limited"),
    "DE": ("Nordlicht Rheinblick Bergwald Elbstrand", "Versand GmbH|Handel GmbH"),
    "GB": ("Thameside Pennine Harbourgate", "Goods Ltd|Trading Ltd"),
    "JP": ("Sakurada Hoshino Aozora", "Shoji K.K.|Trading Co., Ltd"),
    "FR": ("Belle-Rive Montclair Lavandou", "SARL|Commerce SAS"),
    "IT": ("Lungarno Bellavista Dolomia", "S.r.l.|Commercio S.r.l."),
}
_DEFAULT_STYLE: Final = ("Bluepeak Northwind Suncrest Riverbend", "Export Ltd|Trading Co.")
_ROOTS: Final = ("", "Yixin", "Huamei", "Longda", "Kairui", "Velta", "Lumio")
# Description vocabulary per HTS chapter (first two digits).
_CHAPTER_WORDS: Final = {
    "22": "red wine|white wine|sparkling wine", "33": "face cream|lipstick|perfume|shampoo|eye shadow",
    "39": "plastic storage box|phone case|silicone mat", "42": "leather handbag|wallet|backpack|travel bag",
    "49": "printed book|poster|calendar", "61": "cotton t-shirt|knitted sweater|women's dress|socks|hoodie",
    "62": "woven shirt|jeans|jacket|silk scarf", "63": "bed sheet|curtain|towel set",
    "64": "sneakers|leather boots|sandals|slippers", "65": "baseball cap|knitted hat",
    "71": "silver necklace|costume earrings|bracelet|ring", "84": "laptop computer|printer cartridge|usb drive",
    "85": "smartphone|bluetooth earphones|phone charger|usb cable", "90": "sunglasses|camera lens",
    "91": "wrist watch|wall clock", "94": "led lamp|office chair|cushion",
    "95": "plush toy|building blocks|jigsaw puzzle|fishing lure", "96": "ballpoint pens|hair clips|toothbrush",
    "generic": "household article|consumer product", "vague": "gift|goods|parts|sample|accessories|item",
}
# Bad-row kinds; the last one (an impossible date) is only written to CSV.
_BAD_KINDS: Final = ("negative", "nan", "hts", "country", "currency", "mode", "name", "duplicate", "date")
# Arrow types of the non-string columns (the CSV writes arrival_date as text).
_ARROW_TYPES: Final = {
    "line_no": pa.int64(), "arrival_date": pa.date32(), "quantity": pa.float64(), "declared_value": pa.float64(),
    "gross_weight_kg": pa.float64(), "usmca_claim": pa.bool_(), "gift": pa.bool_(),
}
# fmt: on
_COUNTRIES: Final = tuple(_ORIGIN_WEIGHTS)
_CURRENCIES: Final = tuple(_USD_PER_UNIT)
_NULL: Final = pa.scalar(None, pa.string())


def _words() -> tuple[list[str], dict[str, tuple[int, int]]]:
    """Flatten the description vocabulary; return the words and each group's (offset, count)."""
    flat: list[str] = []
    spans: dict[str, tuple[int, int]] = {}
    for key, joined in _CHAPTER_WORDS.items():
        words = joined.split("|")
        spans[key] = (len(flat), len(words))
        flat += words
    return flat, spans


def _shippers() -> tuple[list[str], IntArray, IntArray]:
    """Make the invented shipper names; return them and each origin's (offset, count) arrays."""
    names: list[str] = []
    offsets, counts = [], []
    for country in _COUNTRIES:
        places, suffixes = _SHIPPER_STYLE.get(country, _DEFAULT_STYLE)
        pool = itertools.product(places.split(), _ROOTS, suffixes.split("|"))
        made = [" ".join(part for part in parts if part) for parts in pool]
        offsets.append(len(names))
        counts.append(len(made))
        names += made
    return names, np.array(offsets, dtype=np.int64), np.array(counts, dtype=np.int64)


_DESC_WORDS, _DESC_SPANS = _words()
_SHIPPER_NAMES, _SHIPPER_OFFSET, _SHIPPER_COUNT = _shippers()
_ORIGIN_P: Final = np.array(list(_ORIGIN_WEIGHTS.values()), dtype=np.float64) / sum(_ORIGIN_WEIGHTS.values())
_ORIGIN_CURRENCY: Final = np.array([_CURRENCIES.index(_COUNTRY_CURRENCY.get(c, "USD")) for c in _COUNTRIES])
_IS_USMCA: Final = np.isin(np.array(_COUNTRIES), ["CA", "MX"])
_EXPORT_ALT: Final = np.array([_COUNTRIES.index(c) for c in ("VN", "MX", "MY")])
_RATE: Final = np.array(list(_USD_PER_UNIT.values()), dtype=np.float64)
_SCALE: Final = np.array([1.0 if c in ("JPY", "KRW") else 100.0 for c in _CURRENCIES])
_CARRIER_CODES: Final = [code for group in _CARRIERS for code in group]
_CARRIER_OFFSET: Final = np.cumsum([0] + [len(group) for group in _CARRIERS[:-1]])
_CARRIER_COUNT: Final = np.array([len(group) for group in _CARRIERS])


@dataclass(frozen=True, slots=True)
class _Setup:
    """Lookup tables derived once from the arguments."""

    seed: int
    people: int
    salt: np.uint64
    days: IntArray
    hts_plain: Any
    hts_dotted: Any
    desc_offset: IntArray
    desc_count: IntArray
    bad_share: float
    csv: bool


def _dotted(code: str) -> str:
    """Write an HTS code with dots: ``6109100012`` -> ``6109.10.00.12``."""
    return ".".join(part for part in (code[:4], code[4:6], code[6:8], code[8:10]) if part)


def _make_setup(
    rows: int, seed: int, hts: Sequence[str], dates: Sequence[datetime.date], share: float, csv: bool
) -> _Setup:
    spans = [_DESC_SPANS.get(code[:2], _DESC_SPANS["generic"]) for code in hts]
    epoch = datetime.date(1970, 1, 1)
    return _Setup(
        seed=seed,
        people=max(50, rows // 4),
        salt=np.random.SeedSequence(seed).generate_state(1, np.uint64)[0],
        days=np.array([(day - epoch).days for day in dates], dtype=np.int64),
        hts_plain=pa.array(list(hts), pa.string()),
        hts_dotted=pa.array([_dotted(code) for code in hts], pa.string()),
        desc_offset=np.array([span[0] for span in spans], dtype=np.int64),
        desc_count=np.array([span[1] for span in spans], dtype=np.int64),
        bad_share=share,
        csv=csv,
    )


def _mix(x: U64Array) -> U64Array:
    """SplitMix64 finaliser: a stable pseudo-random hash of each value."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _pick(values: Sequence[str], index: npt.NDArray[Any]) -> Any:
    """Gather ``values[index]`` as an Arrow string array."""
    return pa.array(values, pa.string()).take(index.astype(np.int64))


def _digits(values: npt.NDArray[Any], width: int) -> Any:
    """Integers as zero-padded Arrow strings."""
    return pc.utf8_lpad(pc.cast(pa.array(values.astype(np.int64)), pa.string()), width, "0")


def _package_layout(rng: np.random.Generator, n: int) -> tuple[IntArray, IntArray, int]:
    """Split ``n`` lines into packages of 1-4 lines; return each line's package, its line_no, the count."""
    sizes = np.minimum(rng.geometric(0.7, size=n), 4)
    ends = np.cumsum(sizes)
    k = int(np.searchsorted(ends, n)) + 1
    package = np.repeat(np.arange(k), sizes[:k])[:n]
    starts = ends[:k] - sizes[:k]
    return package, np.arange(n) - starts[package] + 1, k


def _pick_people(rng: np.random.Generator, k: int, people: int) -> IntArray:
    """Mostly uniform over the population; 10 % Zipf-ranked, so a few people get many packages."""
    heavy = (rng.zipf(1.3, size=k) - 1) % people
    return np.where(rng.random(k) < 0.10, heavy, rng.integers(0, people, size=k))


def _consignee_columns(rng: np.random.Generator, setup: _Setup, person: IntArray) -> dict[str, Any]:
    """A person's name, address and ZIP are hashed from its number, so they repeat across chunks."""
    k = len(person)
    h1 = _mix(person.astype(np.uint64) ^ setup.salt)
    h2, h3 = _mix(h1), _mix(h1 ^ np.uint64(1))
    first, last = _pick(_FIRST, h1 % len(_FIRST)), _pick(_LAST, (h1 >> np.uint64(32)) % len(_LAST))
    plain = pc.binary_join_element_wise(first, last, " ")
    variant = np.where(rng.random(k) < 0.05, rng.integers(1, 3, size=k), 0).astype(np.int8)
    lower_upper = pc.binary_join_element_wise(pc.utf8_lower(first), pc.utf8_upper(last), "  ")
    zip5 = _digits(1001 + h2 % 98998, 5)
    zip9 = pc.binary_join_element_wise(zip5, _digits(1 + (h2 >> np.uint64(40)) % 9999, 4), "-")
    street = _pick(_STREETS, (h2 >> np.uint64(20)) % len(_STREETS))
    with_id = pa.array(h3 % 100 < 30)
    return {
        "consignee_id": pc.if_else(with_id, pc.binary_join_element_wise("C", _digits(person, 9), ""), _NULL),
        "consignee_name": pc.choose(pa.array(variant), plain, lower_upper, pc.utf8_upper(plain)),
        "consignee_address": pc.binary_join_element_wise(_digits(1 + h3 % 9899, 1), street, " "),
        "consignee_postal_code": pc.if_else(pa.array(rng.random(k) < 0.1), zip9, zip5),
    }


def _package_totals_usd(rng: np.random.Generator, k: int) -> FloatArray:
    """Log-normal totals (median $35, capped at $5,000), plus a 3 % bump just under $800."""
    total = np.clip(rng.lognormal(np.log(35.0), 1.0, size=k), 1.0, 5000.0)
    return np.where(rng.random(k) < 0.03, rng.uniform(700.0, 799.9, size=k), total)


def _package_columns(
    rng: np.random.Generator, setup: _Setup, k: int, first_package: int
) -> tuple[dict[str, Any], IntArray, IntArray, FloatArray]:
    """Draw the package-level columns; also return origin, currency and USD total per package."""
    origin = rng.choice(len(_COUNTRIES), size=k, p=_ORIGIN_P)
    shipper_country = np.where(rng.random(k) < 0.97, origin, rng.integers(0, len(_COUNTRIES), size=k))
    alt = _EXPORT_ALT[rng.integers(0, len(_EXPORT_ALT), size=k)]
    export = np.where(rng.random(k) < 0.02, np.where(alt == origin, 0, alt), origin)
    mode = rng.choice(len(_MODES), size=k, p=[0.70, 0.25, 0.05])
    carrier = _CARRIER_OFFSET[mode] + rng.integers(0, 1 << 30, size=k) % _CARRIER_COUNT[mode]
    shipper = _SHIPPER_OFFSET[origin] + (_SHIPPER_COUNT[origin] * rng.random(k) ** 2).astype(np.int64)
    currency = np.where(rng.random(k) < 0.6, 0, _ORIGIN_CURRENCY[origin])
    day = setup.days[rng.integers(0, len(setup.days), size=k)]
    columns = {
        "package_id": pc.binary_join_element_wise("SYN", _digits(first_package + np.arange(k), 10), ""),
        "arrival_date": pa.array(day.astype(np.int32)).cast(pa.date32()),
        "mode": _pick(_MODES, mode),
        "carrier": _pick(_CARRIER_CODES, carrier),
        "port_of_entry": _pick(_PORTS, rng.integers(0, len(_PORTS), size=k)),
        "shipper_name": _pick(_SHIPPER_NAMES, shipper),
        "shipper_country": _pick(_COUNTRIES, shipper_country),
        "country_of_origin": _pick(_COUNTRIES, origin),
        "country_of_export": _pick(_COUNTRIES, export),
        "currency": _pick(_CURRENCIES, currency),
    }
    columns |= _consignee_columns(rng, setup, _pick_people(rng, k, setup.people))
    return columns, origin, currency, _package_totals_usd(rng, k)


def _line_columns(
    rng: np.random.Generator,
    setup: _Setup,
    package: IntArray,
    per_package: tuple[IntArray, IntArray, FloatArray],
) -> dict[str, Any]:
    """Draw the line-level columns; each package's USD total is split over its lines by random weights."""
    origin, currency, total = (values[package] for values in per_package)
    n = len(package)
    code = rng.integers(0, len(setup.hts_plain), size=n)
    dotted = pa.array(rng.random(n) < 0.5)
    word = setup.desc_offset[code] + rng.integers(0, 1 << 30, size=n) % setup.desc_count[code]
    vague_at, vague_count = _DESC_SPANS["vague"]
    word = np.where(rng.random(n) < 0.04, vague_at + rng.integers(0, vague_count, size=n), word)
    weight = rng.uniform(0.2, 1.0, size=n)
    share = weight / np.bincount(package, weights=weight)[package]
    value = np.round(total * share / _RATE[currency] * _SCALE[currency]) / _SCALE[currency]
    quantity = rng.choice([1.0, 2.0, 3.0, 4.0, 5.0], size=n, p=[0.6, 0.2, 0.1, 0.05, 0.05])
    return {
        "hts_code": pc.if_else(dotted, setup.hts_dotted.take(code), setup.hts_plain.take(code)),
        "description": _pick(_DESC_WORDS, word),
        "quantity": pa.array(quantity),
        "declared_value": value,
        "gross_weight_kg": pa.array(np.round(np.exp(rng.uniform(np.log(0.05), np.log(5.0), size=n)), 3)),
        "usmca_claim": pa.array(_IS_USMCA[origin] & (rng.random(n) < 0.3)),
        "gift": pa.array(rng.random(n) < 0.01),
    }


def _inject_bad_rows(columns: dict[str, Any], kind: IntArray) -> None:
    """Spoil the rows whose ``kind`` names a bad-row kind (duplicates are made later)."""

    def spoil(name: str, bad: str, replacement: Any) -> None:
        hit = pa.array(kind == _BAD_KINDS.index(bad))
        columns[name] = pc.if_else(hit, replacement, columns[name])

    value = columns["declared_value"]
    value = np.where(kind == _BAD_KINDS.index("negative"), -np.maximum(np.abs(value), 0.01), value)
    columns["declared_value"] = pa.array(np.where(kind == _BAD_KINDS.index("nan"), np.nan, value))
    spoil("hts_code", "hts", pc.utf8_replace_slice(columns["hts_code"], 2, 3, "O"))
    spoil("country_of_origin", "country", "XX")
    spoil("currency", "currency", "ZZZ")
    spoil("mode", "mode", "sea")
    spoil("consignee_name", "name", _NULL)
    if pa.types.is_string(columns["arrival_date"].type):
        spoil("arrival_date", "date", "2025-02-30")


def _duplicate_sources(kind: IntArray) -> IntArray:
    """Row order in which each duplicate row copies the nearest earlier row that is not a duplicate."""
    rows = np.arange(len(kind))
    return np.maximum.accumulate(np.where(kind == _BAD_KINDS.index("duplicate"), 0, rows))


def _arrow_schema(csv: bool) -> Any:
    types = _ARROW_TYPES | ({"arrival_date": pa.string()} if csv else {})
    return pa.schema(
        [pa.field(c.name, types.get(c.name, pa.string())) for c in MANIFEST_COLUMNS if c.name in GENERATED]
    )


def _chunk(setup: _Setup, index: int, n: int, first_package: int) -> tuple[Any, int]:
    """Build chunk ``index`` of ``n`` rows; return the table and how many packages it started."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence([setup.seed, index])))
    package, line_no, k = _package_layout(rng, n)
    per_package, origin, currency, total = _package_columns(rng, setup, k, first_package)
    columns = {name: column.take(package) for name, column in per_package.items()}
    columns |= _line_columns(rng, setup, package, (origin, currency, total))
    columns["line_no"] = pa.array(line_no)
    if setup.csv:
        columns["arrival_date"] = pc.cast(columns["arrival_date"], pa.string())
    kinds = len(_BAD_KINDS) if setup.csv else len(_BAD_KINDS) - 1
    kind = np.where(rng.random(n) < setup.bad_share, rng.integers(0, kinds, size=n), -1)
    _inject_bad_rows(columns, kind)
    schema = _arrow_schema(setup.csv)
    table = pa.table([columns[name] for name in schema.names], schema=schema)
    return table.take(_duplicate_sources(kind)), k


def _open_writer(out: Path, schema: Any, seed: int) -> Any:
    if out.suffix.lower() == ".csv":
        return pacsv.CSVWriter(str(out), schema)
    meta = {"screening.synthetic": "true", "screening.generator": GENERATOR, "screening.seed": str(seed)}
    return pq.ParquetWriter(str(out), schema.with_metadata(meta), compression="zstd")


def generate_manifest(
    out: Path,
    *,
    rows: int,
    seed: int,
    hts_codes: Sequence[str],
    dates: Sequence[datetime.date] = DEFAULT_DATES,
    bad_row_share: float = 0.005,
    chunk_rows: int = 250_000,
    on_progress: Callable[[int], None] | None = None,
    first_package: int = 1,
) -> int:
    """Write a synthetic manifest of exactly ``rows`` line rows to ``out``.

    The file is generated and written chunk by chunk, so memory stays bounded by
    ``chunk_rows``; the same arguments always give a byte-identical file.

    Args:
        out: Target path: ``.parquet`` (zstd, labelled synthetic in its metadata) or ``.csv``.
        rows: Number of line rows to write.
        seed: Non-negative seed of the random generator.
        hts_codes: Digits-only HTS codes (normally 10 digits) to draw from.
        dates: Arrival dates to spread the packages over.
        bad_row_share: Share of rows spoilt on purpose (bad values, codes, countries, duplicates...).
        chunk_rows: Rows generated and written at a time.
        on_progress: Called with the number of rows written so far after each chunk.
        first_package: Number of the first package (``SYN`` and 10 digits): files meant to be screened
            together (hourly files of one day) need ranges of their own, or their packages share ids.

    Returns:
        The number of rows written, always ``rows``.

    Raises:
        ValueError: If the suffix is not ``.parquet``/``.csv`` or an argument is out of range.
    """
    if out.suffix.lower() not in (".parquet", ".csv"):
        raise ValueError(f"unsupported output suffix {out.suffix!r}: use .parquet or .csv")
    if rows < 0 or seed < 0 or chunk_rows < 1 or not 0.0 <= bad_row_share <= 1.0:
        raise ValueError("need rows >= 0, seed >= 0, chunk_rows >= 1 and 0 <= bad_row_share <= 1")
    if not hts_codes or not all(code.isdigit() for code in hts_codes) or not dates:
        raise ValueError("need at least one date and one digits-only HTS code")
    if first_package < 1 or first_package + rows > 10**10:
        raise ValueError(
            "need 1 <= first_package and first_package + rows <= 10^10 (10-digit package numbers)"
        )
    csv = out.suffix.lower() == ".csv"
    setup = _make_setup(rows, seed, hts_codes, dates, bad_row_share, csv)
    writer = _open_writer(out, _arrow_schema(csv), seed)
    written, next_package = 0, first_package
    try:
        for index, start in enumerate(range(0, rows, chunk_rows)):
            table, packages = _chunk(setup, index, min(chunk_rows, rows - start), next_package)
            writer.write_table(table)
            written += table.num_rows
            next_package += packages
            if on_progress is not None:
                on_progress(written)
    finally:
        writer.close()
    return written
