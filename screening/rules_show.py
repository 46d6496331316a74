"""What a rule pack has in force on a date, optionally for one origin, HTS code and mode."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final

import polars as pl

from screening.errors import UsageError
from screening.exprs.hts import VALID_HTS_CODE, hts_digits
from screening.rulepack.fx_coverage import FxCoverage, fx_coverage
from screening.rulepack.loader import RulePack
from screening.rulepack.models import (
    ALL_MODES,
    CoverageGap,
    EntryLimit,
    Fee,
    GiftExemption,
    Measure,
    NeverEligible,
    PostalRegime,
    Rule,
    Scoped,
    Suspension,
    SuspensionException,
)
from screening.rulepack.reference import known_countries
from screening.rulepack.resolve import ResolvedRules, per_item_usd, resolve
from screening.schema import FLAT_POSTAL_METHODS
from screening.stages.assess import EXEMPTION_PREFIX, UNIT_DIVISORS, measures_for_keys
from screening.stages.decide import BARRED_FROM_POSTAL, exclusions_for_keys
from screening.stages.enrich import MFN_TOO_SHORT, USMCA_CLAIMED, USMCA_TOO_SHORT, tariff_lines_for_keys


@dataclass(frozen=True)
class Scope:
    """Where a measure (or gap) applies: ``origins`` (``*``: every origin) but ``origins_exclude``, in
    ``modes``; ``hts_include``, the first codes of its HTS list in force on the date (empty: every code) of
    ``hts_include_count``; ``hts_exclude`` and ``hts_exclude_count`` likewise for the codes it leaves out (the
    pack file has the whole lists)."""

    origins: tuple[str, ...]
    origins_exclude: tuple[str, ...]
    modes: tuple[str, ...]
    hts_include: tuple[str, ...]
    hts_include_count: int
    hts_exclude: tuple[str, ...]
    hts_exclude_count: int


#: The HTS codes of a measure's list :func:`rules_in_force` shows (the count says how many more).
SHOWN_SCOPE_CODES = 5


@dataclass(frozen=True)
class Charge:
    """How a measure (or the duty a gap leaves out) is charged, as the engine applies it.

    ``rate`` is the rate as written (null for a gap); ``rate_rule`` ``fixed`` or ``top_up`` (the rate less the
    line's MFN ad valorem rate, not below 0; null for a gap); ``rate_here`` the rate on the ``--hts`` line when
    it is known (a top-up less that line's MFN rate; null without ``--hts``, where the code leaves the measure
    open or the MFN rate is not computed); ``base`` ``value``, ``metal_content`` or ``non_metal_content``;
    ``usmca_exempt``: not charged on goods claimed under USMCA; ``not_with``: the stacking groups whose duty on
    the line removes this one; ``stacking_group`` and ``priority``: only the lowest priority of a group on a
    line applies (null for a gap); ``exempt_here``: with ``--hts``, why the measure, in scope, is not charged on
    those goods (a group it is ``not_with`` is on the line; null where it is charged or without ``--hts``);
    ``scope``: the origins, modes and HTS codes it applies to (:class:`Scope`); ``heading_at_or_above_rate``: a
    top-up's heading of goods whose MFN rate is at or above its rate (nothing added), which such a line reports
    (null where the pack gives none)."""

    rate: str | None
    rate_rule: str | None
    rate_here: str | None
    base: str
    usmca_exempt: bool
    not_with: tuple[str, ...]
    stacking_group: str | None
    priority: int | None
    exempt_here: str | None = None
    scope: Scope | None = None
    heading_at_or_above_rate: str | None = None


@dataclass(frozen=True)
class PostalUse:
    """Which goods may use a postal regime: ``excludes``, the never-eligible reasons whose goods cannot (a
    package with such goods takes an informal or formal entry); with ``--hts``, ``barred_by`` the classes that
    bar these goods (empty: none) and ``open_by`` those that bar some of the goods a short code covers (the
    longer code decides); both null without ``--hts``."""

    excludes: tuple[str, ...]
    barred_by: tuple[str, ...] | None
    open_by: tuple[str, ...] | None


@dataclass(frozen=True)
class InForce:
    """One rule in force: what it is, what it says, and where it comes from (``sources``: the URL of each source
    tag of its citation, from the pack's ``sources.toml``); for a measure or gap, how it is charged
    (``charge``); for a postal regime, which goods may use it (``postal_use``); for the exchange-rate table
    (kind ``fx-rates``, id its file), the currencies it converts on the date (``fx``); ``note``, the pack's note on
    it (why it is ``unconfirmed`` or ``conflict``, where it is), blanks run together.

    ``period`` is ``effective_from → effective_to`` as the pack writes them (the end EXCLUSIVE: the first day
    the rule no longer holds; ``open`` without one); ``last_day`` the last day it holds (null when open);
    ``dates`` both days inclusive, as people read them."""

    kind: str
    rule_id: str
    summary: str
    confidence: str
    citation: str
    period: str
    last_day: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    charge: Charge | None = None
    postal_use: PostalUse | None = None
    note: str | None = None
    fx: FxCoverage | None = None

    @property
    def dates(self) -> str:
        """``2025-05-02 to 2025-05-13 (last day)``, ``2025-04-09 only (one day)`` or ``from 2016-03-10, no end
        date`` (empty for an entry without a period)."""
        first = self.period.partition(" → ")[0]
        return dates_text(dt.date.fromisoformat(first), self.last_day) if first else ""


def last_day(end: dt.date | None) -> str | None:
    """The last day a rule holds, from its exclusive ``effective_to`` (null when open-ended)."""
    return None if end is None else (end - dt.timedelta(days=1)).isoformat()


def dates_text(first: dt.date, last: str | None) -> str:
    """A period with both of its days inclusive, so that a one-day rule does not read as two."""
    if last is None:
        return f"from {first}, no end date"
    if last == first.isoformat():
        return f"{first} only (one day)"
    return f"{first} to {last} (last day)"


def rules_in_force(
    pack: RulePack,
    day: dt.date,
    *,
    origin: str | None = None,
    hts: str | None = None,
    mode: str | None = None,
) -> list[InForce]:
    """Every rule of ``pack`` in force on ``day`` that concerns the given origin, HTS code and mode (the risk
    rules whatever they are: their conditions read more than these; the sampling rates of the strata that hold).

    Raises:
        UsageError: ``day`` is outside the dates the pack covers, or ``origin`` is not an assigned country
            code (a run rejects such lines: ``date-outside-pack``, ``unknown-country``).
    """
    meta = pack.meta
    if day < meta.covers_from or (meta.covers_to is not None and day >= meta.covers_to):
        covered = dates_text(meta.covers_from, last_day(meta.covers_to))
        raise UsageError(f"{day} is outside the dates pack {meta.id} covers ({covered})")
    if origin is not None and origin not in known_countries():
        raise UsageError(f"{origin!r} is not an assigned ISO 3166-1 country code")
    if hts is not None and not re.fullmatch(VALID_HTS_CODE, hts):
        raise UsageError(f"HTS code {hts!r} must have 6, 8 or 10 digits (dots allowed)")
    out: list[InForce] = [_fx_entry(pack, day)]
    dm = pack.de_minimis
    out += [
        _entry("threshold", r, f"${r.amount_usd} per person per day")
        for r in dm.thresholds
        if r.in_force(day)
    ]
    out += [_entry("gift", r, _gift_text(r)) for r in dm.gifts if r.in_force(day)]
    out += [
        _entry("suspension", r, f"{r.reason} for {_origins_text(r)} ({', '.join(r.modes)})")
        for r in dm.suspensions
        if r.in_force(day)
        and r.in_force_as_written
        and _origin_ok(r, origin)
        and (mode is None or mode in r.modes)
    ]
    digits = hts_digits_of(hts) if hts is not None else None
    out += [
        _entry("suspension-exception", r, _exception_text(r, digits))
        for r in dm.suspension_exceptions
        if r.in_force(day) and (digits is None or digits.startswith(r.hts_prefixes))
    ]
    covering = _never_eligible_covering(pack, day, origin, hts) if hts is not None else None
    # Classes that list codes under a short code: the longer code decides (eligibility is left open).
    partly = set(_partly_covering(pack, day, origin, hts)) - (covering or set()) if hts is not None else set()
    out += [
        _entry("never-eligible", r, _never_eligible_text(r, hts, partly=r.id in partly))
        for r in dm.never_eligible
        if r.in_force(day)
        and (covering is None or r.id in covering or r.id in partly)
        and (origin is None or "*" in r.origins or origin in r.origins)
    ]
    out += [_entry("entry-limit", r, _entry_limit_text(r)) for r in dm.entry_limits if r.in_force(day)]
    out += [
        _entry(
            "fee",
            r,
            f"{r.component} {_fee_text(r)} on {', '.join(r.entry_types)} ({', '.join(r.modes)})"
            + _MAIL_TEXT[r.mail],
        )
        for r in pack.fees.fees
        if r.in_force(day) and (mode is None or mode in r.modes)
    ]
    postal = [
        r
        for r in pack.tariff.postal
        if r.in_force(day)
        and (origin is None or "*" in r.origins or origin in r.origins)
        and mode in (None, "postal")
    ]
    duties = _measures(pack, day, origin=origin, hts=hts, mode=mode)
    if hts is not None:
        duties += _tariff_line(pack, day, hts)
    use = _postal_use(pack, day, origin, hts, covering)
    out += _replaced_on_mail(duties, postal, mode, _postal_bar_note(pack, use, origin, hts))
    out += [
        replace(
            _entry("postal", r, _postal_summary(pack, r, use, origin, hts)),
            postal_use=use,
        )
        for r in postal
    ]
    out += [
        _entry("risk", r, f"{r.description}: +{r.weight} ({r.severity}, queue {r.queue})")
        for r in pack.risk.rules
        if r.in_force(day)
    ]
    sampling = pack.queues.sampling
    rates = [
        r
        for r in (sampling.rates if sampling is not None else ())
        if r.in_force(day)
        and (mode is None or r.mode in ("*", mode))
        and (origin is None or r.origin in ("*", origin))
    ]
    if mode is not None and origin is not None and rates:
        # The most specific stratum wins (mode and origin, then origin, then mode, then any): the package's rate.
        rates = [min(rates, key=lambda r: (r.origin == "*", r.mode == "*"))]
    out += [
        _entry("sample-rate", r, f"{r.rate} of packages by {r.mode} from {r.origin} (* is any)")
        for r in rates
    ]
    return _with_sources(pack, out)


def _fx_entry(pack: RulePack, day: dt.date) -> InForce:
    """The exchange-rate table: what it converts on ``day`` (every line in another currency needs it)."""
    table = pack.fx.rates
    coverage = fx_coverage(pack, day)
    return InForce(
        "fx-rates",
        table.file,
        coverage.summary(),
        table.confidence,
        table.citation.render(),
        "",
        fx=coverage,
    )


def _with_sources(pack: RulePack, entries: list[InForce]) -> list[InForce]:
    """``entries``, each cited one with the URLs of its citation's source tags."""
    cited = {rule.id: rule.citation for rule in pack.all_rules()}
    special = {"tariff-line": pack.tariff.mfn.citation, "fx-rates": pack.fx.rates.citation}
    return [
        replace(e, sources=pack.source_urls(special.get(e.kind) or cited[e.rule_id])) if e.citation else e
        for e in entries
    ]


def sources_shown(entries: list[InForce]) -> list[tuple[str, str]]:
    """Each source tag of ``entries`` once, with its URL, in tag order (S2 before S10, S37 before S37b)."""
    found = {tag: url for entry in entries for tag, url in entry.sources.items()}
    return sorted(found.items(), key=lambda item: (int(re.sub(r"\D", "", item[0])), item[0]))


def _postal_text(regime: PostalRegime, origin: str | None) -> str:
    """The regime's method and rate (for an origin-rate regime, the origin's rate, or that it has none), then its
    per-item method where it offers one (:func:`_per_item_text`)."""
    return _ad_valorem_text(regime, origin) + _per_item_text(regime, origin)


def _ad_valorem_text(regime: PostalRegime, origin: str | None) -> str:
    if regime.method != "origin-rate":
        rate = f" {regime.ad_valorem_rate}" if regime.ad_valorem_rate is not None else ""
        return f"{regime.method}{rate}"
    if origin is None:
        rates = ", ".join(f"{code} {rate}" for code, rate in sorted(regime.origin_rates.items()))
        return f"origin-rate ({rates}; other origins: no rate in the pack, duty not computable)"
    own = regime.origin_rates.get(origin)
    if own is None:
        return f"origin-rate: no rate for {origin} in the pack (duty not computable)"
    return f"origin-rate {own} for {origin}"


#: How ``screen run`` takes a regime's per-item method instead of its ad valorem one.
_SPECIFIC_OPTION = "--postal-method specific"


def _per_item_text(regime: PostalRegime, origin: str | None) -> str:
    """The regime's specific method (DOMAIN.md 1a, method B), as ``--postal-method specific`` charges it: a flat
    amount per postal item, or bands by the origin's rate (with ``origin``, the band of its rate); ``""`` where
    the regime offers none."""
    if regime.specific_per_item_usd is not None:
        return f"; or ${regime.specific_per_item_usd} per item ({_SPECIFIC_OPTION})"
    own = regime.origin_rates.get(origin) if origin is not None else None
    if not regime.specific_bands or (origin is not None and own is None):
        return (
            ""  # none offered, or the origin has no rate: no band (the ad valorem text says not computable)
        )
    bands, below = [], ""
    for band in regime.specific_bands:
        if band.max_rate is None:
            bands.append(f"${band.usd} {below}")
        else:
            bands.append(f"${band.usd} {'up to' if band.max_inclusive else 'under'} {band.max_rate}")
            below = f"over {band.max_rate}" if band.max_inclusive else f"from {band.max_rate}"
    band_here = f": ${per_item_usd(regime, own)} for {origin}" if own is not None else ""
    return f"; or per item by the origin's rate ({_SPECIFIC_OPTION}): {', '.join(bands)}{band_here}"


def _replaced_on_mail(
    duties: list[InForce], postal: list[PostalRegime], mode: str | None, bar: str | None
) -> list[InForce]:
    """``duties`` (measures and the tariff line), each marked as replaced when ``mode`` is postal and a flat
    postal regime charges mail in lieu of them: for the regime's origins only (``postal`` holds the regimes of
    the origin asked for, or of every origin), and not for goods barred from the postal method (``bar`` is
    :func:`_postal_bar_note`: ``""`` for goods wholly barred, else what the mark adds, if anything)."""
    flat = [r for r in postal if r.method in FLAT_POSTAL_METHODS]
    if mode != "postal" or not flat or bar == "":
        return duties
    regimes = "; ".join(
        f"{r.id}" + ("" if "*" in r.origins else f" (mail from {', '.join(r.origins)})") for r in flat
    )
    words = _barred_words(BARRED_FROM_POSTAL)
    note = (
        f" [on mail: replaced by postal regime {regimes}, in lieu of other duties; {words} goods excepted"
        f"{bar or ''}]"
    )
    return [
        replace(d, summary=d.summary + note) if d.kind in ("measure", "tariff-line") else d for d in duties
    ]


#: What goods of each never-eligible reason are, in a sentence.
_REASON_WORDS = {
    "dm-excluded-adcvd": "AD/CVD",
    "dm-excluded-quota": "quota",
    "dm-excluded-excise": "excise",
}


def _barred_words(reasons: tuple[str, ...] | list[str]) -> str:
    """``('dm-excluded-adcvd', 'dm-excluded-quota')`` → ``'AD/CVD or quota'``."""
    words = list(dict.fromkeys(_REASON_WORDS.get(r, r) for r in reasons))
    return " or ".join(words) if len(words) < 3 else f"{', '.join(words[:-1])} or {words[-1]}"


def _postal_use(
    pack: RulePack, day: dt.date, origin: str | None, hts: str | None, covering: set[str] | None
) -> PostalUse:
    """Which goods may use the postal regimes on ``day``, as a run decides: goods in an AD/CVD or quota class
    (:data:`~screening.stages.decide.BARRED_FROM_POSTAL`) cannot, and a short code that covers such goods and
    others leaves it to the longer code."""
    if hts is None or covering is None:
        return PostalUse(BARRED_FROM_POSTAL, None, None)
    barring = tuple(
        sorted(
            r.id
            for r in pack.de_minimis.never_eligible
            if r.id in covering and r.reason in BARRED_FROM_POSTAL
        )
    )
    return PostalUse(BARRED_FROM_POSTAL, barring, () if barring else _partly_barring(pack, day, origin, hts))


def _partly_barring(pack: RulePack, day: dt.date, origin: str | None, hts: str) -> tuple[str, ...]:
    """The AD/CVD and quota classes (of ``origin``, else of any) that list codes longer than ``hts`` under it,
    as :func:`~screening.stages.decide.attach_partly_barred` finds them."""
    return _partly_covering(pack, day, origin, hts, BARRED_FROM_POSTAL)


def _partly_covering(
    pack: RulePack, day: dt.date, origin: str | None, hts: str, reasons: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """The never-eligible classes (of ``reasons``, else of any; of ``origin``, else of any) that list codes longer
    than ``hts`` under it, as :func:`~screening.stages.decide.attach_partly_barred` finds them."""
    digits = hts_digits_of(hts)
    classes = resolve(pack, [day]).never_eligible.filter(
        pl.lit(reasons is None) | pl.col("exclusion_reason").is_in(list(reasons or ())),
        pl.col("hts_prefix").str.len_chars() > len(digits),
        pl.col("hts_prefix").str.starts_with(digits),
        pl.lit(origin is None) | pl.col("origin").is_in(["*", origin or "*"]),
    )
    return tuple(sorted(set(classes["exclusion_rule_id"].to_list())))


def _classes_text(pack: RulePack, ids: tuple[str, ...], origin: str | None) -> tuple[str, str]:
    """The classes ``ids`` in words (``'AD/CVD goods of never-eligible class adcvd-cn-steel-nails'``) and,
    without an origin asked for, the origins they are limited to (``' from CN'``; ``''`` when one is for every
    origin)."""
    rules = [r for r in pack.de_minimis.never_eligible if r.id in ids]
    classes = "class" if len(ids) == 1 else "classes"
    named = f"{_barred_words([r.reason for r in rules])} goods of never-eligible {classes} {', '.join(ids)}"
    if origin is not None or any("*" in r.origins for r in rules):
        return named, ""
    return named, f" from {', '.join(sorted({c for r in rules for c in r.origins}))}"


def _postal_bar_note(pack: RulePack, use: PostalUse, origin: str | None, hts: str | None) -> str | None:
    """What a duty replaced on mail adds about goods barred from the postal method: ``""`` when these goods
    are (no duty is replaced), the origins barred or the longer code deciding, else null."""
    if use.barred_by:
        named, origins = _classes_text(pack, use.barred_by, origin)
        return f"; not for these goods{origins} ({named})" if origins else ""
    if use.open_by:
        named, origins = _classes_text(pack, use.open_by, origin)
        return f"; some goods under {hts}{origins} are {named}: the longer code decides"
    return None


#: Why goods of a class barred from the postal method do not use a postal regime.
_CANNOT_USE = "a package with them cannot use the postal method and takes an informal or formal entry"


def _postal_summary(
    pack: RulePack, regime: PostalRegime, use: PostalUse, origin: str | None, hts: str | None
) -> str:
    """The regime's method and rate (:func:`_postal_text`) and the goods that cannot use it: those it excludes
    (no ``--hts``), these goods (marked first: the regime is not theirs), or that the longer code decides."""
    method = _postal_text(regime, origin)
    if use.barred_by is None:
        words = _barred_words(use.excludes)
        return f"{method}; not for {words} goods (never-eligible {', '.join(use.excludes)}): {_CANNOT_USE}"
    if use.barred_by:
        named, origins = _classes_text(pack, use.barred_by, origin)
        return f"not for these goods{origins} ({named}: {_CANNOT_USE}); {method}"
    if use.open_by:
        named, origins = _classes_text(pack, use.open_by, origin)
        return (
            f"{method}; whether these goods may use it depends on the longer code: some goods under {hts}"
            f"{origins} are {named}, and {_CANNOT_USE}"
        )
    return method


#: Prefix lists longer than this are shortened in summaries (the pack file has them all).
SHOWN_PREFIXES = 12


def _never_eligible_text(rule: NeverEligible, hts: str | None, *, partly: bool = False) -> str:
    """Reason, origins and HTS prefixes: the matching prefix when a code is asked for, else the list (shortened);
    ``partly``: the class lists codes under the short code ``hts``, not all of it (the longer code decides)."""
    origins = "" if "*" in rule.origins else f" from {', '.join(rule.origins)}"
    prefixes = rule.hts_prefixes
    digits = hts_digits_of(hts) if hts is not None else ""
    if hts is not None and digits.startswith(prefixes):
        shown = [max((p for p in prefixes if digits.startswith(p)), key=len)]
    elif hts is not None:  # a short code whose every tariff line is in the class
        shown = [p for p in prefixes if p.startswith(digits)][:SHOWN_PREFIXES]
    else:
        shown = list(prefixes[:SHOWN_PREFIXES])
    more = f" … ({len(prefixes):,} prefixes)" if len(prefixes) > len(shown) else ""
    waived = (
        f"; not for a package worth ${rule.waived_at_most_usd} or less" if rule.waived_at_most_usd else ""
    )
    part = (
        f"; covers {hts} in part: whether these goods are in the class depends on the longer code, so a package"
        " that would otherwise pass free of duty is not released"
        if partly
        else ""
    )
    return f"{rule.reason}{origins}: HTS {', '.join(shown)}{more}{waived}{part}"


def _exception_text(rule: SuspensionException, digits: str | None) -> str:
    """The suspensions an exception takes goods out of, and its HTS prefixes: the matching one when a code is
    asked for (a shorter code stays suspended: :func:`~screening.stages.decide.attach_suspension_exceptions`),
    else the list (shortened)."""
    prefixes = rule.hts_prefixes
    if digits is not None:
        shown = [max((p for p in prefixes if digits.startswith(p)), key=len)]
    else:
        shown = list(prefixes[:SHOWN_PREFIXES])
    more = f" … ({len(prefixes):,} prefixes)" if len(prefixes) > len(shown) else ""
    return f"not under suspension {', '.join(rule.suspensions)}: HTS {', '.join(shown)}{more}"


def _never_eligible_covering(pack: RulePack, day: dt.date, origin: str | None, hts: str) -> set[str]:
    """The never-eligible classes a run would put ``hts`` in on ``day`` (from ``origin``, else from any), as
    :func:`~screening.stages.decide.exclusions_for_keys` judges: a short code by every tariff line under it."""
    resolved = resolve(pack, [day])
    keys = pl.DataFrame(
        {"country_of_origin": [origin] if origin is not None else list(known_countries())}
    ).with_columns(arrival_date=pl.lit(day, dtype=pl.Date()), hts_digits=pl.lit(hts_digits_of(hts)))
    found = exclusions_for_keys(keys, resolved.never_eligible, resolved.tariff).collect()
    return set(found["exclusion_rule_id"].to_list()) | set(
        found["exclusion_barring_rule_id"].drop_nulls().to_list()
    )


def hts_digits_of(code: str) -> str:
    """``'6109.10.00.12'`` → ``'6109100012'``."""
    return "".join(ch for ch in code if ch.isdigit())


def _gift_text(rule: GiftExemption) -> str:
    """The gift limit, and the higher limits of gifts sent from some countries (whatever the goods' origin)."""
    others = "".join(f"; ${limit} sent from {code}" for code, limit in sorted(rule.sender_limits.items()))
    return f"bona fide gifts up to ${rule.limit_usd} per person per day{others}"


def _concerns(rule: Scoped, origin: str | None, mode: str | None) -> bool:
    """Whether a measure (or gap) applies to ``origin`` and ``mode`` (either unknown: any)."""
    named = "*" in rule.origins or origin in rule.origins
    by_origin = origin is None or (named and origin not in rule.origins_exclude)
    return by_origin and (mode is None or mode in rule.modes)


def _origin_ok(rule: Suspension, origin: str | None) -> bool:
    named = "*" in rule.origins or origin in rule.origins
    return origin is None or (named and origin not in rule.origins_exclude)


def _usmca_parties(pack: RulePack) -> list[str]:
    """The origins whose goods a USMCA claim can concern."""
    return list(pack.tariff.usmca.parties) if pack.tariff.usmca is not None else []


def _usmca_goods(pack: RulePack) -> str:
    parties = pack.tariff.usmca.parties if pack.tariff.usmca is not None else ()
    return f"{'/'.join(parties)} goods" if parties else "goods of a party (the pack names none)"


def _origins_text(rule: Suspension) -> str:
    but = f" but {', '.join(rule.origins_exclude)}" if rule.origins_exclude else ""
    return f"{', '.join(rule.origins)}{but}"


def _entry_limit_text(limit: EntryLimit) -> str:
    """An entry limit in words: the informal limit, and the lower one for Chapter 99 articles when it has one."""
    text = f"informal up to ${limit.informal_max_usd}"
    if limit.chapter99_max_usd is None:
        return text
    headings = ", ".join(limit.chapter99_headings)
    lower = f"up to ${limit.chapter99_max_usd} of articles charged under Chapter 99 headings {headings}"
    if limit.chapter99_suspended:
        return f"{text}; the limit of {lower} is suspended (packages over it stay informal)"
    return f"{text}; {lower}"


#: Which mail a fee is for (:attr:`~screening.rulepack.models.Fee.mail`), after its entry types and modes.
_MAIL_TEXT: dict[str, str] = {
    "all": "",
    "no-postal-regime": " for mail with no postal regime in force",
    "barred-from-postal-regime": " for mail barred from the postal regime in force (AD/CVD, quota goods)",
}


def _fee_text(fee: Fee) -> str:
    if fee.kind == "unknown" and fee.may_not_be_owed:
        return "owed on some packages only, amount not known: left out of fees and total (its note says why)"
    if fee.kind == "unknown":
        return "of unknown amount, its note says why (fees and total left empty)"
    if fee.amount_usd is not None:
        return f"${fee.amount_usd}"
    bounds = f" (min ${fee.min_usd}, max ${fee.max_usd})" if fee.min_usd is not None else ""
    return f"{fee.rate} of value{bounds}"


def _entry(kind: str, rule: Rule, summary: str) -> InForce:
    period = f"{rule.effective_from} → {rule.effective_to or 'open'}"
    return InForce(
        kind,
        rule.id,
        summary,
        rule.confidence,
        rule.citation.render(),
        period,
        last_day(rule.effective_to),
        note=" ".join(rule.note.split()) if rule.note else None,
    )


#: The kinds of entry whose note ``screen rules show`` prints, where the pack does not hold the rule settled: the
#: rules that charge a package (duties, fees, postal regimes) and the suspensions (a decision rule's note is also
#: in the run's summary and ``screen explain``, a risk rule's in its catalogue; ``--json`` carries every note).
NOTED_KINDS: Final = frozenset({"suspension", "suspension-exception", "fee", "measure", "gap", "postal"})


def note_shown(entry: InForce) -> str | None:
    """The note ``screen rules show`` prints under ``entry``: why a rule of :data:`NOTED_KINDS` the pack marks
    ``unconfirmed`` or ``conflict`` is so (null for a settled rule, another kind, or a rule without a note)."""
    if entry.confidence == "confirmed" or entry.kind not in NOTED_KINDS:
        return None
    return entry.note


def _shared_ending(one: str, other: str) -> int:
    """How many characters ``one`` and ``other`` end with in common."""
    return sum(
        1
        for _ in itertools.takewhile(
            lambda pair: pair[0] == pair[1], zip(one[::-1], other[::-1], strict=False)
        )
    )


#: A note ending as an earlier one does, in this many characters or more, is printed up to where they part.
SHARED_ENDING = 200


def notes_shown(entries: list[InForce]) -> list[str | None]:
    """Per entry, the note ``screen rules show`` prints (:func:`note_shown`), kept short: the measures of one
    program share long closing text (the 2026 Section 232 notes, some 1,800 characters), so a note whose ending
    an earlier note printed already shares (:data:`SHARED_ENDING` characters or more) is printed up to there, and
    names that note for the rest."""
    printed: list[tuple[str, str]] = []
    out: list[str | None] = []
    for entry in entries:
        note = note_shown(entry)
        if note is None:
            out.append(None)
            continue
        shared, same_as = 0, ""
        for rule_id, earlier in printed:
            length = _shared_ending(note, earlier)
            if length > shared:
                shared, same_as = length, rule_id
        printed.append((entry.rule_id, note))
        if shared < SHARED_ENDING:
            out.append(note)
            continue
        if shared >= len(note):  # the whole note is an earlier one's ending
            out.append(f"as {same_as} above")
            continue
        # Part at a word: the shared ending may start inside one.
        cut = note.find(" ", len(note) - shared)
        head = note[: cut if cut != -1 else len(note)].rstrip()
        out.append(f"{head} … (the rest as the note of {same_as} above)" if head else f"as {same_as} above")
    return out


def _measures(
    pack: RulePack, day: dt.date, *, origin: str | None, hts: str | None, mode: str | None
) -> list[InForce]:
    rules: dict[str, Scoped] = {
        r.id: r
        for r in (*pack.tariff.measures, *pack.tariff.gaps)
        if r.in_force_as_written and r.in_force(day)
    }
    open_for: set[str] = set()
    exempt_here: dict[str, str] = {}
    if hts is not None:
        # Without a mode: what applies in any mode; without an origin, from any origin (the HTS scope counts).
        modes = [mode] if mode is not None else ["express", "postal", "cargo"]
        origins = [origin] if origin is not None else list(known_countries())
        resolved = resolve(pack, [day])
        key = (
            pl.LazyFrame(
                {
                    "country_of_origin": origins,
                }
            )
            .join(pl.LazyFrame({"mode": modes}), how="cross")
            .join(pl.LazyFrame({USMCA_CLAIMED: [False, True]}), how="cross")
            # A claim counts only on the goods of a USMCA party (as a run reads usmca_claim).
            .filter(~pl.col(USMCA_CLAIMED) | pl.col("country_of_origin").is_in(_usmca_parties(pack)))
            .with_columns(arrival_date=pl.lit(day, dtype=pl.Date()), hts_digits=pl.lit(hts_digits_of(hts)))
        )
        # What applies to the goods unclaimed; a claim under USMCA only says where it lifts an exemption.
        claimed = pl.col(USMCA_CLAIMED)
        charged = pl.col("exemption").is_null() & ~claimed
        applied = (
            measures_for_keys(
                key, resolved.measures, resolved.measure_scope, resolved.tariff, exemptions=True
            )
            .group_by("measure_id")
            .agg(
                charged.any().alias("charged"),
                (pl.col("exemption").is_null() & claimed).any().alias("charged_if_claimed"),
                pl.col("undetermined").filter(charged).all(),
                pl.col("exemption").filter(~claimed).drop_nulls().unique().sort().first(),
            )
            .filter(pl.col("charged") | pl.col("exemption").is_not_null())
            .collect()
        )
        wanted = set(applied["measure_id"].to_list())
        open_for = set(applied.filter(pl.col("charged") & pl.col("undetermined"))["measure_id"].to_list())
        # In scope but removed on every key by a stacking group it is not_with (Section 232 goods and the
        # Section 122 surcharge): listed, saying so.
        exempt_here = {
            row["measure_id"]: row["exemption"].removeprefix(EXEMPTION_PREFIX).strip()
            + (", unless the goods are claimed under USMCA (the claim spares them that duty)"
               if row["charged_if_claimed"] else "")
            for row in applied.filter(~pl.col("charged")).iter_rows(named=True)
        }  # fmt: skip
    else:
        wanted = {r.id for r in rules.values() if _concerns(r, origin, mode)}
    listed = [rules[rid] for rid in sorted(wanted) if rid in rules]
    groups = [r.stacking_group for r in listed if isinstance(r, Measure)]
    shared = {g for g in groups if groups.count(g) > 1}
    mfn = _mfn_ad_valorem(pack, day, hts) if hts is not None else None
    entries = []
    for rule in listed:
        open_note = (
            f"; lists some of the goods under {hts} and not others: the longer code decides"
            if rule.id in open_for
            else ""
        )
        charge = _charge(rule, None if rule.id in open_for or rule.id in exempt_here else mfn)
        charge = replace(charge, exempt_here=exempt_here.get(rule.id), scope=_scope(pack, rule, day))
        text = (
            _measure_text(
                pack,
                rule,
                charge,
                mfn,
                origin=origin,
                shared=shared,
                asked=(origin is not None, mode is not None, hts is not None),
            )
            + open_note
        )
        if charge.exempt_here is not None:
            text += f"; not charged on these goods: {charge.exempt_here}"
        kind = "measure" if isinstance(rule, Measure) else "gap"
        entries.append(replace(_entry(kind, rule, text), charge=charge))
    return entries


@dataclass(frozen=True)
class _WithSpecific:
    """An MFN rate with a specific part beside its ad valorem part ``ad_valorem`` (0 where it has none): a
    top-up over it is 0 where ``ad_valorem`` alone meets the top-up's rate, else not computed."""

    ad_valorem: Decimal


#: The line's MFN rate as a top-up reads it (:func:`_mfn_ad_valorem`), or why it is not known.
MfnForTopUp = Decimal | _WithSpecific | str


def _scope(pack: RulePack, rule: Scoped, day: dt.date) -> Scope:
    """Where ``rule`` applies on ``day``: its origins and modes, and its HTS lists (inline and tables) shortened
    to their first :data:`SHOWN_SCOPE_CODES` codes in force that day, with their counts."""
    rows = pack.measure_scope.filter(
        pl.col("measure_id") == rule.id,
        pl.col("effective_from").is_null() | (pl.col("effective_from") <= day),
        pl.col("effective_to").is_null() | (pl.col("effective_to") > day),
    )
    lists = {
        kind: rows.filter(pl.col("kind") == kind)["hts_prefix"].to_list() for kind in ("include", "exclude")
    }
    return Scope(
        rule.origins,
        rule.origins_exclude,
        rule.modes,
        tuple(lists["include"][:SHOWN_SCOPE_CODES]),
        len(lists["include"]),
        tuple(lists["exclude"][:SHOWN_SCOPE_CODES]),
        len(lists["exclude"]),
    )


def _scope_text(scope: Scope, *, asked: tuple[bool, bool, bool]) -> list[str]:
    """``['for CN, HK', 'every mode', 'HTS 6110, 6111, … (12 codes)']``: the origins, modes and HTS codes,
    each unless ``asked`` for (``--origin``, ``--mode``, ``--hts``: the measure is listed as it covers them)."""
    origin_asked, mode_asked, hts_asked = asked
    parts = []
    if not origin_asked:
        origins = "every origin" if "*" in scope.origins else ", ".join(scope.origins)
        but = f" but {', '.join(scope.origins_exclude)}" if scope.origins_exclude else ""
        parts.append(f"for {origins}{but}")
    if not mode_asked:
        parts.append("every mode" if set(scope.modes) == set(ALL_MODES) else f"by {', '.join(scope.modes)}")
    if not hts_asked:
        listed = (
            f"HTS {_codes_text(scope.hts_include, scope.hts_include_count)}"
            if scope.hts_include_count
            else "every HTS code"
        )
        left_out = (
            f" except {_codes_text(scope.hts_exclude, scope.hts_exclude_count)}"
            if scope.hts_exclude_count
            else ""
        )
        parts.append(f"{listed}{left_out}")
    return parts


def _codes_text(shown: tuple[str, ...], count: int) -> str:
    """``'6110, 6111, … (12 codes)'``; the codes alone when they are all shown."""
    more = f", … ({count:,} codes)" if count > len(shown) else ""
    return f"{', '.join(shown)}{more}"


def _mfn_ad_valorem(pack: RulePack, day: dt.date, hts: str) -> MfnForTopUp:
    """The line's MFN ad valorem rate a top-up is charged less (the engine's ``_measure_rate``: for a rate with a
    specific part, its ad valorem part, enough only where it meets the top-up's rate; none for a rate not
    computed), or why there is none."""
    row = _tariff_row(resolve(pack, [day]), day, hts)
    if row is None:
        return "no tariff line is in force for the code, so its MFN rate is not known"
    if row[MFN_TOO_SHORT]:
        return "the tariff lines under the code charge different MFN rates: the longer code decides"
    if row["mfn_status"] != "computable":
        return "the engine does not compute the line's MFN rate"
    found: Decimal = row["ad_valorem"] if row["ad_valorem"] is not None else Decimal(0)
    return found if row["specific_usd"] is None else _WithSpecific(found)


def _charge(rule: Scoped, mfn: MfnForTopUp | None) -> Charge:
    """How ``rule`` is charged; ``rate_here`` from the line's MFN rate ``mfn`` (null: no line asked for, or
    the code leaves the measure open)."""
    if not isinstance(rule, Measure):
        base = rule.base if isinstance(rule, CoverageGap) else "value"
        return Charge(None, None, None, base, rule.usmca_exempt, (), None, None)
    here: str | None = None
    if mfn is not None and rule.rate_rule == "fixed":
        here = str(rule.rate)
    elif isinstance(mfn, Decimal):
        here = _plain(max(Decimal(0), rule.rate - mfn))
    elif isinstance(mfn, _WithSpecific) and mfn.ad_valorem >= rule.rate:
        here = "0"
    return Charge(
        str(rule.rate),
        rule.rate_rule,
        here,
        rule.base,
        rule.usmca_exempt,
        rule.not_with,
        rule.stacking_group,
        rule.priority,
        heading_at_or_above_rate=rule.heading_at_or_above_rate,
    )


def _plain(rate: Decimal) -> str:
    """``Decimal('0.05000000')`` → ``'0.05'``."""
    return f"{rate.normalize():f}"


def _percent(rate: Decimal) -> str:
    """``Decimal('0.15')`` → ``'15%'``."""
    return f"{(rate * 100).normalize():f}%"


def _charged_on(unit: str | None) -> str:
    """What the manifest must give for a specific rate per ``unit`` (nothing for an ad valorem rate)."""
    if unit is None:
        return ""
    if unit == "kg":
        return "; the specific rate is charged on gross_weight_kg"
    if unit in UNIT_DIVISORS:
        return f"; the specific rate is charged on quantity as a count of items (divided by {UNIT_DIVISORS[unit]})"
    return f"; the specific rate is charged on quantity in {unit}"


def _measure_text(
    pack: RulePack,
    rule: Scoped,
    charge: Charge,
    mfn: MfnForTopUp | None,
    *,
    origin: str | None,
    shared: set[str],
    asked: tuple[bool, bool, bool],
) -> str:
    """A measure (or gap) as the engine charges it: the rate (a top-up as such, with the rate on the line
    asked for), the base when it is not the value, the exemptions it declares, its place in a stacking
    group shared with others listed, where it applies that was not ``asked`` (:func:`_scope_text`), what a gap
    is owed in place of, and the measure's assumption."""
    above = charge.heading_at_or_above_rate
    at_or_above = above is not None and charge.rate_here is not None and Decimal(charge.rate_here) == 0
    shown = above if at_or_above else rule.heading
    heading = f" {shown}" if shown else ""
    parts = [f"{rule.component}{heading}: {_rate_text(rule, charge, mfn)}"]
    if above is not None and charge.rate_here is None and isinstance(rule, Measure):
        parts.append(
            f"heading {above} where the line's MFN rate is {_percent(rule.rate)} or more (nothing added)"
        )
    parts += _base_text(charge.base)
    parties = pack.tariff.usmca.parties if pack.tariff.usmca is not None else ()
    if charge.usmca_exempt and parties and (origin is None or origin in parties):
        parts.append(f"not on {_usmca_goods(pack)} claimed under USMCA (usmca_claim)")
    if charge.not_with:
        parts.append(f"not charged on a line that also carries a duty of {_groups_text(charge.not_with)}")
    if charge.stacking_group in shared:
        parts.append(
            f"stacking group {charge.stacking_group}, priority {charge.priority} (of the group's measures on a "
            "line, the lowest priority is charged)"
        )
    parts += _scope_text(charge.scope, asked=asked) if charge.scope is not None else []
    in_place_of = getattr(rule, "in_place_of", None)
    if in_place_of:
        parts.append(f"owed in place of the {in_place_of} duty (which says so on the gap's lines)")
    assumption = getattr(rule, "assumption", None)
    if assumption:
        parts.append(f"assumption: {assumption}")
    return "; ".join(parts)


def _rate_text(rule: Scoped, charge: Charge, mfn: MfnForTopUp | None) -> str:
    """The rate as written; a top-up as "15% all-in: 15% less the line's MFN rate", with the rate on the
    line asked for (or why it is not computed)."""
    if not isinstance(rule, Measure):
        return "not encoded (pack-incomplete)"
    if rule.rate_rule != "top_up":
        return f"{rule.rate}"
    rate = _percent(rule.rate)
    text = f"{rate} all-in: {rate} less the line's MFN rate (not below 0)"
    here = _top_up_here(rule.rate, charge, mfn)
    return f"{text}; {here}" if here is not None else text


def _top_up_here(cap: Decimal, charge: Charge, mfn: MfnForTopUp | None) -> str | None:
    """A top-up to ``cap`` on the line asked for: ``here 5% (MFN 10%)``, or why it is not computed."""
    rate = _percent(cap)
    if isinstance(mfn, Decimal) and charge.rate_here is not None:
        return f"here {_percent(Decimal(charge.rate_here))} (MFN {_percent(mfn)})"
    if isinstance(mfn, _WithSpecific) and charge.rate_here is not None:
        return f"here 0% (MFN {_percent(mfn.ad_valorem)} + a specific part: at least {rate})"
    if isinstance(mfn, _WithSpecific) and mfn.ad_valorem < cap:
        why = (
            "the line's MFN rate has a specific part, whose ad valorem equivalent the engine does not compute"
        )
        if mfn.ad_valorem > 0:
            why += f" (its ad valorem part, {_percent(mfn.ad_valorem)}, is below {rate})"
        return f"here not computed: {why}"
    if isinstance(mfn, str) and charge.rate_here is None:
        return f"here not computed: {mfn}"
    return None


def _base_text(base: str) -> list[str]:
    """What a measure (or a gap's missing duty) is charged on, when it is not the line's value."""
    if base == "metal_content":
        return [
            "charged on the metal content (value × metal_content_share; the full value when the share is not "
            "given)"
        ]
    if base == "non_metal_content":
        return [
            "the missing duty is on the non-metal content (value × (1 − metal_content_share)): a line that is "
            "all metal is not in the gap"
        ]
    return []


def _groups_text(groups: tuple[str, ...]) -> str:
    """``('s232_steel', 's232_autos')`` → ``'stacking group s232_steel or s232_autos'``."""
    if len(groups) == 1:
        return f"stacking group {groups[0]}"
    return f"stacking group {', '.join(groups[:-1])} or {groups[-1]}"


def _tariff_row(resolved: ResolvedRules, day: dt.date, hts: str) -> dict[str, Any] | None:
    """The tariff line a run gives ``hts`` on ``day`` (:func:`~screening.stages.enrich.tariff_lines_for_keys`),
    or none."""
    if resolved.tariff.lines.height == 0:
        return None
    key = pl.LazyFrame({"arrival_date": [day], "hts_code": [hts]}).select(
        "arrival_date", hts_digits(pl.col("hts_code")).alias("hts_digits")
    )
    found = tariff_lines_for_keys(key, resolved.tariff).collect()
    return found.row(0, named=True) if found.height else None


def _tariff_line(pack: RulePack, day: dt.date, hts: str) -> list[InForce]:
    resolved = resolve(pack, [day])
    if resolved.tariff.lines.height == 0:
        first = pack.mfn.select(pl.col("effective_from").min()).item()
        what = f"the pack has no tariff lines on {day} (they start {first}): duty not computable"
        return [
            InForce(
                "tariff-line", "mfn", what, pack.tariff.mfn.confidence, pack.tariff.mfn.citation.render(), ""
            )
        ]
    row = _tariff_row(resolved, day, hts)
    if row is None:
        return [InForce("tariff-line", "mfn", f"no tariff line for {hts}", "confirmed", "", "")]
    if row[MFN_TOO_SHORT]:
        what = f"{hts} is shorter than the tariff lines under it, whose general rates differ: give the longer code"
        if not row[USMCA_TOO_SHORT]:
            usmca = row["usmca_text"]
            what += (
                f"; under a USMCA claim on {_usmca_goods(pack)} every one of them charges USMCA {usmca}"
                if usmca
                else "; none of them has a USMCA rate"
            )
        return [InForce("tariff-line", "mfn", what, "confirmed", "", "")]
    usmca = f"; USMCA {row['usmca_text']}" if row["usmca_text"] else ""
    if row[USMCA_TOO_SHORT]:
        usmca = "; USMCA rates differ between the tariff lines under it: a claim needs the longer code"
    units = pack.mfn.filter(
        (pl.col("hts") == row["tariff_line"])
        & (pl.col("effective_from") <= day)
        & (pl.col("effective_to").is_null() | (pl.col("effective_to") > day))
    )["units"]
    if units.len() and units[0]:
        usmca += f"; statistical units {', '.join(units[0].split('|'))}"
    usmca += _charged_on(row.get("specific_unit"))
    return [
        InForce(
            "tariff-line",
            "mfn",
            f"{row['tariff_line']}: {row['mfn_text']} ({row['mfn_status']}){usmca}",
            pack.tariff.mfn.confidence,
            f"{pack.tariff.mfn.citation.render()}; {row['mfn_revision']}",
            "",
        )
    ]
