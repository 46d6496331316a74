"""``screen explain``: one package's decision, duties, fees, flags and queue, from a run's output folder.

A package whose lines came in several batches of an incremental run (``--batch-size``) has a ``packages`` row per
part, each its own entry: decided, charged and routed on its own. The outputs carry no batch number; the parts are
told apart by order (each batch's rows are written after the earlier batches') and by line numbers (a line number
comes in one batch only: a later copy is a ``duplicate-line`` reject). Part ``n`` has the ``n``-th run of the
package's lines in ``lines`` (its ``packages`` row says how many), the components and flags of those lines, and the
package-level components and flags between them (see :func:`_component_parts`, :func:`_flag_parts`).

Each table is read through a scan filtered on the package id (or the consignee and day), so a run of millions of
lines is not read whole.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final, get_args

import polars as pl

from screening.errors import DutyStatus, InputSchemaError, ReasonCode, RulePackError, UsageError
from screening.io.writers import FORMULA_START_CHARS, NEUTRALISED, csv_cell
from screening.path_names import non_utf8_name, unusable_path
from screening.pipeline import read_error
from screening.rulepack.loader import DEFAULT_PACK, content_hash, pack_folder, read_toml
from screening.rulepack.models import Fee
from screening.rulepack.rates import PARTS, part_components
from screening.rulepack.tables import read_mfn_table
from screening.stages.assess import UNIT_DIVISORS, quantity_in, quantity_scale
from screening.stages.entry_limits import (
    ELIGIBILITY_OPEN_NOTE_START,
    FORMAL_MAIL_NOTE_START,
    GIFT_ENTRY_NOTE_START,
    OPEN_NOTE_END,
    OPEN_NOTE_START,
    POSTAL_BARRED_NOTE_START,
)

#: Columns of the outputs that are not text, money or dates (those read alike from Parquet and CSV): a CSV
#: output's cells are typed back to them, so an explanation says ``false``, not ``"false"``, whatever the format.
_CSV_TYPES: dict[str, pl.DataType] = {
    **dict.fromkeys(("usmca_claim", "gift", "de_minimis_eligible", "random_sample"), pl.Boolean()),
    **dict.fromkeys(
        (
            "row",
            "line_no",
            "lines",
            "consignee_day_packages",
            "consignee_day_lines",
            "risk_score",
            "queue_rank",
            "weight",
            "capacity",
        ),
        pl.Int64(),
    ),
    **dict.fromkeys(("quantity", "gross_weight_kg", "metal_content_share"), pl.Float64()),
    "risk_flags": pl.List(pl.String()),
    "line_nos": pl.List(pl.Int64()),
}
#: Text the CSV writer prefixes with ``'`` (see :mod:`screening.io.writers`).
_FORMULA_LIKE = re.compile(rf"^'*{FORMULA_START_CHARS}")

#: The columns of ``lines`` an explanation shows (those a run's outputs hold: older runs lack some).
_LINE_COLUMNS = (
    "line_no",
    "hts_code",
    "description",
    "country_of_origin",
    "country_of_export",
    "shipper_country",
    "gift",
    "declared_value",
    "currency",
    "fx_usd_per_unit",
    "fx_rate_date",
    "value_usd",
    "quantity",
    "gross_weight_kg",
    "consignee_day_value_usd",
    "consignee_day_gift_value_usd",
    "consignee_day_packages",
    "duty_status",
    "duty_usd",
    "risk_flags",
)
#: The other packages of a consignee-day an explanation lists by name (the rest are counted).
OTHERS_SHOWN: Final = 20
#: What the consignee-day key stands for, and that the law does not define it (DOMAIN.md section 2).
KEY_READING: Final = (
    "the engine's reading of 'one person on one day' (19 U.S.C. 1321(a)(2)(C)), not the law's: 'one person' is "
    "not defined in 19 CFR 10.151 and no definition of 'one day' was found (DOMAIN.md section 2); the day is the "
    "package's arrival_date"
)
#: Fee statuses of a part with no fee components.
_NO_FEES = ("none-due", "no-fee-schedule")
#: Part names whose value (not a count) is the base of a part-value rate: ``mfn_part_case`` is ad valorem.
_VALUE_PARTS = frozenset(PARTS.values())
#: The fee components (an ad valorem fee may be charged at its minimum or maximum).
_FEE_COMPONENTS = frozenset(get_args(Fee.model_fields["component"].annotation))


def _read(run: Path, name: str, **equal: str) -> pl.DataFrame:
    """The rows of output ``name`` of the run whose columns equal the texts ``equal`` (a date in ISO form), read
    through a filtered scan.

    Raises:
        InputSchemaError: the file cannot be read.
        UsageError: the folder holds no such output.
    """
    for suffix in (".parquet", ".csv"):
        file = run / f"{name}{suffix}"
        if file.is_file():
            try:
                return _read_output(file, equal)
            except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
                raise InputSchemaError(str(file), f"cannot be read: {read_error(exc, file)}") from exc
    raise UsageError(f"{run}: no {name}.parquet or {name}.csv (is this a `screen run` output folder?)")


def _read_output(file: Path, equal: dict[str, str]) -> pl.DataFrame:
    """The rows of one output file whose columns equal ``equal``. A CSV file's cells and headers lose the ``'``
    that kept them from reading as formulas, and its columns take their output types (nested ones decoded from
    JSON; ``line_no`` of the rejects stays text, as written in the input)."""
    if file.suffix == ".parquet":
        scan = pl.scan_parquet(file, glob=False)
        schema = scan.collect_schema()
        return scan.filter(*[pl.col(c) == _typed(v, schema[c]) for c, v in equal.items()]).collect()
    written = pl.scan_csv(file, infer_schema=False, glob=False)
    text = written.filter(*[pl.col(c) == _as_written(v) for c, v in equal.items()]).collect()
    text = text.rename({c: c[1:] for c in text.columns if re.match(NEUTRALISED, c)})
    text = text.with_columns(csv_cell(pl.col(c)).alias(c) for c in text.columns)
    typed = {
        c: t
        for c, t in _CSV_TYPES.items()
        if c in text.columns and not (file.stem == "rejects" and c == "line_no")
    }
    return text.with_columns(
        pl.col(c).str.json_decode(t) if isinstance(t, pl.List) else _parsed(pl.col(c), t)
        for c, t in typed.items()
    )


def _typed(value: str, dtype: pl.DataType) -> object:
    """``value`` as the Parquet column of type ``dtype`` holds it."""
    return dt.date.fromisoformat(value) if dtype == pl.Date() else value


def _as_written(value: str) -> str:
    """``value`` as the CSV writer wrote it (with a ``'`` before text that starts like a formula)."""
    return f"'{value}" if _FORMULA_LIKE.match(value) else value


def _parsed(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Boolean():
        return text.replace_strict({"true": True, "false": False}, default=None, return_dtype=pl.Boolean())
    return text.cast(dtype)


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (dates and decimals as text)."""
    plain = frame.with_columns(
        pl.col(c).cast(pl.String())
        for c, t in frame.schema.items()
        if t in (pl.Date, pl.Datetime) or t.is_decimal()
    )
    return plain.to_dicts()


def _summary(folder: Path) -> dict[str, Any]:
    summary_file = folder / "summary.json"
    if not summary_file.is_file():
        raise UsageError(f"{folder}: no summary.json (is this a `screen run` output folder?)")
    try:
        summary: dict[str, Any] = json.loads(summary_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, RecursionError) as exc:
        raise InputSchemaError(str(summary_file), f"cannot be read: {exc}") from exc
    return summary


def explain_package(run: str | Path, package_id: str, *, rules: str | Path | None = None) -> dict[str, Any]:
    """Everything the run decided about ``package_id``, with reasons, measures and citations.

    ``parts`` holds one entry per ``packages`` row of the package (several for a package whose lines came in
    several batches), each with its decision, entry, consignee-day and queues; every line, component, flag and
    queue row names its ``part`` (1 up). The top-level ``package``, ``decision`` and ``entry`` are the first
    part's (the whole package's when it has one part), ``queue`` the package's first queue row. A decision's
    ``after_facts`` (the pack's ``facts_as_of`` and ``days_after`` it) marks a package that arrived after the day
    the pack's law was last checked: decided by the law as known then (None otherwise). Each component
    says ``how`` its amount came about and, where rounding to the cent changed it, the amount
    ``before_rounding``. ``rules`` is the rule pack the run used (``None``: the default, ``rules/us``, where it
    is at hand), read for the units of specific rates only, and only when its content hash is the one the run's
    summary names: the run folder does not hold the pack.

    Raises:
        UsageError: the folder is not a run output, its path is not UTF-8 text (the output readers take text
            paths) or one the system cannot look up (a name over 255 bytes), or the package is not in it
            (rejected rows are listed when the package id appears among the rejects); ``rules`` given is no rule
            pack folder (not there, or no ``pack.toml`` in it); a run published a new output set into the folder
            while it was read, and again while it was read anew.
    """
    folder = Path(run)
    if (shown := non_utf8_name(folder)) is not None:
        raise UsageError(f"{shown}: the run folder's path (--run) is not UTF-8 text: rename the folder")
    if (reason := unusable_path(folder)) is not None:
        raise UsageError(f"{folder}: the run folder's path (--run) cannot be used: {reason}")
    if rules is not None:
        _check_pack_given(pack_folder(rules))
    if not folder.is_dir():
        raise UsageError(f"{folder}: run folder not found")
    # A run publishes a new set by swapping the folder: reads on either side of that swap would mix two sets.
    for _ in range(2):
        before = _set_identity(folder)
        try:
            explained = _explained(folder, package_id, rules)
        except (UsageError, InputSchemaError):
            if _set_identity(folder) == before:
                raise
            continue  # the set was replaced midway (its files removed, or the package not in the new one)
        if _set_identity(folder) == before:
            return explained
    raise UsageError(
        f"{folder}: a run published a new output set into the folder while it was read, twice: run `screen "
        "explain` again once the run writing the folder is done"
    )


def _set_identity(folder: Path) -> tuple[int, ...] | None:
    """What tells one output set in ``folder`` from the next: the folder's and its ``summary.json``'s device,
    inode, size and modification time (a run publishes a new folder, swapped into place); None: not there."""
    try:
        here, summary = folder.stat(), (folder / "summary.json").stat()
    except OSError:
        return None
    return tuple(
        getattr(stat, name)
        for stat in (here, summary)
        for name in ("st_dev", "st_ino", "st_size", "st_mtime_ns")
    )


def _explained(folder: Path, package_id: str, rules: str | Path | None) -> dict[str, Any]:
    """:func:`explain_package` of the run folder ``folder`` (checked), read as it is now."""
    summary = _summary(folder)
    packages = _read(folder, "packages", package_id=package_id)
    rejects = _read(folder, "rejects", package_id=package_id).drop("raw", strict=False)
    if packages.height == 0:
        if rejects.height:
            return {"package_id": package_id, "rejected": _rows(rejects)}
        raise UsageError(f"package {package_id!r} is not in {folder}")
    part_rows = _rows(packages)
    lines, components, flags, queues = _by_part(folder, summary, package_id, part_rows, rules)
    line_part = {line["line_no"]: line["part"] for line in lines}
    rejected_lines = _rows(rejects)
    for reject in rejected_lines:
        reject["part"] = _reject_part(reject, line_part)
    parts = [
        _part(
            folder,
            summary,
            n,
            row,
            part_rows,
            [line for line in lines if line["part"] == n],
            [c for c in components if c["part"] == n],
            queues,
        )
        for n, row in enumerate(part_rows, start=1)
    ]
    return {
        "package_id": package_id,
        "package": parts[0]["package"],
        "decision": parts[0]["decision"],
        "entry": parts[0]["entry"],
        "lines": lines,
        "rejected_lines": rejected_lines,
        "components": components,
        "flags": flags,
        "queue": queues[0] if queues else None,
        "queues": queues,
        "parts": parts,
        "fx": _fx_source(summary),
        "rules": {"id": summary["rules"]["id"], "content_hash": summary["rules"]["content_hash"]},
    }


def _by_part(
    folder: Path,
    summary: dict[str, Any],
    package_id: str,
    part_rows: list[dict[str, Any]],
    rules: str | Path | None,
) -> tuple[list[dict[str, Any]], ...]:
    """The package's lines, components, flags and queue rows, each naming its ``part``."""
    lines_frame = _read(folder, "lines", package_id=package_id)
    lines = _rows(lines_frame.select(c for c in _LINE_COLUMNS if c in lines_frame.columns))
    line_part = _line_parts(part_rows, lines)
    for line in lines:
        line["part"] = line_part[line["line_no"]]
    components = _rows(_read(folder, "components", package_id=package_id))
    per_item = {line["part"] for line in lines if line["duty_status"] == str(DutyStatus.CHARGED_PER_ITEM)}
    units = _specific_units(rules, summary, lines_frame) if _has_specific(components) else {}
    by_line = {line["line_no"]: line for line in lines}
    # Why a component's rule is unconfirmed or in conflict: its note, from the run's summary (a run written
    # before the summary held them: none).
    notes: dict[str, str] = summary.get("component_rule_notes", {})
    for component, part in zip(
        components, _component_parts(components, line_part, part_rows, per_item), strict=True
    ):
        component["part"] = part
        component["how"], component["before_rounding"] = _how(component, by_line, units)
        settled = component.get("confidence") in (None, "confirmed")
        component["note"] = None if settled else notes.get(str(component["measure_id"]))
    flags = _flag_rows(_rows(_read(folder, "flags", package_id=package_id)), summary)
    for flag, part in zip(flags, _flag_parts(flags, line_part, part_rows), strict=True):
        flag["part"] = part
    queues = _rows(_read(folder, "queues", package_id=package_id))
    for queue, part in zip(queues, _queue_parts(queues, part_rows), strict=True):
        queue["part"] = part
    return lines, components, flags, queues


def _flag_rows(flags: list[dict[str, Any]], summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each flag with its rule's description, rationale, citation, confidence and note from the run's catalogue
    (a run written before the catalogue held notes: none)."""
    catalogue = summary.get("risk", {}).get("rule_catalogue", {})
    return [
        {
            **row,
            **{
                k: catalogue.get(row["rule_id"], {}).get(k)
                for k in ("description", "rationale", "citation", "confidence", "note")
            },
        }
        for row in flags
    ]


def _part(
    folder: Path,
    summary: dict[str, Any],
    number: int,
    package: dict[str, Any],
    parts: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    components: list[dict[str, Any]],
    queues: list[dict[str, Any]],
) -> dict[str, Any]:
    """One part of the package (the package itself when it has one): its ``packages`` row, decision, entry
    (``open``: why its entry type is open, informal or formal, as its fee components say; ``assumed``: why mail
    was entered formal, or a gift informal, by a choice the pack does not settle, as its components say;
    ``barred``: why mail under a postal regime was entered through ACE, as its fee components say;
    ``unknown_fee``: its first fee without an amount; else None; the decision's ``open``: why its de minimis
    eligibility is left to a longer code, else None),
    consignee-day and queue rows."""
    rule_id = package.get("de_minimis_rule_id")
    # A run written before packages named their entry rule has none.
    entry_rule_id = package.get("entry_rule_id")
    gift_rule = _gift_rule(summary, package)
    gift_limits = _gift_limits(gift_rule[1] if gift_rule else None, lines)
    return {
        "part": number,
        "of": len(parts),
        "line_nos": [line["line_no"] for line in lines],
        "package": package,
        "decision": {
            "eligible": package.get("de_minimis_eligible"),
            "reason": package.get("de_minimis_reason"),
            "rule_id": rule_id,
            "citation": summary.get("decision_rules", {}).get(rule_id) if rule_id else None,
            "details": summary.get("decision_rule_details", {}).get(rule_id) if rule_id else None,
            "gift_limits": gift_limits,
            "gift": _gift_exemption(summary, package, gift_rule, gift_limits, lines),
            "open": _eligibility_open(components),
            "after_facts": _after_facts(summary, package),
            # The package's consignee-day value is the running total up to it (a run in batches).
            "running_total": in_batches(summary),
        },
        "entry": {
            "type": package.get("entry_type"),
            "rule_id": entry_rule_id,
            "citation": summary.get("decision_rules", {}).get(entry_rule_id) if entry_rule_id else None,
            "details": summary.get("decision_rule_details", {}).get(entry_rule_id) if entry_rule_id else None,
            "open": _entry_open(components),
            "assumed": _entry_assumed(components),
            "barred": _entry_barred(components),
            "unknown_fee": _unknown_fee(components),
        },
        "consignee_day": _consignee_day(folder, summary, package, _occurrence(parts, number), lines),
        "queues": [q for q in queues if q["part"] == number],
    }


def _after_facts(summary: dict[str, Any], package: dict[str, Any]) -> dict[str, Any] | None:
    """The pack's ``facts_as_of`` and the days after it the package arrived, for one decided by the law as known
    then (:data:`~screening.result.AFTER_FACTS`, as the run's note says); None for one of that day or before, or
    where the run's summary names no such day."""
    as_of = summary.get("rules", {}).get("facts_as_of")
    arrived = package.get("arrival_date")
    if not as_of or not arrived:
        return None
    days = (dt.date.fromisoformat(str(arrived)) - dt.date.fromisoformat(as_of)).days
    return {"facts_as_of": as_of, "days_after": days} if days > 0 else None


def _entry_open(components: list[dict[str, Any]]) -> str | None:
    """Why the entry type is open (informal or formal), as the part's fee components begin their assumption
    (None when it is not)."""
    for component in components:
        note = component.get("assumption") or ""
        if component["line_no"] is None and note.startswith(OPEN_NOTE_START) and OPEN_NOTE_END in note:
            return note.removeprefix(OPEN_NOTE_START).split(OPEN_NOTE_END)[0]
    return None


def _eligibility_open(components: list[dict[str, Any]]) -> str | None:
    """Why the package's de minimis eligibility is open (a line's code that a never-eligible class covers in
    part), as its components' assumption says it: None when it is not."""
    for component in components:
        note = component.get("assumption") or ""
        if ELIGIBILITY_OPEN_NOTE_START in note:
            return note.split(ELIGIBILITY_OPEN_NOTE_START, 1)[1].split("; ", 1)[0]
    return None


def _unknown_fee(components: list[dict[str, Any]]) -> str | None:
    """The first of the part's fee components without an amount (``postal_entry_fees
    [postal-informal-entry-fees]``), whose assumption says why: None when each has one."""
    for component in components:
        fee = component["line_no"] is None and component["component"] in _FEE_COMPONENTS
        if fee and component.get("amount_usd") is None:
            return f"{component['component']} [{component['measure_id']}]"
    return None


def _entry_assumed(components: list[dict[str, Any]]) -> str | None:
    """Why mail was entered formal, or a gift informal, by a choice the pack does not settle, as the part's
    components say it (a line's duty ends its assumption with the note; a fee's may go on after it): None when
    it was not. A gift's note is given whole (``informal entry of a gift: ...``)."""
    on_lines = [c for c in components if c["line_no"] is not None]
    for component in [*on_lines, *(c for c in components if c["line_no"] is None)]:
        note = component.get("assumption") or ""
        if FORMAL_MAIL_NOTE_START in note:
            return note.split(FORMAL_MAIL_NOTE_START, 1)[1]
        if GIFT_ENTRY_NOTE_START in note:
            return note[note.index(GIFT_ENTRY_NOTE_START) :]
    return None


def _entry_barred(components: list[dict[str, Any]]) -> str | None:
    """Why mail a postal regime was in force for was entered through ACE (its barred line and class), as the
    part's fee components say it: None when it was not."""
    for component in components:
        note = component.get("assumption") or ""
        if component["line_no"] is None and POSTAL_BARRED_NOTE_START in note:
            return note.split(POSTAL_BARRED_NOTE_START, 1)[1].split("; ", 1)[0]
    return None


def _occurrence(parts: list[dict[str, Any]], number: int) -> int:
    """Which of the package's rows of its consignee and day part ``number`` is (1 up), in output order."""
    day = [(p.get("consignee_key"), p.get("arrival_date")) for p in parts]
    return day[:number].count(day[number - 1])


def _line_parts(parts: list[dict[str, Any]], lines: list[dict[str, Any]]) -> dict[int, int]:
    """The part of each line number: part ``n`` holds the ``n``-th run of the package's lines, as many as its
    ``packages`` row counts (a batch's rows are written before the next batch's)."""
    ends, total = [], 0
    for part in parts:
        total += part["lines"] or 0
        ends.append(total)
    return {
        line["line_no"]: next((n for n, end in enumerate(ends, start=1) if index < end), len(parts))
        for index, line in enumerate(lines)
    }


def _component_parts(
    components: list[dict[str, Any]],
    line_part: dict[int, int],
    parts: list[dict[str, Any]],
    per_item: set[int],
) -> list[int]:
    """The part of each component, in the order of the components output.

    A line's component is in its line's part. A part's package-level components (fees, a postal duty on the
    item) follow its line components, in order of (component, measure id, rate): a run of them belongs to the
    part whose line components it follows, when that part has package-level components at all (fees are due,
    or a postal duty on the item); else, and for a run that follows another, to the next part that has them
    and no line components.
    """
    if len(parts) == 1:
        return [1] * len(components)
    with_lines = {line_part.get(c["line_no"]) for c in components if c["line_no"] is not None}
    charged = {
        n for n, part in enumerate(parts, start=1) if part.get("fee_status") not in _NO_FEES or n in per_item
    }
    assigned: list[int] = []
    latest, owner, after_line = 0, 0, False
    last_key: tuple[str, str, Decimal] | None = None
    for component in components:
        if component["line_no"] is not None:
            owner = line_part.get(component["line_no"], max(latest, 1))
            latest, after_line, last_key = max(latest, owner), True, None
            assigned.append(owner)
            continue
        # An item's postal duty has a row per rate of its lines' origins, in rate order (no rate: last).
        rate = money_or_none(component["rate"])
        key = (
            str(component["component"]),
            str(component["measure_id"]),
            rate if rate is not None else Decimal("Infinity"),
        )
        if last_key is None or key <= last_key:  # a new run of package-level components
            if not (after_line and owner in charged):
                later = [n for n in sorted(charged - with_lines) if n > latest]
                owner = later[0] if later else max(latest, 1)
            latest = max(latest, owner)
        after_line, last_key = False, key
        assigned.append(owner)
    return assigned


def _flag_parts(
    flags: list[dict[str, Any]], line_part: dict[int, int], parts: list[dict[str, Any]]
) -> list[int]:
    """The part of each flag: that of its lines; a flag on no line, the first part whose ``risk_flags`` name
    its rule and that has no flag of the rule yet."""
    taken: set[tuple[int, str]] = set()
    assigned = []
    for flag in flags:
        on_lines = [line_part[n] for n in flag.get("line_nos") or [] if n in line_part]
        part = (
            on_lines[0]
            if on_lines
            else next(
                (
                    n
                    for n, row in enumerate(parts, start=1)
                    if flag["rule_id"] in (row.get("risk_flags") or []) and (n, flag["rule_id"]) not in taken
                ),
                1,
            )
        )
        taken.add((part, flag["rule_id"]))
        assigned.append(part)
    return assigned


def _queue_parts(queues: list[dict[str, Any]], parts: list[dict[str, Any]]) -> list[int]:
    """The part each queue row ranks: the one whose ``packages`` row has the row's queue, port, day and rank
    (ranks restart per queue, port and day), each part taking one row; a row matching no part goes to part 1."""
    keys = ("queue", "port_of_entry", "arrival_date", "queue_rank")
    waiting = {n: tuple(part.get(k) for k in keys) for n, part in enumerate(parts, start=1)}
    assigned = []
    for queue in queues:
        key = tuple(queue.get(k) for k in keys)
        part = next((n for n, own in waiting.items() if own == key), 1)
        waiting.pop(part, None)
        assigned.append(part)
    return assigned


def _reject_part(reject: dict[str, Any], line_part: dict[int, int]) -> int | None:
    """The part of the screened line a rejected line repeats (its line number), if any."""
    number = str(reject.get("line_no") or "").strip()
    return line_part.get(int(number)) if number.isdigit() else None


def _gift_rule(summary: dict[str, Any], package: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The gift rule in force on the package's arrival date and its details, from the run's summary (which lists
    the gift rules in force on the run's dates; one written before it did: the package's own rule, if a gift's)."""
    details: dict[str, dict[str, Any]] = summary.get("decision_rule_details", {})
    own = package.get("de_minimis_rule_id")
    if own and "limit_usd" in details.get(own, {}):
        return own, details[own]
    day, never = str(package.get("arrival_date")), "9999-12-31"
    return next(
        (
            (rule_id, rule)
            for rule_id, rule in details.items()
            if "limit_usd" in rule
            and str(rule.get("effective_from", never)) <= day < str(rule.get("effective_to") or never)
        ),
        None,
    )


def _gift_limits(details: dict[str, Any] | None, lines: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Under a gift rule, each gift line's limit: that of the country it is sent from (``country_of_export``,
    else ``shipper_country``) where the rule names one, else the rule's general limit."""
    if not details or "limit_usd" not in details:
        return None
    by_sender = details.get("sender_limits") or {}
    limits = []
    for line in lines:
        if line.get("gift") is not True:
            continue
        sender = line.get("country_of_export") or line.get("shipper_country")
        limits.append(
            {
                "line_no": line["line_no"],
                "sent_from": sender,
                "limit_usd": by_sender.get(sender, details["limit_usd"]),
            }
        )
    return limits


def _gift_exemption(
    summary: dict[str, Any],
    package: dict[str, Any],
    rule: tuple[str, dict[str, Any]] | None,
    limits: list[dict[str, Any]] | None,
    lines: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """For a part with gift lines: whether the gift exemption applied, on what consignee-day gift value, and why
    not. A gift line passes when the consignee's gifts that day are worth no more than its limit and its goods
    are not never-eligible; the package takes the most severe reason among its lines."""
    gifts = [line for line in lines if line.get("gift") is True]
    if not gifts:
        return None
    applied = package.get("de_minimis_reason") == str(ReasonCode.GIFT_EXEMPT)
    # Gift lines duty-free in a package that is not (a purchase beside them): exempt from its duty.
    on_lines = package.get("de_minimis_eligible") in (False, "false") and any(
        g.get("duty_status") == str(DutyStatus.EXEMPT) for g in gifts
    )
    # A run written before lines carried the gift value has none.
    value = money_or_none(gifts[0].get("consignee_day_gift_value_usd"))
    shown = f"{value:.2f}" if value is not None else None
    if rule is None or not limits:
        why = f"no gift rule in force on {package.get('arrival_date')} in the run's summary"
    elif value is None:
        why = "this run's lines do not carry the consignee-day gift value (written before they did)"
    else:
        day = "that day up to this package" if in_batches(summary) else "that day"
        worth = f"the consignee's gifts {day} are worth ${shown}"
        over = [g for g in limits if value > (money_or_none(g["limit_usd"]) or Decimal(0))]
        within = [g for g in limits if g not in over]
        if over and not applied:
            why = f"{worth}, over the {_limit_text(over)}"
        elif applied:
            why = f"{worth}, within the {_limit_text(within)}"
        elif on_lines:
            why = (
                f"{worth}, within the {_limit_text(within)}: its gift lines pass free of duty, while the package"
                f" takes the most severe reason among its other lines ({package.get('de_minimis_reason')}), and"
                " its entry and fees with it"
            )
        else:
            why = (
                f"{worth}, within the {_limit_text(within)}, but the package takes the most severe reason among"
                f" its lines ({package.get('de_minimis_reason')}): goods never eligible (or whose declared code"
                " leaves that open) do not pass as gifts"
            )
    return {
        "rule_id": rule[0] if rule else None,
        "applied": applied or on_lines,
        "consignee_day_gift_value_usd": shown,
        "why": why,
    }


def _limit_text(limits: list[dict[str, Any]]) -> str:
    """``$100.00 limit``, or the limits of several gift lines that differ, each with its line."""
    distinct = sorted({str(g["limit_usd"]) for g in limits})
    if len(distinct) == 1:
        return f"${distinct[0]} limit"
    return "limits " + ", ".join(f"${g['limit_usd']} (line {g['line_no']})" for g in limits)


def _fx_source(summary: dict[str, Any]) -> dict[str, Any]:
    """Where the run's exchange rates come from, as its summary says (a run written before the summary carried
    the citation has none)."""
    rules = summary.get("rules", {})
    return {
        "citation": rules.get("fx_citation"),
        "confidence": rules.get("fx_confidence"),
        "official": rules.get("fx_official"),
        "note": rules.get("fx_note"),
    }


def money_or_none(text: object) -> Decimal | None:
    """A money text of the outputs as a Decimal (None for a blank or unreadable one)."""
    try:
        return Decimal(str(text)) if text is not None else None
    except InvalidOperation:
        return None


def _consignee_day(
    folder: Path,
    summary: dict[str, Any],
    package: dict[str, Any],
    occurrence: int,
    lines: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """How the consignee-day value of a part came about, when it is not the part's own value (in a run in batches,
    also when other packages of the key and day are in the outputs): the key, what it stands for, and the other
    packages of that consignee and day counted in it (read from ``packages``).

    A whole-day run judges every package of the day on the day's total. A run in batches judges each package
    (each part) on the running total as it comes (``running_total``), so the rows counted are those whose own
    total is not above this one's (a running total only grows); what they do not add up to came from packages
    screened before this run, into its ``--state``; ``day_value_usd_in_outputs`` is the largest running total of
    that consignee-day in the run's outputs (what the day came to by its last package there).
    """
    total, own = (
        money_or_none(package.get("consignee_day_value_usd")),
        money_or_none(package.get("value_usd")),
    )
    key, day = package.get("consignee_key"), package.get("arrival_date")
    running = in_batches(summary)
    # A whole-day total that is the package's own value says nothing more; a running one may, where the day's
    # later packages are in the outputs (the first package of a day is judged on its value alone).
    if total is None or own is None or (total == own and not running) or key is None or day is None:
        return None
    rows = _rows(
        _read(folder, "packages", consignee_key=key, arrival_date=day).select(
            "package_id", "value_usd", "consignee_day_value_usd"
        )
    )
    mine = [i for i, row in enumerate(rows) if row["package_id"] == package["package_id"]]
    own_row = mine[occurrence - 1] if len(mine) >= occurrence else None
    if total == own and len(rows) == (0 if own_row is None else 1):
        return None
    others = [
        {
            "package_id": row["package_id"],
            "value_usd": row["value_usd"],
            "same_package": row["package_id"] == package["package_id"],
        }
        for i, row in enumerate(rows)
        if i != own_row and (money_or_none(row["consignee_day_value_usd"]) or Decimal(0)) <= total
    ]
    added = sum((money_or_none(o["value_usd"]) or Decimal(0) for o in others), Decimal(0))
    options = summary.get("options", {})
    reached = max(
        (money_or_none(row["consignee_day_value_usd"]) or Decimal(0) for row in rows), default=total
    )
    return {
        "consignee_key": key,
        "key_formed_from": _key_formed(str(key)),
        "key_reading": KEY_READING,
        "arrival_date": day,
        "value_usd": f"{total:.2f}",
        "running_total": running,
        "day_value_usd_in_outputs": f"{max(reached, total):.2f}" if running else None,
        "own_value_usd": f"{own:.2f}",
        "packages": lines[0].get("consignee_day_packages") if lines else None,
        "others": others[:OTHERS_SHOWN],
        "others_count": len(others),
        "others_value_usd": f"{added:.2f}",
        "outside_outputs_usd": f"{total - own - added:.2f}" if own + added != total else None,
        "history_sources": int(options.get("history_sources") or 0),
    }


def in_batches(summary: dict[str, Any]) -> bool:
    """Whether the run was screened in batches (``--batch-size``, a :class:`~screening.Screener`): each package
    judged on the running totals up to itself, not on the day's."""
    return bool(summary.get("options", {}).get("batches"))


def _key_formed(key: str) -> str:
    """How a consignee key was formed (``id:…``, ``name:…|ZIP``, ``package:…``, or a pseudonym ``p:…``)."""
    if key.startswith("id:"):
        return (
            f"the consignee id {key[3:]!r} (its letters and digits in capitals: case, blanks and punctuation "
            "do not make another person)"
        )
    if key.startswith("name:"):
        name, _, zip_code = key[5:].rpartition("|")
        where = f"ZIP {zip_code}" if zip_code else "no ZIP"
        if not name:
            return (
                "no consignee id given, and a consignee name that names no one (punctuation only, or a word for "
                f"none such as 'nan' or 'N/A'): every such package at {where} is one consignee"
            )
        return f"no consignee id given: the consignee name normalised to {name!r} plus {where}"
    if key.startswith("package:"):
        return (
            "no consignee id given, a consignee name that names no one (punctuation only, or a word for none "
            "such as 'nan' or 'NULL') and no ZIP: the package is a consignee of its own"
        )
    if key.startswith("p:"):
        return (
            "a pseudonym of the key (a pseudonymised run): the consignee id, else the normalised name plus ZIP "
            "(a name that names no one as the empty name), else, with no name and no ZIP, the package id"
        )
    return f"the key {key!r}"


#: Components of a specific amount charged on the line's ``quantity`` or ``gross_weight_kg``.
_SPECIFIC_COMPONENTS: Final = ("mfn_specific", "mfn_specific_2")
#: Units of specific amounts by (line number, program, component), each with its amount per unit: what
#: :func:`_specific_units` reads from the run's rule pack; where that pack is not at hand, why, as the hint
#: ends (``, not given: --rules``, ``; PATH (--rules) is not the run's pack: …``).
Units = dict[tuple[int, str, str], list[tuple[Decimal, str]]] | str


def _has_specific(components: list[dict[str, Any]]) -> bool:
    return any(c["component"] in _SPECIFIC_COMPONENTS and c["rate"] is not None for c in components)


def _check_pack_given(root: Path) -> None:
    """Refuse a rule pack folder given (``--rules``) that is not one: silently unread, its hint said "not given"."""
    if (shown := non_utf8_name(root)) is not None:
        raise UsageError(f"{shown}: the rule pack's path (--rules) is not UTF-8 text: rename the folder")
    if not (root / "pack.toml").is_file():
        missing = "not found" if not root.is_dir() else "it has no pack.toml"
        raise UsageError(
            f"{root}: --rules is not a rule pack folder ({missing}): give the folder of the rule pack the run "
            f"used, or leave --rules out (default {DEFAULT_PACK})"
        )


def _specific_units(rules: str | Path | None, summary: dict[str, Any], lines: pl.DataFrame) -> Units:
    """The units of the specific amounts of the lines' tariff lines in force on their arrival dates, from the
    tariff table of the pack ``rules`` (``None``: the default, where it is at hand) when it is the run's (its
    content hash the one ``summary`` names), else why not: a unit is never taken from another pack."""
    root = pack_folder(rules if rules is not None else DEFAULT_PACK)
    if non_utf8_name(root) is not None or not (root / "pack.toml").is_file():
        return ", not given: --rules"
    run_hash = str(summary.get("rules", {}).get("content_hash"))
    try:
        if (pack_hash := content_hash(root)) != run_hash:
            return (
                f"; {root} (--rules) is not the run's pack: its hash {pack_hash[:15]}… is not the run's"
                f" {run_hash[:15]}…"
            )
        table = read_mfn_table(root, read_toml(root, "tariff.toml")["mfn"]["file"])
    except (RulePackError, OSError, KeyError, TypeError, pl.exceptions.PolarsError) as error:
        return f"; --rules {root}: its tariff table could not be read ({type(error).__name__})"
    units: dict[tuple[int, str, str], list[tuple[Decimal, str]]] = {}
    wanted = [c for c in ("line_no", "arrival_date", "tariff_line") if c in lines.columns]
    for line in lines.select(wanted).to_dicts() if len(wanted) == 3 else []:
        if line["tariff_line"] is None:
            continue
        day = dt.date.fromisoformat(str(line["arrival_date"]))
        in_force = table.filter(
            pl.col("hts") == line["tariff_line"],
            pl.col("effective_from") <= day,
            pl.col("effective_to").is_null() | (pl.col("effective_to") > day),
        )
        for row in in_force.to_dicts():
            for program, prefix in (("mfn", ""), ("usmca", "usmca_")):
                for component, amount, unit in _rate_units(row, prefix):
                    units.setdefault((line["line_no"], program, component), []).append((amount, unit))
    return units


def _rate_units(row: dict[str, Any], prefix: str) -> list[tuple[str, Decimal, str]]:
    """The specific amounts of one tariff line's rate (general, or USMCA with ``prefix`` ``usmca_``): component,
    amount per unit and unit."""
    if row[f"{prefix}status"] == "needs-part-values" and row[f"{prefix}parts"] is not None:
        return [
            ("mfn_specific", c.amount, c.base)
            for c in part_components(row[f"{prefix}parts"])
            if c.source in ("quantity", "weight")
        ]
    pairs = (("mfn_specific", "specific"), ("mfn_specific_2", "specific2"))
    return [
        (component, row[f"{prefix}{rate}_usd"], row[f"{prefix}{rate}_unit"])
        for component, rate in pairs
        if row[f"{prefix}{rate}_usd"] is not None and row[f"{prefix}{rate}_unit"] is not None
    ]


def _how(
    component: dict[str, Any], lines: dict[int, dict[str, Any]], units: Units
) -> tuple[str | None, str | None]:
    """How a component's amount came about (``base x rate``, a specific rate on the line's quantity or weight),
    and the amount before rounding to the cent where that differs from the amount charged."""
    name, base, rate = component["component"], component["base_usd"], component["rate"]
    part_name = name.removeprefix("mfn_part_") if name.startswith("mfn_part_") else None
    if part_name is not None and part_name not in _VALUE_PARTS and rate is not None:
        return f"${rate} per {_count_text(part_name)}", None
    if base is not None and rate is not None:
        equation = f"base ${base} x rate {rate}"
        bound = _fee_bound(component)
        return (f"{bound[0]} ({equation} = ${bound[1]})" if bound is not None else equation), None
    if rate is not None and name in _SPECIFIC_COMPONENTS and component["line_no"] in lines:
        found = _specific_how(component, lines[component["line_no"]], units)
        if found is not None:
            return found
    if rate is not None:  # a specific rate: dollars per unit of the line's quantity or weight
        unknown = f"; the unit is in the run's rule pack{units}" if isinstance(units, str) else ""
        return (
            f"${rate} per unit of the tariff line's rate (its quantity, or gross kg for a rate per kg{unknown})",
            None,
        )
    if name == "postal_specific":
        return "per postal item", None
    return None, None  # a flat fee, or an amount the pack does not give


def _specific_how(
    component: dict[str, Any], line: dict[str, Any], units: Units
) -> tuple[str, str | None] | None:
    """A specific amount as charged: ``5 (quantity) / 144 per gross x $0.144`` (``2.5 kg (gross_weight_kg) x
    $0.207``), with the product before rounding (``$0.005``) where the amount charged differs from it; ``None``
    where the unit is not known (another pack, or none) or the line's quantity or weight is not given."""
    if isinstance(units, str):
        return None
    rate = Decimal(component["rate"])
    key = (component["line_no"], component["measure_id"], component["component"])
    found = {unit for amount, unit in units.get(key, []) if amount == rate}
    if len(found) != 1:
        return None
    (unit,) = found
    column = "gross_weight_kg" if unit == "kg" else "quantity"
    given = line.get(column)
    quantity = _quantity_charged(line, unit)
    if given is None or quantity is None:
        return None
    # The engine charges the quantity at its scale (6 decimals): say so where that changed the figure given.
    written = Decimal(repr(given))
    source = column if written == quantity else f"{column} {_plain(written)}, to {quantity_scale()} decimals"
    per = UNIT_DIVISORS.get(unit, 1)
    if unit == "kg":
        how = f"{_plain(quantity)} kg ({source}) x ${_plain(rate)}"
    elif per > 1:
        how = f"{_plain(quantity)} ({source}) / {per} per {unit} x ${_plain(rate)}"
    else:
        how = f"{_plain(quantity)} {unit} ({source}) x ${_plain(rate)}"
    product = quantity * rate / per
    amount = component["amount_usd"]
    if amount is None or product == Decimal(amount):
        return how, None
    shown = product.quantize(Decimal("1e-8"))
    return how, f"${_plain(shown)}" + ("" if shown == product else "…")


def _quantity_charged(line: dict[str, Any], unit: str) -> Decimal | None:
    """The quantity (gross weight for kg) a specific amount in ``unit`` was charged on: the line's, read by the
    engine's own expression (:func:`~screening.stages.assess.quantity_in`: its decimal scale and rounding), null
    where not given or not above 0."""
    values = {name: [line.get(name)] for name in ("quantity", "gross_weight_kg")}
    frame = pl.DataFrame(values, schema=dict.fromkeys(values, pl.Float64()))
    charged, _ = quantity_in(pl.lit(unit))
    value = frame.select(charged).item()
    return value if isinstance(value, Decimal) else None


def _plain(number: Decimal) -> str:
    """``Decimal('0.14400000')`` → ``'0.144'``, ``Decimal('1500.0')`` → ``'1500'``."""
    return f"{number.normalize():f}"


def _fee_bound(component: dict[str, Any]) -> tuple[str, Decimal] | None:
    """For a fee charged at its minimum or maximum (its amount is not base x rate): which, and the product
    (half up to the cent, as the fee is computed)."""
    if component["component"] not in _FEE_COMPONENTS:
        return None
    base, rate, amount = (money_or_none(component[c]) for c in ("base_usd", "rate", "amount_usd"))
    if base is None or rate is None or amount is None:
        return None
    product = (base * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount == product:
        return None
    return ("minimum" if amount > product else "maximum"), product


def _count_text(part_name: str) -> str:
    """What a part-value rate's specific amount is charged per: a count the filer gives in ``part_values``."""
    if part_name == "jewel":
        return "jewel (count from part_values, less 7 where the rate says over 7, times quantity)"
    return f"{part_name} (count from part_values)"
