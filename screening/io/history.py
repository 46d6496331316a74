"""History input: the ``packages`` outputs of earlier runs, for risk rules that look across days.

A history source is a run folder (its ``packages.parquet`` or ``packages.csv``) or a packages
file. Only ``consignee_key``, ``arrival_date``, ``package_id`` and ``value_usd`` are read (a CSV file's cells
without the ``'`` its writer put before text that starts like a formula); a key in clear is read as this version
keys the same consignee (:func:`screening.exprs.parties.history_key`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from screening.errors import InputSchemaError, UsageError
from screening.exprs.parties import history_key
from screening.io.writers import csv_cell
from screening.path_names import non_utf8_name, unusable_path

NEEDED = ("consignee_key", "arrival_date", "package_id", "value_usd")
#: How a pseudonymised key starts (:func:`screening.io.privacy.pseudonym`).
PSEUDONYM_PREFIX = "p:"


def history_sources(history: str | Path | Sequence[str | Path]) -> list[str | Path]:
    """The history sources of a ``history`` option: one path, or several.

    Raises:
        UsageError: ``history`` is neither a path nor a sequence of paths (a string is one path, not its
            characters).
    """
    if isinstance(history, str | Path):
        return [history]
    sources = list(history) if isinstance(history, Sequence) else None
    if sources is None or not all(isinstance(s, str | Path) for s in sources):
        raise UsageError(
            f"history must be a path or a list of paths (run folders or packages files), not {history!r}"
        )
    return sources


def packages_file(path: Path) -> Path:
    """The packages file of a history source (a run folder's, or the file itself).

    Raises:
        InputSchemaError: the source is missing, holds no packages file, its packages file cannot be read (the
            system's reason named: ``Permission denied``), or its path is not UTF-8 text (the Parquet and CSV
            readers take text paths) or one the system cannot look up (a name over 255 bytes).
    """
    if (shown := non_utf8_name(path)) is not None:
        raise InputSchemaError(shown, "the history's path (--history) is not UTF-8 text: rename it")
    if (reason := unusable_path(path)) is not None:
        raise InputSchemaError(str(path), f"the history's path (--history) cannot be used: {reason}")
    if path.is_dir():
        found = next((path / n for n in ("packages.parquet", "packages.csv") if (path / n).is_file()), None)
        if found is None:
            raise InputSchemaError(str(path), "history folder holds no packages.parquet or packages.csv")
        path = found
    elif not path.is_file():
        raise InputSchemaError(str(path), "history file not found")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:  # else refused as "not a packages output", which it may well be
        raise InputSchemaError(str(path), f"history file cannot be read: {exc.strerror or exc}") from exc
    return path


def history_files(paths: Sequence[str | Path]) -> tuple[Path, ...]:
    """The packages files of the history sources ``paths`` (:func:`packages_file`): an output folder must hold none
    of them (a run would replace the history it read).

    Raises:
        InputSchemaError: as :func:`packages_file` raises it.
    """
    return tuple(packages_file(Path(path)) for path in paths)


def read_history(paths: Sequence[str | Path], *, keyed: bool = False) -> pl.LazyFrame:
    """Earlier runs' packages as ``consignee_key, arrival_date, package_id, value_usd_cents``; ``keyed``:
    the run reading them pseudonymises (and maps pseudonymous keys back to its own).

    One row per package and day of each source, with ``lines`` (its lines, null where the source has no such
    column): the parts of a package screened in batches (a row each in its run's ``packages``) are summed. The
    reader (:func:`screening.stages.risk.consignee_history`) counts a package that several sources hold alike
    once (a run given twice), and sums its different parts in different sources (the hourly outputs of a run
    in batches).

    Raises:
        InputSchemaError: a history source is missing, unreadable or lacks the needed columns.
        UsageError: a history source's keys are all pseudonyms and the run has no key (none would match).
    """
    frames = []
    for spec in paths:
        file = packages_file(Path(spec))
        try:
            scan = (
                pl.scan_parquet(file, glob=False)
                if file.suffix == ".parquet"
                else pl.scan_csv(file, infer_schema=False, glob=False)
            )
            counted = "lines" in scan.collect_schema().names()
            raw = scan.select(*NEEDED, *(["lines"] if counted else [])).collect(engine="in-memory")
            if file.suffix != ".parquet":
                # A CSV output's text that starts like a formula was written with a ``'`` before it (package
                # ``-123`` as ``'-123``): read back as written, the same package in Parquet counted twice.
                raw = raw.with_columns(csv_cell(pl.col(c)).alias(c) for c in raw.columns)
            typed = raw.select(
                # Keyed as this version keys (an earlier version kept the id's case and punctuation).
                history_key(pl.col("consignee_key").cast(pl.String())).alias("consignee_key"),
                pl.col("arrival_date").cast(pl.String()).str.to_date("%Y-%m-%d"),
                pl.col("package_id").cast(pl.String()),
                (pl.col("value_usd").cast(pl.Decimal(18, 2)) * 100).cast(pl.Int64()).alias("value_usd_cents"),
                (pl.col("lines").cast(pl.Int64()) if counted else pl.lit(None, dtype=pl.Int64())).alias(
                    "lines"
                ),
            )
        except OSError as exc:  # unreadable since it was opened (packages_file)
            raise InputSchemaError(str(file), f"history file cannot be read: {exc.strerror or exc}") from exc
        except pl.exceptions.PolarsError as exc:
            raise InputSchemaError(
                str(file), f"not a packages output of an earlier run (needs {', '.join(NEEDED)})"
            ) from exc
        keys = typed.get_column("consignee_key").drop_nulls()
        if not keyed and keys.len() and keys.str.starts_with(PSEUDONYM_PREFIX).all():
            raise UsageError(
                f"{spec}: its consignee keys are pseudonymised; give this run the key that history was written "
                "with (--pseudonymise-key-env), or none of its consignees can match"
            )
        # A package screened in parts has a row per part: together they are its value.
        frames.append(
            typed.group_by("consignee_key", "arrival_date", "package_id", maintain_order=True).agg(
                pl.col("value_usd_cents").sum(),
                pl.col("lines").sum() if counted else pl.lit(None, dtype=pl.Int64()).alias("lines"),
            )
        )
    return pl.concat(frames).lazy()
