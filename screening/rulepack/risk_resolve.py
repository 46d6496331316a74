"""Resolve the pack's risk rules, queues and sampling rates for the arrival dates of a run."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

import polars as pl

from screening.rulepack.conditions import text_tests
from screening.rulepack.loader import RulePack
from screening.rulepack.risk_tables import PPM, ResolvedRisk
from screening.seed import Seed, checked_seed


def resolve_risk(pack: RulePack, dates: Iterable[dt.date], *, seed: Seed | None = None) -> ResolvedRisk:
    """Risk rules in force, routing and sampling for ``dates``; ``seed`` overrides the pack's."""
    days = sorted(set(dates))
    risk, queues = pack.risk, pack.queues
    rules = pl.DataFrame(
        [
            {
                "rule_id": r.id,
                "description": r.description,
                "severity": r.severity,
                "weight": r.weight,
                "queue": r.queue,
                "rationale": r.rationale,
                "citation": r.citation.render(),
                "confidence": r.confidence,
                "note": r.note,
            }
            for r in risk.rules
        ],
        schema={
            "rule_id": pl.String(),
            "description": pl.String(),
            "severity": pl.String(),
            "weight": pl.Int64(),
            "queue": pl.String(),
            "rationale": pl.String(),
            "citation": pl.String(),
            "confidence": pl.String(),
            "note": pl.String(),
        },
    )
    in_force = pl.DataFrame(
        [{"arrival_date": d, "rule_id": r.id} for d in days for r in risk.rules if r.in_force(d)],
        schema={"arrival_date": pl.Date(), "rule_id": pl.String()},
    )
    priority = {q.name: q.priority for q in queues.queues}
    routed = [(r.id, r.queue) for r in risk.rules] + [
        (rid, q.name) for q in queues.queues for rid in q.routes
    ]
    routes = pl.DataFrame(
        [{"rule_id": rid, "queue": name, "priority": priority[name]} for rid, name in sorted(set(routed))],
        schema={"rule_id": pl.String(), "queue": pl.String(), "priority": pl.Int64()},
    )
    capacities = pl.DataFrame(
        [
            {"queue": q.name, "port_of_entry": None, "capacity": _capacity(q.capacity_per_port_day)}
            for q in queues.queues
        ]
        + [
            {"queue": q.name, "port_of_entry": port, "capacity": n}
            for q in queues.queues
            for port, n in sorted(q.capacity_by_port.items())
        ],
        schema={"queue": pl.String(), "port_of_entry": pl.String(), "capacity": pl.Int64()},
    )
    sampling = queues.sampling
    sample_rates = pl.DataFrame(
        [
            {
                "arrival_date": d,
                "mode": r.mode,
                "origin": r.origin,
                "rate_ppm": int(r.rate * PPM),
                "sample_rule_id": r.id,
            }
            for d in days
            for r in (sampling.rates if sampling else ())
            if r.in_force(d)
        ],
        schema={
            "arrival_date": pl.Date(),
            "mode": pl.String(),
            "origin": pl.String(),
            "rate_ppm": pl.Int64(),
            "sample_rule_id": pl.String(),
        },
    )
    tested, tests = _text_tests(tuple((rule.id, rule.condition) for rule in risk.rules))
    return ResolvedRisk(
        rules=rules,
        in_force=in_force,
        conditions=dict(pack.conditions),
        tested_conditions=dict(tested),
        text_tests=dict(tests),
        families=risk.keyword_families,
        value_per_kg=pack.value_per_kg
        if pack.value_per_kg.width
        else pl.DataFrame(schema={"chapter": pl.String(), "min_usd_per_kg": pl.Float64()}),
        denied=risk.denied_parties,
        screening_list=pack.screening_list,
        history_days=risk.settings.history_days,
        routes=routes,
        capacities=capacities,
        sample_rates=sample_rates,
        seed=checked
        if (checked := checked_seed(seed)) is not None
        else (sampling.seed if sampling else "screening"),
    )


def _capacity(capacity: int | str) -> int | None:
    """A queue's capacity per port and day; None for ``"unlimited"`` (every package routed there is targeted)."""
    return capacity if isinstance(capacity, int) else None


@functools.lru_cache(maxsize=8)
def _text_tests(
    conditions: tuple[tuple[str, str], ...],
) -> tuple[dict[str, pl.Expr], dict[str, tuple[str, pl.Expr]]]:
    """:func:`~screening.rulepack.conditions.text_tests` of a pack's conditions, compiled once per process (every
    batch of a :class:`~screening.Screener` resolves the risk rules again). The caller copies the dictionaries."""
    return text_tests(dict(conditions))
