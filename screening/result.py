"""The result of a run: one polars frame per output, the summary with provenance, and writing it."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any

import polars as pl

from screening.errors import ScreeningError, UsageError
from screening.io.sources import Source
from screening.io.writers import OutputFormat, discard, publish, staging_dir, write_frames, write_json
from screening.rulepack.loader import RulePack
from screening.rulepack.risk_tables import ResolvedRisk

OUTPUTS = ("lines", "packages", "components", "flags", "queues", "rejects")


def engine_version() -> str:
    """The installed version of this package (``0+unknown`` when run from a plain checkout)."""
    try:
        return metadata.version("screening")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class Result:
    """Frames for each output plus the run summary.

    ``summary`` is deterministic (no clock readings); ``wall_seconds`` is kept apart.
    """

    lines: pl.DataFrame
    packages: pl.DataFrame
    components: pl.DataFrame
    flags: pl.DataFrame
    queues: pl.DataFrame
    rejects: pl.DataFrame
    summary: dict[str, Any]
    wall_seconds: float = field(default=0.0, compare=False)

    def frames(self) -> dict[str, pl.DataFrame]:
        """The tabular outputs by name."""
        return {name: getattr(self, name) for name in OUTPUTS}

    def check_conservation(self) -> None:
        """Every input row is in exactly one of lines and rejects; raise an internal error otherwise."""
        check_conservation(self.summary)

    def write(self, out: str | Path, *, fmt: OutputFormat = "parquet") -> Path:
        """Write every output and ``summary.json`` into folder ``out``, atomically.

        The folder afterwards holds the complete new set; on failure it keeps the previous one.
        """
        if fmt not in ("parquet", "csv"):
            raise UsageError(f"unknown output format {fmt!r}: use 'parquet' or 'csv'")
        target = Path(out)
        staging = staging_dir(target)
        try:
            write_frames(self.frames(), staging, fmt)
            write_json(self.summary, staging / "summary.json")
            publish(staging, target)
        except BaseException:
            discard(staging)
            raise
        return target


def check_conservation(summary: dict[str, Any]) -> None:
    """Raise an internal error unless the summary's input rows equal its lines plus rejects."""
    counts = summary["counts"]
    if counts["input_rows"] != counts["lines"] + counts["rejected"]:
        raise ScreeningError(
            f"internal error: {counts['input_rows']} input rows but {counts['lines']} lines + "
            f"{counts['rejected']} rejects"
        )


def file_digest(path: Path) -> str:
    """``sha256:`` of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return "sha256:" + digest.hexdigest()


def _money(cents_frame: pl.DataFrame, column: str) -> str:
    total = cents_frame[column].drop_nulls().sum() if cents_frame.height else Decimal(0)
    return f"{Decimal(total):.2f}"


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if frame.height == 0:
        return {}
    grouped = frame.group_by(column).len().sort(column, nulls_last=True)
    return {str(k): int(v) for k, v in grouped.iter_rows()}


#: The package columns a run summary reads (:func:`build_summary`).
SUMMARY_PACKAGE_COLUMNS = (
    "de_minimis_reason",
    "de_minimis_rule_id",
    "entry_type",
    "duty_status",
    "fee_status",
    "value_usd",
    "duty_usd",
    "fees_usd",
    "total_due_usd",
    "risk_flags",
    "queue",
    "disposition",
    "random_sample",
)


def read_compact(path: Path, columns: Sequence[str]) -> pl.DataFrame:
    """Columns of a Parquet output with text as categoricals: a day's packages read back for the summary
    take a few bytes per value instead of a string each."""
    schema = pl.read_parquet_schema(path)

    def compact(name: str) -> pl.Expr:
        dtype = schema[name]
        if dtype == pl.String():
            return pl.col(name).cast(pl.Categorical())
        if dtype == pl.List(pl.String()):
            return pl.col(name).cast(pl.List(pl.Categorical()))
        return pl.col(name)

    return pl.scan_parquet(path).select([compact(c) for c in columns]).collect(engine="streaming")


def build_summary(
    *,
    pack: RulePack,
    sources: Sequence[Source],
    input_counts: pl.DataFrame,
    line_count: int,
    packages: pl.DataFrame,
    rejects: pl.DataFrame,
    dates: Sequence[dt.date],
    risk: ResolvedRisk | None = None,
    citations: pl.DataFrame | None = None,
    options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Counts, money totals and provenance. Contains no names or addresses of people."""
    rows_by_source = {str(s): int(n) for s, n in input_counts.iter_rows()}
    inputs = []
    for source in sources:
        entry: dict[str, Any] = {"source": source.label, "rows": rows_by_source.get(source.label, 0)}
        if source.path is not None:
            entry["bytes"] = source.path.stat().st_size
            entry["sha256"] = file_digest(source.path)
        inputs.append(entry)
    unknown_duty = int(packages["duty_usd"].is_null().sum()) if packages.height else 0
    return {
        "engine": {"name": "screening", "version": engine_version()},
        "rules": {
            "id": pack.meta.id,
            "name": pack.meta.name,
            "content_hash": pack.content_hash,
            "fx_official": pack.fx.rates.official,
            "fx_note": "approximation of certified rates" if not pack.fx.rates.official else "certified",
        },
        "inputs": inputs,
        "options": dict(options or {}),
        "dates_resolved": [d.isoformat() for d in dates],
        "counts": {
            "input_rows": sum(rows_by_source.values()),
            "lines": line_count,
            "rejected": rejects.height,
            "packages": packages.height,
            "rejects_by_code": _counts(rejects, "code"),
            "packages_by_reason": _counts(packages, "de_minimis_reason"),
            "packages_by_entry_type": _counts(packages, "entry_type"),
            "packages_by_duty_status": _counts(packages, "duty_status"),
            "packages_by_fee_status": _counts(packages, "fee_status"),
        },
        "money": {
            "value_usd": _money(packages, "value_usd"),
            "duty_usd": _money(packages, "duty_usd"),
            "fees_usd": _money(packages, "fees_usd"),
            "total_due_usd": _money(packages, "total_due_usd"),
            "packages_with_unknown_duty": unknown_duty,
        },
        "risk": risk_summary(packages, risk, dates),
        "decision_rules": _decision_rules(packages, citations),
    }


def _decision_rules(packages: pl.DataFrame, citations: pl.DataFrame | None) -> dict[str, str]:
    """Citation of each de minimis rule that decided a package of the run (for ``screen explain``)."""
    if citations is None or not packages.height:
        return {}
    used = packages["de_minimis_rule_id"].drop_nulls().cast(pl.String()).unique().sort()
    rows = citations.filter(pl.col("rule_id").is_in(used.implode())).sort("rule_id")
    return {
        str(rule_id): str(citation) for rule_id, citation in rows.select("rule_id", "citation").iter_rows()
    }


def risk_summary(
    packages: pl.DataFrame, risk: ResolvedRisk | None, dates: Sequence[dt.date]
) -> dict[str, Any]:
    """Flag counts, queue loads (targeted apart from the random sample) and the screening list's age."""
    if risk is None or "risk_flags" not in packages.columns:
        return {}
    fired = packages.select(pl.col("risk_flags").explode().alias("rule_id")).drop_nulls()
    loads: dict[str, dict[str, int]] = {}
    if packages.height:
        grouped = (
            packages.filter(pl.col("queue").is_not_null())
            .group_by("queue", "disposition")
            .len()
            .sort("queue", "disposition")
        )
        for queue, disposition, count in grouped.iter_rows():
            loads.setdefault(str(queue), {})[str(disposition)] = int(count)
    summary: dict[str, Any] = {
        "rules": risk.rules.height,
        "rule_catalogue": {
            str(row["rule_id"]): {k: v for k, v in row.items() if k != "rule_id"}
            for row in risk.rules.to_dicts()
        },
        "packages_flagged": int((packages["risk_flags"].list.len() > 0).sum()) if packages.height else 0,
        "flags_by_rule": _counts(fired, "rule_id"),
        "packages_by_disposition": _counts(packages, "disposition"),
        "queues": loads,
        "random_sample": {
            "seed": risk.seed,
            "packages": int(packages["random_sample"].sum()) if packages.height else 0,
            "note": "chosen by FNV-1a 64 of seed:package_id; reported apart from targeted exams",
        },
    }
    if risk.denied is not None:
        latest = max(dates) if dates else None
        summary["screening_list"] = {
            "source": risk.denied.source,
            "file": risk.denied.file,
            "published": risk.denied.published.isoformat(),
            "entries": risk.screening_list.height,
            "age_days_at_latest_arrival": (latest - risk.denied.published).days if latest else None,
        }
    return summary
