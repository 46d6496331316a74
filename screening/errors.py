"""Exceptions and the stable codes that users' scripts rely on.

Bad *rows* never raise: they become rows of the ``rejects`` output with a
:class:`RejectCode`. Exceptions are for broken contracts: a file that is not a
manifest (:class:`InputSchemaError`, exit code 3), a rule pack that does not
validate (:class:`RulePackError`, exit code 4), a wrong call (:class:`UsageError`,
exit code 2), an amount beyond what the outputs hold (:class:`MoneyLimitError`, exit code 70).
"""

from __future__ import annotations

from enum import StrEnum


class RejectCode(StrEnum):
    """Why an input line was rejected (stable kebab-case strings)."""

    MALFORMED_ROW = "malformed-row"
    MISSING_FIELD = "missing-field"
    INVALID_TEXT = "invalid-text"
    INVALID_HTS = "invalid-hts"
    UNKNOWN_COUNTRY = "unknown-country"
    UNKNOWN_CURRENCY = "unknown-currency"
    MISSING_FX_RATE = "missing-fx-rate"
    NEGATIVE_VALUE = "negative-value"
    NON_FINITE_VALUE = "non-finite-value"
    INVALID_VALUE = "invalid-value"
    INVALID_NUMBER = "invalid-number"
    INVALID_DATE = "invalid-date"
    DATE_OUTSIDE_PACK = "date-outside-pack"
    DUPLICATE_LINE = "duplicate-line"
    CONFLICTING_LINE = "conflicting-line"
    INVALID_MODE = "invalid-mode"
    INVALID_FLAG = "invalid-flag"
    INVALID_PART_VALUES = "invalid-part-values"
    PACKAGE_INCOMPLETE = "package-incomplete"


class ReasonCode(StrEnum):
    """Why a package is or is not eligible for de minimis (stable kebab-case)."""

    ELIGIBLE = "dm-eligible"
    OVER_THRESHOLD = "dm-over-threshold"
    SUSPENDED_ORIGIN = "dm-suspended-origin"
    SUSPENDED_ALL = "dm-suspended-all"
    REPEALED = "dm-repealed"
    EXCLUDED_ADCVD = "dm-excluded-adcvd"
    EXCLUDED_EXCISE = "dm-excluded-excise"
    EXCLUDED_QUOTA = "dm-excluded-quota"
    GIFT_EXEMPT = "gift-exempt"


#: Precedence when several reasons apply: the first in this tuple is reported.
REASON_PRECEDENCE: tuple[ReasonCode, ...] = (
    ReasonCode.REPEALED,
    ReasonCode.SUSPENDED_ALL,
    ReasonCode.SUSPENDED_ORIGIN,
    ReasonCode.EXCLUDED_EXCISE,
    ReasonCode.EXCLUDED_ADCVD,
    ReasonCode.EXCLUDED_QUOTA,
    ReasonCode.OVER_THRESHOLD,
    ReasonCode.GIFT_EXEMPT,
    ReasonCode.ELIGIBLE,
)

#: Reasons that release a package free of duty under 19 U.S.C. 1321.
DUTY_FREE_REASONS: tuple[ReasonCode, ...] = (ReasonCode.ELIGIBLE, ReasonCode.GIFT_EXEMPT)


class EntryType(StrEnum):
    """How a package enters: duty-free release, informal, formal or postal."""

    DE_MINIMIS = "de-minimis"
    INFORMAL = "informal"
    FORMAL = "formal"
    POSTAL = "postal"


class DutyStatus(StrEnum):
    """Whether a line's duty could be computed (never guessed).

    ``charged-per-item``: mail whose flat postal duty is charged on the postal item (ad valorem on the item's
    value, or an amount per item); the line has no duty of its own, the package's ``postal_ad_valorem`` or
    ``postal_specific`` component holds the item's.
    """

    EXEMPT = "exempt"
    ASSESSED = "assessed"
    NO_TARIFF_LINE = "no-tariff-line"
    NOT_COMPUTABLE = "not-computable"
    NEEDS_QUANTITY = "needs-quantity"
    NEEDS_PART_VALUES = "needs-part-values"
    PACK_INCOMPLETE = "pack-incomplete"
    NEEDS_LONGER_HTS = "needs-longer-hts"
    CHARGED_PER_ITEM = "charged-per-item"


class Terminated(KeyboardInterrupt):
    """The process was asked to stop (SIGTERM, as schedulers and ``timeout`` send): unwound as Ctrl-C is, so
    every staged output is removed on the way out."""


class ScreeningError(Exception):
    """Base class of every error this package raises on purpose."""

    exit_code = 70


class UsageError(ScreeningError):
    """The call itself is wrong (bad option, unknown output format)."""

    exit_code = 2


class InputSchemaError(ScreeningError):
    """An input is not a manifest: unreadable, or lacking required columns.

    Attributes:
        source: the file (or in-memory source label) at fault.
        missing: the canonical columns it lacks, if that is the problem.
    """

    exit_code = 3

    def __init__(self, source: str, message: str, *, missing: tuple[str, ...] = ()) -> None:
        self.source = source
        self.missing = missing
        super().__init__(f"{source}: {message}")


class MoneyLimitError(ScreeningError):
    """A money amount (a package's or consignee-day's value, duty or total) is beyond what the outputs'
    ``Decimal(18, 2)`` holds, $10^16: a known limit, as in ``screen run`` (exit code 70)."""

    exit_code = 70


class RulePackError(ScreeningError):
    """A rule pack failed to load or validate; the message names file and key path."""

    exit_code = 4

    def __init__(self, file: str, key_path: str, message: str) -> None:
        self.file = file
        self.key_path = key_path
        where = f"{file} [{key_path}]" if key_path else file
        super().__init__(f"{where}: {message}")


class LeftoverWarning(UserWarning):
    """A run published its outputs but could not remove what they replaced (the previous output set, in a
    folder made read-only): the message names what is left and where. The run's outputs are complete."""
