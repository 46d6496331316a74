"""The contenders of the performance table, each screening the same manifest file.

- ``floor``: polars reads the manifest and writes it back as Parquet (zstd): no tool can do less.
- ``engine``: the whole-day engine as ``screen run`` runs it (``screening.screen_to_folder``), every output
  written (DESIGN §3.2).
- ``engine-batches``: ``screening.Screener`` fed 50,000-line record batches, every output written.
- ``duckdb``: what a user would write instead: the core decisions (FX, consignee-day totals,
  eligibility with suspensions, MFN ad valorem duty, entry type) as one DuckDB SQL script.
- ``per-row``: the naive way: a pydantic model per line and dictionary lookups, on a 100,000-line slice.

The DuckDB and per-row baselines read the same resolved pack tables as the engine (FX, thresholds,
suspensions, the 8-digit MFN ad valorem rate), so their decisions agree with the engine's on the
lines they can decide; they skip everything else the engine does (specific rates, Chapter 99
measures, fees, risk, queues), which flatters them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict

import screening
from screening.rulepack.resolve import resolve
from screening.screener import screen_files_in_batches

#: Lines of the per-row baseline's slice (its time is scaled to the whole file in the table).
PER_ROW_SLICE = 100_000
#: Record-batch size of the incremental contender.
BATCH_ROWS = 50_000

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
        "mfn": resolved.tariff.filter(pl.col("hts").str.len_chars() == 8, pl.col("status") == "computable")
        .select("arrival_date", pl.col("hts").alias("hts8"), pl.col("ad_valorem").cast(pl.Float64()))
        .unique(["arrival_date", "hts8"], keep="first"),
    }


_DUCKDB_SCRIPT = """
CREATE TEMP TABLE lines AS
SELECT m.package_id, m.line_no, m.arrival_date, m.mode, m.country_of_origin,
       regexp_replace(m.hts_code, '[^0-9]', '', 'g') AS hts_digits,
       CAST(floor(m.declared_value * fx.usd_per_unit * 100 + 0.5) AS BIGINT) AS value_cents,
       CASE WHEN coalesce(trim(m.consignee_id), '') <> '' THEN 'id:' || trim(m.consignee_id)
            ELSE 'name:' || trim(regexp_replace(lower(m.consignee_name), '[^a-z0-9]+', ' ', 'g'))
                 || '|' || coalesce(left(m.consignee_postal_code, 5), '') END AS consignee_key
FROM read_parquet('{manifest}') m
JOIN fx ON fx.arrival_date = m.arrival_date AND fx.currency = m.currency
WHERE m.declared_value >= 0 AND isfinite(m.declared_value);

CREATE TEMP TABLE totals AS
SELECT consignee_key, arrival_date, sum(value_cents) AS day_cents, count(DISTINCT package_id) AS day_packages
FROM lines GROUP BY ALL;

COPY (
  SELECT l.*, t.day_cents, t.day_packages,
         (d.threshold_cents IS NOT NULL AND t.day_cents <= d.threshold_cents AND s.mode IS NULL) AS eligible,
         CASE WHEN d.threshold_cents IS NOT NULL AND t.day_cents <= d.threshold_cents AND s.mode IS NULL THEN 0
              ELSE CAST(floor(l.value_cents * r.ad_valorem + 0.5) AS BIGINT) END AS duty_cents,
         CASE WHEN d.threshold_cents IS NOT NULL AND t.day_cents <= d.threshold_cents AND s.mode IS NULL
              THEN 'section-321'
              WHEN t.day_cents <= d.informal_max_cents THEN 'informal' ELSE 'formal' END AS entry_type
  FROM lines l
  JOIN totals t USING (consignee_key, arrival_date)
  LEFT JOIN days d USING (arrival_date)
  LEFT JOIN suspensions s ON s.arrival_date = l.arrival_date AND s.country_of_origin = l.country_of_origin
       AND s.mode = l.mode
  LEFT JOIN mfn r ON r.arrival_date = l.arrival_date AND r.hts8 = left(l.hts_digits, 8)
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
    connection.execute(_DUCKDB_SCRIPT.format(manifest=manifest, out=target))
    connection.close()
    return pl.scan_parquet(target).select(pl.len()).collect().item()


class _Line(BaseModel):
    """One manifest line as the naive version validates it."""

    model_config = ConfigDict(frozen=True)

    package_id: str
    line_no: int
    arrival_date: dt.date
    mode: str
    country_of_origin: str
    hts_code: str
    declared_value: float
    currency: str
    consignee_id: str | None = None
    consignee_name: str | None = None
    consignee_postal_code: str | None = None


def per_row(manifest: Path, out: Path, pack: screening.RulePack | None) -> int:
    """The same decisions as the DuckDB script, a pydantic model and Python loop per line."""
    tables = reference_tables(manifest, pack)
    fx = {(r["arrival_date"], r["currency"]): r["usd_per_unit"] for r in tables["fx"].to_dicts()}
    days = {r["arrival_date"]: r for r in tables["days"].to_dicts()}
    suspended = {
        (r["arrival_date"], r["country_of_origin"], r["mode"]) for r in tables["suspensions"].to_dicts()
    }
    mfn = {(r["arrival_date"], r["hts8"]): r["ad_valorem"] for r in tables["mfn"].to_dicts()}
    rows = pl.scan_parquet(manifest).head(PER_ROW_SLICE).collect().to_dicts()
    lines: list[tuple[_Line, int, str]] = []
    totals: dict[tuple[str, dt.date], int] = {}
    for row in rows:
        try:
            line = _Line.model_validate(row)
        except ValueError:
            continue
        rate = fx.get((line.arrival_date, line.currency))
        if rate is None or not line.declared_value >= 0:
            continue
        cents = int(Decimal(line.declared_value * rate * 100 + 0.5).to_integral_value(rounding="ROUND_FLOOR"))
        given = (line.consignee_id or "").strip()
        key = (
            f"id:{given}"
            if given
            else f"name:{(line.consignee_name or '').lower().strip()}|{(line.consignee_postal_code or '')[:5]}"
        )
        totals[(key, line.arrival_date)] = totals.get((key, line.arrival_date), 0) + cents
        lines.append((line, cents, key))
    decided = []
    for line, cents, key in lines:
        day = days.get(line.arrival_date)
        total = totals[(key, line.arrival_date)]
        eligible = (
            day is not None
            and total <= day["threshold_cents"]
            and (line.arrival_date, line.country_of_origin, line.mode) not in suspended
        )
        rate = mfn.get((line.arrival_date, "".join(ch for ch in line.hts_code if ch.isdigit())[:8]))
        duty = 0 if eligible else (None if rate is None else int(cents * rate + 0.5))
        entry = (
            "section-321"
            if eligible
            else ("informal" if day and total <= day["informal_max_cents"] else "formal")
        )
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
    "duckdb": duckdb_baseline,
    "per-row": per_row,
}
