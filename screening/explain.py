"""``screen explain``: one package's decision, duties, fees, flags and queue, from a run's output folder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from screening.errors import DutyStatus, InputSchemaError, UsageError
from screening.io.writers import FORMULA_START_CHARS
from screening.path_names import non_utf8_name
from screening.pipeline import read_error

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


def _read(run: Path, name: str) -> pl.DataFrame:
    for suffix in (".parquet", ".csv"):
        file = run / f"{name}{suffix}"
        if file.is_file():
            try:
                return _read_output(file)
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise InputSchemaError(str(file), f"cannot be read: {read_error(exc, file)}") from exc
    raise UsageError(f"{run}: no {name}.parquet or {name}.csv (is this a `screen run` output folder?)")


def _read_output(file: Path) -> pl.DataFrame:
    """One output file of a run. A CSV file's cells and headers lose the ``'`` that kept them from reading as
    formulas, and its columns take their output types (nested ones decoded from JSON; ``line_no`` of the
    rejects stays text, as written in the input)."""
    if file.suffix == ".parquet":
        return pl.read_parquet(file, glob=False)
    text = pl.read_csv(file, infer_schema=False, glob=False)
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


def explain_package(run: str | Path, package_id: str) -> dict[str, Any]:
    """Everything the run decided about ``package_id``, with reasons, measures and citations.

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
    summary_file = folder / "summary.json"
    if not summary_file.is_file():
        raise UsageError(f"{folder}: no summary.json (is this a `screen run` output folder?)")
    try:
        summary = json.loads(summary_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, OSError, RecursionError) as exc:
        raise InputSchemaError(str(summary_file), f"cannot be read: {exc}") from exc
    packages = _read(folder, "packages").filter(pl.col("package_id") == package_id)
    if packages.height == 0:
        rejects = _read(folder, "rejects").filter(pl.col("package_id") == package_id)
        if rejects.height:
            return {"package_id": package_id, "rejected": _rows(rejects.drop("raw"))}
        raise UsageError(f"package {package_id!r} is not in {folder}")
    catalogue = summary.get("risk", {}).get("rule_catalogue", {})
    flags = _read(folder, "flags").filter(pl.col("package_id") == package_id)
    flag_rows = [
        {
            **row,
            **{
                k: catalogue.get(row["rule_id"], {}).get(k)
                for k in ("description", "rationale", "citation", "confidence")
            },
        }
        for row in _rows(flags)
    ]
    package = _rows(packages)[0]
    # Lines of a screened package among the rejects: copies of its lines (a package with a line rejected for
    # anything else is not screened at all: ``package-incomplete``).
    rejected_lines = _read(folder, "rejects").filter(pl.col("package_id") == package_id).drop("raw")
    queue_rows = _read(folder, "queues").filter(pl.col("package_id") == package_id)
    queue = _rows(queue_rows)[0] if queue_rows.height else None
    rule_id = package.get("de_minimis_rule_id")
    # A run written before packages named their entry rule has none.
    entry_rule_id = package.get("entry_rule_id")
    return {
        "package_id": package_id,
        "package": package,
        "decision": {
            "eligible": package.get("de_minimis_eligible"),
            "reason": package.get("de_minimis_reason"),
            "rule_id": rule_id,
            "citation": summary.get("decision_rules", {}).get(rule_id) if rule_id else None,
        },
        "entry": {
            "type": package.get("entry_type"),
            "rule_id": entry_rule_id,
            "citation": summary.get("decision_rules", {}).get(entry_rule_id) if entry_rule_id else None,
        },
        "lines": _rows(
            _read(folder, "lines")
            .filter(pl.col("package_id") == package_id)
            .select(
                "line_no",
                "hts_code",
                "description",
                "country_of_origin",
                "value_usd",
                "quantity",
                "gross_weight_kg",
                "duty_status",
                "duty_usd",
                "risk_flags",
            )
        ),
        "rejected_lines": _rows(rejected_lines),
        "components": _rows(_read(folder, "components").filter(pl.col("package_id") == package_id)),
        "flags": flag_rows,
        "queue": queue,
        # A package whose lines came in several batches of an incremental run was screened once per batch.
        "parts": _rows(packages) if packages.height > 1 else [],
        "queues": _rows(queue_rows) if queue_rows.height > 1 else [],
        "rules": {"id": summary["rules"]["id"], "content_hash": summary["rules"]["content_hash"]},
    }


def render_text(explained: dict[str, Any]) -> str:
    """The explanation as plain text for an officer."""
    if "rejected" in explained:
        lines = [f"Package {explained['package_id']}: rejected, not screened"]
        lines += [
            f"  {r['source']} row {r['row']}, field {r['field']}: {r['code']}: {r['message']}"
            for r in explained["rejected"]
        ]
        return "\n".join(lines)
    p, d, entry = explained["package"], explained["decision"], explained["entry"]
    out = [
        f"Package {p['package_id']}  arrived {p['arrival_date']} by {p['mode']}"
        f" at port {p.get('port_of_entry') or '(none)'}; origin {p['country_of_origin']}; {p['lines']} line(s)",
        "",
        *_parts_note(explained),
        "DECISION",
        f"  de minimis: {'eligible' if d['eligible'] in (True, 'true') else 'not eligible'}  ({d['reason']})",
        f"  rule: {d['rule_id']}",
    ]
    if d["citation"]:
        out.append(f"  source: {d['citation']}")
    out.append(
        f"  entry type: {p['entry_type']}" + (f"  (rule {entry['rule_id']})" if entry["rule_id"] else "")
    )
    if entry["citation"] and entry["rule_id"] != d["rule_id"]:
        out.append(f"  source: {entry['citation']}")
    out += [
        f"  value ${p['value_usd']}   consignee-day value ${p['consignee_day_value_usd']}",
        f"  duty ${p['duty_usd'] if p['duty_usd'] is not None else '(not computed)'} ({p['duty_status']})"
        f"   fees ${p['fees_usd'] if p['fees_usd'] is not None else '(unknown)'} ({p['fee_status']})"
        f"   total due ${p['total_due_usd'] if p['total_due_usd'] is not None else '(unknown)'}",
        "",
        "LINES",
    ]
    for line in explained["lines"]:
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
            f"  value ${line['value_usd']}{counts}  duty {duty}  flags: {flags}"
        )
    for r in explained.get("rejected_lines", []):
        out.append(
            f"  line {r['line_no'] or '?'} REJECTED, not screened ({r['source']} row {r['row']}, field {r['field']}):"
            f" {r['code']}: {r['message']}"
        )
    out += ["", "DUTIES AND FEES", *_component_lines(explained["components"])]
    out += ["", f"RISK  score {p['risk_score']}"]
    if not explained["flags"]:
        out.append("  no risk rule fired")
    for f in explained["flags"]:
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
    out += ["", "ROUTING"]
    queues = explained.get("queues") or ([explained["queue"]] if explained["queue"] else [])
    for q in queues:
        out.append(
            f"  queue {q['queue']} at port {q['port_of_entry'] or '(none)'} on {q['arrival_date']}: rank {q['queue_rank']}"
            f" of capacity {q['capacity'] if q['capacity'] is not None else 'unlimited'}"
            f" → {q.get('disposition') or p['disposition']}"
        )
    if not queues:
        out.append(f"  no queue → {p['disposition']}")
    sampled = p["random_sample"] in (True, "true")
    out.append(f"  random compliance sample: {'yes' if sampled else 'no'}")
    out.append(f"\nrule pack {explained['rules']['id']} {explained['rules']['content_hash']}")
    return "\n".join(out)


def _parts_note(explained: dict[str, Any]) -> list[str]:
    """For a package screened in parts (its lines in several batches): each part's figures; the sections
    below show the first part's decision and every part's lines, duties, fees and flags."""
    parts = explained.get("parts") or []
    if not parts:
        return []
    out = [
        f"  NOTE: screened in {len(parts)} parts (its lines came in several batches); each part is its own entry:"
    ]
    for n, part in enumerate(parts, start=1):
        total = part["total_due_usd"] if part["total_due_usd"] is not None else "(unknown)"
        out.append(
            f"    part {n}: {part['lines']} line(s), value ${part['value_usd']}, consignee-day value"
            f" ${part['consignee_day_value_usd']}, {part['de_minimis_reason']}, {part['entry_type']},"
            f" total due ${total}, {part['disposition']}"
        )
    return [*out, ""]


def _component_lines(components: list[dict[str, Any]]) -> list[str]:
    """The duties and fees of a package, one line each with its source (and its confidence, unless settled)."""
    if not components:
        return ["  none"]
    out = []
    for c in components:
        where = f"line {c['line_no']}" if c["line_no"] is not None else "package"
        heading = f" {c['heading']}" if c["heading"] else ""
        amount = f"${c['amount_usd']}" if c["amount_usd"] is not None else "(not computed)"
        if c["base_usd"] is not None and c["rate"] is not None:
            how = f"base ${c['base_usd']} x rate {c['rate']} = "
        elif c["rate"] is not None:  # a specific rate: dollars per unit of the line's quantity or weight
            how = f"${c['rate']} per unit of the tariff line's rate (its quantity, or gross kg for a rate per kg) = "
        else:  # a flat fee, or an amount the pack does not give
            how = ""
        out.append(f"  {where}: {c['component']}{heading} [{c['measure_id']}]  {how}{amount}")
        if c["citation"]:
            settled = c.get("confidence") in (None, "confirmed")
            out.append(
                f"      source: {c['citation']}" + ("" if settled else f" (confidence: {c['confidence']})")
            )
        if c.get("assumption"):
            out.append(f"      assumption: {c['assumption']}")
    return out
