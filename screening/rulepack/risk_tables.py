"""What the risk and routing stages receive: the pack's risk rules, routing and sampling as small frames."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from screening.rulepack.risk_models import DeniedParties, KeywordFamily
from screening.seed import Seed

#: Sampling rates are compared in parts per million.
PPM = 1_000_000


@dataclass(frozen=True)
class ResolvedRisk:
    """What the risk and routing stages need, as small frames (no pack objects with I/O).

    Attributes:
        rules: one row per risk rule: ``rule_id, description, severity, weight, queue, rationale,
            citation, confidence``.
        in_force: ``arrival_date, rule_id`` for each rule in force on each date of the run.
        conditions: each rule's compiled boolean expression.
        tested_conditions: each rule's condition over the risk columns and the text test columns of
            ``text_tests`` (:func:`~screening.rulepack.conditions.text_tests`): the same value, its text tests
            computed once per distinct text.
        text_tests: by text test column, the normal-form text column it reads and its test.
        families: keyword families for ``description_family`` and ``hts_description_mismatch``.
        value_per_kg: ``chapter, min_usd_per_kg``.
        denied: screening-list settings (None: no screening).
        screening_list: the list's entries.
        history_days: look-back window of the ``consignee_prior_*`` columns.
        routes: ``rule_id, queue, priority`` (a rule's own queue and any that route it).
        capacities: ``queue, port_of_entry, capacity`` (null port: the queue's default).
        sample_rates: ``arrival_date, mode, origin, rate_ppm, sample_rule_id`` (``*`` = any).
        seed: the seed of the sample and the queue tie-break (text, or a private seed that outputs record by
            its fingerprint only: :mod:`screening.seed`).
    """

    rules: pl.DataFrame
    in_force: pl.DataFrame
    conditions: dict[str, pl.Expr]
    tested_conditions: dict[str, pl.Expr]
    text_tests: dict[str, tuple[str, pl.Expr]]
    families: tuple[KeywordFamily, ...]
    value_per_kg: pl.DataFrame
    denied: DeniedParties | None
    screening_list: pl.DataFrame
    history_days: int
    routes: pl.DataFrame
    capacities: pl.DataFrame
    sample_rates: pl.DataFrame
    seed: Seed
