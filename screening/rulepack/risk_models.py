"""Risk and routing models: ``risk.toml`` (flags, keyword families, screening list) and ``queues.toml``.

Risk rules are dated and cited like every other rule. Their conditions are SQL boolean
expressions checked against a column whitelist when the pack loads (see
:mod:`screening.rulepack.conditions`); nothing in a pack is ever executed as code.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

import polars as pl
from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from screening.rulepack.conditions import normal_form_fault
from screening.rulepack.models import MAX_WHOLE, Citation, Frozen, Mode, Rule, not_a_float
from screening.schema import NO_PACKAGE_ID

Severity = Literal["low", "medium", "high", "critical"]
#: A screening list's ``entity_type`` values (:data:`screening.rulepack.screening_list.ENTITY_TYPES`).
ListEntityType = Literal["individual", "entity", "vessel", "aircraft"]

_QUEUE = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_CHAPTER = re.compile(r"^\d{2}$")


def _check_queue(value: str) -> str:
    if not _QUEUE.match(value):
        raise ValueError(f"queue name {value!r} must be lower-case kebab-case")
    return value


def _check_chapters(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if not _CHAPTER.match(v)]
    if bad:
        raise ValueError(f"HTS chapters must be two digits: {bad}")
    return values


def _check_pattern(value: str) -> str:
    """``value`` when polars' regex engine (Rust's ``regex``), which runs it, takes it, and it holds no letter
    that ``description_norm``, which it is matched against, writes otherwise (``ø``, ``é``, ``ß``, an ASCII capital
    as text: :func:`~screening.rulepack.conditions.pattern_capitals`). Python's ``re`` took
    look-arounds and back-references that polars refuses when the run evaluates them, and refused classes
    such as ``\\p{Han}`` that polars takes."""
    try:
        pl.select(pl.lit("x").str.contains(value))
    except pl.exceptions.PolarsError as exc:
        raise ValueError(
            f"invalid regular expression (Rust regex syntax, as polars runs it): {_reason(exc)}"
        ) from exc
    fault = normal_form_fault(value, "description_norm", reading="pattern")
    if fault:
        raise ValueError(fault)
    return value


def _reason(exc: Exception) -> str:
    """The reason in a polars regex error: its ``error: ...`` line, else its first line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    said = next((line.removeprefix("error: ") for line in lines if line.startswith("error: ")), None)
    return said or (lines[0].removeprefix("regex error: ") if lines else type(exc).__name__)


QueueName = Annotated[str, AfterValidator(_check_queue)]
Chapters = Annotated[tuple[str, ...], AfterValidator(_check_chapters)]
Pattern = Annotated[str, AfterValidator(_check_pattern)]


class RiskRule(Rule):
    """A flag: a SQL boolean condition over the risk columns, its weight, severity and target queue."""

    description: str = Field(min_length=3)
    condition: str = Field(min_length=1, description="SQL boolean expression over the whitelisted columns")
    weight: int = Field(ge=0, le=1000, description="points added to the package's risk score")
    severity: Severity
    queue: QueueName
    rationale: str = Field(min_length=3, description="why this pattern is a risk, for the officer")


class KeywordFamily(Frozen):
    """Description keywords that belong to some HTS chapters (``hts_description_mismatch``)."""

    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    pattern: Pattern = Field(description="regular expression over description_norm (lower case)")
    chapters: Chapters
    ignore: Pattern | None = Field(
        default=None,
        description="phrases of description_norm blanked before `pattern` is matched: a keyword naming what the "
        "goods serve, not the goods ('laptop bag', 'shoe rack', 'bottle caps')",
    )


class ValuePerKgTable(Frozen):
    """Plausible minimum value per kg by HTS chapter: a CSV with ``chapter, min_usd_per_kg``."""

    file: str
    citation: Citation
    confidence: Literal["confirmed", "unconfirmed", "conflict"] = "unconfirmed"
    note: str | None = None


class DeniedParties(Frozen):
    """The screening list and how names are compared with it."""

    file: str = Field(description="screening-list CSV in the pack (entry_id, name, aliases, program, ...)")
    published: dt.date = Field(description="date the list was published; outputs state its age")
    source: str
    citation: Citation
    threshold: float = Field(gt=0, le=1, description="token score (Dice) at or above which a name matches")
    legal_suffixes: tuple[str, ...] = Field(description="tokens dropped before comparing (CORP, LTD, ...)")
    generic_tokens: tuple[str, ...] = Field(
        default=(), description="tokens that never count towards a match (TRADING, GROUP, ...)"
    )
    party_types: tuple[ListEntityType, ...] = Field(
        default=("individual", "entity"),
        min_length=1,
        description="entity types of the list that shipper and consignee names are matched against: a party is a "
        "person or an organisation, never a listed vessel or aircraft",
    )


class RiskSettings(Frozen):
    """Windows used by derived risk columns."""

    history_days: int = Field(default=30, ge=1, le=366, description="look-back for consignee_prior_*")


class RiskRules(Frozen):
    """Contents of ``risk.toml``."""

    settings: RiskSettings = RiskSettings()
    rules: tuple[RiskRule, ...] = ()
    keyword_families: tuple[KeywordFamily, ...] = ()
    value_per_kg: ValuePerKgTable | None = None
    denied_parties: DeniedParties | None = None


class Queue(Frozen):
    """An inspection queue with a daily capacity per port."""

    name: QueueName
    priority: int = Field(
        ge=1, le=MAX_WHOLE, description="1 is the highest; a package goes to its highest-priority queue"
    )
    capacity_per_port_day: Annotated[int, Field(ge=0, le=MAX_WHOLE)] | Literal["unlimited"] = Field(
        description='packages examined per port and day; "unlimited": every package routed here is examined '
        "(a hold no staffing limit may defer, as for sanctions matches)"
    )
    capacity_by_port: dict[str, int] = Field(
        default_factory=dict, description="overrides by 4-digit port code, as runs read port_of_entry (0101)"
    )
    routes: tuple[str, ...] = Field(
        default=(), description="ids of risk rules routed here besides those naming this queue"
    )
    description: str = ""

    @model_validator(mode="after")
    def _non_negative_overrides(self) -> Queue:
        bad = {port: n for port, n in self.capacity_by_port.items() if n < 0}
        if bad:
            raise ValueError(f"capacities must not be negative: {bad}")
        return self

    @field_validator("capacity_by_port")
    @classmethod
    def _port_codes(cls, capacities: dict[str, int]) -> dict[str, int]:
        """A key a run never reads a port as matches no package: a run reads port 101 (or 101.0, or `` 0101 ``)
        as 0101, and a blank or a word for none (``N/A``, ``nan``: :data:`~screening.schema.NO_PACKAGE_ID`) as no
        port. Other text (``JFK``) is kept as written, by runs and here."""
        no_port = sorted(port for port in capacities if port.strip().lower() in ("", *NO_PACKAGE_ID))
        if no_port:
            words = ", ".join(NO_PACKAGE_ID)
            raise ValueError(
                f"capacity_by_port keys {no_port} are read as no port: a run reads a blank port_of_entry or a word "
                f"for none ({words}; any case) as no port, whose packages take capacity_per_port_day, so no "
                f"package would match; a key must be a port code as a run reads port_of_entry (0101, JFK)"
            )
        bad = sorted(
            port
            for port in capacities
            if re.fullmatch(r"[0-9]{1,3}|[0-9]+\.0+", port) or port != port.strip()
        )
        if bad:
            raise ValueError(
                f"capacity_by_port keys must be written as a run reads port_of_entry: 4-digit codes with their "
                f"leading zeros (0101, not 101 or 101.0) and no blanks around them (no package would match): {bad}"
            )
        return capacities


class SampleRate(Rule):
    """The random compliance-sample rate for a stratum (mode × origin; ``*`` for any)."""

    mode: Mode | Literal["*"] = "*"
    origin: str = Field(default="*", pattern=r"^([A-Z]{2}|\*)$")
    rate: Annotated[Decimal, BeforeValidator(not_a_float)] = Field(
        ge=0, le=1, description="share of packages sampled, at most 6 decimals"
    )

    @model_validator(mode="after")
    def _micro_precision(self) -> SampleRate:
        if (self.rate * 1_000_000) % 1 != 0:
            raise ValueError("rate must have at most 6 decimals (sampling is decided in parts per million)")
        return self


class Sampling(Frozen):
    """Random compliance sampling: the default seed and the rates by stratum."""

    seed: str = Field(
        min_length=1,
        description="mixed into the hash; public; `screen run --seed` or a private `--seed-env` overrides it",
    )
    rates: tuple[SampleRate, ...] = ()


class QueueRules(Frozen):
    """Contents of ``queues.toml``."""

    queues: tuple[Queue, ...] = ()
    sampling: Sampling | None = None
