"""Rebuild the U.S. pack's big tables from the public data in ../shared/data.

    python tools/build_us_tables.py [--shared ../shared/data]

Writes rules/us/tariff/mfn.csv (MFN lines covering the HTS codes used by the
sample data, from two USITC HTSUS exports) and rules/us/fx/usd_rates.parquet
(USD cross rates derived from ECB reference rates since 2016-01-01).
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from screening.rulepack.fx_import import usd_rates_from_ecb
from screening.rulepack.hts_import import Revision, build_mfn_table, write_mfn_csv

#: Real 10-digit HTSUS codes of goods common in low-value e-commerce parcels (sample data draws from these).
SAMPLE_HTS_CODES = [
    "6109100012",
    "6109100040",
    "6110202079",
    "6110303059",
    "6402993165",
    "6404199060",
    "6403999065",
    "4202221500",
    "8517620090",
    "8517130000",
    "8518301000",
    "8471300100",
    "8543708800",
    "8544429090",
    "9503000073",
    "9503000090",
    "3304100000",
    "3305100000",
    "7117909000",
    "7113115000",
    "9004100000",
    "6117808710",
    "9506910030",
    "8214100000",
    "8215990500",
    "6307909891",
    "8523510000",
    "2204215040",
    "2403110000",
    "2106909998",
    "0902101050",
    "4901990050",
    "8516310000",
    "6506106030",
    "9617001000",
    "6912005000",
]


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
    write_mfn_csv(build_mfn_table(revisions, only=SAMPLE_HTS_CODES), args.pack / "tariff" / "mfn.csv")
    rates = usd_rates_from_ecb(args.shared / "fx_ecb" / "eurofxref-hist.csv", since=dt.date(2016, 1, 1))
    rates.write_parquet(args.pack / "fx" / "usd_rates.parquet", compression="zstd", statistics=False)


if __name__ == "__main__":
    main()
