"""Readers for the pack's big tables (CSV or Parquet), with their column contracts."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Final

import polars as pl

from screening.errors import RulePackError
from screening.exprs.parse import coerce
from screening.rulepack.models import HTS_PREFIX_PATTERN
from screening.rulepack.rates import CONTENT_UNIT, SPECIFIC_UNITS, parse_general_rate, part_components
from screening.schema import FX_RATE, FX_RATE_BOUND, FX_RATE_LONG

#: Tariff-line table: one row per HTS line and period; rates as decimal strings.
MFN_SCHEMA: Final[dict[str, pl.DataType]] = {
    "hts": pl.String(),
    "effective_from": pl.Date(),
    "effective_to": pl.Date(),
    "general": pl.String(),
    "status": pl.String(),
    "ad_valorem": pl.Decimal(18, 8),
    "specific_usd": pl.Decimal(18, 8),
    "specific_unit": pl.String(),
    "specific2_usd": pl.Decimal(18, 8),
    "specific2_unit": pl.String(),
    "parts": pl.String(),
    "usmca_text": pl.String(),
    "usmca_status": pl.String(),
    "usmca_ad_valorem": pl.Decimal(18, 8),
    "usmca_specific_usd": pl.Decimal(18, 8),
    "usmca_specific_unit": pl.String(),
    "usmca_specific2_usd": pl.Decimal(18, 8),
    "usmca_specific2_unit": pl.String(),
    "usmca_parts": pl.String(),
    "units": pl.String(),
    "revision": pl.String(),
}

#: A rate as given in the exchange-rate table: digits past the 24th decimal are not read.
_FX_GIVEN: Final = pl.Decimal(38, 24)
#: Exchange-rate table: U.S. dollars per unit of ``currency`` on ``date``, as given (held as :func:`read_fx_table`
#: says).
FX_SCHEMA: Final[dict[str, pl.DataType]] = {
    "currency": pl.String(),
    "date": pl.Date(),
    "usd_per_unit": _FX_GIVEN,
    "source": pl.String(),
}

RATE_STATUSES: Final = ("computable", "needs-part-values", "not-computable")


def inside_pack(root: Path, file: Path) -> bool:
    """Whether ``file`` is inside the pack folder ``root`` once links are followed (a table named
    ``measures/s122_exempt.csv`` that links to ``/srv/secret.csv`` is not)."""
    return Path(os.path.realpath(file)).is_relative_to(os.path.realpath(root))


def refuse_outside_pack(root: Path, file: Path, what: str, where: str = "") -> None:
    """Raise :class:`RulePackError` naming ``file`` (``what``: "table file") unless it is inside the pack
    folder ``root`` once links are followed: the pack's content hash covers the pack's own files, and a file
    elsewhere could change unseen. Checked before the file is read, so another file's rows are never shown."""
    if inside_pack(root, file):
        return
    written_inside = Path(os.path.abspath(file)).is_relative_to(os.path.abspath(root))
    through = " (through a link)" if written_inside else ""
    raise RulePackError(str(file), where, f"{what} outside the rule pack folder{through}")


def read_table(
    root: Path,
    name: str,
    schema: dict[str, pl.DataType],
    *,
    required: tuple[str, ...] = (),
    line_column: str | None = None,
) -> pl.DataFrame:
    """Read ``root/name`` (CSV or Parquet) and cast it to ``schema``. A wholly blank row (a blank line an editor
    left) is no row; a row without a value in a ``required`` column is refused. With ``line_column``, the table
    also holds each row's line in the file (1-based, the header being line 1) under that name. A timestamp with a
    time zone in a date column is dated in its own zone (:func:`_table_column`).

    Raises:
        RulePackError: the file is outside the pack folder (:func:`refuse_outside_pack`), missing or
            unreadable (naming the system's reason), lacks columns, has values that do not cast, or a row lacks a
            required value.
    """
    file = root / name
    refuse_outside_pack(root, file, "table file")
    if not file.is_file():
        raise RulePackError(str(file), "", "table file missing from the rule pack")
    try:
        raw = (
            pl.read_parquet(file, glob=False)
            if file.suffix == ".parquet"
            else pl.read_csv(file, infer_schema=False, null_values=[""], glob=False)
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise RulePackError(str(file), "", f"unreadable table: {reason}") from exc
    except MemoryError as exc:
        raise RulePackError(str(file), "", "unreadable table: too large for the memory available") from exc
    missing = [c for c in schema if c not in raw.columns]
    if missing:
        raise RulePackError(str(file), "", f"missing columns {missing}")
    # Row numbers as the file counts them (1-based, after the header line), kept past the blank rows dropped.
    raw = raw.with_row_index("__line", offset=2).filter(~pl.all_horizontal(pl.exclude("__line").is_null()))
    typed = raw.select(
        *(_table_column(pl.col(c), raw.schema[c], t).alias(c) for c, t in schema.items()),
        *([pl.col("__line").cast(pl.Int64()).alias(line_column)] if line_column else []),
    )
    for column, dtype in schema.items():
        broken = raw.filter(pl.col(column).is_not_null() & typed[column].is_null())
        if broken.height:
            raise RulePackError(
                str(file),
                f"row {broken['__line'][0]}.{column}",
                f"value {broken[column][0]!r} is not {dtype}",
            )
    for column in required:
        empty = raw.filter(pl.col(column).is_null())
        if empty.height:
            raise RulePackError(
                str(file), f"row {empty['__line'][0]}.{column}", "a row has no value (every row needs one)"
            )
    return typed


def _table_column(column: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    """A pack table's ``column`` of type ``source`` brought to ``target`` (:func:`coerce`), a timestamp with a
    time zone dated in its own zone: a table's dates are the calendar dates its publisher wrote (a rate of
    2016-01-04 written as local midnight in Berlin is that day's, not 2016-01-03's, as UTC would date it; UTC,
    or the pack's zone, dates the instants of a manifest)."""
    if target == pl.Date() and isinstance(source, pl.Datetime) and source.time_zone is not None:
        return coerce(column.dt.replace_time_zone(None), pl.Datetime(source.time_unit), target)
    return coerce(column, source, target)


def read_mfn_table(root: Path, name: str) -> pl.DataFrame:
    """The tariff-line table, checked: digits-only HTS of 6/8/10 digits, known statuses and units, and parsed
    columns that are what the engine reads the rate texts (``general``, ``usmca_text``) as."""
    table = read_table(
        root, name, MFN_SCHEMA, required=("hts", "effective_from", "status"), line_column=_LINE
    )
    bad_hts = table.filter(~pl.col("hts").str.contains(r"^(\d{6}|\d{8}|\d{10})$"))
    if bad_hts.height:
        raise RulePackError(str(root / name), "hts", f"not 6, 8 or 10 digits: {bad_hts['hts'][0]!r}")
    bad_status = table.filter(
        ~pl.col("status").is_in(RATE_STATUSES)
        | ~pl.col("usmca_status").fill_null("computable").is_in(RATE_STATUSES)
    )
    if bad_status.height:
        raise RulePackError(str(root / name), "status", f"unknown status {bad_status['status'][0]!r}")
    for column in ("ad_valorem", "usmca_ad_valorem"):
        # As a TOML rate is capped (models.Rate): a rate written in per cent (16.5 for 16.5%) is 100 times too big.
        out_of_range = table.filter((pl.col(column) < 0) | (pl.col(column) > 10))
        if out_of_range.height:
            row = out_of_range.row(0, named=True)
            raise RulePackError(
                str(root / name),
                f"hts={row['hts']}",
                f"{column} {row[column]} is not a fraction between 0 and 10 (1,000 %): a rate written in per cent?",
            )
    for status, rates in (
        ("status", ("ad_valorem", "specific_usd")),
        ("usmca_status", ("usmca_ad_valorem", "usmca_specific_usd")),
    ):
        # A computable rate with no amount would be charged nothing and read as assessed.
        unrated = table.filter(
            (pl.col(status) == "computable") & pl.all_horizontal(pl.col(c).is_null() for c in rates)
        )
        if unrated.height:
            raise RulePackError(
                str(root / name),
                f"hts={unrated['hts'][0]}",
                f"{status} is computable but {' and '.join(rates)} are empty: give the rate, or another status",
            )
    _check_part_formulas(root / name, table)
    _check_units(root / name, table)
    _check_parsed_as_written(root / name, table)
    _check_table_periods(root / name, table, "hts")
    return table.drop(_LINE)


#: The column of a row's line in the tariff-line file, while it is checked.
_LINE: Final = "__line"
#: The columns of a rate text's parsed form (:class:`~screening.rulepack.rates.ParsedRate`), as ``mfn.csv``
#: holds them (``usmca_`` before each for the USMCA rate).
PARSED_RATE_COLUMNS: Final = (
    "status",
    "ad_valorem",
    "specific_usd",
    "specific_unit",
    "specific2_usd",
    "specific2_unit",
    "parts",
)


def parsed_rates(texts: pl.Series) -> pl.DataFrame:
    """One row per distinct rate text of ``texts`` (a few hundred): ``text`` and its parsed form
    (:data:`PARSED_RATE_COLUMNS`, by :func:`~screening.rulepack.rates.parse_general_rate`), to join onto lines."""
    distinct = [t for t in texts.unique().to_list() if t is not None]
    parsed = [parse_general_rate(t) for t in distinct]
    decimal = pl.Decimal(18, 8)
    return pl.DataFrame(
        {
            "text": pl.Series(distinct, dtype=pl.String()),
            "status": pl.Series([p.status for p in parsed], dtype=pl.String()),
            "ad_valorem": pl.Series([p.ad_valorem for p in parsed], dtype=decimal),
            "specific_usd": pl.Series([p.specific_usd for p in parsed], dtype=decimal),
            "specific_unit": pl.Series([p.specific_unit for p in parsed], dtype=pl.String()),
            "specific2_usd": pl.Series([p.specific2_usd for p in parsed], dtype=decimal),
            "specific2_unit": pl.Series([p.specific2_unit for p in parsed], dtype=pl.String()),
            "parts": pl.Series([p.parts for p in parsed], dtype=pl.String()),
        }
    )


def _check_units(file: Path, table: pl.DataFrame) -> None:
    """Every unit of a specific rate is one the engine knows (:data:`~screening.rulepack.rates.SPECIFIC_UNITS`, a
    ``kg-*-content``): any other (``kgs``, ``KG``) would be charged on the line's quantity, not its weight."""
    for column in ("specific_unit", "specific2_unit", "usmca_specific_unit", "usmca_specific2_unit"):
        unit = pl.col(column)
        unknown = table.filter(
            unit.is_not_null() & ~unit.is_in(sorted(SPECIFIC_UNITS)) & ~unit.str.contains(CONTENT_UNIT)
        )
        if unknown.height:
            row = unknown.row(0, named=True)
            raise RulePackError(
                str(file),
                f"row {row[_LINE]}.{column}",
                f"unit {row[column]!r} (hts {row['hts']}) is not one the engine knows: {', '.join(sorted(SPECIFIC_UNITS))}"
                f" or kg-<metal>-content (only kg is charged on the weight; any other unit on the quantity)",
            )


def _check_parsed_as_written(file: Path, table: pl.DataFrame) -> None:
    """A row's parsed rate is what the engine reads its text as (:func:`parsed_rates`): ``screen rules show``
    prints ``general``, a run charges ``ad_valorem``, ``specific_usd`` ...; a row that says 10% and charges 1%
    is refused. A row without a ``general`` text is not compared; one without a ``usmca_text`` has no USMCA rate."""
    for text, prefix in (("general", ""), ("usmca_text", "usmca_")):
        parsed = parsed_rates(table[text]).rename(lambda c: c if c == "text" else f"__parsed_{c}")
        joined = table.join(parsed, left_on=text, right_on="text", how="left", maintain_order="left")
        for column in PARSED_RATE_COLUMNS:
            written, read = pl.col(prefix + column), pl.col(f"__parsed_{column}")
            rows = pl.col(text).is_not_null() if prefix == "" else pl.lit(True)
            differ = joined.filter(rows & ~written.eq_missing(read))
            if column == "parts" and differ.height:
                differ = _parts_that_differ(differ, prefix + column, "__parsed_parts")
            if differ.height:
                row = differ.row(0, named=True)
                reads = (
                    f"which the engine reads as {prefix + column} {_shown(row[f'__parsed_{column}'])}"
                    if row[text] is not None
                    else "and no USMCA rate"
                )
                raise RulePackError(
                    str(file),
                    f"row {row[_LINE]}.{prefix + column}",
                    f"{prefix + column} {_shown(row[prefix + column])} (hts {row['hts']}) disagrees with {text} "
                    f"{_shown(row[text])}, {reads}: screen rules show prints the text, a run charges the parsed "
                    f"rate; write the parsed form the text reads as, or correct the text",
                )


def _parts_that_differ(rows: pl.DataFrame, written: str, read: str) -> pl.DataFrame:
    """The ``rows`` whose parts (JSON) differ in meaning, not only in spacing or how an amount is written: the
    distinct pairs (a few) read as the engine reads them."""

    def meaning(parts: str | None) -> object:
        return None if parts is None else part_components(parts)

    # Every written value reads (_check_part_formulas), and every parsed one is the parser's own.
    same = [(w, r) for w, r in rows.select(written, read).unique().iter_rows() if meaning(w) == meaning(r)]
    if not same:
        return rows
    kept = pl.DataFrame(same, schema={written: pl.String(), read: pl.String()}, orient="row")
    return rows.join(kept, on=[written, read], how="anti", nulls_equal=True, maintain_order="left")


def _shown(value: object) -> str:
    """A table value as a message shows it: a decimal without trailing zeros, text quoted, ``empty``."""
    if value is None:
        return "empty"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return repr(value)


def _check_part_formulas(file: Path, table: pl.DataFrame) -> None:
    """Every ``parts`` / ``usmca_parts`` value (a rate on parts of the article, JSON) is one the engine reads."""
    for column in ("parts", "usmca_parts"):
        for row in (
            table.filter(pl.col(column).is_not_null()).unique(column, keep="first").iter_rows(named=True)
        ):
            try:
                components = part_components(row[column])
            except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
                raise RulePackError(
                    str(file),
                    f"hts={row['hts']}",
                    f"{column} is not a list of parts the engine reads: {exc!r}",
                ) from exc
            if not components:
                raise RulePackError(str(file), f"hts={row['hts']}", f"{column} lists no part")


def read_fx_table(root: Path, name: str) -> pl.DataFrame:
    """The exchange-rate table, checked: every field given, ISO 4217 codes other than USD (the engine's own
    unit), positive rates below :data:`~screening.schema.FX_RATE_BOUND`, one rate per currency and date.

    Rates are held to 10 decimals (:data:`~screening.schema.FX_RATE`) when every one has at most 10, else to 18
    (:data:`~screening.schema.FX_RATE_LONG`; a reciprocal of a rate quoted per dollar, IDR 1/16300, has 6
    significant digits in 10 decimals), each rounded half up from the digits given (:func:`rounded_fx_rates`
    names those rounded; digits past the 24th are not read).
    """
    table = _fx_table_as_given(root, name)
    held = _half_up(pl.col("usd_per_unit"), FX_RATE_LONG)
    table = table.with_columns(held.alias("usd_per_unit"))
    if table.filter(pl.col("usd_per_unit") <= 0).height:
        raise RulePackError(
            str(root / name), "usd_per_unit", "rates must be positive (a rate below 0.5e-18 rounds to 0)"
        )
    if table.select((pl.col("usd_per_unit").cast(FX_RATE) == pl.col("usd_per_unit")).all()).item():
        table = table.with_columns(pl.col("usd_per_unit").cast(FX_RATE))
    return table.sort("currency", "date")


def rounded_fx_rates(pack_root: Path, name: str, held: pl.DataFrame) -> pl.DataFrame:
    """The rows of the exchange-rate table ``name`` whose rate has more decimals than the ``held`` table (the
    pack's, :func:`read_fx_table`) keeps: ``currency``, ``date``, ``given`` and ``held``."""
    given = _fx_table_as_given(pack_root, name).select("currency", "date", given="usd_per_unit")
    return (
        given.join(held.select("currency", "date", "usd_per_unit"), on=["currency", "date"], how="inner")
        .filter(pl.col("given") != pl.col("usd_per_unit"))
        .select("currency", "date", "given", held="usd_per_unit")
        .sort("currency", "date")
    )


def _half_up(rate: pl.Expr, target: pl.Decimal) -> pl.Expr:
    """A rate of :data:`FX_SCHEMA`'s 24 decimals rounded half up to ``target``'s: polars' cast rounds half to even
    (0.00302578125 to 10 decimals was 0.0030257812); half a unit of the 25th decimal added first, no rate is a
    tie, and the nearest is the one half up gives."""
    places = _FX_GIVEN.scale + 1
    nudge = pl.lit(Decimal(5).scaleb(-places), dtype=pl.Decimal(places + 1, places))
    return (rate.cast(pl.Decimal(38, places)) + nudge).cast(target)


def _fx_table_as_given(root: Path, name: str) -> pl.DataFrame:
    """The exchange-rate table with its rates as given (to 24 decimals), checked (:func:`read_fx_table`)."""
    table = read_table(root, name, FX_SCHEMA, required=("currency", "date", "usd_per_unit"))
    for column in ("currency", "date", "usd_per_unit"):
        if table.get_column(column).has_nulls():
            raise RulePackError(str(root / name), column, "a row has no value (every rate needs all three)")
    bad = table.filter(~pl.col("currency").str.contains(r"^[A-Z]{3}$"))
    if bad.height:
        raise RulePackError(str(root / name), "currency", f"not an ISO 4217 code: {bad['currency'][0]!r}")
    if table.filter(pl.col("currency") == "USD").height:
        raise RulePackError(str(root / name), "currency", "USD is the engine's own unit: no rate row for it")
    if table.filter(pl.col("usd_per_unit") <= 0).height:
        raise RulePackError(str(root / name), "usd_per_unit", "rates must be positive")
    too_high = table.filter(pl.col("usd_per_unit") >= FX_RATE_BOUND)
    if too_high.height:
        row = too_high.row(0, named=True)
        raise RulePackError(
            str(root / name),
            f"{row['currency']} {row['date']}",
            f"usd_per_unit {_shown(row['usd_per_unit'])} is {FX_RATE_BOUND:,} dollars or more for one unit: no "
            "currency is worth that (a rate written as units per dollar? the column is dollars per unit), and "
            f"the engine converts exactly only below it",
        )
    if table.select(pl.struct("currency", "date").is_duplicated().any()).item():
        raise RulePackError(str(root / name), "currency,date", "more than one rate for a currency and date")
    return table


def _check_table_periods(file: Path, table: pl.DataFrame, key: str) -> None:
    """Half-open periods per key must not be inverted or overlap."""
    inverted = table.filter(pl.col("effective_to") <= pl.col("effective_from"))
    if inverted.height:
        raise RulePackError(
            str(file), f"{key}={inverted[key][0]}", "effective_to is not after effective_from"
        )
    overlaps = (
        table.sort(key, "effective_from")
        .with_columns(next_from=pl.col("effective_from").shift(-1).over(key))
        .filter(
            pl.col("next_from").is_not_null()
            & (pl.col("effective_to").is_null() | (pl.col("effective_to") > pl.col("next_from")))
        )
    )
    if overlaps.height:
        raise RulePackError(str(file), f"{key}={overlaps[key][0]}", "periods overlap")


#: Columns of a scope table for its readers, not read by the engine.
_SCOPE_NOTES = ("source", "note")
SCOPE_SCHEMA: Final[dict[str, pl.DataType]] = {
    "hts_prefix": pl.String(),
    "effective_from": pl.Date(),
    "effective_to": pl.Date(),
}


def read_prefix_table(root: Path, name: str, *, where: str) -> pl.DataFrame:
    """A scope table: ``hts_prefix`` (2 to 10 digits, no dots) and optional ``effective_from`` /
    ``effective_to`` (half-open; empty = unbounded) for prefixes that joined or left the list later.

    Raises:
        RulePackError: the file is outside the pack folder, is missing, lacks the column, or holds a malformed
            prefix or period.
    """
    file = root / name
    refuse_outside_pack(root, file, "table file")  # before its header is read
    try:
        header = (
            pl.read_csv(file, n_rows=0, glob=False).columns
            if file.suffix != ".parquet"
            else pl.read_parquet_schema(file)
        )
    except (pl.exceptions.PolarsError, OSError):
        header = []
    unknown = sorted(set(header) - {*SCOPE_SCHEMA, *_SCOPE_NOTES})
    if unknown:
        raise RulePackError(
            str(file),
            where,
            f"unknown columns {unknown}: a scope table has hts_prefix, effective_from, "
            f"effective_to and, for people, {', '.join(_SCOPE_NOTES)}",
        )
    schema = {c: t for c, t in SCOPE_SCHEMA.items() if c == "hts_prefix" or c in header}
    table = read_table(root, name, schema, required=("hts_prefix",))
    for column in ("effective_from", "effective_to"):
        if column not in table.columns:
            table = table.with_columns(pl.lit(None, dtype=pl.Date()).alias(column))
    bad = table.filter(~pl.col("hts_prefix").str.contains(HTS_PREFIX_PATTERN))
    if bad.height:
        raise RulePackError(
            str(file), where, f"not an HTS prefix of 2, 4, 6, 8 or 10 digits: {bad['hts_prefix'][0]!r}"
        )
    inverted = table.filter(pl.col("effective_to") <= pl.col("effective_from"))
    if inverted.height:
        raise RulePackError(str(file), where, f"inverted period for prefix {inverted['hts_prefix'][0]!r}")
    return table.select(list(SCOPE_SCHEMA))


#: Plausible minimum value per kg by HTS chapter (risk: implausible value for the weight).
VALUE_PER_KG_SCHEMA: Final[dict[str, pl.DataType]] = {
    "chapter": pl.String(),
    "min_usd_per_kg": pl.Float64(),
}


def read_value_per_kg_table(root: Path, name: str) -> pl.DataFrame:
    """``chapter`` (2 digits, unique) and ``min_usd_per_kg`` (positive)."""
    table = read_table(root, name, VALUE_PER_KG_SCHEMA, required=("chapter", "min_usd_per_kg"))
    bad = table.filter(~pl.col("chapter").str.contains(r"^\d{2}$") | (pl.col("min_usd_per_kg") <= 0))
    if bad.height:
        raise RulePackError(
            str(root / name), f"chapter={bad['chapter'][0]}", "chapter must be 2 digits, value > 0"
        )
    if table["chapter"].is_duplicated().any():
        raise RulePackError(str(root / name), "chapter", "one row per chapter")
    return table
