"""Denied-party screening lists: OFAC's SDN.CSV and the pack's canonical screening-list CSV.

OFAC's ``sdn.csv`` has no header and twelve columns (ent_num, SDN_Name, SDN_Type, Program, Title,
Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks), ``-0-`` followed by a blank as
its null marker, CRLF line ends and a DOS end-of-file byte (``0x1A``) on a line of its own.
:func:`read_ofac_sdn` turns it into the canonical layout (:data:`SCREENING_LIST_SCHEMA`), which the
pack stores as CSV (:func:`write_screening_list`, :func:`read_screening_list`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import polars as pl

from screening.errors import RulePackError

#: OFAC's documented SDN.CSV columns, in file order.
SDN_COLUMNS: Final = (
    "ent_num",
    "sdn_name",
    "sdn_type",
    "program",
    "title",
    "call_sign",
    "vess_type",
    "tonnage",
    "grt",
    "vess_flag",
    "vess_owner",
    "remarks",
)

#: ``SDN_Type`` values; OFAC writes the null marker for entities (organisations).
SDN_TYPES: Final = ("individual", "vessel", "aircraft")
ENTITY_TYPES: Final = (*SDN_TYPES, "entity")

#: ``a.k.a. 'X'``, ``f.k.a. 'Y'`` and ``n.k.a. 'Z'`` in Remarks. The alias ends at the first quote
#: followed by ``;``, ``.`` or the end of the text, so quotes inside names (``'ABU-'UMAR'``) survive.
#: An alias whose closing quote is missing (OFAC truncates long Remarks) is left out.
ALIAS_PATTERN: Final = r"\b[afn]\.k\.a\. '(.*?)'(?:[;.]|$)"

#: Separator of aliases inside the one ``aliases`` (and ``weak_aliases``) field of the canonical CSV.
ALIAS_SEPARATOR: Final = " | "

OFAC_SDN_SOURCE: Final = "OFAC SDN"

#: Canonical screening-list layout (the CSV holds ``aliases`` as one string joined by ``" | "``).
SCREENING_LIST_SCHEMA: Final[dict[str, pl.DataType]] = {
    "entry_id": pl.String(),
    "name": pl.String(),
    "aliases": pl.List(pl.String()),
    "weak_aliases": pl.List(pl.String()),
    "program": pl.String(),
    "entity_type": pl.String(),
    "source": pl.String(),
}
REQUIRED_COLUMNS: Final = ("entry_id", "name")
#: Columns holding a list of names: ``aliases`` are screened like the name; ``weak_aliases`` are kept to help
#: confirm a hit made on other grounds, never matched on their own (OFAC FAQ 124).
ALIAS_COLUMNS: Final = ("aliases", "weak_aliases")


def read_ofac_sdn(path: str | Path) -> pl.DataFrame:
    """Read OFAC's ``sdn.csv`` into the canonical screening-list layout.

    Returns:
        One row per SDN entry: ``entry_id`` (``ofac-sdn-<ent_num>``), ``name`` (SDN_Name as published),
        ``aliases`` (empty: OFAC publishes the strong aliases in ``alt.csv``, not read here),
        ``weak_aliases`` (the Remarks' ``a.k.a.``/``f.k.a.``/``n.k.a.`` names, in order, without duplicates:
        in the delimited files OFAC writes its *weak* aliases there, nicknames and generic names it does not
        expect to be screened on their own, OFAC FAQs 122-124), ``program`` (the tags joined by ``"; "``, e.g. ``IRAN; SDGT``), ``entity_type``
        (``individual``, ``vessel``, ``aircraft`` or ``entity``) and ``source`` (``OFAC SDN``), in file
        order.

    Raises:
        RulePackError: the file is missing, unreadable or not in the SDN.CSV layout.
    """
    file = Path(path)
    if not file.is_file():
        raise RulePackError(str(file), "", "OFAC SDN file not found")
    try:
        raw = pl.read_csv(
            file,
            has_header=False,
            null_values=["-0- ", "-0-"],
            truncate_ragged_lines=True,
            infer_schema_length=0,
            encoding="utf8-lossy",
            glob=False,
        )
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise RulePackError(str(file), "", f"not a readable SDN.CSV file: {exc}") from exc
    if raw.width != len(SDN_COLUMNS):
        raise RulePackError(
            str(file), "", f"not in the SDN.CSV layout: {raw.width} columns, expected {len(SDN_COLUMNS)}"
        )
    raw = raw.rename(dict(zip(raw.columns, SDN_COLUMNS, strict=True)))
    ent_num = pl.col("ent_num").str.strip_chars()
    others_null = pl.all_horizontal(pl.col(list(SDN_COLUMNS[1:])).is_null())
    eof = (ent_num.is_null() | (ent_num == "") | (ent_num == "\x1a")) & others_null
    rows = raw.filter(~eof)
    _check_sdn_layout(file, rows)
    aliases = (
        pl.col("remarks")
        .str.extract_all(ALIAS_PATTERN)
        .list.eval(pl.element().str.extract(ALIAS_PATTERN, 1).str.strip_chars())
        .list.eval(pl.element().filter(pl.element().is_not_null() & (pl.element() != "")))
        .list.unique(maintain_order=True)
        .fill_null(pl.lit([], dtype=pl.List(pl.String())))
    )
    program = (
        pl.col("program")
        .str.strip_chars(" []")
        .str.split("] [")
        .list.eval(pl.element().str.strip_chars())
        .list.join("; ")
    )
    return rows.select(
        entry_id=pl.lit("ofac-sdn-") + ent_num.str.strip_chars_start("0").replace("", "0"),
        name=pl.col("sdn_name").str.strip_chars(),
        aliases=pl.lit([], dtype=pl.List(pl.String())),
        weak_aliases=aliases,
        program=program,
        entity_type=pl.col("sdn_type").str.strip_chars().fill_null("entity"),
        source=pl.lit(OFAC_SDN_SOURCE),
    ).cast(SCREENING_LIST_SCHEMA)  # type: ignore[arg-type]


def _check_sdn_layout(file: Path, rows: pl.DataFrame) -> None:
    """Reject frames that are not SDN rows: a header, non-numeric ids, unknown types, no names."""
    if rows.height == 0:
        raise RulePackError(str(file), "", "not in the SDN.CSV layout: no entries")
    bad_id = rows.filter(~pl.col("ent_num").str.strip_chars().str.contains(r"^\d+$").fill_null(False))
    if bad_id.height:
        raise RulePackError(
            str(file),
            "",
            f"not in the SDN.CSV layout: ent_num {bad_id['ent_num'][0]!r} is not an integer "
            f"({bad_id.height} such rows)",
        )
    bad_type = rows.filter(
        pl.col("sdn_type").is_not_null() & ~pl.col("sdn_type").str.strip_chars().is_in(SDN_TYPES)
    )
    if bad_type.height:
        raise RulePackError(
            str(file), "", f"not in the SDN.CSV layout: unknown SDN_Type {bad_type['sdn_type'][0]!r}"
        )
    no_name = rows.filter(pl.col("sdn_name").str.strip_chars().fill_null("") == "")
    if no_name.height:
        raise RulePackError(
            str(file), "", f"not in the SDN.CSV layout: entry {no_name['ent_num'][0]} has no SDN_Name"
        )
    duplicated = rows.filter(pl.col("ent_num").is_duplicated())
    if duplicated.height:
        raise RulePackError(
            str(file), "", f"not in the SDN.CSV layout: ent_num {duplicated['ent_num'][0]} is repeated"
        )


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    """Deterministic order: by id prefix, then the id's trailing number, then the id itself."""
    parts = pl.col("entry_id").str.extract_groups(r"^(.*?)(\d*)$")
    return frame.sort(
        parts.struct.field("1"),
        parts.struct.field("2").cast(pl.UInt64(), strict=False),
        pl.col("entry_id"),
        nulls_last=True,
    )


def write_screening_list(frame: pl.DataFrame, path: str | Path) -> None:
    """Write ``frame`` (canonical layout) as the pack's screening-list CSV, sorted by ``entry_id``.

    ``aliases`` and ``weak_aliases`` are written as one field each, the aliases joined by ``" | "``.

    Raises:
        RulePackError: a required column is missing, or an alias contains the separator.
    """
    file = Path(path)
    table = _with_defaults(frame, file)
    for column in ALIAS_COLUMNS:
        clash = table.filter(
            pl.col(column).list.eval(pl.element().str.contains(ALIAS_SEPARATOR, literal=True)).list.any()
        )
        if clash.height:
            raise RulePackError(
                str(file),
                column,
                f"entry {clash['entry_id'][0]} has an alias containing the separator {ALIAS_SEPARATOR!r}",
            )
    out = _sorted(table).with_columns(pl.col(ALIAS_COLUMNS).list.join(ALIAS_SEPARATOR))
    file.parent.mkdir(parents=True, exist_ok=True)
    out.write_csv(file, line_terminator="\n")


def read_screening_list(path: str | Path) -> pl.DataFrame:
    """Read a screening-list CSV written by :func:`write_screening_list` (or by hand).

    ``entry_id`` and ``name`` are required; ``aliases`` and ``weak_aliases`` default to ``[]``, ``program`` to null,
    ``entity_type`` to ``entity`` and ``source`` to the file's name. Extra columns are dropped.

    Returns:
        The list in :data:`SCREENING_LIST_SCHEMA`, ``aliases`` as ``list[str]``, sorted by ``entry_id``.

    Raises:
        RulePackError: the file is missing or unreadable, lacks a required column, has an empty
            ``entry_id`` or ``name``, a repeated ``entry_id`` or an unknown ``entity_type``.
    """
    file = Path(path)
    if not file.is_file():
        raise RulePackError(str(file), "", "screening list file missing from the rule pack")
    try:
        raw = pl.read_csv(file, infer_schema=False, null_values=[""], glob=False)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        raise RulePackError(str(file), "", f"not a readable CSV file: {exc}") from exc
    raw = raw.with_columns(
        pl.col(column)
        .str.split(ALIAS_SEPARATOR)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
        for column in ALIAS_COLUMNS
        if column in raw.columns
    )
    return _sorted(_with_defaults(raw, file))


def _with_defaults(frame: pl.DataFrame, file: Path) -> pl.DataFrame:
    """Check required columns and values; fill optional columns; select the canonical layout."""
    for column in REQUIRED_COLUMNS:
        if column not in frame.columns:
            raise RulePackError(str(file), column, f"screening list lacks the required column {column!r}")
    defaults: dict[str, pl.Expr] = {
        "aliases": pl.lit([], dtype=pl.List(pl.String())),
        "weak_aliases": pl.lit([], dtype=pl.List(pl.String())),
        "program": pl.lit(None, dtype=pl.String()),
        "entity_type": pl.lit("entity"),
        "source": pl.lit(file.name),
    }
    table = frame.with_columns(
        [expr.alias(name) for name, expr in defaults.items() if name not in frame.columns]
    ).select(
        pl.col(name).cast(dtype)
        if name in REQUIRED_COLUMNS
        else pl.col(name).cast(dtype).fill_null(defaults[name])
        for name, dtype in SCREENING_LIST_SCHEMA.items()
    )
    table = table.with_columns(pl.col("entry_id", "name").str.strip_chars())
    for column in REQUIRED_COLUMNS:
        empty = table.filter(pl.col(column).fill_null("") == "")
        if empty.height:
            raise RulePackError(str(file), column, f"{empty.height} rows have an empty {column!r}")
    repeated = table.filter(pl.col("entry_id").is_duplicated())
    if repeated.height:
        raise RulePackError(str(file), "entry_id", f"entry_id {repeated['entry_id'][0]!r} is repeated")
    unknown = table.filter(~pl.col("entity_type").is_in(ENTITY_TYPES))
    if unknown.height:
        raise RulePackError(
            str(file),
            "entity_type",
            f"unknown entity_type {unknown['entity_type'][0]!r} (expected one of {', '.join(ENTITY_TYPES)})",
        )
    return table
