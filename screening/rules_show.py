"""What a rule pack has in force on a date, optionally for one origin, HTS code and mode."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace

import polars as pl

from screening.errors import UsageError
from screening.exprs.hts import VALID_HTS_CODE, hts_digits
from screening.rulepack.loader import RulePack
from screening.rulepack.models import (
    EntryLimit,
    Fee,
    GiftExemption,
    NeverEligible,
    PostalRegime,
    Rule,
    Scoped,
    Suspension,
)
from screening.rulepack.reference import known_countries
from screening.rulepack.resolve import resolve
from screening.schema import FLAT_POSTAL_METHODS
from screening.stages.assess import UNIT_DIVISORS, measures_for_keys
from screening.stages.decide import BARRED_FROM_POSTAL, exclusions_for_keys
from screening.stages.enrich import MFN_TOO_SHORT, USMCA_CLAIMED, USMCA_TOO_SHORT, tariff_lines_for_keys


@dataclass(frozen=True)
class InForce:
    """One rule in force: what it is, what it says, and where it comes from (``sources``: the URL of each source
    tag of its citation, from the pack's ``sources.toml``)."""

    kind: str
    rule_id: str
    summary: str
    confidence: str
    citation: str
    period: str
    sources: dict[str, str] = field(default_factory=dict)


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
        until = meta.covers_to or "open"
        raise UsageError(f"{day} is outside the dates pack {meta.id} covers ({meta.covers_from} → {until})")
    if origin is not None and origin not in known_countries():
        raise UsageError(f"{origin!r} is not an assigned ISO 3166-1 country code")
    if hts is not None and not re.fullmatch(VALID_HTS_CODE, hts):
        raise UsageError(f"HTS code {hts!r} must have 6, 8 or 10 digits (dots allowed)")
    out: list[InForce] = []
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
    covering = _never_eligible_covering(pack, day, origin, hts) if hts is not None else None
    out += [
        _entry("never-eligible", r, _never_eligible_text(r, hts))
        for r in dm.never_eligible
        if r.in_force(day)
        and (covering is None or r.id in covering)
        and (origin is None or "*" in r.origins or origin in r.origins)
    ]
    out += [_entry("entry-limit", r, _entry_limit_text(r)) for r in dm.entry_limits if r.in_force(day)]
    out += [
        _entry("fee", r, f"{r.component} {_fee_text(r)} on {', '.join(r.entry_types)} ({', '.join(r.modes)})")
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
    barred = covering is not None and any(
        r.id in covering and r.reason in BARRED_FROM_POSTAL for r in dm.never_eligible
    )
    out += _replaced_on_mail(duties, postal, mode, barred=barred)
    out += [_entry("postal", r, _postal_text(r, origin)) for r in postal]
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


def _with_sources(pack: RulePack, entries: list[InForce]) -> list[InForce]:
    """``entries``, each cited one with the URLs of its citation's source tags."""
    cited = {rule.id: rule.citation for rule in pack.all_rules()}
    return [
        replace(
            e,
            sources=pack.source_urls(
                pack.tariff.mfn.citation if e.kind == "tariff-line" else cited[e.rule_id]
            ),
        )
        if e.citation
        else e
        for e in entries
    ]


def sources_shown(entries: list[InForce]) -> list[tuple[str, str]]:
    """Each source tag of ``entries`` once, with its URL, in tag order (S2 before S10, S37 before S37b)."""
    found = {tag: url for entry in entries for tag, url in entry.sources.items()}
    return sorted(found.items(), key=lambda item: (int(re.sub(r"\D", "", item[0])), item[0]))


def _postal_text(regime: PostalRegime, origin: str | None) -> str:
    """The regime's method and rate: for an origin-rate regime, the origin's rate (or that it has none)."""
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


def _replaced_on_mail(
    duties: list[InForce], postal: list[PostalRegime], mode: str | None, *, barred: bool = False
) -> list[InForce]:
    """``duties`` (measures and the tariff line), each marked as replaced when ``mode`` is postal and a flat
    postal regime charges mail in lieu of them: for the regime's origins only (``postal`` holds the regimes of
    the origin asked for, or of every origin), and not for goods barred from the postal method (``barred``)."""
    flat = [r for r in postal if r.method in FLAT_POSTAL_METHODS]
    if mode != "postal" or not flat or barred:
        return duties
    regimes = "; ".join(
        f"{r.id}" + ("" if "*" in r.origins else f" (mail from {', '.join(r.origins)})") for r in flat
    )
    note = f" [on mail: replaced by postal regime {regimes}, in lieu of other duties; AD/CVD and quota goods excepted]"
    return [
        InForce(d.kind, d.rule_id, d.summary + note, d.confidence, d.citation, d.period)
        if d.kind in ("measure", "tariff-line")
        else d
        for d in duties
    ]


#: Prefix lists longer than this are shortened in summaries (the pack file has them all).
SHOWN_PREFIXES = 12


def _never_eligible_text(rule: NeverEligible, hts: str | None) -> str:
    """Reason, origins and HTS prefixes: the matching prefix when a code is asked for, else the list (shortened)."""
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
    return f"{rule.reason}{origins}: HTS {', '.join(shown)}{more}{waived}"


def _never_eligible_covering(pack: RulePack, day: dt.date, origin: str | None, hts: str) -> set[str]:
    """The never-eligible classes a run would put ``hts`` in on ``day`` (from ``origin``, else from any), as
    :func:`~screening.stages.decide.exclusions_for_keys` judges: a short code by every tariff line under it."""
    resolved = resolve(pack, [day])
    keys = pl.DataFrame(
        {"country_of_origin": [origin] if origin is not None else list(known_countries())}
    ).with_columns(arrival_date=pl.lit(day, dtype=pl.Date()), hts_digits=pl.lit(hts_digits_of(hts)))
    found = exclusions_for_keys(keys, resolved.never_eligible, resolved.tariff).collect()
    return set(found["exclusion_rule_id"].to_list())


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


def _fee_text(fee: Fee) -> str:
    if fee.kind == "unknown":
        return "owed, amount not known (fees and total left empty)"
    if fee.amount_usd is not None:
        return f"${fee.amount_usd}"
    bounds = f" (min ${fee.min_usd}, max ${fee.max_usd})" if fee.min_usd is not None else ""
    return f"{fee.rate} of value{bounds}"


def _entry(kind: str, rule: Rule, summary: str) -> InForce:
    period = f"{rule.effective_from} → {rule.effective_to or 'open'}"
    return InForce(kind, rule.id, summary, rule.confidence, rule.citation.render(), period)


def _measures(
    pack: RulePack, day: dt.date, *, origin: str | None, hts: str | None, mode: str | None
) -> list[InForce]:
    rules: dict[str, Scoped] = {
        r.id: r for r in (*pack.tariff.measures, *pack.tariff.gaps) if r.in_force(day)
    }
    open_for: set[str] = set()
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
            .with_columns(
                arrival_date=pl.lit(day, dtype=pl.Date()),
                hts_digits=pl.lit(hts_digits_of(hts)),
                **{USMCA_CLAIMED: pl.lit(False)},
            )
        )
        applied = (
            measures_for_keys(key, resolved.measures, resolved.measure_scope, resolved.tariff)
            .group_by("measure_id")
            .agg(pl.col("undetermined").all())
            .collect()
        )
        wanted = set(applied["measure_id"].to_list())
        open_for = set(applied.filter(pl.col("undetermined"))["measure_id"].to_list())
    else:
        wanted = {r.id for r in rules.values() if _concerns(r, origin, mode)}
    return [
        _entry(
            "gap" if rid not in {m.id for m in pack.tariff.measures} else "measure",
            rules[rid],
            _measure_text(rules[rid])
            + (
                f"; lists some of the goods under {hts} and not others: the longer code decides"
                if rid in open_for
                else ""
            ),
        )
        for rid in sorted(wanted)
        if rid in rules
    ]


def _charged_on(unit: str | None) -> str:
    """What the manifest must give for a specific rate per ``unit`` (nothing for an ad valorem rate)."""
    if unit is None:
        return ""
    if unit == "kg":
        return "; the specific rate is charged on gross_weight_kg"
    if unit in UNIT_DIVISORS:
        return f"; the specific rate is charged on quantity as a count of items (divided by {UNIT_DIVISORS[unit]})"
    return f"; the specific rate is charged on quantity in {unit}"


def _measure_text(rule: Scoped) -> str:
    rate = getattr(rule, "rate", None)
    heading = f" {rule.heading}" if rule.heading else ""
    what = f"{rate}" if rate is not None else "not encoded (pack-incomplete)"
    in_place_of = getattr(rule, "in_place_of", None)
    owed_instead = (
        f"; owed in place of the {in_place_of} duty (which says so on the gap's lines)" if in_place_of else ""
    )
    assumption = getattr(rule, "assumption", None)
    caveat = f"; assumption: {assumption}" if assumption else ""
    return f"{rule.component}{heading}: {what}{owed_instead}{caveat}"


def _tariff_line(pack: RulePack, day: dt.date, hts: str) -> list[InForce]:
    resolved = resolve(pack, [day])
    key = pl.LazyFrame({"arrival_date": [day], "hts_code": [hts]}).select(
        "arrival_date", hts_digits(pl.col("hts_code")).alias("hts_digits")
    )
    if resolved.tariff.lines.height == 0:
        first = pack.mfn.select(pl.col("effective_from").min()).item()
        what = f"the pack has no tariff lines on {day} (they start {first}): duty not computable"
        return [
            InForce(
                "tariff-line", "mfn", what, pack.tariff.mfn.confidence, pack.tariff.mfn.citation.render(), ""
            )
        ]
    found = tariff_lines_for_keys(key, resolved.tariff).collect()
    if found.height == 0:
        return [InForce("tariff-line", "mfn", f"no tariff line for {hts}", "confirmed", "", "")]
    row = found.row(0, named=True)
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
