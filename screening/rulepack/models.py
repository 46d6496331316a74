"""Rule-pack models: frozen pydantic classes, extra keys forbidden.

Every dated entry has a half-open period ``[effective_from, effective_to)``, an
id, a citation and a confidence. Money and rates are decimal strings in the
files and :class:`~decimal.Decimal` here.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Final, Literal

import polars as pl
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

Confidence = Literal["confirmed", "unconfirmed", "conflict"]
Mode = Literal["express", "postal", "cargo"]
#: Which mail a fee is for (:attr:`Fee.mail`): all, mail with no postal duty regime in force for it, or mail a
#: regime is in force for whose goods it bars (AD/CVD, quota).
MailStanding = Literal["all", "no-postal-regime", "barred-from-postal-regime"]
ALL_MODES: tuple[Mode, ...] = ("express", "postal", "cargo")
EntryTypeName = Literal["de-minimis", "informal", "formal", "postal"]

_ID = re.compile(r"^[a-z0-9][a-z0-9.\-]*$")
_COUNTRY = re.compile(r"^([A-Z]{2}|\*)$")
#: An HTS prefix: a chapter, heading, subheading, 8-digit line or 10-digit statistical line (an odd length, such
#: as a code whose leading zero a spreadsheet dropped, could never match).
HTS_PREFIX_PATTERN: Final = r"^(\d{2}){1,5}$"
_HTS_PREFIX = re.compile(HTS_PREFIX_PATTERN)


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"id {value!r} must be lower-case kebab-case (letters, digits, '-', '.')")
    return value


def _check_countries(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if not _COUNTRY.match(v)]
    if bad:
        raise ValueError(f"countries must be ISO alpha-2 codes or '*': {bad}")
    return values


def _check_prefixes(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [v for v in values if not _HTS_PREFIX.match(v)]
    if bad:
        raise ValueError(f"HTS prefixes must be 2, 4, 6, 8 or 10 digits without dots: {bad}")
    return values


RuleId = Annotated[str, AfterValidator(_check_id)]
Countries = Annotated[tuple[str, ...], AfterValidator(_check_countries)]
#: Countries a rule applies to: at least one (``*``: all); an empty list would make a rule that never applies.
SomeCountries = Annotated[tuple[str, ...], AfterValidator(_check_countries), Field(min_length=1)]
#: Modes a rule applies to: at least one.
SomeModes = Annotated[tuple[Mode, ...], Field(min_length=1)]
HtsPrefixes = Annotated[tuple[str, ...], AfterValidator(_check_prefixes)]
#: A Chapter 99 (or any HTSUS) heading as written: ``9903.03.06``.
Heading = Annotated[str, StringConstraints(pattern=r"^\d{4}\.\d{2}\.\d{2}$")]


def not_a_float(value: object) -> object:
    """Refuse a float before it becomes a Decimal (a TOML float is not the decimal written)."""
    if isinstance(value, float):
        raise ValueError(f'write {value!r} as a decimal string ("{value}"): a TOML float is not exact')
    return value


#: The largest dollar amount a pack may state: the engine's money holds 18 digits (a larger amount was reported
#: valid and then ended every run with exit 70).
MAX_USD: Final = Decimal(10**12)


def _whole_cents(value: Decimal) -> Decimal:
    try:
        cents = value.quantize(Decimal("0.01"))
    except InvalidOperation as exc:  # more digits than a decimal context holds
        raise ValueError(f"a dollar amount too large: {value}") from exc
    if value > MAX_USD:
        raise ValueError(f"a dollar amount too large: {value} (at most {MAX_USD})")
    if value != cents:
        raise ValueError(f"a dollar amount in whole cents: {value} has a fraction of a cent")
    return value


def percent(rate: Decimal) -> str:
    """``Decimal('10')`` → ``'1,000 %'``."""
    return f"{(rate * 100).normalize():,f} %"


#: The hint every message about a rate ends with.
FRACTIONS: Final = 'rates are fractions, written as decimal strings ("0.10" for 10 %)'


def _rate_text(value: object) -> object:
    """Refuse a float, and a text that is no decimal number saying what it is (``"10 %"``: pydantic said
    "Input should be a valid decimal")."""
    value = not_a_float(value)
    if isinstance(value, str):
        try:
            Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"rate {value!r} is not a decimal number: {FRACTIONS}") from None
    return value


def _a_fraction(value: Decimal) -> Decimal:
    if value < 0:
        raise ValueError(f"rate {value} is negative: {FRACTIONS}")
    if value > 10:
        raise ValueError(f"rate {value} is {percent(value)}, above 10 (1,000 %): {FRACTIONS}")
    return value


#: A rate as a fraction (0.25 is 25 %), from 0 to 10 (1,000 %): a decimal string or an integer in the files (a
#: float is refused). Chapter 99, postal and fee rates have lower bounds of their own (:func:`check_rate_bound`).
Rate = Annotated[Decimal, BeforeValidator(_rate_text), AfterValidator(_a_fraction)]
#: A Chapter 99 or postal rate above this (300 %) is refused, unless its entry says ``high_rate_meant = true``: the
#: highest the U.S. pack holds is 200 % (Section 232 aluminum of Russian origin), while 5, 7.5, 10 or 25 are
#: rates written in per cent (10 for 10 % charged 1,000 %).
DUTY_RATE_BOUND: Final = Decimal(3)
#: A fee rate above this (5 %) is refused, unless its entry says ``high_rate_meant = true``: the formal MPF is
#: 0.3464 % ("0.003464"), and "0.3464" is that rate written in per cent.
FEE_RATE_BOUND: Final = Decimal("0.05")
HIGH_RATE_MEANT: Final = (
    "true when a rate above the bound for its kind (Chapter 99 and postal rates 3, fees 0.05) is meant, not "
    "written in per cent"
)


def check_rate_bound(rates: dict[str, Decimal | None], bound: Decimal, *, meant: bool) -> None:
    """Refuse a rate of ``rates`` (field name → rate) above ``bound``, as one written in per cent, unless
    ``meant`` (the entry's ``high_rate_meant``); and ``meant`` where no rate is above it (left over from an
    earlier rate, it would let a later per-cent mistake through)."""
    above = {name: rate for name, rate in rates.items() if rate is not None and rate > bound}
    if above and not meant:
        name, rate = next(iter(above.items()))
        raise ValueError(
            f"{name} {rate} is {percent(rate)}: {FRACTIONS}; a rate above {bound} ({percent(bound)}) is "
            "refused as written in per cent, unless the entry says high_rate_meant = true"
        )
    if meant and not above:
        raise ValueError(f"high_rate_meant is true, but no rate is above {bound} ({percent(bound)}): drop it")


def _no_origin_left(origins: tuple[str, ...], excluded: tuple[str, ...]) -> None:
    """Refuse origins that ``origins_exclude`` takes every one of (a rule for no origin, that never applies)."""
    if "*" in excluded:
        raise ValueError("origins_exclude has '*': the rule would apply to no origin")
    if "*" not in origins and not set(origins) - set(excluded):
        raise ValueError(
            f"origins_exclude {list(excluded)} leaves none of origins {list(origins)}: the rule would apply to "
            "no origin"
        )


#: A dollar amount in whole cents, at most :data:`MAX_USD`.
Usd = Annotated[Decimal, BeforeValidator(not_a_float), Field(ge=0), AfterValidator(_whole_cents)]
#: The largest count or priority a pack may state (a priority of 2^63 or a queue capacity past what the engine
#: ranks in was reported valid and then ended every run with exit 70).
MAX_WHOLE: Final = 2**31 - 1
#: A priority: a whole number within ±2^31.
Priority = Annotated[int, Field(ge=-MAX_WHOLE - 1, le=MAX_WHOLE)]


def _a_date(value: object) -> object:
    """A rule's date as written: a TOML date (or ISO text). A date-time or a number is refused, saying what to
    write (a date-time was read as its UTC day, or refused as "should have zero time"; 20261215 as seconds)."""
    if isinstance(value, dt.datetime):
        raise ValueError(
            f"write a date (2026-12-15), not a date-time ({value.isoformat()}): the time of day the instrument "
            "states goes in effective_time"
        )
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(
            f"write a date (2026-12-15), not {value!r}: a date-time's time of day goes in effective_time"
        )
    if isinstance(value, int | float):
        raise ValueError(f"write a date (YYYY-MM-DD), not the number {value}")
    return value


#: A rule's effective date (:func:`_a_date`).
RuleDate = Annotated[dt.date, BeforeValidator(_a_date)]


class Frozen(BaseModel):
    """Base for all pack models: immutable, no unknown keys, decimals kept exact."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Citation(Frozen):
    """Where a rule comes from: the instrument, a link and a pinpoint."""

    instrument: str = Field(min_length=3)
    url: str | None = None
    pinpoint: str | None = None
    sources: tuple[str, ...] = Field(
        default=(),
        description="source tags (S01, ...) of the pack's sources.toml, which gives each one's URL",
    )

    @model_validator(mode="after")
    def _names_an_instrument(self) -> Citation:
        if len(self.instrument.strip()) < 3:
            raise ValueError("citation instrument is blank")
        return self

    def render(self) -> str:
        """One line: instrument, pinpoint and URL."""
        parts = [self.instrument]
        if self.pinpoint:
            parts.append(self.pinpoint)
        if self.url:
            parts.append(self.url)
        return "; ".join(parts)


#: A source tag: ``S`` and digits, a lower-case letter after them at most (DOMAIN.md section 10 has S37b beside S37).
SOURCE_TAG_PATTERN: Final = r"S[0-9]+[a-z]?"


def _check_tag(value: str) -> str:
    if not re.fullmatch(SOURCE_TAG_PATTERN, value):
        raise ValueError(
            f"source tag {value!r} must be S and digits, a lower-case letter after them at most (S01, S37b)"
        )
    return value


class Source(Frozen):
    """A document the pack's citations name by its tag (not dated: a document does not come into force)."""

    tag: Annotated[str, AfterValidator(_check_tag)]
    url: str

    @model_validator(mode="after")
    def _has_a_url(self) -> Source:
        if not self.url.strip():
            raise ValueError(f"source {self.tag}: url is blank")
        if any(ch.isspace() for ch in self.url):
            raise ValueError(f"source {self.tag}: url {self.url!r} has white space in it")
        return self


def _unique_tags(sources: tuple[Source, ...]) -> tuple[Source, ...]:
    first: dict[str, int] = {}
    for index, source in enumerate(sources):
        if source.tag in first:
            raise ValueError(
                f"duplicate source tag {source.tag!r}: sources[{first[source.tag]}] and sources[{index}]"
            )
        first[source.tag] = index
    return sources


class SourceList(Frozen):
    """Contents of ``sources.toml``: each tag a citation's ``sources`` may name, with the document's URL."""

    sources: Annotated[tuple[Source, ...], AfterValidator(_unique_tags)]

    @property
    def urls(self) -> dict[str, str]:
        """Tag → URL, in file order."""
        return {source.tag: source.url for source in self.sources}


class Rule(Frozen):
    """A dated, cited entry."""

    id: RuleId
    effective_from: RuleDate
    effective_to: RuleDate | None = None
    effective_time: str | None = Field(
        default=None, description="time of day the instrument states, e.g. '12:01 a.m. EDT' (informational)"
    )
    citation: Citation
    confidence: Confidence = "confirmed"
    note: str | None = None

    @model_validator(mode="after")
    def _period_not_inverted(self) -> Rule:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError(
                f"effective_to {self.effective_to} must be after effective_from {self.effective_from}"
            )
        return self

    def in_force(self, day: dt.date) -> bool:
        """Whether the half-open period covers ``day``."""
        return self.effective_from <= day and (self.effective_to is None or day < self.effective_to)


class Threshold(Rule):
    """The de minimis value limit for one person on one day."""

    amount_usd: Usd


class Suspension(Rule):
    """A period in which de minimis is unavailable for some origins and modes."""

    origins: SomeCountries
    origins_exclude: Countries = Field(
        default=(), description="origins the suspension leaves out (with `*`: every country but these)"
    )
    modes: SomeModes = ALL_MODES
    reason: Literal["dm-suspended-origin", "dm-suspended-all", "dm-repealed"]
    in_force_as_written: bool = Field(
        default=True,
        description="false for orders that were paused or superseded before taking effect; kept for the record",
    )

    @model_validator(mode="after")
    def _some_origin(self) -> Suspension:
        _no_origin_left(self.origins, self.origins_exclude)
        return self


class SuspensionException(Rule):
    """Goods that suspensions do not reach: the 50 U.S.C. 1702(b) informational materials stay outside the
    suspensions made under IEEPA, say. Such a line is decided as if the suspensions named were not in force."""

    suspensions: tuple[RuleId, ...] = Field(
        min_length=1, description="ids of the suspensions that leave the goods out"
    )
    hts_prefixes: HtsPrefixes = ()
    hts_prefixes_file: str | None = Field(
        default=None, description="CSV in the pack with an `hts_prefix` column (added to hts_prefixes)"
    )

    @model_validator(mode="after")
    def _has_prefixes(self) -> SuspensionException:
        if not self.hts_prefixes and self.hts_prefixes_file is None:
            raise ValueError("give hts_prefixes or hts_prefixes_file")
        return self


class NeverEligible(Rule):
    """Goods that can never take de minimis (excise, AD/CVD, quota), by HTS prefix and origin."""

    reason: Literal["dm-excluded-excise", "dm-excluded-adcvd", "dm-excluded-quota"]
    hts_prefixes: HtsPrefixes = ()
    hts_prefixes_file: str | None = Field(
        default=None, description="CSV in the pack with an `hts_prefix` column (added to hts_prefixes)"
    )
    origins: Countries = ("*",)
    waived_at_most_usd: Usd | None = Field(
        default=None,
        description="the class does not apply to a package worth at most this (perfume containing alcohol in "
        "a shipment of $5 or less, DOMAIN.md 2)",
    )

    @model_validator(mode="after")
    def _has_prefixes(self) -> NeverEligible:
        if not self.hts_prefixes and self.hts_prefixes_file is None:
            raise ValueError("give hts_prefixes or hts_prefixes_file")
        return self


class GiftExemption(Rule):
    """Bona fide gifts: duty-free up to an aggregate value per person per day (by the country they are sent from)."""

    limit_usd: Usd
    sender_limits: dict[str, Usd] = Field(
        default_factory=dict,
        description="higher limits for gifts sent from some countries (19 CFR 10.152: the U.S. insular "
        "possessions); the country is the line's country_of_export, else shipper_country, not where the goods "
        "were made",
    )
    informal_entry_note: str | None = Field(
        default=None,
        min_length=1,
        description="what the pack does not settle about the informal entry of a gift that no de minimis "
        "release passes (de minimis suspended or repealed on its lines, or the person's day over the threshold), "
        "which the engine enters informal by express and cargo and charges the fees of such an entry (mail passes "
        "under 19 CFR 145.32): such a package's fee components carry the note as their assumption, and its "
        "fee_status is assessed-unconfirmed",
    )


class EntryLimit(Rule):
    """The highest package value that may use an informal entry; with ``chapter99_max_usd``, the lower limit for
    the package's articles classified in the Chapter 99 headings ``chapter99_headings`` (19 CFR 143.21(a): a
    package whose such articles are worth more needs a formal entry), or, with ``chapter99_suspended``, that
    limit suspended (such a package keeps an informal entry, saying so with the rule's confidence)."""

    informal_max_usd: Usd
    chapter99_max_usd: Usd | None = None
    chapter99_headings: tuple[Annotated[str, StringConstraints(pattern=r"^99[0-9]{2}$")], ...] = Field(
        default=(),
        description="four-digit Chapter 99 headings (e.g. 9903, subchapter III) the lower limit is for",
    )
    chapter99_suspended: bool = Field(
        default=False, description="the lower limit is suspended: packages over it keep an informal entry"
    )

    @model_validator(mode="after")
    def _chapter99_limit_complete(self) -> EntryLimit:
        if (self.chapter99_max_usd is None) != (not self.chapter99_headings):
            raise ValueError("chapter99_max_usd and chapter99_headings are given together or not at all")
        return self


class Fee(Rule):
    """A user fee (MPF, express consignment, dutiable mail, harbor maintenance) for a fiscal year; ``unknown``: fees
    are owed but which and how much is not known (the package's fees and total are left empty; the fee's
    component has no amount, its ``note`` the component's ``assumption``: say why there), or, with
    ``may_not_be_owed``, the fee is owed on some of the packages only, which a manifest does not tell apart."""

    component: Literal[
        "mpf_informal", "mpf_formal", "express_consignment", "dutiable_mail", "postal_entry_fees", "hmf"
    ]
    kind: Literal["flat", "ad_valorem", "unknown"]
    amount_usd: Usd | None = None
    rate: Rate | None = None
    min_usd: Usd | None = None
    max_usd: Usd | None = None
    entry_types: tuple[EntryTypeName, ...] = Field(min_length=1)
    modes: tuple[Mode, ...] = Field(default=ALL_MODES, min_length=1)
    mail: MailStanding = Field(
        default="all",
        description="which mail of its entry types the fee is for (a fee of postal mode only, not of postal "
        "entries): all; no-postal-regime, mail with no postal duty regime in force for it (an item CBP enters "
        "itself); barred-from-postal-regime, mail a regime is in force for whose AD/CVD or quota goods cannot "
        "use it (entered through ACE)",
    )
    usmca_claim_note: str | None = Field(
        default=None,
        min_length=1,
        description="what the pack does not settle about this fee on goods claimed under USMCA (such as an "
        "exemption it does not encode): a package with a claim on CA/MX goods charged the fee reads "
        "fee_status assessed-unconfirmed, and the fee's component carries the note",
    )
    may_not_be_owed: bool = Field(
        default=False,
        description="a fee of kind unknown owed on some packages of its modes and entry types only, which a "
        "manifest does not tell apart (the harbor maintenance fee: vessel cargo, not air cargo): its component has "
        "no amount, its note saying why, and is left out of the package's fees and total, which read fee_status "
        "assessed-unconfirmed (not fees-unknown, which would leave the total of every such package empty)",
    )
    high_rate_meant: bool = Field(default=False, description=HIGH_RATE_MEANT)
    resumes_after_gap: bool = Field(
        default=False,
        description="this entry resumes its component for its modes and entry types after days without it, on "
        "purpose (the fee lapsed, or another component was charged in its place): the days between it and the "
        "component's entry before are not refused as a fee forgotten; say why in note",
    )

    @model_validator(mode="after")
    def _mail_of_mail_only(self) -> Fee:
        if self.mail != "all" and (self.modes != ("postal",) or "postal" in self.entry_types):
            raise ValueError(
                f'mail = {self.mail!r} is for a fee of modes = ["postal"] only, on informal or formal entries '
                "(a postal entry is mail under its regime)"
            )
        return self

    @model_validator(mode="after")
    def _gap_explained(self) -> Fee:
        if self.resumes_after_gap and not self.note:
            raise ValueError("resumes_after_gap needs a note saying why the fee was not charged before it")
        return self

    @model_validator(mode="after")
    def _amount_matches_kind(self) -> Fee:
        given = {
            name for name in ("amount_usd", "rate", "min_usd", "max_usd") if getattr(self, name) is not None
        }
        allowed = {"flat": {"amount_usd"}, "ad_valorem": {"rate", "min_usd", "max_usd"}, "unknown": set()}[
            self.kind
        ]
        if given - allowed:
            raise ValueError(f"a {self.kind} fee takes no {', '.join(sorted(given - allowed))}")
        if self.kind == "flat" and self.amount_usd is None:
            raise ValueError("a flat fee needs amount_usd")
        if self.kind == "ad_valorem" and self.rate is None:
            raise ValueError("an ad valorem fee needs rate")
        if self.kind == "unknown" and not self.note:
            raise ValueError(
                "an unknown fee needs a note saying why its amount is not known (its components show it)"
            )
        if self.may_not_be_owed and self.kind != "unknown":
            raise ValueError(
                'may_not_be_owed is for a fee of kind = "unknown" (a fee charged has its amount)'
            )
        if self.min_usd is not None and self.max_usd is not None and self.min_usd > self.max_usd:
            raise ValueError(f"min_usd {self.min_usd} is above max_usd {self.max_usd}")
        check_rate_bound({"rate": self.rate}, FEE_RATE_BOUND, meant=self.high_rate_meant)
        return self


class Scoped(Rule):
    """Where a duty applies: origins, HTS prefixes (inline or in a CSV table), modes, USMCA."""

    component: str = Field(pattern=r"^[a-z0-9_]+$")
    heading: str | None = Field(default=None, pattern=r"^\d{4}\.\d{2}\.\d{2}$")
    origins: SomeCountries
    origins_exclude: Countries = ()
    hts_include: HtsPrefixes = Field(default=(), description="empty (and no include file): every HTS code")
    hts_exclude: HtsPrefixes = ()
    hts_include_file: str | None = Field(
        default=None, description="CSV in the pack with an `hts_prefix` column"
    )
    hts_exclude_file: str | None = None
    modes: SomeModes = ALL_MODES
    usmca_exempt: bool = False
    in_force_as_written: bool = Field(
        default=True,
        description="false: kept for the record, never applied (a measure struck down from its first day, an "
        "order withdrawn before it took effect): it charges nothing, keeps no other measure off a line and "
        "leaves no duty open, while the pack still checks it and its stacking group still counts for other "
        "measures' not_with",
    )

    @model_validator(mode="after")
    def _some_origin(self) -> Scoped:
        _no_origin_left(self.origins, self.origins_exclude)
        return self

    @property
    def has_include(self) -> bool:
        """Whether the scope is limited to listed HTS prefixes."""
        return bool(self.hts_include) or self.hts_include_file is not None


class Measure(Scoped):
    """An additional duty (Chapter 99) scoped by origin, HTS prefixes, mode and date."""

    heading: str = Field(pattern=r"^\d{4}\.\d{2}\.\d{2}$")
    rate: Rate
    rate_rule: Literal["fixed", "top_up"] = Field(
        default="fixed",
        description="top_up: max(0, rate - the line's MFN ad valorem rate), e.g. '15% all-in'; over an MFN "
        "rate with a specific part, 0 where its ad valorem part alone reaches rate, else not computed",
    )
    heading_at_or_above_rate: Heading | None = Field(
        default=None,
        description="top_up only: the Chapter 99 heading of goods whose column 1 rate is at or above rate (the "
        "EU's 9903.02.19 beside 9903.02.20, say), which such a line's component reports (its top-up is 0); "
        "none: the line reports heading",
    )
    base: Literal["value", "metal_content"] = "value"
    stacking_group: str = Field(pattern=r"^[a-z0-9_]+$")
    priority: Priority = Field(default=100, description="lower wins inside a stacking group")
    not_with: tuple[str, ...] = Field(
        default=(), description="stacking groups whose presence on the line removes this measure"
    )
    usmca_exempt_headings: dict[Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")], Heading] = Field(
        default_factory=dict,
        description="by origin: the Chapter 99 heading that goods claimed under USMCA report for their "
        "exemption from this measure (Section 122: CA 9903.03.07, MX 9903.03.08), as DOMAIN.md gives it; the "
        "line's exemption component carries it (an origin without one: no heading, the text still says why)",
    )
    not_with_headings: dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")], Heading] = Field(
        default_factory=dict,
        description="by not_with group: the Chapter 99 heading that goods report for their exemption from this "
        "measure where that group removes it (Section 232 goods from Section 122: 9903.03.06), as DOMAIN.md "
        "gives it; a group without one: no heading, the text still says why",
    )
    assumption: str | None = Field(
        default=None,
        min_length=1,
        description="what the amount takes for granted that a manifest cannot show (an exclusion that needs "
        "a fact no manifest field gives, say): every component of the measure carries it, unless a more "
        "specific assumption of the engine applies",
    )
    high_rate_meant: bool = Field(default=False, description=HIGH_RATE_MEANT)

    @model_validator(mode="after")
    def _heading_at_or_above_rate_fits(self) -> Measure:
        if self.heading_at_or_above_rate is None:
            return self
        if self.rate_rule != "top_up":
            raise ValueError(
                "heading_at_or_above_rate given, but rate_rule is not top_up: a fixed rate is charged whatever "
                "the column 1 rate"
            )
        if self.heading_at_or_above_rate == self.heading:
            raise ValueError(
                f"heading_at_or_above_rate {self.heading_at_or_above_rate} is the measure's heading: give the "
                "heading of goods whose column 1 rate is at or above rate, or leave it out"
            )
        return self

    @model_validator(mode="after")
    def _exemption_headings_fit(self) -> Measure:
        if self.usmca_exempt_headings and not self.usmca_exempt:
            raise ValueError(
                "usmca_exempt_headings given, but usmca_exempt is false: no claim exempts the goods"
            )
        if "*" not in self.origins:
            outside = sorted(set(self.usmca_exempt_headings) - set(self.origins))
            if outside:
                raise ValueError(f"usmca_exempt_headings for origins the measure does not list: {outside}")
        unknown = sorted(set(self.not_with_headings) - set(self.not_with))
        if unknown:
            raise ValueError(f"not_with_headings for groups that are not in not_with: {unknown}")
        return self

    @model_validator(mode="after")
    def _rate_not_in_per_cent(self) -> Measure:
        check_rate_bound({"rate": self.rate}, DUTY_RATE_BOUND, meant=self.high_rate_meant)
        return self


class CoverageGap(Scoped):
    """A duty the law imposes in this scope that the pack does not encode yet.

    Lines in scope get ``duty_status = pack-incomplete`` and no duty total: the
    engine shows what it knows (the other components) and does not present a sum
    it knows to be short.
    """

    base: Literal["value", "non_metal_content"] = Field(
        default="value",
        description="what the missing duty is charged on; non_metal_content: value x (1 - "
        "metal_content_share), so a line whose share is 1 misses nothing and is not in the gap",
    )
    in_place_of: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_]+$",
        description="the stacking group whose duty the missing one is owed in place of (energy at 10% instead "
        "of the 25% fentanyl duty, say): on a line in the gap, that group's components keep their amount and "
        "carry an assumption naming the gap (the amount is not what is owed). The gap does not stack: the "
        "group's measures still apply",
    )


class RateBand(Frozen):
    """Per-item postal duty by the origin's rate band."""

    max_rate: Rate | None = None
    max_inclusive: bool = False
    usd: Usd


class PostalRegime(Rule):
    """How duty on international mail was computed in a period."""

    origins: SomeCountries
    method: Literal["flat-ad-valorem", "origin-rate", "all-duties"]
    ad_valorem_rate: Rate | None = None
    origin_rates: dict[str, Rate] = Field(default_factory=dict)
    specific_per_item_usd: Usd | None = None
    specific_bands: tuple[RateBand, ...] = ()
    usmca_claim_note: str | None = Field(
        default=None,
        min_length=1,
        description="what the pack does not settle about the regime's duty on goods claimed under USMCA: the "
        "postal duty of such a line (or item) carries the note as its assumption",
    )
    formal_entry_note: str | None = Field(
        default=None,
        min_length=1,
        description="what the pack does not settle about mail worth more than the informal-entry limit under the "
        "regime, which the engine enters formal and charges as such (every duty, the fees of a formal entry): "
        "such a package's duty and fee components carry the note as their assumption, and its fee_status is "
        "assessed-unconfirmed",
    )
    rate_of: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9_]+$",
        description="the stacking group of the measure whose rate this postal duty takes (postal-all-s122: s122), "
        "with exempt_goods_note",
    )
    exempt_goods_note: str | None = Field(
        default=None,
        min_length=1,
        description="what the pack does not settle about goods the rate_of measure exempts (its exclusion list, "
        "a group it is not_with): the postal duty of such a line (or item) carries the note, naming the line",
    )
    high_rate_meant: bool = Field(default=False, description=HIGH_RATE_MEANT)

    @model_validator(mode="after")
    def _rate_of_noted(self) -> PostalRegime:
        if (self.rate_of is None) != (self.exempt_goods_note is None):
            raise ValueError("rate_of and exempt_goods_note are given together or not at all")
        return self

    @model_validator(mode="after")
    def _rate_matches_method(self) -> PostalRegime:
        if self.method == "flat-ad-valorem" and self.ad_valorem_rate is None:
            raise ValueError("method flat-ad-valorem needs ad_valorem_rate")
        if self.method == "origin-rate" and not self.origin_rates:
            raise ValueError("method origin-rate needs origin_rates")
        limits = [band.max_rate for band in self.specific_bands]
        bounded = [limit for limit in limits if limit is not None]
        open_bands = len(limits) - len(bounded)
        if bounded != sorted(set(bounded)) or limits[: len(bounded)] != bounded or open_bands > 1:
            raise ValueError("specific_bands must rise by max_rate (the open band last)")
        rates = {
            "ad_valorem_rate": self.ad_valorem_rate,
            **{f"origin_rates.{origin}": rate for origin, rate in self.origin_rates.items()},
            **{f"specific_bands[{i}].max_rate": limit for i, limit in enumerate(limits)},
        }
        check_rate_bound(rates, DUTY_RATE_BOUND, meant=self.high_rate_meant)
        return self


class Table(Frozen):
    """A big table kept in CSV or Parquet beside the TOML files."""

    file: str
    citation: Citation
    confidence: Confidence = "confirmed"
    note: str | None = None


class FxTable(Table):
    """Exchange rates: ``currency, date, usd_per_unit, source`` rows."""

    official: bool = Field(
        description="true only for the rates CBP converts with (31 U.S.C. 5151; 19 CFR 159.31-159.36)"
    )
    max_staleness_days: int = Field(default=7, ge=0)


class PackMeta(Frozen):
    """Identity and coverage of a pack."""

    id: RuleId
    name: str
    jurisdiction: str = Field(pattern=r"^[A-Z]{2}$")
    covers_from: dt.date
    covers_to: dt.date | None = None
    facts_as_of: dt.date | None = Field(
        default=None,
        description="the day the pack's law was last checked against its sources: arrivals after it are decided "
        "by the rules as known then (a later executive order or ruling is not in the pack), which the run's "
        "summary says",
    )
    time_zone: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*$",
        description="IANA zone in which the pack's dates and effective times are read (arrival timestamps that "
        "carry a time zone, and text with an offset, are dated there); none: they are dated in UTC",
    )
    description: str = ""

    @model_validator(mode="after")
    def _covers_a_period(self) -> PackMeta:
        if self.covers_to is not None and self.covers_to <= self.covers_from:
            raise ValueError(f"covers_to {self.covers_to} is not after covers_from {self.covers_from}")
        return self

    @model_validator(mode="after")
    def _known_time_zone(self) -> PackMeta:
        if self.time_zone is not None:
            # The zone the engine converts with must exist in polars' own time-zone database.
            try:
                pl.select(pl.lit(dt.datetime(2000, 1, 1)).dt.replace_time_zone(self.time_zone))
            except pl.exceptions.PolarsError:
                raise ValueError(f"time_zone {self.time_zone!r} is not a known IANA time zone") from None
        return self


class DeMinimisRules(Frozen):
    """Contents of ``de_minimis.toml``."""

    thresholds: tuple[Threshold, ...]
    suspensions: tuple[Suspension, ...] = ()
    suspension_exceptions: tuple[SuspensionException, ...] = ()
    never_eligible: tuple[NeverEligible, ...] = ()
    gifts: tuple[GiftExemption, ...] = ()
    entry_limits: tuple[EntryLimit, ...]


class FeeRules(Frozen):
    """Contents of ``fees.toml``."""

    fees: tuple[Fee, ...]


class MeasureFile(Frozen):
    """Contents of a ``measures/*.toml`` file: measures and gaps of one program."""

    measures: tuple[Measure, ...] = ()
    gaps: tuple[CoverageGap, ...] = ()


class FreeTradeParties(Frozen):
    """The countries whose originating goods a free-trade claim covers (USMCA: Canada and Mexico)."""

    parties: Countries = Field(description="a claim on goods of another origin counts for nothing")
    citation: Citation
    note: str | None = None


class TariffRules(MeasureFile):
    """Contents of ``tariff.toml``: the MFN table, additional measures, gaps and postal regimes.

    Measures and gaps may also live in ``measures/*.toml`` files beside it (one per program).
    """

    mfn: Table
    usmca: FreeTradeParties | None = Field(
        default=None, description="whose goods a `usmca_claim` covers; without it, no claim counts"
    )
    postal: tuple[PostalRegime, ...] = ()
    stacking_groups: dict[Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")], str] = Field(
        default_factory=dict,
        description="the pack's stacking groups, each with what it holds; when given, a measure naming "
        "another group (a typo would make a group of its own, charged beside the one meant) is refused",
    )


class FxRules(Frozen):
    """Contents of ``fx.toml``."""

    rates: FxTable
