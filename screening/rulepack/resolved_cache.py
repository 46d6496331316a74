"""The pack's tables resolved for a run's dates, kept for the next batch with the same dates.

Incremental runs (:class:`screening.Screener`) screen many batches of one day: resolving the pack
again for every batch costs more than screening a small batch. Resolved tables are immutable
frames, so a batch with the same dates reuses them. One cache may be used by threads at once: each call
returns the tables for its own dates.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from screening.rulepack.loader import RulePack
from screening.rulepack.resolve import ResolvedRules, resolve
from screening.rulepack.risk_resolve import resolve_risk
from screening.rulepack.risk_tables import ResolvedRisk
from screening.seed import Seed


class ResolvedCache:
    """Resolves ``pack`` for a list of dates, remembering the latest date list's results."""

    def __init__(self, pack: RulePack, *, seed: Seed | None = None) -> None:
        self.pack = pack
        self.seed = seed
        self._dates: tuple[dt.date, ...] | None = None
        self._rules: ResolvedRules | None = None
        self._risk: ResolvedRisk | None = None
        # Held from checking the dates to keeping what was resolved for them: a thread with other dates
        # would otherwise replace the dates between the two and get (or leave) tables of the wrong days.
        self._lock = threading.Lock()

    def rules(self, dates: Sequence[dt.date]) -> ResolvedRules:
        """The rules in force on ``dates`` (see :func:`screening.rulepack.resolve.resolve`)."""
        with self._lock:
            self._forget_unless(dates)
            if self._rules is None:
                self._rules = resolve(self.pack, list(dates))
            return self._rules

    def risk(self, dates: Sequence[dt.date]) -> ResolvedRisk:
        """Risk rules, routing and sampling for ``dates`` (see :func:`resolve_risk`)."""
        with self._lock:
            self._forget_unless(dates)
            if self._risk is None:
                self._risk = resolve_risk(self.pack, dates, seed=self.seed)
            return self._risk

    def _forget_unless(self, dates: Sequence[dt.date]) -> None:
        """Forget the tables kept unless they are those of ``dates`` (called holding the lock)."""
        key = tuple(dates)
        if key != self._dates:
            self._dates, self._rules, self._risk = key, None, None
