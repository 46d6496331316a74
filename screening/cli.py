"""The ``screen`` command: parse options, call the library, map errors to exit codes.

Exit codes: 0 ran (findings and rejects are data), 2 usage, 3 input schema error,
4 rule pack error, 70 internal error.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import json
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from screening.errors import (
    InputSchemaError,
    LeftoverWarning,
    RulePackError,
    ScreeningError,
    Terminated,
    UsageError,
)
from screening.explain import explain_package
from screening.explain_text import render_text
from screening.folder_run import PART_LINES, screen_to_folder
from screening.generate import COMMON_HTS_CODES, DEFAULT_DATES, generate_manifest
from screening.io.writers import discard_unfinished
from screening.path_names import UNUSABLE_PATH, non_utf8_name, unusable_path
from screening.process_exit import exit_code_of, exit_process
from screening.result import AFTER_FACTS
from screening.rulepack.hts_import import (
    Revision,
    chapters_left_out,
    coverage,
    ended_lines,
    merge_revision,
    read_rate_lines,
    write_mfn_csv,
)
from screening.rulepack.loader import (
    RulePack,
    dead_lists,
    folder_tables,
    include_codes,
    load_rules,
    load_rules_to_import_hts,
    pack_folder,
    read_denied_parties,
    rounded_fx_lines,
    short_gaps,
    unmatched_scope,
)
from screening.rulepack.models import Measure
from screening.rulepack.risk_models import DeniedParties
from screening.rulepack.scope_lines import EXAMPLES
from screening.rulepack.screening_list import ENTITY_TYPES, read_ofac_sdn, write_screening_list
from screening.rulepack.time_labels import mislabelled_eastern_times
from screening.rules_show import notes_shown, rules_in_force, sources_shown
from screening.scenarios import run_scenarios
from screening.screener import screen_files_in_batches
from screening.seed import PrivateSeed
from screening.stages.assess import PostalMethod
from screening.stages.denied import party_entries

if TYPE_CHECKING:
    import polars as pl

P = ParamSpec("P")
R = TypeVar("R")
EXIT_INTERNAL = 70
#: Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).
EXIT_INTERRUPTED = 130
#: Exit code of a run stopped by SIGTERM (128 + 15).
EXIT_TERMINATED = 143


#: The errors that say a console stream takes no more text: its log file's disk is full or over quota, the
#: file is at its size limit, or the terminal is gone (EIO).
_STREAM_LOST: Final = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


class _Console(Console):
    """A console that a reader may stop reading (``screen run ... | head``), or whose log file's disk fills: the
    rest of its text is dropped and the command goes on to its own exit code (rich's default exits 1 at once,
    mid-run, on a broken pipe, and any other failed write was raised out of the print that met it). The text
    is progress and a summary of what the outputs and ``summary.json`` hold, so a run whose text cannot be
    written still runs: its outputs and exit code are what it owes."""

    def __init__(self, *, stderr: bool = False, lost_told_on: Console | None = None) -> None:
        super().__init__(stderr=stderr)
        self._lost_told_on = lost_told_on
        #: Set when a write failed and the rest of the text is dropped.
        self.lost = False

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _drop_writes_to(self.file)

    def _check_buffer(self) -> None:
        # Rich's one place that writes the text out; it hands a BrokenPipeError to on_broken_pipe, and raises
        # any other failed write (a full disk under the log file) out of the print that met it.
        try:
            super()._check_buffer()
        except OSError as exc:
            if exc.errno not in _STREAM_LOST:
                raise
            self.on_stream_lost(exc)

    def on_stream_lost(self, exc: OSError) -> None:
        """Drop the rest of the text after a write failed with ``exc``, and say so on the other stream."""
        self.lost = True
        self.quiet = True
        _drop_writes_to(self.file)
        if self._lost_told_on is not None:
            name = "stderr" if self.stderr else "stdout"
            self._lost_told_on.print(
                f"screen: {name} cannot be written ({os.strerror(exc.errno or 0)}): the rest of its text is dropped",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )


def _drop_writes_to(stream: Any) -> None:
    """Point ``stream``'s file descriptor at the null device: later writes and the flush at exit succeed. A
    stream without one (a test's capture) is left as it is."""
    try:
        descriptor = stream.fileno()
    except (OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, descriptor)
    os.close(devnull)


err = _Console(stderr=True)
out = _Console(lost_told_on=err)


def _echo(text: str) -> None:
    """Print ``text`` on stdout as it is (JSON, an explanation), dropped, as :class:`_Console` drops its own,
    where stdout takes no more text."""
    try:
        click.echo(text)
    except OSError as exc:
        if exc.errno not in _STREAM_LOST:
            raise
        out.on_stream_lost(exc)


def stdout_is_its_output(command: Callable[P, R]) -> Callable[P, R]:
    """A command whose output is its text on stdout (an explanation, the rules in force): when stdout takes no
    more text, the command failed (exit 2), where a run's text only reports on the outputs it published."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        out.lost = False
        result = command(*args, **kwargs)
        if out.lost:
            raise UsageError("stdout cannot be written: the command's output is lost")
        return result

    return wrapper


def exits_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn our errors into their exit codes and anything unexpected into 70, with a one-line message."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        _SIGTERM_RECEIVED.clear()
        previous = _stop_cleanly_on_sigterm()
        try:
            with _warnings_on_stderr():
                _refuse_unusable_paths(kwargs)
                return command(*args, **kwargs)
        except ScreeningError as exc:
            err.print(Text.assemble(("error: ", "bold red"), str(exc)), highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            _stop(terminated=isinstance(_first_stop(exc), Terminated))
        except BrokenPipeError:
            # The reader of stdout stopped reading (``| head``): what it read is what it wanted. Only text
            # is printed after a run's outputs are published, so nothing is left half done.
            _drop_writes_to(sys.stdout)
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BaseException as exc:
            if _SIGTERM_RECEIVED:
                # The signal landed inside a library's callback, which turned Terminated into its own error.
                _stop(terminated=True)
            if (unusable := _unusable_path_error(exc)) is not None:
                err.print(
                    Text.assemble(("error: ", "bold red"), str(unusable)), highlight=False, soft_wrap=True
                )
                sys.exit(unusable.exit_code)
            first = str(exc).splitlines()[0] if str(exc) else ""
            err.print(
                Text.assemble(("internal error: ", "bold red"), f"{type(exc).__name__}: {first}"),
                highlight=False,
            )
            sys.exit(EXIT_INTERNAL)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _input_path_error(path: str, reason: str) -> ScreeningError:
    return InputSchemaError(path, f"cannot be read: {reason}")


def _pack_path_error(path: str, reason: str) -> ScreeningError:
    return RulePackError(path, "", f"the rule pack's path cannot be used: {reason}")


def _explain_pack_path_error(path: str, reason: str) -> ScreeningError:
    return UsageError(f"{path}: the rule pack's path (--rules) cannot be used: {reason}")


#: The commands' parameters that name inputs and rule packs, with the error (and so the exit code) that a path
#: the system cannot look up is: their readers raise the system's own error for one. (The output, state,
#: history and ``--run`` paths are refused so by the library.)
_PATH_PARAMETERS: Final[dict[str, Callable[[str, str], ScreeningError]]] = {
    "manifests": _input_path_error,
    "rules_path": _pack_path_error,
    "pack": _pack_path_error,
    "pack_path": _pack_path_error,
    "export": _pack_path_error,
    "sdn_csv": _pack_path_error,
    "rules_dir": _explain_pack_path_error,  # explain: a --rules that is no rule pack is a usage error
}


def _refuse_unusable_paths(arguments: dict[str, Any]) -> None:
    """Raise the error of :data:`_PATH_PARAMETERS` for the first of a command's ``arguments`` that names a path
    the system cannot look up (a name over 255 bytes, a path over 4,096, a loop of symbolic links, a folder above
    it that may not be searched: :func:`~screening.path_names.unusable_path`)."""
    for name, error in _PATH_PARAMETERS.items():
        given = arguments.get(name)
        for path in given if isinstance(given, tuple) else (given,):
            if isinstance(path, str | Path) and (reason := unusable_path(Path(path))) is not None:
                raise error(str(path), reason)


def _unusable_path_error(exc: BaseException) -> UsageError | None:
    """The usage error (exit 2) that ``exc`` is when it says a path named cannot be looked up (too long, a loop
    of symbolic links: never an internal error), where the path's reader did not say so itself; else None."""
    if isinstance(exc, OSError) and exc.errno in UNUSABLE_PATH:
        where = f"{os.fsdecode(exc.filename)}: " if exc.filename else ""
        return UsageError(f"{where}the path cannot be used: {exc.strerror}")
    if isinstance(exc, RuntimeError) and str(exc).startswith("Symlink loop from "):  # Path.resolve
        looped = str(exc).removeprefix("Symlink loop from ")
        return UsageError(f"{looped}: the path cannot be used: {os.strerror(errno.ELOOP)}")
    return None


@contextmanager
def _warnings_on_stderr() -> Iterator[None]:
    """Inside the block, the library's warnings (:class:`~screening.errors.LeftoverWarning`: outputs published,
    something left behind) printed on stderr as ``warning: ...``, each time; others as Python shows them."""
    with warnings.catch_warnings():
        warnings.simplefilter("always", LeftoverWarning)
        shown = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            if issubclass(category, LeftoverWarning):
                err.print(
                    Text.assemble(("warning: ", "bold yellow"), str(message)), highlight=False, soft_wrap=True
                )
            else:
                shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        yield


def _first_stop(exc: KeyboardInterrupt) -> KeyboardInterrupt:
    """The first Ctrl-C or SIGTERM of those that stopped the run: a signal that arrived during the cleanup of
    the first is delivered after it (:func:`~screening.io.writers.interrupts_held`) and replaces it as the
    exception unwinding, the first left as its context; the first decides how the run is reported."""
    first, context = exc, exc.__context__
    while context is not None:
        if isinstance(context, KeyboardInterrupt):
            first = context
        context = context.__context__
    return first


def _stop(*, terminated: bool) -> NoReturn:
    """Leave as a stopped run: the staging removed (the output folder keeps a whole set), exit 143 or 130."""
    discard_unfinished()
    err.print(Text.assemble(("terminated" if terminated else "interrupted", "bold red")), highlight=False)
    sys.exit(EXIT_TERMINATED if terminated else EXIT_INTERRUPTED)


#: Set when SIGTERM arrives: a library may catch the :class:`Terminated` raised inside one of its callbacks
#: and raise an error of its own (polars did, building a data type), which must still exit as terminated.
_SIGTERM_RECEIVED: list[bool] = []


def _stop_cleanly_on_sigterm() -> signal.Handlers | Callable[..., Any] | int | None:
    """Make SIGTERM raise :class:`Terminated` in the main thread (its default kills the process where it
    stands, staging folders and all); the handler it replaces, None where none was replaced."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(_signum: int, _frame: object) -> None:
        _SIGTERM_RECEIVED.append(True)
        raise Terminated

    return signal.signal(signal.SIGTERM, terminate)


#: Off a terminal (a batch job's log), progress is a plain line per stage, at most one in this many seconds.
LOG_PROGRESS_SECONDS = 10.0


@contextmanager
def stage_progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """The current stage and elapsed time on stderr: a spinner on a terminal; elsewhere (a log file) a plain
    line as a stage starts, at most one per :data:`LOG_PROGRESS_SECONDS`. Silent when disabled."""
    if not enabled:
        yield lambda _stage: None
        return
    started = time.perf_counter()
    if not err.is_terminal:
        last_line = -LOG_PROGRESS_SECONDS

        def log(stage: str) -> None:
            nonlocal last_line
            now = time.perf_counter() - started
            if now - last_line >= LOG_PROGRESS_SECONDS:
                last_line = now
                err.print(f"screen: {now:7.1f}s  {stage}", highlight=False, markup=False, soft_wrap=True)

        yield log
        return
    with err.status("starting") as status:

        def update(stage: str) -> None:
            status.update(f"{escape(stage)}  [dim]{time.perf_counter() - started:5.1f}s[/]")

        yield update


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="screening", message="screening %(version)s")
def main() -> None:
    """Screen low-value import packages: de minimis, duties, fees, with reasons and citations."""


@main.command("run")
@click.argument("manifests", nargs=-1, required=True)
@click.option(
    "--rules",
    "rules_path",
    default="rules/us",
    show_default=True,
    help="Rule pack folder (rules/us: the one here, else the U.S. pack installed with screening).",
)
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--mapping", type=click.Path(path_type=Path), help="Column-mapping TOML for your headers.")
@click.option(
    "--postal-method",
    type=click.Choice(["ad-valorem", "specific"]),
    default="ad-valorem",
    show_default=True,
    help="How postal duty is computed where the regime offers a per-item amount.",
)
@click.option(
    "--pseudonymise-key-env",
    "key_env",
    metavar="VAR",
    help="Replace party fields in the outputs by keyed hashes, with the key read from environment variable VAR.",
)
@click.option(
    "--seed",
    help="Seed of the random compliance sample and the queue tie-break (default: the pack's, which is public); "
    "recorded in the summary.",
)
@click.option(
    "--seed-env",
    metavar="VAR",
    help="A private seed, read from environment variable VAR: the summary and the state record its "
    "fingerprint only.",
)
@click.option(
    "--history",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Output folder (or packages file) of an earlier run, for rules that look back across days. Repeatable.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Screen incrementally in batches of N lines (each package judged on the day's running totals).",
)
@click.option(
    "--part-lines",
    type=click.IntRange(min=1),
    help="Without --batch-size: screen the day in parts of about N lines (whole packages), each judged on "
    f"the whole day's totals. Smaller parts use less memory; the outputs are the same.  [default: {PART_LINES}]",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(path_type=Path),
    help="With --batch-size: resume from this state file if it exists, and save the state there at the end.",
)
@click.option(
    "--state-keep-days",
    type=click.IntRange(min=1),
    help="With --state: forget the days before the N days that end on this run's latest arrival date (days "
    "after it that the state holds are kept), so a state carried across days stays their size. Late arrivals "
    "of a forgotten day are judged without it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@exits_cleanly
def run_command(
    manifests: tuple[str, ...],
    rules_path: str,
    out_dir: Path,
    fmt: str,
    mapping: Path | None,
    postal_method: str,
    key_env: str | None,
    seed: str | None,
    seed_env: str | None,
    history: tuple[Path, ...],
    batch_size: int | None,
    part_lines: int | None,
    state_path: Path | None,
    state_keep_days: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Screen MANIFESTS (files, globs or folders) and write the outputs to --out."""
    with stage_progress(not quiet and not as_json) as progress:
        method: PostalMethod = "specific" if postal_method == "specific" else "ad-valorem"
        key = _from_environment(key_env, "pseudonymisation key")
        if seed is not None and seed_env is not None:
            raise UsageError("--seed and --seed-env are exclusive: give the seed one way")
        private = _from_environment(seed_env, "seed")
        if state_path is not None and batch_size is None:
            raise UsageError("--state needs --batch-size")
        if state_keep_days is not None and state_path is None:
            raise UsageError("--state-keep-days needs --state")
        if part_lines is not None and batch_size is not None:
            raise UsageError(
                "--part-lines applies without --batch-size only (batches are screened as they come)"
            )
        common: dict[str, Any] = {
            "rules": rules_path,
            "mapping": mapping,
            "postal_method": method,
            "seed": PrivateSeed(private) if private is not None else seed,
            "history": list(history),
        }
        if batch_size is not None:
            if fmt != "parquet":
                raise UsageError("--batch-size writes Parquet only (outputs grow batch by batch)")
            summary, wall_seconds = screen_files_in_batches(
                list(manifests),
                out=out_dir,
                batch_size=batch_size,
                state_path=state_path,
                state_keep_days=state_keep_days,
                progress=progress,
                pseudonymise_key=key,
                **common,
            )
        else:
            summary, wall_seconds = screen_to_folder(
                list(manifests),
                out_dir,
                fmt="csv" if fmt == "csv" else "parquet",
                part_lines=part_lines or PART_LINES,
                pseudonymise_key=key,
                on_stage=progress,
                **common,
            )
    if as_json:
        _echo(json.dumps({**summary, "wall_seconds": round(wall_seconds, 3)}, indent=2))
    else:
        print_summary(summary, wall_seconds, out_dir)


def _from_environment(variable: str | None, what: str) -> str | None:
    """The secret held by environment ``variable`` (None when no variable is named).

    Raises:
        UsageError: the variable is unset or empty (the message names it, never a value).
    """
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise UsageError(f"environment variable {variable} holds no {what}")
    return value


#: The components :func:`print_summary` names (the largest amounts); summary.json holds them all.
_COMPONENTS_SHOWN = 8


def _by_component(rows: list[dict[str, Any]]) -> str:
    """The largest amounts by component (summed over measures), and how many rows had no known amount."""
    amounts: dict[str, Decimal] = {}
    unknown: dict[str, int] = {}
    for row in rows:  # one per component and measure: tens, not packages
        component = str(row["component"])
        amounts[component] = amounts.get(component, Decimal(0)) + Decimal(row["amount_usd"])
        unknown[component] = unknown.get(component, 0) + int(row["unknown_amounts"])
    ranked = sorted(amounts, key=lambda c: (-amounts[c], c))
    shown = [
        f"{c} ${amounts[c]:,.2f}" + (f" (+{unknown[c]:,} unknown)" if unknown[c] else "")
        for c in ranked[:_COMPONENTS_SHOWN]
    ]
    rest = len(ranked) - len(shown)
    return "by component: " + ", ".join(shown) + (f", {rest} more in summary.json" if rest > 0 else "")


def print_summary(summary: dict[str, Any], wall_seconds: float, out_dir: Path) -> None:
    """A one-screen summary of the run."""
    counts, money = summary["counts"], summary["money"]
    out.print(
        f"[bold]screened[/] {counts['input_rows']:,} lines → {counts['lines']:,} assessed, "
        f"{counts['rejected']:,} rejected; {counts['packages']:,} packages "
        f"in {wall_seconds:.2f}s",
        highlight=False,
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("packages by decision")
    table.add_column("count", justify="right")
    for reason, n in counts["packages_by_reason"].items():
        table.add_row(Text(reason), f"{n:,}")
    for entry_type, n in counts["packages_by_entry_type"].items():
        table.add_row(Text(f"entry: {entry_type}"), f"{n:,}")
    for status, n in counts["packages_by_duty_status"].items():
        table.add_row(Text(f"duty: {status}"), f"{n:,}")
    for status, n in counts.get("packages_by_fee_status", {}).items():
        table.add_row(Text(f"fees: {status}"), f"{n:,}")
    out.print(table)
    if counts["rejects_by_code"]:
        out.print(
            "rejects: " + ", ".join(f"{code} {n:,}" for code, n in counts["rejects_by_code"].items()),
            highlight=False,
            markup=False,
        )
    out.print(
        f"value ${money['value_usd']}  duty ${money['duty_usd']}  fees ${money['fees_usd']}  "
        f"total due ${money['total_due_usd']}"
        + (
            f"  (sums of known amounts; {money['packages_with_unknown_total']:,} packages have no total due: "
            f"{money['packages_with_unknown_duty']:,} no duty (see duty status), "
            f"{money['packages_with_unknown_fees']:,} no fees (see fee status))"
            if money["packages_with_unknown_total"]
            else ""
        ),
        highlight=False,
        markup=False,
    )
    if money.get("by_component"):
        out.print(_by_component(money["by_component"]), highlight=False, markup=False)
    risk = summary.get("risk") or {}
    if risk:
        dispositions = (
            ", ".join(f"{d} {n:,}" for d, n in risk["packages_by_disposition"].items()) or "no packages"
        )
        out.print(
            f"risk: {risk['packages_flagged']:,} packages flagged; {dispositions}; "
            f"random sample {risk['random_sample']['packages']:,} ({_seed_shown(risk['random_sample'])})",
            highlight=False,
            markup=False,
        )
        listing = risk.get("screening_list")
        if listing:
            out.print(
                f"screening list {listing['source']} published {listing['published']}"
                + _list_age(listing["age_days_at_latest_arrival"]),
                highlight=False,
                markup=False,
            )
    rules = summary["rules"]
    out.print(
        f"rules {rules['id']} {rules['content_hash'][:19]}…  outputs in {out_dir}/",
        highlight=False,
        markup=False,
    )
    options = summary.get("options", {})
    if "resumed_state" in options:  # --state: say whether the run went on from a saved day or began one
        resumed = options["resumed_state"]
        out.print(
            f"state: resumed ({options['resumed_batches']} batches, {int(options['resumed_rows']):,} rows before this "
            f"run; {resumed[:19]}…)"
            if resumed.startswith("sha256:")
            else "state: a new state (no saved state at that path)",
            highlight=False,
            markup=False,
        )
    if rules.get("arrival_dates_after_facts"):
        out.print(
            f"[yellow]note[/]: {rules['arrival_dates_after_facts']:,} arrival date(s) after the pack's facts (as of "
            f"{rules['facts_as_of']}; the latest {rules['latest_arrival_days_after_facts']:,} days later): they are "
            f"{AFTER_FACTS}",
            highlight=False,
        )


def _seed_shown(sample: dict[str, Any]) -> str:
    """The sample's seed as the console shows it: a private one by its fingerprint only."""
    if sample.get("seed_private") == "true":
        return f"private seed, id {sample['seed_id']}"
    return f"seed {sample['seed']}"


def _list_age(age: int | None) -> str:
    """How the screening list's publication date stands to the latest arrival (a backfill's list is later)."""
    if age is None:
        return ""
    if age < 0:
        return f" ({-age} days after the latest arrival: a later list than the goods had)"
    return f" ({age} days before the latest arrival)"


@main.command("explain")
@click.argument("package_id")
@click.option(
    "--run", "run_dir", required=True, type=click.Path(path_type=Path), help="Output folder of a run."
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="The rule pack the run used (default rules/us: the one here, else the installed U.S. pack), read for "
    "the units of specific rates; a pack of another content hash than the run's is not read. A folder given "
    "that is no rule pack is a usage error.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the explanation as JSON.")
@exits_cleanly
@stdout_is_its_output
def explain_command(package_id: str, run_dir: Path, rules_dir: Path | None, as_json: bool) -> None:
    """Explain PACKAGE_ID: decision, duty and fee components, flags, queue, with rules and citations."""
    explained = explain_package(run_dir, package_id, rules=rules_dir)
    if as_json:
        _echo(json.dumps(explained, indent=2, default=str))
    else:
        _echo(render_text(explained))


@main.group("rules")
def rules_group() -> None:
    """Work with rule packs."""


@rules_group.command("check")
@click.argument("pack", type=click.Path(path_type=Path))
@exits_cleanly
def rules_check(pack: Path) -> None:
    """Validate PACK and run its golden scenarios (exit 4 on any failure)."""
    loaded = load_rules(pack)
    rules = list(loaded.all_rules())
    out.print(
        f"[green]valid[/] {escape(loaded.meta.id)}: {len(rules)} dated rules, {loaded.mfn.height:,} tariff lines, "
        f"{loaded.fx_rates.height:,} FX rates; {loaded.content_hash}",
        highlight=False,
    )
    warned = [
        *_unmatched_scope_lines(loaded),
        *short_gaps(loaded),
        *mislabelled_eastern_times(loaded),
        *rounded_fx_lines(loaded),
    ]
    for line in warned:
        out.print(f"  [yellow]warning[/] {escape(line)}", highlight=False)
    outcomes = run_scenarios(loaded)
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        mark = "[green]pass[/]" if outcome.passed else "[red]FAIL[/]"
        out.print(f"  {mark} {escape(f'{outcome.scenario_id} ({outcome.file.name})')}", highlight=False)
        for mismatch in outcome.mismatches:
            out.print(f"       {mismatch}", highlight=False, markup=False)
    out.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed", highlight=False)
    if failed:
        sys.exit(4)


def _unmatched_scope_lines(pack: RulePack, mfn: pl.DataFrame | None = None) -> list[str]:
    """One line per measure or gap whose HTS list (or exclusions) has codes that match no tariff line of
    ``mfn`` (default the pack's table) in force on their dates: how many, of how many, and the first few (the
    pack loads: other codes of the list match)."""
    lines = []
    for row in unmatched_scope(pack, mfn).to_dicts():
        listed = "it covers" if row["kind"] == "include" else "it excludes"
        more = ", …" if row["unmatched"] > len(row["examples"]) else ""
        lines.append(
            f"{row['file']} {row['measure_id']}: HTS codes that match no tariff line of its dates: "
            f"{row['unmatched']:,} of the {row['entries']:,} {listed} ({', '.join(row['examples'])}{more})"
        )
    return lines


@rules_group.command("show")
@click.argument("pack", type=click.Path(path_type=Path), default="rules/us")
@click.option("--date", "day", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@click.option("--origin", help="ISO 3166-1 alpha-2 country of origin (risk rules are not filtered)")
@click.option("--hts", help="HTS code (dots allowed; risk rules are not filtered)")
@click.option(
    "--mode",
    type=click.Choice(["express", "postal", "cargo"]),
    help="Transport mode (risk rules are not filtered).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
@exits_cleanly
@stdout_is_its_output
def rules_show(
    pack: Path, day: dt.datetime, origin: str | None, hts: str | None, mode: str | None, as_json: bool
) -> None:
    """What PACK (default rules/us: the one here, else the installed U.S. pack) has in force on --date, each
    rule with its confidence and citation; first the exchange rates (the currencies converted on the date, at
    rates of which date, those without a rate, and the table's last rate).

    --origin, --hts and --mode keep the rules that concern them (thresholds, suspensions, measures, fees, postal
    regimes, sampling rates). Risk rules are listed whatever they are: where one fires is its SQL condition's
    to decide, not a scope the pack writes."""
    loaded = load_rules(pack)
    entries = rules_in_force(loaded, day.date(), origin=origin and origin.upper(), hts=hts, mode=mode)
    as_of = loaded.meta.facts_as_of
    after_facts = (
        f"[yellow]note[/]: the pack's facts are as of {as_of}, {(day.date() - as_of).days} days before "
        f"{day.date()}: a later change of law is not in it"
        if as_of is not None and day.date() > as_of
        else None
    )
    if as_json:
        # stdout stays the list of rules (scripts parse it); the note goes where a person reading sees it.
        if after_facts:
            err.print(after_facts, highlight=False, soft_wrap=True)
        _echo(json.dumps([dataclasses.asdict(e) for e in entries], indent=2))
        return
    out.print(
        f"[bold]{escape(loaded.meta.id)}[/] in force on {day.date()} ({loaded.content_hash[:19]}…)",
        highlight=False,
    )
    if after_facts:
        out.print(after_facts, highlight=False)
    asked = [name for name, value in (("--origin", origin), ("--hts", hts), ("--mode", mode)) if value]
    first_risk = next((e for e in entries if e.kind == "risk"), None)
    notes = notes_shown(entries)
    # The pack's text as written: a citation's "[draft]" or "sec. 2[a]" is no markup (rich dropped it).
    for entry, why in zip(entries, notes, strict=True):
        if entry is first_risk and asked:
            out.print(
                f"[yellow]note[/]: risk rules are all those in force, not filtered by {' or '.join(asked)}: "
                "each one's condition decides where it fires",
                highlight=False,
            )
        mark = "" if entry.confidence == "confirmed" else f" [yellow]{escape(entry.confidence)}[/]"
        dates = f"  {entry.dates}" if entry.dates else ""
        out.print(f"[bold]{entry.kind}[/] {escape(entry.rule_id)}{mark}{dates}", highlight=False)
        out.print(f"    {entry.summary}", highlight=False, markup=False)
        if entry.citation:
            tags = f"; sources {', '.join(entry.sources)}" if entry.sources else ""
            out.print(Text(f"    {entry.citation}{tags}", style="dim"), highlight=False)
        if why is not None:
            out.print(Text(f"    why {entry.confidence}: {why}"), highlight=False)
    shown = sources_shown(entries)
    if shown:
        # Each tag once (the U.S. pack's measures share theirs), whole on its line: a URL to copy.
        out.print("[bold]sources[/] of the rules above (the pack's sources.toml)", highlight=False)
        for tag, url in shown:
            out.print(f"    {tag} {url}", markup=False, highlight=False, soft_wrap=True)


@rules_group.command("import-hts")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--revision", "label", required=True, help="Label, e.g. 2026-rev-10")
@click.option("--effective-from", "start", required=True, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--pack", "pack_path", type=click.Path(path_type=Path), default="rules/us", show_default=True)
@click.option("--replace", is_flag=True, help="Start the table afresh instead of merging into it.")
@click.option(
    "--allow-dropped-chapters",
    is_flag=True,
    help="Merge an export that lacks whole chapters the table has (their open lines end on --effective-from).",
)
@exits_cleanly
def rules_import_hts(
    export: Path, label: str, start: dt.datetime, pack_path: Path, replace: bool, allow_dropped_chapters: bool
) -> None:
    """Merge a USITC HTSUS JSON EXPORT into the pack's tariff-line table as a new revision (refused, nothing
    written, when a measure's or gap's HTS list would then match no tariff line in force on its dates)."""
    if (shown := non_utf8_name(export)) is not None:
        raise RulePackError(shown, "", "the export's path is not UTF-8 text: rename it")
    if not pack_path.is_dir():  # never the pack installed with the package, which load_rules would find
        raise UsageError(f"{pack_path}: rule pack folder not found")
    # Not load_rules: this command repairs the table that the measures' lists are checked against, so it must
    # load a pack that fails that check alone; the merged table is checked below, before anything is written.
    loaded = load_rules_to_import_hts(pack_path)
    revision = Revision(label, export, start.date())
    lines = read_rate_lines(export)
    dropped = [] if replace else chapters_left_out(loaded.mfn, lines)
    if dropped and not allow_dropped_chapters:
        raise RulePackError(
            str(export),
            "",
            f"has no line in {len(dropped)} chapters the table has ({', '.join(dropped[:10])}"
            f"{' …' if len(dropped) > 10 else ''}): a partial export would end all their lines; import the "
            "whole schedule, or pass --allow-dropped-chapters",
        )
    existing = None if replace else loaded.mfn
    merged = merge_revision(existing, lines, revision)
    _refuse_dead_lists(loaded, merged, revision)
    ended = 0 if existing is None else ended_lines(existing, merged)
    target = pack_path / loaded.tariff.mfn.file
    staging = target.with_name(f".{target.name}.staging")
    write_mfn_csv(merged, staging, parquet=target.suffix.lower() == ".parquet")
    staging.replace(target)
    cov = coverage(lines)
    out.print(
        f"imported {label}: {lines.height:,} rate lines; {ended:,} open lines end on {start.date()}; table now "
        f"{merged.height:,} rows → {target}\n"
        f"parse coverage (chapters 1-97, lines with a general rate): {cov.parsed:,} of {cov.rate_lines:,} "
        f"parsed ({cov.share:.2%}): {cov.computable:,} computable from value, quantity and weight "
        f"({cov.computable_share:.2%}), {cov.needs_part_values:,} need part values; "
        f"{cov.rate_lines - cov.parsed:,} not-computable",
        highlight=False,
        markup=False,
    )
    for line in _unmatched_scope_lines(loaded, merged):
        out.print(f"  [yellow]warning[/] {escape(line)}", highlight=False)


def _refuse_dead_lists(pack: RulePack, merged: pl.DataFrame, revision: Revision) -> None:
    """Refuse an import after which a measure's or gap's whole HTS list would match no tariff line in force on
    its dates (a revision that renumbers the codes of a measure starting under it): every command, this one
    included, would refuse the pack. Names each, its file and its codes, and how to go on."""
    dead = dead_lists(pack, merged)
    if dead.is_empty():
        return
    rules = {r.id: r for r in (*pack.tariff.measures, *pack.tariff.gaps)}
    named = []
    for row in dead.to_dicts():
        rule = rules[row["measure_id"]]
        codes = include_codes(pack, rule.id)
        more = f", … ({codes.len():,} codes)" if codes.len() > EXAMPLES else ""
        field = f"hts_include_file {rule.hts_include_file}" if rule.hts_include_file else "hts_include"
        kind = "measure" if isinstance(rule, Measure) else "coverage gap"
        named.append(f"{kind} {rule.id} in {row['file']} ({field}: {', '.join(codes.head(EXAMPLES))}{more})")
    raise RulePackError(
        str(revision.path),
        "",
        f"merged as {revision.label} from {revision.effective_from}, the tariff table would have no line in "
        f"force on their dates that matches a code of these lists: {'; '.join(named)}. A list that matches "
        "none covers no goods, and every command would refuse the pack: nothing was written. Add the codes "
        "this revision gives those goods to each list first (a list may name codes of a revision not yet "
        "imported: it then matches in part and only warns), then import again",
    )


@rules_group.command("import-sdn")
@click.argument("sdn_csv", type=click.Path(path_type=Path))
@click.option("--out", "out_file", required=True, type=click.Path(path_type=Path), help="Screening-list CSV.")
@click.option(
    "--pack",
    "pack_path",
    type=click.Path(path_type=Path),
    default="rules/us",
    show_default=True,
    help="Pack whose [denied_parties] party_types the report counts the entries matched by.",
)
@exits_cleanly
def rules_import_sdn(sdn_csv: Path, out_file: Path, pack_path: Path) -> None:
    """Convert OFAC's SDN_CSV (sdn.csv layout) into a screening-list CSV for a pack's risk.toml, and report its
    entries by SDN type and how many the pack (default rules/us: the one here, else the installed U.S. pack)
    matches shipper and consignee names against."""
    if (shown := non_utf8_name(sdn_csv)) is not None:
        raise RulePackError(shown, "", "the export's path is not UTF-8 text: rename it")
    if (shown := non_utf8_name(out_file)) is not None:
        raise UsageError(f"{shown}: the --out path is not UTF-8 text: rename it")
    entries = read_ofac_sdn(sdn_csv)
    staging = out_file.with_name(f".{out_file.name}.staging")
    write_screening_list(entries, staging)
    staging.replace(out_file)
    aliases = int(entries["aliases"].list.len().sum())
    weak = int(entries["weak_aliases"].list.len().sum())
    out.print(
        f"imported {entries.height:,} entries ({aliases:,} aliases; {weak:,} weak aliases, kept but not screened "
        f"on their own) → {out_file}\n"
        f"{_sdn_types_report(entries, pack_path)}\n"
        f"{_sdn_next_step(out_file, pack_path)}",
        highlight=False,
        markup=False,
    )


def _sdn_next_step(out_file: Path, pack_path: Path) -> str:
    """What the pack needs to screen against the list written to ``out_file``: risk.toml's ``[denied_parties]``
    naming it, and every other list gone from the pack (a pack refuses a table no entry names: it would not
    load): the list risk.toml names, where it is not this one, and the tables of the pack's ``screening/``
    folder but this list. Only that table of risk.toml is read; where it does not read, the folder's tables are
    named all the same."""
    root = pack_folder(pack_path)
    try:
        denied = read_denied_parties(pack_path)
    except RulePackError:
        denied = None  # the report above says why
    written = out_file.resolve()
    try:
        inside: str | None = written.relative_to(root.resolve()).as_posix()
    except ValueError:
        inside = None
    previous = denied.file if denied is not None and (root / denied.file).is_file() else None
    named_here = previous is not None and (root / previous).resolve() == written
    others = {t for t in folder_tables(root, "screening") if (root / t).resolve() != written}
    if previous is not None and not named_here:
        others.add(Path(previous).as_posix())
    remove = (
        f"remove the previous list{'s' if len(others) > 1 else ''}, {', '.join(sorted(others))}, or move "
        f"{'them' if len(others) > 1 else 'it'} out of the pack (a pack refuses a table no entry names)"
        if others
        else ""
    )
    if named_here:
        published = "set [denied_parties] published to the date OFAC published it"
        if remove:
            return f"the pack's risk.toml names this list: {published}, and {remove}: the pack will not load before"
        return f"the pack's risk.toml names this list: {published}"
    name = f'file = "{inside}"' if inside is not None else "file"
    steps = f"name it in the pack's risk.toml ([denied_parties] {name}, and published: the date OFAC published it)"
    if remove:
        steps += f", and {remove}"
    if inside is not None:
        return f"this list is in the pack {root}, which will not load until you {steps}"
    return f"to use it, copy it into the pack {root}, {steps}"


def _sdn_types_report(entries: pl.DataFrame, pack_path: Path) -> str:
    """Two lines: the SDN entries by type, and how many the pack matches names against (its ``[denied_parties]
    party_types``, else their default): the others, vessels and aircraft in the U.S. pack, are never matched.

    Only that table of the pack's risk.toml is read, after the list is written: the pack need not load (its
    risk.toml may already name the list being written). Where even the table does not read, the second line
    says so in place of the count."""
    counts = entries.get_column("entity_type").value_counts()
    per_type = dict(zip(counts["entity_type"].to_list(), counts["count"].to_list(), strict=True))
    by_type = (
        f"entries by SDN type: {', '.join(f'{per_type.get(kind, 0):,} {kind}' for kind in ENTITY_TYPES)}"
    )
    try:
        denied = read_denied_parties(pack_path)
    except RulePackError as exc:
        return (
            f"{by_type}\nnote: the pack could not be read, so the entries it matches are not counted: {exc}"
        )
    party_types = (
        denied.party_types if denied is not None else DeniedParties.model_fields["party_types"].default
    )
    matched = party_entries(entries, party_types).height
    left = ", ".join(
        f"{per_type[kind]:,} {kind}" for kind in ENTITY_TYPES if kind not in party_types and kind in per_type
    )
    setting = (
        "[denied_parties] party_types"
        if denied is not None
        else "the default party_types: no [denied_parties]"
    )
    return (
        f"{by_type}\n"
        f"pack {pack_folder(pack_path)} matches {', '.join(party_types)} ({setting}): {matched:,} entries; "
        f"{entries.height - matched:,} not matched{f' ({left})' if left else ''}"
    )


@main.command("generate")
@click.option("--rows", type=click.IntRange(min=0), required=True, help="Number of manifest lines.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True, help=".parquet or .csv")
@click.option(
    "--rules", "rules_path", default="rules/us", show_default=True, help="Pack whose HTS lines to use."
)
@click.option("--bad-share", type=click.FloatRange(0, 1), default=0.005, show_default=True)
@click.option(
    "--first-package",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Number of the first package: give files of one day ranges of their own.",
)
@exits_cleanly
def generate_command(
    rows: int, seed: int, out_file: Path, rules_path: str, bad_share: float, first_package: int
) -> None:
    """Write a SYNTHETIC manifest (seeded; streamed in chunks, so any size fits in memory)."""
    if out_file.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"{out_file}: the generator writes .parquet or .csv")
    if (shown := non_utf8_name(out_file)) is not None:
        raise UsageError(f"{shown}: the --out path is not UTF-8 text: rename it")
    pack = load_rules(rules_path)
    codes = in_pack(COMMON_HTS_CODES, pack)
    if not codes:
        raise UsageError(f"{rules_path}: the pack has a tariff line for none of the generator's HTS codes")
    with stage_progress(True) as progress:
        try:
            written = generate_manifest(
                out_file,
                rows=rows,
                seed=seed,
                hts_codes=codes,
                dates=DEFAULT_DATES,
                bad_row_share=bad_share,
                on_progress=lambda n: progress(f"generated {n:,} of {rows:,} rows"),
                first_package=first_package,
            )
        except ValueError as exc:
            raise UsageError(f"{out_file}: {exc}") from exc
        except OSError as exc:
            raise UsageError(f"{out_file}: cannot be written: {exc.strerror or exc}") from exc
    out.print(f"wrote {written:,} synthetic rows to {out_file}", highlight=False, markup=False)


def in_pack(codes: tuple[str, ...], pack: RulePack) -> list[str]:
    """The codes that have a tariff line (by 8- or 10-digit prefix) in the pack."""
    lines = set(pack.mfn["hts"].to_list())
    return [code for code in codes if code in lines or code[:8] in lines]


def entry_point(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point: run ``screen`` and end the process with its exit status, skipping the
    native thread pools' teardown that can abort a finished run (:mod:`screening.process_exit`). Click's own
    text (``--help``, ``--version``, a usage error's message) that cannot be written fails as a command whose
    output is its text does (exit 2, one ``error:`` line), not with a traceback."""
    try:
        main.main(args=argv, prog_name="screen")
        code = 0
    except SystemExit as exc:
        code = exit_code_of(exc)
    except OSError as exc:
        # Click writes that text outside any command, so no command's handler meets the failed write.
        if exc.errno not in _STREAM_LOST:
            raise
        lost = UsageError("stdout cannot be written: the command's output is lost")
        err.print(Text.assemble(("error: ", "bold red"), str(lost)), highlight=False, soft_wrap=True)
        code = lost.exit_code
    exit_process(code)
