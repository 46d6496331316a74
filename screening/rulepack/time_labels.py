"""Checks of the Eastern time labels (``EST``, ``EDT``) in rules' ``effective_time`` against their dates."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from screening.rulepack.loader import RulePack, located_rules

#: A label and the date written after it (``EDT on 2025-04-05``); without one, the rule's own date.
_LABEL = re.compile(r"\b(E[SD]T)\b(?: on (\d{4}-\d{2}-\d{2}))?")
#: The zone whose clocks EST and EDT name.
EASTERN = "America/New_York"


def mislabelled_eastern_times(pack: RulePack) -> list[str]:
    """One line per label in a rule's ``effective_time`` that New York does not keep on its date: the date
    written after it (``12:00 a.m. EST on 2026-02-24``), else ``effective_from`` for the text before ``to`` and
    ``effective_to`` for the text after it (``12:01 a.m. EDT`` from 2025-12-05 is EST). On the two days the clocks
    change, either label fits. The pack loads (the time is informational); ``screen rules check`` prints these
    as warnings. Does not collect a plan; raises nothing."""
    labels: list[tuple[str, str, str, dt.date]] = []
    for file, where, rule in located_rules(pack):
        if rule.effective_time is None:
            continue
        start, _, end = rule.effective_time.partition(" to ")
        for part, day in ((start, rule.effective_from), (end, rule.effective_to)):
            found = _LABEL.search(part)
            if found is None:
                continue
            written = _date(found[2]) if found[2] else day
            if written is not None:
                shown = f"{Path(file).relative_to(pack.root)} {where}"
                labels.append((shown, rule.effective_time, found[1], written))
    if not labels:
        return []
    frame = pl.DataFrame(labels, schema=["where", "text", "label", "day"], orient="row")
    # The first and the last minute of each day: the clocks change at 2 a.m. in between.
    first = pl.col("day").cast(pl.Datetime("us"))
    ends = {"starts_daylight": first, "ends_daylight": first + pl.duration(hours=23, minutes=59)}
    checked = frame.with_columns(
        (at.dt.replace_time_zone(EASTERN).dt.dst_offset() > pl.duration()).alias(name)
        for name, at in ends.items()
    ).filter(
        pl.when(pl.col("label") == "EDT")
        .then(~pl.col("starts_daylight") & ~pl.col("ends_daylight"))
        .otherwise(pl.col("starts_daylight") & pl.col("ends_daylight"))
    )
    return [
        f"{where}: effective_time {text!r} says {label} on {day}, when New York keeps "
        f"{'EST' if label == 'EDT' else 'EDT'} (daylight time from the second Sunday of March to the first "
        "Sunday of November)"
        for where, text, label, day in checked.select("where", "text", "label", "day").iter_rows()
    ]


def _date(text: str) -> dt.date | None:
    """The date ``text`` names; None for an impossible one (``2025-02-30``: not this check's to refuse)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None
