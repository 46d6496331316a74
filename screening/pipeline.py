"""Wire the stages into lazy plans per run, materialised at marked points.

Frames are materialised where a later step needs them whole: after validation (the distinct arrival dates are
needed to resolve the pack, DESIGN §1), after the line decisions (every later output derives from them), and
at smaller points inside the stages (the goods table, measure keys, a frame joined with tables derived from
itself, which a lazy plan would compute again for every such join). The engine never loops over rows in
Python: every step is a polars plan over whole columns.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, TypedDict, Unpack

import polars as pl

from screening.errors import InputSchemaError, ReasonCode, UsageError
from screening.exprs.money import cents_to_money, money_fits
from screening.io.digests import history_digest
from screening.io.history import history_files, history_sources, read_history
from screening.io.mapping import ColumnMapping, column_mapping
from screening.io.privacy import key_bytes, pseudonym, pseudonymise_frame, pseudonymise_rejects
from screening.io.sources import SUFFIXES, Source, ndjson_fault, open_sources, refuse_changed_files
from screening.io.writers import full_file_system
from screening.keyword_options import refuse_unknown_options, refusing_unknown_options
from screening.result import (
    COMPONENT_TOTAL_SCHEMA,
    Result,
    RowCover,
    build_summary,
    read_files,
    summed_components,
)
from screening.rulepack.loader import RulePack, load_rules
from screening.rulepack.reference import known_countries
from screening.rulepack.resolve import ResolvedRules, pack_currencies
from screening.rulepack.resolved_cache import ResolvedCache
from screening.rulepack.risk_tables import ResolvedRisk
from screening.schema import (
    COMPONENT_SCHEMA,
    FLAG_SCHEMA,
    LINE_DERIVED_COLUMNS,
    MANIFEST_COLUMNS,
    PACKAGE_COLUMNS,
    PACKAGE_KEY,
    PASSTHROUGH_PREFIX,
    QUEUE_SCHEMA,
    REJECT_SCHEMA,
    ROW_COL,
    SOURCE_COL,
)
from screening.seed import Seed, checked_seed, seed_record
from screening.stages import (
    aggregate,
    assess,
    decide,
    denied,
    enrich,
    entry_limits,
    normalise,
    packages,
    part_rates,
    risk,
    route,
    running,
)
from screening.stages.assess import PostalMethod
from screening.stages.entry_limits import GIFT_LINE_RULE
from screening.stages.keyed_rows import KeyedRows
from screening.stages.running import RunningState

#: Engine for plans over frames already in memory: the streaming engine re-splits in-memory frames into
#: morsels and gathers every column through each join, 2 to 4 times slower here (DESIGN §7 applies to
#: plans that start from files).
IN_MEMORY: Final = "in-memory"
#: Rows per morsel of the streaming validation pass (:func:`validate_into`). Polars' default morsels of
#: a 22-column manifest left up to 1.6 GB in flight at 4M lines, varying from run to run; morsels of
#: 40,000 rows kept it under 0.5 GB in every run measured, at the same CPU time.
VALIDATION_MORSEL_ROWS: Final = 40_000
#: Rows per morsel (and row group) when the validation pass writes each part to files of its own: the
#: partitioned sink holds rows of every part in flight. At 4M shuffled lines in 16 parts, morsels of
#: 40,000 rows peaked at 1.7 GiB, of 10,000 at 0.8 GiB.
PARTITIONED_MORSEL_ROWS: Final = 10_000
#: Lines are kept and written in this order.
PACKAGE_ORDER = ["package_id", "line_no"]
#: A per-run line identifier linking the narrow decision frame to the wide input columns.
LINE_ID = "__line"
#: Canonical columns the decision and duty stages read (the others only pass to the output).
DECISION_INPUTS = (
    "package_id",
    "line_no",
    "arrival_date",
    "mode",
    "port_of_entry",
    "consignee_key",
    "country_of_origin",
    "hts_code",
    "quantity",
    "declared_value",
    "currency",
    "gross_weight_kg",
    "metal_content_share",
    "part_values",
    "usmca_claim",
    "gift",
)

#: Columns the decision stages read but do not keep; dropped before the lines are materialised.
DECISION_SCAFFOLDING = (
    "fx_source",
    "package_postal_item_unknown",
    decide.GIFT_SENDER,
)


@refusing_unknown_options("screen", subjects=("source",))
def screen(
    source: Any,
    *,
    rules: str | Path | RulePack = "rules/us",
    mapping: str | Path | ColumnMapping | None = None,
    postal_method: PostalMethod = "ad-valorem",
    pseudonymise_key: str | bytes | None = None,
    seed: Seed | None = None,
    history: str | Path | Sequence[str | Path] = (),
    on_stage: Callable[[str], None] | None = None,
) -> Result:
    """Screen manifests: decisions, duties, fees and packages for every valid line.

    Args:
        source: a path, glob or folder (or a list of them), or in-memory data: a polars
            DataFrame/LazyFrame, a pyarrow Table/RecordBatch/RecordBatchReader, or any object
            with ``__arrow_c_stream__``; or a list mixing these.
        rules: a rule-pack folder or a loaded :class:`RulePack`.
        mapping: a column-mapping TOML file or a :class:`ColumnMapping`.
        postal_method: ``ad-valorem`` or ``specific`` (per postal item, where the regime offers it);
            recorded in the summary.
        pseudonymise_key: when given, party fields (names, addresses, postal codes, consignee ids and
            keys) in ``lines``, ``packages`` and ``rejects`` are replaced by keyed hashes (HMAC-SHA256);
            decisions are made on the real values first.
        seed: the seed of the random compliance sample and of the queue tie-break (default: the pack's,
            which is public); the same seed, pack and packages give the same sample on every machine. Text
            is recorded in the summary; a :class:`~screening.PrivateSeed` is recorded by its fingerprint only.
        history: ``packages`` outputs (files or run folders; one path or several) of earlier runs, for rules that look
            back across days (``consignee_prior_*`` columns).
        on_stage: called with a short description as each stage starts (for progress display).

    Returns:
        A :class:`Result` with ``lines``, ``packages``, ``components``, ``flags``, ``queues``,
        ``rejects`` and ``summary``.

    Raises:
        InputSchemaError: an input (or a ``history`` source) cannot be read or lacks required columns.
        RulePackError: the rule pack does not validate.
        UsageError: an option is not valid: a blank or empty seed, an unknown ``postal_method``, an empty
            ``pseudonymise_key``, a mapping file that is missing or not a valid mapping, or a ``history`` that
            is not a path or a list of paths; or a history source whose keys are pseudonyms, in a run without
            a key; or ``rules`` that is neither a path nor a :class:`RulePack`, or ``mapping`` neither a path nor
            a :class:`ColumnMapping`; or a file changed while it was read (a producer still writing it).
        MoneyLimitError: (exit code 70) a money amount is beyond what the outputs' ``Decimal(18, 2)`` holds,
            $10^16 (about ten thousand lines at the $10^12 value limit).
        ScreeningError: (exit code 70) an input row is in neither or both of ``lines`` and ``rejects``.
    """
    inputs = run_inputs(
        source,
        rules=rules,
        mapping=mapping,
        postal_method=postal_method,
        pseudonymise_key=pseudonymise_key,
        seed=seed,
        history=history,
        on_stage=on_stage,
    )
    with money_fits():
        return screen_inputs(inputs)


def screen_inputs(inputs: RunInputs) -> Result:
    """Screen a run's loaded inputs (:func:`run_inputs`) in memory, as :func:`screen` does."""
    plan = build_plan(
        inputs.sources,
        inputs.pack,
        inputs.report,
        postal_method=inputs.postal_method,
        seed=inputs.seed,
        history=inputs.history,
        pseudonymise_key=inputs.key,
    )
    inputs.report("writing outputs")
    result = collect_result(
        plan,
        inputs.pack,
        inputs.sources,
        options=recorded_options(inputs, plan.risk),
        key=inputs.key,
        started=inputs.started,
        history=inputs.history_files,
        files_read=True,
    )
    check_rows_covered(result)
    return result


@dataclass
class RunInputs:
    """What a whole-day run reads, loaded and checked: the pack, the opened sources, the history (and its
    packages files, as named), the pseudonymisation key (``key``), the options the summary records, and when
    the run started."""

    pack: RulePack
    sources: list[Source]
    postal_method: PostalMethod
    seed: Seed | None
    history: pl.LazyFrame | None
    history_files: tuple[Path, ...]
    key: bytes | None
    report: Callable[[str], None]
    options: dict[str, str]
    started: float


class RunOptions(TypedDict, total=False):
    """The options of a whole-day run, as the keyword arguments of :func:`screen` (same defaults)."""

    rules: str | Path | RulePack
    mapping: str | Path | ColumnMapping | None
    postal_method: PostalMethod
    pseudonymise_key: str | bytes | None
    seed: Seed | None
    history: str | Path | Sequence[str | Path]
    on_stage: Callable[[str], None] | None


#: The names of :class:`RunOptions`, in the order :func:`screen` takes them.
RUN_OPTIONS: Final = tuple(RunOptions.__annotations__)


def run_inputs(source: Any, **options: Unpack[RunOptions]) -> RunInputs:
    """Load the pack, open the sources and the history, and check the options (arguments as :func:`screen`).

    The recorded options lack the ``seed`` until the run resolves it (the pack's unless given).

    Raises:
        TypeError: an option is not one of :class:`RunOptions` (before anything is read).
    """
    refuse_unknown_options("run_inputs", options, RUN_OPTIONS)
    started = time.perf_counter()
    rules = options.get("rules", "rules/us")
    mapping = options.get("mapping")
    postal_method = options.get("postal_method", "ad-valorem")
    pseudonymise_key = options.get("pseudonymise_key")
    history = history_sources(options.get("history", ()))
    report = options.get("on_stage") or _silent
    seed = checked_seed(options.get("seed"))
    report("loading rules")
    pack = rules if isinstance(rules, RulePack) else load_rules(rules)
    mapped = column_mapping(mapping)
    specs = list(source) if isinstance(source, list | tuple) else [source]
    sources = open_sources(specs, mapped, time_zone=pack.meta.time_zone)
    check_postal_method(postal_method)
    key = key_bytes(pseudonymise_key)
    history_frame = read_history(history, keyed=key is not None) if history else None
    recorded = {
        "postal_method": postal_method,
        "pseudonymised": str(pseudonymise_key is not None).lower(),
        "history_sources": str(len(history)),
        "history": history_digest(history) or "none",
        "mapping": mapped.digest() if mapped is not None else "none",
    }
    return RunInputs(
        pack=pack,
        sources=list(sources),
        postal_method=postal_method,
        seed=seed,
        history=history_frame,
        history_files=history_files(history),
        key=key,
        report=report,
        options=recorded,
        started=started,
    )


def recorded_options(inputs: RunInputs, risk_inputs: ResolvedRisk) -> dict[str, str]:
    """The options a run's summary records, with the seed the run used (a private one by its fingerprint)."""
    before = ("postal_method", "pseudonymised")
    after = ("history_sources", "history", "mapping")
    return {
        **{name: inputs.options[name] for name in before},
        **seed_record(risk_inputs.seed),
        **{name: inputs.options[name] for name in after},
    }


def check_postal_method(postal_method: str) -> None:
    """Raise :class:`UsageError` for an unknown postal method."""
    if postal_method not in ("ad-valorem", "specific"):
        raise UsageError(f"postal_method must be 'ad-valorem' or 'specific', not {postal_method!r}")


def collect_result(
    plan: Plan,
    pack: RulePack,
    sources: Sequence[Source],
    *,
    options: dict[str, str],
    key: bytes | None,
    started: float,
    history: Sequence[Path] = (),
    files_read: bool = False,
) -> Result:
    """Collect a plan's outputs into a checked :class:`Result` (pseudonymised when ``key`` is given; ``history``:
    the packages files of the run's history, which :meth:`Result.write` refuses to replace). ``files_read``: the
    plan reads the files of ``sources`` (opened by :func:`open_sources`), and one that changed meanwhile is
    refused (:func:`~screening.io.sources.refuse_changed_files`)."""
    frames = pl.collect_all(
        [plan.lines, plan.packages, plan.components, plan.rejects, plan.input_counts], engine=IN_MEMORY
    )
    if files_read:  # every row read: the summary lists the bytes screened
        refuse_changed_files(sources)
    lines, packages_out, components, rejects, input_counts = (
        pseudonymised(name, frame, key)
        for name, frame in zip(
            ("lines", "packages", "components", "rejects", "input_counts"), frames, strict=True
        )
    )
    result = Result(
        lines=lines,
        packages=packages_out,
        components=components,
        flags=plan.flags,
        queues=plan.queues,
        rejects=rejects,
        summary=build_summary(
            pack=pack,
            sources=sources,
            input_counts=input_counts,
            line_count=lines.height,
            packages=packages_out,
            components=plan.money,
            rejects=rejects,
            dates=plan.dates,
            risk=plan.risk,
            citations=plan.citations,
            options=options,
        ),
        wall_seconds=time.perf_counter() - started,
        _inputs=read_files(sources),
        _history=tuple(path.resolve() for path in history),
    )
    result.check_conservation()
    return result


def check_rows_covered(result: Result) -> None:
    """Raise an internal error unless every row ``1..n`` of each source of a whole run is in exactly one of
    ``result``'s lines and rejects (the summary's count check cannot see a row lost while another is doubled)."""
    cover = RowCover()
    cover.add(result.lines)
    cover.add(result.rejects)
    cover.check_summary(result.summary)


def pseudonymised(output: str, frame: pl.DataFrame, key: bytes | None) -> pl.DataFrame:
    """``frame`` of ``output`` with its party fields pseudonymised when ``key`` is given."""
    if key is None:
        return frame
    if output == "rejects":
        return pseudonymise_rejects(frame, key)
    if output in ("lines", "packages"):
        return pseudonymise_frame(frame, key)
    return frame


class Plan:
    """The lazy outputs of one run (nothing collected yet except the dates)."""

    def __init__(
        self,
        *,
        lines: pl.LazyFrame,
        packages: pl.LazyFrame,
        components: pl.LazyFrame,
        money: pl.DataFrame,
        flags: pl.DataFrame,
        queues: pl.DataFrame,
        rejects: pl.LazyFrame,
        input_counts: pl.LazyFrame,
        dates: list[dt.date],
        risk: ResolvedRisk,
        citations: pl.DataFrame,
        next_state: RunningState | None = None,
    ) -> None:
        self.lines = lines
        self.packages = packages
        self.components = components
        #: The components' :func:`~screening.result.component_totals`.
        self.money = money
        self.flags = flags
        self.queues = queues
        self.risk = risk
        self.citations = citations
        self.rejects = rejects
        self.input_counts = input_counts
        #: The arrival dates of the packages screened (the summary's ``dates_resolved``).
        self.dates = dates
        self.next_state = next_state


def _silent(_stage: str) -> None:
    return None


def build_plan(
    sources: Sequence[Source],
    pack: RulePack,
    report: Callable[[str], None] = _silent,
    *,
    postal_method: PostalMethod = "ad-valorem",
    seed: Seed | None = None,
    history: pl.LazyFrame | None = None,
    pseudonymise_key: bytes | None = None,
    state: RunningState | None = None,
    cache: ResolvedCache | None = None,
) -> Plan:
    """The plan for ``sources`` under ``pack``: normalise, enrich, aggregate, decide, assess, risk, route.

    With ``state`` (incremental mode, :class:`screening.screener.Screener`), packages are judged
    against the running consignee-day totals, lines seen in earlier batches are duplicates, queue
    ranks continue from earlier batches, and the plan carries the state after this batch. ``cache``
    (of ``pack`` with ``seed``) keeps resolved tables from one batch to the next.
    """
    # Incremental mode dates the mark of a package rejected in validation by its rejected rows' dates.
    dated = state is not None
    parts = [normalise.split_source(s.frame, run_vocabulary(pack), dated=dated) for s in sources]
    report("reading and validating input")
    candidates, source_rejects = validate_sources(sources, parts)
    rejected_days = (
        source_rejects.select("package_id", pl.col(normalise.REJECT_DAY).alias("arrival_date"))
        if dated
        else None
    )
    source_rejects = source_rejects.drop(normalise.REJECT_DAY, strict=False)
    screened = screen_candidates(
        candidates,
        cache if cache is not None else ResolvedCache(pack, seed=seed),
        report,
        postal_method=postal_method,
        history=history,
        pseudonymise_key=pseudonymise_key,
        state=state,
        sources=[s.label for s in sources],
        rejected=normalise.first_rejects([source_rejects], [s.label for s in sources]),
        rejected_days=rejected_days,
    )
    del candidates
    report("routing to queues")
    queue_load = state.queue_load if state is not None else None
    routed = route.route_packages(screened.scored, screened.risk, queue_load)
    return Plan(
        lines=screened.lines,
        packages=packages_output(routed),
        components=screened.components,
        money=screened.money,
        flags=screened.flags,
        queues=queues_output(routed),
        rejects=sorted_rejects([source_rejects, screened.rejects]),
        input_counts=input_counts(sources),
        dates=screened.dates,
        risk=screened.risk,
        citations=screened.citations,
        next_state=None
        if screened.seen_now is None or state is None
        else _advance(state, sources, screened, routed),
    )


def run_vocabulary(pack: RulePack) -> normalise.Vocabulary:
    """The values validation accepts under ``pack`` (countries, currencies, dates covered)."""
    return normalise.Vocabulary(
        countries=known_countries(),
        currencies=pack_currencies(pack),
        covers_from=pack.meta.covers_from,
        covers_to=pack.meta.covers_to,
        time_zone=pack.meta.time_zone,
    )


def input_counts(sources: Sequence[Source]) -> pl.LazyFrame:
    """Rows read per source (``source``, ``rows``), for the summary's conservation check."""
    return pl.concat(
        [s.frame.select(pl.lit(s.label).alias(SOURCE_COL), pl.len().alias("rows")) for s in sources]
    )


def sorted_rejects(parts: Sequence[pl.DataFrame]) -> pl.LazyFrame:
    """The ``rejects`` output from its parts, sorted by source (its name, not the order the sources were given),
    then row."""
    out = pl.concat(parts).lazy().sort(SOURCE_COL, ROW_COL)
    assert dict(out.collect_schema()) == REJECT_SCHEMA, "rejects columns drifted"
    return out


def queues_output(routed: pl.DataFrame) -> pl.DataFrame:
    """The ``queues`` output of the routed packages."""
    return route.queue_table(routed).select(list(QUEUE_SCHEMA))


@dataclass
class DayTotals:
    """Totals over a whole day, computed before its packages are screened part by part.

    ``consignee_days``: :data:`~screening.stages.aggregate.CONSIGNEE_DAY` and the consignee-day
    totals; ``shipper_consignee_days``: the shipper-consignee-day totals of the risk stage. Both hold
    only the keys whose lines span parts (:func:`~screening.stages.aggregate.spanning_totals`); a
    key in one part has its totals over that part. A part (whole packages of the day) is judged
    exactly as the whole day would judge it.
    """

    consignee_days: pl.DataFrame
    shipper_consignee_days: pl.DataFrame


@dataclass
class Screened:
    """One set of candidate lines screened up to routing: the outputs that need no routing, the packages
    scored for it, and what the run's summary and state need."""

    lines: pl.LazyFrame
    components: pl.LazyFrame
    #: The components' :func:`~screening.result.component_totals` (for the summary's money by component).
    money: pl.DataFrame
    flags: pl.DataFrame
    #: The packages with their risk scores, before routing (package key from 0, in package order).
    scored: pl.DataFrame
    #: Duplicate and missing-rate rejects (the validation rejects come before).
    rejects: pl.DataFrame
    #: The arrival dates of the packages screened here (not of those rejected: they decide nothing).
    dates: list[dt.date]
    risk: ResolvedRisk
    citations: pl.DataFrame
    #: The decided lines and the new line keys (incremental mode).
    decided: pl.LazyFrame
    seen_now: pl.DataFrame | None
    #: Where earlier batches counted the packages with lines in them (incremental mode,
    #: :func:`~screening.stages.running.counted_parts`).
    counted_before: pl.DataFrame | None = None


def screen_candidates(
    candidates: pl.DataFrame,
    tables: ResolvedCache,
    report: Callable[[str], None] = _silent,
    *,
    postal_method: PostalMethod = "ad-valorem",
    history: pl.LazyFrame | None = None,
    pseudonymise_key: bytes | None = None,
    state: RunningState | None = None,
    day: DayTotals | None = None,
    dates: Sequence[dt.date] | None = None,
    sources: Sequence[str],
    rejected: pl.DataFrame | None = None,
    rejected_days: pl.DataFrame | None = None,
) -> Screened:
    """Screen validated candidate lines (whole packages) up to routing.

    ``day`` and ``dates`` (a part of a day screened in parts): the consignee-day and
    shipper-consignee-day totals and the arrival dates of the whole day (the dates the rules are resolved
    for), instead of those of ``candidates`` alone. ``state``: incremental mode, as in :func:`build_plan`.
    ``sources``: the run's source labels in the order given, which decides which of a package's rejected lines
    is its first (named in its ``package-incomplete`` rejects).
    ``rejected``: the packages whose lines validation rejected (:func:`~screening.stages.normalise.first_rejects`):
    their other lines become ``package-incomplete`` rejects, as do those of a package with a line given here in
    different versions (``conflicting-line``, :func:`~screening.stages.normalise.split_duplicates`).
    ``rejected_days`` (incremental mode): the arrival date of each row validation rejected (``package_id``,
    ``arrival_date``; null where it does not read), which dates the marks of their packages.
    """
    seen = running.seen_of(state.seen_lines, candidates) if state is not None else None
    kept = normalise.number_lines(candidates, seen)
    # A line whose key came in an earlier batch first (whatever its content: the state keeps keys, not lines);
    # the versions of a line are compared within this batch only.
    kept, earlier_copies = normalise.split_seen(kept, seen) if seen is not None else (kept, None)
    kept, duplicate_rejects = normalise.split_duplicates(kept)
    # A line given in different versions is rejected (none of them is a copy): its package with it.
    rejected = normalise.first_rejects(
        [*([rejected] if rejected is not None else []), duplicate_rejects], sources
    )
    if earlier_copies is not None:
        duplicate_rejects = pl.concat([duplicate_rejects, earlier_copies])
    own, kept, named = _package_attributes(kept)
    run_dates = list(dates) if dates is not None else distinct_dates(kept)
    resolved = tables.rules(run_dates)
    # Lines seen (incremental mode): those of incomplete packages too, so that a repeat is a copy; each with the
    # consignee-day its package's part is totalled under.
    seen_now = (
        kept.select("package_id", "line_no", "arrival_date").with_columns(
            running.consignee_hashes(kept.get_column("consignee_key"))
        )
        if state is not None
        else None
    )
    # A package with a rejected line (in validation, here for want of a rate) is screened not at all.
    rated = enrich.has_rate(kept, resolved.fx)
    fx_rejects = enrich.fx_rejects(kept.filter(~rated), own)
    kept = kept.filter(rated)
    incomplete = normalise.first_rejects([rejected, fx_rejects], sources)
    # Packages counted in earlier batches (a package whose lines were all rejected there counts here), and where.
    counted_parts = running.counted_parts(seen) if seen is not None else None
    counted_before = counted_parts.get_column("package_id").unique() if counted_parts is not None else None
    kept, incomplete_rejects = _split_unscreened(kept, incomplete, own, seen, counted_before)
    del own
    # The dates decided: those of the packages screened (a package rejected whole decides nothing).
    screened_dates = distinct_dates(kept)
    if seen_now is not None and state is not None:  # screened whole or rejected whole: counted when screened
        screened_packages = kept.get_column("package_id").unique().implode()
        seen_now = seen_now.with_columns(pl.col("package_id").is_in(screened_packages).alias("counted"))
        marks = _validation_marks(rejected, seen_now, rejected_days, state.latest_day)
        seen_now = pl.concat([seen_now, marks])
    kept = kept.with_row_index(LINE_ID)
    # Decisions run on the narrow columns they need; the wide text columns rejoin once, at output.
    # The narrow lines are put in output order here, once: every later step keeps the row order, and
    # package group-bys and joins use the integer PACKAGE_KEY of that order.
    narrow = (
        kept.select(LINE_ID, *DECISION_INPUTS, decide.gift_sender())
        .sort(PACKAGE_ORDER)
        .with_columns(pl.col("package_id").rle_id().set_sorted().alias(PACKAGE_KEY))
    )
    wide = kept.select(LINE_ID, *[c for c in kept.columns if c not in (LINE_ID, *DECISION_INPUTS)])
    valid = enrich.with_fx(narrow, resolved.fx)
    passthrough = [c for c in kept.columns if c.startswith(PASSTHROUGH_PREFIX)]
    del kept  # its columns live on in ``narrow`` (sorted) and ``wide``
    report("deciding de minimis and entry types")
    # Materialised in output order (the order of ``narrow``, which every decision step keeps): later
    # stages (package roll-up, outputs) rely on it.
    prior = state.consignee_days if state is not None else None
    day_table = day.consignee_days if day is not None else None
    decided, goods = _decide(valid, resolved, postal_method, prior, day_table, counted_parts)
    lines, package_frame, components = _assess(decided, goods, resolved)
    # What later steps need of the narrow input; the rest is freed before the risk stage.
    consignee_keys = narrow["consignee_key"]
    del decided, goods, valid, narrow
    report("flagging risks")
    risk_inputs = tables.risk(run_dates)
    if history is not None and pseudonymise_key:
        history = _unpseudonymise_keys(history, consignee_keys, pseudonymise_key)
    shipper_days = day.shipper_consignee_days if day is not None else None
    shipper_running = _shipper_running(lines, wide, tables) if state is not None else None
    fired = _flag_lines(
        lines,
        wide,
        resolved,
        risk_inputs,
        history,
        tables,
        _own_names_by_line(wide, named),
        shipper_days,
        shipper_running,
        pseudonymise_key,
    )
    flags = risk.package_flags(fired.lazy(), risk_inputs).collect(engine=IN_MEMORY)
    scored = _scored(package_frame, flags).collect(engine=IN_MEMORY)
    line_flags = risk.line_risk_flags(fired)
    components_out, money = _components_output(components, resolved)
    return Screened(
        lines=_lines_output(_with_wide_columns(lines, wide, line_flags), passthrough),
        components=components_out,
        money=money,
        flags=_flags_output(flags),
        scored=scored,
        rejects=pl.concat([duplicate_rejects, fx_rejects, incomplete_rejects]),
        dates=screened_dates,
        risk=risk_inputs,
        citations=resolved.citations,
        decided=lines,
        seen_now=seen_now,
        counted_before=counted_parts,
    )


def _split_unscreened(
    kept: pl.DataFrame,
    incomplete: pl.DataFrame,
    own: pl.DataFrame,
    seen: pl.DataFrame | None,
    counted_before: pl.Series | None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``kept`` without the packages screened not at all, and their lines as ``package-incomplete`` rejects: a
    package with a rejected line (``incomplete``, :func:`~screening.stages.normalise.split_incomplete`) and, in
    incremental mode (``seen``), one rejected in an earlier batch, resent or continued here."""
    kept, rejects = normalise.split_incomplete(kept, incomplete, own, counted_before)
    if seen is not None:
        kept, rejected_earlier = normalise.split_rejected_earlier(kept, seen, own)
        rejects = pl.concat([rejects, rejected_earlier])
    return kept, rejects


def _package_attributes(lines: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Each line's own package attributes (the rows as given, for the rejects found later), ``lines`` with
    their package's (:func:`~screening.stages.normalise.with_package_attributes`), and the lines that name
    another shipper or consignee than their package's first line (each screened against the list by its own)."""
    own = normalise.own_attributes(lines)
    packaged = normalise.with_package_attributes(lines)
    return own, packaged, normalise.own_party_names(own, packaged)


def _shipper_running(lines: pl.LazyFrame, wide: pl.DataFrame, tables: ResolvedCache) -> pl.DataFrame:
    """Incremental mode: each package's shipper-consignee-day totals over the batch's packages that came before
    it and itself (no look-ahead within the batch). Earlier batches are not counted: carried in the state, these
    totals would grow it by about a row per package (0.9 GiB more at 12M lines)."""
    packages = (
        lines.group_by(PACKAGE_KEY)
        .agg(
            pl.col("package_id").first(),
            pl.col("consignee_key").first(),
            pl.col("arrival_date").first(),
            pl.col(LINE_ID).min().alias("__arrival"),
            pl.col("value_usd_cents").sum().alias("__value"),
        )
        .collect(engine=IN_MEMORY)
    )
    # Every line of a package names its first line's shipper (normalise.with_package_attributes).
    shippers = (
        wide.select("shipper_name", "shipper_country")
        .gather(packages["__arrival"])
        .with_columns(packages["package_id"])
    )
    keyed = packages.with_columns(risk.shipper_key(shippers, shipper_suffixes(tables.pack)))
    return running.shipper_running_totals(keyed)


def shipper_suffixes(pack: RulePack) -> tuple[str, ...]:
    """The legal suffixes a shipper's name is compared without (the screening-list settings'; none without)."""
    denied = pack.risk.denied_parties
    return tuple(denied.legal_suffixes) if denied is not None else ()


def distinct_dates(lines: pl.DataFrame) -> list[dt.date]:
    """The distinct arrival dates of ``lines``, sorted (the dates a rule pack is resolved for)."""
    return sorted(lines["arrival_date"].unique().drop_nulls().to_list())


def _with_wide_columns(lines: pl.LazyFrame, wide: pl.DataFrame, line_flags: pl.DataFrame) -> pl.LazyFrame:
    """The decided lines with their wide input columns and risk flags beside them.

    ``wide`` holds row ``i`` at line id ``i``: its rows are gathered by line id (no hash join of the
    whole day). Flags are found by line id the same way and set beside the lines.
    """
    decided = lines.collect(engine=IN_MEMORY)
    line_ids = decided[LINE_ID]
    gathered = wide.drop(LINE_ID).select(pl.all().gather(line_ids))
    # Which row of ``line_flags`` (if any) holds each line id: a scatter and a gather, no hash join.
    flag_row = pl.repeat(None, wide.height, dtype=pl.get_index_type(), eager=True).scatter(
        line_flags[LINE_ID], pl.int_range(line_flags.height, dtype=pl.get_index_type(), eager=True)
    )
    flags = (
        line_flags["risk_flags"]
        .gather(flag_row.gather(line_ids))
        .fill_null(pl.lit([], dtype=pl.List(pl.String())))
        .to_frame()
    )
    return decided.hstack(gathered).hstack(flags).lazy()


def _advance(
    state: RunningState, sources: Sequence[Source], screened: Screened, routed: pl.DataFrame
) -> RunningState:
    """The running state after this batch (``screened``: its new lines and those decided)."""
    assert screened.seen_now is not None, "an incremental batch keeps the lines it saw"
    rows = sum(s.frame.select(pl.len()).collect().item() for s in sources)
    decided = screened.decided.collect(engine=IN_MEMORY)
    return RunningState(
        consignee_days=running.advance_consignee_days(state.consignee_days, decided, screened.counted_before),
        seen_lines=running.advance_seen_lines(state.seen_lines, screened.seen_now),
        queue_load=running.advance_queue_load(state.queue_load, routed),
        rows_seen=state.rows_seen + rows,
        batches=state.batches + 1,
    )


def _materialise(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Collect a plan that several later plans read, so that it is computed once."""
    return frame.collect(engine=IN_MEMORY).lazy()


def _unpseudonymise_keys(history: pl.LazyFrame, keys: pl.Series, key: bytes) -> pl.LazyFrame:
    """History written with the same pseudonymisation key: map its pseudonymous consignee keys back to
    this run's real keys (one HMAC per distinct consignee of the run; unknown pseudonyms stay as they are)."""
    back = {pseudonym(k, key): k for k in keys.unique().drop_nulls().to_list()}
    return history.with_columns(pl.col("consignee_key").replace(back))


def _flag_lines(
    lines: pl.LazyFrame,
    wide: pl.DataFrame,
    resolved: ResolvedRules,
    risk_inputs: ResolvedRisk,
    history: pl.LazyFrame | None,
    tables: ResolvedCache,
    own_names: pl.DataFrame,
    shipper_days: pl.DataFrame | None = None,
    shipper_running: pl.DataFrame | None = None,
    pseudonymise_key: bytes | None = None,
) -> pl.DataFrame:
    """Each line's fired risk rules (materialised: the flags feed three outputs); ``own_names``: the lines
    naming another party than their package's (:func:`_own_names_by_line`); ``shipper_days``: the
    whole day's shipper-consignee-day totals (a part of a day), else those of ``lines``; ``shipper_running``:
    each package's running totals (incremental mode); ``pseudonymise_key``: a screening-list match's detail
    names the party by its pseudonym (:func:`_denied_matches`)."""
    frame = risk.risk_columns(
        lines,
        wide.select(LINE_ID, *risk.RISK_TEXT_INPUTS),
        risk_inputs,
        days=resolved.days,
        tariff_dates=resolved.tariff.dates_with_lines(),
        denied=_denied_matches(wide, risk_inputs, tables, own_names, pseudonymise_key),
        own_names=own_names,
        history=history,
        shipper_days=shipper_days,
        shipper_running=shipper_running,
    )
    return risk.flag_lines(frame, risk_inputs)


def _own_names_by_line(wide: pl.DataFrame, named: pl.DataFrame) -> pl.DataFrame:
    """``named`` (:func:`~screening.stages.normalise.own_party_names`, by source and row) by line id: the
    lines screened that name another shipper or consignee than their package's, with the names they give."""
    names = [c for c in named.columns if c not in (SOURCE_COL, ROW_COL)]
    if not named.height:
        return wide.clear().select(LINE_ID, *names)
    # The few lines, found by their integer row first (cheap), then joined by source and row.
    rows = wide.filter(pl.col(ROW_COL).is_in(named.get_column(ROW_COL).implode())).select(
        LINE_ID, SOURCE_COL, ROW_COL
    )
    return rows.join(named, on=[SOURCE_COL, ROW_COL], how="inner", maintain_order="left").select(
        LINE_ID, *names
    )


#: The screening list's index and prefix tokens (:func:`_denied_matches`), by pack and settings: built once per
#: process (about 70 ms for the SDN list), not once per ``screen()`` call or per batch of new dates.
_LIST_INDEXES: dict[tuple[Any, ...], tuple[pl.DataFrame, denied.EntryPrefixes]] = {}
_LIST_INDEXES_KEPT = 4
#: Held while :data:`_LIST_INDEXES` is looked up, built into and trimmed: runs in threads share it.
_LIST_INDEXES_LOCK = threading.Lock()


def _denied_matches(
    wide: pl.DataFrame,
    risk_inputs: ResolvedRisk,
    tables: ResolvedCache,
    own_names: pl.DataFrame,
    pseudonymise_key: bytes | None = None,
) -> pl.LazyFrame:
    """Screening-list matches for the distinct shipper and consignee names of the run, those that lines give
    beside their package's (``own_names``) included (the list's index and prefix tokens are built once per
    pack and settings, :data:`_LIST_INDEXES`), with the name as a flag's detail shows it
    (:data:`~screening.stages.risk.PARTY_SHOWN`): the name read, or its pseudonym under ``pseudonymise_key``
    (as ``lines`` shows the name)."""
    settings = risk_inputs.denied
    if settings is None:
        return pl.LazyFrame(schema=denied.DENIED_SCHEMA)
    listed = risk_inputs.screening_list
    key = (
        tables.pack.content_hash,
        # The list's own content too: a pack changed in memory (dataclasses.replace) keeps its files' hash.
        listed.height,
        int(listed.hash_rows().sum()) if listed.height else 0,
        tuple(settings.legal_suffixes),
        tuple(settings.generic_tokens),
        settings.threshold,
        tuple(settings.party_types),
    )
    # Built under the lock: a second run of the same list waits for the first one's index instead of
    # building its own (and eviction, a check then a delete, is never interleaved with another thread's).
    with _LIST_INDEXES_LOCK:
        built = _LIST_INDEXES.get(key)
        if built is None:
            index = denied.entry_names(
                risk_inputs.screening_list,
                legal_suffixes=settings.legal_suffixes,
                generic_tokens=settings.generic_tokens,
                party_types=settings.party_types,
            )
            built = (
                index,
                denied.entry_prefixes(
                    index, threshold=settings.threshold, max_token_entries=denied.MAX_TOKEN_ENTRIES
                ),
            )
            while len(_LIST_INDEXES) >= _LIST_INDEXES_KEPT:
                _LIST_INDEXES.pop(next(iter(_LIST_INDEXES)), None)
            _LIST_INDEXES[key] = built
    index, prefixes = built
    names = pl.concat(
        [
            frame.select(pl.col(party).alias("party_name"))
            for frame in (wide, own_names)
            for party in ("shipper_name", "consignee_name")
        ]
    ).unique()
    matches = denied.match_parties(
        names.lazy(),
        risk_inputs.screening_list,
        legal_suffixes=settings.legal_suffixes,
        generic_tokens=settings.generic_tokens,
        threshold=settings.threshold,
        index=index,
        prefixes=prefixes,
        party_types=settings.party_types,
    )
    if pseudonymise_key is None:
        return matches.with_columns(pl.col("party_name").alias(risk.PARTY_SHOWN))
    found = matches.collect(engine=IN_MEMORY)
    # One HMAC per distinct name matched (few), as the outputs' pseudonyms are made.
    shown = {name: pseudonym(name, pseudonymise_key) for name in found["party_name"].unique().drop_nulls()}
    return found.lazy().with_columns(
        pl.col("party_name")
        .replace_strict(shown, default=None, return_dtype=pl.String())
        .alias(risk.PARTY_SHOWN)
    )


def _scored(package_frame: pl.LazyFrame, flags: pl.DataFrame) -> pl.LazyFrame:
    scores = risk.package_scores(flags.lazy())
    return package_frame.join(scores, on=PACKAGE_KEY, how="left", maintain_order="left").with_columns(
        pl.col("risk_score").fill_null(0),
        pl.col("risk_flags").fill_null(pl.lit([], dtype=pl.List(pl.String()))),
    )


def _flags_output(flags: pl.DataFrame) -> pl.DataFrame:
    out = flags.select(list(FLAG_SCHEMA))
    assert out.schema == pl.Schema(FLAG_SCHEMA), "flags columns drifted"
    return out


def validate_sources(
    sources: Sequence[Source],
    parts: Sequence[tuple[pl.LazyFrame, pl.LazyFrame]],
    *,
    columns: Sequence[pl.Expr] = (),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Validate every source (``parts``: :func:`normalise.split_source` of each): the candidates (with
    ``columns`` computed beside them) and the rejects. A source that cannot be read raises
    :class:`InputSchemaError`.

    A few sources at a time (:data:`SOURCES_PER_PASS`): one plan over a thousand small files held memory
    for each at once."""
    kept_parts, found_parts = [], []
    # Files stream; frames already in memory run in memory (faster, and polars 2.1's streaming engine can
    # panic formatting strings of in-memory batches).
    engine: Literal["streaming", "in-memory"] = (
        "streaming" if any(s.path is not None for s in sources) else IN_MEMORY
    )
    try:
        for start in range(0, len(parts), SOURCES_PER_PASS):
            group = parts[start : start + SOURCES_PER_PASS]
            candidates = pl.concat([c for c, _ in group], how="diagonal_relaxed").with_columns(columns)
            rejects = pl.concat([r for _, r in group], how="vertical")
            kept, found = pl.collect_all([candidates, rejects], engine=engine)
            kept_parts.append(kept)
            found_parts.append(found)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(sources, [c for c, _ in parts], exc) from exc
    return pl.concat(kept_parts, how="diagonal_relaxed"), pl.concat(found_parts, how="vertical")


class _MorselSetting:
    """Polars' streaming morsel size (``POLARS_IDEAL_MORSEL_SIZE``, :meth:`pl.Config.set_streaming_chunk_size`)
    set while runs validate (polars 2.1 has no per-query setting of it).

    The setting is process-wide: while any run is inside :meth:`at_most`, every streaming query of the process
    (the caller's own too) runs in morsels of the fewest rows those runs asked for. When the last run leaves,
    the setting is put back to what it was before the first one came (a change of it made by anyone else
    in between is lost); no other polars setting is touched.
    """

    _NAME: Final = "POLARS_IDEAL_MORSEL_SIZE"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: Counter[int] = Counter()  # morsel rows asked for, by the runs inside
        self._before: str | None = None

    @contextlib.contextmanager
    def at_most(self, rows: int) -> Iterator[None]:
        """Streaming queries in morsels of at most ``rows`` rows inside the block."""
        with self._lock:
            if not self._runs:
                self._before = os.environ.get(self._NAME)
            self._runs[rows] += 1
            pl.Config.set_streaming_chunk_size(min(self._runs))
        try:
            yield
        finally:
            with self._lock:
                self._runs[rows] -= 1
                if not self._runs[rows]:
                    del self._runs[rows]
                if self._runs:
                    pl.Config.set_streaming_chunk_size(min(self._runs))
                else:  # as it was found, to the letter (this one setting only)
                    pl.Config.load(json.dumps({"environment": {self._NAME: self._before}}))


#: The morsel size of :func:`validate_into`'s passes, shared by the runs of the process.
_VALIDATION_MORSELS = _MorselSetting()


def validate_into(
    sources: Sequence[Source],
    checked: Sequence[normalise.CheckedSource],
    into: Path,
    *,
    columns: Sequence[pl.Expr] = (),
    partition: str | None = None,
) -> pl.DataFrame:
    """Validate every source (``checked``: :func:`normalise.check_source` of each) in one streaming pass
    into Parquet files in folder ``into``; returns the rejects.

    The files hold every row: the candidate columns and ``columns`` beside them, the failed check
    (:data:`normalise.CHECK_INDEX`, null for candidates) and the columns rejects are built from. With
    ``partition`` (an integer column of ``columns``), the rows of each of its values go to their own
    files (:func:`validated_files`), in input order, so that a later pass reads one value's rows
    without scanning the others. Memory stays bounded whatever the input's size. A source that cannot be
    read raises :class:`InputSchemaError`.
    """
    try:
        # Every file of the folder in one schema: that of all the sources together.
        schema = validation_rows(checked, columns=columns).collect_schema()
        # Temporary files read back soon: fast compression, not small files. The morsel size is polars'
        # process-wide setting (:class:`_MorselSetting`), put back when the last run leaves the block. Row
        # groups of a morsel let a reader skip those without the rows it asks for (by their statistics).
        morsel = VALIDATION_MORSEL_ROWS if partition is None else PARTITIONED_MORSEL_ROWS
        with _VALIDATION_MORSELS.at_most(morsel):
            # A few sources per pass: one pass over a thousand small files held memory for each at once
            # (13 GiB for 1,000 files of 10 lines).
            for group, start in enumerate(range(0, len(checked), SOURCES_PER_PASS)):
                rows = _in_schema(
                    validation_rows(checked[start : start + SOURCES_PER_PASS], columns=columns), schema
                )
                rows.sink_parquet(
                    _partitioned(into, partition, group)
                    if partition
                    else into / _partition_file_name(0, group, 0),
                    compression="lz4",
                    row_group_size=morsel,
                    engine="streaming",
                    mkdir=True,
                )
        # The rejected rows, read once and split by source (one scan per source read every file each time).
        files = validated_files(into)
        # Only what a reject is built from: all of a day's rows may be rejected.
        kept = [
            SOURCE_COL,
            ROW_COL,
            normalise.CHECK_INDEX,
            *[c for c in schema if c.startswith(normalise.HELD)],
        ]
        held = (
            pl.scan_parquet(files, glob=False)
            .filter(pl.col(normalise.CHECK_INDEX).is_not_null())
            .select(kept)
            .collect(engine="streaming")
            if files
            else pl.DataFrame(schema=schema).select(kept)
        )
        by_source = held.partition_by(SOURCE_COL, as_dict=True, include_key=True)
        rejects = [
            c.rejects_from_held(by_source.get((s.label,), held.clear()).lazy())
            for s, c in zip(sources, checked, strict=True)
            if (s.label,) in by_source or s is sources[0]
        ]
        return pl.concat(rejects, how="vertical").collect(engine=IN_MEMORY)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise _unreadable(sources, [c.candidates() for c in checked], exc, writing=into) from exc


#: Sources validated by one streaming pass of :func:`validate_into`.
SOURCES_PER_PASS = 32


def _in_schema(rows: pl.LazyFrame, schema: pl.Schema) -> pl.LazyFrame:
    """``rows`` with the columns of ``schema`` in its order and types (a column they lack as nulls)."""
    have = rows.collect_schema()
    return rows.select(
        pl.col(name).cast(dtype) if name in have else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in schema.items()
    )


def _partitioned(into: Path, partition: str, group: int) -> pl.PartitionBy:
    """Files in ``into`` for each value of column ``partition`` (polars' partitioned sink is marked unstable)."""
    # Polars warns of its unstable features only in a process that asked it to (``pl.Config.warn_unstable``,
    # POLARS_WARN_UNSTABLE=1), and then a warning naming this line is what was asked for: it is not silenced.
    # Silencing it needs the process-wide filter list changed (``warnings.catch_warnings`` swaps it for every
    # thread, and an import-time filter is state the caller did not ask for either).
    return pl.PartitionBy(
        into,
        key=partition,
        include_key=True,
        file_path_provider=lambda args: _partition_file_name(
            args.partition_keys.item(0, 0), group, args.index_in_partition
        ),
    )


def _partition_file_name(partition: int, group: int, index: int) -> str:
    """``<partition>-<group>-<index>.parquet`` (``group``: the pass over a few sources): a partition's files
    sort in the order they were written."""
    return f"{partition:06d}-{group:06d}-{index:06d}.parquet"


def validated_files(into: Path, partition: int | None = None) -> list[Path]:
    """The files :func:`validate_into` wrote into ``into``: all, or those of one ``partition`` value, in order."""
    pattern = "*.parquet" if partition is None else f"{partition:06d}-*.parquet"
    return sorted(into.glob(pattern))


def validation_rows(
    checked: Sequence[normalise.CheckedSource], *, columns: Sequence[pl.Expr] = ()
) -> pl.LazyFrame:
    """The plan :func:`validate_into` streams into its file: every row of every source (``checked``), with
    the candidate columns, ``columns``, the failed check and the held columns of rejected rows."""
    return pl.concat([c.candidates_and_held() for c in checked], how="diagonal_relaxed").with_columns(columns)


def _unreadable(
    sources: Sequence[Source],
    candidates: Sequence[pl.LazyFrame],
    exc: BaseException,
    writing: Path | None = None,
) -> InputSchemaError | UsageError:
    """The error for a failed validation: naming the source that cannot be read (or all of them). When every
    source reads and the pass was ``writing`` files into a folder, the writing failed (a full disk): that
    folder and the system's error are named, not the input."""
    for source, candidate in zip(sources, candidates, strict=True):
        try:
            # Every value decoded (a count alone reads only a Parquet file's footer), none kept.
            candidate.select(pl.all().null_count()).collect(engine="streaming")
        except (pl.exceptions.PolarsError, OSError) as per_source:
            return InputSchemaError(source.label, f"cannot be read: {read_error(per_source, source.path)}")
    # An input error message may quote the input (names, addresses): the system's error only.
    system_error = isinstance(exc, OSError) or "io error" in str(exc).lower()
    if writing is not None and system_error:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return UsageError(f"{writing}: the run's temporary files cannot be written: {detail}")
    # Polars writing a Parquet footer on a full disk names no reason ("Invalid thrift: transport error").
    if writing is not None and (number := full_file_system(writing)) is not None:
        return UsageError(f"{writing}: the run's temporary files cannot be written: {os.strerror(number)}")
    return InputSchemaError(", ".join(s.label for s in sources), f"cannot be read: {read_error(exc)}")


def read_error(exc: BaseException, path: Path | None = None) -> str:
    """What went wrong reading a file (at ``path``; None: data in memory), without quoting its content (it
    may hold names and addresses)."""
    kind = SUFFIXES.get(path.suffix.lower()) if path is not None else None
    if kind == "ndjson" and path is not None:
        with contextlib.suppress(OSError):  # unreadable now: worded below
            if (fault := ndjson_fault(path)) is not None:
                return fault
    if not isinstance(exc, pl.exceptions.ComputeError):
        return type(exc).__name__
    if kind == "parquet":
        return "damaged data (not a valid Parquet file, or a corrupted page)"
    if kind == "ipc":
        return "damaged data (not a valid Arrow IPC file)"
    return "malformed data (a quote that is never closed, or bad encoding)"


#: How many days after the latest day known a rejected row's own date may lie and still date its package's
#: validation mark (:func:`_validation_marks`); a date further on is taken for a typo.
MARK_DATE_GRACE_DAYS = 7


def _validation_marks(
    rejected: pl.DataFrame,
    seen_now: pl.DataFrame,
    rejected_days: pl.DataFrame | None,
    state_latest: Callable[[], dt.date | None],
) -> pl.DataFrame:
    """Lines seen for the packages rejected here (line 0 is no line's number), so that their later lines are
    rejected too, each dated for :meth:`~screening.stages.running.RunningState.forget_before` by the latest
    date among the package's own rows of the batch (its rejected rows, ``rejected_days``, where the date
    reads as one the pack covers; its kept lines, ``seen_now``); where none reads, by the batch's latest such
    date, else by ``state_latest()`` (the state's latest day); else undated, and dropped by the next
    ``forget_before``. A rejected row's date more than :data:`MARK_DATE_GRACE_DAYS` after the latest day known
    (the batch's kept lines' and the state's) counts not (a year typo, 2052, would keep the mark for good; the
    grace covers an hour across midnight and a batch of rejected rows only after a weekend); with no day known at
    all, any date the pack covers counts. A package's own date does not depend on where the batches are cut."""
    days = [seen_now.select("package_id", "arrival_date")]
    if rejected_days is not None:
        rejected_day = pl.col("arrival_date").cast(pl.Date())
        kept_latest = seen_now.get_column("arrival_date").max()
        known = [d for d in (kept_latest, state_latest()) if isinstance(d, dt.date)]
        if known:
            last = max(known) + dt.timedelta(days=MARK_DATE_GRACE_DAYS)
            rejected_day = pl.when(rejected_day <= pl.lit(last, pl.Date())).then(rejected_day)
        days.append(rejected_days.select("package_id", rejected_day.alias("arrival_date")))
    rows = pl.concat(days)
    own = rows.group_by("package_id").agg(pl.col("arrival_date").max())
    marks = (
        rejected.filter(pl.col("package_id").is_not_null())
        .select("package_id")
        .join(own, on="package_id", how="left", maintain_order="left")
    )
    if marks.get_column("arrival_date").has_nulls():
        latest = rows.get_column("arrival_date").max()
        marks = marks.with_columns(
            pl.col("arrival_date").fill_null(
                pl.lit(latest if latest is not None else state_latest(), pl.Date())
            )
        )
    marks = marks.with_columns(
        pl.lit(0, pl.Int64()).alias("line_no"),
        pl.lit(False).alias("counted"),
        pl.lit(None, pl.UInt64()).alias(running.CONSIGNEE_HASH),
    )
    return marks.select(seen_now.columns).cast(seen_now.schema)


def _decide(
    valid: pl.LazyFrame,
    resolved: ResolvedRules,
    postal_method: PostalMethod,
    prior: KeyedRows | None = None,
    day: pl.DataFrame | None = None,
    counted: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Line decisions, in the order of ``valid``; with ``prior`` (incremental mode) against running totals on top of it
    (``counted``: where earlier batches counted the batch's packages with lines there,
    :func:`~screening.stages.running.counted_parts`), with ``day`` (a
    part of a day) against the whole day's consignee-day totals.

    Every lookup that depends only on the goods runs once per distinct goods of the run
    (:func:`_goods_facts`), and the lines gather the columns they need by their goods code (kept as the
    last column, :data:`~screening.stages.enrich.GOODS_CODE`, for the duty components). Returns the
    decided lines and the goods table.
    """
    lines = enrich.add_value(valid).collect(engine=IN_MEMORY)
    codes, goods = enrich.goods_codes(lines)
    facts = _goods_facts(goods, resolved)
    lines = enrich.gather_goods(lines.with_columns(codes), facts, ["hts_digits", "tariff_line"])
    if day is not None:
        lines = aggregate.attach_day_totals(lines, day)
    elif prior is None:
        lines = aggregate.attach_consignee_day(lines)
    else:
        running_totals = running.running_totals(lines.lazy(), prior, counted)
        lines = running.attach_running(lines.lazy(), running_totals).collect(engine=IN_MEMORY)
    # A package continued from earlier batches: its value here is not the package's (a waiver by value is not given).
    continued = counted.get_column("package_id") if counted is not None and prior is not None else None
    lines = decide.decide_lines(lines, facts, resolved.gifts, continued=continued)
    lines = assess.add_duty_columns(lines, facts, postal_method)
    lines = part_rates.settle_part_rates(lines, resolved.tariff_parts)
    return lines.select(
        pl.exclude(*DECISION_SCAFFOLDING, enrich.GOODS_CODE), pl.col(enrich.GOODS_CODE)
    ), facts


def _assess(
    decided: pl.DataFrame, goods: pl.DataFrame, resolved: ResolvedRules
) -> tuple[pl.LazyFrame, pl.LazyFrame, pl.DataFrame]:
    """Duties and fees: the settled lines, the packages with their fees, and every component.

    Materialised at each fan-out: risk, routing and the outputs all read these, and a lazy plan
    would recompute the joins behind them for each reader.
    """
    lines = assess.with_postal_exempt_reasons(
        decided, goods, resolved.measures, resolved.measure_scope, resolved.tariff
    ).with_columns(pl.int_range(pl.len(), dtype=pl.UInt32()).alias(assess.LINE_ROW))
    dutiable_goods = decided.select(pl.col(enrich.GOODS_CODE).filter(pl.col("mfn_applies"))).to_series()
    by_goods = assess.goods_measures(
        goods, dutiable_goods, resolved.measures, resolved.measure_scope, resolved.tariff
    )
    # The measures the goods are exempt from are shown (at $0.00, saying why), not summed into the duty.
    measured, exempted = assess.split_exempt(_materialise(assess.measure_components(lines.lazy(), by_goods)))
    charged_parts = _materialise(part_rates.charged_part_components(lines.lazy(), resolved.tariff_parts))
    line_components = assess.with_formal_mail_notes(
        pl.concat(
            [
                assess.own_components(lines.lazy(), goods),
                measured.drop(assess.LINE_ROW),
                exempted.drop(assess.LINE_ROW),
                charged_parts.drop(assess.LINE_ROW),
            ],
            how="vertical",
        ),
        lines,
    )
    settled = assess.settle_line_duty(lines, pl.concat([measured, charged_parts], how="vertical"))
    settled_lines = settled.drop(assess.LINE_ROW, enrich.GOODS_CODE).lazy()
    package_duties = _materialise(assess.package_duty_components(settled_lines))
    package_frame = packages.package_rows(settled_lines, package_duties)
    package_frame = _materialise(
        entry_limits.with_entry_limits(package_frame, lines, measured, assess.LINE_ROW, resolved.days)
    )
    fee_components = _materialise(assess.fee_components(package_frame, resolved.fees))
    schedule = resolved.fees.select("arrival_date", "mode").unique()
    unconfirmed = resolved.fees.filter(pl.col("confidence") != "confirmed").get_column("fee_rule_id").unique()
    claim_noted = (
        resolved.fees.filter(pl.col("usmca_claim_note").is_not_null()).get_column("fee_rule_id").unique()
    )
    unsure = resolved.fees.filter(pl.col("may_not_be_owed")).get_column("fee_rule_id").unique()
    package_frame = _materialise(
        packages.settle_fees(
            package_frame,
            fee_components,
            schedule,
            unconfirmed.to_list(),
            claim_noted.to_list(),
            unsure.to_list(),
        )
    )
    components = pl.concat([line_components, package_duties, fee_components], how="vertical").collect(
        engine=IN_MEMORY
    )
    return settled_lines, package_frame, components


def _goods_facts(goods: pl.DataFrame, resolved: ResolvedRules) -> pl.DataFrame:
    """The goods table with every goods-level lookup: tariff line and rate program, day rules,
    suspensions, exclusions, gift limits, postal regimes (row ``i`` is still goods code ``i``)."""
    claims = enrich.usmca_claimed(resolved.usmca_parties).alias(enrich.USMCA_CLAIMED)
    facts = enrich.attach_tariff(goods.lazy().with_columns(claims), resolved.tariff)
    facts = decide.attach_day_rules(facts, resolved.days)
    facts = decide.attach_suspensions(facts, resolved.suspensions)
    facts = decide.attach_suspension_exceptions(facts, resolved.suspension_exceptions)
    facts = decide.attach_exclusions(facts, resolved.never_eligible, resolved.tariff)
    facts = decide.attach_partly_barred(facts, resolved.never_eligible)
    facts = decide.attach_gift_rule(facts, resolved.gifts)
    facts = decide.attach_postal_regimes(facts, resolved.postal)
    facts = assess.add_goods_duty_facts(assess.select_rate_program(facts))
    facts = decide.add_goods_reasons(facts)
    return facts.collect(engine=IN_MEMORY)


def _lines_output(lines: pl.LazyFrame, passthrough: Sequence[str]) -> pl.LazyFrame:
    money = {
        "value_usd": "value_usd_cents",
        "consignee_day_value_usd": "consignee_day_value_cents",
        "consignee_day_gift_value_usd": "consignee_day_gift_cents",
        "duty_usd": "duty_cents",
    }
    # Counts as Int64 in every mode (a window's count is unsigned, the incremental totals are not).
    counts = ("consignee_day_packages", "consignee_day_lines")
    # A bona fide gift line that stays duty-free in a package that does not pass so shows its own decision.
    gift_rule = pl.col(GIFT_LINE_RULE)
    own = {
        "de_minimis_eligible": pl.when(gift_rule.is_not_null())
        .then(True)
        .otherwise(pl.col("de_minimis_eligible")),
        "de_minimis_reason": pl.when(gift_rule.is_not_null())
        .then(pl.lit(str(ReasonCode.GIFT_EXEMPT)))
        .otherwise(pl.col("de_minimis_reason")),
        "de_minimis_rule_id": pl.coalesce(gift_rule, pl.col("de_minimis_rule_id")),
    }
    derived = [
        cents_to_money(pl.col(money[c])).alias(c)
        if c in money
        else pl.col(c).cast(pl.Int64())
        if c in counts
        else own[c].alias(c)
        if c in own
        else pl.col(c)
        for c in LINE_DERIVED_COLUMNS
        if c not in (SOURCE_COL, ROW_COL)
    ]
    return lines.select(
        pl.col(SOURCE_COL),
        pl.col(ROW_COL),
        *[pl.col(c.name) for c in MANIFEST_COLUMNS],
        *derived,
        *[pl.col(c).alias(c.removeprefix(PASSTHROUGH_PREFIX)) for c in passthrough],
    )


def packages_output(routed: pl.DataFrame) -> pl.LazyFrame:
    """The ``packages`` output of the routed packages."""
    money = {
        "value_usd": "value_cents",
        "consignee_day_value_usd": "consignee_day_value_cents",
        "duty_usd": "duty_cents",
        "fees_usd": "fees_cents",
        "total_due_usd": "total_due_cents",
    }
    # The package key numbers packages in package id order: sorting on it is sorting on the id. A day's
    # parts come back from their files in key order, unflagged: checked in one pass, not sorted again.
    in_order = routed if routed.get_column(PACKAGE_KEY).is_sorted() else routed.sort(PACKAGE_KEY)
    return in_order.lazy().select(
        *[cents_to_money(pl.col(money[c])).alias(c) if c in money else pl.col(c) for c in PACKAGE_COLUMNS],
        pl.col("fee_status"),
    )


def _components_output(
    components: pl.DataFrame, resolved: ResolvedRules
) -> tuple[pl.LazyFrame, pl.DataFrame]:
    """The ``components`` output of ``components`` (lazy) and its :func:`~screening.result.component_totals`
    (grouped on the integer codes the output is sorted by: grouping the output's strings cost ten times more)."""
    # Citations repeat on every component row: an Enum over the pack's citations stores each once
    # (fixed categories keep the Parquet bytes deterministic).
    texts = pl.Enum(sorted(set(resolved.citations["citation"].to_list())))
    # Output order: package_id, line_no, component, measure_id, then rate (an item's postal duty at each of its
    # origins' rates). Sorting on strings is slow, so each sort key is an integer that sorts the same way: the
    # package key, and the codes of component and measure id in Enums of their own distinct values, sorted.
    distinct = {c: components[c].unique().drop_nulls().sort() for c in ("component", "measure_id")}
    codes = [
        pl.col(c).cast(pl.Enum(values)).to_physical().alias(f"__{c}_code") for c, values in distinct.items()
    ]
    # A measure's citation and confidence are found once per distinct measure id (row i: code i), and
    # gathered by its code: one pass over the component rows' strings instead of one per looked-up column.
    measures = (
        distinct["measure_id"]
        .to_frame()
        .join(
            resolved.citations.rename({"rule_id": "measure_id"}),
            on="measure_id",
            how="left",
            maintain_order="left",
            validate="m:1",
        )
        .with_columns(pl.col("citation").cast(texts))
    )
    coded = components.with_columns(codes)
    # Gathered as Series: a literal of an empty Series would lose its type.
    measure_codes = coded.get_column("__measure_id_code")
    with_citation = coded.with_columns(
        measures.get_column(c).gather(measure_codes) for c in ("citation", "confidence")
    ).lazy()
    ordered = with_citation.sort(
        PACKAGE_KEY, "line_no", "__component_code", "__measure_id_code", "rate", nulls_last=True
    )
    out = ordered.select(
        pl.col("package_id"),
        pl.col("line_no"),
        pl.col("component"),
        pl.col("measure_id"),
        pl.col("heading"),
        cents_to_money(pl.col("base_cents")).alias("base_usd"),
        pl.col("rate"),
        cents_to_money(pl.col("amount_cents")).alias("amount_usd"),
        pl.col("citation"),
        pl.col("confidence"),
        pl.col("assumption"),
    )
    assert list(out.collect_schema().names()) == list(COMPONENT_SCHEMA), "components columns drifted"
    return out, _coded_totals(coded, distinct)


def _coded_totals(coded: pl.DataFrame, distinct: dict[str, pl.Series]) -> pl.DataFrame:
    """:func:`~screening.result.component_totals` of the components rows ``coded`` by :func:`_components_output`
    (the codes of ``distinct`` component and measure ids, amounts in cents)."""
    codes = ["__component_code", "__measure_id_code"]
    grouped = summed_components(coded.lazy(), codes, "amount_cents").collect(engine=IN_MEMORY)
    money = COMPONENT_TOTAL_SCHEMA["amount_usd"]
    return (
        grouped.with_columns(
            distinct["component"].gather(grouped["__component_code"]).alias("component"),
            distinct["measure_id"].gather(grouped["__measure_id_code"]).alias("measure_id"),
            (
                pl.col("amount_cents").cast(pl.Decimal(38, 0))
                * pl.lit(Decimal("0.01"), dtype=pl.Decimal(38, 2))
            )
            .cast(money)
            .alias("amount_usd"),
        )
        .select(list(COMPONENT_TOTAL_SCHEMA))
        .cast(COMPONENT_TOTAL_SCHEMA)
        .sort("component", "measure_id", nulls_last=True)
    )
