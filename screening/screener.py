"""Incremental screening: record batches as they arrive, judged against running consignee-day totals.

    screener = screening.Screener("rules/us")
    for batch in reader:                      # a RecordBatchReader, a Flight stream, hourly files...
        result = screener.screen(batch)       # a Result for this batch's rows
    screener.save_state("day.state")          # resume later with Screener.restore("day.state", ...)

Semantics (DESIGN §4): each package is judged against everything seen that day up to and
including itself; after the last batch the carried totals equal the whole-day totals. Lines
repeated from an earlier batch that passed validation there are ``duplicate-line`` rejects, and queue
ranks continue from the earlier batches' counts. Memory is bounded by the state (one row per consignee-day, one per
line key seen, one per queue, port and day), not by the input.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import operator
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

from screening.errors import InputSchemaError, UsageError
from screening.exprs.money import money_fits
from screening.io.digests import FileDigest, file_digest, history_digest, refuse_changed
from screening.io.extra_columns import ExtraColumnTypes
from screening.io.history import history_files, history_sources, read_history
from screening.io.mapping import ColumnMapping, column_mapping
from screening.io.privacy import key_bytes
from screening.io.sorting import write_sorted
from screening.io.sources import (
    SUFFIXES,
    Source,
    decoded_text,
    expand_paths,
    from_memory,
    ipc_stream_batches,
    is_csv,
    is_ipc_stream,
    read_digest,
    require_columns,
    scan_file,
    schema_frame,
    with_lineage,
)
from screening.io.state_file import (
    check_state_path,
    read_state_file,
    state_file_staged,
    state_lock,
    state_path_resolved,
)
from screening.io.streaming_output import StreamingOutput
from screening.io.writers import OUTPUTS, output_folder, output_lock, refused_when_full
from screening.keyword_options import refuse_unknown_options, refusing_unknown_options
from screening.pipeline import (
    build_plan,
    check_postal_method,
    collect_result,
    read_error,
)
from screening.result import (
    SUMMARY_PACKAGE_COLUMNS,
    Result,
    RowCover,
    added_totals,
    build_summary,
    check_conservation,
    component_totals,
    engine_build,
    engine_version,
    read_files,
    totals_in_summary,
)
from screening.rulepack.loader import RulePack, load_rules
from screening.rulepack.resolved_cache import ResolvedCache
from screening.rulepack.risk_resolve import resolve_risk
from screening.rulepack.risk_tables import ResolvedRisk
from screening.schema import QUEUE_ORDER, ROW_COL, SOURCE_COL, passthrough_columns
from screening.seed import Seed, secret_id, seed_described, seed_record
from screening.stages.assess import PostalMethod
from screening.stages.normalise import package_id_as_read
from screening.stages.running import (
    CONSIGNEE_DAY_SCHEMA,
    CONSIGNEE_HASH,
    QUEUE_LOAD_SCHEMA,
    SEEN_LINES_SCHEMA,
    RunningState,
    consignee_day_rows,
    seen_line_table,
    state_tables,
)

#: Version of the state file layout; a file of another version is refused. Header keys added since
#: (``extra_column_types``, ``stream_rows``) are read where present; a header without them restores as one saved
#: before them did (a state saved by the code before them is of another build, and refused as such).
STATE_FORMAT = 4
_TABLES = {
    "consignee_days": CONSIGNEE_DAY_SCHEMA,
    "seen_lines": SEEN_LINES_SCHEMA,
    "queue_load": QUEUE_LOAD_SCHEMA,
}


class Screener:
    """Screens batches of manifest lines one after another, carrying consignee-day totals between them.

    Args:
        rules: a rule-pack folder or a loaded :class:`RulePack`.
        mapping: a column-mapping TOML file or a :class:`ColumnMapping`, applied to every batch.
        postal_method: ``ad-valorem`` or ``specific`` (see :func:`screening.screen`).
        seed: the seed of the random compliance sample and of the queue tie-break (default: the pack's); a
            :class:`~screening.PrivateSeed` is recorded in summaries and saved states by its fingerprint only.
        history: ``packages`` outputs of earlier days, for look-back rules.
        label: the ``source`` named in the outputs of batches given in memory, whose rows are numbered on across
            those batches from 1 (a file batch's rows are numbered from 1 in the file, and later batches in
            memory named by the file's source number on after them; a batch named by its own ``source`` is
            numbered on from that source's earlier batches).
        pseudonymise_key: when given, party fields in each batch's ``lines``, ``packages`` and ``rejects`` are
            keyed hashes, as :func:`screening.screen` makes them; decisions are made on the real values (the
            running state, and a saved state file, hold the consignee keys in clear).

    One screener may be shared by threads: its calls that read or change the running state (:meth:`screen`,
    :meth:`totals`, :meth:`forget_before`, :meth:`save_state`) take turns, so batches screened at once count
    as if screened one after the other (in the order they got their turn).

    Raises:
        RulePackError: the rule pack does not validate.
        InputSchemaError: a ``history`` source cannot be read or lacks required columns.
        UsageError: an option is not valid, as :func:`screening.screen` says, or ``label`` is not a non-empty
            text.
    """

    @refusing_unknown_options("Screener")
    def __init__(
        self,
        rules: str | Path | RulePack = "rules/us",
        *,
        mapping: str | Path | ColumnMapping | None = None,
        postal_method: PostalMethod = "ad-valorem",
        seed: Seed | None = None,
        history: str | Path | Sequence[str | Path] = (),
        label: str = "<stream>",
        pseudonymise_key: str | bytes | None = None,
    ) -> None:
        check_postal_method(postal_method)
        if not isinstance(label, str) or not label.strip():
            raise UsageError(f"label must be a non-empty text naming the batches, not {label!r}")
        # Held while a call reads the running state and replaces it: two batches screened at once from one
        # state would each leave a state without the other's packages.
        self._lock = threading.RLock()
        self._key = key_bytes(pseudonymise_key)
        self.pack = rules if isinstance(rules, RulePack) else load_rules(rules)
        self.mapping = column_mapping(mapping) or ColumnMapping()
        self.postal_method: PostalMethod = postal_method
        self.seed = seed
        self.label = label
        history = history_sources(history)
        self._history = read_history(history, keyed=self._key is not None) if history else None
        #: The history's packages files, resolved now: a result's :meth:`Result.write` (and ``screen run``)
        #: refuses a folder holding one, whatever the working folder is by then.
        self._history_files = tuple(path.resolve() for path in history_files(history))
        self._history_sources = len(history)
        self._history_id = history_digest(history)
        self.state = RunningState.empty()
        self.last_risk: ResolvedRisk | None = None
        #: Where a restored screener went on from (the state file's digest, its batches and rows), for summaries.
        self.resumed_from: dict[str, str] = {}
        #: SHA-256 of the manifest files screened into this state (by ``screen run --batch-size --state`` or
        #: :meth:`screen` given a path), so a file screened again is refused instead of turning every line into
        #: a copy.
        self.files_screened: list[str] = []
        self.citations: pl.DataFrame | None = None
        self._seed = resolve_risk(self.pack, [], seed=seed).seed
        self._resolved = ResolvedCache(self.pack, seed=seed)
        #: The extra columns' types of the batches screened so far (those before a save too: the state keeps
        #: them): a batch whose types do not stack with theirs is refused before it is screened (their results
        #: are stacked: :func:`screen_batches`, and a resumed job's outputs join the earlier ones').
        self._extra_types = ExtraColumnTypes()
        #: The rows of the batches given in memory so far, per source named (the label's, or a batch's own
        #: ``source``), or a file batch's last row where higher: the next batch in memory of that source is
        #: numbered on from them (file batches count from 1). The latest :data:`_FILES_KEPT` sources are kept.
        self._stream_rows: dict[str, int] = {}

    def screen(self, batch: Any, *, source: str | None = None, first_row: int | None = None) -> Result:
        """Screen one batch (a pyarrow Table or RecordBatch, a polars frame, any Arrow stream, or the path of
        one manifest file, as an hourly file).

        Returns the batch's :class:`Result`. Rejects name ``source`` (default: the file's path, else the
        screener's label) and rows from ``first_row`` (default: a file's rows from 1; a batch in memory's on
        from the rows of the earlier batches named by the same source, from 1: after those in memory, and after
        a file's last row where it was screened under that source).

        A file is recorded in the state by its SHA-256 (:attr:`files_screened`, as ``screen run --state``
        records it; not a file of no row): the same bytes given again, by any name, are refused.

        Raises:
            InputSchemaError: the batch cannot be read or lacks required columns, or an extra column's type
                does not stack with the type an earlier batch of this screener (or of the state it was restored
                from) gave it (a date beside an integer: see :mod:`screening.io.extra_columns`); the batch is
                then not screened, and the screener goes on as before it.
            UsageError: ``source`` is not a non-empty text, or ``first_row`` not a whole number of 1 or more, or
                the file was screened into the state already, or changed while it was read (the screener goes on
                as before it).
            MoneyLimitError: a money amount is beyond what the outputs hold, $10^16 (the screener goes on as
                before it).
        """
        started = time.perf_counter()
        if source is not None and (not isinstance(source, str) or not source.strip()):
            raise UsageError(f"source must be a non-empty text naming the batch, not {source!r}")
        if first_row is not None:
            first_row = _row_number(first_row)
        if isinstance(batch, str | Path):
            label = source or str(batch)
            file = _one_file(Path(batch))
            data, read = _read_whole_file(Path(batch), file, self.mapping)
            first_row = 1 if first_row is None else first_row  # rows of the file
            return self._screen_rows(
                data, label, first_row, from_csv=is_csv(file), started=started, file=(file, read)
            )
        label = source or self.label
        data = from_memory(batch, time_zone=self.pack.meta.time_zone, label=label).collect(engine="in-memory")
        return self._screen_rows(data, label, first_row, from_csv=False, started=started, in_memory=True)

    def _screen_rows(
        self,
        data: pl.DataFrame,
        label: str,
        first_row: int | None,
        *,
        from_csv: bool,
        started: float,
        file: tuple[Path, FileDigest] | None = None,
        in_memory: bool = False,
    ) -> Result:
        """Screen one batch of rows as read (``from_csv``: read from a CSV file by the engine), after any batch
        another thread is screening. ``file``: the path of the file that is the whole batch and what reading it
        found (digest and size), refused when screened into the state already, else recorded in it (and listed
        in the summary as ``screen`` lists a file, so that the result is not written over it). ``in_memory``: a
        batch given in memory, whose rows count on from ``label``'s earlier such batches (numbered from there
        unless ``first_row`` is given)."""
        with self._lock:
            if file is not None:
                refuse_screened(
                    file[0], file[1].sha256, self.files_screened, "this screener's state", _API_AGAIN
                )
            # rechunk: polars 2.1 can panic formatting strings of a batch sliced from a larger buffer.
            frame = self.mapping.apply(data.rechunk().lazy(), label=label)
            before = self._stream_rows.get(label, 0)
            first = first_row if first_row is not None else before + 1
            source_ = Source(label, None, with_lineage(frame, label, first_row=first))
            require_columns(source_, from_csv=from_csv)
            rows = f"rows {first:,}-{first + data.height - 1:,}" if data.height else "no rows"
            extra_types = self._extra_types.with_input(
                source_.frame.collect_schema(), label, f"batch {self.state.batches + 1} ({label}, {rows})"
            )
            plan = build_plan(
                [source_],
                self.pack,
                postal_method=self.postal_method,
                seed=self.seed,
                history=self._history,
                pseudonymise_key=self._key,
                state=self.state,
                cache=self._resolved,
            )
            # The plan reads the rows in memory; the summary lists the file they were read from.
            listed = source_ if file is None else Source(label, file[0], source_.frame, read=file[1])
            with money_fits():
                result = collect_result(
                    plan,
                    self.pack,
                    [listed],
                    options={**self._options(), **self.resumed_from},
                    key=self._key,
                    started=started,
                    history=self._history_files,
                )
            assert plan.next_state is not None, "an incremental plan carries its next state"
            files_screened = self.files_screened
            if file is not None and data.height:
                files_screened = _with_files(files_screened, [file[1].sha256])
            stream_rows = self._stream_rows
            if in_memory and data.height:
                stream_rows = _counted(stream_rows, label, before + data.height)
            elif data.height and first + data.height - 1 > before:
                # A file batch numbers its own rows; batches in memory named by its source number on after them.
                stream_rows = _counted(stream_rows, label, first + data.height - 1)
            # All at once, in one call: a Ctrl-C (raised between two steps of Python, as a trace hook may raise)
            # lands before it or after it, never with the batch counted in some attributes and not others (a
            # retried batch's lines were taken for copies of themselves).
            vars(self).update(
                state=plan.next_state,
                files_screened=files_screened,
                _stream_rows=stream_rows,
                _extra_types=extra_types,
                last_risk=plan.risk,
                citations=plan.citations,
            )
            return result

    def screen_all(self, batches: Iterable[Any]) -> Iterator[Result]:
        """Screen each batch in turn, yielding its result."""
        for batch in batches:
            yield self.screen(batch)

    def totals(self) -> pl.DataFrame:
        """The consignee-day totals seen so far (``consignee_day_value_cents`` and ``consignee_day_gift_cents``,
        packages, lines), in key order."""
        with self._lock:
            state = self.state
        return state.consignee_days.table().sort("consignee_key", "arrival_date")

    def _took_files(self, digests: Sequence[str]) -> None:
        """Record the ``digests`` of files screened into the state (the latest :data:`_FILES_KEPT` are kept)."""
        self.files_screened = _with_files(self.files_screened, digests)

    def forget_before(self, day: dt.date) -> None:
        """Drop the running state's days before ``day`` (consignee-day totals, queue loads, lines seen): a state
        carried across days stays the size of the days it keeps. A package of a forgotten day screened later is
        judged without them, and its lines are no longer copies.

        Raises:
            UsageError: ``day`` is not a ``datetime.date`` (a ``datetime`` is refused: compared as its midnight,
                it forgot its own day; None forgot every day).
        """
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise UsageError(
                f"forget_before takes a day, a datetime.date (not a datetime or text), not {day!r}: "
                "the state's days before it are dropped"
            )
        with self._lock:
            self.state = self.state.forget_before(day)

    def save_state(self, path: str | Path) -> Path:
        """Write the running state to ``path`` (atomically), to resume with :meth:`restore`.

        Raises:
            UsageError: the state cannot be written at ``path``: its folder does not exist or takes no new file,
                ``path`` is a folder, or the disk is full.
        """
        with self._state_staged(path):
            pass
        return Path(path)

    @contextlib.contextmanager
    def _state_staged(self, path: str | Path) -> Iterator[None]:
        """The running state written to a hidden copy beside ``path``, which replaces ``path`` when the block
        ends and is removed if it fails (:func:`~screening.io.state_file.state_file_staged`).

        The screener's lock is held from the copy's writing to its renaming, so that other threads' batches and
        saves wait for both (it is re-entrant: the block may call the screener in this thread); released before
        the renaming, an older state saved by one thread could replace a later one another thread had saved.
        """
        with self._lock:
            meta = {
                "format": STATE_FORMAT,
                "engine_version": engine_version(),
                "engine_build": engine_build(),
                "rules_id": self.pack.meta.id,
                "rules_content_hash": self.pack.content_hash,
                "options": self._options(),
                "pseudonym_key_id": self._key_id(),
                "history_id": self._history_id,
                "rows_seen": self.state.rows_seen,
                "batches": self.state.batches,
                "files_screened": self.files_screened,
                "extra_column_types": self._extra_types.to_json(),
                "stream_rows": self._stream_rows,
            }
            with state_file_staged(path, state_tables(self.state), meta):
                yield

    @classmethod
    def restore(cls, path: str | Path, rules: str | Path | RulePack = "rules/us", **options: Any) -> Screener:
        """A screener that goes on from the state saved in ``path`` (same rule pack and options), knowing the
        extra columns' types of the batches screened into it.

        Raises:
            RulePackError, InputSchemaError, UsageError: as :class:`Screener` raises them.
            UsageError: the file is not a state file, or was saved under another rule pack or options.
        """
        refuse_unknown_options("Screener.restore", options, ("rules", *_screener_options()))
        screener = cls(rules, **options)
        tables, meta = read_state_file(path)
        if not isinstance(meta, dict):
            raise UsageError(f"{path}: not a screening state file (its header is not a JSON object)")
        if meta.get("format") != STATE_FORMAT:
            raise UsageError(f"{path}: state format {meta.get('format')!r}, this engine reads {STATE_FORMAT}")
        if meta.get("engine_version") != engine_version():
            raise UsageError(
                f"{path}: saved by screening {meta.get('engine_version')}, this is {engine_version()}: the day's "
                "earlier batches were decided by that version; resume with it, or screen the day again from its "
                "first batch"
            )
        if meta.get("engine_build") != engine_build():
            raise UsageError(
                f"{path}: saved by another build of screening {engine_version()} ({meta.get('engine_build')}, "
                f"this is {engine_build()}): the day's earlier batches were decided by that code; resume with "
                "it, or screen the day again from its first batch"
            )
        if meta.get("rules_content_hash") != screener.pack.content_hash:
            raise UsageError(
                f"{path}: saved under rule pack {meta.get('rules_id')} {meta.get('rules_content_hash')}, "
                f"not {screener.pack.meta.id} {screener.pack.content_hash} (the hash covers every file of the "
                "pack's folder): the day's earlier batches were decided under that pack; resume with it, or screen "
                "the day again from its first batch"
            )
        if meta.get("history_id") != screener._history_id:
            raise UsageError(
                f"{path}: saved with other history sources (their packages files differ): the day's earlier "
                "batches were flagged against them"
            )
        _check_seed(path, meta.get("options"), screener._seed)
        if meta.get("options") != screener._options():
            raise UsageError(f"{path}: saved with options {meta.get('options')}, not {screener._options()}")
        if meta.get("pseudonym_key_id") != screener._key_id():
            raise UsageError(
                f"{path}: saved with another pseudonymisation key (the outputs so far hold its pseudonyms)"
            )
        missing = sorted(set(_TABLES) - set(tables))
        if missing:
            raise UsageError(f"{path}: state file lacks {missing}")
        counts = {name: _count(meta.get(name)) for name in ("rows_seen", "batches")}
        bad_counts = [name for name, count in counts.items() if count is None]
        if bad_counts:
            raise UsageError(f"{path}: damaged state file ({', '.join(bad_counts)} not a count)")
        typed = {name: _typed_table(path, name, tables[name], schema) for name, schema in _TABLES.items()}
        screener.state = RunningState(
            consignee_days=consignee_day_rows(typed["consignee_days"]),
            seen_lines=seen_line_table(typed["seen_lines"]),
            queue_load=typed["queue_load"],
            rows_seen=counts["rows_seen"] or 0,
            batches=counts["batches"] or 0,
        )
        files = meta.get("files_screened", [])
        if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
            raise UsageError(f"{path}: damaged state file (files_screened is not a list of digests)")
        screener.files_screened = list(files)
        screener._extra_types = _saved_extra_types(path, meta)
        screener._stream_rows = _saved_stream_rows(path, meta, screener.label, screener.state.rows_seen)
        screener.resumed_from = {
            "resumed_state": file_digest(Path(path)),
            "resumed_batches": str(screener.state.batches),
            "resumed_rows": str(screener.state.rows_seen),
        }
        return screener

    def _key_id(self) -> str | None:
        """A fingerprint of the pseudonymisation key (an HMAC of a fixed text; None without a key): a resumed
        job must use the key its earlier batches used."""
        if self._key is None:
            return None
        return secret_id(self._key, b"screening state key id")

    def _options(self) -> dict[str, str]:
        return {
            "postal_method": self.postal_method,
            "pseudonymised": str(self._key is not None).lower(),
            **seed_record(self._seed),
            "history_sources": str(self._history_sources),
            "history": self._history_id or "none",
            "mapping": self.mapping.digest(),
            "mode": "incremental",
        }


def _check_seed(path: str | Path, saved: object, seed: Seed) -> None:
    """Raise :class:`UsageError` when the state ``path`` (its saved ``options``) was sampled and ranked with
    another seed than ``seed``: private seeds are compared by their fingerprints, and named by them only."""
    if not isinstance(saved, dict):
        return  # the options check names the damaged options
    fields = ("seed", "seed_private", "seed_id")
    recorded = {name: saved[name] for name in fields if name in saved}
    if recorded != seed_record(seed):
        raise UsageError(
            f"{path}: saved with options of another seed ({seed_described(recorded)}, not "
            f"{seed_described(seed_record(seed))}): the day's earlier batches were sampled, and their queue ties "
            "ordered, with it"
        )


def _saved_extra_types(path: str | Path, meta: dict[str, Any]) -> ExtraColumnTypes:
    """The extra columns' types of the batches screened into the state ``path`` (header ``meta``): none for a
    state saved before states kept them (a header without ``extra_column_types``).

    Raises:
        UsageError: the header's ``extra_column_types`` is not what a save writes.
    """
    try:
        return ExtraColumnTypes.from_json(meta.get("extra_column_types", []))
    except ValueError as exc:
        raise UsageError(f"{path}: damaged state file (extra_column_types: {exc})") from exc


def _saved_stream_rows(path: str | Path, meta: dict[str, Any], label: str, rows_seen: int) -> dict[str, int]:
    """The rows of the batches in memory screened into the state ``path`` (header ``meta``), per source. A state
    saved before states kept them was saved by another build, refused before this; a header without
    ``stream_rows`` (edited by hand) numbers the restoring screener's ``label`` on from all the rows the state
    holds (``rows_seen``), so none repeats an earlier number.

    Raises:
        UsageError: the header's ``stream_rows`` is not what a save writes (a count per source).
    """
    if "stream_rows" not in meta:
        return {label: rows_seen} if rows_seen else {}
    saved = meta["stream_rows"]
    if not isinstance(saved, dict) or not all(_count(rows) is not None for rows in saved.values()):
        raise UsageError(f"{path}: damaged state file (stream_rows is not a count of rows per source)")
    return dict(saved)


def _with_files(screened: Sequence[str], digests: Sequence[str]) -> list[str]:
    """The file digests ``screened`` with ``digests`` after them; the latest :data:`_FILES_KEPT` are kept."""
    return [*screened, *digests][-_FILES_KEPT:]


def _counted(counts: dict[str, int], source: str, rows: int) -> dict[str, int]:
    """``counts`` with ``source``'s rows set to ``rows``, that source last; the latest :data:`_FILES_KEPT` sources
    are kept (one file source a batch: an hourly job's state does not grow without end)."""
    counted = {name: count for name, count in counts.items() if name != source}
    counted[source] = rows
    return dict(list(counted.items())[-_FILES_KEPT:])


def _count(value: object) -> int | None:
    """``value`` when it is a count (a whole number, not below zero), else None."""
    return value if type(value) is int and value >= 0 else None


def _typed_table(path: str | Path, name: str, table: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """A state table with its columns, types and values checked (a damaged table is a :class:`UsageError`):
    no null where a save writes none, no negative count or value, no gift value above the value."""
    try:
        typed = table.select(list(schema)).cast(schema, strict=True)
    except pl.exceptions.PolarsError as exc:
        raise UsageError(f"{path}: damaged state file (table {name}: {type(exc).__name__})") from exc
    checks = _impossible(name)
    found = typed.select(bad.sum().alias(what) for what, bad in checks.items()).row(0, named=True)
    problems = [f"{count:,} row{'s' * (count != 1)} with {what}" for what, count in found.items() if count]
    if problems:
        raise UsageError(f"{path}: damaged state file (table {name}: {'; '.join(problems)})")
    return typed


#: One cent more than the outputs' Decimal(18, 2) holds.
_MOST_CENTS = 10**18


def _impossible(name: str) -> dict[str, pl.Expr]:
    """What no saved state's table ``name`` holds, each as a test of a row: a restored state with negative
    totals or null keys would change later batches' decisions."""
    not_null = {
        "consignee_days": list(CONSIGNEE_DAY_SCHEMA),
        # A mark may have no day, and has no consignee.
        "seen_lines": [c for c in SEEN_LINES_SCHEMA if c not in ("arrival_date", CONSIGNEE_HASH)],
        "queue_load": ["queue", "arrival_date", "queue_seen"],  # a package without a port is queued
    }[name]
    counts = {
        "consignee_days": [c for c in CONSIGNEE_DAY_SCHEMA if c.startswith("consignee_day_")],
        "seen_lines": [],
        "queue_load": ["queue_seen"],
    }[name]
    checks = {f"a null {column}": pl.col(column).is_null() for column in not_null}
    checks |= {f"a negative {column}": pl.col(column) < 0 for column in counts}
    # Beyond what the outputs' Decimal(18, 2) holds, the next batch would fail (no save writes it).
    checks |= {
        f"a {column} beyond 10^16 dollars": pl.col(column) >= _MOST_CENTS
        for column in counts
        if column.endswith("_cents")
    }
    if name == "seen_lines":
        checks["a counted line without its consignee"] = pl.col("counted") & pl.col(CONSIGNEE_HASH).is_null()
    if name == "consignee_days":
        checks["a gift value above the value"] = pl.col("consignee_day_gift_cents") > pl.col(
            "consignee_day_value_cents"
        )
    return checks


def _row_number(value: object) -> int:
    """``value`` as a row number (any integer type, numpy's too, of 1 or more).

    Raises:
        UsageError: it is not a whole number of 1 or more (a bool is not one).
    """
    try:
        number = 0 if isinstance(value, bool) else operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = 0
    if number < 1:
        raise UsageError(f"first_row must be a whole number of 1 or more (rows count from 1), not {value!r}")
    return number


def screen_batches(
    batches: Iterable[Any], *, rules: str | Path | RulePack = "rules/us", **options: Any
) -> Result:
    """Screen batches with a :class:`Screener` and combine the per-batch results into one.

    The combined result holds every output of every batch (so its memory follows the output);
    the decisions are the incremental ones, each package judged on the totals up to itself.

    Raises:
        RulePackError, InputSchemaError, UsageError: as :class:`Screener` and :meth:`Screener.screen` raise
            them; UsageError also where there is no batch.
    """
    refuse_unknown_options("screen_batches", options, ("rules", *_screener_options()))
    started = time.perf_counter()
    screener = Screener(rules, **options)
    parts = list(screener.screen_all(batches))
    if not parts:
        raise UsageError("no batches to screen")
    return combine(parts, screener, started)


def _file_batches(path: Path, batch_size: int, mapping: ColumnMapping) -> Iterator[pl.DataFrame]:
    """The rows of a manifest file in batches (as read: the screener maps the columns); a file that cannot
    be read, or lacks required columns after ``mapping``, raises :class:`InputSchemaError`."""
    label = str(path)
    try:
        if is_ipc_stream(path):
            # A stream cannot be sliced, nor held whole: its record batches are regrouped as they come.
            columns = schema_frame(path, mapping)
            require_columns(Source(label, path, with_lineage(mapping.apply(columns, label=label), label)))
            read = 0
            for batch in ipc_stream_batches(path, batch_size):
                read += 1
                yield batch
            if not read:
                yield columns.collect()
            return
        scan = scan_file(path, mapping)
        require_columns(Source(label, path, with_lineage(mapping.apply(scan, label=label), label)))
        if SUFFIXES.get(path.suffix.lower()) in _SLICED_FORMATS:
            # Read batch by batch: polars' batch reader reads ahead, and held about 0.7 GB of a 4M-line
            # Parquet file in flight (0.17 GB read this way, for about 0.6 s more at 4M lines).
            rows = scan.select(pl.len()).collect().item()
            # A file without rows is one empty batch: a quiet hour's job still writes its (empty) outputs.
            # Slices of at most the rows left: a batch size past 2^32 (or 2^64) overflowed the slice's length.
            for first in range(0, max(rows, 1), batch_size):
                yield scan.slice(first, min(batch_size, rows - first)).collect()
        else:
            read = 0
            for batch in scan.collect_batches(chunk_size=min(batch_size, _MOST_ROWS)):
                read += 1
                yield batch
            if not read:
                yield scan.head(0).collect()
    except (pl.exceptions.PolarsError, OSError, pa.ArrowException) as exc:
        raise InputSchemaError(label, f"cannot be read: {read_error(exc, path)}") from exc


def whole_packages(batches: Iterable[pl.DataFrame], column: str) -> Iterator[pl.DataFrame]:
    """``batches`` regrouped so that a batch never ends inside a run of consecutive rows of one package:
    the rows of the last package of a batch (those after the last row of another package) move to the next
    batch. A package whose lines are contiguous in the file is then screened in one batch (as one entry,
    judged once), whatever the batch size. Rows without a package id (blank, a word for none: each a
    ``missing-field`` reject) belong to no package and end no run: they travel with the package that may go
    on after them (a blank line inside a package split it). A last package that also has rows earlier in
    the batch stays whole in it (moving its last run would split a package the batch holds whole), and the
    last batch keeps its last package (one batch is read ahead to know). Rows keep their order; a file
    without ``column`` passes as is.
    """
    carried: pl.DataFrame | None = None
    upcoming = iter(batches)
    following = next(upcoming, None)
    while following is not None:
        batch, following = following, next(upcoming, None)
        rows = batch if carried is None else pl.concat([carried, batch], how="vertical_relaxed")
        carried = None
        # The file's last batch ends at its end: nothing is held back for a batch that will not come.
        if column not in rows.columns or rows.height == 0 or following is None:
            yield rows
            continue
        ids = _package_ids_as_validated(rows.get_column(column))
        given = ids.drop_nulls()
        if given.is_empty():
            yield rows  # no package in it (a carried batch holds one): nothing to keep whole
            continue
        last = given[-1]
        # Where the trailing run of the last package starts: after the last row of another package.
        other = (ids.is_not_null() & ids.ne_missing(last)).arg_true()
        start = int(other[-1]) + 1 if other.len() else 0
        if start == 0:
            carried = rows  # one package so far: it goes on in the next batch
            continue
        if ids.head(start).eq_missing(last).any():
            yield rows  # the last package has rows earlier in the batch: kept whole here
            continue
        carried = rows.slice(start)
        yield rows.slice(0, start)


def _package_header(path: Path, mapping: ColumnMapping) -> str:
    """The header of ``path``'s package ids, as its batches are read (before mapping): the mapped header
    where the file has it, else ``package_id`` (a file already in canonical names, which the mapping leaves)."""
    mapped = mapping.columns.get("package_id", "package_id")
    try:
        names = schema_frame(path).collect_schema().names()
    except (pl.exceptions.PolarsError, OSError, pa.ArrowException):
        return mapped  # reading the file's batches names what is wrong with it
    return mapped if mapped in names else "package_id"


def _package_ids_as_validated(ids: pl.Series) -> pl.Series:
    """Package ids as validation reads them: its own expression (:func:`~screening.stages.normalise.package_id_as_read`), on the
    column decoded as :func:`with_lineage` decodes it. ``"101"``, ``" 101 "`` and ``"101.0"`` are one package;
    a blank or a word for none (``NaN``) is none (null: a row of no package, which :func:`whole_packages` passes
    over)."""
    column = decoded_text(ids.to_frame().lazy())
    read = package_id_as_read(pl.col(ids.name), column.collect_schema()[ids.name])
    return column.select(read).collect(engine="in-memory").to_series()


def _one_file(path: Path) -> Path:
    """The one manifest file that ``path`` names (a batch for :meth:`Screener.screen`).

    Raises:
        UsageError: it names several files (a folder or a glob).
        InputSchemaError: it names none.
    """
    files = expand_paths([path])
    if len(files) != 1:
        raise UsageError(f"{path}: a batch is one file; screen the {len(files)} files one by one")
    return files[0]


def _read_one_file(path: Path, file: Path, mapping: ColumnMapping) -> pl.DataFrame:
    """The rows of ``file`` (:func:`_one_file` of ``path``), as read (``mapping`` applies later, per batch)."""
    try:
        return scan_file(file, mapping).collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputSchemaError(str(path), f"cannot be read: {read_error(exc, file)}") from exc


def _read_whole_file(path: Path, file: Path, mapping: ColumnMapping) -> tuple[pl.DataFrame, FileDigest]:
    """The rows of ``file`` (:func:`_one_file` of ``path``) as read, and the SHA-256 and count of the bytes read
    (the summary lists them: the file may change or move once read).

    Raises:
        InputSchemaError: it cannot be read.
        UsageError: it changed while it was read (a producer still writing it): its digest would not be that
            of the rows screened.
    """
    before = read_digest(str(path), file)
    data = _read_one_file(path, file, mapping)
    refuse_changed(file, before.sha256, read_digest(str(path), file).sha256)
    return data, before


def _passthrough_schema(
    paths: Sequence[Path], mapping: ColumnMapping, earlier: ExtraColumnTypes
) -> pl.Schema:
    """The columns that pass through to the outputs (neither canonical nor lineage) of all ``paths``, each
    with the type that holds it in every file (as the whole-day run stacks the files), in order of first
    appearance. Every batch gets them all, so each output file keeps one schema from batch to batch.

    Raises:
        InputSchemaError: an extra column has types in two files, or in a file and a batch screened into the
            state before (``earlier``: a restored screener's), that do not stack without changing values
            (:class:`~screening.io.extra_columns.ExtraColumnTypes`).
    """
    frames = []
    types = earlier
    for path in paths:
        try:
            schema = decoded_text(
                mapping.apply(schema_frame(path, mapping), label=str(path))
            ).collect_schema()
        except (pl.exceptions.PolarsError, OSError, pa.ArrowException):
            continue  # reading its batches names the file and what is wrong with it
        # Refused before any batch, as the whole-day run refuses them: types that do not stack exactly.
        types = types.with_input(schema, str(path))
        frames.append(pl.LazyFrame(schema={name: schema[name] for name in passthrough_columns(schema)}))
    if not frames:
        return pl.Schema()
    try:
        return pl.concat(frames, how="diagonal_relaxed").collect_schema()
    except pl.exceptions.PolarsError as exc:
        names = ", ".join(str(p) for p in paths)
        raise InputSchemaError(
            names, f"extra columns of one name whose types do not stack: {read_error(exc)}"
        ) from exc


def _with_passthrough(batch: pl.DataFrame, passthrough: pl.Schema) -> pl.DataFrame:
    """``batch`` (as read) with every column of ``passthrough``, typed as there (absent ones empty) and put
    last in its order."""
    if not passthrough:
        return batch
    absent = [
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in passthrough.items() if name not in batch
    ]
    others = [name for name in batch.columns if name not in passthrough]
    return batch.with_columns(absent).select(*others, *[pl.col(n).cast(t) for n, t in passthrough.items()])


#: A batch of more rows than any file holds (polars' largest chunk size): a larger batch size reads as this one.
_MOST_ROWS = 2**63 - 1

#: File formats read batch by batch as slices (:func:`_file_batches`): a slice reads only its own rows.
#: Text formats are not sliced: a slice would parse the file again from its start.
_SLICED_FORMATS = ("parquet", "ipc")


def _run_summary(
    screener: Screener,
    *,
    sources: Sequence[Source],
    rows: dict[str, int],
    line_count: int,
    packages: pl.DataFrame | pl.LazyFrame,
    components: pl.DataFrame,
    rejects: pl.DataFrame,
    dates: Iterable[str],
) -> dict[str, Any]:
    """The summary of a batched run from its outputs (``rows``: input rows per source label; ``components``:
    their :func:`component_totals`)."""
    return build_summary(
        pack=screener.pack,
        sources=sources,
        input_counts=pl.DataFrame(
            {SOURCE_COL: list(rows), "rows": list(rows.values())},
            schema={SOURCE_COL: pl.String(), "rows": pl.Int64()},
        ),
        line_count=line_count,
        packages=packages,
        components=components,
        rejects=rejects,
        dates=[dt.date.fromisoformat(d) for d in sorted(set(dates))],
        risk=screener.last_risk,
        citations=screener.citations,
        options={**screener._options(), "batches": str(screener.state.batches), **screener.resumed_from},
    )


def combine(
    parts: Sequence[Result], screener: Screener, started: float, sources: Sequence[Source] = ()
) -> Result:
    """One :class:`Result` from consecutive batch results of ``screener``.

    ``sources`` (files, for their hashes in the summary) default to those the batches' summaries list: a file
    batch's file (its bytes and digest as screened), else the label the batch named.
    """

    def stacked(name: str) -> pl.DataFrame:
        # Batches may carry different extra columns (or in another order): each gets them all.
        return pl.concat([p.frames()[name] for p in parts], how="diagonal_relaxed")

    lines, packages, rejects = stacked("lines"), stacked("packages"), stacked("rejects")
    components = stacked("components")
    queues = stacked("queues").sort(QUEUE_ORDER, nulls_last=True, maintain_order=True)
    rows: dict[str, int] = {}
    files: dict[str, Source] = {}
    for part in parts:
        for entry in part.summary["inputs"]:
            label = entry["source"]
            rows[label] = rows.get(label, 0) + int(entry["rows"])
            if "sha256" in entry and label not in files:
                path = Path(entry.get("path", label))
                files[label] = Source(
                    label, path, pl.LazyFrame(), read=FileDigest(entry["sha256"], entry["bytes"])
                )
    known = {s.label for s in sources}
    listed = [files.get(label, Source(label, None, pl.LazyFrame())) for label in rows if label not in known]
    named = [*sources, *listed]
    dates = [d for p in parts for d in p.summary["dates_resolved"]]
    summary = _run_summary(
        screener,
        sources=named,
        rows=rows,
        line_count=lines.height,
        packages=packages,
        components=component_totals(components),
        rejects=rejects,
        dates=dates,
    )
    result = Result(
        lines=lines,
        packages=packages,
        components=components,
        flags=stacked("flags"),
        queues=queues,
        rejects=rejects.sort(SOURCE_COL, ROW_COL),
        summary=summary,
        wall_seconds=time.perf_counter() - started,
        # The files the batches read, resolved as each was read (the summary's paths are as given).
        _inputs=tuple(dict.fromkeys([*read_files(sources), *(f for p in parts for f in p._inputs)])),
        _history=tuple(dict.fromkeys(f for p in parts for f in p._history)),
    )
    result.check_conservation()
    return result


def screen_files_in_batches(
    specs: Sequence[str | Path],
    *,
    out: str | Path,
    batch_size: int,
    rules: str | Path | RulePack = "rules/us",
    state_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
    state_keep_days: int | None = None,
    **options: Any,
) -> tuple[dict[str, Any], float]:
    """Screen manifest files batch by batch into the output folder ``out`` (``screen run --batch-size``).

    Outputs are Parquet files grown batch by batch and published atomically at the end, so memory
    follows one batch and the running state, not the input. With ``state_path``: start from the
    state saved there when the file exists, and save the state there at the end, keeping only its
    ``state_keep_days`` latest days when given (the latest arrival date it holds, and the days before it).

    Returns the run summary and the wall time in seconds.

    Raises:
        TypeError: an option is neither this function's nor :class:`Screener`'s (a misspelt one), before anything
            is read or written.
        UsageError: ``batch_size`` is not a whole number of 1 or more (a size above a file's rows reads it
            whole), nor ``state_keep_days`` (one that reaches before the calendar's first day forgets nothing),
            or the state is inside ``out``, cannot be written at ``state_path`` (checked first), or another run
            holds it, or a file changed while it was read; or ``out`` holds a manifest or the
            history's packages file.
        MoneyLimitError: a money amount is beyond what the outputs hold, $10^16.
    """
    own = ("out", "batch_size", "rules", "state_path", "progress", "state_keep_days")
    # Checked before the state's lock file is made (a Screener refuses them only once it is made).
    refuse_unknown_options("screen_files_in_batches", options, (*own, *_screener_options()))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError(f"batch_size must be a whole number of rows, 1 or more, not {batch_size!r}")
    if state_keep_days is not None and (
        isinstance(state_keep_days, bool) or not isinstance(state_keep_days, int) or state_keep_days < 1
    ):
        raise UsageError(
            f"state_keep_days must be a whole number of days, 1 or more, not {state_keep_days!r}"
        )
    if state_keep_days is not None and state_path is None:
        raise UsageError("state_keep_days needs a state")
    if state_path is None:
        return _screen_files(specs, out, batch_size, rules, None, progress, options)
    if state_path_resolved(state_path).is_relative_to(output_folder(Path(out))):
        raise UsageError(
            f"{state_path}: the state must be kept outside the output folder {out}, which each run replaces whole"
        )
    check_state_path(state_path)
    with state_lock(state_path):
        return _screen_files(specs, out, batch_size, rules, state_path, progress, options, state_keep_days)


def _screener_options() -> list[str]:
    """The keyword options of :class:`Screener` (besides its ``rules``)."""
    parameters = inspect.signature(Screener.__init__).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def _screen_files(
    specs: Sequence[str | Path],
    out: str | Path,
    batch_size: int,
    rules: str | Path | RulePack,
    state_path: Path | None,
    progress: Callable[[str], None] | None,
    options: dict[str, Any],
    state_keep_days: int | None = None,
) -> tuple[dict[str, Any], float]:
    """:func:`screen_files_in_batches` once its state is checked and held."""
    started = time.perf_counter()
    report = progress or (lambda _stage: None)
    report("loading rules")
    if state_path is not None and state_path.exists():
        screener = Screener.restore(state_path, rules, **options)
    else:
        screener = Screener(rules, **options)
        if state_path is not None:
            screener.resumed_from = {"resumed_state": "none (a new state)"}
    sources: list[Source] = []
    dates: set[str] = set()
    rows: dict[str, int] = {}
    screened = 0
    cover = RowCover()
    money: list[pl.DataFrame] = []
    paths = expand_paths(list(specs))
    digests = _refuse_files_screened(paths, screener.files_screened, state_path)
    passthrough = _passthrough_schema(paths, screener.mapping, screener._extra_types)
    with (
        output_lock(Path(out), paths, screener._history_files),
        refused_when_full(Path(out), "the output folder"),
        StreamingOutput(out, OUTPUTS, paths, screener._history_files) as output,
    ):
        for path in paths:
            sources.append(Source(str(path), path, pl.LazyFrame(), read=digests[path]))
            row = 1
            header = _package_header(path, screener.mapping)
            for read in whole_packages(
                _unchanged_batches(path, batch_size, screener.mapping, digests[path]), header
            ):
                report(f"screening {path.name} from row {row:,}")
                batch = _with_passthrough(read, passthrough)
                part = screener._screen_rows(
                    batch, str(path), row, from_csv=is_csv(path), started=time.perf_counter()
                )
                output.append(part.frames())
                cover.add(part.lines)
                cover.add(part.rejects)
                money.append(totals_in_summary(part.summary))
                dates.update(part.summary["dates_resolved"])
                row += batch.height
                screened += 1
            rows[str(path)] = row - 1
        if not screened:
            raise UsageError("no manifest to screen")
        report("writing outputs")
        output.close_files()
        # Each batch's queue rows are in order; the run's are sorted together, a chunk at a time (over a
        # third of a synthetic day's packages are queued: a million rows at 4M lines).
        unsorted = output.staged("queues").rename(output.staging / ".queues-unsorted.parquet")
        write_sorted([unsorted], output.staging / "queues", "parquet", QUEUE_ORDER, groups=3)
        unsorted.unlink()
        packages = pl.scan_parquet(output.staged("packages"), glob=False).select(SUMMARY_PACKAGE_COLUMNS)
        rejects = pl.read_parquet(output.staged("rejects"), columns=["code"], glob=False)
        line_count = pl.scan_parquet(output.staged("lines"), glob=False).select(pl.len()).collect().item()
        summary = _run_summary(
            screener,
            sources=sources,
            rows=rows,
            line_count=line_count,
            packages=packages,
            components=added_totals(money),
            rejects=rejects,
            dates=dates,
        )
        check_conservation(summary)
        cover.check_summary(summary)
        # The state is written before the outputs are published and replaced after: a state that cannot be
        # written (a full disk) leaves the previous outputs and state, and a failure to publish leaves the
        # state as it was, so running the job again screens its lines again instead of finding them all seen.
        # (Killed between the two, the outputs are new and the state the previous one: a rerun repeats the
        # job exactly.)
        with (
            _state_staged(screener, state_path, digests, rows, dates, state_keep_days)
            if state_path is not None
            else contextlib.nullcontext()
        ):
            output.publish(summary)
    return summary, time.perf_counter() - started


#: The most file digests a state keeps (the latest; hourly files for over a year).
_FILES_KEPT = 10_000


@contextlib.contextmanager
def _state_staged(
    screener: Screener,
    path: Path,
    digests: dict[Path, FileDigest],
    rows: dict[str, int],
    dates: set[str],
    keep_days: int | None,
) -> Iterator[None]:
    """The state after a run of files (their ``digests`` and ``rows``, the arrival ``dates`` it screened),
    written to a hidden copy that replaces ``path`` when the block (publishing the outputs) ends.

    Files of no row are not recorded (an empty hour's file may come again). With ``keep_days``, the state forgets
    the days before the ``keep_days`` days that end on the run's latest arrival date up to tomorrow in the pack's
    time zone (:func:`_today_in`; not the state's latest: later days it holds are kept; not a date past
    tomorrow, so that one mistyped future date does not forget every day before it).
    """
    screener._took_files([read.sha256 for file, read in digests.items() if rows.get(str(file), 0)])
    tomorrow = _today_in(screener.pack.meta.time_zone) + dt.timedelta(days=1)
    plausible = [day for day in map(dt.date.fromisoformat, dates) if day <= tomorrow]
    # Days kept that reach back before the calendar's first day forget nothing (999,999 days overflowed).
    if keep_days is not None and plausible and keep_days - 1 <= (latest := max(plausible)).toordinal() - 1:
        screener.forget_before(latest - dt.timedelta(days=keep_days - 1))
    with screener._state_staged(path):
        yield


def _today_in(time_zone: str | None) -> dt.date:
    """Today's date in ``time_zone`` (the rule pack's; none: UTC), the same on every host whatever its zone
    (``TZ``): taken from the host's, the same files at the same instant forgot other days on Kiritimati than on
    Pago Pago."""
    now = pl.lit(dt.datetime.fromtimestamp(time.time(), dt.UTC))
    today: dt.date = pl.select(now.dt.convert_time_zone(time_zone or "UTC").dt.date()).item()
    return today


def _unchanged_batches(
    path: Path, batch_size: int, mapping: ColumnMapping, read: FileDigest
) -> Iterator[pl.DataFrame]:
    """The :func:`_file_batches` of ``path``; once they are read, :func:`refuse_changed` unless the file still has
    the digest taken before they were (``read``: the one the summary lists and the state records)."""
    yield from _file_batches(path, batch_size, mapping)
    refuse_changed(path, read.sha256, read_digest(str(path), path).sha256)


def _refuse_files_screened(
    paths: Sequence[Path], screened: Sequence[str], state_path: Path | None
) -> dict[Path, FileDigest]:
    """The files' digests and sizes, by file, taken before they are read (the summary lists the bytes screened);
    with a state, raise :class:`UsageError` before any output if a file's bytes were screened into it already
    (:func:`refuse_screened`)."""
    digests = {path: read_digest(str(path), path) for path in paths}
    if state_path is None:
        return digests
    seen = set(screened)
    for path, read in digests.items():
        refuse_screened(path, read.sha256, seen, f"the state {state_path}", _RUN_AGAIN)
    return digests


#: What screening a file of the state again would do, and how to do it all the same: from ``screen run``, and
#: from :meth:`Screener.screen`.
_RUN_AGAIN = (
    "screened again, each line would be a copy and the output folder would lose its decisions. To screen it "
    "again, start from the state saved before it, or run without --state"
)
_API_AGAIN = (
    "screened again, each line would be a copy (a duplicate-line reject) and no package decided. To screen it "
    "again, restore the state saved before it, or screen it with a new Screener"
)


def refuse_screened(path: Path, digest: str, screened: Collection[str], state: str, again: str) -> None:
    """Raise :class:`UsageError` if the file ``path`` (of SHA-256 ``digest``) was screened into ``state`` (its
    files' digests ``screened``) already, as a scheduler's retry of an hour that had finished does; ``again``
    says what that would do and how to screen it again all the same."""
    if digest in screened:
        raise UsageError(f"{path}: already screened into {state} (the same bytes, {digest[:19]}…); {again}")
