"""The result of a run: one polars frame per output, the summary with provenance, and writing it."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Any, Final

import polars as pl

from screening.errors import ScreeningError, UsageError
from screening.io.sources import Source
from screening.io.writers import (
    OUTPUTS,
    OutputFormat,
    discard,
    output_lock,
    publish,
    refused_when_full,
    staging_dir,
    write_frames,
    write_json,
)
from screening.rulepack.loader import RulePack
from screening.rulepack.models import GiftExemption
from screening.rulepack.risk_tables import ResolvedRisk
from screening.schema import ROW_COL, SOURCE_COL
from screening.seed import seed_record
from screening.stages.assess import EXEMPTION_PREFIX
from screening.stages.denied import party_entries


@functools.cache
def engine_version() -> str:
    """The installed version of this package (``0+unknown`` when run from a plain checkout); looked up once
    per process (every batch's summary names it)."""
    try:
        return metadata.version("screening")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def engine_build() -> str:
    """``sha256:`` of the code that runs: every file of this package (path and bytes) as it was when the
    package was imported, whatever its version number says. Two checkouts or installs between releases share
    a version, not a build."""
    return _BUILD


def tree_digest(folder: Path) -> str:
    """``sha256:`` of every file under ``folder`` (its path there and its bytes; compiled caches left out)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return f"sha256:{digest.hexdigest()}"


#: :func:`engine_build`, hashed at import (about 3 ms; the one thing done at import): hashed at first use,
#: a long-running process named the files of a newer version installed after it had loaded the code.
_BUILD: Final = tree_digest(Path(__file__).resolve().parent)


@dataclass(frozen=True, eq=False, repr=False)
class Result:
    """Frames for each output plus the run summary.

    ``summary`` is deterministic (no clock readings); ``wall_seconds`` is kept apart. Two results are
    compared with :meth:`equals` (``==`` is identity, as for any object holding frames).
    """

    lines: pl.DataFrame
    packages: pl.DataFrame
    components: pl.DataFrame
    flags: pl.DataFrame
    queues: pl.DataFrame
    rejects: pl.DataFrame
    summary: dict[str, Any]
    wall_seconds: float = field(default=0.0, compare=False)
    #: The files the run read, resolved as it read them (:func:`read_files`): :meth:`write` refuses a folder
    #: that holds one, whatever the working folder is by then (the summary's paths may be relative to it).
    _inputs: tuple[Path, ...] = field(default=(), compare=False)
    #: The packages files of the history the run read, resolved likewise: :meth:`write` refuses a folder that
    #: holds one (an earlier day's outputs, replaced by this day's).
    _history: tuple[Path, ...] = field(default=(), compare=False)

    def frames(self) -> dict[str, pl.DataFrame]:
        """The tabular outputs by name."""
        return {name: getattr(self, name) for name in OUTPUTS}

    def equals(self, other: object) -> bool:
        """Whether ``other`` is a result holding the same outputs (values, types and order) and summary."""
        return (
            isinstance(other, Result)
            and self.summary == other.summary
            and all(
                mine.equals(theirs)
                for mine, theirs in zip(self.frames().values(), other.frames().values(), strict=True)
            )
        )

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}={frame.height:,}" for name, frame in self.frames().items())
        return f"Result({shapes}, wall_seconds={self.wall_seconds:.2f})"

    def check_conservation(self) -> None:
        """Every input row is in exactly one of lines and rejects; raise an internal error otherwise."""
        check_conservation(self.summary)

    def write(self, out: str | Path, *, fmt: OutputFormat = "parquet") -> Path:
        """Write every output and ``summary.json`` into folder ``out``, atomically.

        The folder afterwards holds the complete new set; on failure it keeps the previous one.

        Raises:
            UsageError: ``fmt`` is unknown, ``out`` cannot be replaced or written, holds a file the run read (a
                manifest, or the history's packages), or another run is writing it
                (:func:`~screening.io.writers.output_lock`).
        """
        if fmt not in ("parquet", "csv"):
            raise UsageError(f"unknown output format {fmt!r}: use 'parquet' or 'csv'")
        target = Path(out)
        # A run never replaces one of its inputs.
        with output_lock(target, self._inputs, self._history):
            staging = staging_dir(target, self._inputs, self._history)
            try:
                with refused_when_full(target, "the output folder"):
                    write_frames(self.frames(), staging, fmt)
                    write_json(self.summary, staging / "summary.json")
                    publish(staging, target)
            except BaseException:
                discard(staging)
                raise
        return target


def read_files(sources: Sequence[Source]) -> tuple[Path, ...]:
    """The files of ``sources`` (those read from a path), resolved against the working folder now, for a
    :class:`Result`'s ``_inputs``."""
    return tuple(source.path.resolve() for source in sources if source.path is not None)


def check_conservation(summary: dict[str, Any]) -> None:
    """Raise an internal error unless the summary's input rows equal its lines plus rejects."""
    counts = summary["counts"]
    if counts["input_rows"] != counts["lines"] + counts["rejected"]:
        raise ScreeningError(
            f"internal error: {counts['input_rows']} input rows but {counts['lines']} lines + "
            f"{counts['rejected']} rejects"
        )


class RowCover:
    """Which input rows have reached an output, by source, to check that each reached exactly one (lines or
    rejects): a byte per row (4 MB for 4M rows), filled part by part, so a row lost while another is written
    twice is caught, not only a wrong count."""

    def __init__(self) -> None:
        self._seen: dict[str, pl.Series] = {}
        self._problems: list[str] = []

    def add(self, frame: pl.DataFrame) -> None:
        """Count the rows of ``frame`` (lines or rejects: its ``source`` and ``row`` columns)."""
        if frame.height == 0:
            return
        keyed = frame.select(SOURCE_COL, (pl.col(ROW_COL).cast(pl.Int64()) - 1).alias("index"))
        for (source,), rows in keyed.partition_by(SOURCE_COL, as_dict=True, maintain_order=True).items():
            index = rows.get_column("index")
            if index.null_count() or index.min() < 0:  # type: ignore[operator]
                self._problems.append(f"{source}: an output row without a row number")
                continue
            seen = self._seen.get(str(source), pl.Series(dtype=pl.UInt8()))
            top = int(index.max()) + 1  # type: ignore[arg-type]
            if top > seen.len():
                seen = seen.extend_constant(0, top - seen.len())
            twice = index.filter(index.is_duplicated() | (seen.gather(index) > 0))
            if twice.len():
                self._problems.append(f"{source}: row {int(twice.min()) + 1} is in the outputs twice")  # type: ignore[arg-type]
            self._seen[str(source)] = seen.scatter(index, 1)

    def check_summary(self, summary: dict[str, Any]) -> None:
        """:meth:`check` against the rows a run's summary says it read from each source."""
        self.check({entry["source"]: int(entry["rows"]) for entry in summary["inputs"]})

    def check(self, input_rows: dict[str, int]) -> None:
        """Raise an internal error unless every row ``1..n`` of each source (``input_rows``: n per source)
        reached exactly one output, and no other row did."""
        problems = list(self._problems)
        problems += [
            f"{s}: output rows of a source that was not read" for s in self._seen if s not in input_rows
        ]
        for source, count in input_rows.items():
            seen = self._seen.get(source, pl.Series(dtype=pl.UInt8()))
            if seen.len() > count:
                problems.append(f"{source}: row {seen.len()} is in the outputs, of {count} rows read")
            missing = (seen.head(count).extend_constant(0, max(0, count - seen.len())) == 0).arg_true()
            if missing.len():
                problems.append(f"{source}: row {int(missing[0]) + 1} is in no output ({missing.len()} rows)")
        if problems:
            raise ScreeningError(
                "internal error: input rows not in exactly one output: " + "; ".join(problems[:5])
            )


#: The money columns the summary totals.
_MONEY = ("value_usd", "duty_usd", "fees_usd", "total_due_usd")


@dataclass(frozen=True)
class _PackageFacts:
    """What the summary says about the packages: counts and sums, collected in one pass."""

    count: int
    #: Packages with no duty, no fees and no total due (each left empty where it is not known).
    unknown_duty: int
    unknown_fees: int
    unknown_total: int
    sums: dict[str, Decimal]
    #: Packages per value of each counted column (and flags per rule, under ``rule_id``).
    counts: dict[str, dict[str, int]]
    #: Whether the packages were flagged and routed (they have ``risk_flags``).
    routed: bool
    flagged: int
    sampled: int
    #: Routed packages per queue and disposition.
    loads: pl.DataFrame
    #: The de minimis and entry rules that decided packages.
    rule_ids: list[str]

    @classmethod
    def of(cls, packages: pl.DataFrame | pl.LazyFrame) -> _PackageFacts:
        """The facts of ``packages`` (a lazy frame is read streaming)."""
        frame = packages.lazy()
        routed = "risk_flags" in frame.collect_schema().names()
        counted = ["de_minimis_reason", "entry_type", "duty_status", "fee_status"]
        queries = {
            "totals": frame.select(
                pl.len().alias("count"),
                pl.col("duty_usd").is_null().sum().alias("unknown_duty"),
                pl.col("fees_usd").is_null().sum().alias("unknown_fees"),
                pl.col("total_due_usd").is_null().sum().alias("unknown_total"),
                *[pl.col(c).drop_nulls().sum() for c in _MONEY],
            ),
            **{c: _grouped(frame, c) for c in counted},
            "rule_ids": frame.select(
                pl.concat_list(pl.col("de_minimis_rule_id", "entry_rule_id").cast(pl.String()))
                .explode()
                .drop_nulls()
                .unique()
                .sort()
            ),
        }
        if routed:
            queries |= {
                "risk": frame.select(
                    (pl.col("risk_flags").list.len() > 0).sum().alias("flagged"),
                    pl.col("random_sample").sum().alias("sampled"),
                ),
                "rule_id": _grouped(
                    frame.select(pl.col("risk_flags").explode().alias("rule_id")).drop_nulls(), "rule_id"
                ),
                "disposition": _grouped(frame, "disposition"),
                "loads": frame.filter(pl.col("queue").is_not_null())
                .group_by("queue", "disposition")
                .len()
                .sort("queue", "disposition"),
            }
        lazies = list(queries.values())
        collected = (
            pl.collect_all(lazies, engine="in-memory")
            if isinstance(packages, pl.DataFrame)
            # Each query scans the file for its own columns: shared, the scan is cached whole in memory
            # (0.57 GB more for the packages of a 4M-line day, and slower).
            else pl.collect_all(
                lazies, engine="streaming", optimizations=pl.QueryOptFlags(comm_subplan_elim=False)
            )
        )
        found = dict(zip(queries, collected, strict=True))
        totals = found["totals"].row(0, named=True)
        count = int(totals["count"])
        risk = found["risk"].row(0, named=True) if routed else {"flagged": 0, "sampled": 0}
        names = [*counted, *(("rule_id", "disposition") if routed else ())]
        return cls(
            count=count,
            unknown_duty=int(totals["unknown_duty"]) if count else 0,
            unknown_fees=int(totals["unknown_fees"]) if count else 0,
            unknown_total=int(totals["unknown_total"]) if count else 0,
            sums={c: Decimal(totals[c] or 0) if count else Decimal(0) for c in _MONEY},
            counts={c: _as_counts(found[c]) if count else {} for c in names},
            routed=routed,
            flagged=int(risk["flagged"] or 0) if count else 0,
            sampled=int(risk["sampled"] or 0) if count else 0,
            loads=found["loads"] if routed and count else pl.DataFrame(),
            rule_ids=found["rule_ids"].to_series().to_list(),
        )


def _grouped(frame: pl.LazyFrame, column: str) -> pl.LazyFrame:
    """Rows per value of ``column``, in value order (null last)."""
    return frame.group_by(column).len().sort(column, nulls_last=True)


def _as_counts(grouped: pl.DataFrame) -> dict[str, int]:
    """A :func:`_grouped` table as ``{value: rows}`` (a few rows: one per distinct value)."""
    return {str(k): int(v) for k, v in grouped.iter_rows()}


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return _as_counts(_grouped(frame.lazy(), column).collect(engine="in-memory")) if frame.height else {}


#: The package columns a run summary reads (:func:`build_summary`).
SUMMARY_PACKAGE_COLUMNS = (
    "de_minimis_reason",
    "de_minimis_rule_id",
    "entry_type",
    "entry_rule_id",
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


#: Columns of :func:`component_totals`: a summary's money by component and measure.
COMPONENT_TOTAL_SCHEMA: Final = pl.Schema(
    {
        "component": pl.String(),
        "measure_id": pl.String(),
        "rows": pl.Int64(),
        "amount_usd": pl.Decimal(38, 2),
        "unknown_amounts": pl.Int64(),
        "exempt_rows": pl.Int64(),
    }
)


def summed_components(components: pl.LazyFrame, by: Sequence[str], amount: str) -> pl.LazyFrame:
    """Per ``by`` of components rows: the rows that charge a known ``amount`` (``rows``), their sum (named
    ``amount``), the rows whose amount is not known (``unknown_amounts``) and the exempt rows (``exempt_rows``,
    their ``assumption`` begins :data:`~screening.stages.assess.EXEMPTION_PREFIX`)."""
    exempt = pl.col("assumption").str.starts_with(EXEMPTION_PREFIX).fill_null(False)
    known = pl.col(amount).is_not_null()
    return components.group_by(by).agg(
        (known & ~exempt).sum().alias("rows"),
        pl.col(amount).filter(known & ~exempt).sum(),
        (~known).sum().alias("unknown_amounts"),
        exempt.sum().alias("exempt_rows"),
    )


def component_totals(components: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per component and measure of ``components`` (a ``components`` output, or part of one): the rows that
    charge a known amount (``rows``), their sum, the rows whose amount is not known and the rows of a measure
    the goods are exempt from (at 0). Sorted by component and measure; add tables with :func:`added_totals`."""
    return (
        summed_components(components.lazy(), ["component", "measure_id"], "amount_usd")
        .cast(COMPONENT_TOTAL_SCHEMA)
        .select(list(COMPONENT_TOTAL_SCHEMA))
        .sort("component", "measure_id", nulls_last=True)
        .collect(engine="in-memory")
    )


def added_totals(tables: Sequence[pl.DataFrame]) -> pl.DataFrame:
    """The :func:`component_totals` of several parts of one output, added up."""
    stacked = pl.concat([pl.DataFrame(schema=COMPONENT_TOTAL_SCHEMA), *tables], how="vertical")
    return (
        stacked.lazy()
        .group_by("component", "measure_id")
        .agg(pl.col("rows", "amount_usd", "unknown_amounts", "exempt_rows").sum())
        .cast(COMPONENT_TOTAL_SCHEMA)
        .sort("component", "measure_id", nulls_last=True)
        .collect(engine="in-memory")
    )


def _money_by_component(totals: pl.DataFrame) -> list[dict[str, Any]]:
    """:func:`component_totals` as JSON rows (amounts as decimal strings with cents)."""
    return [
        {**row, "amount_usd": f"{Decimal(row['amount_usd'] or 0):.2f}"}
        for row in totals.select(list(COMPONENT_TOTAL_SCHEMA)).to_dicts()
    ]


def totals_in_summary(summary: dict[str, Any]) -> pl.DataFrame:
    """The :func:`component_totals` a summary of :func:`build_summary` holds (a batch's, to add up)."""
    rows = summary["money"]["by_component"]
    return pl.DataFrame(rows, schema={**COMPONENT_TOTAL_SCHEMA, "amount_usd": pl.String()}).cast(
        COMPONENT_TOTAL_SCHEMA
    )


def build_summary(
    *,
    pack: RulePack,
    sources: Sequence[Source],
    input_counts: pl.DataFrame,
    line_count: int,
    packages: pl.DataFrame | pl.LazyFrame,
    components: pl.DataFrame,
    rejects: pl.DataFrame,
    dates: Sequence[dt.date],
    risk: ResolvedRisk | None = None,
    citations: pl.DataFrame | None = None,
    options: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Counts, money totals and provenance. Contains no names or addresses of people.

    ``packages`` (the columns of :data:`SUMMARY_PACKAGE_COLUMNS` at least) may be lazy, a scan of a
    written output: only its counts and sums are collected (streaming). ``components`` is the run's
    :func:`component_totals`.
    """
    rows_by_source = {str(s): int(n) for s, n in input_counts.iter_rows()}
    inputs = []
    for source in sources:
        entry: dict[str, Any] = {"source": source.label, "rows": rows_by_source.get(source.label, 0)}
        if source.path is not None:
            # Taken before the rows were read (a file changed or moved since is not read again).
            if source.read is None:
                raise ScreeningError(
                    f"internal error: the file {source.label} has no digest taken as it was read"
                )
            entry["bytes"], entry["sha256"] = source.read.size, source.read.sha256
            if str(source.path) != source.label:
                entry["path"] = str(source.path)  # a Screener's file batch named otherwise
        inputs.append(entry)
    facts = _PackageFacts.of(packages)
    return {
        "engine": {"name": "screening", "version": engine_version(), "build": engine_build()},
        "rules": {
            "id": pack.meta.id,
            "name": pack.meta.name,
            "content_hash": pack.content_hash,
            "fx_official": pack.fx.rates.official,
            "fx_note": "approximation of certified rates" if not pack.fx.rates.official else "certified",
            # Where the exchange rates come from and how settled they are (``screen explain`` prints them beside
            # a converted line; the run folder does not hold the pack).
            "fx_citation": pack.fx.rates.citation.render(),
            "fx_confidence": pack.fx.rates.confidence,
            **_facts_age(pack, dates),
        },
        "inputs": inputs,
        "options": dict(options or {}),
        "dates_resolved": [d.isoformat() for d in dates],
        "counts": {
            "input_rows": sum(rows_by_source.values()),
            "lines": line_count,
            "rejected": rejects.height,
            "packages": facts.count,
            "rejects_by_code": _counts(rejects, "code"),
            "packages_by_reason": facts.counts["de_minimis_reason"],
            "packages_by_entry_type": facts.counts["entry_type"],
            "packages_by_duty_status": facts.counts["duty_status"],
            "packages_by_fee_status": facts.counts["fee_status"],
        },
        "money": {
            **{column: f"{facts.sums[column]:.2f}" for column in _MONEY},
            "packages_with_unknown_duty": facts.unknown_duty,
            "packages_with_unknown_fees": facts.unknown_fees,
            "packages_with_unknown_total": facts.unknown_total,
            "by_component": _money_by_component(components),
        },
        "risk": risk_summary(facts, risk, dates),
        "decision_rules": _decision_rules(facts, pack, dates, citations),
        "decision_rule_details": _decision_rule_details(pack, facts, dates),
        "component_rule_notes": component_rule_notes(pack, components),
    }


def component_rule_notes(pack: RulePack, components: pl.DataFrame) -> dict[str, str]:
    """The note of each rule that made a component of the run (``components``: its :func:`component_totals`) and
    that the pack marks ``unconfirmed`` or ``conflict``: the measure, gap, fee or postal regime by its id, the
    tariff table as ``mfn``. ``screen explain`` prints them beside such a component's confidence (the run
    folder does not hold the pack)."""
    used = set(components.get_column("measure_id").drop_nulls().to_list()) if components.height else set()
    doubted: dict[str, tuple[str, str | None]] = {
        rule.id: (rule.confidence, rule.note) for rule in pack.all_rules() if rule.id in used
    }
    if "mfn" in used:
        doubted["mfn"] = (pack.tariff.mfn.confidence, pack.tariff.mfn.note)
    return {
        rule_id: " ".join(note.split())
        for rule_id, (confidence, note) in sorted(doubted.items())
        if confidence != "confirmed" and note
    }


#: How an arrival after the pack's ``facts_as_of`` was decided: the run's note and ``screen explain`` say so.
AFTER_FACTS: Final = "decided by the law as the pack knew it, without any later change"


def _facts_age(pack: RulePack, dates: Sequence[dt.date]) -> dict[str, Any]:
    """The pack's ``facts_as_of`` and how many of the run's arrival dates lie after it (:data:`AFTER_FACTS`),
    with the latest's distance in days."""
    as_of = pack.meta.facts_as_of
    if as_of is None:
        return {"facts_as_of": None}
    later = sorted(d for d in dates if d > as_of)
    return {
        "facts_as_of": as_of.isoformat(),
        "arrival_dates_after_facts": len(later),
        "latest_arrival_days_after_facts": (later[-1] - as_of).days if later else 0,
    }


def _summary_rule_ids(facts: _PackageFacts, pack: RulePack, dates: Sequence[dt.date]) -> list[str]:
    """The de minimis and entry rules that decided a package of the run, and the gift rules in force on its
    arrival dates (``screen explain`` says why a gift did not pass under one: no package names it then)."""
    gifts = [rule.id for rule in pack.de_minimis.gifts if any(rule.in_force(day) for day in dates)]
    return sorted({*facts.rule_ids, *gifts})


def _decision_rules(
    facts: _PackageFacts, pack: RulePack, dates: Sequence[dt.date], citations: pl.DataFrame | None
) -> dict[str, str]:
    """Citation of each rule of :func:`_summary_rule_ids` (for ``screen explain``), with its confidence where the
    pack does not hold it settled (``(confidence: unconfirmed)``)."""
    if citations is None or not facts.count:
        return {}
    rows = citations.filter(pl.col("rule_id").is_in(_summary_rule_ids(facts, pack, dates))).sort("rule_id")
    return {
        str(rule_id): str(citation)
        if confidence in (None, "confirmed")
        else f"{citation} (confidence: {confidence})"
        for rule_id, citation, confidence in rows.select("rule_id", "citation", "confidence").iter_rows()
    }


#: Fields of a decision rule that ``screen explain`` prints beside its citation: its limits (threshold, gift
#: limits by sender country, informal-entry limits and whether the Chapter 99 one is suspended), a postal regime's
#: rates and per-item amounts, and its note.
_DETAIL_FIELDS: Final[set[str]] = {
    "amount_usd",
    "limit_usd",
    "sender_limits",
    "informal_max_usd",
    "chapter99_max_usd",
    "chapter99_suspended",
    "ad_valorem_rate",
    "origin_rates",
    "specific_per_item_usd",
    "specific_bands",
    "note",
}
#: A rule's period, in the details of a gift rule.
_PERIOD_FIELDS: Final[set[str]] = {"effective_from", "effective_to"}


def _decision_rule_details(
    pack: RulePack, facts: _PackageFacts, dates: Sequence[dt.date]
) -> dict[str, dict[str, Any]]:
    """The limits, rates and note of each rule of :func:`_decision_rules` that has any (a citation that says "see
    note" needs its note), as the pack writes them (a flag only where it is set); a gift rule with its period
    (``screen explain`` finds the one in force on a package's date)."""
    if not facts.count:
        return {}
    decided = set(_summary_rule_ids(facts, pack, dates))
    details = {
        rule.id: {
            name: value
            for name, value in rule.model_dump(
                mode="json",
                include=_DETAIL_FIELDS | (_PERIOD_FIELDS if isinstance(rule, GiftExemption) else set()),
            ).items()
            if value not in (None, {}, []) and value is not False
        }
        for rule in pack.all_rules()
        if rule.id in decided
    }
    return {rule_id: shown for rule_id, shown in sorted(details.items()) if shown}


def risk_summary(facts: _PackageFacts, risk: ResolvedRisk | None, dates: Sequence[dt.date]) -> dict[str, Any]:
    """Flag counts, queue loads (targeted apart from the random sample) and the screening list's age."""
    if risk is None or not facts.routed:
        return {}
    loads: dict[str, dict[str, int]] = {}
    for queue, disposition, count in facts.loads.iter_rows():
        loads.setdefault(str(queue), {})[str(disposition)] = int(count)
    summary: dict[str, Any] = {
        "rules": risk.rules.height,
        "rule_catalogue": {
            str(row["rule_id"]): {k: v for k, v in row.items() if k != "rule_id"}
            for row in risk.rules.to_dicts()
        },
        "packages_flagged": facts.flagged,
        "flags_by_rule": facts.counts["rule_id"],
        "packages_by_disposition": facts.counts["disposition"],
        "queues": loads,
        "random_sample": {
            **seed_record(risk.seed),
            "packages": facts.sampled,
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
            # the entries shipper and consignee names are matched against (the pack's party_types)
            "party_types": list(risk.denied.party_types),
            "party_entries": party_entries(risk.screening_list, risk.denied.party_types).height,
            "age_days_at_latest_arrival": (latest - risk.denied.published).days if latest else None,
        }
    return summary
