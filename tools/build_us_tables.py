"""Rebuild the U.S. pack's big tables from the public data in ../shared/data.

    python tools/build_us_tables.py [--shared ../shared/data]

Writes rules/us/tariff/mfn.csv (every MFN rate line of two USITC HTSUS exports,
merged into periods), rules/us/never_eligible/quota_trq.csv (the 8-digit lines under a
tariff-rate quota in either export), rules/us/tariff/column2.csv (the rate lines whose column 2 rate
differs from column 1, dated by export) and rules/us/fx/usd_rates.parquet
(USD cross rates derived from ECB reference rates since 2016-01-01).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

from screening.rulepack.fx_import import usd_rates_from_ecb
from screening.rulepack.hts_import import (
    Revision,
    build_mfn_table,
    column2_rate_lines,
    tariff_rate_quota_lines,
    write_mfn_csv,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--pack", type=Path, default=Path("rules/us"))
    args = parser.parse_args()
    hts = args.shared / "usitc_hts"
    revisions = [
        Revision("2025-rev-32", hts / "hts_2025_rev_32.json.gz", dt.date(2025, 1, 1)),
        Revision("2026-rev-10", hts / "hts_2026_rev_10.json.gz", dt.date(2026, 1, 1)),
    ]
    write_mfn_csv(build_mfn_table(revisions), args.pack / "tariff" / "mfn.csv")
    quota = sorted({code for revision in revisions for code in tariff_rate_quota_lines(revision.path)})
    (args.pack / "never_eligible").mkdir(exist_ok=True)
    pl.DataFrame({"hts_prefix": quota}, schema={"hts_prefix": pl.String()}).write_csv(
        args.pack / "never_eligible" / "quota_trq.csv"
    )
    write_column2_table(revisions, args.pack / "tariff" / "column2.csv")
    rates = usd_rates_from_ecb(args.shared / "fx_ecb" / "eurofxref-hist.csv", since=dt.date(2016, 1, 1))
    rates.write_parquet(args.pack / "fx" / "usd_rates.parquet", compression="zstd", statistics=False)


def write_column2_table(revisions: list[Revision], path: Path) -> None:
    """The lines of each export whose column 2 rate differs from column 1, as a scope table dated by the periods
    the pack applies the exports in (a line in two consecutive exports keeps one open period)."""
    ordered = sorted(revisions, key=lambda r: r.effective_from)
    starts = [r.effective_from for r in ordered]
    ends: list[dt.date | None] = [*starts[1:], None]
    rows: dict[str, list[tuple[dt.date, dt.date | None]]] = {}
    for revision, start, end in zip(ordered, starts, ends, strict=True):
        for code in column2_rate_lines(revision.path):
            periods = rows.setdefault(code, [])
            if periods and periods[-1][1] == start:
                periods[-1] = (periods[-1][0], end)
            else:
                periods.append((start, end))
    table = [(code, start, end) for code in sorted(rows) for start, end in rows[code]]
    pl.DataFrame(
        table,
        schema={"hts_prefix": pl.String(), "effective_from": pl.Date(), "effective_to": pl.Date()},
        orient="row",
    ).write_csv(path)


if __name__ == "__main__":
    main()
