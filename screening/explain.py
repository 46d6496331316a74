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
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

import polars as pl

from screening.errors import DutyStatus, InputSchemaError, UsageError
from screening.io.writers import FORMULA_START_CHARS
from screening.path_names import non_utf8_name
from screening.pipeline import read_error
from screening.rulepack.rates import PARTS

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
#: A cell the CSV writer prefixed with ``'`` because it starts like a spreadsheet formula (after any ``'``).
_NEUTRALISED = rf"^'+{FORMULA_START_CHARS}"
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
    text = text.rename({c: c[1:] for c in text.columns if re.match(_NEUTRALISED, c)})
    text = text.with_columns(
        pl.when(pl.col(c).str.contains(_NEUTRALISED))
        .then(pl.col(c).str.slice(1))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text.columns
    )
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


def explain_package(run: str | Path, package_id: str) -> dict[str, Any]:
    """Everything the run decided about ``package_id``, with reasons, measures and citations.

    ``parts`` holds one entry per ``packages`` row of the package (several for a package whose lines came in
    several batches), each with its decision, entry, consignee-day and queues; every line, component, flag and
    queue row names its ``part`` (1 up). The top-level ``package``, ``decision`` and ``entry`` are the first
    part's (the whole package's when it has one part), ``queue`` the package's first queue row.

    Raises:
        UsageError: the folder is not a run output, its path is not UTF-8 text (the output readers take text
            paths), or the package is not in it (rejected rows are listed when the package id appears among
            the rejects).
    """
    folder = Path(run)
    if (shown := non_utf8_name(folder)) is not None:
        raise UsageError(f"{shown}: the run folder's path (--run) is not UTF-8 text: rename the folder")
    if not folder.is_dir():
        raise UsageError(f"{folder}: run folder not found")
    summary = _summary(folder)
    packages = _read(folder, "packages", package_id=package_id)
    rejects = _read(folder, "rejects", package_id=package_id).drop("raw", strict=False)
    if packages.height == 0:
        if rejects.height:
            return {"package_id": package_id, "rejected": _rows(rejects)}
        raise UsageError(f"package {package_id!r} is not in {folder}")
    part_rows = _rows(packages)
    lines, components, flags, queues = _by_part(folder, summary, package_id, part_rows)
    line_part = {line["line_no"]: line["part"] for line in lines}
    rejected_lines = _rows(rejects)
    for reject in rejected_lines:
        reject["part"] = _reject_part(reject, line_part)
    parts = [
        _part(folder, summary, n, row, part_rows, [line for line in lines if line["part"] == n], queues)
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
    folder: Path, summary: dict[str, Any], package_id: str, part_rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], ...]:
    """The package's lines, components, flags and queue rows, each naming its ``part``."""
    lines_frame = _read(folder, "lines", package_id=package_id)
    lines = _rows(lines_frame.select(c for c in _LINE_COLUMNS if c in lines_frame.columns))
    line_part = _line_parts(part_rows, lines)
    for line in lines:
        line["part"] = line_part[line["line_no"]]
    components = _rows(_read(folder, "components", package_id=package_id))
    per_item = {line["part"] for line in lines if line["duty_status"] == str(DutyStatus.CHARGED_PER_ITEM)}
    for component, part in zip(
        components, _component_parts(components, line_part, part_rows, per_item), strict=True
    ):
        component["part"] = part
        component["how"] = _how(component)
    flags = _flag_rows(_rows(_read(folder, "flags", package_id=package_id)), summary)
    for flag, part in zip(flags, _flag_parts(flags, line_part, part_rows), strict=True):
        flag["part"] = part
    queues = _rows(_read(folder, "queues", package_id=package_id))
    for queue in queues:
        queue["part"] = _queue_part(queue, part_rows)
    return lines, components, flags, queues


def _flag_rows(flags: list[dict[str, Any]], summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Each flag with its rule's description, rationale, citation and confidence from the run's catalogue."""
    catalogue = summary.get("risk", {}).get("rule_catalogue", {})
    return [
        {
            **row,
            **{
                k: catalogue.get(row["rule_id"], {}).get(k)
                for k in ("description", "rationale", "citation", "confidence")
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
    queues: list[dict[str, Any]],
) -> dict[str, Any]:
    """One part of the package (the package itself when it has one): its ``packages`` row, decision, entry,
    consignee-day and queue rows."""
    rule_id = package.get("de_minimis_rule_id")
    # A run written before packages named their entry rule has none.
    entry_rule_id = package.get("entry_rule_id")
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
            "gift_limits": _gift_limits(summary, rule_id, lines),
        },
        "entry": {
            "type": package.get("entry_type"),
            "rule_id": entry_rule_id,
            "citation": summary.get("decision_rules", {}).get(entry_rule_id) if entry_rule_id else None,
            "details": summary.get("decision_rule_details", {}).get(entry_rule_id) if entry_rule_id else None,
        },
        "consignee_day": _consignee_day(folder, summary, package, _occurrence(parts, number), lines),
        "queues": [q for q in queues if q["part"] == number],
    }


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

    A line's component is in its line's part. A part's package-level components (fees, a postal duty per item)
    follow its line components, in order of (component, measure id): a run of them belongs to the part whose
    line components it follows, when that part has package-level components at all (fees are due, or a duty
    per postal item); else, and for a run that follows another, to the next part that has them and no line
    components.
    """
    if len(parts) == 1:
        return [1] * len(components)
    with_lines = {line_part.get(c["line_no"]) for c in components if c["line_no"] is not None}
    charged = {
        n for n, part in enumerate(parts, start=1) if part.get("fee_status") not in _NO_FEES or n in per_item
    }
    assigned: list[int] = []
    latest, owner, after_line = 0, 0, False
    last_key: tuple[str, str] | None = None
    for component in components:
        if component["line_no"] is not None:
            owner = line_part.get(component["line_no"], max(latest, 1))
            latest, after_line, last_key = max(latest, owner), True, None
            assigned.append(owner)
            continue
        key = (str(component["component"]), str(component["measure_id"]))
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


def _queue_part(queue: dict[str, Any], parts: list[dict[str, Any]]) -> int:
    """The part a queue row ranks: the one with that queue and rank."""
    return next(
        (
            n
            for n, part in enumerate(parts, start=1)
            if (part.get("queue"), part.get("queue_rank")) == (queue["queue"], queue["queue_rank"])
        ),
        1,
    )


def _reject_part(reject: dict[str, Any], line_part: dict[int, int]) -> int | None:
    """The part of the screened line a rejected line repeats (its line number), if any."""
    number = str(reject.get("line_no") or "").strip()
    return line_part.get(int(number)) if number.isdigit() else None


def _gift_limits(
    summary: dict[str, Any], rule_id: str | None, lines: list[dict[str, Any]]
) -> list[dict[str, Any]] | None:
    """Under a gift rule, each gift line's limit: that of the country it is sent from (``country_of_export``,
    else ``shipper_country``) where the rule names one, else the rule's general limit."""
    details = summary.get("decision_rule_details", {}).get(rule_id) if rule_id else None
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


def _money(text: object) -> Decimal | None:
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
    """How the consignee-day value of a part came about, when it is not the part's own value: the key, what it
    stands for, and the other packages of that consignee and day counted in it (read from ``packages``).

    A whole-day run judges every package of the day on the day's total. A run in batches judges each package
    (each part) on the running total as it comes, so the rows counted are those whose own total is not above
    this one's (a running total only grows); what they do not add up to came from packages screened before
    this run, into its ``--state``.
    """
    total, own = _money(package.get("consignee_day_value_usd")), _money(package.get("value_usd"))
    key, day = package.get("consignee_key"), package.get("arrival_date")
    if total is None or own is None or total == own or key is None or day is None:
        return None
    rows = _rows(
        _read(folder, "packages", consignee_key=key, arrival_date=day).select(
            "package_id", "value_usd", "consignee_day_value_usd"
        )
    )
    mine = [i for i, row in enumerate(rows) if row["package_id"] == package["package_id"]]
    own_row = mine[occurrence - 1] if len(mine) >= occurrence else None
    others = [
        {
            "package_id": row["package_id"],
            "value_usd": row["value_usd"],
            "same_package": row["package_id"] == package["package_id"],
        }
        for i, row in enumerate(rows)
        if i != own_row and (_money(row["consignee_day_value_usd"]) or Decimal(0)) <= total
    ]
    added = sum((_money(o["value_usd"]) or Decimal(0) for o in others), Decimal(0))
    options = summary.get("options", {})
    return {
        "consignee_key": key,
        "key_formed_from": _key_formed(str(key)),
        "key_reading": KEY_READING,
        "arrival_date": day,
        "value_usd": f"{total:.2f}",
        "own_value_usd": f"{own:.2f}",
        "packages": lines[0].get("consignee_day_packages") if lines else None,
        "others": others[:OTHERS_SHOWN],
        "others_count": len(others),
        "others_value_usd": f"{added:.2f}",
        "outside_outputs_usd": f"{total - own - added:.2f}" if own + added != total else None,
        "history_sources": int(options.get("history_sources") or 0),
    }


def _key_formed(key: str) -> str:
    """How a consignee key was formed (``id:…``, ``name:…|ZIP``, or a pseudonym ``p:…``)."""
    if key.startswith("id:"):
        return f"the consignee id {key[3:]!r}, as the filer gave it"
    if key.startswith("name:"):
        name, _, zip_code = key[5:].rpartition("|")
        where = f"ZIP {zip_code}" if zip_code else "no ZIP"
        return f"no consignee id given: the consignee name normalised to {name!r} plus {where}"
    if key.startswith("p:"):
        return "a pseudonym of the key (a pseudonymised run): the consignee id, else the normalised name plus ZIP"
    return f"the key {key!r}"


def render_text(explained: dict[str, Any]) -> str:
    """The explanation as plain text for an officer."""
    if "rejected" in explained:
        lines = [f"Package {explained['package_id']}: rejected, not screened"]
        lines += [
            f"  {r['source']} row {r['row']}, field {r['field']}: {r['code']}: {r['message']}"
            for r in explained["rejected"]
        ]
        return "\n".join(lines)
    parts = explained["parts"]
    p = parts[0]["package"]
    count = len(explained["lines"])
    out = [
        f"Package {p['package_id']}  arrived {p['arrival_date']} by {p['mode']}"
        f" at port {p.get('port_of_entry') or '(none)'}; origin {p['country_of_origin']}; {count} line(s)"
        + (f" in {len(parts)} parts" if len(parts) > 1 else ""),
        "",
        *_parts_note(parts),
    ]
    for part in parts:
        out += _render_part(explained, part)
    unplaced = [r for r in explained.get("rejected_lines", []) if r.get("part") is None]
    if unplaced:
        out += ["REJECTED LINES", *(_reject_line(r) for r in unplaced), ""]
    out += _note_lines(parts)
    out += _fx_lines(explained)
    out.append(f"rule pack {explained['rules']['id']} {explained['rules']['content_hash']}")
    return "\n".join(out)


def _parts_note(parts: list[dict[str, Any]]) -> list[str]:
    """For a package screened in parts: what that means, and each part's figures at a glance."""
    if len(parts) < 2:
        return []
    out = [
        f"  NOTE: screened in {len(parts)} parts (its lines came in several batches of a run in batches); each"
        " part is its own entry, decided, charged and routed on its own, and is explained below in turn:"
    ]
    for part in parts:
        row = part["package"]
        total = row["total_due_usd"] if row["total_due_usd"] is not None else "(unknown)"
        out.append(
            f"    part {part['part']} of {part['of']} ({_line_list(part['line_nos'])}): value ${row['value_usd']},"
            f" consignee-day value ${row['consignee_day_value_usd']}, {row['de_minimis_reason']},"
            f" {row['entry_type']}, total due ${total}, risk score {row['risk_score']}, {row['disposition']}"
        )
    return [*out, ""]


def _line_list(numbers: list[int]) -> str:
    return ("line " if len(numbers) == 1 else "lines ") + ", ".join(str(n) for n in numbers)


def _render_part(explained: dict[str, Any], part: dict[str, Any]) -> list[str]:
    """The sections of one part (of the package itself when it has one part)."""
    number = part["part"]
    tag = f" (part {number} of {part['of']}: {_line_list(part['line_nos'])})" if part["of"] > 1 else ""
    lines = [line for line in explained["lines"] if line["part"] == number]
    components = [c for c in explained["components"] if c["part"] == number]
    flags = [f for f in explained["flags"] if f["part"] == number]
    rejects = [r for r in explained.get("rejected_lines", []) if r.get("part") == number]
    return [
        *_decision_lines(part, tag),
        *_consignee_day_lines(part["consignee_day"]),
        "",
        f"LINES{tag}",
        *_line_lines(lines, rejects),
        "",
        f"DUTIES AND FEES{tag}",
        *_component_lines(components, lines, part),
        "",
        *_risk_lines(part, flags, tag),
        "",
        *_routing_lines(part, tag),
        "",
    ]


def _decision_lines(part: dict[str, Any], tag: str) -> list[str]:
    p, d, entry = part["package"], part["decision"], part["entry"]
    out = [
        f"DECISION{tag}",
        f"  de minimis: {'eligible' if d['eligible'] in (True, 'true') else 'not eligible'}  ({d['reason']})",
        f"  rule: {d['rule_id']}" + "".join(f"; {shown}" for shown in _limits(d.get("details"))),
    ]
    if d["citation"]:
        out.append(f"  source: {d['citation']}")
    for gift in d.get("gift_limits") or []:
        sender = gift["sent_from"] or "(not given)"
        out.append(
            f"  gift limit, line {gift['line_no']} (sent from {sender}): ${gift['limit_usd']} of gift value per"
            " person per day"
        )
    entry_limits = _limits(entry.get("details")) if entry["rule_id"] != d["rule_id"] else []
    out.append(
        f"  entry type: {p['entry_type']}"
        + (f"  (rule {'; '.join([entry['rule_id'], *entry_limits])})" if entry["rule_id"] else "")
    )
    if entry["citation"] and entry["rule_id"] != d["rule_id"]:
        out.append(f"  source: {entry['citation']}")
    return [
        *out,
        f"  value ${p['value_usd']}   consignee-day value ${p['consignee_day_value_usd']}",
        f"  duty ${p['duty_usd'] if p['duty_usd'] is not None else '(not computed)'} ({p['duty_status']})"
        f"   fees ${p['fees_usd'] if p['fees_usd'] is not None else '(unknown)'} ({p['fee_status']})"
        f"   total due ${p['total_due_usd'] if p['total_due_usd'] is not None else '(unknown)'}",
    ]


def _limits(details: dict[str, Any] | None) -> list[str]:
    """A decision rule's limits, as the run's summary gives them, and whether RULE NOTES has its note."""
    if not details:
        return []
    shown = []
    if "amount_usd" in details:
        shown.append(f"threshold ${details['amount_usd']}")
    if "limit_usd" in details:
        by_limit: dict[str, list[str]] = {}
        for code, limit in sorted((details.get("sender_limits") or {}).items()):
            by_limit.setdefault(limit, []).append(code)
        higher = "".join(
            f", ${limit} for gifts sent from {', '.join(codes)}" for limit, codes in by_limit.items()
        )
        shown.append(f"gift limit ${details['limit_usd']}{higher}")
    if "informal_max_usd" in details:
        shown.append(f"informal entry up to ${details['informal_max_usd']}")
    if "chapter99_max_usd" in details:
        shown.append(f"Chapter 99 articles up to ${details['chapter99_max_usd']}")
    if "note" in details:
        shown.append("its note under RULE NOTES")
    return shown


def _note_lines(parts: list[dict[str, Any]]) -> list[str]:
    """The note of each decision and entry rule of the parts, once each (a citation may say "see note")."""
    notes: dict[str, str] = {}
    for part in parts:
        for ruling in (part["decision"], part["entry"]):
            note = (ruling.get("details") or {}).get("note")
            if note and ruling["rule_id"] not in notes:
                notes[ruling["rule_id"]] = " ".join(note.split())
    if not notes:
        return []
    return ["RULE NOTES", *(f"  {rule_id}: {note}" for rule_id, note in notes.items()), ""]


def _consignee_day_lines(day: dict[str, Any] | None) -> list[str]:
    """The consignee-day total of a part: the key, its reading, and the packages counted in it."""
    if day is None:
        return []
    out = [
        "",
        f"CONSIGNEE-DAY  ${day['value_usd']} on {day['arrival_date']}: this package ${day['own_value_usd']}"
        f" and {day['others_count']} other package row(s) ${day['others_value_usd']}",
        f"  key {day['consignee_key']}: {day['key_formed_from']}",
        f"  ENGINE'S READING, NOT LAW: this key is {day['key_reading']}",
    ]
    for other in day["others"]:
        same = " (another part of this package)" if other["same_package"] else ""
        out.append(f"  + {other['package_id']}  ${other['value_usd']}{same}")
    if day["others_count"] > len(day["others"]):
        out.append(f"  + {day['others_count'] - len(day['others'])} more (not listed)")
    if day["outside_outputs_usd"] is not None:
        out.append(
            f"  the packages of this run's outputs do not add up to the total: ${day['outside_outputs_usd']} came"
            " from packages screened before this run (into its --state)"
        )
    if day["history_sources"]:
        out.append(
            f"  history (--history, {day['history_sources']} source(s)): the consignee's prior days are counted"
            " for the risk rules only, not in this total; their figures are not in the run's outputs"
        )
    return out


def _line_lines(lines: list[dict[str, Any]], rejects: list[dict[str, Any]]) -> list[str]:
    out = []
    for line in lines:
        flags = ", ".join(line["risk_flags"] or []) or "-"
        # What a specific rate is charged on: the quantity (in the rate's unit; items for a rate per dozen,
        # gross or thousand) or the gross weight (a rate per kg).
        counts = "".join(
            f"  {label} {line[column]}"
            for label, column in (("quantity", "quantity"), ("gross kg", "gross_weight_kg"))
            if line.get(column) is not None
        )
        duty = (
            "charged per postal item (the package's postal_specific duty)"
            if line["duty_status"] == str(DutyStatus.CHARGED_PER_ITEM)
            else f"${line['duty_usd'] if line['duty_usd'] is not None else '?'} ({line['duty_status']})"
        )
        out.append(
            f"  {line['line_no']}. {line['hts_code']}  {line['description']!r}  origin {line['country_of_origin']}"
            f"  value {_value_text(line)}{counts}  duty {duty}  flags: {flags}"
        )
    return out + [_reject_line(r) for r in rejects]


def _value_text(line: dict[str, Any]) -> str:
    """A line's value in dollars, with its conversion when declared in another currency."""
    currency, rate = line.get("currency"), line.get("fx_usd_per_unit")
    if currency in (None, "USD") or rate is None or line.get("declared_value") is None:
        return f"${line['value_usd']}"
    return (
        f"{currency} {_plain(line['declared_value'], 2)} x {_plain(rate, 0)}"
        f" (rate of {line.get('fx_rate_date') or '?'}) = ${line['value_usd']}"
    )


def _plain(text: str, places: int) -> str:
    """A decimal without trailing zeros past ``places`` decimals."""
    value = _money(text)
    if value is None:
        return str(text)
    shown = format(value.normalize(), "f")
    decimals = len(shown.partition(".")[2])
    return format(value, f".{max(decimals, places)}f")


def _reject_line(reject: dict[str, Any]) -> str:
    where = f"{reject['source']} row {reject['row']}"
    if reject["code"] == "duplicate-line" and reject.get("part") is not None:
        return f"  a copy of line {reject['line_no']}, ignored (duplicate-line): {where}: {reject['message']}"
    return (
        f"  line {reject['line_no'] or '?'} REJECTED, not screened ({where}, field {reject['field']}):"
        f" {reject['code']}: {reject['message']}"
    )


def _risk_lines(part: dict[str, Any], flags: list[dict[str, Any]], tag: str) -> list[str]:
    out = [f"RISK{tag}  score {part['package']['risk_score']}"]
    if not flags:
        out.append("  no risk rule fired")
    for f in flags:
        out.append(
            f"  +{f['weight']} {f['rule_id']} ({f['severity']}, queue {f['queue']}) on line(s) "
            f"{', '.join(str(n) for n in f['line_nos'] or [])}: {f['description']}"
        )
        if f.get("detail"):
            out.append(f"      match: {f['detail']}")
        out.append(f"      why: {f['rationale']}")
        settled = f.get("confidence") in (None, "confirmed")
        out.append(
            f"      source: {f['citation']}" + ("" if settled else f" (confidence: {f['confidence']})")
        )
    return out


def _routing_lines(part: dict[str, Any], tag: str) -> list[str]:
    p = part["package"]
    out = [f"ROUTING{tag}"]
    for q in part["queues"]:
        out.append(
            f"  queue {q['queue']} at port {q['port_of_entry'] or '(none)'} on {q['arrival_date']}: rank {q['queue_rank']}"
            f" of capacity {q['capacity'] if q['capacity'] is not None else 'unlimited'}"
            f" → {q.get('disposition') or p['disposition']}"
        )
    if not part["queues"]:
        out.append(f"  no queue → {p['disposition']}")
    sampled = p["random_sample"] in (True, "true")
    out.append(f"  random compliance sample: {'yes' if sampled else 'no'}")
    return out


def _fx_lines(explained: dict[str, Any]) -> list[str]:
    """The exchange rates' source, when a line was declared in another currency than the dollar."""
    if all(line.get("currency") in (None, "USD") for line in explained["lines"]):
        return []
    fx = explained["fx"]
    certified = "certified" if fx["official"] is True else f"NOT certified ({fx['note'] or 'not official'})"
    out = [f"FX  lines in another currency were converted at the pack's rates, {certified}"]
    if fx["citation"] is None:
        return [
            *out,
            "  their source is not in this run's summary.json (a run written before it carried one)",
            "",
        ]
    return [*out, f"  source: {fx['citation']} (confidence: {fx['confidence'] or 'confirmed'})", ""]


def _component_lines(
    components: list[dict[str, Any]], lines: list[dict[str, Any]], part: dict[str, Any]
) -> list[str]:
    """The duties and fees of a package, one line each with its source (and its confidence, unless settled)."""
    if not components:
        return ["  none"]
    out = []
    for c in components:
        where = f"line {c['line_no']}" if c["line_no"] is not None else "package"
        heading = f" {c['heading']}" if c["heading"] else ""
        amount = f"${c['amount_usd']}" if c["amount_usd"] is not None else "(not computed)"
        how = f"{c['how']} = " if c.get("how") else ""
        out.append(f"  {where}: {c['component']}{heading} [{c['measure_id']}]  {how}{amount}")
        if c["citation"]:
            settled = c.get("confidence") in (None, "confirmed")
            out.append(
                f"      source: {c['citation']}" + ("" if settled else f" (confidence: {c['confidence']})")
            )
        if c["component"] == "postal_specific":
            out += _postal_specific_lines(c, lines, part)
        if c.get("assumption"):
            out.append(f"      assumption: {c['assumption']}")
    return out


def _how(component: dict[str, Any]) -> str | None:
    """How a component's amount came about (``base x rate``, a specific rate and what it is charged per)."""
    name, base, rate = component["component"], component["base_usd"], component["rate"]
    part_name = name.removeprefix("mfn_part_") if name.startswith("mfn_part_") else None
    if part_name is not None and part_name not in _VALUE_PARTS and rate is not None:
        return f"${rate} per {_count_text(part_name)}"
    if base is not None and rate is not None:
        return f"base ${base} x rate {rate}"
    if rate is not None:  # a specific rate: dollars per unit of the line's quantity or weight
        return f"${rate} per unit of the tariff line's rate (its quantity, or gross kg for a rate per kg)"
    if name == "postal_specific":
        return "per postal item"
    return None  # a flat fee, or an amount the pack does not give


def _count_text(part_name: str) -> str:
    """What a part-value rate's specific amount is charged per: a count the filer gives in ``part_values``."""
    if part_name == "jewel":
        return "jewel (count from part_values, less 7 where the rate says over 7, times quantity)"
    return f"{part_name} (count from part_values)"


def _postal_specific_lines(
    component: dict[str, Any], lines: list[dict[str, Any]], part: dict[str, Any]
) -> list[str]:
    """A postal duty per item: the highest band among the item's origins, with the regime's bands and its lines'
    origin rates where the run's summary gives them (its entry rule's details)."""
    out = ["      the highest band among the item's lines' origins (the band chosen is not in the outputs)"]
    entry = part["entry"]
    details = entry.get("details") if entry.get("rule_id") == component["measure_id"] else None
    if not details:
        return out
    if details.get("specific_per_item_usd"):
        out.append(f"      regime: ${details['specific_per_item_usd']} per item")
    if details.get("specific_bands"):
        out.append(f"      regime's bands by the origin's rate: {_bands_text(details['specific_bands'])}")
    rates = details.get("origin_rates") or {}
    origins = sorted({str(line["country_of_origin"]) for line in lines})
    shown = [f"{o} {_percent(rates[o])}" for o in origins if o in rates]
    if shown:
        out.append(f"      origin rates of its lines: {', '.join(shown)}")
    return out


def _bands_text(bands: Iterable[dict[str, Any]]) -> str:
    out = []
    for band in bands:
        if band.get("max_rate") is None:
            out.append(f"higher ${band['usd']}")
        else:
            bound = "up to" if band.get("max_inclusive") else "under"
            out.append(f"{bound} {_percent(band['max_rate'])} ${band['usd']}")
    return "; ".join(out)


def _percent(rate: str) -> str:
    value = _money(rate)
    return f"{format((value * 100).normalize(), 'f')}%" if value is not None else str(rate)
