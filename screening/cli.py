"""The ``screen`` command: parse options, call the library, map errors to exit codes.

Exit codes: 0 ran (findings and rejects are data), 2 usage, 3 input schema error,
4 rule pack error, 70 internal error.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from rich.console import Console
from rich.table import Table

from screening.errors import ScreeningError
from screening.generate import DEFAULT_DATES, generate_manifest
from screening.pipeline import screen
from screening.result import Result
from screening.rulepack.loader import load_rules
from screening.scenarios import run_scenarios

P = ParamSpec("P")
R = TypeVar("R")
EXIT_INTERNAL = 70

err = Console(stderr=True)
out = Console()


def exits_cleanly(command: Callable[P, R]) -> Callable[P, R]:
    """Turn our errors into their exit codes and anything unexpected into 70, with a one-line message."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except ScreeningError as exc:
            err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:
            err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
            sys.exit(EXIT_INTERNAL)

    return wrapper


@contextmanager
def stage_progress(enabled: bool) -> Iterator[Callable[[str], None]]:
    """A spinner with the current stage and elapsed time on stderr (silent when disabled)."""
    if not enabled:
        yield lambda _stage: None
        return
    started = time.perf_counter()
    with err.status("starting") as status:

        def update(stage: str) -> None:
            status.update(f"{stage}  [dim]{time.perf_counter() - started:5.1f}s[/]")

        yield update


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="screening", message="screening %(version)s")
def main() -> None:
    """Screen low-value import packages: de minimis, duties, fees, with reasons and citations."""


@main.command("run")
@click.argument("manifests", nargs=-1, required=True)
@click.option("--rules", "rules_path", default="rules/us", show_default=True, help="Rule pack folder.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Output folder.")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True)
@click.option("--mapping", type=click.Path(path_type=Path), help="Column-mapping TOML for your headers.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress display.")
@exits_cleanly
def run_command(
    manifests: tuple[str, ...],
    rules_path: str,
    out_dir: Path,
    fmt: str,
    mapping: Path | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Screen MANIFESTS (files, globs or folders) and write the outputs to --out."""
    with stage_progress(not quiet and not as_json and err.is_terminal) as progress:
        result = screen(list(manifests), rules=rules_path, mapping=mapping, on_stage=progress)
        progress("writing outputs")
        result.write(out_dir, fmt="csv" if fmt == "csv" else "parquet")
    if as_json:
        click.echo(json.dumps({**result.summary, "wall_seconds": round(result.wall_seconds, 3)}, indent=2))
    else:
        print_summary(result, out_dir)


def print_summary(result: Result, out_dir: Path) -> None:
    """A one-screen summary of the run."""
    summary = result.summary
    counts, money = summary["counts"], summary["money"]
    out.print(
        f"[bold]screened[/] {counts['input_rows']:,} lines → {counts['lines']:,} assessed, "
        f"{counts['rejected']:,} rejected; {counts['packages']:,} packages "
        f"in {result.wall_seconds:.2f}s",
        highlight=False,
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("packages by decision")
    table.add_column("count", justify="right")
    for reason, n in counts["packages_by_reason"].items():
        table.add_row(reason, f"{n:,}")
    for entry_type, n in counts["packages_by_entry_type"].items():
        table.add_row(f"entry: {entry_type}", f"{n:,}")
    for status, n in counts["packages_by_duty_status"].items():
        table.add_row(f"duty: {status}", f"{n:,}")
    out.print(table)
    if counts["rejects_by_code"]:
        out.print(
            "rejects: " + ", ".join(f"{code} {n:,}" for code, n in counts["rejects_by_code"].items()),
            highlight=False,
        )
    out.print(
        f"value ${money['value_usd']}  duty ${money['duty_usd']}  fees ${money['fees_usd']}  "
        f"total due ${money['total_due_usd']}"
        + (
            f"  (sums of known amounts; {money['packages_with_unknown_duty']:,} packages have no duty total:"
            " see duty status)"
            if money["packages_with_unknown_duty"]
            else ""
        ),
        highlight=False,
    )
    rules = summary["rules"]
    out.print(f"rules {rules['id']} {rules['content_hash'][:19]}…  outputs in {out_dir}/", highlight=False)


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
        f"[green]valid[/] {loaded.meta.id}: {len(rules)} dated rules, {loaded.mfn.height:,} tariff lines, "
        f"{loaded.fx_rates.height:,} FX rates; {loaded.content_hash}",
        highlight=False,
    )
    outcomes = run_scenarios(loaded)
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        mark = "[green]pass[/]" if outcome.passed else "[red]FAIL[/]"
        out.print(f"  {mark} {outcome.scenario_id} ({outcome.file.name})", highlight=False)
        for mismatch in outcome.mismatches:
            out.print(f"       {mismatch}", highlight=False)
    out.print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed", highlight=False)
    if failed:
        sys.exit(4)


@main.command("generate")
@click.option("--rows", type=click.IntRange(min=0), required=True, help="Number of manifest lines.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", "out_file", type=click.Path(path_type=Path), required=True, help=".parquet or .csv")
@click.option(
    "--rules", "rules_path", default="rules/us", show_default=True, help="Pack whose HTS lines to use."
)
@click.option("--bad-share", type=click.FloatRange(0, 1), default=0.005, show_default=True)
@exits_cleanly
def generate_command(rows: int, seed: int, out_file: Path, rules_path: str, bad_share: float) -> None:
    """Write a SYNTHETIC manifest (seeded; streamed in chunks, so any size fits in memory)."""
    pack = load_rules(rules_path)
    codes = sorted(code.ljust(10, "0") for code in pack.mfn["hts"].unique().to_list())
    with stage_progress(err.is_terminal) as progress:
        written = generate_manifest(
            out_file,
            rows=rows,
            seed=seed,
            hts_codes=codes,
            dates=DEFAULT_DATES,
            bad_row_share=bad_share,
            on_progress=lambda n: progress(f"generated {n:,} of {rows:,} rows"),
        )
    out.print(f"wrote {written:,} synthetic rows to {out_file}", highlight=False)


def entry_point(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return main.main(args=argv, prog_name="screen")
