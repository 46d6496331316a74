"""The contenders of the performance table, each screening the same manifest file.

- ``floor``: polars reads the manifest and writes it back as Parquet (zstd): no tool can do less.
- ``engine``: the whole-day engine as ``screen run`` runs it (``screening.screen_to_folder``), every output
  written (DESIGN §3.2).
- ``engine-batches``: ``screening.Screener`` fed 50,000-line record batches, every output written.
- ``screener``: ``screening.Screener`` as a library embeds it: 50,000-line Arrow record batches read from the
  file, each batch's :class:`~screening.Result` handed back in memory (nothing written).
- ``duckdb``: what a user would write instead: the core decisions (FX, consignee-day totals,
  eligibility with suspensions, MFN ad valorem duty, entry type) as one DuckDB SQL script.
- ``per-row``: the naive way: a pydantic model per line and dictionary lookups, on a 100,000-line slice.

The DuckDB and per-row baselines read the same resolved pack tables as the engine (FX, thresholds,
suspensions, the MFN ad valorem rate of the longest tariff line, 10 or 8 digits), drop the rows the
engine rejects for the checks they can make (required fields, mode, origin, HTS code, value, currency
and FX, a line number below 1, then a line given in two versions: a column they read differs) with the other
lines of their packages (the engine's ``package-incomplete``), number a line given without a number after its
package's highest number, in file order, before comparing versions (as the engine does), keep the first of a
line's exact copies, key consignees as the engine does for the generator's data
(DuckDB has no compatibility folding, NFKC, and strips the marks of every script, where the engine keeps those of non-Latin
scripts: the generated names are plain Latin text; ids are taken as written, without the engine's folding of
their case and punctuation or its placeholder words, and ZIPs without its placeholder words: the generated
ids are capitals and digits and every line has a ZIP) and choose the entry type by the package's value (mail is not told apart). They skip everything else the engine does (excise, quota and AD/CVD
classes, gifts, postal regimes, specific rates, Chapter 99 measures, fees, risk, queues), which
flatters them.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel, ConfigDict

import screening
from screening.rulepack.reference import known_countries
from screening.rulepack.resolve import resolve
from screening.schema import MODES
from screening.screener import screen_files_in_batches

#: Lines of the per-row baseline's slice (its time is scaled to the whole file in the table).
PER_ROW_SLICE = 100_000
#: Record-batch size of the incremental contender.
BATCH_ROWS = 50_000

#: Per contender, what its last run spent on work that does not grow with its slice of the manifest (the
#: per-row baseline's pack tables), as (wall s, CPU s): the table scales only the rest to the whole file.
FIXED_COST: dict[str, tuple[float, float]] = {}

#: ``(manifest, output folder, pack) -> rows processed``; the floor gets no pack (``None``).
Contender = Callable[[Path, Path, screening.RulePack | None], int]


def floor(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """Read and write back: the least any screening run must do."""
    pl.scan_parquet(manifest).sink_parquet(out / "copy.parquet", compression="zstd")
    return pl.scan_parquet(manifest).select(pl.len()).collect().item()


def engine(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """The full engine, whole-day mode, all outputs written (``screen run``: ``screen_to_folder``)."""
    assert pack is not None
    summary, _wall = screening.screen_to_folder(manifest, out / "run", rules=pack)
    counts = summary["counts"]
    return int(counts["lines"]) + int(counts["rejected"])


def engine_batches(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """The incremental engine (``screen run --batch-size``): batches in, outputs grown batch by batch."""
    assert pack is not None
    summary, _wall = screen_files_in_batches([manifest], out=out / "run", batch_size=BATCH_ROWS, rules=pack)
    counts = summary["counts"]
    return int(counts["lines"]) + int(counts["rejected"])


def screener_in_memory(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """``screening.Screener`` embedded: Arrow record batches in, each batch's result out, in memory. The
    caller holds one batch's result at a time (as a consumer forwarding results would)."""
    assert pack is not None
    screener = screening.Screener(pack)
    rows = 0
    for batch in pq.ParquetFile(manifest).iter_batches(batch_size=BATCH_ROWS):
        counts = screener.screen(batch).summary["counts"]
        rows += int(counts["lines"]) + int(counts["rejected"])
    return rows


def reference_tables(manifest: Path, pack: screening.RulePack | None) -> dict[str, pl.DataFrame]:
    """The pack's tables for the manifest's dates, flattened for the baselines (floats for rates)."""
    assert pack is not None, "the baselines read the pack's tables"
    dates = pl.scan_parquet(manifest).select(pl.col("arrival_date").unique()).collect()
    resolved = resolve(pack, [d for d in dates["arrival_date"].to_list() if d is not None])
    return {
        "fx": resolved.fx.select(
            "arrival_date", "currency", pl.col("fx_usd_per_unit").cast(pl.Float64()).alias("usd_per_unit")
        ),
        "days": resolved.days.select("arrival_date", "threshold_cents", "informal_max_cents"),
        "suspensions": resolved.suspensions.select("arrival_date", "country_of_origin", "mode").unique(),
        # Every tariff line (8 or 10 digits): a line's own rate governs, not its 8-digit parent's. A line
        # whose rate needs more than value (parts, or not computable) has no ad valorem rate here.
        "mfn": resolved.tariff.on_days()
        .select(
            "arrival_date",
            "hts",
            pl.when(pl.col("status") == "computable")
            .then(pl.col("ad_valorem").cast(pl.Float64()))
            .alias("ad_valorem"),
        )
        .unique(["arrival_date", "hts"], keep="first")
        .collect(),
        "countries": pl.DataFrame({"code": list(known_countries())}),
    }


_DUCKDB_SCRIPT = """
CREATE TEMP TABLE read AS
SELECT m.package_id, m.line_no, m.arrival_date, lower(trim(m.mode)) AS mode, upper(trim(m.country_of_origin)) AS country_of_origin,
       regexp_replace(m.hts_code, '[.\\s]', '', 'g') AS hts_digits,
       CASE WHEN isfinite(m.declared_value) THEN CAST(floor(m.declared_value * fx.usd_per_unit * 100 + 0.5) AS BIGINT)
            END AS value_cents,
       CASE WHEN coalesce(trim(m.consignee_id), '') <> '' THEN 'id:' || trim(m.consignee_id)
            ELSE 'name:' || trim(regexp_replace(replace(lower(strip_accents(nfc_normalize(m.consignee_name))), 'ß', 'ss'), '[^\\p{{L}}\\p{{M}}\\p{{N}}]+', ' ', 'g'))
                 || '|' || coalesce(CASE WHEN regexp_matches(m.postal, '^[0-9]{{5}}([0-9]{{4}})?([^0-9]|$)') THEN left(m.postal, 5)
                                         ELSE m.postal END, '') END AS consignee_key,
       m.file_row_number AS file_row,
       hash(m.arrival_date, lower(trim(m.mode)), upper(trim(m.country_of_origin)),
            regexp_replace(m.hts_code, '[.\\s]', '', 'g'), m.declared_value, m.currency, m.shipper_name,
            m.consignee_name, m.consignee_id, m.consignee_postal_code, m.description) AS content,
       coalesce(coalesce(trim(m.package_id), '') <> '' AND coalesce(trim(m.shipper_name), '') <> ''
         AND coalesce(trim(m.consignee_name), '') <> '' AND coalesce(trim(m.description), '') <> ''
         AND lower(trim(m.mode)) IN {modes}
         AND upper(trim(m.country_of_origin)) IN (SELECT code FROM countries)
         AND regexp_full_match(regexp_replace(m.hts_code, '[.\\s]', '', 'g'), '[0-9]{{6}}([0-9]{{2}}){{0,2}}')
         AND m.declared_value >= 0 AND isfinite(m.declared_value) AND fx.usd_per_unit IS NOT NULL
         AND coalesce(m.line_no >= 1, true), false) AS ok
FROM (SELECT *, regexp_replace(upper(consignee_postal_code), '\\s', '', 'g') AS postal
      FROM read_parquet('{manifest}', file_row_number = true)) m
LEFT JOIN fx ON fx.arrival_date = m.arrival_date AND fx.currency = m.currency;

-- A package with a rejected line is screened not at all (the engine's package-incomplete).
CREATE TEMP TABLE checked AS
SELECT * EXCLUDE (ok) FROM read
WHERE ok AND trim(package_id) NOT IN (
  SELECT DISTINCT trim(package_id) FROM read WHERE NOT ok AND coalesce(trim(package_id), '') <> '');

-- A line without a number is numbered after its package's highest, in file order.
CREATE TEMP TABLE numbered AS
SELECT * FROM checked WHERE line_no IS NOT NULL
UNION ALL
SELECT c.* REPLACE (coalesce(h.highest, 0) + row_number() OVER (PARTITION BY c.package_id ORDER BY c.file_row)
                    AS line_no)
FROM checked c LEFT JOIN (
  SELECT package_id, max(line_no) AS highest FROM checked
  WHERE package_id IN (SELECT package_id FROM checked WHERE line_no IS NULL) GROUP BY package_id) h USING (package_id)
WHERE c.line_no IS NULL;

-- A line given in two versions (they differ in a column read here: a 64-bit hash of them) is screened not at
-- all, nor the rest of its package (the engine's conflicting-line, then package-incomplete); of a line given twice alike, the first copy
-- is kept.
CREATE TEMP TABLE lines AS
SELECT * EXCLUDE (file_row, content) FROM numbered
WHERE package_id NOT IN (
  SELECT package_id FROM numbered GROUP BY package_id, line_no HAVING min(content) <> max(content))
QUALIFY row_number() OVER (PARTITION BY package_id, line_no ORDER BY file_row) = 1;

CREATE TEMP TABLE totals AS
SELECT consignee_key, arrival_date, sum(value_cents) AS day_cents, count(DISTINCT package_id) AS day_packages
FROM lines GROUP BY ALL;

CREATE TEMP TABLE package_values AS
SELECT package_id, sum(value_cents) AS package_cents FROM lines GROUP BY ALL;

COPY (
  SELECT l.*, t.day_cents, t.day_packages, p.package_cents,
         (d.threshold_cents IS NOT NULL AND t.day_cents <= d.threshold_cents AND s.mode IS NULL) AS eligible,
         CASE WHEN d.threshold_cents IS NOT NULL AND t.day_cents <= d.threshold_cents AND s.mode IS NULL THEN 0
              ELSE CAST(floor(l.value_cents * CASE WHEN r10.hts IS NOT NULL THEN r10.ad_valorem ELSE r8.ad_valorem END
                                  + 0.5) AS BIGINT)
              END AS duty_cents,
         CASE WHEN d.threshold_cents IS NOT NULL AND t.day_cents <= d.threshold_cents AND s.mode IS NULL
              THEN 'section-321'
              WHEN p.package_cents <= d.informal_max_cents THEN 'informal' ELSE 'formal' END AS entry_type
  FROM lines l
  JOIN totals t USING (consignee_key, arrival_date)
  JOIN package_values p USING (package_id)
  LEFT JOIN days d USING (arrival_date)
  LEFT JOIN suspensions s ON s.arrival_date = l.arrival_date AND s.country_of_origin = l.country_of_origin
       AND s.mode = l.mode
  LEFT JOIN mfn r10 ON r10.arrival_date = l.arrival_date AND r10.hts = left(l.hts_digits, 10)
       AND length(l.hts_digits) = 10
  LEFT JOIN mfn r8 ON r8.arrival_date = l.arrival_date AND r8.hts = left(l.hts_digits, 8)
) TO '{out}' (FORMAT parquet, COMPRESSION zstd);
"""


def duckdb_baseline(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """The core decisions as one DuckDB SQL script (group by, then join back)."""
    import duckdb

    tables = {name: frame.to_arrow() for name, frame in reference_tables(manifest, pack).items()}
    connection = duckdb.connect()
    for name, table in tables.items():
        connection.register(name, table)
    target = out / "duckdb.parquet"
    connection.execute(_DUCKDB_SCRIPT.format(manifest=manifest, out=target, modes=tuple(MODES)))
    connection.close()
    return pl.scan_parquet(target).select(pl.len()).collect().item()


class _Line(BaseModel):
    """One manifest line as the naive version validates it."""

    model_config = ConfigDict(frozen=True)

    package_id: str
    line_no: int | None = None
    arrival_date: dt.date
    mode: str
    shipper_name: str
    consignee_name: str
    country_of_origin: str
    hts_code: str
    description: str
    declared_value: float
    currency: str
    consignee_id: str | None = None
    consignee_postal_code: str | None = None


_HTS_CODE = re.compile(r"\d{6}(\d{2}){0,2}")
#: What the engine's name key turns into blanks: anything but letters and digits (Unicode).
_BLANKS = re.compile(r"\s")
_ZIP5 = re.compile(r"([0-9]{5})(?:[0-9]{4})?(?:[^0-9]|$)")


def _name_key(name: str) -> str:
    """The name as the engine keys it: compatibility forms folded (NFKD), invisible format characters dropped,
    accents off Latin letters, composed (NFC), lower case, ``ß`` as ``ss``, letters, marks and digits kept,
    the rest one blank between words."""
    kept_chars: list[str] = []
    after_latin = False
    for char in unicodedata.normalize("NFKD", name):
        category = unicodedata.category(char)
        if category == "Cf" or (category == "Mn" and after_latin):
            continue
        if category != "Mn":
            after_latin = category.startswith("L") and "LATIN" in unicodedata.name(char, "")
        kept_chars.append(char)
    text = unicodedata.normalize("NFC", "".join(kept_chars)).lower().replace("ß", "ss")
    kept = "".join(c if c.isalnum() or unicodedata.category(c).startswith("M") else " " for c in text)
    return " ".join(kept.split())


def _zip5(postal_code: str | None) -> str:
    """The five digits of a U.S. ZIP or ZIP+4, else the code in capitals without blanks (as the engine keys)."""
    cleaned = _BLANKS.sub("", (postal_code or "").upper())
    found = _ZIP5.match(cleaned)
    return found.group(1) if found else cleaned


def _checked(row: dict[str, object], fx: dict[tuple[dt.date, str], float]) -> tuple[_Line, str, int] | None:
    """A row that passes the checks the engine makes (the line, its HTS digits, its value in cents), or None."""
    try:
        line = _Line.model_validate(row)
    except ValueError:
        return None
    digits = line.hts_code.replace(".", "").replace(" ", "")
    rate = fx.get((line.arrival_date, line.currency))
    if (
        not all(
            text.strip()
            for text in (line.package_id, line.shipper_name, line.consignee_name, line.description)
        )
        or line.mode.strip().lower() not in MODES
        or line.country_of_origin.strip().upper() not in _COUNTRIES
        or not _HTS_CODE.fullmatch(digits)
        or rate is None
        or not 0 <= line.declared_value < float("inf")
        or (line.line_no is not None and line.line_no < 1)
    ):
        return None
    cents = int(Decimal(line.declared_value * rate * 100 + 0.5).to_integral_value(rounding="ROUND_FLOOR"))
    return line, digits, cents


_COUNTRIES = frozenset(known_countries())


def _content(line: _Line, digits: str) -> tuple[object, ...]:
    """What the baselines read of a line, beside its key (mode, origin and HTS code as they compare them): two
    lines of one key that differ in it are two versions of the line."""
    return (
        line.arrival_date,
        line.mode.strip().lower(),
        line.country_of_origin.strip().upper(),
        digits,
        line.declared_value,
        line.currency,
        line.shipper_name,
        line.consignee_name,
        line.consignee_id,
        line.consignee_postal_code,
        line.description,
    )


def _numbered(
    checked_rows: list[tuple[_Line, str, int] | None], incomplete: set[str]
) -> list[tuple[_Line, str, int]]:
    """The checked lines but those of ``incomplete`` packages, a line without a number numbered after its package's
    highest, in file order; then without the packages that give a line in two versions (they differ in a field read
    here: the engine's ``conflicting-line``, then ``package-incomplete``)."""
    highest: dict[str, int] = {}
    for checked in checked_rows:
        if checked is not None and checked[0].line_no is not None:
            package_id = checked[0].package_id
            highest[package_id] = max(highest.get(package_id, 0), checked[0].line_no)
    numbered: list[tuple[_Line, str, int]] = []
    for checked in checked_rows:
        if checked is None or checked[0].package_id.strip() in incomplete:
            continue
        line, digits, cents = checked
        if line.line_no is None:
            number = highest[line.package_id] = highest.get(line.package_id, 0) + 1
            line = line.model_copy(update={"line_no": number})
        numbered.append((line, digits, cents))
    versions: dict[tuple[str, int | None], set[tuple[object, ...]]] = {}
    for line, digits, _cents in numbered:
        versions.setdefault((line.package_id, line.line_no), set()).add(_content(line, digits))
    conflicting = {package_id for (package_id, _number), found in versions.items() if len(found) > 1}
    return [numbered_line for numbered_line in numbered if numbered_line[0].package_id not in conflicting]


def per_row(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """The same decisions as the DuckDB script, a pydantic model and Python loop per line."""
    started, cpu_before = time.perf_counter(), time.process_time()
    # Once per run whatever the slice (the dates are read from the whole file): recorded in FIXED_COST.
    tables = reference_tables(manifest, pack)
    fx = {(r["arrival_date"], r["currency"]): r["usd_per_unit"] for r in tables["fx"].to_dicts()}
    days = {r["arrival_date"]: r for r in tables["days"].to_dicts()}
    suspended = {
        (r["arrival_date"], r["country_of_origin"], r["mode"]) for r in tables["suspensions"].to_dicts()
    }
    mfn = {(r["arrival_date"], r["hts"]): r["ad_valorem"] for r in tables["mfn"].to_dicts()}
    FIXED_COST["per-row"] = (time.perf_counter() - started, time.process_time() - cpu_before)
    rows = pl.scan_parquet(manifest).head(PER_ROW_SLICE).collect().to_dicts()
    lines: list[tuple[_Line, str, int, str]] = []
    seen: set[tuple[str, int | None]] = set()
    totals: dict[tuple[str, dt.date], int] = {}
    package_totals: dict[str, int] = {}
    checked_rows = [_checked(row, fx) for row in rows]
    # A package with a rejected line is screened not at all (the engine's package-incomplete).
    incomplete = {
        str(row["package_id"]).strip()
        for row, checked in zip(rows, checked_rows, strict=True)
        if checked is None and str(row.get("package_id") or "").strip()
    }
    for line, digits, cents in _numbered(checked_rows, incomplete):
        if (line.package_id, line.line_no) in seen:
            continue  # of a line given twice alike, the first copy is kept
        seen.add((line.package_id, line.line_no))
        given = (line.consignee_id or "").strip()
        name = _name_key(line.consignee_name)
        key = f"id:{given}" if given else f"name:{name}|{_zip5(line.consignee_postal_code)}"
        totals[(key, line.arrival_date)] = totals.get((key, line.arrival_date), 0) + cents
        package_totals[line.package_id] = package_totals.get(line.package_id, 0) + cents
        lines.append((line, digits, cents, key))
    decided = []
    for line, digits, cents, key in lines:
        day = days.get(line.arrival_date)
        total = totals[(key, line.arrival_date)]
        mode, origin = line.mode.strip().lower(), line.country_of_origin.strip().upper()
        eligible = (
            day is not None
            and day["threshold_cents"] is not None
            and total <= day["threshold_cents"]
            and (line.arrival_date, origin, mode) not in suspended
        )
        own = (line.arrival_date, digits[:10]) if len(digits) == 10 else None
        rate = mfn[own] if own in mfn else mfn.get((line.arrival_date, digits[:8]))
        duty = 0 if eligible else (None if rate is None else int(cents * rate + 0.5))
        informal = day is not None and package_totals[line.package_id] <= day["informal_max_cents"]
        entry = "section-321" if eligible else ("informal" if informal else "formal")
        decided.append(
            {"package_id": line.package_id, "line_no": line.line_no, "value_cents": cents, "day_cents": total,
             "eligible": eligible, "duty_cents": duty, "entry_type": entry}
        )  # fmt: skip
    pl.DataFrame(decided).write_parquet(out / "per_row.parquet", compression="zstd")
    return len(rows)


CONTENDERS: dict[str, Contender] = {
    "floor": floor,
    "engine": engine,
    "engine-batches": engine_batches,
    "screener": screener_in_memory,
    "duckdb": duckdb_baseline,
    "per-row": per_row,
}
