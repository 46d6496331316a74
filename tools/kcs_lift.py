"""Measure targeting lift on the labelled KCS synthetic declarations (sample_data/kcs_synthetic).

The validation split (2021-01 to 2021-03) is screened first and serves as history for the test
split (2021-04 to 2021-06), which is screened with every queue's capacity fixed per office and
day. Lift = fraud share among targeted inspections / fraud share in the random compliance sample
(and, as a steadier baseline, / the fraud share of all screened declarations).

Usage: python tools/kcs_lift.py [--capacity N] [--rules rules/us]
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
from pathlib import Path

import polars as pl

import screening

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "sample_data" / "kcs_synthetic"
MAPPING = DATA / "mapping.toml"


#: The clause of ``duty-not-computable`` that fires where the pack's tariff does not cover the date: the
#: tariff starts in 2025, so on these 2021 declarations it routes every dutiable one to revenue review, which
#: says nothing about fraud and would crowd out the targeting being measured.
UNCOVERED_TARIFF_CLAUSE = " OR (duty_status = 'no-tariff-line' AND NOT tariff_covers_date)"


def pack_with_capacity(rules: Path, capacity: int, folder: Path) -> Path:
    """A copy of ``rules`` whose queues all take ``capacity`` packages per port (office) and day, without
    :data:`UNCOVERED_TARIFF_CLAUSE`."""
    copy = folder / "pack"
    shutil.copytree(rules, copy)
    queues = copy / "queues.toml"
    text = re.sub(r"capacity_per_port_day = \d+", f"capacity_per_port_day = {capacity}", queues.read_text())
    queues.write_text(text)
    risk = copy / "risk.toml"
    catalogue = risk.read_text()
    if catalogue.count(UNCOVERED_TARIFF_CLAUSE) != 1:
        raise SystemExit(
            f"{rules}/risk.toml: the clause to leave out was not found once: {UNCOVERED_TARIFF_CLAUSE!r}"
        )
    risk.write_text(catalogue.replace(UNCOVERED_TARIFF_CLAUSE, ""))
    return copy


def labels(split: str) -> pl.DataFrame:
    return pl.read_csv(DATA / f"df_syn_{split}_eng.csv", infer_schema=False).select(
        pl.col("Declaration ID").alias("package_id"),
        (pl.col("Fraud") == "1").alias("fraud"),
        (pl.col("Critical Fraud") == "2").alias("critical"),
    )


def measure(capacity: int, rules: Path) -> dict[str, float | int]:
    with tempfile.TemporaryDirectory() as tmp:
        pack = screening.load_rules(pack_with_capacity(rules, capacity, Path(tmp)))
        history = screening.screen(DATA / "df_syn_valid_eng.csv", rules=pack, mapping=MAPPING)
        history.write(Path(tmp) / "history")
        result = screening.screen(
            DATA / "df_syn_test_eng.csv", rules=pack, mapping=MAPPING, history=[Path(tmp) / "history"]
        )
    packages = result.packages.join(labels("test"), on="package_id", how="left")
    inspected = packages.filter(pl.col("disposition") == "inspect")
    sampled = packages.filter(pl.col("random_sample"))
    base = packages["fraud"].mean()
    targeted = inspected["fraud"].mean()
    random = sampled["fraud"].mean()
    return {
        "capacity": capacity,
        "screened": packages.height,
        "rejected": result.rejects.height,
        "inspected": inspected.height,
        "targeted_fraud_share": float(targeted or 0),
        "sampled": sampled.height,
        "sample_fraud_share": float(random or 0),
        "all_fraud_share": float(base or 0),
        "lift_vs_sample": float(targeted / random) if random else float("nan"),
        "lift_vs_all": float(targeted / base) if base else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--capacity", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--rules", type=Path, default=ROOT / "rules" / "us")
    args = parser.parse_args()
    rows = [measure(c, args.rules) for c in args.capacity]
    table = pl.DataFrame(rows)
    with pl.Config(tbl_rows=-1, tbl_cols=-1, float_precision=3, tbl_width_chars=200):
        print(table)


if __name__ == "__main__":
    main()
