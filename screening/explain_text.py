"""``screen explain`` as plain text: the explanation :func:`screening.explain.explain_package` assembles, laid
out for an officer (decision, lines, duties and fees, risk and routing, part by part)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from screening.errors import DutyStatus
from screening.explain import money_or_none
from screening.result import AFTER_FACTS


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
    out += _note_lines(parts, explained["components"], explained["flags"])
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
        out.append(
            f"    part {part['part']} of {part['of']} ({_line_list(part['line_nos'])}): value ${row['value_usd']},"
            f" consignee-day value ${row['consignee_day_value_usd']}, {row['de_minimis_reason']},"
            f" {row['entry_type']}, total due {_usd(row['total_due_usd'], 'unknown')}, risk score"
            f" {row['risk_score']}, {row['disposition']}"
        )
    return [*out, ""]


def _usd(amount: object, missing: str) -> str:
    """A dollar amount (``$12.50``), or the words ``missing`` where it is not known (no ``$`` before them)."""
    return f"${amount}" if amount is not None else missing


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
        *_line_lines(lines, rejects, components),
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
    eligible = "eligible" if d["eligible"] in (True, "true") else "not eligible"
    if eligible == "eligible" and p.get("entry_type") not in (None, "de-minimis"):
        # A gift no de minimis release passes: duty-free on an entry.
        eligible = f"duty-free, not a de minimis release (entered {p['entry_type']})"
    if d.get("open"):  # a line's code that a never-eligible class covers in part: not released
        eligible = "open, not released (the reason the class would give)"
    out = [
        f"DECISION{tag}",
        f"  de minimis: {eligible}  ({d['reason']})",
        *([f"  de minimis open: {d['open']}"] if d.get("open") else []),
        f"  rule: {d['rule_id']}" + "".join(f"; {shown}" for shown in _limits(d.get("details"))),
    ]
    if d["citation"]:
        out.append(f"  source: {d['citation']}")
    if (later := d.get("after_facts")) is not None:
        out.append(
            f"  note: arrived {later['days_after']} days after the pack's facts (as of {later['facts_as_of']}):"
            f" {AFTER_FACTS}"
        )
    for gift in d.get("gift_limits") or []:
        sender = gift["sent_from"] or "(not given)"
        out.append(
            f"  gift limit, line {gift['line_no']} (sent from {sender}): ${gift['limit_usd']} of gift value per"
            " person per day"
        )
    if (gift := d.get("gift")) is not None:
        rule = f" {gift['rule_id']}" if gift["rule_id"] else ""
        out.append(f"  gift exemption{rule} {'applied' if gift['applied'] else 'not applied'}: {gift['why']}")
    entry_limits = _limits(entry.get("details")) if entry["rule_id"] != d["rule_id"] else []
    # Why fees are unknown, where the entry type is not open: its eligibility, or a fee without an amount.
    why_fees = None
    if p.get("fee_status") == "fees-unknown":
        unknown = entry.get("unknown_fee")
        why_fees = (
            "de minimis eligibility is open"
            if d.get("open")
            else f"{unknown} has no amount, its assumption says why"
            if unknown
            else None
        )
    # An entry the Chapter 99 limit leaves open: why, from its fee components (None otherwise).
    opened = entry.get("open")
    out.append(
        f"  entry type: {'open, informal or formal' if opened else p['entry_type']}"
        + (f"  (rule {'; '.join([entry['rule_id'], *entry_limits])})" if entry["rule_id"] else "")
    )
    if opened:
        out.append(f"  entry type open: {opened}")
    # Mail entered formal over the informal limit, or a gift informal, by a choice the pack marks unsettled.
    if entry.get("assumed"):
        out.append(f"  entry type assumed: {entry['assumed']}")
    # Mail a postal regime was in force for, barred from it by AD/CVD or quota goods: which line and class.
    if entry.get("barred"):
        out.append(f"  postal method barred: {entry['barred']}")
    if entry["citation"] and entry["rule_id"] != d["rule_id"]:
        out.append(f"  source: {entry['citation']}")
    return [
        *out,
        f"  value ${p['value_usd']}   consignee-day value ${p['consignee_day_value_usd']}"
        + (" (the running total up to this package)" if d.get("running_total") else ""),
        f"  duty {_usd(p['duty_usd'], 'not computed')} ({p['duty_status']})"
        f"   fees {_usd(p['fees_usd'], 'unknown')} ({p['fee_status']}"
        + (": the entry type is open)" if opened else f": {why_fees})" if why_fees else ")")
        + f"   total due {_usd(p['total_due_usd'], 'unknown')}",
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
        suspended = (
            ": suspended (packages over it stay informal)" if details.get("chapter99_suspended") else ""
        )
        shown.append(f"Chapter 99 articles up to ${details['chapter99_max_usd']}{suspended}")
    if "note" in details:
        shown.append("its note under RULE NOTES")
    return shown


def _note_lines(
    parts: list[dict[str, Any]], components: list[dict[str, Any]], flags: list[dict[str, Any]]
) -> list[str]:
    """The note of each decision and entry rule of the parts, then of each rule the pack marks unconfirmed or in
    conflict that made a duty or fee (why it is so), then of each risk rule that fired, once each (a citation may
    say "see note"; a risk rule's says where its cited basis was not in force)."""
    notes: dict[str, str] = {}
    for part in parts:
        for ruling in (part["decision"], part["entry"]):
            note = (ruling.get("details") or {}).get("note")
            if note and ruling["rule_id"] not in notes:
                notes[ruling["rule_id"]] = " ".join(note.split())
    for component in components:
        if component.get("note") and component["measure_id"] not in notes:
            notes[component["measure_id"]] = component["note"]
    for flag in flags:
        if flag.get("note") and flag["rule_id"] not in notes:
            notes[flag["rule_id"]] = " ".join(flag["note"].split())
    if not notes:
        return []
    return ["RULE NOTES", *(f"  {rule_id}: {note}" for rule_id, note in notes.items()), ""]


def _consignee_day_lines(day: dict[str, Any] | None) -> list[str]:
    """The consignee-day total of a part: the key, its reading, and the packages counted in it."""
    if day is None:
        return []
    # A run in batches judged the package on the total up to itself, not on the day's.
    running = day["running_total"]
    scope = (
        " up to this package (a run in batches judges each package on the running total as it comes)"
        if running
        else ""
    )
    out = [
        "",
        f"CONSIGNEE-DAY  ${day['value_usd']} on {day['arrival_date']}{scope}: this package"
        f" ${day['own_value_usd']} and {day['others_count']} other package row(s) ${day['others_value_usd']}",
    ]
    reached = day["day_value_usd_in_outputs"]
    if running and reached != day["value_usd"]:
        out.append(f"  the day came to ${reached} by the last of its packages in this run's outputs")
    out += [
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


def _line_lines(
    lines: list[dict[str, Any]], rejects: list[dict[str, Any]], components: list[dict[str, Any]]
) -> list[str]:
    # The package's component that holds the duty of its lines charged on the postal item.
    on_item = next(
        (
            c["component"]
            for c in components
            if c["line_no"] is None and c["component"] in ("postal_specific", "postal_ad_valorem")
        ),
        "postal",
    )
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
            f"charged per postal item (the package's {on_item} duty)"
            if line["duty_status"] == str(DutyStatus.CHARGED_PER_ITEM)
            else f"{_usd(line['duty_usd'], 'not computed')} ({line['duty_status']})"
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
    value = money_or_none(text)
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
        said = [] if settled else [f"confidence: {f['confidence']}"]
        said += ["its note under RULE NOTES"] if f.get("note") else []
        out.append(f"      source: {f['citation']}" + (f" ({'; '.join(said)})" if said else ""))
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
        before = f"{c['before_rounding']} -> " if c.get("before_rounding") else ""
        how = f"{c['how']} = {before}" if c.get("how") else ""
        out.append(f"  {where}: {c['component']}{heading} [{c['measure_id']}]  {how}{amount}")
        if c["citation"]:
            settled = c.get("confidence") in (None, "confirmed")
            said = [] if settled else [f"confidence: {c['confidence']}"]
            said += ["its note under RULE NOTES"] if c.get("note") else []
            out.append(f"      source: {c['citation']}" + (f" ({'; '.join(said)})" if said else ""))
        if c["component"] == "postal_specific":
            out += _postal_specific_lines(c, lines, part)
        if c["component"] == "postal_ad_valorem" and c["line_no"] is None:
            out.append(_postal_item_value_line(c, lines, part))
        if c.get("assumption"):
            out.append(f"      assumption: {c['assumption']}")
    return out


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


def _postal_item_value_line(
    component: dict[str, Any], lines: list[dict[str, Any]], part: dict[str, Any]
) -> str:
    """What a postal ad valorem duty on the item was charged on: the item's lines at its rate (their origin's
    rate, where the run's summary gives the regime's rates), valued together."""
    entry = part["entry"]
    details = (entry.get("details") if entry.get("rule_id") == component["measure_id"] else None) or {}
    flat, rates = details.get("ad_valorem_rate"), details.get("origin_rates") or {}
    rate = money_or_none(component["rate"])
    at_rate = [
        line
        for line in lines
        if line["duty_status"] == str(DutyStatus.CHARGED_PER_ITEM)
        and rate is not None
        and money_or_none(flat if flat is not None else rates.get(str(line["country_of_origin"]))) == rate
    ]
    if not at_rate:
        return "      on the postal item's value (its lines at this rate, valued together)"
    origins = ", ".join(sorted({str(line["country_of_origin"]) for line in at_rate}))
    numbers = _line_list([int(line["line_no"]) for line in at_rate])
    return f"      on the postal item's value: {numbers} ({origins} at {_percent(str(component['rate']))})"


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
    value = money_or_none(rate)
    return f"{format((value * 100).normalize(), 'f')}%" if value is not None else str(rate)
